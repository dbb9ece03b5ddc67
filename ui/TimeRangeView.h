#pragma once
// TimeRangeView: the common ground of the clip's stacked views (waveform, spectrogram): a
// visible time range set from outside (ClipView keeps every view on the same range), a
// playback cursor, a highlighted selection, and the mouse gestures that ask for changes -
// click to seek, drag (with or without Shift) to select, Ctrl+wheel to zoom around the
// pointer, wheel to scroll. The view never changes the range itself: it emits a request and
// ClipView answers by setting the range on all views. GUI thread only.

#include "ClipAudio.h"

#include <QWidget>
#include <memory>

namespace emolens {

class TimeRangeView : public QWidget
{
    Q_OBJECT

public:
    explicit TimeRangeView(QWidget *parent = nullptr);

    void setClip(std::shared_ptr<const ClipAudio> clip);
    const std::shared_ptr<const ClipAudio> &clip() const { return m_clip; }

    void setVisibleRange(double startSeconds, double endSeconds);
    double visibleStartSeconds() const { return m_startSeconds; }
    double visibleEndSeconds() const { return m_endSeconds; }
    void setCursorSeconds(double seconds);
    // endSeconds <= startSeconds clears the selection.
    void setSelection(double startSeconds, double endSeconds);

    // Shown while the clip is decoding or when it could not be read.
    void setPlaceholderText(const QString &text);

Q_SIGNALS:
    void seekRequested(double seconds);
    void selectionChanged(double startSeconds, double endSeconds);
    // factor > 1 zooms in; the time under anchorSeconds stays under the pointer.
    void zoomRequested(double factor, double anchorSeconds);
    void scrollRequested(double deltaSeconds);

protected:
    // Draws the content for the visible range into rect (the whole widget less any margin
    // the subclass keeps, e.g. the ruler).
    virtual void paintContent(QPainter &painter, const QRect &rect) = 0;
    // Where the selection and cursor are drawn (the default: the whole widget).
    virtual QRect overlayRect() const { return rect(); }
    virtual void clipChanged() {}

    double secondsAtX(double x) const;
    double xAtSeconds(double seconds) const;
    double secondsPerPixel() const;
    const QString &placeholderText() const { return m_placeholder; }

    void paintEvent(QPaintEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;

private:
    std::shared_ptr<const ClipAudio> m_clip;
    double m_startSeconds = 0;
    double m_endSeconds = 1;
    double m_cursorSeconds = -1;
    double m_selectionStart = 0;
    double m_selectionEnd = 0;
    QString m_placeholder;

    bool m_pressed = false;
    bool m_dragging = false;
    double m_pressX = 0;
    double m_pressSeconds = 0;
};

} // namespace emolens
