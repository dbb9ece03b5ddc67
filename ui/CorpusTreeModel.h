#pragma once
// CorpusTreeModel: corpus -> speaker (with gender) -> utterance, for the browser on the left.
// Rebuilt in one go from rows the caller already read (reload); the tree owns its nodes.
// GUI thread only; holds no database connection.

#include "store/Records.h"

#include <QAbstractItemModel>
#include <QHash>
#include <QList>
#include <memory>
#include <vector>

namespace emolens {

class CorpusTreeModel : public QAbstractItemModel
{
    Q_OBJECT

public:
    enum Column { NameColumn, CountColumn, ColumnCount };
    enum class Kind { Corpus, Speaker, Utterance };
    enum Role {
        KindRole = Qt::UserRole + 1, // int(Kind)
        CorpusIdRole,                // qint64
        SpeakerCodeRole,             // QString (speaker and utterance nodes)
        UtteranceIdRole,             // qint64 (utterance nodes)
    };

    explicit CorpusTreeModel(QObject *parent = nullptr);
    ~CorpusTreeModel() override;

    // speakers: every corpus's speakers by corpus id (for gender); rows: all utterances.
    void reload(const QList<CorpusRecord> &corpora,
                const QHash<qint64, QList<SpeakerRecord>> &speakers,
                const QList<UtteranceRow> &rows);
    void clear();

    QModelIndex indexOfUtterance(qint64 utteranceId) const;

    QModelIndex index(int row, int column,
                      const QModelIndex &parent = QModelIndex()) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    struct Node;
    Node *nodeAt(const QModelIndex &index) const;

    std::unique_ptr<Node> m_root;
    QHash<qint64, Node *> m_utteranceNodes;
};

} // namespace emolens
