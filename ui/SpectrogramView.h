#pragma once
// SpectrogramView: the clip's log-mel spectrogram (computed once per clip, off the GUI
// thread for long clips, see ClipAudio) drawn for the visible time range, with a few
// frequency marks on the mel axis. GUI thread only.

#include "TimeRangeView.h"

namespace emolens {

class SpectrogramView : public TimeRangeView
{
    Q_OBJECT

public:
    explicit SpectrogramView(QWidget *parent = nullptr);

    QSize sizeHint() const override { return {600, 140}; }
    QSize minimumSizeHint() const override { return {120, 60}; }

protected:
    void paintContent(QPainter &painter, const QRect &rect) override;
};

} // namespace emolens
