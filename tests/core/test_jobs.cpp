// The job layer: the runner's exception barrier, out of memory told by type through real
// LibTorch failures, cancelled vs stopped, intermediate results, and the queue's policy.

#include "OutOfMemory.h"
#include "common/Progress.h"
#include "jobs/Job.h"
#include "jobs/JobLog.h"
#include "jobs/JobQueue.h"
#include "jobs/JobRunner.h"

#include <ATen/ATen.h>
#include <QElapsedTimer>
#include <QFile>
#include <QMutex>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>
#include <atomic>
#include <stdexcept>

using namespace emolens;

namespace {

std::shared_ptr<Job> jobThat(const QString &name, std::function<JobResult(ProgressSink &)> work)
{
    return std::make_shared<FunctionJob>(name, std::move(work));
}

JobResult resultOf(const QSignalSpy &finished)
{
    return finished.first().last().value<JobResult>();
}

} // namespace

class TestJobs : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { guardCpuAllocations(); }
    void exceptionsBecomeFailedResults_data();
    void exceptionsBecomeFailedResults();
    void torchOutOfMemoryIsToldByType();
    void torchErrorIsNotOutOfMemory();
    void runnerReportsProgressOffTheCallerThreadAndCancels();
    void runnerSurvivesAThrowingJobAndRunsTheNext();
    void intermediateResultsArriveInOrderBeforeTheEnd();
    void queueRunsOneJobAtATimeInOrder();
    void cancellingAWaitingJobRemovesIt();
    void cancelledAndStoppedAreTold();
    void runToEndServesACommandLine();
    void jobLogKeepsEachJobAcrossARestart();
    void jobLogMarksAJobCutOffByTheEndOfTheProgram();
};

void TestJobs::exceptionsBecomeFailedResults_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<bool>("outOfMemory");
    QTest::addColumn<QString>("cause");
    QTest::newRow("std::bad_alloc") << 0 << true << QStringLiteral("ran out of memory");
    QTest::newRow("std::runtime_error") << 1 << false << QStringLiteral("disk on fire");
    QTest::newRow("int") << 2 << false << QStringLiteral("unknown type");
}

void TestJobs::exceptionsBecomeFailedResults()
{
    QFETCH(int, kind);
    QFETCH(bool, outOfMemory);
    QFETCH(QString, cause);
    FunctionJob job(QStringLiteral("Fragile job"), [kind](ProgressSink &) -> JobResult {
        if (kind == 0)
            throw std::bad_alloc();
        if (kind == 1)
            throw std::runtime_error("disk on fire");
        throw 42;
    });
    SilentProgress quiet;
    const JobResult result = runJob(job, quiet);
    QCOMPARE(result.outcome, JobOutcome::Failed);
    QCOMPARE(result.outOfMemory, outOfMemory);
    QVERIFY2(result.summary.startsWith(QStringLiteral("Fragile job")), qPrintable(result.summary));
    QVERIFY2(result.summary.contains(cause), qPrintable(result.summary));
    QVERIFY(!result.toStatus().ok());
}

void TestJobs::torchOutOfMemoryIsToldByType()
{
    // A real allocation failure inside LibTorch's CPU allocator: 2^50 floats (4 PiB) cannot
    // be mapped. LibTorch itself raises a plain c10::Error here; the guard makes it typed.
    FunctionJob job(QStringLiteral("Huge tensor"), [](ProgressSink &) {
        const at::Tensor t = at::empty({std::int64_t(1) << 50}, at::kFloat);
        return JobResult::succeeded(QString::number(t.numel()));
    });
    SilentProgress quiet;
    const JobResult result = runJob(job, quiet);
    QCOMPARE(result.outcome, JobOutcome::Failed);
    QVERIFY2(result.outOfMemory, qPrintable(result.summary));
    QVERIFY(result.summary.contains(QStringLiteral("Huge tensor ran out of memory")));
}

void TestJobs::torchErrorIsNotOutOfMemory()
{
    FunctionJob job(QStringLiteral("Bad shape"), [](ProgressSink &) {
        const at::Tensor t = at::ones({2}).view({3}); // c10::Error: shape mismatch
        return JobResult::succeeded(QString::number(t.numel()));
    });
    SilentProgress quiet;
    const JobResult result = runJob(job, quiet);
    QCOMPARE(result.outcome, JobOutcome::Failed);
    QVERIFY(!result.outOfMemory);
    QVERIFY2(result.summary.startsWith(QStringLiteral("Bad shape failed: ")),
             qPrintable(result.summary));
}

void TestJobs::runnerReportsProgressOffTheCallerThreadAndCancels()
{
    JobRunner runner;
    QSignalSpy progress(&runner, &JobRunner::progress);
    QSignalSpy finished(&runner, &JobRunner::finished);
    const Qt::HANDLE callerThread = QThread::currentThreadId();
    std::atomic<bool> ranElsewhere{false};
    QVERIFY(runner.start(jobThat(QStringLiteral("Steps"), [&](ProgressSink &sink) {
        ranElsewhere = QThread::currentThreadId() != callerThread;
        for (int i = 0; i < 1000 && !sink.isCancelled(); ++i) {
            sink.setProgress(i / 1000.0, QStringLiteral("Step"));
            QThread::msleep(5);
        }
        return sink.isCancelled() ? JobResult::stopped(QStringLiteral("stopped at a step"))
                                  : JobResult::succeeded();
    })));
    QVERIFY(runner.isRunning());
    QVERIFY(!runner.start(
        jobThat(QStringLiteral("Second"), [](ProgressSink &) { return JobResult::succeeded(); })));
    QTRY_VERIFY(!progress.isEmpty());
    runner.cancel();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QVERIFY(ranElsewhere.load());
    QCOMPARE(resultOf(finished).outcome, JobOutcome::Stopped);
    QVERIFY(!runner.isRunning());
    // Throttled: a thousand steps of one message never arrive one by one.
    QVERIFY2(progress.count() < 200, qPrintable(QString::number(progress.count())));
}

void TestJobs::runnerSurvivesAThrowingJobAndRunsTheNext()
{
    JobRunner runner;
    QSignalSpy finished(&runner, &JobRunner::finished);
    QVERIFY(runner.start(jobThat(QStringLiteral("Thrower"),
                                 [](ProgressSink &) -> JobResult { throw std::bad_alloc(); })));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QCOMPARE(resultOf(finished).outcome, JobOutcome::Failed);
    QVERIFY(resultOf(finished).outOfMemory);
    QVERIFY(runner.start(jobThat(QStringLiteral("Next"), [](ProgressSink &) {
        return JobResult::succeeded(QStringLiteral("fine"));
    })));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 10000);
    QCOMPARE(finished.last().last().value<JobResult>().summary, QStringLiteral("fine"));
}

void TestJobs::intermediateResultsArriveInOrderBeforeTheEnd()
{
    JobQueue queue;
    QList<int> received;
    bool finishedBeforeAll = false;
    int finishedCount = 0;
    connect(&queue, &JobQueue::intermediate, this,
            [&](int, const QVariant &value) { received.append(value.toInt()); });
    connect(&queue, &JobQueue::jobFinished, this, [&](int, const JobResult &) {
        finishedBeforeAll = received.size() != 500;
        ++finishedCount;
    });
    queue.submit(jobThat(QStringLiteral("Epochs"), [](ProgressSink &sink) {
        for (int epoch = 0; epoch < 500; ++epoch)
            sink.publish(epoch); // far faster than progress throttling lets through
        return JobResult::succeeded();
    }));
    QTRY_COMPARE_WITH_TIMEOUT(finishedCount, 1, 10000);
    QVERIFY(!finishedBeforeAll);
    QCOMPARE(received.size(), 500);
    for (int i = 0; i < received.size(); ++i)
        QCOMPARE(received[i], i);
}

void TestJobs::queueRunsOneJobAtATimeInOrder()
{
    JobQueue queue;
    QSignalSpy idle(&queue, &JobQueue::idle);
    std::atomic<int> running{0};
    std::atomic<int> mostAtOnce{0};
    QList<int> order;
    QMutex orderLock;
    QList<int> ids;
    for (int i = 0; i < 3; ++i)
        ids << queue.submit(jobThat(QStringLiteral("Job %1").arg(i), [&, i](ProgressSink &) {
            const int now = ++running;
            mostAtOnce = std::max(mostAtOnce.load(), now);
            {
                QMutexLocker lock(&orderLock);
                order << i;
            }
            QThread::msleep(50);
            --running;
            return JobResult::succeeded();
        }));
    QVERIFY(queue.isRunning(ids[0]));
    QVERIFY(queue.isWaiting(ids[1]) && queue.isWaiting(ids[2]));
    QCOMPARE(queue.waitingCount(), 2);
    QTRY_COMPARE_WITH_TIMEOUT(idle.count(), 1, 10000);
    QCOMPARE(mostAtOnce.load(), 1);
    QCOMPARE(order, (QList<int>{0, 1, 2}));
    QVERIFY(!queue.isBusy());
}

void TestJobs::cancellingAWaitingJobRemovesIt()
{
    JobQueue queue;
    QSignalSpy finished(&queue, &JobQueue::jobFinished);
    std::atomic<bool> secondRan{false};
    const int first = queue.submit(jobThat(QStringLiteral("First"), [](ProgressSink &sink) {
        while (!sink.isCancelled())
            QThread::msleep(2);
        return JobResult::cancelled(QStringLiteral("nothing kept"));
    }));
    const int second = queue.submit(jobThat(QStringLiteral("Second"), [&](ProgressSink &) {
        secondRan = true;
        return JobResult::succeeded();
    }));
    queue.cancel(second);
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.first().first().toInt(), second);
    QCOMPARE(resultOf(finished).outcome, JobOutcome::Cancelled);
    QVERIFY(queue.isRunning(first));
    queue.cancel(first);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 10000);
    QCOMPARE(finished.last().first().toInt(), first);
    QVERIFY(!secondRan.load());
    QVERIFY(!queue.isBusy());
}

void TestJobs::cancelledAndStoppedAreTold()
{
    QCOMPARE(jobOutcomeName(JobResult::cancelled(QString()).outcome), QStringLiteral("cancelled"));
    QCOMPARE(jobOutcomeName(JobResult::stopped(QString()).outcome), QStringLiteral("stopped"));
    QVERIFY(JobResult::stopped(QString()).wasCancelled());
    QVERIFY(JobResult::cancelled(QString()).toStatus().ok());
    QVERIFY(!JobResult::failed(QString()).toStatus().ok());
    QCOMPARE(JobResult::failed(QString()).summary, QStringLiteral("unknown error"));
}

void TestJobs::runToEndServesACommandLine()
{
    // What emolens-cli does: a sink that prints and that an interrupt cancels.
    class CommandLineSink final : public ProgressSink
    {
    public:
        void setProgress(double fraction, const QString &) override { last = fraction; }
        bool isCancelled() const override { return interrupted; }
        void publish(const QVariant &value) override { published << value.toInt(); }
        double last = -1;
        bool interrupted = false;
        QList<int> published;
    } sink;
    const Qt::HANDLE callerThread = QThread::currentThreadId();
    std::atomic<bool> ranElsewhere{false};
    const JobResult done =
        JobQueue::runToEnd(jobThat(QStringLiteral("Count"),
                                   [&](ProgressSink &progress) {
                                       ranElsewhere = QThread::currentThreadId() != callerThread;
                                       for (int i = 0; i < 3; ++i)
                                           progress.publish(i);
                                       progress.setProgress(1.0, QStringLiteral("done"));
                                       return JobResult::succeeded(QStringLiteral("counted"));
                                   }),
                           sink);
    QVERIFY(ranElsewhere.load());
    QCOMPARE(done.summary, QStringLiteral("counted"));
    QCOMPARE(sink.last, 1.0);
    QCOMPARE(sink.published, (QList<int>{0, 1, 2}));

    // An interrupt reaches the job through the queue, which then stops it.
    QTimer::singleShot(100, this, [&sink] { sink.interrupted = true; });
    const JobResult stopped =
        JobQueue::runToEnd(jobThat(QStringLiteral("Wait"),
                                   [](ProgressSink &progress) {
                                       while (!progress.isCancelled())
                                           QThread::msleep(5);
                                       return JobResult::stopped(QStringLiteral("interrupted"));
                                   }),
                           sink);
    QCOMPARE(stopped.outcome, JobOutcome::Stopped);

    // A job that throws ends as a failure here too.
    const JobResult failed = JobQueue::runToEnd(
        jobThat(QStringLiteral("Thrower"),
                [](ProgressSink &) -> JobResult { throw std::runtime_error("no disk"); }),
        sink);
    QCOMPARE(failed.outcome, JobOutcome::Failed);
    QVERIFY(failed.summary.contains(QStringLiteral("no disk")));
}

void TestJobs::jobLogKeepsEachJobAcrossARestart()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("jobs.json"));
    {
        JobLog log(path);
        QVERIFY(log.entries().isEmpty());
        QVERIFY(log.loadError().isEmpty());
        log.setWorkspace(QStringLiteral("/data/study.emolens"));
        JobQueue queue;
        log.watch(&queue);
        QSignalSpy idle(&queue, &JobQueue::idle);
        queue.submit(jobThat(QStringLiteral("Import demo"), [](ProgressSink &sink) {
            sink.setProgress(0.5, QStringLiteral("half way"));
            JobResult r = JobResult::succeeded(QStringLiteral("Imported 96 clips (1 moved)"));
            r.details << QStringLiteral("Moved: a.wav -> b.wav");
            return r;
        }));
        queue.submit(
            jobThat(QStringLiteral("Extract features with fbank"),
                    [](ProgressSink &) -> JobResult { throw std::runtime_error("disk full"); }));
        queue.submit(jobThat(QStringLiteral("Extract again"), [](ProgressSink &) {
            return JobResult::stopped(QStringLiteral("stopped after 12 clips"));
        }));
        QTRY_COMPARE_WITH_TIMEOUT(idle.count(), 1, 10000);
        QCOMPARE(log.entries().size(), 3);
        QVERIFY2(log.saveError().isEmpty(), qPrintable(log.saveError()));
    }
    // A new program reads what the last one wrote.
    JobLog log(path);
    QVERIFY2(log.loadError().isEmpty(), qPrintable(log.loadError()));
    const QList<JobLogEntry> &e = log.entries();
    QCOMPARE(e.size(), 3);
    QCOMPARE(e[0].name, QStringLiteral("Import demo"));
    QCOMPARE(e[0].workspace, QStringLiteral("/data/study.emolens"));
    QCOMPARE(e[0].stateText(), QStringLiteral("succeeded"));
    QCOMPARE(e[0].summary, QStringLiteral("Imported 96 clips (1 moved)"));
    QCOMPARE(e[0].details, QStringList{QStringLiteral("Moved: a.wav -> b.wav")});
    QVERIFY(e[0].queued.isValid() && e[0].started.isValid() && e[0].ended.isValid());
    QVERIFY(e[0].queued <= e[0].started && e[0].started <= e[0].ended);
    QVERIFY(e[0].seconds() >= 0);
    QCOMPARE(e[1].stateText(), QStringLiteral("failed"));
    QVERIFY2(e[1].summary.contains(QLatin1String("disk full")), qPrintable(e[1].summary));
    QCOMPARE(e[2].stateText(), QStringLiteral("stopped"));
    QVERIFY(e[1].started <= e[2].started);

    // A damaged file starts an empty log, says why, and is replaced at the next write.
    QFile damaged(path);
    QVERIFY(damaged.open(QIODevice::WriteOnly | QIODevice::Truncate));
    damaged.write("{\"format\": \"emolens-job-log-1\", \"jobs\": [");
    damaged.close();
    JobLog fresh(path);
    QVERIFY(fresh.entries().isEmpty());
    QVERIFY2(fresh.loadError().contains(path), qPrintable(fresh.loadError()));
}

void TestJobs::jobLogMarksAJobCutOffByTheEndOfTheProgram()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("jobs.json"));
    JobLog log(path);
    JobQueue queue;
    log.watch(&queue);
    QSignalSpy started(&queue, &JobQueue::jobStarted);
    const int id = queue.submit(jobThat(QStringLiteral("Long run"), [](ProgressSink &sink) {
        while (!sink.isCancelled())
            QThread::msleep(2);
        return JobResult::stopped(QStringLiteral("stopped"));
    }));
    QTRY_COMPARE(started.count(), 1);
    QCOMPARE(log.entries().first().stateText(), QStringLiteral("running"));
    // What a program that starts now (after a crash, say) reads from the file.
    JobLog afterCrash(path);
    QCOMPARE(afterCrash.entries().size(), 1);
    QCOMPARE(afterCrash.entries().first().stateText(), QStringLiteral("interrupted"));
    QVERIFY(afterCrash.entries().first().started.isValid());
    QVERIFY(!afterCrash.entries().first().ended.isValid());

    QSignalSpy finished(&queue, &JobQueue::jobFinished);
    queue.cancel(id);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QCOMPARE(log.entries().first().stateText(), QStringLiteral("stopped"));
}

QTEST_GUILESS_MAIN(TestJobs)
#include "test_jobs.moc"
