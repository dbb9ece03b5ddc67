#include "corpus/formats/IemocapFormat.h"

#include "corpus/formats/EmotionNames.h"
#include "corpus/formats/ScanProgress.h"

#include <QDir>
#include <QFile>
#include <QHash>
#include <QRegularExpression>
#include <QSet>

namespace emolens {

namespace {

const QStringList &originalCodes()
{
    static const QStringList codes = {
        QStringLiteral("ang"), QStringLiteral("dis"), QStringLiteral("exc"), QStringLiteral("fea"),
        QStringLiteral("fru"), QStringLiteral("hap"), QStringLiteral("neu"), QStringLiteral("oth"),
        QStringLiteral("sad"), QStringLiteral("sur")};
    return codes;
}

QString fourClassOf(const QString &code)
{
    if (code == u"ang")
        return QStringLiteral("angry");
    if (code == u"hap" || code == u"exc")
        return QStringLiteral("happy");
    if (code == u"neu")
        return QStringLiteral("neutral");
    if (code == u"sad")
        return QStringLiteral("sad");
    return QString();
}

QStringList sessionFolders(const QString &rootPath)
{
    QStringList sessions =
        QDir(rootPath).entryList({QStringLiteral("Session*")}, QDir::Dirs | QDir::NoDotAndDotDot);
    // Session10 after Session9: sort by the number, not the text.
    std::sort(sessions.begin(), sessions.end(), [](const QString &a, const QString &b) {
        return a.mid(7).toInt() < b.mid(7).toInt();
    });
    return sessions;
}

// utterance id -> transcript, from one dialog's transcription file.
QHash<QString, QString> readTranscripts(const QString &path)
{
    QHash<QString, QString> out;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return out;
    const QString text = QString::fromUtf8(file.readAll());
    for (QStringView line : QStringView(text).split(QLatin1Char('\n'))) {
        line = line.trimmed();
        const qsizetype space = line.indexOf(QLatin1Char(' '));
        const qsizetype colon = line.indexOf(QLatin1String("]:"));
        if (space <= 0 || colon < space)
            continue; // "M: [BREATHING]" and similar lines without an utterance id
        out.insert(line.left(space).toString(), line.mid(colon + 2).trimmed().toString());
    }
    return out;
}

} // namespace

QStringList IemocapFormat::labelMappings() const
{
    return {emotion::fourClassMapping(), emotion::originalMapping()};
}

bool IemocapFormat::recognises(const QString &rootPath) const
{
    for (const QString &session : sessionFolders(rootPath))
        if (QFileInfo(QDir(rootPath).filePath(session + QStringLiteral("/dialog/EmoEvaluation")))
                .isDir())
            return true;
    return false;
}

CorpusScan IemocapFormat::scan(const QString &rootPath, const QString &labelMapping,
                               ProgressSink &progress) const
{
    // Numbers as IEMOCAP writes them ("6.2901"): "." or "1.2.3" is no number, and [0-9]
    // rather than \d, which would also take digits of other scripts that toDouble() refuses.
    static const QRegularExpression labelLine(
        QStringLiteral(
            R"(^\[\s*%1\s*-\s*%1\s*\]\s+(\S+)\s+(\S+)\s+\[\s*%1\s*,\s*%1\s*,\s*%1\s*\]\s*$)")
            .arg(QStringLiteral(R"(([0-9]+(?:\.[0-9]*)?|\.[0-9]+))")));
    const bool fourClass = labelMapping == emotion::fourClassMapping();
    CorpusScan out;
    out.corpusName = QDir(rootPath).dirName();
    const QList<DimensionScale> scales = {{QStringLiteral("valence"), 1, 5},
                                          {QStringLiteral("arousal"), 1, 5},
                                          {QStringLiteral("dominance"), 1, 5}};
    if (fourClass) {
        out.schema = emotion::schemaFor(name(), labelMapping, emotion::fourClasses(), scales);
    } else {
        out.schema =
            emotion::schemaFor(name(), emotion::originalMapping(), originalCodes(), scales);
    }

    // Every evaluation file first, so progress can count them.
    struct EvaluationFile
    {
        QString session;
        QString path;
    };
    QList<EvaluationFile> files;
    const QDir root(rootPath);
    for (const QString &session : sessionFolders(rootPath)) {
        const QDir evalDir(root.filePath(session + QStringLiteral("/dialog/EmoEvaluation")));
        for (const QString &name :
             evalDir.entryList({QStringLiteral("*.txt")}, QDir::Files, QDir::Name))
            files.append({session, evalDir.filePath(name)});
    }

    ScanProgress scanProgress(progress);
    for (qsizetype f = 0; f < files.size(); ++f) {
        if (!scanProgress.check(double(f) / double(files.size()),
                                QStringLiteral("Reading IEMOCAP labels (%1 of %2 dialogs)")
                                    .arg(f + 1)
                                    .arg(files.size())))
            return out;
        const EvaluationFile &ef = files.at(f);
        const QString dialog = QFileInfo(ef.path).completeBaseName();
        const QDir sessionDir(root.filePath(ef.session));
        const QDir wavDir(sessionDir.filePath(QStringLiteral("sentences/wav/") + dialog));
        const QStringList wavList = wavDir.entryList({QStringLiteral("*.wav")}, QDir::Files);
        const QSet<QString> wavs(wavList.begin(), wavList.end());
        const QHash<QString, QString> transcripts = readTranscripts(sessionDir.filePath(
            QStringLiteral("dialog/transcriptions/") + dialog + QStringLiteral(".txt")));
        const SpeakingStyle style =
            dialog.contains(QLatin1String("impro"))    ? SpeakingStyle::Improvised
            : dialog.contains(QLatin1String("script")) ? SpeakingStyle::Scripted
                                                       : SpeakingStyle::Unknown;

        QFile file(ef.path);
        if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
            out.problems.append(
                {ef.path, 0,
                 QStringLiteral("cannot read the label file: %1").arg(file.errorString())});
            continue;
        }
        const QString text = QString::fromUtf8(file.readAll());
        const QList<QStringView> lines = QStringView(text).split(QLatin1Char('\n'));
        for (qsizetype i = 0; i < lines.size(); ++i) {
            const QStringView line = lines.at(i).trimmed();
            // Evaluator lines ("C-E1:", "A-E3:"), the "%" header and blank lines carry no
            // utterance label.
            if (!line.startsWith(QLatin1Char('[')))
                continue;
            const int lineNumber = int(i + 1);
            const QRegularExpressionMatch m = labelLine.match(line.toString());
            if (!m.hasMatch()) {
                out.problems.append(
                    {ef.path, lineNumber,
                     QStringLiteral("cannot read the label line \"%1\" (expected \"[start - end] "
                                    "utterance emotion [V, A, D]\")")
                         .arg(line.left(80).toString())});
                continue;
            }
            const QString id = m.captured(3);
            const QString code = m.captured(4);
            const QString wavName = id + QStringLiteral(".wav");
            if (!wavs.contains(wavName)) {
                out.problems.append(
                    {ef.path, lineNumber,
                     QStringLiteral("audio file not found: %1").arg(wavDir.filePath(wavName))});
                continue;
            }
            ImportItem item;
            UtteranceRecord &u = item.utterance;
            u.path = wavDir.filePath(wavName);
            u.key = id;
            u.sessionKey = ef.session;
            u.style = style;
            u.transcript = transcripts.value(id);
            u.originalLabel = code;
            u.metadata.insert(QStringLiteral("dialog"), dialog);
            u.metadata.insert(QStringLiteral("start_seconds"), m.captured(1));
            u.metadata.insert(QStringLiteral("end_seconds"), m.captured(2));
            const qsizetype lastUnderscore = id.lastIndexOf(QLatin1Char('_'));
            const QChar genderLetter = lastUnderscore >= 0 && lastUnderscore + 1 < id.size()
                                           ? id.at(lastUnderscore + 1)
                                           : QChar();
            item.gender = genderLetter == u'F'   ? Gender::Female
                          : genderLetter == u'M' ? Gender::Male
                                                 : Gender::Unknown;
            if (!genderLetter.isNull())
                item.speakerCode = id.left(5) + genderLetter;
            if (code != u"xxx")
                item.label.category = fourClass                        ? fourClassOf(code)
                                      : originalCodes().contains(code) ? code
                                                                       : QString();
            // A rating off the 1..5 scale would land outside the annotator's slider: the
            // utterance keeps its category, the line's ratings are reported and left out.
            QMap<QString, double> ratings;
            for (int r = 0; r < scales.size(); ++r) {
                const double value = m.captured(5 + r).toDouble();
                if (value >= scales.at(r).minimum && value <= scales.at(r).maximum)
                    ratings.insert(scales.at(r).name, value);
            }
            if (ratings.size() == scales.size()) {
                item.label.dimensions = ratings;
            } else {
                out.problems.append(
                    {ef.path, lineNumber,
                     QStringLiteral("the ratings of %1 are not all on the 1..5 scale; they are "
                                    "not imported")
                         .arg(id)});
            }
            out.items.append(item);
        }
    }
    scanProgress.check(1, QStringLiteral("Read %1 IEMOCAP utterances").arg(out.items.size()));
    return out;
}

} // namespace emolens
