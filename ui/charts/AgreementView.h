#pragma once
// AgreementView (Analysis > Agreement): how much the workspace's annotators agree, from
// core/analysis/LabelAgreement.
//
// - A label set to look at, and whether the corpus's own labels count as one more annotator.
// - The summary: clips with two or more labels, Krippendorff's alpha, Fleiss' kappa, observed
//   agreement; per class the alpha of that class against the others.
// - The pairs of annotators (Cohen's kappa, agreement, clips both labeled); the chosen pair's
//   annotator-by-annotator confusion matrix.
// - The clips where annotators disagree, least agreement first: selecting one shows it in the
//   clip view, a double-click or Enter plays it.
// - The dimensions: Krippendorff's alpha (interval, ordinal) and the one-way ICC; the traced
//   dimensions: Lin's CCC per pair and with the fused trace, Cronbach's alpha.
// - Train on: which label a clip several people labeled trains on (core/training/LabelRule):
//   the newest (as shown), the majority's, or a reviewer's; Model > Retrain uses it
//   (QSettings "model/labelRule").
// Tables save as CSV, the matrix as PNG or SVG. The label set and the corpus choice are
// remembered (QSettings "analysis/agreement...").
//
// Ownership and threads: GUI thread; the session outlives it. reload() measures on a thread of
// its own, on its own connection to the workspace, and shows the figures when they are in
// (measured()); a reload asked meanwhile runs once after it.

#include "analysis/LabelAgreement.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QTableWidget;
class QThread;

namespace emolens {

class ConfusionMatrixView;
class WorkspaceSession;

class AgreementView : public QWidget
{
    Q_OBJECT

public:
    explicit AgreementView(WorkspaceSession *session, QWidget *parent = nullptr);

    ~AgreementView() override;
    // Reads the labels again (workspace opened or closed, labels changed), in the background.
    void reload();
    // A measurement is running (the figures shown are the previous ones).
    bool isMeasuring() const { return m_worker != nullptr; }
    const AgreementReport &report() const { return m_report; }
    // The label set shown (an index into report().labelSets; -1 when there is none).
    int labelSetIndex() const;
    void showPair(int row);

    QComboBox *labelSetCombo() const { return m_labelSet; }
    QComboBox *trainOnCombo() const { return m_trainOn; }
    QCheckBox *includeCorpusBox() const { return m_includeCorpus; }
    QLabel *summary() const { return m_summary; }
    QTableWidget *classTable() const { return m_classes; }
    QTableWidget *pairTable() const { return m_pairs; }
    ConfusionMatrixView *pairMatrix() const { return m_matrix; }
    QLabel *pairTitle() const { return m_pairTitle; }
    QTableWidget *disagreementTable() const { return m_disagreements; }
    QTableWidget *dimensionTable() const { return m_dimensions; }
    QTableWidget *traceTable() const { return m_traceTable; }
    const QList<TraceDimensionAgreement> &traceReport() const { return m_traceReport; }

Q_SIGNALS:
    // Show the clip in the clip view, and play it when `play`.
    void clipActivated(qint64 utteranceId, bool play);
    void message(const QString &text, int timeoutMs);
    // The figures of the last reload() are shown.
    void measured();

private:
    void showReport();
    void showLabelSet();
    void fillDimensions();
    void fillTrainOn();
    void saveTable(QTableWidget *table, const QString &name);

    WorkspaceSession *m_session;
    AgreementReport m_report;
    bool m_loading = false;
    QThread *m_worker = nullptr;
    int m_generation = 0;
    bool m_again = false;
    QComboBox *m_labelSet = nullptr;
    QComboBox *m_trainOn = nullptr;
    QCheckBox *m_includeCorpus = nullptr;
    QLabel *m_summary = nullptr;
    QTableWidget *m_classes = nullptr;
    QTableWidget *m_pairs = nullptr;
    ConfusionMatrixView *m_matrix = nullptr;
    QLabel *m_pairTitle = nullptr;
    QTableWidget *m_disagreements = nullptr;
    QTableWidget *m_dimensions = nullptr;
    QTableWidget *m_traceTable = nullptr;
    QList<TraceDimensionAgreement> m_traceReport;
};

} // namespace emolens
