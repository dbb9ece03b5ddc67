#pragma once
// JobQueue: the one place that decides when long jobs run. Policy: one job at a time, first
// come first served. The store has one writer at a time and this machine class has few cores,
// so two long jobs side by side would each run at half speed and fight for the write lock;
// queueing them finishes the first one sooner and the pair no later. A job submitted while
// another runs waits; cancelling a waiting job removes it (it finishes as Cancelled without
// having run); cancelling the running one asks it to stop at its next check.
//
// Every job is identified by the id submit() returns. Signals carry it, so each controller
// (import, extraction, later training) listens for its own jobs only.
//
// Ownership and threads: create and use on the GUI thread (or any thread with an event loop);
// jobs run on worker threads through a JobRunner. The queue keeps a shared_ptr to each job
// until its jobFinished() has been emitted; the submitter keeps its own to read the report.
//
//   const int id = queue->submit(std::make_shared<ImportJob>(request));
//   connect(queue, &JobQueue::jobFinished, this, [id](int done, const JobResult &r) {
//       if (done == id) ...; });

#include "jobs/Job.h"
#include "jobs/JobRunner.h"

#include <QList>
#include <QObject>
#include <QString>
#include <QVariant>
#include <memory>

namespace emolens {

class JobQueue : public QObject
{
    Q_OBJECT

public:
    explicit JobQueue(QObject *parent = nullptr);

    // Adds the job; it starts at once when nothing runs. Returns its id (> 0), or 0 for null.
    int submit(std::shared_ptr<Job> job);

    bool isBusy() const { return m_runner->isRunning() || !m_waiting.isEmpty(); }
    bool isRunning(int id) const { return id != 0 && id == m_runningId; }
    bool isWaiting(int id) const;
    int runningId() const { return m_runningId; }
    QString runningName() const;
    // The running job's cancelEffect(), or a plain description when it gives none.
    QString runningCancelEffect() const;
    int waitingCount() const { return int(m_waiting.size()); }
    bool isCancelRequested() const { return m_runner->isCancelRequested(); }

    // For programs without a window (the CLI): runs the job through a queue of its own on a
    // worker thread, with a local event loop on the calling thread, and returns its result.
    // Progress goes to `progress` (on the calling thread); progress.isCancelled() is polled
    // every 50 ms and cancels the job. Needs a QCoreApplication.
    static JobResult runToEnd(std::shared_ptr<Job> job, ProgressSink &progress);

public Q_SLOTS:
    // Cancels the job: removed when waiting, asked to stop when running. Unknown ids: nothing.
    void cancel(int id);
    // Cancels the running job and removes every waiting one.
    void cancelAll();

Q_SIGNALS:
    void jobQueued(int id, const QString &name);
    void jobStarted(int id, const QString &name);
    // fraction in [0, 1]; etaText is e.g. "12 s left", or empty while unknown.
    void progress(int id, double fraction, const QString &message, const QString &etaText);
    void intermediate(int id, const QVariant &result);
    void jobFinished(int id, const emolens::JobResult &result);
    // Emitted when the last job has finished and nothing waits.
    void idle();

private:
    struct Entry
    {
        int id = 0;
        std::shared_ptr<Job> job;
    };
    void startNext();
    void onRunnerFinished(const JobResult &result);

    JobRunner *m_runner = nullptr;
    QList<Entry> m_waiting;
    int m_runningId = 0;
    int m_nextId = 1;
};

} // namespace emolens
