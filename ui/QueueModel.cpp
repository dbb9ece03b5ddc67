#include "QueueModel.h"

#include "ClassColours.h"

#include <QBrush>
#include <QFont>
#include <cmath>

namespace emolens {

QueueModel::QueueModel(QObject *parent) : QAbstractTableModel(parent) {}

void QueueModel::setRows(QList<QueueRow> rows, QStringList classes)
{
    beginResetModel();
    m_rows = std::move(rows);
    m_classes = std::move(classes);
    endResetModel();
}

void QueueModel::clear()
{
    setRows({}, {});
}

bool QueueModel::setLabel(qint64 utteranceId, const QString &label)
{
    const int row = rowOf(utteranceId);
    if (row < 0)
        return false;
    if (m_rows[row].label != label) {
        m_rows[row].label = label;
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    }
    return true;
}

int QueueModel::rowOf(qint64 utteranceId) const
{
    for (int i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].utteranceId == utteranceId)
            return i;
    return -1;
}

QList<qint64> QueueModel::ids() const
{
    QList<qint64> out;
    out.reserve(m_rows.size());
    for (const QueueRow &r : m_rows)
        out << r.utteranceId;
    return out;
}

int QueueModel::labeledCount() const
{
    int n = 0;
    for (const QueueRow &r : m_rows)
        n += r.label.isEmpty() ? 0 : 1;
    return n;
}

int QueueModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int QueueModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant QueueModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const QueueRow &r = m_rows[index.row()];
    if (role == UtteranceIdRole)
        return r.utteranceId;
    const bool done = !r.label.isEmpty();
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case RankColumn:
            return r.rank > 0 ? QVariant(r.rank) : QVariant(QStringLiteral("\u25b6"));
        case KeyColumn:
            return r.key;
        case SpeakerColumn:
            return r.speaker;
        case ScoreColumn:
            if (r.rank <= 0)
                return QString();
            // Counts (ALPS's cluster sizes) as whole numbers, the other scores to 3 places.
            if (std::abs(r.score) >= 1 && r.score == std::round(r.score))
                return QString::number(qint64(std::llround(r.score)));
            return QString::number(r.score, 'f', 3);
        case ReasonColumn:
            return r.reason;
        case PredictedColumn:
            return r.predicted;
        case ConfidenceColumn:
            return r.predicted.isEmpty() ? QString() : QString::number(r.confidence, 'f', 2);
        case LabelColumn:
            return done ? QStringLiteral("\u2713 ") + r.label : QString();
        }
        break;
    case Qt::ToolTipRole:
        if (index.column() == ReasonColumn || index.column() == KeyColumn)
            return tr("%1: rank %2 of this round, %3").arg(r.key).arg(r.rank).arg(r.reason);
        if (r.kept && index.column() == RankColumn)
            return tr("The clip you were on when the queue was ranked again: it stays first");
        break;
    case Qt::TextAlignmentRole:
        if (index.column() == RankColumn || index.column() == ScoreColumn ||
            index.column() == ConfidenceColumn)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        break;
    case Qt::ForegroundRole:
        if (done && index.column() != LabelColumn)
            return QBrush(QColor(0x80, 0x80, 0x80)); // labeled: greyed, the work is done
        if (index.column() == PredictedColumn && !r.predicted.isEmpty()) {
            const int c = int(m_classes.indexOf(r.predicted));
            if (c >= 0)
                return QBrush(classColour(m_classes, c).darker(130));
        }
        break;
    case Qt::FontRole:
        if (r.kept && index.column() == KeyColumn) {
            QFont f;
            f.setItalic(true);
            return f;
        }
        break;
    default:
        break;
    }
    return {};
}

QVariant QueueModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
        case RankColumn:
            return tr("#");
        case KeyColumn:
            return tr("Clip");
        case SpeakerColumn:
            return tr("Speaker");
        case ScoreColumn:
            return tr("Score");
        case ReasonColumn:
            return tr("Why");
        case PredictedColumn:
            return tr("Model says");
        case ConfidenceColumn:
            return tr("Conf.");
        case LabelColumn:
            return tr("Labeled");
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case RankColumn:
            return tr("The clip's rank in this round (1: label it first)");
        case ScoreColumn:
            return tr("The strategy's own score (for margin, smaller is picked first; for ALPS, "
                      "how many clips the pick's surprisal cluster holds)");
        case ReasonColumn:
            return tr("Why the strategy picked the clip");
        case PredictedColumn:
            return tr("The label of the model that ranked the queue");
        case LabelColumn:
            return tr("The label a person has given it since the queue was ranked");
        }
    }
    return {};
}

} // namespace emolens
