#pragma once
// ImportJob: CorpusImporter::run as a Job, for the JobQueue (GUI) and runJob() (CLI). The
// import writes in one transaction, so a cancel keeps nothing: it ends as Cancelled.
//
// Threads: construct anywhere; run() on a worker thread; read report() after it returned.

#include "corpus/CorpusImporter.h"
#include "jobs/Job.h"

namespace emolens {

class ImportJob final : public Job
{
public:
    explicit ImportJob(ImportRequest request) : m_request(std::move(request)) {}

    QString name() const override;
    JobResult run(ProgressSink &progress) override;
    QString cancelEffect() const override
    {
        return QStringLiteral("Stop the import; nothing is written to the workspace");
    }

    const ImportRequest &request() const { return m_request; }
    const ImportReport &report() const { return m_report; }

private:
    ImportRequest m_request;
    ImportReport m_report;
};

} // namespace emolens
