#pragma once
// AdapterTrainer: trains an EmotionAdapter on a frozen encoder's features and predicts with it.
// The features come through a ClipFeatureSource, which the layers above implement over the
// feature cache (memory-mapped float16); this class batches them by length (a frame budget per
// batch, little padding), converts each batch to float32 as it is needed - so a corpus whose
// features are larger than memory trains in constant memory - and runs Adam with early
// stopping on a validation set. The best epoch's weights are kept.
//
// No Torch in this header (pimpl): core's jobs include it without compiling Torch.
//
// Determinism: the same seed, data and options give the same weights on the CPU (the initial
// weights come from the seed; each epoch's batch order and dropout from the seed and the
// epoch's number, so a resumed run repeats them; intra-op threads do not change float results
// of the kernels used here in practice, but a different thread count may change the last bits).
// The optimiser is AdamW as LibTorch's (decoupled weight decay, bias-corrected moments),
// written here so that its state is ours to checkpoint with the same format on every LibTorch.
//
// Threads: one thread at a time per trainer (a job's worker thread); the source must be safe to
// read from that thread. Callbacks run on that thread.

#include "AdapterOptions.h"
#include "ModelStatus.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace emolens {

struct TrainerClip
{
    int64_t frames = 0;  // encoder frames
    int classIndex = -1; // -1: no category (not trained on for the categorical head)
    // Soft targets (the "soft" label rule): the share of the people's votes per class, summing
    // to 1, which the categorical loss then reads instead of classIndex (classIndex stays the
    // majority, for validation, folds and class weights' counts use these shares). Empty: the
    // hard classIndex.
    std::vector<float> classTargets;
    int gender = -1; // the speaker's: 0 female, 1 male, -1 unknown (seeds 001, 003)
    // Seed 003's other auxiliary tasks: the speaker's index (-1 unknown), the speaking style
    // (0 scripted, 1 improvised, -1 unknown), the transcript as character ids from 1 (0 is
    // CTC's blank; empty: none).
    int speaker = -1;
    int style = -1;
    std::vector<int32_t> characters;
    std::vector<float> dimensions; // per AdapterOptions::dimensionCount; NaN where unknown
};

class ClipFeatureSource
{
public:
    virtual ~ClipFeatureSource() = default;
    virtual int layerCount() const = 0;
    virtual int hiddenSize() const = 0;
    virtual int extraInputs() const = 0; // per-frame values after the hidden states
    virtual const std::vector<TrainerClip> &clips() const = 0;
    // Writes clip i's features as float32: hidden [layers, frames, hiddenSize] (skipped when
    // hidden is null) and, when extraInputs() > 0, extra [frames, extraInputs]. False with a
    // reason naming the file.
    virtual bool read(std::size_t i, float *hidden, float *extra, std::string *error) const = 0;
    // The fast path, for sources that hold float16 already (the feature cache): clip i's hidden
    // states as IEEE float16 [layers, frames, hiddenSize], 2-byte aligned, valid while *keep
    // lives; converted to float32 in one vectorised step. Null (the default): read() is used.
    virtual const std::uint16_t *hiddenHalf(std::size_t /*i*/,
                                            std::shared_ptr<const void> * /*keep*/,
                                            std::string * /*error*/) const
    {
        return nullptr;
    }
    // The clip-level fast path: each layer's mean over the clip's frames ([layers, hiddenSize],
    // float32) and the mean of the extra inputs ([extraInputs]). For recipes that are affine
    // up to mean pooling (baseline) the clip's logits from these equal those from every frame,
    // so training reads 13 x 768 values per clip instead of 13 x frames x 768. False (the
    // default) when the source cannot give them.
    virtual bool readClipMeans(std::size_t /*i*/, float * /*layerMeans*/, float * /*extraMeans*/,
                               std::string * /*error*/) const
    {
        return false;
    }
    // Seed 003's speed perturbation: the same clips at other speeds, as sources of their own
    // (the same clips in the same order, their own frame counts and features; labels as here).
    // Variant 0 is this source; null past the last.
    virtual int variantCount() const { return 1; }
    virtual const ClipFeatureSource *variant(int v) const { return v == 0 ? this : nullptr; }
};

// Seed 000's teacher-student pre-training of the adapter's backbone (layer integration,
// projection, Transformer blocks, their weighted average), on clips with or without labels,
// before the labels are used. ../shared/METHODS.md: the paper states the parts (student trained
// by mask prediction and self-distillation, an EMA teacher, local attributes by clustering the
// teacher's outputs); every value below is our default where it is silent.
//
// - The student sees its projected frames with random spans replaced by a learned mask vector;
//   the teacher (the EMA of the student, no dropout) sees them unmasked.
// - Mask prediction: a linear head on the student's frame outputs predicts, at masked frames,
//   the local-attribute id of the teacher's output there (the nearest k-means centre).
// - Self-distillation: a linear head on the student's frame outputs regresses, at masked frames,
//   the average of the teacher's Transformer blocks' outputs, each instance-normalised over the
//   clip's frames.
// - Local attributes: k-means over a sample of the teacher's frame outputs, refreshed every
//   refreshEpochs epochs.
// Fine-tuning then starts from the student's backbone (pooling and heads are new).
struct PretrainOptions
{
    int epochs = 0;            // 0: no pre-training
    int spanFrames = 8;        // masked span length
    double maskFraction = 0.5; // of each clip's frames, covered by spans
    double emaStart = 0.999;   // teacher decay, rising linearly over the pre-training steps
    double emaEnd = 0.9999;
    int clusters = 64;             // local attributes
    int refreshEpochs = 2;         // re-cluster the teacher's outputs every this many epochs
    int64_t clusterFrames = 50000; // frames sampled for clustering
    double maskWeight = 1.0;       // loss weights
    double distillWeight = 1.0;
    double learningRate = 5e-4;
    int batchClips = 8; // clips per batch at most (within TrainerOptions::batchFrames): more
                        // updates per epoch than fine-tuning's batches, for small corpora

    // "pretrain epochs=10 span=8 mask=0.5 ema=0.999-0.9999 k=64/2 ..." for logs and the store.
    std::string describe() const;
};

// One pre-training epoch, as reported.
struct PretrainRecord
{
    int epoch = 0;           // from 1
    double maskLoss = 0;     // cross-entropy of the local-attribute ids at masked frames
    double distillLoss = 0;  // mean squared error of the distillation targets
    double maskAccuracy = 0; // of the predicted ids at masked frames
    double seconds = 0;
};

// Seed 001's GMP-ATL, steps 1 to 3, run before the fine-tuning on the utterance emotion labels
// (step 4, TrainerOptions::epochs). ../shared/METHODS.md: the paper states the steps; every
// value below is our default where it is silent, and the paper's own setting retrains HuBERT,
// where this one-click form trains the adapter over the frozen encoder (our variant).
// 1. Multi-task: the adapter learns emotion and the speaker's gender together (a linear gender
//    head on the utterance vector), so the gender task shapes its frame features.
// 2. Multi-scale k-means of *that model's* frame features (its backbone's output) at each k in
//    scales, on a seeded sample of training frames; every training frame's nearest centre at
//    each scale is its pseudo-label ("gender-augmented multi-scale pseudo-labels").
// 3. Retraining: a freshly initialised adapter learns the utterance emotion labels together
//    with one frame-level pseudo-label head (linear on the frame features) per scale.
// Step 4 fine-tunes step 3's adapter on the utterance emotion labels alone.
// Steps 1 and 3 write a checkpoint after each epoch (TrainerOptions::checkpointPath): a run
// killed in them resumes there (step 2 is redone from step 1's model, deterministically).
struct GmpAtlOptions
{
    int multiTaskEpochs = 0; // step 1; 0: no GMP-ATL stage
    int retrainEpochs = 20;  // step 3
    std::vector<int> scales = {64, 128, 256};
    int64_t clusterFrames = 50000; // frames sampled for the k-means of step 2
    double genderWeight = 1.0;     // task weights: emotion 1, gender 1, each scale 1
    double pseudoLabelWeight = 1.0;
    double learningRate = 5e-4; // steps 1 and 3
    // "gmp-atl multitask=20 scales=64/128/256 frames=50000 retrain=20 ..." for logs, the store.
    std::string describe() const;
};

// One epoch of GMP-ATL's step 1 or 3, as reported.
struct GmpAtlRecord
{
    int step = 1;                 // 1: emotion + gender; 3: emotion + frame pseudo-labels
    int epoch = 0;                // from 1, within the step
    double emotionLoss = 0;       // mean over the batches with emotion labels
    double auxiliaryLoss = 0;     // step 1: gender cross-entropy; 3: the scales' summed
    double auxiliaryAccuracy = 0; // step 1: of the gender; 3: of the pseudo-labels, mean over
                                  // the scales
    double seconds = 0;
};

// Seed 003's two-stage multi-task learning with ARI and co-attention (the adapter's
// LayerIntegration::Ari and AdapterPooling::CoAttention, with its auxiliary heads), one-click
// form: the stages train the adapter over the frozen encoder, where the paper fine-tunes the
// encoder's Transformer (../shared/METHODS.md). Stage 1 trains the auxiliary tasks alone for
// auxiliaryEpochs; stage 2 is the fine-tuning (TrainerOptions::epochs) on the emotion loss plus
// the weighted auxiliary losses. The paper tunes the task weights per encoder and gives no
// values; ours are the defaults below (every value here is ours where the paper is silent).
struct AriOptions
{
    int auxiliaryEpochs = 0; // stage 1; 0: none
    double genderWeight = 1.0;
    double speakerWeight = 1.0;
    double styleWeight = 1.0;
    double characterWeight = 1.0;   // CTC, per target character
    bool freezeAriInStage1 = false; // the paper's remedy for fewer auxiliary tasks
    double learningRate = 5e-4;     // stage 1
    // "ari stage1=20 weights=1/1/1/1 ..." for logs and the store.
    std::string describe() const;
};

// One epoch of seed 003's stage 1, as reported. Losses and accuracies of tasks the model
// lacks (or whose clips have no such label) are 0.
struct AriRecord
{
    int epoch = 0; // from 1
    double genderLoss = 0, speakerLoss = 0, styleLoss = 0, characterLoss = 0;
    double genderAccuracy = 0, speakerAccuracy = 0, styleAccuracy = 0;
    double seconds = 0;
};

struct TrainerOptions
{
    AdapterOptions adapter;
    PretrainOptions pretrain;
    GmpAtlOptions gmpAtl;
    AriOptions ari;
    int epochs = 30;
    int patience = 6; // epochs without a better validation score before stopping
    double learningRate = 1e-3;
    double weightDecay = 1e-4;
    int64_t batchFrames = 20000; // padded frames per batch (x layers x hidden = the batch's size)
    int maxBatchClips = 32;
    bool balanceClasses = true; // class weights inverse to the training counts
    uint64_t seed = 1;
    std::string device = "cpu"; // cpu, cuda, cuda:N
    int threads = 0; // CPU intra-op threads; 0: one per core (LibTorch's default here is 1)
    // Train (and score) on each clip's frame means when the adapter is affine up to mean
    // pooling (no Transformer blocks, mean pooling) and the source gives them: the same clip
    // logits, at a fraction of the cost. Our variant: dropout then acts on the clip's mean
    // projection instead of each frame's.
    bool clipMeansWhenExact = true;
    // Written after every epoch when set (weights, the best epoch's weights, the optimiser's
    // state, the history; safetensors, replaced atomically), so a killed run can continue.
    std::string checkpointPath;
    // Continue from checkpointPath when it holds a checkpoint of these settings: the same
    // seed gives the same weights as a run that was never interrupted.
    bool resume = false;
    // Seed 003's speed perturbation: each training batch of the fine-tuning and of seed 003's
    // stage 1 reads one of the source's variants (ClipFeatureSource::variant), drawn uniformly
    // from the seed and the epoch; validation, the normalisation statistics and the other
    // stages (whose frame targets are tied to the clip's own frames) read variant 0.
    bool speedPerturbation = false;
    // Adapter TAPT (seed 002's one-click variant, ../shared/METHODS.md): start from the
    // backbone of this adapter file, as pretrainBackbone() and save() wrote it - the input
    // normalisation, layer integration, projection, position convolution and Transformer blocks
    // with their average - and from its local attributes (recounted on this run's labeled
    // clips); the pooling and heads start fresh. The file's backbone settings must equal the
    // adapter's (backboneSettings), and the run has no pre-training of its own (pretrain.epochs
    // 0), nor GMP-ATL or seed 003's stage 1 (they start fresh adapters of their own).
    std::string initialBackbone;
    // Paper mode (adapter.encoderFirstLayer > 0): the encoder's folder (config.json and
    // weights), whose Transformer layers start the run; it must be the encoder the features
    // came from. The fine-tuning trains the encoder's layers from encoderTrainFrom (0: every
    // layer the adapter runs) at encoderLearningRate (seed 003's 1e-5), the rest of the adapter
    // at learningRate. Seed 003's stage 1 trains every layer the adapter runs; GMP-ATL's step 1
    // trains none (its steps 3 and 4 do).
    std::string encoderFolder;
    int encoderTrainFrom = 0;
    double encoderLearningRate = 1e-5;
    // Paper mode after TAPT proper (seed 002): the file EncoderPretrainer::save wrote, whose
    // adapted Transformer replaces the folder's. It changed every layer, so the run must start
    // from the cache's layer 0 (adapter.encoderFirstLayer 1), which TAPT leaves exact.
    std::string encoderWeights;
};

struct EpochRecord
{
    int epoch = 0; // from 1
    double trainLoss = 0;
    double validationLoss = 0;
    double validationUa = 0; // categorical; for dimensional-only models the mean CCC
    double seconds = 0;
};

struct ClipPrediction
{
    std::vector<float> probabilities; // [classes]
    std::vector<float> dimensions;    // [dims]
    int64_t frames = 0;
    std::vector<float> frameProbabilities; // [frames * classes], when asked for
    std::vector<float> pooled;             // the utterance vector, when asked for
    // Seed 000's local-attribute id of each frame [frames], with the frames, when the model
    // was pre-trained (AdapterTrainer::localAttributeCount).
    std::vector<int32_t> localAttributes;
    // sample(): the classifier's input [head width], and each dropout pass's class
    // probabilities [passes * classes].
    std::vector<float> classifierInput;
    std::vector<float> passProbabilities;
};

class AdapterTrainer
{
public:
    // Returns false from the callback to stop after this epoch (the best epoch so far is kept).
    // fraction is of the whole run.
    using EpochCallback = std::function<bool(const EpochRecord &, double fraction)>;
    using CancelCheck = std::function<bool()>;
    // Pre-training epochs (TrainerOptions::pretrain); fraction is of the pre-training.
    using PretrainCallback = std::function<void(const PretrainRecord &, double fraction)>;
    // GMP-ATL's steps 1 and 3 (TrainerOptions::gmpAtl); fraction is of those two steps.
    using GmpAtlCallback = std::function<void(const GmpAtlRecord &, double fraction)>;
    // Seed 003's stage 1 (TrainerOptions::ari); fraction is of the stage.
    using AriCallback = std::function<void(const AriRecord &, double fraction)>;

    explicit AdapterTrainer(TrainerOptions options);
    ~AdapterTrainer();
    AdapterTrainer(const AdapterTrainer &) = delete;
    AdapterTrainer &operator=(const AdapterTrainer &) = delete;

    // Trains on the clips `train` of source, choosing the best epoch on `validation` (empty:
    // the last epoch). Input normalisation statistics come from the training clips. cancelled()
    // is polled between batches (of the statistics pass too): it ends the run with what is best
    // so far and sets *cancelled.
    ModelStatus train(const ClipFeatureSource &source, const std::vector<std::size_t> &train,
                      const std::vector<std::size_t> &validation, const EpochCallback &onEpoch,
                      const CancelCheck &cancelled, bool *wasCancelled = nullptr);

    // Pre-training (when TrainerOptions::pretrain.epochs > 0) reads these clips, labeled or not;
    // by default the training and validation clips.
    void setPretrainClips(std::vector<std::size_t> clips);
    void setPretrainCallback(PretrainCallback callback);
    const std::vector<PretrainRecord> &pretrainHistory() const;
    void setGmpAtlCallback(GmpAtlCallback callback);
    const std::vector<GmpAtlRecord> &gmpAtlHistory() const;
    void setAriCallback(AriCallback callback);
    const std::vector<AriRecord> &ariHistory() const;
    // Seed 000's local attributes, kept with the model when it was pre-trained: the teacher's
    // k-means clusters of the last refresh (0 when there are none), and how many frames of
    // each class carry each one in the clips the training read with a category,
    // [attributes * classes] (empty without categories).
    int localAttributeCount() const;
    std::vector<float> localAttributeClassFrames() const;

    // The epochs a checkpoint holds (for a resumed run's records). False with a reason.
    // *pretrainEpochs (when given): the epochs of the stage before fine-tuning - seed 000's
    // pre-training, seed 003's stage 1, or GMP-ATL's steps 1 and 3 counted together - done
    // when the run was killed in it (out is then empty); -1 when that stage was over or never
    // ran.
    static ModelStatus checkpointHistory(const std::string &path, std::vector<EpochRecord> *out,
                                         int *pretrainEpochs = nullptr);

    // Predicts the clips `which` of source with the trained (or loaded) weights. cancelled() is
    // polled between batches: it ends the call with the error "cancelled".
    ModelStatus predict(const ClipFeatureSource &source, const std::vector<std::size_t> &which,
                        bool withFrames, bool withPooled, std::vector<ClipPrediction> *out,
                        const CancelCheck &cancelled = {});

    // Active learning's view of the clips `which` (seed 002's BALD and BADGE): their class
    // probabilities and the classifier's input in inference mode, then `passes` forward passes
    // with dropout on (MC dropout), seeded, each pass's probabilities. Costs passes + 1
    // forward passes of the adapter. Categorical models only.
    ModelStatus sample(const ClipFeatureSource &source, const std::vector<std::size_t> &which,
                       int passes, std::uint64_t seed, std::vector<ClipPrediction> *out,
                       const CancelCheck &cancelled = {});

    // ALPS (seed 002's set; Yuan et al. 2020): each clip's surprisal embedding, [buckets] per
    // clip, from a backbone file that adapter TAPT saved with its masked-prediction heads
    // (hasSurprisalHeads). ALPS takes a masked language model's loss at some tokens; ours takes
    // the pre-training's own task - the cross-entropy (nats) of the local-attribute id the
    // teacher gives each frame, predicted by the student's cluster head where that frame is
    // masked - averaged over each of `buckets` equal parts of the clip (bucketMeans). Every
    // frame is masked once: round(1 / maskFraction) passes (at least 2) of alternating spans of
    // the pre-training's span length (alternatingSpans), so no draw is involved and the result
    // does not depend on the batches. Costs one teacher pass and that many student passes of
    // the adapter. cancelled() is polled between batches: it ends the call with "cancelled";
    // onBatch(done, total), when given, is called after each batch with the clips done so far.
    ModelStatus
    surprisal(const ClipFeatureSource &source, const std::vector<std::size_t> &which, int buckets,
              std::vector<std::vector<float>> *out, const CancelCheck &cancelled = {},
              const std::function<void(std::size_t done, std::size_t total)> &onBatch = {});
    // Whether the loaded file has the masked-prediction heads surprisal() needs: a backbone
    // that pretrainBackbone() made and save() wrote (fine-tuning changes the backbone the heads
    // were trained with, so a trained model keeps none).
    bool hasSurprisalHeads() const;

    const std::vector<EpochRecord> &history() const;
    int bestEpoch() const; // from 1; 0 before training
    // The last train() read the clips' frame means (see TrainerOptions::clipMeansWhenExact).
    bool trainedOnClipMeans() const;
    const TrainerOptions &options() const;
    int64_t parameterCount() const;

    // The weights and normalisation as a safetensors file (metadata: the adapter settings).
    ModelStatus save(const std::string &path) const;
    ModelStatus load(const std::string &path);

    // Adapter TAPT: seed 000's teacher-student pre-training (TrainerOptions::pretrain, epochs >
    // 0) on these clips, labeled or not, with the input normalisation from them, and no
    // fine-tuning. The student's backbone and the local attributes are kept (their counts per
    // class from the clips with a category), and the masked-prediction heads (surprisal()):
    // save() writes them, with the untrained pooling and heads, for a later run's
    // TrainerOptions::initialBackbone. Checkpoints and resume as the
    // pre-training in train() (checkpointPath, resume). cancelled() is polled between batches.
    ModelStatus pretrainBackbone(const ClipFeatureSource &source,
                                 const std::vector<std::size_t> &clips,
                                 const CancelCheck &cancelled, bool *wasCancelled = nullptr);
    // The settings a backbone is shaped by (the encoder's shape, extra inputs, layer
    // integration, width, position convolution, blocks, heads, feed-forward width, block
    // average): a backbone file fits an adapter when they are equal. Saved as the file's
    // "backbone" metadata.
    static std::string backboneSettings(const AdapterOptions &adapter);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace emolens
