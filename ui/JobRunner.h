#pragma once
// JobRunner: runs one long job (an import, a big decode, later training) on its own QThread
// and reports back on the GUI thread. The job is a function taking a ProgressSink; the
// runner's sink forwards progress through queued signals (throttled, so a fast job cannot
// flood the event loop) and answers isCancelled() from an atomic flag that cancel() sets.
//
// Ownership and threads: create, start, cancel and delete a JobRunner on the GUI thread.
// The job function runs on the worker thread and must not touch widgets; it opens its own
// Database connection if it needs the store. progress() and finished() are delivered on the
// runner's thread (the GUI thread). A runner runs one job at a time; start() while running
// is refused. The destructor cancels a running job and waits for it to stop (at shutdown),
// so delete a runner only after finished() unless the application is closing.
//
//   auto *runner = new JobRunner(this);
//   connect(runner, &JobRunner::finished, this, [runner](const Status &st) { ...;
//   runner->deleteLater(); }); runner->start([request, report](ProgressSink &p) { return
//   CorpusImporter::run(request, p, report.get()); });

#include "common/EtaEstimator.h"
#include "common/Status.h"

#include <QObject>
#include <QString>
#include <atomic>
#include <functional>
#include <memory>

class QThread;

namespace emolens {

class ProgressSink;

class JobRunner : public QObject
{
    Q_OBJECT

public:
    using Job = std::function<Status(ProgressSink &)>;

    explicit JobRunner(QObject *parent = nullptr);
    ~JobRunner() override;

    // Starts the job on a new thread. Returns false (and does nothing) while a job runs.
    bool start(Job job);
    bool isRunning() const { return m_running; }
    bool isCancelRequested() const { return m_cancelled->load(); }

public Q_SLOTS:
    // Asks the job to stop at its next isCancelled() check; finished() still follows.
    void cancel();

Q_SIGNALS:
    // fraction in [0, 1]; etaText is e.g. "12 s left", or empty while unknown.
    void progress(double fraction, const QString &message, const QString &etaText);
    void finished(const emolens::Status &status);

private:
    void onProgress(double fraction, const QString &message);
    void onThreadFinished();

    QThread *m_thread = nullptr;
    bool m_running = false;
    // Shared with the worker's sink, which may outlive a cancelled wait only by a moment.
    std::shared_ptr<std::atomic<bool>> m_cancelled = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<Status> m_result;
    EtaEstimator m_eta;
};

} // namespace emolens

Q_DECLARE_METATYPE(emolens::Status)
