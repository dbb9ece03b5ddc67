#pragma once
// AnalysisDialog (Analysis > t-SNE Map, Confusion Matrix, Compare Models): the researcher's
// views of the open workspace, on three tabs.
//
// - Map: the t-SNE map of a source's embeddings (an encoder layer, or a model version's
//   pooled vectors). The newest stored layout of the source opens at once; Compute Map runs
//   TsneJob through the job queue (progress, ETA and Cancel in the status area) and the map
//   animates as the layout converges. Colour by label, the model's label, right or wrong,
//   speaker, gender, corpus or active-learning round; hover names the clip, a click plays it
//   in the clip view, a rubber band selects clips to send to the labeling queue (as a round
//   of its own) or to show alone in the table.
// - Confusion: a model version's matrix on its held-out speakers (or every labeled clip), or
//   a cross-validation run's (`evaluate`) pooled or per-fold matrix; counts or row-normalised,
//   with per-class precision, recall and F1 and UA/WA/F1; a click on a model's cell lists its
//   clips, which play in turn (cross-validation keeps no per-clip predictions).
// - Agreement: how much the annotators agree (AgreementView).
// - Models: the versions side by side (recipe, encoder, labels used, UA/WA/F1, training
//   time), the checked ones' validation UA per epoch overlaid, and the per-class recall of
//   two versions with its difference.
// Every plot saves as PNG or SVG, every table as CSV. The dialog follows the workspace and
// the active model; its tab, choices and size are remembered (QSettings "analysis/...").
//
// Ownership and threads: GUI thread; the session and the job queue outlive it.

#include "analysis/ModelConfusion.h"
#include "store/AnalysisRepository.h"

#include <QDialog>
#include <QHash>
#include <optional>

class QChart;
class QChartView;
class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTableWidget;

namespace emolens {

class AgreementView;
class ConfusionMatrixView;
class JobQueue;
class TsneJob;
class TsneMapView;
class UtteranceTableModel;
class WorkspaceSession;
struct JobResult;

class AnalysisDialog : public QDialog
{
    Q_OBJECT

public:
    enum Page { MapPage, ConfusionPage, ModelsPage, AgreementPage };
    enum ColourBy { ByLabel, ByPredicted, ByCorrect, BySpeaker, ByGender, ByCorpus, ByRound };

    AnalysisDialog(WorkspaceSession *session, JobQueue *jobs, const UtteranceTableModel *rows,
                   QWidget *parent = nullptr);
    ~AnalysisDialog() override;

    void showPage(Page page);
    // Reads the workspace again (opened, closed, a model trained, labels changed).
    void reload();
    // Labels or predictions changed: recolour and recount without touching the layout.
    void refreshLabels();

    // The clip open in the window: ringed on the map.
    void setCurrentClip(qint64 utteranceId);

    // Map.
    bool computeMap();
    bool isComputing() const { return m_jobId != 0; }
    void setSource(const QString &source);
    QString source() const;
    void setColourBy(ColourBy by);
    TsneMapView *mapView() const { return m_map; }
    QComboBox *sourceCombo() const { return m_source; }
    QComboBox *colourCombo() const { return m_colour; }
    QPushButton *computeButton() const { return m_compute; }
    QPushButton *sendToQueueButton() const { return m_sendToQueue; }
    QPushButton *showInTableButton() const { return m_showInTable; }
    QPushButton *lassoButton() const { return m_lasso; }
    QLabel *mapStatus() const { return m_mapStatus; }
    QSpinBox *perplexitySpin() const { return m_perplexity; }
    QString tooltipText(qint64 utteranceId) const;
    Status saveMapCsv(const QString &path) const;

    // Confusion.
    void setConfusionModel(qint64 modelId);
    ConfusionMatrixView *matrixView() const { return m_matrix; }
    QComboBox *confusionModelCombo() const { return m_confusionModel; }
    QComboBox *splitCombo() const { return m_split; }
    QComboBox *foldCombo() const { return m_fold; }
    // Chooses an evaluation (cross-validation) run instead of a model version.
    void setConfusionRun(qint64 runId);
    QCheckBox *normaliseBox() const { return m_normalise; }
    QTableWidget *classTable() const { return m_classTable; }
    QTableWidget *cellClipsTable() const { return m_cellClips; }
    QLabel *confusionSummary() const { return m_confusionSummary; }
    const ModelConfusion &confusion() const { return m_confusion; }
    void openCell(int truth, int predicted);
    // Play in Turn: the cell's clips one after another (the next when the player ends one).
    void playCellInTurn();
    void playNextInTurn();

    // Models.
    QTableWidget *modelsTable() const { return m_models; }
    QChart *curvesChart() const { return m_curves; }
    QComboBox *recallACombo() const { return m_recallA; }
    QComboBox *recallBCombo() const { return m_recallB; }
    QTableWidget *recallTable() const { return m_recall; }

    // Agreement.
    AgreementView *agreementView() const { return m_agreement; }

    QTabWidget *tabs() const { return m_tabs; }
    QWidget *confusionPlot() const;
    QWidget *curvesPlot() const;

Q_SIGNALS:
    // Show the clip in the clip view, and play it when `play`.
    void clipActivated(qint64 utteranceId, bool play);
    void sendToQueue(const QList<qint64> &utteranceIds);
    void showInTable(const QList<qint64> &utteranceIds);
    void message(const QString &text, int timeoutMs);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    QWidget *createMapPage();
    QWidget *createConfusionPage();
    QWidget *createModelsPage();
    void reloadSources();
    void loadStoredLayout();
    void showLayout(const MapLayoutRecord &layout);
    void recolour();
    void updateMapButtons();
    void onJobIntermediate(int id, const QVariant &value);
    void onJobFinished(int id, const JobResult &result);
    void reloadConfusion();
    void reloadAgreement();
    void fillModelSummary();
    void fillClassTable();
    void reloadModels();
    void redrawCurves();
    void updateRecall();
    void saveState() const;
    const QHash<qint64, QString> &predictedLabels() const;
    bool report(const Status &st);

    WorkspaceSession *m_session;
    JobQueue *m_jobs;
    const UtteranceTableModel *m_rows;
    QTabWidget *m_tabs = nullptr;

    // Map.
    QComboBox *m_source = nullptr;
    QComboBox *m_colour = nullptr;
    QSpinBox *m_perplexity = nullptr;
    QSpinBox *m_iterations = nullptr;
    QSpinBox *m_seed = nullptr;
    QPushButton *m_compute = nullptr;
    QPushButton *m_fit = nullptr;
    QPushButton *m_lasso = nullptr;
    QPushButton *m_sendToQueue = nullptr;
    QPushButton *m_showInTable = nullptr;
    QPushButton *m_saveMapImage = nullptr;
    QPushButton *m_saveMapCsv = nullptr;
    QLabel *m_mapStatus = nullptr;
    TsneMapView *m_map = nullptr;
    std::optional<MapLayoutRecord> m_layout;                   // shown (points in m_map)
    mutable std::optional<QHash<qint64, QString>> m_predicted; // the model's labels, per clip
    mutable QString m_predictedSource;                         // of this source
    int m_jobId = 0;
    std::shared_ptr<TsneJob> m_job;
    QString m_jobSource;
    bool m_jobShown = false;

    // Confusion.
    QComboBox *m_confusionModel = nullptr;
    QComboBox *m_split = nullptr;
    QComboBox *m_fold = nullptr;
    qint64 m_foldRun = 0; // the run m_fold lists the folds of
    QCheckBox *m_normalise = nullptr;
    ConfusionMatrixView *m_matrix = nullptr;
    QLabel *m_confusionSummary = nullptr;
    QTableWidget *m_classTable = nullptr;
    QLabel *m_cellTitle = nullptr;
    QTableWidget *m_cellClips = nullptr;
    QPushButton *m_playInTurn = nullptr;
    ModelConfusion m_confusion;
    bool m_confusionStale = false; // labels changed while another tab was in front
    AgreementView *m_agreement = nullptr;
    bool m_agreementStale = true; // read when its tab is first shown, and after label changes
    QList<qint64> m_turn;         // clips left to play in turn

    // Models.
    QTableWidget *m_models = nullptr;
    QChart *m_curves = nullptr;
    QChartView *m_curvesView = nullptr;
    QComboBox *m_recallA = nullptr;
    QComboBox *m_recallB = nullptr;
    QLabel *m_recallNote = nullptr;
    QTableWidget *m_recall = nullptr;
    bool m_loading = false;
};

} // namespace emolens
