#pragma once
// TraceView: the clip view's trace lane - the annotators' time-continuous traces of one
// dimension (arousal, valence, ...) from -1 to 1 on the same time range, cursor and selection
// as the waveform: each annotator's current trace in their own colour, the fused trace (the
// evaluator weighted estimator, TraceFusion) in black when two or more traced the clip, and
// while recording the trace so far in red with the value the pointer sets. Hidden (no height)
// while the clip has no trace and nothing is recorded.
//
// The lane's context menu chooses which traced dimension it shows; the choice holds for the
// next clips too.
//
// Recording input (TraceRecorder listens): while recording, the pointer's height over the
// lane sets the value (top +1, bottom -1), the wheel moves it by 0.05 a notch, Up and Down by
// 0.1; clicks do not seek. GUI thread only.

#include "TimeRangeView.h"
#include "analysis/TraceFusion.h"
#include "store/Records.h"

#include <QList>

namespace emolens {

class TraceView : public TimeRangeView
{
    Q_OBJECT

public:
    static constexpr int kLaneHeight = 84;

    explicit TraceView(QWidget *parent = nullptr);

    // The clip's current traces (every dimension); the lane shows `dimension`'s, else the one
    // last chosen from its menu, else the first dimension's.
    void setTraces(const QList<TraceRecord> &traces, double durationSeconds,
                   const QString &dimension = QString());
    const QList<TraceRecord> &traces() const { return m_traces; }
    QString dimension() const { return m_dimension; }
    // The dimensions the clip has traces of, sorted.
    QStringList dimensions() const;
    // What the context menu does.
    void chooseDimension(const QString &dimension);
    // The shown dimension's traces fused (empty grid when fewer than 2 annotators).
    const FusedTraces &fused() const { return m_fused; }

    // Recording: the trace so far (samples at rateHz from 0) and the value now; a countdown
    // above 0 is drawn over the lane instead. stopRecording() returns to the stored traces.
    void showRecording(const QString &dimension, const std::vector<float> &samples, double rateHz,
                       double value, int countdownSeconds);
    void stopRecording();
    bool isRecording() const { return m_recording; }

    // The value -1..1 at a height of the lane.
    double valueAtY(double y) const;
    double yAtValue(double value) const;

    QSize sizeHint() const override { return {600, kLaneHeight}; }
    QSize minimumSizeHint() const override { return {120, 0}; }

Q_SIGNALS:
    // While recording: the value the pointer, the wheel or the keys set, and which of them
    // ("mouse", "wheel", "keyboard").
    void valueRequested(double value, const QString &input);

protected:
    void paintContent(QPainter &painter, const QRect &rect) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void contextMenuEvent(QContextMenuEvent *event) override;
    bool event(QEvent *event) override;

private:
    void updateHeight();
    void drawSeries(QPainter &painter, const std::vector<double> &values, double rateHz,
                    double startSeconds, const QColor &colour, double width);

    QList<TraceRecord> m_traces;
    QString m_dimension;
    QString m_chosen; // from the menu
    double m_durationSeconds = 0;
    FusedTraces m_fused;
    bool m_recording = false;
    std::vector<float> m_live;
    double m_liveRate = 25;
    double m_value = 0;
    int m_countdown = 0;
};

} // namespace emolens
