#pragma once
// EncoderPretraining: the parts of TAPT proper (models/EncoderPretrainer) with tensors in
// their interface, as functions with answers that can be checked by hand: HuBERT's span
// masking, the Transformer's positional input, and reading what EncoderPretrainer::save wrote.
//
// Threads: pure functions.

#include "EncoderConfig.h"
#include "ModelStatus.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace emolens {

// HuBERT's span masking: in each clip, floor(startProbability x length + u) starts (u uniform
// in [0, 1)), drawn without repeats from the frames a whole span fits after, each masking
// spanFrames frames; a clip shorter than a span is masked whole. [clips, frames] bool, false
// beyond each clip's length. Deterministic with the generator.
at::Tensor spanStartMask(const std::vector<std::int64_t> &lengths, std::int64_t frames,
                         int spanFrames, double startProbability, std::mt19937_64 &random);

// The Transformer's input (layer 0 of the feature cache) from the projected CNN features,
// [B, T, hidden], with the encoder's positional convolution (weight folded from its weight
// norm; the tensors SelfSupervisedEncoder::transformerTensors gives as "position_weight" and
// "position_bias") and, for post-LN stacks, the encoder's norm. mask [B, T] bool, true on real
// frames: padded frames enter as zeros and come out as zeros, so a padded clip gets what it
// gets alone. Differentiable in `projected`.
at::Tensor positionalInput(const at::Tensor &projected, const at::Tensor &mask,
                           const std::map<std::string, at::Tensor> &tensors,
                           const EncoderConfig &config);

// What EncoderPretrainer::save wrote: the tensors by name (models/EncoderLayers' names, with
// "position_weight"/"position_bias" and the encoder's norm) and the config.json text of the
// encoder they belong to.
ModelStatus readTaptWeights(const std::string &path, std::map<std::string, at::Tensor> *tensors,
                            std::string *configText);

} // namespace emolens
