#include "charts/TsneMapView.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPaintEngine>
#include <QPainter>
#include <QRubberBand>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

namespace emolens {

namespace {

// Dots shrink as the map fills: legible alone, not a blot at 100,000.
double dotRadius(int count)
{
    return count < 1000 ? 3.6 : count < 10000 ? 2.8 : 2.0;
}
constexpr double kHitPixels = 6;
const QColor kNoGroup(170, 170, 170);

QImage dotSprite(const QColor &fill, double radius, bool outlined)
{
    const int side = int(std::ceil(radius * 2)) + 3;
    QImage sprite(side, side, QImage::Format_ARGB32_Premultiplied);
    sprite.fill(Qt::transparent);
    QPainter p(&sprite);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(outlined ? QPen(QColor(20, 20, 20), 1.3) : QPen(fill.darker(130), 0.6));
    p.setBrush(fill);
    p.drawEllipse(QPointF(side / 2.0, side / 2.0), radius, radius);
    return sprite;
}

} // namespace

TsneMapView::TsneMapView(QWidget *parent) : QWidget(parent)
{
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setMinimumSize(320, 240);
    setAutoFillBackground(false);
    m_band = new QRubberBand(QRubberBand::Rectangle, this);
}

void TsneMapView::setPoints(const QList<qint64> &ids, const std::vector<float> &xy)
{
    m_ids = ids;
    m_xy = xy;
    m_xy.resize(std::size_t(ids.size()) * 2);
    m_indexOf.clear();
    m_indexOf.reserve(ids.size());
    for (int i = 0; i < int(ids.size()); ++i)
        m_indexOf.insert(ids[i], i);
    m_group.assign(std::size_t(ids.size()), -1);
    m_groupCounts = QList<int>(m_groupNames.size(), 0);
    m_selected.assign(std::size_t(ids.size()), 0);
    m_selectedCount = 0;
    m_hover = -1;
    m_userMoved = false;
    rebuildGrid();
    fitView();
    Q_EMIT selectionChanged(0);
}

void TsneMapView::updatePositions(const std::vector<float> &xy)
{
    if (xy.size() != m_xy.size())
        return;
    m_xy = xy;
    rebuildGrid();
    if (!m_userMoved)
        fitView();
    else
        invalidate();
}

void TsneMapView::clear()
{
    setPoints({}, {});
}

void TsneMapView::setGroups(const QStringList &names, const QList<QColor> &colours,
                            const std::vector<int> &groupOfPoint)
{
    m_groupNames = names;
    m_groupColours = colours;
    m_group = groupOfPoint;
    m_group.resize(std::size_t(m_ids.size()), -1);
    m_groupCounts = QList<int>(names.size(), 0);
    for (int g : m_group)
        if (g >= 0 && g < names.size())
            ++m_groupCounts[g];
    invalidate();
}

void TsneMapView::setEmptyText(const QString &text)
{
    m_emptyText = text;
    update();
}

QList<qint64> TsneMapView::selection() const
{
    QList<qint64> out;
    for (std::size_t i = 0; i < m_selected.size(); ++i)
        if (m_selected[i])
            out << m_ids[qsizetype(i)];
    return out;
}

void TsneMapView::setSelection(const QList<qint64> &ids)
{
    std::fill(m_selected.begin(), m_selected.end(), 0);
    m_selectedCount = 0;
    for (qint64 id : ids)
        if (const int i = indexOf(id); i >= 0 && !m_selected[std::size_t(i)]) {
            m_selected[std::size_t(i)] = 1;
            ++m_selectedCount;
        }
    invalidate();
    Q_EMIT selectionChanged(m_selectedCount);
}

void TsneMapView::clearSelection()
{
    setSelection({});
}

void TsneMapView::setCurrent(qint64 utteranceId)
{
    if (m_current == utteranceId)
        return;
    m_current = utteranceId;
    update(); // drawn over the cached dots
}

void TsneMapView::fitView()
{
    m_userMoved = false;
    if (m_ids.isEmpty() || !m_bounds.isValid()) {
        m_centre = QPointF();
        m_scale = 1;
    } else {
        const double margin = 24;
        const double w = std::max(1.0, width() - 2 * margin);
        const double h = std::max(1.0, height() - 2 * margin);
        const double spanX = std::max(1e-6, m_bounds.width());
        const double spanY = std::max(1e-6, m_bounds.height());
        m_centre = m_bounds.center();
        m_scale = std::min(w / spanX, h / spanY);
    }
    invalidate();
}

void TsneMapView::zoomBy(double factor)
{
    zoomAround(factor, QPointF(width() / 2.0, height() / 2.0));
}

void TsneMapView::zoomAround(double factor, const QPointF &screen)
{
    const QPointF anchor = toData(screen);
    m_scale = std::clamp(m_scale * factor, 1e-6, 1e9);
    // Keep the data point under `screen` where it was.
    m_centre = anchor - QPointF((screen.x() - width() / 2.0) / m_scale,
                                -(screen.y() - height() / 2.0) / m_scale);
    m_userMoved = true;
    invalidate();
}

QPointF TsneMapView::toScreen(float x, float y) const
{
    return {width() / 2.0 + (x - m_centre.x()) * m_scale,
            height() / 2.0 - (y - m_centre.y()) * m_scale};
}

QPointF TsneMapView::toData(const QPointF &s) const
{
    return {m_centre.x() + (s.x() - width() / 2.0) / m_scale,
            m_centre.y() - (s.y() - height() / 2.0) / m_scale};
}

QPointF TsneMapView::screenPosition(int index) const
{
    return toScreen(m_xy[std::size_t(index) * 2], m_xy[std::size_t(index) * 2 + 1]);
}

void TsneMapView::rebuildGrid()
{
    const int n = int(m_ids.size());
    m_gridStart.clear();
    m_gridItems.clear();
    if (n == 0) {
        m_bounds = QRectF();
        return;
    }
    float minX = m_xy[0], maxX = m_xy[0], minY = m_xy[1], maxY = m_xy[1];
    for (int i = 1; i < n; ++i) {
        minX = std::min(minX, m_xy[std::size_t(i) * 2]);
        maxX = std::max(maxX, m_xy[std::size_t(i) * 2]);
        minY = std::min(minY, m_xy[std::size_t(i) * 2 + 1]);
        maxY = std::max(maxY, m_xy[std::size_t(i) * 2 + 1]);
    }
    m_bounds = QRectF(QPointF(minX, minY), QPointF(maxX, maxY));
    if (m_bounds.width() <= 0)
        m_bounds.adjust(-0.5, 0, 0.5, 0);
    if (m_bounds.height() <= 0)
        m_bounds.adjust(0, -0.5, 0, 0.5);
    m_gridSide = std::clamp(int(std::sqrt(n / 4.0)), 1, 512);
    const auto cellOf = [this](float x, float y) {
        const int cx = std::clamp(int((x - m_bounds.left()) / m_bounds.width() * m_gridSide), 0,
                                  m_gridSide - 1);
        const int cy = std::clamp(int((y - m_bounds.top()) / m_bounds.height() * m_gridSide), 0,
                                  m_gridSide - 1);
        return cy * m_gridSide + cx;
    };
    const int cells = m_gridSide * m_gridSide;
    m_gridStart.assign(std::size_t(cells) + 1, 0);
    std::vector<int> cell(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        cell[std::size_t(i)] = cellOf(m_xy[std::size_t(i) * 2], m_xy[std::size_t(i) * 2 + 1]);
        ++m_gridStart[std::size_t(cell[std::size_t(i)]) + 1];
    }
    for (int c = 0; c < cells; ++c)
        m_gridStart[std::size_t(c) + 1] += m_gridStart[std::size_t(c)];
    m_gridItems.assign(std::size_t(n), 0);
    std::vector<int> fill(m_gridStart.begin(), m_gridStart.end() - 1);
    for (int i = 0; i < n; ++i)
        m_gridItems[std::size_t(fill[std::size_t(cell[std::size_t(i)])]++)] = i;
}

int TsneMapView::pointAt(const QPointF &pos) const
{
    if (m_ids.isEmpty() || m_gridStart.empty())
        return -1;
    const QPointF a = toData(pos - QPointF(kHitPixels, -kHitPixels));
    const QPointF b = toData(pos + QPointF(kHitPixels, -kHitPixels));
    const auto column = [this](double x) {
        return std::clamp(int((x - m_bounds.left()) / m_bounds.width() * m_gridSide), 0,
                          m_gridSide - 1);
    };
    const auto row = [this](double y) {
        return std::clamp(int((y - m_bounds.top()) / m_bounds.height() * m_gridSide), 0,
                          m_gridSide - 1);
    };
    if (b.x() < m_bounds.left() || a.x() > m_bounds.right() || b.y() < m_bounds.top() ||
        a.y() > m_bounds.bottom())
        return -1;
    int best = -1;
    double bestDistance = kHitPixels * kHitPixels;
    for (int cy = row(a.y()); cy <= row(b.y()); ++cy)
        for (int cx = column(a.x()); cx <= column(b.x()); ++cx) {
            const int c = cy * m_gridSide + cx;
            for (int k = m_gridStart[std::size_t(c)]; k < m_gridStart[std::size_t(c) + 1]; ++k) {
                const int i = m_gridItems[std::size_t(k)];
                const QPointF s = screenPosition(i);
                const double d =
                    (s.x() - pos.x()) * (s.x() - pos.x()) + (s.y() - pos.y()) * (s.y() - pos.y());
                if (d <= bestDistance) {
                    bestDistance = d;
                    best = i;
                }
            }
        }
    return best;
}

void TsneMapView::invalidate()
{
    m_dirty = true;
    update();
}

void TsneMapView::renderCache()
{
    const qreal ratio = devicePixelRatioF();
    m_cache = QImage(size() * ratio, QImage::Format_ARGB32_Premultiplied);
    m_cache.setDevicePixelRatio(ratio);
    m_cache.fill(Qt::white);
    m_dirty = false;
    if (m_ids.isEmpty())
        return;
    QPainter p(&m_cache);
    const double kDotRadius = dotRadius(count());
    QList<QImage> sprites, selectedSprites;
    for (const QColor &c : std::as_const(m_groupColours)) {
        sprites << dotSprite(c, kDotRadius, false);
        selectedSprites << dotSprite(c, kDotRadius + 1.2, true);
    }
    const QImage none = dotSprite(kNoGroup, kDotRadius, false);
    const QImage noneSelected = dotSprite(kNoGroup, kDotRadius + 1.2, true);
    forEachDot(QRectF(rect()).adjusted(-8, -8, 8, 8), [&](const QPointF &s, int g, bool selected) {
        const bool known = g >= 0 && g < sprites.size();
        const QImage &sprite =
            selected ? (known ? selectedSprites[g] : noneSelected) : (known ? sprites[g] : none);
        p.drawImage(QPointF(s.x() - sprite.width() / 2.0, s.y() - sprite.height() / 2.0), sprite);
    });
}

template <typename Draw> void TsneMapView::forEachDot(const QRectF &visible, Draw draw) const
{
    // Ungrouped dots first, then the groups; selected dots last, on top.
    const int n = int(m_ids.size());
    for (int pass = 0; pass < 3; ++pass)
        for (int i = 0; i < n; ++i) {
            const int g = m_group[std::size_t(i)];
            const bool selected = m_selected[std::size_t(i)];
            if ((pass == 0) != (g < 0 && !selected) || (pass == 2) != selected)
                continue;
            const QPointF s = screenPosition(i);
            if (visible.contains(s))
                draw(s, g, selected);
        }
}

void TsneMapView::drawLegend(QPainter &p) const
{
    QList<int> shown;
    for (int g = 0; g < m_groupNames.size(); ++g)
        if (m_groupCounts.value(g) > 0)
            shown << g;
    if (shown.isEmpty())
        return;
    constexpr int kMaxRows = 14;
    const bool cut = shown.size() > kMaxRows;
    if (cut)
        shown = shown.mid(0, kMaxRows - 1);
    const QFontMetrics fm = p.fontMetrics();
    int textWidth = 0;
    QStringList lines;
    for (int g : std::as_const(shown)) {
        lines << QStringLiteral("%1  %2").arg(m_groupNames[g]).arg(m_groupCounts[g]);
        textWidth = std::max(textWidth, fm.horizontalAdvance(lines.last()));
    }
    QString more;
    if (cut) {
        more = tr("... %1 more").arg(m_groupNames.size() - shown.size());
        textWidth = std::max(textWidth, fm.horizontalAdvance(more));
    }
    const int row = fm.height() + 2;
    const int rows = int(lines.size()) + (cut ? 1 : 0);
    const QRect box(width() - textWidth - 40, 8, textWidth + 30, rows * row + 10);
    p.setPen(QColor(200, 200, 200));
    p.setBrush(QColor(255, 255, 255, 225));
    p.drawRect(box);
    p.setRenderHint(QPainter::Antialiasing);
    for (int r = 0; r < lines.size(); ++r) {
        const int y = box.top() + 5 + r * row;
        p.setPen(m_groupColours.value(shown[r]).darker(130));
        p.setBrush(m_groupColours.value(shown[r]));
        p.drawEllipse(QPointF(box.left() + 11, y + row / 2.0), 4.5, 4.5);
        p.setPen(palette().color(QPalette::Text));
        p.drawText(QRect(box.left() + 22, y, textWidth + 4, row), Qt::AlignVCenter, lines[r]);
    }
    if (cut)
        p.drawText(
            QRect(box.left() + 22, box.top() + 5 + int(lines.size()) * row, textWidth + 4, row),
            Qt::AlignVCenter, more);
}

void TsneMapView::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    if (m_ids.isEmpty()) {
        p.fillRect(rect(), Qt::white);
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect().adjusted(20, 20, -20, -20), Qt::AlignCenter | Qt::TextWordWrap,
                   m_emptyText);
        return;
    }
    if (p.paintEngine() && p.paintEngine()->type() == QPaintEngine::SVG) {
        // An SVG export: vector dots, not the cached pixels.
        p.fillRect(rect(), Qt::white);
        p.setRenderHint(QPainter::Antialiasing);
        const double kDotRadius = dotRadius(count());
        forEachDot(QRectF(rect()), [&](const QPointF &s, int g, bool selected) {
            const QColor fill = g >= 0 && g < m_groupColours.size() ? m_groupColours[g] : kNoGroup;
            p.setPen(selected ? QPen(QColor(20, 20, 20), 1.3) : QPen(fill.darker(130), 0.6));
            p.setBrush(fill);
            const double r = selected ? kDotRadius + 1.2 : kDotRadius;
            p.drawEllipse(s, r, r);
        });
    } else {
        if (m_dirty || m_cache.size() != size() * devicePixelRatioF())
            renderCache();
        p.drawImage(0, 0, m_cache);
    }
    if (const int current = indexOf(m_current); current >= 0) {
        p.setRenderHint(QPainter::Antialiasing);
        p.setPen(QPen(QColor(230, 120, 0), 2.5));
        p.setBrush(Qt::NoBrush);
        p.drawEllipse(screenPosition(current), dotRadius(count()) + 5, dotRadius(count()) + 5);
    }
    if (m_hover >= 0 && m_hover < int(m_ids.size())) {
        p.setRenderHint(QPainter::Antialiasing);
        p.setPen(QPen(QColor(20, 20, 20), 1.5));
        p.setBrush(Qt::NoBrush);
        p.drawEllipse(screenPosition(m_hover), dotRadius(count()) + 4, dotRadius(count()) + 4);
    }
    if (m_lassoDrag && m_lasso.size() > 1) {
        p.setRenderHint(QPainter::Antialiasing);
        p.setPen(QPen(QColor(20, 20, 20), 1.2, Qt::DashLine));
        p.setBrush(QColor(40, 110, 200, 40));
        p.drawPolygon(m_lasso);
    }
    drawLegend(p);
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.setRenderHint(QPainter::Antialiasing, false);
    p.drawText(rect().adjusted(8, 0, -8, -6), Qt::AlignLeft | Qt::AlignBottom,
               m_selectedCount > 0 ? tr("%1 of %2 clips selected").arg(m_selectedCount).arg(count())
                                   : tr("%1 clips").arg(count()));
}

void TsneMapView::resizeEvent(QResizeEvent *)
{
    if (!m_userMoved)
        fitView();
    else
        invalidate();
}

void TsneMapView::mousePressEvent(QMouseEvent *event)
{
    setFocus();
    m_pressAt = event->position().toPoint();
    m_moved = false;
    if (event->button() == Qt::RightButton || event->button() == Qt::MiddleButton ||
        (event->button() == Qt::LeftButton && (event->modifiers() & Qt::ControlModifier))) {
        m_drag = Drag::Pan;
        m_panCentre = m_centre;
        setCursor(Qt::ClosedHandCursor);
    } else if (event->button() == Qt::LeftButton) {
        m_drag = Drag::Select;
        const bool other = event->modifiers() & Qt::AltModifier;
        m_lassoDrag = (m_shape == SelectShape::Lasso) != other;
        m_lasso.clear();
        m_lasso << event->position();
    }
}

void TsneMapView::mouseMoveEvent(QMouseEvent *event)
{
    const QPoint pos = event->position().toPoint();
    if (m_drag != Drag::None && (pos - m_pressAt).manhattanLength() > 3)
        m_moved = true;
    if (m_drag == Drag::Pan && m_moved) {
        const QPoint delta = pos - m_pressAt;
        m_centre = m_panCentre - QPointF(delta.x() / m_scale, -delta.y() / m_scale);
        m_userMoved = true;
        invalidate();
        return;
    }
    if (m_drag == Drag::Select && m_lassoDrag) {
        // A vertex every few pixels keeps a long lasso small and its test fast.
        const QPointF at = event->position();
        if ((at - m_lasso.last()).manhattanLength() >= 3) {
            m_lasso << at;
            update();
        }
        return;
    }
    if (m_drag == Drag::Select && m_moved) {
        m_band->setGeometry(QRect(m_pressAt, pos).normalized());
        m_band->show();
        return;
    }
    const int hover = pointAt(event->position());
    if (hover != m_hover) {
        m_hover = hover;
        update();
        if (hover >= 0 && m_tooltip)
            QToolTip::showText(event->globalPosition().toPoint(), m_tooltip(m_ids[hover]), this);
        else
            QToolTip::hideText();
    }
}

void TsneMapView::mouseReleaseEvent(QMouseEvent *event)
{
    const Drag drag = m_drag;
    m_drag = Drag::None;
    unsetCursor();
    const bool lasso = m_lassoDrag;
    m_lassoDrag = false;
    const bool add = event->modifiers() & Qt::ShiftModifier;
    if (drag == Drag::Select && m_moved && lasso) {
        m_lasso << event->position();
        const QPolygonF polygon = m_lasso;
        m_lasso.clear();
        if (polygon.size() >= 3)
            selectWhere(polygon.boundingRect(), add, [&](const QPointF &s) {
                return polygon.containsPoint(s, Qt::OddEvenFill);
            });
        else
            update();
    } else if (drag == Drag::Select && m_moved) {
        m_band->hide();
        const QRectF band = QRectF(QRect(m_pressAt, event->position().toPoint()).normalized());
        selectWhere(band, add, [&](const QPointF &s) { return band.contains(s); });
    } else if (drag == Drag::Select && event->button() == Qt::LeftButton) {
        const int at = pointAt(event->position());
        if (at >= 0)
            Q_EMIT pointClicked(m_ids[at]);
    }
}

template <typename Inside>
void TsneMapView::selectWhere(const QRectF &bounds, bool add, Inside inside)
{
    if (!add) {
        std::fill(m_selected.begin(), m_selected.end(), 0);
        m_selectedCount = 0;
    }
    for (int i = 0; i < int(m_ids.size()); ++i) {
        if (m_selected[std::size_t(i)])
            continue;
        const QPointF s = screenPosition(i);
        if (bounds.contains(s) && inside(s)) {
            m_selected[std::size_t(i)] = 1;
            ++m_selectedCount;
        }
    }
    invalidate();
    Q_EMIT selectionChanged(m_selectedCount);
}

void TsneMapView::wheelEvent(QWheelEvent *event)
{
    const double steps = event->angleDelta().y() / 120.0;
    if (steps != 0)
        zoomAround(std::pow(1.25, steps), event->position());
    event->accept();
}

void TsneMapView::keyPressEvent(QKeyEvent *event)
{
    switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal:
        zoomBy(1.25);
        return;
    case Qt::Key_Minus:
        zoomBy(0.8);
        return;
    case Qt::Key_0:
        fitView();
        return;
    case Qt::Key_Escape:
        if (m_selectedCount > 0) {
            clearSelection();
            return;
        }
        break;
    default:
        break;
    }
    QWidget::keyPressEvent(event);
}

void TsneMapView::leaveEvent(QEvent *)
{
    if (m_hover >= 0) {
        m_hover = -1;
        update();
    }
}

} // namespace emolens
