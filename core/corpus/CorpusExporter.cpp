#include "corpus/CorpusExporter.h"

#include "corpus/DelimitedText.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QUrl>
#include <QXmlStreamWriter>

namespace emolens {

namespace {

// One utterance as the exchange formats see it.
struct ExportRow
{
    UtteranceRecord utterance;
    QString corpusName;
    QString speakerCode;
    Gender gender = Gender::Unknown;
    QString label;   // the label the utterance shows (LabelRepository's rule); empty when none
    QString labelBy; // the annotator who gave it
    LabelOrigin labelOrigin = LabelOrigin::None;
    QMap<QString, double> dimensions;
};

const QStringList &dimensionNames()
{
    static const QStringList names = {QStringLiteral("valence"), QStringLiteral("arousal"),
                                      QStringLiteral("dominance")};
    return names;
}

Status collectRows(Database &db, qint64 corpusId, QList<ExportRow> *rows, int *corpusCount,
                   ProgressSink &progress)
{
    CorpusRepository corpora(db);
    LabelRepository labels(db);
    QList<CorpusRecord> selected;
    if (corpusId == 0) {
        if (auto st = corpora.corpora(&selected); !st)
            return st;
    } else {
        const auto one = corpora.corpus(corpusId);
        if (!one)
            return Status::failure(
                QStringLiteral("there is no corpus with id %1 in the workspace").arg(corpusId));
        selected.append(*one);
    }
    *corpusCount = int(selected.size());
    for (const CorpusRecord &corpus : selected) {
        progress.setProgress(0, QStringLiteral("Reading %1 from the workspace").arg(corpus.name));
        if (progress.isCancelled())
            return Status::success();
        QHash<qint64, SpeakerRecord> speakers;
        for (const SpeakerRecord &s : corpora.speakers(corpus.id))
            speakers.insert(s.id, s);
        QHash<qint64, ShownLabel> shown;
        if (auto st = labels.shownLabels(corpus.id, &shown); !st)
            return st;
        QList<UtteranceRecord> utterances;
        if (auto st = corpora.utterances(corpus.id, &utterances); !st)
            return st;
        for (const UtteranceRecord &u : std::as_const(utterances)) {
            ExportRow row;
            row.utterance = u;
            row.corpusName = corpus.name;
            const SpeakerRecord speaker = speakers.value(u.speakerId);
            row.speakerCode = speaker.code;
            row.gender = speaker.gender;
            const ShownLabel label = shown.value(u.id);
            row.label = label.category;
            row.labelBy = label.givenBy;
            row.labelOrigin = label.origin;
            row.dimensions = label.dimensions;
            rows->append(row);
        }
    }
    return Status::success();
}

QString number(double value)
{
    return QString::number(value, 'g', 12);
}

// A file name for an utterance inside the export folder; keys may hold "/" (generic
// corpora keep their sub-folders), so the folders are created as needed.
QString perFilePath(const QDir &outDir, const ExportRow &row, bool folderPerCorpus,
                    const QString &extension)
{
    QString relative = row.utterance.key + QLatin1Char('.') + extension;
    if (folderPerCorpus) {
        QString corpus = row.corpusName;
        corpus.replace(QLatin1Char('/'), QLatin1Char('_'));
        relative = corpus + QLatin1Char('/') + relative;
    }
    return QDir::cleanPath(outDir.filePath(relative));
}

// Reports progress every 256 rows; false when the user cancelled.
bool reportRow(qsizetype row, qsizetype rowCount, ProgressSink &progress)
{
    if ((row & 255) != 0)
        return true;
    progress.setProgress(double(row) / rowCount,
                         QStringLiteral("Writing %1 of %2").arg(row + 1).arg(rowCount));
    return !progress.isCancelled();
}

Status writeCsv(const QList<ExportRow> &rows, QSaveFile &file, ProgressSink &progress)
{
    bool hasOriginal = false, hasSession = false, hasStyle = false, hasTranscript = false;
    QList<bool> hasDimension(dimensionNames().size(), false);
    for (const ExportRow &r : rows) {
        hasOriginal |= !r.utterance.originalLabel.isEmpty();
        hasSession |= !r.utterance.sessionKey.isEmpty();
        hasStyle |= r.utterance.style != SpeakingStyle::Unknown;
        hasTranscript |= !r.utterance.transcript.isEmpty();
        for (int d = 0; d < dimensionNames().size(); ++d)
            hasDimension[d] = hasDimension[d] || r.dimensions.contains(dimensionNames().at(d));
    }
    QStringList header = {
        QStringLiteral("key"),     QStringLiteral("path"),      QStringLiteral("label"),
        QStringLiteral("speaker"), QStringLiteral("gender"),    QStringLiteral("duration"),
        QStringLiteral("corpus"),  QStringLiteral("annotator"), QStringLiteral("label_origin")};
    if (hasOriginal)
        header << QStringLiteral("original_label");
    if (hasSession)
        header << QStringLiteral("session");
    if (hasStyle)
        header << QStringLiteral("style");
    if (hasTranscript)
        header << QStringLiteral("transcript");
    for (int d = 0; d < dimensionNames().size(); ++d)
        if (hasDimension[d])
            header << dimensionNames().at(d);
    file.write(delimitedLine(header).toUtf8());
    for (qsizetype i = 0; i < rows.size(); ++i) {
        if (!reportRow(i, rows.size(), progress))
            return Status::failure(QStringLiteral("export cancelled; nothing was written"));
        const ExportRow &r = rows.at(i);
        const UtteranceRecord &u = r.utterance;
        QStringList fields = {u.key,
                              u.path,
                              r.label,
                              r.speakerCode,
                              genderName(r.gender),
                              number(u.durationSeconds),
                              r.corpusName,
                              r.labelBy,
                              labelOriginName(r.labelOrigin)};
        if (hasOriginal)
            fields << u.originalLabel;
        if (hasSession)
            fields << u.sessionKey;
        if (hasStyle)
            fields << styleName(u.style);
        if (hasTranscript)
            fields << u.transcript;
        for (int d = 0; d < dimensionNames().size(); ++d)
            if (hasDimension[d])
                fields << (r.dimensions.contains(dimensionNames().at(d))
                               ? number(r.dimensions.value(dimensionNames().at(d)))
                               : QString());
        file.write(delimitedLine(fields).toUtf8());
    }
    return Status::success();
}

Status writeJsonl(const QList<ExportRow> &rows, QSaveFile &file, ProgressSink &progress)
{
    for (qsizetype i = 0; i < rows.size(); ++i) {
        if (!reportRow(i, rows.size(), progress))
            return Status::failure(QStringLiteral("export cancelled; nothing was written"));
        const ExportRow &r = rows.at(i);
        const UtteranceRecord &u = r.utterance;
        QJsonObject o;
        o.insert(QLatin1String("key"), u.key);
        o.insert(QLatin1String("path"), u.path);
        o.insert(QLatin1String("label"), r.label);
        o.insert(QLatin1String("annotator"), r.labelBy);
        o.insert(QLatin1String("label_origin"), labelOriginName(r.labelOrigin));
        o.insert(QLatin1String("speaker"), r.speakerCode);
        o.insert(QLatin1String("gender"), genderName(r.gender));
        o.insert(QLatin1String("duration"), u.durationSeconds);
        o.insert(QLatin1String("dataset"), r.corpusName);
        o.insert(QLatin1String("sample_rate"), u.sampleRate);
        o.insert(QLatin1String("channel"), u.channels);
        if (!u.originalLabel.isEmpty())
            o.insert(QLatin1String("original_label"), u.originalLabel);
        if (!u.sessionKey.isEmpty())
            o.insert(QLatin1String("session"), u.sessionKey);
        if (u.style != SpeakingStyle::Unknown)
            o.insert(QLatin1String("style"), styleName(u.style));
        if (!u.transcript.isEmpty())
            o.insert(QLatin1String("transcript"), u.transcript);
        for (auto it = r.dimensions.begin(); it != r.dimensions.end(); ++it)
            o.insert(it.key(), it.value());
        file.write(QJsonDocument(o).toJson(QJsonDocument::Compact));
        file.write("\n");
    }
    return Status::success();
}

QString praatText(const QString &text)
{
    QString out = text;
    out.replace(QLatin1Char('"'), QLatin1String("\"\""));
    return QLatin1Char('"') + out + QLatin1Char('"');
}

// Praat's long text format: one interval tier per annotation, each one interval spanning
// the clip.
QByteArray textGrid(const ExportRow &r)
{
    const QString end = number(r.utterance.durationSeconds);
    QList<std::pair<QString, QString>> tiers = {{QStringLiteral("emotion"), r.label}};
    if (!r.utterance.transcript.isEmpty())
        tiers.append({QStringLiteral("transcript"), r.utterance.transcript});
    QString out;
    out += QStringLiteral("File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\n");
    out += QStringLiteral("xmin = 0 \nxmax = %1 \ntiers? <exists> \nsize = %2 \nitem []: \n")
               .arg(end)
               .arg(tiers.size());
    for (qsizetype t = 0; t < tiers.size(); ++t) {
        out += QStringLiteral("    item [%1]:\n").arg(t + 1);
        out += QStringLiteral("        class = \"IntervalTier\" \n");
        out += QStringLiteral("        name = %1 \n").arg(praatText(tiers.at(t).first));
        out += QStringLiteral("        xmin = 0 \n        xmax = %1 \n").arg(end);
        out += QStringLiteral("        intervals: size = 1 \n");
        out += QStringLiteral("        intervals [1]:\n");
        out += QStringLiteral("            xmin = 0 \n            xmax = %1 \n").arg(end);
        out += QStringLiteral("            text = %1 \n").arg(praatText(tiers.at(t).second));
    }
    return out.toUtf8();
}

QString mimeTypeFor(const QString &path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == u"wav")
        return QStringLiteral("audio/x-wav");
    if (suffix == u"mp3")
        return QStringLiteral("audio/mpeg");
    if (suffix == u"flac")
        return QStringLiteral("audio/flac");
    if (suffix == u"ogg" || suffix == u"oga" || suffix == u"opus")
        return QStringLiteral("audio/ogg");
    return QStringLiteral("audio/*");
}

// ELAN 3.0: two time slots (0 and the clip's end), a tier per annotation.
QByteArray eaf(const ExportRow &r)
{
    QByteArray out;
    QXmlStreamWriter xml(&out);
    xml.setAutoFormatting(true);
    xml.writeStartDocument();
    xml.writeStartElement(QStringLiteral("ANNOTATION_DOCUMENT"));
    xml.writeAttribute(QStringLiteral("AUTHOR"), QStringLiteral("EmoLens"));
    xml.writeAttribute(QStringLiteral("DATE"),
                       QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    xml.writeAttribute(QStringLiteral("FORMAT"), QStringLiteral("3.0"));
    xml.writeAttribute(QStringLiteral("VERSION"), QStringLiteral("3.0"));
    xml.writeNamespace(QStringLiteral("http://www.w3.org/2001/XMLSchema-instance"),
                       QStringLiteral("xsi"));
    xml.writeAttribute(QStringLiteral("http://www.w3.org/2001/XMLSchema-instance"),
                       QStringLiteral("noNamespaceSchemaLocation"),
                       QStringLiteral("http://www.mpi.nl/tools/elan/EAFv3.0.xsd"));
    xml.writeStartElement(QStringLiteral("HEADER"));
    xml.writeAttribute(QStringLiteral("MEDIA_FILE"), QString());
    xml.writeAttribute(QStringLiteral("TIME_UNITS"), QStringLiteral("milliseconds"));
    xml.writeEmptyElement(QStringLiteral("MEDIA_DESCRIPTOR"));
    xml.writeAttribute(QStringLiteral("MEDIA_URL"),
                       QUrl::fromLocalFile(r.utterance.path).toString(QUrl::FullyEncoded));
    xml.writeAttribute(QStringLiteral("MIME_TYPE"), mimeTypeFor(r.utterance.path));
    xml.writeEndElement(); // HEADER

    xml.writeStartElement(QStringLiteral("TIME_ORDER"));
    xml.writeEmptyElement(QStringLiteral("TIME_SLOT"));
    xml.writeAttribute(QStringLiteral("TIME_SLOT_ID"), QStringLiteral("ts1"));
    xml.writeAttribute(QStringLiteral("TIME_VALUE"), QStringLiteral("0"));
    xml.writeEmptyElement(QStringLiteral("TIME_SLOT"));
    xml.writeAttribute(QStringLiteral("TIME_SLOT_ID"), QStringLiteral("ts2"));
    xml.writeAttribute(QStringLiteral("TIME_VALUE"),
                       QString::number(qRound64(r.utterance.durationSeconds * 1000)));
    xml.writeEndElement(); // TIME_ORDER

    QList<std::pair<QString, QString>> tiers = {{QStringLiteral("emotion"), r.label}};
    if (!r.utterance.transcript.isEmpty())
        tiers.append({QStringLiteral("transcript"), r.utterance.transcript});
    for (qsizetype t = 0; t < tiers.size(); ++t) {
        xml.writeStartElement(QStringLiteral("TIER"));
        xml.writeAttribute(QStringLiteral("LINGUISTIC_TYPE_REF"), QStringLiteral("default-lt"));
        xml.writeAttribute(QStringLiteral("TIER_ID"), tiers.at(t).first);
        xml.writeStartElement(QStringLiteral("ANNOTATION"));
        xml.writeStartElement(QStringLiteral("ALIGNABLE_ANNOTATION"));
        xml.writeAttribute(QStringLiteral("ANNOTATION_ID"), QStringLiteral("a%1").arg(t + 1));
        xml.writeAttribute(QStringLiteral("TIME_SLOT_REF1"), QStringLiteral("ts1"));
        xml.writeAttribute(QStringLiteral("TIME_SLOT_REF2"), QStringLiteral("ts2"));
        xml.writeTextElement(QStringLiteral("ANNOTATION_VALUE"), tiers.at(t).second);
        xml.writeEndElement(); // ALIGNABLE_ANNOTATION
        xml.writeEndElement(); // ANNOTATION
        xml.writeEndElement(); // TIER
    }
    xml.writeEmptyElement(QStringLiteral("LINGUISTIC_TYPE"));
    xml.writeAttribute(QStringLiteral("GRAPHIC_REFERENCES"), QStringLiteral("false"));
    xml.writeAttribute(QStringLiteral("LINGUISTIC_TYPE_ID"), QStringLiteral("default-lt"));
    xml.writeAttribute(QStringLiteral("TIME_ALIGNABLE"), QStringLiteral("true"));
    xml.writeEndElement(); // ANNOTATION_DOCUMENT
    xml.writeEndDocument();
    return out;
}

QByteArray audacityLabels(const ExportRow &r)
{
    QString label = r.label;
    label.replace(QLatin1Char('\t'), QLatin1Char(' '));
    return QStringLiteral("%1\t%2\t%3\n")
        .arg(0.0, 0, 'f', 6)
        .arg(r.utterance.durationSeconds, 0, 'f', 6)
        .arg(label)
        .toUtf8();
}

Status writeOneFile(const QString &outPath, const QByteArray &bytes)
{
    const QFileInfo info(outPath);
    if (!QDir().mkpath(info.absolutePath()))
        return Status::failure(
            QStringLiteral("cannot create the folder %1").arg(info.absolutePath()));
    QSaveFile file(outPath);
    if (!file.open(QIODevice::WriteOnly))
        return Status::failure(
            QStringLiteral("cannot write %1: %2").arg(outPath, file.errorString()));
    file.write(bytes);
    if (!file.commit())
        return Status::failure(
            QStringLiteral("cannot write %1: %2").arg(outPath, file.errorString()));
    return Status::success();
}

} // namespace

QStringList CorpusExporter::formats()
{
    return {QStringLiteral("csv"), QStringLiteral("jsonl"), QStringLiteral("textgrid"),
            QStringLiteral("eaf"), QStringLiteral("audacity")};
}

QString CorpusExporter::describeFormat(const QString &format)
{
    if (format == u"csv")
        return QStringLiteral("CSV: one row per clip, for spreadsheets, pandas and R");
    if (format == u"jsonl")
        return QStringLiteral("JSON Lines: one JSON object per clip, for scripts");
    if (format == u"textgrid")
        return QStringLiteral("Praat TextGrid: one file per clip, the label over the whole clip");
    if (format == u"eaf")
        return QStringLiteral("ELAN (.eaf): one file per clip, linked to its audio");
    if (format == u"audacity")
        return QStringLiteral("Audacity labels: one text file per clip");
    return format;
}

bool CorpusExporter::writesAFolder(const QString &format)
{
    const QString f = format.toLower();
    return f == u"textgrid" || f == u"eaf" || f == u"audacity";
}

Status CorpusExporter::run(Database &db, const ExportRequest &request, ProgressSink &progress,
                           int *exportedCount)
{
    ExportReport report;
    const Status st = run(db, request, progress, &report);
    if (exportedCount)
        *exportedCount = report.utterances;
    return st;
}

Status CorpusExporter::run(Database &db, const ExportRequest &request, ProgressSink &progress,
                           ExportReport *report)
{
    ExportReport ignored;
    if (!report)
        report = &ignored;
    *report = ExportReport();
    int *exportedCount = &report->utterances;
    const QString format = request.format.toLower();
    if (!formats().contains(format))
        return Status::failure(QStringLiteral("unknown export format \"%1\" (known: %2)")
                                   .arg(request.format, formats().join(QStringLiteral(", "))));
    if (request.outPath.isEmpty())
        return Status::failure(QStringLiteral("no output path given"));

    QList<ExportRow> rows;
    int corpusCount = 0;
    if (auto st = collectRows(db, request.corpusId, &rows, &corpusCount, progress); !st)
        return st;
    if (progress.isCancelled())
        return Status::failure(QStringLiteral("export cancelled; nothing was written"));
    report->corpora = corpusCount;
    for (const ExportRow &r : std::as_const(rows)) {
        if (r.label.isEmpty())
            ++report->unlabeled;
        else if (r.labelOrigin == LabelOrigin::Person)
            ++report->labeledByPeople;
        else
            ++report->corpusLabels;
    }

    if (format == u"csv" || format == u"jsonl") {
        const QFileInfo info(request.outPath);
        if (info.isDir())
            return Status::failure(
                QStringLiteral("cannot write %1: it is a folder, not a file").arg(request.outPath));
        if (!QDir().mkpath(info.absolutePath()))
            return Status::failure(QStringLiteral("cannot write %1: cannot create the folder %2")
                                       .arg(request.outPath, info.absolutePath()));
        QSaveFile file(request.outPath);
        if (!file.open(QIODevice::WriteOnly))
            return Status::failure(
                QStringLiteral("cannot write %1: %2").arg(request.outPath, file.errorString()));
        const Status st =
            format == u"csv" ? writeCsv(rows, file, progress) : writeJsonl(rows, file, progress);
        if (!st) {
            file.cancelWriting();
            return st;
        }
        if (!file.commit())
            return Status::failure(
                QStringLiteral("cannot write %1: %2").arg(request.outPath, file.errorString()));
        if (exportedCount)
            *exportedCount = int(rows.size());
        progress.setProgress(1, QStringLiteral("Exported %1 utterances").arg(rows.size()));
        return Status::success();
    }

    // One file per utterance.
    if (QFileInfo(request.outPath).isFile())
        return Status::failure(QStringLiteral("cannot write into %1: it is a file, not a folder")
                                   .arg(request.outPath));
    if (!QDir().mkpath(request.outPath))
        return Status::failure(QStringLiteral("cannot create the folder %1").arg(request.outPath));
    const QDir outDir(request.outPath);
    const bool folderPerCorpus = corpusCount > 1;
    const QString extension = format == u"textgrid" ? QStringLiteral("TextGrid")
                              : format == u"eaf"    ? QStringLiteral("eaf")
                                                    : QStringLiteral("txt");
    for (qsizetype i = 0; i < rows.size(); ++i) {
        if ((i & 31) == 0) {
            progress.setProgress(double(i) / rows.size(),
                                 QStringLiteral("Writing %1 of %2").arg(i + 1).arg(rows.size()));
            if (progress.isCancelled())
                return Status::failure(QStringLiteral("export cancelled after %1 of %2 files")
                                           .arg(i)
                                           .arg(rows.size()));
        }
        const ExportRow &r = rows.at(i);
        const QByteArray bytes = format == u"textgrid" ? textGrid(r)
                                 : format == u"eaf"    ? eaf(r)
                                                       : audacityLabels(r);
        if (auto st = writeOneFile(perFilePath(outDir, r, folderPerCorpus, extension), bytes); !st)
            return st;
        if (exportedCount)
            *exportedCount = int(i + 1);
    }
    progress.setProgress(1, QStringLiteral("Exported %1 utterances").arg(rows.size()));
    return Status::success();
}

} // namespace emolens
