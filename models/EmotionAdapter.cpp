#include "EmotionAdapter.h"

#include <torch/torch.h>

#include <algorithm>
#include <sstream>

namespace emolens {

std::string AdapterOptions::describe() const
{
    std::ostringstream out;
    out << (layerIntegration == LayerIntegration::WeightedAverage ? std::string("layers=weighted")
            : layerIntegration == LayerIntegration::Ari           ? std::string("layers=ari")
                                                        : "layer=" + std::to_string(chosenLayer));
    if (extraInputs > 0)
        out << " extra=" << extraInputs;
    out << " width=" << width << " blocks=" << transformerLayers;
    if (positionKernel > 0)
        out << " position=" << positionKernel;
    if (transformerLayers > 0)
        out << " heads=" << heads << " ff=" << feedForward
            << (averageBlocks ? " blocks=weighted" : " blocks=last");
    out << " dropout=" << dropout
        << (pooling == AdapterPooling::Mean                  ? " pool=mean"
            : pooling == AdapterPooling::AttentiveStatistics ? " pool=sap"
                                                             : " pool=coattention")
        << " classes=" << classCount << " dims=" << dimensionCount;
    if (pooling == AdapterPooling::CoAttention)
        out << " auxiliary=" << auxiliaryWidth << " gender=" << genderClasses
            << " speakers=" << speakerClasses << " styles=" << styleClasses
            << " characters=" << characterClasses;
    if (encoderFirstLayer > 0)
        out << " encoder-layers=" << encoderFirstLayer << "-" << layerCount - 1
            << " encoder-dropout=" << encoderDropout;
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
    if (o.layerIntegration == LayerIntegration::Ari && o.layerCount > 2)
        m_ariLogits =
            register_parameter("ari_logits", torch::zeros({o.layerCount - 2, o.hiddenSize}));
    int pooledWidth = o.pooling == AdapterPooling::Mean ? o.width : 2 * o.width;
    if (o.pooling == AdapterPooling::AttentiveStatistics) {
        m_attentionHidden =
            register_module("attention_hidden", torch::nn::Linear(o.width, o.attentionWidth));
        m_attentionScore =
            register_module("attention_score", torch::nn::Linear(o.attentionWidth, 1));
    }
    if (o.pooling == AdapterPooling::CoAttention) {
        const int classes[kAuxiliaryTasks] = {o.genderClasses, o.speakerClasses, o.styleClasses,
                                              o.characterClasses};
        static const char *const names[kAuxiliaryTasks] = {"gender", "speaker", "style",
                                                           "characters"};
        TORCH_CHECK(o.auxiliaryWidth > 0, "EmotionAdapter: the auxiliary width must be positive");
        TORCH_CHECK(o.characterClasses == 0 || o.characterClasses >= 2,
                    "EmotionAdapter: a CTC vocabulary needs the blank and a character");
        m_auxiliaryHidden.assign(kAuxiliaryTasks, torch::nn::Linear(nullptr));
        m_auxiliaryOutput.assign(kAuxiliaryTasks, torch::nn::Linear(nullptr));
        m_query.assign(kAuxiliaryTasks, torch::nn::Linear(nullptr));
        int tasks = 0;
        for (int k = 0; k < kAuxiliaryTasks; ++k) {
            TORCH_CHECK(classes[k] >= 0, "EmotionAdapter: negative class count");
            if (classes[k] == 0)
                continue;
            const std::string name = names[k];
            m_auxiliaryHidden[k] = register_module("auxiliary_" + name + "_hidden",
                                                   torch::nn::Linear(o.width, o.auxiliaryWidth));
            m_auxiliaryOutput[k] = register_module("auxiliary_" + name + "_output",
                                                   torch::nn::Linear(o.auxiliaryWidth, classes[k]));
            m_query[k] = register_module("coattention_query_" + name,
                                         torch::nn::Linear(o.auxiliaryWidth, o.attentionWidth));
            ++tasks;
        }
        TORCH_CHECK(tasks > 0, "EmotionAdapter: co-attention needs at least one auxiliary task");
        m_key = register_module("coattention_key", torch::nn::Linear(o.width, o.attentionWidth));
        pooledWidth = o.width + tasks * o.auxiliaryWidth;
        m_emotionHidden =
            register_module("emotion_hidden", torch::nn::Linear(pooledWidth, o.width));
    }
    if (o.encoderFirstLayer > 0) {
        EncoderConfig config;
        const ModelStatus parsed =
            EncoderConfig::parse(o.encoderConfig, "the encoder's config.json", config);
        TORCH_CHECK(parsed, "EmotionAdapter: ", parsed.error());
        TORCH_CHECK(config.layerCount + 1 == o.layerCount && config.hiddenSize == o.hiddenSize,
                    "EmotionAdapter: an encoder of ", config.layerCount, " Transformer layers x ",
                    config.hiddenSize, " does not make the features (", o.layerCount, " x ",
                    o.hiddenSize, ")");
        m_encoder = register_module("encoder",
                                    EncoderLayers(config, o.encoderFirstLayer, o.encoderDropout));
    }
    const int headWidth = m_emotionHidden ? o.width : pooledWidth;
    if (o.classCount > 0)
        m_classifier = register_module("classifier", torch::nn::Linear(headWidth, o.classCount));
    if (o.dimensionCount > 0)
        m_regressor = register_module("regressor", torch::nn::Linear(headWidth, o.dimensionCount));
}

torch::Tensor EmotionAdapterImpl::layerWeights() const
{
    if (m_options.layerIntegration == LayerIntegration::WeightedAverage)
        return torch::softmax(m_layerLogits.detach(), 0);
    auto weights = torch::zeros({m_options.layerCount});
    if (m_options.layerIntegration == LayerIntegration::Ari) {
        // 1 on the last layer; layers 1 to L-2 by the integration's weight, averaged over the
        // dimensions (they sum to 1 too).
        weights[m_options.layerCount - 1] = 1;
        if (m_ariLogits.defined())
            weights.slice(0, 1, m_options.layerCount - 1)
                .copy_(torch::softmax(m_ariLogits.detach().cpu(), 0).mean(1));
        return weights;
    }
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
    } else if (o.layerIntegration == LayerIntegration::Ari) {
        // The last layer plus, per dimension, a softmax-weighted sum of layers 1 to L-2.
        frames = hidden.select(1, o.layerCount - 1).to(dtype);
        if (m_ariLogits.defined())
            frames = frames +
                     torch::einsum("bltd,ld->btd", {hidden.slice(1, 1, o.layerCount - 1).to(dtype),
                                                    torch::softmax(m_ariLogits, 0).to(dtype)});
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

torch::Tensor EmotionAdapterImpl::encoderStates(const torch::Tensor &hidden,
                                                const torch::Tensor &mask)
{
    if (!m_encoder)
        return hidden;
    const int first = m_options.encoderFirstLayer;
    TORCH_CHECK(hidden.dim() == 4 && hidden.size(1) == m_options.layerCount,
                "EmotionAdapter: features of shape ", hidden.sizes(), " do not fit an encoder of ",
                m_options.layerCount, " layers");
    const auto top = m_encoder->forward(hidden.select(1, first - 1), mask.to(torch::kBool));
    return torch::cat({hidden.slice(1, 0, first).to(top.scalar_type()), top}, 1);
}

torch::Tensor EmotionAdapterImpl::headInput(const torch::Tensor &frames, const torch::Tensor &mask,
                                            torch::Tensor *frameInput, AdapterOutput *out)
{
    const auto maskF = mask.unsqueeze(2).to(frames.scalar_type()); // [B, T, 1]
    const auto counts = maskF.sum(1).clamp_min(1);                 // [B, 1]
    if (m_options.pooling == AdapterPooling::Mean) {
        *frameInput = frames;
        return (frames * maskF).sum(1) / counts;
    }
    if (m_options.pooling == AdapterPooling::CoAttention) {
        const auto mean = (frames * maskF).sum(1) / counts; // [B, W]
        std::vector<torch::Tensor> states, queries;
        for (int k = 0; k < kAuxiliaryTasks; ++k) {
            if (!m_auxiliaryHidden[k])
                continue;
            torch::Tensor state;
            if (k == kCharacterTask) {
                // CTC reads every frame; the task's state is the clip's mean hidden frame.
                const auto hidden = m_dropout(torch::relu(m_auxiliaryHidden[k](frames)));
                out->characterLogits = m_auxiliaryOutput[k](hidden) * maskF;
                state = (hidden * maskF).sum(1) / counts;
            } else {
                state = m_dropout(torch::relu(m_auxiliaryHidden[k](mean)));
                const auto logits = m_auxiliaryOutput[k](state);
                (k == 0   ? out->genderLogits
                 : k == 1 ? out->speakerLogits
                          : out->styleLogits) = logits;
            }
            states.push_back(state);
            queries.push_back(m_query[k](state));
        }
        // Each task's state as a query over the frames (scaled dot product, real frames only);
        // the tasks' weights averaged.
        const auto keys = m_key(frames);                                         // [B, T, D]
        auto scores = torch::bmm(torch::stack(queries, 1), keys.transpose(1, 2)) // [B, K, T]
                      / std::sqrt(double(keys.size(2)));
        scores = scores.masked_fill(mask.logical_not().unsqueeze(1),
                                    -std::numeric_limits<float>::infinity());
        out->attention = torch::softmax(scores, 2).mean(1); // [B, T]
        const auto weighted = (out->attention.unsqueeze(2) * frames).sum(1);
        const auto joined = torch::cat(states, 1); // [B, K * A]
        // A clip of one frame: that frame as the weighted features, the clip's task states.
        *frameInput = torch::cat(
            {frames, joined.unsqueeze(1).expand({frames.size(0), frames.size(1), joined.size(1)})},
            2);
        return torch::cat({weighted, joined}, 1);
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
    auto x = m_projection(integrate(encoderStates(hidden, valid), extra)); // [B, T, W]
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
    out.pooled = headInput(x, valid, &frameInput, &out);
    const auto maskF = valid.unsqueeze(2).to(x.scalar_type());
    auto head = out.pooled;
    if (m_emotionHidden) {
        // Seed 003's emotion head: two fully connected layers with dropout.
        head = m_dropout(torch::relu(m_emotionHidden(head)));
        frameInput = m_dropout(torch::relu(m_emotionHidden(frameInput)));
    }
    out.classifierInput = head;
    if (m_classifier) {
        out.logits = m_classifier(head);
        out.frameLogits = m_classifier(frameInput) * maskF;
    }
    if (m_regressor) {
        out.dimensions = m_regressor(head);
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

torch::Tensor softClassificationLoss(const torch::Tensor &logits, const torch::Tensor &shares,
                                     const torch::Tensor &classWeights)
{
    TORCH_CHECK(logits.sizes() == shares.sizes(), "softClassificationLoss: logits ", logits.sizes(),
                " and shares ", shares.sizes(), " differ");
    auto weighted = shares.to(logits.options());
    if (classWeights.defined())
        weighted = weighted * classWeights.to(logits.options()).unsqueeze(0);
    // -sum_i sum_c w_c p_ic log q_ic / sum_i sum_c w_c p_ic: with one-hot p, cross_entropy's
    // weighted mean exactly.
    const auto logq = torch::log_softmax(logits, 1);
    return -(weighted * logq).sum() / weighted.sum().clamp_min(1e-12);
}

torch::Tensor characterLoss(const torch::Tensor &characterLogits, const torch::Tensor &mask,
                            const std::vector<std::vector<int32_t>> &transcripts)
{
    TORCH_CHECK(characterLogits.dim() == 3 &&
                    int64_t(transcripts.size()) == characterLogits.size(0),
                "characterLoss: one transcript per clip");
    const int64_t vocabulary = characterLogits.size(2);
    const auto frames = mask.to(torch::kBool).sum(1).cpu();
    std::vector<int64_t> rows, targets, inputLengths, targetLengths;
    for (std::size_t b = 0; b < transcripts.size(); ++b) {
        const auto &text = transcripts[b];
        TORCH_CHECK(std::all_of(text.begin(), text.end(),
                                [vocabulary](int32_t c) { return c >= 1 && c < vocabulary; }),
                    "characterLoss: a character id outside 1 to ", vocabulary - 1);
        if (text.empty())
            continue;
        rows.push_back(int64_t(b));
        inputLengths.push_back(frames[int64_t(b)].item<int64_t>());
        targetLengths.push_back(int64_t(text.size()));
        targets.insert(targets.end(), text.begin(), text.end());
    }
    if (rows.empty())
        return {};
    const auto index = torch::tensor(rows, torch::kLong).to(characterLogits.device());
    // [T, N, C], as CTC wants it.
    const auto logProbs =
        torch::log_softmax(characterLogits.index_select(0, index).to(torch::kFloat), 2)
            .transpose(0, 1);
    return torch::nn::functional::ctc_loss(
        logProbs, torch::tensor(targets, torch::kLong).to(characterLogits.device()),
        torch::tensor(inputLengths, torch::kLong), torch::tensor(targetLengths, torch::kLong),
        torch::nn::functional::CTCLossFuncOptions().blank(0).zero_infinity(true));
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
