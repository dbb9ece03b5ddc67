#include "jobs/JobRunner.h"

#include "OutOfMemory.h"
#include "common/Progress.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QThread>

namespace emolens {

namespace {

// Lives on the worker thread's stack for the duration of the job.
class ForwardingProgress final : public ProgressSink
{
public:
    ForwardingProgress(std::shared_ptr<std::atomic<bool>> cancelled,
                       std::function<void(double, const QString &)> deliver,
                       std::function<void(const QVariant &)> deliverIntermediate)
        : m_cancelled(std::move(cancelled)), m_deliver(std::move(deliver)),
          m_deliverIntermediate(std::move(deliverIntermediate))
    {
        m_sinceLast.start();
    }

    void setProgress(double fraction, const QString &message) override
    {
        // At most ~30 updates a second reach the GUI, but a new message or the end always does.
        const bool changedText = message != m_lastMessage;
        if (!changedText && fraction < 1.0 && m_sinceLast.elapsed() < 33)
            return;
        m_sinceLast.restart();
        m_lastMessage = message;
        m_deliver(fraction, message);
    }
    bool isCancelled() const override { return m_cancelled->load(); }
    void publish(const QVariant &intermediate) override { m_deliverIntermediate(intermediate); }

private:
    std::shared_ptr<std::atomic<bool>> m_cancelled;
    std::function<void(double, const QString &)> m_deliver;
    std::function<void(const QVariant &)> m_deliverIntermediate;
    QElapsedTimer m_sinceLast;
    QString m_lastMessage;
};

} // namespace

JobRunner::JobRunner(QObject *parent) : QObject(parent)
{
    qRegisterMetaType<emolens::JobResult>();
    // Before any job allocates a tensor: CPU allocation failures then arrive as std::bad_alloc.
    guardCpuAllocations();
}

JobRunner::~JobRunner()
{
    if (m_thread) {
        m_cancelled->store(true);
        m_thread->wait();
        delete m_thread;
    }
}

bool JobRunner::start(std::shared_ptr<Job> job)
{
    if (m_running || !job)
        return false;
    if (m_thread) {
        m_thread->wait(); // already finished: its finished() was delivered
        delete m_thread;
        m_thread = nullptr;
    }
    m_cancelled->store(false);
    m_result = std::make_shared<JobResult>();
    m_job = job;
    m_eta.restart();
    m_running = true;

    QPointer<JobRunner> self(this);
    auto deliver = [self](double fraction, const QString &message) {
        // Queued onto the runner's thread; dropped if the runner is gone.
        QMetaObject::invokeMethod(
            self.data(),
            [self, fraction, message] {
                if (self)
                    self->onProgress(fraction, message);
            },
            Qt::QueuedConnection);
    };
    auto deliverIntermediate = [self](const QVariant &value) {
        QMetaObject::invokeMethod(
            self.data(),
            [self, value] {
                if (self && self->m_running)
                    Q_EMIT self->intermediate(value);
            },
            Qt::QueuedConnection);
    };
    auto result = m_result;
    auto cancelled = m_cancelled;
    m_thread = QThread::create([job, result, cancelled, deliver, deliverIntermediate] {
        ForwardingProgress sink(cancelled, deliver, deliverIntermediate);
        *result = runJob(*job, sink);
    });
    m_thread->setObjectName(QStringLiteral("emolens-job"));
    connect(m_thread, &QThread::finished, this, &JobRunner::onThreadFinished, Qt::QueuedConnection);
    m_thread->start(QThread::LowPriority);
    return true;
}

bool JobRunner::start(const QString &name, std::function<Status(ProgressSink &)> work)
{
    return start(std::make_shared<FunctionJob>(name, [work](ProgressSink &progress) {
        const Status st = work(progress);
        return st ? JobResult::succeeded() : JobResult::failed(st.error());
    }));
}

void JobRunner::cancel()
{
    if (m_running)
        m_cancelled->store(true);
}

void JobRunner::onProgress(double fraction, const QString &message)
{
    if (!m_running)
        return;
    const double clamped = qBound(0.0, fraction, 1.0);
    Q_EMIT progress(clamped, message, EtaEstimator::describe(m_eta.remainingSeconds(clamped)));
}

void JobRunner::onThreadFinished()
{
    if (!m_running)
        return;
    m_running = false;
    const JobResult result = m_result ? *m_result : JobResult::succeeded();
    Q_EMIT finished(result);
}

} // namespace emolens
