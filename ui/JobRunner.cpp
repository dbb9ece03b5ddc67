#include "JobRunner.h"

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
                       std::function<void(double, const QString &)> deliver)
        : m_cancelled(std::move(cancelled)), m_deliver(std::move(deliver))
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

private:
    std::shared_ptr<std::atomic<bool>> m_cancelled;
    std::function<void(double, const QString &)> m_deliver;
    QElapsedTimer m_sinceLast;
    QString m_lastMessage;
};

} // namespace

JobRunner::JobRunner(QObject *parent) : QObject(parent) {}

JobRunner::~JobRunner()
{
    if (m_thread) {
        m_cancelled->store(true);
        m_thread->wait();
        delete m_thread;
    }
}

bool JobRunner::start(Job job)
{
    if (m_running || !job)
        return false;
    if (m_thread) {
        m_thread->wait(); // already finished: its finished() was delivered
        delete m_thread;
        m_thread = nullptr;
    }
    m_cancelled->store(false);
    m_result = std::make_shared<Status>();
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
    auto result = m_result;
    auto cancelled = m_cancelled;
    m_thread = QThread::create([job = std::move(job), result, cancelled, deliver] {
        ForwardingProgress sink(cancelled, deliver);
        *result = job(sink);
    });
    m_thread->setObjectName(QStringLiteral("emolens-job"));
    connect(m_thread, &QThread::finished, this, &JobRunner::onThreadFinished, Qt::QueuedConnection);
    m_thread->start(QThread::LowPriority);
    return true;
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
    const Status status = m_result ? *m_result : Status::success();
    Q_EMIT finished(status);
}

} // namespace emolens
