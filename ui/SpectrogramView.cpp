#include "SpectrogramView.h"

#include <QPainter>
#include <cmath>

namespace emolens {

namespace {
double hzToMel(double hz)
{
    return 2595.0 * std::log10(1.0 + hz / 700.0);
}
} // namespace

SpectrogramView::SpectrogramView(QWidget *parent) : TimeRangeView(parent)
{
    setToolTip(tr("Log-mel spectrogram (80 bands, 0-8 kHz): click to seek, drag to select"));
}

void SpectrogramView::setSpectrogram(std::shared_ptr<const ClipSpectrogram> spectrogram)
{
    m_spectrogram = std::move(spectrogram);
    update();
}

void SpectrogramView::paintContent(QPainter &painter, const QRect &area)
{
    painter.fillRect(area, QColor(0, 0, 4));
    const auto &audio = clip();
    if (!audio || !m_spectrogram || m_spectrogram->image.isNull()) {
        painter.setPen(QColor(150, 150, 160));
        const QString text = !placeholderText().isEmpty() ? placeholderText()
                             : audio                      ? tr("No spectrogram")
                                                          : QString();
        painter.drawText(area, Qt::AlignCenter, text);
        return;
    }
    const QImage &image = m_spectrogram->image;
    const double hop = m_spectrogram->hopSeconds;
    // Frames are laid out at their start times; the source rect is in frame units.
    const double firstFrame = visibleStartSeconds() / hop;
    const double lastFrame = visibleEndSeconds() / hop;
    const double clippedLast = std::min(lastFrame, double(image.width()));
    if (clippedLast > firstFrame) {
        const double x0 = std::max(0.0, firstFrame);
        const QRectF source(x0, 0, clippedLast - x0, image.height());
        const QRectF target(xAtSeconds(x0 * hop), area.top(),
                            xAtSeconds(clippedLast * hop) - xAtSeconds(x0 * hop), area.height());
        painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
        painter.drawImage(target, image, source);
    }

    // Frequency marks, placed on the mel scale the image uses.
    const double topMel = hzToMel(m_spectrogram->topHz);
    QFont font = painter.font();
    font.setPointSizeF(std::max(7.0, font.pointSizeF() - 1.5));
    painter.setFont(font);
    for (double hz : {500.0, 1000.0, 2000.0, 4000.0}) {
        if (hz >= m_spectrogram->topHz)
            continue;
        const double y = area.bottom() - hzToMel(hz) / topMel * area.height();
        painter.setPen(QPen(QColor(255, 255, 255, 70), 1, Qt::DotLine));
        painter.drawLine(QPointF(area.left() + 44, y), QPointF(area.left() + 60, y));
        painter.fillRect(QRectF(area.left() + 2, y - 7, 42, 14), QColor(0, 0, 0, 120));
        painter.setPen(QColor(255, 255, 255, 210));
        const QString text =
            hz >= 1000 ? QStringLiteral("%1 kHz").arg(hz / 1000) : QStringLiteral("%1 Hz").arg(hz);
        painter.drawText(QRectF(area.left() + 4, y - 8, 40, 16), Qt::AlignLeft | Qt::AlignVCenter,
                         text);
    }
}

} // namespace emolens
