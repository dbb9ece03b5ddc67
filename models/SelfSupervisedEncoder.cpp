#include "SelfSupervisedEncoder.h"

#include "ContentHash.h"
#include "ModelWeights.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

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
    at::Tensor weight;
    at::Tensor bias; // undefined without conv_bias
    at::Tensor normWeight;
    at::Tensor normBias; // undefined when the layer has no norm
    int stride = 1;
};

struct TransformerLayer
{
    at::Tensor queryWeight, queryBias, keyWeight, keyBias, valueWeight, valueBias;
    at::Tensor outWeight, outBias;
    at::Tensor attentionNormWeight, attentionNormBias;
    at::Tensor feedForwardInWeight, feedForwardInBias, feedForwardOutWeight, feedForwardOutBias;
    at::Tensor finalNormWeight, finalNormBias;
    // WavLM's gate on the relative position bias.
    at::Tensor gateConstant, gateWeight, gateBias;
};

at::Tensor activate(const at::Tensor &x, EncoderConfig::Activation activation)
{
    switch (activation) {
    case EncoderConfig::Activation::GeluTanh:
        return at::gelu(x, "tanh");
    case EncoderConfig::Activation::Relu:
        return at::relu(x);
    case EncoderConfig::Activation::Gelu:
        break;
    }
    return at::gelu(x);
}

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

// The largest negative value of the dtype: added to the scores of padded keys. Finite (not
// -inf) so a clip with no valid frame gives uniform weights instead of NaN.
double maskedScore(at::ScalarType type)
{
    switch (type) {
    case at::kHalf:
        return -65504.0;
    case at::kBFloat16:
        return -3.38e38;
    case at::kDouble:
        return std::numeric_limits<double>::lowest();
    default:
        return std::numeric_limits<float>::lowest();
    }
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

    void forEachTensor(const std::function<void(at::Tensor &)> &visit)
    {
        const auto each = [&visit](std::initializer_list<at::Tensor *> tensors) {
            for (at::Tensor *tensor : tensors) {
                if (tensor->defined())
                    visit(*tensor);
            }
        };
        for (ConvLayer &layer : conv)
            each({&layer.weight, &layer.bias, &layer.normWeight, &layer.normBias});
        each({&projectionNormWeight, &projectionNormBias, &projectionWeight, &projectionBias,
              &positionWeight, &positionBias, &encoderNormWeight, &encoderNormBias,
              &relativeEmbedding});
        for (TransformerLayer &l : layers)
            each({&l.queryWeight, &l.queryBias, &l.keyWeight, &l.keyBias, &l.valueWeight,
                  &l.valueBias, &l.outWeight, &l.outBias, &l.attentionNormWeight,
                  &l.attentionNormBias, &l.feedForwardInWeight, &l.feedForwardInBias,
                  &l.feedForwardOutWeight, &l.feedForwardOutBias, &l.finalNormWeight,
                  &l.finalNormBias, &l.gateConstant, &l.gateWeight, &l.gateBias});
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
        if (c.convBias)
            layer.bias = reader.get(base + "conv.bias", {channels});
        if (c.featureNorm == EncoderConfig::FeatureNorm::Layer || i == 0) {
            layer.normWeight = reader.get(base + "layer_norm.weight", {channels});
            layer.normBias = reader.get(base + "layer_norm.bias", {channels});
        }
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
        l.queryWeight = reader.get(base + "attention.q_proj.weight", {hidden, hidden});
        l.queryBias = reader.get(base + "attention.q_proj.bias", {hidden});
        l.keyWeight = reader.get(base + "attention.k_proj.weight", {hidden, hidden});
        l.keyBias = reader.get(base + "attention.k_proj.bias", {hidden});
        l.valueWeight = reader.get(base + "attention.v_proj.weight", {hidden, hidden});
        l.valueBias = reader.get(base + "attention.v_proj.bias", {hidden});
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
    const std::string identity = c.modelTypeName + "-" + hash.hex();

    try {
        network->forEachTensor(
            [&options](at::Tensor &tensor) { tensor = tensor.to(options.device).contiguous(); });
    } catch (const std::exception &error) {
        return ModelStatus::failure(folder + ": cannot move the weights to " +
                                    options.device.str() + " (" + error.what() + ")");
    }
    out.reset(
        new SelfSupervisedEncoder(std::move(config), std::move(network), identity, options.device));
    return ModelStatus::success();
}

at::Tensor SelfSupervisedEncoder::relativePositionBuckets(std::int64_t frames, int bucketCount,
                                                          int maxDistance, c10::Device device)
{
    const auto longOptions = at::TensorOptions().dtype(at::kLong).device(device);
    const at::Tensor positions = at::arange(frames, longOptions);
    const at::Tensor relative = positions.unsqueeze(0) - positions.unsqueeze(1); // key - query
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

// WavLM's relative position bias for `frames` frames: [heads, frames, frames], shared by every
// layer (each gates it differently).
at::Tensor relativePositionBias(const at::Tensor &embedding, std::int64_t frames, int bucketCount,
                                int maxDistance)
{
    const at::Tensor buckets = SelfSupervisedEncoder::relativePositionBuckets(
        frames, bucketCount, maxDistance, embedding.device());
    return embedding.index_select(0, buckets.reshape({-1}))
        .reshape({frames, frames, embedding.size(1)})
        .permute({2, 0, 1});
}

} // namespace

ModelStatus SelfSupervisedEncoder::encode(const at::Tensor &waveforms,
                                          const std::vector<std::int64_t> &sampleLengths,
                                          HiddenStates &out) const
{
    out = HiddenStates();
    std::vector<std::int64_t> lengths;
    if (ModelStatus status = checkInput(waveforms, sampleLengths, lengths); !status)
        return status;
    const EncoderConfig &c = m_config;
    const Network &n = *m_network;
    try {
        c10::InferenceMode inferenceMode;
        const std::int64_t batch = waveforms.size(0);
        const std::int64_t totalFrames = c.frameCount(waveforms.size(1));
        for (const std::int64_t length : lengths)
            out.frameLengths.push_back(c.frameCount(length));
        const auto floatOptions = at::TensorOptions().dtype(at::kFloat).device(m_device);
        if (totalFrames == 0) {
            out.layers = at::zeros({layerCount(), batch, 0, c.hiddenSize}, floatOptions);
            return ModelStatus::success();
        }
        const at::Tensor lengthTensor =
            at::tensor(lengths, at::TensorOptions().dtype(at::kLong)).to(m_device);
        const bool padded = std::any_of(lengths.begin(), lengths.end(),
                                        [&](std::int64_t l) { return l != waveforms.size(1); });

        // Padding is zeroed first so whatever the caller left there (even NaN) stays out.
        at::Tensor x = waveforms.to(floatOptions);
        std::vector<std::int64_t> layerLengths = lengths;
        if (padded) {
            const at::Tensor valid = at::arange(x.size(1), lengthTensor.options())
                                         .unsqueeze(0)
                                         .lt(lengthTensor.unsqueeze(1));
            x = at::where(valid, x, at::zeros({}, floatOptions));
        }
        x = x.unsqueeze(1); // [batch, 1, samples]
        for (std::size_t i = 0; i < n.conv.size(); ++i) {
            const ConvLayer &layer = n.conv[i];
            x = at::conv1d(x, layer.weight, layer.bias, layer.stride);
            for (std::int64_t &length : layerLengths)
                length =
                    length < c.convKernel[i] ? 0 : (length - c.convKernel[i]) / c.convStride[i] + 1;
            if (layer.normWeight.defined()) {
                if (c.featureNorm == EncoderConfig::FeatureNorm::Layer) {
                    x = at::layer_norm(x.transpose(1, 2), {x.size(1)}, layer.normWeight,
                                       layer.normBias, 1e-5)
                            .transpose(1, 2);
                } else if (!padded) {
                    x = at::group_norm(x, x.size(1), layer.normWeight, layer.normBias, 1e-5);
                } else {
                    // Per-channel statistics over each clip's valid frames only.
                    const at::Tensor frameLengths =
                        at::tensor(layerLengths, at::TensorOptions().dtype(at::kLong)).to(m_device);
                    const at::Tensor valid = at::arange(x.size(2), frameLengths.options())
                                                 .unsqueeze(0)
                                                 .lt(frameLengths.unsqueeze(1))
                                                 .unsqueeze(1); // [batch, 1, frames]
                    const at::Tensor count =
                        frameLengths.clamp_min(1).to(at::kFloat).view({-1, 1, 1});
                    const at::Tensor zero = at::zeros({}, floatOptions);
                    const at::Tensor mean = at::where(valid, x, zero).sum(2, true) / count;
                    const at::Tensor centred = x - mean;
                    const at::Tensor variance =
                        at::where(valid, centred * centred, zero).sum(2, true) / count;
                    x = centred * (variance + 1e-5).rsqrt() * layer.normWeight.view({1, -1, 1}) +
                        layer.normBias.view({1, -1, 1});
                }
            }
            x = activate(x, c.featureActivation);
        }
        x = x.transpose(1, 2); // [batch, frames, channels]

        if (n.projectionNormWeight.defined())
            x = at::layer_norm(x, {x.size(2)}, n.projectionNormWeight, n.projectionNormBias,
                               c.layerNormEps);
        x = at::linear(x, n.projectionWeight, n.projectionBias);

        const at::Tensor frameLengths =
            at::tensor(out.frameLengths, at::TensorOptions().dtype(at::kLong)).to(m_device);
        const at::Tensor validFrames = at::arange(totalFrames, frameLengths.options())
                                           .unsqueeze(0)
                                           .lt(frameLengths.unsqueeze(1)); // [batch, frames]
        at::Tensor scoreMask; // [batch, 1, 1, frames], added to attention scores
        if (padded) {
            x = x.masked_fill(validFrames.logical_not().unsqueeze(2), 0.0);
            scoreMask = at::zeros({batch, 1, 1, totalFrames}, floatOptions)
                            .masked_fill(validFrames.logical_not().view({batch, 1, 1, -1}),
                                         maskedScore(at::kFloat));
        }

        const std::int64_t kernel = c.positionConvKernel;
        at::Tensor position =
            at::conv1d(x.transpose(1, 2), n.positionWeight, n.positionBias,
                       /*stride=*/1, /*padding=*/kernel / 2, /*dilation=*/1, c.positionConvGroups);
        if (kernel % 2 == 0)
            position = position.narrow(2, 0, position.size(2) - 1);
        x = x + activate(position, EncoderConfig::Activation::Gelu).transpose(1, 2);
        if (!c.stableLayerNorm)
            x = at::layer_norm(x, {c.hiddenSize}, n.encoderNormWeight, n.encoderNormBias,
                               c.layerNormEps);

        std::vector<at::Tensor> states;
        states.reserve(static_cast<std::size_t>(layerCount()));
        states.push_back(x);

        const std::int64_t heads = c.headCount;
        const std::int64_t headSize = c.hiddenSize / heads;
        const double scaling = 1.0 / std::sqrt(static_cast<double>(headSize));
        at::Tensor positionBias;
        if (n.relativeEmbedding.defined())
            positionBias = relativePositionBias(n.relativeEmbedding, totalFrames,
                                                c.relativeBucketCount, c.relativeMaxDistance)
                               .unsqueeze(0); // [1, heads, frames, frames]

        const auto attention = [&](const TransformerLayer &l, const at::Tensor &input) {
            const auto split = [&](const at::Tensor &t) {
                return t.view({batch, totalFrames, heads, headSize}).transpose(1, 2);
            };
            const at::Tensor query = split(at::linear(input, l.queryWeight, l.queryBias) * scaling);
            const at::Tensor key = split(at::linear(input, l.keyWeight, l.keyBias));
            const at::Tensor value = split(at::linear(input, l.valueWeight, l.valueBias));
            at::Tensor scores = at::matmul(query, key.transpose(2, 3)); // [b, h, q, k]
            if (positionBias.defined()) {
                // Each query frame scales the shared bias by a gate computed from its own
                // per-head input.
                const at::Tensor perHead = split(input);
                const at::Tensor gates = at::linear(perHead, l.gateWeight, l.gateBias)
                                             .view({batch, heads, totalFrames, 2, 4})
                                             .sum(-1)
                                             .sigmoid();
                const at::Tensor gateA = gates.narrow(-1, 0, 1);
                const at::Tensor gateB = gates.narrow(-1, 1, 1);
                const at::Tensor gate = gateA * (gateB * l.gateConstant - 1.0) + 2.0;
                scores = scores + gate * positionBias;
            }
            if (scoreMask.defined())
                scores = scores + scoreMask;
            const at::Tensor context = at::matmul(at::softmax(scores, -1), value);
            return at::linear(context.transpose(1, 2).reshape({batch, totalFrames, -1}),
                              l.outWeight, l.outBias);
        };
        const auto feedForward = [&](const TransformerLayer &l, const at::Tensor &input) {
            return at::linear(
                activate(at::linear(input, l.feedForwardInWeight, l.feedForwardInBias),
                         c.hiddenActivation),
                l.feedForwardOutWeight, l.feedForwardOutBias);
        };
        const auto norm = [&](const at::Tensor &input, const at::Tensor &w, const at::Tensor &b) {
            return at::layer_norm(input, {c.hiddenSize}, w, b, c.layerNormEps);
        };

        for (const TransformerLayer &l : n.layers) {
            if (c.stableLayerNorm) {
                x = x + attention(l, norm(x, l.attentionNormWeight, l.attentionNormBias));
                x = x + feedForward(l, norm(x, l.finalNormWeight, l.finalNormBias));
            } else {
                x = norm(x + attention(l, x), l.attentionNormWeight, l.attentionNormBias);
                x = norm(x + feedForward(l, x), l.finalNormWeight, l.finalNormBias);
            }
            states.push_back(x);
        }
        if (c.stableLayerNorm)
            states.back() = norm(states.back(), n.encoderNormWeight, n.encoderNormBias);

        at::Tensor layers = at::stack(states);
        if (padded)
            layers = layers.masked_fill(validFrames.logical_not().view({1, batch, -1, 1}), 0.0);
        out.layers = layers;
    } catch (const std::exception &error) {
        out = HiddenStates();
        return ModelStatus::failure(std::string("encoding failed: ") + error.what());
    }
    return ModelStatus::success();
}

} // namespace emolens
