#pragma once
// SelfSupervisedEncoder: wav2vec 2.0, HuBERT and WavLM (any size a config.json describes) as
// one network: the convolutional feature extractor (group- or layer-norm), the feature
// projection, the weight-normed convolutional positional embedding and a post-LN (base) or
// pre-LN (large) Transformer stack, with WavLM's gated relative position bias. It follows
// Hugging Face's transformers numerically (checked against torchaudio's reference models in
// tests/models) with one deliberate difference: in a padded batch the group norm of the first
// conv layer uses each clip's valid frames only, so a padded clip gets exactly the features it
// gets alone (Hugging Face normalises over the padding too).
//
// Loading checks every expected tensor for presence and shape (both weight-norm spellings:
// weight_g/weight_v and parametrizations.weight.original0/1; optional "wav2vec2.", "hubert.",
// "wavlm." prefixes) and ignores extra tensors (quantizer, project_q, masked_spec_embed,
// heads). Threads: see SpeechEncoder. On the CPU with OpenBLAS's pthread build (Debian's),
// encode() sets the calling thread's ATen intra-op threads to 1 while it runs (restored after):
// the GEMMs use every core through OpenBLAS's own pool, and two busy-waiting pools on the same
// cores halved throughput.

#include "EncoderConfig.h"
#include "SpeechEncoder.h"

#include <map>

namespace emolens {

class SelfSupervisedEncoder final : public SpeechEncoder
{
public:
    ~SelfSupervisedEncoder() override;

    static ModelStatus load(const std::string &folder, const EncoderOptions &options,
                            std::unique_ptr<SpeechEncoder> &out);

    ModelStatus encode(const at::Tensor &waveforms, const std::vector<std::int64_t> &sampleLengths,
                       HiddenStates &out) const override;
    int layerCount() const override { return m_config.layerCount + 1; }
    int hiddenSize() const override { return m_config.hiddenSize; }
    double framesPerSecond() const override;
    std::int64_t frameCount(std::int64_t sampleCount) const override;
    std::string identity() const override { return m_identity; }
    c10::Device device() const override { return m_device; }
    const EncoderConfig &config() const { return m_config; }

    // Where encode() spends its time, for tests/bench/bench_encoder --profile: one entry per
    // stage (CNN layer, projection, positional conv, attention, feed-forward, ...), summed over
    // clips and layers, in order of first appearance, with the stage's arithmetic (multiply
    // and add count as two) so a reader can compare against the machine's GEMM rate. On CUDA
    // the stages time kernel launches, not kernels.
    struct StageSeconds
    {
        std::string stage;
        double seconds = 0.0;
        double flops = 0.0;
    };
    ModelStatus encodeProfiled(const at::Tensor &waveforms,
                               const std::vector<std::int64_t> &sampleLengths, HiddenStates &out,
                               std::vector<StageSeconds> &stages) const;

    // WavLM's relative position bucket of every (query, key) frame pair: [frames, frames],
    // int64 on `device`. Exact up to a quarter of `bucketCount` frames apart, log-spaced up
    // to `maxDistance`, with separate halves for keys after and before the query.
    // The Transformer's weights by models/EncoderLayers' parameter names, for training them in
    // a recipe's paper mode: "layerN.qkv_weight" ... for N from 1 (the stacked query, key and
    // value projections, the output projection, both norms, the feed-forward block, WavLM's
    // gate), "encoder_norm_weight/bias", (WavLM) "relative_embedding", and the positional
    // convolution's "position_weight" (folded from its weight norm) and "position_bias". The loaded
    // tensors themselves, on the encoder's device: copy before changing them.
    std::map<std::string, at::Tensor> transformerTensors() const;

    static at::Tensor relativePositionBuckets(std::int64_t frames, int bucketCount, int maxDistance,
                                              c10::Device device);
    // The buckets of query frames [firstQuery, firstQuery + queries) against key frames
    // [0, keys): [queries, keys], the rows of the square above.
    static at::Tensor relativePositionBuckets(std::int64_t firstQuery, std::int64_t queries,
                                              std::int64_t keys, int bucketCount, int maxDistance,
                                              c10::Device device);

    EncoderPrecision precision() const { return m_precision; }
    // True when encode() takes the batched path (EncoderPath).
    bool batched() const { return m_batched; }

private:
    struct Network;
    SelfSupervisedEncoder(EncoderConfig config, std::unique_ptr<Network> network,
                          std::string identity, c10::Device device);
    // encode() and encodeProfiled(); `stages` is null when no profile is wanted.
    ModelStatus run(const at::Tensor &waveforms, const std::vector<std::int64_t> &sampleLengths,
                    HiddenStates &out, std::vector<StageSeconds> *stages) const;

    EncoderConfig m_config;
    bool m_keepProjection = false;
    EncoderPrecision m_precision = EncoderPrecision::Float32;
    bool m_batched = false;
    std::unique_ptr<Network> m_network;
    std::string m_identity;
    c10::Device m_device;
};

} // namespace emolens
