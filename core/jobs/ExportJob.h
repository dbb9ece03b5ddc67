#pragma once
// ExportJob: CorpusExporter::run as a Job, for File > Export in the window (through the
// JobQueue) and the CLI's `export` (through JobQueue::runToEnd). csv and jsonl are written
// through QSaveFile, so a cancel or a failure leaves an existing file as it was; the formats
// with one file per clip keep the files written before a cancel (they are whole files).
//
// Threads: construct anywhere; run() on a worker thread (it opens its own Database
// connection); read report() after it returned.

#include "corpus/CorpusExporter.h"
#include "jobs/Job.h"

namespace emolens {

struct ExportJobRequest
{
    QString databasePath;
    ExportRequest exportRequest;
};

class ExportJob final : public Job
{
public:
    explicit ExportJob(ExportJobRequest request) : m_request(std::move(request)) {}

    QString name() const override;
    JobResult run(ProgressSink &progress) override;
    QString cancelEffect() const override
    {
        return QStringLiteral("Stop the export; a CSV or JSON Lines file is not written");
    }

    const ExportJobRequest &request() const { return m_request; }
    const ExportReport &report() const { return m_report; }

private:
    ExportJobRequest m_request;
    ExportReport m_report;
};

} // namespace emolens
