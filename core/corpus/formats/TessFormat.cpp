#include "corpus/formats/TessFormat.h"

#include "corpus/formats/EmotionNames.h"
#include "corpus/formats/ScanProgress.h"

#include <QDir>
#include <QHash>

namespace emolens {

namespace {

QString emotionName(const QString &spelling)
{
    static const QHash<QString, QString> names = {
        {QStringLiteral("angry"), QStringLiteral("angry")},
        {QStringLiteral("disgust"), QStringLiteral("disgust")},
        {QStringLiteral("fear"), QStringLiteral("fear")},
        {QStringLiteral("happy"), QStringLiteral("happy")},
        {QStringLiteral("neutral"), QStringLiteral("neutral")},
        {QStringLiteral("ps"), QStringLiteral("surprise")},
        {QStringLiteral("pleasant_surprise"), QStringLiteral("surprise")},
        {QStringLiteral("pleasant_surprised"), QStringLiteral("surprise")},
        {QStringLiteral("sad"), QStringLiteral("sad")}};
    return names.value(spelling.toLower());
}

QStringList speakerFolders(const QString &rootPath)
{
    return QDir(rootPath).entryList({QStringLiteral("OAF_*"), QStringLiteral("YAF_*")},
                                    QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
}

} // namespace

QStringList TessFormat::labelMappings() const
{
    return {emotion::originalMapping(), emotion::fourClassMapping()};
}

bool TessFormat::recognises(const QString &rootPath) const
{
    return !speakerFolders(rootPath).isEmpty();
}

CorpusScan TessFormat::scan(const QString &rootPath, const QString &labelMapping,
                            ProgressSink &progress) const
{
    CorpusScan out;
    out.corpusName = QDir(rootPath).dirName();
    out.schema = emotion::schemaFor(name(), labelMapping,
                                    {QStringLiteral("angry"), QStringLiteral("disgust"),
                                     QStringLiteral("fear"), QStringLiteral("happy"),
                                     QStringLiteral("neutral"), QStringLiteral("sad"),
                                     QStringLiteral("surprise")});

    QStringList paths;
    const QDir root(rootPath);
    for (const QString &folder : speakerFolders(rootPath)) {
        const QDir dir(root.filePath(folder));
        for (const QString &file : dir.entryList({QStringLiteral("*.wav"), QStringLiteral("*.WAV")},
                                                 QDir::Files, QDir::Name))
            paths.append(dir.filePath(file));
    }

    ScanProgress scanProgress(progress);
    for (qsizetype i = 0; i < paths.size(); ++i) {
        if (!scanProgress.advance(i + 1, paths.size(), QStringLiteral("Reading TESS file names")))
            return out;
        const QString &path = paths.at(i);
        const QString file = QFileInfo(path).fileName();
        const QString base = file.left(file.size() - 4);
        const QStringList parts = base.split(QLatin1Char('_'));
        const QString speaker = parts.value(0).toUpper();
        // The emotion is the rest after the word, so "pleasant_surprise" also reads.
        const QString spelledEmotion = base.section(QLatin1Char('_'), 2);
        if (parts.size() < 3 || (speaker != u"OAF" && speaker != u"YAF") || parts.at(1).isEmpty()) {
            out.problems.append({path, 0,
                                 QStringLiteral("the file name does not follow the TESS pattern "
                                                "SPEAKER_word_emotion.wav (speaker OAF or YAF)")});
            continue;
        }
        const QString emotion = emotionName(spelledEmotion);
        if (emotion.isEmpty()) {
            out.problems.append({path, 0,
                                 QStringLiteral("emotion \"%1\" is not one of angry, disgust, "
                                                "fear, happy, neutral, ps, sad")
                                     .arg(spelledEmotion)});
            continue;
        }
        ImportItem item;
        UtteranceRecord &u = item.utterance;
        u.path = path;
        u.key = base;
        item.speakerCode = speaker;
        item.gender = Gender::Female;
        u.sessionKey = speaker;
        u.transcript = parts.at(1);
        u.originalLabel = spelledEmotion;
        item.label.category = emotion::mapped(emotion, labelMapping);
        u.metadata.insert(QStringLiteral("word"), parts.at(1));
        u.metadata.insert(QStringLiteral("age_group"),
                          speaker == u"OAF" ? QStringLiteral("older") : QStringLiteral("younger"));
        out.items.append(item);
    }
    return out;
}

} // namespace emolens
