#include "corpus/formats/EmoDbFormat.h"

#include "corpus/formats/EmotionNames.h"
#include "corpus/formats/ScanProgress.h"

#include <QDir>
#include <QDirIterator>
#include <QHash>
#include <QRegularExpression>

namespace emolens {

namespace {

const QRegularExpression &namePattern()
{
    static const QRegularExpression pattern(
        QStringLiteral("^(\\d{2})([a-z]\\d{2})([A-Z])([a-z])\\.wav$"));
    return pattern;
}

QString emotionName(QChar letter)
{
    switch (letter.unicode()) {
    case 'W':
        return QStringLiteral("angry");
    case 'L':
        return QStringLiteral("boredom");
    case 'E':
        return QStringLiteral("disgust");
    case 'A':
        return QStringLiteral("fear");
    case 'F':
        return QStringLiteral("happy");
    case 'T':
        return QStringLiteral("sad");
    case 'N':
        return QStringLiteral("neutral");
    }
    return QString();
}

Gender speakerGender(const QString &speaker)
{
    static const QHash<QString, Gender> genders = {
        {QStringLiteral("03"), Gender::Male},   {QStringLiteral("08"), Gender::Female},
        {QStringLiteral("09"), Gender::Female}, {QStringLiteral("10"), Gender::Male},
        {QStringLiteral("11"), Gender::Male},   {QStringLiteral("12"), Gender::Male},
        {QStringLiteral("13"), Gender::Female}, {QStringLiteral("14"), Gender::Female},
        {QStringLiteral("15"), Gender::Male},   {QStringLiteral("16"), Gender::Female}};
    return genders.value(speaker, Gender::Unknown);
}

// The ten EmoDB sentences.
QString sentenceText(const QString &code)
{
    static const QHash<QString, QString> texts = {
        {QStringLiteral("a01"), QStringLiteral("Der Lappen liegt auf dem Eisschrank.")},
        {QStringLiteral("a02"), QStringLiteral("Das will sie am Mittwoch abgeben.")},
        {QStringLiteral("a04"), QStringLiteral("Heute abend könnte ich es ihm sagen.")},
        {QStringLiteral("a05"),
         QStringLiteral("Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.")},
        {QStringLiteral("a07"), QStringLiteral("In sieben Stunden wird es soweit sein.")},
        {QStringLiteral("b01"),
         QStringLiteral("Was sind denn das für Tüten, die da unter dem Tisch stehen?")},
        {QStringLiteral("b02"), QStringLiteral("Sie haben es gerade hochgetragen und jetzt gehen "
                                               "sie wieder runter.")},
        {QStringLiteral("b03"), QStringLiteral("An den Wochenenden bin ich jetzt immer nach Hause "
                                               "gefahren und habe Agnes besucht.")},
        {QStringLiteral("b09"),
         QStringLiteral("Ich will das eben wegbringen und dann mit Karl was trinken gehen.")},
        {QStringLiteral("b10"),
         QStringLiteral("Die wird auf dem Platz sein, wo wir sie immer hinlegen.")}};
    return texts.value(code);
}

} // namespace

QStringList EmoDbFormat::labelMappings() const
{
    return {emotion::originalMapping(), emotion::fourClassMapping()};
}

bool EmoDbFormat::recognises(const QString &rootPath) const
{
    const QString wav = QDir(rootPath).filePath(QStringLiteral("wav"));
    QDirIterator it(wav, {QStringLiteral("*.wav")}, QDir::Files);
    for (int seen = 0; it.hasNext() && seen < 8; ++seen)
        if (namePattern().match(QFileInfo(it.next()).fileName()).hasMatch())
            return true;
    return false;
}

CorpusScan EmoDbFormat::scan(const QString &rootPath, const QString &labelMapping,
                             ProgressSink &progress) const
{
    CorpusScan out;
    out.corpusName = QDir(rootPath).dirName();
    out.schema = emotion::schemaFor(name(), labelMapping,
                                    {QStringLiteral("angry"), QStringLiteral("boredom"),
                                     QStringLiteral("disgust"), QStringLiteral("fear"),
                                     QStringLiteral("happy"), QStringLiteral("neutral"),
                                     QStringLiteral("sad")});
    const QDir wav(QDir(rootPath).filePath(QStringLiteral("wav")));
    const QStringList files = wav.entryList({QStringLiteral("*.wav")}, QDir::Files, QDir::Name);
    ScanProgress scanProgress(progress);
    for (qsizetype i = 0; i < files.size(); ++i) {
        if (!scanProgress.advance(i + 1, files.size(), QStringLiteral("Reading EmoDB file names")))
            return out;
        const QString &file = files.at(i);
        const QString path = wav.filePath(file);
        const QRegularExpressionMatch m = namePattern().match(file);
        if (!m.hasMatch()) {
            out.problems.append({path, 0,
                                 QStringLiteral("the file name does not follow the EmoDB pattern "
                                                "SSTTTEV.wav (e.g. 03a01Fa.wav)")});
            continue;
        }
        const QString emotion = emotionName(m.captured(3).at(0));
        if (emotion.isEmpty()) {
            out.problems.append({path, 0,
                                 QStringLiteral("emotion letter \"%1\" is not one of W, L, E, A, "
                                                "F, T, N")
                                     .arg(m.captured(3))});
            continue;
        }
        ImportItem item;
        UtteranceRecord &u = item.utterance;
        u.path = path;
        u.key = file.left(file.size() - 4);
        item.speakerCode = m.captured(1);
        item.gender = speakerGender(item.speakerCode);
        u.sessionKey = item.speakerCode;
        u.transcript = sentenceText(m.captured(2));
        u.originalLabel = m.captured(3);
        item.label.category = emotion::mapped(emotion, labelMapping);
        u.metadata.insert(QStringLiteral("sentence"), m.captured(2));
        u.metadata.insert(QStringLiteral("version"), m.captured(4));
        out.items.append(item);
    }
    return out;
}

} // namespace emolens
