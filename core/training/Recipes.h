#pragma once
// Recipes: named compositions of the adapter's parts and the trainer's settings. Each says
// where its values come from (../shared/METHODS.md keeps apart what a paper states, our
// default where it is silent, and our variants); the name and every value are recorded with
// a run.
//
// - baseline: the SUPERB emotion-recognition protocol - learned layer weights, a linear
//   projection, masked mean pooling, a linear classifier.
// - wap-sap: seed 000's network on the labels alone - WAP-Transformer (3 blocks, 4 heads, a
//   learned average over the blocks) and attentive statistics pooling; the teacher-student
//   stage is adapter-local-attributes.
// - adapter-local-attributes: seed 000 whole - wap-sap after the teacher-student pre-training
//   with local attributes (PretrainOptions) on the training clips.
// - gmp-atl: seed 001 in its one-click form - wap-sap trained with gender, then with
//   multi-scale frame pseudo-labels, then fine-tuned (GmpAtlOptions).
// - ari-coattention: seed 003 in its one-click form - ARI over the encoder's layers, auxiliary
//   heads (gender, speaker, style, character CTC; those the metadata allows) guiding the
//   frames' weighting by co-attention, stage 1 on the auxiliary tasks, stage 2 on emotion plus
//   the weighted auxiliary losses (AriOptions; TrainingSet::fitAuxiliaryTasks).
// - Paper mode (RunChoices::mode "paper"; ../shared/METHODS.md, "Encoder fine-tuning"): gmp-atl
//   and ari-coattention also fine-tune the encoder's own Transformer layers, which run inside
//   the adapter from the feature cache's layer below them (EncoderLayers); the adapter's own
//   Transformer blocks, which stand in for them in the one-click mode, are dropped. Seed 003's
//   values: every layer trained in stage 1, the first 4 frozen in stage 2, 100 epochs per
//   stage, batch 4, learning rates 1e-4 (heads) and 1e-5 (encoder). Seed 001 gives none of its
//   own: the same batch and rates (our default), its steps' epochs as in the one-click mode.
// - default: what Retrain runs (see defaultRecipeFor): wap-sap while its epochs stay quick on
//   the CPU, baseline on a larger labeled set (and wap-sap always on CUDA).
//
// Pure functions: any thread.

#include "AdapterTrainer.h"

#include <QString>
#include <QStringList>

namespace emolens {

struct RecipeInfo
{
    QString name;
    QString summary; // one line for the user
    QString origin;  // where the values come from
};

QList<RecipeInfo> recipes();
// The recipe's trainer settings for an encoder of this shape and these classes. name is a
// concrete recipe (baseline, wap-sap): "default" depends on the labeled set and is resolved
// first (defaultRecipeFor, TrainingSet::resolveRecipe). Fails (*error set) for any other name.
bool recipeOptions(const QString &name, int layerCount, int hiddenSize, int extraInputs,
                   int classCount, TrainerOptions *options, QString *error);
// The recipe has a pre-training stage (RunChoices::pretrainEpochs applies to it).
bool recipeHasPretraining(const QString &name);
// What "default" (and Retrain) runs for this many labeled encoder frames on this device (our
// choice, to keep one-click retraining within about ten minutes on a 2-core CPU): wap-sap up to
// kQuickWapSapFrames, baseline above; wap-sap on CUDA whatever the size.
constexpr qint64 kQuickWapSapFrames = 60000; // 20 minutes of audio at 50 frames/s
QString defaultRecipeFor(qint64 labeledFrames, const QString &device);

// A run's trainer settings: the recipe's for this encoder shape, extra inputs and classes, with
// the run's own seed, device, CPU threads and epochs (0: the recipe's).
struct RunChoices
{
    QString recipe; // a concrete recipe (see recipeOptions)
    quint32 seed = 1;
    QString device = QStringLiteral("cpu");
    int threads = 0;
    int epochs = 0;
    // Pre-training epochs of a recipe that has the stage (0 skips it: the ablation without
    // teacher-student); -1: the recipe's.
    int pretrainEpochs = -1;
    // Epochs of each of gmp-atl's steps 1 and 3 (at least 1); -1: the recipe's.
    int gmpEpochs = -1;
    // Epochs of ari-coattention's stage 1 (0 skips it: the ablation without stage 1); -1: the
    // recipe's.
    int auxiliaryEpochs = -1;
    // ari-coattention: ARI's layer weights frozen in stage 1 (the paper's remedy for fewer
    // auxiliary tasks; off by default).
    bool freezeAri = false;
    // "one-click" (the encoder frozen; what Retrain runs) or "paper" (see above).
    QString mode = QStringLiteral("one-click");
    // Paper mode: the encoder's top N Transformer layers run and train (0: every layer).
    int encoderLayers = 0;
    // Paper mode: the encoder's model folder (the feature cache's source for the encoder).
    QString encoderFolder;
    // ari-coattention: seed 003's speed perturbation (TrainerOptions::speedPerturbation; the
    // training set must then carry the copies at speedPerturbationRates()). Off by default: the
    // copies triple the extraction.
    bool speedPerturbation = false;
};
// A run's choices from a TrainRequest or EvaluateRequest (their fields of the same names), the
// resolved recipe and the encoder's folder.
template <typename Request>
RunChoices runChoicesOf(const Request &r, const QString &recipe, const QString &encoderFolder)
{
    return {recipe,           r.seed,        r.device,           r.threads,   r.epochs,
            r.pretrainEpochs, r.gmpEpochs,   r.auxiliaryEpochs,  r.freezeAri, r.mode,
            r.encoderLayers,  encoderFolder, r.speedPerturbation};
}
// Seed 003's speed-perturbation rates besides 1.0: 0.8 and 1.2.
QList<double> speedPerturbationRates();
constexpr int kPaperBatchClips = 4;                // seed 003's batch
constexpr double kPaperEncoderLearningRate = 1e-5; // seed 003's encoder rate
constexpr double kPaperHeadLearningRate = 1e-4;    // seed 003's rate for the rest
constexpr int kPaperEpochs = 100;                  // seed 003's, per stage
constexpr int kPaperFrozenLayers = 4;              // seed 003's stage 2: the first 4 frozen
// One epoch of ari-coattention's stage 1 in words, the tasks the adapter has: "gender loss
// 0.412 (81 % right), speaker loss 1.208 (40 % right), CTC loss 2.917".
QString ariRecordText(const AriRecord &record, const AdapterOptions &adapter);
// The auxiliary tasks the adapter has, by name: gender, speaker, style, characters.
QStringList auxiliaryTaskNames(const AdapterOptions &adapter);
// Paper mode's settings in words, for a run's notes: "paper mode: the encoder's Transformer
// layers 1-12 run inside the adapter; stage 1 trains all of them, stage 2 those from 5, at
// learning rate 1e-05, in batches of 4 clips". Empty in the one-click mode.
QString paperModeNote(const TrainerOptions &options);
bool runOptions(const RunChoices &choices, int layerCount, int hiddenSize, int extraInputs,
                int classCount, TrainerOptions *options, QString *error);

} // namespace emolens
