#pragma once
// ModelRepository: training runs, their epochs and metrics, the model versions they made
// (weights kept in the workspace) and the models' per-utterance predictions.
//
// A run is written when it starts (status "running", with this host and process id), each
// epoch as it ends, and its results - metrics, model version, predictions - in one
// transaction at the end, so a crash leaves a run marked running whose process is gone:
// markInterruptedRuns() (called when a workspace is opened) marks it interrupted.
// One model version at most is active: the one the clip view, the table and Retrain's
// comparison use.
//
// Threads: like every repository, use it on the thread that owns the Database.

#include "common/Status.h"

#include <QByteArray>
#include <QDateTime>
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>
#include <vector>

namespace emolens {

class Database;

struct TrainingRunRecord
{
    qint64 id = 0;
    QString kind = QStringLiteral("train"); // train | evaluate
    QString recipe;
    QString settings; // JSON
    qint64 seed = 0;
    qint64 encoderId = 0;
    QString labelSnapshot; // JSON
    QString device;
    QString status; // running, succeeded, failed, cancelled, stopped, interrupted
    QString error;
    QDateTime startedAt;
    QDateTime finishedAt;
    double seconds = 0;
};

struct EpochRow
{
    int fold = 0;
    int epoch = 0;
    double trainLoss = 0;
    double validationLoss = 0;
    double validationUa = 0;
    double seconds = 0;
};

struct MetricsRow
{
    int fold = 0;
    QString split = QStringLiteral("validation");
    int n = 0;
    double ua = 0;
    double wa = 0;
    double f1 = 0;
    QStringList labels;
    QList<QList<int>> confusion;
};

struct ModelVersionRecord
{
    qint64 id = 0;
    qint64 runId = 0;
    qint64 encoderId = 0;
    QStringList classes;
    bool acousticInputs = false;
    QString weightsHash;
    bool active = false;
    QDateTime createdAt;
    // From the run, for lists: its recipe and validation metrics.
    QString recipe;
    double validationUa = 0;
    double validationWa = 0;
    double validationF1 = 0;
    int validationClips = 0;
    double trainSeconds = 0;
};

struct PredictionRow
{
    qint64 utteranceId = 0;
    QString contentHash;
    QString category;
    double confidence = 0;
    std::vector<float> probabilities;
};

// One test clip of a cross-validation fold: the label it was scored against and the fold's
// prediction (Migrations' version 11).
struct RunPredictionRow
{
    int fold = 0; // 1-based
    qint64 utteranceId = 0;
    QString truth;
    QString predicted;
    double confidence = 0;
};

// A pre-trained backbone (adapter TAPT): see Migrations' version 6.
struct BackboneRecord
{
    qint64 id = 0;
    qint64 runId = 0;
    qint64 encoderId = 0;
    QString mode = QStringLiteral("adapter");
    bool acousticInputs = false;
    QString backbone; // AdapterTrainer::backboneSettings
    int clips = 0;
    QString history; // JSON array of the epochs
    QString weightsHash;
    QDateTime createdAt;
    double seconds = 0; // the run's
};

class ModelRepository
{
public:
    explicit ModelRepository(Database &db);

    // Inserts the run as running (started now, on this host and process); fills run->id.
    Status startRun(TrainingRunRecord *run);
    Status addEpoch(qint64 runId, const EpochRow &epoch);
    // A resumed run: running again, on this host and process, its epochs those of its
    // checkpoint (an epoch recorded after the checkpoint was written is replaced), in one
    // transaction.
    Status resumeRun(qint64 runId, const QList<EpochRow> &epochs);
    // Ends a run without a model (failed, cancelled, evaluate's end), with its metrics and a
    // cross-validation's predictions per clip.
    Status finishRun(qint64 runId, const QString &status, const QString &error, double seconds,
                     const QList<MetricsRow> &metrics = {},
                     const QList<RunPredictionRow> &clipPredictions = {});
    // Ends a train run in one transaction: metrics, the model version with its weights, the
    // predictions; makes the model active when asked. Fills model->id. status: succeeded, or
    // stopped (the user stopped it early and kept the best epoch).
    Status storeTrainedModel(qint64 runId, double seconds, const QList<MetricsRow> &metrics,
                             const QByteArray &weights, ModelVersionRecord *model,
                             const QList<PredictionRow> &predictions, bool makeActive,
                             const QString &status = QStringLiteral("succeeded"));
    // Ends a pretrain run in one transaction: the backbone with its weights. Fills
    // backbone->id, runId, weightsHash and createdAt.
    Status storeBackbone(qint64 runId, double seconds, const QByteArray &weights,
                         BackboneRecord *backbone);
    QList<BackboneRecord> backbones() const; // newest first
    std::optional<BackboneRecord> backbone(qint64 backboneId) const;
    QByteArray backboneWeights(qint64 backboneId) const;
    // Forgets a backbone and its weights (its pretrain run stays, as a deleted model's does);
    // later runs no longer start from it.
    Status removeBackbone(qint64 backboneId);
    // Runs marked running whose process is gone (same host, no such process) become
    // interrupted, and so do this process's own: call it when a workspace is opened, which
    // never happens while one of its jobs runs. Returns how many.
    Status markInterruptedRuns(int *marked = nullptr);

    QList<TrainingRunRecord> runs() const;
    std::optional<TrainingRunRecord> run(qint64 runId) const;
    QList<EpochRow> epochs(qint64 runId) const;
    QList<MetricsRow> metrics(qint64 runId) const;
    // A cross-validation run's predictions per clip: one fold's (fold > 0) or every fold's
    // (fold 0), by fold and clip. Empty for runs from before schema 11.
    QList<RunPredictionRow> runPredictions(qint64 runId, int fold = 0) const;
    QList<ModelVersionRecord> models() const; // newest first
    std::optional<ModelVersionRecord> model(qint64 modelId) const;
    std::optional<ModelVersionRecord> activeModel() const;
    QByteArray weights(qint64 modelId) const;
    Status setActive(qint64 modelId);
    Status removeModel(qint64 modelId);
    // The model's predictions whose audio hash matches the utterance's current one.
    QHash<qint64, PredictionRow> predictions(qint64 modelId) const;

private:
    Database &m_db;
};

} // namespace emolens
