#include "EncoderLayers.h"

#include "SelfSupervisedEncoder.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace emolens {

namespace {

torch::Tensor activate(const torch::Tensor &x, EncoderConfig::Activation activation)
{
    switch (activation) {
    case EncoderConfig::Activation::GeluTanh:
        return torch::gelu(x, "tanh");
    case EncoderConfig::Activation::Relu:
        return torch::relu(x);
    case EncoderConfig::Activation::Gelu:
        break;
    }
    return torch::gelu(x);
}

} // namespace

EncoderLayersImpl::EncoderLayersImpl(EncoderConfig config, int firstLayer, double dropout)
    : m_config(std::move(config)), m_firstLayer(firstLayer), m_dropout(dropout)
{
    const EncoderConfig &c = m_config;
    TORCH_CHECK(firstLayer >= 1 && firstLayer <= c.layerCount, "EncoderLayers: layer ", firstLayer,
                " is not one of the encoder's Transformer layers 1 to ", c.layerCount);
    TORCH_CHECK(c.headCount > 0 && c.hiddenSize % c.headCount == 0, "EncoderLayers: hidden size ",
                c.hiddenSize, " is not a multiple of the ", c.headCount, " heads");
    const int64_t hidden = c.hiddenSize, inner = c.intermediateSize, heads = c.headCount;
    const bool wavlm = c.modelType == EncoderConfig::ModelType::WavLM;
    for (int number = firstLayer; number <= c.layerCount; ++number) {
        auto module = std::make_shared<torch::nn::Module>();
        Layer l;
        l.number = number;
        l.qkvWeight = module->register_parameter("qkv_weight", torch::zeros({3 * hidden, hidden}));
        l.qkvBias = module->register_parameter("qkv_bias", torch::zeros({3 * hidden}));
        l.outWeight = module->register_parameter("out_weight", torch::zeros({hidden, hidden}));
        l.outBias = module->register_parameter("out_bias", torch::zeros({hidden}));
        l.attentionNormWeight =
            module->register_parameter("attention_norm_weight", torch::ones({hidden}));
        l.attentionNormBias =
            module->register_parameter("attention_norm_bias", torch::zeros({hidden}));
        l.inWeight = module->register_parameter("ff_in_weight", torch::zeros({inner, hidden}));
        l.inBias = module->register_parameter("ff_in_bias", torch::zeros({inner}));
        l.outFfWeight = module->register_parameter("ff_out_weight", torch::zeros({hidden, inner}));
        l.outFfBias = module->register_parameter("ff_out_bias", torch::zeros({hidden}));
        l.finalNormWeight = module->register_parameter("final_norm_weight", torch::ones({hidden}));
        l.finalNormBias = module->register_parameter("final_norm_bias", torch::zeros({hidden}));
        if (wavlm) {
            l.gateConstant =
                module->register_parameter("gate_constant", torch::ones({1, heads, 1, 1}));
            l.gateWeight =
                module->register_parameter("gate_weight", torch::zeros({8, hidden / heads}));
            l.gateBias = module->register_parameter("gate_bias", torch::zeros({8}));
        }
        l.module = register_module("layer" + std::to_string(number), module).get();
        m_layers.push_back(std::move(l));
    }
    if (c.stableLayerNorm) {
        m_encoderNormWeight = register_parameter("encoder_norm_weight", torch::ones({hidden}));
        m_encoderNormBias = register_parameter("encoder_norm_bias", torch::zeros({hidden}));
    }
    if (wavlm)
        m_relativeEmbedding = register_parameter(
            "relative_embedding", torch::zeros({int64_t(c.relativeBucketCount), heads}));
}

void EncoderLayersImpl::trainFrom(int layer)
{
    for (const Layer &l : m_layers)
        for (auto &p : l.module->parameters())
            p.set_requires_grad(l.number >= layer);
    if (m_relativeEmbedding.defined())
        m_relativeEmbedding.set_requires_grad(layer <= 1);
    // The pre-LN final norm acts on the last layer's output: it trains with the last layer.
    if (m_encoderNormWeight.defined()) {
        m_encoderNormWeight.set_requires_grad(layer <= m_config.layerCount);
        m_encoderNormBias.set_requires_grad(layer <= m_config.layerCount);
    }
}

ModelStatus EncoderLayersImpl::copyFrom(const std::map<std::string, at::Tensor> &tensors)
{
    torch::NoGradGuard noGrad;
    for (auto &p : named_parameters()) {
        const auto it = tensors.find(p.key());
        if (it == tensors.end())
            return ModelStatus::failure("the encoder has no tensor for its Transformer's \"" +
                                        p.key() + "\"");
        if (it->second.sizes() != p.value().sizes()) {
            std::ostringstream message;
            message << "the encoder's tensor for \"" << p.key() << "\" has shape "
                    << it->second.sizes() << ", not " << p.value().sizes();
            return ModelStatus::failure(message.str());
        }
        p.value().copy_(it->second);
    }
    return ModelStatus::success();
}

torch::Tensor EncoderLayersImpl::attention(const Layer &l, const torch::Tensor &x,
                                           const torch::Tensor &keyMask,
                                           const torch::Tensor &positionBias)
{
    const int64_t batch = x.size(0), frames = x.size(1), hidden = m_config.hiddenSize;
    const int64_t heads = m_config.headCount, headSize = hidden / heads;
    // [B, T, 3, heads, headSize] -> three [B, heads, T, headSize].
    const auto qkv = torch::nn::functional::linear(x, l.qkvWeight, l.qkvBias)
                         .view({batch, frames, 3, heads, headSize})
                         .permute({2, 0, 3, 1, 4});
    const auto query = qkv[0], key = qkv[1], value = qkv[2];
    auto scores = torch::matmul(query, key.transpose(2, 3)) / std::sqrt(double(headSize));
    if (positionBias.defined()) {
        // Each query frame scales the shared bias by a gate from its own per-head input.
        const auto gates =
            torch::sigmoid(torch::nn::functional::linear(x.view({batch, frames, heads, headSize}),
                                                         l.gateWeight, l.gateBias)
                               .view({batch, frames, heads, 2, 4})
                               .sum(-1))
                .permute({0, 2, 1, 3}); // [B, heads, T, 2]
        const auto gateA = gates.narrow(-1, 0, 1), gateB = gates.narrow(-1, 1, 1);
        const auto gate = gateA * (gateB * l.gateConstant.view({1, heads, 1, 1}) - 1.0) + 2.0;
        scores = scores + gate * positionBias.unsqueeze(0);
    }
    scores = scores.masked_fill(keyMask, std::numeric_limits<float>::lowest());
    auto weights = torch::softmax(scores, -1);
    weights = torch::dropout(weights, m_dropout, is_training());
    const auto context =
        torch::matmul(weights, value).transpose(1, 2).reshape({batch, frames, hidden});
    return torch::dropout(torch::nn::functional::linear(context, l.outWeight, l.outBias), m_dropout,
                          is_training());
}

torch::Tensor EncoderLayersImpl::feedForward(const Layer &l, const torch::Tensor &x)
{
    const auto inner =
        activate(torch::nn::functional::linear(x, l.inWeight, l.inBias), m_config.hiddenActivation);
    return torch::dropout(torch::nn::functional::linear(inner, l.outFfWeight, l.outFfBias),
                          m_dropout, is_training());
}

torch::Tensor EncoderLayersImpl::forward(const torch::Tensor &input, const torch::Tensor &mask)
{
    const EncoderConfig &c = m_config;
    TORCH_CHECK(input.dim() == 3 && input.size(2) == c.hiddenSize, "EncoderLayers: input ",
                input.sizes(), " is not [batch, frames, ", c.hiddenSize, "]");
    TORCH_CHECK(mask.dim() == 2 && mask.size(0) == input.size(0) && mask.size(1) == input.size(1),
                "EncoderLayers: the mask ", mask.sizes(), " does not match the input ",
                input.sizes());
    const auto dtype = m_layers.front().qkvWeight.scalar_type();
    const auto valid = mask.to(torch::kBool);
    const auto padding = valid.logical_not().unsqueeze(2); // [B, T, 1]
    const auto keyMask = valid.logical_not().view({input.size(0), 1, 1, input.size(1)});
    const int64_t frames = input.size(1);
    torch::Tensor positionBias;
    if (m_relativeEmbedding.defined()) {
        const auto buckets = SelfSupervisedEncoder::relativePositionBuckets(
            frames, c.relativeBucketCount, c.relativeMaxDistance, input.device());
        positionBias = m_relativeEmbedding.index_select(0, buckets.reshape({-1}))
                           .view({frames, frames, c.headCount})
                           .permute({2, 0, 1}); // [heads, T, T]
    }
    const auto norm = [&](const torch::Tensor &x, const torch::Tensor &w, const torch::Tensor &b) {
        return torch::layer_norm(x, {c.hiddenSize}, w, b, c.layerNormEps);
    };
    auto x = input.to(dtype);
    std::vector<torch::Tensor> outputs;
    for (const Layer &l : m_layers) {
        if (c.stableLayerNorm) {
            x = x + attention(l, norm(x, l.attentionNormWeight, l.attentionNormBias), keyMask,
                              positionBias);
            x = x + feedForward(l, norm(x, l.finalNormWeight, l.finalNormBias));
        } else {
            x = norm(x + attention(l, x, keyMask, positionBias), l.attentionNormWeight,
                     l.attentionNormBias);
            x = norm(x + feedForward(l, x), l.finalNormWeight, l.finalNormBias);
        }
        const bool last = l.number == c.layerCount;
        const auto output =
            c.stableLayerNorm && last ? norm(x, m_encoderNormWeight, m_encoderNormBias) : x;
        outputs.push_back(output.masked_fill(padding, 0));
    }
    return torch::stack(outputs, 1);
}

} // namespace emolens
