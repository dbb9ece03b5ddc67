#pragma once
// UtteranceFilterModel: the sort/filter proxy in front of the utterance table. Narrows the
// rows by free text (matched against key, label and speaker), by label ("all", "unlabeled"
// or one class) and by what is selected in the corpus tree (a corpus or one of its speakers).
// GUI thread only.

#include <QSortFilterProxyModel>
#include <QString>

namespace emolens {

class UtteranceFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    enum class LabelFilter { All, Unlabeled, Category };

    explicit UtteranceFilterModel(QObject *parent = nullptr);

    void setText(const QString &text);
    void setLabelFilter(LabelFilter filter, const QString &category = QString());
    // corpusId 0: every corpus. speakerCode empty: every speaker of the corpus.
    void setScope(qint64 corpusId, const QString &speakerCode = QString());

    QString text() const { return m_text; }
    qint64 scopeCorpusId() const { return m_corpusId; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_text;
    LabelFilter m_labelFilter = LabelFilter::All;
    QString m_category;
    qint64 m_corpusId = 0;
    QString m_speakerCode;
};

} // namespace emolens
