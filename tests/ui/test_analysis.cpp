// The analysis views driven as a researcher would: Analysis > t-SNE Map computes and keeps a
// map of a real workspace (the generic-csv corpus, fbank features, a model trained from the
// window), a click on a dot opens and plays the clip, a rubber band selects clips that go to
// the queue or the table; the confusion matrix's cells list their clips; the models compare;
// every plot and table exports to files that read back. Two annotators label the same clips
// from the keyboard and Analysis > Annotator Agreement shows their figures, worked by hand.

#include "ClipNavigator.h"
#include "LabelingController.h"
#include "LabelingQueue.h"
#include "MainWindow.h"
#include "QueueModel.h"
#include "TableFilterBar.h"
#include "TestPaths.h"
#include "WindowJobs.h"
#include "charts/AgreementView.h"
#include "charts/AnalysisDialog.h"
#include "charts/ConfusionMatrixView.h"
#include "charts/PlotExport.h"
#include "charts/TsneMapView.h"
#include "common/Progress.h"
#include "jobs/EvaluateJob.h"
#include "jobs/JobQueue.h"
#include "store/AnalysisRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "store/ModelRepository.h"
#include "store/SelectionRepository.h"
#include "store/TraceRepository.h"

#include <QAction>
#include <QApplication>
#include <QChart>
#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QLineF>
#include <QPushButton>
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
#include <QXmlStreamReader>
#include <cmath>

using namespace emolens;

namespace {

constexpr int kJobTimeoutMs = 300000;

QStringList csvLines(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return {};
    return QString::fromUtf8(file.readAll()).trimmed().split(QLatin1Char('\n'));
}

// Counts the elements of an SVG file by name (after checking that it parses as XML).
int svgElements(const QString &path, const QString &name, bool *valid)
{
    QFile file(path);
    *valid = false;
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    QXmlStreamReader xml(&file);
    int count = 0;
    bool sawSvg = false;
    while (!xml.atEnd()) {
        if (xml.readNext() == QXmlStreamReader::StartElement) {
            sawSvg = sawSvg || xml.name() == QLatin1String("svg");
            if (xml.name() == name)
                ++count;
        }
    }
    *valid = !xml.hasError() && sawSvg;
    return count;
}

} // namespace

class TestAnalysis : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void mapComputesKeepsAndOpensItsClips();
    void confusionCellsListTheirClipsAndModelsCompare();
    void agreementComparesTheAnnotatorsAndPlaysTheirDisagreements();

private:
    QTemporaryDir m_scratch;
    QString m_workspace;
};

void TestAnalysis::initTestCase()
{
    QCoreApplication::setOrganizationName(QStringLiteral("EmoLensTests"));
    QCoreApplication::setApplicationName(QStringLiteral("test_analysis"));
    QSettings settings;
    settings.clear();
    settings.setValue(QStringLiteral("model/recipe"), QStringLiteral("baseline"));
    settings.setValue(QStringLiteral("model/epochs"), 8);
    // 48 clips: a perplexity of 10 (t-SNE needs more than 3 x P + 1 clips).
    settings.setValue(QStringLiteral("analysis/perplexity"), 10);
    settings.setValue(QStringLiteral("analysis/iterations"), 500);
    QVERIFY(m_scratch.isValid());
    QVERIFY2(QFileInfo(test::corpus(QStringLiteral("generic-csv"))).isDir(),
             "EMOLENS_TEST_CORPORA is not set or has no generic-csv (run ctest)");

    // The workspace both tests use: imported, features extracted, two models trained.
    m_workspace = m_scratch.filePath(QStringLiteral("analysis.emolens"));
    MainWindow window;
    QVERIFY(test::labelingFromFirstClip(window, m_workspace,
                                        test::corpus(QStringLiteral("generic-csv"))));
    QVERIFY(test::runExtraction(window, kJobTimeoutMs));
    for (int epochs : {8, 3}) {
        settings.setValue(QStringLiteral("model/epochs"), epochs);
        QSignalSpy trained(&window, &MainWindow::trainingFinished);
        window.retrainAction()->trigger();
        QVERIFY(trained.wait(kJobTimeoutMs) || !trained.isEmpty());
        QVERIFY2(trained.first().first().value<JobResult>().ok(),
                 qPrintable(trained.first().first().value<JobResult>().summary));
    }
}

void TestAnalysis::mapComputesKeepsAndOpensItsClips()
{
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.openWorkspace(m_workspace).ok());
    QCOMPARE(window.mapAction()->shortcut(), QKeySequence(QStringLiteral("Ctrl+Shift+A")));
    window.mapAction()->trigger();
    AnalysisDialog *dialog = window.analysisDialog();
    QVERIFY(dialog && dialog->isVisible());
    QCOMPARE(dialog->tabs()->currentIndex(), int(AnalysisDialog::MapPage));
    QVERIFY(QTest::qWaitForWindowExposed(dialog));
    // The sources: fbank's layer, and each model's pooled vectors; no map stored yet.
    QCOMPARE(dialog->source(), QStringLiteral("encoder:fbank:0"));
    QVERIFY(dialog->sourceCombo()->findData(QStringLiteral("model:1")) >= 0);
    TsneMapView *map = dialog->mapView();
    QCOMPARE(map->count(), 0);
    QCOMPARE(dialog->perplexitySpin()->value(), 10); // remembered settings

    // Compute Map: the map animates while the job runs (the dialog shows each published
    // layout), then shows the stored layout.
    QSignalSpy published(window.jobQueue(), &JobQueue::intermediate);
    int animatedFrames = 0;
    connect(window.jobQueue(), &JobQueue::intermediate, map,
            [&animatedFrames, map] { animatedFrames += map->count() > 0 ? 1 : 0; });
    QTest::mouseClick(dialog->computeButton(), Qt::LeftButton);
    QVERIFY(dialog->isComputing());
    QVERIFY(!dialog->computeButton()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(!dialog->isComputing(), kJobTimeoutMs);
    QVERIFY2(published.size() >= 500 / 25, qPrintable(QString::number(published.size())));
    QVERIFY(animatedFrames >= published.size() - 1);
    QCOMPARE(map->count(), 48);
    QVERIFY2(dialog->mapStatus()->text().contains(QLatin1String("trustworthiness")),
             qPrintable(dialog->mapStatus()->text()));
    qint64 layoutId = 0;
    {
        Database db(m_workspace);
        QVERIFY(db.open());
        const auto stored = AnalysisRepository(db).latestLayout(QStringLiteral("encoder:fbank:0"));
        QVERIFY(stored.has_value());
        QCOMPARE(stored->points.size(), std::size_t(48));
        QVERIFY(stored->settings.contains(QLatin1String("\"perplexity\":10")));
        layoutId = stored->id;
    }

    // Coloured by label: the legend's groups are the label set's classes, every dot in one.
    dialog->setColourBy(AnalysisDialog::ByLabel);
    const QImage drawn = map->grab().toImage();
    QSet<QRgb> colours;
    for (int i = 0; i < map->count(); ++i)
        colours.insert(drawn.pixel(map->screenPosition(i).toPoint()));
    QVERIFY2(colours.size() >= 3, "the classes are drawn in their colours");

    // Hover names the clip; a click opens it in the clip view.
    const qint64 clicked = map->ids()[5];
    const QString tooltip = dialog->tooltipText(clicked);
    QVERIFY2(tooltip.contains(QLatin1String("label:")), qPrintable(tooltip));
    QCOMPARE(map->pointAt(map->screenPosition(5)), 5);
    QTest::mouseClick(map, Qt::LeftButton, {}, map->screenPosition(5).toPoint());
    QCOMPARE(window.currentUtteranceId(), clicked);
    QCOMPARE(map->current(), clicked); // ringed as the clip open in the window
    window.navigator()->select(map->ids()[6]);
    QCOMPARE(map->current(), map->ids()[6]);

    // Zoom and pan keep the data under the pointer where it was.
    const QPointF before = map->screenPosition(7);
    map->zoomBy(2);
    map->fitView();
    QCOMPARE(map->screenPosition(7), before);

    // A rubber band around the left half selects the clips drawn there.
    QList<qint64> expected;
    for (int i = 0; i < map->count(); ++i)
        if (map->screenPosition(i).x() < map->width() / 2.0)
            expected << map->ids()[i];
    QVERIFY(!expected.isEmpty() && expected.size() < 48);
    QTest::mousePress(map, Qt::LeftButton, {}, QPoint(1, 1));
    QTest::mouseMove(map, QPoint(map->width() / 4, map->height() / 2));
    QTest::mouseMove(map, QPoint(map->width() / 2 - 1, map->height() - 1));
    QTest::mouseRelease(map, Qt::LeftButton, {}, QPoint(map->width() / 2 - 1, map->height() - 1));
    QList<qint64> selected = map->selection();
    std::sort(selected.begin(), selected.end());
    std::sort(expected.begin(), expected.end());
    QCOMPARE(selected, expected);
    QVERIFY(dialog->sendToQueueButton()->isEnabled());

    // A lasso (the Lasso button): a diamond around the map's middle selects exactly the dots
    // inside it, |dx| / a + |dy| / b < 1, and Shift adds the rubber band's clips back.
    {
        QVERIFY(!dialog->lassoButton()->isChecked());
        QTest::mouseClick(dialog->lassoButton(), Qt::LeftButton);
        QCOMPARE(map->selectShape(), TsneMapView::SelectShape::Lasso);
        // Centred on the dot nearest the map's middle, so it holds some but not all.
        const QPointF middle(map->width() / 2.0, map->height() / 2.0);
        QPointF centre = map->screenPosition(0);
        for (int i = 1; i < map->count(); ++i)
            if (QLineF(map->screenPosition(i), middle).length() < QLineF(centre, middle).length())
                centre = map->screenPosition(i);
        centre += QPointF(0.5, 0.5); // not on the dot itself
        const double a0 =
            std::min({map->width() * 0.3, centre.x() - 2, map->width() - centre.x() - 2});
        const double b0 =
            std::min({map->height() * 0.3, centre.y() - 2, map->height() - centre.y() - 2});
        // Shrunk until no dot lies so close to an edge that the lasso's pixels decide it.
        double a = a0, b = b0;
        QList<qint64> inDiamond;
        for (double f = 1; f > 0.2; f *= 0.93) {
            a = a0 * f;
            b = b0 * f;
            inDiamond.clear();
            bool onEdge = false;
            for (int i = 0; i < map->count(); ++i) {
                const QPointF d = map->screenPosition(i) - centre;
                const double r = std::abs(d.x()) / a + std::abs(d.y()) / b;
                onEdge = onEdge || std::abs(r - 1) < 0.03;
                if (r < 1)
                    inDiamond << map->ids()[i];
            }
            if (!onEdge)
                break;
        }
        QVERIFY(!inDiamond.isEmpty() && inDiamond.size() < map->count());
        // The diamond's edges walked in 4-pixel steps, as a hand would draw it.
        const QList<QPointF> corners = {centre + QPointF(0, -b), centre + QPointF(a, 0),
                                        centre + QPointF(0, b), centre + QPointF(-a, 0)};
        QTest::mousePress(map, Qt::LeftButton, {}, corners[0].toPoint());
        for (int c = 0; c < 4; ++c) {
            const QPointF from = corners[c], to = corners[(c + 1) % 4];
            const int steps = int(std::ceil(QLineF(from, to).length() / 4));
            for (int k = 1; k <= steps; ++k)
                QTest::mouseMove(map, (from + (to - from) * (double(k) / steps)).toPoint());
        }
        QTest::mouseRelease(map, Qt::LeftButton, {}, corners[0].toPoint());
        QList<qint64> lassoed = map->selection();
        std::sort(lassoed.begin(), lassoed.end());
        std::sort(inDiamond.begin(), inDiamond.end());
        QCOMPARE(lassoed, inDiamond);

        // Alt while dragging draws the other shape: here the rubber band, added with Shift.
        QTest::mousePress(map, Qt::LeftButton, Qt::AltModifier | Qt::ShiftModifier, QPoint(1, 1));
        QTest::mouseMove(map, QPoint(map->width() / 4, map->height() / 2));
        QTest::mouseMove(map, QPoint(map->width() / 2 - 1, map->height() - 1));
        QTest::mouseRelease(map, Qt::LeftButton, Qt::AltModifier | Qt::ShiftModifier,
                            QPoint(map->width() / 2 - 1, map->height() - 1));
        QSet<qint64> both(inDiamond.begin(), inDiamond.end());
        both.unite(QSet<qint64>(expected.begin(), expected.end()));
        QCOMPARE(map->selection().size(), both.size());
        for (qint64 id : map->selection())
            QVERIFY(both.contains(id));

        // Back to the rubber band and its selection for what follows.
        QTest::mouseClick(dialog->lassoButton(), Qt::LeftButton);
        QCOMPARE(map->selectShape(), TsneMapView::SelectShape::Rectangle);
        map->setSelection(selected);
    }

    // Show in Table: the table shows those clips only, until its button clears them.
    QTest::mouseClick(dialog->showInTableButton(), Qt::LeftButton);
    QCOMPARE(window.utteranceTable()->model()->rowCount(), int(selected.size()));
    QVERIFY(window.filterBar()->chosenButton()->isVisible());
    QTest::mouseClick(window.filterBar()->chosenButton(), Qt::LeftButton);
    QCOMPARE(window.utteranceTable()->model()->rowCount(), 48);

    // Send to Queue: a round of its own, in the map's order, in front in the Queue tab.
    QTest::mouseClick(dialog->sendToQueueButton(), Qt::LeftButton);
    QCOMPARE(window.centreTabs()->currentIndex(), 1);
    QCOMPARE(window.labelingQueue()->model()->rowCount(), int(selected.size()));
    {
        Database db(m_workspace);
        QVERIFY(db.open());
        SelectionRepository rounds(db);
        const auto round = rounds.latestRound();
        QVERIFY(round.has_value());
        QCOMPARE(round->strategy, QStringLiteral("chosen"));
        QCOMPARE(rounds.picks(round->id).size(), selected.size());
        QVERIFY(rounds.picks(round->id).first().reason.contains(QLatin1String("t-SNE map")));
    }

    // Exports: PNG and SVG of the map, CSV of its points.
    const QString png = m_scratch.filePath(QStringLiteral("map.png"));
    QVERIFY(savePlot(map, png, QStringLiteral("map")));
    QImage image(png);
    QCOMPARE(image.size(), map->size() * map->devicePixelRatioF());
    const QString svg = m_scratch.filePath(QStringLiteral("map.svg"));
    QVERIFY(savePlot(map, svg, QStringLiteral("map")));
    bool valid = false;
    const int shapes = svgElements(svg, QStringLiteral("path"), &valid) +
                       svgElements(svg, QStringLiteral("ellipse"), &valid) +
                       svgElements(svg, QStringLiteral("circle"), &valid);
    QVERIFY(valid);
    QVERIFY2(shapes >= 48, qPrintable(QString::number(shapes))); // the dots as vectors
    QVERIFY(!savePlot(map, m_scratch.filePath(QStringLiteral("map.bmp")), QString()));
    const QString csv = m_scratch.filePath(QStringLiteral("map.csv"));
    QVERIFY(dialog->saveMapCsv(csv));
    const QStringList lines = csvLines(csv);
    QCOMPARE(lines.size(), 49);
    QCOMPARE(lines[0], QStringLiteral("id,key,x,y,label,speaker,gender,corpus,predicted"));

    // Reopened, the map is back at once from the store (no job).
    dialog->close();
    QTRY_VERIFY(!window.analysisDialog());
    window.mapAction()->trigger();
    dialog = window.analysisDialog();
    QVERIFY(dialog);
    QCOMPARE(dialog->mapView()->count(), 48);
    QVERIFY(!dialog->isComputing());
    {
        Database db(m_workspace);
        QVERIFY(db.open());
        QCOMPARE(AnalysisRepository(db).latestLayout()->id, layoutId);
    }

    // Cancel: a model's vectors, cancelled while it runs, keeps what was stored.
    dialog->setSource(QStringLiteral("model:1"));
    QCOMPARE(dialog->mapView()->count(), 0);
    QVERIFY(dialog->computeMap());
    window.jobQueue()->cancelAll();
    QTRY_VERIFY_WITH_TIMEOUT(!dialog->isComputing(), 20000);
    {
        Database db(m_workspace);
        QVERIFY(db.open());
        QVERIFY(!AnalysisRepository(db).latestLayout(QStringLiteral("model:1")).has_value());
    }
    QCOMPARE(dialog->mapView()->count(), 0);
}

void TestAnalysis::confusionCellsListTheirClipsAndModelsCompare()
{
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.openWorkspace(m_workspace).ok());
    window.confusionAction()->trigger();
    AnalysisDialog *dialog = window.analysisDialog();
    QVERIFY(dialog);
    QCOMPARE(dialog->tabs()->currentIndex(), int(AnalysisDialog::ConfusionPage));
    QVERIFY(QTest::qWaitForWindowExposed(dialog));

    // The active model on its held-out speakers: the matrix is the one its run stored.
    Database db(m_workspace);
    QVERIFY(db.open());
    ModelRepository models(db);
    const auto active = models.activeModel();
    QVERIFY(active.has_value());
    QCOMPARE(dialog->confusionModelCombo()->currentData().toLongLong(), active->id);
    const MetricsRow stored = models.metrics(active->runId).value(0);
    const ModelConfusion &shown = dialog->confusion();
    QCOMPARE(shown.metrics.confusion, stored.confusion);
    QCOMPARE(dialog->matrixView()->classes(), stored.labels);
    QVERIFY2(dialog->confusionSummary()->text().contains(
                 QStringLiteral("UA %1").arg(stored.ua, 0, 'f', 3)),
             qPrintable(dialog->confusionSummary()->text()));
    // Per class: support, predictions, precision, recall and F1 from the matrix by hand.
    QTableWidget *classes = dialog->classTable();
    QCOMPARE(classes->rowCount(), stored.labels.size());
    for (int c = 0; c < stored.labels.size(); ++c) {
        int support = 0, predicted = 0;
        for (int k = 0; k < stored.labels.size(); ++k) {
            support += stored.confusion[c][k];
            predicted += stored.confusion[k][c];
        }
        const int hits = stored.confusion[c][c];
        const double precision = predicted > 0 ? double(hits) / predicted : 0;
        const double recall = support > 0 ? double(hits) / support : 0;
        const double f1 =
            precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
        QCOMPARE(classes->item(c, 0)->text(), stored.labels[c]);
        QCOMPARE(classes->item(c, 1)->text().toInt(), support);
        QCOMPARE(classes->item(c, 2)->text().toInt(), predicted);
        QCOMPARE(classes->item(c, 3)->text(), QString::number(precision, 'f', 3));
        QCOMPARE(classes->item(c, 4)->text(), QString::number(recall, 'f', 3));
        QCOMPARE(classes->item(c, 5)->text(), QString::number(f1, 'f', 3));
    }

    // A click on the fullest cell lists its clips; a double click opens one.
    ConfusionMatrixView *matrix = dialog->matrixView();
    int bestT = 0, bestP = 0;
    for (int t = 0; t < stored.labels.size(); ++t)
        for (int p = 0; p < stored.labels.size(); ++p)
            if (stored.confusion[t][p] > stored.confusion[bestT][bestP]) {
                bestT = t;
                bestP = p;
            }
    QTest::mouseClick(matrix, Qt::LeftButton, {}, matrix->cellRect(bestT, bestP).center());
    QCOMPARE(matrix->currentCell(), qMakePair(bestT, bestP));
    QTableWidget *clips = dialog->cellClipsTable();
    QCOMPARE(clips->rowCount(), stored.confusion[bestT][bestP]);
    for (int r = 0; r < clips->rowCount(); ++r) {
        QCOMPARE(clips->item(r, 2)->text(), stored.labels[bestT]);
        QCOMPARE(clips->item(r, 3)->text(), stored.labels[bestP]);
    }
    const qint64 firstClip = clips->item(0, 0)->data(Qt::UserRole + 1).toLongLong();
    const QRect row = clips->visualItemRect(clips->item(0, 0));
    QTest::mouseDClick(clips->viewport(), Qt::LeftButton, {}, row.center());
    QCOMPARE(window.currentUtteranceId(), firstClip);
    // Play in Turn: each clip in order, the next when the player reaches the end of one.
    if (clips->rowCount() > 1) {
        dialog->playCellInTurn();
        QCOMPARE(window.currentUtteranceId(), firstClip);
        dialog->playNextInTurn();
        QCOMPARE(window.currentUtteranceId(),
                 clips->item(1, 0)->data(Qt::UserRole + 1).toLongLong());
    }

    // Row-normalised shows shares; every labeled clip counts the training clips too.
    QVERIFY(dialog->normaliseBox()->isChecked()); // the default
    dialog->normaliseBox()->setChecked(false);
    QVERIFY(!matrix->isNormalised());
    dialog->splitCombo()->setCurrentIndex(1);
    QCOMPARE(dialog->confusion().metrics.count, 48);

    // Exports: the matrix as PNG and SVG, the per-class table as CSV.
    const QString png = m_scratch.filePath(QStringLiteral("confusion.png"));
    QVERIFY(savePlot(matrix, png, QStringLiteral("confusion")));
    QVERIFY(!QImage(png).isNull());
    const QString svg = m_scratch.filePath(QStringLiteral("confusion.svg"));
    QVERIFY(savePlot(matrix, svg, QStringLiteral("confusion")));
    bool valid = false;
    svgElements(svg, QStringLiteral("text"), &valid);
    QVERIFY(valid);
    const QString csv = m_scratch.filePath(QStringLiteral("classes.csv"));
    QVERIFY(saveTableCsv(classes->model(), csv));
    const QStringList lines = csvLines(csv);
    QCOMPARE(lines.size(), stored.labels.size() + 1);
    QCOMPARE(lines[0], QStringLiteral("Class,Clips,Predicted,Precision,Recall,F1"));
    QVERIFY(!saveTableCsv(classes->model(), m_scratch.filePath(QStringLiteral("no/such/dir.csv"))));

    // A cross-validation run (emolens-cli evaluate): its pooled and per-fold matrices, as
    // stored; a cell lists the clips its fold predicted so.
    EvaluateRequest request;
    request.databasePath = m_workspace;
    request.recipe = QStringLiteral("baseline");
    request.k = 2;
    request.epochs = 3;
    auto evaluation = std::make_shared<EvaluateJob>(request);
    SilentProgress quiet;
    QVERIFY(JobQueue::runToEnd(evaluation, quiet).ok());
    dialog->reload();
    dialog->setConfusionRun(evaluation->runId());
    QVERIFY(dialog->foldCombo()->isVisible() && !dialog->splitCombo()->isVisible());
    const QList<MetricsRow> folds = models.metrics(evaluation->runId());
    QCOMPARE(folds.size(), 3); // pooled, then folds 1 and 2
    QCOMPARE(dialog->foldCombo()->count(), 3);
    QCOMPARE(dialog->confusion().metrics.confusion, folds[0].confusion);
    QCOMPARE(dialog->confusion().metrics.count, 48);
    dialog->foldCombo()->setCurrentIndex(2);
    QCOMPARE(dialog->confusion().metrics.confusion, folds[2].confusion);
    QVERIFY2(dialog->confusionSummary()->text().contains(QLatin1String("fold 2")),
             qPrintable(dialog->confusionSummary()->text()));
    {
        // The fold's fullest cell: its clips, each of fold 2's test speakers, open on a click.
        int bestT = 0, bestP = 0;
        for (int t = 0; t < folds[2].confusion.size(); ++t)
            for (int p = 0; p < folds[2].confusion[t].size(); ++p)
                if (folds[2].confusion[t][p] > folds[2].confusion[bestT][bestP]) {
                    bestT = t;
                    bestP = p;
                }
        QTest::mouseClick(matrix, Qt::LeftButton, {}, matrix->cellRect(bestT, bestP).center());
        QCOMPARE(clips->rowCount(), folds[2].confusion[bestT][bestP]);
        const QList<RunPredictionRow> fold2 = models.runPredictions(evaluation->runId(), 2);
        QCOMPARE(fold2.size(), folds[2].n);
        QSet<qint64> inFold2;
        for (const RunPredictionRow &p : fold2)
            inFold2.insert(p.utteranceId);
        for (int r = 0; r < clips->rowCount(); ++r) {
            QVERIFY(inFold2.contains(clips->item(r, 0)->data(Qt::UserRole + 1).toLongLong()));
            QCOMPARE(clips->item(r, 2)->text(), folds[2].labels[bestT]);
            QCOMPARE(clips->item(r, 3)->text(), folds[2].labels[bestP]);
        }
        QTest::mouseDClick(clips->viewport(), Qt::LeftButton, {},
                           clips->visualItemRect(clips->item(0, 0)).center());
        QCOMPARE(window.currentUtteranceId(),
                 clips->item(0, 0)->data(Qt::UserRole + 1).toLongLong());
    }
    if (const QByteArray shots = qgetenv("EMOLENS_TEST_SCREENSHOTS"); !shots.isEmpty())
        for (const QSize size : {QSize(860, 600), QSize(1200, 800)}) {
            dialog->resize(size);
            QTest::qWait(50);
            dialog->grab().save(QString::fromLocal8Bit(shots) +
                                QStringLiteral("/cross-validation-%1.png").arg(size.width()));
        }
    dialog->setConfusionModel(active->id);
    QVERIFY(!dialog->foldCombo()->isVisible() && dialog->splitCombo()->isVisible());

    // Compare Models: both versions listed with their figures, their curves overlaid, and the
    // per-class recall of the two with its difference.
    window.compareAction()->trigger();
    QCOMPARE(dialog->tabs()->currentIndex(), int(AnalysisDialog::ModelsPage));
    QTableWidget *table = dialog->modelsTable();
    const QList<ModelVersionRecord> versions = models.models();
    QCOMPARE(versions.size(), 2);
    QCOMPARE(table->rowCount(), 2);
    for (int r = 0; r < 2; ++r) {
        QCOMPARE(table->item(r, 5)->text(), QString::number(versions[r].validationUa, 'f', 3));
        QCOMPARE(table->item(r, 3)->text().toInt(), 48); // labels used
    }
    QCOMPARE(dialog->curvesChart()->series().size(), 2);
    table->item(1, 0)->setCheckState(Qt::Unchecked);
    QCOMPARE(dialog->curvesChart()->series().size(), 1);
    QTableWidget *recall = dialog->recallTable();
    QCOMPARE(recall->rowCount(), stored.labels.size());
    const ClassificationMetrics a =
        ClassificationMetrics::fromConfusion(models.metrics(versions[1].runId)[0].labels,
                                             models.metrics(versions[1].runId)[0].confusion);
    const ClassificationMetrics b =
        ClassificationMetrics::fromConfusion(models.metrics(versions[0].runId)[0].labels,
                                             models.metrics(versions[0].runId)[0].confusion);
    for (int c = 0; c < recall->rowCount(); ++c) {
        QCOMPARE(recall->item(c, 1)->text(), QString::number(a.perClass[c].recall, 'f', 3));
        QCOMPARE(recall->item(c, 2)->text(), QString::number(b.perClass[c].recall, 'f', 3));
        QCOMPARE(recall->item(c, 3)->text().toDouble(),
                 QString::number(b.perClass[c].recall - a.perClass[c].recall, 'f', 3).toDouble());
    }
    const QString curves = m_scratch.filePath(QStringLiteral("curves.svg"));
    QVERIFY(savePlot(dialog->curvesPlot(), curves, QStringLiteral("curves")));
    svgElements(curves, QStringLiteral("path"), &valid);
    QVERIFY(valid);
}

QTEST_MAIN(TestAnalysis)
void TestAnalysis::agreementComparesTheAnnotatorsAndPlaysTheirDisagreements()
{
    // A copy: people's labels change what clips show, which the other tests do not expect.
    const QString workspace = m_scratch.filePath(QStringLiteral("agreement.emolens"));
    QVERIFY(QFile::copy(m_workspace, workspace));
    MainWindow window;
    window.show();
    QApplication::setActiveWindow(&window);
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QVERIFY(window.openWorkspace(workspace).ok());
    QTableView *table = window.utteranceTable();
    QList<qint64> clips;
    // ada and ben label the first six clips from the keyboard (key k: the label set's class
    // k); they differ on the fourth only.
    const int keys[2][6] = {{1, 1, 2, 2, 3, 4}, {1, 1, 2, 3, 3, 4}};
    const QStringList people = {QStringLiteral("ada"), QStringLiteral("ben")};
    for (int person = 0; person < 2; ++person) {
        QSettings().setValue(QStringLiteral("annotator/name"), people[person]);
        for (int row = 0; row < 6; ++row) {
            table->setFocus();
            table->setCurrentIndex(table->model()->index(row, 0));
            if (person == 0)
                clips << window.currentUtteranceId();
            QCOMPARE(window.currentUtteranceId(), clips[row]);
            QTest::keyClick(QApplication::focusWidget(), Qt::Key(Qt::Key_0 + keys[person][row]));
        }
        QTRY_COMPARE_WITH_TIMEOUT(window.labeling()->unsavedCount(), 0, 10000);
    }

    window.agreementAction()->trigger();
    AnalysisDialog *dialog = window.analysisDialog();
    QVERIFY(dialog);
    QCOMPARE(dialog->tabs()->currentIndex(), int(AnalysisDialog::AgreementPage));
    AgreementView *view = dialog->agreementView();
    // It measures on a thread of its own; the figures come when it is done.
    const auto measuredNow = [view] {
        return QTest::qWaitFor([view] { return !view->isMeasuring(); }, 10000);
    };
    if (view->includeCorpusBox()->isChecked())
        view->includeCorpusBox()->setChecked(false);
    QVERIFY(measuredNow());
    // By hand: 6 clips, 5 agreeing. Cohen's kappa: observed 5/6, chance (2x2 + 2x1 + 1x2 +
    // 1x1) / 36 = 1/4, so (5/6 - 1/4) / (3/4) = 0.778. Krippendorff's alpha: 12 values (4, 3,
    // 3, 2 per class), one disagreeing pair counted both ways: 1 - (2/12) / (106/132) = 0.792.
    QVERIFY2(view->summary()->text().contains(QStringLiteral("6 clips with categories")),
             qPrintable(view->summary()->text()));
    QVERIFY2(view->summary()->text().contains(QStringLiteral("alpha <b>0.792</b>")),
             qPrintable(view->summary()->text()));
    QTableWidget *pairs = view->pairTable();
    QCOMPARE(pairs->rowCount(), 1);
    QCOMPARE(pairs->item(0, 0)->text(), people[0]);
    QCOMPARE(pairs->item(0, 1)->text(), people[1]);
    QCOMPARE(pairs->item(0, 2)->text(), QStringLiteral("6"));
    QCOMPARE(pairs->item(0, 3)->text(), QStringLiteral("0.778"));
    // The pair's matrix: ada's class 2 against ben's class 3 once, the rest on the diagonal.
    const QStringList classes = view->pairMatrix()->classes();
    QVERIFY(classes.size() >= 4);
    QVERIFY(view->pairTitle()->text().contains(QStringLiteral("ada (rows) against ben")));
    const AnnotatorPairAgreement &pair = view->report().labelSets[view->labelSetIndex()].pairs[0];
    QCOMPARE(pair.confusion[1][2], 1);
    QCOMPARE(pair.confusion[0][0], 2);
    // The one clip they disagree on; a double-click plays it in the window.
    QTableWidget *disagreed = view->disagreementTable();
    QCOMPARE(disagreed->rowCount(), 1);
    QCOMPARE(disagreed->item(0, 2)->text(),
             QStringLiteral("ada: %1, ben: %2").arg(classes[1], classes[2]));
    table->setCurrentIndex(table->model()->index(10, 0));
    QVERIFY(window.currentUtteranceId() != clips[3]);
    QTest::mouseDClick(disagreed->viewport(), Qt::LeftButton, {},
                       disagreed->visualItemRect(disagreed->item(0, 0)).center());
    QCOMPARE(window.currentUtteranceId(), clips[3]);

    // The corpus's own labels as a third annotator: three pairs.
    view->includeCorpusBox()->setChecked(true);
    QVERIFY(view->isMeasuring());
    QVERIFY(measuredNow());
    QCOMPARE(pairs->rowCount(), 3);
    QVERIFY(QSettings().value(QStringLiteral("analysis/agreementIncludeCorpus")).toBool());
    view->includeCorpusBox()->setChecked(false);
    QVERIFY(measuredNow());
    QCOMPARE(pairs->rowCount(), 1);

    // No traces yet: the traces table is empty. Two people's identical valence traces of a
    // clip: concordance and Cronbach's alpha 1.
    QCOMPARE(view->traceTable()->rowCount(), 0);
    {
        Database db(workspace);
        QVERIFY(db.open());
        for (const QString &who : people) {
            TraceRecord t;
            t.utteranceId = clips[0];
            t.annotatorName = who;
            t.dimension = QStringLiteral("valence");
            for (int i = 0; i < 40; ++i)
                t.samples.push_back(float(0.8 * std::sin(i / 6.0)));
            QVERIFY(TraceRepository(db).addTrace(&t));
        }
    }
    view->reload();
    QVERIFY(measuredNow());
    QTableWidget *traced = view->traceTable();
    QCOMPARE(traced->rowCount(), 1);
    QCOMPARE(traced->item(0, 0)->text(), QStringLiteral("valence"));
    QCOMPARE(traced->item(0, 1)->text(), QStringLiteral("1"));
    QCOMPARE(traced->item(0, 3)->text(), QStringLiteral("1.000"));
    QCOMPARE(traced->item(0, 5)->text(), QStringLiteral("1.000"));

    // Train on: the newest label by default; choosing ben as reviewer is what Retrain reads.
    QComboBox *trainOn = view->trainOnCombo();
    QCOMPARE(trainOn->currentData().toString(), QStringLiteral("newest"));
    const int benReviews = trainOn->findData(QStringLiteral("reviewer:ben"));
    QVERIFY(benReviews >= 0);
    QVERIFY(trainOn->findData(QStringLiteral("majority")) >= 0);
    trainOn->setCurrentIndex(benReviews);
    Q_EMIT trainOn->activated(benReviews);
    QCOMPARE(QSettings().value(QStringLiteral("model/labelRule")).toString(),
             QStringLiteral("reviewer:ben"));
    view->reload();
    QVERIFY(measuredNow());
    QCOMPARE(trainOn->currentData().toString(), QStringLiteral("reviewer:ben"));
    QSettings().remove(QStringLiteral("model/labelRule"));

    // A third person labels the disagreed clip: the open view follows the label change.
    QSettings().setValue(QStringLiteral("annotator/name"), QStringLiteral("cy"));
    QApplication::setActiveWindow(&window);
    QVERIFY(QTest::qWaitForWindowActive(&window));
    table->setFocus();
    table->setCurrentIndex(table->model()->index(0, 0)); // the panel reads cy's judgements
    table->setCurrentIndex(table->model()->index(3, 0));
    QCOMPARE(window.currentUtteranceId(), clips[3]);
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_3);
    QCOMPARE(window.labeling()->myValue(clips[3]).category, classes[2]);
    QTRY_COMPARE_WITH_TIMEOUT(window.labeling()->unsavedCount(), 0, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(pairs->rowCount(), 3, 5000);
    dialog->close();
}

#include "test_analysis.moc"
