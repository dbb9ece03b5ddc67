#include "EmotionCurveView.h"

#include "ClassColours.h"

#include <QHelpEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>
#include <cmath>

namespace emolens {

EmotionCurveView::EmotionCurveView(QWidget *parent) : TimeRangeView(parent)
{
    setMouseTracking(true);
    setToolTip(QString());
    setPosteriors(FramePosteriors());
}

void EmotionCurveView::setPosteriors(const FramePosteriors &posteriors)
{
    m_posteriors = posteriors;
    // A line of text when there are no curves, so the waveform keeps the room; the curves'
    // height when there are.
    const int height = posteriors.frameCount > 0 ? kCurvesHeight : kMessageHeight;
    if (minimumHeight() != height || maximumHeight() != height)
        setFixedHeight(height);
    update();
}

QString EmotionCurveView::frameDescriptionAt(const QPoint &pos) const
{
    const FramePosteriors &p = m_posteriors;
    if (p.frameCount == 0 || p.framesPerSecond <= 0)
        return QString();
    const double seconds = secondsAtX(pos.x());
    const int frame = int(std::floor(seconds * p.framesPerSecond));
    if (frame < 0 || frame >= p.frameCount)
        return QString();
    QStringList parts;
    const int classes = int(p.classes.size());
    for (int c = 0; c < classes; ++c)
        parts << QStringLiteral("%1 %2")
                     .arg(p.classes[c])
                     .arg(p.values[std::size_t(frame * classes + c)], 0, 'f', 2);
    return tr("%1 s   %2").arg(seconds, 0, 'f', 2).arg(parts.join(QStringLiteral(", ")));
}

bool EmotionCurveView::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const QString text = frameDescriptionAt(help->pos());
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(help->globalPos(), text, this);
        return true;
    }
    return TimeRangeView::event(event);
}

void EmotionCurveView::paintContent(QPainter &painter, const QRect &area)
{
    painter.fillRect(area, QColor(250, 251, 252));
    const FramePosteriors &p = m_posteriors;
    if (!clip() || p.frameCount == 0) {
        painter.setPen(palette().color(QPalette::PlaceholderText));
        painter.drawText(area, Qt::AlignCenter,
                         placeholderText().isEmpty() ? tr("No emotion curves") : placeholderText());
        painter.setPen(palette().color(QPalette::Mid));
        painter.drawLine(area.topLeft(), area.topRight());
        return;
    }
    const QRectF plot = QRectF(area).adjusted(0, 14, 0, -3);
    // 0.5 and 1.0 guides.
    painter.setPen(QPen(QColor(226, 229, 233), 1));
    for (double v : {0.5, 1.0}) {
        const double y = std::floor(plot.bottom() - v * plot.height()) + 0.5;
        painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y));
    }
    const int classes = int(p.classes.size());
    const double fps = p.framesPerSecond;
    const int first = std::max(0, int(std::floor(visibleStartSeconds() * fps)) - 1);
    const int last = std::min(p.frameCount - 1, int(std::ceil(visibleEndSeconds() * fps)) + 1);
    painter.setRenderHint(QPainter::Antialiasing, true);
    for (int c = 0; c < classes; ++c) {
        QPainterPath path;
        for (int f = first; f <= last; ++f) {
            const QPointF point(xAtSeconds((f + 0.5) / fps),
                                plot.bottom() -
                                    p.values[std::size_t(f * classes + c)] * plot.height());
            if (f == first)
                path.moveTo(point);
            else
                path.lineTo(point);
        }
        painter.setPen(QPen(classColour(p.classes, c), 1.8));
        painter.drawPath(path);
    }
    painter.setRenderHint(QPainter::Antialiasing, false);
    // Legend: each class in its colour, with the clip's posterior.
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    painter.setFont(small);
    const QFontMetrics metrics(small);
    double x = area.left() + 6;
    for (int c = 0; c < classes; ++c) {
        const QString text =
            c < int(p.clip.size())
                ? QStringLiteral("%1 %2").arg(p.classes[c]).arg(p.clip[std::size_t(c)], 0, 'f', 2)
                : p.classes[c];
        const QColor colour = classColour(p.classes, c);
        painter.fillRect(QRectF(x, area.top() + 5, 12, 3), colour);
        painter.setPen(palette().color(QPalette::WindowText));
        painter.drawText(QPointF(x + 16, area.top() + 11), text);
        x += 16 + metrics.horizontalAdvance(text) + 12;
    }
    painter.setPen(palette().color(QPalette::Mid));
    painter.drawLine(area.topLeft(), area.topRight());
}

} // namespace emolens
