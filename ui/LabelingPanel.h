#pragma once
// LabelingPanel: the annotator's side panel for the current clip. Shows the utterance
// (key, speaker, transcript, the corpus's own label, the label it shows now) and edits this
// annotator's value: one button per class of the corpus's LabelSchema (keys 1..9 in schema
// order, the number shown on the button), a slider per dimensional scale in 0.5 steps with a
// "not set" state, a confidence choice and notes. Every edit is emitted as the complete new
// value (labelEdited); the panel never writes to the store - the main window turns the edit
// into an undoable command and calls showUtterance() again with what the store then holds.
// GUI thread only.

#include "store/Records.h"

#include <QList>
#include <QWidget>

class QAbstractButton;
class QButtonGroup;
class QCheckBox;
class QComboBox;
class QGridLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSlider;
class QTreeWidget;
class QVBoxLayout;

namespace emolens {

class LabelingPanel : public QWidget
{
    Q_OBJECT

public:
    static constexpr int kMaxNumberKeys = 9;

    explicit LabelingPanel(QWidget *parent = nullptr);

    struct Shown
    {
        UtteranceRecord utterance;
        QString speakerText; // e.g. "Ses01F (female)"
        QString corpusName;
        LabelSchema schema;
        QString corpusLabel;                   // the corpus's own (mapped) label, may be empty
        QString shownLabel;                    // what the table shows
        QString shownBy;                       // who gave it
        QMap<QString, double> shownDimensions; // per scale: a person's newest, else the corpus's
        LabelValue myValue;                    // this annotator's current value (empty when none)
        QList<LabelRecord> history;            // every label row of the utterance, oldest first
        QString modelLabel;                    // the active model's category (empty: none)
        double modelConfidence = 0;            // its probability
    };
    void showUtterance(const Shown &shown);
    void clearUtterance();
    void setAnnotatorName(const QString &name);
    void setAutoAdvance(bool enabled);

    bool hasUtterance() const { return m_shown.utterance.id != 0; }
    qint64 utteranceId() const { return m_shown.utterance.id; }
    const LabelSchema &schema() const { return m_shown.schema; }
    const LabelValue &myValue() const { return m_shown.myValue; }
    // What the panel shows now (the clip, its label, its history).
    const Shown &shown() const { return m_shown; }
    bool autoAdvance() const;
    // The button of schema().classes[index] (null out of range), for tests and screenshots.
    QPushButton *categoryButton(int index) const { return m_categoryButtons.value(index); }

public Q_SLOTS:
    // index into schema().classes; out of range does nothing.
    void chooseCategory(int index);
    void clearCategory();

Q_SIGNALS:
    // The annotator's whole new value for the clip the panel showed when the edit was made.
    void labelEdited(qint64 utteranceId, const emolens::LabelValue &value);
    void previousRequested();
    void nextRequested();
    void autoAdvanceChanged(bool enabled);
    void changeAnnotatorRequested();
    // The user is done typing in a text field (Enter, Escape, or another clip): number keys
    // should label again, so the owner gives the keyboard back to the table.
    void typingFinished();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void rebuildSchemaControls(const LabelSchema &schema);
    void refreshValueControls();
    void refreshHistory();
    void emitEdit(const LabelValue &value);
    void commitDimension(int scaleIndex, bool sliderMoved);
    void commitConfidence();
    void commitNotes();

    Shown m_shown;
    QString m_schemaSignature; // classes + scales the controls were built for
    bool m_updating = false;

    QLabel *m_keyLabel = nullptr;
    QLabel *m_detailsLabel = nullptr;
    QLabel *m_transcriptLabel = nullptr;
    QLabel *m_corpusLabel = nullptr;
    QLabel *m_shownLabel = nullptr;
    QLabel *m_annotatorLabel = nullptr;
    QGroupBox *m_categoryBox = nullptr;
    QGridLayout *m_categoryGrid = nullptr;
    QList<QPushButton *> m_categoryButtons;
    QPushButton *m_clearButton = nullptr;
    QGroupBox *m_dimensionBox = nullptr;
    QGridLayout *m_dimensionGrid = nullptr;
    struct ScaleRow
    {
        DimensionScale scale;
        QCheckBox *set = nullptr;
        QSlider *slider = nullptr;
        QLabel *value = nullptr;
    };
    QList<ScaleRow> m_scaleRows;
    QComboBox *m_confidence = nullptr;
    QLineEdit *m_notes = nullptr;
    QPushButton *m_previous = nullptr;
    QPushButton *m_next = nullptr;
    QCheckBox *m_autoAdvance = nullptr;
    QTreeWidget *m_history = nullptr;
    QWidget *m_editor = nullptr;
    QLabel *m_emptyLabel = nullptr;
};

} // namespace emolens
