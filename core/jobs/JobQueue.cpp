#include "jobs/JobQueue.h"

#include <QEventLoop>
#include <QTimer>

namespace emolens {

JobQueue::JobQueue(QObject *parent) : QObject(parent), m_runner(new JobRunner(this))
{
    connect(m_runner, &JobRunner::progress, this,
            [this](double fraction, const QString &message, const QString &eta) {
                Q_EMIT progress(m_runningId, fraction, message, eta);
            });
    connect(m_runner, &JobRunner::intermediate, this,
            [this](const QVariant &value) { Q_EMIT intermediate(m_runningId, value); });
    connect(m_runner, &JobRunner::finished, this, &JobQueue::onRunnerFinished);
}

int JobQueue::submit(std::shared_ptr<Job> job)
{
    if (!job)
        return 0;
    const int id = m_nextId++;
    m_waiting.append({id, std::move(job)});
    Q_EMIT jobQueued(id, m_waiting.last().job->name());
    if (!m_runner->isRunning())
        startNext();
    return id;
}

bool JobQueue::isWaiting(int id) const
{
    for (const Entry &e : m_waiting)
        if (e.id == id)
            return true;
    return false;
}

QString JobQueue::runningName() const
{
    return m_runner->isRunning() && m_runner->job() ? m_runner->job()->name() : QString();
}

QString JobQueue::runningCancelEffect() const
{
    if (!m_runner->isRunning() || !m_runner->job())
        return QString();
    const QString effect = m_runner->job()->cancelEffect();
    return effect.isEmpty() ? tr("Stop %1").arg(m_runner->job()->name()) : effect;
}

void JobQueue::cancel(int id)
{
    if (id != 0 && id == m_runningId) {
        m_runner->cancel();
        return;
    }
    for (int i = 0; i < m_waiting.size(); ++i) {
        if (m_waiting[i].id != id)
            continue;
        const Entry entry = m_waiting.takeAt(i);
        Q_EMIT jobFinished(
            entry.id,
            JobResult::cancelled(tr("%1: cancelled before it started").arg(entry.job->name())));
        if (!isBusy())
            Q_EMIT idle();
        return;
    }
}

void JobQueue::cancelAll()
{
    while (!m_waiting.isEmpty())
        cancel(m_waiting.first().id);
    if (m_runningId != 0)
        m_runner->cancel();
}

JobResult JobQueue::runToEnd(std::shared_ptr<Job> job, ProgressSink &progress)
{
    JobQueue queue;
    QEventLoop loop;
    JobResult result = JobResult::failed(QStringLiteral("the job did not run"));
    bool done = false;
    connect(&queue, &JobQueue::progress, &loop,
            [&progress](int, double fraction, const QString &message, const QString &) {
                progress.setProgress(fraction, message);
            });
    connect(&queue, &JobQueue::intermediate, &loop,
            [&progress](int, const QVariant &value) { progress.publish(value); });
    connect(&queue, &JobQueue::jobFinished, &loop, [&](int, const JobResult &finished) {
        result = finished;
        done = true;
        loop.quit();
    });
    QTimer cancelCheck;
    connect(&cancelCheck, &QTimer::timeout, &loop, [&] {
        if (progress.isCancelled())
            queue.cancelAll();
    });
    cancelCheck.start(50);
    if (queue.submit(std::move(job)) != 0 && !done)
        loop.exec();
    return result;
}

void JobQueue::startNext()
{
    // A jobFinished() handler may already have started the next job through submit().
    while (!m_runner->isRunning() && !m_waiting.isEmpty()) {
        const Entry entry = m_waiting.takeFirst();
        m_runningId = entry.id;
        if (m_runner->start(entry.job)) {
            Q_EMIT jobStarted(entry.id, entry.job->name());
            return;
        }
        m_runningId = 0;
        Q_EMIT jobFinished(entry.id,
                           JobResult::failed(tr("%1 could not start").arg(entry.job->name())));
    }
}

void JobQueue::onRunnerFinished(const JobResult &result)
{
    const int id = std::exchange(m_runningId, 0);
    Q_EMIT jobFinished(id, result);
    startNext();
    if (!isBusy())
        Q_EMIT idle();
}

} // namespace emolens
