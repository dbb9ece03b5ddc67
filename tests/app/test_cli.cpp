// emolens-cli as scripts use it: import with --json, the bad-file report, export, info,
// --help on every subcommand, and one-line errors with a non-zero status on unusable input.

#include "BlasKernels.h"
#include "CliRun.h"
#include "TestPaths.h"
#include "analysis/ModelConfusion.h"
#include "jobs/TrainJob.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "store/ModelRepository.h"
#include "store/SelectionRepository.h"
#include "store/TraceRepository.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <cmath>
#include <cstring>

namespace {

using emolens::test::CliResult;
using emolens::test::json;
using emolens::test::runCli;

// The recipes' cross-validations (seeds 000, 001, 003) run as ctest entries of their own,
// beside other heavy tests under ctest -j2 on 2 cores: one evaluate call took over 300 s
// there. Their bound is ctest's limit for the entry (1,200 s), less the setup before it.
constexpr int kRecipeRunMs = 1100000;

// Runs emolens-cli with these arguments and kills it (SIGKILL) as soon as a run of the
// workspace db has written its first checkpoint. False when the process ended first.
bool killedAtFirstCheckpoint(const QString &db, const QStringList &args)
{
    QProcess job;
    job.start(QStringLiteral(EMOLENS_CLI_PATH), args);
    if (!job.waitForStarted())
        return false;
    const QDir runs = QFileInfo(emolens::TrainJob::checkpointPath(db, 0)).absoluteDir();
    QElapsedTimer clock;
    clock.start();
    while (runs.entryList({QStringLiteral("*.checkpoint.safetensors")}).isEmpty() &&
           job.state() == QProcess::Running && clock.elapsed() < 180000)
        QTest::qWait(50);
    const bool running = job.state() == QProcess::Running;
    job.kill();
    job.waitForFinished();
    return running;
}

// The tiny HuBERT fixture's folder: 2 Transformer layers of width 32.
QString tinyHubert()
{
    return QDir(emolens::test::sourceRoot())
        .filePath(QStringLiteral("tests/models/fixtures/hubert-tiny-base"));
}

// A new workspace `name` in `dir` with the generated RAVDESS corpus (4 actors, 48 clips).
QString importedRavdess(const QTemporaryDir &dir, const QString &name)
{
    const QString db = dir.filePath(name);
    const CliResult r =
        runCli({QStringLiteral("import"), emolens::test::corpus(QStringLiteral("ravdess")),
                QStringLiteral("--db"), db});
    if (r.exitCode != 0)
        qWarning("importing ravdess into %s: %s", qPrintable(db), r.err.constData());
    return db;
}

} // namespace

class CliTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void helpOnEveryCommand()
    {
        for (const char *command :
             {"import", "export", "info", "demo", "features", "extract", "evaluate", "train",
              "models", "pretrain", "select", "simulate", "tsne", "agreement", "traces", "team"}) {
            const CliResult r = runCli({QString::fromLatin1(command), QStringLiteral("--help")});
            QCOMPARE(r.exitCode, 0);
            QVERIFY2(r.out.contains("--help") && r.out.contains("Usage"), r.out.constData());
        }
        const CliResult top = runCli({QStringLiteral("--help")});
        QCOMPARE(top.exitCode, 0);
        QVERIFY(top.out.contains("import") && top.out.contains("export"));
        QCOMPARE(runCli({QStringLiteral("frobnicate")}).exitCode, 2);
    }

    void importPrintsJsonSummary()
    {
        const QString db = m_dir.filePath(QStringLiteral("cli.emolens"));
        const CliResult r =
            runCli({QStringLiteral("import"), emolens::test::corpus(QStringLiteral("ravdess")),
                    QStringLiteral("--db"), db, QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject o = json(r);
        QCOMPARE(o[QStringLiteral("format")].toString(), QStringLiteral("ravdess"));
        QVERIFY(o[QStringLiteral("imported")].toInt() > 0);
        QCOMPARE(o[QStringLiteral("skipped")].toArray().size(), 0);
        QCOMPARE(o[QStringLiteral("speakers")].toInt(), 4);
        int labeled = 0;
        const QJsonObject labels = o[QStringLiteral("labels")].toObject();
        for (auto it = labels.begin(); it != labels.end(); ++it)
            labeled += it.value().toInt();
        QCOMPARE(labeled, o[QStringLiteral("imported")].toInt());

        // Again: nothing new.
        const CliResult again =
            runCli({QStringLiteral("import"), emolens::test::corpus(QStringLiteral("ravdess")),
                    QStringLiteral("--db"), db, QStringLiteral("--json")});
        QCOMPARE(json(again)[QStringLiteral("added")].toInt(), 0);
        QCOMPARE(json(again)[QStringLiteral("unchanged")].toInt(),
                 o[QStringLiteral("imported")].toInt());
    }

    void importReportsBadFilesAndGoesOn()
    {
        const QString db = m_dir.filePath(QStringLiteral("bad.emolens"));
        const CliResult r =
            runCli({QStringLiteral("import"), emolens::test::corpus(QStringLiteral("bad")),
                    QStringLiteral("--db"), db, QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject o = json(r);
        QCOMPARE(o[QStringLiteral("imported")].toInt(), 6);
        // Each bad file is named, by its own path or (listed but absent) in the reason given
        // for its manifest line.
        QStringList skippedPaths;
        for (const QJsonValue &v : o[QStringLiteral("skipped")].toArray()) {
            QVERIFY(!v.toObject()[QStringLiteral("reason")].toString().isEmpty());
            skippedPaths << v.toObject()[QStringLiteral("path")].toString() + QLatin1Char(' ') +
                                v.toObject()[QStringLiteral("reason")].toString();
        }
        for (const char *bad : {"empty.wav", "header-only.wav", "truncated.wav", "not-audio.wav",
                                "random.wav", "missing.wav"}) {
            bool listed = false;
            for (const QString &p : skippedPaths)
                listed = listed || p.contains(QLatin1String(bad));
            QVERIFY2(listed, bad);
        }
        // The text report names files too.
        const CliResult text =
            runCli({QStringLiteral("import"), emolens::test::corpus(QStringLiteral("bad")),
                    QStringLiteral("--db"), db});
        QCOMPARE(text.exitCode, 0);
        QVERIFY(text.out.contains("truncated.wav"));
    }

    void unusableInputFailsWithOneLine()
    {
        const QString db = m_dir.filePath(QStringLiteral("none.emolens"));
        const CliResult missing =
            runCli({QStringLiteral("import"), m_dir.filePath(QStringLiteral("no-such-folder")),
                    QStringLiteral("--db"), db});
        QCOMPARE(missing.exitCode, 1);
        QCOMPARE(missing.err.count('\n'), 1);
        QVERIFY(missing.err.contains("no-such-folder"));

        const CliResult badFormat = runCli(
            {QStringLiteral("import"), emolens::test::corpus(QStringLiteral("ravdess")),
             QStringLiteral("--db"), db, QStringLiteral("--format"), QStringLiteral("klingon")});
        QCOMPARE(badFormat.exitCode, 1);
        QVERIFY(badFormat.err.contains("klingon"));

        const CliResult noDb = runCli({QStringLiteral("info"), QStringLiteral("--db"),
                                       m_dir.filePath(QStringLiteral("absent.emolens"))});
        QCOMPARE(noDb.exitCode, 1);
        QVERIFY(noDb.err.contains("absent.emolens"));
    }

    void infoAndExport()
    {
        const QString db = m_dir.filePath(QStringLiteral("cli.emolens"));
        const CliResult info =
            runCli({QStringLiteral("info"), QStringLiteral("--db"), db, QStringLiteral("--json")});
        QCOMPARE(info.exitCode, 0);
        const QJsonArray corpora = json(info)[QStringLiteral("corpora")].toArray();
        QCOMPARE(corpora.size(), 1);
        QCOMPARE(corpora[0].toObject()[QStringLiteral("speakers")].toInt(), 4);
        QVERIFY(json(info)[QStringLiteral("annotators")].toArray().contains(
            QStringLiteral("corpus:ravdess")));

        const QString csv = m_dir.filePath(QStringLiteral("out.csv"));
        const CliResult exported = runCli({QStringLiteral("export"), QStringLiteral("--db"), db,
                                           QStringLiteral("--format"), QStringLiteral("csv"),
                                           QStringLiteral("--out"), csv});
        QVERIFY2(exported.exitCode == 0, exported.err.constData());
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const int lines = f.readAll().count('\n');
        QCOMPARE(lines, corpora[0].toObject()[QStringLiteral("utterances")].toInt() + 1);

        const QString tg = m_dir.filePath(QStringLiteral("textgrids"));
        QCOMPARE(runCli({QStringLiteral("export"), QStringLiteral("--db"), db,
                         QStringLiteral("--format"), QStringLiteral("textgrid"),
                         QStringLiteral("--out"), tg})
                     .exitCode,
                 0);
        QCOMPARE(QDir(tg).entryList({QStringLiteral("*.TextGrid")}, QDir::Files).size(), lines - 1);
    }

    void agreementReportsTheTeamsFigures()
    {
        const QString db = importedRavdess(m_dir, QStringLiteral("agreement.emolens"));
        // Three people label 15 clips as Wikipedia's Krippendorff example has it (value v:
        // the label set's class v; 0: not labeled): nominal alpha 0.691.
        const int given[3][15] = {{0, 0, 0, 0, 0, 3, 4, 1, 2, 1, 1, 3, 3, 0, 3},
                                  {1, 0, 2, 1, 3, 3, 4, 3, 0, 0, 0, 0, 0, 0, 0},
                                  {0, 0, 2, 1, 3, 4, 4, 0, 2, 1, 1, 3, 3, 0, 4}};
        const QStringList people = {QStringLiteral("ann"), QStringLiteral("bob"),
                                    QStringLiteral("cy")};
        QStringList keys;
        {
            emolens::Database store(db);
            QVERIFY(store.open());
            QList<emolens::UtteranceRecord> clips = emolens::CorpusRepository(store).utterances();
            QVERIFY(clips.size() >= 15);
            emolens::LabelRepository labels(store);
            const auto schema = labels.schemaForUtterance(clips.first().id);
            QVERIFY(schema && schema->classes.size() >= 4);
            for (int c = 0; c < 3; ++c)
                for (int u = 0; u < 15; ++u)
                    if (given[c][u] > 0)
                        QVERIFY(labels.setLabel(
                            clips[u].id, schema->id, people[c],
                            emolens::LabelValue::ofCategory(schema->classes[given[c][u] - 1])));
            for (int u = 0; u < 15; ++u)
                keys << clips[u].key;
        }
        const CliResult r = runCli(
            {QStringLiteral("agreement"), QStringLiteral("--db"), db, QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject o = json(r);
        QCOMPARE(o[QStringLiteral("annotators")].toArray(), QJsonArray::fromStringList(people));
        const QJsonObject set = o[QStringLiteral("label_sets")].toArray()[0].toObject();
        QCOMPARE(set[QStringLiteral("clips")].toInt(), 12);
        QCOMPARE(qRound(set[QStringLiteral("krippendorff_alpha_nominal")].toDouble() * 1000), 691);
        QCOMPARE(set[QStringLiteral("pairs")].toArray().size(), 3);
        // Clips 5, 7 and 14 are where they disagree; 7 and 14 (no agreeing pair) come first.
        const QJsonArray disagreed = set[QStringLiteral("disagreed_clips")].toArray();
        QCOMPARE(disagreed.size(), 3);
        QCOMPARE(disagreed[2].toObject()[QStringLiteral("key")].toString(), keys[5]);

        // Text for people: the figures and the clips, by key.
        const CliResult text = runCli({QStringLiteral("agreement"), QStringLiteral("--db"), db});
        QVERIFY2(text.exitCode == 0, text.err.constData());
        QVERIFY2(text.out.contains("Krippendorff's alpha (nominal) 0.691"), text.out.constData());
        QVERIFY(text.out.contains(keys[14].toUtf8()));
        // The corpus's own labels as a fourth annotator.
        const CliResult withCorpus =
            runCli({QStringLiteral("agreement"), QStringLiteral("--db"), db,
                    QStringLiteral("--include-corpus"), QStringLiteral("--json")});
        QCOMPARE(json(withCorpus)[QStringLiteral("annotators")].toArray().size(), 4);
        // A missing workspace or corpus: one line saying which.
        const CliResult missing = runCli({QStringLiteral("agreement"), QStringLiteral("--db"),
                                          m_dir.filePath(QStringLiteral("nope.emolens"))});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY(missing.err.contains("nope.emolens: no such workspace file"));
        const CliResult noCorpus = runCli({QStringLiteral("agreement"), QStringLiteral("--db"), db,
                                           QStringLiteral("--corpus"), QStringLiteral("nope")});
        QCOMPARE(noCorpus.exitCode, 1);
        QVERIFY(noCorpus.err.contains("no corpus named \"nope\""));

        // Training on the majority's label: clip 5 (ann 3, bob 3, cy 4) shows cy's newest 4
        // but trains on 3; the ties (clips 7 and 14) keep their newest. The run records it.
        const CliResult extracted = runCli({QStringLiteral("extract"), QStringLiteral("--db"), db});
        QVERIFY2(extracted.exitCode == 0, extracted.err.constData());
        const CliResult trained = runCli(
            {QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
             QStringLiteral("baseline"), QStringLiteral("--epochs"), QStringLiteral("2"),
             QStringLiteral("--label-rule"), QStringLiteral("majority"), QStringLiteral("--json")});
        QVERIFY2(trained.exitCode == 0, trained.err.constData());
        QVERIFY2(json(trained)[QStringLiteral("notes")].toArray().contains(QStringLiteral(
                     "label rule majority: 1 clip trains on another category than the one the "
                     "views show")),
                 trained.out.constData());
        {
            emolens::Database store(db);
            QVERIFY(store.open());
            const auto runs = emolens::ModelRepository(store).runs();
            QVERIFY(!runs.isEmpty());
            const QJsonObject settings =
                QJsonDocument::fromJson(runs.first().settings.toUtf8()).object();
            QCOMPARE(settings[QStringLiteral("label_rule")].toString(), QStringLiteral("majority"));
        }
        // All labels as soft targets: the three clips people disagree on train on the shares
        // of their votes.
        const CliResult soft = runCli(
            {QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
             QStringLiteral("baseline"), QStringLiteral("--epochs"), QStringLiteral("2"),
             QStringLiteral("--label-rule"), QStringLiteral("soft"), QStringLiteral("--json")});
        QVERIFY2(soft.exitCode == 0, soft.err.constData());
        QVERIFY2(json(soft)[QStringLiteral("notes")].toArray().contains(QStringLiteral(
                     "label rule soft: 3 clips people disagree on train on the share of their "
                     "annotators' votes (the majority's category is what validation and the "
                     "scores compare with)")),
                 soft.out.constData());
        const CliResult badRule =
            runCli({QStringLiteral("train"), QStringLiteral("--db"), db,
                    QStringLiteral("--label-rule"), QStringLiteral("loudest")});
        QCOMPARE(badRule.exitCode, 1);
        QVERIFY2(badRule.err.contains("unknown label rule \"loudest\""), badRule.err.constData());
    }

    void tracesGoOutAndBackAndAgree()
    {
        const QString db = importedRavdess(m_dir, QStringLiteral("traces.emolens"));
        {
            emolens::Database store(db);
            QVERIFY(store.open());
            const QList<emolens::UtteranceRecord> clips =
                emolens::CorpusRepository(store).utterances();
            emolens::TraceRepository traces(store);
            // ann and ben trace two clips' arousal alike, ben a little lower.
            for (int c = 0; c < 2; ++c)
                for (int who = 0; who < 2; ++who) {
                    emolens::TraceRecord t;
                    t.utteranceId = clips[c].id;
                    t.annotatorName = who == 0 ? QStringLiteral("ann") : QStringLiteral("ben");
                    t.dimension = QStringLiteral("arousal");
                    for (int i = 0; i < 50; ++i)
                        t.samples.push_back(float(0.5 * std::sin(i / 8.0) - 0.1 * who));
                    QVERIFY(traces.addTrace(&t));
                }
        }
        const QString csv = m_dir.filePath(QStringLiteral("traces.csv"));
        const CliResult exported =
            runCli({QStringLiteral("traces"), QStringLiteral("--db"), db,
                    QStringLiteral("--export"), csv, QStringLiteral("--json")});
        QVERIFY2(exported.exitCode == 0, exported.err.constData());
        QCOMPARE(json(exported)[QStringLiteral("exported")].toInt(), 4);

        const QString other = importedRavdess(m_dir, QStringLiteral("traces-other.emolens"));
        const CliResult imported =
            runCli({QStringLiteral("traces"), QStringLiteral("--db"), other,
                    QStringLiteral("--import"), csv, QStringLiteral("--json")});
        QVERIFY2(imported.exitCode == 0, imported.err.constData());
        QCOMPARE(json(imported)[QStringLiteral("added")].toInt(), 4);
        QVERIFY(json(imported)[QStringLiteral("skipped")].toArray().isEmpty());
        const CliResult again = runCli({QStringLiteral("traces"), QStringLiteral("--db"), other,
                                        QStringLiteral("--import"), csv});
        QVERIFY2(again.out.contains("Imported 0 traces") &&
                     again.out.contains("(4 already in the workspace)"),
                 again.out.constData());

        // Agreement over the traces: a constant offset keeps the correlation but costs CCC.
        const CliResult agreement = runCli(
            {QStringLiteral("agreement"), QStringLiteral("--db"), other, QStringLiteral("--json")});
        QVERIFY2(agreement.exitCode == 0, agreement.err.constData());
        const QJsonArray traceFigures = json(agreement)[QStringLiteral("traces")].toArray();
        QVERIFY2(traceFigures.size() == 1, agreement.out.constData());
        const QJsonObject traces = traceFigures[0].toObject();
        QCOMPARE(traces[QStringLiteral("dimension")].toString(), QStringLiteral("arousal"));
        QCOMPARE(traces[QStringLiteral("clips")].toInt(), 2);
        const double ccc = traces[QStringLiteral("pair_ccc")].toDouble();
        QVERIFY2(ccc > 0.8 && ccc < 0.99, qPrintable(QString::number(ccc)));
        QVERIFY(std::abs(traces[QStringLiteral("cronbach_alpha")].toDouble() - 1) < 1e-6);

        // A bad line is reported with its line number; the command still succeeds.
        QFile bad(m_dir.filePath(QStringLiteral("bad-traces.csv")));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("key,annotator,dimension,time_seconds,value\nnope,cy,valence,0,0.2\n");
        bad.close();
        const CliResult skipped = runCli({QStringLiteral("traces"), QStringLiteral("--db"), other,
                                          QStringLiteral("--import"), bad.fileName()});
        QCOMPARE(skipped.exitCode, 0);
        QVERIFY2(skipped.out.contains("bad-traces.csv:2: cy's valence trace of nope: no clip"),
                 skipped.out.constData());
        const CliResult neither = runCli({QStringLiteral("traces"), QStringLiteral("--db"), other});
        QCOMPARE(neither.exitCode, 1);
        QVERIFY(neither.err.contains("--export FILE.csv or --import FILE.csv"));
    }

    void featuresWritesEveryHiddenLayer()
    {
        // Read back independently of the project's own reader: 8-byte little-endian header
        // length, JSON header, raw float32 data.
        auto header = [](const QString &path) {
            QFile f(path);
            if (!f.open(QIODevice::ReadOnly))
                return QJsonObject();
            const QByteArray bytes = f.readAll();
            quint64 length = 0;
            memcpy(&length, bytes.constData(), 8);
            const QJsonObject o = QJsonDocument::fromJson(bytes.mid(8, qsizetype(length))).object();
            const QJsonArray range = o[QStringLiteral("hidden_states")]
                                         .toObject()[QStringLiteral("data_offsets")]
                                         .toArray();
            return range.size() == 2 &&
                           quint64(bytes.size()) == 8 + length + quint64(range[1].toInteger())
                       ? o
                       : QJsonObject();
        };
        const QString clip = QDir(emolens::test::corpus(QStringLiteral("ravdess")))
                                 .filePath(QStringLiteral("Actor_01/03-01-05-01-01-01-01.wav"));
        QVERIFY(QFileInfo::exists(clip));
        const QString fbank = m_dir.filePath(QStringLiteral("fbank.safetensors"));
        const CliResult r = runCli({QStringLiteral("features"), QStringLiteral("--in"), clip,
                                    QStringLiteral("--out"), fbank});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject f = header(fbank)[QStringLiteral("hidden_states")].toObject();
        QCOMPARE(f[QStringLiteral("dtype")].toString(), QStringLiteral("F32"));
        const QJsonArray shape = f[QStringLiteral("shape")].toArray();
        QCOMPARE(shape.size(), 3);
        QCOMPARE(shape[0].toInt(), 1);  // fbank: one layer
        QCOMPARE(shape[2].toInt(), 80); // 80 mel bands
        QVERIFY(shape[1].toInt() > 40); // about 50 frames per second of audio
        // Metadata numbers are written like the feature cache writes them: shortest form, and
        // never with the process locale's decimal comma (std::to_string gave "50.000000").
        const QString fps = header(fbank)[QStringLiteral("__metadata__")]
                                .toObject()[QStringLiteral("frames_per_second")]
                                .toString();
        QCOMPARE(fps, QStringLiteral("50"));

        // A Hugging Face folder: the tiny HuBERT fixture has 2 Transformer layers of width 32.
        const QString hubert = m_dir.filePath(QStringLiteral("hubert.safetensors"));
        const CliResult h =
            runCli({QStringLiteral("features"), QStringLiteral("--encoder"), tinyHubert(),
                    QStringLiteral("--in"), clip, QStringLiteral("--out"), hubert,
                    QStringLiteral("--device"), QStringLiteral("cpu")});
        QVERIFY2(h.exitCode == 0, h.err.constData());
        const QJsonArray hs = header(hubert)[QStringLiteral("hidden_states")]
                                  .toObject()[QStringLiteral("shape")]
                                  .toArray();
        QCOMPARE(hs[0].toInt(), 3);
        QCOMPARE(hs[2].toInt(), 32);
        QVERIFY(qAbs(hs[1].toInt() - shape[1].toInt()) <= 1);

        // Unusable input: one line naming the problem, non-zero status, nothing written.
        const QString none = m_dir.filePath(QStringLiteral("none.safetensors"));
        const CliResult bad = runCli({QStringLiteral("features"), QStringLiteral("--encoder"),
                                      m_dir.filePath(QStringLiteral("no-model")),
                                      QStringLiteral("--in"), clip, QStringLiteral("--out"), none});
        QCOMPARE(bad.exitCode, 1);
        QVERIFY(bad.err.contains("config.json"));
        QVERIFY(!QFileInfo::exists(none));
    }

    void extractResumesAfterKill()
    {
        const QString db = importedRavdess(m_dir, QStringLiteral("extract.emolens"));
        const QString model = tinyHubert();
        const QStringList args{QStringLiteral("extract"),
                               QStringLiteral("--db"),
                               db,
                               QStringLiteral("--encoder"),
                               model,
                               QStringLiteral("--device"),
                               QStringLiteral("cpu"),
                               QStringLiteral("--batch-seconds"),
                               QStringLiteral("4"),
                               QStringLiteral("--json")};
        const QString cache = m_dir.filePath(QStringLiteral("extract.features"));
        const auto cachedFiles = [&cache] {
            int n = 0;
            QDirIterator it(cache, {QStringLiteral("*.safetensors")}, QDir::Files,
                            QDirIterator::Subdirectories);
            while (it.hasNext()) {
                it.next();
                ++n;
            }
            return n;
        };

        // Kill the job (SIGKILL, no chance to clean up) once it has written a few clips.
        QProcess job;
        job.start(QStringLiteral(EMOLENS_CLI_PATH), args);
        QVERIFY(job.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(cachedFiles() >= 3 || job.state() == QProcess::NotRunning, 120000);
        QVERIFY2(job.state() == QProcess::Running, "the job finished before it could be killed");
        job.kill();
        QVERIFY(job.waitForFinished());
        const int survived = cachedFiles();
        QVERIFY(survived >= 3);

        // The rerun keeps every finished clip and does only the rest.
        const CliResult rest = runCli(args);
        QVERIFY2(rest.exitCode == 0, rest.err.constData());
        const QJsonObject r = json(rest);
        const int requested = r[QStringLiteral("requested")].toInt();
        QVERIFY(requested > survived);
        QVERIFY2(r[QStringLiteral("already_done")].toInt() >= survived, rest.out.constData());
        QCOMPARE(r[QStringLiteral("already_done")].toInt() + r[QStringLiteral("extracted")].toInt(),
                 requested);
        QVERIFY(r[QStringLiteral("failed")].toArray().isEmpty());
        QCOMPARE(cachedFiles(), requested);

        const QJsonObject again = json(runCli(args));
        QCOMPARE(again[QStringLiteral("extracted")].toInt(), 0);
        QCOMPARE(again[QStringLiteral("already_done")].toInt(), requested);

        // The workspace was not damaged by the kill, and info lists the encoder as complete.
        const CliResult info =
            runCli({QStringLiteral("info"), QStringLiteral("--db"), db, QStringLiteral("--json")});
        QCOMPARE(info.exitCode, 0);
        const QJsonArray encoders = json(info)[QStringLiteral("encoders")].toArray();
        QCOMPARE(encoders.size(), 1);
        const QJsonObject hubert = encoders.first().toObject();
        QCOMPARE(hubert[QStringLiteral("name")].toString(), QStringLiteral("hubert-tiny-base"));
        QCOMPARE(hubert[QStringLiteral("type")].toString(), QStringLiteral("hubert"));
        QCOMPARE(hubert[QStringLiteral("extracted")].toInt(), requested);
        QCOMPARE(json(info)[QStringLiteral("utterances")].toInt(), requested);
    }

    void runsTheBlasKernelsOfThisCpu()
    {
        // OpenBLAS says which kernels it loads; the program starts again with better ones when
        // OpenBLAS chose generic kernels for a CPU that has AVX2 or AVX-512, and on OpenBLAS's
        // OpenMP build when Debian's default pthread build was loaded and the other is there.
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const char *name : {"OPENBLAS_CORETYPE", "EMOLENS_BLAS_CHOSEN", "LD_LIBRARY_PATH"})
            env.remove(QString::fromLatin1(name));
        env.insert(QStringLiteral("OPENBLAS_VERBOSE"), QStringLiteral("2"));
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(EMOLENS_CLI_PATH), {QStringLiteral("--version")});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        const QString output =
            QString::fromLocal8Bit(p.readAllStandardOutput() + p.readAllStandardError());
        QStringList cores;
        QString blasLine;
        for (const QString &line : output.split(u'\n')) {
            if (line.startsWith(QLatin1String("Core: ")))
                cores << line.mid(6).trimmed();
            if (line.startsWith(QLatin1String("BLAS: ")))
                blasLine = line.trimmed();
        }
        if (cores.isEmpty())
            QSKIP("the BLAS is not OpenBLAS here (it prints no core)");
        const QString best = QString::fromStdString(emolens::bestBlasCoreForThisCpu());
        qInfo("OpenBLAS kernels: %s; best for this CPU: %s; %s", qPrintable(cores.join(" -> ")),
              qPrintable(best.isEmpty() ? QStringLiteral("(no AVX2)") : best),
              qPrintable(blasLine));
        QVERIFY2(cores.size() <= 2, qPrintable(output)); // started again at most once
        const QString first = cores.first().toLower();
        const QStringList good = {"skylakex", "cooperlake", "sapphirerapids", "zen", "haswell"};
        if (best.isEmpty() || good.contains(first) || first == best.toLower())
            QCOMPARE(cores.last().toLower(), first); // kernels as good as ours are kept
        else
            QCOMPARE(cores.last().toLower(), best.toLower());
        // The threads: never the pthread build while Debian's OpenMP build is installed beside
        // it (a BLAS of some other origin is left as it is).
        QVERIFY2(blasLine.startsWith(QLatin1String("BLAS: OpenBLAS, ")), qPrintable(output));
        bool openmpThere = false;
        for (const QString &arch : QDir(QStringLiteral("/usr/lib")).entryList(QDir::Dirs))
            openmpThere = openmpThere || QFileInfo::exists(QStringLiteral("/usr/lib/") + arch +
                                                           QStringLiteral("/openblas-openmp/"
                                                                          "libopenblas.so.0"));
        if (openmpThere && blasLine.endsWith(QLatin1String("pthread threads")))
            QFAIL(qPrintable(QStringLiteral("the pthread build ran although the OpenMP build is "
                                            "installed: ") +
                             blasLine));
    }

    void evaluateOfficialFoldsUseTheCorpusPartition()
    {
        // MSP-Podcast's Split_Set: trained on Train, the epoch chosen on Development, scored on
        // Test1 (one speaker, 12 clips).
        const QString db = m_dir.filePath(QStringLiteral("official.emolens"));
        QCOMPARE(
            runCli({QStringLiteral("import"), emolens::test::corpus(QStringLiteral("msp-podcast")),
                    QStringLiteral("--db"), db})
                .exitCode,
            0);
        QCOMPARE(runCli({QStringLiteral("extract"), QStringLiteral("--db"), db}).exitCode, 0);
        const CliResult r = runCli({QStringLiteral("evaluate"), QStringLiteral("--db"), db,
                                    QStringLiteral("--folds"), QStringLiteral("official"),
                                    QStringLiteral("--recipe"), QStringLiteral("baseline"),
                                    QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject o = json(r);
        QCOMPARE(o[QStringLiteral("protocol")].toString(), QStringLiteral("official"));
        const QJsonArray folds = o[QStringLiteral("folds")].toArray();
        QCOMPARE(folds.size(), 1);
        const QJsonObject fold = folds.first().toObject();
        QCOMPARE(fold[QStringLiteral("n")].toInt(), 12);
        QCOMPARE(o[QStringLiteral("n")].toInt(), 12);
        QVERIFY2(QJsonDocument(fold).toJson().contains("1066"), QJsonDocument(fold).toJson());

        // A corpus without a partition: the error says so and what to use instead.
        const QString plain = m_dir.filePath(QStringLiteral("no-partition.emolens"));
        QCOMPARE(
            runCli({QStringLiteral("import"), emolens::test::corpus(QStringLiteral("generic-csv")),
                    QStringLiteral("--db"), plain})
                .exitCode,
            0);
        QCOMPARE(runCli({QStringLiteral("extract"), QStringLiteral("--db"), plain}).exitCode, 0);
        const CliResult none = runCli({QStringLiteral("evaluate"), QStringLiteral("--db"), plain,
                                       QStringLiteral("--folds"), QStringLiteral("official")});
        QCOMPARE(none.exitCode, 1);
        QVERIFY2(none.err.contains("defines no partition"), none.err.constData());
    }

    void evaluateSeed001RecipeLearnsGenderThenPseudoLabels()
    {
        if (qEnvironmentVariableIsSet("EMOLENS_CLI_TEST_SKIP_RECIPES"))
            QSKIP("ctest runs this one as app_test_cli_seed001, beside the rest");
        // Seed 001 (GMP-ATL, one-click form) on the demo corpus, shortened: each fold's step 1
        // learns the speakers' gender beside emotion, step 3 the frame pseudo-labels of the
        // three scales, and step 4 ends well above chance (0.25) on held-out speakers.
        const QString demo = m_dir.filePath(QStringLiteral("demo001"));
        const QString db = m_dir.filePath(QStringLiteral("seed001.emolens"));
        QCOMPARE(runCli({QStringLiteral("demo"), QStringLiteral("--out"), demo}).exitCode, 0);
        QCOMPARE(runCli({QStringLiteral("import"), demo, QStringLiteral("--db"), db}).exitCode, 0);
        QCOMPARE(runCli({QStringLiteral("extract"), QStringLiteral("--db"), db}).exitCode, 0);
        const CliResult seed001 =
            runCli({QStringLiteral("evaluate"), QStringLiteral("--db"), db,
                    QStringLiteral("--recipe"), QStringLiteral("gmp-atl"), QStringLiteral("--k"),
                    QStringLiteral("3"), QStringLiteral("--gmp-epochs"), QStringLiteral("4"),
                    QStringLiteral("--epochs"), QStringLiteral("12"), QStringLiteral("--json")},
                   kRecipeRunMs);
        QVERIFY2(seed001.exitCode == 0, seed001.err.constData());
        const QJsonObject e = json(seed001);
        const QString settings = e[QStringLiteral("settings")].toString();
        QVERIFY2(settings.contains(u"gmp-atl multitask=4 scales=64/128/256"), qPrintable(settings));
        const double ua = e[QStringLiteral("ua")].toDouble();
        qInfo("gmp-atl, 3 speaker folds: UA %.3f", ua);
        QVERIFY2(ua > 0.4, qPrintable(QString::number(ua)));
        for (const QJsonValue &f : e[QStringLiteral("folds")].toArray()) {
            const QJsonArray steps = f.toObject()[QStringLiteral("gmp_atl")].toArray();
            QCOMPARE(steps.size(), 8);
            QCOMPARE(steps.first().toObject()[QStringLiteral("step")].toInt(), 1);
            QCOMPARE(steps.last().toObject()[QStringLiteral("step")].toInt(), 3);
            // Gender from the voices (chance 0.5; two training speakers of each gender at
            // most), and the pseudo-labels well above chance (1/64, 1/128, 1/256).
            const double gender =
                steps[3].toObject()[QStringLiteral("auxiliary_accuracy")].toDouble();
            const double pseudo =
                steps[7].toObject()[QStringLiteral("auxiliary_accuracy")].toDouble();
            qInfo("fold %d: gender %.3f, pseudo-labels %.3f",
                  f.toObject()[QStringLiteral("fold")].toInt(), gender, pseudo);
            QVERIFY2(gender > 0.8, qPrintable(QString::number(gender)));
            QVERIFY2(pseudo > 0.1, qPrintable(QString::number(pseudo)));
            QVERIFY(steps[7].toObject()[QStringLiteral("auxiliary_loss")].toDouble() <
                    steps[4].toObject()[QStringLiteral("auxiliary_loss")].toDouble());
        }
        // Another recipe refuses GMP-ATL's epochs, saying which recipe has them.
        const CliResult refused = runCli({QStringLiteral("train"), QStringLiteral("--db"), db,
                                          QStringLiteral("--recipe"), QStringLiteral("wap-sap"),
                                          QStringLiteral("--gmp-epochs"), QStringLiteral("3")});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains("gmp-atl"), refused.err.constData());
    }

    void evaluateSeed003RecipeLearnsItsAuxiliaryTasks()
    {
        if (qEnvironmentVariableIsSet("EMOLENS_CLI_TEST_SKIP_RECIPES"))
            QSKIP("ctest runs this one as app_test_cli_seed003, beside the rest");
        // Seed 003 (ARI + co-attention, one-click form) on the demo corpus, shortened: the
        // corpus has speakers with a gender and transcripts but no speaking style, so the
        // style task is dropped with a note; stage 1 learns the gender, the speakers and the
        // characters; stage 2 scores the held-out speakers.
        const QString demo = m_dir.filePath(QStringLiteral("demo003"));
        const QString db = m_dir.filePath(QStringLiteral("seed003.emolens"));
        QCOMPARE(runCli({QStringLiteral("demo"), QStringLiteral("--out"), demo}).exitCode, 0);
        QCOMPARE(runCli({QStringLiteral("import"), demo, QStringLiteral("--db"), db}).exitCode, 0);
        QCOMPARE(runCli({QStringLiteral("extract"), QStringLiteral("--db"), db}).exitCode, 0);
        const CliResult seed003 = runCli(
            {QStringLiteral("evaluate"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
             QStringLiteral("ari-coattention"), QStringLiteral("--k"), QStringLiteral("3"),
             QStringLiteral("--auxiliary-epochs"), QStringLiteral("4"), QStringLiteral("--epochs"),
             QStringLiteral("12"), QStringLiteral("--json")},
            kRecipeRunMs);
        QVERIFY2(seed003.exitCode == 0, seed003.err.constData());
        const QJsonObject e = json(seed003);
        const QString settings = e[QStringLiteral("settings")].toString();
        QVERIFY2(settings.contains(u"layers=ari") && settings.contains(u"pool=coattention") &&
                     settings.contains(u"gender=2 speakers=6 styles=0 characters=") &&
                     settings.contains(u"ari-coattention stage1=4"),
                 qPrintable(settings));
        const QJsonArray notes = e[QStringLiteral("notes")].toArray();
        QCOMPARE(notes.size(), 1);
        QVERIFY2(notes.first().toString().contains(u"speaking-style task is dropped"),
                 qPrintable(notes.first().toString()));
        // Emotion is scored, but this short run on 4 training speakers is not asked to beat
        // chance widely: the speaker task pulls the features towards the few training voices
        // (docs/user-guide.md gives the full recipe's figures with and without it).
        const double ua = e[QStringLiteral("ua")].toDouble();
        qInfo("ari-coattention, 3 speaker folds: UA %.3f", ua);
        QVERIFY(e[QStringLiteral("folds")].toArray().size() == 3);
        for (const QJsonValue &f : e[QStringLiteral("folds")].toArray()) {
            const QJsonArray stage = f.toObject()[QStringLiteral("ari_stage1")].toArray();
            QCOMPARE(stage.size(), 4);
            const QJsonObject first = stage.first().toObject();
            const QJsonObject last = stage.last().toObject();
            const double gender = last[QStringLiteral("gender_accuracy")].toDouble();
            qInfo("fold %d: gender %.3f, speaker %.3f, CTC loss %.3f -> %.3f",
                  f.toObject()[QStringLiteral("fold")].toInt(), gender,
                  last[QStringLiteral("speaker_accuracy")].toDouble(),
                  first[QStringLiteral("ctc_loss")].toDouble(),
                  last[QStringLiteral("ctc_loss")].toDouble());
            // Chance: 0.5 for the gender; the loss of the speakers and the characters falls.
            QVERIFY2(gender > 0.6, qPrintable(QString::number(gender)));
            QVERIFY(last[QStringLiteral("speaker_loss")].toDouble() <
                    first[QStringLiteral("speaker_loss")].toDouble());
            QVERIFY(last[QStringLiteral("ctc_loss")].toDouble() <
                    0.7 * first[QStringLiteral("ctc_loss")].toDouble());
            QCOMPARE(last[QStringLiteral("style_loss")].toDouble(), 0.0);
        }
        // Tasks are chosen by name; an unknown one and another recipe are refused by name.
        const CliResult unknown =
            runCli({QStringLiteral("evaluate"), QStringLiteral("--db"), db,
                    QStringLiteral("--recipe"), QStringLiteral("ari-coattention"),
                    QStringLiteral("--auxiliary-tasks"), QStringLiteral("gender,pitch")});
        QCOMPARE(unknown.exitCode, 1);
        QVERIFY2(unknown.err.contains("\"pitch\"") && unknown.err.contains("characters"),
                 unknown.err.constData());
        const CliResult other = runCli({QStringLiteral("train"), QStringLiteral("--db"), db,
                                        QStringLiteral("--recipe"), QStringLiteral("wap-sap"),
                                        QStringLiteral("--auxiliary-epochs"), QStringLiteral("3")});
        QCOMPARE(other.exitCode, 1);
        QVERIFY2(other.err.contains("ari-coattention"), other.err.constData());

        // ARI frozen in stage 1 (the paper's remedy for few tasks): recorded with the run;
        // refused for a recipe without ARI and for a run without stage 1.
        const CliResult frozen =
            runCli({QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
                    QStringLiteral("ari-coattention"), QStringLiteral("--freeze-ari"),
                    QStringLiteral("--auxiliary-epochs"), QStringLiteral("1"),
                    QStringLiteral("--epochs"), QStringLiteral("1"), QStringLiteral("--json")});
        QVERIFY2(frozen.exitCode == 0, frozen.err.constData());
        {
            emolens::Database store(db);
            QVERIFY(store.open());
            const auto run =
                emolens::ModelRepository(store).run(json(frozen)[QStringLiteral("run")].toInt());
            QVERIFY(run.has_value());
            QVERIFY2(run->settings.contains(u"freeze-ari=1") &&
                         run->settings.contains(u"\"freeze_ari\":true"),
                     qPrintable(run->settings));
        }
        const CliResult noAri =
            runCli({QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
                    QStringLiteral("wap-sap"), QStringLiteral("--freeze-ari")});
        QCOMPARE(noAri.exitCode, 1);
        QVERIFY2(noAri.err.contains("no ARI to freeze"), noAri.err.constData());
        const CliResult noStage = runCli(
            {QStringLiteral("evaluate"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
             QStringLiteral("ari-coattention"), QStringLiteral("--freeze-ari"),
             QStringLiteral("--auxiliary-epochs"), QStringLiteral("0")});
        QCOMPARE(noStage.exitCode, 1);
        QVERIFY2(noStage.err.contains("stage 1"), noStage.err.constData());
    }

    void paperModeFineTunesTheEncoderFromTheCache()
    {
        // Paper mode on features of a real (tiny) HuBERT: gmp-atl and ari-coattention fine-tune
        // its Transformer layers inside the adapter, say so in a note, record it with the run,
        // predict from the stored model, and resume after a kill; what cannot run is refused
        // with the reason.
        const QString db = importedRavdess(m_dir, QStringLiteral("paper.emolens"));
        QCOMPARE(runCli({QStringLiteral("extract"), QStringLiteral("--db"), db,
                         QStringLiteral("--encoder"), tinyHubert()})
                     .exitCode,
                 0);
        QCOMPARE(runCli({QStringLiteral("extract"), QStringLiteral("--db"), db}).exitCode, 0);
        const auto train = [&db](const QStringList &more) {
            return runCli(QStringList{QStringLiteral("train"), QStringLiteral("--db"), db,
                                      QStringLiteral("--encoder"),
                                      QStringLiteral("hubert-tiny-base"), QStringLiteral("--mode"),
                                      QStringLiteral("paper"), QStringLiteral("--json")} +
                          more);
        };
        const CliResult gmp = train({QStringLiteral("--recipe"), QStringLiteral("gmp-atl"),
                                     QStringLiteral("--gmp-epochs"), QStringLiteral("1"),
                                     QStringLiteral("--epochs"), QStringLiteral("2")});
        QVERIFY2(gmp.exitCode == 0, gmp.err.constData());
        const QJsonObject trained = json(gmp);
        const QString note = trained[QStringLiteral("notes")].toArray().first().toString();
        QVERIFY2(note.contains(u"paper mode: the encoder's Transformer layers 1-2") &&
                     note.contains(u"steps 3 and 4"),
                 qPrintable(note));
        {
            emolens::Database store(db);
            QVERIFY(store.open());
            const auto run =
                emolens::ModelRepository(store).run(trained[QStringLiteral("run")].toInt());
            QVERIFY(run.has_value());
            QVERIFY2(run->settings.contains(u"\"mode\":\"paper\"") &&
                         run->settings.contains(u"encoder-layers=1-2") &&
                         run->settings.contains(u"\"encoder_learning_rate\":1e-05"),
                     qPrintable(run->settings));
        }
        // The stored model carries its fine-tuned layers: it predicts on its own.
        const CliResult predicted =
            runCli({QStringLiteral("predict"), QStringLiteral("--db"), db,
                    QStringLiteral("--utterance"), QStringLiteral("1"), QStringLiteral("--json")});
        QVERIFY2(predicted.exitCode == 0, predicted.err.constData());
        QCOMPARE(json(predicted)[QStringLiteral("clips")].toArray().size(), 1);

        // Seed 003's stages on the encoder, killed after its first checkpoint and resumed.
        QVERIFY2(
            killedAtFirstCheckpoint(
                db, {QStringLiteral("train"), QStringLiteral("--db"), db,
                     QStringLiteral("--encoder"), QStringLiteral("hubert-tiny-base"),
                     QStringLiteral("--mode"), QStringLiteral("paper"), QStringLiteral("--recipe"),
                     QStringLiteral("ari-coattention"), QStringLiteral("--auxiliary-epochs"),
                     QStringLiteral("2"), QStringLiteral("--epochs"), QStringLiteral("3")}),
            "the run ended before it could be killed");
        const QJsonObject listed = json(runCli(
            {QStringLiteral("models"), QStringLiteral("--db"), db, QStringLiteral("--json")}));
        const int killed = listed[QStringLiteral("interrupted_runs")]
                               .toArray()
                               .first()
                               .toObject()[QStringLiteral("run")]
                               .toInt();
        const CliResult resumed =
            runCli({QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--resume"),
                    QString::number(killed), QStringLiteral("--json")});
        QVERIFY2(resumed.exitCode == 0, resumed.err.constData());
        const QString resumedNote =
            json(resumed)[QStringLiteral("notes")].toArray().last().toString();
        QVERIFY2(resumedNote.contains(u"stage 1 trains all of them, stage 2 those from layer 2"),
                 qPrintable(resumedNote));

        // Seed 001's steps keep checkpoints too: killed in step 1, listed so, resumed.
        QVERIFY2(killedAtFirstCheckpoint(db, {QStringLiteral("train"), QStringLiteral("--db"), db,
                                              QStringLiteral("--encoder"),
                                              QStringLiteral("hubert-tiny-base"),
                                              QStringLiteral("--mode"), QStringLiteral("paper"),
                                              QStringLiteral("--recipe"), QStringLiteral("gmp-atl"),
                                              QStringLiteral("--gmp-epochs"), QStringLiteral("3"),
                                              QStringLiteral("--epochs"), QStringLiteral("2")}),
                 "the run ended before it could be killed");
        const CliResult listedText = runCli({QStringLiteral("models"), QStringLiteral("--db"), db});
        QVERIFY2(listedText.out.contains("in GMP-ATL's steps 1 and 3, after"),
                 listedText.out.constData());
        const int killedGmp =
            json(runCli({QStringLiteral("models"), QStringLiteral("--db"), db,
                         QStringLiteral("--json")}))[QStringLiteral("interrupted_runs")]
                .toArray()
                .first()
                .toObject()[QStringLiteral("run")]
                .toInt();
        const CliResult resumedGmp =
            runCli({QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--resume"),
                    QString::number(killedGmp), QStringLiteral("--json")});
        QVERIFY2(resumedGmp.exitCode == 0, resumedGmp.err.constData());
        QVERIFY(json(resumedGmp)[QStringLiteral("resumed_after_pretrain_epoch")].toInt() >= 1);

        // Seed 003's speed perturbation: the copies are extracted once, then every training
        // batch reads one rate; the note says so.
        const CliResult copies = runCli(
            {QStringLiteral("extract"), QStringLiteral("--db"), db, QStringLiteral("--encoder"),
             tinyHubert(), QStringLiteral("--speed-perturb"), QStringLiteral("--json")});
        QVERIFY2(copies.exitCode == 0, copies.err.constData());
        QCOMPARE(json(copies)[QStringLiteral("speed_copies")].toInt(), 96);
        const CliResult perturbed =
            train({QStringLiteral("--recipe"), QStringLiteral("ari-coattention"),
                   QStringLiteral("--speed-perturb"), QStringLiteral("--auxiliary-epochs"),
                   QStringLiteral("1"), QStringLiteral("--epochs"), QStringLiteral("1")});
        QVERIFY2(perturbed.exitCode == 0, perturbed.err.constData());
        const QString speedNote =
            json(perturbed)[QStringLiteral("notes")].toArray().last().toString();
        QVERIFY2(speedNote.contains(u"speed perturbation at 0.8, 1.0 and 1.2"),
                 qPrintable(speedNote));
        const CliResult noCopies =
            runCli({QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
                    QStringLiteral("ari-coattention"), QStringLiteral("--speed-perturb")});
        QCOMPARE(noCopies.exitCode, 1);
        QVERIFY2(noCopies.err.contains("extract --db") && noCopies.err.contains("--speed-perturb"),
                 noCopies.err.constData());

        // Refused, with the reason: a recipe without a paper mode, features without
        // Transformer layers, more layers than the encoder has, layers without paper mode.
        const CliResult wapSap = train({QStringLiteral("--recipe"), QStringLiteral("wap-sap")});
        QCOMPARE(wapSap.exitCode, 1);
        QVERIFY2(wapSap.err.contains("has no paper mode"), wapSap.err.constData());
        const CliResult fbank = runCli({QStringLiteral("evaluate"), QStringLiteral("--db"), db,
                                        QStringLiteral("--recipe"), QStringLiteral("gmp-atl"),
                                        QStringLiteral("--mode"), QStringLiteral("paper")});
        QCOMPARE(fbank.exitCode, 1);
        QVERIFY2(fbank.err.contains("without any (fbank)"), fbank.err.constData());
        const CliResult tooMany = train({QStringLiteral("--recipe"), QStringLiteral("gmp-atl"),
                                         QStringLiteral("--encoder-layers"), QStringLiteral("3")});
        QCOMPARE(tooMany.exitCode, 1);
        QVERIFY2(tooMany.err.contains("3 cannot train"), tooMany.err.constData());
        const CliResult oneClick = runCli(
            {QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
             QStringLiteral("gmp-atl"), QStringLiteral("--encoder-layers"), QStringLiteral("1")});
        QCOMPARE(oneClick.exitCode, 1);
        QVERIFY2(oneClick.err.contains("--mode paper"), oneClick.err.constData());
    }

    void pretrainPaperModeIsTaptProper()
    {
        // Seed 002's paper mode on the tiny HuBERT: its inputs are extracted once, the run is
        // killed and resumed, the adapted encoder is stored, and paper-mode runs that train
        // every layer start from it; what cannot start from it is refused with the reason.
        const QString db = importedRavdess(m_dir, QStringLiteral("tapt.emolens"));
        QCOMPARE(runCli({QStringLiteral("extract"), QStringLiteral("--db"), db,
                         QStringLiteral("--encoder"), tinyHubert()})
                     .exitCode,
                 0);
        const QStringList pretrain{
            QStringLiteral("pretrain"),        QStringLiteral("--db"),  db,
            QStringLiteral("--mode"),          QStringLiteral("paper"), QStringLiteral("--encoder"),
            QStringLiteral("hubert-tiny-base")};
        const CliResult noInputs = runCli(pretrain);
        QCOMPARE(noInputs.exitCode, 1);
        QVERIFY2(noInputs.err.contains("--tapt-inputs") && noInputs.err.contains("extract --db"),
                 noInputs.err.constData());

        // The inputs: every clip runs again for them alone (its features are cached), once.
        const auto inputs = [&db] {
            return runCli({QStringLiteral("extract"), QStringLiteral("--db"), db,
                           QStringLiteral("--encoder"), tinyHubert(),
                           QStringLiteral("--tapt-inputs"), QStringLiteral("--json")});
        };
        const CliResult first = inputs();
        QVERIFY2(first.exitCode == 0, first.err.constData());
        QCOMPARE(json(first)[QStringLiteral("tapt_inputs")].toInt(), 48);
        QCOMPARE(json(first)[QStringLiteral("extracted")].toInt(), 0);
        QCOMPARE(json(inputs())[QStringLiteral("tapt_inputs")].toInt(), 0);
        const CliResult fbankInputs = runCli({QStringLiteral("extract"), QStringLiteral("--db"), db,
                                              QStringLiteral("--tapt-inputs")});
        QCOMPARE(fbankInputs.exitCode, 1);
        QVERIFY2(fbankInputs.err.contains("fbank has none"), fbankInputs.err.constData());

        // Killed after its first epoch's checkpoint, listed so, resumed to the end.
        QVERIFY2(killedAtFirstCheckpoint(
                     db, pretrain + QStringList{QStringLiteral("--epochs"), QStringLiteral("12")}),
                 "the run ended before it could be killed");
        const CliResult listed = runCli({QStringLiteral("models"), QStringLiteral("--db"), db});
        QVERIFY2(listed.out.contains("in TAPT (the encoder's Transformer), after epoch"),
                 listed.out.constData());
        const int killed =
            json(runCli({QStringLiteral("models"), QStringLiteral("--db"), db,
                         QStringLiteral("--json")}))[QStringLiteral("interrupted_runs")]
                .toArray()
                .first()
                .toObject()[QStringLiteral("run")]
                .toInt();
        const CliResult resumed =
            runCli({QStringLiteral("pretrain"), QStringLiteral("--db"), db,
                    QStringLiteral("--resume"), QString::number(killed), QStringLiteral("--json")});
        QVERIFY2(resumed.exitCode == 0, resumed.err.constData());
        const QJsonObject tapt = json(resumed);
        QCOMPARE(tapt[QStringLiteral("mode")].toString(), QStringLiteral("paper"));
        QVERIFY(tapt[QStringLiteral("resumed_after_epoch")].toInt() >= 1);
        const QJsonArray epochs = tapt[QStringLiteral("epochs")].toArray();
        QCOMPARE(epochs.size(), 12);
        const double firstLoss = epochs.first()[QStringLiteral("masked_loss")].toDouble();
        const double lastLoss = epochs.last()[QStringLiteral("masked_loss")].toDouble();
        QVERIFY2(lastLoss < firstLoss,
                 qPrintable(QStringLiteral("%1 -> %2").arg(firstLoss).arg(lastLoss)));
        QVERIFY2(tapt[QStringLiteral("settings")].toString().contains(
                     u"objective=hubert-masked-prediction"),
                 qPrintable(tapt[QStringLiteral("settings")].toString()));
        const int backbone = tapt[QStringLiteral("backbone")].toInt();
        QVERIFY(backbone > 0);
        const CliResult listedAfter =
            runCli({QStringLiteral("models"), QStringLiteral("--db"), db});
        QVERIFY2(listedAfter.out.contains("TAPT of hubert-tiny-base's Transformer on 48 clips"),
                 listedAfter.out.constData());

        // A paper-mode run that trains every layer starts from it, and says so.
        const CliResult gmp =
            runCli({QStringLiteral("train"), QStringLiteral("--db"), db,
                    QStringLiteral("--encoder"), QStringLiteral("hubert-tiny-base"),
                    QStringLiteral("--mode"), QStringLiteral("paper"), QStringLiteral("--recipe"),
                    QStringLiteral("gmp-atl"), QStringLiteral("--gmp-epochs"), QStringLiteral("1"),
                    QStringLiteral("--epochs"), QStringLiteral("1"), QStringLiteral("--json")});
        QVERIFY2(gmp.exitCode == 0, gmp.err.constData());
        QCOMPARE(json(gmp)[QStringLiteral("backbone")].toInt(), backbone);
        const QString notes = QJsonDocument(json(gmp)[QStringLiteral("notes")].toArray()).toJson();
        QVERIFY2(notes.contains(u"starts from the encoder adapted by TAPT"), qPrintable(notes));

        // Refused with the reason: a run from a cached layer TAPT changed, a one-click run.
        const CliResult upper =
            runCli({QStringLiteral("train"), QStringLiteral("--db"), db,
                    QStringLiteral("--encoder"), QStringLiteral("hubert-tiny-base"),
                    QStringLiteral("--mode"), QStringLiteral("paper"), QStringLiteral("--recipe"),
                    QStringLiteral("gmp-atl"), QStringLiteral("--encoder-layers"),
                    QStringLiteral("1"), QStringLiteral("--backbone"), QString::number(backbone)});
        QCOMPARE(upper.exitCode, 1);
        QVERIFY2(upper.err.contains("leave out --encoder-layers"), upper.err.constData());
        const CliResult oneClick = runCli(
            {QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--encoder"),
             QStringLiteral("hubert-tiny-base"), QStringLiteral("--recipe"),
             QStringLiteral("wap-sap"), QStringLiteral("--backbone"), QString::number(backbone)});
        QCOMPARE(oneClick.exitCode, 1);
        QVERIFY2(oneClick.err.contains("one-click runs read the frozen encoder"),
                 oneClick.err.constData());
    }

    void selectRanksTheClipsToLabelNext()
    {
        // Seed 002's strategies from the command line: the cold start needs no model, the
        // uncertainty strategies rank by the active model's posteriors with the reason in
        // words, and a clip a person has labeled is never offered.
        const QString db = importedRavdess(m_dir, QStringLiteral("select.emolens"));
        QCOMPARE(runCli({QStringLiteral("extract"), QStringLiteral("--db"), db}).exitCode, 0);
        const auto select = [&db](const QStringList &more) {
            return runCli(QStringList{QStringLiteral("select"), QStringLiteral("--db"), db,
                                      QStringLiteral("--json")} +
                          more);
        };
        const CliResult cold = select({QStringLiteral("--count"), QStringLiteral("4"),
                                       QStringLiteral("--per-speaker"), QStringLiteral("1")});
        QVERIFY2(cold.exitCode == 0, cold.err.constData());
        const QJsonObject coldJson = json(cold);
        QCOMPARE(coldJson[QStringLiteral("strategy")].toString(), QStringLiteral("cold-start"));
        QCOMPARE(coldJson[QStringLiteral("pool")].toInt(), 48);
        const QJsonArray coldPicks = coldJson[QStringLiteral("picks")].toArray();
        QCOMPARE(coldPicks.size(), 4);
        QSet<QString> actors; // RAVDESS keys end in the actor: one clip per speaker here
        for (const QJsonValue &p : coldPicks) {
            QVERIFY2(p[QStringLiteral("reason")].toString().startsWith(u"near the centre of "
                                                                       u"cluster"),
                     qPrintable(p[QStringLiteral("reason")].toString()));
            actors.insert(p[QStringLiteral("key")].toString().section(QLatin1Char('-'), -1));
        }
        QCOMPARE(actors.size(), 4);

        const CliResult noModel = select({QStringLiteral("--strategy"), QStringLiteral("margin")});
        QCOMPARE(noModel.exitCode, 1);
        QVERIFY2(noModel.err.contains("no model yet") && noModel.err.contains("cold-start"),
                 noModel.err.constData());
        const CliResult unknown = select({QStringLiteral("--strategy"), QStringLiteral("oracle")});
        QCOMPARE(unknown.exitCode, 1);
        QVERIFY2(unknown.err.contains("least-confidence"), unknown.err.constData());

        QCOMPARE(
            runCli({QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
                    QStringLiteral("baseline"), QStringLiteral("--epochs"), QStringLiteral("3")})
                .exitCode,
            0);
        const CliResult margin = select({QStringLiteral("--strategy"), QStringLiteral("margin"),
                                         QStringLiteral("--count"), QStringLiteral("5")});
        QVERIFY2(margin.exitCode == 0, margin.err.constData());
        const QJsonArray marginPicks = json(margin)[QStringLiteral("picks")].toArray();
        QCOMPARE(marginPicks.size(), 5);
        for (qsizetype i = 1; i < marginPicks.size(); ++i)
            QVERIFY(marginPicks[i][QStringLiteral("score")].toDouble() >=
                    marginPicks[i - 1][QStringLiteral("score")].toDouble());
        const QString reason = marginPicks.first()[QStringLiteral("reason")].toString();
        QVERIFY2(reason.startsWith(u"margin ") && reason.contains(u" between "),
                 qPrintable(reason));
        QVERIFY(!marginPicks.first()[QStringLiteral("label")].toString().isEmpty());

        // BALD (MC dropout passes) and BADGE (gradient embeddings) from the same model.
        const CliResult bald =
            select({QStringLiteral("--strategy"), QStringLiteral("bald"), QStringLiteral("--count"),
                    QStringLiteral("4"), QStringLiteral("--passes"), QStringLiteral("6"),
                    QStringLiteral("--no-store")});
        QVERIFY2(bald.exitCode == 0, bald.err.constData());
        const QJsonArray baldPicks = json(bald)[QStringLiteral("picks")].toArray();
        QCOMPARE(baldPicks.size(), 4);
        for (qsizetype i = 1; i < baldPicks.size(); ++i)
            QVERIFY(baldPicks[i][QStringLiteral("score")].toDouble() <=
                    baldPicks[i - 1][QStringLiteral("score")].toDouble());
        QVERIFY2(baldPicks[0][QStringLiteral("reason")].toString().startsWith(
                     u"the 6 dropout passes disagree"),
                 qPrintable(baldPicks[0][QStringLiteral("reason")].toString()));
        const CliResult badge =
            select({QStringLiteral("--strategy"), QStringLiteral("badge"),
                    QStringLiteral("--count"), QStringLiteral("4"), QStringLiteral("--no-store")});
        QVERIFY2(badge.exitCode == 0, badge.err.constData());
        const QJsonArray badgePicks = json(badge)[QStringLiteral("picks")].toArray();
        QCOMPARE(badgePicks.size(), 4);
        QSet<qint64> distinct;
        for (const QJsonValue &p : badgePicks)
            distinct.insert(p[QStringLiteral("utterance")].toInteger());
        QCOMPARE(distinct.size(), 4);
        QVERIFY2(badgePicks[0][QStringLiteral("reason")].toString().startsWith(
                     u"the largest gradient norm"),
                 qPrintable(badgePicks[0][QStringLiteral("reason")].toString()));

        // A person labels the first pick: it is not offered again.
        const qint64 first = marginPicks.first()[QStringLiteral("utterance")].toInteger();
        {
            emolens::Database store(db);
            QVERIFY(store.open());
            emolens::CorpusRepository corpora(store);
            const auto u = corpora.utterance(first);
            QVERIFY(u.has_value());
            emolens::LabelValue value;
            value.category = QStringLiteral("angry");
            QVERIFY(emolens::LabelRepository(store).setLabel(
                first, corpora.corpus(u->corpusId)->labelSchemaId, QStringLiteral("Ada"), value));
        }
        const QJsonObject again =
            json(select({QStringLiteral("--strategy"), QStringLiteral("margin"),
                         QStringLiteral("--count"), QStringLiteral("5")}));
        QCOMPARE(again[QStringLiteral("labeled")].toInt(), 1);
        for (const QJsonValue &p : again[QStringLiteral("picks")].toArray())
            QVERIFY(p[QStringLiteral("utterance")].toInteger() != first);
        // Asked to, the labeled clip is ranked too, by the model's real posteriors.
        const QJsonObject all =
            json(select({QStringLiteral("--strategy"), QStringLiteral("margin"),
                         QStringLiteral("--count"), QStringLiteral("48"),
                         QStringLiteral("--include-labeled"), QStringLiteral("--no-store")}));
        bool ranked = false;
        for (const QJsonValue &p : all[QStringLiteral("picks")].toArray())
            if (p[QStringLiteral("utterance")].toInteger() == first) {
                ranked = true;
                // Zeros stood for a labeled clip's posteriors: its top class had probability 0.
                QVERIFY2(p[QStringLiteral("confidence")].toDouble() > 0,
                         qPrintable(p[QStringLiteral("reason")].toString()));
            }
        QVERIFY(ranked);

        // Ben disagrees with Ada on it: with --disagreements-first it is offered first to a
        // third person, and not to Ada again; --second-opinions keeps it in Cy's pool.
        {
            emolens::Database store(db);
            QVERIFY(store.open());
            emolens::CorpusRepository corpora(store);
            emolens::LabelValue value;
            value.category = QStringLiteral("neutral");
            QVERIFY(emolens::LabelRepository(store).setLabel(
                first, corpora.corpus(corpora.utterance(first)->corpusId)->labelSchemaId,
                QStringLiteral("Ben"), value));
        }
        const QStringList disputed{QStringLiteral("--strategy"),
                                   QStringLiteral("margin"),
                                   QStringLiteral("--count"),
                                   QStringLiteral("5"),
                                   QStringLiteral("--disagreements-first"),
                                   QStringLiteral("--no-store")};
        const QJsonArray forCy =
            json(select(disputed + QStringList{QStringLiteral("--annotator"),
                                               QStringLiteral("Cy")}))[QStringLiteral("picks")]
                .toArray();
        QCOMPARE(forCy.size(), 5);
        QCOMPARE(forCy[0][QStringLiteral("utterance")].toInteger(), first);
        QCOMPARE(forCy[0][QStringLiteral("reason")].toString(),
                 QStringLiteral("people disagree (angry (Ada), neutral (Ben)): another opinion "
                                "is needed"));
        for (const QJsonValue &p :
             json(select(disputed + QStringList{QStringLiteral("--annotator"),
                                                QStringLiteral("Ada")}))[QStringLiteral("picks")]
                 .toArray())
            QVERIFY(p[QStringLiteral("utterance")].toInteger() != first);
        const CliResult nobody = select(disputed);
        QCOMPARE(nobody.exitCode, 1);
        QVERIFY2(nobody.err.contains("--annotator"), nobody.err.constData());
        const QJsonObject secondOpinions = json(select(
            {QStringLiteral("--strategy"), QStringLiteral("margin"), QStringLiteral("--count"),
             QStringLiteral("48"), QStringLiteral("--second-opinions"),
             QStringLiteral("--annotator"), QStringLiteral("Cy"), QStringLiteral("--no-store")}));
        QCOMPARE(secondOpinions[QStringLiteral("picks")].toArray().size(), 48);

        // --favour-rare shares the picks among the predicted classes, whatever the strategy.
        const QJsonArray rare = json(select(
            {QStringLiteral("--strategy"), QStringLiteral("random"), QStringLiteral("--count"),
             QStringLiteral("6"), QStringLiteral("--favour-rare"),
             QStringLiteral("--no-store")}))[QStringLiteral("picks")]
                                    .toArray();
        QCOMPARE(rare.size(), 6);
        for (const QJsonValue &p : rare)
            QVERIFY2(p[QStringLiteral("reason")].toString().contains(u"; for ") &&
                         p[QStringLiteral("reason")].toString().contains(u"labeled so far"),
                     qPrintable(p[QStringLiteral("reason")].toString()));

        // Each call is a round in the workspace (the GUI's queue), with its model, pool and
        // picks; --no-store only prints. --count 0 is seed 002's code's 5 % of the pool.
        const QJsonObject dry = json(
            select({QStringLiteral("--count"), QStringLiteral("0"), QStringLiteral("--no-store")}));
        QCOMPARE(dry[QStringLiteral("round")].toInteger(), 0);
        QCOMPARE(dry[QStringLiteral("picks")].toArray().size(), 3); // ceil(0.05 x 47)
        {
            emolens::Database store(db);
            QVERIFY(store.open());
            emolens::SelectionRepository rounds(store);
            const QList<emolens::SelectionRoundRecord> stored = rounds.rounds();
            QCOMPARE(stored.size(), 3); // cold start, margin, margin again
            QCOMPARE(stored.first().id, again[QStringLiteral("round")].toInteger());
            QCOMPARE(stored.first().strategy, QStringLiteral("margin"));
            QCOMPARE(stored.first().modelId, again[QStringLiteral("model")].toInteger());
            QCOMPARE(stored.first().labeledCount, 1);
            QCOMPARE(stored.last().modelId, 0); // the cold start needs no model
            const auto latest = rounds.latestRound();
            QVERIFY(latest.has_value());
            QCOMPARE(latest->pool.size(), 47);
            QVERIFY(!latest->pool.contains(first));
            const QList<emolens::SelectionPickRecord> picks = rounds.picks(latest->id);
            const QJsonArray printed = again[QStringLiteral("picks")].toArray();
            QCOMPARE(picks.size(), printed.size());
            for (qsizetype i = 0; i < picks.size(); ++i) {
                QCOMPARE(picks[i].rank, int(i + 1));
                QCOMPARE(picks[i].utteranceId, printed[i][QStringLiteral("utterance")].toInteger());
                QCOMPARE(picks[i].reason, printed[i][QStringLiteral("reason")].toString());
                QCOMPARE(picks[i].predicted, printed[i][QStringLiteral("label")].toString());
            }
        }
    }

    void tsneWritesTheMapAsCsv()
    {
        // The t-SNE map from the command line: one CSV row per clip with its place, label,
        // speaker and gender; the same seed gives the same map; what cannot be done is refused
        // with the reason.
        const QString db = importedRavdess(m_dir, QStringLiteral("tsne.emolens"));
        QCOMPARE(runCli({QStringLiteral("extract"), QStringLiteral("--db"), db}).exitCode, 0);
        const QString csv = m_dir.filePath(QStringLiteral("map.csv"));
        const QStringList args{
            QStringLiteral("tsne"), QStringLiteral("--db"),  db, QStringLiteral("--perplexity"),
            QStringLiteral("10"),   QStringLiteral("--out"), csv};
        const CliResult made = runCli(args + QStringList{QStringLiteral("--json")});
        QVERIFY2(made.exitCode == 0, made.err.constData());
        const QJsonObject report = json(made);
        QCOMPARE(report[QStringLiteral("points")].toInt(), 48);
        QVERIFY(report[QStringLiteral("source")].toString().startsWith(u"encoder:fbank:"));
        const auto readCsv = [](const QString &path) {
            QFile file(path);
            return file.open(QIODevice::ReadOnly | QIODevice::Text)
                       ? QString::fromUtf8(file.readAll()).trimmed().split(QLatin1Char('\n'))
                       : QStringList();
        };
        const QStringList lines = readCsv(csv);
        QCOMPARE(lines.size(), 49);
        QCOMPARE(lines[0], QStringLiteral("id,key,x,y,label,speaker,gender,predicted"));
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QStringList fields = lines[i].split(QLatin1Char(','));
            QCOMPARE(fields.size(), 8);
            bool okX = false, okY = false;
            QVERIFY(std::isfinite(fields[2].toDouble(&okX)) && okX);
            QVERIFY(std::isfinite(fields[3].toDouble(&okY)) && okY);
            QVERIFY(!fields[1].isEmpty() && !fields[4].isEmpty() && !fields[5].isEmpty());
        }
        const QString again = m_dir.filePath(QStringLiteral("map-again.csv"));
        QCOMPARE(runCli({QStringLiteral("tsne"), QStringLiteral("--db"), db,
                         QStringLiteral("--perplexity"), QStringLiteral("10"),
                         QStringLiteral("--out"), again})
                     .exitCode,
                 0);
        QCOMPARE(readCsv(again), lines);
        // The layout is kept in the workspace: the same request reuses it, --fresh computes it
        // again (the same, with the same seed) and keeps that one too.
        QVERIFY(report[QStringLiteral("layout")].toInt() > 0);
        QVERIFY(!report[QStringLiteral("reused")].toBool());
        const double trust = report[QStringLiteral("trustworthiness")].toDouble();
        QVERIFY2(trust > 0.8 && trust <= 1.0, qPrintable(QString::number(trust)));
        const QJsonObject reused = json(runCli(args + QStringList{QStringLiteral("--json")}));
        QVERIFY(reused[QStringLiteral("reused")].toBool());
        QCOMPARE(reused[QStringLiteral("layout")], report[QStringLiteral("layout")]);
        QCOMPARE(readCsv(csv), lines);
        const QJsonObject fresh =
            json(runCli(args + QStringList{QStringLiteral("--json"), QStringLiteral("--fresh")}));
        QVERIFY(!fresh[QStringLiteral("reused")].toBool());
        QVERIFY(fresh[QStringLiteral("layout")].toInt() > report[QStringLiteral("layout")].toInt());
        QCOMPARE(readCsv(csv), lines);
        const QJsonObject otherSeed =
            json(runCli(args + QStringList{QStringLiteral("--json"), QStringLiteral("--seed"),
                                           QStringLiteral("7")}));
        QVERIFY(!otherSeed[QStringLiteral("reused")].toBool());
        QVERIFY(readCsv(csv) != lines);

        const CliResult tooFew = runCli(
            {QStringLiteral("tsne"), QStringLiteral("--db"), db, QStringLiteral("--out"), csv});
        QCOMPARE(tooFew.exitCode, 1);
        QVERIFY2(tooFew.err.contains("lower the perplexity"), tooFew.err.constData());
        const CliResult noEncoder =
            runCli(args + QStringList{QStringLiteral("--source"), QStringLiteral("encoder:nope")});
        QCOMPARE(noEncoder.exitCode, 1);
        QVERIFY2(noEncoder.err.contains("no features of nope"), noEncoder.err.constData());
        const CliResult noOut = runCli({QStringLiteral("tsne"), QStringLiteral("--db"), db});
        QCOMPARE(noOut.exitCode, 1);
        QVERIFY2(noOut.err.contains("--out"), noOut.err.constData());
    }

    void simulateDrawsALearningCurve()
    {
        // Seed 002's loop simulated on the demo corpus (96 clips, 6 voices) with its labels as
        // the oracle: the curve starts near chance from the cold start and rises as margin
        // picks clips; every label is the reference.
        const QString demo = m_dir.filePath(QStringLiteral("demo-simulate"));
        const QString db = m_dir.filePath(QStringLiteral("simulate.emolens"));
        QCOMPARE(runCli({QStringLiteral("demo"), QStringLiteral("--out"), demo}).exitCode, 0);
        QCOMPARE(runCli({QStringLiteral("import"), demo, QStringLiteral("--db"), db}).exitCode, 0);
        QCOMPARE(runCli({QStringLiteral("extract"), QStringLiteral("--db"), db}).exitCode, 0);
        const CliResult margin =
            runCli({QStringLiteral("simulate"), QStringLiteral("--db"), db,
                    QStringLiteral("--strategy"), QStringLiteral("margin"),
                    QStringLiteral("--initial"), QStringLiteral("8"), QStringLiteral("--step"),
                    QStringLiteral("8"), QStringLiteral("--rounds"), QStringLiteral("4"),
                    QStringLiteral("--folds"), QStringLiteral("3"), QStringLiteral("--json")});
        QVERIFY2(margin.exitCode == 0, margin.err.constData());
        const QJsonObject curve = json(margin);
        QCOMPARE(curve[QStringLiteral("strategy")].toString(), QStringLiteral("margin"));
        QCOMPARE(curve[QStringLiteral("pool")].toInt(), 64); // 4 of the 6 voices
        QCOMPARE(curve[QStringLiteral("test_clips")].toInt(), 32);
        const QJsonArray rounds = curve[QStringLiteral("rounds")].toArray();
        QCOMPARE(rounds.size(), 5);
        for (qsizetype i = 0; i < rounds.size(); ++i) {
            QCOMPARE(rounds[i][QStringLiteral("labeled")].toInt(), 8 * int(i + 1));
            QCOMPARE(rounds[i][QStringLiteral("labeled_fraction")].toDouble(), 8.0 * (i + 1) / 64);
        }
        const double first = rounds.first()[QStringLiteral("ua")].toDouble();
        const double last = rounds.last()[QStringLiteral("ua")].toDouble();
        const double full = curve[QStringLiteral("full_ua")].toDouble();
        QVERIFY2(last > first && full > 0.4,
                 qPrintable(
                     QStringLiteral("UA %1 -> %2, every label %3").arg(first).arg(last).arg(full)));
        QVERIFY(curve.contains(QStringLiteral("fraction_to_95")));
        // The curve is kept in the workspace for the learning-curve plot, as printed.
        {
            emolens::Database store(db);
            QVERIFY(store.open());
            const QList<emolens::SimulationRecord> kept =
                emolens::SelectionRepository(store).simulations();
            QCOMPARE(kept.size(), 1);
            QCOMPARE(kept[0].id, curve[QStringLiteral("simulation")].toInteger());
            QCOMPARE(kept[0].strategy, QStringLiteral("margin"));
            const QJsonObject stored = QJsonDocument::fromJson(kept[0].report.toUtf8()).object();
            QCOMPARE(stored[QStringLiteral("rounds")].toArray(), rounds);
            QCOMPARE(stored[QStringLiteral("full_ua")].toDouble(), full);
        }

        // --favour-rare: the same loop, each round sharing its picks among the predicted
        // classes; its curve is named margin+rare and kept beside margin's.
        const CliResult rare = runCli(
            {QStringLiteral("simulate"), QStringLiteral("--db"), db, QStringLiteral("--strategy"),
             QStringLiteral("margin"), QStringLiteral("--favour-rare"), QStringLiteral("--initial"),
             QStringLiteral("8"), QStringLiteral("--step"), QStringLiteral("8"),
             QStringLiteral("--rounds"), QStringLiteral("2"), QStringLiteral("--folds"),
             QStringLiteral("3"), QStringLiteral("--json")});
        QVERIFY2(rare.exitCode == 0, rare.err.constData());
        const QJsonObject rareCurve = json(rare);
        QCOMPARE(rareCurve[QStringLiteral("strategy")].toString(), QStringLiteral("margin+rare"));
        QVERIFY(rareCurve[QStringLiteral("favour_rare")].toBool());
        QCOMPARE(
            rareCurve[QStringLiteral("rounds")].toArray().last()[QStringLiteral("labeled")].toInt(),
            24);
        {
            emolens::Database store(db);
            QVERIFY(store.open());
            QCOMPARE(emolens::SelectionRepository(store).simulations().size(), 2);
        }

        // A strategy that needs a model starts all the same (the cold start needs none); an
        // unknown one is refused with the list.
        const CliResult unknown = runCli({QStringLiteral("simulate"), QStringLiteral("--db"), db,
                                          QStringLiteral("--strategy"), QStringLiteral("oracle")});
        QCOMPARE(unknown.exitCode, 1);
        QVERIFY2(unknown.err.contains("core-set"), unknown.err.constData());
    }

    void evaluateSeed000RecipePretrainsAndBeatsChance()
    {
        if (qEnvironmentVariableIsSet("EMOLENS_CLI_TEST_SKIP_RECIPES"))
            QSKIP("ctest runs this one as app_test_cli_seed000, beside the rest");
        // Seed 000 whole on the demo corpus: teacher-student pre-training on each fold's
        // training speakers, then wap-sap on the labels. Its pre-training losses fall, and it
        // beats chance (0.25) widely on held-out speakers.
        const QString demo = m_dir.filePath(QStringLiteral("demo000"));
        const QString db = m_dir.filePath(QStringLiteral("seed000.emolens"));
        QCOMPARE(runCli({QStringLiteral("demo"), QStringLiteral("--out"), demo}).exitCode, 0);
        QCOMPARE(runCli({QStringLiteral("import"), demo, QStringLiteral("--db"), db}).exitCode, 0);
        QCOMPARE(runCli({QStringLiteral("extract"), QStringLiteral("--db"), db}).exitCode, 0);
        const CliResult seed000 = runCli(
            {QStringLiteral("evaluate"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
             QStringLiteral("adapter-local-attributes"), QStringLiteral("--k"), QStringLiteral("3"),
             QStringLiteral("--pretrain-epochs"), QStringLiteral("4"), QStringLiteral("--epochs"),
             QStringLiteral("12"), QStringLiteral("--json")},
            kRecipeRunMs);
        QVERIFY2(seed000.exitCode == 0, seed000.err.constData());
        const QJsonObject e = json(seed000);
        QVERIFY(e[QStringLiteral("settings")].toString().contains(u"pretrain: epochs=4"));
        const double seedUa = e[QStringLiteral("ua")].toDouble();
        qInfo("adapter-local-attributes, 3 speaker folds: UA %.3f", seedUa);
        QVERIFY2(seedUa > 0.4, qPrintable(QString::number(seedUa)));
        for (const QJsonValue &f : e[QStringLiteral("folds")].toArray()) {
            const QJsonArray pretrain = f.toObject()[QStringLiteral("pretrain")].toArray();
            QCOMPARE(pretrain.size(), 4);
            const QJsonObject firstEpoch = pretrain.first().toObject();
            const QJsonObject lastEpoch = pretrain.last().toObject();
            QVERIFY(lastEpoch[QStringLiteral("distill_loss")].toDouble() <
                    firstEpoch[QStringLiteral("distill_loss")].toDouble());
            // The masked frames' local attributes are found well above chance (1 in 64).
            QVERIFY2(
                lastEpoch[QStringLiteral("mask_accuracy")].toDouble() > 0.05,
                qPrintable(QString::number(lastEpoch[QStringLiteral("mask_accuracy")].toDouble())));
        }
        // Without the stage (the ablation), no pre-training is reported.
        const QJsonObject without = json(runCli(
            {QStringLiteral("evaluate"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
             QStringLiteral("adapter-local-attributes"), QStringLiteral("--pretrain-epochs"),
             QStringLiteral("0"), QStringLiteral("--k"), QStringLiteral("3"),
             QStringLiteral("--epochs"), QStringLiteral("2"), QStringLiteral("--json")}));
        QVERIFY(!without[QStringLiteral("folds")].toArray().first().toObject().contains(
            QStringLiteral("pretrain")));
        // A recipe without the stage refuses pre-training epochs, saying which has it.
        const CliResult refused = runCli(
            {QStringLiteral("evaluate"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
             QStringLiteral("wap-sap"), QStringLiteral("--pretrain-epochs"), QStringLiteral("3")});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains("adapter-local-attributes"), refused.err.constData());

        // Killed while pre-training (after its first pre-training epoch's checkpoint), the run
        // is listed as such and resumes from there.
        QVERIFY2(killedAtFirstCheckpoint(
                     db, {QStringLiteral("train"), QStringLiteral("--db"), db,
                          QStringLiteral("--recipe"), QStringLiteral("adapter-local-attributes"),
                          QStringLiteral("--pretrain-epochs"), QStringLiteral("3"),
                          QStringLiteral("--epochs"), QStringLiteral("2")}),
                 "the run ended before it could be killed");
        const QJsonObject listed = json(runCli(
            {QStringLiteral("models"), QStringLiteral("--db"), db, QStringLiteral("--json")}));
        const QJsonObject killed =
            listed[QStringLiteral("interrupted_runs")].toArray().first().toObject();
        const int pretrainDone = killed[QStringLiteral("pretrain_epochs")].toInt();
        QVERIFY2(pretrainDone >= 1 && pretrainDone < 3, qPrintable(QString::number(pretrainDone)));
        QCOMPARE(killed[QStringLiteral("epochs")].toInt(), 0);
        const CliResult listedText = runCli({QStringLiteral("models"), QStringLiteral("--db"), db});
        QVERIFY2(listedText.out.contains("while pre-training, after pre-training epoch"),
                 listedText.out.constData());
        const CliResult trained = runCli(
            {QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--resume"),
             QString::number(killed[QStringLiteral("run")].toInt()), QStringLiteral("--json")});
        QVERIFY2(trained.exitCode == 0, trained.err.constData());
        QCOMPARE(json(trained)[QStringLiteral("resumed_after_pretrain_epoch")].toInt(),
                 pretrainDone);

        // A trained model keeps its local attributes: predict names one per frame.
        const QJsonObject predicted = json(
            runCli({QStringLiteral("predict"), QStringLiteral("--db"), db,
                    QStringLiteral("--utterance"), QStringLiteral("1"), QStringLiteral("--json")}));
        const QJsonObject clip = predicted[QStringLiteral("clips")].toArray().first().toObject();
        const QJsonArray ids = clip[QStringLiteral("local_attributes")].toArray();
        const int count = clip[QStringLiteral("local_attribute_count")].toInt();
        QCOMPARE(count, 64);
        QCOMPARE(ids.size(), clip[QStringLiteral("frames")].toArray().size());
        QSet<int> seen;
        for (const QJsonValue &id : ids) {
            QVERIFY(id.toInt(-1) >= 0 && id.toInt() < count);
            seen.insert(id.toInt());
        }
        QVERIFY2(seen.size() > 1, "a clip's frames fall in more than one local attribute");
    }

    void pretrainAdapterTaptIsWhereLaterRunsStart()
    {
        // Seed 002's one-click variant: adapter TAPT on every clip of the demo corpus, killed
        // and resumed, stored as a backbone that adapter-local-attributes runs start from.
        const QString demo = m_dir.filePath(QStringLiteral("demo002"));
        const QString db = m_dir.filePath(QStringLiteral("seed002.emolens"));
        QCOMPARE(runCli({QStringLiteral("demo"), QStringLiteral("--out"), demo}).exitCode, 0);
        QCOMPARE(runCli({QStringLiteral("import"), demo, QStringLiteral("--db"), db}).exitCode, 0);
        QCOMPARE(runCli({QStringLiteral("extract"), QStringLiteral("--db"), db}).exitCode, 0);

        // ALPS before any backbone: it says what to do.
        const CliResult noBackbone = runCli({QStringLiteral("select"), QStringLiteral("--db"), db,
                                             QStringLiteral("--strategy"), QStringLiteral("alps")});
        QCOMPARE(noBackbone.exitCode, 1);
        QVERIFY2(noBackbone.err.contains("pre-train one") &&
                     noBackbone.err.contains("emolens-cli pretrain --db"),
                 noBackbone.err.constData());

        // TAPT proper adapts an encoder's Transformer, and fbank has none: said so.
        const CliResult paper = runCli({QStringLiteral("pretrain"), QStringLiteral("--db"), db,
                                        QStringLiteral("--mode"), QStringLiteral("paper")});
        QCOMPARE(paper.exitCode, 1);
        QVERIFY2(paper.err.contains("fbank has none") && paper.err.contains("--mode adapter"),
                 paper.err.constData());

        // Killed after its first epoch's checkpoint, listed, and resumed.
        QVERIFY2(killedAtFirstCheckpoint(db, {QStringLiteral("pretrain"), QStringLiteral("--db"),
                                              db, QStringLiteral("--epochs"), QStringLiteral("3")}),
                 "the run ended before it could be killed");
        const QJsonObject listed = json(runCli(
            {QStringLiteral("models"), QStringLiteral("--db"), db, QStringLiteral("--json")}));
        const QJsonObject killed =
            listed[QStringLiteral("interrupted_runs")].toArray().first().toObject();
        QCOMPARE(killed[QStringLiteral("recipe")].toString(), QStringLiteral("adapter-tapt"));
        const int done = killed[QStringLiteral("pretrain_epochs")].toInt();
        QVERIFY2(done >= 1 && done < 3, qPrintable(QString::number(done)));
        QVERIFY(listed[QStringLiteral("backbones")].toArray().isEmpty());
        const CliResult listedKilled =
            runCli({QStringLiteral("models"), QStringLiteral("--db"), db});
        QVERIFY2(listedKilled.out.contains("continue it with emolens-cli pretrain --db"),
                 listedKilled.out.constData());
        const CliResult resumed = runCli(
            {QStringLiteral("pretrain"), QStringLiteral("--db"), db, QStringLiteral("--resume"),
             QString::number(killed[QStringLiteral("run")].toInt()), QStringLiteral("--json")});
        QVERIFY2(resumed.exitCode == 0, resumed.err.constData());
        const QJsonObject r = json(resumed);
        QCOMPARE(r[QStringLiteral("resumed_after_epoch")].toInt(), done);
        QCOMPARE(r[QStringLiteral("backbone")].toInt(), 1);
        QCOMPARE(r[QStringLiteral("clips")].toInt(), 96); // every clip, labeled or not
        QCOMPARE(r[QStringLiteral("local_attributes")].toInt(), 64);
        const QJsonArray epochs = r[QStringLiteral("epochs")].toArray();
        QCOMPARE(epochs.size(), 3);
        QVERIFY(epochs.last().toObject()[QStringLiteral("distill_loss")].toDouble() <
                epochs.first().toObject()[QStringLiteral("distill_loss")].toDouble());

        // The same settings run at once give the same losses: the resumed run lost nothing.
        const CliResult whole =
            runCli({QStringLiteral("pretrain"), QStringLiteral("--db"), db,
                    QStringLiteral("--epochs"), QStringLiteral("3"), QStringLiteral("--json")});
        QVERIFY2(whole.exitCode == 0, whole.err.constData());
        const QJsonObject w = json(whole);
        QCOMPARE(w[QStringLiteral("backbone")].toInt(), 2);
        for (int e = 0; e < 3; ++e)
            for (const char *key : {"mask_loss", "distill_loss"})
                QCOMPARE(w[QStringLiteral("epochs")][e].toObject()[QLatin1String(key)].toDouble(),
                         epochs[e].toObject()[QLatin1String(key)].toDouble());

        // ALPS ranks by the surprisal of the newest backbone (2): one clip per surprisal
        // cluster, no model needed; the same seed gives the same picks.
        const auto alps = [&db](const QStringList &more) {
            return runCli(QStringList{QStringLiteral("select"), QStringLiteral("--db"), db,
                                      QStringLiteral("--strategy"), QStringLiteral("alps"),
                                      QStringLiteral("--count"), QStringLiteral("6"),
                                      QStringLiteral("--json")} +
                          more);
        };
        const CliResult ranked = alps({});
        QVERIFY2(ranked.exitCode == 0, ranked.err.constData());
        const QJsonObject a = json(ranked);
        QCOMPARE(a[QStringLiteral("strategy")].toString(), QStringLiteral("alps"));
        QCOMPARE(a[QStringLiteral("backbone")].toInt(), 2);
        QCOMPARE(a[QStringLiteral("model")].toInt(), 0);
        QCOMPARE(a[QStringLiteral("without_surprisal")].toInt(), 0);
        QVERIFY(a[QStringLiteral("surprisal_seconds")].toDouble() > 0);
        const QJsonArray picked = a[QStringLiteral("picks")].toArray();
        QCOMPARE(picked.size(), 6);
        QSet<QString> clusters;
        QSet<int> utterances;
        double previousSize = 1e9;
        for (const QJsonValue &p : picked) {
            const QString reason = p[QStringLiteral("reason")].toString();
            QVERIFY2(reason.startsWith(QLatin1String("nearest the centre of surprisal cluster")) &&
                         reason.contains(QLatin1String(" of 6 (")),
                     qPrintable(reason));
            clusters.insert(reason.section(QLatin1Char(' '), 6, 6));
            utterances.insert(p[QStringLiteral("utterance")].toInt());
            // Largest clusters first; the score is the cluster's size.
            QVERIFY(p[QStringLiteral("score")].toDouble() <= previousSize);
            previousSize = p[QStringLiteral("score")].toDouble();
        }
        QCOMPARE(clusters.size(), 6);
        QCOMPARE(utterances.size(), 6);
        QCOMPARE(a[QStringLiteral("surprisal_cached")].toInt(), 0);
        const CliResult again = alps({QStringLiteral("--no-store")});
        QCOMPARE(json(again)[QStringLiteral("picks")].toArray(), picked);
        // The second round read every clip's surprisal from where the first kept it; a damaged
        // file is computed again, to the same picks.
        QCOMPARE(json(again)[QStringLiteral("surprisal_cached")].toInt(), 96);
        const QFileInfoList kept =
            QDir(m_dir.filePath(QStringLiteral("seed002.features/surprisal")))
                .entryInfoList({QStringLiteral("*.f32")}, QDir::Files);
        QCOMPARE(kept.size(), 1);
        {
            QFile damaged(kept.first().filePath());
            QVERIFY(damaged.open(QIODevice::ReadWrite));
            damaged.resize(damaged.size() / 2);
        }
        const QJsonObject recomputed = json(alps({QStringLiteral("--no-store")}));
        QCOMPARE(recomputed[QStringLiteral("surprisal_cached")].toInt(), 0);
        QCOMPARE(recomputed[QStringLiteral("picks")].toArray(), picked);
        QCOMPARE(
            json(alps({QStringLiteral("--no-store")}))[QStringLiteral("surprisal_cached")].toInt(),
            96);
        // Asked for backbone 1, it says so; a backbone that is not there is named.
        QCOMPARE(json(alps({QStringLiteral("--backbone"), QStringLiteral("1"),
                            QStringLiteral("--no-store")}))[QStringLiteral("backbone")]
                     .toInt(),
                 1);
        const CliResult missingBackbone = alps({QStringLiteral("--backbone"), QStringLiteral("9")});
        QCOMPARE(missingBackbone.exitCode, 1);
        QVERIFY2(missingBackbone.err.contains("no pre-trained backbone 9"),
                 missingBackbone.err.constData());
        // The loop simulated with ALPS: round 0 is the shared cold start, then ALPS's picks.
        const CliResult simulated =
            runCli({QStringLiteral("simulate"), QStringLiteral("--db"), db,
                    QStringLiteral("--strategy"), QStringLiteral("alps"),
                    QStringLiteral("--initial"), QStringLiteral("8"), QStringLiteral("--step"),
                    QStringLiteral("8"), QStringLiteral("--rounds"), QStringLiteral("2"),
                    QStringLiteral("--epochs"), QStringLiteral("2"), QStringLiteral("--folds"),
                    QStringLiteral("3"), QStringLiteral("--no-store"), QStringLiteral("--json")});
        QVERIFY2(simulated.exitCode == 0, simulated.err.constData());
        const QJsonObject curve = json(simulated);
        QCOMPARE(curve[QStringLiteral("strategy")].toString(), QStringLiteral("alps"));
        QCOMPARE(curve[QStringLiteral("backbone")].toInt(), 2);
        QCOMPARE(
            curve[QStringLiteral("rounds")].toArray().last()[QStringLiteral("labeled")].toInt(),
            24);

        // adapter-local-attributes starts from the newest backbone, in place of its own
        // pre-training, and keeps the backbone's local attributes.
        const CliResult trained =
            runCli({QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
                    QStringLiteral("adapter-local-attributes"), QStringLiteral("--epochs"),
                    QStringLiteral("2"), QStringLiteral("--json")});
        QVERIFY2(trained.exitCode == 0, trained.err.constData());
        const QJsonObject t = json(trained);
        QCOMPARE(t[QStringLiteral("backbone")].toInt(), 2);
        QVERIFY2(t[QStringLiteral("notes")].toArray().first().toString().contains(
                     u"adapter TAPT backbone 2"),
                 trained.out.constData());
        const QJsonObject clip = json(runCli({QStringLiteral("predict"), QStringLiteral("--db"), db,
                                              QStringLiteral("--utterance"), QStringLiteral("1"),
                                              QStringLiteral("--json")}))[QStringLiteral("clips")]
                                     .toArray()
                                     .first()
                                     .toObject();
        QCOMPARE(clip[QStringLiteral("local_attribute_count")].toInt(), 64);

        // Every fold of an evaluation starts from it too, or from none when told.
        const QJsonObject evaluated = json(runCli(
            {QStringLiteral("evaluate"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
             QStringLiteral("adapter-local-attributes"), QStringLiteral("--k"), QStringLiteral("3"),
             QStringLiteral("--epochs"), QStringLiteral("1"), QStringLiteral("--backbone"),
             QStringLiteral("1"), QStringLiteral("--json")}));
        QCOMPARE(evaluated[QStringLiteral("backbone")].toInt(), 1);
        QCOMPARE(evaluated[QStringLiteral("folds")].toArray().size(), 3);
        for (const QJsonValue &f : evaluated[QStringLiteral("folds")].toArray())
            QVERIFY(!f.toObject().contains(QStringLiteral("pretrain")));
        const CliResult without = runCli(
            {QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
             QStringLiteral("adapter-local-attributes"), QStringLiteral("--backbone"),
             QStringLiteral("none"), QStringLiteral("--pretrain-epochs"), QStringLiteral("0"),
             QStringLiteral("--epochs"), QStringLiteral("1"), QStringLiteral("--json")});
        QVERIFY2(without.exitCode == 0, without.err.constData());
        QCOMPARE(json(without)[QStringLiteral("backbone")].toInt(), 0);

        // A recipe whose backbone differs never starts from it; asked to, it says why.
        const CliResult wapSap =
            runCli({QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
                    QStringLiteral("wap-sap"), QStringLiteral("--backbone"), QStringLiteral("2")});
        QCOMPARE(wapSap.exitCode, 1);
        QVERIFY2(wapSap.err.contains("backbone 2 does not fit") &&
                     wapSap.err.contains("position=15"),
                 wapSap.err.constData());
        const CliResult listedText = runCli({QStringLiteral("models"), QStringLiteral("--db"), db});
        QVERIFY2(listedText.out.contains("backbone 2  adapter TAPT on 96 clips of fbank"),
                 listedText.out.constData());

        // Stored weights damaged behind the program's back (a bit flipped on disk): refused by
        // the backbone's id, not by a temporary file's name.
        {
            emolens::Database store(db);
            QVERIFY(store.open());
            QSqlQuery q(store.connection());
            QVERIFY(q.exec(QStringLiteral("UPDATE pretrained_backbones SET weights = "
                                          "CAST('damaged' AS BLOB) WHERE id = 1")));
        }
        const CliResult damaged =
            runCli({QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
                    QStringLiteral("adapter-local-attributes"), QStringLiteral("--backbone"),
                    QStringLiteral("1"), QStringLiteral("--epochs"), QStringLiteral("1")});
        QCOMPARE(damaged.exitCode, 1);
        QVERIFY2(damaged.err.contains("backbone 1 is damaged") &&
                     !damaged.err.contains("backbone.safetensors"),
                 damaged.err.constData());
    }

    void evaluateScoresHeldOutSpeakers()
    {
        // The demo corpus (6 speakers, 4 classes), its fbank features, and a 3-fold
        // speaker-independent evaluation of the baseline recipe.
        const QString demo = m_dir.filePath(QStringLiteral("demo"));
        const QString db = m_dir.filePath(QStringLiteral("evaluate.emolens"));
        QCOMPARE(runCli({QStringLiteral("demo"), QStringLiteral("--out"), demo}).exitCode, 0);
        QCOMPARE(runCli({QStringLiteral("import"), demo, QStringLiteral("--db"), db}).exitCode, 0);
        const QStringList evaluate = {
            QStringLiteral("evaluate"), QStringLiteral("--db"),     db,
            QStringLiteral("--recipe"), QStringLiteral("baseline"), QStringLiteral("--k"),
            QStringLiteral("3"),        QStringLiteral("--json")};
        // Without features: a clear error naming the command that makes them.
        const CliResult early = runCli(evaluate);
        QCOMPARE(early.exitCode, 1);
        QVERIFY2(early.err.contains("extract"), early.err.constData());
        QCOMPARE(runCli({QStringLiteral("extract"), QStringLiteral("--db"), db}).exitCode, 0);

        const CliResult r = runCli(evaluate);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject o = json(r);
        QCOMPARE(o[QStringLiteral("n")].toInt(), 96);
        QCOMPARE(o[QStringLiteral("labels")].toArray().size(), 4);
        QCOMPARE(o[QStringLiteral("recipe")].toString(), QStringLiteral("baseline"));
        QVERIFY(o[QStringLiteral("acoustic_inputs")].toBool()); // on by default with fbank
        // Pooled: the confusion matrix holds every clip once; UA is well above chance (0.25).
        int total = 0;
        for (const QJsonValue &row : o[QStringLiteral("confusion")].toArray())
            for (const QJsonValue &v : row.toArray())
                total += v.toInt();
        QCOMPARE(total, 96);
        const double ua = o[QStringLiteral("ua")].toDouble();
        qInfo("baseline on fbank + acoustic inputs, 3 speaker folds: UA %.3f", ua);
        QVERIFY2(ua > 0.4, qPrintable(QString::number(ua)));
        // Folds: speaker-disjoint, every speaker tested once, validation speakers never tested
        // in their own fold.
        QSet<QString> tested;
        const QJsonArray folds = o[QStringLiteral("folds")].toArray();
        QCOMPARE(folds.size(), 3);
        for (const QJsonValue &f : folds) {
            const QJsonObject fold = f.toObject();
            QCOMPARE(fold[QStringLiteral("test_speakers")].toArray().size(), 2);
            for (const QJsonValue &s : fold[QStringLiteral("test_speakers")].toArray()) {
                QVERIFY(!tested.contains(s.toString()));
                tested.insert(s.toString());
            }
            for (const QJsonValue &s : fold[QStringLiteral("validation_speakers")].toArray())
                QVERIFY(!fold[QStringLiteral("test_speakers")].toArray().contains(s));
            QCOMPARE(fold[QStringLiteral("n")].toInt(), 32);
        }
        QCOMPARE(tested.size(), 6);
        {
            // The run is kept with its pooled and per-fold matrices (the analysis views' input).
            emolens::Database store(db);
            QVERIFY(store.open());
            emolens::ModelRepository runs(store);
            const auto run = runs.run(o[QStringLiteral("run")].toInt());
            QVERIFY(run.has_value());
            QCOMPARE(run->kind, QStringLiteral("evaluate"));
            QCOMPARE(run->status, QStringLiteral("succeeded"));
            QVERIFY(run->settings.contains(u"\"fold_count\":3"));
            const QList<emolens::MetricsRow> rows = runs.metrics(run->id);
            QCOMPARE(rows.size(), 4);
            QCOMPARE(rows[0].fold, 0);
            QCOMPARE(rows[0].split, QStringLiteral("test"));
            QCOMPARE(rows[0].n, 96);
            QCOMPARE(rows[0].ua, ua);
            for (int t = 0; t < 4; ++t)
                for (int p = 0; p < 4; ++p)
                    QCOMPARE(rows[0].confusion[t][p],
                             o[QStringLiteral("confusion")].toArray()[t].toArray()[p].toInt());
            for (int f = 1; f <= 3; ++f) {
                QCOMPARE(rows[f].fold, f);
                QCOMPARE(rows[f].n, 32);
                QCOMPARE(rows[f].ua, folds[f - 1][QStringLiteral("ua")].toDouble());
            }
            // ... and with each fold's predictions per clip: every cell lists as many clips as
            // the stored matrix counts, each fold's clips are its test speakers', and pooled
            // every clip is listed once.
            QSet<qint64> pooledClips;
            for (int f = 0; f <= 3; ++f) {
                emolens::ModelConfusion c;
                QVERIFY(emolens::runConfusion(store, run->id, f, &c).ok());
                QVERIFY(c.clipsListed);
                const QJsonArray speakers =
                    f > 0 ? folds[f - 1][QStringLiteral("test_speakers")].toArray() : QJsonArray();
                int listed = 0;
                for (int t = 0; t < 4; ++t)
                    for (int p = 0; p < 4; ++p) {
                        QCOMPARE(int(c.cells[t][p].size()), rows[f].confusion[t][p]);
                        listed += int(c.cells[t][p].size());
                        for (qint64 id : c.cells[t][p]) {
                            const emolens::ConfusionClip clip = c.clips.value(id);
                            QCOMPARE(clip.truth, rows[f].labels[t]);
                            QCOMPARE(clip.predicted, rows[f].labels[p]);
                            QVERIFY(clip.confidence > 0 && clip.confidence <= 1);
                            if (f > 0)
                                QVERIFY2(speakers.contains(clip.speaker), qPrintable(clip.speaker));
                            else
                                pooledClips.insert(id);
                        }
                    }
                QCOMPARE(listed, rows[f].n);
            }
            QCOMPARE(pooledClips.size(), 96);
            emolens::ModelConfusion missing;
            QVERIFY(!emolens::runConfusion(store, run->id, 9, &missing).ok());
        }
        // The same seed gives the same result.
        QCOMPARE(json(runCli(evaluate))[QStringLiteral("ua")].toDouble(), ua);

        // train: a model on all labels, stored with its predictions; the first becomes active.
        const QStringList train = {
            QStringLiteral("train"),    QStringLiteral("--db"),     db,
            QStringLiteral("--recipe"), QStringLiteral("baseline"), QStringLiteral("--json")};
        const CliResult trained = runCli(train);
        QVERIFY2(trained.exitCode == 0, trained.err.constData());
        const QJsonObject first = json(trained);
        QVERIFY(first[QStringLiteral("model")].toInt() > 0);
        QVERIFY(first[QStringLiteral("active")].toBool());
        QCOMPARE(first[QStringLiteral("predicted_clips")].toInt(), 96);
        // Two validation speakers of six, never trained on.
        QCOMPARE(first[QStringLiteral("validation")][QStringLiteral("speakers")].toArray().size(),
                 2);
        QCOMPARE(first[QStringLiteral("validation")][QStringLiteral("n")].toInt(), 32);
        QCOMPARE(first[QStringLiteral("train_clips")].toInt(), 64);
        {
            // The confusion view's matrix: the model's stored predictions on the held-out
            // speakers give the matrix its run stored, cell by cell, with the clips in each.
            emolens::Database store(db);
            QVERIFY(store.open());
            const qint64 modelId = first[QStringLiteral("model")].toInt();
            emolens::ModelConfusion held;
            QVERIFY(emolens::modelConfusion(store, modelId, emolens::ConfusionSplit::Validation,
                                            &held));
            const auto model = emolens::ModelRepository(store).model(modelId);
            QVERIFY(model.has_value());
            const QList<emolens::MetricsRow> stored =
                emolens::ModelRepository(store).metrics(model->runId);
            QCOMPARE(stored.size(), 1);
            QCOMPARE(held.classes, stored[0].labels);
            QCOMPARE(held.metrics.confusion, stored[0].confusion);
            QCOMPARE(held.metrics.count, 32);
            QCOMPARE(held.metrics.ua, stored[0].ua);
            QCOMPARE(held.withoutPrediction, 0);
            QSet<QString> heldSpeakers;
            for (qsizetype t = 0; t < held.classes.size(); ++t)
                for (qsizetype p = 0; p < held.classes.size(); ++p) {
                    QCOMPARE(held.cells[t][p].size(), qsizetype(held.metrics.confusion[t][p]));
                    for (qint64 id : held.cells[t][p]) {
                        const emolens::ConfusionClip clip = held.clips.value(id);
                        QCOMPARE(clip.truth, held.classes[t]);
                        QCOMPARE(clip.predicted, held.classes[p]);
                        heldSpeakers.insert(clip.speaker);
                    }
                }
            QCOMPARE(heldSpeakers.size(), 2);
            QVERIFY(held.validationSpeakers.contains(*heldSpeakers.cbegin()));
            emolens::ModelConfusion all;
            QVERIFY(
                emolens::modelConfusion(store, modelId, emolens::ConfusionSplit::Labeled, &all));
            QCOMPARE(all.metrics.count, 96);
            QVERIFY(!emolens::modelConfusion(store, 999, emolens::ConfusionSplit::Labeled, &all));
        }
        // A second model trained for one epoch only: compared with the active one on the same
        // speakers; it becomes active only if it scores at least as well, and says so.
        QStringList once = train;
        once << QStringLiteral("--epochs") << QStringLiteral("1");
        const QJsonObject second = json(runCli(once));
        QCOMPARE(second[QStringLiteral("previous_active")].toInt(),
                 first[QStringLiteral("model")].toInt());
        const double previousUa = second[QStringLiteral("previous_ua")].toDouble();
        QCOMPARE(previousUa, first[QStringLiteral("validation")][QStringLiteral("ua")].toDouble());
        QCOMPARE(second[QStringLiteral("active")].toBool(),
                 second[QStringLiteral("validation")][QStringLiteral("ua")].toDouble() >=
                     previousUa);

        const CliResult listed = runCli(
            {QStringLiteral("models"), QStringLiteral("--db"), db, QStringLiteral("--json")});
        QCOMPARE(listed.exitCode, 0);
        const QJsonArray models = json(listed)[QStringLiteral("models")].toArray();
        QCOMPARE(models.size(), 2);
        int active = 0;
        for (const QJsonValue &m : models)
            active += m.toObject()[QStringLiteral("active")].toBool() ? 1 : 0;
        QCOMPARE(active, 1);
        QCOMPARE(models.first().toObject()[QStringLiteral("recipe")].toString(),
                 QStringLiteral("baseline"));
        QCOMPARE(models.first().toObject()[QStringLiteral("labels")].toArray().size(), 4);

        // predict: the active model's clip and frame posteriors of an utterance.
        const CliResult predicted =
            runCli({QStringLiteral("predict"), QStringLiteral("--db"), db,
                    QStringLiteral("--utterance"), QStringLiteral("1"), QStringLiteral("--json")});
        QVERIFY2(predicted.exitCode == 0, predicted.err.constData());
        const QJsonObject clip =
            json(predicted)[QStringLiteral("clips")].toArray().first().toObject();
        const QJsonArray labels = clip[QStringLiteral("labels")].toArray();
        QCOMPARE(labels.size(), 4);
        QVERIFY(labels.contains(clip[QStringLiteral("label")]));
        QCOMPARE(clip[QStringLiteral("frame_rate")].toDouble(), 50.0);
        const QJsonArray frames = clip[QStringLiteral("frames")].toArray();
        QVERIFY(frames.size() > 50); // about 2 s at 50 frames per second
        for (const QJsonValue &frame : frames) {
            double sum = 0;
            for (const QJsonValue &p : frame.toArray())
                sum += p.toDouble();
            QVERIFY(std::abs(sum - 1) < 1e-4);
        }
        double best = 0;
        for (const QJsonValue &p : clip[QStringLiteral("probabilities")].toObject())
            best = std::max(best, p.toDouble());
        QCOMPARE(clip[QStringLiteral("confidence")].toDouble(), best);
        // predict --in: an audio file's features computed with the model's encoder give the
        // same answer as the utterance's cached ones; a file that is not audio is refused by
        // name.
        QString audioOfFirst;
        {
            emolens::Database d(db);
            QVERIFY(d.open());
            audioOfFirst = emolens::CorpusRepository(d).utterance(1)->path;
        }
        const CliResult fromFile =
            runCli({QStringLiteral("predict"), QStringLiteral("--db"), db, QStringLiteral("--in"),
                    audioOfFirst, QStringLiteral("--json")});
        QVERIFY2(fromFile.exitCode == 0, fromFile.err.constData());
        const QJsonObject fileClip =
            json(fromFile)[QStringLiteral("clips")].toArray().first().toObject();
        QCOMPARE(fileClip[QStringLiteral("path")].toString(), audioOfFirst);
        QCOMPARE(fileClip[QStringLiteral("label")], clip[QStringLiteral("label")]);
        QCOMPARE(fileClip[QStringLiteral("frames")].toArray().size(), frames.size());
        for (const QString &c : clip[QStringLiteral("probabilities")].toObject().keys())
            QVERIFY(std::abs(fileClip[QStringLiteral("probabilities")][c].toDouble() -
                             clip[QStringLiteral("probabilities")][c].toDouble()) < 1e-5);
        const QString notAudio = m_dir.filePath(QStringLiteral("notes.wav"));
        {
            QFile f(notAudio);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("These are meeting notes, not a recording.\n");
        }
        const CliResult refused = runCli({QStringLiteral("predict"), QStringLiteral("--db"), db,
                                          QStringLiteral("--in"), notAudio});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains(notAudio.toUtf8()), refused.err.constData());

        const CliResult unknown = runCli({QStringLiteral("predict"), QStringLiteral("--db"), db,
                                          QStringLiteral("--model"), QStringLiteral("99"),
                                          QStringLiteral("--utterance"), QStringLiteral("1")});
        QCOMPARE(unknown.exitCode, 1);
        QVERIFY2(unknown.err.contains("no model 99"), unknown.err.constData());

        // A training run killed mid-way: its epochs so far stay, no model is stored, and the
        // next program to open the workspace marks the run interrupted.
        auto epochsOfLastRun = [&db](QString *status) {
            emolens::Database d(db);
            if (!d.open())
                return -1;
            emolens::ModelRepository repository(d);
            const QList<emolens::TrainingRunRecord> runs = repository.runs();
            if (runs.isEmpty())
                return -1;
            *status = runs.first().status;
            return int(repository.epochs(runs.first().id).size());
        };
        QProcess job;
        job.start(QStringLiteral(EMOLENS_CLI_PATH),
                  {QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--recipe"),
                   QStringLiteral("wap-sap"), QStringLiteral("--epochs"), QStringLiteral("8")});
        QVERIFY(job.waitForStarted());
        QString status;
        QTRY_VERIFY_WITH_TIMEOUT(epochsOfLastRun(&status) >= 1 && status == u"running", 120000);
        job.kill();
        QVERIFY(job.waitForFinished());
        const int keptEpochs = epochsOfLastRun(&status);
        QCOMPARE(status, QStringLiteral("running"));
        QCOMPARE(runCli({QStringLiteral("models"), QStringLiteral("--db"), db}).exitCode, 0);
        QCOMPARE(epochsOfLastRun(&status), keptEpochs);
        QCOMPARE(status, QStringLiteral("interrupted"));
        const QJsonObject listedAfterKill = json(runCli(
            {QStringLiteral("models"), QStringLiteral("--db"), db, QStringLiteral("--json")}));
        QCOMPARE(listedAfterKill[QStringLiteral("models")].toArray().size(), 2);
        const QJsonObject killedRun =
            listedAfterKill[QStringLiteral("interrupted_runs")].toArray().first().toObject();
        QVERIFY(killedRun[QStringLiteral("resumable")].toBool());
        const int runId = killedRun[QStringLiteral("run")].toInt();

        // ... and `train --resume RUN` continues it from its last epoch to the end: the same
        // run, its epochs continued, a model stored, the checkpoint gone.
        const CliResult clash =
            runCli({QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--resume"),
                    QString::number(runId), QStringLiteral("--seed"), QStringLiteral("3")});
        QCOMPARE(clash.exitCode, 1);
        QVERIFY2(clash.err.contains("leave out --seed"), clash.err.constData());
        const CliResult resumed =
            runCli({QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--resume"),
                    QString::number(runId), QStringLiteral("--json")});
        QVERIFY2(resumed.exitCode == 0, resumed.err.constData());
        const QJsonObject finished = json(resumed);
        QCOMPARE(finished[QStringLiteral("run")].toInt(), runId);
        QVERIFY(finished[QStringLiteral("resumed_after_epoch")].toInt() >= keptEpochs);
        QVERIFY(finished[QStringLiteral("model")].toInt() > 0);
        QCOMPARE(finished[QStringLiteral("validation_ua_by_epoch")].toArray().size(),
                 epochsOfLastRun(&status));
        QVERIFY(finished[QStringLiteral("validation_ua_by_epoch")].toArray().size() > keptEpochs);
        QCOMPARE(status, QStringLiteral("succeeded"));
        QVERIFY(!QFileInfo::exists(emolens::TrainJob::checkpointPath(db, runId)));
        const CliResult again = runCli({QStringLiteral("train"), QStringLiteral("--db"), db,
                                        QStringLiteral("--resume"), QString::number(runId)});
        QCOMPARE(again.exitCode, 1);
        QVERIFY2(again.err.contains("only an interrupted run can be resumed"),
                 again.err.constData());
    }

private:
    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(CliTest)
#include "test_cli.moc"
