// Feature extraction from the window, offscreen, end to end: import the generated corpus, add
// the tiny HuBERT model folder in Features > Encoders (checked on a worker thread), make it
// active, run Extract Features and find its embeddings in the store through a second
// connection; a folder that is not a model is refused by name; an extraction cancelled from
// the status bar keeps what it did and the next run finishes the rest; a clip that cannot be
// decoded is listed with its reason; a restarted window lists the added model and keeps the
// choice; Remove forgets a model after asking; with the menu's Paper Mode checked, Retrain of
// gmp-atl fine-tunes the model's Transformer layers, and with Speed Perturbation checked, Retrain
// of ari-coattention caches the clips' copies at 0.8 and 1.2 first and trains on them. Settings go
// to a test-only organisation.

#include "CorpusTreeModel.h"
#include "EncodersDialog.h"
#include "FeatureExtractionController.h"
#include "MainWindow.h"
#include "TestPaths.h"
#include "WindowJobs.h"
#include "audio/AudioFile.h"
#include "charts/TrainingDashboard.h"
#include "features/FeatureCache.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/FeatureRepository.h"
#include "store/ModelRepository.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStatusBar>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QToolButton>
#include <QTreeView>

using namespace emolens;

namespace {

constexpr int kJobTimeoutMs = 180000;

QString hubertFolder()
{
    return QDir(test::sourceRoot())
        .filePath(QStringLiteral("tests/models/fixtures/hubert-tiny-base"));
}

// The encoder the workspace stores for this source, read on its own connection.
std::optional<EncoderRecord> storedEncoder(const QString &workspace, const QString &source)
{
    Database db(workspace);
    if (!db.open())
        return std::nullopt;
    for (const EncoderRecord &e : FeatureRepository(db).encoders())
        if (e.source == source)
            return e;
    return std::nullopt;
}

int embeddingCount(const QString &workspace, const QString &source)
{
    Database db(workspace);
    if (!db.open())
        return -1;
    const auto encoder = storedEncoder(workspace, source);
    return encoder ? int(FeatureRepository(db).utterancesWithEmbedding(encoder->id).size()) : 0;
}

int utteranceCount(const QString &workspace)
{
    Database db(workspace);
    return db.open() ? CorpusRepository(db).utteranceCount() : -1;
}

QMessageBox *visibleMessageBox(QWidget *parent)
{
    for (QMessageBox *box : parent->findChildren<QMessageBox *>())
        if (box->isVisible())
            return box;
    return nullptr;
}

// The Retrain Recipe menu's check for this setting key (its data), or null.
QAction *settingCheck(MainWindow &window, const QString &key)
{
    for (QAction *a : window.recipeMenu()->actions())
        if (a->data().toString() == key)
            return a;
    return nullptr;
}

// Retrain from the window, to its end: the job's result.
JobResult retrained(MainWindow &window)
{
    QSignalSpy trained(&window, &MainWindow::trainingFinished);
    window.retrainAction()->trigger();
    if (!trained.wait(kJobTimeoutMs) && trained.isEmpty())
        return JobResult::failed(QStringLiteral("Retrain did not finish"));
    return trained.first().first().value<JobResult>();
}

// The workspace's newest training run, read on its own connection.
TrainingRunRecord newestRun(const QString &workspace)
{
    Database db(workspace);
    TrainingRunRecord newest;
    if (db.open())
        for (const TrainingRunRecord &run : ModelRepository(db).runs())
            if (run.id > newest.id)
                newest = run;
    return newest;
}

} // namespace

class TestFeaturesUi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void addModelFolderAndExtract();
    void paperModeRetrainFineTunesTheEncoder();
    void speedPerturbationRetrainExtractsTheCopiesFirst();
    void taptFromTheModelMenuIsWherePaperRetrainStarts();
    void folderThatIsNotAModelIsRefused();
    void cancelKeepsWhatIsDoneAndResumes();
    void restartKeepsEncodersAndChoice();
    void removeForgetsAModelAfterAsking();
    void clipsThatFailAreListed();
    void extractsOnlyTheShownClips();
    void countsWhatTheCacheHoldsWhenItsFolderIsGone();

private:
    QTemporaryDir m_scratch;
    QString m_workspace;
    QString m_model;
    int m_clips = 0;
};

void TestFeaturesUi::initTestCase()
{
    QCoreApplication::setOrganizationName(QStringLiteral("EmoLensTests"));
    QCoreApplication::setApplicationName(QStringLiteral("test_features_ui"));
    QSettings().clear();
    QVERIFY(m_scratch.isValid());
    const QString corpus = test::corpus(QStringLiteral("generic-csv"));
    // A missing fixture fails the suite: skipping here would turn every case green unseen.
    QVERIFY2(!test::corporaRoot().isEmpty() && QFileInfo(corpus).isDir(),
             "EMOLENS_TEST_CORPORA is not set or has no generic-csv (run ctest)");
    m_model = QFileInfo(hubertFolder()).absoluteFilePath();
    QVERIFY2(QFileInfo::exists(QDir(m_model).filePath(QStringLiteral("model.safetensors"))),
             qPrintable(m_model + ": the tiny HuBERT fixture is missing"));

    m_workspace = m_scratch.filePath(QStringLiteral("study.emolens"));
    MainWindow window;
    window.show();
    QVERIFY(window.createWorkspace(m_workspace).ok());
    QVERIFY(test::importInto(window, corpus));
    m_clips = utteranceCount(m_workspace);
    QCOMPARE(m_clips, 48);
}

void TestFeaturesUi::addModelFolderAndExtract()
{
    MainWindow window;
    window.show();
    QVERIFY(window.openWorkspace(m_workspace).ok());
    QVERIFY(window.encodersAction()->isEnabled());
    QCOMPARE(window.encodersAction()->shortcut(), QKeySequence(QStringLiteral("Ctrl+Shift+E")));
    QCOMPARE(window.extractFeaturesAction()->shortcut(), QKeySequence(QStringLiteral("Ctrl+E")));

    window.encodersAction()->trigger();
    EncodersDialog *dialog = window.encodersDialog();
    QVERIFY(dialog);
    QVERIFY(QTest::qWaitForWindowExposed(dialog));
    QTableWidget *table = dialog->encoderTable();
    QCOMPARE(table->rowCount(), 1);
    QCOMPARE(table->item(0, EncodersDialog::NameColumn)->text(), QStringLiteral("fbank"));
    QCOMPARE(table->item(0, EncodersDialog::LayersColumn)->text(), QStringLiteral("1 x 80"));
    QTRY_COMPARE(table->item(0, EncodersDialog::ExtractedColumn)->text(),
                 QStringLiteral("0 / 48 clips"));
    QCOMPARE(dialog->activeEncoder(), QStringLiteral("fbank"));
    QVERIFY2(!dialog->removeButton()->isEnabled(), "the built-in fbank cannot be removed");
    QCOMPARE(dialog->batchSpinBox()->value(), 160);
    QCOMPARE(dialog->deviceCombo()->currentText(), QStringLiteral("Automatic"));
    QVERIFY(dialog->deviceCombo()->findData(QStringLiteral("cpu")) >= 0);

    // The folder is loaded on a worker thread: the dialog answers meanwhile.
    QSignalSpy added(dialog, &EncodersDialog::encoderAdded);
    QVERIFY(dialog->addEncoderFolder(m_model));
    QVERIFY(dialog->isValidating());
    QVERIFY2(!dialog->addButton()->isEnabled(), "one folder is checked at a time");
    QVERIFY(!dialog->addEncoderFolder(m_model));
    QTRY_VERIFY_WITH_TIMEOUT(!dialog->isValidating(), 60000);
    QCOMPARE(added.count(), 1);
    QVERIFY2(dialog->lastError().isEmpty(), qPrintable(dialog->lastError()));
    QVERIFY(dialog->addButton()->isEnabled());

    QCOMPARE(table->rowCount(), 2);
    const int row = dialog->rowOf(m_model);
    QCOMPARE(row, 1);
    QCOMPARE(table->item(row, EncodersDialog::NameColumn)->text(),
             QStringLiteral("hubert-tiny-base"));
    QCOMPARE(table->item(row, EncodersDialog::TypeColumn)->text(), QStringLiteral("HuBERT"));
    QCOMPARE(table->item(row, EncodersDialog::LayersColumn)->text(), QStringLiteral("3 x 32"));
    QTRY_COMPARE(table->item(row, EncodersDialog::ExtractedColumn)->text(),
                 QStringLiteral("0 / 48 clips"));
    QCOMPARE(table->item(row, EncodersDialog::FolderColumn)->text(),
             QDir::toNativeSeparators(m_model));
    QVERIFY2(storedEncoder(m_workspace, m_model), "the folder is stored in the workspace");

    // Make it active and extract with it.
    table->selectRow(row);
    QVERIFY(dialog->useButton()->isEnabled());
    dialog->useButton()->click();
    QCOMPARE(dialog->activeEncoder(), m_model);
    QVERIFY(!dialog->useButton()->isEnabled());
    QVERIFY(table->item(row, EncodersDialog::NameColumn)->font().bold());

    QSignalSpy finished(&window, &MainWindow::extractionFinished);
    window.extractFeaturesAction()->trigger();
    QVERIFY(window.isExtracting());
    QVERIFY(window.jobProgressBar()->isVisible());
    QVERIFY(window.jobCancelButton()->isVisible());
    QVERIFY(window.jobLabel()->text().contains(QLatin1String("hubert-tiny-base")));
    QVERIFY2(!window.extractFeaturesAction()->isEnabled(), "one job at a time");
    QCOMPARE(table->currentRow(), row);
    QVERIFY2(!dialog->removeButton()->isEnabled(), "no encoder is removed while extracting");
    QVERIFY(!window.startExtraction());
    ImportRequest again;
    again.rootPath = test::corpus(QStringLiteral("generic-csv"));
    QVERIFY2(!window.startImport(again), "no import while extracting");
    QVERIFY(!window.openWorkspace(m_workspace).ok());

    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), kJobTimeoutMs);
    const Status status = finished.first().first().value<Status>();
    QVERIFY2(status.ok(), qPrintable(status.error()));
    QVERIFY(!window.jobProgressBar()->isVisible());
    QVERIFY(window.extractFeaturesAction()->isEnabled());

    QCOMPARE(embeddingCount(m_workspace, m_model), m_clips);
    const QString message = window.statusBar()->currentMessage();
    QVERIFY2(message.startsWith(QLatin1String("Extracted 48 clips with hubert-tiny-base")),
             qPrintable(message));
    QVERIFY2(message.endsWith(QLatin1String("0 failed")), qPrintable(message));
    QVERIFY2(!visibleMessageBox(&window), "no failure dialog when every clip worked");

    // The dialog shows what was done and what the cache holds.
    QTRY_COMPARE(table->item(row, EncodersDialog::ExtractedColumn)->text(),
                 QStringLiteral("48 / 48 clips"));
    // The cache column is measured on a worker thread and filled in when known.
    QTRY_VERIFY(table->item(row, EncodersDialog::CacheColumn)->text().toDouble() > 0);
    const auto encoder = storedEncoder(m_workspace, m_model);
    QVERIFY(encoder);
    QVERIFY(FeatureCache(FeatureCache::defaultRootFor(m_workspace)).bytesOnDisk(encoder->identity) >
            0);

    // Running it again finds everything done.
    QVERIFY(test::runExtraction(window, kJobTimeoutMs));
    QVERIFY2(window.statusBar()->currentMessage().startsWith(QLatin1String("Nothing to extract")),
             qPrintable(window.statusBar()->currentMessage()));
}

void TestFeaturesUi::paperModeRetrainFineTunesTheEncoder()
{
    // The tiny HuBERT is active and extracted (the test before); gmp-atl, shortened.
    QSettings().setValue(QStringLiteral("model/recipe"), QStringLiteral("gmp-atl"));
    QSettings().setValue(QStringLiteral("model/epochs"), 2);
    MainWindow window;
    window.show();
    QVERIFY(window.openWorkspace(m_workspace).ok());
    QAction *paper = settingCheck(window, QStringLiteral("model/paperMode"));
    QVERIFY(paper && paper->isCheckable() && !paper->isChecked());
    QVERIFY(paper->text().contains(QLatin1String("Paper Mode")));
    paper->trigger();
    QVERIFY(QSettings().value(QStringLiteral("model/paperMode")).toBool());

    const JobResult result = retrained(window);
    QVERIFY2(result.ok(), qPrintable(result.summary));
    const TrainingRunRecord run = newestRun(m_workspace);
    QVERIFY2(run.settings.contains(QLatin1String("\"mode\":\"paper\"")) &&
                 run.settings.contains(QLatin1String("encoder-layers=1-2")),
             qPrintable(run.settings));
    paper->trigger(); // back to the one-click mode for the tests after
    QVERIFY(!QSettings().value(QStringLiteral("model/paperMode")).toBool());
    QSettings().remove(QStringLiteral("model/recipe"));
    QSettings().remove(QStringLiteral("model/epochs"));
}

void TestFeaturesUi::speedPerturbationRetrainExtractsTheCopiesFirst()
{
    QSettings().setValue(QStringLiteral("model/recipe"), QStringLiteral("ari-coattention"));
    QSettings().setValue(QStringLiteral("model/epochs"), 1);
    MainWindow window;
    window.show();
    QVERIFY(window.openWorkspace(m_workspace).ok());
    QAction *speed = settingCheck(window, QStringLiteral("model/speedPerturbation"));
    QVERIFY(speed && speed->isCheckable() && !speed->isChecked());
    speed->trigger();
    QVERIFY(QSettings().value(QStringLiteral("model/speedPerturbation")).toBool());

    const JobResult result = retrained(window);
    QVERIFY2(result.ok(), qPrintable(result.summary));
    const TrainingRunRecord newest = newestRun(m_workspace);
    QCOMPARE(newest.recipe, QStringLiteral("ari-coattention"));
    QVERIFY2(newest.settings.contains(QLatin1String("\"speed_perturbation\":true")),
             qPrintable(newest.settings));
    Database db(m_workspace);
    QVERIFY(db.open());
    // The copies are in the cache, beside the clips' own features.
    const auto encoder = storedEncoder(m_workspace, m_model);
    QVERIFY(encoder);
    const FeatureCache cache(FeatureCache::defaultRootFor(m_workspace));
    const UtteranceRecord clip = CorpusRepository(db).utterances().first();
    QVERIFY(cache.contains(encoder->identity, speedKey(clip.contentHash, 0.8)));
    QVERIFY(cache.contains(encoder->identity, speedKey(clip.contentHash, 1.2)));
    speed->trigger();
    QSettings().remove(QStringLiteral("model/recipe"));
    QSettings().remove(QStringLiteral("model/epochs"));
}

void TestFeaturesUi::taptFromTheModelMenuIsWherePaperRetrainStarts()
{
    // Model > Pre-train the Encoder (TAPT, Paper Mode) on the active tiny HuBERT: the
    // extraction caches the TAPT inputs first, the dashboard draws the masked-prediction
    // epochs, the adapted encoder is stored, and a paper-mode Retrain starts from it.
    MainWindow window;
    window.show();
    QVERIFY(window.openWorkspace(m_workspace).ok());
    QAction *tapt = window.taptAction();
    QVERIFY(tapt && tapt->isEnabled());
    QVERIFY(tapt->text().contains(QLatin1String("TAPT, Paper Mode")));
    QSignalSpy pretrained(&window, &MainWindow::pretrainingFinished);
    tapt->trigger();
    QVERIFY(!tapt->isEnabled()); // one training or pre-training at a time
    QVERIFY(pretrained.wait(kJobTimeoutMs) || !pretrained.isEmpty());
    const JobResult result = pretrained.first().first().value<JobResult>();
    QVERIFY2(result.ok(), qPrintable(result.summary));
    QVERIFY2(result.summary.contains(QLatin1String("TAPT of hubert-tiny-base's Transformer on 48 "
                                                   "clips")),
             qPrintable(result.summary));
    TrainingDashboard *dashboard = window.trainingDashboard();
    QVERIFY2(dashboard->titleText().contains(QLatin1String("TAPT of hubert-tiny-base")),
             qPrintable(dashboard->titleText()));
    QCOMPARE(dashboard->epochCount(), 10);

    const auto encoder = storedEncoder(m_workspace, m_model);
    QVERIFY(encoder);
    {
        Database db(m_workspace);
        QVERIFY(db.open());
        const FeatureCache cache(FeatureCache::defaultRootFor(m_workspace));
        for (const UtteranceRecord &clip : CorpusRepository(db).utterances())
            QVERIFY(cache.contains(encoder->identity, taptInputKey(clip.contentHash)));
    }
    const TrainingRunRecord taptRun = newestRun(m_workspace);
    QCOMPARE(taptRun.recipe, QStringLiteral("tapt"));

    // Paper-mode Retrain (gmp-atl, shortened) starts from the adapted encoder.
    QSettings().setValue(QStringLiteral("model/recipe"), QStringLiteral("gmp-atl"));
    QSettings().setValue(QStringLiteral("model/epochs"), 1);
    QAction *paper = settingCheck(window, QStringLiteral("model/paperMode"));
    QVERIFY(paper && !paper->isChecked());
    paper->trigger();
    const JobResult trained = retrained(window);
    QVERIFY2(trained.ok(), qPrintable(trained.summary));
    const TrainingRunRecord run = newestRun(m_workspace);
    QVERIFY2(run.settings.contains(QLatin1String("\"mode\":\"paper\"")) &&
                 !run.settings.contains(QLatin1String("\"backbone_id\":0")),
             qPrintable(run.settings));
    paper->trigger();
    QSettings().remove(QStringLiteral("model/recipe"));
    QSettings().remove(QStringLiteral("model/epochs"));
}

void TestFeaturesUi::folderThatIsNotAModelIsRefused()
{
    MainWindow window;
    window.show();
    QVERIFY(window.openWorkspace(m_workspace).ok());
    EncodersDialog *dialog = window.showEncodersDialog();
    QVERIFY(dialog);
    const int rowsBefore = dialog->encoderTable()->rowCount();
    QCOMPARE(rowsBefore, 2);

    const QString notAModel = test::corpus(QStringLiteral("generic-csv"));
    QSignalSpy failed(dialog, &EncodersDialog::addFailed);
    QVERIFY(dialog->addEncoderFolder(notAModel));
    QTRY_VERIFY_WITH_TIMEOUT(!dialog->isValidating(), 60000);
    QCOMPARE(failed.count(), 1);
    const QString error = dialog->lastError();
    QVERIFY2(error.contains(QDir::toNativeSeparators(QFileInfo(notAModel).absoluteFilePath())),
             qPrintable(error));
    QVERIFY2(error.contains(QLatin1String("config.json")), qPrintable(error));

    // The user sees it in a message box, which the test closes like a user would.
    QMessageBox *box = visibleMessageBox(dialog);
    QVERIFY(box);
    QCOMPARE(box->text(), error);
    box->button(QMessageBox::Ok)->click();
    QTRY_VERIFY(!visibleMessageBox(dialog));

    QCOMPARE(dialog->encoderTable()->rowCount(), rowsBefore);
    Database db(m_workspace);
    QVERIFY(db.open().ok());
    // Only the HuBERT folder is stored: fbank is listed from the code until it extracts.
    QCOMPARE(FeatureRepository(db).encoders().size(), 1);
}

void TestFeaturesUi::cancelKeepsWhatIsDoneAndResumes()
{
    MainWindow window;
    window.show();
    QVERIFY(window.openWorkspace(m_workspace).ok());
    EncodersDialog *dialog = window.showEncodersDialog();
    QVERIFY(dialog);
    // fbank, in small batches, so there is a batch boundary to stop at.
    QVERIFY(dialog->useEncoder(QStringLiteral("fbank")));
    dialog->batchSpinBox()->setValue(10);
    dialog->close();

    // Cancel from the status bar as soon as the first batch is reported done.
    bool clicked = false;
    connect(window.featureExtraction(), &FeatureExtractionController::progress, &window,
            [&](double fraction, const QString &, const QString &) {
                if (!clicked && fraction > 0) {
                    clicked = true;
                    QTest::mouseClick(window.jobCancelButton(), Qt::LeftButton);
                }
            });
    QVERIFY(test::runExtraction(window, kJobTimeoutMs));
    QVERIFY(clicked);
    QVERIFY(window.featureExtraction()->lastReport().cancelled);
    const int done = embeddingCount(m_workspace, QStringLiteral("fbank"));
    qInfo("cancelled after %d of %d clips", done, m_clips);
    QVERIFY2(done > 0 && done < m_clips, qPrintable(QString::number(done)));
    // The counts say what is cached now and what this run did.
    QCOMPARE(window.statusBar()->currentMessage(),
             QStringLiteral("Extraction with fbank stopped: %1 of 48 clips have features (%1 by "
                            "this run); running it again continues")
                 .arg(done));

    // The second run does only the rest.
    clicked = true;
    QVERIFY(test::runExtraction(window, kJobTimeoutMs));
    QCOMPARE(embeddingCount(m_workspace, QStringLiteral("fbank")), m_clips);
    const ExtractFeaturesReport &report = window.featureExtraction()->lastReport();
    QVERIFY(!report.cancelled);
    QCOMPARE(report.alreadyDone, done);
    QCOMPARE(report.extracted, m_clips - done);
    const QString message = window.statusBar()->currentMessage();
    QVERIFY2(
        message.startsWith(QStringLiteral("Extracted %1 clips with fbank").arg(m_clips - done)),
        qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("%1 already done").arg(done)), qPrintable(message));
}

void TestFeaturesUi::restartKeepsEncodersAndChoice()
{
    {
        MainWindow window;
        window.show();
        QVERIFY(window.openWorkspace(m_workspace).ok());
        EncodersDialog *dialog = window.showEncodersDialog();
        QCOMPARE(dialog->activeEncoder(), QStringLiteral("fbank"));
        QCOMPARE(dialog->batchSpinBox()->value(), 10);
        QVERIFY(dialog->useEncoder(m_model));
        dialog->deviceCombo()->setCurrentIndex(dialog->deviceCombo()->findData("cpu"));
        dialog->batchSpinBox()->setValue(80);
    }
    MainWindow window;
    window.show();
    QVERIFY(window.openWorkspace(m_workspace).ok());
    EncodersDialog *dialog = window.showEncodersDialog();
    QVERIFY(dialog);
    QCOMPARE(dialog->encoderTable()->rowCount(), 2);
    const int row = dialog->rowOf(m_model);
    QCOMPARE(row, 1);
    QTRY_COMPARE(dialog->encoderTable()->item(row, EncodersDialog::ExtractedColumn)->text(),
                 QStringLiteral("48 / 48 clips"));
    QTRY_COMPARE(dialog->encoderTable()->item(0, EncodersDialog::ExtractedColumn)->text(),
                 QStringLiteral("48 / 48 clips"));
    QCOMPARE(dialog->activeEncoder(), m_model);
    QVERIFY(dialog->encoderTable()->item(row, EncodersDialog::NameColumn)->font().bold());
    QCOMPARE(dialog->deviceCombo()->currentData().toString(), QStringLiteral("cpu"));
    QCOMPARE(dialog->batchSpinBox()->value(), 80);
    // The action runs what the dialog shows.
    QVERIFY(test::runExtraction(window, kJobTimeoutMs));
    QCOMPARE(window.featureExtraction()->lastReport().encoderName,
             QStringLiteral("hubert-tiny-base"));
    QCOMPARE(window.featureExtraction()->lastReport().device, QStringLiteral("cpu"));
}

void TestFeaturesUi::removeForgetsAModelAfterAsking()
{
    MainWindow window;
    window.show();
    QVERIFY(window.openWorkspace(m_workspace).ok());
    EncodersDialog *dialog = window.showEncodersDialog();
    QVERIFY(dialog);
    const int row = dialog->rowOf(m_model);
    QVERIFY(row > 0);
    dialog->encoderTable()->selectRow(row);
    QVERIFY(dialog->removeButton()->isEnabled());

    // First the user says Cancel: nothing changes.
    QString question;
    auto answer = [&question](QMessageBox::StandardButton button) {
        QTimer::singleShot(0, [&question, button] {
            auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
            if (!box)
                return;
            question = box->text();
            box->button(button)->click();
        });
    };
    answer(QMessageBox::Cancel);
    dialog->removeButton()->click();
    QVERIFY2(question.contains(QLatin1String("hubert-tiny-base")), qPrintable(question));
    QCOMPARE(dialog->rowOf(m_model), row);
    QVERIFY(storedEncoder(m_workspace, m_model));

    answer(QMessageBox::Yes);
    dialog->removeButton()->click();
    QCOMPARE(dialog->rowOf(m_model), -1);
    QCOMPARE(dialog->encoderTable()->rowCount(), 1);
    QVERIFY2(!storedEncoder(m_workspace, m_model), "the workspace forgot the folder");
    QCOMPARE(dialog->activeEncoder(), QStringLiteral("fbank"));
    Database db(m_workspace);
    QVERIFY(db.open().ok());
    QCOMPARE(FeatureExtractionController::activeChoiceFor(db).encoder, QStringLiteral("fbank"));
}

void TestFeaturesUi::clipsThatFailAreListed()
{
    // A copy of the corpus in which one clip is damaged after the import.
    const QString corpus = m_scratch.filePath(QStringLiteral("damaged"));
    QVERIFY(QDir().mkpath(corpus));
    QFile manifest(QDir(corpus).filePath(QStringLiteral("manifest.csv")));
    QVERIFY(manifest.open(QIODevice::WriteOnly));
    manifest.write("path,label,speaker,gender\n");
    const QDir audio(
        QDir(test::corpus(QStringLiteral("generic-csv"))).filePath(QStringLiteral("audio")));
    const QString speaker = audio.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name).value(0);
    const QDir speakerDir(audio.filePath(speaker));
    const QStringList clips =
        speakerDir.entryList({QStringLiteral("*.wav")}, QDir::Files, QDir::Name);
    QVERIFY(clips.size() >= 4);
    for (int i = 0; i < 4; ++i) {
        QVERIFY(QFile::copy(speakerDir.filePath(clips[i]), QDir(corpus).filePath(clips[i])));
        manifest.write(QStringLiteral("%1,neutral,spk1,female\n").arg(clips[i]).toUtf8());
    }
    manifest.close();

    const QString workspace = m_scratch.filePath(QStringLiteral("damaged.emolens"));
    MainWindow window;
    window.show();
    QVERIFY(window.createWorkspace(workspace).ok());
    QVERIFY(test::importInto(window, corpus));
    const QString damaged = QDir(corpus).filePath(clips[2]);
    {
        QFile file(damaged);
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write("no longer audio");
    }
    QVERIFY(test::runExtraction(window,
                                kJobTimeoutMs)); // the run itself succeeds; the clip is reported
    const QString message = window.statusBar()->currentMessage();
    QVERIFY2(message.endsWith(QLatin1String("1 failed")), qPrintable(message));
    QCOMPARE(embeddingCount(workspace, QStringLiteral("fbank")), 3);
    QMessageBox *box = visibleMessageBox(&window);
    QVERIFY2(box, "the failed clip is listed in a dialog");
    QVERIFY2(box->detailedText().contains(damaged), qPrintable(box->detailedText()));
    box->button(QMessageBox::Ok)->click();
}

void TestFeaturesUi::extractsOnlyTheShownClips()
{
    // A second model, so nothing of it is extracted yet.
    const QString wav2vec2 =
        QFileInfo(QDir(test::sourceRoot())
                      .filePath(QStringLiteral("tests/models/fixtures/wav2vec2-tiny-base")))
            .absoluteFilePath();
    MainWindow window;
    window.show();
    QVERIFY(window.openWorkspace(m_workspace).ok());
    EncodersDialog *dialog = window.showEncodersDialog();
    QVERIFY(dialog->addEncoderFolder(wav2vec2));
    QTRY_VERIFY_WITH_TIMEOUT(!dialog->isValidating(), 60000);
    QVERIFY2(dialog->lastError().isEmpty(), qPrintable(dialog->lastError()));
    QVERIFY(dialog->useEncoder(wav2vec2));
    dialog->close();

    // Choose one speaker in the tree: the table shows only that speaker's clips.
    CorpusTreeModel *tree = window.corpusModel();
    const QModelIndex speaker = tree->index(0, 0, tree->index(0, 0));
    window.corpusTree()->setCurrentIndex(speaker);
    const QList<qint64> shown = window.shownUtteranceIds();
    QVERIFY(!shown.isEmpty());
    QVERIFY(shown.size() < m_clips);
    QCOMPARE(window.extractShownFeaturesAction()->shortcut(),
             QKeySequence(QStringLiteral("Ctrl+Alt+E")));

    QSignalSpy finished(&window, &MainWindow::extractionFinished);
    window.extractShownFeaturesAction()->trigger();
    QVERIFY(window.isExtracting());
    QVERIFY(finished.wait(kJobTimeoutMs));
    QVERIFY(finished.first().first().value<Status>().ok());
    QCOMPARE(window.featureExtraction()->lastReport().requested, int(shown.size()));
    QCOMPARE(window.featureExtraction()->lastReport().extracted, int(shown.size()));

    // Exactly the shown clips have embeddings for this model; the others are untouched.
    Database db(m_workspace);
    QVERIFY(db.open());
    const auto encoder = storedEncoder(m_workspace, wav2vec2);
    QVERIFY(encoder.has_value());
    const QSet<qint64> done = FeatureRepository(db).utterancesWithEmbedding(encoder->id);
    QCOMPARE(done, QSet<qint64>(shown.begin(), shown.end()));
}

void TestFeaturesUi::countsWhatTheCacheHoldsWhenItsFolderIsGone()
{
    // A copy of the workspace without its feature cache folder: the store still lists an
    // embedding for every clip, but no features are on disk.
    const QString copy = m_scratch.filePath(QStringLiteral("cache-gone.emolens"));
    QVERIFY(QFile::copy(m_workspace, copy));
    QVERIFY(QFileInfo::exists(FeatureCache::defaultRootFor(m_workspace)));
    QVERIFY(!QFileInfo::exists(FeatureCache::defaultRootFor(copy)));
    QCOMPARE(embeddingCount(copy, QStringLiteral("fbank")), m_clips);

    MainWindow window;
    window.show();
    QVERIFY(window.openWorkspace(copy).ok());
    EncodersDialog *dialog = window.showEncodersDialog();
    QVERIFY(dialog->useEncoder(QStringLiteral("fbank")));
    dialog->batchSpinBox()->setValue(10);
    QTableWidget *table = dialog->encoderTable();
    QTRY_COMPARE(table->item(0, EncodersDialog::ExtractedColumn)->text(),
                 QStringLiteral("0 / 48 clips"));

    // Recompute, and cancel after the first batch; the dialog stays open meanwhile.
    QStringList messages;
    bool clicked = false;
    connect(window.featureExtraction(), &FeatureExtractionController::progress, &window,
            [&](double fraction, const QString &message, const QString &) {
                messages << message;
                if (!clicked && fraction > 0) {
                    clicked = true;
                    QTest::mouseClick(window.jobCancelButton(), Qt::LeftButton);
                }
            });
    QVERIFY(test::runExtraction(window, kJobTimeoutMs));
    const auto plan = std::find_if(messages.cbegin(), messages.cend(), [](const QString &m) {
        return m.contains(QLatin1String("clips to do"));
    });
    QVERIFY2(plan != messages.cend(), qPrintable(messages.join(u'\n')));
    QVERIFY2(plan->endsWith(QLatin1String("48 clips to do, 0 already cached")), qPrintable(*plan));
    const ExtractFeaturesReport &report = window.featureExtraction()->lastReport();
    QVERIFY(report.cancelled);
    const int done = report.extracted;
    QVERIFY2(done > 0 && done < m_clips, qPrintable(QString::number(done)));
    QCOMPARE(report.alreadyDone, 0);
    QCOMPARE(window.statusBar()->currentMessage(),
             QStringLiteral("Extraction with fbank stopped: %1 of 48 clips have features (%1 by "
                            "this run); running it again continues")
                 .arg(done));
    QTRY_COMPARE(table->item(0, EncodersDialog::ExtractedColumn)->text(),
                 QStringLiteral("%1 / 48 clips").arg(done));
}

QTEST_MAIN(TestFeaturesUi)
#include "test_features_ui.moc"
