#pragma once
// CrossValidation: scores a recipe speaker-independently. For each fold of a FoldPlan: the
// validation speakers are drawn from that fold's training speakers only (early stopping and
// the best epoch are chosen on them), the adapter is trained on the remaining training
// speakers, and the untouched test fold is predicted once, at the end. Metrics per fold and
// pooled over folds (by adding the folds' confusion matrices).
//
// Threads: run() blocks; call it from a job's worker thread.

#include "common/Progress.h"
#include "common/Status.h"
#include "training/ClassificationMetrics.h"
#include "training/TrainingSet.h"

namespace emolens {

// One test clip of a fold: its class, the fold's predicted class and that class's probability.
struct FoldPrediction
{
    qint64 utteranceId = 0;
    int truth = -1;
    int predicted = -1;
    double confidence = 0;
};

struct FoldResult
{
    int fold = 0;
    QStringList testSpeakers;
    QStringList validationSpeakers;
    int trainClips = 0;
    int testClips = 0;
    int bestEpoch = 0;
    std::vector<EpochRecord> history;
    std::vector<PretrainRecord> pretrainHistory; // seed 000's pre-training epochs, when run
    std::vector<GmpAtlRecord> gmpAtlHistory;     // seed 001's steps 1 and 3, when run
    std::vector<AriRecord> ariHistory;           // seed 003's stage 1, when run
    ClassificationMetrics metrics;
    QList<FoldPrediction> predictions; // the test clips, in the fold's order
    double seconds = 0;
};

struct CrossValidationReport
{
    QString recipe;
    QString settings; // AdapterOptions::describe() plus the trainer's settings
    // What the run says about its settings, e.g. the auxiliary tasks dropped for want of
    // metadata (seed 003).
    QStringList notes;
    QList<FoldResult> folds;
    ClassificationMetrics pooled;
    double seconds = 0;
    bool cancelled = false;
};

class CrossValidation
{
public:
    // validationFraction: of each fold's training speakers. A cancel ends after the current
    // epoch; the report then holds the folds finished so far and cancelled is set.
    static Status run(const TrainingSet &set, const TrainerOptions &options, const FoldPlan &plan,
                      double validationFraction, ProgressSink &progress,
                      CrossValidationReport *report);
};

} // namespace emolens
