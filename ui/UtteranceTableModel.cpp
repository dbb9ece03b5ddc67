#include "UtteranceTableModel.h"

#include <QColor>

#include <QFont>
#include <QPalette>

namespace emolens {

UtteranceTableModel::UtteranceTableModel(QObject *parent) : QAbstractTableModel(parent) {}

void UtteranceTableModel::setRows(QList<UtteranceRow> rows)
{
    beginResetModel();
    m_rows = std::move(rows);
    rebuildIndex();
    endResetModel();
}

void UtteranceTableModel::clear()
{
    m_predictions.clear();
    m_predictionClasses.clear();
    setRows({});
}

bool UtteranceTableModel::updateRow(const UtteranceRow &row)
{
    const int r = rowOf(row.id);
    if (r < 0)
        return false;
    m_rows[r] = row;
    Q_EMIT dataChanged(index(r, 0), index(r, ColumnCount - 1));
    return true;
}

int UtteranceTableModel::rowOf(qint64 utteranceId) const
{
    return m_rowById.value(utteranceId, -1);
}

int UtteranceTableModel::labeledCount() const
{
    int count = 0;
    for (const UtteranceRow &row : m_rows)
        count += row.label.isEmpty() ? 0 : 1;
    return count;
}

void UtteranceTableModel::rebuildIndex()
{
    m_rowById.clear();
    m_rowById.reserve(m_rows.size());
    for (int i = 0; i < m_rows.size(); ++i)
        m_rowById.insert(m_rows[i].id, i);
}

int UtteranceTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int UtteranceTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant UtteranceTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const UtteranceRow &row = m_rows[index.row()];
    switch (role) {
    case Qt::DisplayRole:
        switch (Column(index.column())) {
        case KeyColumn:
            return row.key;
        case LabelColumn:
            return row.label;
        case SpeakerColumn:
            return row.speakerCode;
        case GenderColumn:
            return genderName(row.gender);
        case DurationColumn:
            return QString::number(row.durationSeconds, 'f', 2);
        case LabeledByColumn:
            return row.labeledBy;
        case PredictedColumn:
            if (const PredictionRow *p = prediction(row.id))
                return p->category;
            return {};
        case ConfidenceColumn:
            if (const PredictionRow *p = prediction(row.id))
                return QString::number(p->confidence, 'f', 2);
            return {};
        case CorpusColumn:
            return row.corpusName;
        case ColumnCount:
            break;
        }
        return {};
    case SortRole:
        if (index.column() == DurationColumn)
            return row.durationSeconds;
        if (index.column() == ConfidenceColumn) {
            const PredictionRow *p = prediction(row.id);
            return p ? p->confidence : -1.0;
        }
        return data(index, Qt::DisplayRole).toString().toCaseFolded();
    case Qt::TextAlignmentRole:
        if (index.column() == DurationColumn || index.column() == ConfidenceColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return QVariant(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::ToolTipRole:
        if (index.column() == KeyColumn)
            return row.path;
        if (index.column() == LabeledByColumn && row.labelOrigin == LabelOrigin::Corpus)
            return tr("The label the corpus itself gives");
        if (index.column() == LabelColumn && !row.labelInSet)
            return tr("Given under another label set of this corpus; not one of its current "
                      "classes");
        if ((index.column() == PredictedColumn || index.column() == ConfidenceColumn) &&
            prediction(row.id)) {
            const PredictionRow *p = prediction(row.id);
            QStringList parts;
            for (qsizetype c = 0;
                 c < m_predictionClasses.size() && c < qsizetype(p->probabilities.size()); ++c)
                parts << QStringLiteral("%1 %2")
                             .arg(m_predictionClasses[c])
                             .arg(p->probabilities[std::size_t(c)], 0, 'f', 2);
            return tr("The active model: %1").arg(parts.join(QStringLiteral(", ")));
        }
        if (index.column() == LabelColumn && row.disagreement)
            return tr("Annotators disagree: %1 labeled it")
                .arg(row.labeledByPeople.join(QStringLiteral(", ")));
        return {};
    case Qt::ForegroundRole:
        // Unlabeled rows and corpus-given labels read quieter than a human's decision.
        if (index.column() == LabeledByColumn && row.labelOrigin == LabelOrigin::Corpus)
            return QPalette().color(QPalette::Disabled, QPalette::Text);
        // A prediction that differs from the label stands out.
        if (index.column() == PredictedColumn && !row.label.isEmpty())
            if (const PredictionRow *p = prediction(row.id); p && p->category != row.label)
                return QColor(0xb3261e);
        return {};
    case Qt::FontRole:
        if (index.column() == LabelColumn && !row.label.isEmpty() &&
            (row.labelOrigin == LabelOrigin::Person || !row.labelInSet)) {
            // A person's decision reads bold; a label outside the current set, italic.
            QFont font;
            font.setBold(row.labelOrigin == LabelOrigin::Person);
            font.setItalic(!row.labelInSet);
            return font;
        }
        return {};
    case UtteranceIdRole:
        return row.id;
    case CorpusIdRole:
        return row.corpusId;
    default:
        return {};
    }
}

void UtteranceTableModel::setPredictions(const QHash<qint64, PredictionRow> &predictions,
                                         const QStringList &classes)
{
    m_predictions = predictions;
    m_predictionClasses = classes;
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0, PredictedColumn), index(rowCount() - 1, ConfidenceColumn));
}

const PredictionRow *UtteranceTableModel::prediction(qint64 utteranceId) const
{
    const auto it = m_predictions.constFind(utteranceId);
    return it == m_predictions.constEnd() ? nullptr : &*it;
}

QVariant UtteranceTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case KeyColumn:
        return tr("Key");
    case LabelColumn:
        return tr("Label");
    case SpeakerColumn:
        return tr("Speaker");
    case GenderColumn:
        return tr("Gender");
    case DurationColumn:
        return tr("Duration (s)");
    case LabeledByColumn:
        return tr("Labeled by");
    case PredictedColumn:
        return tr("Predicted");
    case ConfidenceColumn:
        return tr("Confidence");
    case CorpusColumn:
        return tr("Corpus");
    case ColumnCount:
        break;
    }
    return {};
}

} // namespace emolens
