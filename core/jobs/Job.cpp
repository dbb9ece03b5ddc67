#include "jobs/Job.h"

#include "OutOfMemory.h"

namespace emolens {

QString jobOutcomeName(JobOutcome outcome)
{
    switch (outcome) {
    case JobOutcome::Succeeded:
        return QStringLiteral("succeeded");
    case JobOutcome::Failed:
        return QStringLiteral("failed");
    case JobOutcome::Cancelled:
        return QStringLiteral("cancelled");
    case JobOutcome::Stopped:
        return QStringLiteral("stopped");
    }
    return QString();
}

JobResult JobResult::succeeded(QString summary)
{
    return {JobOutcome::Succeeded, std::move(summary), false, {}};
}

JobResult JobResult::failed(QString reason, bool outOfMemory)
{
    if (reason.isEmpty())
        reason = QStringLiteral("unknown error");
    return {JobOutcome::Failed, std::move(reason), outOfMemory, {}};
}

JobResult JobResult::cancelled(QString summary)
{
    return {JobOutcome::Cancelled, std::move(summary), false, {}};
}

JobResult JobResult::stopped(QString summary)
{
    return {JobOutcome::Stopped, std::move(summary), false, {}};
}

Status JobResult::toStatus() const
{
    return outcome == JobOutcome::Failed ? Status::failure(summary) : Status::success();
}

JobResult runJob(Job &job, ProgressSink &progress) noexcept
{
    QString name;
    try {
        name = job.name();
        return job.run(progress);
    } catch (...) {
        // Building the message can itself run out of memory: then a fixed text is all we say.
        try {
            const CaughtException caught = describeCurrentException();
            const QString cause = QString::fromStdString(caught.message);
            return JobResult::failed(
                caught.outOfMemory ? QStringLiteral("%1 ran out of memory: %2").arg(name, cause)
                                   : QStringLiteral("%1 failed: %2").arg(name, cause),
                caught.outOfMemory);
        } catch (...) {
            JobResult result;
            result.outcome = JobOutcome::Failed;
            result.summary = QStringLiteral("a job ran out of memory");
            result.outOfMemory = true;
            return result;
        }
    }
}

} // namespace emolens
