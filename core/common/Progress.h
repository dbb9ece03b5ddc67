#pragma once
// ProgressSink: how a long job reports progress and learns that the user cancelled.
// A job calls setProgress() from its worker thread and polls isCancelled() at least once
// per batch. Implementations must be safe to call from the worker thread: the GUI one
// forwards through queued signals, the CLI one prints.

#include <QString>
#include <QVariant>

namespace emolens {

class ProgressSink
{
public:
    virtual ~ProgressSink() = default;
    // fraction in [0, 1]; message says what is being done, in the user's words.
    virtual void setProgress(double fraction, const QString &message) = 0;
    virtual bool isCancelled() const = 0;
    // An intermediate result for views that follow the job as it goes (an epoch's metrics, a
    // layout on its way). Never throttled away: every one published is delivered, in order.
    // Sinks that show no intermediate results ignore it.
    virtual void publish(const QVariant &intermediate) { Q_UNUSED(intermediate); }
};

// A sink that ignores progress and never cancels, for callers that do not care.
class SilentProgress final : public ProgressSink
{
public:
    void setProgress(double, const QString &) override {}
    bool isCancelled() const override { return false; }
};

// Maps a sub-step's 0..1 onto [from, to] of an outer sink, so a job made of steps reports
// one bar that only moves forward.
class ScaledProgress final : public ProgressSink
{
public:
    ScaledProgress(ProgressSink &outer, double from, double to)
        : m_outer(outer), m_from(from), m_to(to)
    {
    }
    void setProgress(double fraction, const QString &message) override
    {
        m_outer.setProgress(m_from + (m_to - m_from) * fraction, message);
    }
    bool isCancelled() const override { return m_outer.isCancelled(); }
    void publish(const QVariant &intermediate) override { m_outer.publish(intermediate); }

private:
    ProgressSink &m_outer;
    double m_from;
    double m_to;
};

} // namespace emolens
