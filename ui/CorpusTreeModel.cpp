#include "CorpusTreeModel.h"

#include <QApplication>
#include <QFont>
#include <QLocale>
#include <QMap>
#include <QStyle>

namespace emolens {

struct CorpusTreeModel::Node
{
    Kind kind = Kind::Corpus;
    Node *parent = nullptr;
    int row = 0; // position under the parent
    qint64 corpusId = 0;
    qint64 utteranceId = 0;
    QString name;
    QString speakerCode;
    Gender gender = Gender::Unknown;
    int utteranceCount = 0;
    int labeledCount = 0;
    double durationSeconds = 0;
    std::vector<std::unique_ptr<Node>> children;

    Node *add(std::unique_ptr<Node> child)
    {
        child->parent = this;
        child->row = int(children.size());
        children.push_back(std::move(child));
        return children.back().get();
    }
};

CorpusTreeModel::CorpusTreeModel(QObject *parent)
    : QAbstractItemModel(parent), m_root(std::make_unique<Node>())
{
}

CorpusTreeModel::~CorpusTreeModel() = default;

void CorpusTreeModel::clear()
{
    beginResetModel();
    m_root = std::make_unique<Node>();
    m_utteranceNodes.clear();
    endResetModel();
}

void CorpusTreeModel::reload(const QList<CorpusRecord> &corpora,
                             const QHash<qint64, QList<SpeakerRecord>> &speakers,
                             const QList<UtteranceRow> &rows)
{
    // Group first (speakers in code order, utterances in the rows' key order), then build.
    QHash<qint64, QMap<QString, QList<int>>> rowsBySpeaker;
    for (int i = 0; i < rows.size(); ++i)
        rowsBySpeaker[rows[i].corpusId][rows[i].speakerCode].append(i);

    beginResetModel();
    m_root = std::make_unique<Node>();
    m_utteranceNodes.clear();
    for (const CorpusRecord &corpus : corpora) {
        auto corpusNode = std::make_unique<Node>();
        corpusNode->kind = Kind::Corpus;
        corpusNode->corpusId = corpus.id;
        corpusNode->name = corpus.name;
        QHash<QString, Gender> genders;
        for (const SpeakerRecord &s : speakers.value(corpus.id))
            genders.insert(s.code, s.gender);
        const QMap<QString, QList<int>> bySpeaker = rowsBySpeaker.value(corpus.id);
        for (auto it = bySpeaker.cbegin(); it != bySpeaker.cend(); ++it) {
            auto speakerNode = std::make_unique<Node>();
            speakerNode->kind = Kind::Speaker;
            speakerNode->corpusId = corpus.id;
            speakerNode->speakerCode = it.key();
            speakerNode->name = it.key();
            speakerNode->gender = genders.value(it.key(), Gender::Unknown);
            for (int i : it.value()) {
                const UtteranceRow &row = rows[i];
                auto leaf = std::make_unique<Node>();
                leaf->kind = Kind::Utterance;
                leaf->corpusId = corpus.id;
                leaf->utteranceId = row.id;
                leaf->speakerCode = row.speakerCode;
                leaf->name = row.key;
                leaf->durationSeconds = row.durationSeconds;
                leaf->utteranceCount = 1;
                leaf->labeledCount = row.label.isEmpty() ? 0 : 1;
                speakerNode->utteranceCount += 1;
                speakerNode->labeledCount += leaf->labeledCount;
                speakerNode->durationSeconds += row.durationSeconds;
                m_utteranceNodes.insert(row.id, speakerNode->add(std::move(leaf)));
            }
            corpusNode->utteranceCount += speakerNode->utteranceCount;
            corpusNode->labeledCount += speakerNode->labeledCount;
            corpusNode->durationSeconds += speakerNode->durationSeconds;
            corpusNode->add(std::move(speakerNode));
        }
        m_root->add(std::move(corpusNode));
    }
    endResetModel();
}

QModelIndex CorpusTreeModel::indexOfUtterance(qint64 utteranceId) const
{
    const Node *node = m_utteranceNodes.value(utteranceId);
    return node ? createIndex(node->row, 0, const_cast<Node *>(node)) : QModelIndex();
}

CorpusTreeModel::Node *CorpusTreeModel::nodeAt(const QModelIndex &index) const
{
    return index.isValid() ? static_cast<Node *>(index.internalPointer()) : m_root.get();
}

QModelIndex CorpusTreeModel::index(int row, int column, const QModelIndex &parent) const
{
    if (!hasIndex(row, column, parent))
        return {};
    Node *parentNode = nodeAt(parent);
    return createIndex(row, column, parentNode->children[size_t(row)].get());
}

QModelIndex CorpusTreeModel::parent(const QModelIndex &child) const
{
    if (!child.isValid())
        return {};
    Node *node = nodeAt(child);
    Node *parentNode = node->parent;
    if (!parentNode || parentNode == m_root.get())
        return {};
    return createIndex(parentNode->row, 0, parentNode);
}

int CorpusTreeModel::rowCount(const QModelIndex &parent) const
{
    if (parent.column() > 0)
        return 0;
    return int(nodeAt(parent)->children.size());
}

int CorpusTreeModel::columnCount(const QModelIndex &) const
{
    return ColumnCount;
}

QVariant CorpusTreeModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const Node *node = nodeAt(index);
    switch (role) {
    case Qt::DisplayRole:
        if (index.column() == NameColumn) {
            if (node->kind == Kind::Speaker && node->gender != Gender::Unknown)
                return QStringLiteral("%1  (%2)").arg(node->name, genderName(node->gender));
            return node->name;
        }
        if (node->kind == Kind::Utterance)
            return QStringLiteral("%1 s").arg(node->durationSeconds, 0, 'f', 1);
        return QLocale().toString(node->utteranceCount);
    case Qt::ToolTipRole:
        if (node->kind == Kind::Utterance)
            return tr("%1, %2 s").arg(node->name).arg(node->durationSeconds, 0, 'f', 2);
        return tr("%1: %2 utterances, %3 labeled, %4 min of audio")
            .arg(node->name)
            .arg(node->utteranceCount)
            .arg(node->labeledCount)
            .arg(node->durationSeconds / 60.0, 0, 'f', 1);
    case Qt::TextAlignmentRole:
        if (index.column() == CountColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::FontRole:
        if (node->kind == Kind::Corpus && index.column() == NameColumn) {
            QFont font;
            font.setBold(true);
            return font;
        }
        return {};
    case Qt::DecorationRole:
        if (index.column() != NameColumn || !qApp)
            return {};
        if (node->kind == Kind::Corpus)
            return QApplication::style()->standardIcon(QStyle::SP_DirIcon);
        if (node->kind == Kind::Utterance)
            return QApplication::style()->standardIcon(QStyle::SP_MediaVolume);
        return {};
    case KindRole:
        return int(node->kind);
    case CorpusIdRole:
        return node->corpusId;
    case SpeakerCodeRole:
        return node->speakerCode;
    case UtteranceIdRole:
        return node->utteranceId;
    default:
        return {};
    }
}

QVariant CorpusTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    return section == NameColumn ? tr("Corpus / speaker / utterance") : tr("Clips");
}

} // namespace emolens
