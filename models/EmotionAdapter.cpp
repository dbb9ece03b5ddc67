#include "EmotionAdapter.h"

#include <torch/torch.h>

#include <sstream>

namespace emolens {

std::string AdapterOptions::describe() const
{
    std::ostringstream out;
    out << (layerIntegration == LayerIntegration::WeightedAverage
                ? std::string("layers=weighted")
                : "layer=" + std::to_string(chosenLayer));
    if (extraInputs > 0)
        out << " extra=" << extraInputs;
    out << " width=" << width << " blocks=" << transformerLayers;
    if (positionKernel > 0)
        out << " position=" << positionKernel;
    if (transformerLayers > 0)
        out << " heads=" << heads << " ff=" << feedForward
            << (averageBlocks ? " blocks=weighted" : " blocks=last");
    out << " dropout=" << dropout << (pooling == AdapterPooling::Mean ? " pool=mean" : " pool=sap")
        << " classes=" << classCount << " dims=" << dimensionCount;
    return out.str();
}

EmotionAdapterImpl::EmotionAdapterImpl(AdapterOptions options) : m_options(std::move(options))
{
    const AdapterOptions &o = m_options;
    TORCH_CHECK(o.layerCount > 0 && o.hiddenSize > 0, "EmotionAdapter: the encoder shape ",
                o.layerCount, " x ", o.hiddenSize, " is empty");
    TORCH_CHECK(o.width > 0 && (o.transformerLayers == 0 || o.width % o.heads == 0),
                "EmotionAdapter: width ", o.width, " must be a multiple of heads ", o.heads);
    TORCH_CHECK(o.classCount > 0 || o.dimensionCount > 0, "EmotionAdapter: no head");
    m_layerLogits = register_parameter("layer_logits", torch::zeros({o.layerCount}),
                                       o.layerIntegration == LayerIntegration::WeightedAverage);
    const int inputs = o.hiddenSize + o.extraInputs;
    m_inputMean = register_buffer("input_mean", torch::zeros({inputs}));
    m_inputStd = register_buffer("input_std", torch::ones({inputs}));
    m_projection = register_module("projection", torch::nn::Linear(inputs, o.width));
    TORCH_CHECK(o.positionKernel == 0 || (o.positionKernel > 0 && o.positionKernel % 2 == 1),
                "EmotionAdapter: the position kernel must be odd, not ", o.positionKernel);
    if (o.positionKernel > 0)
        m_position = register_module(
            "position",
            torch::nn::Conv1d(torch::nn::Conv1dOptions(o.width, o.width, o.positionKernel)
                                  .padding(o.positionKernel / 2)
                                  .groups(o.width)));
    m_dropout = register_module("dropout", torch::nn::Dropout(o.dropout));
    m_blocks = register_module("blocks", torch::nn::ModuleList());
    for (int i = 0; i < o.transformerLayers; ++i)
        m_blocks->push_back(torch::nn::TransformerEncoderLayer(
            torch::nn::TransformerEncoderLayerOptions(o.width, o.heads)
                .dim_feedforward(o.feedForward)
                .dropout(o.dropout)));
    m_blockLogits = register_parameter("block_logits", torch::zeros({o.transformerLayers + 1}),
                                       o.averageBlocks && o.transformerLayers > 0);
    const int pooledWidth = o.pooling == AdapterPooling::Mean ? o.width : 2 * o.width;
    if (o.pooling == AdapterPooling::AttentiveStatistics) {
        m_attentionHidden =
            register_module("attention_hidden", torch::nn::Linear(o.width, o.attentionWidth));
        m_attentionScore =
            register_module("attention_score", torch::nn::Linear(o.attentionWidth, 1));
    }
    if (o.classCount > 0)
        m_classifier = register_module("classifier", torch::nn::Linear(pooledWidth, o.classCount));
    if (o.dimensionCount > 0)
        m_regressor =
            register_module("regressor", torch::nn::Linear(pooledWidth, o.dimensionCount));
}

torch::Tensor EmotionAdapterImpl::layerWeights() const
{
    if (m_options.layerIntegration == LayerIntegration::WeightedAverage)
        return torch::softmax(m_layerLogits.detach(), 0);
    auto weights = torch::zeros({m_options.layerCount});
    const int chosen = m_options.chosenLayer < 0 ? m_options.layerCount - 1 : m_options.chosenLayer;
    weights[chosen] = 1;
    return weights;
}

void EmotionAdapterImpl::setInputNormalisation(const torch::Tensor &mean, const torch::Tensor &std)
{
    torch::NoGradGuard noGrad;
    m_inputMean.copy_(mean.to(m_inputMean.options()));
    // A dimension that (nearly) never varies is not blown up: inputs are roughly unit-scale,
    // and clip means of per-clip-normalised features (fbank) are zero up to rounding, which a
    // tiny standard deviation would turn into large noise.
    m_inputStd.copy_(std.to(m_inputStd.options()).clamp_min(1e-2));
}

torch::Tensor EmotionAdapterImpl::integrate(const torch::Tensor &hidden, const torch::Tensor &extra)
{
    const AdapterOptions &o = m_options;
    TORCH_CHECK(hidden.dim() == 4 && hidden.size(1) == o.layerCount &&
                    hidden.size(3) == o.hiddenSize,
                "EmotionAdapter: features of shape ", hidden.sizes(), " do not fit an encoder of ",
                o.layerCount, " layers x ", o.hiddenSize,
                " (a model is used only on the features "
                "of the encoder it was trained on)");
    const auto dtype = m_projection->weight.scalar_type();
    torch::Tensor frames;
    if (o.layerIntegration == LayerIntegration::WeightedAverage) {
        const auto weights = torch::softmax(m_layerLogits, 0).to(dtype);
        // [B, L, T, H] x [L] -> [B, T, H], without a weighted copy of every layer.
        frames = torch::einsum("bltd,l->btd", {hidden.to(dtype), weights});
    } else {
        const int chosen = o.chosenLayer < 0 ? o.layerCount - 1 : o.chosenLayer;
        frames = hidden.select(1, chosen).to(dtype);
    }
    if (o.extraInputs > 0) {
        TORCH_CHECK(extra.defined() && extra.dim() == 3 && extra.size(2) == o.extraInputs &&
                        extra.size(1) == frames.size(1),
                    "EmotionAdapter: expected ", o.extraInputs, " extra inputs per frame");
        frames = torch::cat({frames, extra.to(dtype)}, 2);
    }
    return (frames - m_inputMean.to(dtype)) / m_inputStd.to(dtype);
}

torch::Tensor EmotionAdapterImpl::headInput(const torch::Tensor &frames, const torch::Tensor &mask,
                                            torch::Tensor *frameInput)
{
    const auto maskF = mask.unsqueeze(2).to(frames.scalar_type()); // [B, T, 1]
    if (m_options.pooling == AdapterPooling::Mean) {
        const auto counts = maskF.sum(1).clamp_min(1); // [B, 1]
        *frameInput = frames;
        return (frames * maskF).sum(1) / counts;
    }
    // SAP: attention scores over real frames only.
    auto scores = m_attentionScore(torch::tanh(m_attentionHidden(frames))).squeeze(2); // [B, T]
    scores = scores.masked_fill(mask.logical_not(), -std::numeric_limits<float>::infinity());
    const auto alpha = torch::softmax(scores, 1).unsqueeze(2); // [B, T, 1]
    const auto mean = (alpha * frames).sum(1);
    const auto variance = ((alpha * frames * frames).sum(1) - mean * mean).clamp_min(1e-6);
    // A clip of one frame: that frame as the mean, no spread.
    *frameInput = torch::cat({frames, torch::zeros_like(frames)}, 2);
    return torch::cat({mean, variance.sqrt()}, 1);
}

torch::Tensor EmotionAdapterImpl::frames(const torch::Tensor &hidden, const torch::Tensor &mask,
                                         const torch::Tensor &extra, const torch::Tensor &spanMask,
                                         const torch::Tensor &maskVector,
                                         std::vector<torch::Tensor> *blockOutputs)
{
    const AdapterOptions &o = m_options;
    TORCH_CHECK(mask.dim() == 2 && mask.size(0) == hidden.size(0) && mask.size(1) == hidden.size(2),
                "EmotionAdapter: the mask ", mask.sizes(), " does not match the features ",
                hidden.sizes());
    const auto valid = mask.to(torch::kBool);
    auto x = m_projection(integrate(hidden, extra)); // [B, T, W]
    if (spanMask.defined()) {
        TORCH_CHECK(spanMask.sizes() == mask.sizes() && maskVector.defined() &&
                        maskVector.numel() == o.width,
                    "EmotionAdapter: the span mask or the mask vector has the wrong shape");
        x = torch::where(spanMask.to(torch::kBool).unsqueeze(2), maskVector.to(x.scalar_type()), x);
    }
    if (m_position) {
        // Padded frames are zeros first, as the convolution's own padding: a clip's outputs do
        // not depend on the batch it is in.
        x = x.masked_fill(valid.logical_not().unsqueeze(2), 0);
        x = x + torch::gelu(m_position(x.transpose(1, 2)).transpose(1, 2));
    }
    x = m_dropout(x);
    if (o.transformerLayers > 0) {
        std::vector<torch::Tensor> outputs{x};
        auto sequence = x.transpose(0, 1); // [T, B, W]: LibTorch's layers are sequence-first
        const auto padding = valid.logical_not();
        for (const auto &module : *m_blocks) {
            sequence = module->as<torch::nn::TransformerEncoderLayer>()->forward(
                sequence, /*src_mask=*/{}, /*src_key_padding_mask=*/padding);
            outputs.push_back(sequence.transpose(0, 1));
            if (blockOutputs)
                blockOutputs->push_back(outputs.back());
        }
        if (o.averageBlocks) {
            const auto weights = torch::softmax(m_blockLogits, 0).to(x.scalar_type());
            x = torch::einsum("nbtw,n->btw", {torch::stack(outputs, 0), weights});
        } else {
            x = outputs.back();
        }
    }
    // Padded frames hold zeros from here on, so nothing downstream can pick them up.
    return x.masked_fill(valid.logical_not().unsqueeze(2), 0);
}

AdapterOutput EmotionAdapterImpl::forward(const torch::Tensor &hidden, const torch::Tensor &mask,
                                          const torch::Tensor &extra)
{
    const auto valid = mask.to(torch::kBool);
    const auto x = frames(hidden, mask, extra);

    AdapterOutput out;
    out.frames = x;
    torch::Tensor frameInput;
    out.pooled = headInput(x, valid, &frameInput);
    const auto maskF = valid.unsqueeze(2).to(x.scalar_type());
    if (m_classifier) {
        out.logits = m_classifier(out.pooled);
        out.frameLogits = m_classifier(frameInput) * maskF;
    }
    if (m_regressor) {
        out.dimensions = m_regressor(out.pooled);
        out.frameDimensions = m_regressor(frameInput) * maskF;
    }
    return out;
}

torch::Tensor classificationLoss(const torch::Tensor &logits, const torch::Tensor &targets,
                                 const torch::Tensor &classWeights)
{
    auto options = torch::nn::functional::CrossEntropyFuncOptions();
    if (classWeights.defined())
        options.weight(classWeights.to(logits.options()));
    return torch::nn::functional::cross_entropy(logits, targets, options);
}

torch::Tensor concordanceLoss(const torch::Tensor &predicted, const torch::Tensor &truth,
                              const torch::Tensor &valid)
{
    auto total = torch::zeros({}, predicted.options());
    const int64_t dims = predicted.size(1);
    int64_t used = 0;
    for (int64_t d = 0; d < dims; ++d) {
        const auto keep = valid.select(1, d).to(torch::kBool);
        if (keep.sum().item<int64_t>() < 2)
            continue;
        const auto p = predicted.select(1, d).masked_select(keep);
        const auto t = truth.select(1, d).to(predicted.scalar_type()).masked_select(keep);
        const auto pm = p.mean();
        const auto tm = t.mean();
        const auto cov = ((p - pm) * (t - tm)).mean();
        const auto ccc =
            2 * cov /
            (p.var(/*unbiased=*/false) + t.var(/*unbiased=*/false) + (pm - tm).pow(2) + 1e-8);
        total = total + (1 - ccc);
        ++used;
    }
    return used > 0 ? total / double(used) : total;
}

} // namespace emolens
