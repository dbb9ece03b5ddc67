// The main window end to end, offscreen: create a workspace, import a generated corpus
// through the real import job, browse it (tree, table, filter), label with the number keys,
// undo/redo (the store's history only grows), move to the next clip, see the waveform and the
// pitch and energy curves drawn, and read the import report of a corpus with broken files. Models
// are checked with QAbstractItemModelTester. Settings go to a test-only organisation, never the
// user's.

#include "ClipView.h"
#include "CorpusTreeModel.h"
#include "CurveView.h"
#include "EmptyStatePanel.h"
#include "ImportReportDialog.h"
#include "LabelingController.h"
#include "LabelingDesk.h"
#include "LabelingPanel.h"
#include "MainWindow.h"
#include "PathMapDialog.h"
#include "ShortcutsDialog.h"
#include "SpectrogramView.h"
#include "TestPaths.h"
#include "UtteranceFilterModel.h"
#include "UtteranceTableModel.h"
#include "WaveformView.h"
#include "WindowJobs.h"
#include "WorkspaceSession.h"
#include "common/Progress.h"
#include "jobs/JobQueue.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QSet>
#include <QSettings>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>
#include <QTreeView>
#include <QTreeWidget>
#include <QUndoStack>
#include <atomic>

using namespace emolens;

namespace {

const QString kAnnotator = QStringLiteral("ui-tester");

// A small generic corpus made with sox, for when the generated corpora are not there.
QString makeFallbackCorpus(const QString &root, bool withBadFiles)
{
    QDir().mkpath(root);
    QFile manifest(QDir(root).filePath(QStringLiteral("manifest.csv")));
    if (!manifest.open(QIODevice::WriteOnly))
        return QString();
    manifest.write("path,label,speaker,gender\n");
    const QStringList labels{QStringLiteral("neutral"), QStringLiteral("happy"),
                             QStringLiteral("sad"), QStringLiteral("angry")};
    for (int i = 0; i < 8; ++i) {
        const QString name = QStringLiteral("clip_%1.wav").arg(i);
        const int rc =
            QProcess::execute(QStringLiteral("sox"),
                              {QStringLiteral("-n"), QStringLiteral("-r"), QStringLiteral("16000"),
                               QStringLiteral("-c"), QStringLiteral("1"), QDir(root).filePath(name),
                               QStringLiteral("synth"), QStringLiteral("1"), QStringLiteral("sine"),
                               QString::number(200 + 50 * i)});
        if (rc != 0)
            return QString();
        manifest.write(QStringLiteral("%1,%2,%3,%4\n")
                           .arg(name, labels[i % 4],
                                i < 4 ? QStringLiteral("spk1") : QStringLiteral("spk2"),
                                i < 4 ? QStringLiteral("female") : QStringLiteral("male"))
                           .toUtf8());
    }
    if (withBadFiles) {
        QFile notAudio(QDir(root).filePath(QStringLiteral("not-audio.wav")));
        notAudio.open(QIODevice::WriteOnly);
        notAudio.write("this is not audio");
        manifest.write("not-audio.wav,sad,spk1,female\nmissing.wav,sad,spk1,female\n");
    }
    return root;
}

QString corpusFolder(const QString &layout, QTemporaryDir &scratch)
{
    const QString generated = test::corpus(layout);
    if (!test::corporaRoot().isEmpty() && QFileInfo(generated).isDir())
        return generated;
    return makeFallbackCorpus(scratch.filePath(layout), layout == QLatin1String("bad"));
}

int distinctColours(const QImage &image)
{
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 2)
        for (int x = 0; x < image.width(); x += 2)
            colours.insert(image.pixel(x, y));
    return int(colours.size());
}

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void emptyStateIsNeverBlank();
    void importBrowseLabelUndoRedo();
    void labelsTypedWhileTheWorkspaceIsLockedAreKept();
    void closingWithAJobRunningStopsItWithoutWaiting();
    void wrongFilesLeaveTheOpenWorkspaceOpen();
    void keysAndSpeakersSortNaturally();
    void afterTheNameDialogTheKeysLabelAgain();
    void slidersStartFromWhatTheClipShows();
    void enterOrEscapeInNotesGivesTheKeysBack();
    void filtersFindEachPersonsWork();
    void modelsPassModelTester();
    void importReportListsBadFiles();
    void longClipDecodesOffTheGuiThread();
    void shortcutsAreListed();
    void audioFoldersOnThisMachineFindMovedAudio();
    void othersLabelsShowWithinSeconds();

private:
    QTemporaryDir m_scratch;
};

void TestMainWindow::initTestCase()
{
    QCoreApplication::setOrganizationName(QStringLiteral("EmoLensTests"));
    QCoreApplication::setApplicationName(QStringLiteral("test_main_window"));
    QSettings settings;
    settings.clear();
    settings.setValue(QStringLiteral("annotator/name"), kAnnotator);
    settings.setValue(QStringLiteral("labeling/autoAdvance"), false);
    QVERIFY(m_scratch.isValid());
}

void TestMainWindow::emptyStateIsNeverBlank()
{
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.windowTitle(), QStringLiteral("EmoLens"));
    auto *pages = qobject_cast<QStackedWidget *>(window.centralWidget());
    QVERIFY(pages);
    auto *empty = qobject_cast<EmptyStatePanel *>(pages->currentWidget());
    QVERIFY2(empty, "without a workspace the window shows the empty-state panel");
    QStringList buttons;
    for (QPushButton *b : empty->findChildren<QPushButton *>())
        if (b->isVisible())
            buttons << b->text();
    QVERIFY(buttons.contains(QStringLiteral("New Workspace...")));
    QVERIFY(buttons.contains(QStringLiteral("Open Workspace...")));
    QVERIFY(buttons.contains(QStringLiteral("Import Corpus...")));
}

void TestMainWindow::importBrowseLabelUndoRedo()
{
    const QString folder = corpusFolder(QStringLiteral("generic-csv"), m_scratch);
    QVERIFY(!folder.isEmpty());
    QTemporaryDir workspaceDir;
    const QString workspace = workspaceDir.filePath(QStringLiteral("study.emolens"));

    MainWindow window;
    window.show();
    QApplication::setActiveWindow(&window);
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QVERIFY2(!window.openWorkspace(workspace).ok(), "a missing file is not silently created");
    QVERIFY(!QFileInfo::exists(workspace));
    QVERIFY(window.createWorkspace(workspace).ok());
    QCOMPARE(window.windowTitle(), QStringLiteral("EmoLens - study.emolens"));
    QVERIFY(test::importInto(window, folder));

    // The store, read on its own connection like a second process would.
    Database db(workspace);
    QVERIFY(db.open().ok());
    CorpusRepository corpora(db);
    LabelRepository labels(db);
    const int utterances = corpora.utteranceCount();
    QVERIFY(utterances >= 8);

    // Table and tree show every utterance.
    QCOMPARE(window.utteranceModel()->rowCount(), utterances);
    QCOMPARE(window.utteranceTable()->model()->rowCount(), utterances);
    CorpusTreeModel *tree = window.corpusModel();
    QCOMPARE(tree->rowCount(), 1);
    const QModelIndex corpusNode = tree->index(0, 0);
    QVERIFY(tree->rowCount(corpusNode) >= 2);
    int leaves = 0;
    for (int s = 0; s < tree->rowCount(corpusNode); ++s) {
        const QModelIndex speaker = tree->index(s, 0, corpusNode);
        QVERIFY(!speaker.data().toString().isEmpty());
        leaves += tree->rowCount(speaker);
    }
    QCOMPARE(leaves, utterances);
    QVERIFY2(tree->index(0, 0, corpusNode).data().toString().contains(QLatin1String("(")),
             "speakers show their gender");

    // Select the first clip in the table.
    QTableView *table = window.utteranceTable();
    table->setFocus();
    table->setCurrentIndex(table->model()->index(0, 0));
    const qint64 first =
        table->model()->index(0, 0).data(UtteranceTableModel::UtteranceIdRole).toLongLong();
    QCOMPARE(window.currentUtteranceId(), first);
    const auto firstUtterance = corpora.utterance(first);
    QVERIFY(firstUtterance);
    const auto schema = labels.schemaForUtterance(first);
    QVERIFY(schema && schema->classes.size() >= 2);
    const QString shownBefore = labels.shownLabel(first).category;
    const int historyBefore = int(labels.history(first).size());
    QVERIFY(!labels.currentLabel(first, kAnnotator));

    // The clip view has drawn a waveform (not a blank rectangle).
    QTRY_VERIFY(window.clipView()->clip() != nullptr);
    const QImage waveform = window.clipView()->waveformView()->grab().toImage();
    QVERIFY2(distinctColours(waveform) > 4, "the waveform view shows more than a flat fill");

    // Under it, the clip's pitch and energy curves, on the same time range.
    CurveView *curveView = window.clipView()->curveView();
    QTRY_VERIFY(curveView->curves() != nullptr);
    const AcousticCurves &curves = *curveView->curves();
    QVERIFY(qAbs(curves.frameCount() / curves.framesPerSecond -
                 window.clipView()->durationSeconds()) < 0.02);
    int voicedFrames = 0;
    for (int i = 0; i < curves.frameCount(); ++i)
        voicedFrames += curves.isVoiced(i) ? 1 : 0;
    QVERIFY2(voicedFrames > curves.frameCount() / 10, "a clip of speech or tone has voiced frames");
    QVERIFY(curveView->energyTopDb() > curveView->energyBottomDb());
    QCOMPARE(curveView->visibleStartSeconds(),
             window.clipView()->waveformView()->visibleStartSeconds());
    QCOMPARE(curveView->visibleEndSeconds(),
             window.clipView()->waveformView()->visibleEndSeconds());
    QVERIFY2(distinctColours(curveView->grab().toImage()) > 4, "the curves are drawn");
    const QString hover =
        curveView->frameDescriptionAt(QPoint(curveView->width() / 2, curveView->height() / 2));
    QVERIFY2(hover.contains(QLatin1String(" s\n")) && hover.contains(QLatin1String("F0: ")) &&
                 hover.contains(QLatin1String("Energy: ")),
             qPrintable(hover));

    // Key "2" labels the clip with the schema's second class, by this annotator.
    QTest::keyClick(&window, Qt::Key_2);
    // Written by the label writer's own thread: in the store a moment later.
    QTRY_COMPARE(labels.history(first).size(), historyBefore + 1);
    auto mine = labels.currentLabel(first, kAnnotator);
    QVERIFY(mine);
    QCOMPARE(mine->value.category, schema->classes[1]);
    QCOMPARE(labels.history(first).size(), historyBefore + 1);
    const int row = window.utteranceModel()->rowOf(first);
    QCOMPARE(
        window.utteranceModel()->index(row, UtteranceTableModel::LabelColumn).data().toString(),
        schema->classes[1]);
    QCOMPARE(
        window.utteranceModel()->index(row, UtteranceTableModel::LabeledByColumn).data().toString(),
        kAnnotator);
    QCOMPARE(window.undoStack()->count(), 1);
    QVERIFY(window.undoStack()->undoText().contains(schema->classes[1]));

    // Ctrl+Z restores the previous label by ADDING a row: history is append-only.
    QTest::keyClick(&window, Qt::Key_Z, Qt::ControlModifier);
    QTRY_COMPARE(labels.history(first).size(), historyBefore + 2);
    mine = labels.currentLabel(first, kAnnotator);
    QVERIFY(mine);
    QVERIFY2(mine->value.isEmpty(),
             "the annotator had no label before, so undo stores an empty one");
    QCOMPARE(labels.shownLabel(first).category, shownBefore);
    QCOMPARE(labels.history(first).last().action, LabelAction::Undo);
    QCOMPARE(labels.history(first).last().changed, QStringList{QStringLiteral("category")});
    QCOMPARE(labels.history(first).size(), historyBefore + 2);
    QCOMPARE(
        window.utteranceModel()->index(row, UtteranceTableModel::LabelColumn).data().toString(),
        shownBefore);

    // Ctrl+Shift+Z redoes, again as a new row.
    QTest::keyClick(&window, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
    QTRY_COMPARE(labels.history(first).size(), historyBefore + 3);
    mine = labels.currentLabel(first, kAnnotator);
    QVERIFY(mine);
    QCOMPARE(mine->value.category, schema->classes[1]);
    QCOMPARE(mine->action, LabelAction::Redo);
    QCOMPARE(labels.history(first).size(), historyBefore + 3);

    // Next clip (Down) moves the selection, and the panel follows.
    QTest::keyClick(&window, Qt::Key_Down);
    const qint64 second =
        table->model()->index(1, 0).data(UtteranceTableModel::UtteranceIdRole).toLongLong();
    QCOMPARE(table->currentIndex().row(), 1);
    QCOMPARE(window.currentUtteranceId(), second);
    QCOMPARE(window.labelingPanel()->utteranceId(), second);
    QTest::keyClick(&window, Qt::Key_PageUp);
    QCOMPARE(window.currentUtteranceId(), first);

    // The filter narrows the table to matching keys, labels or speakers.
    const QString key = firstUtterance->key;
    window.filterEdit()->setText(key);
    QVERIFY(table->model()->rowCount() >= 1);
    QVERIFY(table->model()->rowCount() < utterances);
    for (int r = 0; r < table->model()->rowCount(); ++r) {
        const QModelIndex keyIndex = table->model()->index(r, UtteranceTableModel::KeyColumn);
        QVERIFY(keyIndex.data().toString().contains(key, Qt::CaseInsensitive) ||
                table->model()
                    ->index(r, UtteranceTableModel::LabelColumn)
                    .data()
                    .toString()
                    .contains(key, Qt::CaseInsensitive) ||
                table->model()
                    ->index(r, UtteranceTableModel::SpeakerColumn)
                    .data()
                    .toString()
                    .contains(key, Qt::CaseInsensitive));
    }
    window.filterEdit()->clear();
    QCOMPARE(table->model()->rowCount(), utterances);

    // The label filter: one class shows only that class.
    QComboBox *labelFilter = window.labelFilterCombo();
    const int classIndex = labelFilter->findData(schema->classes[1]);
    QVERIFY(classIndex > 0);
    labelFilter->setCurrentIndex(classIndex);
    QVERIFY(table->model()->rowCount() >= 1);
    QVERIFY(table->model()->rowCount() < utterances);
    for (int r = 0; r < table->model()->rowCount(); ++r)
        QCOMPARE(table->model()->index(r, UtteranceTableModel::LabelColumn).data().toString(),
                 schema->classes[1]);
    labelFilter->setCurrentIndex(labelFilter->findText(QStringLiteral("All")));
    QCOMPARE(table->model()->rowCount(), utterances);

    // Settings: the workspace is remembered for the next start.
    QCOMPARE(QSettings().value(QStringLiteral("workspace/last")).toString(),
             QFileInfo(workspace).absoluteFilePath());
}

void TestMainWindow::labelsTypedWhileTheWorkspaceIsLockedAreKept()
{
    // Another process holds the workspace's write lock (as an import in another EmoLens
    // would) while the annotator labels two clips from the keyboard.
    const QString folder = corpusFolder(QStringLiteral("generic-csv"), m_scratch);
    QTemporaryDir workspaceDir;
    const QString workspace = workspaceDir.filePath(QStringLiteral("locked.emolens"));
    MainWindow window;
    QVERIFY(test::labelingFromFirstClip(window, workspace, folder));
    QTableView *table = window.utteranceTable();
    const qint64 first = window.currentUtteranceId();
    const qint64 second =
        table->model()->index(1, 0).data(UtteranceTableModel::UtteranceIdRole).toLongLong();
    const QStringList classes = window.labelingPanel()->schema().classes;
    QVERIFY(classes.size() >= 3);

    const QString holderName = QStringLiteral("other-process");
    {
        QSqlDatabase holder = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), holderName);
        holder.setDatabaseName(workspace);
        QVERIFY(holder.open());
        QSqlQuery hold(holder);
        QVERIFY(hold.exec(QStringLiteral("BEGIN IMMEDIATE")));

        QTest::keyClick(&window, Qt::Key_2);
        QTest::keyClick(table, Qt::Key_Down);
        QTest::keyClick(&window, Qt::Key_3);
        // Shown at once, though nothing could be written yet.
        auto labelOf = [&](qint64 id) {
            const int row = window.utteranceModel()->rowOf(id);
            return window.utteranceModel()
                ->index(row, UtteranceTableModel::LabelColumn)
                .data()
                .toString();
        };
        QCOMPARE(labelOf(first), classes[1]);
        QCOMPARE(labelOf(second), classes[2]);
        QCOMPARE(window.labelingPanel()->myValue().category, classes[2]);
        QTRY_VERIFY(window.labeling()->isWaitingForWorkspace());
        QCOMPARE(window.labeling()->unsavedCount(), 2);
        QSqlQuery peek(holder);
        QVERIFY(peek.exec(QStringLiteral("SELECT count(*) FROM labels l JOIN annotators a ON "
                                         "a.id=l.annotator_id WHERE a.name='%1'")
                              .arg(kAnnotator)) &&
                peek.next());
        QCOMPARE(peek.value(0).toInt(), 0);
        // Leaving is refused while they wait: the window stays, nothing is dropped.
        QVERIFY(!window.openWorkspace(workspace).ok());

        QVERIFY(hold.exec(QStringLiteral("COMMIT")));
        holder.close();
    }
    QSqlDatabase::removeDatabase(holderName);
    // Written as soon as the lock freed, in the order typed.
    QTRY_COMPARE_WITH_TIMEOUT(window.labeling()->unsavedCount(), 0, 10000);
    Database db(workspace);
    QVERIFY(db.open());
    QSqlQuery q(db.connection());
    QVERIFY(q.exec(QStringLiteral("SELECT l.utterance_id, l.category FROM labels l JOIN annotators "
                                  "a ON a.id=l.annotator_id WHERE a.name='%1' ORDER BY l.id")
                       .arg(kAnnotator)));
    QList<QPair<qint64, QString>> rows;
    while (q.next())
        rows.append({q.value(0).toLongLong(), q.value(1).toString()});
    QCOMPARE(rows, (QList<QPair<qint64, QString>>{{first, classes[1]}, {second, classes[2]}}));
    QCOMPARE(LabelRepository(db).shownLabel(second).category, classes[2]);
}

void TestMainWindow::closingWithAJobRunningStopsItWithoutWaiting()
{
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    std::atomic<bool> sawCancel{false};
    QSignalSpy finished(window.jobQueue(), &JobQueue::jobFinished);
    // A job that only stops when asked, and then takes a moment to wind down (as an
    // extraction finishing its batch would).
    window.jobQueue()->submit(std::make_shared<FunctionJob>(
        QStringLiteral("Long analysis"), [&sawCancel](ProgressSink &progress) {
            while (!progress.isCancelled())
                QThread::msleep(5);
            sawCancel = true;
            QThread::msleep(300);
            return JobResult::stopped(QStringLiteral("stopped"));
        }));
    QVERIFY(window.jobQueue()->isBusy());
    window.stopJobsAndClose();
    // The call returned at once: the job is still winding down and the window still open,
    // saying what it waits for.
    QVERIFY(window.jobQueue()->isBusy());
    QVERIFY(window.isVisible());
    QVERIFY2(window.jobLabel()->text().contains(QStringLiteral("Stopping Long analysis")),
             qPrintable(window.jobLabel()->text()));
    // A second close while stopping does not close early.
    window.close();
    QVERIFY(window.isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(!window.isVisible(), 10000);
    QVERIFY(sawCancel.load());
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.first().last().value<JobResult>().outcome, JobOutcome::Stopped);
}

void TestMainWindow::wrongFilesLeaveTheOpenWorkspaceOpen()
{
    const QString folder = corpusFolder(QStringLiteral("generic-csv"), m_scratch);
    QTemporaryDir dir;
    const QString workspace = dir.filePath(QStringLiteral("mine.emolens"));
    MainWindow window;
    window.show();
    QVERIFY(window.createWorkspace(workspace).ok());
    QVERIFY(test::importInto(window, folder));
    const int rows = window.utteranceModel()->rowCount();
    QVERIFY(rows > 0);

    // A text file: refused in one plain message that names it once; nothing changes.
    const QString notes = dir.filePath(QStringLiteral("notes.emolens"));
    {
        QFile f(notes);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("my notes, not a workspace\n");
    }
    const Status st = window.openWorkspace(notes);
    QVERIFY(!st);
    QCOMPARE(st.error().count(QDir::toNativeSeparators(notes)), 1);
    QVERIFY2(st.error().contains(QStringLiteral("not an EmoLens workspace")),
             qPrintable(st.error()));
    QCOMPARE(window.workspacePath(), QFileInfo(workspace).absoluteFilePath());
    QCOMPARE(window.utteranceModel()->rowCount(), rows);
    QFile check(notes);
    QVERIFY(check.open(QIODevice::ReadOnly));
    QCOMPARE(check.readAll(), QByteArray("my notes, not a workspace\n"));

    // A mistyped path creates nothing.
    const QString typo = dir.filePath(QStringLiteral("mnie.emolens"));
    QVERIFY(!window.openWorkspace(typo));
    QVERIFY(!QFileInfo::exists(typo));
    QCOMPARE(window.workspacePath(), QFileInfo(workspace).absoluteFilePath());

    // New Workspace never replaces the open one.
    QVERIFY(!window.createWorkspace(workspace));
    QCOMPARE(window.utteranceModel()->rowCount(), rows);

    // Replacing another workspace takes its log and index too.
    const QString old = dir.filePath(QStringLiteral("old.emolens"));
    for (const QString &suffix : {QString(), QStringLiteral("-wal"), QStringLiteral("-shm")}) {
        QFile f(old + suffix);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("stale");
    }
    QVERIFY(window.createWorkspace(old).ok());
    QCOMPARE(window.utteranceModel()->rowCount(), 0);
    QVERIFY(!QFileInfo::exists(old + QStringLiteral("-shm")) ||
            QFileInfo(old + QStringLiteral("-shm")).size() != 5);
}

void TestMainWindow::keysAndSpeakersSortNaturally()
{
    UtteranceTableModel table;
    UtteranceFilterModel filter;
    filter.setSourceModel(&table);
    QList<UtteranceRow> rows;
    int id = 0;
    for (const char *speaker : {"spk10", "spk2", "Spk1", "spk2"}) {
        UtteranceRow row;
        row.id = ++id;
        row.corpusId = 1;
        row.speakerCode = QString::fromLatin1(speaker);
        row.key = QStringLiteral("%1_utt%2").arg(row.speakerCode).arg(id * 5);
        rows << row;
    }
    table.setRows(rows);
    auto column = [&](int c) {
        QStringList out;
        for (int r = 0; r < filter.rowCount(); ++r)
            out << filter.index(r, c).data().toString();
        return out;
    };
    filter.sort(UtteranceTableModel::SpeakerColumn, Qt::AscendingOrder);
    QCOMPARE(column(UtteranceTableModel::SpeakerColumn),
             (QStringList{QStringLiteral("Spk1"), QStringLiteral("spk2"), QStringLiteral("spk2"),
                          QStringLiteral("spk10")}));
    filter.sort(UtteranceTableModel::KeyColumn, Qt::AscendingOrder);
    QCOMPARE(column(UtteranceTableModel::KeyColumn),
             (QStringList{QStringLiteral("Spk1_utt15"), QStringLiteral("spk2_utt10"),
                          QStringLiteral("spk2_utt20"), QStringLiteral("spk10_utt5")}));
    // Durations still sort as numbers.
    filter.sort(UtteranceTableModel::DurationColumn, Qt::AscendingOrder);
    QCOMPARE(filter.rowCount(), 4);
}

void TestMainWindow::filtersFindEachPersonsWork()
{
    UtteranceTableModel table;
    UtteranceFilterModel filter;
    filter.setSourceModel(&table);
    QList<UtteranceRow> rows(4);
    for (int i = 0; i < 4; ++i) {
        rows[i].id = i + 1;
        rows[i].key = QStringLiteral("clip%1").arg(i + 1);
        rows[i].label = QStringLiteral("happy");
        rows[i].labelOrigin = LabelOrigin::Corpus;
    }
    rows[1].labeledByPeople = {kAnnotator};            // mine
    rows[2].labeledByPeople = {QStringLiteral("bea")}; // someone else's
    rows[3].labeledByPeople = {kAnnotator, QStringLiteral("bea")};
    rows[3].disagreement = true;
    table.setRows(rows);
    auto keys = [&] {
        QStringList out;
        for (int r = 0; r < filter.rowCount(); ++r)
            out << filter.index(r, UtteranceTableModel::KeyColumn).data().toString();
        out.sort();
        return out;
    };
    filter.setAnnotator(kAnnotator);
    filter.setLabelFilter(UtteranceFilterModel::LabelFilter::NotLabeledByMe);
    QCOMPARE(keys(), (QStringList{QStringLiteral("clip1"), QStringLiteral("clip3")}));
    filter.setLabelFilter(UtteranceFilterModel::LabelFilter::NoPersonLabel);
    QCOMPARE(keys(), QStringList{QStringLiteral("clip1")});
    filter.setLabelFilter(UtteranceFilterModel::LabelFilter::Disagreement);
    QCOMPARE(keys(), QStringList{QStringLiteral("clip4")});
    // Corpus labels count as labels for "Unlabeled": none of these is.
    filter.setLabelFilter(UtteranceFilterModel::LabelFilter::Unlabeled);
    QCOMPARE(filter.rowCount(), 0);
}

void TestMainWindow::afterTheNameDialogTheKeysLabelAgain()
{
    const QString folder = corpusFolder(QStringLiteral("generic-csv"), m_scratch);
    QTemporaryDir dir;
    MainWindow window;
    QVERIFY(
        test::labelingFromFirstClip(window, dir.filePath(QStringLiteral("focus.emolens")), folder));
    QTableView *table = window.utteranceTable();
    QSettings().remove(QStringLiteral("annotator/name"));
    // The first number key asks for a name; the dialog is answered as a person would.
    bool answered = false;
    QTimer::singleShot(0, this, [&answered] {
        for (QWidget *w : QApplication::topLevelWidgets())
            if (auto *dialog = qobject_cast<QInputDialog *>(w); dialog && dialog->isVisible()) {
                dialog->setTextValue(QStringLiteral("Noor"));
                dialog->accept();
                answered = true;
            }
    });
    QTest::keyClick(&window, Qt::Key_2);
    QVERIFY(answered);
    QCOMPARE(window.labeling()->annotatorName(), QStringLiteral("Noor"));
    // Focus is back in the table, so the next key labels without a click.
    QTRY_COMPARE(QApplication::focusWidget(), static_cast<QWidget *>(table));
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_Down);
    const qint64 second = window.currentUtteranceId();
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_3);
    QCOMPARE(window.labeling()->myValue(second).category,
             window.labelingPanel()->schema().classes.value(2));
    QTRY_COMPARE(window.labeling()->unsavedCount(), 0);
    // "Not labeled by me" now hides Noor's two clips; the status bar counts her work.
    const int total = window.filterModel()->rowCount();
    QComboBox *labelFilter = window.labelFilterCombo();
    labelFilter->setCurrentIndex(labelFilter->findText(QStringLiteral("Not labeled by me")));
    QCOMPARE(window.filterModel()->rowCount(), total - 2);
    labelFilter->setCurrentIndex(labelFilter->findText(QStringLiteral("All")));
    QCOMPARE(window.filterModel()->rowCount(), total);
    bool countsMine = false;
    for (QLabel *label : window.statusBar()->findChildren<QLabel *>())
        countsMine = countsMine || label->text().contains(QStringLiteral("2 by you"));
    QVERIFY(countsMine);
    // With a filter that shows no clip, a number key labels nothing out of sight.
    labelFilter->setCurrentIndex(labelFilter->findText(QStringLiteral("Annotators disagree")));
    QCOMPARE(window.filterModel()->rowCount(), 0);
    const int edits = window.undoStack()->count();
    QTest::keyClick(&window, Qt::Key_1);
    QCOMPARE(window.undoStack()->count(), edits);
    QVERIFY2(window.statusBar()->currentMessage().contains(QStringLiteral("not in the table")),
             qPrintable(window.statusBar()->currentMessage()));
    QSettings().setValue(QStringLiteral("annotator/name"), kAnnotator);
}

void TestMainWindow::slidersStartFromWhatTheClipShows()
{
    // MSP-Podcast gives every clip arousal, valence and dominance: before anyone moves a
    // slider, the panel shows the corpus's values (marked as shown), not "not set".
    const QString folder = corpusFolder(QStringLiteral("msp-podcast"), m_scratch);
    QTemporaryDir dir;
    MainWindow window;
    window.show();
    QVERIFY(window.createWorkspace(dir.filePath(QStringLiteral("msp.emolens"))).ok());
    QVERIFY(test::importInto(window, folder));
    QTableView *table = window.utteranceTable();
    table->setCurrentIndex(table->model()->index(0, 0));
    const qint64 clip = window.currentUtteranceId();
    QVERIFY(clip != 0);
    auto shownValues = [&] {
        int count = 0;
        for (QLabel *label : window.labelingPanel()->findChildren<QLabel *>())
            count += label->text().endsWith(QStringLiteral("(shown)")) ? 1 : 0;
        return count;
    };
    QCOMPARE(window.labelingPanel()->schema().scales.size(), 3);
    QCOMPARE(shownValues(), 3);
    QVERIFY(window.labelingPanel()->myValue().dimensions.isEmpty());

    // Moving one (here: setting valence through the panel's edit) keeps the corpus's category
    // shown, in the panel and the table, and the other two sliders still show the corpus's.
    const QString categoryBefore =
        window.utteranceModel()
            ->index(window.utteranceModel()->rowOf(clip), UtteranceTableModel::LabelColumn)
            .data()
            .toString();
    QVERIFY(!categoryBefore.isEmpty());
    LabelValue valenceOnly;
    valenceOnly.dimensions.insert(QStringLiteral("valence"), 6.0);
    QVERIFY(window.labeling()->edit(clip, window.labelingPanel()->schema().id,
                                    QStringLiteral("clip"), valenceOnly));
    QCOMPARE(shownValues(), 2);
    QCOMPARE(window.utteranceModel()
                 ->index(window.utteranceModel()->rowOf(clip), UtteranceTableModel::LabelColumn)
                 .data()
                 .toString(),
             categoryBefore);
    QTRY_COMPARE(window.labeling()->unsavedCount(), 0);
    QCOMPARE(window.labeling()->shownLabel(clip).category, categoryBefore);
}

void TestMainWindow::enterOrEscapeInNotesGivesTheKeysBack()
{
    const QString folder = corpusFolder(QStringLiteral("generic-csv"), m_scratch);
    QTemporaryDir dir;
    MainWindow window;
    QVERIFY(
        test::labelingFromFirstClip(window, dir.filePath(QStringLiteral("notes.emolens")), folder));
    QTableView *table = window.utteranceTable();
    const qint64 first = window.currentUtteranceId();
    auto *notes = window.labelingPanel()->findChild<QLineEdit *>(QStringLiteral("labelNotes"));
    QVERIFY(notes);
    const QStringList classes = window.labelingPanel()->schema().classes;

    // Enter keeps the note, and the next number key labels instead of typing "2".
    notes->setFocus();
    QTest::keyClicks(notes, QStringLiteral("sighs"));
    QTest::keyClick(notes, Qt::Key_Return);
    QTRY_COMPARE(QApplication::focusWidget(), static_cast<QWidget *>(table));
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_2);
    QCOMPARE(window.labeling()->myValue(first).notes, QStringLiteral("sighs"));
    QCOMPARE(window.labeling()->myValue(first).category, classes.value(1));

    // Escape drops what was typed and gives the keys back too.
    notes->setFocus();
    QTest::keyClicks(notes, QStringLiteral(" loudly"));
    QTest::keyClick(notes, Qt::Key_Escape);
    QTRY_COMPARE(QApplication::focusWidget(), static_cast<QWidget *>(table));
    QCOMPARE(notes->text(), QStringLiteral("sighs"));
    QCOMPARE(window.labeling()->myValue(first).notes, QStringLiteral("sighs"));

    // Moving to another clip while typing: the note stays with its clip, keys label again.
    notes->setFocus();
    QTest::keyClicks(notes, QStringLiteral(" twice"));
    QTest::keyClick(&window, Qt::Key_Down);
    const qint64 second = window.currentUtteranceId();
    QVERIFY(second != first);
    QTRY_COMPARE(QApplication::focusWidget(), static_cast<QWidget *>(table));
    QCOMPARE(window.labeling()->myValue(first).notes, QStringLiteral("sighs twice"));
    QCOMPARE(window.currentUtteranceId(), second); // keeping the note did not jump back
    QCOMPARE(window.labelingPanel()->utteranceId(), second);
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_3);
    QCOMPARE(window.labeling()->myValue(second).category, classes.value(2));
    QVERIFY(window.labeling()->myValue(second).notes.isEmpty());
    QTRY_COMPARE(window.labeling()->unsavedCount(), 0);
}

void TestMainWindow::modelsPassModelTester()
{
    const QString folder = corpusFolder(QStringLiteral("generic-csv"), m_scratch);
    QTemporaryDir workspaceDir;
    MainWindow window;
    // Attached before anything is loaded, so every reset and change is checked as it happens.
    QAbstractItemModelTester tableTester(window.utteranceModel(),
                                         QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester proxyTester(window.filterModel(),
                                         QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester treeTester(window.corpusModel(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
    window.show();
    QVERIFY(window.createWorkspace(workspaceDir.filePath(QStringLiteral("m.emolens"))).ok());
    QVERIFY(test::importInto(window, folder));
    QVERIFY(window.utteranceModel()->rowCount() > 0);
    // A label edit replaces one row in place.
    window.utteranceTable()->setCurrentIndex(window.utteranceTable()->model()->index(2, 0));
    window.labelingPanel()->chooseCategory(0);
    window.undoStack()->undo();
    window.filterEdit()->setText(QStringLiteral("e"));
    window.filterEdit()->clear();
    // Closing waits for nothing: it is refused while the labels are still being written.
    QTRY_COMPARE(window.labeling()->unsavedCount(), 0);
    QVERIFY(window.closeWorkspace().ok());
    QCOMPARE(window.utteranceModel()->rowCount(), 0);
    QCOMPARE(window.corpusModel()->rowCount(), 0);
}

void TestMainWindow::importReportListsBadFiles()
{
    const QString folder = corpusFolder(QStringLiteral("bad"), m_scratch);
    QVERIFY(!folder.isEmpty());
    QTemporaryDir workspaceDir;
    MainWindow window;
    window.show();
    QVERIFY(window.createWorkspace(workspaceDir.filePath(QStringLiteral("bad.emolens"))).ok());
    QVERIFY(test::importInto(window, folder));
    QVERIFY(window.utteranceModel()->rowCount() > 0); // the good files are in
    ImportReportDialog *report = window.importReportDialog();
    QVERIFY2(report, "skipped files open the import report");
    QVERIFY(report->isVisible());
    QTableWidget *skipped = report->skippedTable();
    QVERIFY(skipped->rowCount() >= 2);
    QCOMPARE(skipped->rowCount(), window.lastImportReport().skipped.size());
    QStringList files;
    for (int r = 0; r < skipped->rowCount(); ++r) {
        // A file named by a manifest line that is missing is reported on that line.
        files << skipped->item(r, 0)->text() + QLatin1Char(' ') + skipped->item(r, 2)->text();
        QVERIFY2(!skipped->item(r, 2)->text().isEmpty(), "every skipped file says why");
    }
    const QString all = files.join(QLatin1Char('\n'));
    QVERIFY2(all.contains(QLatin1String("not-audio.wav")), qPrintable(all));
    QVERIFY2(all.contains(QLatin1String("missing.wav")), qPrintable(all));
    if (folder == test::corpus(QStringLiteral("bad"))) {
        for (const char *name : {"empty.wav", "header-only.wav", "truncated.wav", "random.wav"})
            QVERIFY2(all.contains(QLatin1String(name)), name);
    }
}

void TestMainWindow::longClipDecodesOffTheGuiThread()
{
    const QString path = m_scratch.filePath(QStringLiteral("long.wav"));
    // 40 s: over ClipView's synchronous limit, so the decode runs on a worker thread.
    QCOMPARE(
        QProcess::execute(QStringLiteral("sox"),
                          {QStringLiteral("-n"), QStringLiteral("-r"), QStringLiteral("16000"),
                           QStringLiteral("-c"), QStringLiteral("1"), path, QStringLiteral("synth"),
                           QStringLiteral("40"), QStringLiteral("sine"), QStringLiteral("220")}),
        0);
    ClipView view;
    view.resize(900, 300);
    view.show();
    QSignalSpy loaded(&view, &ClipView::clipLoaded);
    view.loadClip(7, path, QStringLiteral("long"), 40.0);
    QVERIFY2(view.isLoading(), "a long clip does not block the GUI thread while it decodes");
    QVERIFY(view.clip() == nullptr);
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 30000);
    QVERIFY(!view.isLoading());
    QVERIFY(view.clip());
    QVERIFY(qAbs(view.durationSeconds() - 40.0) < 0.05);
    // Zoom keeps both views on one range, and zoom-to-fit shows the whole clip again.
    view.zoomIn();
    QVERIFY(view.visibleSeconds() < 40.0);
    QCOMPARE(view.waveformView()->visibleStartSeconds(),
             view.spectrogramView()->visibleStartSeconds());
    QCOMPARE(view.waveformView()->visibleEndSeconds(), view.spectrogramView()->visibleEndSeconds());
    view.zoomToFit();
    QVERIFY(qAbs(view.visibleSeconds() - view.durationSeconds()) < 1e-6);
    // The waveform shows first; the spectrogram and the curves follow from their own worker.
    QSignalSpy spectrogramReady(&view, &ClipView::spectrogramReady);
    QTRY_VERIFY_WITH_TIMEOUT(view.spectrogramView()->spectrogram() != nullptr, 30000);
    QVERIFY(view.curveView()->curves() != nullptr);
    const AcousticCurves &curves = *view.curveView()->curves();
    QCOMPARE(curves.frameCount(), 4000);
    int at220 = 0;
    for (int i = 0; i < curves.frameCount(); ++i)
        at220 += curves.isVoiced(i) && qAbs(curves.f0Hz[size_t(i)] - 220) < 2.2 ? 1 : 0;
    QVERIFY2(at220 > 3900, qPrintable(QString::number(at220)));
    view.zoomIn();
    QCOMPARE(view.curveView()->visibleStartSeconds(), view.waveformView()->visibleStartSeconds());
    QCOMPARE(view.curveView()->visibleEndSeconds(), view.waveformView()->visibleEndSeconds());
    QVERIFY(distinctColours(view.curveView()->grab().toImage()) > 4);
    view.zoomToFit();
    QVERIFY(!view.spectrogramView()->spectrogram()->image.isNull());
    const auto &spectrogram = *view.spectrogramView()->spectrogram();
    QVERIFY(qAbs(spectrogram.image.width() * spectrogram.hopSeconds - 40.0) < 0.05);
    QVERIFY(distinctColours(view.spectrogramView()->grab().toImage()) > 4);

    // Switching clips while one decodes drops the stale result.
    view.loadClip(8, path, QStringLiteral("again"), 40.0);
    view.clearClip();
    QTest::qWait(50);
    QCOMPARE(view.utteranceId(), qint64(0));
}

void TestMainWindow::shortcutsAreListed()
{
    MainWindow window;
    window.show();
    QApplication::setActiveWindow(&window);
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QTest::keyClick(&window, Qt::Key_F1);
    ShortcutsDialog *dialog = window.findChild<ShortcutsDialog *>();
    QVERIFY2(dialog, "F1 opens the keyboard shortcuts");
    auto *tree = dialog->findChild<QTreeWidget *>();
    QVERIFY(tree);
    QStringList rows;
    for (int g = 0; g < tree->topLevelItemCount(); ++g)
        for (int i = 0; i < tree->topLevelItem(g)->childCount(); ++i)
            rows << tree->topLevelItem(g)->child(i)->text(0) + QLatin1Char('=') +
                        tree->topLevelItem(g)->child(i)->text(1);
    const QString all = rows.join(QLatin1Char('\n'));
    for (const char *expected :
         {"Next Clip=Down", "Undo=Ctrl+Z", "Play=Space", "Import Corpus=Ctrl+I"})
        QVERIFY2(all.contains(QLatin1String(expected)), qPrintable(all));
}

void TestMainWindow::audioFoldersOnThisMachineFindMovedAudio()
{
    // Another machine imported the corpus from its mount point; here the same folder is mounted
    // elsewhere. File > Audio Folders on This Machine maps it, the clips play from here, and
    // the map is kept for the workspace.
    const QString folder = corpusFolder(QStringLiteral("generic-csv"), m_scratch);
    QVERIFY(!folder.isEmpty());
    QTemporaryDir dir;
    const QString theirs = dir.filePath(QStringLiteral("their-mount/corpus"));
    const QString ours = dir.filePath(QStringLiteral("our-mount/corpus"));
    QVERIFY(QDir().mkpath(dir.filePath(QStringLiteral("their-mount"))));
    QCOMPARE(QProcess::execute(QStringLiteral("cp"), {QStringLiteral("-r"), folder, theirs}), 0);
    const QString workspace = dir.filePath(QStringLiteral("shared.emolens"));
    QSettings().remove(QStringLiteral("workspace/pathMaps"));

    MainWindow window;
    window.resize(1200, 800);
    window.show();
    QVERIFY(window.createWorkspace(workspace).ok());
    QVERIFY(test::importInto(window, theirs));
    const int clips = window.utteranceModel()->rowCount();
    QVERIFY(clips >= 8);
    QVERIFY(window.closeWorkspace().ok());
    QVERIFY(QDir().mkpath(dir.filePath(QStringLiteral("our-mount"))));
    QVERIFY(QDir().rename(theirs, ours));

    // Here, the stored paths lead nowhere: the clip cannot load.
    QSignalSpy failed(window.clipView(), &ClipView::loadFailed);
    QVERIFY(window.openWorkspace(workspace).ok()); // it lands on the first clip
    QTableView *table = window.utteranceTable();
    QTRY_VERIFY(!failed.isEmpty());
    QVERIFY2(failed.first().first().toString().contains(theirs),
             qPrintable(failed.first().first().toString()));
    QVERIFY(window.clipView()->clip() == nullptr);

    QVERIFY(window.pathMapAction()->isEnabled());
    PathMapDialog *dialog = window.showPathMapDialog();
    QVERIFY(dialog);
    QVERIFY2(dialog->foundLabel()->text().contains(QStringLiteral("0 of the %1 clips").arg(clips)),
             qPrintable(dialog->foundLabel()->text()));
    QVERIFY2(dialog->foundLabel()->text().contains(theirs),
             qPrintable(dialog->foundLabel()->text()));
    // Add proposes the corpus folder that is missing here; this machine's folder goes beside it.
    QTest::mouseClick(dialog->addButton(), Qt::LeftButton);
    QCOMPARE(dialog->table()->rowCount(), 1);
    QCOMPARE(dialog->table()->item(0, 0)->text(), theirs);
    dialog->table()->item(0, 1)->setText(QStringLiteral("not/absolute"));
    QVERIFY2(dialog->foundLabel()->text().contains(QStringLiteral("not an absolute path")),
             qPrintable(dialog->foundLabel()->text()));
    dialog->table()->item(0, 1)->setText(ours);
    QVERIFY2(dialog->foundLabel()->text().contains(
                 QStringLiteral("%1 of the %1 clips are found").arg(clips)),
             qPrintable(dialog->foundLabel()->text()));
    dialog->accept();

    QTRY_VERIFY(window.clipView()->clip() != nullptr);
    const qint64 id = window.currentUtteranceId();
    Database db(workspace);
    QVERIFY(db.open().ok());
    // Every connection of this process to the workspace maps its paths (jobs' too) ...
    QVERIFY(CorpusRepository(db).utterance(id)->path.startsWith(ours + u'/'));
    // ... while the workspace keeps naming the audio as it was imported.
    db.setPathMap(PathMap());
    const auto stored = CorpusRepository(db).utterance(id);
    QVERIFY(stored && stored->path.startsWith(theirs + u'/'));
    QVERIFY(window.session()->database()->pathMap().toLocal(stored->path).startsWith(ours + u'/'));

    // Kept for the workspace: opened again, its clips load from here at once.
    QVERIFY(window.closeWorkspace().ok());
    QVERIFY(window.openWorkspace(workspace).ok());
    table->setCurrentIndex(table->model()->index(1, 0));
    QTRY_VERIFY(window.clipView()->clip() != nullptr);
    QSettings().remove(QStringLiteral("workspace/pathMaps"));
}

void TestMainWindow::othersLabelsShowWithinSeconds()
{
    // Another program (a colleague's EmoLens on the same file, a script) labels clips while the
    // window is open: the rows, and the panel of the clip in view, show it within seconds.
    const QString folder = corpusFolder(QStringLiteral("generic-csv"), m_scratch);
    QTemporaryDir dir;
    const QString workspace = dir.filePath(QStringLiteral("live.emolens"));
    MainWindow window;
    QVERIFY(test::labelingFromFirstClip(window, workspace, folder));
    const qint64 current = window.currentUtteranceId();
    const UtteranceRow other = window.utteranceModel()->rowAt(3);
    QVERIFY(other.id != current);
    {
        Database db(workspace);
        QVERIFY(db.open().ok());
        LabelRepository labels(db);
        const auto schema = labels.schemaForUtterance(current);
        QVERIFY(schema && schema->classes.size() >= 2);
        for (const qint64 id : {current, other.id})
            QVERIFY(labels.setLabel(id, schema->id, QStringLiteral("dana"),
                                    LabelValue::ofCategory(schema->classes.last())));
    }
    const auto shows = [&window](qint64 id) {
        const int row = window.utteranceModel()->rowOf(id);
        return row >= 0 &&
               window.utteranceModel()->rowAt(row).labeledByPeople.contains(QStringLiteral("dana"));
    };
    QTRY_VERIFY_WITH_TIMEOUT(shows(other.id) && shows(current),
                             3 * LabelingDesk::kLivePollMs + 2000);
    // The panel of the clip in view lists the new row in its history.
    bool inHistory = false;
    for (const LabelRecord &r : window.labelingPanel()->shown().history)
        inHistory = inHistory || r.annotatorName == QLatin1String("dana");
    QVERIFY(inHistory);
    QCOMPARE(window.labelingPanel()->shown().shownLabel,
             window.utteranceModel()->rowAt(window.utteranceModel()->rowOf(current)).label);
}

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
