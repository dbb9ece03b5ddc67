#pragma once
// TsneMapView: the t-SNE map's plot - one dot per clip, coloured by the group the window gives
// it (its label, the model's label, right or wrong, speaker, ...), with a legend of the groups
// and their counts in the corner.
//
// - Wheel (or + / -) zooms around the pointer, 0 fits every point again; dragging with the
//   right or middle button (or Ctrl + left) pans.
// - The clip open in the window is ringed in orange.
// - Hovering a dot shows its tooltip (the window's text: key, speaker, labels) and rings it;
//   a click on a dot emits pointClicked.
// - Dragging with the left button selects the dots inside a rubber band, or inside a freehand
//   lasso when the view's shape is Lasso (Alt while dragging uses the other shape); with
//   Shift they are added to the selection; Escape clears it.
//
// Drawing: the dots are painted into a cached image, redrawn only when the points, groups,
// selection, size or view change; hit tests go through a grid over the points, so 100,000
// dots stay smooth. GUI thread only.

#include <QColor>
#include <QImage>
#include <QList>
#include <QPolygonF>
#include <QSet>
#include <QStringList>
#include <QWidget>
#include <functional>
#include <vector>

class QRubberBand;

namespace emolens {

class TsneMapView : public QWidget
{
    Q_OBJECT

public:
    explicit TsneMapView(QWidget *parent = nullptr);

    // New points (ids and [n x 2] positions); the view fits them.
    void setPoints(const QList<qint64> &ids, const std::vector<float> &xy);
    // New positions of the same ids (a layout converging): the view keeps its zoom when the
    // user moved it, else fits again.
    void updatePositions(const std::vector<float> &xy);
    void clear();
    // Groups: names, colours and each point's group (-1: none, drawn grey and not listed).
    void setGroups(const QStringList &names, const QList<QColor> &colours,
                   const std::vector<int> &groupOfPoint);
    void setTooltipText(std::function<QString(qint64)> text) { m_tooltip = std::move(text); }
    // Shown in the middle when there are no points.
    void setEmptyText(const QString &text);

    int count() const { return int(m_ids.size()); }
    const QList<qint64> &ids() const { return m_ids; }
    QList<qint64> selection() const;
    void setSelection(const QList<qint64> &ids);
    void clearSelection();
    // The clip open in the window, ringed in orange (0: none).
    void setCurrent(qint64 utteranceId);
    qint64 current() const { return m_current; }
    // The point under a widget position (within a few pixels), or -1; its screen position.
    int pointAt(const QPointF &pos) const;
    QPointF screenPosition(int index) const;
    int indexOf(qint64 id) const { return m_indexOf.value(id, -1); }
    // How a left drag selects: a rectangle (the rubber band) or a freehand lasso.
    enum class SelectShape { Rectangle, Lasso };
    void setSelectShape(SelectShape shape) { m_shape = shape; }
    SelectShape selectShape() const { return m_shape; }

public Q_SLOTS:
    void fitView();
    void zoomBy(double factor);

Q_SIGNALS:
    void pointClicked(qint64 utteranceId);
    void selectionChanged(int count);

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void leaveEvent(QEvent *event) override;

private:
    QPointF toScreen(float x, float y) const;
    QPointF toData(const QPointF &screen) const;
    void zoomAround(double factor, const QPointF &screen);
    void rebuildGrid();
    void invalidate();
    void renderCache();
    void drawLegend(QPainter &p) const;
    // Calls draw(screen position, group, selected) for each dot inside `visible`, in drawing
    // order.
    template <typename Draw> void forEachDot(const QRectF &visible, Draw draw) const;
    // Selects the dots whose screen positions `inside` accepts, within `bounds` (screen).
    template <typename Inside> void selectWhere(const QRectF &bounds, bool add, Inside inside);

    QList<qint64> m_ids;
    QHash<qint64, int> m_indexOf;
    std::vector<float> m_xy;
    std::vector<int> m_group;
    QStringList m_groupNames;
    QList<QColor> m_groupColours;
    QList<int> m_groupCounts;
    std::vector<char> m_selected;
    int m_selectedCount = 0;
    std::function<QString(qint64)> m_tooltip;
    QString m_emptyText;

    // View: the data point at the widget's centre and pixels per data unit.
    QPointF m_centre;
    double m_scale = 1;
    bool m_userMoved = false;

    // Hit-test grid over the data's bounding box.
    QRectF m_bounds;
    int m_gridSide = 1;
    std::vector<int> m_gridStart; // CSR: points of cell c are m_gridItems[start[c]..start[c+1])
    std::vector<int> m_gridItems;

    QImage m_cache;
    bool m_dirty = true;
    int m_hover = -1;
    qint64 m_current = 0;
    enum class Drag { None, Pan, Select } m_drag = Drag::None;
    QPoint m_pressAt;
    QPointF m_panCentre;
    bool m_moved = false;
    QRubberBand *m_band = nullptr;
    SelectShape m_shape = SelectShape::Rectangle;
    bool m_lassoDrag = false; // this drag draws a lasso
    QPolygonF m_lasso;        // its points so far, in widget coordinates
};

} // namespace emolens
