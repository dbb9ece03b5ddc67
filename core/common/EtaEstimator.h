#pragma once
// EtaEstimator: remaining time of a job from its progress fraction and elapsed time.
// Used by the GUI's job runner and the CLI's progress printer alike. Not thread-safe: owned
// by the one thread that receives the progress.

#include <QElapsedTimer>
#include <QString>

namespace emolens {

class EtaEstimator
{
public:
    EtaEstimator() { m_clock.start(); }
    void restart() { m_clock.restart(); }
    double elapsedSeconds() const { return m_clock.elapsed() / 1000.0; }

    // Seconds left, or a negative value while too little is known (first 2 % or first second).
    double remainingSeconds(double fraction) const
    {
        const double elapsed = elapsedSeconds();
        if (fraction < 0.02 || elapsed < 1.0 || fraction >= 1.0)
            return fraction >= 1.0 ? 0.0 : -1.0;
        return elapsed * (1.0 - fraction) / fraction;
    }

    // "about 2 min left", "12 s left", or "" when unknown.
    static QString describe(double seconds)
    {
        if (seconds < 0)
            return QString();
        if (seconds < 90)
            return QStringLiteral("%1 s left").arg(qRound(seconds));
        if (seconds < 5400)
            return QStringLiteral("about %1 min left").arg(qRound(seconds / 60));
        return QStringLiteral("about %1 h left").arg(seconds / 3600, 0, 'f', 1);
    }

private:
    QElapsedTimer m_clock;
};

} // namespace emolens
