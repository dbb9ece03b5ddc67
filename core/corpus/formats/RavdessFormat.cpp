#include "corpus/formats/RavdessFormat.h"

#include "corpus/formats/EmotionNames.h"
#include "corpus/formats/ScanProgress.h"

#include <QDir>
#include <QRegularExpression>

namespace emolens {

namespace {

const QStringList &emotionNames()
{
    // Index = code - 1.
    static const QStringList names = {QStringLiteral("neutral"), QStringLiteral("calm"),
                                      QStringLiteral("happy"),   QStringLiteral("sad"),
                                      QStringLiteral("angry"),   QStringLiteral("fear"),
                                      QStringLiteral("disgust"), QStringLiteral("surprise")};
    return names;
}

QStringList actorFolders(const QString &rootPath)
{
    static const QRegularExpression actor(QStringLiteral("^Actor_\\d{2}$"));
    QStringList out;
    for (const QString &name : QDir(rootPath).entryList(
             {QStringLiteral("Actor_*")}, QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
        if (actor.match(name).hasMatch())
            out.append(name);
    return out;
}

// Checks one two-digit field; returns an error text naming the field, or empty.
QString checkField(const QString &value, const char *field, int minimum, int maximum)
{
    bool ok = false;
    const int v = value.toInt(&ok);
    if (!ok || v < minimum || v > maximum)
        return QStringLiteral("%1 code \"%2\" is not %3-%4")
            .arg(QLatin1String(field), value, QString::number(minimum).rightJustified(2, u'0'),
                 QString::number(maximum).rightJustified(2, u'0'));
    return QString();
}

} // namespace

QStringList RavdessFormat::labelMappings() const
{
    return {emotion::originalMapping(), emotion::fourClassMapping()};
}

bool RavdessFormat::recognises(const QString &rootPath) const
{
    return !actorFolders(rootPath).isEmpty();
}

CorpusScan RavdessFormat::scan(const QString &rootPath, const QString &labelMapping,
                               ProgressSink &progress) const
{
    static const QRegularExpression pattern(
        QStringLiteral("^(\\d{2})-(\\d{2})-(\\d{2})-(\\d{2})-(\\d{2})-(\\d{2})-(\\d{2})$"));
    CorpusScan out;
    out.corpusName = QDir(rootPath).dirName();
    out.schema = emotion::schemaFor(name(), labelMapping, emotionNames());

    struct File
    {
        QString folder;
        QString name;
    };
    QList<File> files;
    const QDir root(rootPath);
    for (const QString &folder : actorFolders(rootPath))
        for (const QString &file :
             QDir(root.filePath(folder))
                 .entryList({QStringLiteral("*.wav"), QStringLiteral("*.WAV")}, QDir::Files,
                            QDir::Name))
            files.append({folder, file});

    ScanProgress scanProgress(progress);
    for (qsizetype i = 0; i < files.size(); ++i) {
        if (!scanProgress.advance(i + 1, files.size(),
                                  QStringLiteral("Reading RAVDESS file names")))
            return out;
        const File &f = files.at(i);
        const QString path = root.filePath(f.folder + QLatin1Char('/') + f.name);
        const QString base = f.name.left(f.name.size() - 4);
        const QRegularExpressionMatch m = pattern.match(base);
        if (!m.hasMatch()) {
            out.problems.append({path, 0,
                                 QStringLiteral("the file name does not follow the RAVDESS pattern "
                                                "MM-CC-EE-II-SS-RR-AA.wav")});
            continue;
        }
        QString error = checkField(m.captured(1), "modality", 1, 3);
        if (error.isEmpty())
            error = checkField(m.captured(2), "vocal channel", 1, 2);
        if (error.isEmpty())
            error = checkField(m.captured(3), "emotion", 1, 8);
        if (error.isEmpty())
            error = checkField(m.captured(4), "intensity", 1, 2);
        if (error.isEmpty())
            error = checkField(m.captured(5), "statement", 1, 2);
        if (error.isEmpty())
            error = checkField(m.captured(6), "repetition", 1, 2);
        if (error.isEmpty())
            error = checkField(m.captured(7), "actor", 1, 24);
        if (!error.isEmpty()) {
            out.problems.append({path, 0, error});
            continue;
        }
        const int actor = m.captured(7).toInt();
        const int statement = m.captured(5).toInt();
        ImportItem item;
        UtteranceRecord &u = item.utterance;
        u.path = path;
        u.key = base;
        item.speakerCode = QStringLiteral("Actor_") + m.captured(7);
        item.gender = actor % 2 == 1 ? Gender::Male : Gender::Female;
        u.sessionKey = item.speakerCode;
        u.transcript = statement == 1 ? QStringLiteral("Kids are talking by the door")
                                      : QStringLiteral("Dogs are sitting by the door");
        u.originalLabel = m.captured(3);
        item.label.category =
            emotion::mapped(emotionNames().at(m.captured(3).toInt() - 1), labelMapping);
        const int modality = m.captured(1).toInt();
        u.metadata.insert(QStringLiteral("modality"), modality == 1 ? QStringLiteral("audio-video")
                                                      : modality == 2
                                                          ? QStringLiteral("video-only")
                                                          : QStringLiteral("audio-only"));
        u.metadata.insert(QStringLiteral("vocal_channel"), m.captured(2) == u"01"
                                                               ? QStringLiteral("speech")
                                                               : QStringLiteral("song"));
        u.metadata.insert(QStringLiteral("intensity"), m.captured(4) == u"01"
                                                           ? QStringLiteral("normal")
                                                           : QStringLiteral("strong"));
        u.metadata.insert(QStringLiteral("statement"), m.captured(5));
        u.metadata.insert(QStringLiteral("repetition"), m.captured(6));
        out.items.append(item);
    }
    return out;
}

} // namespace emolens
