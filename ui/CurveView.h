#pragma once
// CurveView: the clip's pitch (F0, voiced frames only, on a log axis labelled on the left)
// and energy (dB re full scale, its own scale on the right) under the waveform and the
// spectrogram, on the same visible time range, with the playback cursor and the selection.
// The curves are computed off the GUI thread with the spectrogram (see ClipView, ClipAudio)
// and shared read-only; until they arrive the view shows its placeholder text
// ("Computing pitch..."). Hovering shows the time, F0 and energy of the frame under the
// pointer. GUI thread only.

#include "TimeRangeView.h"
#include "audio/AcousticCurves.h"

#include <memory>

namespace emolens {

class CurveView : public TimeRangeView
{
    Q_OBJECT

public:
    static constexpr double kLowestHz = 50;
    static constexpr double kHighestHz = 500;

    explicit CurveView(QWidget *parent = nullptr);

    // Null: the placeholder text is drawn instead.
    void setCurves(std::shared_ptr<const AcousticCurves> curves);
    const std::shared_ptr<const AcousticCurves> &curves() const { return m_curves; }

    // The energy scale on the right, fitted to the clip's curve (whole 10 dB steps).
    double energyBottomDb() const { return m_energyBottomDb; }
    double energyTopDb() const { return m_energyTopDb; }

    // What hovering at pos shows: time, F0 (or "unvoiced") and energy of the frame there.
    // Empty where there is no frame.
    QString frameDescriptionAt(const QPoint &pos) const;

    QSize sizeHint() const override { return {600, 100}; }
    QSize minimumSizeHint() const override { return {120, 90}; }

protected:
    void paintContent(QPainter &painter, const QRect &rect) override;
    bool event(QEvent *event) override;

private:
    QRectF plotRect(const QRect &area) const;
    double yAtHz(double hz, const QRectF &plot) const;
    double yAtDb(double db, const QRectF &plot) const;
    void paintCurves(QPainter &painter, const QRectF &plot);
    void paintAxes(QPainter &painter, const QRectF &plot);
    void paintLegend(QPainter &painter, const QRectF &plot);

    std::shared_ptr<const AcousticCurves> m_curves;
    double m_energyBottomDb = -80;
    double m_energyTopDb = 0;
};

} // namespace emolens
