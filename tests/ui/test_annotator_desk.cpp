// The annotator's desk, offscreen, as a user drives it: the category buttons mark this
// annotator's category and the corpus's own label at a glance (in the class colours); a drag
// on the waveform shows the selection's start, end and length and switches Loop on, clearing
// it switches Loop off; Play without a sound device says so once and the cursor still runs;
// the panels keep their minimum sizes through a small window, a saved layout that does not fit
// the screen is not restored, and View > Reset Layout brings the default back; the Import
// dialog names its folder field and remembers the last folder; a re-import after a rename
// names the moved file; File > Export writes the labels and reports what it wrote; the job log
// keeps every job with its details. Settings go to a test-only organisation.

#include "ClassColours.h"
#include "ClipView.h"
#include "EmotionCurveView.h"
#include "ExportDialog.h"
#include "ImportCorpusDialog.h"
#include "JobLogView.h"
#include "LabelingController.h"
#include "LabelingPanel.h"
#include "MainWindow.h"
#include "ModelsDialog.h"
#include "PlayerBar.h"
#include "TestPaths.h"
#include "TraceRecorder.h"
#include "TraceView.h"
#include "TrainingController.h"
#include "UtteranceTableModel.h"
#include "WaveformView.h"
#include "WindowJobs.h"
#include "WorkspaceSession.h"
#include "charts/TrainingDashboard.h"
#include "jobs/JobLog.h"
#include "jobs/JobQueue.h"
#include "jobs/TrainJob.h"
#include "store/Database.h"
#include "store/ModelRepository.h"
#include "store/TraceRepository.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDirIterator>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QScreen>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QTreeWidget>

using namespace emolens;

namespace {

const QString kAnnotator = QStringLiteral("Desk Tester");

// Copies a folder tree (the generated corpora are shared by the suites; tests that rename
// files work on a copy).
bool copyTree(const QString &relativeFrom, const QString &to)
{
    const QString from = QFileInfo(relativeFrom).absoluteFilePath();
    int copied = 0;
    QDirIterator it(from, QDir::Files | QDir::AllDirs | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString source = it.next();
        if (it.fileInfo().isDir())
            continue;
        ++copied;
        const QString target = QDir(to).filePath(QDir(from).relativeFilePath(source));
        if (!QDir().mkpath(QFileInfo(target).absolutePath()) || !QFile::copy(source, target))
            return false;
    }
    return copied > 0;
}

void settle()
{
    for (int i = 0; i < 5; ++i) {
        QApplication::processEvents();
        QTest::qWait(20);
    }
}

// The colour in the middle of the button's right half (past the text), as drawn.
QColor drawnFill(QWidget *button)
{
    const QImage image = button->grab().toImage();
    return image.pixelColor(image.width() * 4 / 5, image.height() / 2);
}

bool near(const QColor &a, const QColor &b)
{
    return std::abs(a.red() - b.red()) <= 6 && std::abs(a.green() - b.green()) <= 6 &&
           std::abs(a.blue() - b.blue()) <= 6;
}

// True when the widget lies inside the dock's width (nothing cut off to the right).
bool insideHorizontally(QWidget *widget, QWidget *dock)
{
    const QPoint topLeft = widget->mapTo(dock, QPoint(0, 0));
    return topLeft.x() >= 0 && topLeft.x() + widget->width() <= dock->width();
}

QMessageBox *visibleMessageBox(QWidget *parent)
{
    for (QMessageBox *box : parent->findChildren<QMessageBox *>())
        if (box->isVisible())
            return box;
    return nullptr;
}

} // namespace

class TestAnnotatorDesk : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void categoryButtonsMarkMineAndTheCorpusLabel();
    void selectionShowsItsSpanAndLoopFollowsIt();
    void playWithoutASoundDeviceSaysSoOnce();
    void panelsKeepTheirMinimumThroughASmallWindow();
    void layoutThatDoesNotFitTheScreenIsNotRestored();
    void importDialogNamesItsFieldAndRemembersTheFolder();
    void reimportAfterARenameNamesTheMovedFile();
    void exportFromTheWindowReportsWhatItWrote();
    void retrainInOneClickShowsPredictions();
    void seed000ModelShowsLocalAttributes();
    void adapterTaptFromTheModelMenuIsWhereRetrainStarts();
    void trainingDashboardStopsAndCancels();
    void tracesRecordOnTheMediaClockAndFuse();

private:
    QString workspace(const QString &name) const { return m_scratch.filePath(name); }
    QTemporaryDir m_scratch;
};

void TestAnnotatorDesk::initTestCase()
{
    QCoreApplication::setOrganizationName(QStringLiteral("EmoLensTests"));
    QCoreApplication::setApplicationName(QStringLiteral("test_annotator_desk"));
    QSettings settings;
    settings.clear();
    settings.setValue(QStringLiteral("annotator/name"), kAnnotator);
    QVERIFY(m_scratch.isValid());
    QVERIFY2(QFileInfo(test::corpus(QStringLiteral("generic-csv"))).isDir(),
             "EMOLENS_TEST_CORPORA is not set or has no generic-csv (run ctest)");
}

void TestAnnotatorDesk::categoryButtonsMarkMineAndTheCorpusLabel()
{
    MainWindow window;
    QVERIFY(test::labelingFromFirstClip(window, workspace(QStringLiteral("buttons.emolens")),
                                        test::corpus(QStringLiteral("generic-csv"))));
    LabelingPanel *panel = window.labelingPanel();
    const QStringList classes = panel->schema().classes;
    QVERIFY(classes.size() >= 3);
    // The button of the clip's own label, as the corpus gives it.
    int corpusIndex = -1;
    for (int i = 0; i < classes.size(); ++i)
        if (panel->categoryButton(i)->property("corpusLabel").toBool())
            corpusIndex = i;
    QVERIFY2(corpusIndex >= 0, "the first clip of generic-csv has a corpus label");
    for (int i = 0; i < classes.size(); ++i) {
        QPushButton *button = panel->categoryButton(i);
        QCOMPARE(button->text().contains(QLatin1String("(corpus)")), i == corpusIndex);
        QVERIFY(!button->isChecked());
        // Unchecked buttons are drawn on the plain background, whatever their class.
        QVERIFY2(near(drawnFill(button), QColor(0xfbfbfc)), qPrintable(drawnFill(button).name()));
    }

    // A number key for another class: that button is filled with its class colour's tint,
    // bold and ticked; the corpus's button keeps its mark.
    const int mine = corpusIndex == 0 ? 1 : 0;
    QTest::keyClick(QApplication::focusWidget(), Qt::Key(Qt::Key_1 + mine));
    QCOMPARE(window.labeling()->myValue(window.currentUtteranceId()).category, classes[mine]);
    QPushButton *chosen = panel->categoryButton(mine);
    QVERIFY(chosen->isChecked());
    QVERIFY2(chosen->text().endsWith(QStringLiteral("\u2713")), qPrintable(chosen->text()));
    const QColor expected = classTint(classColour(classes, mine));
    QVERIFY2(near(drawnFill(chosen), expected),
             qPrintable(drawnFill(chosen).name() + " != " + expected.name()));
    QVERIFY(panel->categoryButton(corpusIndex)->text().contains(QLatin1String("(corpus)")));
    QVERIFY(!panel->categoryButton(corpusIndex)->isChecked());

    // Classes have distinct colours.
    QSet<QRgb> colours;
    for (int i = 0; i < classes.size(); ++i)
        colours.insert(classColour(classes, i).rgb());
    QCOMPARE(int(colours.size()), int(classes.size()));
    QTRY_COMPARE(window.labeling()->unsavedCount(), 0);
}

void TestAnnotatorDesk::selectionShowsItsSpanAndLoopFollowsIt()
{
    MainWindow window;
    QVERIFY(test::labelingFromFirstClip(window, workspace(QStringLiteral("selection.emolens")),
                                        test::corpus(QStringLiteral("generic-csv"))));
    ClipView *clip = window.clipView();
    QTRY_VERIFY(clip->clip() != nullptr);
    QLabel *label = clip->selectionLabel();
    QAction *loop = window.playerBar()->loopAction();
    QVERIFY(!label->isVisible());
    QVERIFY(!loop->isChecked());

    // Drag across the middle of the waveform.
    WaveformView *wave = clip->waveformView();
    const int y = wave->height() / 2;
    QTest::mousePress(wave, Qt::LeftButton, Qt::NoModifier, QPoint(wave->width() / 4, y));
    QTest::mouseMove(wave, QPoint(wave->width() / 3, y));
    QTest::mouseMove(wave, QPoint(wave->width() / 2, y));
    QTest::mouseRelease(wave, Qt::LeftButton, Qt::NoModifier, QPoint(wave->width() / 2, y));
    QVERIFY(clip->hasSelection());
    const double start = clip->selectionStartSeconds();
    const double end = clip->selectionEndSeconds();
    QVERIFY(start > 0 && end > start);
    QVERIFY(label->isVisible());
    QCOMPARE(label->text(), QStringLiteral("Selected %1 \u2013 %2 s  (%3 s)")
                                .arg(start, 0, 'f', 3)
                                .arg(end, 0, 'f', 3)
                                .arg(end - start, 0, 'f', 3));
    QVERIFY2(loop->isChecked(), "a selection switches Loop on");

    // A plain click clears the selection, and Loop follows it.
    QTest::mouseClick(wave, Qt::LeftButton, Qt::NoModifier, QPoint(wave->width() / 5, y));
    QVERIFY(!clip->hasSelection());
    QVERIFY(!label->isVisible());
    QVERIFY2(!loop->isChecked(), "clearing the selection switches Loop off again");

    // Loop switched on by hand (the whole clip) stays on through a selection and its clearing.
    loop->trigger();
    QVERIFY(loop->isChecked());
    QTest::mousePress(wave, Qt::LeftButton, Qt::NoModifier, QPoint(wave->width() / 4, y));
    QTest::mouseMove(wave, QPoint(wave->width() / 2, y));
    QTest::mouseRelease(wave, Qt::LeftButton, Qt::NoModifier, QPoint(wave->width() / 2, y));
    QTest::mouseClick(wave, Qt::LeftButton, Qt::NoModifier, QPoint(wave->width() / 5, y));
    QVERIFY(loop->isChecked());
}

void TestAnnotatorDesk::playWithoutASoundDeviceSaysSoOnce()
{
    if (PlayerBar::hasAudioOutput())
        QSKIP("this machine has an audio output; the no-device message cannot be shown here");
    MainWindow window;
    QVERIFY(test::labelingFromFirstClip(window, workspace(QStringLiteral("sound.emolens")),
                                        test::corpus(QStringLiteral("generic-csv"))));
    PlayerBar *player = window.playerBar();
    QSignalSpy notices(player, &PlayerBar::notice);
    QSignalSpy cursor(player, &PlayerBar::cursorMoved);
    player->playPauseAction()->trigger();
    QCOMPARE(notices.count(), 1);
    QVERIFY2(window.statusBar()->currentMessage().contains(QLatin1String("No audio output")),
             qPrintable(window.statusBar()->currentMessage()));
    QLabel *noSound = nullptr;
    for (QLabel *l : player->findChildren<QLabel *>())
        if (l->text() == QLatin1String("No sound device"))
            noSound = l;
    QVERIFY(noSound && noSound->isVisible());
    // The cursor runs anyway.
    QTRY_VERIFY(player->positionSeconds() > 0.1);
    QTRY_VERIFY(cursor.count() > 2); // it keeps moving (a busy machine may skip ticks)
    player->pause();
    player->play();
    QCOMPARE(notices.count(), 1); // once
    player->stop();
}

void TestAnnotatorDesk::panelsKeepTheirMinimumThroughASmallWindow()
{
    {
        MainWindow window;
        QVERIFY(test::labelingFromFirstClip(window, workspace(QStringLiteral("layout.emolens")),
                                            test::corpus(QStringLiteral("generic-csv"))));
        window.resize(800, 560);
        settle();
        QDockWidget *dock = window.labelingDock();
        LabelingPanel *panel = window.labelingPanel();
        QVERIFY2(dock->width() >= panel->minimumWidth(),
                 qPrintable(QString::number(dock->width())));
        for (int i = 0; i < panel->schema().classes.size(); ++i)
            QVERIFY2(insideHorizontally(panel->categoryButton(i), dock),
                     qPrintable(panel->categoryButton(i)->text()));
        // What does not fit in height scrolls.
        auto *scroll = qobject_cast<QScrollArea *>(dock->widget());
        QVERIFY(scroll);
        QVERIFY(panel->height() <= scroll->viewport()->height() ||
                scroll->verticalScrollBar()->maximum() > 0);
        QVERIFY(window.centralWidget()->width() >= 200);

        window.resize(1400, 900);
        settle();
        QVERIFY(dock->width() >= panel->minimumWidth());
        window.close(); // saves the layout
    }
    {
        // The saved layout comes back, whole.
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.openWorkspace(workspace(QStringLiteral("layout.emolens"))).ok());
        settle();
        QDockWidget *dock = window.labelingDock();
        LabelingPanel *panel = window.labelingPanel();
        QVERIFY(dock->isVisible());
        QVERIFY(dock->width() >= panel->minimumWidth());
        for (int i = 0; i < panel->schema().classes.size(); ++i)
            QVERIFY(insideHorizontally(panel->categoryButton(i), dock));
        QVERIFY(window.centralWidget()->width() >= MainWindow::kMinimumCentreWidth);

        // View > Reset Layout: the corpus browser back, the job log away.
        window.corpusDock()->hide();
        window.jobLogDock()->show();
        window.resetLayoutAction()->trigger();
        settle();
        QVERIFY(window.corpusDock()->isVisible());
        QVERIFY(dock->isVisible());
        QVERIFY(!window.jobLogDock()->isVisible());
        QVERIFY(dock->width() >= panel->minimumWidth());
        QVERIFY(window.centralWidget()->width() >= MainWindow::kMinimumCentreWidth);
    }
}

void TestAnnotatorDesk::layoutThatDoesNotFitTheScreenIsNotRestored()
{
    const QRect screen = QGuiApplication::primaryScreen()->availableGeometry();
    {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.resize(screen.width() * 2, screen.height() * 2); // e.g. saved on a larger monitor
        settle();
        window.close();
    }
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY2(window.width() <= screen.width() && window.height() <= screen.height(),
             qPrintable(QStringLiteral("%1x%2 on a %3x%4 screen")
                            .arg(window.width())
                            .arg(window.height())
                            .arg(screen.width())
                            .arg(screen.height())));
}

void TestAnnotatorDesk::importDialogNamesItsFieldAndRemembersTheFolder()
{
    const QString folder = test::corpus(QStringLiteral("generic-folders"));
    {
        ImportCorpusDialog dialog;
        // The label's "&" is a mnemonic for the field, not a character on screen.
        QVERIFY(dialog.folderLabel()->buddy() == dialog.findChild<QLineEdit *>());
        QCOMPARE(dialog.folderLabel()->text(), QStringLiteral("&Folder:"));
        dialog.setFolder(folder);
        dialog.accept();
    }
    ImportCorpusDialog next;
    QCOMPARE(QFileInfo(next.folder()).absoluteFilePath(), QFileInfo(folder).absoluteFilePath());
}

void TestAnnotatorDesk::reimportAfterARenameNamesTheMovedFile()
{
    const QString corpus = m_scratch.filePath(QStringLiteral("folders-copy"));
    QVERIFY(copyTree(test::corpus(QStringLiteral("generic-folders")), corpus));
    MainWindow window;
    window.show();
    QVERIFY(window.createWorkspace(workspace(QStringLiteral("moved.emolens"))).ok());
    QVERIFY(test::importInto(window, corpus));
    const int clips = window.utteranceModel()->rowCount();

    // Rename one file, and import the folder again.
    QDirIterator it(QDir(corpus).filePath(QStringLiteral("angry")), {QStringLiteral("*.wav")});
    QVERIFY(it.hasNext());
    const QString old = it.next();
    const QString renamed =
        QDir(QFileInfo(old).absolutePath())
            .filePath(QFileInfo(old).completeBaseName() + QStringLiteral("_take2.wav"));
    QVERIFY(QFile::rename(old, renamed));
    QVERIFY(test::importInto(window, corpus));
    QCOMPARE(window.utteranceModel()->rowCount(), clips); // the same clip, not a new one

    const QString message = window.statusBar()->currentMessage();
    QVERIFY2(message.contains(QLatin1String("0 new")) &&
                 message.contains(QLatin1String("1 moved or renamed")),
             qPrintable(message));
    QVERIFY2(message.contains(QFileInfo(old).fileName()) &&
                 message.contains(QFileInfo(renamed).fileName()),
             qPrintable(message));

    // The job log keeps it, with the file, after the status bar has moved on.
    const JobLogEntry &entry = window.jobLog()->entries().last();
    QCOMPARE(entry.stateText(), QStringLiteral("succeeded"));
    QVERIFY(entry.name.startsWith(QLatin1String("Import")));
    QVERIFY2(entry.details.join(u'\n').contains(QFileInfo(renamed).fileName()),
             qPrintable(entry.details.join(u'\n')));
    QAction *showLog = window.jobLogDock()->toggleViewAction();
    QCOMPARE(showLog->shortcut(), QKeySequence(QStringLiteral("Ctrl+Shift+J")));
    showLog->trigger();
    QVERIFY(window.jobLogDock()->isVisible());
    QTreeWidget *list = window.jobLogView()->list();
    QVERIFY(list->topLevelItemCount() >= 2);
    QTreeWidgetItem *newest = list->topLevelItem(0);
    QCOMPARE(newest->text(JobLogView::OutcomeColumn), QStringLiteral("succeeded"));
    list->setCurrentItem(newest);
    const QString details = window.jobLogView()->detailsPane()->toPlainText();
    QVERIFY2(details.contains(QLatin1String("Moved:")) &&
                 details.contains(QFileInfo(renamed).fileName()),
             qPrintable(details));
}

void TestAnnotatorDesk::exportFromTheWindowReportsWhatItWrote()
{
    MainWindow window;
    QVERIFY(test::labelingFromFirstClip(window, workspace(QStringLiteral("export.emolens")),
                                        test::corpus(QStringLiteral("generic-csv"))));
    // One label of a person's, so the report has one.
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_1);
    QTRY_COMPARE(window.labeling()->unsavedCount(), 0);
    const int clips = window.utteranceModel()->rowCount();

    QVERIFY(window.exportAction()->isEnabled());
    window.exportAction()->trigger();
    ExportDialog *dialog = window.exportDialog();
    QVERIFY(dialog);
    QVERIFY(QTest::qWaitForWindowExposed(dialog));
    QCOMPARE(dialog->formatCombo()->count(), 5);
    dialog->formatCombo()->setCurrentIndex(dialog->formatCombo()->findData(QStringLiteral("csv")));
    // The default name follows the workspace and the format.
    QVERIFY2(dialog->outPathEdit()->text().endsWith(QLatin1String("export-labels.csv")),
             qPrintable(dialog->outPathEdit()->text()));
    const QString out = m_scratch.filePath(QStringLiteral("exported/labels.csv"));
    dialog->setOutPath(out);
    QSignalSpy finished(&window, &MainWindow::exportFinished);
    dialog->buttons()->button(QDialogButtonBox::Ok)->click();
    QVERIFY(finished.wait(60000));
    const JobResult result = finished.first().first().value<JobResult>();
    QVERIFY2(result.ok(), qPrintable(result.summary));

    QFile file(out);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = file.readAll().trimmed().split('\n');
    QCOMPARE(int(lines.size()), clips + 1);
    QVERIFY(lines.first().contains("annotator") && lines.first().contains("label_origin"));
    QCOMPARE(int(std::count_if(lines.begin(), lines.end(),
                               [](const QByteArray &l) { return l.contains("Desk Tester"); })),
             1);

    // The report says what was written, and where.
    QMessageBox *box = visibleMessageBox(&window);
    QVERIFY(box);
    QVERIFY2(box->informativeText().contains(QDir::toNativeSeparators(out)) &&
                 box->informativeText().contains(QLatin1String("1 labeled by people")),
             qPrintable(box->informativeText()));
    box->button(QMessageBox::Ok)->click();
    QCOMPARE(window.jobLog()->entries().last().name, QStringLiteral("Export csv"));

    // The format is remembered for the next export.
    window.exportAction()->trigger();
    QVERIFY(window.exportDialog());
    QCOMPARE(window.exportDialog()->formatCombo()->currentData().toString(), QStringLiteral("csv"));
    QVERIFY(window.exportDialog()->outPathEdit()->text().startsWith(
        QDir::toNativeSeparators(QFileInfo(out).absolutePath())));
    window.exportDialog()->reject();
}

void TestAnnotatorDesk::retrainInOneClickShowsPredictions()
{
    // The baseline recipe, so the suite stays quick; Retrain reads the recipe from the settings.
    QSettings().setValue(QStringLiteral("model/recipe"), QStringLiteral("baseline"));
    QSettings().setValue(QStringLiteral("model/epochs"), 15);
    MainWindow window;
    QVERIFY(test::labelingFromFirstClip(window, workspace(QStringLiteral("retrain.emolens")),
                                        test::corpus(QStringLiteral("generic-csv"))));
    QHeaderView *header = window.utteranceTable()->horizontalHeader();
    QVERIFY2(header->isSectionHidden(UtteranceTableModel::PredictedColumn),
             "no model yet: no Predicted column");
    QAction *retrain = window.retrainAction();
    QCOMPARE(retrain->shortcut(), QKeySequence(QStringLiteral("Ctrl+R")));
    QVERIFY(retrain->isEnabled());

    // One click: features for every clip (none are extracted yet), then the model.
    QSignalSpy trained(&window, &MainWindow::trainingFinished);
    retrain->trigger();
    QVERIFY(!retrain->isEnabled()); // once at a time
    // Labeling goes on meanwhile.
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_2);
    QVERIFY(trained.wait(300000));
    const JobResult result = trained.first().first().value<JobResult>();
    QVERIFY2(result.ok(), qPrintable(result.summary));
    QVERIFY2(result.summary.contains(QLatin1String("it is the active model")),
             qPrintable(result.summary));
    QVERIFY2(window.statusBar()->currentMessage().startsWith(QLatin1String("Trained baseline")),
             qPrintable(window.statusBar()->currentMessage()));

    // Every clip has a prediction in the table, with its confidence.
    QVERIFY(!header->isSectionHidden(UtteranceTableModel::PredictedColumn));
    QVERIFY(!header->isSectionHidden(UtteranceTableModel::ConfidenceColumn));
    UtteranceTableModel *model = window.utteranceModel();
    const QStringList classes = window.labelingPanel()->schema().classes;
    for (int row = 0; row < model->rowCount(); ++row) {
        const QString predicted =
            model->index(row, UtteranceTableModel::PredictedColumn).data().toString();
        QVERIFY2(classes.contains(predicted), qPrintable(predicted));
        const double confidence =
            model->index(row, UtteranceTableModel::ConfidenceColumn).data().toDouble();
        QVERIFY(confidence >= 1.0 / classes.size() - 1e-6 && confidence <= 1.0);
    }
    QVERIFY(retrain->isEnabled());

    // The clip view's emotion lane: one curve per class, a distribution at every frame, for
    // the clip shown now and the next one.
    EmotionCurveView *lane = window.clipView()->emotionView();
    QTRY_VERIFY(lane->posteriors().frameCount > 0);
    QElapsedTimer clock;
    clock.start();
    QTest::keyClick(&window, Qt::Key_Down);
    const qint64 shownWithin = clock.elapsed();
    const FramePosteriors &p = lane->posteriors();
    QVERIFY(p.frameCount > 0);
    qInfo("emotion curves of the next clip (%d frames) with the clip itself: %lld ms", p.frameCount,
          static_cast<long long>(shownWithin));
    QCOMPARE(p.classes, classes);
    for (int f = 0; f < p.frameCount; ++f) {
        double sum = 0;
        for (int c = 0; c < int(classes.size()); ++c)
            sum += p.values[std::size_t(f * classes.size() + c)];
        QVERIFY(std::abs(sum - 1) < 1e-4);
    }
    // The labeling panel shows the model's answer beside the people's.
    bool modelShown = false;
    for (QLabel *label : window.labelingPanel()->findChildren<QLabel *>())
        modelShown = modelShown || (label->text().contains(QLatin1String("Model: <b>")) &&
                                    label->text().contains(QLatin1String(" %")));
    QVERIFY2(modelShown, "the panel names the model's category and confidence");
    // The lane shows it: the hover text names every class.
    const QString hover = lane->frameDescriptionAt(QPoint(lane->width() / 3, lane->height() / 2));
    for (const QString &c : classes)
        QVERIFY2(hover.contains(c), qPrintable(hover));
    const JobLogEntry &last = window.jobLog()->entries().last();
    QVERIFY(last.name.startsWith(QLatin1String("Train")));
    QCOMPARE(last.stateText(), QStringLiteral("succeeded"));

    // The training dashboard came up with the run and keeps its curves: an epoch per point,
    // the best epoch marked, the run's summary, Stop and Cancel off now that it is over.
    TrainingDashboard *dashboard = window.trainingDashboard();
    QVERIFY(window.trainingDock()->isVisible());
    QVERIFY(dashboard->epochCount() >= 1 && dashboard->epochCount() <= 15);
    QVERIFY(dashboard->bestEpoch() >= 1 && dashboard->bestEpoch() <= dashboard->epochCount());
    QCOMPARE(dashboard->statusText(), result.summary);
    QVERIFY(!dashboard->stopButton()->isEnabled() && !dashboard->cancelButton()->isEnabled());
    QVERIFY(!window.stopTrainingAction()->isEnabled());

    // Model > Models: the model, active; deleting it (after saying yes) leaves no model, and
    // the table and the lane follow.
    QCOMPARE(window.modelsAction()->shortcut(), QKeySequence(QStringLiteral("Ctrl+Shift+M")));
    window.modelsAction()->trigger();
    ModelsDialog *models = window.modelsDialog();
    QVERIFY(models);
    QCOMPARE(models->table()->rowCount(), 1);
    QVERIFY(models->table()->item(0, ModelsDialog::ModelColumn)->font().bold());
    QVERIFY2(!models->activeButton()->isEnabled(), "it is active already");
    QTimer::singleShot(0, models, [models] {
        for (QMessageBox *box : models->findChildren<QMessageBox *>())
            if (box->isVisible())
                box->button(QMessageBox::Yes)->click();
    });
    QVERIFY(models->deleteSelected());
    QCOMPARE(models->table()->rowCount(), 0);
    QVERIFY(header->isSectionHidden(UtteranceTableModel::PredictedColumn));
    QCOMPARE(lane->posteriors().frameCount, 0);
    QSettings().remove(QStringLiteral("model"));
}

void TestAnnotatorDesk::adapterTaptFromTheModelMenuIsWhereRetrainStarts()
{
    // Model > Pre-train: adapter TAPT on every clip (2 epochs, the remembered setting), then
    // Retrain of adapter-local-attributes starts from its backbone.
    QSettings().setValue(QStringLiteral("model/recipe"),
                         QStringLiteral("adapter-local-attributes"));
    QSettings().setValue(QStringLiteral("model/epochs"), 2);
    QSettings().setValue(QStringLiteral("model/pretrainEpochs"), 2);
    MainWindow window;
    window.resize(1400, 900);
    QVERIFY(test::labelingFromFirstClip(window, workspace(QStringLiteral("tapt.emolens")),
                                        test::corpus(QStringLiteral("generic-csv"))));
    QAction *pretrain = window.pretrainAction();
    QVERIFY(pretrain->isEnabled());
    bool inModelMenu = false;
    for (QMenu *menu : window.findChildren<QMenu *>())
        inModelMenu = inModelMenu || (menu->title() == QLatin1String("&Model") &&
                                      menu->actions().contains(pretrain));
    QVERIFY(inModelMenu);
    QSignalSpy pretrained(&window, &MainWindow::pretrainingFinished);

    // Cancelled from the dashboard after its first epoch: the run ends cancelled, no backbone.
    pretrain->trigger();
    TrainingDashboard *dashboard = window.trainingDashboard();
    QVERIFY(dashboard->isActive() && dashboard->cancelButton()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(dashboard->epochCount() >= 1, 120000);
    QTest::mouseClick(dashboard->cancelButton(), Qt::LeftButton);
    QVERIFY(pretrained.wait(60000));
    const JobResult cancelled = pretrained.takeFirst().first().value<JobResult>();
    QVERIFY2(cancelled.wasCancelled(), qPrintable(cancelled.summary));
    {
        Database db(workspace(QStringLiteral("tapt.emolens")));
        QVERIFY(db.open());
        ModelRepository models(db);
        QVERIFY(models.backbones().isEmpty());
        QCOMPARE(models.runs().first().status, QStringLiteral("cancelled"));
    }
    QVERIFY(pretrain->isEnabled());

    pretrain->trigger();
    QVERIFY(!pretrain->isEnabled() && !window.retrainAction()->isEnabled()); // one at a time
    QVERIFY(window.trainingDock()->isVisible());
    QVERIFY(pretrained.wait(300000));
    const JobResult result = pretrained.first().first().value<JobResult>();
    QVERIFY2(result.ok(), qPrintable(result.summary));
    QVERIFY2(result.summary.contains(QLatin1String("adapter TAPT on")), qPrintable(result.summary));
    const PretrainReport &report = window.training()->lastPretrainReport();
    QVERIFY(report.backbone.id > 0);
    QCOMPARE(int(report.history.size()), 2);
    QCOMPARE(report.clips, window.utteranceModel()->rowCount()); // every clip
    QCOMPARE(window.trainingDashboard()->statusText(), result.summary);
    // The dashboard drew its epochs (mask loss, distillation loss, local attributes right).
    QCOMPARE(window.trainingDashboard()->epochCount(), 2);
    QVERIFY(window.jobLog()->entries().last().name.startsWith(QLatin1String("Pre-train")));
    QVERIFY(pretrain->isEnabled() && window.retrainAction()->isEnabled());

    QSignalSpy trained(&window, &MainWindow::trainingFinished);
    window.retrainAction()->trigger();
    QVERIFY(trained.wait(300000));
    const JobResult retrained = trained.first().first().value<JobResult>();
    QVERIFY2(retrained.ok(), qPrintable(retrained.summary));
    const TrainReport &train = window.training()->lastReport();
    QCOMPARE(train.backboneId, report.backbone.id);
    QVERIFY(!train.notes.isEmpty() && train.notes.first().contains(QLatin1String("adapter TAPT")));
    // The backbone's local attributes come with the model to the clip view's band.
    EmotionCurveView *lane = window.clipView()->emotionView();
    QTRY_VERIFY(lane->posteriors().frameCount > 0);
    QVERIFY(lane->posteriors().localAttributeCount > 1);

    // Model > Models lists the backbone under the models; deleting it (after saying yes)
    // leaves the model trained from it.
    window.modelsAction()->trigger();
    ModelsDialog *models = window.modelsDialog();
    QVERIFY(models);
    QTableWidget *backbones = models->backboneTable();
    QCOMPARE(backbones->rowCount(), 1);
    QCOMPARE(backbones->item(0, 0)->text(), QStringLiteral("Backbone %1").arg(report.backbone.id));
    QCOMPARE(backbones->item(0, 1)->text(), QStringLiteral("adapter TAPT"));
    QCOMPARE(backbones->item(0, 3)->text().toInt(), report.clips);
    QCOMPARE(backbones->item(0, 4)->text(), QStringLiteral("2"));
    QVERIFY2(backbones->item(0, 5)->text().startsWith(QLatin1String("mask loss")),
             qPrintable(backbones->item(0, 5)->text()));
    backbones->selectRow(0);
    QVERIFY(models->deleteBackboneButton()->isEnabled());
    QTimer::singleShot(0, models, [models] {
        for (QMessageBox *box : models->findChildren<QMessageBox *>())
            if (box->isVisible())
                box->button(QMessageBox::Yes)->click();
    });
    QVERIFY(models->deleteSelectedBackbone());
    QCOMPARE(backbones->rowCount(), 0);
    QVERIFY(!models->deleteBackboneButton()->isEnabled());
    QCOMPARE(models->table()->rowCount(), 1);
    Database db(workspace(QStringLiteral("tapt.emolens")));
    QVERIFY(db.open());
    QVERIFY(ModelRepository(db).backbones().isEmpty());
}

void TestAnnotatorDesk::seed000ModelShowsLocalAttributes()
{
    // Seed 000 whole, with short stages (the remembered settings Retrain reads).
    QSettings().setValue(QStringLiteral("model/recipe"),
                         QStringLiteral("adapter-local-attributes"));
    QSettings().setValue(QStringLiteral("model/epochs"), 3);
    QSettings().setValue(QStringLiteral("model/pretrainEpochs"), 2);
    MainWindow window;
    window.resize(1400, 900);
    QVERIFY(test::labelingFromFirstClip(window, workspace(QStringLiteral("attributes.emolens")),
                                        test::corpus(QStringLiteral("generic-csv"))));
    QSignalSpy trained(&window, &MainWindow::trainingFinished);
    window.retrainAction()->trigger();
    QVERIFY(trained.wait(300000));
    const JobResult result = trained.first().first().value<JobResult>();
    QVERIFY2(result.ok(), qPrintable(result.summary));
    QVERIFY2(result.summary.contains(QLatin1String("adapter-local-attributes")),
             qPrintable(result.summary));

    // The lane has the band: an attribute per frame, each in range, with the table of how
    // many labeled frames of each class carry each attribute.
    EmotionCurveView *lane = window.clipView()->emotionView();
    QTRY_VERIFY(lane->posteriors().frameCount > 0);
    const FramePosteriors &p = lane->posteriors();
    QVERIFY2(p.localAttributeCount > 1, qPrintable(QString::number(p.localAttributeCount)));
    QCOMPARE(int(p.localAttributes.size()), p.frameCount);
    for (int id : p.localAttributes)
        QVERIFY(id >= 0 && id < p.localAttributeCount);
    const int classes = int(p.classes.size());
    QCOMPARE(int(p.attributeClassFrames.size()), p.localAttributeCount * classes);
    QCOMPARE(lane->height(), EmotionCurveView::kCurvesHeight + EmotionCurveView::kBandHeight + 2);
    const QRect band = lane->bandRect();
    QVERIFY(!band.isEmpty());
    // With the training dock open in this 1400 x 900 window, the whole lane is on screen.
    QVERIFY(window.trainingDock()->isVisible());
    QTRY_COMPARE(lane->visibleRegion().boundingRect(), lane->rect());

    // Under the pointer on the band: the frame's attribute in its colour, and the hover text
    // with its share of each class's labeled frames, as the table gives it.
    const QPoint at(band.center().x(), band.center().y());
    const QString text = lane->attributeDescriptionAt(at);
    const QRegularExpression head(QStringLiteral("^local attribute (\\d+) of (\\d+): "));
    const auto match = head.match(text);
    QVERIFY2(match.hasMatch(), qPrintable(text));
    const int id = match.captured(1).toInt();
    QCOMPARE(match.captured(2).toInt(), p.localAttributeCount);
    const QImage image = lane->grab().toImage();
    QCOMPARE(image.pixelColor(at).rgb(), localAttributeColour(id).rgb());
    for (int c = 0; c < classes; ++c) {
        double all = 0;
        for (int k = 0; k < p.localAttributeCount; ++k)
            all += p.attributeClassFrames[std::size_t(k * classes + c)];
        QVERIFY2(all > 0, qPrintable(p.classes[c])); // every class has labeled frames
        const double share = 100.0 * p.attributeClassFrames[std::size_t(id * classes + c)] / all;
        const QString expected =
            QStringLiteral("%1 % of %2").arg(share, 0, 'f', 1).arg(p.classes[c]);
        QVERIFY2(text.contains(expected), qPrintable(text + QStringLiteral(" / ") + expected));
    }
    // The frame's attribute is the one the hover names.
    bool named = false;
    for (int x = band.left(); x <= band.right() && !named; ++x)
        named = lane->attributeDescriptionAt(QPoint(x, at.y())) == text;
    QVERIFY(named);
    if (const QByteArray shots = qgetenv("EMOLENS_TEST_SCREENSHOTS"); !shots.isEmpty()) {
        window.grab().save(QString::fromLocal8Bit(shots) +
                           QStringLiteral("/local-attributes-dock.png"));
        window.trainingDock()->hide();
        QTest::qWait(50);
        window.grab().save(QString::fromLocal8Bit(shots) + QStringLiteral("/local-attributes.png"));
    }
    QSettings().remove(QStringLiteral("model"));
}

void TestAnnotatorDesk::trainingDashboardStopsAndCancels()
{
    // wap-sap for up to 200 epochs: long enough to be stopped by hand.
    QSettings().setValue(QStringLiteral("model/recipe"), QStringLiteral("wap-sap"));
    QSettings().setValue(QStringLiteral("model/epochs"), 200);
    MainWindow window;
    const QString path = workspace(QStringLiteral("dashboard.emolens"));
    QVERIFY(test::labelingFromFirstClip(window, path, test::corpus(QStringLiteral("generic-csv"))));
    TrainingDashboard *dashboard = window.trainingDashboard();
    // Model > Retrain Recipe shows the remembered choice; Default forgets it, and a recipe
    // chosen there is remembered.
    auto checkedRecipe = [&window] {
        for (QAction *a : window.recipeMenu()->actions())
            if (a->isChecked())
                return a->data().toString();
        return QStringLiteral("(none)");
    };
    QCOMPARE(checkedRecipe(), QStringLiteral("wap-sap"));
    for (QAction *a : window.recipeMenu()->actions())
        if (a->data().toString().isEmpty())
            a->trigger();
    QVERIFY(!QSettings().contains(QStringLiteral("model/recipe")));
    QCOMPARE(checkedRecipe(), QString());
    for (QAction *a : window.recipeMenu()->actions())
        if (a->data().toString() == QLatin1String("wap-sap"))
            a->trigger();
    QCOMPARE(QSettings().value(QStringLiteral("model/recipe")).toString(),
             QStringLiteral("wap-sap"));
    // The menu's Freeze ARI check (ari-coattention's stage 1) is remembered on its own.
    QAction *freezeAri = nullptr;
    for (QAction *a : window.recipeMenu()->actions())
        if (a->data().toString() == QLatin1String("model/freezeAri"))
            freezeAri = a;
    QVERIFY(freezeAri && freezeAri->isCheckable() && !freezeAri->isChecked());
    freezeAri->trigger();
    QVERIFY(QSettings().value(QStringLiteral("model/freezeAri")).toBool());
    freezeAri->trigger();
    QVERIFY(!QSettings().value(QStringLiteral("model/freezeAri")).toBool());
    QCOMPARE(QSettings().value(QStringLiteral("model/recipe")).toString(),
             QStringLiteral("wap-sap"));
    QSignalSpy trained(&window, &MainWindow::trainingFinished);
    QCOMPARE(window.trainingDock()->toggleViewAction()->shortcut(),
             QKeySequence(QStringLiteral("Ctrl+Shift+T")));

    // Cancel after the first epoch: the run ends and nothing is kept.
    window.retrainAction()->trigger();
    QVERIFY(window.trainingDock()->isVisible());
    QVERIFY(dashboard->isActive() && dashboard->cancelButton()->isEnabled());
    QVERIFY(window.stopTrainingAction()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(dashboard->epochCount() >= 1, 120000);
    QTest::mouseClick(dashboard->cancelButton(), Qt::LeftButton);
    QVERIFY(trained.wait(60000));
    JobResult result = trained.takeFirst().first().value<JobResult>();
    QVERIFY2(result.wasCancelled(), qPrintable(result.summary));
    QVERIFY(!dashboard->isActive());
    {
        Database db(path);
        QVERIFY(db.open());
        ModelRepository models(db);
        QVERIFY(models.models().isEmpty());
        QCOMPARE(models.runs().first().status, QStringLiteral("cancelled"));
    }

    // Stop (keep best) after two epochs: the best of those epochs becomes a model at once,
    // and the run says it was stopped.
    window.retrainAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(dashboard->epochCount() >= 2, 120000);
    QTest::mouseClick(dashboard->stopButton(), Qt::LeftButton);
    QVERIFY(!dashboard->stopButton()->isEnabled());
    QVERIFY(trained.wait(60000));
    result = trained.takeFirst().first().value<JobResult>();
    QVERIFY2(result.ok(), qPrintable(result.summary));
    QVERIFY2(result.summary.startsWith(QLatin1String("Stopped by request")),
             qPrintable(result.summary));
    QVERIFY(dashboard->epochCount() < 200);
    QCOMPARE(dashboard->statusText(), result.summary);
    {
        Database db(path);
        QVERIFY(db.open());
        ModelRepository models(db);
        QCOMPARE(models.models().size(), 1);
        const TrainingRunRecord run = models.runs().first();
        QCOMPARE(run.status, QStringLiteral("stopped"));
        QCOMPARE(int(models.epochs(run.id).size()), dashboard->epochCount());
        QVERIFY(!QFileInfo::exists(TrainJob::checkpointPath(path, run.id)));
    }
    QVERIFY(!window.utteranceTable()->horizontalHeader()->isSectionHidden(
        UtteranceTableModel::PredictedColumn));
    QSettings().remove(QStringLiteral("model"));
}

void TestAnnotatorDesk::tracesRecordOnTheMediaClockAndFuse()
{
    QSettings().setValue(QStringLiteral("traces/countdownSeconds"), 0);
    MainWindow window;
    QVERIFY(test::labelingFromFirstClip(window, workspace(QStringLiteral("traces.emolens")),
                                        test::corpus(QStringLiteral("generic-csv"))));
    const qint64 clip = window.currentUtteranceId();
    TraceView *lane = window.clipView()->traceView();
    TraceRecorder *recorder = window.traceRecorder();
    PlayerBar *player = window.playerBar();
    QCOMPARE(lane->height(), 0); // no trace yet: the lane takes no room
    QCOMPARE(window.traceAction(0)->shortcut(), QKeySequence(QStringLiteral("Ctrl+T")));
    const double duration = window.clipView()->durationSeconds();
    QVERIFY(duration > 0.5);

    // Ctrl+T: the clip plays from its start and the lane follows the pointer; the trace ends
    // with the clip, sampled at 25 Hz on the player's clock.
    QSignalSpy stored(&window, &MainWindow::traceStored);
    window.traceAction(0)->trigger();
    QCOMPARE(recorder->state(), TraceRecorder::Recording);
    QTRY_COMPARE(lane->height(), TraceView::kLaneHeight);
    const QPoint high(lane->width() / 2, int(lane->yAtValue(0.5)));
    QSignalSpy pointer(lane, &TraceView::valueRequested);
    QTest::mousePress(lane, Qt::LeftButton, {}, high); // a press at a height sets it too
    QTest::mouseMove(lane, high);
    QVERIFY(!pointer.isEmpty());
    QCOMPARE(pointer.last().at(1).toString(), QStringLiteral("mouse"));
    const double pointed = lane->valueAtY(high.y());
    QVERIFY(std::abs(pointed - 0.5) < 0.05);
    QTRY_VERIFY_WITH_TIMEOUT(!stored.isEmpty(), 20000);
    QCOMPARE(recorder->state(), TraceRecorder::Idle);
    TraceRepository traces(*window.session()->database());
    QList<TraceRecord> current;
    QVERIFY(traces.currentTraces(clip, &current));
    QCOMPARE(current.size(), 1);
    const TraceRecord &first = current.first();
    QCOMPARE(first.annotatorName, kAnnotator);
    QCOMPARE(first.dimension, QStringLiteral("arousal"));
    QCOMPARE(first.rateHz, 25.0);
    QVERIFY2(std::abs(double(first.samples.size()) - duration * 25) <= 1.5,
             qPrintable(QString::number(first.samples.size())));
    // Before the pointer moved the value was 0; from then on what it pointed at.
    QVERIFY(std::abs(first.samples.back() - pointed) < 1e-6);
    for (float v : first.samples)
        QVERIFY(v == 0.f || std::abs(v - pointed) < 1e-6);
    QCOMPARE(lane->traces().size(), 1);

    // Another annotator, by the keyboard, on a clock moved by hand: each sample the cursor
    // passes takes the value of that moment.
    QSettings().setValue(QStringLiteral("annotator/name"), QStringLiteral("ben"));
    window.traceAction(0)->trigger();
    player->pause();
    QCOMPARE(recorder->samples().size(), std::size_t(1)); // time 0, value 0
    QTest::keyClick(lane, Qt::Key_Up);
    QTest::keyClick(lane, Qt::Key_Up); // Up and Down set the value, they do not change clips
    QCOMPARE(window.currentUtteranceId(), clip);
    player->seek(0.2);
    QTest::keyClick(lane, Qt::Key_Down);
    player->seek(0.4);
    player->seek(0.1);                // back: what is recorded stays
    window.traceAction(0)->trigger(); // again: stop and keep
    QTRY_COMPARE(stored.size(), 2);
    QVERIFY(traces.currentTraces(clip, &current));
    QCOMPARE(current.size(), 2);
    const TraceRecord &ben =
        current[0].annotatorName == QLatin1String("ben") ? current[0] : current[1];
    QCOMPARE(ben.samples.size(), std::size_t(11));
    QCOMPARE(ben.samples[0], 0.f);
    for (int i = 1; i <= 5; ++i)
        QVERIFY(std::abs(ben.samples[std::size_t(i)] - 0.2f) < 1e-6);
    for (int i = 6; i <= 10; ++i)
        QVERIFY(std::abs(ben.samples[std::size_t(i)] - 0.1f) < 1e-6);
    QCOMPARE(ben.input, QStringLiteral("keyboard"));
    // Two annotators: the lane draws the fused trace too.
    QCOMPARE(lane->traces().size(), 2);
    QVERIFY(!lane->fused().ewe.empty());

    // Esc cancels: nothing is stored.
    QCOMPARE(lane->dimensions(), QStringList{QStringLiteral("arousal")});
    window.traceAction(1)->trigger();
    QCOMPARE(recorder->state(), TraceRecorder::Recording);
    QTest::keyClick(&window, Qt::Key_Escape);
    QCOMPARE(recorder->state(), TraceRecorder::Idle);
    QList<TraceRecord> history;
    QVERIFY(traces.history(clip, &history));
    QCOMPARE(history.size(), 2);
    QSettings().setValue(QStringLiteral("annotator/name"), kAnnotator);
    QSettings().remove(QStringLiteral("traces/countdownSeconds"));
}

QTEST_MAIN(TestAnnotatorDesk)
#include "test_annotator_desk.moc"
