#pragma once
// SpeechEncoder: a frozen speech model that turns 16 kHz mono audio into frame features, with
// every hidden layer exposed. Two kinds sit behind it: the built-in fbank (80 log-mel bands,
// no weights) and the self-supervised Transformers (wav2vec 2.0, HuBERT, WavLM) loaded from a
// Hugging Face model folder (config.json + model.safetensors).
//
// Threads: create and destroy on one thread; encode() is const and only reads the weights, so
// any thread may call it, also concurrently. It runs in inference mode (no autograd).
// Errors come back as ModelStatus; no exception leaves these calls.
//
//     std::unique_ptr<SpeechEncoder> encoder;
//     if (ModelStatus s = SpeechEncoder::loadFolder("/models/hubert-base-ls960", {}, encoder);
//         !s) return report(s.error());
//     HiddenStates states;
//     ModelStatus s = encoder->encode(waveforms, sampleLengths, states);
//     // states.layers: [13, batch, frames, 768] for a base model, 50 frames per second

#include "ModelStatus.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace emolens {

struct HiddenStates
{
    // [layerCount, batch, frames, hiddenSize], float32, on the encoder's device. For the
    // Transformers, layer 0 is the Transformer's input (projected CNN features after the
    // positional convolution), then one per Transformer layer: Hugging Face's hidden_states.
    // Frames past a clip's frameLengths entry are zero.
    at::Tensor layers;
    std::vector<std::int64_t> frameLengths;
    // [batch, frames, hiddenSize]: the projected CNN features before the positional
    // convolution, the input TAPT masks (models/EncoderPretrainer) - only from a
    // SelfSupervisedEncoder loaded with EncoderOptions::keepProjection; else undefined.
    at::Tensor projection;
};

// The arithmetic of a self-supervised encoder (fbank always computes in float32).
// - Float32: the default; parity with the reference models is tested within 1e-4.
// - BFloat16: weights and activations in bfloat16 from the second CNN layer on (the first
//   layer and its group-norm statistics stay float32, as do layer-norm statistics and the
//   returned HiddenStates). On CPUs with AVX-512 BF16 and on GPUs its matrix products run
//   several times faster; the features deviate from float32 (tests/bench/bench_encoder
//   reports by how much, layer by layer). The identity gets "-bf16", so the feature cache
//   keeps the two apart.
enum class EncoderPrecision {
    Float32,
    BFloat16,
};

// "fp32" / "bf16": the spelling settings, the CLI and identities use.
const char *precisionName(EncoderPrecision precision);
// Accepts "fp32", "float32", "bf16", "bfloat16"; false for anything else.
bool parsePrecision(const std::string &name, EncoderPrecision &out);

// How a self-supervised encoder lays out a batch.
// - PerClip: the CNN in chunks and the attention clip by clip, on each clip's valid frames
//   only, with buffers reused from layer to layer (the CPU path: bounded memory, no fresh
//   pages per layer).
// - Batched: the whole padded batch at once - one convolution per CNN layer, masked
//   attention over the batch (scaled-dot-product attention on LibTorch 2.x) - so a GPU gets
//   few, large kernels.
// - Automatic: Batched on a GPU, PerClip on the CPU. Both give the same features (tested).
enum class EncoderPath {
    Automatic,
    PerClip,
    Batched,
};

struct EncoderOptions
{
    c10::Device device = c10::Device(c10::kCPU);
    // CPU threads for Torch's intra-op pool (a process-wide setting): 0 uses one per core,
    // a negative value leaves the current setting alone.
    int threadCount = 0;
    // Self-supervised encoders also return HiddenStates::projection.
    bool keepProjection = false;
    EncoderPrecision precision = EncoderPrecision::Float32;
    EncoderPath path = EncoderPath::Automatic;
};

class SpeechEncoder
{
public:
    static constexpr int kSampleRate = 16000;

    virtual ~SpeechEncoder() = default;

    // waveforms: [batch, samples] float, 16 kHz mono, any device (moved to the encoder's).
    // sampleLengths: the valid samples of each clip (the rest is padding, ignored); empty
    // means every clip fills the row. A padded clip gets the same features as the clip alone.
    virtual ModelStatus encode(const at::Tensor &waveforms,
                               const std::vector<std::int64_t> &sampleLengths,
                               HiddenStates &out) const = 0;

    virtual int layerCount() const = 0;
    virtual int hiddenSize() const = 0;
    virtual double framesPerSecond() const = 0;
    // Frames encode() yields for a clip of `sampleCount` samples.
    virtual std::int64_t frameCount(std::int64_t sampleCount) const = 0;
    // Changes whenever the weights or the configuration change ("fbank-v1" for fbank, else
    // the model type and a hash of config.json and the weight files): the feature cache key.
    virtual std::string identity() const = 0;
    virtual c10::Device device() const = 0;

    // Loads wav2vec 2.0 / HuBERT / WavLM from a Hugging Face folder. On failure `out` stays
    // empty and the message names the file and the tensor.
    static ModelStatus loadFolder(const std::string &folder, const EncoderOptions &options,
                                  std::unique_ptr<SpeechEncoder> &out);
    // The built-in fbank encoder (the default: needs no weights).
    static ModelStatus createFbank(const EncoderOptions &options,
                                   std::unique_ptr<SpeechEncoder> &out);

protected:
    SpeechEncoder() = default;
    // Shared by both kinds: applies EncoderOptions::threadCount.
    static void applyThreadCount(const EncoderOptions &options);
    // Checks encode()'s arguments; fills `lengths` (all samples when sampleLengths is empty).
    static ModelStatus checkInput(const at::Tensor &waveforms,
                                  const std::vector<std::int64_t> &sampleLengths,
                                  std::vector<std::int64_t> &lengths);
};

} // namespace emolens
