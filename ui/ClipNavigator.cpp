#include "ClipNavigator.h"

#include "UtteranceFilterModel.h"
#include "UtteranceTableModel.h"

#include <QItemSelectionModel>
#include <QTableView>

namespace emolens {

ClipNavigator::ClipNavigator(QTableView *table, UtteranceTableModel *rows,
                             UtteranceFilterModel *shown, QObject *parent)
    : QObject(parent), m_table(table), m_rows(rows), m_shown(shown)
{
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &ClipNavigator::onCurrentRowChanged);
}

bool ClipNavigator::select(qint64 utteranceId)
{
    const int sourceRow = m_rows->rowOf(utteranceId);
    if (sourceRow < 0)
        return false;
    const QModelIndex proxy = m_shown->mapFromSource(m_rows->index(sourceRow, 0));
    if (!proxy.isValid() && !(m_hasOrder && m_order.contains(utteranceId)))
        return false;
    if (proxy.isValid()) {
        m_table->setCurrentIndex(proxy); // usually reports back through onCurrentRowChanged
        m_table->scrollTo(proxy);
    }
    if (m_current != utteranceId) {
        m_current = utteranceId;
        Q_EMIT currentChanged(utteranceId);
    }
    return true;
}

void ClipNavigator::clear()
{
    m_current = 0;
}

qint64 ClipNavigator::at(int offset) const
{
    if (m_hasOrder) {
        const qsizetype here = m_order.indexOf(m_current);
        if (offset == 0)
            return here >= 0 ? m_current : 0;
        if (offset < 0)
            return here + offset >= 0 ? m_order.value(here + offset) : 0;
        int steps = offset;
        for (qsizetype i = here + 1; i < m_order.size(); ++i)
            if (m_order[i] != m_current && !(m_done && m_done(m_order[i])) && --steps == 0)
                return m_order[i];
        return 0;
    }
    const int rows = m_shown->rowCount();
    if (rows == 0)
        return 0;
    const QModelIndex here = m_table->currentIndex();
    const int target = here.isValid() ? here.row() + offset : 0;
    if (target < 0 || target >= rows)
        return 0;
    return m_shown->index(target, 0).data(UtteranceTableModel::UtteranceIdRole).toLongLong();
}

bool ClipNavigator::move(int offset)
{
    const qint64 id = at(offset);
    return id != 0 && select(id);
}

void ClipNavigator::setOrder(const QList<qint64> &order, std::function<bool(qint64)> done)
{
    m_hasOrder = true;
    m_order = order;
    m_done = std::move(done);
}

void ClipNavigator::clearOrder()
{
    m_hasOrder = false;
    m_order.clear();
    m_done = {};
}

bool ClipNavigator::isShown(qint64 utteranceId) const
{
    if (m_hasOrder && m_order.contains(utteranceId))
        return true;
    const int row = m_rows->rowOf(utteranceId);
    return row >= 0 && m_shown->mapFromSource(m_rows->index(row, 0)).isValid();
}

QList<qint64> ClipNavigator::shownIds() const
{
    QList<qint64> ids;
    ids.reserve(m_shown->rowCount());
    for (int row = 0; row < m_shown->rowCount(); ++row)
        ids.append(m_shown->index(row, 0).data(UtteranceTableModel::UtteranceIdRole).toLongLong());
    return ids;
}

void ClipNavigator::onCurrentRowChanged(const QModelIndex &current)
{
    if (!current.isValid())
        return; // filtered away: keep showing the clip until another row is chosen
    const qint64 id = current.data(UtteranceTableModel::UtteranceIdRole).toLongLong();
    if (id != m_current) {
        m_current = id;
        Q_EMIT currentChanged(id);
    }
}

} // namespace emolens
