#pragma once
// TrainingController: Model > Retrain, one click. Queues, on the window's job queue, an
// extraction with the active encoder (it skips what the cache holds, so it only does the clips
// without features) and then a TrainJob of the default recipe on the current labels; the
// queue runs them in turn while the annotator keeps labeling. The TrainJob compares the new
// model with the active one on the same validation speakers and says which is active; the
// summary goes to the status bar and the job log, and finished() lets the window show the new
// predictions. The dashboard follows it through queued, runStarted, epochEnded, progressed and
// finished. Model > Pre-train queues, the same way, an extraction and a PretrainJob (adapter
// TAPT on every clip), whose backbone later Retrains of adapter-local-attributes start from;
// its progress goes to the dashboard's bar and its summary to the status bar (pretrained()).
// GUI thread only.

#include "jobs/JobQueue.h"
#include "jobs/PretrainJob.h"
#include "jobs/TrainJob.h"

#include <QObject>
#include <memory>

class QWidget;

namespace emolens {

class TrainingController : public QObject
{
    Q_OBJECT

public:
    TrainingController(JobQueue *queue, QWidget *dialogParent, QObject *parent = nullptr);

    // False when a retrain is already queued or running, or the path is empty.
    bool retrain(const QString &workspacePath, const QString &encoder, const QString &device);
    // Adapter TAPT on every clip (mode "adapter"; QSettings "model/pretrainEpochs": absent or
    // -1 the recipe's 10), or TAPT proper (mode "paper": the extraction caches the clips' TAPT
    // inputs first; its 10 epochs). False when training or pre-training is queued or running,
    // or the path is empty.
    bool pretrain(const QString &workspacePath, const QString &encoder, const QString &device,
                  const QString &mode = QStringLiteral("adapter"));
    bool isRunning() const { return m_trainId != 0 || m_extractId != 0 || m_pretrainId != 0; }
    const PretrainReport &lastPretrainReport() const { return m_lastPretrainReport; }
    void cancel();
    // End the running training now and keep its best epoch as a model (cancels a queued
    // extraction, after which no training would start).
    void stop();
    const TrainReport &lastReport() const { return m_lastReport; }
    QString lastSummary() const { return m_lastSummary; }

Q_SIGNALS:
    void message(const QString &text, int timeoutMs);
    // The train job ended; result.ok() when a model was stored.
    void finished(const emolens::JobResult &result);
    // For the training dashboard: a retrain was queued; the run started (TrainJob's
    // "train-run" value); an epoch ended ("train-epoch"); the extraction's or training's
    // progress.
    void queued(const QString &what);
    void runStarted(const QVariantMap &run);
    void epochEnded(const QVariantMap &epoch);
    void progressed(double fraction, const QString &message, const QString &etaText);
    // Adapter TAPT's run and epochs for the dashboard (PretrainJob's "pretrain-run" and
    // "pretrain-epoch" values).
    void pretrainingStarted(const QVariantMap &run);
    void pretrainingEpochEnded(const QVariantMap &epoch);
    // The pre-training job ended; result.ok() when a backbone was stored.
    void pretrained(const emolens::JobResult &result);

private:
    // Features first (the job skips the clips that have them), for what is queued after it.
    void queueExtraction(const QString &workspacePath, const QString &encoder,
                         const QString &device, const QList<double> &speedRates = {},
                         bool taptInputs = false);

    JobQueue *m_queue = nullptr;
    QWidget *m_dialogParent = nullptr;
    int m_extractId = 0;
    int m_trainId = 0;
    int m_pretrainId = 0;
    std::shared_ptr<TrainJob> m_job;
    std::shared_ptr<PretrainJob> m_pretrainJob;
    PretrainReport m_lastPretrainReport;
    TrainReport m_lastReport;
    QString m_lastSummary;
};

} // namespace emolens
