#pragma once
// EncoderPretrainer: TAPT proper, seed 002's paper mode (../shared/METHODS.md) - continued
// self-supervised training of a HuBERT / wav2vec 2.0 / WavLM encoder's Transformer on the
// corpus's own clips, labeled or not, with HuBERT's objective: masked prediction of k-means
// targets. The masked contrastive objective of wav2vec 2.0 is not offered (its quantiser is
// not among the weights the encoders load); every encoder gets HuBERT's objective.
//
// What is HuBERT's (Hsu et al., 2021; seed 002 states none of these values):
// - masking: each frame starts a masked span with probability 8 %, spans of 10 frames; the
//   masked frames of the projected CNN features are replaced by a learned vector, before the
//   positional convolution;
// - prediction: a linear projection of the last layer's output to 256 values, cosine
//   similarity with one learned embedding per cluster, temperature 0.1, cross-entropy over the
//   masked frames only;
// - targets: k-means clusters of an intermediate layer's features (its second iteration
//   clusters layer 6 of the 12-layer base model).
// What is ours (the papers are silent, or we choose otherwise):
// - the targets cluster the cached features of the middle layer (round(L / 2)) of the encoder
//   being adapted, k = 100, on up to 50,000 frames of the corpus (HuBERT: 500 clusters);
// - AdamW at 5e-5 with weight decay 0.01, batches of 4 clips (paper mode's batch), dropout
//   0.1, 10 epochs;
// - variant: the CNN, the feature projection and the positional convolution stay as
//   pre-trained (HuBERT trains them too). The feature cache holds the projection's output for
//   every clip (extract --tapt-inputs), so the CNN never runs again; and since the positional
//   convolution is unchanged, the cache's layer 0 stays the exact input of the adapted layers,
//   which is what paper-mode fine-tuning reads.
//
// Deterministic with the seed on the CPU; each epoch's clip order, masks and dropout depend on
// the seed and the epoch only, so a run resumed from its checkpoint (written after every
// epoch) ends as the uninterrupted one.
//
// No Torch in this header (the CLI and core include it); its parts with tensors are in
// EncoderPretraining.h. Threads: one call at a time; the sources are read from the calling
// thread.

#include "AdapterTrainer.h"
#include "ModelStatus.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace emolens {

struct EncoderPretrainOptions
{
    std::string encoderFolder; // config.json and weights: where the layers start
    int epochs = 10;
    int clusters = 100;
    int targetLayer = 0; // the cached layer the targets cluster; 0: round(L / 2)
    std::int64_t clusterFrames = 50000;
    double startProbability = 0.08; // HuBERT
    int spanFrames = 10;            // HuBERT
    int projectionSize = 256;       // HuBERT
    double temperature = 0.1;       // HuBERT
    double learningRate = 5e-5;
    double weightDecay = 0.01;
    int batchClips = 4;
    double dropout = 0.1;
    std::uint64_t seed = 1;
    std::string device = "cpu";
    int threads = 0;
    std::string checkpointPath; // written after every epoch when set
    bool resume = false;        // continue from checkpointPath when it is there

    // The settings in one line, for the run's record (the checkpoint checks them too).
    std::string describe() const;
};

struct EncoderPretrainRecord
{
    int epoch = 0;
    double loss = 0;           // cross-entropy at the masked frames, mean over them
    double maskedAccuracy = 0; // of the masked frames, the share whose cluster came first
    double seconds = 0;
};

class EncoderPretrainer
{
public:
    static constexpr const char *kFormat = "emolens-tapt-encoder-1";

    explicit EncoderPretrainer(EncoderPretrainOptions options);
    ~EncoderPretrainer();

    using CancelCheck = std::function<bool()>;
    using Callback = std::function<void(const EncoderPretrainRecord &, double fraction)>;
    void setCallback(Callback callback);

    // layers: the cached hidden states (the targets come from the target layer); inputs: the
    // same clips' projected CNN features ([1, frames, hidden] each; the cache's TAPT inputs).
    // Trains on `clips`. A cancel returns success with *wasCancelled set, keeping nothing.
    ModelStatus run(const ClipFeatureSource &layers, const ClipFeatureSource &inputs,
                    const std::vector<std::size_t> &clips, const CancelCheck &cancelled = {},
                    bool *wasCancelled = nullptr);

    const std::vector<EncoderPretrainRecord> &history() const;
    int targetLayer() const; // resolved
    bool resumed() const;
    int resumedAfterEpoch() const;

    // The adapted Transformer (models/EncoderLayers' names, with the unchanged positional
    // convolution and norms), the encoder's config.json and the settings, as safetensors.
    ModelStatus save(const std::string &path) const;

    // The epochs a checkpoint holds (0 when there is none).
    static int checkpointEpochs(const std::string &path);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace emolens
