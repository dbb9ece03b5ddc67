#pragma once
// JobRunner: runs one Job on its own QThread and reports back on the thread that owns the
// runner (the GUI thread in the app). Progress is forwarded through queued calls, throttled so
// that a fast job cannot flood the event loop; intermediate results are never dropped. The
// job runs inside runJob()'s exception barrier, so finished() always follows start().
//
// Most code does not use a runner directly: long jobs go through the JobQueue, which owns the
// one-at-a-time policy. A runner is for short private background work (decoding a clip for a
// view, validating a model folder) that must not wait behind a long job.
//
// Ownership and threads: create, start, cancel and delete a JobRunner on its owner thread.
// The destructor cancels a running job and waits for it to return: at shutdown only. Windows
// close only after finished() (see MainWindow::closeEvent), so the GUI never waits there.
//
//   auto *runner = new JobRunner(this);
//   connect(runner, &JobRunner::finished, this, [runner](const JobResult &r) { ...;
//           runner->deleteLater(); });
//   runner->start(std::make_shared<FunctionJob>(tr("Decode"), [](ProgressSink &p) { ... }));

#include "common/EtaEstimator.h"
#include "jobs/Job.h"

#include <QObject>
#include <QString>
#include <QVariant>
#include <atomic>
#include <memory>

class QThread;

namespace emolens {

class JobRunner : public QObject
{
    Q_OBJECT

public:
    explicit JobRunner(QObject *parent = nullptr);
    ~JobRunner() override;

    // Starts the job on a new thread. Returns false (and does nothing) while a job runs.
    bool start(std::shared_ptr<Job> job);
    // Shorthand for small work that returns a Status: a failed Status is a Failed result.
    bool start(const QString &name, std::function<Status(ProgressSink &)> work);
    bool isRunning() const { return m_running; }
    bool isCancelRequested() const { return m_cancelled->load(); }
    // The job running, or the last one that ran (null before the first start()).
    std::shared_ptr<Job> job() const { return m_job; }

public Q_SLOTS:
    // Asks the job to stop at its next isCancelled() check; finished() still follows.
    void cancel();

Q_SIGNALS:
    // fraction in [0, 1]; etaText is e.g. "12 s left", or empty while unknown.
    void progress(double fraction, const QString &message, const QString &etaText);
    void intermediate(const QVariant &result);
    void finished(const emolens::JobResult &result);

private:
    void onProgress(double fraction, const QString &message);
    void onThreadFinished();

    QThread *m_thread = nullptr;
    bool m_running = false;
    std::shared_ptr<Job> m_job;
    // Shared with the worker's sink.
    std::shared_ptr<std::atomic<bool>> m_cancelled = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<JobResult> m_result;
    EtaEstimator m_eta;
};

} // namespace emolens

Q_DECLARE_METATYPE(emolens::JobResult)
Q_DECLARE_METATYPE(emolens::Status)
