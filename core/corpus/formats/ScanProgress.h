#pragma once
// ScanProgress: what every corpus scan does with its ProgressSink. Reports the scan's own
// progress (0..1 of the scan) at most every few hundred items, so a scan of 10,000 names
// is not slowed by progress messages, and polls for a cancel at the same points.

#include "common/Progress.h"

#include <QString>

namespace emolens {

class ScanProgress
{
public:
    explicit ScanProgress(ProgressSink &sink) : m_sink(sink) {}

    // Call once per item; returns false once the user has cancelled.
    bool advance(qsizetype done, qsizetype total, const QString &what)
    {
        if (done % 256 != 0 && done != total)
            return !m_cancelled;
        m_sink.setProgress(total > 0 ? double(done) / double(total) : 0,
                           QStringLiteral("%1 (%2 of %3)").arg(what).arg(done).arg(total));
        m_cancelled = m_sink.isCancelled();
        return !m_cancelled;
    }
    // For steps that are not per item (reading a label file, listing a folder).
    bool check(double fraction, const QString &what)
    {
        m_sink.setProgress(fraction, what);
        m_cancelled = m_sink.isCancelled();
        return !m_cancelled;
    }
    bool cancelled() const { return m_cancelled; }

private:
    ProgressSink &m_sink;
    bool m_cancelled = false;
};

} // namespace emolens
