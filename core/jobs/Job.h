#pragma once
// Job: one long piece of work (an import, an extraction, later training or t-SNE) that runs
// on a worker thread, reports progress through a ProgressSink and ends in a JobResult. The
// GUI runs jobs through a JobQueue, the CLI through runJob() on its own thread; both go
// through the same exception barrier, so no exception ever leaves a job.
//
// A job keeps its own typed report (ImportJob::report(), ExtractFeaturesJob::report()), read
// by whoever started it once the job has finished; the JobResult carries what every job has
// in common: how it ended and one line for the user.
//
// Threads: run() is called once, on a worker thread; it must not touch widgets and opens its
// own Database connection. name() may be called from any thread.
//
//   ImportJob job(request);
//   const JobResult result = runJob(job, progressPrinter);
//   if (result.outcome == JobOutcome::Failed) print(result.summary);

#include "common/Progress.h"
#include "common/Status.h"

#include <QString>
#include <QStringList>
#include <functional>

namespace emolens {

enum class JobOutcome {
    Succeeded, // everything asked for was done (some items may still be reported as skipped)
    Failed,    // the job could not do its work; summary says why
    Cancelled, // the user cancelled and nothing of this run was kept
    Stopped,   // the user cancelled and what was done before is kept (a rerun continues)
};

QString jobOutcomeName(JobOutcome outcome); // "succeeded", "failed", "cancelled", "stopped"

struct JobResult
{
    JobOutcome outcome = JobOutcome::Succeeded;
    QString summary;          // one line in the user's words: what was done, or why it failed
    bool outOfMemory = false; // Failed because memory ran out (told by the exception's type)
    QStringList details;      // what the summary counts, item by item: a skipped or failed
                              // file with its reason, a moved file (old -> new); for the log

    static JobResult succeeded(QString summary = {});
    static JobResult failed(QString reason, bool outOfMemory = false);
    static JobResult cancelled(QString summary);
    static JobResult stopped(QString summary);

    bool ok() const { return outcome == JobOutcome::Succeeded; }
    bool wasCancelled() const
    {
        return outcome == JobOutcome::Cancelled || outcome == JobOutcome::Stopped;
    }
    // Failed becomes a failed Status with the summary; every other outcome is success.
    Status toStatus() const;
};

class Job
{
public:
    virtual ~Job() = default;
    // What the user sees in the job area and the job log, e.g. "Import RAVDESS".
    virtual QString name() const = 0;
    // The work. May throw: runJob() turns any exception into a Failed result.
    virtual JobResult run(ProgressSink &progress) = 0;
    // What a cancel keeps, in the user's words (the Cancel button's tooltip), e.g. "Stop the
    // import; nothing is written to the workspace". Empty: a plain "Stop".
    virtual QString cancelEffect() const { return QString(); }
};

// A job made of a function, for small background work that needs no class of its own.
class FunctionJob final : public Job
{
public:
    using Work = std::function<JobResult(ProgressSink &)>;
    FunctionJob(QString name, Work work) : m_name(std::move(name)), m_work(std::move(work)) {}
    QString name() const override { return m_name; }
    JobResult run(ProgressSink &progress) override { return m_work(progress); }

private:
    QString m_name;
    Work m_work;
};

// The exception barrier: runs job.run(progress) on the calling thread and returns its result.
// Any exception (std::bad_alloc, c10::Error, std::exception, anything else) becomes a Failed
// result that names the job and the cause; out of memory is recognised by type.
JobResult runJob(Job &job, ProgressSink &progress) noexcept;

} // namespace emolens
