// The labeling queue of active learning in the window: ranked by Model > Rank, worked through
// with the number keys while Down and Up follow the queue, retrained after N new labels and
// ranked again without losing the annotator's place.

#include "ClipNavigator.h"
#include "LabelingPanel.h"
#include "LabelingQueue.h"
#include "MainWindow.h"
#include "QueueModel.h"
#include "QueueView.h"
#include "TestPaths.h"
#include "UtteranceTableModel.h"
#include "WindowJobs.h"
#include "charts/LearningCurvesDialog.h"
#include "jobs/Job.h"
#include "jobs/JobQueue.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "store/SelectionRepository.h"

#include <QAction>
#include <QApplication>
#include <QChart>
#include <QComboBox>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QRegularExpression>
#include <QSet>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>

using namespace emolens;

namespace {

constexpr int kJobTimeoutMs = 300000;
const QString kAnnotator = QStringLiteral("Queue Tester");

// The queue's rows' clips, in its order.
QList<qint64> queueIds(const MainWindow &window)
{
    return window.labelingQueue()->model()->ids();
}

} // namespace

class TestLabelingQueue : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void queueKeepsTheAnnotatorsPlaceAcrossARerank();
    void disputedClipsGoToAnotherAnnotator();
    void learningCurvesComeFromStoredSimulations();
    void alpsRanksBySurprisalOnceABackboneIsPretrained();

private:
    QTemporaryDir m_scratch;
};

void TestLabelingQueue::initTestCase()
{
    QCoreApplication::setOrganizationName(QStringLiteral("EmoLensTests"));
    QCoreApplication::setApplicationName(QStringLiteral("test_labeling_queue"));
    QSettings settings;
    settings.clear();
    settings.setValue(QStringLiteral("annotator/name"), kAnnotator);
    settings.setValue(QStringLiteral("labeling/autoAdvance"), true);
    // Quick rounds: the baseline recipe, few epochs, six clips a round, retrain after two.
    settings.setValue(QStringLiteral("model/recipe"), QStringLiteral("baseline"));
    settings.setValue(QStringLiteral("model/epochs"), 5);
    settings.setValue(QStringLiteral("queue/count"), 6);
    settings.setValue(QStringLiteral("queue/retrainAfter"), 2);
    QVERIFY(m_scratch.isValid());
    QVERIFY2(QFileInfo(test::corpus(QStringLiteral("generic-csv"))).isDir(),
             "EMOLENS_TEST_CORPORA is not set or has no generic-csv (run ctest)");
}

void TestLabelingQueue::queueKeepsTheAnnotatorsPlaceAcrossARerank()
{
    const QString path = m_scratch.filePath(QStringLiteral("queue.emolens"));
    MainWindow window;
    QVERIFY(test::labelingFromFirstClip(window, path, test::corpus(QStringLiteral("generic-csv"))));
    QVERIFY(test::runExtraction(window, kJobTimeoutMs));
    LabelingQueue *queue = window.labelingQueue();
    QueueView *view = window.queueView();
    QCOMPARE(window.rankAction()->shortcut(), QKeySequence(Qt::Key_F5));
    QCOMPARE(queue->effectiveStrategy(), QStringLiteral("cold-start")); // no model yet
    QVERIFY2(view->summaryLabel()->text().contains(QLatin1String("No queue yet")),
             qPrintable(view->summaryLabel()->text()));

    // Model > Rank: the Queue tab comes to the front and lists the cold start's picks.
    QSignalSpy ranked(queue, &LabelingQueue::ranked);
    window.rankAction()->trigger();
    QCOMPARE(window.centreTabs()->currentWidget(), view);
    QVERIFY(ranked.wait(kJobTimeoutMs) || !ranked.isEmpty());
    QVERIFY2(ranked.first().first().value<JobResult>().ok(),
             qPrintable(ranked.first().first().value<JobResult>().summary));
    QueueModel *model = queue->model();
    QCOMPARE(model->rowCount(), 6);
    for (const QueueRow &r : model->rows()) {
        QVERIFY2(r.reason.startsWith(QLatin1String("near the centre of cluster")),
                 qPrintable(r.reason));
        QVERIFY(r.label.isEmpty());
    }
    QVERIFY2(view->summaryLabel()->text().startsWith(QLatin1String("Round 1: cold-start")),
             qPrintable(view->summaryLabel()->text()));
    const QList<qint64> first = queueIds(window);

    // A click opens the clip; Down and Up follow the queue, not the table.
    QTableView *table = view->table();
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {},
                      table->visualRect(model->index(0, QueueModel::KeyColumn)).center());
    QCOMPARE(window.currentUtteranceId(), first[0]);
    window.utteranceTable()->setFocus(); // the keys act wherever the focus is in the window
    QTest::keyClick(&window, Qt::Key_Down);
    QCOMPARE(window.currentUtteranceId(), first[1]);
    QCOMPARE(table->currentIndex().row(), 1);
    QTest::keyClick(&window, Qt::Key_Up);
    QCOMPARE(window.currentUtteranceId(), first[0]);

    // Number keys label and move on along the queue; the rows say what was given.
    const QStringList classes = window.labelingPanel()->schema().classes;
    QSignalSpy trained(&window, &MainWindow::trainingFinished);
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_1);
    QCOMPARE(window.currentUtteranceId(), first[1]);
    QTRY_COMPARE(model->rows()[0].label, classes[0]);
    QCOMPARE(queue->labelsSinceRank(), 1);
    QVERIFY(trained.isEmpty());
    // The second label reaches "retrain after 2": the model retrains in the background while
    // the annotator goes on with the third clip.
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_2);
    const qint64 place = first[2];
    QCOMPARE(window.currentUtteranceId(), place);
    QTRY_VERIFY(queue->isWaitingForTraining());
    QVERIFY(trained.wait(kJobTimeoutMs) || !trained.isEmpty());
    QVERIFY2(trained.first().first().value<JobResult>().ok(),
             qPrintable(trained.first().first().value<JobResult>().summary));

    // The trained model ranks again (margin now); the clip being played stays current and
    // first, the labeled ones are gone, the new ranking follows.
    QTRY_COMPARE_WITH_TIMEOUT(ranked.size(), 2, kJobTimeoutMs);
    QVERIFY2(ranked.last().first().value<JobResult>().ok(),
             qPrintable(ranked.last().first().value<JobResult>().summary));
    QCOMPARE(window.currentUtteranceId(), place);
    const QList<qint64> second = queueIds(window);
    QVERIFY(second.size() >= 6);
    QCOMPARE(second.first(), place);
    QVERIFY(model->rows().first().kept);
    QVERIFY(!second.contains(first[0]) && !second.contains(first[1]));
    QCOMPARE(table->currentIndex().row(), 0); // the place is kept in the table too
    QVERIFY2(view->summaryLabel()->text().startsWith(QLatin1String("Round 2: margin by model")),
             qPrintable(view->summaryLabel()->text()));
    for (qsizetype i = 1; i < model->rows().size(); ++i) {
        const QueueRow &r = model->rows()[i];
        if (r.utteranceId == place)
            continue;
        QVERIFY2(r.reason.startsWith(QLatin1String("margin ")), qPrintable(r.reason));
        QVERIFY(classes.contains(r.predicted));
    }
    QCOMPARE(queue->labelsSinceRank(), 0);
    QTest::keyClick(&window, Qt::Key_Down);
    QCOMPARE(window.currentUtteranceId(), second[1]);

    // The rounds are in the workspace: reopening shows the newest where it was left.
    {
        Database db(path);
        QVERIFY(db.open());
        SelectionRepository rounds(db);
        const QList<SelectionRoundRecord> stored = rounds.rounds();
        QCOMPARE(stored.size(), 2);
        QCOMPARE(stored[0].strategy, QStringLiteral("margin"));
        QVERIFY(stored[0].modelId > 0);
        QCOMPARE(stored[1].strategy, QStringLiteral("cold-start"));
        QCOMPARE(stored[1].modelId, 0);
        QCOMPARE(rounds.picks(stored[1].id).size(), 6);
    }
    window.showQueue(false);
    QTest::keyClick(&window, Qt::Key_Down); // the table's order again
    QVERIFY(!window.navigator()->hasOrder());
}

void TestLabelingQueue::disputedClipsGoToAnotherAnnotator()
{
    // Options > Disputed Clips First and Second Opinions: a clip on which Ada and Ben disagree
    // is first in this annotator's queue; a clip they labeled themselves is not offered, one
    // only Ada labeled may be; the queue counts a clip as done when this annotator labels it.
    const QString path = m_scratch.filePath(QStringLiteral("disputes.emolens"));
    QList<qint64> clips;
    QStringList classes;
    {
        MainWindow window;
        QVERIFY(
            test::labelingFromFirstClip(window, path, test::corpus(QStringLiteral("generic-csv"))));
        QVERIFY(test::runExtraction(window, kJobTimeoutMs));
        classes = window.labelingPanel()->schema().classes;
        for (int row = 0; row < 3; ++row)
            clips << window.utteranceModel()->rowAt(row).id;
    }
    {
        Database db(path);
        QVERIFY(db.open());
        CorpusRepository corpora(db);
        LabelRepository labels(db);
        const qint64 schema = corpora.corpus(corpora.utterance(clips[0])->corpusId)->labelSchemaId;
        const auto give = [&](qint64 clip, const QString &who, const QString &category) {
            LabelValue value;
            value.category = category;
            return labels.setLabel(clip, schema, who, value).ok();
        };
        QVERIFY(give(clips[0], QStringLiteral("Ada"), classes[0]));
        QVERIFY(give(clips[0], QStringLiteral("Ben"), classes[1])); // disputed
        QVERIFY(give(clips[1], kAnnotator, classes[0]));            // this annotator's own
        QVERIFY(give(clips[2], QStringLiteral("Ada"), classes[2])); // one opinion, not mine
    }
    MainWindow window;
    window.show();
    QVERIFY(window.openWorkspace(path).ok());
    QueueView *view = window.queueView();
    QVERIFY(view->optionsButton()->menu() != nullptr);
    QVERIFY(!view->disputedFirstAction()->isChecked());
    view->disputedFirstAction()->trigger();
    view->secondOpinionsAction()->trigger();
    QVERIFY(QSettings().value(QStringLiteral("queue/disagreementsFirst")).toBool());
    LabelingQueue *queue = window.labelingQueue();
    QSignalSpy ranked(queue, &LabelingQueue::ranked);
    window.rankAction()->trigger();
    QVERIFY(ranked.wait(kJobTimeoutMs) || !ranked.isEmpty());
    QVERIFY2(ranked.first().first().value<JobResult>().ok(),
             qPrintable(ranked.first().first().value<JobResult>().summary));
    const QList<QueueRow> rows = queue->model()->rows();
    QVERIFY(!rows.isEmpty());
    QCOMPARE(rows.first().utteranceId, clips[0]);
    QCOMPARE(rows.first().reason, QStringLiteral("people disagree (%1 (Ada), %2 (Ben)): another "
                                                 "opinion is needed")
                                      .arg(classes[0], classes[1]));
    QVERIFY(rows.first().label.isEmpty()); // labeled by others, not yet by this annotator
    QVERIFY(!queueIds(window).contains(clips[1]));
    QCOMPARE(queue->roundAnnotator(), kAnnotator);
    QVERIFY(queue->round()->pool.contains(clips[2]));
    QVERIFY(!queue->round()->pool.contains(clips[1]));
    QVERIFY2(view->summaryLabel()->text().contains(QLatin1String("not labeled by Queue Tester")),
             qPrintable(view->summaryLabel()->text()));

    // This annotator gives the third opinion: the row shows it, and moving on skips it.
    QTableView *table = view->table();
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {},
                      table->visualRect(queue->model()->index(0, QueueModel::KeyColumn)).center());
    QCOMPARE(window.currentUtteranceId(), clips[0]);
    window.utteranceTable()->setFocus();
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_1);
    QTRY_VERIFY(!queue->model()->rows().first().label.isEmpty());
    QVERIFY(queue->isLabeled(clips[0]));
    QVERIFY(window.currentUtteranceId() != clips[0]);

    view->disputedFirstAction()->trigger();
    view->secondOpinionsAction()->trigger();
    QVERIFY(!QSettings().value(QStringLiteral("queue/secondOpinions")).toBool());
}

void TestLabelingQueue::learningCurvesComeFromStoredSimulations()
{
    // Model > Learning Curves draws what simulate stored: random dashed as the baseline, a
    // line per strategy with its runs' range, the full UA and 95 % of it; the table gives the
    // fraction of labels to 95 %; the plot saves as PNG and the table as CSV.
    const QString path = m_scratch.filePath(QStringLiteral("curves.emolens"));
    MainWindow window;
    window.show();
    QVERIFY(window.createWorkspace(path).ok());
    QCOMPARE(window.showLearningCurves()->setups().size(), 0);
    QVERIFY(window.learningCurvesDialog()->messageLabel()->text().contains(
        QLatin1String("emolens-cli simulate")));
    {
        Database db(path);
        QVERIFY(db.open());
        SelectionRepository store(db);
        const auto add = [&store](const QString &strategy, qint64 seed, const QList<double> &ua) {
            QJsonArray rounds;
            for (qsizetype i = 0; i < ua.size(); ++i)
                rounds.append(QJsonObject{{QStringLiteral("labeled"), int(40 * (i + 1))},
                                          {QStringLiteral("labeled_fraction"), 0.05 * (i + 1)},
                                          {QStringLiteral("ua"), ua[i]},
                                          {QStringLiteral("train_seconds"), 3.0},
                                          {QStringLiteral("select_seconds"), 0.1}});
            SimulationRecord r;
            r.strategy = strategy;
            r.recipe = QStringLiteral("baseline");
            r.encoder = QStringLiteral("fbank");
            r.seed = seed;
            r.report =
                QString::fromUtf8(QJsonDocument(QJsonObject{{QStringLiteral("pool"), 800},
                                                            {QStringLiteral("test_clips"), 200},
                                                            {QStringLiteral("full_ua"), 0.8},
                                                            {QStringLiteral("full_seconds"), 40.0},
                                                            {QStringLiteral("rounds"), rounds}})
                                      .toJson());
            return store.addSimulation(&r).ok();
        };
        QVERIFY(add(QStringLiteral("margin"), 1, {0.40, 0.62, 0.77, 0.79}));
        QVERIFY(add(QStringLiteral("margin"), 2, {0.42, 0.70, 0.76, 0.80}));
        QVERIFY(add(QStringLiteral("random"), 1, {0.40, 0.55, 0.65, 0.72}));
    }
    QAction *action = window.learningCurvesAction();
    QVERIFY(action->isEnabled());
    action->trigger();
    LearningCurvesDialog *dialog = window.learningCurvesDialog();
    QVERIFY(QTest::qWaitForWindowExposed(dialog));
    QCOMPARE(dialog->setups().size(), 1);
    // Two series per strategy (the mean, the runs' range) and the two reference lines.
    QCOMPARE(dialog->chart()->series().size(), 6);
    QTableWidget *table = dialog->table();
    QCOMPARE(table->rowCount(), 2);
    QCOMPARE(table->item(0, 0)->text(), QStringLiteral("random"));
    QCOMPARE(table->item(0, 2)->text(), QStringLiteral("not reached"));
    QCOMPARE(table->item(1, 0)->text(), QStringLiteral("margin"));
    // Margin reaches 0.76 at 15 % in both runs; 3 rounds of 3.1 s until then.
    QVERIFY2(table->item(1, 2)->text().startsWith(QStringLiteral("15.0 % ± 0.0 % (2 of 2 runs)")),
             qPrintable(table->item(1, 2)->text()));
    QVERIFY2(table->item(1, 4)->text().startsWith(QLatin1String("9.3 s (40.0 s)")),
             qPrintable(table->item(1, 4)->text()));

    const QString png = m_scratch.filePath(QStringLiteral("curves.png"));
    const QString csv = m_scratch.filePath(QStringLiteral("curves.csv"));
    QVERIFY(dialog->saveImage(png));
    const QImage image(png);
    QVERIFY(!image.isNull() && image.width() >= 520 && image.height() >= 300);
    QVERIFY(dialog->saveTable(csv));
    QFile file(csv);
    QVERIFY(file.open(QIODevice::ReadOnly | QIODevice::Text));
    const QStringList lines = QString::fromUtf8(file.readAll()).trimmed().split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), 3);
    QVERIFY(lines[0].startsWith(QLatin1String("setup,strategy,runs,reached,fraction_to_95")));
    QVERIFY2(lines[2].contains(QLatin1String(",margin,2,2,0.15,0,")), qPrintable(lines[2]));
    QVERIFY(!dialog->saveImage(m_scratch.filePath(QStringLiteral("no-such-dir/c.png"))));
    QVERIFY(dialog->messageLabel()->text().contains(QLatin1String("no-such-dir")));
}

void TestLabelingQueue::alpsRanksBySurprisalOnceABackboneIsPretrained()
{
    // ALPS chosen in the Queue tab: refused, saying what to do, until Model > Pre-train on
    // Every Clip has stored a backbone; then one clip per surprisal cluster, with no model.
    QSettings().setValue(QStringLiteral("model/pretrainEpochs"), 2);
    const QString path = m_scratch.filePath(QStringLiteral("alps.emolens"));
    MainWindow window;
    QVERIFY(test::labelingFromFirstClip(window, path, test::corpus(QStringLiteral("generic-csv"))));
    QVERIFY(test::runExtraction(window, kJobTimeoutMs));
    LabelingQueue *queue = window.labelingQueue();
    QComboBox *strategy = window.queueView()->strategyCombo();
    const int alps = strategy->findData(QStringLiteral("alps"));
    QVERIFY(alps > 0);
    QVERIFY2(strategy->itemText(alps).startsWith(QLatin1String("ALPS")),
             qPrintable(strategy->itemText(alps)));
    strategy->setCurrentIndex(alps);
    QCOMPARE(queue->effectiveStrategy(), QStringLiteral("alps"));

    QSignalSpy ranked(queue, &LabelingQueue::ranked);
    window.rankAction()->trigger();
    QVERIFY(ranked.wait(kJobTimeoutMs) || !ranked.isEmpty());
    const JobResult refused = ranked.takeFirst().first().value<JobResult>();
    QVERIFY(!refused.ok());
    QVERIFY2(refused.summary.contains(QLatin1String("Pre-train on Every Clip")),
             qPrintable(refused.summary));
    QCOMPARE(queue->model()->rowCount(), 0);

    QSignalSpy pretrained(&window, &MainWindow::pretrainingFinished);
    window.pretrainAction()->trigger();
    QVERIFY(pretrained.wait(kJobTimeoutMs) || !pretrained.isEmpty());
    QVERIFY2(pretrained.first().first().value<JobResult>().ok(),
             qPrintable(pretrained.first().first().value<JobResult>().summary));

    // The pool's surprisal is the long part: the job says how far it is.
    QStringList said;
    connect(window.jobQueue(), &JobQueue::progress, &window,
            [&said](int, double, const QString &message) { said << message; });
    window.rankAction()->trigger();
    QVERIFY(ranked.wait(kJobTimeoutMs) || !ranked.isEmpty());
    QVERIFY2(ranked.first().first().value<JobResult>().ok(),
             qPrintable(ranked.first().first().value<JobResult>().summary));
    const QStringList surprisalSteps = said.filter(QStringLiteral("ALPS: the surprisal of"));
    QVERIFY2(!surprisalSteps.isEmpty(), qPrintable(said.join(QLatin1Char('\n'))));
    // The last step: every clip of the pool done.
    const QRegularExpressionMatch last =
        QRegularExpression(
            QStringLiteral("the surprisal of (\\d+) of (\\d+) clips under backbone 1$"))
            .match(surprisalSteps.last());
    QVERIFY2(last.hasMatch() && last.captured(1) == last.captured(2) &&
                 last.captured(1).toInt() > 6,
             qPrintable(surprisalSteps.last()));
    QueueModel *model = queue->model();
    QCOMPARE(model->rowCount(), 6);
    QSet<QString> clusters;
    for (const QueueRow &r : model->rows()) {
        QVERIFY2(r.reason.startsWith(QLatin1String("nearest the centre of surprisal cluster")),
                 qPrintable(r.reason));
        clusters.insert(r.reason.section(QLatin1Char(' '), 6, 6));
        QVERIFY(r.predicted.isEmpty()); // no model ranked them
    }
    QCOMPARE(clusters.size(), 6);
    QVERIFY2(window.queueView()->summaryLabel()->text().startsWith(QLatin1String("Round 1: alps")),
             qPrintable(window.queueView()->summaryLabel()->text()));
    strategy->setCurrentIndex(0); // Automatic again, for whatever runs next
}

QTEST_MAIN(TestLabelingQueue)
#include "test_labeling_queue.moc"
