#pragma once
// ConfusionMatrixView: a confusion matrix as a heat map - rows the true class, columns the
// predicted one, each class name in its class colour; each cell shows its count, or with
// row normalisation the share of the row (and the count under it). The colour runs from white
// to deep blue over 0 to the largest cell (counts) or 0 to 100 % (rows), with the scale as a
// legend beside the matrix. A click on a cell (or Enter on the current one; arrow keys move
// it) emits cellActivated. GUI thread only.

#include <QList>
#include <QStringList>
#include <QWidget>

namespace emolens {

class ConfusionMatrixView : public QWidget
{
    Q_OBJECT

public:
    explicit ConfusionMatrixView(QWidget *parent = nullptr);

    void setMatrix(const QStringList &classes, const QList<QList<int>> &confusion);
    void setNormalised(bool rows);
    bool isNormalised() const { return m_normalised; }
    void setEmptyText(const QString &text);
    // The titles along the rows and the columns ("True class", "Predicted class" unless set:
    // the agreement view compares two annotators).
    void setAxisTitles(const QString &rows, const QString &columns);

    const QStringList &classes() const { return m_classes; }
    // The cell's rectangle in widget coordinates (empty when there is no such cell).
    QRect cellRect(int truth, int predicted) const;
    // The cell at a widget position: (truth, predicted), or (-1, -1).
    QPair<int, int> cellAt(const QPoint &pos) const;
    QPair<int, int> currentCell() const { return {m_currentTruth, m_currentPredicted}; }
    void setCurrentCell(int truth, int predicted);
    // The colour of a value on the scale, 0..1.
    static QColor heat(double fraction);

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

Q_SIGNALS:
    void cellActivated(int truth, int predicted);

protected:
    void paintEvent(QPaintEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;

private:
    struct Geometry
    {
        QRect grid;
        int cell = 0;
        int labelWidth = 0;
        QRect legend;
    };
    Geometry geometry() const;
    double value(int truth, int predicted) const; // 0..1 on the scale

    QStringList m_classes;
    QList<QList<int>> m_confusion;
    bool m_normalised = false;
    QString m_emptyText;
    QString m_rowTitle;
    QString m_columnTitle;
    int m_currentTruth = -1;
    int m_currentPredicted = -1;
};

} // namespace emolens
