// Exporters: an imported corpus written as csv, jsonl, Praat TextGrid, ELAN eaf and Audacity
// labels. The csv imports back with the generic importer to the same labels, speakers and
// genders; the per-utterance formats give every utterance (unlabeled ones too) a file that
// parses and spans the clip; an output path that cannot be written gives a clear error.

#include "TestPaths.h"
#include "corpus/CorpusExporter.h"
#include "corpus/CorpusImporter.h"
#include "jobs/ExportJob.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>
#include <QXmlStreamReader>

using namespace emolens;

namespace {

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Imports a generated layout into a new workspace file; returns false on failure.
bool importInto(const QString &layout, const QString &database, const QString &format = QString())
{
    ImportRequest request;
    request.rootPath = layout;
    request.databasePath = database;
    request.format = format;
    SilentProgress progress;
    ImportReport report;
    const Status st = CorpusImporter::run(request, progress, &report);
    if (!st)
        qWarning("import of %s failed: %s", qPrintable(layout), qPrintable(st.error()));
    return st.ok();
}

class CancelAtOnce final : public ProgressSink
{
public:
    void setProgress(double, const QString &) override {}
    bool isCancelled() const override { return true; }
};

} // namespace

class TestExporters : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_database;
    QList<UtteranceRow> m_rows;          // what the store shows, for comparison
    QList<UtteranceRecord> m_utterances; // with transcripts and durations

    const UtteranceRecord *utteranceByKey(const QString &key) const
    {
        for (const UtteranceRecord &u : m_utterances)
            if (u.key == key)
                return &u;
        return nullptr;
    }
    const UtteranceRow *rowByKey(const QString &key) const
    {
        for (const UtteranceRow &r : m_rows)
            if (r.key == key)
                return &r;
        return nullptr;
    }
    Status exportAs(const QString &format, const QString &outPath, int *count = nullptr)
    {
        Database db(m_database);
        if (auto st = db.open(); !st)
            return st;
        SilentProgress progress;
        return CorpusExporter::run(db, {format, outPath, 0}, progress, count);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(QFileInfo::exists(test::corpus(QStringLiteral("iemocap"))),
                 "the generated corpora are missing; run the make_test_corpora test first");
        QVERIFY(m_dir.isValid());
        m_database = m_dir.filePath(QStringLiteral("workspace.emolens"));
        // IEMOCAP: transcripts, V/A/D, sessions, styles and two unlabeled turns.
        QVERIFY(importInto(test::corpus(QStringLiteral("iemocap")), m_database));
        Database db(m_database);
        QVERIFY(db.open());
        m_rows = CorpusRepository(db).utteranceRows();
        m_utterances = CorpusRepository(db).utterances();
        QCOMPARE(m_rows.size(), 48);
        int unlabeled = 0;
        for (const UtteranceRow &r : m_rows)
            unlabeled += r.label.isEmpty();
        QCOMPARE(unlabeled, 2);
    }

    void formatsAreListed()
    {
        QCOMPARE(CorpusExporter::formats(),
                 (QStringList{"csv", "jsonl", "textgrid", "eaf", "audacity"}));
        Database db(m_database);
        QVERIFY(db.open());
        SilentProgress progress;
        const Status st = CorpusExporter::run(
            db, {QStringLiteral("xlsx"), m_dir.filePath(QStringLiteral("x")), 0}, progress);
        QVERIFY(!st.ok());
        QVERIFY2(st.error().contains(QLatin1String("xlsx")), qPrintable(st.error()));
    }

    void csvRoundTripsThroughTheGenericImporter()
    {
        const QString folder = m_dir.filePath(QStringLiteral("csv-export"));
        const QString csv = QDir(folder).filePath(QStringLiteral("utterances.csv"));
        int count = 0;
        const Status st = exportAs(QStringLiteral("csv"), csv, &count);
        QVERIFY2(st.ok(), qPrintable(st.error()));
        QCOMPARE(count, 48);
        const QList<QByteArray> lines = readAll(csv).split('\n');
        QVERIFY(lines.first().startsWith("key,path,label,speaker,gender,duration,corpus"));
        for (const char *column : {"original_label", "session", "style", "transcript", "valence",
                                   "arousal", "dominance"})
            QVERIFY2(lines.first().contains(column), column);

        const QString roundTrip = m_dir.filePath(QStringLiteral("round-trip.emolens"));
        QVERIFY(importInto(folder, roundTrip, QStringLiteral("generic")));
        Database db(roundTrip);
        QVERIFY(db.open());
        const QList<UtteranceRow> back = CorpusRepository(db).utteranceRows();
        QCOMPARE(back.size(), m_rows.size());
        QHash<QString, UtteranceRow> byPath;
        for (const UtteranceRow &r : back)
            byPath.insert(r.path, r);
        for (const UtteranceRow &original : m_rows) {
            QVERIFY2(byPath.contains(original.path), qPrintable(original.path));
            const UtteranceRow &r = byPath.value(original.path);
            QCOMPARE(r.label, original.label);
            QCOMPARE(r.speakerCode, original.speakerCode);
            QCOMPARE(r.gender, original.gender);
            QCOMPARE(r.durationSeconds, original.durationSeconds);
        }
        // The richer columns come back too.
        for (const UtteranceRecord &u : CorpusRepository(db).utterances()) {
            const UtteranceRecord *original = nullptr;
            for (const UtteranceRecord &o : m_utterances)
                if (o.path == u.path)
                    original = &o;
            QVERIFY(original);
            QCOMPARE(u.originalLabel, original->originalLabel);
            QCOMPARE(u.sessionKey, original->sessionKey);
            QCOMPARE(u.style, original->style);
            QCOMPARE(u.transcript, original->transcript);
        }
    }

    void jsonlLinesCarryTheFields()
    {
        const QString path = m_dir.filePath(QStringLiteral("export.jsonl"));
        QVERIFY(exportAs(QStringLiteral("jsonl"), path).ok());
        QList<QByteArray> lines = readAll(path).split('\n');
        QVERIFY(lines.last().isEmpty());
        lines.removeLast();
        QCOMPARE(lines.size(), 48);
        for (const QByteArray &line : lines) {
            QJsonParseError error;
            const QJsonObject o = QJsonDocument::fromJson(line, &error).object();
            QCOMPARE(error.error, QJsonParseError::NoError);
            for (const char *field : {"key", "path", "label", "speaker", "gender", "duration",
                                      "dataset", "sample_rate", "channel"})
                QVERIFY2(o.contains(QLatin1String(field)), field);
            const UtteranceRow *row = rowByKey(o.value(QLatin1String("key")).toString());
            QVERIFY(row);
            QCOMPARE(o.value(QLatin1String("label")).toString(), row->label);
            QCOMPARE(o.value(QLatin1String("speaker")).toString(), row->speakerCode);
            QCOMPARE(o.value(QLatin1String("gender")).toString(), genderName(row->gender));
            QCOMPARE(o.value(QLatin1String("path")).toString(), row->path);
            QCOMPARE(o.value(QLatin1String("dataset")).toString(), QStringLiteral("iemocap"));
            QCOMPARE(o.value(QLatin1String("duration")).toDouble(), row->durationSeconds);
            QCOMPARE(o.value(QLatin1String("sample_rate")).toInt(), 16000);
            QCOMPARE(o.value(QLatin1String("channel")).toInt(), 1);
            QVERIFY(o.value(QLatin1String("valence")).isDouble());
        }
    }

    void textGridPerUtterance()
    {
        const QString folder = m_dir.filePath(QStringLiteral("textgrid"));
        int count = 0;
        QVERIFY(exportAs(QStringLiteral("textgrid"), folder, &count).ok());
        QCOMPARE(count, 48);
        static const QRegularExpression xmax(QStringLiteral("^\\s*xmax = ([0-9.eE+-]+)\\s*$"),
                                             QRegularExpression::MultilineOption);
        static const QRegularExpression text(QStringLiteral("^\\s*text = \"(.*)\"\\s*$"),
                                             QRegularExpression::MultilineOption);
        static const QRegularExpression name(QStringLiteral("^\\s*name = \"(.*)\"\\s*$"),
                                             QRegularExpression::MultilineOption);
        for (const UtteranceRow &row : m_rows) {
            const QString file = QDir(folder).filePath(row.key + QStringLiteral(".TextGrid"));
            const QString content = QString::fromUtf8(readAll(file));
            QVERIFY2(content.startsWith(QLatin1String("File type = \"ooTextFile\"\nObject class = "
                                                      "\"TextGrid\"")),
                     qPrintable(file));
            auto maxima = xmax.globalMatch(content);
            int seen = 0;
            while (maxima.hasNext()) {
                QVERIFY(qAbs(maxima.next().captured(1).toDouble() - row.durationSeconds) < 1e-9);
                ++seen;
            }
            const UtteranceRecord *u = utteranceByKey(row.key);
            QVERIFY(u);
            const bool hasTranscript = !u->transcript.isEmpty();
            // File, then per tier the tier and its one interval.
            QCOMPARE(seen, 1 + 2 * (hasTranscript ? 2 : 1));
            QStringList tiers, texts;
            for (auto it = name.globalMatch(content); it.hasNext();)
                tiers << it.next().captured(1);
            for (auto it = text.globalMatch(content); it.hasNext();)
                texts << it.next().captured(1).replace(QLatin1String("\"\""), QLatin1String("\""));
            QCOMPARE(tiers.value(0), QStringLiteral("emotion"));
            QCOMPARE(texts.value(0), row.label);
            if (hasTranscript) {
                QCOMPARE(tiers.value(1), QStringLiteral("transcript"));
                QCOMPARE(texts.value(1), u->transcript);
            }
        }
    }

    void eafPerUtterance()
    {
        const QString folder = m_dir.filePath(QStringLiteral("eaf"));
        QVERIFY(exportAs(QStringLiteral("eaf"), folder).ok());
        for (const UtteranceRow &row : m_rows) {
            const QString file = QDir(folder).filePath(row.key + QStringLiteral(".eaf"));
            QXmlStreamReader xml(readAll(file));
            QString mediaUrl, tier, emotion, rootFormat;
            QMap<QString, qint64> slots;
            while (!xml.atEnd()) {
                xml.readNext();
                if (!xml.isStartElement())
                    continue;
                const auto a = xml.attributes();
                if (xml.name() == u"ANNOTATION_DOCUMENT")
                    rootFormat = a.value(QLatin1String("FORMAT")).toString();
                else if (xml.name() == u"MEDIA_DESCRIPTOR")
                    mediaUrl = a.value(QLatin1String("MEDIA_URL")).toString();
                else if (xml.name() == u"TIME_SLOT")
                    slots.insert(a.value(QLatin1String("TIME_SLOT_ID")).toString(),
                                 a.value(QLatin1String("TIME_VALUE")).toLongLong());
                else if (xml.name() == u"TIER")
                    tier = a.value(QLatin1String("TIER_ID")).toString();
                else if (xml.name() == u"ANNOTATION_VALUE" && tier == u"emotion")
                    emotion = xml.readElementText();
            }
            QVERIFY2(!xml.hasError(), qPrintable(file + QStringLiteral(": ") + xml.errorString()));
            QCOMPARE(rootFormat, QStringLiteral("3.0"));
            QCOMPARE(QUrl(mediaUrl).toLocalFile(), row.path);
            QCOMPARE(slots.size(), 2);
            QCOMPARE(slots.value(QStringLiteral("ts1")), 0);
            QCOMPARE(slots.value(QStringLiteral("ts2")), qRound64(row.durationSeconds * 1000));
            QCOMPARE(emotion, row.label);
        }
    }

    void audacityLabelsPerUtterance()
    {
        const QString folder = m_dir.filePath(QStringLiteral("audacity"));
        QVERIFY(exportAs(QStringLiteral("audacity"), folder).ok());
        for (const UtteranceRow &row : m_rows) {
            const QString content =
                QString::fromUtf8(readAll(QDir(folder).filePath(row.key + QStringLiteral(".txt"))));
            QCOMPARE(content, QStringLiteral("0.000000\t%1\t%2\n")
                                  .arg(row.durationSeconds, 0, 'f', 6)
                                  .arg(row.label));
        }
    }

    void unwritableOutputGivesAClearError_data()
    {
        QTest::addColumn<QString>("format");
        QTest::newRow("csv") << "csv";
        QTest::newRow("jsonl") << "jsonl";
        QTest::newRow("textgrid") << "textgrid";
        QTest::newRow("eaf") << "eaf";
        QTest::newRow("audacity") << "audacity";
    }
    void unwritableOutputGivesAClearError()
    {
        QFETCH(QString, format);
        // A plain file where a folder would have to be: unwritable even for root.
        const QString blocker = m_dir.filePath(QStringLiteral("blocker"));
        QFile f(blocker);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        const QString outPath = blocker + QStringLiteral("/out");
        const Status st = exportAs(format, outPath);
        QVERIFY(!st.ok());
        QVERIFY2(st.error().contains(blocker), qPrintable(st.error()));
        QVERIFY2(st.error().startsWith(QLatin1String("cannot")), qPrintable(st.error()));
    }

    void cancelledCsvWritesNothing()
    {
        const QString path = m_dir.filePath(QStringLiteral("cancelled.csv"));
        Database db(m_database);
        QVERIFY(db.open());
        CancelAtOnce cancel;
        int count = -1;
        const Status st = CorpusExporter::run(db, {QStringLiteral("csv"), path, 0}, cancel, &count);
        QVERIFY(!st.ok());
        QVERIFY(st.error().contains(QLatin1String("cancelled")));
        QCOMPARE(count, 0);
        QVERIFY(!QFileInfo::exists(path));
    }

    void exportJobReportsWhatItWrote()
    {
        // Give two clips a person's label, so the report has every kind of row.
        {
            Database db(m_database);
            QVERIFY(db.open());
            LabelRepository labels(db);
            const qint64 schema = CorpusRepository(db).corpora().first().labelSchemaId;
            for (int i = 0; i < 2; ++i)
                QVERIFY(labels.setLabel(m_rows[i].id, schema, QStringLiteral("Ada"),
                                        LabelValue::ofCategory(QStringLiteral("sad"))));
        }
        const QString path = m_dir.filePath(QStringLiteral("job/labels.csv"));
        ExportJob job({m_database, {QStringLiteral("csv"), path, 0}});
        QCOMPARE(job.name(), QStringLiteral("Export csv"));
        SilentProgress progress;
        const JobResult result = runJob(job, progress);
        QVERIFY2(result.ok(), qPrintable(result.summary));
        const ExportReport &r = job.report();
        QCOMPARE(r.utterances, 48);
        QCOMPARE(r.corpora, 1);
        QCOMPARE(r.unlabeled, 2 - int(m_rows[0].label.isEmpty()) - int(m_rows[1].label.isEmpty()));
        QCOMPARE(r.labeledByPeople, 2);
        QCOMPARE(r.corpusLabels, 48 - r.unlabeled - 2);
        QCOMPARE(readAll(path).count('\n'), 49); // the header and one row per clip
        QVERIFY2(result.summary.contains(QDir::toNativeSeparators(path)),
                 qPrintable(result.summary));
        QVERIFY2(result.summary.contains(QLatin1String("2 labeled by people")),
                 qPrintable(result.summary));

        // Cancelled: an existing file stays as it was.
        const QByteArray before = readAll(path);
        CancelAtOnce cancel;
        ExportJob again({m_database, {QStringLiteral("csv"), path, 0}});
        const JobResult cancelled = runJob(again, cancel);
        QCOMPARE(cancelled.outcome, JobOutcome::Cancelled);
        QCOMPARE(readAll(path), before);
    }

    void unknownCorpusIsAnError()
    {
        Database db(m_database);
        QVERIFY(db.open());
        SilentProgress progress;
        const Status st = CorpusExporter::run(
            db, {QStringLiteral("csv"), m_dir.filePath(QStringLiteral("none.csv")), 999}, progress);
        QVERIFY(!st.ok());
        QVERIFY2(st.error().contains(QLatin1String("999")), qPrintable(st.error()));
    }
};

QTEST_GUILESS_MAIN(TestExporters)
#include "test_exporters.moc"
