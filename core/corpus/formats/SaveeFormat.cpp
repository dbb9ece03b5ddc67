#include "corpus/formats/SaveeFormat.h"

#include "corpus/formats/EmotionNames.h"
#include "corpus/formats/ScanProgress.h"

#include <QDir>
#include <QDirIterator>
#include <QHash>
#include <QRegularExpression>
#include <QSet>

namespace emolens {

namespace {

const QStringList &speakers()
{
    static const QStringList codes = {QStringLiteral("DC"), QStringLiteral("JE"),
                                      QStringLiteral("JK"), QStringLiteral("KL")};
    return codes;
}

QString emotionName(const QString &code)
{
    static const QHash<QString, QString> names = {
        {QStringLiteral("a"), QStringLiteral("angry")},
        {QStringLiteral("d"), QStringLiteral("disgust")},
        {QStringLiteral("f"), QStringLiteral("fear")},
        {QStringLiteral("h"), QStringLiteral("happy")},
        {QStringLiteral("n"), QStringLiteral("neutral")},
        {QStringLiteral("sa"), QStringLiteral("sad")},
        {QStringLiteral("su"), QStringLiteral("surprise")}};
    return names.value(code);
}

// The folders the flat variant may sit in.
QStringList flatFolders(const QString &rootPath)
{
    const QDir root(rootPath);
    return {root.path(), root.filePath(QStringLiteral("AudioData")),
            root.filePath(QStringLiteral("ALL"))};
}

QStringList flatFilters()
{
    QStringList filters;
    for (const QString &s : speakers())
        filters << s + QStringLiteral("_*.wav");
    return filters;
}

} // namespace

QStringList SaveeFormat::labelMappings() const
{
    return {emotion::originalMapping(), emotion::fourClassMapping()};
}

bool SaveeFormat::recognises(const QString &rootPath) const
{
    const QDir audioData(QDir(rootPath).filePath(QStringLiteral("AudioData")));
    for (const QString &s : speakers())
        if (QFileInfo(audioData.filePath(s)).isDir())
            return true;
    for (const QString &folder : flatFolders(rootPath)) {
        QDirIterator it(folder, flatFilters(), QDir::Files);
        if (it.hasNext())
            return true;
    }
    return false;
}

CorpusScan SaveeFormat::scan(const QString &rootPath, const QString &labelMapping,
                             ProgressSink &progress) const
{
    static const QRegularExpression codePattern(QStringLiteral("^([a-z]{1,2})(\\d{2})$"));
    CorpusScan out;
    out.corpusName = QDir(rootPath).dirName();
    out.schema = emotion::schemaFor(name(), labelMapping,
                                    {QStringLiteral("angry"), QStringLiteral("disgust"),
                                     QStringLiteral("fear"), QStringLiteral("happy"),
                                     QStringLiteral("neutral"), QStringLiteral("sad"),
                                     QStringLiteral("surprise")});

    struct File
    {
        QString path;
        QString speaker;
        QString code; // e.g. "sa03"
    };
    QList<File> files;
    const QDir audioData(QDir(rootPath).filePath(QStringLiteral("AudioData")));
    for (const QString &s : speakers()) {
        const QDir dir(audioData.filePath(s));
        for (const QString &f : dir.entryList({QStringLiteral("*.wav")}, QDir::Files, QDir::Name))
            files.append({dir.filePath(f), s, f.left(f.size() - 4)});
    }
    for (const QString &folder : flatFolders(rootPath)) {
        const QDir dir(folder);
        for (const QString &f : dir.entryList(flatFilters(), QDir::Files, QDir::Name))
            files.append({dir.filePath(f), f.left(2), f.mid(3, f.size() - 7)});
    }

    QSet<QString> keys;
    ScanProgress scanProgress(progress);
    for (qsizetype i = 0; i < files.size(); ++i) {
        if (!scanProgress.advance(i + 1, files.size(), QStringLiteral("Reading SAVEE file names")))
            return out;
        const File &f = files.at(i);
        const QRegularExpressionMatch m = codePattern.match(f.code);
        const QString emotion = m.hasMatch() ? emotionName(m.captured(1)) : QString();
        if (emotion.isEmpty()) {
            out.problems.append({f.path, 0,
                                 QStringLiteral("the file name does not follow the SAVEE pattern "
                                                "<emotion code><NN>.wav with codes a, d, f, h, "
                                                "n, sa, su")});
            continue;
        }
        const QString key = f.speaker + QLatin1Char('_') + f.code;
        if (keys.contains(key)) {
            out.problems.append({f.path, 0,
                                 QStringLiteral("utterance %1 is already in the corpus under "
                                                "another folder")
                                     .arg(key)});
            continue;
        }
        keys.insert(key);
        ImportItem item;
        UtteranceRecord &u = item.utterance;
        u.path = f.path;
        u.key = key;
        item.speakerCode = f.speaker;
        item.gender = Gender::Male;
        u.sessionKey = f.speaker;
        u.originalLabel = m.captured(1);
        item.label.category = emotion::mapped(emotion, labelMapping);
        u.metadata.insert(QStringLiteral("sentence"), m.captured(2));
        out.items.append(item);
    }
    return out;
}

} // namespace emolens
