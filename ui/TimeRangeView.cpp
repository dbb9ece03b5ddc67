#include "TimeRangeView.h"

#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>
#include <cmath>

namespace emolens {

namespace {
constexpr double kDragThresholdPixels = 3;
}

TimeRangeView::TimeRangeView(QWidget *parent) : QWidget(parent)
{
    setMouseTracking(false);
    setFocusPolicy(Qt::ClickFocus);
    setAttribute(Qt::WA_OpaquePaintEvent);
}

void TimeRangeView::setClip(std::shared_ptr<const ClipAudio> clip)
{
    m_clip = std::move(clip);
    m_selectionStart = m_selectionEnd = 0;
    m_cursorSeconds = -1;
    clipChanged();
    update();
}

void TimeRangeView::setVisibleRange(double startSeconds, double endSeconds)
{
    if (endSeconds <= startSeconds)
        endSeconds = startSeconds + 1e-3;
    if (startSeconds == m_startSeconds && endSeconds == m_endSeconds)
        return;
    m_startSeconds = startSeconds;
    m_endSeconds = endSeconds;
    update();
}

void TimeRangeView::setCursorSeconds(double seconds)
{
    if (seconds == m_cursorSeconds)
        return;
    // Repaint only the strips the line leaves and enters: playback moves it 30 times a second.
    const QRect overlay = overlayRect();
    const int oldX = int(std::floor(xAtSeconds(m_cursorSeconds)));
    m_cursorSeconds = seconds;
    const int newX = int(std::floor(xAtSeconds(m_cursorSeconds)));
    update(QRect(oldX - 2, overlay.top(), 5, overlay.height()));
    update(QRect(newX - 2, overlay.top(), 5, overlay.height()));
}

void TimeRangeView::setSelection(double startSeconds, double endSeconds)
{
    if (endSeconds <= startSeconds)
        startSeconds = endSeconds = 0;
    if (startSeconds == m_selectionStart && endSeconds == m_selectionEnd)
        return;
    m_selectionStart = startSeconds;
    m_selectionEnd = endSeconds;
    update();
}

void TimeRangeView::setPlaceholderText(const QString &text)
{
    m_placeholder = text;
    update();
}

double TimeRangeView::secondsPerPixel() const
{
    const int w = std::max(1, overlayRect().width());
    return (m_endSeconds - m_startSeconds) / w;
}

double TimeRangeView::secondsAtX(double x) const
{
    return m_startSeconds + (x - overlayRect().left()) * secondsPerPixel();
}

double TimeRangeView::xAtSeconds(double seconds) const
{
    return overlayRect().left() + (seconds - m_startSeconds) / secondsPerPixel();
}

void TimeRangeView::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    paintContent(painter, rect());
    const QRect overlay = overlayRect();
    painter.setClipRect(overlay);
    if (m_selectionEnd > m_selectionStart) {
        const double x0 = xAtSeconds(m_selectionStart);
        const double x1 = xAtSeconds(m_selectionEnd);
        const QRectF band(x0, overlay.top(), std::max(1.0, x1 - x0), overlay.height());
        painter.fillRect(band, QColor(58, 130, 220, 60));
        painter.setPen(QPen(QColor(58, 130, 220, 200), 1));
        painter.drawLine(QPointF(band.left(), band.top()), QPointF(band.left(), band.bottom()));
        painter.drawLine(QPointF(band.right(), band.top()), QPointF(band.right(), band.bottom()));
    }
    if (m_clip && m_cursorSeconds >= 0) {
        const double x = std::floor(xAtSeconds(m_cursorSeconds)) + 0.5;
        painter.setPen(QPen(QColor(220, 40, 40), 1.5));
        painter.drawLine(QPointF(x, overlay.top()), QPointF(x, overlay.bottom()));
    }
}

void TimeRangeView::mousePressEvent(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton || !m_clip) {
        QWidget::mousePressEvent(event);
        return;
    }
    m_pressed = true;
    m_dragging = false;
    m_pressX = event->position().x();
    m_pressSeconds = std::clamp(secondsAtX(m_pressX), 0.0, m_clip->durationSeconds());
}

void TimeRangeView::mouseMoveEvent(QMouseEvent *event)
{
    if (!m_pressed || !m_clip)
        return;
    const double x = event->position().x();
    if (!m_dragging && std::abs(x - m_pressX) < kDragThresholdPixels)
        return;
    m_dragging = true;
    const double seconds = std::clamp(secondsAtX(x), 0.0, m_clip->durationSeconds());
    Q_EMIT selectionChanged(std::min(seconds, m_pressSeconds), std::max(seconds, m_pressSeconds));
}

void TimeRangeView::mouseReleaseEvent(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton || !m_pressed)
        return;
    m_pressed = false;
    if (m_dragging) {
        m_dragging = false;
        return;
    }
    if (!m_clip)
        return;
    // A plain click seeks and drops the selection; Shift+click keeps it (extends nothing).
    if (!(event->modifiers() & Qt::ShiftModifier))
        Q_EMIT selectionChanged(0, 0);
    Q_EMIT seekRequested(m_pressSeconds);
}

void TimeRangeView::wheelEvent(QWheelEvent *event)
{
    const QPoint angle = event->angleDelta();
    if (event->modifiers() & Qt::ControlModifier) {
        if (angle.y() != 0) {
            const double steps = angle.y() / 120.0;
            Q_EMIT zoomRequested(std::pow(1.25, steps), secondsAtX(event->position().x()));
        }
        event->accept();
        return;
    }
    const int delta = angle.x() != 0 ? angle.x() : angle.y();
    if (delta != 0) {
        // One notch scrolls a tenth of the visible range.
        Q_EMIT scrollRequested(-delta / 120.0 * (m_endSeconds - m_startSeconds) / 10.0);
        event->accept();
        return;
    }
    QWidget::wheelEvent(event);
}

} // namespace emolens
