#pragma once
// UtteranceFilterModel: the sort/filter proxy in front of the utterance table. Narrows the
// rows by free text (matched against key, label and speaker), by label (see LabelFilter) and
// by what is selected in the corpus tree (a corpus or one of its speakers), and by a set of
// clips chosen elsewhere (a selection on the t-SNE map). Text columns sort
// naturally: "spk2" before "spk10". GUI thread only.

#include <QSet>
#include <QSortFilterProxyModel>
#include <QString>

namespace emolens {

class UtteranceFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    enum class LabelFilter {
        All,
        Unlabeled,      // no label at all, not even the corpus's
        NoPersonLabel,  // no person has given a category yet (corpus labels do not count)
        NotLabeledByMe, // the annotator set with setAnnotator() has not given a category
        Disagreement,   // people gave different categories
        Category,       // shows this category
    };

    explicit UtteranceFilterModel(QObject *parent = nullptr);

    void setText(const QString &text);
    // Whose work NotLabeledByMe looks at.
    void setAnnotator(const QString &name);
    void setLabelFilter(LabelFilter filter, const QString &category = QString());
    // corpusId 0: every corpus. speakerCode empty: every speaker of the corpus.
    void setScope(qint64 corpusId, const QString &speakerCode = QString());
    // Only these clips (an empty list: no such filter).
    void setIdFilter(const QList<qint64> &ids);
    bool hasIdFilter() const { return !m_ids.isEmpty(); }

    QString text() const { return m_text; }
    qint64 scopeCorpusId() const { return m_corpusId; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    QString m_text;
    LabelFilter m_labelFilter = LabelFilter::All;
    QString m_category;
    QString m_annotator;
    qint64 m_corpusId = 0;
    QString m_speakerCode;
    QSet<qint64> m_ids;
};

} // namespace emolens
