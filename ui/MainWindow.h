#pragma once
// MainWindow: the EmoLens workspace window. Left: the corpus tree; centre: the utterance
// table (filterable) over the clip view and player; right: the labeling panel. Owns the
// workspace's GUI-thread Database connection, the models, the undo stack of label edits and
// the import job runner. Imports run on a JobRunner thread with their own connection; the
// window only reloads from the store when the job has finished, and never waits for it.
// Features > Extract Features runs through a FeatureExtractionController; imports and
// extractions share the status bar's job area (message, progress with ETA, Cancel), and one
// job runs at a time.
//
// Public entry points for main() and the first-run code: openWorkspace(), createWorkspace()
// and startImport(). Settings live in the QSettings of the application's
// organisation/name ("EmoLens"/"EmoLens" in the app; tests use their own names).
// GUI thread only.

#include "common/Status.h"
#include "corpus/CorpusImporter.h"
#include "store/Records.h"

#include <QByteArray>
#include <QHash>
#include <QMainWindow>
#include <QPointer>
#include <memory>

class QAction;
class QComboBox;
class QDockWidget;
class QLabel;
class QLineEdit;
class QMenu;
class QProgressBar;
class QSplitter;
class QStackedWidget;
class QTabWidget;
class QTableView;
class QToolButton;
class QTreeView;
class QUndoStack;

namespace emolens {

class ClipNavigator;
class ClipView;
class TraceRecorder;
struct TraceRecord;
class CorpusTreeModel;
class Database;
class EmptyStatePanel;
class EncodersDialog;
class ExportDialog;
class ExportJob;
class JobLog;
class JobLogView;
struct ExportRequest;
class FeatureExtractionController;
class ImportReportDialog;
class ImportController;
class JobQueue;
class JobStatusArea;
class WorkspaceSession;
class LabelingController;
class LabelingDesk;
class LabelingQueue;
class QueueView;
class TableFilterBar;
class TrainingController;
class TrainingDashboard;
class ModelsDialog;
class PathMapDialog;
class LearningCurvesDialog;
class AnalysisDialog;
class ClipPosteriors;
struct JobResult;
class LabelingPanel;
class PlayerBar;
class UtteranceFilterModel;
class UtteranceTableModel;

class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Opens the workspace at path, replacing the open one. A missing file is refused unless
    // ifMissing is Create. On failure the open workspace stays open and the Status says why,
    // naming the file once (a file that is not a workspace is refused untouched).
    enum class IfMissing { Refuse, Create };
    Status openWorkspace(const QString &path, IfMissing ifMissing = IfMissing::Refuse);
    // File > New Workspace: replaces the file at path (with its -wal and -shm) by a new empty
    // workspace and opens it. Refused for the workspace that is open.
    Status createWorkspace(const QString &path);
    // Closes the open workspace; refused (and the Status says why) while a job runs or labels
    // wait to be saved.
    Status closeWorkspace();
    QString workspacePath() const;
    bool hasWorkspace() const;
    WorkspaceSession *session() const { return m_session; }

    // Starts an import into the open workspace (request.databasePath is filled in).
    // Returns false when no workspace is open or an import is already running.
    bool startImport(const ImportRequest &request);
    bool isImporting() const;
    // The queue every long job of this window runs through (one at a time).
    JobQueue *jobQueue() const;
    // Cancels every job and closes the window as soon as the queue is idle, without asking
    // (closeEvent asks first, then calls this). The GUI thread does not wait meanwhile.
    void stopJobsAndClose();
    // Runs the active encoder (Features > Encoders) over the whole workspace. False when no
    // workspace is open or a job already runs.
    // Extracts every utterance of the workspace, or only utteranceIds.
    bool startExtraction(const QList<qint64> &utteranceIds = {});
    // The utterances the table shows now (tree scope and filters applied), in table order.
    QList<qint64> shownUtteranceIds() const;
    bool isExtracting() const;
    // Opens (or raises) the Encoders dialog; null without a workspace.
    EncodersDialog *showEncodersDialog();
    EncodersDialog *encodersDialog() const;
    FeatureExtractionController *featureExtraction() const { return m_extraction; }
    QAction *extractFeaturesAction() const { return m_extractAction; }
    QAction *extractShownFeaturesAction() const { return m_extractShownAction; }
    QAction *encodersAction() const { return m_encodersAction; }
    // The status bar's job area, shared by imports and extractions.
    QToolButton *jobCancelButton() const;
    QProgressBar *jobProgressBar() const;
    QLabel *jobLabel() const;
    const ImportReport &lastImportReport() const { return m_lastImportReport; }
    // The report of the last import, while it is open (it only opens when files were skipped).
    ImportReportDialog *importReportDialog() const;

    // File > Export Labels: opens the dialog; the export runs as a job (one at a time).
    void showExportDialog();
    bool startExport(const ExportRequest &request);
    bool isExporting() const { return m_exportJobId != 0; }
    ExportDialog *exportDialog() const;
    QAction *exportAction() const { return m_exportAction; }
    // File > Audio Folders on This Machine: opens the dialog (non-modal); on OK the map is
    // saved and applied and the table and clip re-read. Null without a workspace.
    PathMapDialog *showPathMapDialog();
    QAction *pathMapAction() const { return m_pathMapAction; }
    // Model > Retrain: extraction of what is missing, then training, through the job queue.
    QAction *retrainAction() const { return m_retrainAction; }
    QAction *pretrainAction() const { return m_pretrainAction; }
    QAction *taptAction() const { return m_taptAction; }
    TrainingController *training() const { return m_training; }
    // Model > Models...: opens (or raises) the dialog; null without a workspace.
    ModelsDialog *showModelsDialog();
    ModelsDialog *modelsDialog() const;
    QAction *modelsAction() const { return m_modelsAction; }
    QAction *stopTrainingAction() const { return m_stopTrainingAction; }
    QMenu *recipeMenu() const { return m_recipeMenu; }
    TrainingDashboard *trainingDashboard() const { return m_trainingDashboard; }
    QDockWidget *trainingDock() const { return m_trainingDock; }
    // Every job this window ran, also in earlier sessions (View > Job Log).
    JobLog *jobLog() const { return m_jobLog; }
    JobLogView *jobLogView() const { return m_jobLogView; }
    QDockWidget *jobLogDock() const { return m_jobLogDock; }
    QDockWidget *labelingDock() const { return m_labelDock; }
    QDockWidget *corpusDock() const { return m_treeDock; }
    // View > Reset Layout: the panels where they start, sized for the window.
    void resetLayout();
    // The same without a word in the status bar: the layout a first start in a window of this
    // size gets (the screenshot tool uses it, its offscreen screen being small).
    void applyDefaultLayout();
    QAction *resetLayoutAction() const { return m_resetLayoutAction; }
    // The narrowest centre (table and clip) a layout may leave: a restored layout that leaves
    // less is replaced by the default one.
    static constexpr int kMinimumCentreWidth = 360;

    // The utterance the clip view and labeling panel show (0: none).
    qint64 currentUtteranceId() const;
    bool selectUtterance(qint64 utteranceId);

    // The parts, for tests and the screenshot tool.
    QTableView *utteranceTable() const { return m_table; }
    // The status bar's workspace: file or server URL, who is signed in, offline.
    QLabel *workspacePathLabel() const { return m_pathLabel; }
    QAction *claimNextAction() const { return m_claimNextAction; }
    QTreeView *corpusTree() const { return m_tree; }
    UtteranceTableModel *utteranceModel() const { return m_tableModel; }
    UtteranceFilterModel *filterModel() const { return m_filterModel; }
    ClipNavigator *navigator() const { return m_navigator; }
    CorpusTreeModel *corpusModel() const { return m_treeModel; }
    ClipView *clipView() const { return m_clipView; }
    PlayerBar *playerBar() const { return m_player; }
    LabelingPanel *labelingPanel() const { return m_labelingPanel; }
    QLineEdit *filterEdit() const;
    QComboBox *labelFilterCombo() const;
    QUndoStack *undoStack() const { return m_undoStack; }
    LabelingController *labeling() const { return m_labeling; }
    // Active learning's queue: the Queue tab beside the clip table (View > Labeling Queue),
    // ranked by Model > Rank the Labeling Queue.
    LabelingQueue *labelingQueue() const { return m_queue; }
    QueueView *queueView() const { return m_queueView; }
    QTabWidget *centreTabs() const { return m_centreTabs; }
    TableFilterBar *filterBar() const { return m_filterBar; }
    QAction *queueAction() const { return m_queueAction; }
    QAction *rankAction() const { return m_rankAction; }
    // Model > Learning Curves: the stored simulations' curves (opens or raises; null without a
    // workspace).
    LearningCurvesDialog *showLearningCurves();
    LearningCurvesDialog *learningCurvesDialog() const;
    QAction *learningCurvesAction() const { return m_curvesAction; }
    // Analysis > t-SNE Map / Confusion Matrix / Compare Models: the dialog at that page
    // (AnalysisDialog::Page).
    AnalysisDialog *showAnalysis(int page);
    AnalysisDialog *analysisDialog() const;
    QAction *mapAction() const { return m_mapAction; }
    QAction *confusionAction() const { return m_confusionAction; }
    QAction *compareAction() const { return m_compareAction; }
    QAction *agreementAction() const { return m_agreementAction; }
    // Label > Trace Arousal (Ctrl+T), Trace Valence (Ctrl+Alt+T).
    QAction *traceAction(int index) const { return m_traceActions.value(index); }
    TraceRecorder *traceRecorder() const { return m_traceRecorder; }
    // The clips as a queue round of their own (chosen on the map), shown in the Queue tab.
    bool queueChosenClips(const QList<qint64> &utteranceIds, const QString &where);
    // Brings the Queue tab (true) or the clip table (false) to the front.
    void showQueue(bool queue);

Q_SIGNALS:
    void workspaceOpened(const QString &path);
    void importFinished(const emolens::Status &status);
    void extractionFinished(const emolens::Status &status);
    void exportFinished(const emolens::JobResult &result);
    void trainingFinished(const emolens::JobResult &result);
    void pretrainingFinished(const emolens::JobResult &result);
    void currentUtteranceChanged(qint64 utteranceId);
    // A recorded trace was stored (its row id).
    void traceStored(qint64 traceId);

protected:
    void closeEvent(QCloseEvent *event) override;
    void showEvent(QShowEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void createActions();
    void createMenus();
    void createCentralArea();
    void createDocks();
    void createStatusBar();
    void restoreSettings();
    void saveSettings();
    void sizeDocksFor(int windowWidth);
    void fitTableColumns();
    int trainingDockHeight() const;
    bool layoutFits() const;
    void onExportFinished(const JobResult &result);

    void newWorkspace();
    void chooseWorkspace();
    void chooseServerWorkspace();
    // The status bar's workspace: the file, or the server URL and who is signed in (offline:
    // said so, in red).
    void showWorkspacePath(bool offline);
    void onWorkspaceOffline(bool offline, int unsaved);
    // Label > Next Clip to Label: the assignment's next clip for this annotator, claimed.
    void claimNextClip();
    // Label > People per Clip: the team's overlap, written with a version check.
    void chooseOverlap();
    void showImportDialog(const QString &folder = QString());
    void onImportFinished(const JobResult &result);
    void onJobsIdle();
    bool isBusy() const;
    void createFeatureActions();
    void onExtractionFinished(const Status &status);
    Database *db() const;
    // Why the open workspace may not be closed or replaced now (empty: it may).
    QString whyWorkspaceMustStay() const;
    void onWorkspaceClosing();
    void onWorkspaceClosed();
    void onWorkspaceOpened(const QString &path);
    void rebuildRecentMenu();

    void reloadFromStore();
    // The active model's predictions into the table (Predicted and Confidence columns).
    void reloadPredictions();
    // The active model's frame posteriors of the shown clip, in the clip view's emotion lane.
    void showEmotionCurves(const QString &contentHash);
    void showTraces(qint64 utteranceId, double durationSeconds,
                    const QString &dimension = QString());
    void toggleTrace(const QString &dimension);
    void storeTrace(const TraceRecord &trace);
    // The table's predictions, the emotion lane and the panel follow the active model.
    void onActiveModelChanged();
    void onTreeSelection();
    void onScopeCleared();
    void showUtterance(qint64 utteranceId);
    void updateActions();
    void updateCounts();
    void updateTitle();
    void updatePage();

    void onWaitingForWorkspace(bool waiting, int unsaved);
    void onAllLabelsSaved();
    void onAnnotatorChanged();
    void showShortcuts();
    void showAbout();
    void focusFilter();

    // Store
    WorkspaceSession *m_session = nullptr;
    ClipNavigator *m_navigator = nullptr;

    // Jobs
    JobQueue *m_jobs = nullptr;
    JobLog *m_jobLog = nullptr;
    int m_exportJobId = 0;
    std::shared_ptr<ExportJob> m_exportJob;
    QPointer<ExportDialog> m_exportDialog;
    bool m_closeWhenIdle = false;

    // Labeling
    LabelingController *m_labeling = nullptr;
    LabelingDesk *m_desk = nullptr;
    LabelingQueue *m_queue = nullptr;
    QueueView *m_queueView = nullptr;
    QTabWidget *m_centreTabs = nullptr;
    bool m_closeWhenSaved = false;

    // Import
    ImportController *m_import = nullptr;
    ImportReport m_lastImportReport;

    // Features and models
    FeatureExtractionController *m_extraction = nullptr;
    TrainingController *m_training = nullptr;
    std::unique_ptr<ClipPosteriors> m_posteriors;
    QPointer<ModelsDialog> m_modelsDialog;
    QPointer<LearningCurvesDialog> m_curvesDialog;
    QPointer<AnalysisDialog> m_analysisDialog;
    QPointer<EncodersDialog> m_encodersDialog;

    // Models and views
    QUndoStack *m_undoStack = nullptr;
    UtteranceTableModel *m_tableModel = nullptr;
    UtteranceFilterModel *m_filterModel = nullptr;
    CorpusTreeModel *m_treeModel = nullptr;
    QStackedWidget *m_pages = nullptr;
    EmptyStatePanel *m_emptyState = nullptr;
    QSplitter *m_centreSplitter = nullptr;
    QTableView *m_table = nullptr;
    TableFilterBar *m_filterBar = nullptr;
    QTreeView *m_tree = nullptr;
    ClipView *m_clipView = nullptr;
    PlayerBar *m_player = nullptr;
    LabelingPanel *m_labelingPanel = nullptr;
    QDockWidget *m_treeDock = nullptr;
    QDockWidget *m_labelDock = nullptr;
    QDockWidget *m_jobLogDock = nullptr;
    QDockWidget *m_trainingDock = nullptr;
    TrainingDashboard *m_trainingDashboard = nullptr;
    JobLogView *m_jobLogView = nullptr;
    QByteArray m_defaultState;
    QByteArray m_defaultTableHeader;
    bool m_firstShow = true;
    bool m_fitColumnsOnShow = false;

    // Status bar
    QLabel *m_pathLabel = nullptr;
    QLabel *m_countLabel = nullptr;
    JobStatusArea *m_jobArea = nullptr;

    // Actions
    QAction *m_newAction = nullptr;
    QAction *m_openAction = nullptr;
    QAction *m_openServerAction = nullptr;
    QAction *m_claimNextAction = nullptr;
    QAction *m_overlapAction = nullptr;
    QAction *m_importAction = nullptr;
    QAction *m_closeAction = nullptr;
    QAction *m_exportAction = nullptr;
    QAction *m_pathMapAction = nullptr;
    bool m_selectingHandOut = false; // a handed-out clip is being selected (not the user)
    QPointer<PathMapDialog> m_pathMapDialog;
    QAction *m_resetLayoutAction = nullptr;
    QAction *m_retrainAction = nullptr;
    QAction *m_pretrainAction = nullptr;
    QAction *m_taptAction = nullptr;
    QAction *m_queueAction = nullptr;
    QAction *m_rankAction = nullptr;
    QAction *m_curvesAction = nullptr;
    QAction *m_mapAction = nullptr;
    QAction *m_confusionAction = nullptr;
    QAction *m_compareAction = nullptr;
    QAction *m_agreementAction = nullptr;
    QList<QAction *> m_traceActions; // arousal, valence
    QAction *m_cancelTraceAction = nullptr;
    TraceRecorder *m_traceRecorder = nullptr;
    QAction *m_modelsAction = nullptr;
    QAction *m_stopTrainingAction = nullptr;
    QMenu *m_recipeMenu = nullptr;
    QAction *m_extractAction = nullptr;
    QAction *m_extractShownAction = nullptr;
    QAction *m_encodersAction = nullptr;
    QAction *m_quitAction = nullptr;
    QAction *m_undoAction = nullptr;
    QAction *m_redoAction = nullptr;
    QAction *m_findAction = nullptr;
    QAction *m_zoomInAction = nullptr;
    QAction *m_zoomOutAction = nullptr;
    QAction *m_zoomFitAction = nullptr;
    QList<QAction *> m_categoryActions;
    QAction *m_clearCategoryAction = nullptr;
    QAction *m_previousAction = nullptr;
    QAction *m_nextAction = nullptr;
    QAction *m_autoAdvanceAction = nullptr;
    QAction *m_annotatorAction = nullptr;
    QAction *m_shortcutsAction = nullptr;
    QAction *m_aboutAction = nullptr;
    QMenu *m_recentMenu = nullptr;
};

} // namespace emolens
