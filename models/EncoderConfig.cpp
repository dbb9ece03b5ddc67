#include "EncoderConfig.h"

#include "Json.h"

#include <fstream>
#include <sstream>

namespace emolens {

namespace {

// One frame per 65 s of 16 kHz audio: far beyond any real model, far below int overflow.
constexpr std::int64_t kMaxHopSamples = std::int64_t(1) << 20;

class ConfigReader
{
public:
    ConfigReader(const JsonValue &root, const std::string &path) : m_root(root), m_path(path) {}

    const ModelStatus &status() const { return m_status; }
    void fail(const std::string &problem)
    {
        if (m_status)
            m_status = ModelStatus::failure(m_path + ": " + problem);
    }

    const JsonValue *member(const char *key, JsonValue::Type type)
    {
        const JsonValue *value = m_root.find(key);
        if (value == nullptr || value->isNull())
            return nullptr;
        if (value->type() != type) {
            fail(std::string("\"") + key + "\" must be " + JsonValue::typeName(type) + ", not " +
                 JsonValue::typeName(value->type()));
            return nullptr;
        }
        return value;
    }

    void readBool(const char *key, bool &out)
    {
        if (const JsonValue *value = member(key, JsonValue::Type::Bool))
            out = value->boolean();
    }

    void readInt(const char *key, int &out, int minimum = 1)
    {
        const JsonValue *value = member(key, JsonValue::Type::Number);
        if (value == nullptr)
            return;
        if (!value->isInteger() || value->integer() < minimum || value->integer() > 1 << 24) {
            fail(std::string("\"") + key + "\" must be a whole number from " +
                 std::to_string(minimum));
            return;
        }
        out = static_cast<int>(value->integer());
    }

    void readDouble(const char *key, double &out)
    {
        if (const JsonValue *value = member(key, JsonValue::Type::Number))
            out = value->number();
    }

    void readIntList(const char *key, std::vector<int> &out)
    {
        const JsonValue *value = member(key, JsonValue::Type::Array);
        if (value == nullptr)
            return;
        std::vector<int> list;
        for (const JsonValue &item : value->array()) {
            if (!item.isInteger() || item.integer() < 1 || item.integer() > 1 << 20) {
                fail(std::string("\"") + key + "\" must list positive whole numbers");
                return;
            }
            list.push_back(static_cast<int>(item.integer()));
        }
        out = std::move(list);
    }

    void readActivation(const char *key, EncoderConfig::Activation &out)
    {
        const JsonValue *value = member(key, JsonValue::Type::String);
        if (value == nullptr)
            return;
        const std::string &name = value->string();
        if (name == "gelu")
            out = EncoderConfig::Activation::Gelu;
        else if (name == "gelu_new" || name == "gelu_pytorch_tanh")
            out = EncoderConfig::Activation::GeluTanh;
        else if (name == "relu")
            out = EncoderConfig::Activation::Relu;
        else
            fail(std::string("\"") + key + "\" is \"" + name +
                 "\"; supported: gelu, gelu_new, gelu_pytorch_tanh, relu");
    }

private:
    const JsonValue &m_root;
    const std::string &m_path;
    ModelStatus m_status;
};

} // namespace

ModelStatus EncoderConfig::parse(const std::string &jsonText, const std::string &path,
                                 EncoderConfig &out)
{
    out = EncoderConfig();
    JsonValue root;
    std::string jsonError;
    if (!JsonValue::parse(jsonText, root, jsonError))
        return ModelStatus::failure(path + ": malformed JSON (" + jsonError + ")");
    if (!root.isObject())
        return ModelStatus::failure(path + ": the model configuration is not a JSON object");

    const JsonValue *modelType = root.find("model_type");
    if (modelType == nullptr || !modelType->isString())
        return ModelStatus::failure(path + ": \"model_type\" is missing (expected \"wav2vec2\", "
                                           "\"hubert\" or \"wavlm\")");
    out.modelTypeName = modelType->string();
    if (out.modelTypeName == "wav2vec2")
        out.modelType = ModelType::Wav2Vec2;
    else if (out.modelTypeName == "hubert")
        out.modelType = ModelType::Hubert;
    else if (out.modelTypeName == "wavlm")
        out.modelType = ModelType::WavLM;
    else
        return ModelStatus::failure(path + ": unknown model_type \"" + out.modelTypeName +
                                    "\" (EmoLens loads \"wav2vec2\", \"hubert\" and \"wavlm\")");

    ConfigReader reader(root, path);
    reader.readIntList("conv_dim", out.convDim);
    reader.readIntList("conv_kernel", out.convKernel);
    reader.readIntList("conv_stride", out.convStride);
    reader.readBool("conv_bias", out.convBias);
    if (const JsonValue *norm = reader.member("feat_extract_norm", JsonValue::Type::String)) {
        if (norm->string() == "group")
            out.featureNorm = FeatureNorm::Group;
        else if (norm->string() == "layer")
            out.featureNorm = FeatureNorm::Layer;
        else
            reader.fail("\"feat_extract_norm\" is \"" + norm->string() +
                        "\"; expected \"group\" or \"layer\"");
    }
    reader.readActivation("feat_extract_activation", out.featureActivation);
    reader.readBool("feat_proj_layer_norm", out.featureProjectionLayerNorm);
    reader.readBool("do_stable_layer_norm", out.stableLayerNorm);
    reader.readInt("hidden_size", out.hiddenSize);
    reader.readInt("num_hidden_layers", out.layerCount);
    reader.readInt("num_attention_heads", out.headCount);
    reader.readInt("intermediate_size", out.intermediateSize);
    reader.readActivation("hidden_act", out.hiddenActivation);
    reader.readInt("num_conv_pos_embeddings", out.positionConvKernel);
    reader.readInt("num_conv_pos_embedding_groups", out.positionConvGroups);
    reader.readDouble("layer_norm_eps", out.layerNormEps);
    reader.readInt("num_buckets", out.relativeBucketCount);
    reader.readInt("max_bucket_distance", out.relativeMaxDistance);
    bool positionBatchNorm = false;
    reader.readBool("conv_pos_batch_norm", positionBatchNorm);
    if (!reader.status())
        return reader.status();

    const auto failure = [&path](const std::string &problem) {
        return ModelStatus::failure(path + ": " + problem);
    };
    if (positionBatchNorm)
        return failure("\"conv_pos_batch_norm\": true is not supported");
    if (out.convDim.empty() || out.convDim.size() != out.convKernel.size() ||
        out.convDim.size() != out.convStride.size())
        return failure("\"conv_dim\", \"conv_kernel\" and \"conv_stride\" must have the same, "
                       "non-zero length");
    // samplesPerFrame() multiplies the strides in an int; real extractors hop 320 samples.
    std::int64_t hopSamples = 1;
    for (const int stride : out.convStride) {
        hopSamples *= stride;
        if (hopSamples > kMaxHopSamples)
            return failure("\"conv_stride\" multiplies to more than " +
                           std::to_string(kMaxHopSamples) + " samples per frame");
    }
    if (out.hiddenSize % out.headCount != 0)
        return failure("\"hidden_size\" (" + std::to_string(out.hiddenSize) +
                       ") is not divisible by \"num_attention_heads\" (" +
                       std::to_string(out.headCount) + ")");
    if (out.hiddenSize % out.positionConvGroups != 0)
        return failure("\"hidden_size\" is not divisible by \"num_conv_pos_embedding_groups\"");
    if (!(out.layerNormEps > 0.0 && out.layerNormEps < 1.0))
        return failure("\"layer_norm_eps\" must lie between 0 and 1");
    if (out.modelType == ModelType::WavLM) {
        if (out.relativeBucketCount < 4 || out.relativeMaxDistance <= out.relativeBucketCount / 4)
            return failure("\"num_buckets\" / \"max_bucket_distance\" do not describe a usable "
                           "relative position bias");
    }
    return ModelStatus::success();
}

ModelStatus EncoderConfig::load(const std::string &path, EncoderConfig &out)
{
    std::ifstream file(path, std::ios::binary);
    if (!file)
        return ModelStatus::failure(path + ": cannot read the model configuration");
    std::ostringstream text;
    text << file.rdbuf();
    return parse(text.str(), path, out);
}

std::int64_t EncoderConfig::frameCount(std::int64_t sampleCount) const
{
    std::int64_t length = sampleCount;
    for (std::size_t i = 0; i < convKernel.size(); ++i) {
        if (length < convKernel[i])
            return 0;
        length = (length - convKernel[i]) / convStride[i] + 1;
    }
    return length;
}

int EncoderConfig::samplesPerFrame() const
{
    int product = 1;
    for (const int stride : convStride)
        product *= stride;
    return product;
}

} // namespace emolens
