#pragma once
// ClipNavigator: which clip the window shows, and how the user moves between clips. It is
// the one navigation source: the table's current row drives it, and anything else that
// offers clips in an order (the ranked labeling queue of active learning, a click on the
// t-SNE map) calls select() or move() rather than touching the table. It follows the table's
// order and filters: move(+1) is the next row shown, and isShown() says whether a clip is in
// the table now (a number key labels only such a clip).
//
// The current clip stays current when a filter hides its row, until another is chosen.
//
// While an order is set (the labeling queue's, when the Queue tab is in front) move() and
// at() follow it instead of the table: forward to the next clip of the order that is not done
// yet (done() says; the queue's labeled clips), backward to the one before; a clip not in
// the order moves forward to the first one not done. select() then also takes the order's
// clips that the table hides, and isShown() counts them.
//
// Ownership and threads: GUI thread; the table and its models must outlive the navigator.

#include <QList>
#include <QObject>
#include <functional>

class QModelIndex;
class QTableView;

namespace emolens {

class UtteranceFilterModel;
class UtteranceTableModel;

class ClipNavigator : public QObject
{
    Q_OBJECT

public:
    ClipNavigator(QTableView *table, UtteranceTableModel *rows, UtteranceFilterModel *shown,
                  QObject *parent = nullptr);

    qint64 current() const { return m_current; }
    // Makes the clip current and brings its row into view. False when the table does not
    // show it (filtered away, or not in the workspace).
    bool select(qint64 utteranceId);
    // No clip is current (the workspace closed, or the clip went away).
    void clear();
    // The clip `offset` rows from the current one in the table's order (the first row when
    // none is current), or 0 when there is none.
    qint64 at(int offset) const;
    bool move(int offset);
    bool isShown(qint64 utteranceId) const;
    // The clips the table shows, in its order.
    QList<qint64> shownIds() const;

    // Follow `order` rather than the table (see above); `done` may be empty (nothing is).
    void setOrder(const QList<qint64> &order, std::function<bool(qint64)> done = {});
    void clearOrder();
    bool hasOrder() const { return m_hasOrder; }

Q_SIGNALS:
    // The clip to show now (not emitted by clear()).
    void currentChanged(qint64 utteranceId);

private:
    void onCurrentRowChanged(const QModelIndex &current);

    QTableView *m_table = nullptr;
    UtteranceTableModel *m_rows = nullptr;
    UtteranceFilterModel *m_shown = nullptr;
    qint64 m_current = 0;
    bool m_hasOrder = false;
    QList<qint64> m_order;
    std::function<bool(qint64)> m_done;
};

} // namespace emolens
