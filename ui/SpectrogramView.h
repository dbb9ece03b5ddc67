#pragma once
// SpectrogramView: the clip's log-mel spectrogram (computed once per clip, off the GUI
// thread for long clips, see ClipAudio) drawn for the visible time range, with a few
// frequency marks on the mel axis. GUI thread only.

#include "ClipAudio.h"
#include "TimeRangeView.h"

#include <memory>

namespace emolens {

class SpectrogramView : public TimeRangeView
{
    Q_OBJECT

public:
    explicit SpectrogramView(QWidget *parent = nullptr);

    // The image to draw; the clip's own spectrogram when the clip is set, or one rendered
    // later for a long clip. Null: a placeholder text is drawn instead.
    void setSpectrogram(std::shared_ptr<const ClipSpectrogram> spectrogram);
    const std::shared_ptr<const ClipSpectrogram> &spectrogram() const { return m_spectrogram; }

    QSize sizeHint() const override { return {600, 140}; }
    QSize minimumSizeHint() const override { return {120, 60}; }

protected:
    void paintContent(QPainter &painter, const QRect &rect) override;

private:
    std::shared_ptr<const ClipSpectrogram> m_spectrogram;
};

} // namespace emolens
