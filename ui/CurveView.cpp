#include "CurveView.h"

#include <QHelpEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>
#include <cmath>
#include <limits>

namespace emolens {

namespace {

const QColor kF0Colour(205, 85, 0);
const QColor kEnergyColour(0, 128, 128);
constexpr double kLabelWidth = 46;

// One drawn point: a frame when zoomed in, a pixel column's summary when zoomed out.
struct CurvePoint
{
    double x = 0;
    double f0Hz = 0; // 0: unvoiced
    double energyDb = 0;
};

} // namespace

CurveView::CurveView(QWidget *parent) : TimeRangeView(parent)
{
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void CurveView::setCurves(std::shared_ptr<const AcousticCurves> curves)
{
    m_curves = std::move(curves);
    m_energyBottomDb = -80;
    m_energyTopDb = 0;
    if (m_curves && m_curves->frameCount() > 0) {
        float loudest = -std::numeric_limits<float>::infinity();
        float quietest = std::numeric_limits<float>::infinity();
        for (float db : m_curves->energyDb) {
            loudest = std::max(loudest, db);
            quietest = std::min(quietest, db);
        }
        // Whole 10 dB steps, at most 70 dB deep, so speech and its pauses both show.
        m_energyTopDb = std::min(0.0, std::ceil((loudest + 1.0) / 10.0) * 10.0);
        m_energyBottomDb =
            std::max(m_energyTopDb - 70.0, std::floor((quietest - 1.0) / 10.0) * 10.0);
        if (m_energyBottomDb >= m_energyTopDb)
            m_energyBottomDb = m_energyTopDb - 10;
    }
    update();
}

QRectF CurveView::plotRect(const QRect &area) const
{
    return QRectF(area).adjusted(0, 5, 0, -4);
}

double CurveView::yAtHz(double hz, const QRectF &plot) const
{
    const double t = std::log(std::clamp(hz, kLowestHz, kHighestHz) / kLowestHz) /
                     std::log(kHighestHz / kLowestHz);
    return plot.bottom() - t * plot.height();
}

double CurveView::yAtDb(double db, const QRectF &plot) const
{
    const double t = (std::clamp(db, m_energyBottomDb, m_energyTopDb) - m_energyBottomDb) /
                     (m_energyTopDb - m_energyBottomDb);
    return plot.bottom() - t * plot.height();
}

void CurveView::paintContent(QPainter &painter, const QRect &area)
{
    painter.fillRect(area, QColor(250, 251, 252));
    const auto &audio = clip();
    const QRectF plot = plotRect(area);
    if (!audio || !m_curves) {
        painter.setPen(palette().color(QPalette::PlaceholderText));
        const QString text = !placeholderText().isEmpty() ? placeholderText()
                             : audio                      ? tr("No pitch curve")
                                                          : QString();
        painter.drawText(area, Qt::AlignCenter, text);
        return;
    }
    const double endX = xAtSeconds(audio->durationSeconds());
    if (endX < area.right())
        painter.fillRect(QRectF(endX, area.top(), area.right() - endX + 1, area.height()),
                         QColor(236, 238, 241));
    // Octave lines of the F0 axis, faint, behind the curves.
    painter.setPen(QPen(QColor(226, 229, 233), 1));
    for (double hz : {100.0, 200.0, 400.0}) {
        const double y = std::floor(yAtHz(hz, plot)) + 0.5;
        painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y));
    }
    paintCurves(painter, plot);
    paintAxes(painter, plot);
    paintLegend(painter, plot);
    painter.setPen(palette().color(QPalette::Mid));
    painter.drawLine(area.topLeft(), area.topRight());
}

void CurveView::paintCurves(QPainter &painter, const QRectF &plot)
{
    const AcousticCurves &curves = *m_curves;
    const int frames = curves.frameCount();
    if (frames == 0)
        return;
    const double fps = curves.framesPerSecond;
    const double framesPerPixel = secondsPerPixel() * fps;

    std::vector<CurvePoint> points;
    if (framesPerPixel <= 1.5) {
        // Zoomed in: every frame at its centre, one frame beyond each edge.
        const int first = std::max(0, int(std::floor(visibleStartSeconds() * fps)) - 1);
        const int last = std::min(frames - 1, int(std::ceil(visibleEndSeconds() * fps)) + 1);
        for (int i = first; i <= last; ++i)
            points.push_back({xAtSeconds(curves.secondsAtFrame(i)), curves.f0Hz[size_t(i)],
                              curves.energyDb[size_t(i)]});
    } else {
        // Zoomed out: per pixel column (the frames centred in it), the loudest frame's energy
        // (an envelope, like the waveform's peaks) and the geometric mean F0 of its voiced
        // frames.
        const int columns = int(std::ceil(plot.width()));
        for (int c = 0; c < columns; ++c) {
            const double x = plot.left() + c;
            const int first = std::max(0, int(std::ceil(secondsAtX(x) * fps)));
            const int end = std::min(frames, int(std::ceil(secondsAtX(x + 1) * fps)));
            if (first >= end)
                continue;
            double logSum = 0;
            int voiced = 0;
            float loudest = -std::numeric_limits<float>::infinity();
            for (int i = first; i < end; ++i) {
                loudest = std::max(loudest, curves.energyDb[size_t(i)]);
                if (curves.isVoiced(i)) {
                    logSum += std::log(curves.f0Hz[size_t(i)]);
                    ++voiced;
                }
            }
            points.push_back({x + 0.5, voiced ? std::exp(logSum / voiced) : 0.0, loudest});
        }
    }
    if (points.empty())
        return;

    painter.setRenderHint(QPainter::Antialiasing, true);
    // Energy: a light area under a thin line.
    QPainterPath energy;
    energy.moveTo(points.front().x, yAtDb(points.front().energyDb, plot));
    for (size_t i = 1; i < points.size(); ++i)
        energy.lineTo(points[i].x, yAtDb(points[i].energyDb, plot));
    QPainterPath area = energy;
    area.lineTo(points.back().x, plot.bottom() + 4);
    area.lineTo(points.front().x, plot.bottom() + 4);
    area.closeSubpath();
    QColor fill = kEnergyColour;
    fill.setAlpha(32);
    painter.fillPath(area, fill);
    QColor line = kEnergyColour;
    line.setAlpha(190);
    painter.strokePath(energy, QPen(line, 1.2));

    // F0: voiced stretches only, so unvoiced frames leave gaps; a lone voiced point is a dot.
    QPainterPath pitch;
    std::vector<QPointF> dots;
    for (size_t i = 0; i < points.size(); ++i) {
        if (points[i].f0Hz <= 0)
            continue;
        const QPointF p(points[i].x, yAtHz(points[i].f0Hz, plot));
        const bool after = i > 0 && points[i - 1].f0Hz > 0;
        const bool before = i + 1 < points.size() && points[i + 1].f0Hz > 0;
        if (!after && !before)
            dots.push_back(p);
        else if (after)
            pitch.lineTo(p);
        else
            pitch.moveTo(p);
    }
    // A pale halo keeps the pitch line readable where it crosses the energy line.
    painter.strokePath(
        pitch, QPen(QColor(255, 255, 255, 210), 4.5, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    painter.strokePath(pitch, QPen(kF0Colour, 2.0, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    painter.setPen(Qt::NoPen);
    painter.setBrush(kF0Colour);
    for (const QPointF &p : dots)
        painter.drawEllipse(p, 1.5, 1.5);
    painter.setBrush(Qt::NoBrush);
    painter.setRenderHint(QPainter::Antialiasing, false);
}

void CurveView::paintAxes(QPainter &painter, const QRectF &plot)
{
    QFont font = painter.font();
    font.setPointSizeF(std::max(7.0, font.pointSizeF() - 2));
    painter.setFont(font);
    const QFontMetricsF metrics(font);
    const double half = metrics.height() / 2;

    auto label = [&](double y, const QString &text, const QColor &colour, bool right) {
        y = std::clamp(y, plot.top() + half, plot.bottom() - half);
        const double width = metrics.horizontalAdvance(text) + 6;
        const double x = right ? plot.right() - width - 1 : plot.left() + 1;
        const QRectF box(x, y - half, width, 2 * half);
        painter.fillRect(box, QColor(250, 251, 252, 200));
        painter.setPen(colour);
        painter.drawText(box, Qt::AlignCenter, text);
    };
    // Left: F0 in Hz, on the octaves.
    for (double hz : {50.0, 100.0, 200.0, 400.0})
        label(yAtHz(hz, plot), QString::number(hz), kF0Colour.darker(120), false);
    // Right: energy in dB, every 20 dB (10 dB when the range is short).
    const double span = m_energyTopDb - m_energyBottomDb;
    const double step = span > 30 ? 20 : 10;
    for (double db = m_energyTopDb; db >= m_energyBottomDb - 1e-9; db -= step)
        label(yAtDb(db, plot), QString::number(db), kEnergyColour.darker(120), true);
}

void CurveView::paintLegend(QPainter &painter, const QRectF &plot)
{
    const QFontMetricsF metrics(painter.font());
    const QString f0Text = tr("F0 (Hz)");
    const QString energyText = tr("Energy (dB)");
    const double swatch = 12;
    const double gap = 6;
    const double width = swatch + 3 + metrics.horizontalAdvance(f0Text) + 2 * gap + swatch + 3 +
                         metrics.horizontalAdvance(energyText) + 4;
    const QRectF box(plot.left() + kLabelWidth - 10, plot.top(), width, metrics.height() + 2);
    painter.fillRect(box, QColor(250, 251, 252, 215));
    double x = box.left() + 2;
    const double y = box.center().y();
    auto entry = [&](const QColor &colour, double thickness, const QString &text) {
        painter.setPen(QPen(colour, thickness));
        painter.drawLine(QPointF(x, y), QPointF(x + swatch, y));
        x += swatch + 3;
        painter.setPen(palette().color(QPalette::WindowText));
        const double textWidth = metrics.horizontalAdvance(text);
        painter.drawText(QRectF(x, box.top(), textWidth + 1, box.height()),
                         Qt::AlignLeft | Qt::AlignVCenter, text);
        x += textWidth + 2 * gap;
    };
    entry(kF0Colour, 2.0, f0Text);
    entry(kEnergyColour, 1.5, energyText);
}

QString CurveView::frameDescriptionAt(const QPoint &pos) const
{
    const auto &audio = clip();
    if (!audio || !m_curves || m_curves->frameCount() == 0)
        return QString();
    const double seconds = secondsAtX(pos.x());
    if (seconds < 0 || seconds > audio->durationSeconds())
        return QString();
    const int frame = m_curves->frameAtSeconds(seconds);
    const QString time = tr("%1 s").arg(m_curves->secondsAtFrame(frame), 0, 'f', 2);
    const QString f0 = m_curves->isVoiced(frame)
                           ? tr("F0: %1 Hz").arg(m_curves->f0Hz[size_t(frame)], 0, 'f', 1)
                           : tr("F0: unvoiced");
    const QString energy = tr("Energy: %1 dB").arg(m_curves->energyDb[size_t(frame)], 0, 'f', 1);
    return time + QLatin1Char('\n') + f0 + QLatin1Char('\n') + energy;
}

bool CurveView::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const QString text = frameDescriptionAt(help->pos());
        if (!text.isEmpty())
            QToolTip::showText(help->globalPos(), text, this);
        else
            QToolTip::showText(help->globalPos(),
                               tr("Pitch (F0, voiced frames) and energy: click to seek, drag to "
                                  "select"),
                               this);
        return true;
    }
    return TimeRangeView::event(event);
}

} // namespace emolens
