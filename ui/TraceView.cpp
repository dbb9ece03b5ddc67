#include "TraceView.h"

#include <QContextMenuEvent>
#include <QKeyEvent>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

namespace emolens {

namespace {

// Annotators' colours: distinct from the class colours' saturated hues, readable on white.
QColor annotatorColour(int index)
{
    static const QColor colours[] = {QColor(0x1f, 0x77, 0xb4), QColor(0x2c, 0xa0, 0x2c),
                                     QColor(0x94, 0x67, 0xbd), QColor(0xff, 0x7f, 0x0e),
                                     QColor(0x8c, 0x56, 0x4b), QColor(0x17, 0xbe, 0xcf)};
    return colours[index % 6];
}

constexpr int kAxisWidth = 22;

} // namespace

TraceView::TraceView(QWidget *parent) : TimeRangeView(parent)
{
    setFocusPolicy(Qt::ClickFocus);
    setMouseTracking(true);
    updateHeight();
}

void TraceView::setTraces(const QList<TraceRecord> &traces, double durationSeconds,
                          const QString &dimension)
{
    m_traces = traces;
    m_durationSeconds = durationSeconds;
    m_dimension = dimension.isEmpty() ? m_chosen : dimension;
    QList<TraceRecord> shown;
    for (const TraceRecord &t : traces)
        if (t.dimension == m_dimension)
            shown << t;
    if (shown.isEmpty() && !traces.isEmpty()) {
        m_dimension = traces.first().dimension;
        for (const TraceRecord &t : traces)
            if (t.dimension == m_dimension)
                shown << t;
    }
    m_fused = shown.size() >= 2 ? fuseTraces(shown, durationSeconds) : FusedTraces();
    updateHeight();
    update();
}

QStringList TraceView::dimensions() const
{
    QStringList out;
    for (const TraceRecord &t : m_traces)
        if (!out.contains(t.dimension))
            out << t.dimension;
    out.sort();
    return out;
}

void TraceView::chooseDimension(const QString &dimension)
{
    m_chosen = dimension;
    setTraces(m_traces, m_durationSeconds, dimension);
}

void TraceView::contextMenuEvent(QContextMenuEvent *event)
{
    const QStringList shown = dimensions();
    if (m_recording || shown.isEmpty())
        return;
    QMenu menu(this);
    for (const QString &d : shown) {
        QAction *action = menu.addAction(tr("Show %1").arg(d));
        action->setCheckable(true);
        action->setChecked(d == m_dimension);
        connect(action, &QAction::triggered, this, [this, d] { chooseDimension(d); });
    }
    menu.exec(event->globalPos());
}

void TraceView::showRecording(const QString &dimension, const std::vector<float> &samples,
                              double rateHz, double value, int countdownSeconds)
{
    m_recording = true;
    m_dimension = dimension;
    m_live = samples;
    m_liveRate = rateHz;
    m_value = value;
    m_countdown = countdownSeconds;
    updateHeight();
    update();
}

void TraceView::stopRecording()
{
    m_recording = false;
    m_live.clear();
    m_countdown = 0;
    setTraces(m_traces, m_durationSeconds, m_dimension);
}

void TraceView::updateHeight()
{
    const int height = m_recording || !m_traces.isEmpty() ? kLaneHeight : 0;
    if (minimumHeight() != height || maximumHeight() != height)
        setFixedHeight(height);
}

double TraceView::valueAtY(double y) const
{
    const double top = 4, bottom = height() - 4;
    return std::clamp(1 - 2 * (y - top) / std::max(1.0, bottom - top), -1.0, 1.0);
}

double TraceView::yAtValue(double value) const
{
    const double top = 4, bottom = height() - 4;
    return top + (1 - value) / 2 * (bottom - top);
}

void TraceView::drawSeries(QPainter &painter, const std::vector<double> &values, double rateHz,
                           double startSeconds, const QColor &colour, double width)
{
    QPainterPath path;
    bool drawing = false;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (std::isnan(values[i])) {
            drawing = false;
            continue;
        }
        const QPointF p(xAtSeconds(startSeconds + double(i) / rateHz), yAtValue(values[i]));
        if (drawing)
            path.lineTo(p);
        else
            path.moveTo(p);
        drawing = true;
    }
    painter.setPen(QPen(colour, width));
    painter.drawPath(path);
}

void TraceView::paintContent(QPainter &painter, const QRect &rect)
{
    painter.fillRect(rect, palette().color(QPalette::Base));
    if (rect.height() <= 0)
        return;
    painter.setRenderHint(QPainter::Antialiasing);
    // The scale: +1, 0 and -1.
    painter.setPen(QPen(palette().color(QPalette::Mid), 1, Qt::DotLine));
    for (double v : {1.0, 0.0, -1.0})
        painter.drawLine(QPointF(kAxisWidth, yAtValue(v)), QPointF(rect.right(), yAtValue(v)));
    QFont small = font();
    small.setPointSizeF(std::max(6.0, small.pointSizeF() - 1.5));
    painter.setFont(small);
    painter.setPen(palette().color(QPalette::PlaceholderText));
    painter.drawText(QRectF(0, 0, kAxisWidth - 3, 14), Qt::AlignRight | Qt::AlignTop,
                     QStringLiteral("+1"));
    painter.drawText(QRectF(0, yAtValue(0) - 7, kAxisWidth - 3, 14),
                     Qt::AlignRight | Qt::AlignVCenter, QStringLiteral("0"));
    painter.drawText(QRectF(0, rect.bottom() - 14, kAxisWidth - 3, 14),
                     Qt::AlignRight | Qt::AlignBottom, QStringLiteral("-1"));

    int index = 0;
    for (const TraceRecord &t : std::as_const(m_traces)) {
        if (t.dimension != m_dimension)
            continue;
        const QColor colour = annotatorColour(index++);
        std::vector<double> values(t.samples.begin(), t.samples.end());
        drawSeries(painter, values, t.rateHz, t.startSeconds, colour, 1.2);
    }
    if (!m_fused.ewe.empty()) {
        drawSeries(painter, m_fused.ewe, m_fused.rateHz, 0, palette().color(QPalette::Text), 2.2);
    }
    if (m_recording) {
        std::vector<double> live(m_live.begin(), m_live.end());
        drawSeries(painter, live, m_liveRate, 0, QColor(220, 40, 40), 2);
        painter.setPen(QPen(QColor(220, 40, 40, 140), 1, Qt::DashLine));
        painter.drawLine(QPointF(kAxisWidth, yAtValue(m_value)),
                         QPointF(rect.right(), yAtValue(m_value)));
    }
    // The legend: the dimension, then each annotator in their colour.
    double x = kAxisWidth + 4;
    painter.setFont(small);
    const QFontMetricsF fm(small);
    const auto run = [&](const QString &text, const QColor &colour, bool bold) {
        QFont f = small;
        f.setBold(bold);
        painter.setFont(f);
        painter.setPen(colour);
        painter.drawText(QPointF(x, fm.ascent() + 1), text);
        x += QFontMetricsF(f).horizontalAdvance(text) + 8;
    };
    if (!m_dimension.isEmpty())
        run(m_dimension, palette().color(QPalette::Text), true);
    index = 0;
    for (const TraceRecord &t : std::as_const(m_traces))
        if (t.dimension == m_dimension)
            run(t.annotatorName, annotatorColour(index++), false);
    if (!m_fused.ewe.empty())
        run(tr("fused (EWE)"), palette().color(QPalette::Text), true);
    if (m_recording)
        run(tr("recording: %1").arg(m_value, 0, 'f', 2), QColor(220, 40, 40), true);
    if (m_recording && m_countdown > 0) {
        QFont big = font();
        big.setPointSizeF(big.pointSizeF() * 1.6);
        big.setBold(true);
        painter.setFont(big);
        painter.setPen(QColor(220, 40, 40));
        painter.drawText(rect, Qt::AlignCenter,
                         tr("Tracing %1 in %2... (Esc cancels)").arg(m_dimension).arg(m_countdown));
    }
}

void TraceView::mousePressEvent(QMouseEvent *event)
{
    if (m_recording) {
        Q_EMIT valueRequested(valueAtY(event->position().y()), QStringLiteral("mouse"));
        return;
    }
    TimeRangeView::mousePressEvent(event);
}

void TraceView::mouseMoveEvent(QMouseEvent *event)
{
    if (m_recording) {
        Q_EMIT valueRequested(valueAtY(event->position().y()), QStringLiteral("mouse"));
        return;
    }
    TimeRangeView::mouseMoveEvent(event);
}

void TraceView::mouseReleaseEvent(QMouseEvent *event)
{
    if (m_recording)
        return;
    TimeRangeView::mouseReleaseEvent(event);
}

void TraceView::wheelEvent(QWheelEvent *event)
{
    if (m_recording) {
        const double notches = event->angleDelta().y() / 120.0;
        Q_EMIT valueRequested(std::clamp(m_value + 0.05 * notches, -1.0, 1.0),
                              QStringLiteral("wheel"));
        event->accept();
        return;
    }
    TimeRangeView::wheelEvent(event);
}

bool TraceView::event(QEvent *event)
{
    // While recording, Up and Down set the value: the window's next/previous clip shortcuts
    // must not take them.
    if (m_recording && event->type() == QEvent::ShortcutOverride) {
        const int key = static_cast<QKeyEvent *>(event)->key();
        if (key == Qt::Key_Up || key == Qt::Key_Down) {
            event->accept();
            return true;
        }
    }
    return TimeRangeView::event(event);
}

void TraceView::keyPressEvent(QKeyEvent *event)
{
    if (m_recording && (event->key() == Qt::Key_Up || event->key() == Qt::Key_Down)) {
        const double step = event->key() == Qt::Key_Up ? 0.1 : -0.1;
        Q_EMIT valueRequested(std::clamp(m_value + step, -1.0, 1.0), QStringLiteral("keyboard"));
        return;
    }
    TimeRangeView::keyPressEvent(event);
}

} // namespace emolens
