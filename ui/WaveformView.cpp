#include "WaveformView.h"

#include <QPainter>
#include <QVector>
#include <cmath>

namespace emolens {

namespace {

// The smallest "round" tick step that leaves at least minPixels between labels.
double tickStepSeconds(double secondsPerPixel, double minPixels)
{
    static constexpr double steps[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2,
                                       0.5,   1,     2,     5,    10,   15,   30,  60,
                                       120,   300,   600,   900,  1800, 3600};
    for (double step : steps)
        if (step / secondsPerPixel >= minPixels)
            return step;
    return 7200;
}

QString tickLabel(double seconds, double step)
{
    if (step >= 60 || seconds >= 600) {
        const int total = int(std::lround(seconds));
        return QStringLiteral("%1:%2").arg(total / 60).arg(total % 60, 2, 10, QLatin1Char('0'));
    }
    const int decimals = step >= 1 ? 0 : step >= 0.1 ? 1 : step >= 0.01 ? 2 : 3;
    return QString::number(seconds, 'f', decimals) + (step >= 1 ? QStringLiteral(" s") : QString());
}

} // namespace

WaveformView::WaveformView(QWidget *parent) : TimeRangeView(parent)
{
    setToolTip(
        tr("Click to move the playback cursor; drag to select a region; Ctrl+wheel to zoom"));
}

QRect WaveformView::overlayRect() const
{
    return rect().adjusted(0, kRulerHeight, 0, 0);
}

void WaveformView::paintContent(QPainter &painter, const QRect &area)
{
    const QRect ruler(area.left(), area.top(), area.width(), kRulerHeight);
    const QRect plot = overlayRect();
    painter.fillRect(plot, QColor(250, 251, 252));
    paintRuler(painter, ruler);

    const auto &audio = clip();
    if (!audio || audio->samples.empty()) {
        painter.setPen(palette().color(QPalette::PlaceholderText));
        painter.drawText(plot, Qt::AlignCenter,
                         placeholderText().isEmpty() ? tr("No clip selected") : placeholderText());
        return;
    }

    // Past the end of the file: a quiet grey so the edge of the audio is obvious.
    const double endX = xAtSeconds(audio->durationSeconds());
    if (endX < plot.right())
        painter.fillRect(QRectF(endX, plot.top(), plot.right() - endX + 1, plot.height()),
                         QColor(236, 238, 241));

    const double mid = plot.top() + plot.height() / 2.0;
    const double halfHeight = plot.height() / 2.0 - 2;
    painter.setPen(QPen(QColor(225, 228, 232), 1));
    painter.drawLine(QPointF(plot.left(), mid - halfHeight / 2),
                     QPointF(plot.right(), mid - halfHeight / 2));
    painter.drawLine(QPointF(plot.left(), mid + halfHeight / 2),
                     QPointF(plot.right(), mid + halfHeight / 2));
    painter.setPen(QPen(QColor(200, 205, 212), 1));
    painter.drawLine(QPointF(plot.left(), mid), QPointF(plot.right(), mid));

    const int sampleRate = audio->sampleRate;
    const qint64 total = qint64(audio->samples.size());
    const qint64 firstSample = qint64(std::floor(visibleStartSeconds() * sampleRate));
    const qint64 lastSample = qint64(std::ceil(visibleEndSeconds() * sampleRate));
    const int columns = plot.width();
    const int drawnColumns =
        lastSample > total ? std::max(0, int(std::ceil(endX - plot.left()))) : columns;
    if (drawnColumns <= 0 || firstSample >= total)
        return;
    const qint64 drawnLast = std::min(total, lastSample);
    const auto peaks = audio->peaks.peaks(audio->samples, std::max<qint64>(0, firstSample),
                                          drawnLast, std::min(columns, drawnColumns));
    QVector<QLineF> lines;
    lines.reserve(int(peaks.size()));
    for (size_t i = 0; i < peaks.size(); ++i) {
        const double x = plot.left() + double(i) + 0.5;
        double top = mid - std::clamp(double(peaks[i].maximum), -1.0, 1.0) * halfHeight;
        double bottom = mid - std::clamp(double(peaks[i].minimum), -1.0, 1.0) * halfHeight;
        if (bottom - top < 1) {
            top -= 0.5;
            bottom += 0.5;
        }
        lines.append(QLineF(x, top, x, bottom));
    }
    painter.setPen(QPen(QColor(38, 96, 150), 1));
    painter.drawLines(lines);
}

void WaveformView::paintRuler(QPainter &painter, const QRect &ruler)
{
    painter.fillRect(ruler, palette().color(QPalette::Window));
    painter.setPen(palette().color(QPalette::Mid));
    painter.drawLine(ruler.bottomLeft(), ruler.bottomRight());
    if (!clip())
        return;
    const double spp = secondsPerPixel();
    QFont font = painter.font();
    font.setPointSizeF(std::max(7.0, font.pointSizeF() - 1.5));
    painter.setFont(font);
    const double step = tickStepSeconds(spp, 70);
    const double minor = step / 5;
    const double first = std::floor(visibleStartSeconds() / minor) * minor;
    const QColor text = palette().color(QPalette::WindowText);
    for (int i = 0;; ++i) {
        const double t = first + i * minor;
        if (t > visibleEndSeconds())
            break;
        if (t < 0)
            continue;
        const double x = std::floor(xAtSeconds(t)) + 0.5;
        const bool major = std::abs(std::remainder(t, step)) < minor * 0.01;
        painter.setPen(palette().color(QPalette::Mid));
        painter.drawLine(QPointF(x, ruler.bottom() - (major ? 7 : 3)), QPointF(x, ruler.bottom()));
        if (major) {
            painter.setPen(text);
            painter.drawText(QRectF(x + 3, ruler.top(), 80, ruler.height() - 4),
                             Qt::AlignLeft | Qt::AlignVCenter, tickLabel(t, step));
        }
    }
}

} // namespace emolens
