#include "ImportController.h"

namespace emolens {

ImportController::ImportController(JobQueue *queue, QObject *parent)
    : QObject(parent), m_queue(queue)
{
    connect(m_queue, &JobQueue::progress, this,
            [this](int id, double fraction, const QString &message, const QString &eta) {
                if (id == m_jobId)
                    Q_EMIT progress(fraction, message, eta);
            });
    connect(m_queue, &JobQueue::jobFinished, this, [this](int id, const JobResult &result) {
        if (id != m_jobId)
            return;
        m_jobId = 0;
        m_lastRequest = m_job->request();
        m_lastReport = m_job->report();
        m_lastResult = result;
        m_job.reset();
        Q_EMIT finished(result);
    });
}

bool ImportController::start(const ImportRequest &request)
{
    if (isRunning())
        return false;
    m_job = std::make_shared<ImportJob>(request);
    m_jobId = m_queue->submit(m_job);
    return m_jobId != 0;
}

void ImportController::cancel()
{
    if (m_jobId != 0)
        m_queue->cancel(m_jobId);
}

} // namespace emolens
