// Time-continuous traces (store/TraceRepository, analysis/TraceFusion, corpus/TraceCsv) on a
// real workspace (the emodb test corpus imported into a real SQLite file): traces are stored
// append-only per annotator, dimension and clip, refused when out of range or in a corpus's
// name; read on a grid by interpolation; reaction lag is compensated by a fixed shift and
// estimated per annotator (a trace delayed by 0.4 s is found 0.4 s late); the EWE weights an
// annotator who disagrees down to nothing where the mean does not; CCC and Cronbach's alpha
// are 1 for identical traces; traces export to CSV and import back unchanged, twice without
// doubling, and a bad file's rows are reported by line while the good ones are imported.

#include "analysis/LabelAgreement.h"
#include "analysis/TraceFusion.h"
#include "corpus/TraceCsv.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "store/TraceRepository.h"

#include "ImportedWorkspace.h"

#include <QFile>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <cmath>
#include <memory>

using namespace emolens;

namespace {

// A smooth signal in -1..1 of incommensurate sines, so that no shift of a few seconds
// resembles another.
double signal(double t)
{
    return 0.4 * std::sin(2 * M_PI * 0.13 * t) + 0.3 * std::sin(2 * M_PI * 0.31 * t + 1.0) +
           0.2 * std::sin(2 * M_PI * 0.71 * t + 2.0) + 0.1 * std::sin(2 * M_PI * 1.7 * t + 0.5);
}

TraceRecord traceOf(qint64 clip, const QString &who, const std::function<double(double)> &f,
                    double seconds, double delaySeconds = 0,
                    const QString &dimension = QStringLiteral("arousal"))
{
    TraceRecord t;
    t.utteranceId = clip;
    t.annotatorName = who;
    t.dimension = dimension;
    t.rateHz = 25;
    t.input = QStringLiteral("mouse");
    for (int i = 0; i < int(seconds * 25); ++i)
        t.samples.push_back(float(f(i / 25.0 - delaySeconds)));
    return t;
}

} // namespace

class TestTraces : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    std::unique_ptr<Database> workspace(const QString &name, QList<UtteranceRecord> *clips)
    {
        return test::importedWorkspace(QStringLiteral("emodb"), m_dir.filePath(name), clips);
    }

private Q_SLOTS:
    void tracesAreStoredAppendOnlyAndChecked()
    {
        QList<UtteranceRecord> clips;
        auto db = workspace(QStringLiteral("store.emolens"), &clips);
        QVERIFY(db);
        TraceRepository traces(*db);
        TraceRecord first = traceOf(clips[0].id, QStringLiteral("ann"), signal, 2);
        QVERIFY(traces.addTrace(&first));
        QVERIFY(first.id > 0);
        TraceRecord again = traceOf(
            clips[0].id, QStringLiteral("ann"), [](double t) { return -signal(t); }, 2);
        QVERIFY(traces.addTrace(&again));
        TraceRecord valence =
            traceOf(clips[0].id, QStringLiteral("ann"), signal, 2, 0, QStringLiteral("valence"));
        QVERIFY(traces.addTrace(&valence));
        QList<TraceRecord> current;
        QVERIFY(traces.currentTraces(clips[0].id, &current));
        QCOMPARE(current.size(), 2); // arousal (the newer) and valence
        QCOMPARE(current[0].dimension, QStringLiteral("arousal"));
        QCOMPARE(current[0].id, again.id);
        QCOMPARE(current[0].samples, again.samples);
        QCOMPARE(current[0].rateHz, 25.0);
        QList<TraceRecord> history;
        QVERIFY(traces.history(clips[0].id, &history));
        QCOMPARE(history.size(), 3);

        // Append-only: the store refuses to change a stored trace.
        QSqlQuery q(db->connection());
        QVERIFY(!q.exec(QStringLiteral("UPDATE traces SET dimension='valence'")));
        QVERIFY(q.lastError().text().contains(QStringLiteral("append-only")));

        TraceRecord loud = traceOf(clips[1].id, QStringLiteral("ann"), signal, 1);
        loud.samples[3] = 1.5f;
        const Status st = traces.addTrace(&loud);
        QVERIFY(!st);
        QVERIFY2(st.error().contains(QStringLiteral("outside -1..1")), qPrintable(st.error()));
        TraceRecord corpus =
            traceOf(clips[1].id,
                    LabelRepository::corpusAnnotatorName(CorpusRepository(*db).corpora()[0].name),
                    signal, 1);
        QVERIFY(!traces.addTrace(&corpus)); // a corpus does not trace
        TraceRecord empty = traceOf(clips[1].id, QStringLiteral("ann"), signal, 0);
        QVERIFY(!traces.addTrace(&empty));
        TraceRecord nowhere = traceOf(999999, QStringLiteral("ann"), signal, 1);
        QVERIFY(!traces.addTrace(&nowhere));
        QVERIFY(traces.history(clips[1].id, &history));
        QVERIFY(history.isEmpty());
    }

    void gridsInterpolateAndLagIsCompensated()
    {
        // 0 and 1 at 1 Hz, read at 4 Hz: the line between them.
        TraceRecord t;
        t.rateHz = 1;
        t.samples = {0.f, 1.f};
        const std::vector<double> grid = traceOnGrid(t, 4, 6, 0);
        QCOMPARE(grid.size(), std::size_t(6));
        for (int i = 0; i < 5; ++i)
            QVERIFY(std::abs(grid[std::size_t(i)] - i * 0.25) < 1e-12);
        QVERIFY(std::isnan(grid[5]));                               // after the trace ends
        const std::vector<double> late = traceOnGrid(t, 4, 3, 0.5); // read 0.5 s later
        QVERIFY(std::abs(late[0] - 0.5) < 1e-12);

        // ben traces the same signal 0.4 s late: estimated per annotator, his lag is 0.4 s and
        // the compensated traces agree.
        const TraceRecord ann = traceOf(1, QStringLiteral("ann"), signal, 12);
        const TraceRecord ben = traceOf(1, QStringLiteral("ben"), signal, 12, 0.4);
        const FusedTraces raw = fuseTraces({ann, ben}, 12);
        TraceFusionOptions estimate;
        estimate.estimateLag = true;
        const FusedTraces fixed = fuseTraces({ann, ben}, 12, estimate);
        QCOMPARE(fixed.lagSeconds[0], 0.0);
        QVERIFY2(std::abs(fixed.lagSeconds[1] - 0.4) < 1e-9,
                 qPrintable(QString::number(fixed.lagSeconds[1])));
        QVERIFY(fixed.pairConcordance[0][1] > 0.9999);
        QVERIFY(raw.pairConcordance[0][1] < 0.95);
        // A fixed shift applies to everyone alike.
        TraceFusionOptions shift;
        shift.fixedLagSeconds = 0.4;
        const FusedTraces shifted = fuseTraces({ben}, 12, shift);
        QVERIFY(std::abs(shifted.grid[0][0] - signal(0)) < 1e-6);
    }

    void eweWeighsDownTheAnnotatorWhoDisagrees()
    {
        const TraceRecord ann = traceOf(1, QStringLiteral("ann"), signal, 10);
        const TraceRecord ben = traceOf(1, QStringLiteral("ben"), signal, 10);
        const TraceRecord cy = traceOf(
            1, QStringLiteral("cy"), [](double t) { return -signal(t); }, 10);
        const FusedTraces f = fuseTraces({ann, ben, cy}, 10);
        QCOMPARE(f.annotators,
                 (QStringList{QStringLiteral("ann"), QStringLiteral("ben"), QStringLiteral("cy")}));
        QVERIFY(f.weights[0] > 0.99 && f.weights[1] > 0.99);
        QVERIFY(f.weights[2] < 0); // against everyone else: no weight
        for (std::size_t i = 0; i < f.ewe.size(); i += 17) {
            const double truth = signal(double(i) / 25);
            QVERIFY(std::abs(f.ewe[i] - truth) < 1e-6);      // the two who agree
            QVERIFY(std::abs(f.mean[i] - truth / 3) < 1e-6); // the mean is pulled to 0
        }
        QVERIFY(f.concordanceWithEwe[0] > 0.9999);
        // cy against the EWE (= the signal): Lin's CCC of -x with x is -2 var / (2 var + (2
        // mean)^2), the moments over the grid.
        double m = 0, v = 0;
        for (std::size_t i = 0; i < f.ewe.size(); ++i)
            m += signal(double(i) / 25) / double(f.ewe.size());
        for (std::size_t i = 0; i < f.ewe.size(); ++i)
            v += std::pow(signal(double(i) / 25) - m, 2) / double(f.ewe.size());
        QVERIFY(std::abs(f.concordanceWithEwe[2] - (-2 * v / (2 * v + 4 * m * m))) < 1e-6);
        QVERIFY(!std::isnan(f.ewe.back())); // the last sample is on the grid too
        // Two identical traces: CCC and Cronbach's alpha 1.
        const FusedTraces same = fuseTraces({ann, ben}, 10);
        QVERIFY(std::abs(same.pairConcordance[0][1] - 1) < 1e-9);
        QVERIFY(std::abs(same.cronbachAlpha - 1) < 1e-9);
    }

    void tracesGoToCsvAndComeBack()
    {
        QList<UtteranceRecord> clips;
        auto db = workspace(QStringLiteral("export.emolens"), &clips);
        QVERIFY(db);
        TraceRepository traces(*db);
        QList<TraceRecord> written;
        for (int c = 0; c < 3; ++c)
            for (const char *who : {"ann", "ben"}) {
                TraceRecord t = traceOf(clips[c].id, QString::fromLatin1(who), signal, 1 + c * 0.5,
                                        who[0] == 'b' ? 0.2 : 0);
                if (c == 2)
                    t.samples[5] = std::nanf(""); // a gap
                QVERIFY(traces.addTrace(&t));
                written << t;
            }
        const QString csv = m_dir.filePath(QStringLiteral("traces.csv"));
        int count = 0;
        QVERIFY(exportTraceCsv(*db, 0, csv, &count));
        QCOMPARE(count, 6);

        // Into a fresh workspace of the same corpus, twice.
        QList<UtteranceRecord> otherClips;
        auto other = workspace(QStringLiteral("import.emolens"), &otherClips);
        QVERIFY(other);
        TraceImportReport report;
        QVERIFY(importTraceCsv(*other, csv, &report));
        QVERIFY2(report.problems.isEmpty(), qPrintable(report.problems.value(0).reason));
        QCOMPARE(report.added, 6);
        QVERIFY(importTraceCsv(*other, csv, &report));
        QCOMPARE(report.added, 0);
        QCOMPARE(report.unchanged, 6);
        QList<TraceRecord> back;
        QVERIFY(TraceRepository(*other).allCurrentTraces(0, &back));
        QCOMPARE(back.size(), 6);
        QHash<qint64, QString> keyOf, otherKeyOf;
        for (const UtteranceRecord &u : std::as_const(clips))
            keyOf.insert(u.id, u.key);
        for (const UtteranceRecord &u : std::as_const(otherClips))
            otherKeyOf.insert(u.id, u.key);
        for (const TraceRecord &t : std::as_const(back)) {
            const auto original = std::find_if(written.begin(), written.end(), [&](const auto &w) {
                return keyOf.value(w.utteranceId) == otherKeyOf.value(t.utteranceId) &&
                       w.annotatorName == t.annotatorName;
            });
            QVERIFY(original != written.end());
            QCOMPARE(t.rateHz, 25.0);
            QCOMPARE(t.samples.size(), original->samples.size());
            for (std::size_t i = 0; i < t.samples.size(); ++i)
                QVERIFY(t.samples[i] == original->samples[i] ||
                        (std::isnan(t.samples[i]) && std::isnan(original->samples[i])));
            QCOMPARE(t.input, QStringLiteral("import"));
        }

        // A file with problems: each reported with its line; the good trace still comes in.
        const QString bad = m_dir.filePath(QStringLiteral("bad.csv"));
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("key,annotator,dimension,time_seconds,value\n");
        f.write(QStringLiteral("%1,cy,valence,0,0.1\n%1,cy,valence,0.04,0.2\n")
                    .arg(clips[0].key)
                    .toUtf8());
        f.write(QStringLiteral("%1,cy,arousal,0,0.5\n%1,cy,arousal,0.04,1.5\n")
                    .arg(clips[0].key)
                    .toUtf8());
        f.write("no-such-clip,cy,arousal,0,0.1\n");
        f.write(
            QStringLiteral("%1,cy,arousal,0,0.1\n%1,cy,arousal,0.04,0.1\n%1,cy,arousal,0.5,0.1\n")
                .arg(clips[1].key)
                .toUtf8());
        f.write("too,few\n");
        f.close();
        QVERIFY(importTraceCsv(*other, bad, &report));
        QCOMPARE(report.added, 1);
        QCOMPARE(report.problems.size(), 4);
        QStringList reasons;
        for (const ImportProblem &p : std::as_const(report.problems)) {
            QCOMPARE(p.path, bad);
            reasons << QStringLiteral("%1: %2").arg(p.line).arg(p.reason);
        }
        const QString all = reasons.join(QLatin1Char('\n'));
        QVERIFY2(all.contains(QStringLiteral("5: cy's arousal trace of %1: value \"1.5\" is not a "
                                             "number from -1 to 1")
                                  .arg(clips[0].key)),
                 qPrintable(all));
        QVERIFY2(all.contains(QStringLiteral("6: cy's arousal trace of no-such-clip: no clip")),
                 qPrintable(all));
        QVERIFY2(all.contains(QStringLiteral("not evenly spaced")), qPrintable(all));
        QVERIFY2(all.contains(QStringLiteral("10: expected 5 fields")), qPrintable(all));
        // Not a trace file at all: one clear error.
        const Status notTraces = importTraceCsv(*other, csv + QStringLiteral(".missing"), &report);
        QVERIFY(!notTraces);
        QVERIFY(notTraces.error().contains(QStringLiteral("cannot read")));
    }

    void workspaceTraceAgreement()
    {
        QList<UtteranceRecord> clips;
        auto db = workspace(QStringLiteral("agreement.emolens"), &clips);
        QVERIFY(db);
        TraceRepository traces(*db);
        // Two clips traced alike by ann and ben, one clip by ann alone.
        for (int c = 0; c < 2; ++c)
            for (const char *who : {"ann", "ben"}) {
                TraceRecord t = traceOf(clips[c].id, QString::fromLatin1(who), signal, 2);
                QVERIFY(traces.addTrace(&t));
            }
        TraceRecord alone = traceOf(clips[2].id, QStringLiteral("ann"), signal, 2);
        QVERIFY(traces.addTrace(&alone));
        QList<TraceDimensionAgreement> agreement;
        QVERIFY(traceAgreement(*db, 0, TraceFusionOptions(), &agreement));
        QCOMPARE(agreement.size(), 1);
        QCOMPARE(agreement[0].dimension, QStringLiteral("arousal"));
        QCOMPARE(agreement[0].clips, 2);
        QCOMPARE(agreement[0].traces, 4);
        QVERIFY(std::abs(agreement[0].pairConcordance - 1) < 1e-9);
        QVERIFY(std::abs(agreement[0].cronbachAlpha - 1) < 1e-9);
    }
};

QTEST_GUILESS_MAIN(TestTraces)
#include "test_traces.moc"
