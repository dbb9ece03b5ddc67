#include "ImportController.h"

#include "ImportReportDialog.h"

#include <QDir>
#include <QFileInfo>
#include <QMessageBox>

namespace emolens {

ImportController::ImportController(JobQueue *queue, QWidget *dialogParent, QObject *parent)
    : QObject(parent), m_queue(queue), m_dialogParent(dialogParent)
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
        present(result);
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

void ImportController::present(const JobResult &result)
{
    if (result.outcome == JobOutcome::Failed) {
        auto *box = new QMessageBox(QMessageBox::Warning, tr("Import Failed"), result.summary,
                                    QMessageBox::Ok, m_dialogParent);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
        Q_EMIT message(tr("Import failed: %1").arg(result.summary), 10000);
        return;
    }
    if (result.wasCancelled()) {
        Q_EMIT message(tr("Import cancelled; the workspace is unchanged"), 8000);
        return;
    }
    const ImportReport &report = m_lastReport;
    // The job's summary names every count that is not zero (new, changed, moved, unchanged);
    // a single moved file is named here too, more go to the job log.
    QString text = result.summary;
    const auto &moved = report.outcome.movedPaths;
    if (moved.size() == 1)
        text += tr("; %1 is now %2")
                    .arg(QFileInfo(moved.first().first).fileName(),
                         QDir::toNativeSeparators(
                             QDir(m_lastRequest.rootPath).relativeFilePath(moved.first().second)));
    else if (!result.details.isEmpty())
        text += tr(" (View > Job Log lists each file)");
    Q_EMIT message(text, 30000);
    if (!report.skipped.isEmpty()) {
        if (m_reportDialog)
            m_reportDialog->close();
        m_reportDialog = new ImportReportDialog(report, m_lastRequest.rootPath, m_dialogParent);
        m_reportDialog->show();
    }
}

void ImportController::cancel()
{
    if (m_jobId != 0)
        m_queue->cancel(m_jobId);
}

} // namespace emolens
