#include "SelfSupervisedEncoder.h"

#include "ContentHash.h"
#include "ModelWeights.h"
#include "OutOfMemory.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/version.h>

#if defined(__linux__)
#include <dlfcn.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

namespace emolens {

namespace {

struct ConvLayer
{
    // The kernel as one GEMM operand: [kernel * inChannels, outChannels], row (tap, inChannel),
    // so a window of `kernel` channels-last frames times it gives one output frame.
    at::Tensor weight;
    // The batched path's: the kernel as at::conv1d takes it, [outChannels, inChannels, kernel].
    at::Tensor convWeight;
    at::Tensor bias; // undefined without conv_bias
    at::Tensor normWeight;
    at::Tensor normBias; // undefined when the layer has no norm
    std::int64_t kernel = 1;
    std::int64_t stride = 1;
};

struct TransformerLayer
{
    // Query, key and value projections stacked ([3 * hidden, hidden]): one GEMM for all three.
    at::Tensor projectionWeight, projectionBias;
    at::Tensor outWeight, outBias;
    at::Tensor attentionNormWeight, attentionNormBias;
    at::Tensor feedForwardInWeight, feedForwardInBias, feedForwardOutWeight, feedForwardOutBias;
    at::Tensor finalNormWeight, finalNormBias;
    // WavLM's gate on the relative position bias.
    at::Tensor gateConstant, gateWeight, gateBias;
};

// Fetches the expected tensors one by one; the first problem is kept and later calls do
// nothing, so the loader reads as a list and still stops at the first bad tensor.
class WeightReader
{
public:
    WeightReader(const ModelWeights &weights, std::string prefix)
        : m_weights(weights), m_prefix(std::move(prefix))
    {
    }

    const ModelStatus &status() const { return m_status; }
    bool has(const std::string &name) const { return m_weights.contains(m_prefix + name); }

    at::Tensor get(const std::string &name, const std::vector<std::int64_t> &shape)
    {
        at::Tensor tensor;
        if (m_status)
            m_status = m_weights.floatTensor(m_prefix + name, shape, tensor);
        return tensor;
    }

private:
    const ModelWeights &m_weights;
    std::string m_prefix;
    ModelStatus m_status;
};

std::string readWholeFile(const std::string &path, bool &ok)
{
    std::ifstream file(path, std::ios::binary);
    ok = static_cast<bool>(file);
    std::ostringstream text;
    if (ok)
        text << file.rdbuf();
    return text.str();
}

} // namespace

struct SelfSupervisedEncoder::Network
{
    std::vector<ConvLayer> conv;
    at::Tensor projectionNormWeight, projectionNormBias; // undefined without the norm
    at::Tensor projectionWeight, projectionBias;
    at::Tensor positionWeight, positionBias; // weight norm folded in at load time
    at::Tensor encoderNormWeight, encoderNormBias;
    std::vector<TransformerLayer> layers;
    at::Tensor relativeEmbedding; // WavLM: [buckets, heads]

    // Every tensor, or (firstConvLayer false) every one but the first CNN layer's, which stays
    // float32 whatever the precision.
    void forEachTensor(const std::function<void(at::Tensor &)> &visit, bool firstConvLayer = true)
    {
        const auto each = [&visit](std::initializer_list<at::Tensor *> tensors) {
            for (at::Tensor *tensor : tensors) {
                if (tensor->defined())
                    visit(*tensor);
            }
        };
        for (std::size_t i = firstConvLayer ? 0 : 1; i < conv.size(); ++i) {
            ConvLayer &layer = conv[i];
            each({&layer.weight, &layer.convWeight, &layer.bias, &layer.normWeight,
                  &layer.normBias});
        }
        each({&projectionNormWeight, &projectionNormBias, &projectionWeight, &projectionBias,
              &positionWeight, &positionBias, &encoderNormWeight, &encoderNormBias,
              &relativeEmbedding});
        for (TransformerLayer &l : layers)
            each({&l.projectionWeight, &l.projectionBias, &l.outWeight, &l.outBias,
                  &l.attentionNormWeight, &l.attentionNormBias, &l.feedForwardInWeight,
                  &l.feedForwardInBias, &l.feedForwardOutWeight, &l.feedForwardOutBias,
                  &l.finalNormWeight, &l.finalNormBias, &l.gateConstant, &l.gateWeight,
                  &l.gateBias});
    }
};

SelfSupervisedEncoder::SelfSupervisedEncoder(EncoderConfig config, std::unique_ptr<Network> network,
                                             std::string identity, c10::Device device)
    : m_config(std::move(config)), m_network(std::move(network)), m_identity(std::move(identity)),
      m_device(device)
{
}

SelfSupervisedEncoder::~SelfSupervisedEncoder() = default;

double SelfSupervisedEncoder::framesPerSecond() const
{
    return static_cast<double>(kSampleRate) / m_config.samplesPerFrame();
}

std::int64_t SelfSupervisedEncoder::frameCount(std::int64_t sampleCount) const
{
    return m_config.frameCount(sampleCount);
}

ModelStatus SelfSupervisedEncoder::load(const std::string &folder, const EncoderOptions &options,
                                        std::unique_ptr<SpeechEncoder> &out)
{
    out.reset();
    const std::string configPath = (std::filesystem::path(folder) / "config.json").string();
    bool readable = false;
    const std::string configText = readWholeFile(configPath, readable);
    if (!readable)
        return ModelStatus::failure(configPath + ": cannot read the model configuration (is " +
                                    folder + " a Hugging Face model folder?)");
    EncoderConfig config;
    if (ModelStatus status = EncoderConfig::parse(configText, configPath, config); !status)
        return status;

    std::unique_ptr<ModelWeights> weights;
    if (ModelStatus status = ModelWeights::openFolder(folder, weights); !status)
        return status;

    // Checkpoints name the same network with or without a task-model prefix
    // (Wav2Vec2ForPreTraining: "wav2vec2.", HubertModel: none).
    const std::string anchor = "feature_projection.projection.weight";
    std::vector<std::string> prefixes;
    for (const std::string &name : weights->names()) {
        if (name.size() >= anchor.size() &&
            name.compare(name.size() - anchor.size(), anchor.size(), anchor) == 0)
            prefixes.push_back(name.substr(0, name.size() - anchor.size()));
    }
    if (prefixes.size() != 1)
        return ModelStatus::failure(
            weights->fileOf(anchor) + ": tensor \"" + anchor + "\" " +
            (prefixes.empty() ? "is missing: this is not a wav2vec 2.0 / HuBERT / WavLM "
                                "checkpoint with Hugging Face names"
                              : "appears under several prefixes: the file holds more than one "
                                "encoder"));

    const EncoderConfig &c = config;
    WeightReader reader(*weights, prefixes.front());
    auto network = std::make_unique<Network>();
    const std::int64_t hidden = c.hiddenSize;

    std::int64_t inChannels = 1;
    for (std::size_t i = 0; i < c.convDim.size(); ++i) {
        const std::string base = "feature_extractor.conv_layers." + std::to_string(i) + ".";
        ConvLayer layer;
        const std::int64_t channels = c.convDim[i];
        layer.weight = reader.get(base + "conv.weight", {channels, inChannels, c.convKernel[i]});
        if (layer.weight.defined())
            layer.weight = layer.weight.permute({2, 1, 0}).reshape({-1, channels});
        if (c.convBias)
            layer.bias = reader.get(base + "conv.bias", {channels});
        if (c.featureNorm == EncoderConfig::FeatureNorm::Layer || i == 0) {
            layer.normWeight = reader.get(base + "layer_norm.weight", {channels});
            layer.normBias = reader.get(base + "layer_norm.bias", {channels});
        }
        layer.kernel = c.convKernel[i];
        layer.stride = c.convStride[i];
        network->conv.push_back(std::move(layer));
        inChannels = channels;
    }
    if (c.featureProjectionLayerNorm) {
        network->projectionNormWeight =
            reader.get("feature_projection.layer_norm.weight", {inChannels});
        network->projectionNormBias =
            reader.get("feature_projection.layer_norm.bias", {inChannels});
    }
    network->projectionWeight = reader.get(anchor, {hidden, inChannels});
    network->projectionBias = reader.get("feature_projection.projection.bias", {hidden});

    const std::string position = "encoder.pos_conv_embed.conv.";
    const std::vector<std::int64_t> positionShape = {hidden, hidden / c.positionConvGroups,
                                                     c.positionConvKernel};
    at::Tensor magnitude, direction;
    if (reader.has(position + "weight_g")) {
        magnitude = reader.get(position + "weight_g", {1, 1, c.positionConvKernel});
        direction = reader.get(position + "weight_v", positionShape);
    } else if (reader.has(position + "parametrizations.weight.original0")) {
        magnitude = reader.get(position + "parametrizations.weight.original0",
                               {1, 1, c.positionConvKernel});
        direction = reader.get(position + "parametrizations.weight.original1", positionShape);
    } else if (reader.has(position + "weight")) {
        network->positionWeight = reader.get(position + "weight", positionShape);
    } else {
        reader.get(position + "weight_g", {1, 1, c.positionConvKernel}); // reports it missing
    }
    if (magnitude.defined() && direction.defined()) {
        // Weight norm over every dimension but the kernel position (dim=2), folded once.
        network->positionWeight =
            magnitude * direction /
            direction.pow(2).sum(at::IntArrayRef{0, 1}, /*keepdim=*/true).sqrt();
    }
    network->positionBias = reader.get(position + "bias", {hidden});
    network->encoderNormWeight = reader.get("encoder.layer_norm.weight", {hidden});
    network->encoderNormBias = reader.get("encoder.layer_norm.bias", {hidden});

    const bool wavlm = c.modelType == EncoderConfig::ModelType::WavLM;
    const std::int64_t heads = c.headCount;
    const std::int64_t inner = c.intermediateSize;
    for (int i = 0; i < c.layerCount; ++i) {
        const std::string base = "encoder.layers." + std::to_string(i) + ".";
        TransformerLayer l;
        const at::Tensor queryWeight =
            reader.get(base + "attention.q_proj.weight", {hidden, hidden});
        const at::Tensor queryBias = reader.get(base + "attention.q_proj.bias", {hidden});
        const at::Tensor keyWeight = reader.get(base + "attention.k_proj.weight", {hidden, hidden});
        const at::Tensor keyBias = reader.get(base + "attention.k_proj.bias", {hidden});
        const at::Tensor valueWeight =
            reader.get(base + "attention.v_proj.weight", {hidden, hidden});
        const at::Tensor valueBias = reader.get(base + "attention.v_proj.bias", {hidden});
        if (reader.status()) {
            l.projectionWeight = at::cat({queryWeight, keyWeight, valueWeight});
            l.projectionBias = at::cat({queryBias, keyBias, valueBias});
        }
        l.outWeight = reader.get(base + "attention.out_proj.weight", {hidden, hidden});
        l.outBias = reader.get(base + "attention.out_proj.bias", {hidden});
        l.attentionNormWeight = reader.get(base + "layer_norm.weight", {hidden});
        l.attentionNormBias = reader.get(base + "layer_norm.bias", {hidden});
        l.feedForwardInWeight =
            reader.get(base + "feed_forward.intermediate_dense.weight", {inner, hidden});
        l.feedForwardInBias = reader.get(base + "feed_forward.intermediate_dense.bias", {inner});
        l.feedForwardOutWeight =
            reader.get(base + "feed_forward.output_dense.weight", {hidden, inner});
        l.feedForwardOutBias = reader.get(base + "feed_forward.output_dense.bias", {hidden});
        l.finalNormWeight = reader.get(base + "final_layer_norm.weight", {hidden});
        l.finalNormBias = reader.get(base + "final_layer_norm.bias", {hidden});
        if (wavlm) {
            l.gateConstant = reader.get(base + "attention.gru_rel_pos_const", {1, heads, 1, 1});
            l.gateWeight =
                reader.get(base + "attention.gru_rel_pos_linear.weight", {8, hidden / heads});
            l.gateBias = reader.get(base + "attention.gru_rel_pos_linear.bias", {8});
            if (i == 0)
                network->relativeEmbedding = reader.get(base + "attention.rel_attn_embed.weight",
                                                        {c.relativeBucketCount, heads});
        }
        network->layers.push_back(std::move(l));
    }
    if (!reader.status())
        return reader.status();

    ContentHash hash;
    hash.add(configText);
    hash.add(weights->contentHash());
    // bfloat16 features differ from float32 ones: a cache key of their own.
    const bool bf16 = options.precision == EncoderPrecision::BFloat16;
    const std::string identity = c.modelTypeName + "-" + hash.hex() + (bf16 ? "-bf16" : "");
    const bool batched = options.path == EncoderPath::Batched ||
                         (options.path == EncoderPath::Automatic && !options.device.is_cpu());
    if (batched) {
        for (ConvLayer &layer : network->conv) {
            const std::int64_t channels = layer.weight.size(1);
            layer.convWeight = layer.weight.view({layer.kernel, -1, channels}).permute({2, 1, 0});
        }
        // The first layer's GEMM form stays: its group norm statistics need it.
        for (std::size_t i = 1; i < network->conv.size(); ++i)
            network->conv[i].weight = at::Tensor();
    }

    try {
        network->forEachTensor(
            [&options](at::Tensor &tensor) { tensor = tensor.to(options.device).contiguous(); });
        if (bf16)
            network->forEachTensor([](at::Tensor &tensor) { tensor = tensor.to(at::kBFloat16); },
                                   /*firstConvLayer=*/false);
    } catch (...) {
        return statusFromCurrentException(folder + ": cannot move the weights to " +
                                          options.device.str() + ": ");
    }
    auto *encoder =
        new SelfSupervisedEncoder(std::move(config), std::move(network), identity, options.device);
    encoder->m_keepProjection = options.keepProjection;
    encoder->m_precision = options.precision;
    encoder->m_batched = batched;
    out.reset(encoder);
    return ModelStatus::success();
}

std::map<std::string, at::Tensor> SelfSupervisedEncoder::transformerTensors() const
{
    std::map<std::string, at::Tensor> out;
    const auto put = [&out](const std::string &name, const at::Tensor &tensor) {
        if (tensor.defined())
            out[name] = tensor;
    };
    int number = 0;
    for (const TransformerLayer &l : m_network->layers) {
        const std::string base = "layer" + std::to_string(++number) + ".";
        put(base + "qkv_weight", l.projectionWeight);
        put(base + "qkv_bias", l.projectionBias);
        put(base + "out_weight", l.outWeight);
        put(base + "out_bias", l.outBias);
        put(base + "attention_norm_weight", l.attentionNormWeight);
        put(base + "attention_norm_bias", l.attentionNormBias);
        put(base + "ff_in_weight", l.feedForwardInWeight);
        put(base + "ff_in_bias", l.feedForwardInBias);
        put(base + "ff_out_weight", l.feedForwardOutWeight);
        put(base + "ff_out_bias", l.feedForwardOutBias);
        put(base + "final_norm_weight", l.finalNormWeight);
        put(base + "final_norm_bias", l.finalNormBias);
        put(base + "gate_constant", l.gateConstant);
        put(base + "gate_weight", l.gateWeight);
        put(base + "gate_bias", l.gateBias);
    }
    put("encoder_norm_weight", m_network->encoderNormWeight);
    put("encoder_norm_bias", m_network->encoderNormBias);
    put("relative_embedding", m_network->relativeEmbedding);
    put("position_weight", m_network->positionWeight);
    put("position_bias", m_network->positionBias);
    return out;
}

at::Tensor SelfSupervisedEncoder::relativePositionBuckets(std::int64_t frames, int bucketCount,
                                                          int maxDistance, c10::Device device)
{
    return relativePositionBuckets(0, frames, frames, bucketCount, maxDistance, device);
}

at::Tensor SelfSupervisedEncoder::relativePositionBuckets(std::int64_t firstQuery,
                                                          std::int64_t queries, std::int64_t keys,
                                                          int bucketCount, int maxDistance,
                                                          c10::Device device)
{
    const auto longOptions = at::TensorOptions().dtype(at::kLong).device(device);
    const at::Tensor keyPositions = at::arange(keys, longOptions);
    const at::Tensor queryPositions = at::arange(firstQuery, firstQuery + queries, longOptions);
    const at::Tensor relative =
        keyPositions.unsqueeze(0) - queryPositions.unsqueeze(1); // key - query
    const std::int64_t half = bucketCount / 2;
    const std::int64_t exact = half / 2;
    at::Tensor buckets = relative.gt(0).to(at::kLong) * half;
    const at::Tensor distance = relative.abs();
    const at::Tensor isSmall = distance.lt(exact);
    at::Tensor large = distance.clamp_min(1).to(at::kFloat) / static_cast<double>(exact);
    large = large.log() / std::log(static_cast<double>(maxDistance) / exact) *
            static_cast<double>(half - exact);
    large = (large + static_cast<double>(exact)).to(at::kLong).clamp_max(half - 1);
    return buckets + at::where(isSmall, distance, large);
}

namespace {

// WavLM's relative position bias of query frames [firstQuery, firstQuery + queries) against
// key frames [0, keys): [heads, queries, keys], shared by every layer (each gates it
// differently).
at::Tensor relativePositionBias(const at::Tensor &embedding, std::int64_t firstQuery,
                                std::int64_t queries, std::int64_t keys, int bucketCount,
                                int maxDistance)
{
    const at::Tensor buckets = SelfSupervisedEncoder::relativePositionBuckets(
        firstQuery, queries, keys, bucketCount, maxDistance, embedding.device());
    return embedding.index_select(0, buckets.reshape({-1}))
        .reshape({queries, keys, embedding.size(1)})
        .permute({2, 0, 1});
}

} // namespace

namespace {

// Books the time between marks to named stages when a profile is asked for; otherwise every
// call returns at once (no clock read, no string built).
class StageClock
{
public:
    explicit StageClock(std::vector<SelfSupervisedEncoder::StageSeconds> *stages) : m_stages(stages)
    {
    }

    // `layer` >= 0 prefixes the stage with "cnn LAYER " (the per-layer CNN stages).
    void mark(const char *stage, int layer = -1, double flops = 0.0)
    {
        if (m_stages == nullptr)
            return;
        const auto now = std::chrono::steady_clock::now();
        const double seconds = std::chrono::duration<double>(now - m_last).count();
        m_last = now;
        const std::string name =
            layer < 0 ? std::string(stage) : "cnn " + std::to_string(layer) + " " + stage;
        for (SelfSupervisedEncoder::StageSeconds &entry : *m_stages) {
            if (entry.stage == name) {
                entry.seconds += seconds;
                entry.flops += flops;
                return;
            }
        }
        m_stages->push_back({name, seconds, flops});
    }

    void addFlops(const char *stage, double flops)
    {
        if (m_stages == nullptr)
            return;
        for (SelfSupervisedEncoder::StageSeconds &entry : *m_stages) {
            if (entry.stage == stage)
                entry.flops += flops;
        }
    }

private:
    std::vector<SelfSupervisedEncoder::StageSeconds> *m_stages;
    std::chrono::steady_clock::time_point m_last = std::chrono::steady_clock::now();
};

// Output frames per CNN chunk on the CPU: the first layer's output for a chunk is then about
// 16 MB (512 channels), reused from chunk to chunk instead of ~300 MB of fresh memory per
// 10 s clip (first touches of fresh pages cost as much as the arithmetic on some machines),
// the last layers' GEMMs still have 128+ rows, and the overlap recomputed between chunks (the
// receptive field less the hop) costs under 1%.
constexpr std::int64_t kCpuChunkFrames = 128;

// Rows per feed-forward block: as many as one 10 s clip has, so a batch runs GEMMs of the
// shape a single clip does.
constexpr std::int64_t kRowBlock = 512;

// True when the GEMMs run on OpenBLAS's pthread pool (Debian's default BLAS), a pool separate
// from ATen's OpenMP workers. Looked up at run time so any BLAS build links alike.
bool blasHasOwnThreadPool()
{
#if defined(__linux__)
    using Query = int (*)();
    static const auto query = reinterpret_cast<Query>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
    return query != nullptr && query() == 1 && !at::hasMKL();
#else
    return false;
#endif
}

// While a CPU encode runs, ATen's own (element-wise) work runs on the calling thread alone
// when the BLAS has its own pool: both pools' workers busy-wait between calls, and on a small
// machine they fight for the cores (2 cores, 10 s clip: 1.0 s this way, 1.4 to 3.9 s with
// two ATen threads). at::set_num_threads sets the calling thread's OpenMP thread count (and
// the default for threads that have not used ATen yet); the count is restored on exit.
class BlasOwnsTheCores
{
public:
    explicit BlasOwnsTheCores(bool cpu)
    {
        if (cpu && blasHasOwnThreadPool() && at::get_num_threads() > 1) {
            m_previous = at::get_num_threads();
            at::set_num_threads(1);
        }
    }
    ~BlasOwnsTheCores()
    {
        if (m_previous > 0)
            at::set_num_threads(m_previous);
    }
    BlasOwnsTheCores(const BlasOwnsTheCores &) = delete;
    BlasOwnsTheCores &operator=(const BlasOwnsTheCores &) = delete;

private:
    int m_previous = 0;
};

void activateInPlace(at::Tensor &x, EncoderConfig::Activation activation)
{
    switch (activation) {
    case EncoderConfig::Activation::GeluTanh:
        at::gelu_(x, "tanh");
        return;
    case EncoderConfig::Activation::Relu:
        at::relu_(x);
        return;
    case EncoderConfig::Activation::Gelu:
        break;
    }
    at::gelu_(x);
}

// Rows [frame * stride, frame * stride + taps) of channels-last `x`, from tap `firstTap` on,
// as one [frames, taps * channels] matrix view (no copy).
at::Tensor windows(const at::Tensor &x, std::int64_t frames, std::int64_t stride,
                   std::int64_t firstTap, std::int64_t taps)
{
    const std::int64_t channels = x.size(1);
    return x.as_strided({frames, taps * channels}, {stride * channels, 1},
                        x.storage_offset() + firstTap * channels);
}

// A strided 1-D convolution over contiguous channels-last frames [inFrames, inChannels] as
// GEMMs against `weight` [kernel * inChannels, outChannels]. One view of all `kernel` taps
// would have overlapping rows (kernel > stride), which BLAS cannot read in place, so ATen
// would copy it (98 MB for the second layer of a 10 s clip); taps in groups of `stride` do
// not overlap, so each group is a plain matrix and its product is accumulated in place.
at::Tensor convolve(const at::Tensor &x, const at::Tensor &weight, const at::Tensor &bias,
                    std::int64_t kernel, std::int64_t stride)
{
    const std::int64_t inChannels = x.size(1);
    const std::int64_t frames = (x.size(0) - kernel) / stride + 1;
    if (inChannels * stride < 64) {
        // The waveform layer: its windows are tiny, and one GEMM over a copy beats several
        // with an inner dimension of 5.
        const at::Tensor copied = windows(x, frames, stride, 0, kernel).contiguous();
        return bias.defined() ? at::addmm(bias, copied, weight) : at::mm(copied, weight);
    }
    at::Tensor y;
    for (std::int64_t tap = 0; tap < kernel; tap += stride) {
        const std::int64_t taps = std::min(stride, kernel - tap);
        const at::Tensor group = windows(x, frames, stride, tap, taps);
        const at::Tensor groupWeight = weight.narrow(0, tap * inChannels, taps * inChannels);
        if (!y.defined())
            y = bias.defined() ? at::addmm(bias, group, groupWeight) : at::mm(group, groupWeight);
        else
            y.addmm_(group, groupWeight);
    }
    return y;
}

// The first layer's group norm (per channel, over all the clip's frames) folded into its
// convolution. The output's per-channel mean and variance follow from the mean and covariance
// of the input windows (in double, so no cancellation), so the normalised output is one GEMM
// with rescaled weights and a shifted bias, and the full-length activation (64 MB for 10 s) is
// never stored. The conv bias cancels in the normalisation.
void foldGroupNorm(const at::Tensor &samples, const ConvLayer &layer, at::Tensor &weight,
                   at::Tensor &bias)
{
    const std::int64_t frames = (samples.size(0) - layer.kernel) / layer.stride + 1;
    const at::Tensor input =
        windows(samples.view({-1, 1}), frames, layer.stride, 0, layer.kernel).to(at::kDouble);
    const at::Tensor inputMean = input.mean(0);
    const at::Tensor centred = input - inputMean;
    const at::Tensor covariance = at::mm(centred.t(), centred) / static_cast<double>(frames);
    const at::Tensor kernel = layer.weight.to(at::kDouble); // [taps, channels]
    const at::Tensor outputMean = at::mv(kernel.t(), inputMean);
    const at::Tensor outputVariance = (at::mm(covariance, kernel) * kernel).sum(0);
    const at::Tensor scale = layer.normWeight.to(at::kDouble) * (outputVariance + 1e-5).rsqrt();
    weight = (kernel * scale).to(at::kFloat);
    bias = (layer.normBias.to(at::kDouble) - outputMean * scale).to(at::kFloat);
}

// The CNN feature extractor on one clip's valid samples (contiguous, 1-D), written to
// `features` [frames, channels], in chunks of `chunkFrames` output frames: each chunk reads
// the samples its receptive field needs, so the result is the whole-clip result exactly.
void extractClip(const at::Tensor &samples, const std::vector<ConvLayer> &conv,
                 EncoderConfig::FeatureNorm featureNorm, EncoderConfig::Activation activation,
                 std::int64_t chunkFrames, at::Tensor features, StageClock &clock)
{
    const std::size_t layerCount = conv.size();
    at::Tensor firstWeight = conv.front().weight;
    at::Tensor firstBias = conv.front().bias;
    const bool groupNorm =
        conv.front().normWeight.defined() && featureNorm == EncoderConfig::FeatureNorm::Group;
    if (groupNorm)
        foldGroupNorm(samples, conv.front(), firstWeight, firstBias);
    clock.mark("norm statistics", 0);

    const std::int64_t frames = features.size(0);
    std::vector<std::int64_t> begin(layerCount + 1), end(layerCount + 1);
    for (std::int64_t first = 0; first < frames; first += chunkFrames) {
        // The input range each layer needs for this chunk, from the last layer back.
        begin[layerCount] = first;
        end[layerCount] = std::min(frames, first + chunkFrames);
        for (std::size_t i = layerCount; i-- > 0;) {
            begin[i] = begin[i + 1] * conv[i].stride;
            end[i] = (end[i + 1] - 1) * conv[i].stride + conv[i].kernel;
        }
        at::Tensor x = samples.narrow(0, begin[0], end[0] - begin[0]).view({-1, 1});
        for (std::size_t i = 0; i < layerCount; ++i) {
            const ConvLayer &layer = conv[i];
            const int index = static_cast<int>(i);
            x = i == 0 ? convolve(x, firstWeight, firstBias, layer.kernel, layer.stride)
                       : convolve(x, layer.weight, layer.bias, layer.kernel, layer.stride);
            clock.mark("conv", index, 2.0 * static_cast<double>(x.numel()) * layer.weight.size(0));
            if (layer.normWeight.defined() && !groupNorm)
                x = at::layer_norm(x, {x.size(1)}, layer.normWeight, layer.normBias, 1e-5);
            activateInPlace(x, activation);
            if (i == 0) // float32 up to here; from here on the encoder's precision
                x = x.to(features.scalar_type());
            clock.mark("norm+activation", index);
        }
        features.narrow(0, begin[layerCount], end[layerCount] - begin[layerCount]).copy_(x);
    }
}

// The CNN feature extractor on a whole padded batch at once (the batched path): one
// convolution per layer over [batch, channels, frames]. Padding samples are zeroed first, and
// a clip's valid frames only ever read its valid samples (a layer's valid output frames read
// only valid input frames), so each clip gets what it gets alone. The first layer's group norm
// uses each clip's valid frames: its statistics come from the windows' mean and covariance in
// double, as foldGroupNorm's do, and are applied as one scale and shift per clip and channel.
// Returns [batch, frames, channels] in `compute`.
at::Tensor extractBatch(const at::Tensor &samples, const std::vector<std::int64_t> &lengths,
                        const std::vector<ConvLayer> &conv, EncoderConfig::FeatureNorm featureNorm,
                        EncoderConfig::Activation activation, at::ScalarType compute,
                        StageClock &clock)
{
    const std::int64_t batch = samples.size(0), width = samples.size(1);
    const auto longOptions = at::TensorOptions().dtype(at::kLong).device(samples.device());
    const at::Tensor sampleLengths = at::tensor(lengths, at::TensorOptions().dtype(at::kLong))
                                         .to(samples.device())
                                         .unsqueeze(1); // [batch, 1]
    const at::Tensor input =
        samples.masked_fill(at::arange(width, longOptions).unsqueeze(0).ge(sampleLengths), 0.0);
    const ConvLayer &first = conv.front();
    at::Tensor x =
        at::conv1d(input.unsqueeze(1), first.convWeight,
                   first.normWeight.defined() && featureNorm == EncoderConfig::FeatureNorm::Group
                       ? at::Tensor()
                       : first.bias,
                   first.stride);
    clock.mark("conv", 0, 2.0 * static_cast<double>(x.numel()) * first.weight.size(0));
    const std::int64_t frames0 = x.size(2);
    if (first.normWeight.defined() && featureNorm == EncoderConfig::FeatureNorm::Group) {
        // Per clip: the windows' mean and covariance over its valid frames; the conv bias
        // cancels in the normalisation.
        const at::Tensor taps = input.to(at::kDouble)
                                    .as_strided({batch, frames0, first.kernel},
                                                {width, first.stride, 1}); // [batch, frames, taps]
        std::vector<std::int64_t> validFrames;
        for (const std::int64_t length : lengths)
            validFrames.push_back(
                length < first.kernel ? 0 : (length - first.kernel) / first.stride + 1);
        const at::Tensor count = at::tensor(validFrames, at::TensorOptions().dtype(at::kDouble))
                                     .to(samples.device())
                                     .clamp_min(1.0)
                                     .view({batch, 1, 1});
        const at::Tensor valid =
            at::arange(frames0, longOptions)
                .unsqueeze(0)
                .lt(at::tensor(validFrames, at::TensorOptions().dtype(at::kLong))
                        .to(samples.device())
                        .unsqueeze(1))
                .unsqueeze(2)
                .to(at::kDouble); // [batch, frames, 1]
        const at::Tensor mean = (taps * valid).sum(1, /*keepdim=*/true) / count; // [b, 1, taps]
        const at::Tensor centred = (taps - mean) * valid;
        const at::Tensor covariance = at::bmm(centred.transpose(1, 2), centred) / count;
        const at::Tensor kernel = first.weight.to(at::kDouble);            // [taps, channels]
        const at::Tensor outputMean = at::matmul(mean, kernel).squeeze(1); // [b, ch]
        const at::Tensor outputVariance = (at::matmul(covariance, kernel) * kernel).sum(1);
        const at::Tensor scale = first.normWeight.to(at::kDouble) * (outputVariance + 1e-5).rsqrt();
        const at::Tensor shift = first.normBias.to(at::kDouble) - outputMean * scale;
        x.mul_(scale.to(at::kFloat).unsqueeze(2)).add_(shift.to(at::kFloat).unsqueeze(2));
        clock.mark("norm statistics", 0);
    }
    for (std::size_t i = 0; i < conv.size(); ++i) {
        const ConvLayer &layer = conv[i];
        const int index = static_cast<int>(i);
        if (i > 0) {
            x = at::conv1d(x, layer.convWeight, layer.bias, layer.stride);
            clock.mark("conv", index,
                       2.0 * static_cast<double>(x.numel()) * layer.convWeight[0].numel());
        }
        if (layer.normWeight.defined() && featureNorm == EncoderConfig::FeatureNorm::Layer)
            x = at::layer_norm(x.transpose(1, 2), {x.size(1)}, layer.normWeight, layer.normBias,
                               1e-5)
                    .transpose(1, 2);
        activateInPlace(x, activation);
        if (i == 0)
            x = x.to(compute);
        clock.mark("norm+activation", index);
    }
    return x.transpose(1, 2).contiguous();
}

// Scores and weights of one block of query rows at most this many elements each (16 MB in
// float32): the per-clip path computes attention in blocks of query rows into two buffers
// allocated once per encode(), so memory stays bounded for any clip length and no layer maps
// fresh pages (a 30 s clip's whole score matrix is 108 MB per layer, and fresh memory costs a
// page fault per 4 KB).
constexpr std::int64_t kScoreBlockElements = std::int64_t(4) << 20;

// WavLM's bias for the whole clip is kept when it is at most this many elements (64 MB in
// float32, about 23 s of audio); longer clips compute it per block of query rows.
constexpr std::int64_t kWholeBiasElements = std::int64_t(16) << 20;

} // namespace

ModelStatus SelfSupervisedEncoder::encode(const at::Tensor &waveforms,
                                          const std::vector<std::int64_t> &sampleLengths,
                                          HiddenStates &out) const
{
    return run(waveforms, sampleLengths, out, nullptr);
}

ModelStatus SelfSupervisedEncoder::encodeProfiled(const at::Tensor &waveforms,
                                                  const std::vector<std::int64_t> &sampleLengths,
                                                  HiddenStates &out,
                                                  std::vector<StageSeconds> &stages) const
{
    stages.clear();
    return run(waveforms, sampleLengths, out, &stages);
}

ModelStatus SelfSupervisedEncoder::run(const at::Tensor &waveforms,
                                       const std::vector<std::int64_t> &sampleLengths,
                                       HiddenStates &out, std::vector<StageSeconds> *stages) const
{
    out = HiddenStates();
    std::vector<std::int64_t> lengths;
    if (ModelStatus status = checkInput(waveforms, sampleLengths, lengths); !status)
        return status;
    const EncoderConfig &c = m_config;
    const Network &n = *m_network;
    StageClock clock(stages);
    try {
        c10::InferenceMode inferenceMode;
        // bf16 products run on oneDNN, on ATen's own threads: those keep the cores then.
        const BlasOwnsTheCores threads(m_device.is_cpu() &&
                                       m_precision == EncoderPrecision::Float32);
        const std::int64_t batch = waveforms.size(0);
        const std::int64_t totalFrames = c.frameCount(waveforms.size(1));
        for (const std::int64_t length : lengths)
            out.frameLengths.push_back(c.frameCount(length));
        const auto floatOptions = at::TensorOptions().dtype(at::kFloat).device(m_device);
        const at::ScalarType compute =
            m_precision == EncoderPrecision::BFloat16 ? at::kBFloat16 : at::kFloat;
        const auto computeOptions = floatOptions.dtype(compute);
        if (totalFrames == 0) {
            out.layers = at::zeros({layerCount(), batch, 0, c.hiddenSize}, floatOptions);
            return ModelStatus::success();
        }
        const bool padded = std::any_of(out.frameLengths.begin(), out.frameLengths.end(),
                                        [&](std::int64_t frames) { return frames != totalFrames; });
        const std::int64_t longest =
            *std::max_element(out.frameLengths.begin(), out.frameLengths.end());
        // [batch, frames]: true on each clip's padded frames (undefined without padding).
        at::Tensor framePadding;
        if (padded)
            framePadding =
                at::arange(totalFrames, at::TensorOptions().dtype(at::kLong))
                    .unsqueeze(0)
                    .ge(at::tensor(out.frameLengths, at::TensorOptions().dtype(at::kLong))
                            .unsqueeze(1))
                    .to(m_device);

        // Per clip (CPU): the CNN runs clip by clip on each clip's valid samples only, so
        // padding (whatever the caller left there, even NaN) never enters; its padded frames
        // stay zero. Batched (GPU): one convolution per layer over the zero-padded batch.
        at::Tensor samples;
        if (waveforms.device() != m_device && waveforms.is_cpu() && m_device.is_cuda())
            samples = waveforms.to(at::kFloat).pin_memory().to(m_device, /*non_blocking=*/true);
        else
            samples = waveforms.to(floatOptions);
        const std::int64_t convChannels = c.convDim.back();
        at::Tensor features;
        if (m_batched) {
            features = extractBatch(samples, lengths, n.conv, c.featureNorm, c.featureActivation,
                                    compute, clock);
        } else {
            features = padded ? at::zeros({batch, totalFrames, convChannels}, computeOptions)
                              : at::empty({batch, totalFrames, convChannels}, computeOptions);
            const std::int64_t chunkFrames = m_device.is_cpu() ? kCpuChunkFrames : totalFrames;
            for (std::int64_t b = 0; b < batch; ++b) {
                const std::int64_t frames = out.frameLengths[static_cast<std::size_t>(b)];
                if (frames == 0)
                    continue;
                extractClip(
                    samples[b].narrow(0, 0, lengths[static_cast<std::size_t>(b)]).contiguous(),
                    n.conv, c.featureNorm, c.featureActivation, chunkFrames,
                    features[b].narrow(0, 0, frames), clock);
            }
        }

        // From here on the frames of all clips are rows of one [batch * frames, width] matrix.
        const std::int64_t rows = batch * totalFrames;
        const std::int64_t hidden = c.hiddenSize;
        at::Tensor x = features.view({rows, convChannels});
        if (n.projectionNormWeight.defined())
            x = at::layer_norm(x, {convChannels}, n.projectionNormWeight, n.projectionNormBias,
                               c.layerNormEps);
        x = at::linear(x, n.projectionWeight, n.projectionBias);
        if (padded)
            x.view({batch, totalFrames, hidden}).masked_fill_(framePadding.unsqueeze(2), 0.0);
        if (m_keepProjection)
            out.projection = x.view({batch, totalFrames, hidden}).to(at::kFloat, false, true);
        clock.mark("projection", -1, 2.0 * static_cast<double>(rows) * convChannels * hidden);

        const std::int64_t kernel = c.positionConvKernel;
        at::Tensor position = at::conv1d(
            x.view({batch, totalFrames, hidden}).transpose(1, 2), n.positionWeight, n.positionBias,
            /*stride=*/1, /*padding=*/kernel / 2, /*dilation=*/1, c.positionConvGroups);
        if (kernel % 2 == 0)
            position = position.narrow(2, 0, position.size(2) - 1);
        activateInPlace(position, EncoderConfig::Activation::Gelu);
        x.view({batch, totalFrames, hidden}).add_(position.transpose(1, 2));
        if (!c.stableLayerNorm)
            x = at::layer_norm(x, {hidden}, n.encoderNormWeight, n.encoderNormBias, c.layerNormEps);
        clock.mark("positional conv", -1,
                   2.0 * static_cast<double>(rows) * hidden * (hidden / c.positionConvGroups) *
                       kernel);

        // Every layer's output goes straight into its slice of the result (float32).
        out.layers = at::empty({layerCount(), batch, totalFrames, hidden}, floatOptions);
        const auto keep = [&](int layer, const at::Tensor &state) {
            out.layers[layer].view({rows, hidden}).copy_(state);
        };
        keep(0, x);

        const std::int64_t heads = c.headCount;
        const std::int64_t headSize = hidden / heads;
        const double scaling = 1.0 / std::sqrt(static_cast<double>(headSize));
        const bool wavlm = n.relativeEmbedding.defined();
        // WavLM's bias of query rows [first, first + count) against a clip's `frames` keys:
        // from the whole-batch bias when it is small enough to keep, else computed.
        at::Tensor wholeBias;
        if (wavlm && (m_batched || heads * longest * longest <= kWholeBiasElements))
            wholeBias = relativePositionBias(n.relativeEmbedding, 0, totalFrames, totalFrames,
                                             c.relativeBucketCount, c.relativeMaxDistance);
        const auto biasRows = [&](std::int64_t first, std::int64_t count, std::int64_t frames) {
            if (wholeBias.defined())
                return wholeBias.narrow(1, first, count).narrow(2, 0, frames);
            return relativePositionBias(n.relativeEmbedding, first, count, frames,
                                        c.relativeBucketCount, c.relativeMaxDistance);
        };
        // WavLM: each query frame scales the shared bias by a gate computed from its own
        // per-head input. input: [..., frames, heads, headSize] -> [..., heads, frames, 1].
        const auto gateOf = [&](const TransformerLayer &l, const at::Tensor &input) {
            const at::Tensor gates = at::linear(input, l.gateWeight, l.gateBias);
            at::IntArrayRef sizes = gates.sizes();
            std::vector<std::int64_t> shape(sizes.begin(), sizes.end() - 1);
            shape.push_back(2);
            shape.push_back(4);
            const at::Tensor pair = gates.view(shape).sum(-1).sigmoid().transpose(-3, -2);
            const at::Tensor gateA = pair.narrow(-1, 0, 1);
            const at::Tensor gateB = pair.narrow(-1, 1, 1);
            return gateA * (gateB * l.gateConstant.view({heads, 1, 1}) - 1.0) + 2.0;
        };
        double scoreFlops = 0.0;
        for (const std::int64_t frames : out.frameLengths)
            scoreFlops += 4.0 * static_cast<double>(frames) * frames * hidden;
        const double attentionOutFlops = 2.0 * static_cast<double>(rows) * hidden * hidden;
        const double feedForwardFlops =
            4.0 * static_cast<double>(rows) * hidden * c.intermediateSize;

        // Per clip: attention over each clip's valid frames only (padded keys need no mask,
        // padded query rows are zeroed at the end), in blocks of query rows whose scores and
        // weights live in two buffers made once here.
        // At least 16 rows a block, at most the longest clip's frames (0 when every clip is
        // too short for a frame).
        const std::int64_t blockRows = std::min(
            longest, std::max<std::int64_t>(16, kScoreBlockElements /
                                                    (heads * std::max<std::int64_t>(1, longest))));
        at::Tensor scoreBuffer, weightBuffer;
        if (!m_batched) {
            scoreBuffer = at::empty({heads * blockRows * longest}, computeOptions);
            weightBuffer = at::empty({heads * blockRows * longest}, computeOptions);
        }
        const auto attentionPerClip = [&](const TransformerLayer &l, const at::Tensor &input) {
            const at::Tensor context = padded ? at::zeros({rows, hidden}, computeOptions)
                                              : at::empty({rows, hidden}, computeOptions);
            for (std::int64_t b = 0; b < batch; ++b) {
                const std::int64_t frames = out.frameLengths[static_cast<std::size_t>(b)];
                if (frames == 0)
                    continue;
                // One clip's rows at a time: the q/k/v activation stays a few MB (reused), and
                // padded rows are never projected.
                const at::Tensor projected = at::linear(input.narrow(0, b * totalFrames, frames),
                                                        l.projectionWeight, l.projectionBias);
                clock.mark("attention q/k/v", -1,
                           6.0 * static_cast<double>(frames) * hidden * hidden);
                // [heads, count, headSize] views of `count` of the clip's rows from `firstRow`.
                const auto split = [&](const at::Tensor &matrix, std::int64_t firstRow,
                                       std::int64_t count, std::int64_t part) {
                    return matrix.narrow(0, firstRow, count)
                        .narrow(1, part * hidden, hidden)
                        .view({count, heads, headSize})
                        .transpose(0, 1);
                };
                const at::Tensor query = split(projected, 0, frames, 0);
                const at::Tensor keyT = split(projected, 0, frames, 1).transpose(1, 2);
                const at::Tensor value = split(projected, 0, frames, 2);
                at::Tensor gate; // [heads, frames, 1]
                if (wavlm)
                    gate = gateOf(
                        l,
                        input.narrow(0, b * totalFrames, frames).view({frames, heads, headSize}));
                for (std::int64_t first = 0; first < frames; first += blockRows) {
                    const std::int64_t count = std::min(blockRows, frames - first);
                    const std::int64_t elements = heads * count * frames;
                    at::Tensor scores =
                        scoreBuffer.narrow(0, 0, elements).view({heads, count, frames});
                    const at::Tensor queryRows = query.narrow(1, first, count);
                    if (wavlm) {
                        at::mul_out(scores, gate.narrow(1, first, count),
                                    biasRows(first, count, frames));
                        scores.baddbmm_(queryRows, keyT, /*beta=*/1.0, /*alpha=*/scaling);
                    } else {
                        scores.baddbmm_(queryRows, keyT, /*beta=*/0.0, /*alpha=*/scaling);
                    }
                    at::Tensor weights =
                        weightBuffer.narrow(0, 0, elements).view({heads, count, frames});
                    at::_softmax_out(weights, scores, -1, /*half_to_float=*/false);
                    at::Tensor blockContext = split(context, b * totalFrames + first, count, 0);
                    at::bmm_out(blockContext, weights, value);
                }
                clock.mark("attention scores");
            }
            return at::linear(context, l.outWeight, l.outBias);
        };

        // Batched: masked attention over the whole padded batch.
        at::Tensor keyValid; // [batch, 1, 1, frames], true on real frames
        if (padded)
            keyValid = framePadding.logical_not().view({batch, 1, 1, totalFrames});
        const auto attentionBatched = [&](const TransformerLayer &l, const at::Tensor &input) {
            // [batch, frames, 3, heads, headSize] -> three [batch, heads, frames, headSize].
            const at::Tensor qkv = at::linear(input, l.projectionWeight, l.projectionBias)
                                       .view({batch, totalFrames, 3, heads, headSize})
                                       .permute({2, 0, 3, 1, 4});
            const at::Tensor query = qkv[0], key = qkv[1], value = qkv[2];
            clock.mark("attention q/k/v", -1, 6.0 * static_cast<double>(rows) * hidden * hidden);
            at::Tensor mask; // bool (true: attend) or additive
            if (wavlm) {
                mask = gateOf(l, input.view({batch, totalFrames, heads, headSize})) *
                       wholeBias.unsqueeze(0); // [batch, heads, frames, frames]
                if (padded)
                    mask.masked_fill_(keyValid.logical_not(),
                                      -std::numeric_limits<double>::infinity());
            } else if (padded) {
                mask = keyValid;
            }
#if TORCH_VERSION_MAJOR >= 2
            // Scale 1/sqrt(headSize), its default; no mask at all lets it take flash attention.
            const at::Tensor context =
                mask.defined() ? at::scaled_dot_product_attention(query, key, value, mask)
                               : at::scaled_dot_product_attention(query, key, value);
#else
            at::Tensor scores = at::matmul(query, key.transpose(2, 3)).mul_(scaling);
            if (mask.defined() && mask.scalar_type() == at::kBool)
                scores.masked_fill_(mask.logical_not(), -std::numeric_limits<double>::infinity());
            else if (mask.defined())
                scores.add_(mask);
            const at::Tensor context = at::matmul(at::softmax(scores, -1), value);
#endif
            clock.mark("attention scores");
            return at::linear(context.transpose(1, 2).reshape({rows, hidden}), l.outWeight,
                              l.outBias);
        };
        const auto attention = [&](const TransformerLayer &l, const at::Tensor &input) {
            return m_batched ? attentionBatched(l, input) : attentionPerClip(l, input);
        };

        // Per clip: in blocks of rows, so the [rows, intermediate] activation stays a few MB
        // (reused) for a batch too: fresh memory costs a page fault per 4 KB. Batched: at once.
        const std::int64_t rowBlock = m_batched ? rows : kRowBlock;
        const auto feedForward = [&](const TransformerLayer &l, const at::Tensor &input) {
            const at::Tensor output = at::empty({rows, hidden}, computeOptions);
            for (std::int64_t first = 0; first < rows; first += rowBlock) {
                const std::int64_t count = std::min(rowBlock, rows - first);
                at::Tensor inner = at::linear(input.narrow(0, first, count), l.feedForwardInWeight,
                                              l.feedForwardInBias);
                activateInPlace(inner, c.hiddenActivation);
                at::Tensor block = output.narrow(0, first, count);
                at::addmm_out(block, l.feedForwardOutBias, inner, l.feedForwardOutWeight.t());
            }
            return output;
        };
        const auto norm = [&](const at::Tensor &input, const at::Tensor &w, const at::Tensor &b) {
            return at::layer_norm(input, {hidden}, w, b, c.layerNormEps);
        };

        int layer = 0;
        for (const TransformerLayer &l : n.layers) {
            if (c.stableLayerNorm) {
                x = attention(l, norm(x, l.attentionNormWeight, l.attentionNormBias)).add_(x);
                clock.mark("attention out+norm", -1, attentionOutFlops);
                clock.addFlops("attention scores", scoreFlops);
                x = feedForward(l, norm(x, l.finalNormWeight, l.finalNormBias)).add_(x);
                clock.mark("feed-forward", -1, feedForwardFlops);
            } else {
                x = norm(attention(l, x).add_(x), l.attentionNormWeight, l.attentionNormBias);
                clock.mark("attention out+norm", -1, attentionOutFlops);
                clock.addFlops("attention scores", scoreFlops);
                x = norm(feedForward(l, x).add_(x), l.finalNormWeight, l.finalNormBias);
                clock.mark("feed-forward", -1, feedForwardFlops);
            }
            ++layer;
            keep(layer, c.stableLayerNorm && layer == c.layerCount
                            ? norm(x, n.encoderNormWeight, n.encoderNormBias)
                            : x);
        }
        if (padded)
            out.layers.masked_fill_(framePadding.view({1, batch, totalFrames, 1}), 0.0);
        clock.mark("layer outputs");
    } catch (...) {
        out = HiddenStates();
        return statusFromCurrentException("encoding failed: ");
    }
    return ModelStatus::success();
}

} // namespace emolens
