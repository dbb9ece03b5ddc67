#pragma once
// EncoderConfig: the shape of a wav2vec 2.0 / HuBERT / WavLM encoder, read from a Hugging Face
// config.json. Keys absent from the file take Hugging Face's defaults (the base shape); keys
// present are type-checked, so a config that would build a different network than it says
// fails here with the file and the key named. A plain value type: copy it freely.

#include "ModelStatus.h"

#include <cstdint>
#include <string>
#include <vector>

namespace emolens {

struct EncoderConfig
{
    enum class ModelType { Wav2Vec2, Hubert, WavLM };
    // Group: GroupNorm on the first conv layer only (base models); Layer: LayerNorm on every
    // conv layer (large models).
    enum class FeatureNorm { Group, Layer };
    enum class Activation { Gelu, GeluTanh, Relu };

    ModelType modelType = ModelType::Wav2Vec2;
    std::string modelTypeName = "wav2vec2";

    std::vector<int> convDim = {512, 512, 512, 512, 512, 512, 512};
    std::vector<int> convKernel = {10, 3, 3, 3, 3, 2, 2};
    std::vector<int> convStride = {5, 2, 2, 2, 2, 2, 2};
    bool convBias = false;
    FeatureNorm featureNorm = FeatureNorm::Group;
    Activation featureActivation = Activation::Gelu;
    bool featureProjectionLayerNorm = true; // HuBERT's feat_proj_layer_norm

    // Pre-LN Transformer (do_stable_layer_norm: the large models) or post-LN (base).
    bool stableLayerNorm = false;
    int hiddenSize = 768;
    int layerCount = 12;
    int headCount = 12;
    int intermediateSize = 3072;
    Activation hiddenActivation = Activation::Gelu;
    int positionConvKernel = 128;
    int positionConvGroups = 16;
    double layerNormEps = 1e-5;

    // WavLM's gated relative position bias.
    int relativeBucketCount = 320;
    int relativeMaxDistance = 800;

    // Parses config.json text; `path` only names the file in messages.
    static ModelStatus parse(const std::string &jsonText, const std::string &path,
                             EncoderConfig &out);
    static ModelStatus load(const std::string &path, EncoderConfig &out);

    // Frames the convolutional feature extractor makes from `sampleCount` samples (0 when the
    // clip is shorter than its receptive field).
    std::int64_t frameCount(std::int64_t sampleCount) const;
    // Samples per frame (320 for the standard extractor: 50 frames/s at 16 kHz).
    int samplesPerFrame() const;
};

} // namespace emolens
