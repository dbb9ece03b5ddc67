#include "charts/ConfusionMatrixView.h"

#include "ClassColours.h"

#include <QKeyEvent>
#include <QLinearGradient>
#include <QMouseEvent>
#include <QPainter>
#include <algorithm>

namespace emolens {

namespace {

int rowSum(const QList<int> &row)
{
    int sum = 0;
    for (int v : row)
        sum += v;
    return sum;
}

} // namespace

ConfusionMatrixView::ConfusionMatrixView(QWidget *parent) : QWidget(parent)
{
    setFocusPolicy(Qt::StrongFocus);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void ConfusionMatrixView::setMatrix(const QStringList &classes, const QList<QList<int>> &confusion)
{
    m_classes = classes;
    m_confusion = confusion;
    m_currentTruth = m_currentPredicted = -1;
    updateGeometry();
    update();
}

void ConfusionMatrixView::setNormalised(bool rows)
{
    m_normalised = rows;
    update();
}

void ConfusionMatrixView::setEmptyText(const QString &text)
{
    m_emptyText = text;
    update();
}

void ConfusionMatrixView::setAxisTitles(const QString &rows, const QString &columns)
{
    m_rowTitle = rows;
    m_columnTitle = columns;
    update();
}

void ConfusionMatrixView::setCurrentCell(int truth, int predicted)
{
    m_currentTruth = truth;
    m_currentPredicted = predicted;
    update();
}

QColor ConfusionMatrixView::heat(double fraction)
{
    // White to a deep blue, through a light blue: readable text on both ends.
    const double f = std::clamp(fraction, 0.0, 1.0);
    const QColor low(255, 255, 255), mid(140, 185, 225), high(8, 48, 107);
    const auto mix = [](const QColor &a, const QColor &b, double t) {
        return QColor::fromRgbF(float(a.redF() + (b.redF() - a.redF()) * t),
                                float(a.greenF() + (b.greenF() - a.greenF()) * t),
                                float(a.blueF() + (b.blueF() - a.blueF()) * t));
    };
    return f < 0.5 ? mix(low, mid, f * 2) : mix(mid, high, (f - 0.5) * 2);
}

double ConfusionMatrixView::value(int truth, int predicted) const
{
    const int count = m_confusion.value(truth).value(predicted);
    if (m_normalised) {
        const int sum = rowSum(m_confusion.value(truth));
        return sum > 0 ? double(count) / sum : 0;
    }
    int largest = 0;
    for (const QList<int> &row : m_confusion)
        for (int v : row)
            largest = std::max(largest, v);
    return largest > 0 ? double(count) / largest : 0;
}

ConfusionMatrixView::Geometry ConfusionMatrixView::geometry() const
{
    Geometry g;
    const QFontMetrics fm = fontMetrics();
    for (const QString &c : m_classes)
        g.labelWidth = std::max(g.labelWidth, fm.horizontalAdvance(c));
    g.labelWidth += 12;
    const int k = std::max<int>(1, int(m_classes.size()));
    const int axisTitle = fm.height() + 6;
    const int legendWidth = 70;
    const int left = axisTitle + g.labelWidth;
    const int top = axisTitle + fm.height() + 10;
    const int availableW = width() - left - legendWidth - 12;
    const int availableH = height() - top - 12;
    g.cell = std::clamp(std::min(availableW, availableH) / k, 18, 110);
    g.grid = QRect(left, top, g.cell * k, g.cell * k);
    g.legend = QRect(g.grid.right() + 18, g.grid.top(), 14, g.grid.height());
    return g;
}

QSize ConfusionMatrixView::sizeHint() const
{
    const int k = std::max<int>(2, int(m_classes.size()));
    return {200 + 64 * k, 80 + 64 * k};
}

QSize ConfusionMatrixView::minimumSizeHint() const
{
    const int k = std::max<int>(2, int(m_classes.size()));
    return {180 + 30 * k, 70 + 30 * k};
}

QRect ConfusionMatrixView::cellRect(int truth, int predicted) const
{
    const int k = int(m_classes.size());
    if (truth < 0 || predicted < 0 || truth >= k || predicted >= k)
        return {};
    const Geometry g = geometry();
    return {g.grid.left() + predicted * g.cell, g.grid.top() + truth * g.cell, g.cell, g.cell};
}

QPair<int, int> ConfusionMatrixView::cellAt(const QPoint &pos) const
{
    const Geometry g = geometry();
    if (m_classes.isEmpty() || !g.grid.contains(pos))
        return {-1, -1};
    return {(pos.y() - g.grid.top()) / g.cell, (pos.x() - g.grid.left()) / g.cell};
}

void ConfusionMatrixView::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.fillRect(rect(), Qt::white);
    if (m_classes.isEmpty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect().adjusted(20, 20, -20, -20), Qt::AlignCenter | Qt::TextWordWrap,
                   m_emptyText);
        return;
    }
    const Geometry g = geometry();
    const QFontMetrics fm = fontMetrics();
    const int k = int(m_classes.size());
    // Axis titles.
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.setPen(palette().color(QPalette::Text));
    p.drawText(QRect(g.grid.left(), 2, g.grid.width(), fm.height() + 4), Qt::AlignCenter,
               m_columnTitle.isEmpty() ? tr("Predicted class") : m_columnTitle);
    p.save();
    p.translate(fm.height() / 2.0 + 4, g.grid.center().y());
    p.rotate(-90);
    p.drawText(QRect(-g.grid.height() / 2, -fm.height() / 2 - 2, g.grid.height(), fm.height() + 4),
               Qt::AlignCenter, m_rowTitle.isEmpty() ? tr("True class") : m_rowTitle);
    p.restore();
    p.setFont(font());
    // Class names, in their colours.
    for (int i = 0; i < k; ++i) {
        p.setPen(classColour(m_classes, i).darker(150));
        p.drawText(QRect(g.grid.left() + i * g.cell, g.grid.top() - fm.height() - 6, g.cell,
                         fm.height() + 4),
                   Qt::AlignCenter, fm.elidedText(m_classes[i], Qt::ElideRight, g.cell - 2));
        p.drawText(QRect(g.grid.left() - g.labelWidth, g.grid.top() + i * g.cell, g.labelWidth - 8,
                         g.cell),
                   Qt::AlignRight | Qt::AlignVCenter, m_classes[i]);
    }
    // Cells.
    for (int t = 0; t < k; ++t) {
        const int sum = rowSum(m_confusion.value(t));
        for (int q = 0; q < k; ++q) {
            const QRect r = cellRect(t, q);
            const double v = value(t, q);
            const int count = m_confusion.value(t).value(q);
            p.fillRect(r, heat(v));
            p.setPen(v > 0.55 ? Qt::white : QColor(20, 20, 20));
            QString text = QString::number(count);
            if (m_normalised)
                text = sum > 0 ? QStringLiteral("%1 %\n(%2)")
                                     .arg(100.0 * count / sum, 0, 'f',
                                          count == sum || count == 0 ? 0 : 1)
                                     .arg(count)
                               : QStringLiteral("-");
            if (g.cell >= 28 || !m_normalised)
                p.drawText(r, Qt::AlignCenter, text);
        }
    }
    p.setPen(QColor(190, 190, 190));
    for (int i = 0; i <= k; ++i) {
        p.drawLine(g.grid.left(), g.grid.top() + i * g.cell, g.grid.right() + 1,
                   g.grid.top() + i * g.cell);
        p.drawLine(g.grid.left() + i * g.cell, g.grid.top(), g.grid.left() + i * g.cell,
                   g.grid.bottom() + 1);
    }
    if (m_currentTruth >= 0 && m_currentPredicted >= 0) {
        p.setPen(QPen(QColor(230, 120, 0), 3));
        p.setBrush(Qt::NoBrush);
        p.drawRect(cellRect(m_currentTruth, m_currentPredicted).adjusted(1, 1, -2, -2));
    }
    // The scale.
    QLinearGradient gradient(g.legend.bottomLeft(), g.legend.topLeft());
    for (int i = 0; i <= 10; ++i)
        gradient.setColorAt(i / 10.0, heat(i / 10.0));
    p.fillRect(g.legend, gradient);
    p.setPen(QColor(150, 150, 150));
    p.drawRect(g.legend);
    int largest = 0;
    for (const QList<int> &row : std::as_const(m_confusion))
        for (int v : row)
            largest = std::max(largest, v);
    p.setPen(palette().color(QPalette::Text));
    const QString top = m_normalised ? QStringLiteral("100 %") : QString::number(largest);
    const QString bottom = m_normalised ? QStringLiteral("0 %") : QStringLiteral("0");
    p.drawText(QPoint(g.legend.right() + 5, g.legend.top() + fm.ascent()), top);
    p.drawText(QPoint(g.legend.right() + 5, g.legend.bottom()), bottom);
    p.save();
    p.translate(g.legend.right() + 5 + fm.height() / 2.0 + 2, g.legend.center().y());
    p.rotate(90);
    p.drawText(QRect(-g.legend.height() / 2 + 30, -fm.height() / 2, g.legend.height() - 60,
                     fm.height() + 2),
               Qt::AlignCenter,
               m_normalised
                   ? (m_rowTitle.isEmpty() ? tr("share of the true class") : tr("share of the row"))
                   : tr("clips"));
    p.restore();
}

void ConfusionMatrixView::mouseReleaseEvent(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton)
        return;
    const auto [t, q] = cellAt(event->position().toPoint());
    if (t < 0)
        return;
    setFocus();
    setCurrentCell(t, q);
    Q_EMIT cellActivated(t, q);
}

void ConfusionMatrixView::keyPressEvent(QKeyEvent *event)
{
    const int k = int(m_classes.size());
    if (k == 0)
        return QWidget::keyPressEvent(event);
    int t = std::max(0, m_currentTruth), q = std::max(0, m_currentPredicted);
    switch (event->key()) {
    case Qt::Key_Up:
        t = std::max(0, t - 1);
        break;
    case Qt::Key_Down:
        t = std::min(k - 1, t + 1);
        break;
    case Qt::Key_Left:
        q = std::max(0, q - 1);
        break;
    case Qt::Key_Right:
        q = std::min(k - 1, q + 1);
        break;
    case Qt::Key_Return:
    case Qt::Key_Enter:
        if (m_currentTruth >= 0)
            Q_EMIT cellActivated(m_currentTruth, m_currentPredicted);
        return;
    default:
        return QWidget::keyPressEvent(event);
    }
    setCurrentCell(t, q);
}

} // namespace emolens
