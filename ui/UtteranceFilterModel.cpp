#include "UtteranceFilterModel.h"

#include "UtteranceTableModel.h"
#include "common/NaturalOrder.h"

namespace emolens {

UtteranceFilterModel::UtteranceFilterModel(QObject *parent) : QSortFilterProxyModel(parent)
{
    setSortRole(UtteranceTableModel::SortRole);
    setDynamicSortFilter(true);
}

void UtteranceFilterModel::setAnnotator(const QString &name)
{
    if (name == m_annotator)
        return;
    m_annotator = name;
    if (m_labelFilter == LabelFilter::NotLabeledByMe)
        invalidateFilter();
}

bool UtteranceFilterModel::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    const QVariant a = left.data(sortRole());
    const QVariant b = right.data(sortRole());
    if (a.typeId() == QMetaType::QString && b.typeId() == QMetaType::QString)
        return naturalCompare(a.toString(), b.toString()) < 0;
    return QSortFilterProxyModel::lessThan(left, right);
}

void UtteranceFilterModel::setText(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed == m_text)
        return;
    m_text = trimmed;
    invalidateFilter();
}

void UtteranceFilterModel::setLabelFilter(LabelFilter filter, const QString &category)
{
    m_labelFilter = filter;
    m_category = filter == LabelFilter::Category ? category : QString();
    invalidateFilter();
}

void UtteranceFilterModel::setScope(qint64 corpusId, const QString &speakerCode)
{
    m_corpusId = corpusId;
    m_speakerCode = corpusId == 0 ? QString() : speakerCode;
    invalidateFilter();
}

void UtteranceFilterModel::setIdFilter(const QList<qint64> &ids)
{
    m_ids = QSet<qint64>(ids.cbegin(), ids.cend());
    invalidateFilter();
}

bool UtteranceFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const auto *table = qobject_cast<const UtteranceTableModel *>(sourceModel());
    if (!table || sourceParent.isValid())
        return true;
    const UtteranceRow &row = table->rowAt(sourceRow);
    if (!m_ids.isEmpty() && !m_ids.contains(row.id))
        return false;
    if (m_corpusId != 0 && row.corpusId != m_corpusId)
        return false;
    if (!m_speakerCode.isEmpty() && row.speakerCode != m_speakerCode)
        return false;
    switch (m_labelFilter) {
    case LabelFilter::All:
        break;
    case LabelFilter::Unlabeled:
        if (!row.label.isEmpty())
            return false;
        break;
    case LabelFilter::NoPersonLabel:
        if (!row.labeledByPeople.isEmpty())
            return false;
        break;
    case LabelFilter::NotLabeledByMe:
        if (row.labeledByPeople.contains(m_annotator))
            return false;
        break;
    case LabelFilter::Disagreement:
        if (!row.disagreement)
            return false;
        break;
    case LabelFilter::Category:
        if (row.label != m_category)
            return false;
        break;
    }
    if (m_text.isEmpty())
        return true;
    return row.key.contains(m_text, Qt::CaseInsensitive) ||
           row.label.contains(m_text, Qt::CaseInsensitive) ||
           row.speakerCode.contains(m_text, Qt::CaseInsensitive);
}

} // namespace emolens
