#pragma once
// EvaluateJob: speaker-independent cross-validation of a recipe on the workspace's current
// labels and cached features. The report has the metrics per fold and pooled and each fold's
// epochs; the workspace keeps the run (training_runs, kind "evaluate") with its settings and
// the pooled (fold 0) and per-fold (1..k) test metrics and confusion matrices, which the
// analysis views show. No model and no per-clip predictions are kept. The CLI's `evaluate`
// runs it.
// A cancel ends it (Cancelled): a partial cross-validation is not a result.
//
// Threads: construct anywhere; run() on a worker thread (its own Database connection);
// read report() after it returned.

#include "jobs/Job.h"
#include "training/CrossValidation.h"
#include "training/LabelRule.h"

namespace emolens {

struct EvaluateRequest
{
    QString databasePath;
    QString cacheDirectory; // empty: FeatureCache::defaultRootFor(databasePath)
    QString recipe;         // empty: the default recipe
    QString encoder = QStringLiteral("fbank");
    QString folds = QStringLiteral("speaker"); // speaker | session
    int k = 5; // speaker folds (fewer when there are fewer speakers)
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
    double validationFraction = 0.2; // of each fold's training speakers
    int acousticInputs = -1;         // -1: the encoder's default (on for fbank)
    // Which label a clip several people labeled trains on (newest, majority, reviewer:NAME).
    LabelRule labelRule;
    qint64 corpusId = 0;
    // The adapter TAPT backbone every fold starts from (PretrainedBackbones): -1 the newest that
    // fits, 0 none, or an id.
    qint64 backbone = -1;
};

class EvaluateJob final : public Job
{
public:
    explicit EvaluateJob(EvaluateRequest request) : m_request(std::move(request)) {}

    QString name() const override;
    JobResult run(ProgressSink &progress) override;
    QString cancelEffect() const override
    {
        return QStringLiteral("Stop the evaluation; nothing is kept");
    }

    const EvaluateRequest &request() const { return m_request; }
    const CrossValidationReport &report() const { return m_report; }
    qint64 runId() const { return m_runId; }
    const QStringList &classes() const { return m_classes; }
    // What the set held: clips scored and left out.
    int clipCount() const { return m_clipCount; }
    int missingFeatures() const { return m_missing; }
    int withoutCategory() const { return m_withoutCategory; }
    bool acousticInputs() const { return m_acoustic; }
    QString encoderName() const { return m_encoderName; }
    qint64 backboneId() const { return m_backboneId; } // 0: none

private:
    EvaluateRequest m_request;
    CrossValidationReport m_report;
    qint64 m_runId = 0;
    QStringList m_classes;
    int m_clipCount = 0;
    int m_missing = 0;
    int m_withoutCategory = 0;
    bool m_acoustic = false;
    QString m_encoderName;
    qint64 m_backboneId = 0;
};

} // namespace emolens
