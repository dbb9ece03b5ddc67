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
    m_classFrames.assign(std::size_t(posteriors.classes.size()), 0.0);
    if (hasBand())
        for (int k = 0; k < posteriors.localAttributeCount; ++k)
            for (std::size_t c = 0; c < m_classFrames.size(); ++c)
                m_classFrames[c] +=
                    posteriors.attributeClassFrames[std::size_t(k) * m_classFrames.size() + c];
    // A line of text when there are no curves, so the waveform keeps the room; the curves'
    // height when there are (and the band's, with local attributes).
    const int height = posteriors.frameCount == 0 ? kMessageHeight
                       : hasBand()                ? kCurvesHeight + kBandHeight + 2
                                                  : kCurvesHeight;
    if (minimumHeight() != height || maximumHeight() != height)
        setFixedHeight(height);
    update();
}

bool EmotionCurveView::hasBand() const
{
    const FramePosteriors &p = m_posteriors;
    return p.localAttributeCount > 0 && int(p.localAttributes.size()) == p.frameCount &&
           p.attributeClassFrames.size() ==
               std::size_t(p.localAttributeCount) * std::size_t(p.classes.size());
}

QRect EmotionCurveView::bandRect() const
{
    if (!hasBand())
        return QRect();
    return QRect(0, height() - kBandHeight - 2, width(), kBandHeight);
}

int EmotionCurveView::frameAt(const QPoint &pos) const
{
    const FramePosteriors &p = m_posteriors;
    if (p.frameCount == 0 || p.framesPerSecond <= 0)
        return -1;
    const int frame = int(std::floor(secondsAtX(pos.x()) * p.framesPerSecond));
    return frame >= 0 && frame < p.frameCount ? frame : -1;
}

QString EmotionCurveView::attributeDescriptionAt(const QPoint &pos) const
{
    const int frame = frameAt(pos);
    if (frame < 0 || !hasBand())
        return QString();
    const FramePosteriors &p = m_posteriors;
    const int id = p.localAttributes[std::size_t(frame)];
    if (id < 0 || id >= p.localAttributeCount)
        return QString();
    QStringList parts;
    double total = 0;
    const std::size_t classes = std::size_t(p.classes.size());
    for (std::size_t c = 0; c < classes; ++c) {
        const double n = p.attributeClassFrames[std::size_t(id) * classes + c];
        total += n;
        parts << (m_classFrames[c] > 0 ? tr("%1 % of %2")
                                             .arg(100.0 * n / m_classFrames[c], 0, 'f', 1)
                                             .arg(p.classes[int(c)])
                                       : tr("no %1 frames").arg(p.classes[int(c)]));
    }
    return tr("local attribute %1 of %2: %3 (%Ln labeled frame(s))", nullptr, int(total))
        .arg(id)
        .arg(p.localAttributeCount)
        .arg(parts.join(QStringLiteral(", ")));
}

QString EmotionCurveView::frameDescriptionAt(const QPoint &pos) const
{
    const FramePosteriors &p = m_posteriors;
    const int frame = frameAt(pos);
    if (frame < 0)
        return QString();
    const double seconds = secondsAtX(pos.x());
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
        QString text = frameDescriptionAt(help->pos());
        if (const QString attribute = attributeDescriptionAt(help->pos()); !attribute.isEmpty())
            text += QLatin1Char('\n') + attribute;
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
    const bool band = hasBand();
    const QRectF plot = QRectF(area).adjusted(0, 14, 0, band ? -(kBandHeight + 2 + 3) : -3);
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
    // The local attributes: one run of colour per stretch of frames with the same id.
    if (band) {
        const QRect strip(area.left(), area.bottom() - kBandHeight - 1, area.width(), kBandHeight);
        for (int f = first; f <= last;) {
            const int id = p.localAttributes[std::size_t(f)];
            int end = f + 1;
            while (end <= last && p.localAttributes[std::size_t(end)] == id)
                ++end;
            const double x0 = xAtSeconds(f / fps);
            const double x1 = xAtSeconds(end / fps);
            painter.fillRect(QRectF(x0, strip.top(), x1 - x0, strip.height()),
                             localAttributeColour(id));
            f = end;
        }
    }
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
    if (band) {
        const QString text = tr("band: local attributes (%1)").arg(p.localAttributeCount);
        const double width = metrics.horizontalAdvance(text);
        if (area.right() - 6 - width > x) {
            painter.setPen(palette().color(QPalette::PlaceholderText));
            painter.drawText(QPointF(area.right() - 6 - width, area.top() + 11), text);
        }
    }
    painter.setPen(palette().color(QPalette::Mid));
    painter.drawLine(area.topLeft(), area.topRight());
}

} // namespace emolens
