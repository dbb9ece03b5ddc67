#include "TrainingController.h"

#include "FeatureExtractionController.h"
#include "jobs/ExtractFeaturesJob.h"
#include "training/Recipes.h"

#include <QFileInfo>
#include <QMessageBox>
#include <QSettings>
#include <QWidget>

namespace emolens {

TrainingController::TrainingController(JobQueue *queue, QWidget *dialogParent, QObject *parent)
    : QObject(parent), m_queue(queue), m_dialogParent(dialogParent)
{
    connect(m_queue, &JobQueue::progress, this,
            [this](int id, double fraction, const QString &text, const QString &eta) {
                if (id == 0 || (id != m_extractId && id != m_trainId && id != m_pretrainId))
                    return;
                Q_EMIT progressed(fraction, id == m_extractId ? tr("Features: %1").arg(text) : text,
                                  eta);
            });
    connect(m_queue, &JobQueue::intermediate, this, [this](int id, const QVariant &value) {
        if (id == 0 || (id != m_trainId && id != m_pretrainId))
            return;
        const QVariantMap map = value.toMap();
        const QString kind = map.value(QStringLiteral("kind")).toString();
        if (kind == QLatin1String("pretrain-run"))
            Q_EMIT pretrainingStarted(map);
        else if (kind == QLatin1String("pretrain-epoch"))
            Q_EMIT pretrainingEpochEnded(map);
        else if (kind == QLatin1String("train-run"))
            Q_EMIT runStarted(map);
        else if (kind == QLatin1String("train-epoch"))
            Q_EMIT epochEnded(map);
    });
    connect(m_queue, &JobQueue::jobFinished, this, [this](int id, const JobResult &result) {
        if (id == m_extractId) {
            m_extractId = 0;
            // Without the features the training cannot run: it would only fail the same way.
            if (result.outcome == JobOutcome::Failed || result.wasCancelled()) {
                if (m_trainId != 0)
                    m_queue->cancel(m_trainId);
                if (m_pretrainId != 0)
                    m_queue->cancel(m_pretrainId);
            }
            return;
        }
        // The summary to the status bar (and a dialog when the job failed).
        auto tell = [this, &result](const QString &failedText, const QString &title) {
            m_lastSummary = result.summary;
            const bool failed = result.outcome == JobOutcome::Failed;
            Q_EMIT message(failed ? failedText.arg(result.summary) : result.summary, 30000);
            if (failed && m_dialogParent) {
                auto *box = new QMessageBox(QMessageBox::Warning, title, result.summary,
                                            QMessageBox::Ok, m_dialogParent);
                box->setAttribute(Qt::WA_DeleteOnClose);
                box->open();
            }
        };
        if (id != 0 && id == m_pretrainId) {
            m_pretrainId = 0;
            m_lastPretrainReport = m_pretrainJob ? m_pretrainJob->report() : PretrainReport();
            m_pretrainJob.reset();
            tell(tr("Pre-training failed: %1"), tr("Pre-train"));
            Q_EMIT pretrained(result);
            return;
        }
        if (id != m_trainId)
            return;
        m_trainId = 0;
        m_lastReport = m_job ? m_job->report() : TrainReport();
        m_job.reset();
        tell(tr("Retraining failed: %1"), tr("Retrain"));
        Q_EMIT finished(result);
    });
}

void TrainingController::queueExtraction(const QString &workspacePath, const QString &encoder,
                                         const QString &device, const QList<double> &speedRates,
                                         bool taptInputs)
{
    ExtractFeaturesRequest extract;
    extract.databasePath = workspacePath;
    extract.encoder = encoder;
    extract.device = device;
    extract.precision = ExtractionChoice::load().precision; // as Features > Encoders sets it
    extract.speedRates = speedRates;
    extract.taptInputs = taptInputs;
    m_extractId = m_queue->submit(std::make_shared<ExtractFeaturesJob>(extract));
}

bool TrainingController::retrain(const QString &workspacePath, const QString &encoder,
                                 const QString &device)
{
    if (isRunning() || workspacePath.isEmpty())
        return false;
    TrainRequest train;
    train.databasePath = workspacePath;
    train.encoder = encoder;
    // Training runs on the CPU here; the extraction's "auto" may pick a GPU, training follows
    // only an explicit choice.
    train.device = device.startsWith(QLatin1String("cuda")) ? device : QStringLiteral("cpu");
    // The recipe and epochs Retrain uses (QSettings "model/recipe", "model/epochs"; empty and
    // 0 mean the default recipe with its own epochs), and the pre-training epochs of a recipe
    // with that stage ("model/pretrainEpochs"; absent: the recipe's, 0: none).
    const QSettings settings;
    train.recipe = settings.value(QStringLiteral("model/recipe")).toString();
    if (train.recipe == QLatin1String("default"))
        train.recipe.clear();
    train.epochs = std::max(0, settings.value(QStringLiteral("model/epochs"), 0).toInt());
    if (!train.recipe.isEmpty() && recipeHasPretraining(train.recipe))
        train.pretrainEpochs =
            std::max(-1, settings.value(QStringLiteral("model/pretrainEpochs"), -1).toInt());
    // ari-coattention's ARI frozen in stage 1 ("model/freezeAri", off when absent).
    train.freezeAri = train.recipe == QLatin1String("ari-coattention") &&
                      settings.value(QStringLiteral("model/freezeAri"), false).toBool();
    // Paper mode for the recipes that have one ("model/paperMode", off when absent).
    if ((train.recipe == QLatin1String("gmp-atl") ||
         train.recipe == QLatin1String("ari-coattention")) &&
        settings.value(QStringLiteral("model/paperMode"), false).toBool())
        train.mode = QStringLiteral("paper");
    // ari-coattention's speed perturbation ("model/speedPerturbation", off when absent): the
    // extraction first caches the clips' copies at 0.8 and 1.2 (once).
    train.speedPerturbation =
        train.recipe == QLatin1String("ari-coattention") &&
        settings.value(QStringLiteral("model/speedPerturbation"), false).toBool();
    // Which label a clip several people labeled trains on ("model/labelRule", chosen in
    // Analysis > Annotator Agreement; newest when absent or not a rule).
    if (!LabelRule::parse(settings.value(QStringLiteral("model/labelRule")).toString(),
                          &train.labelRule))
        train.labelRule = LabelRule();
    queueExtraction(workspacePath, encoder, device,
                    train.speedPerturbation ? speedPerturbationRates() : QList<double>());
    m_job = std::make_shared<TrainJob>(train);
    m_trainId = m_queue->submit(m_job);
    Q_EMIT queued(
        tr("Retraining %1 on %2")
            .arg(train.recipe.isEmpty() ? tr("the default recipe") : train.recipe, encoder));
    Q_EMIT message(tr("Retraining: features first (only the clips without them), then the "
                      "model..."),
                   8000);
    return m_trainId != 0;
}

bool TrainingController::pretrain(const QString &workspacePath, const QString &encoder,
                                  const QString &device, const QString &mode)
{
    if (isRunning() || workspacePath.isEmpty())
        return false;
    const bool paper = mode == QLatin1String("paper");
    queueExtraction(workspacePath, encoder, device, {}, paper);
    PretrainRequest request;
    request.databasePath = workspacePath;
    request.mode = paper ? QStringLiteral("paper") : QStringLiteral("adapter");
    request.encoder = encoder;
    request.device = device.startsWith(QLatin1String("cuda")) ? device : QStringLiteral("cpu");
    if (!paper)
        request.epochs =
            std::max(0, QSettings().value(QStringLiteral("model/pretrainEpochs"), 0).toInt());
    m_pretrainJob = std::make_shared<PretrainJob>(request);
    m_pretrainId = m_queue->submit(m_pretrainJob);
    if (paper) {
        Q_EMIT queued(tr("TAPT of the encoder's Transformer on every clip of %1")
                          .arg(QFileInfo(encoder).fileName()));
        Q_EMIT message(tr("TAPT: features and TAPT inputs first (only the clips without them), "
                          "then the encoder's masked-prediction training on every clip..."),
                       8000);
    } else {
        Q_EMIT queued(tr("Pre-training (adapter TAPT) on every clip of %1").arg(encoder));
        Q_EMIT message(tr("Pre-training: features first (only the clips without them), then "
                          "adapter TAPT on every clip..."),
                       8000);
    }
    return m_pretrainId != 0;
}

void TrainingController::stop()
{
    if (m_extractId != 0 || m_pretrainId != 0) {
        cancel(); // no epoch yet, or pre-training (which keeps nothing until it ends)
        return;
    }
    if (m_job)
        m_job->requestStop();
}

void TrainingController::cancel()
{
    if (m_extractId != 0)
        m_queue->cancel(m_extractId);
    if (m_trainId != 0)
        m_queue->cancel(m_trainId);
    if (m_pretrainId != 0)
        m_queue->cancel(m_pretrainId);
}

} // namespace emolens
