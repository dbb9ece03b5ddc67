#pragma once
// UtteranceTableModel: the utterance table (one row per utterance with its speaker and the
// label it shows). Rows come from the store in one query (setRows); after a label edit the
// owner replaces just that row (updateRow), so a 10k-row table never reloads for one click.
// GUI thread only; holds copies of the rows, no database connection.

#include "store/ModelRepository.h"
#include "store/Records.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QList>

namespace emolens {

class UtteranceTableModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        KeyColumn,
        LabelColumn,
        SpeakerColumn,
        GenderColumn,
        DurationColumn,
        LabeledByColumn,
        PredictedColumn,  // the active model's category (empty without one)
        ConfidenceColumn, // its probability
        CorpusColumn,
        ColumnCount
    };
    enum Role {
        UtteranceIdRole = Qt::UserRole + 1, // qint64
        CorpusIdRole,                       // qint64
        SortRole,                           // numbers as numbers, text case-folded
    };

    explicit UtteranceTableModel(QObject *parent = nullptr);

    void setRows(QList<UtteranceRow> rows);
    // Replaces the row with the same id; returns false when no such row is shown.
    bool updateRow(const UtteranceRow &row);
    void clear();

    int rowOf(qint64 utteranceId) const; // -1 when absent
    const UtteranceRow &rowAt(int row) const { return m_rows.at(row); }
    const QList<UtteranceRow> &rows() const { return m_rows; }
    int labeledCount() const;

    // The active model's predictions (category, confidence, probabilities by class) for the
    // Predicted and Confidence columns; an empty map clears them.
    void setPredictions(const QHash<qint64, PredictionRow> &predictions,
                        const QStringList &classes);
    bool hasPredictions() const { return !m_predictions.isEmpty(); }
    const PredictionRow *prediction(qint64 utteranceId) const;

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    void rebuildIndex();

    QList<UtteranceRow> m_rows;
    QHash<qint64, int> m_rowById;
    QHash<qint64, PredictionRow> m_predictions;
    QStringList m_predictionClasses;
};

} // namespace emolens
