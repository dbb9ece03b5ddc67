#pragma once
// WaveformView: the clip's waveform as min/max per pixel column from the PeakPyramid (so a
// one-hour file draws as fast as a one-second one), under a time ruler in seconds.
// GUI thread only; shares the clip read-only.

#include "TimeRangeView.h"

namespace emolens {

class WaveformView : public TimeRangeView
{
    Q_OBJECT

public:
    static constexpr int kRulerHeight = 22;

    explicit WaveformView(QWidget *parent = nullptr);

    QSize sizeHint() const override { return {600, 160}; }
    QSize minimumSizeHint() const override { return {120, 70}; }

protected:
    void paintContent(QPainter &painter, const QRect &rect) override;
    QRect overlayRect() const override;

private:
    void paintRuler(QPainter &painter, const QRect &ruler);
};

} // namespace emolens
