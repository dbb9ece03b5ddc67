#include "corpus/formats/MspPodcastFormat.h"

#include "corpus/DelimitedText.h"
#include "corpus/formats/EmotionNames.h"
#include "corpus/formats/ScanProgress.h"

#include <QDir>
#include <QFile>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QSet>

namespace emolens {

namespace {

// EmoAct, EmoVal and EmoDom are averages of 1..7 ratings.
constexpr double kRatingMinimum = 1;
constexpr double kRatingMaximum = 7;

QString emotionName(const QString &code)
{
    static const QHash<QString, QString> names = {{QStringLiteral("A"), QStringLiteral("angry")},
                                                  {QStringLiteral("S"), QStringLiteral("sad")},
                                                  {QStringLiteral("H"), QStringLiteral("happy")},
                                                  {QStringLiteral("U"), QStringLiteral("surprise")},
                                                  {QStringLiteral("F"), QStringLiteral("fear")},
                                                  {QStringLiteral("D"), QStringLiteral("disgust")},
                                                  {QStringLiteral("C"), QStringLiteral("contempt")},
                                                  {QStringLiteral("N"), QStringLiteral("neutral")}};
    return names.value(code.trimmed().toUpper());
}

// One file's entry, whichever table it came from.
struct Entry
{
    QString fileName;
    QString emoClass;
    QString arousal;
    QString valence;
    QString dominance;
    QString speaker;
    QString gender;
    QString split;
    int line = 0; // csv only
};

QString jsonText(const QJsonValue &v)
{
    if (v.isDouble())
        return QString::number(v.toDouble(), 'g', 10);
    return v.toString();
}

bool readJson(const QString &path, QList<Entry> *entries, QList<ImportProblem> *problems)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        problems->append(
            {path, 0, QStringLiteral("cannot read the label file: %1").arg(file.errorString())});
        return false;
    }
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    if (error.error != QJsonParseError::NoError) {
        problems->append({path, 0,
                          QStringLiteral("the label file is not valid JSON: %1 at byte %2")
                              .arg(error.errorString())
                              .arg(error.offset)});
        return false;
    }
    if (!doc.isObject()) {
        problems->append({path, 0,
                          QStringLiteral("the label file is not a JSON object of "
                                         "file name -> labels")});
        return false;
    }
    const QJsonObject root = doc.object();
    for (auto it = root.begin(); it != root.end(); ++it) {
        const QJsonObject o = it.value().toObject();
        entries->append(
            {it.key(), jsonText(o.value(QLatin1String("EmoClass"))),
             jsonText(o.value(QLatin1String("EmoAct"))), jsonText(o.value(QLatin1String("EmoVal"))),
             jsonText(o.value(QLatin1String("EmoDom"))), jsonText(o.value(QLatin1String("SpkrID"))),
             jsonText(o.value(QLatin1String("Gender"))),
             jsonText(o.value(QLatin1String("Split_Set"))), 0});
    }
    return true;
}

bool readCsv(const QString &path, QList<Entry> *entries, QList<ImportProblem> *problems)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        problems->append(
            {path, 0, QStringLiteral("cannot read the label file: %1").arg(file.errorString())});
        return false;
    }
    const QList<DelimitedRecord> records =
        parseDelimitedText(QString::fromUtf8(file.readAll()), QLatin1Char(','));
    if (records.isEmpty())
        return true;
    QHash<QString, int> column;
    const QStringList header = records.first().fields;
    for (int i = 0; i < header.size(); ++i)
        column.insert(header.at(i).trimmed(), i);
    if (!column.contains(QStringLiteral("FileName"))) {
        problems->append(
            {path, records.first().line, QStringLiteral("the header has no FileName column")});
        return false;
    }
    auto field = [&](const DelimitedRecord &r, const char *name) {
        const int i = column.value(QLatin1String(name), -1);
        return i < 0 ? QString() : r.fields.value(i).trimmed();
    };
    for (qsizetype i = 1; i < records.size(); ++i) {
        const DelimitedRecord &r = records.at(i);
        if (!r.error.isEmpty() || r.fields.size() != header.size()) {
            problems->append({path, r.line,
                              r.error.isEmpty() ? QStringLiteral("expected %1 columns, found %2")
                                                      .arg(header.size())
                                                      .arg(r.fields.size())
                                                : r.error});
            continue;
        }
        entries->append({field(r, "FileName"), field(r, "EmoClass"), field(r, "EmoAct"),
                         field(r, "EmoVal"), field(r, "EmoDom"), field(r, "SpkrID"),
                         field(r, "Gender"), field(r, "Split_Set"), r.line});
    }
    return true;
}

QString labelsFile(const QString &rootPath)
{
    const QDir labels(QDir(rootPath).filePath(QStringLiteral("Labels")));
    for (const QString &name :
         {QStringLiteral("labels_consensus.json"), QStringLiteral("labels_consensus.csv")})
        if (QFileInfo::exists(labels.filePath(name)))
            return labels.filePath(name);
    return QString();
}

} // namespace

QStringList MspPodcastFormat::labelMappings() const
{
    return {emotion::originalMapping(), emotion::fourClassMapping()};
}

bool MspPodcastFormat::recognises(const QString &rootPath) const
{
    return QFileInfo(QDir(rootPath).filePath(QStringLiteral("Audios"))).isDir() &&
           !labelsFile(rootPath).isEmpty();
}

CorpusScan MspPodcastFormat::scan(const QString &rootPath, const QString &labelMapping,
                                  ProgressSink &progress) const
{
    CorpusScan out;
    out.corpusName = QDir(rootPath).dirName();
    out.schema = emotion::schemaFor(
        name(), labelMapping,
        {QStringLiteral("angry"), QStringLiteral("contempt"), QStringLiteral("disgust"),
         QStringLiteral("fear"), QStringLiteral("happy"), QStringLiteral("neutral"),
         QStringLiteral("sad"), QStringLiteral("surprise")},
        {{QStringLiteral("valence"), kRatingMinimum, kRatingMaximum},
         {QStringLiteral("arousal"), kRatingMinimum, kRatingMaximum},
         {QStringLiteral("dominance"), kRatingMinimum, kRatingMaximum}});

    ScanProgress scanProgress(progress);
    if (!scanProgress.check(0, QStringLiteral("Reading MSP-Podcast labels")))
        return out;
    const QString labelPath = labelsFile(rootPath);
    if (labelPath.isEmpty()) {
        out.problems.append({rootPath, 0,
                             QStringLiteral("no Labels/labels_consensus.json or "
                                            "Labels/labels_consensus.csv")});
        return out;
    }
    QList<Entry> entries;
    // Without readable labels nothing is imported: importing the audio unlabeled would hide
    // the broken label file behind a seemingly successful import.
    const bool read = labelPath.endsWith(QLatin1String(".json"))
                          ? readJson(labelPath, &entries, &out.problems)
                          : readCsv(labelPath, &entries, &out.problems);
    if (!read)
        return out;

    const QDir audios(QDir(rootPath).filePath(QStringLiteral("Audios")));
    const QStringList audioList =
        audios.entryList({QStringLiteral("*.wav")}, QDir::Files, QDir::Name);
    QSet<QString> present(audioList.begin(), audioList.end());
    QSet<QString> labelled;

    const qsizetype total = entries.size() + audioList.size();
    qsizetype done = 0;
    for (const Entry &e : entries) {
        if (!scanProgress.advance(++done, total, QStringLiteral("Reading MSP-Podcast labels")))
            return out;
        if (!present.contains(e.fileName)) {
            out.problems.append(
                {labelPath, e.line,
                 QStringLiteral("audio file not found: %1").arg(audios.filePath(e.fileName))});
            continue;
        }
        labelled.insert(e.fileName);
        ImportItem item;
        UtteranceRecord &u = item.utterance;
        u.path = audios.filePath(e.fileName);
        u.key = QFileInfo(e.fileName).completeBaseName();
        const QString speaker = e.speaker.trimmed();
        if (!speaker.isEmpty() && speaker.compare(QLatin1String("unknown"), Qt::CaseInsensitive))
            item.speakerCode = speaker;
        item.gender = genderFromName(e.gender);
        u.sessionKey = item.speakerCode;
        u.originalLabel = e.emoClass.trimmed();
        item.label.category = emotion::mapped(emotionName(e.emoClass), labelMapping);
        const std::pair<const char *, const QString *> dims[] = {
            {"arousal", &e.arousal}, {"valence", &e.valence}, {"dominance", &e.dominance}};
        for (const auto &[dimension, text] : dims) {
            bool ok = false;
            const double v = text->toDouble(&ok);
            // A rating off the 1..7 scale (or nan, inf) would land outside the annotator's
            // slider: it is reported and left out, the rest of the label is kept.
            if (ok && v >= kRatingMinimum && v <= kRatingMaximum)
                item.label.dimensions.insert(QLatin1String(dimension), v);
            else if (ok)
                out.problems.append({labelPath, e.line,
                                     QStringLiteral("%1: %2 %3 is not on the 1..7 scale; it is "
                                                    "not imported")
                                         .arg(e.fileName, QLatin1String(dimension), *text)});
        }
        if (!e.split.isEmpty())
            u.metadata.insert(QStringLiteral("split_set"), e.split);
        out.items.append(item);
    }
    for (const QString &file : audioList) {
        if (!scanProgress.advance(++done, total, QStringLiteral("Listing MSP-Podcast audio")))
            return out;
        if (labelled.contains(file))
            continue;
        ImportItem item;
        item.utterance.path = audios.filePath(file);
        item.utterance.key = QFileInfo(file).completeBaseName();
        out.items.append(item);
    }
    return out;
}

} // namespace emolens
