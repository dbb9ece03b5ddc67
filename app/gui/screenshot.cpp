// emolens-screenshot: renders the real windows and dialogs of EmoLens to PNG files, for the
// user guide and for checking the look on machines without a display (run it with
// QT_QPA_PLATFORM=offscreen). Each scene drives the app the way a user would - opening a
// workspace, importing a folder, pressing number keys - and then grabs the widget.
//
//   emolens-screenshot [--scene main] WORKSPACE OUT.png [WIDTHxHEIGHT] [ROW]
//       the main window on WORKSPACE with row ROW (default 0) selected
//   emolens-screenshot --scene empty OUT.png [WIDTHxHEIGHT]
//       the window with no workspace open: the empty-state panel
//   emolens-screenshot --scene import-report --import DIR WORKSPACE OUT.png
//       imports DIR into WORKSPACE (created when missing) and grabs the import report dialog
//   emolens-screenshot --scene labeling WORKSPACE OUT.png [WIDTHxHEIGHT] [ROW]
//       annotator "Ada" labels row ROW with key 2, changes it with key 3, adds a note, and
//       undoes and redoes the note
//   emolens-screenshot --scene shortcuts OUT.png
//       the Help > Keyboard Shortcuts dialog
//   emolens-screenshot --scene encoders [--model DIR] WORKSPACE OUT.png
//       Features > Encoders; DIR (a model folder) is added through the dialog and made active
//   emolens-screenshot --scene extracting [--model DIR] WORKSPACE OUT.png [WIDTHxHEIGHT]
//       the main window while Extract Features runs (fbank, or DIR), with the status bar's
//       progress; waits for the job to end before it exits
//   emolens-screenshot --scene queue WORKSPACE OUT.png [WIDTHxHEIGHT]
//       Model > Rank the Labeling Queue (F5) with the active model, then annotator "Ada"
//       labels the first two clips of the queue with key 2 (auto-advance on)
//   emolens-screenshot --scene learning-curves WORKSPACE OUT.png [WIDTHxHEIGHT]
//       Model > Learning Curves on the simulations WORKSPACE holds
//   emolens-screenshot --scene map WORKSPACE OUT.png [WIDTHxHEIGHT]
//       Analysis > t-SNE Map of the first source, computed when none is stored, coloured by
//       label, with the clips of the upper right quarter selected
//   emolens-screenshot --scene confusion WORKSPACE OUT.png [WIDTHxHEIGHT]
//       Analysis > Confusion Matrix of the active model, its most confused cell opened
//   emolens-screenshot --scene compare WORKSPACE OUT.png [WIDTHxHEIGHT]
//       Analysis > Compare Models on the models WORKSPACE holds
//   emolens-screenshot --scene agreement WORKSPACE OUT.png [WIDTHxHEIGHT]
//       Analysis > Annotator Agreement on the labels WORKSPACE holds, its first
//       disagreement selected
//
// The labeling, encoders, extracting and queue scenes write into WORKSPACE: give them a
// scratch copy.

#include "BlasKernels.h"
#include "ClipNavigator.h"
#include "ClipView.h"
#include "EncodersDialog.h"
#include "ExportDialog.h"
#include "FeatureExtractionController.h"
#include "ImportReportDialog.h"
#include "JobLogView.h"
#include "LabelingController.h"
#include "LabelingPanel.h"
#include "LabelingQueue.h"
#include "MainWindow.h"
#include "ModelsDialog.h"
#include "QueueModel.h"
#include "ShortcutsDialog.h"
#include "WaveformView.h"
#include "charts/AgreementView.h"
#include "charts/AnalysisDialog.h"
#include "charts/LearningCurvesDialog.h"
#include "charts/TsneMapView.h"

#include <QAction>
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QLineEdit>
#include <QMenuBar>
#include <QPixmap>
#include <QProgressBar>
#include <QScrollBar>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTest>
#include <QTextStream>
#include <QThread>
#include <QTreeView>
#include <QTreeWidget>
#include <QUndoStack>

#include <functional>

namespace {

using emolens::MainWindow;

constexpr int kSettleMilliseconds = 500;
constexpr int kTimeoutMilliseconds = 60000;

QTextStream &err()
{
    static QTextStream stream(stderr);
    return stream;
}

// Processes events until done() holds (and at least the settle time has passed, so layouts
// and repaints catch up). False when it timed out.
bool settle(const std::function<bool()> &done, qint64 timeoutMilliseconds = kTimeoutMilliseconds)
{
    QElapsedTimer clock;
    clock.start();
    while (!(done() && clock.elapsed() >= kSettleMilliseconds)) {
        if (clock.elapsed() > timeoutMilliseconds)
            return false;
        QApplication::processEvents(QEventLoop::AllEvents, 50);
        QThread::msleep(20);
    }
    return true;
}

bool save(QWidget *widget, const QString &path)
{
    if (!widget->grab().save(path)) {
        err() << path << ": cannot write the PNG\n";
        return false;
    }
    return true;
}

QSize parseSize(const QString &text, QSize fallback)
{
    const QStringList parts = text.split(QLatin1Char('x'));
    if (parts.size() != 2)
        return fallback;
    const QSize size(parts[0].toInt(), parts[1].toInt());
    return size.isValid() && !size.isEmpty() ? size : fallback;
}

// Shows the window at its size, made active so its keyboard shortcuts work as on a desktop.
void showWindow(MainWindow &window, QSize size)
{
    window.resize(size);
    window.show();
    // The layout a first start on a screen of this size gets (the offscreen screen is small).
    window.applyDefaultLayout();
    window.activateWindow();
    if (!QTest::qWaitForWindowActive(&window))
        err() << "warning: the window did not become active; shortcuts may not fire\n";
}

bool open(MainWindow &window, const QString &workspace)
{
    if (auto st = window.openWorkspace(workspace, MainWindow::IfMissing::Create); !st) {
        err() << st.error() << "\n";
        return false;
    }
    return true;
}

// The start the workspace scenes share: WORKSPACE OUT.png [WIDTHxHEIGHT] checked, the window
// shown at that size (default 1400x900) and the workspace opened. 0 to go on, else the exit
// code after saying why.
int startWorkspaceScene(MainWindow &window, const QStringList &args, const char *usage)
{
    if (args.size() < 2) {
        err() << usage << "\n";
        return 2;
    }
    showWindow(window, parseSize(args.value(2), QSize(1400, 900)));
    return open(window, args[0]) ? 0 : 1;
}

bool openAndSelect(MainWindow &window, const QString &workspace, int row)
{
    if (!open(window, workspace))
        return false;
    QTableView *table = window.utteranceTable();
    if (table->model()->rowCount() > row)
        table->setCurrentIndex(table->model()->index(row, 0));
    return true;
}

bool waitForClip(MainWindow &window)
{
    // A long clip may take a while to decode; the picture is still useful without it.
    if (!settle([&] { return !window.clipView()->isLoading(); }))
        err() << "warning: the clip was still loading\n";
    return true;
}

int sceneMain(const QStringList &args)
{
    if (args.size() < 2) {
        err() << "main: needs WORKSPACE OUT.png\n";
        return 2;
    }
    const QSize size = parseSize(args.value(2), QSize(1400, 900));
    MainWindow window;
    showWindow(window, size);
    if (!openAndSelect(window, args[0], args.value(3).toInt()))
        return 1;
    window.resize(size);
    waitForClip(window);
    return save(&window, args[1]) ? 0 : 1;
}

int sceneEmpty(const QStringList &args)
{
    if (args.size() < 1) {
        err() << "empty: needs OUT.png\n";
        return 2;
    }
    MainWindow window;
    showWindow(window, parseSize(args.value(1), QSize(1100, 700)));
    settle([] { return true; });
    return save(&window, args[0]) ? 0 : 1;
}

int sceneImportReport(const QStringList &args, const QString &importFolder)
{
    if (args.size() < 2 || importFolder.isEmpty()) {
        err() << "import-report: needs --import DIR WORKSPACE OUT.png\n";
        return 2;
    }
    MainWindow window;
    showWindow(window, QSize(1400, 900));
    if (!open(window, args[0]))
        return 1;
    emolens::ImportRequest request;
    request.rootPath = importFolder;
    if (!window.startImport(request)) {
        err() << "import-report: the import did not start\n";
        return 1;
    }
    if (!settle([&] { return !window.isImporting(); })) {
        err() << "import-report: the import did not finish in time\n";
        return 1;
    }
    emolens::ImportReportDialog *dialog = window.importReportDialog();
    if (!dialog) {
        err() << importFolder << ": the import skipped no file, so there is no report to show\n";
        return 1;
    }
    dialog->skippedTable()->setCurrentIndex(QModelIndex()); // no focus frame on the first cell
    settle([] { return true; });
    return save(dialog, args[1]) ? 0 : 1;
}

int sceneLabeling(const QStringList &args)
{
    if (args.size() < 2) {
        err() << "labeling: needs WORKSPACE OUT.png\n";
        return 2;
    }
    // The annotator name goes into this tool's own settings (see main), never the user's.
    QSettings().setValue(QStringLiteral("annotator/name"), QStringLiteral("Ada"));
    const QSize size = parseSize(args.value(2), QSize(1400, 900));
    MainWindow window;
    showWindow(window, size);
    if (!openAndSelect(window, args[0], args.value(3).toInt()))
        return 1;
    waitForClip(window);
    // Keys go to the table, as after clicking a row; the window's shortcuts take them.
    window.utteranceTable()->setFocus(Qt::MouseFocusReason);
    const int editsBefore = window.undoStack()->count();
    for (Qt::Key key : {Qt::Key_2, Qt::Key_3}) {
        QTest::keyClick(&window, key);
        settle([] { return true; });
    }
    // A note on the last label, then an undo and a redo of it: the History list says what
    // each entry changed.
    if (auto *notes =
            window.labelingPanel()->findChild<QLineEdit *>(QStringLiteral("labelNotes"))) {
        notes->setFocus();
        QTest::keyClicks(notes, QStringLiteral("laughs at the end"));
        QTest::keyClick(notes, Qt::Key_Return);
        settle([] { return true; });
        window.undoStack()->undo();
        settle([] { return true; });
        window.undoStack()->redo();
        settle([] { return true; });
    }
    if (window.undoStack()->count() != editsBefore + 3) {
        err() << "labeling: the key presses and the note did not store three labels\n";
        return 1;
    }
    settle([&window] { return window.labeling()->unsavedCount() == 0; });
    window.resize(size);
    settle([] { return true; });
    // A region dragged on the waveform: its span shows above the clip, and Loop is on.
    QWidget *wave = window.clipView()->waveformView();
    const int y = wave->height() / 2;
    QTest::mousePress(wave, Qt::LeftButton, Qt::NoModifier, QPoint(wave->width() * 3 / 10, y));
    QTest::mouseMove(wave, QPoint(wave->width() * 4 / 10, y));
    QTest::mouseMove(wave, QPoint(wave->width() * 55 / 100, y));
    QTest::mouseRelease(wave, Qt::LeftButton, Qt::NoModifier, QPoint(wave->width() * 55 / 100, y));
    settle([] { return true; });
    return save(&window, args[1]) ? 0 : 1;
}

int sceneJobLog(const QStringList &args, const QString &importFolder)
{
    if (args.size() < 2 || importFolder.isEmpty()) {
        err() << "job-log: needs --import DIR WORKSPACE OUT.png [WIDTHxHEIGHT]\n";
        return 2;
    }
    const QSize size = parseSize(args.value(2), QSize(1400, 900));
    MainWindow window;
    showWindow(window, size);
    if (!open(window, args[0]))
        return 1;
    emolens::ImportRequest request;
    request.rootPath = importFolder;
    if (!window.startImport(request) || !settle([&] { return !window.isImporting(); })) {
        err() << "job-log: the import did not run\n";
        return 1;
    }
    if (auto *report = window.importReportDialog())
        report->close();
    window.jobLogDock()->show();
    QTreeWidget *list = window.jobLogView()->list();
    if (list->topLevelItemCount() > 0)
        list->setCurrentItem(list->topLevelItem(0));
    window.resize(size);
    settle([] { return true; });
    return save(&window, args[1]) ? 0 : 1;
}

int sceneModels(const QStringList &args)
{
    MainWindow window;
    if (int code = startWorkspaceScene(window, args, "models: needs WORKSPACE OUT.png"))
        return code;
    emolens::ModelsDialog *dialog = window.showModelsDialog();
    if (!dialog) {
        err() << "models: the dialog did not open\n";
        return 1;
    }
    settle([] { return true; });
    return save(dialog, args[1]) ? 0 : 1;
}

// Retrain on the workspace (its features extracted) and the training dashboard as the run
// ends: the loss and validation UA curves with the best epoch marked.
int sceneTraining(const QStringList &args)
{
    MainWindow window;
    if (int code =
            startWorkspaceScene(window, args, "training: needs WORKSPACE OUT.png [WIDTHxHEIGHT]"))
        return code;
    bool finished = false;
    QObject::connect(&window, &MainWindow::trainingFinished, &window,
                     [&finished] { finished = true; });
    window.retrainAction()->trigger();
    if (!settle([&finished] { return finished; }, 20 * 60 * 1000)) {
        err() << "training: the run did not end within 20 minutes\n";
        return 1;
    }
    return save(&window, args[1]) ? 0 : 1;
}

// The labeling queue ranked by the active model (or the strategy given), two of its clips
// labeled from the keyboard.
int sceneQueue(const QStringList &args, const QString &strategy)
{
    if (!strategy.isEmpty())
        QSettings().setValue(QStringLiteral("queue/strategy"), strategy);
    QSettings().setValue(QStringLiteral("annotator/name"), QStringLiteral("Ada"));
    QSettings().setValue(QStringLiteral("labeling/autoAdvance"), true);
    QSettings().setValue(QStringLiteral("queue/count"), 24);
    MainWindow window;
    if (int code =
            startWorkspaceScene(window, args, "queue: needs WORKSPACE OUT.png [WIDTHxHEIGHT]"))
        return code;
    bool ranked = false;
    QObject::connect(window.labelingQueue(), &emolens::LabelingQueue::ranked, &window,
                     [&ranked] { ranked = true; });
    QTest::keyClick(&window, Qt::Key_F5);
    if (!settle([&ranked] { return ranked; }, 5 * 60 * 1000) ||
        window.labelingQueue()->model()->rowCount() == 0) {
        err() << "queue: the queue was not ranked\n";
        return 1;
    }
    window.navigator()->select(window.labelingQueue()->model()->ids().value(0));
    waitForClip(window);
    for (int i = 0; i < 2; ++i) {
        QTest::keyClick(&window, Qt::Key_2);
        waitForClip(window);
    }
    settle([] { return true; });
    return save(&window, args[1]) ? 0 : 1;
}

int sceneLearningCurves(const QStringList &args)
{
    MainWindow window;
    if (int code = startWorkspaceScene(window, args,
                                       "learning-curves: needs WORKSPACE OUT.png [WIDTHxHEIGHT]"))
        return code;
    emolens::LearningCurvesDialog *dialog = window.showLearningCurves();
    if (!dialog || dialog->setups().isEmpty()) {
        err() << "learning-curves: no simulations in " << args[0] << "\n";
        return 1;
    }
    dialog->resize(parseSize(args.value(2), QSize(900, 680)));
    settle([] { return true; });
    return save(dialog, args[1]) ? 0 : 1;
}

int sceneAnalysis(const QStringList &args, const QString &scene)
{
    MainWindow window;
    if (int code = startWorkspaceScene(
            window, args,
            qPrintable(scene + QStringLiteral(": needs WORKSPACE OUT.png [WIDTHxHEIGHT]"))))
        return code;
    const auto page = scene == QLatin1String("map")         ? emolens::AnalysisDialog::MapPage
                      : scene == QLatin1String("confusion") ? emolens::AnalysisDialog::ConfusionPage
                      : scene == QLatin1String("agreement") ? emolens::AnalysisDialog::AgreementPage
                                                            : emolens::AnalysisDialog::ModelsPage;
    emolens::AnalysisDialog *dialog = window.showAnalysis(page);
    if (!dialog) {
        err() << scene << ": the dialog did not open\n";
        return 1;
    }
    dialog->resize(parseSize(args.value(2), QSize(1200, 800)));
    settle([] { return true; });
    if (page == emolens::AnalysisDialog::MapPage) {
        dialog->setColourBy(emolens::AnalysisDialog::ByLabel);
        if (dialog->mapView()->count() == 0) {
            if (!dialog->computeMap()) {
                err() << "map: no embeddings to map in " << args[0] << "\n";
                return 1;
            }
            settle([dialog] { return !dialog->isComputing(); });
        }
        emolens::TsneMapView *map = dialog->mapView();
        QList<qint64> chosen;
        for (int i = 0; i < map->count(); ++i) {
            const QPointF at = map->screenPosition(i);
            if (at.x() > map->width() / 2.0 && at.y() < map->height() / 2.0)
                chosen << map->ids()[i];
        }
        map->setSelection(chosen);
    } else if (page == emolens::AnalysisDialog::ConfusionPage) {
        const emolens::ModelConfusion &c = dialog->confusion();
        int bestT = -1, bestP = -1, most = 0;
        for (int t = 0; t < c.classes.size(); ++t)
            for (int p = 0; p < c.classes.size(); ++p)
                if (t != p && c.cells[t][p].size() > most) {
                    most = int(c.cells[t][p].size());
                    bestT = t;
                    bestP = p;
                }
        if (bestT >= 0)
            dialog->openCell(bestT, bestP);
    } else if (page == emolens::AnalysisDialog::AgreementPage) {
        emolens::AgreementView *view = dialog->agreementView();
        settle([view] { return !view->isMeasuring(); }); // it measures in the background
        QTableWidget *clips = view->disagreementTable();
        if (clips->rowCount() > 0)
            clips->setCurrentCell(0, 0);
    }
    settle([] { return true; });
    return save(dialog, args[1]) ? 0 : 1;
}

int sceneExport(const QStringList &args)
{
    MainWindow window;
    if (int code = startWorkspaceScene(window, args, "export: needs WORKSPACE OUT.png"))
        return code;
    window.exportAction()->trigger();
    emolens::ExportDialog *dialog = window.exportDialog();
    if (!dialog) {
        err() << "export: the dialog did not open\n";
        return 1;
    }
    settle([] { return true; });
    return save(dialog, args[1]) ? 0 : 1;
}

int sceneShortcuts(const QStringList &args)
{
    if (args.size() < 1) {
        err() << "shortcuts: needs OUT.png\n";
        return 2;
    }
    MainWindow window;
    showWindow(window, QSize(1400, 900));
    // The same dialog Help > Keyboard Shortcuts opens, read from the window's menu bar.
    emolens::ShortcutsDialog dialog(window.menuBar(), &window);
    dialog.show();
    settle([] { return true; });
    // Tall enough to show every shortcut without scrolling, for the guide.
    if (auto *list = dialog.findChild<QTreeView *>()) {
        list->setCurrentIndex(QModelIndex()); // no focus frame on the first row
        const int rowHeight = qMax(1, list->visualRect(list->model()->index(0, 0)).height());
        for (int attempt = 0; attempt < 5 && list->verticalScrollBar()->maximum() > 0; ++attempt) {
            // The list scrolls per item: the maximum counts the rows that do not fit.
            const int hiddenRows = list->verticalScrollBar()->maximum();
            dialog.resize(dialog.width(), dialog.height() + hiddenRows * rowHeight + 4);
            settle([] { return true; });
        }
    }
    return save(&dialog, args[0]) ? 0 : 1;
}

// Adds the model folder through the dialog (the way the Add button does, without the file
// chooser) and makes it the active encoder.
bool addModel(emolens::EncodersDialog &dialog, const QString &model)
{
    if (model.isEmpty())
        return true;
    if (!dialog.addEncoderFolder(model) || !settle([&] { return !dialog.isValidating(); })) {
        err() << model << ": the folder check did not finish\n";
        return false;
    }
    if (!dialog.lastError().isEmpty()) {
        err() << dialog.lastError() << "\n";
        return false;
    }
    return dialog.useEncoder(QFileInfo(model).absoluteFilePath());
}

int sceneEncoders(const QStringList &args, const QString &model)
{
    MainWindow window;
    if (int code = startWorkspaceScene(window, args, "encoders: needs WORKSPACE OUT.png"))
        return code;
    window.encodersAction()->trigger();
    emolens::EncodersDialog *dialog = window.encodersDialog();
    if (!dialog || !addModel(*dialog, model))
        return 1;
    dialog->encoderTable()->clearSelection();
    dialog->encoderTable()->setCurrentIndex(QModelIndex()); // no focus frame on a cell
    // The cache sizes are measured on a worker thread.
    settle([dialog] {
        const QTableWidgetItem *size =
            dialog->encoderTable()->item(0, emolens::EncodersDialog::CacheColumn);
        return size && size->text() != QLatin1String("...");
    });
    return save(dialog, args[1]) ? 0 : 1;
}

int sceneExtracting(const QStringList &args, const QString &model)
{
    if (args.size() < 2) {
        err() << "extracting: needs WORKSPACE OUT.png\n";
        return 2;
    }
    const QSize size = parseSize(args.value(2), QSize(1400, 900));
    MainWindow window;
    showWindow(window, size);
    if (!openAndSelect(window, args[0], 0))
        return 1;
    waitForClip(window);
    if (!model.isEmpty()) {
        emolens::EncodersDialog *dialog = window.showEncodersDialog();
        if (!dialog || !addModel(*dialog, model))
            return 1;
        dialog->batchSpinBox()->setValue(10); // many small batches: progress to look at
        dialog->close();
    }
    // Grabbed from inside the progress signal, after the window has updated its status bar:
    // a small job may be over before a timer would fire. One with an ETA is preferred.
    QPixmap shot;
    bool haveEta = false;
    QObject::connect(window.featureExtraction(), &emolens::FeatureExtractionController::progress,
                     &window, [&](double fraction, const QString &, const QString &eta) {
                         if (fraction <= 0 || fraction >= 1 || haveEta)
                             return;
                         if (shot.isNull() || !eta.isEmpty()) {
                             // The label's new text has only asked for a relayout so far.
                             QApplication::sendPostedEvents(nullptr, QEvent::LayoutRequest);
                             shot = window.grab();
                             haveEta = !eta.isEmpty();
                         }
                     });
    if (!window.startExtraction()) {
        err() << "extracting: the extraction did not start\n";
        return 1;
    }
    if (!settle([&] { return !window.isExtracting(); })) {
        err() << "extracting: the extraction did not finish in time\n";
        return 1;
    }
    if (shot.isNull()) {
        err() << "extracting: the job reported no progress before it ended\n";
        return 1;
    }
    if (!shot.save(args[1])) {
        err() << args[1] << ": cannot write the PNG\n";
        return 1;
    }
    return 0;
}

} // namespace

int main(int argc, char *argv[])
{
    // As the app does: OpenBLAS's kernels for this CPU, so training in a scene takes its time.
    emolens::useFastBlasKernels(argv);
    QApplication app(argc, argv);
    // Own settings, so a screenshot neither reads nor changes the user's window layout or
    // annotator name; cleared so every run starts from the app's defaults.
    QApplication::setOrganizationName(QStringLiteral("EmoLensScreenshot"));
    QApplication::setApplicationName(QStringLiteral("EmoLensScreenshot"));
    QSettings().clear();
    // And its own job log, emptied, so the Job Log shows only what this run did.
    QFile::remove(QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
                      .filePath(QStringLiteral("jobs.json")));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Renders EmoLens windows to PNG files."));
    parser.addHelpOption();
    const QCommandLineOption sceneOption(
        QStringLiteral("scene"),
        QStringLiteral(
            "What to render: main, empty, import-report, labeling, shortcuts, encoders, "
            "extracting, job-log, export, models, training, queue, learning-curves, map, "
            "confusion or compare."),
        QStringLiteral("NAME"), QStringLiteral("main"));
    const QCommandLineOption importOption(
        QStringLiteral("import"),
        QStringLiteral("import-report, job-log: the corpus folder to import."),
        QStringLiteral("DIR"));
    const QCommandLineOption modelOption(
        QStringLiteral("model"),
        QStringLiteral("encoders, extracting: a model folder to add and make active."),
        QStringLiteral("DIR"));
    const QCommandLineOption strategyOption(
        QStringLiteral("strategy"),
        QStringLiteral("queue: the strategy to rank with (default: Automatic)."),
        QStringLiteral("NAME"));
    parser.addOption(sceneOption);
    parser.addOption(importOption);
    parser.addOption(modelOption);
    parser.addOption(strategyOption);
    parser.addPositionalArgument(QStringLiteral("ARGS"),
                                 QStringLiteral("[WORKSPACE] OUT.png [WIDTHxHEIGHT] [ROW]"));
    parser.process(app);

    const QString scene = parser.value(sceneOption);
    const QStringList args = parser.positionalArguments();
    int rc = 2;
    if (scene == QLatin1String("main"))
        rc = sceneMain(args);
    else if (scene == QLatin1String("empty"))
        rc = sceneEmpty(args);
    else if (scene == QLatin1String("import-report"))
        rc = sceneImportReport(args, parser.value(importOption));
    else if (scene == QLatin1String("labeling"))
        rc = sceneLabeling(args);
    else if (scene == QLatin1String("shortcuts"))
        rc = sceneShortcuts(args);
    else if (scene == QLatin1String("encoders"))
        rc = sceneEncoders(args, parser.value(modelOption));
    else if (scene == QLatin1String("extracting"))
        rc = sceneExtracting(args, parser.value(modelOption));
    else if (scene == QLatin1String("job-log"))
        rc = sceneJobLog(args, parser.value(importOption));
    else if (scene == QLatin1String("export"))
        rc = sceneExport(args);
    else if (scene == QLatin1String("models"))
        rc = sceneModels(args);
    else if (scene == QLatin1String("training"))
        rc = sceneTraining(args);
    else if (scene == QLatin1String("queue"))
        rc = sceneQueue(args, parser.value(strategyOption));
    else if (scene == QLatin1String("learning-curves"))
        rc = sceneLearningCurves(args);
    else if (scene == QLatin1String("map") || scene == QLatin1String("confusion") ||
             scene == QLatin1String("compare") || scene == QLatin1String("agreement"))
        rc = sceneAnalysis(args, scene);
    else
        err()
            << "unknown scene " << scene
            << " (main, empty, import-report, labeling, shortcuts, encoders, extracting, job-log, "
               "export, models, training, queue, learning-curves, map, confusion, compare)\n";
    QSettings().clear();
    return rc;
}
