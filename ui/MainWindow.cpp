#include "MainWindow.h"

#include "ClipNavigator.h"
#include "ClipView.h"
#include "CorpusTreeModel.h"
#include "EmotionCurveView.h"
#include "EmptyStatePanel.h"
#include "EncodersDialog.h"
#include "ExportDialog.h"
#include "FeatureExtractionController.h"
#include "ImportController.h"
#include "ImportCorpusDialog.h"
#include "ImportReportDialog.h"
#include "JobLogView.h"
#include "JobStatusArea.h"
#include "LabelingController.h"
#include "LabelingDesk.h"
#include "LabelingPanel.h"
#include "LabelingQueue.h"
#include "ModelsDialog.h"
#include "PathMapDialog.h"
#include "PlayerBar.h"
#include "QueueModel.h"
#include "QueueView.h"
#include "ShortcutsDialog.h"
#include "TableFilterBar.h"
#include "TraceRecorder.h"
#include "TraceView.h"
#include "TrainingController.h"
#include "UtteranceFilterModel.h"
#include "UtteranceTableModel.h"
#include "WorkspaceSession.h"
#include "charts/AnalysisDialog.h"
#include "charts/LearningCurvesDialog.h"
#include "charts/TrainingDashboard.h"
#include "common/WorkspaceLocation.h"
#include "features/FeatureCache.h"
#include "jobs/ExportJob.h"
#include "jobs/JobLog.h"
#include "jobs/JobQueue.h"
#include "store/AssignmentRepository.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "store/ModelRepository.h"
#include "store/SelectionRepository.h"
#include "store/TraceRepository.h"
#include "training/ClipPosteriors.h"
#include "training/Recipes.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QScreen>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QTreeView>
#include <QUndoStack>
#include <QVBoxLayout>
#include <tuple>

namespace emolens {

namespace {

const QString kWorkspaceSuffix = QStringLiteral("emolens");
constexpr int kLayoutSettleMs = 150;

// Where the job log is kept: the application's data folder (per organisation and application
// name, so tests keep theirs apart from the user's).
QString jobLogPath()
{
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    return dir.isEmpty() ? QString() : QDir(dir).filePath(QStringLiteral("jobs.json"));
}

} // namespace

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent)
{
    setObjectName(QStringLiteral("EmoLensMainWindow"));
    setAcceptDrops(true);
    setDockNestingEnabled(true);
    m_undoStack = new QUndoStack(this);
    m_labeling = new LabelingController(m_undoStack, this, this);
    connect(m_labeling, &LabelingController::saveFailed, this,
            [this](qint64, const QString &message) {
                statusBar()->showMessage(tr("A label was not saved: %1").arg(message), 15000);
            });
    connect(m_labeling, &LabelingController::waitingForWorkspace, this,
            &MainWindow::onWaitingForWorkspace);
    connect(m_labeling, &LabelingController::allSaved, this, &MainWindow::onAllLabelsSaved);
    connect(m_labeling, &LabelingController::annotatorChanged, this,
            &MainWindow::onAnnotatorChanged);
    connect(m_labeling, &LabelingController::workspaceOffline, this,
            &MainWindow::onWorkspaceOffline);
    connect(m_labeling, &LabelingController::journalAdopted, this, [this](int edits) {
        statusBar()->showMessage(tr("%n label(s) that EmoLens could not write before it last "
                                    "closed are being written now",
                                    nullptr, edits),
                                 15000);
    });
    m_session = new WorkspaceSession(this);
    connect(m_session, &WorkspaceSession::aboutToClose, this, &MainWindow::onWorkspaceClosing);
    connect(m_session, &WorkspaceSession::closed, this, &MainWindow::onWorkspaceClosed);
    connect(m_session, &WorkspaceSession::opened, this, &MainWindow::onWorkspaceOpened);
    m_jobs = new JobQueue(this);
    m_jobLog = new JobLog(jobLogPath(), this);
    m_jobLog->watch(m_jobs);
    connect(m_jobs, &JobQueue::idle, this, &MainWindow::onJobsIdle);
    connect(m_jobs, &JobQueue::jobStarted, this, [this] { updateActions(); });
    connect(m_jobs, &JobQueue::jobFinished, this, [this](int id, const JobResult &result) {
        if (id != 0 && id == m_exportJobId)
            onExportFinished(result);
        updateActions();
    });
    m_import = new ImportController(m_jobs, this, this);
    connect(m_import, &ImportController::message, statusBar(), &QStatusBar::showMessage);
    connect(m_import, &ImportController::finished, this, &MainWindow::onImportFinished);
    m_training = new TrainingController(m_jobs, this, this);
    connect(m_training, &TrainingController::message, statusBar(), &QStatusBar::showMessage);
    connect(m_training, &TrainingController::finished, this, [this](const JobResult &result) {
        onActiveModelChanged(); // predictions, curves and the panel's model label
        if (m_modelsDialog)
            m_modelsDialog->reload();
        updateActions();
        Q_EMIT trainingFinished(result);
    });
    connect(m_training, &TrainingController::pretrained, this, [this](const JobResult &result) {
        updateActions();
        Q_EMIT pretrainingFinished(result);
    });
    m_extraction = new FeatureExtractionController(m_jobs, this, this);
    connect(m_extraction, &FeatureExtractionController::message, statusBar(),
            &QStatusBar::showMessage);
    connect(m_extraction, &FeatureExtractionController::finished, this,
            &MainWindow::onExtractionFinished);

    createActions();
    createFeatureActions();
    createCentralArea();
    createDocks();
    createMenus();
    createStatusBar();
    // The layout as built, before any saved one: what View > Reset Layout goes back to.
    m_defaultState = saveState();
    m_defaultTableHeader = m_table->horizontalHeader()->saveState();
    restoreSettings();
    updatePage();
    updateTitle();
    updateCounts();
    updateActions();
}

MainWindow::~MainWindow()
{
    // The undo commands refer to the Database: they go first.
    m_undoStack->clear();
}

// ---------------------------------------------------------------------------------------------
// Construction

void MainWindow::createActions()
{
    m_newAction = new QAction(tr("&New Workspace..."), this);
    m_newAction->setShortcut(QKeySequence::New);
    m_newAction->setToolTip(tr("Create a workspace file that will hold corpora and labels"));
    connect(m_newAction, &QAction::triggered, this, &MainWindow::newWorkspace);
    m_openAction = new QAction(tr("&Open Workspace..."), this);
    m_openAction->setShortcut(QKeySequence::Open);
    m_openAction->setToolTip(tr("Open an existing .emolens workspace"));
    connect(m_openAction, &QAction::triggered, this, &MainWindow::chooseWorkspace);
    m_openServerAction = new QAction(tr("Open &Team Workspace..."), this);
    m_openServerAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    m_openServerAction->setToolTip(
        tr("Open a team's workspace on a PostgreSQL server (postgresql://you@server/database)"));
    connect(m_openServerAction, &QAction::triggered, this, &MainWindow::chooseServerWorkspace);
    m_importAction = new QAction(tr("&Import Corpus..."), this);
    m_importAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
    m_importAction->setToolTip(tr("Import a corpus folder into this workspace"));
    connect(m_importAction, &QAction::triggered, this, [this] { showImportDialog(); });
    m_exportAction = new QAction(tr("&Export Labels..."), this);
    m_exportAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_X));
    m_exportAction->setToolTip(
        tr("Write the clips with their labels as CSV, JSON Lines, Praat TextGrid, ELAN or "
           "Audacity labels"));
    connect(m_exportAction, &QAction::triggered, this, &MainWindow::showExportDialog);
    m_pathMapAction = new QAction(tr("Audio &Folders on This Machine..."), this);
    m_pathMapAction->setToolTip(
        tr("Where this machine finds the workspace's audio, when it mounts the shared folders "
           "at other paths than the machine that imported them"));
    connect(m_pathMapAction, &QAction::triggered, this, [this] { showPathMapDialog(); });
    m_retrainAction = new QAction(tr("&Retrain"), this);
    m_retrainAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_retrainAction->setToolTip(
        tr("Train the model on the current labels in the background (features first, where "
           "missing); it becomes the active model when it does at least as well"));
    connect(m_retrainAction, &QAction::triggered, this, [this] {
        if (!db())
            return;
        const ExtractionChoice choice = FeatureExtractionController::activeChoiceFor(*db());
        if (!m_training->retrain(m_session->path(), choice.encoder, choice.device))
            statusBar()->showMessage(tr("Retraining is already queued or running"), 4000);
        updateActions();
    });
    m_modelsAction = new QAction(tr("&Models..."), this);
    m_modelsAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_M));
    m_modelsAction->setToolTip(tr("Every model of this workspace: choose the active one, delete"));
    connect(m_modelsAction, &QAction::triggered, this, [this] { showModelsDialog(); });
    m_pretrainAction = new QAction(tr("&Pre-train on Every Clip (Adapter TAPT)"), this);
    m_pretrainAction->setToolTip(
        tr("Pre-train the adapter-local-attributes backbone without labels on every clip of the "
           "workspace (seed 002's task-adaptive pre-training, our one-click variant); Retrain "
           "of adapter-local-attributes then starts from it"));
    connect(m_pretrainAction, &QAction::triggered, this, [this] {
        if (!db())
            return;
        const ExtractionChoice choice = FeatureExtractionController::activeChoiceFor(*db());
        if (!m_training->pretrain(m_session->path(), choice.encoder, choice.device))
            statusBar()->showMessage(tr("Training or pre-training is already queued or running"),
                                     4000);
        updateActions();
    });
    m_taptAction = new QAction(tr("Pre-train the &Encoder on Every Clip (TAPT, Paper Mode)"), this);
    m_taptAction->setToolTip(
        tr("Seed 002's TAPT proper: continue the encoder's own self-supervised training "
           "(HuBERT's masked prediction of k-means targets) on every clip of the workspace, "
           "labeled or not; paper-mode retraining then starts from the adapted encoder. For a "
           "wav2vec 2.0, HuBERT or WavLM encoder; meant for a GPU"));
    connect(m_taptAction, &QAction::triggered, this, [this] {
        if (!db())
            return;
        const ExtractionChoice choice = FeatureExtractionController::activeChoiceFor(*db());
        if (!m_training->pretrain(m_session->path(), choice.encoder, choice.device,
                                  QStringLiteral("paper")))
            statusBar()->showMessage(tr("Training or pre-training is already queued or running"),
                                     4000);
        updateActions();
    });
    m_stopTrainingAction = new QAction(tr("&Stop Training (Keep Best)"), this);
    m_rankAction = new QAction(tr("Rank the &Labeling Queue"), this);
    m_rankAction->setShortcut(QKeySequence(Qt::Key_F5));
    m_rankAction->setToolTip(tr("Active learning: rank the unlabeled clips with the active model "
                                "and show the clips most worth labeling next in the Queue tab"));
    connect(m_rankAction, &QAction::triggered, this, [this] {
        showQueue(true);
        m_queue->rank();
    });
    m_curvesAction = new QAction(tr("Learning &Curves..."), this);
    m_curvesAction->setToolTip(tr("Active learning's evidence: UA against the labels each "
                                  "strategy needed, from the simulations of this workspace"));
    connect(m_curvesAction, &QAction::triggered, this, [this] { showLearningCurves(); });
    m_mapAction = new QAction(tr("t-SNE &Map..."), this);
    m_mapAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A));
    m_mapAction->setToolTip(tr("The clips placed by their embeddings: hover to name them, click "
                               "to hear them, select to queue them"));
    connect(m_mapAction, &QAction::triggered, this,
            [this] { showAnalysis(AnalysisDialog::MapPage); });
    m_confusionAction = new QAction(tr("&Confusion Matrix..."), this);
    m_confusionAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    m_confusionAction->setToolTip(tr("Which classes a model confuses, with the clips of each "
                                     "cell to listen to"));
    connect(m_confusionAction, &QAction::triggered, this,
            [this] { showAnalysis(AnalysisDialog::ConfusionPage); });
    m_compareAction = new QAction(tr("Compare &Models..."), this);
    m_compareAction->setToolTip(tr("Model versions side by side, their training curves and "
                                   "per-class recall"));
    connect(m_compareAction, &QAction::triggered, this,
            [this] { showAnalysis(AnalysisDialog::ModelsPage); });
    m_agreementAction = new QAction(tr("Annotator &Agreement..."), this);
    m_agreementAction->setToolTip(tr("How much the annotators agree: kappa and alpha per label "
                                     "set, class and pair, and the clips they disagree on"));
    connect(m_agreementAction, &QAction::triggered, this,
            [this] { showAnalysis(AnalysisDialog::AgreementPage); });
    m_queueAction = new QAction(tr("Labeling &Queue"), this);
    m_queueAction->setCheckable(true);
    m_queueAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Q));
    m_queueAction->setToolTip(tr("Show the labeling queue (active learning) instead of the clip "
                                 "table; Down and Up follow the one in front"));
    connect(m_queueAction, &QAction::triggered, this, [this](bool on) { showQueue(on); });
    m_stopTrainingAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    m_stopTrainingAction->setToolTip(
        tr("End the running training now and keep its best epoch so far as a model"));
    connect(m_stopTrainingAction, &QAction::triggered, this, [this] {
        m_training->stop();
        statusBar()->showMessage(tr("Stopping the training; its best epoch so far is kept"), 4000);
    });
    m_resetLayoutAction = new QAction(tr("&Reset Layout"), this);
    m_resetLayoutAction->setToolTip(
        tr("Put the panels back where they start, sized for this window"));
    connect(m_resetLayoutAction, &QAction::triggered, this, &MainWindow::resetLayout);
    m_closeAction = new QAction(tr("&Close Workspace"), this);
    m_closeAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_W));
    connect(m_closeAction, &QAction::triggered, this, [this] {
        if (auto st = closeWorkspace(); !st)
            statusBar()->showMessage(st.error(), 8000);
    });
    m_quitAction = new QAction(tr("&Quit"), this);
    m_quitAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
    m_quitAction->setMenuRole(QAction::QuitRole);
    connect(m_quitAction, &QAction::triggered, this, &QWidget::close);

    m_undoAction = m_undoStack->createUndoAction(this, tr("&Undo"));
    m_undoAction->setShortcut(QKeySequence::Undo);
    m_redoAction = m_undoStack->createRedoAction(this, tr("&Redo"));
    m_redoAction->setShortcuts(
        {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y)});
    m_findAction = new QAction(tr("&Find Utterances"), this);
    m_findAction->setShortcut(QKeySequence::Find);
    connect(m_findAction, &QAction::triggered, this, &MainWindow::focusFilter);

    m_zoomInAction = new QAction(tr("Zoom &In"), this);
    m_zoomInAction->setShortcuts(
        {QKeySequence(Qt::Key_Plus), QKeySequence(Qt::Key_Equal), QKeySequence::ZoomIn});
    m_zoomOutAction = new QAction(tr("Zoom &Out"), this);
    m_zoomOutAction->setShortcuts({QKeySequence(Qt::Key_Minus), QKeySequence::ZoomOut});
    m_zoomFitAction = new QAction(tr("Zoom to &Fit"), this);
    m_zoomFitAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));

    for (int i = 0; i < LabelingPanel::kMaxNumberKeys; ++i) {
        auto *action = new QAction(this);
        action->setShortcut(QKeySequence(Qt::Key(Qt::Key_1 + i)));
        connect(action, &QAction::triggered, this, [this, i] { m_desk->categoryKey(i); });
        m_categoryActions.append(action);
    }
    m_clearCategoryAction = new QAction(tr("&Clear Category"), this);
    m_clearCategoryAction->setShortcut(QKeySequence(Qt::Key_0));
    m_previousAction = new QAction(tr("&Previous Clip"), this);
    m_previousAction->setShortcuts({QKeySequence(Qt::Key_Up), QKeySequence(Qt::Key_PageUp)});
    connect(m_previousAction, &QAction::triggered, this, [this] { m_navigator->move(-1); });
    m_nextAction = new QAction(tr("&Next Clip"), this);
    m_nextAction->setShortcuts({QKeySequence(Qt::Key_Down), QKeySequence(Qt::Key_PageDown)});
    connect(m_nextAction, &QAction::triggered, this, [this] { m_navigator->move(+1); });
    m_claimNextAction = new QAction(tr("Next Clip to Lab&el"), this);
    m_claimNextAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_J));
    m_claimNextAction->setToolTip(
        tr("The next clip that still needs labels and nobody else is labeling, kept for you "
           "while you label it (a team's workspace shares its clips out this way); with "
           "auto-advance, each number key then brings the next one"));
    connect(m_claimNextAction, &QAction::triggered, this, &MainWindow::claimNextClip);
    m_overlapAction = new QAction(tr("People per &Clip..."), this);
    m_overlapAction->setToolTip(tr("How many different people label each clip"));
    connect(m_overlapAction, &QAction::triggered, this, &MainWindow::chooseOverlap);
    m_autoAdvanceAction = new QAction(tr("&Advance After Number Key"), this);
    m_autoAdvanceAction->setCheckable(true);
    m_autoAdvanceAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A));
    m_autoAdvanceAction->setToolTip(
        tr("After a number key sets the category, go to the next clip"));

    // Time-continuous traces: the same action again ends the recording, Esc cancels it.
    for (const auto &[dimension, key, title] :
         {std::tuple{QStringLiteral("arousal"), QKeySequence(Qt::CTRL | Qt::Key_T),
                     tr("Trace &Arousal")},
          std::tuple{QStringLiteral("valence"), QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_T),
                     tr("Trace &Valence")}}) {
        auto *action = new QAction(title, this);
        action->setShortcut(key);
        action->setToolTip(tr("Trace the clip's %1 while it plays, from -1 (bottom of the trace "
                              "lane) to +1 (top): the pointer's height, the wheel or Up/Down; "
                              "again to stop, Esc to cancel")
                               .arg(dimension));
        const QString d = dimension;
        connect(action, &QAction::triggered, this, [this, d] { toggleTrace(d); });
        m_traceActions.append(action);
    }
    m_cancelTraceAction = new QAction(tr("Cancel Tracing"), this);
    m_cancelTraceAction->setShortcut(QKeySequence(Qt::Key_Escape));
    m_cancelTraceAction->setEnabled(false);
    addAction(m_cancelTraceAction);

    m_annotatorAction = new QAction(tr("&Annotator Name..."), this);
    m_annotatorAction->setShortcut(QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_A));
    connect(m_annotatorAction, &QAction::triggered, m_labeling,
            &LabelingController::changeAnnotatorName);
    m_shortcutsAction = new QAction(tr("&Keyboard Shortcuts"), this);
    m_shortcutsAction->setShortcuts(
        {QKeySequence(Qt::Key_F1), QKeySequence(Qt::CTRL | Qt::Key_Slash)});
    connect(m_shortcutsAction, &QAction::triggered, this, &MainWindow::showShortcuts);
    m_aboutAction = new QAction(tr("&About EmoLens"), this);
    m_aboutAction->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_F1));
    m_aboutAction->setMenuRole(QAction::AboutRole);
    connect(m_aboutAction, &QAction::triggered, this, &MainWindow::showAbout);
}

void MainWindow::createCentralArea()
{
    m_tableModel = new UtteranceTableModel(this);
    m_filterModel = new UtteranceFilterModel(this);
    m_filterModel->setSourceModel(m_tableModel);
    m_treeModel = new CorpusTreeModel(this);

    // Filter row above the table.
    m_filterBar = new TableFilterBar(m_filterModel);
    connect(m_filterBar, &TableFilterBar::filterChanged, this, &MainWindow::updateCounts);
    connect(m_filterBar, &TableFilterBar::scopeCleared, this, &MainWindow::onScopeCleared);

    m_table = new QTableView;
    m_table->setModel(m_filterModel);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(UtteranceTableModel::KeyColumn, Qt::AscendingOrder);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideMiddle);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->setShowGrid(false);
    QHeaderView *header = m_table->horizontalHeader();
    header->setHighlightSections(false);
    header->setStretchLastSection(true);
    header->setSectionResizeMode(QHeaderView::Interactive);
    fitTableColumns();
    m_navigator = new ClipNavigator(m_table, m_tableModel, m_filterModel, this);
    connect(m_navigator, &ClipNavigator::currentChanged, this, &MainWindow::showUtterance);

    auto *tablePane = new QWidget;
    auto *tableLayout = new QVBoxLayout(tablePane);
    tableLayout->setContentsMargins(6, 6, 6, 0);
    tableLayout->addWidget(m_filterBar);
    tableLayout->addWidget(m_table, 1);

    // Clip view with its player below.
    m_clipView = new ClipView;
    m_player = new PlayerBar;
    connect(m_clipView, &ClipView::seekRequested, m_player, &PlayerBar::seek);
    connect(m_clipView, &ClipView::selectionChanged, m_player, &PlayerBar::setSelection);
    connect(m_player, &PlayerBar::cursorMoved, m_clipView, &ClipView::setCursorSeconds);
    m_traceRecorder = new TraceRecorder(m_player, m_clipView->traceView(), this);
    connect(m_traceRecorder, &TraceRecorder::finished, this, &MainWindow::storeTrace);
    connect(m_traceRecorder, &TraceRecorder::cancelled, this,
            [this] { statusBar()->showMessage(tr("Tracing cancelled: nothing was kept"), 5000); });
    connect(m_traceRecorder, &TraceRecorder::stateChanged, this, [this](int state) {
        m_cancelTraceAction->setEnabled(state != TraceRecorder::Idle);
        if (state == TraceRecorder::Recording)
            statusBar()->showMessage(
                tr("Tracing: move the pointer up and down over the trace "
                   "lane (or the wheel, Up and Down); %1 again stops, Esc "
                   "cancels")
                    .arg(m_traceActions.value(0)->shortcut().toString(QKeySequence::NativeText)),
                0);
    });
    connect(m_cancelTraceAction, &QAction::triggered, m_traceRecorder, &TraceRecorder::cancel);
    connect(m_player, &PlayerBar::notice, this,
            [this](const QString &text) { statusBar()->showMessage(text, 15000); });
    connect(m_clipView, &ClipView::loadFailed, this,
            [this](const QString &message) { statusBar()->showMessage(message, 8000); });
    connect(m_zoomInAction, &QAction::triggered, m_clipView, &ClipView::zoomIn);
    connect(m_zoomOutAction, &QAction::triggered, m_clipView, &ClipView::zoomOut);
    connect(m_zoomFitAction, &QAction::triggered, m_clipView, &ClipView::zoomToFit);
    auto *clipPane = new QWidget;
    auto *clipLayout = new QVBoxLayout(clipPane);
    clipLayout->setContentsMargins(6, 4, 6, 2);
    clipLayout->setSpacing(2);
    clipLayout->addWidget(m_clipView, 1);
    clipLayout->addWidget(m_player);

    // The clip table and, beside it, active learning's queue; next/previous follow the tab in
    // front.
    m_queue = new LabelingQueue(m_jobs, m_session, m_tableModel, m_navigator, this);
    connect(m_queue, &LabelingQueue::message, statusBar(), &QStatusBar::showMessage);
    m_queue->setAnnotatorSource([this] { return m_labeling->annotatorName(); });
    m_queue->setRetrainer([this] {
        if (!db())
            return false;
        const ExtractionChoice choice = FeatureExtractionController::activeChoiceFor(*db());
        const bool started = m_training->retrain(m_session->path(), choice.encoder, choice.device);
        updateActions();
        return started;
    });
    connect(m_training, &TrainingController::finished, m_queue, &LabelingQueue::onTrainingFinished);
    m_queueView = new QueueView(m_queue, m_navigator);
    connect(m_navigator, &ClipNavigator::currentChanged, m_queueView, &QueueView::showCurrent);
    connect(m_queue, &LabelingQueue::changed, this, [this] { updateActions(); });
    m_centreTabs = new QTabWidget;
    m_centreTabs->setObjectName(QStringLiteral("centreTabs"));
    m_centreTabs->setDocumentMode(true);
    m_centreTabs->addTab(tablePane, tr("Clips"));
    m_centreTabs->addTab(m_queueView, tr("Queue"));
    m_centreTabs->setTabToolTip(0, tr("Every clip of the workspace, filtered and sorted; Down "
                                      "and Up follow the table"));
    m_centreTabs->setTabToolTip(1, tr("Active learning: the clips most worth labeling next; "
                                      "Down and Up follow the queue"));
    connect(m_centreTabs, &QTabWidget::currentChanged, this, [this](int index) {
        m_queue->setActive(index == 1);
        m_queueAction->setChecked(index == 1);
        QSettings().setValue(QStringLiteral("queue/shown"), index == 1);
        updateActions();
    });

    m_centreSplitter = new QSplitter(Qt::Vertical);
    m_centreSplitter->setObjectName(QStringLiteral("centreSplitter"));
    m_centreSplitter->addWidget(m_centreTabs);
    m_centreSplitter->addWidget(clipPane);
    m_centreSplitter->setStretchFactor(0, 1);
    m_centreSplitter->setStretchFactor(1, 1);
    m_centreSplitter->setSizes({380, 420});
    m_centreSplitter->setChildrenCollapsible(false);

    m_emptyState = new EmptyStatePanel(m_newAction, m_openAction, m_importAction);
    m_pages = new QStackedWidget;
    m_pages->addWidget(m_emptyState);
    m_pages->addWidget(m_centreSplitter);
    setCentralWidget(m_pages);
}

void MainWindow::createDocks()
{
    m_tree = new QTreeView;
    m_tree->setModel(m_treeModel);
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(false);
    m_tree->setSelectionMode(QAbstractItemView::SingleSelection);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(CorpusTreeModel::NameColumn, QHeaderView::Stretch);
    m_tree->header()->setSectionResizeMode(CorpusTreeModel::CountColumn,
                                           QHeaderView::ResizeToContents);
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this,
            &MainWindow::onTreeSelection);

    m_treeDock = new QDockWidget(tr("Corpora"), this);
    m_treeDock->setObjectName(QStringLiteral("corpusDock"));
    m_treeDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetClosable);
    m_treeDock->setWidget(m_tree);
    m_tree->setMinimumWidth(140);
    addDockWidget(Qt::LeftDockWidgetArea, m_treeDock);

    m_labelingPanel = new LabelingPanel;
    m_desk =
        new LabelingDesk(m_labelingPanel, m_labeling, m_navigator, m_tableModel, m_session, this);
    connect(m_desk, &LabelingDesk::message, statusBar(), &QStatusBar::showMessage);
    connect(m_desk, &LabelingDesk::labelsChanged, this, &MainWindow::updateCounts);
    connect(m_desk, &LabelingDesk::labelsChanged, this, [this] {
        if (m_analysisDialog && m_analysisDialog->isVisible())
            m_analysisDialog->refreshLabels();
    });
    connect(m_desk, &LabelingDesk::manyLabelsArrived, this, &MainWindow::reloadFromStore);
    connect(m_desk, &LabelingDesk::handOutRequested, this, &MainWindow::claimNextClip);
    // A clip picked by hand ends following the hand-out.
    connect(m_navigator, &ClipNavigator::currentChanged, this, [this] {
        if (!m_selectingHandOut)
            m_desk->setFollowingHandOut(false);
    });
    connect(m_desk, &LabelingDesk::newLabelShown, this,
            [this](const QString &label) { m_filterBar->addLabel(label); });
    connect(m_labelingPanel, &LabelingPanel::previousRequested, this,
            [this] { m_navigator->move(-1); });
    connect(m_labelingPanel, &LabelingPanel::nextRequested, this,
            [this] { m_navigator->move(+1); });
    connect(m_labelingPanel, &LabelingPanel::typingFinished, this,
            [this] { m_table->setFocus(Qt::OtherFocusReason); });
    connect(m_labelingPanel, &LabelingPanel::changeAnnotatorRequested, m_labeling,
            &LabelingController::changeAnnotatorName);
    connect(m_labelingPanel, &LabelingPanel::autoAdvanceChanged, m_autoAdvanceAction,
            &QAction::setChecked);
    connect(m_autoAdvanceAction, &QAction::toggled, this, [this](bool on) {
        m_labelingPanel->setAutoAdvance(on);
        QSettings().setValue(QStringLiteral("labeling/autoAdvance"), on);
    });
    connect(m_clearCategoryAction, &QAction::triggered, m_labelingPanel,
            &LabelingPanel::clearCategory);
    auto *scroll = new QScrollArea;
    scroll->setWidget(m_labelingPanel);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    // Never narrower than the panel's own minimum (plus the vertical scroll bar): a narrower
    // dock would cut the buttons off with no way to reach them. Height scrolls instead.
    scroll->setMinimumWidth(
        std::max(m_labelingPanel->minimumWidth(), m_labelingPanel->minimumSizeHint().width()) +
        scroll->verticalScrollBar()->sizeHint().width() + 2);

    m_labelDock = new QDockWidget(tr("Labeling"), this);
    m_labelDock->setObjectName(QStringLiteral("labelingDock"));
    m_labelDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetClosable);
    m_labelDock->setWidget(scroll);
    addDockWidget(Qt::RightDockWidgetArea, m_labelDock);

    m_jobLogView = new JobLogView(m_jobLog);
    m_jobLogDock = new QDockWidget(tr("Job Log"), this);
    m_jobLogDock->setObjectName(QStringLiteral("jobLogDock"));
    m_jobLogDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetClosable |
                              QDockWidget::DockWidgetFloatable);
    m_jobLogDock->setWidget(m_jobLogView);
    addDockWidget(Qt::BottomDockWidgetArea, m_jobLogDock);
    m_jobLogDock->hide();

    // The side panels run the full height; the bottom docks sit under the centre only.
    setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);
    setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);
    m_trainingDashboard = new TrainingDashboard;
    m_trainingDock = new QDockWidget(tr("Training"), this);
    m_trainingDock->setObjectName(QStringLiteral("trainingDock"));
    m_trainingDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetClosable |
                                QDockWidget::DockWidgetFloatable);
    // In a scroll area, like the labeling panel: a small window keeps its size and the
    // dashboard scrolls instead of being squeezed.
    auto *trainingScroll = new QScrollArea;
    trainingScroll->setWidgetResizable(true);
    trainingScroll->setFrameShape(QFrame::NoFrame);
    trainingScroll->setWidget(m_trainingDashboard);
    m_trainingDock->setWidget(trainingScroll);
    addDockWidget(Qt::BottomDockWidgetArea, m_trainingDock);
    m_trainingDock->hide();
    connect(m_training, &TrainingController::queued, this, [this](const QString &what) {
        m_trainingDashboard->begin(what);
        if (m_trainingDock->isHidden()) {
            m_trainingDock->show();
            resizeDocks({m_trainingDock}, {trainingDockHeight()}, Qt::Vertical);
        }
        m_trainingDock->raise();
    });
    connect(m_training, &TrainingController::runStarted, m_trainingDashboard,
            &TrainingDashboard::runStarted);
    connect(m_training, &TrainingController::epochEnded, this, [this](const QVariantMap &e) {
        m_trainingDashboard->addEpoch(e.value(QStringLiteral("epoch")).toInt(),
                                      e.value(QStringLiteral("train_loss")).toDouble(),
                                      e.value(QStringLiteral("validation_loss")).toDouble(),
                                      e.value(QStringLiteral("validation_ua")).toDouble());
    });
    connect(m_training, &TrainingController::progressed, m_trainingDashboard,
            &TrainingDashboard::setProgress);
    connect(m_training, &TrainingController::pretrainingStarted, m_trainingDashboard,
            &TrainingDashboard::pretrainingStarted);
    connect(m_training, &TrainingController::pretrainingEpochEnded, this,
            [this](const QVariantMap &e) {
                m_trainingDashboard->addEpoch(e.value(QStringLiteral("epoch")).toInt(),
                                              e.value(QStringLiteral("mask_loss")).toDouble(),
                                              e.value(QStringLiteral("distill_loss")).toDouble(),
                                              e.value(QStringLiteral("mask_accuracy")).toDouble());
            });
    connect(m_training, &TrainingController::finished, this, [this](const JobResult &result) {
        m_trainingDashboard->finish(result.summary, result.ok());
        if (m_analysisDialog && result.ok())
            m_analysisDialog->reload(); // the new model's matrix, curves and vectors
    });
    connect(m_training, &TrainingController::pretrained, this, [this](const JobResult &result) {
        m_trainingDashboard->finish(result.summary, result.ok());
    });
    connect(m_trainingDashboard, &TrainingDashboard::stopRequested, m_training,
            &TrainingController::stop);
    connect(m_trainingDashboard, &TrainingDashboard::cancelRequested, m_training,
            &TrainingController::cancel);
    sizeDocksFor(width());
}

void MainWindow::sizeDocksFor(int windowWidth)
{
    // Side panels in proportion to the window, within what each needs and what is useful, so
    // the table keeps most of a small window.
    const int tree = std::clamp(windowWidth * 17 / 100, 190, 260);
    const int labeling =
        std::clamp(windowWidth * 26 / 100, m_labelDock->minimumSizeHint().width(), 360);
    resizeDocks({m_treeDock, m_labelDock}, {tree, labeling}, Qt::Horizontal);
    resizeDocks({m_jobLogDock, m_trainingDock},
                {std::min(180, trainingDockHeight()), trainingDockHeight()}, Qt::Vertical);
}

int MainWindow::trainingDockHeight() const
{
    // A share of the height that leaves the table and the clip view theirs, but never less
    // than the dashboard needs to draw its axes.
    return std::max(std::clamp(height() * 30 / 100, 190, 280),
                    m_trainingDashboard->minimumSizeHint().height());
}

void MainWindow::fitTableColumns()
{
    // The font's widths, then the key and "labeled by" columns give way (down to a floor) when
    // the table is narrower than the columns: every column stays on screen.
    QHeaderView *header = m_table->horizontalHeader();
    const QFontMetrics metrics = m_table->fontMetrics();
    auto widthFor = [&metrics](const char *sample) {
        return metrics.horizontalAdvance(QLatin1String(sample)) + 24;
    };
    header->resizeSection(UtteranceTableModel::KeyColumn, widthFor("Ses01F_impro01_F000__"));
    header->resizeSection(UtteranceTableModel::LabelColumn, widthFor("frustrated"));
    header->resizeSection(UtteranceTableModel::SpeakerColumn, widthFor("Ses01F_"));
    header->resizeSection(UtteranceTableModel::GenderColumn, widthFor("female"));
    header->resizeSection(UtteranceTableModel::DurationColumn, widthFor("Duration (s)"));
    header->resizeSection(UtteranceTableModel::LabeledByColumn, widthFor("corpus:Demo corpus_"));
    // Before the window is shown the table has no width of its own yet.
    const int available = m_table->isVisible() ? m_table->viewport()->width() : 0;
    if (available <= 0)
        return;
    // Everything up to "labeled by" on screen; the corpus column, last, may run past the edge.
    int total = 0;
    for (int c = 0; c < UtteranceTableModel::CorpusColumn; ++c)
        total += header->isSectionHidden(c) ? 0 : header->sectionSize(c);
    int excess = total - available;
    const std::pair<int, int> giveWay[] = {
        {UtteranceTableModel::LabeledByColumn, widthFor("corpus:Dem")},
        {UtteranceTableModel::DurationColumn, widthFor("Duration")},
        {UtteranceTableModel::KeyColumn, widthFor("Ses01F_impro01_F")},
    };
    for (const auto &[column, floor] : giveWay) {
        if (excess <= 0)
            break;
        const int give = std::min(excess, std::max(0, header->sectionSize(column) - floor));
        header->resizeSection(column, header->sectionSize(column) - give);
        excess -= give;
    }
}

void MainWindow::resetLayout()
{
    applyDefaultLayout();
    statusBar()->showMessage(tr("The panels are back where they start"), 4000);
}

void MainWindow::applyDefaultLayout()
{
    restoreState(m_defaultState);
    m_table->horizontalHeader()->restoreState(m_defaultTableHeader);
    const bool browsing = db() && m_tableModel->rowCount() > 0;
    m_treeDock->setVisible(browsing);
    m_labelDock->setVisible(browsing);
    m_jobLogDock->hide();
    m_trainingDock->hide();
    sizeDocksFor(width());
    const int height = m_centreSplitter->height();
    m_centreSplitter->setSizes({height * 45 / 100, height - height * 45 / 100});
    // After the docks have their sizes (a few layout passes), the table knows its width.
    QTimer::singleShot(kLayoutSettleMs, this, &MainWindow::fitTableColumns);
}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_newAction);
    file->addAction(m_openAction);
    file->addAction(m_openServerAction);
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    file->addSeparator();
    file->addAction(m_importAction);
    file->addAction(m_exportAction);
    file->addAction(m_pathMapAction);
    file->addSeparator();
    file->addAction(m_closeAction);
    file->addAction(m_quitAction);

    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(m_undoAction);
    edit->addAction(m_redoAction);
    edit->addSeparator();
    edit->addAction(m_findAction);

    QMenu *view = menuBar()->addMenu(tr("&View"));
    view->addAction(m_zoomInAction);
    view->addAction(m_zoomOutAction);
    view->addAction(m_zoomFitAction);
    view->addSeparator();
    QAction *treeToggle = m_treeDock->toggleViewAction();
    treeToggle->setText(tr("&Corpus Browser"));
    treeToggle->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_B));
    QAction *labelToggle = m_labelDock->toggleViewAction();
    labelToggle->setText(tr("&Labeling Panel"));
    labelToggle->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L));
    view->addAction(treeToggle);
    view->addAction(labelToggle);
    QAction *logToggle = m_jobLogDock->toggleViewAction();
    logToggle->setText(tr("&Job Log"));
    logToggle->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_J));
    logToggle->setToolTip(tr("Every import, extraction and export: when, how it ended, what it "
                             "skipped"));
    view->addAction(logToggle);
    QAction *trainingToggle = m_trainingDock->toggleViewAction();
    trainingToggle->setText(tr("&Training Dashboard"));
    trainingToggle->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T));
    trainingToggle->setToolTip(tr("The running (or last) training: loss and validation UA by "
                                  "epoch, progress, Stop and Cancel"));
    view->addAction(trainingToggle);
    view->addAction(m_queueAction);
    view->addSeparator();
    view->addAction(m_resetLayoutAction);

    QMenu *playback = menuBar()->addMenu(tr("&Playback"));
    playback->addAction(m_player->playPauseAction());
    playback->addAction(m_player->stopAction());
    playback->addAction(m_player->loopAction());
    playback->addSeparator();
    playback->addAction(m_player->slowerAction());
    playback->addAction(m_player->fasterAction());

    QMenu *label = menuBar()->addMenu(tr("&Label"));
    for (QAction *action : m_categoryActions)
        label->addAction(action);
    label->addAction(m_clearCategoryAction);
    label->addSeparator();
    label->addAction(m_previousAction);
    label->addAction(m_nextAction);
    label->addAction(m_claimNextAction);
    label->addAction(m_autoAdvanceAction);
    label->addAction(m_overlapAction);
    label->addSeparator();
    for (QAction *action : std::as_const(m_traceActions))
        label->addAction(action);

    QMenu *features = menuBar()->addMenu(tr("Fea&tures"));
    features->addAction(m_extractAction);
    features->addAction(m_extractShownAction);
    features->addSeparator();
    features->addAction(m_encodersAction);

    QMenu *model = menuBar()->addMenu(tr("&Model"));
    model->addAction(m_retrainAction);
    model->addAction(m_stopTrainingAction);
    model->addAction(m_pretrainAction);
    model->addAction(m_taptAction);
    model->addSeparator();
    model->addAction(m_rankAction);
    model->addAction(m_curvesAction);
    // The recipe Retrain trains (remembered in the settings as "model/recipe").
    m_recipeMenu = model->addMenu(tr("Retrain &Recipe"));
    m_recipeMenu->setToolTipsVisible(true);
    auto *recipeGroup = new QActionGroup(m_recipeMenu);
    const QString chosen = QSettings().value(QStringLiteral("model/recipe")).toString();
    for (const RecipeInfo &r : recipes()) {
        const bool isDefault = r.name == QLatin1String("default");
        QAction *action = m_recipeMenu->addAction(
            isDefault ? tr("Default (by the size of the labeled set)") : r.name);
        action->setCheckable(true);
        action->setData(isDefault ? QString() : r.name);
        action->setToolTip(QStringLiteral("%1. From: %2.").arg(r.summary, r.origin));
        action->setChecked(isDefault ? (chosen.isEmpty() || chosen == r.name) : chosen == r.name);
        recipeGroup->addAction(action);
        connect(action, &QAction::triggered, this, [this, action] {
            const QString recipe = action->data().toString();
            if (recipe.isEmpty())
                QSettings().remove(QStringLiteral("model/recipe"));
            else
                QSettings().setValue(QStringLiteral("model/recipe"), recipe);
            statusBar()->showMessage(tr("Retrain will train %1")
                                         .arg(recipe.isEmpty() ? tr("the default recipe") : recipe),
                                     4000);
        });
    }
    // Settings of Retrain beside the recipe, each a check remembered under its key (the
    // action's data, so it is never taken for a recipe's name).
    m_recipeMenu->addSeparator();
    const auto addSetting = [this](const QString &text, const QString &key, const QString &tip,
                                   const QString &on, const QString &off) {
        QAction *action = m_recipeMenu->addAction(text);
        action->setCheckable(true);
        action->setData(key);
        action->setChecked(QSettings().value(key, false).toBool());
        action->setToolTip(tip);
        connect(action, &QAction::toggled, this, [this, key, on, off](bool checked) {
            QSettings().setValue(key, checked);
            statusBar()->showMessage(checked ? on : off, 4000);
        });
    };
    // Seed 003's remedy for few auxiliary tasks.
    addSetting(tr("Freeze ARI in Stage 1 (ari-coattention)"), QStringLiteral("model/freezeAri"),
               tr("Keep ARI's layer weights fixed while the auxiliary tasks train alone (the "
                  "paper's remedy when the corpus allows few tasks)"),
               tr("Retrain of ari-coattention will freeze ARI in stage 1"),
               tr("Retrain of ari-coattention will train ARI in stage 1"));
    // Seed 003's augmentation (the extraction caches the copies first).
    addSetting(tr("Speed Perturbation (ari-coattention)"),
               QStringLiteral("model/speedPerturbation"),
               tr("Each training batch reads the clips at 0.8, 1.0 or 1.2 times their speed, as "
                  "seed 003 trains; the first Retrain also extracts the copies (three times the "
                  "extraction)"),
               tr("Retrain of ari-coattention will perturb the speed of its training batches"),
               tr("Retrain of ari-coattention will train on the clips as they are"));
    // Seeds 001 and 003 as their papers train: the encoder's Transformer layers too.
    addSetting(tr("Paper Mode: Fine-tune the Encoder (gmp-atl, ari-coattention)"),
               QStringLiteral("model/paperMode"),
               tr("Retrain of gmp-atl or ari-coattention also fine-tunes the encoder's "
                  "Transformer layers, as seeds 001 and 003 do. Needs features of a wav2vec 2.0, "
                  "HuBERT or WavLM folder; slow on a CPU, meant for a GPU"),
               tr("Retrain of gmp-atl and ari-coattention will fine-tune the encoder (paper "
                  "mode)"),
               tr("Retrain of gmp-atl and ari-coattention will keep the encoder frozen "
                  "(one-click mode)"));
    model->addSeparator();
    model->addAction(m_modelsAction);

    QMenu *analysis = menuBar()->addMenu(tr("&Analysis"));
    analysis->addAction(m_mapAction);
    analysis->addAction(m_confusionAction);
    analysis->addAction(m_compareAction);
    analysis->addAction(m_agreementAction);

    QMenu *settings = menuBar()->addMenu(tr("&Settings"));
    settings->addAction(m_annotatorAction);

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(m_shortcutsAction);
    help->addAction(m_aboutAction);
    rebuildRecentMenu();
}

void MainWindow::createStatusBar()
{
    m_pathLabel = new QLabel;
    m_pathLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_countLabel = new QLabel;
    // The job area: whichever job the queue runs shows here.
    m_jobArea = new JobStatusArea(m_jobs, statusBar(), this);
    statusBar()->addPermanentWidget(m_countLabel);
    statusBar()->addPermanentWidget(m_pathLabel);
}

void MainWindow::restoreSettings()
{
    QSettings settings;
    // A saved layout is restored only when it fits this screen and gives every panel its
    // minimum; otherwise (another monitor, a layout squeezed by hand) the window starts with
    // the default layout sized for the screen.
    const QRect screen = this->screen() ? this->screen()->availableGeometry() : QRect();
    const bool restored =
        restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray()) &&
        (screen.isEmpty() || (width() <= screen.width() && height() <= screen.height())) &&
        restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    if (!restored) {
        restoreState(m_defaultState);
        QSize size(1400, 900);
        if (!screen.isEmpty())
            size = size.boundedTo(screen.size() * 0.92);
        resize(size);
        sizeDocksFor(size.width());
        m_fitColumnsOnShow = true;
    } else {
        m_centreSplitter->restoreState(
            settings.value(QStringLiteral("window/centreSplitter")).toByteArray());
        if (!m_table->horizontalHeader()->restoreState(
                settings.value(QStringLiteral("window/tableHeader")).toByteArray()))
            m_fitColumnsOnShow = true;
    }
    const bool autoAdvance = settings.value(QStringLiteral("labeling/autoAdvance"), false).toBool();
    m_autoAdvanceAction->setChecked(autoAdvance);
    m_labelingPanel->setAutoAdvance(autoAdvance);
    m_labelingPanel->setAnnotatorName(m_labeling->annotatorName());
    m_filterBar->setAnnotator(m_labeling->annotatorName());
    showQueue(settings.value(QStringLiteral("queue/shown"), false).toBool());
}

bool MainWindow::layoutFits() const
{
    // Qt keeps each dock at its minimum width; what a squeezed layout can still lose is the
    // centre, the table and the clip.
    return centralWidget()->width() >= kMinimumCentreWidth;
}

void MainWindow::showEvent(QShowEvent *event)
{
    QMainWindow::showEvent(event);
    if (m_firstShow) {
        m_firstShow = false;
        // Once the layout has given every part its size: a restored layout that leaves the
        // centre too little room is replaced by the default one, and columns fit the table.
        QMetaObject::invokeMethod(
            this,
            [this] {
                if (!layoutFits())
                    resetLayout();
                else if (m_fitColumnsOnShow)
                    QTimer::singleShot(kLayoutSettleMs, this, &MainWindow::fitTableColumns);
                m_fitColumnsOnShow = false;
            },
            Qt::QueuedConnection);
    }
}

void MainWindow::saveSettings()
{
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("window/centreSplitter"), m_centreSplitter->saveState());
    settings.setValue(QStringLiteral("window/tableHeader"),
                      m_table->horizontalHeader()->saveState());
}

// ---------------------------------------------------------------------------------------------
// Workspace

QString MainWindow::whyWorkspaceMustStay() const
{
    if (isBusy())
        return tr("%1 is running; wait for it or cancel it first").arg(m_jobs->runningName());
    if (const int unsaved = m_labeling->unsavedCount(); unsaved > 0)
        return tr("%n label(s) are still waiting to be saved to the open workspace; try again "
                  "when they are saved",
                  nullptr, unsaved);
    return QString();
}

Status MainWindow::openWorkspace(const QString &path, IfMissing ifMissing)
{
    if (const QString why = whyWorkspaceMustStay(); !why.isEmpty())
        return Status::failure(why);
    if (!WorkspaceLocation::isServerUrl(path))
        return m_session->open(path, ifMissing == IfMissing::Create
                                         ? WorkspaceSession::IfMissing::Create
                                         : WorkspaceSession::IfMissing::Refuse);
    // A team's workspace: where ~/.pgpass has no password for it, ask (three tries). The
    // password stays in this program's memory; it is never written to the settings.
    Status st = m_session->open(path);
    const WorkspaceLocation location = WorkspaceLocation::parse(path);
    for (int attempt = 0; attempt < 3 && !st && isVisible(); ++attempt) {
        const bool none = st.error().contains(QLatin1String("wants a password"));
        const bool wrong = st.error().contains(QLatin1String("password authentication failed"));
        if (!none && !wrong)
            break;
        bool ok = false;
        const QString password = QInputDialog::getText(
            this, tr("Sign In"),
            (wrong ? tr("The server did not accept that password.\n\n") : QString()) +
                tr("Password of %1 for %2:")
                    .arg(location.user().isEmpty() ? tr("your user") : location.user(),
                         location.display()),
            QLineEdit::Password, QString(), &ok);
        if (!ok)
            break;
        WorkspaceLocation::rememberPassword(location.display(), password);
        st = m_session->open(path);
        if (!st)
            WorkspaceLocation::rememberPassword(location.display(), QString());
    }
    return st;
}

void MainWindow::chooseServerWorkspace()
{
    QSettings settings;
    bool ok = false;
    const QString url =
        QInputDialog::getText(
            this, tr("Open Team Workspace"),
            tr("The team's workspace on a PostgreSQL server:\n"
               "postgresql://you@server/database (the password comes from "
               "~/.pgpass, or EmoLens asks for it)"),
            QLineEdit::Normal,
            settings
                .value(
                    QStringLiteral("workspace/lastServerUrl"),
                    QStringLiteral("postgresql://%1@localhost/").arg(qEnvironmentVariable("USER")))
                .toString(),
            &ok)
            .trimmed();
    if (!ok || url.isEmpty())
        return;
    const WorkspaceLocation location = WorkspaceLocation::parse(url);
    if (!location.isServer() || !location.isValid()) {
        QMessageBox::warning(this, tr("Open Team Workspace"),
                             location.isServer()
                                 ? location.error()
                                 : tr("%1 is not a postgresql:// URL; use File > Open Workspace "
                                      "for a workspace file.")
                                       .arg(url));
        return;
    }
    settings.setValue(QStringLiteral("workspace/lastServerUrl"), location.display());
    if (auto st = openWorkspace(url); !st)
        QMessageBox::warning(this, tr("Open Team Workspace"), st.error());
}

void MainWindow::claimNextClip()
{
    if (!db())
        return;
    const QString me = m_labeling->askAnnotatorName();
    if (me.isEmpty())
        return;
    // A server that restarted since this window last asked closed its connection (the label
    // writer notices within seconds; this asks now).
    if (db()->isServer() && !db()->isAlive()) {
        if (auto st = m_session->reconnect(); !st) {
            statusBar()->showMessage(
                tr("No clip handed out: the server cannot be reached (%1)").arg(st.error()), 10000);
            return;
        }
    }
    AssignmentRepository assignment(*db());
    std::optional<ClipClaim> claim;
    AssignmentRequest request;
    request.annotator = me;
    if (auto st = assignment.claimNext(request, &claim); !st) {
        statusBar()->showMessage(tr("No clip handed out: %1").arg(st.error()), 10000);
        return;
    }
    if (!claim) {
        statusBar()->showMessage(tr("Every clip has the labels it needs (%n per clip), or is "
                                    "being labeled by someone else",
                                    nullptr, assignment.overlap()),
                                 10000);
        return;
    }
    m_selectingHandOut = true;
    const bool shown = selectUtterance(claim->utteranceId);
    m_selectingHandOut = false;
    if (!shown) {
        m_desk->setFollowingHandOut(false);
        statusBar()->showMessage(tr("Your next clip is hidden by the filters; clear them to see "
                                    "it"),
                                 10000);
        return;
    }
    // From now on a number key hands out the next clip (with auto-advance), until another
    // clip is picked by hand.
    m_desk->setFollowingHandOut(true);
    const QString until = QDateTime::fromMSecsSinceEpoch(qint64(claim->expiresAt * 1000))
                              .toString(QStringLiteral("HH:mm"));
    statusBar()->showMessage(claim->labelsSoFar > 0
                                 ? tr("This clip is yours until %1; %n other person(s) labeled it",
                                      nullptr, claim->labelsSoFar)
                                       .arg(until)
                                 : tr("This clip is yours until %1").arg(until),
                             10000);
}

void MainWindow::chooseOverlap()
{
    if (!db())
        return;
    AssignmentRepository assignment(*db());
    WorkspaceSetting overlap;
    if (auto st = assignment.setting(QStringLiteral("overlap"), QStringLiteral("1"), &overlap);
        !st) {
        QMessageBox::warning(this, tr("People per Clip"), st.error());
        return;
    }
    bool ok = false;
    const int people = QInputDialog::getInt(
        this, tr("People per Clip"),
        tr("How many different people label each clip (Label > Next Clip to Label hands a "
           "clip out until it has that many):"),
        std::max(1, overlap.value.toInt()), 1, 50, 1, &ok);
    if (!ok || people == overlap.value.toInt())
        return;
    bool conflict = false;
    const QString who = db()->isServer() ? db()->signedInUser() : m_labeling->annotatorName();
    if (auto st = assignment.writeSetting(QStringLiteral("overlap"), QString::number(people),
                                          overlap.version, who, &conflict);
        !st)
        QMessageBox::warning(this, tr("People per Clip"),
                             conflict ? tr("Someone changed it while you chose: %1").arg(st.error())
                                      : st.error());
    else
        statusBar()->showMessage(tr("Each clip now needs %n person(s)", nullptr, people), 8000);
}

void MainWindow::showWorkspacePath(bool offline)
{
    const QString path = m_session->path();
    if (!db() || !db()->isServer()) {
        m_pathLabel->setText(QDir::toNativeSeparators(path));
        m_pathLabel->setToolTip(tr("The open workspace file"));
        m_pathLabel->setStyleSheet(QString());
        return;
    }
    const QString who = db()->signedInUser();
    if (offline) {
        m_pathLabel->setText(tr("Offline: %1").arg(path));
        m_pathLabel->setToolTip(tr("The server cannot be reached. Your labels are kept on this "
                                   "computer and written, in order and once, when it is back."));
        m_pathLabel->setStyleSheet(QStringLiteral("color: #b3261e; font-weight: bold"));
    } else {
        m_pathLabel->setText(tr("%1 (signed in as %2)").arg(path, who));
        m_pathLabel->setToolTip(
            tr("The team's workspace on the server; your labels are recorded as %1").arg(who));
        m_pathLabel->setStyleSheet(QString());
    }
}

void MainWindow::onWorkspaceOffline(bool offline, int /*unsaved*/)
{
    // The red workspace label says it (its tooltip explains); a message beside it would
    // crowd the clip counts out of a small window.
    showWorkspacePath(offline);
    if (offline)
        return;
    // Back: this window's own connection died with the server too.
    if (auto st = m_session->reconnect(); !st)
        statusBar()->showMessage(tr("The server is back, but: %1").arg(st.error()), 15000);
    else
        statusBar()->showMessage(tr("The server is back: the kept labels are being written"),
                                 10000);
}

Status MainWindow::createWorkspace(const QString &path)
{
    if (const QString why = whyWorkspaceMustStay(); !why.isEmpty())
        return Status::failure(why);
    return m_session->create(path);
}

Status MainWindow::closeWorkspace()
{
    if (const QString why = whyWorkspaceMustStay(); !why.isEmpty())
        return Status::failure(why);
    m_session->close();
    return Status::success();
}

void MainWindow::onWorkspaceClosing()
{
    delete m_modelsDialog;   // it reads the workspace's connection
    delete m_curvesDialog;   // it reads the workspace's connection
    delete m_analysisDialog; // it reads the workspace's connection (and cancels its map)
    delete m_encodersDialog; // it reads the workspace's connection
    m_undoStack->clear();    // the commands write to this workspace
    m_labeling->setWorkspace(nullptr);
}

void MainWindow::onWorkspaceClosed()
{
    m_jobLog->setWorkspace(QString());
    m_player->clear();
    m_clipView->clearClip();
    m_labelingPanel->clearUtterance();
    m_navigator->clear();
    m_tableModel->clear();
    m_treeModel->clear();
    m_pathLabel->clear();
    m_filterBar->setLabels(m_session->labelSets(), m_tableModel->rows());
    m_queue->clear();
    m_queueView->setWorkspaceOpen(false);
    updateTitle();
    updatePage();
    updateCounts();
    updateActions();
}

void MainWindow::onWorkspaceOpened(const QString &path)
{
    m_jobLog->setWorkspace(path);
    m_labeling->setWorkspace(m_session->database());
    // A team's workspace records labels under the signed-in user; a file, under the setting.
    m_labelingPanel->setAnnotatorName(m_labeling->annotatorName());
    m_filterBar->setAnnotator(m_labeling->annotatorName());
    rebuildRecentMenu();
    reloadFromStore();
    m_queue->reload(); // the queue where it was left
    m_queueView->setWorkspaceOpen(true);
    updateTitle();
    updatePage();
    showWorkspacePath(false);
    // Land on the first clip so the window shows something to listen to straight away.
    if (m_filterModel->rowCount() > 0 && currentUtteranceId() == 0)
        m_table->setCurrentIndex(m_filterModel->index(0, 0));
    updateActions();
    Q_EMIT workspaceOpened(path);
}

void MainWindow::newWorkspace()
{
    QString path = QFileDialog::getSaveFileName(
        this, tr("New Workspace"), QDir::home().filePath(QStringLiteral("workspace.emolens")),
        tr("EmoLens workspaces (*.emolens)"));
    if (path.isEmpty())
        return;
    if (QFileInfo(path).suffix() != kWorkspaceSuffix)
        path += QLatin1Char('.') + kWorkspaceSuffix;
    if (auto st = createWorkspace(path); !st)
        QMessageBox::warning(this, tr("New Workspace"), st.error());
}

void MainWindow::chooseWorkspace()
{
    const QString start =
        m_session->path().isEmpty() ? QDir::homePath() : QFileInfo(m_session->path()).path();
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open Workspace"), start, tr("EmoLens workspaces (*.emolens);;All files (*)"));
    if (path.isEmpty())
        return;
    if (auto st = openWorkspace(path); !st)
        QMessageBox::warning(this, tr("Open Workspace"), st.error());
}

void MainWindow::rebuildRecentMenu()
{
    if (!m_recentMenu)
        return;
    m_recentMenu->clear();
    int n = 0;
    for (const QString &path : WorkspaceSession::recentWorkspaces()) {
        ++n;
        QAction *action = m_recentMenu->addAction(
            QStringLiteral("&%1  %2").arg(n).arg(QDir::toNativeSeparators(path)));
        if (n <= 9)
            action->setShortcut(QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key(Qt::Key_0 + n)));
        connect(action, &QAction::triggered, this, [this, path] {
            if (auto st = openWorkspace(path); !st)
                QMessageBox::warning(this, tr("Open Workspace"), st.error());
        });
    }
    m_recentMenu->setEnabled(n > 0);
}

// ---------------------------------------------------------------------------------------------
// Import

ImportReportDialog *MainWindow::importReportDialog() const
{
    return m_import->reportDialog();
}

bool MainWindow::isImporting() const
{
    return m_import->isRunning();
}

JobQueue *MainWindow::jobQueue() const
{
    return m_jobs;
}

QLineEdit *MainWindow::filterEdit() const
{
    return m_filterBar->textEdit();
}

QComboBox *MainWindow::labelFilterCombo() const
{
    return m_filterBar->labelCombo();
}

Database *MainWindow::db() const
{
    return m_session->database();
}

QString MainWindow::workspacePath() const
{
    return m_session->path();
}

bool MainWindow::hasWorkspace() const
{
    return m_session->isOpen();
}

QToolButton *MainWindow::jobCancelButton() const
{
    return m_jobArea->cancelButton();
}

QProgressBar *MainWindow::jobProgressBar() const
{
    return m_jobArea->progressBar();
}

QLabel *MainWindow::jobLabel() const
{
    return m_jobArea->label();
}

bool MainWindow::isBusy() const
{
    return m_jobs->isBusy();
}

void MainWindow::showImportDialog(const QString &folder)
{
    if (!db()) {
        QMessageBox::information(
            this, tr("Import Corpus"),
            tr("Create or open a workspace first: the corpus is imported into it."));
        return;
    }
    if (isImporting()) {
        statusBar()->showMessage(tr("An import is already running"), 4000);
        return;
    }
    ImportCorpusDialog dialog(this);
    if (!folder.isEmpty())
        dialog.setFolder(folder);
    if (dialog.exec() != QDialog::Accepted)
        return;
    startImport(dialog.request());
}

bool MainWindow::startImport(const ImportRequest &request)
{
    if (!db() || isBusy())
        return false;
    ImportRequest job = request;
    job.databasePath = m_session->path();
    if (!m_import->start(job))
        return false;
    updateActions();
    return true;
}

void MainWindow::onImportFinished(const JobResult &result)
{
    updateActions();
    m_lastImportReport = m_import->lastReport();
    if (result.ok()) {
        const qint64 keep = currentUtteranceId();
        reloadFromStore();
        updatePage();
        if (keep == 0 || !selectUtterance(keep))
            m_navigator->move(0);
    }
    Q_EMIT importFinished(result.toStatus());
}

// ---------------------------------------------------------------------------------------------
// Export

PathMapDialog *MainWindow::showPathMapDialog()
{
    if (!db())
        return nullptr;
    if (m_pathMapDialog) {
        m_pathMapDialog->raise();
        m_pathMapDialog->activateWindow();
        return m_pathMapDialog;
    }
    // The dialog works on paths as the workspace stores them.
    const PathMap current = m_session->pathMap();
    const PathMap applied = db()->pathMap();
    QStringList clips, roots;
    for (const UtteranceRow &r : m_tableModel->rows())
        clips << applied.toStored(r.path);
    for (const CorpusRecord &c : m_session->corpora())
        roots << applied.toStored(c.rootPath);
    auto *dialog = new PathMapDialog(current, clips, roots, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_pathMapDialog = dialog;
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        if (!db() || isBusy())
            return;
        if (auto st = m_session->setPathMap(dialog->pathMap()); !st) {
            QMessageBox::warning(this, tr("Audio Folders on This Machine"), st.error());
            return;
        }
        reloadFromStore();
        if (const qint64 current = currentUtteranceId(); current != 0)
            showUtterance(current); // the clip again, from where it is now found
        statusBar()->showMessage(tr("Audio folders saved for this workspace on this machine"),
                                 5000);
    });
    dialog->show();
    return dialog;
}

void MainWindow::showExportDialog()
{
    if (!db())
        return;
    if (isBusy()) {
        statusBar()->showMessage(
            tr("%1 is running; export when it has finished").arg(m_jobs->runningName()), 6000);
        return;
    }
    QList<CorpusRecord> corpora;
    if (auto st = CorpusRepository(*db()).corpora(&corpora); !st) {
        QMessageBox::warning(this, tr("Export Labels"), st.error());
        return;
    }
    // The corpus chosen in the tree (or one of its speakers or clips) is offered first.
    const qint64 corpusInTree =
        m_tree->currentIndex().data(CorpusTreeModel::CorpusIdRole).toLongLong();
    auto *dialog = new ExportDialog(corpora, corpusInTree, m_session->path(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] { startExport(dialog->request()); });
    m_exportDialog = dialog;
    dialog->open();
}

ExportDialog *MainWindow::exportDialog() const
{
    return m_exportDialog.data();
}

bool MainWindow::startExport(const ExportRequest &request)
{
    if (!db() || isBusy() || m_exportJobId != 0)
        return false;
    m_exportJob = std::make_shared<ExportJob>(ExportJobRequest{m_session->path(), request});
    m_exportJobId = m_jobs->submit(m_exportJob);
    updateActions();
    return m_exportJobId != 0;
}

void MainWindow::onExportFinished(const JobResult &result)
{
    m_exportJobId = 0;
    m_exportJob.reset();
    updateActions();
    statusBar()->showMessage(result.summary, 30000);
    if (!result.wasCancelled()) {
        auto *box = new QMessageBox(
            result.ok() ? QMessageBox::Information : QMessageBox::Warning, tr("Export Labels"),
            result.ok() ? tr("The export is written.") : tr("The export failed."), QMessageBox::Ok,
            this);
        box->setInformativeText(result.summary);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->setObjectName(QStringLiteral("exportReport"));
        box->open();
    }
    Q_EMIT exportFinished(result);
}

// ---------------------------------------------------------------------------------------------
// Features

void MainWindow::createFeatureActions()
{
    m_extractAction = new QAction(tr("&Extract Features"), this);
    m_extractAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    m_extractAction->setToolTip(
        tr("Run the active encoder over every clip of the workspace (clips already extracted "
           "are skipped)"));
    connect(m_extractAction, &QAction::triggered, this, [this] {
        if (!startExtraction() && db())
            statusBar()->showMessage(tr("A job is already running"), 4000);
    });
    m_extractShownAction = new QAction(tr("Extract Features for &Shown Clips"), this);
    m_extractShownAction->setShortcut(QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_E));
    m_extractShownAction->setToolTip(
        tr("Run the active encoder over the clips the table shows: the corpus or speaker chosen "
           "in the tree, with the label and text filters applied"));
    connect(m_extractShownAction, &QAction::triggered, this, [this] {
        if (!startExtraction(shownUtteranceIds()) && db())
            statusBar()->showMessage(tr("A job is already running"), 4000);
    });
    m_encodersAction = new QAction(tr("E&ncoders..."), this);
    m_encodersAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
    m_encodersAction->setToolTip(
        tr("Choose the encoder, device and batch size for feature extraction"));
    connect(m_encodersAction, &QAction::triggered, this, [this] { showEncodersDialog(); });
}

bool MainWindow::isExtracting() const
{
    return m_extraction->isRunning();
}

EncodersDialog *MainWindow::encodersDialog() const
{
    return m_encodersDialog.data();
}

EncodersDialog *MainWindow::showEncodersDialog()
{
    if (!db())
        return nullptr;
    if (!m_encodersDialog) {
        m_encodersDialog =
            new EncodersDialog(*db(), m_session->path(), m_extraction, m_extractAction, this);
        m_encodersDialog->setAttribute(Qt::WA_DeleteOnClose);
    }
    m_encodersDialog->show();
    m_encodersDialog->raise();
    m_encodersDialog->activateWindow();
    return m_encodersDialog;
}

QList<qint64> MainWindow::shownUtteranceIds() const
{
    return m_navigator->shownIds();
}

bool MainWindow::startExtraction(const QList<qint64> &utteranceIds)
{
    if (!db() || isBusy())
        return false;
    if (!m_extraction->start(m_session->path(), FeatureExtractionController::activeChoiceFor(*db()),
                             utteranceIds))
        return false;
    updateActions();
    return true;
}

void MainWindow::onExtractionFinished(const Status &status)
{
    updateActions();
    Q_EMIT extractionFinished(status);
}

// ---------------------------------------------------------------------------------------------
// Browsing

void MainWindow::reloadFromStore()
{
    if (!db())
        return;
    m_session->reload();
    QList<UtteranceRow> rows;
    if (auto st = CorpusRepository(*db()).utteranceRows(0, &rows); !st) {
        // Shown, not swallowed: an empty table would say the workspace is empty.
        QMessageBox::warning(this, tr("Workspace"),
                             tr("%1 cannot be read: %2")
                                 .arg(QDir::toNativeSeparators(m_session->path()), st.error()));
    }
    const qint64 keep = currentUtteranceId();
    m_tableModel->setRows(rows);
    m_treeModel->reload(m_session->corpora(), m_session->allSpeakers(), rows);
    m_tree->expandToDepth(0);
    m_filterBar->setLabels(m_session->labelSets(), m_tableModel->rows());
    reloadPredictions();
    if (keep != 0 && !selectUtterance(keep)) {
        m_navigator->clear();
        m_clipView->clearClip();
        m_player->clear();
        m_labelingPanel->clearUtterance();
    }
    updateCounts();
}

void MainWindow::reloadPredictions()
{
    QHash<qint64, PredictionRow> predictions;
    QStringList classes;
    if (db()) {
        ModelRepository models(*db());
        if (const auto active = models.activeModel()) {
            predictions = models.predictions(active->id);
            classes = active->classes;
        }
    }
    m_tableModel->setPredictions(predictions, classes);
    // The emotion lane's model: the active one, loaded once.
    if (!m_posteriors)
        m_posteriors = std::make_unique<ClipPosteriors>();
    if (db()) {
        if (auto st =
                m_posteriors->loadActive(*db(), FeatureCache::defaultRootFor(m_session->path()));
            !st)
            statusBar()->showMessage(tr("The active model cannot be used: %1").arg(st.error()),
                                     10000);
    } else {
        m_posteriors = std::make_unique<ClipPosteriors>();
    }
    // The columns show only when there is something to show.
    QHeaderView *header = m_table->horizontalHeader();
    for (int column :
         {int(UtteranceTableModel::PredictedColumn), int(UtteranceTableModel::ConfidenceColumn)})
        header->setSectionHidden(column, predictions.isEmpty());
}

ModelsDialog *MainWindow::showModelsDialog()
{
    if (!db())
        return nullptr;
    if (!m_modelsDialog) {
        m_modelsDialog = new ModelsDialog(*db(), this);
        m_modelsDialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(m_modelsDialog, &ModelsDialog::activeModelChanged, this,
                &MainWindow::onActiveModelChanged);
    } else {
        m_modelsDialog->reload();
    }
    m_modelsDialog->show();
    m_modelsDialog->raise();
    return m_modelsDialog;
}

LearningCurvesDialog *MainWindow::showLearningCurves()
{
    if (!db())
        return nullptr;
    if (!m_curvesDialog) {
        m_curvesDialog = new LearningCurvesDialog(db(), this);
        m_curvesDialog->setAttribute(Qt::WA_DeleteOnClose);
    } else {
        m_curvesDialog->reload();
    }
    m_curvesDialog->show();
    m_curvesDialog->raise();
    return m_curvesDialog;
}

AnalysisDialog *MainWindow::showAnalysis(int page)
{
    if (!db())
        return nullptr;
    if (!m_analysisDialog) {
        m_analysisDialog = new AnalysisDialog(m_session, m_jobs, m_tableModel, this);
        m_analysisDialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(m_analysisDialog, &AnalysisDialog::message, statusBar(), &QStatusBar::showMessage);
        connect(m_player, &PlayerBar::reachedEnd, m_analysisDialog,
                &AnalysisDialog::playNextInTurn);
        connect(m_analysisDialog, &AnalysisDialog::clipActivated, this,
                [this](qint64 id, bool play) {
                    if (!selectUtterance(id)) {
                        // Hidden by the table's filters: show everything, then the clip.
                        m_filterBar->clearChosenClips();
                        m_filterBar->clearScope();
                        m_filterBar->textEdit()->clear();
                        m_filterBar->labelCombo()->setCurrentIndex(0);
                        if (!selectUtterance(id)) {
                            statusBar()->showMessage(tr("That clip is no longer in the workspace"),
                                                     5000);
                            return;
                        }
                    }
                    if (play)
                        m_player->play();
                });
        connect(m_navigator, &ClipNavigator::currentChanged, m_analysisDialog,
                &AnalysisDialog::setCurrentClip);
        connect(m_analysisDialog, &AnalysisDialog::sendToQueue, this,
                [this](const QList<qint64> &ids) { queueChosenClips(ids, tr("the t-SNE map")); });
        connect(m_analysisDialog, &AnalysisDialog::showInTable, this,
                [this](const QList<qint64> &ids) {
                    showQueue(false);
                    m_filterBar->setChosenClips(ids, tr("the map"));
                    raise();
                });
    } else {
        m_analysisDialog->reload();
    }
    m_analysisDialog->setCurrentClip(currentUtteranceId());
    m_analysisDialog->showPage(AnalysisDialog::Page(page));
    m_analysisDialog->show();
    m_analysisDialog->raise();
    return m_analysisDialog;
}

AnalysisDialog *MainWindow::analysisDialog() const
{
    return m_analysisDialog.data();
}

bool MainWindow::queueChosenClips(const QList<qint64> &utteranceIds, const QString &where)
{
    if (!db() || utteranceIds.isEmpty())
        return false;
    SelectionRoundRecord round;
    round.strategy = QStringLiteral("chosen");
    round.settings = QString::fromUtf8(
        QJsonDocument(QJsonObject{{QStringLiteral("chosen_on"), where},
                                  {QStringLiteral("count"), int(utteranceIds.size())}})
            .toJson(QJsonDocument::Compact));
    round.poolSize = int(utteranceIds.size());
    round.pool = utteranceIds;
    QList<SelectionPickRecord> picks;
    for (int i = 0; i < utteranceIds.size(); ++i) {
        SelectionPickRecord pick;
        pick.rank = i + 1;
        pick.utteranceId = utteranceIds[i];
        pick.reason = tr("chosen on %1").arg(where);
        picks << pick;
    }
    if (auto st = SelectionRepository(*db()).addRound(&round, picks); !st) {
        statusBar()->showMessage(tr("Could not queue the clips: %1").arg(st.error()), 10000);
        return false;
    }
    m_queue->reload();
    showQueue(true);
    raise();
    statusBar()->showMessage(
        tr("%n clip(s) chosen on %1 are the queue now", nullptr, int(utteranceIds.size()))
            .arg(where),
        6000);
    return true;
}

LearningCurvesDialog *MainWindow::learningCurvesDialog() const
{
    return m_curvesDialog.data();
}

ModelsDialog *MainWindow::modelsDialog() const
{
    return m_modelsDialog.data();
}

void MainWindow::onActiveModelChanged()
{
    reloadPredictions();
    if (m_analysisDialog)
        m_analysisDialog->reload();
    if (db() && currentUtteranceId() != 0)
        if (const auto u = CorpusRepository(*db()).utterance(currentUtteranceId()))
            showEmotionCurves(u->contentHash);
    m_desk->refreshPanel();
}

void MainWindow::showTraces(qint64 utteranceId, double durationSeconds, const QString &dimension)
{
    QList<TraceRecord> traces;
    if (db())
        if (auto st = TraceRepository(*db()).currentTraces(utteranceId, &traces); !st)
            statusBar()->showMessage(tr("Cannot read the clip's traces: %1").arg(st.error()), 8000);
    m_clipView->traceView()->setTraces(traces, durationSeconds, dimension);
}

void MainWindow::toggleTrace(const QString &dimension)
{
    if (m_traceRecorder->state() != TraceRecorder::Idle) {
        m_traceRecorder->finish();
        return;
    }
    const qint64 clip = currentUtteranceId();
    if (!db() || clip == 0)
        return;
    // Whose trace it is: asked now, not after the clip has played.
    if (m_labeling->annotatorName().isEmpty() && m_labeling->askAnnotatorName().isEmpty()) {
        statusBar()->showMessage(tr("A trace needs an annotator name (Settings > Annotator "
                                    "Name)"),
                                 6000);
        return;
    }
    const auto u = CorpusRepository(*db()).utterance(clip);
    const double duration = m_clipView->durationSeconds() > 0 ? m_clipView->durationSeconds()
                            : u                               ? u->durationSeconds
                                                              : 0;
    if (!m_traceRecorder->start(clip, duration, dimension))
        statusBar()->showMessage(tr("Cannot trace this clip: it has no length"), 6000);
}

void MainWindow::storeTrace(const TraceRecord &recorded)
{
    TraceRecord trace = recorded;
    trace.annotatorName = m_labeling->annotatorName();
    if (!db() || trace.annotatorName.isEmpty()) {
        statusBar()->showMessage(tr("The trace was not stored: no workspace or annotator"), 8000);
        return;
    }
    if (auto st = TraceRepository(*db()).addTrace(&trace); !st) {
        statusBar()->showMessage(tr("The trace was not stored: %1").arg(st.error()), 10000);
        return;
    }
    statusBar()->showMessage(tr("Stored %1's %2 trace (%3 s at %4 Hz)")
                                 .arg(trace.annotatorName, trace.dimension)
                                 .arg(double(trace.samples.size()) / trace.rateHz, 0, 'f', 1)
                                 .arg(trace.rateHz),
                             8000);
    if (trace.utteranceId == currentUtteranceId())
        showTraces(trace.utteranceId, m_clipView->durationSeconds(), trace.dimension);
    Q_EMIT traceStored(trace.id);
}

void MainWindow::showEmotionCurves(const QString &contentHash)
{
    EmotionCurveView *lane = m_clipView->emotionView();
    FramePosteriors posteriors;
    if (!m_posteriors || !m_posteriors->hasModel()) {
        lane->setPlaceholderText(tr("Emotion curves: Model > Retrain (Ctrl+R) trains a model"));
    } else if (auto st = m_posteriors->predict(contentHash, &posteriors); !st) {
        lane->setPlaceholderText(st.error());
    } else {
        lane->setPlaceholderText(QString());
    }
    lane->setPosteriors(posteriors);
}

void MainWindow::onTreeSelection()
{
    const QModelIndex index = m_tree->currentIndex();
    if (!index.isValid()) {
        m_filterBar->clearScope();
        onScopeCleared();
        return;
    }
    const auto kind = CorpusTreeModel::Kind(index.data(CorpusTreeModel::KindRole).toInt());
    const qint64 corpusId = index.data(CorpusTreeModel::CorpusIdRole).toLongLong();
    const QString speaker = kind == CorpusTreeModel::Kind::Corpus
                                ? QString()
                                : index.data(CorpusTreeModel::SpeakerCodeRole).toString();
    m_filterBar->setScope(corpusId, m_session->corpus(corpusId).name, speaker);
    if (kind == CorpusTreeModel::Kind::Utterance)
        selectUtterance(index.data(CorpusTreeModel::UtteranceIdRole).toLongLong());
    else if (m_filterModel->rowCount() > 0 && m_table->currentIndex().row() < 0)
        m_table->setCurrentIndex(m_filterModel->index(0, 0));
    updateCounts();
}

void MainWindow::onScopeCleared()
{
    {
        const QSignalBlocker block(m_tree->selectionModel());
        m_tree->selectionModel()->clear();
    }
    if (currentUtteranceId() != 0)
        selectUtterance(currentUtteranceId());
    updateCounts();
}

bool MainWindow::selectUtterance(qint64 utteranceId)
{
    return m_navigator->select(utteranceId);
}

qint64 MainWindow::currentUtteranceId() const
{
    return m_navigator->current();
}

void MainWindow::showQueue(bool queue)
{
    m_centreTabs->setCurrentIndex(queue ? 1 : 0);
    m_queueAction->setChecked(queue);
}

void MainWindow::showUtterance(qint64 utteranceId)
{
    if (!db())
        return;
    CorpusRepository corpora(*db());
    auto utterance = corpora.utterance(utteranceId);
    // A team's server that is away: the clip plays and is labeled from what the table holds;
    // the model's curves and the traces come back with the server.
    const bool offline = !utterance && db()->isServer() && !db()->isAlive();
    if (offline)
        utterance = m_desk->tableRecord(utteranceId);
    if (!utterance) {
        statusBar()->showMessage(tr("The utterance is no longer in the workspace"), 5000);
        return;
    }
    m_traceRecorder->cancel(); // a trace belongs to the clip it was started on
    m_clipView->loadClip(utteranceId, utterance->path, utterance->key, utterance->durationSeconds);
    m_player->setClip(utterance->path, utterance->durationSeconds);
    if (!offline) {
        showEmotionCurves(utterance->contentHash);
        showTraces(utteranceId, utterance->durationSeconds);
    }
    m_desk->refreshPanel();
    updateActions();
    Q_EMIT currentUtteranceChanged(utteranceId);
}

// The one place that enables actions, from the window's state: a workspace open or not, a
// job running (workspace changes and a second job wait; labeling goes on), a clip shown, the
// current clip's label set, clips in the table.
void MainWindow::updateActions()
{
    const bool busy = isBusy();
    const bool open = db() != nullptr;
    const bool haveClip = currentUtteranceId() != 0;
    const bool rowsShown = m_filterModel->rowCount() > 0;
    m_newAction->setEnabled(!busy);
    m_openAction->setEnabled(!busy);
    m_openServerAction->setEnabled(!busy);
    m_importAction->setEnabled(open && !busy);
    m_exportAction->setEnabled(open && !busy && m_tableModel->rowCount() > 0);
    m_closeAction->setEnabled(open && !busy);
    m_pathMapAction->setEnabled(open && !busy);
    m_extractAction->setEnabled(open && !busy);
    m_extractShownAction->setEnabled(open && !busy && rowsShown);
    m_encodersAction->setEnabled(open);
    m_modelsAction->setEnabled(open);
    m_curvesAction->setEnabled(open);
    m_mapAction->setEnabled(open);
    m_confusionAction->setEnabled(open);
    m_compareAction->setEnabled(open);
    m_agreementAction->setEnabled(open);
    m_retrainAction->setEnabled(open && !m_training->isRunning() && m_tableModel->rowCount() > 0);
    m_pretrainAction->setEnabled(open && !m_training->isRunning() && m_tableModel->rowCount() > 0);
    m_taptAction->setEnabled(m_pretrainAction->isEnabled());
    m_stopTrainingAction->setEnabled(m_training->isRunning());
    m_recentMenu->setEnabled(!busy && !m_recentMenu->actions().isEmpty());

    const LabelSchema schema = haveClip ? m_labelingPanel->schema() : LabelSchema();
    for (int i = 0; i < m_categoryActions.size(); ++i) {
        QAction *action = m_categoryActions[i];
        if (i < schema.classes.size()) {
            action->setText(tr("Set Category: %1").arg(schema.classes[i]));
            action->setEnabled(true);
        } else {
            action->setText(tr("Set Category %1").arg(i + 1));
            action->setEnabled(false);
        }
        // Unused keys stay out of the menu but keep their shortcut slot.
        action->setVisible(i < schema.classes.size() || (schema.classes.isEmpty() && i < 4));
    }
    m_clearCategoryAction->setEnabled(haveClip);
    for (QAction *action : std::as_const(m_traceActions))
        action->setEnabled(haveClip);
    const bool queueShown = m_queue->isActive() && m_queue->model()->rowCount() > 0;
    m_previousAction->setEnabled(rowsShown || queueShown);
    m_nextAction->setEnabled(rowsShown || queueShown);
    m_claimNextAction->setEnabled(open && rowsShown);
    m_overlapAction->setEnabled(open);
    m_rankAction->setEnabled(open && !m_queue->isRanking());
    m_zoomInAction->setEnabled(haveClip);
    m_zoomOutAction->setEnabled(haveClip);
    m_zoomFitAction->setEnabled(haveClip);
}

void MainWindow::updateCounts()
{
    const int total = m_tableModel->rowCount();
    const QLocale locale;
    if (!db()) {
        m_countLabel->setText(tr("No workspace open"));
    } else {
        // The team's progress (clips some person has labeled) and mine; corpus labels do not
        // count as work done.
        const QString me = m_labeling->annotatorName();
        int byPeople = 0, byMe = 0;
        for (const UtteranceRow &row : m_tableModel->rows()) {
            byPeople += row.labeledByPeople.isEmpty() ? 0 : 1;
            byMe += !me.isEmpty() && row.labeledByPeople.contains(me) ? 1 : 0;
        }
        QString text = tr("%1 clips  \u00B7  %2 labeled by people")
                           .arg(locale.toString(total), locale.toString(byPeople));
        if (!me.isEmpty())
            text += tr("  \u00B7  %1 by you").arg(locale.toString(byMe));
        m_countLabel->setText(text + QStringLiteral("  "));
        m_countLabel->setToolTip(
            tr("%1 of %2 clips show a label (people's or the corpus's)")
                .arg(locale.toString(m_tableModel->labeledCount()), locale.toString(total)));
    }
    m_filterBar->showCounts(m_filterModel->rowCount(), total);
    if (m_previousAction)
        updateActions();
}

void MainWindow::updateTitle()
{
    setWindowTitle(m_session->path().isEmpty()
                       ? tr("EmoLens")
                       : tr("EmoLens - %1").arg(QFileInfo(m_session->path()).fileName()));
}

void MainWindow::updatePage()
{
    const bool browsing = db() && m_tableModel->rowCount() > 0;
    m_pages->setCurrentWidget(browsing ? static_cast<QWidget *>(m_centreSplitter) : m_emptyState);
    m_emptyState->setWorkspaceOpen(db() != nullptr, QFileInfo(m_session->path()).fileName());
    m_treeDock->setVisible(browsing);
    m_labelDock->setVisible(browsing);
    updateActions();
}

// ---------------------------------------------------------------------------------------------
// Labeling

void MainWindow::onWaitingForWorkspace(bool waiting, int unsaved)
{
    if (waiting)
        statusBar()->showMessage(
            tr("The workspace is busy (another program or a job is writing to it): %n label(s) "
               "will be saved as soon as it is free",
               nullptr, unsaved));
    else if (m_labeling->unsavedCount() == 0)
        statusBar()->clearMessage();
}

void MainWindow::onAllLabelsSaved()
{
    if (m_closeWhenSaved) {
        m_closeWhenSaved = false;
        QMetaObject::invokeMethod(this, &QWidget::close, Qt::QueuedConnection);
    }
}

void MainWindow::onAnnotatorChanged()
{
    m_filterBar->setAnnotator(m_labeling->annotatorName());
    updateCounts();
    // A dialog took the focus; give it back to the table so the next number key labels.
    // Without a window manager nothing re-activates the window, so it asks itself.
    activateWindow();
    m_table->setFocus(Qt::OtherFocusReason);
}

// ---------------------------------------------------------------------------------------------
// Misc

void MainWindow::focusFilter()
{
    m_filterBar->textEdit()->setFocus(Qt::ShortcutFocusReason);
    m_filterBar->textEdit()->selectAll();
}

void MainWindow::showShortcuts()
{
    auto *dialog = new ShortcutsDialog(menuBar(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
}

void MainWindow::showAbout()
{
    QMessageBox::about(
        this, tr("About EmoLens"),
        tr("<h3>EmoLens %1</h3><p>Speech emotion recognition research and annotation.</p>"
           "<p>Workspaces are SQLite files; label history is append-only, so every "
           "decision and every undo is kept.</p>")
            .arg(QApplication::applicationVersion()));
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    // The GUI thread never waits on a job: with one running, the window asks, cancels, says
    // that it is stopping, and closes when the queue reports idle (onJobsIdle).
    if (m_jobs->isBusy()) {
        event->ignore();
        if (m_closeWhenIdle)
            return; // already stopping
        const QString name = m_jobs->runningName();
        const auto answer = QMessageBox::question(
            this, tr("Quit EmoLens"), tr("%1 is still running. Stop it and quit?").arg(name),
            QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
        if (answer != QMessageBox::Yes || !m_jobs->isBusy()) {
            if (!m_jobs->isBusy())
                close();
            return;
        }
        stopJobsAndClose();
        return;
    }
    // Labels typed while the workspace was busy are saved before the window goes: none is lost.
    if (const int unsaved = m_labeling->unsavedCount(); unsaved > 0) {
        event->ignore();
        if (m_closeWhenSaved)
            return;
        const auto answer = QMessageBox::question(
            this, tr("Quit EmoLens"),
            tr("%n label(s) are waiting for the workspace to be free (another program or job is "
               "writing to it). Close as soon as they are saved?",
               nullptr, unsaved),
            QMessageBox::Yes | QMessageBox::No, QMessageBox::Yes);
        if (answer == QMessageBox::Yes) {
            m_closeWhenSaved = true;
            if (m_labeling->unsavedCount() == 0)
                onAllLabelsSaved();
        }
        return;
    }
    saveSettings();
    QMainWindow::closeEvent(event);
}

void MainWindow::stopJobsAndClose()
{
    if (!m_jobs->isBusy()) {
        close();
        return;
    }
    m_closeWhenIdle = true;
    const QString name = m_jobs->runningName();
    m_jobs->cancelAll();
    m_jobArea->showStopping(
        tr("Stopping %1; EmoLens closes as soon as it has stopped...").arg(name));
}

void MainWindow::onJobsIdle()
{
    if (m_closeWhenIdle) {
        m_closeWhenIdle = false;
        // Queued: the finished handlers of the last job run first.
        QMetaObject::invokeMethod(this, &QWidget::close, Qt::QueuedConnection);
    }
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.size() == 1 && urls.first().isLocalFile()) {
        const QFileInfo info(urls.first().toLocalFile());
        if (info.isDir() || info.suffix() == kWorkspaceSuffix) {
            event->acceptProposedAction();
            return;
        }
    }
    event->ignore();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.isEmpty())
        return;
    const QFileInfo info(urls.first().toLocalFile());
    event->acceptProposedAction();
    if (info.isDir()) {
        // Queued: a modal dialog inside a drop handler blocks the drag source.
        const QString folder = info.absoluteFilePath();
        QMetaObject::invokeMethod(
            this, [this, folder] { showImportDialog(folder); }, Qt::QueuedConnection);
    } else if (auto st = openWorkspace(info.absoluteFilePath()); !st) {
        QMessageBox::warning(this, tr("Open Workspace"), st.error());
    }
}

} // namespace emolens
