#pragma once
// QueueModel: the labeling queue's table - one row per clip of the newest selection round, in
// the queue's order, with its rank, the strategy's score and the reason in words, the model's
// label and confidence when a model ranked, and the label a person has given it since.
// GUI thread only; holds copies, no database connection.

#include <QAbstractTableModel>
#include <QList>
#include <QString>
#include <QStringList>

namespace emolens {

struct QueueRow
{
    int rank = 0; // in the round (1 = first)
    qint64 utteranceId = 0;
    QString key;
    QString speaker;
    double score = 0;
    QString reason;
    QString predicted; // the model's label when it ranked
    double confidence = 0;
    QString label;     // the category a person has given it (empty: not labeled)
    bool kept = false; // the clip being played when the round came: first, whatever its rank
};

class QueueModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        RankColumn,
        KeyColumn,
        SpeakerColumn,
        ScoreColumn,
        ReasonColumn,
        PredictedColumn,
        ConfidenceColumn,
        LabelColumn,
        ColumnCount
    };
    enum Role { UtteranceIdRole = Qt::UserRole + 1 };

    explicit QueueModel(QObject *parent = nullptr);

    void setRows(QList<QueueRow> rows, QStringList classes);
    void clear();
    // The clip's label changed; false when it is not in the queue.
    bool setLabel(qint64 utteranceId, const QString &label);

    const QList<QueueRow> &rows() const { return m_rows; }
    int rowOf(qint64 utteranceId) const; // -1 when absent
    QList<qint64> ids() const;
    int labeledCount() const;

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QList<QueueRow> m_rows;
    QStringList m_classes; // for the model's label's colour
};

} // namespace emolens
