#pragma once
// ImportController: the GUI side of File > Import Corpus. It submits an ImportJob (the job
// the CLI's `import` runs) to the window's JobQueue, keeps the report of the last import, and
// tells the user how it went: a failure in a message box, the figures in message(), and the
// report dialog when files were skipped. The window reloads its views on finished().
//
// Ownership and threads: GUI thread only; the queue and the dialog parent must outlive the
// controller.

#include "jobs/ImportJob.h"
#include "jobs/JobQueue.h"

#include <QObject>
#include <QPointer>
#include <memory>

class QWidget;

namespace emolens {

class ImportController : public QObject
{
    Q_OBJECT

public:
    ImportController(JobQueue *queue, QWidget *dialogParent, QObject *parent = nullptr);

    // Queues the import; it starts when the queue is free. False when an import is already
    // queued or running.
    bool start(const ImportRequest &request);
    bool isRunning() const { return m_jobId != 0; }
    void cancel();

    // The request and report of the last finished import.
    const ImportRequest &lastRequest() const { return m_lastRequest; }
    const ImportReport &lastReport() const { return m_lastReport; }
    const JobResult &lastResult() const { return m_lastResult; }
    // The report of the last import, while it is open (it opens only when files were skipped).
    class ImportReportDialog *reportDialog() const { return m_reportDialog.data(); }

Q_SIGNALS:
    void progress(double fraction, const QString &message, const QString &etaText);
    void finished(const emolens::JobResult &result);
    // A line for the status bar.
    void message(const QString &text, int timeoutMs);

private:
    void present(const JobResult &result);

    JobQueue *m_queue = nullptr;
    QWidget *m_dialogParent = nullptr;
    QPointer<class ImportReportDialog> m_reportDialog;
    std::shared_ptr<ImportJob> m_job;
    int m_jobId = 0;
    ImportRequest m_lastRequest;
    ImportReport m_lastReport;
    JobResult m_lastResult;
};

} // namespace emolens
