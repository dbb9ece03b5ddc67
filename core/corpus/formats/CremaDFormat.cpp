#include "corpus/formats/CremaDFormat.h"

#include "corpus/DelimitedText.h"
#include "corpus/formats/EmotionNames.h"
#include "corpus/formats/ScanProgress.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QHash>
#include <QRegularExpression>

namespace emolens {

namespace {

QString emotionName(const QString &code)
{
    static const QHash<QString, QString> names = {
        {QStringLiteral("ANG"), QStringLiteral("angry")},
        {QStringLiteral("DIS"), QStringLiteral("disgust")},
        {QStringLiteral("FEA"), QStringLiteral("fear")},
        {QStringLiteral("HAP"), QStringLiteral("happy")},
        {QStringLiteral("NEU"), QStringLiteral("neutral")},
        {QStringLiteral("SAD"), QStringLiteral("sad")}};
    return names.value(code);
}

QString intensityName(const QString &code)
{
    static const QHash<QString, QString> names = {
        {QStringLiteral("LO"), QStringLiteral("low")},
        {QStringLiteral("MD"), QStringLiteral("medium")},
        {QStringLiteral("HI"), QStringLiteral("high")},
        {QStringLiteral("XX"), QStringLiteral("unspecified")}};
    return names.value(code);
}

// The twelve CREMA-D sentences.
QString sentenceText(const QString &code)
{
    static const QHash<QString, QString> texts = {
        {QStringLiteral("IEO"), QStringLiteral("It's eleven o'clock")},
        {QStringLiteral("TIE"), QStringLiteral("That is exactly what happened")},
        {QStringLiteral("IOM"), QStringLiteral("I'm on my way to the meeting")},
        {QStringLiteral("IWW"), QStringLiteral("I wonder what this is about")},
        {QStringLiteral("TAI"), QStringLiteral("The airplane is almost full")},
        {QStringLiteral("MTI"), QStringLiteral("Maybe tomorrow it will be cold")},
        {QStringLiteral("IWL"), QStringLiteral("I would like a new alarm clock")},
        {QStringLiteral("ITH"), QStringLiteral("I think I have a doctor's appointment")},
        {QStringLiteral("DFA"), QStringLiteral("Don't forget a jacket")},
        {QStringLiteral("ITS"), QStringLiteral("I think I've seen this before")},
        {QStringLiteral("TSI"), QStringLiteral("The surface is slick")},
        {QStringLiteral("WSI"), QStringLiteral("We'll stop in a couple of minutes")}};
    return texts.value(code);
}

struct Actor
{
    Gender gender = Gender::Unknown;
    QString age;
    QString race;
    QString ethnicity;
};

// Reads VideoDemographics.csv; problems with its lines are reported, not fatal.
QHash<QString, Actor> readDemographics(const QString &path, QList<ImportProblem> *problems)
{
    QHash<QString, Actor> out;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        problems->append(
            {path, 0,
             QStringLiteral("cannot read the demographics file: %1").arg(file.errorString())});
        return out;
    }
    const QList<DelimitedRecord> records =
        parseDelimitedText(QString::fromUtf8(file.readAll()), QLatin1Char(','));
    if (records.isEmpty())
        return out;
    QHash<QString, int> column;
    const QStringList header = records.first().fields;
    for (int i = 0; i < header.size(); ++i)
        column.insert(header.at(i).trimmed().toLower(), i);
    const int id = column.value(QStringLiteral("actorid"), 0);
    const int age = column.value(QStringLiteral("age"), 1);
    const int sex = column.value(QStringLiteral("sex"), 2);
    const int race = column.value(QStringLiteral("race"), 3);
    const int ethnicity = column.value(QStringLiteral("ethnicity"), 4);
    for (qsizetype r = 1; r < records.size(); ++r) {
        const DelimitedRecord &rec = records.at(r);
        if (!rec.error.isEmpty() || rec.fields.size() != header.size()) {
            problems->append({path, rec.line,
                              rec.error.isEmpty() ? QStringLiteral("expected %1 columns, found %2")
                                                        .arg(header.size())
                                                        .arg(rec.fields.size())
                                                  : rec.error});
            continue;
        }
        Actor a;
        a.gender = genderFromName(rec.fields.value(sex));
        a.age = rec.fields.value(age).trimmed();
        a.race = rec.fields.value(race).trimmed();
        a.ethnicity = rec.fields.value(ethnicity).trimmed();
        out.insert(rec.fields.value(id).trimmed(), a);
    }
    return out;
}

} // namespace

QStringList CremaDFormat::labelMappings() const
{
    return {emotion::originalMapping(), emotion::fourClassMapping()};
}

bool CremaDFormat::recognises(const QString &rootPath) const
{
    static const QRegularExpression pattern(
        QStringLiteral("^\\d{4}_[A-Z]{3}_[A-Z]{3}_[A-Z]{2}\\.wav$"));
    const QDir audio(QDir(rootPath).filePath(QStringLiteral("AudioWAV")));
    if (!audio.exists())
        return false;
    // A handful of names is enough to tell the layout; no full listing of a large folder.
    QDirIterator it(audio.path(), {QStringLiteral("*.wav")}, QDir::Files);
    for (int seen = 0; it.hasNext() && seen < 8; ++seen)
        if (pattern.match(QFileInfo(it.next()).fileName()).hasMatch())
            return true;
    return false;
}

CorpusScan CremaDFormat::scan(const QString &rootPath, const QString &labelMapping,
                              ProgressSink &progress) const
{
    static const QRegularExpression pattern(
        QStringLiteral("^(\\d+)_([A-Za-z]{3})_([A-Za-z]{3})_([A-Za-z]{2})$"));
    CorpusScan out;
    out.corpusName = QDir(rootPath).dirName();
    out.schema = emotion::schemaFor(name(), labelMapping,
                                    {QStringLiteral("angry"), QStringLiteral("disgust"),
                                     QStringLiteral("fear"), QStringLiteral("happy"),
                                     QStringLiteral("neutral"), QStringLiteral("sad")});

    const QDir root(rootPath);
    const QDir audio(root.filePath(QStringLiteral("AudioWAV")));
    QHash<QString, Actor> actors;
    for (const QString &candidate : {root.filePath(QStringLiteral("VideoDemographics.csv")),
                                     audio.filePath(QStringLiteral("VideoDemographics.csv"))}) {
        if (QFileInfo::exists(candidate)) {
            actors = readDemographics(QDir::cleanPath(candidate), &out.problems);
            break;
        }
    }

    const QStringList files = audio.entryList({QStringLiteral("*.wav"), QStringLiteral("*.WAV")},
                                              QDir::Files, QDir::Name);
    ScanProgress scanProgress(progress);
    for (qsizetype i = 0; i < files.size(); ++i) {
        if (!scanProgress.advance(i + 1, files.size(),
                                  QStringLiteral("Reading CREMA-D file names")))
            return out;
        const QString &file = files.at(i);
        const QString path = audio.filePath(file);
        const QString base = file.left(file.size() - 4);
        const QRegularExpressionMatch m = pattern.match(base);
        if (!m.hasMatch()) {
            out.problems.append({path, 0,
                                 QStringLiteral("the file name does not follow the CREMA-D "
                                                "pattern ActorID_Sentence_Emotion_Intensity.wav")});
            continue;
        }
        const QString emotionCode = m.captured(3).toUpper();
        const QString emotion = emotionName(emotionCode);
        if (emotion.isEmpty()) {
            out.problems.append({path, 0,
                                 QStringLiteral("emotion code \"%1\" is not one of ANG, DIS, FEA, "
                                                "HAP, NEU, SAD")
                                     .arg(m.captured(3))});
            continue;
        }
        const QString intensity = intensityName(m.captured(4).toUpper());
        if (intensity.isEmpty()) {
            out.problems.append(
                {path, 0,
                 QStringLiteral("intensity code \"%1\" is not one of LO, MD, HI, XX")
                     .arg(m.captured(4))});
            continue;
        }
        ImportItem item;
        UtteranceRecord &u = item.utterance;
        u.path = path;
        u.key = base;
        item.speakerCode = m.captured(1);
        u.sessionKey = item.speakerCode;
        const QString sentence = m.captured(2).toUpper();
        u.transcript = sentenceText(sentence);
        u.originalLabel = m.captured(3);
        item.label.category = emotion::mapped(emotion, labelMapping);
        u.metadata.insert(QStringLiteral("sentence"), sentence);
        u.metadata.insert(QStringLiteral("intensity"), intensity);
        const auto actor = actors.constFind(item.speakerCode);
        if (actor != actors.constEnd()) {
            item.gender = actor->gender;
            if (!actor->age.isEmpty())
                u.metadata.insert(QStringLiteral("age"), actor->age);
            if (!actor->race.isEmpty())
                u.metadata.insert(QStringLiteral("race"), actor->race);
            if (!actor->ethnicity.isEmpty())
                u.metadata.insert(QStringLiteral("ethnicity"), actor->ethnicity);
        }
        out.items.append(item);
    }
    return out;
}

} // namespace emolens
