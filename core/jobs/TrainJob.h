#pragma once
// TrainJob: one model on the workspace's current labels - what Retrain and `emolens-cli
// train` run. Early stopping and the choice of epoch use validation speakers drawn from the
// labeled speakers (about a fifth, balanced by gender); the model then predicts every clip that
// has features, and the run, its epochs, its validation metrics, the model version (weights in
// the workspace) and the predictions are stored, the results in one transaction. The new model
// becomes the active one when it scores at least as well on the same validation clips as the
// active one (or when that one cannot read these features); the summary says which.
//
// The run is recorded as running when it starts and each epoch as it ends; a cancel marks it
// cancelled and keeps no model (Cancelled); requestStop() ends it at once but keeps the best
// epoch so far as a model (the run is "stopped"); a crash leaves it to be marked interrupted.
// After every epoch a checkpoint goes to checkpointPath() (removed when the run ends), from
// which a TrainRequest with resumeRunId continues an interrupted run: same recipe, settings,
// seed, encoder and validation speakers, refused when the labels have changed since.
//
// Threads: construct anywhere; run() on a worker thread (its own Database connection).

#include "jobs/Job.h"
#include "store/ModelRepository.h"
#include "training/ClassificationMetrics.h"
#include "training/LabelRule.h"

#include <QString>
#include <atomic>
#include <vector>

namespace emolens {

struct TrainerOptions;

struct TrainRequest
{
    QString databasePath;
    QString cacheDirectory; // empty: beside the workspace
    QString recipe;         // empty: the default recipe
    QString encoder = QStringLiteral("fbank");
    quint32 seed = 1;
    int epochs = 0;             // 0: the recipe's
    int pretrainEpochs = -1;    // a recipe's pre-training stage: -1 the recipe's, 0 none
    int gmpEpochs = -1;         // gmp-atl's steps 1 and 3, each: -1 the recipe's
    int auxiliaryEpochs = -1;   // ari-coattention's stage 1: -1 the recipe's, 0 none
    QStringList auxiliaryTasks; // ari-coattention's tasks, of those the metadata allows; empty: all
    bool freezeAri = false;     // ari-coattention: ARI frozen in stage 1
    // "one-click" or "paper" (gmp-atl and ari-coattention fine-tune the encoder's Transformer
    // layers too; RunChoices), and paper mode's top layers trained (0: all).
    QString mode = QStringLiteral("one-click");
    int encoderLayers = 0;
    bool speedPerturbation = false; // ari-coattention: seed 003's, from the cached copies
    QString device = QStringLiteral("cpu");
    int threads = 0;
    int acousticInputs = -1; // -1: the encoder's default
    // Which label a clip several people labeled trains on (newest, majority, reviewer:NAME).
    LabelRule labelRule;
    double validationFraction = 0.2;
    // The adapter TAPT backbone to start from (PretrainedBackbones): -1 the newest that fits,
    // 0 none, or an id.
    qint64 backbone = -1;
    // Continue this interrupted run from its checkpoint; the other fields but databasePath,
    // cacheDirectory and threads then come from the run.
    qint64 resumeRunId = 0;
};

struct TrainReport
{
    qint64 runId = 0;
    ModelVersionRecord model; // id 0 when no model was stored
    MetricsRow validation;
    QStringList validationSpeakers;
    int trainClips = 0;
    int predictedClips = 0;
    int bestEpoch = 0;
    std::vector<double> validationUaByEpoch;
    bool madeActive = false;
    qint64 previousActiveId = 0;
    double previousUa = -1; // on the same validation clips; -1: not comparable
    double seconds = 0;
    bool stopped = false; // stopped early by request; the best epoch so far was kept
    bool resumed = false;
    int resumedAfterEpoch = 0;
    int resumedAfterPretrainEpoch = -1; // resumed while pre-training: its epochs done before
    // What the run says about its settings, e.g. the auxiliary tasks dropped for want of
    // metadata (seed 003), or the pre-trained backbone it starts from.
    QStringList notes;
    qint64 backboneId = 0; // the adapter TAPT backbone it started from; 0 none
};

// A run's metrics as the workspace keeps them (run_metrics): train runs store their held-out
// speakers' (fold 0, "validation"), evaluate runs the pooled and per-fold test figures.
MetricsRow metricsRowOf(const ClassificationMetrics &m, int fold, const QString &split);

class TrainJob final : public Job
{
public:
    explicit TrainJob(TrainRequest request) : m_request(std::move(request)) {}

    QString name() const override;
    JobResult run(ProgressSink &progress) override;
    QString cancelEffect() const override
    {
        return QStringLiteral("Stop training; no model is kept");
    }
    const TrainRequest &request() const { return m_request; }
    const TrainReport &report() const { return m_report; }
    // Any thread: end the training now and keep the best epoch so far (no model when no epoch
    // has ended yet).
    void requestStop() { m_stop = true; }
    bool stopRequested() const { return m_stop; }

    // Where a run's checkpoint lives: a folder beside the workspace ("<name>.runs").
    static QString checkpointPath(const QString &databasePath, qint64 runId);
    // The pre-training epochs a run's checkpoint holds when the run was stopped while
    // pre-training; -1 when it was not (or has no readable checkpoint).
    static int checkpointPretrainEpochs(const QString &databasePath, qint64 runId);
    // For the jobs that checkpoint a run (this one, PretrainJob): the run to resume, checked -
    // of this kind ("train", "pretrain"), interrupted, with a checkpoint; the failure says which
    // is not so (what is missing names the file, and `instead` what to do then).
    static Status resumableRun(const ModelRepository &models, const QString &databasePath,
                               qint64 runId, const QString &kind, const QString &instead,
                               TrainingRunRecord *run);
    // Points the trainer at the run's checkpoint (made ready: its folder exists); resume:
    // continue from it.
    static void useCheckpoint(const QString &databasePath, qint64 runId, bool resume,
                              TrainerOptions *options);
    // The checkpoint serves only an interrupted run: whatever else ends the run removes it (and
    // its folder, when empty).
    static void dropCheckpoint(const QString &databasePath, qint64 runId);

private:
    TrainRequest m_request;
    TrainReport m_report;
    std::atomic<bool> m_stop{false};
};

} // namespace emolens
