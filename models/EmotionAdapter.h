#pragma once
// EmotionAdapter: the small network that learns emotion on top of a frozen speech encoder's
// cached features. A composition of parts, each a recorded setting, so a recipe chooses parts
// instead of copying a network:
//
//   layer integration  a learned softmax-weighted average over the encoder's layers (SUPERB,
//                      seed 000), or one chosen layer, or seed 003's ARI: the last layer plus
//                      a learned integration of layers 1 to L-2 (a weight matrix [L-2, hidden],
//                      softmax over the layers per dimension; layer 0, the CNN's projection,
//                      is left out)
//   extra inputs       per-frame acoustic curves (F0, voicing, energy) appended to the features;
//                      fbank's per-utterance normalisation removes the level, these bring it back
//   normalisation      per input dimension, from the training set (buffers, saved with weights)
//   backbone           a linear projection to `width`, then N Transformer encoder layers
//                      (post-norm, ReLU) masked so padding is never attended to; their outputs
//                      (projection included) combined by a second learned softmax-weighted
//                      average: seed 000's WAP-Transformer as ../shared/METHODS.md reads it. Both
//                      averages can be switched off (one layer; the last block's output).
//   pooling            masked mean, or SAP: attentive statistics (attention-weighted mean and
//                      standard deviation), or seed 003's co-attention: each auxiliary task
//                      (gender, speaker, style: a hidden layer on the clip's mean frame; character
//                      CTC: a hidden layer on every frame, its clip mean as the state) gives a
//                      hidden state that, as a query, weights the frames (scaled dot product,
//                      masked softmax); the tasks' weights are averaged, the weighted mean of the
//                      frames (the weighted emotion features) is joined with the hidden states
//   heads              categorical (logits for cross-entropy) and dimensional (one value per
//                      scale, for the CCC loss); after co-attention, behind a hidden layer
//                      (ReLU, dropout): two fully connected layers, as seed 003's heads
//
// Frame curves: every head also gives per-frame outputs. For mean pooling they are the head on
// each frame (the clip's logits are their mean); for SAP, the head on a clip made of that frame
// alone (weighted mean = the frame, standard deviation 0). Padding never changes a clip's
// outputs: masked attention, masked pooling, and frame outputs at padded frames are 0.
//
// Threads: a module is used by one thread at a time; create the InferenceMode / NoGradGuard in
// the thread that runs it.
//
//   EmotionAdapter net(AdapterOptions{.layerCount = 13, .hiddenSize = 768, .classCount = 4});
//   AdapterOutput out = net->forward(hidden /*[B,13,T,768]*/, mask /*[B,T]*/);
//   auto loss = classificationLoss(out.logits, targets, classWeights);

#include "AdapterOptions.h"
#include "EncoderLayers.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace emolens {

struct AdapterOutput
{
    torch::Tensor logits;          // [B, classes]
    torch::Tensor frameLogits;     // [B, T, classes], 0 at padded frames
    torch::Tensor dimensions;      // [B, dims]
    torch::Tensor frameDimensions; // [B, T, dims], 0 at padded frames
    torch::Tensor pooled; // [B, width] (mean) or [B, 2 * width] (SAP): the utterance vector
    // [B, head width]: what the classifier reads - pooled, or seed 003's hidden layer of it
    // (BADGE's gradient embeddings are taken with respect to the classifier's weights).
    torch::Tensor classifierInput;
    torch::Tensor frames; // [B, T, width]: the backbone's frame features pooling reads
    // Seed 003's auxiliary tasks (co-attention only; undefined for a task the model lacks).
    torch::Tensor genderLogits;    // [B, genderClasses]
    torch::Tensor speakerLogits;   // [B, speakerClasses]
    torch::Tensor styleLogits;     // [B, styleClasses]
    torch::Tensor characterLogits; // [B, T, characterClasses] (CTC; blank is 0)
    torch::Tensor attention;       // [B, T]: the co-attention's frame weights, summing to 1
};

class EmotionAdapterImpl : public torch::nn::Module
{
public:
    // Seed 003's auxiliary tasks, in this order: gender, speaker, style, characters (CTC).
    static constexpr int kAuxiliaryTasks = 4;
    static constexpr int kCharacterTask = 3;

    explicit EmotionAdapterImpl(AdapterOptions options);

    // hidden: [B, layers, T, hiddenSize] (any float type; computed in float32, or the
    // module's dtype); mask: [B, T] bool, true on real frames (every clip has at least one);
    // extra: [B, T, extraInputs], or undefined when extraInputs is 0.
    AdapterOutput forward(const torch::Tensor &hidden, const torch::Tensor &mask,
                          const torch::Tensor &extra = {});

    // The backbone alone: the frame representation the pooling reads, [B, T, width], 0 at
    // padded frames. For seed 000's pre-training: where spanMask [B, T] (bool) is set, the
    // projected frame is replaced by maskVector [width] before the blocks; blockOutputs, when
    // given, receives each Transformer block's output [B, T, width] (not the projection's).
    torch::Tensor frames(const torch::Tensor &hidden, const torch::Tensor &mask,
                         const torch::Tensor &extra = {}, const torch::Tensor &spanMask = {},
                         const torch::Tensor &maskVector = {},
                         std::vector<torch::Tensor> *blockOutputs = nullptr);

    const AdapterOptions &options() const { return m_options; }
    // Paper mode's encoder layers (AdapterOptions::encoderFirstLayer), null in one-click mode.
    EncoderLayers encoderLayers() const { return m_encoder; }
    // The features the adapter reads: `hidden` itself, or in paper mode the cached layers below
    // encoderFirstLayer and the encoder layers' outputs from there on, [B, layers, T, hidden].
    torch::Tensor encoderStates(const torch::Tensor &hidden, const torch::Tensor &mask);
    // The learned layer weights (softmax), [layers]; all on the chosen layer for SingleLayer;
    // for ARI 1 on the last layer and the integration's weights (averaged over the dimensions)
    // on layers 1 to L-2.
    torch::Tensor layerWeights() const;
    // Mean and standard deviation of the inputs (after layer integration, extras appended),
    // [hiddenSize + extraInputs] each; stored as buffers. Defaults: 0 and 1.
    void setInputNormalisation(const torch::Tensor &mean, const torch::Tensor &std);
    // The integrated, normalised frame inputs: what setInputNormalisation's statistics are
    // computed over (with the identity normalisation in place).
    torch::Tensor integrate(const torch::Tensor &hidden, const torch::Tensor &extra);

private:
    torch::Tensor headInput(const torch::Tensor &frames, const torch::Tensor &mask,
                            torch::Tensor *frameInput, AdapterOutput *out);

    AdapterOptions m_options;
    torch::Tensor m_layerLogits; // [layers]
    torch::Tensor m_blockLogits; // [transformerLayers + 1]
    torch::Tensor m_inputMean;   // buffer
    torch::Tensor m_inputStd;    // buffer
    torch::nn::Linear m_projection{nullptr};
    torch::nn::Conv1d m_position{nullptr};
    torch::nn::Dropout m_dropout{nullptr};
    torch::nn::ModuleList m_blocks{nullptr};
    torch::nn::Linear m_attentionHidden{nullptr};
    torch::nn::Linear m_attentionScore{nullptr};
    torch::nn::Linear m_classifier{nullptr};
    torch::nn::Linear m_regressor{nullptr};
    // Seed 003: ARI's weight matrix [layers - 2, hidden], the auxiliary tasks' hidden layers
    // and outputs (gender, speaker, style, characters; null where absent), a query per task and
    // the shared key of the co-attention, and the emotion head's hidden layer.
    torch::Tensor m_ariLogits;
    std::vector<torch::nn::Linear> m_auxiliaryHidden, m_auxiliaryOutput, m_query;
    torch::nn::Linear m_key{nullptr};
    torch::nn::Linear m_emotionHidden{nullptr};
    EncoderLayers m_encoder{nullptr};
};
TORCH_MODULE(EmotionAdapter);

// Cross-entropy over the categorical logits; classWeights [classes] or undefined.
torch::Tensor classificationLoss(const torch::Tensor &logits, const torch::Tensor &targets,
                                 const torch::Tensor &classWeights = {});
// Cross-entropy against soft targets: shares [N, classes] (each row sums to 1, e.g. the share
// of annotators' votes), weighted per class like classificationLoss and normalised by the
// weighted shares, so one-hot shares give classificationLoss's value.
torch::Tensor softClassificationLoss(const torch::Tensor &logits, const torch::Tensor &shares,
                                     const torch::Tensor &classWeights = {});
// Seed 003's character CTC (blank 0): transcripts[b] is clip b's character ids (from 1; empty:
// the clip is skipped) over its real frames (mask [B, T]); each clip's loss is divided by its
// transcript's length and the clips are averaged (LibTorch's "mean"); a transcript too long
// for its frames adds 0. Undefined when no clip has a transcript.
torch::Tensor characterLoss(const torch::Tensor &characterLogits, const torch::Tensor &mask,
                            const std::vector<std::vector<int32_t>> &transcripts);
// 1 - CCC, averaged over the dimensions; valid [B, dims] bool marks the values that exist (a
// clip may have arousal but no dominance); a dimension with fewer than two values adds 0.
torch::Tensor concordanceLoss(const torch::Tensor &predicted, const torch::Tensor &truth,
                              const torch::Tensor &valid);

} // namespace emolens
