#pragma once
// TableFilterBar: the row above the utterance table - free-text filter, label filter (all,
// not labeled by me, no person's label yet, annotators disagree, unlabeled, each class), the
// scope chosen in the corpus tree (with a button that clears it) and how many clips are shown.
// It drives the UtteranceFilterModel and says when what is shown changed.
//
// Ownership and threads: GUI thread; the filter model must outlive the bar.

#include "store/Records.h"

#include <QList>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QToolButton;

namespace emolens {

class UtteranceFilterModel;

class TableFilterBar : public QWidget
{
    Q_OBJECT

public:
    explicit TableFilterBar(UtteranceFilterModel *filter, QWidget *parent = nullptr);

    QLineEdit *textEdit() const { return m_text; }
    QComboBox *labelCombo() const { return m_label; }
    QToolButton *chosenButton() const { return m_chosen; }

    // Offers the classes of these label sets and any other label the rows show; keeps the
    // chosen entry when it still exists.
    void setLabels(const QList<LabelSchema> &labelSets, const QList<UtteranceRow> &rows);
    // Adds a label a clip shows that no entry names yet.
    void addLabel(const QString &label);
    // Whose work "Not labeled by me" looks at.
    void setAnnotator(const QString &name);
    // Shows only this corpus (or one of its speakers); the button names it and clears it.
    void setScope(qint64 corpusId, const QString &corpusName, const QString &speakerCode);
    void clearScope();
    // Shows only these clips (chosen on the map); the button says how many and clears them.
    void setChosenClips(const QList<qint64> &ids, const QString &where);
    void clearChosenClips();
    void showCounts(int shown, int total);

Q_SIGNALS:
    // The rows shown changed (text, label or scope).
    void filterChanged();
    // The user cleared the scope with its button.
    void scopeCleared();

private:
    void applyLabel();

    UtteranceFilterModel *m_filter = nullptr;
    QLineEdit *m_text = nullptr;
    QComboBox *m_label = nullptr;
    QToolButton *m_scope = nullptr;
    QToolButton *m_chosen = nullptr;
    QLabel *m_count = nullptr;
};

} // namespace emolens
