#pragma once
// EncoderLayers: the Transformer layers of a wav2vec 2.0 / HuBERT / WavLM encoder as a trainable
// LibTorch module, for the recipes' paper mode (../shared/METHODS.md, "Encoder fine-tuning").
// Layers firstLayer to L (numbered as the hidden states: 1 is the first Transformer layer) run
// on the cached output of layer firstLayer - 1, since the feature cache holds every layer: the
// CNN, the positional convolution and the layers below are never run again, and stay frozen.
//
// The arithmetic is SelfSupervisedEncoder's (post-LN base and pre-LN large stacks, WavLM's gated
// relative position bias; tests/models check the outputs agree), written out of place on padded
// batches so autograd can run through it: padded keys get no attention weight, and padded frames
// are zero in every output, as the feature cache has them.
//
// Dropout: one rate on the attention weights, after the attention's output projection and after
// the feed-forward block - Hugging Face's attention_dropout and hidden_dropout, whose default
// 0.1 is our default too (the seed papers do not state theirs); no layer drop.
//
// Usage:
//   EncoderLayers top(config, /*firstLayer=*/5);
//   top->copyFrom(encoder.transformerTensors());          // the pre-trained weights
//   auto layers = top->forward(cached[4] /*[B,T,H]*/, mask); // [B, L - 4, T, H]: layers 5..L

#include "EncoderConfig.h"
#include "ModelStatus.h"

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <map>
#include <string>

namespace emolens {

class EncoderLayersImpl : public torch::nn::Module
{
public:
    // firstLayer in 1..config.layerCount.
    EncoderLayersImpl(EncoderConfig config, int firstLayer, double dropout = 0.1);

    // input: [B, T, hidden], the output of layer firstLayer - 1; mask: [B, T] bool, true on
    // real frames. Returns the outputs of layers firstLayer..L, [B, L - firstLayer + 1, T,
    // hidden] (the last with the pre-LN stack's final norm, as the cache holds it), zero at
    // padded frames.
    torch::Tensor forward(const torch::Tensor &input, const torch::Tensor &mask);

    // The layers below `layer` keep their weights (no gradient); those from it on train. The
    // relative position embedding (WavLM) belongs to layer 1, the pre-LN final norm to layer L.
    void trainFrom(int layer);

    // The pre-trained weights, by this module's parameter names (SelfSupervisedEncoder::
    // transformerTensors gives them): every parameter must be there with its shape.
    ModelStatus copyFrom(const std::map<std::string, at::Tensor> &tensors);

    int firstLayer() const { return m_firstLayer; }
    const EncoderConfig &config() const { return m_config; }

private:
    struct Layer
    {
        int number = 0;
        torch::Tensor qkvWeight, qkvBias, outWeight, outBias;
        torch::Tensor attentionNormWeight, attentionNormBias;
        torch::Tensor inWeight, inBias, outFfWeight, outFfBias;
        torch::Tensor finalNormWeight, finalNormBias;
        torch::Tensor gateConstant, gateWeight, gateBias; // WavLM
        torch::nn::Module *module = nullptr;
    };

    torch::Tensor attention(const Layer &l, const torch::Tensor &x, const torch::Tensor &keyMask,
                            const torch::Tensor &positionBias);
    torch::Tensor feedForward(const Layer &l, const torch::Tensor &x);

    EncoderConfig m_config;
    int m_firstLayer;
    double m_dropout;
    std::vector<Layer> m_layers;
    torch::Tensor m_encoderNormWeight, m_encoderNormBias; // pre-LN only
    torch::Tensor m_relativeEmbedding;                    // WavLM only
};
TORCH_MODULE(EncoderLayers);

} // namespace emolens
