#pragma once
// ImportController: the GUI side of File > Import Corpus. It submits an ImportJob (the job
// the CLI's `import` runs) to the window's JobQueue and keeps the report of the last import
// for the window and the report dialog. Like FeatureExtractionController, it says what
// happened; the window decides what to show.
//
// Ownership and threads: GUI thread only; the queue must outlive the controller.

#include "jobs/ImportJob.h"
#include "jobs/JobQueue.h"

#include <QObject>
#include <memory>

namespace emolens {

class ImportController : public QObject
{
    Q_OBJECT

public:
    explicit ImportController(JobQueue *queue, QObject *parent = nullptr);

    // Queues the import; it starts when the queue is free. False when an import is already
    // queued or running.
    bool start(const ImportRequest &request);
    bool isRunning() const { return m_jobId != 0; }
    void cancel();

    // The request and report of the last finished import.
    const ImportRequest &lastRequest() const { return m_lastRequest; }
    const ImportReport &lastReport() const { return m_lastReport; }
    const JobResult &lastResult() const { return m_lastResult; }

Q_SIGNALS:
    void progress(double fraction, const QString &message, const QString &etaText);
    void finished(const emolens::JobResult &result);

private:
    JobQueue *m_queue = nullptr;
    std::shared_ptr<ImportJob> m_job;
    int m_jobId = 0;
    ImportRequest m_lastRequest;
    ImportReport m_lastReport;
    JobResult m_lastResult;
};

} // namespace emolens
