#pragma once
// AdapterPretraining: the parts of seed 000's teacher-student pre-training (see PretrainOptions
// in AdapterTrainer.h for the method and ../shared/METHODS.md for what is the paper's), as
// small functions with answers that can be checked by hand. AdapterTrainer runs the loop.
//
// Threads: pure functions, and a module used by one thread at a time.

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <random>
#include <vector>

namespace emolens {

// Spans of spanFrames frames, at random starts, added until at least round(fraction x length)
// of each clip's frames are covered (so the cover is that fraction, plus less than one span);
// a clip shorter than a span gets one span from its first frame, cut to the fraction. [clips,
// frames] bool; false beyond each clip's length. Deterministic with the generator.
at::Tensor spanMask(const std::vector<int64_t> &lengths, int64_t frames, int spanFrames,
                    double fraction, std::mt19937_64 &random);

// The teacher's decay at this step of totalSteps: start, rising linearly to end.
double emaDecay(int64_t step, int64_t totalSteps, double start, double end);

// teacher <- decay x teacher + (1 - decay) x student, for every parameter (matched by name);
// buffers (the input normalisation) are copied. Without gradients.
void emaUpdate(torch::nn::Module &teacher, const torch::nn::Module &student, double decay);

// x [B, T, W] normalised per clip and channel over the clip's real frames (mask [B, T] bool):
// mean 0, variance 1 (population), 0 at padded frames.
at::Tensor instanceNormalise(const at::Tensor &x, const at::Tensor &mask);

// ALPS's masks (seed 002's set; see AdapterTrainer::surprisal), pass `pass` of `passes`: frame f
// of each clip is masked when (f / spanFrames) % passes == pass, so the passes mask every frame
// once, in spans of the pre-training's length. [clips, frames] bool; false beyond each clip's
// length.
at::Tensor alternatingSpans(const std::vector<int64_t> &lengths, int64_t frames, int spanFrames,
                            int passes, int pass);

// The mean of values[0, frames) over each of `buckets` equal parts of the clip: part b holds
// frames floor(b f / B) to floor((b + 1) f / B) - 1; a part with no frame (a clip shorter than
// B frames) takes the frame at floor(b f / B). Empty for a clip of no frames.
std::vector<float> bucketMeans(const float *values, int64_t frames, int buckets);

// What pre-training adds to the adapter and drops afterwards: the learned mask vector, the
// local-attribute (cluster id) head and the self-distillation head.
class PretrainHeadsImpl : public torch::nn::Module
{
public:
    PretrainHeadsImpl(int width, int clusters);
    at::Tensor maskVector; // [width]
    torch::nn::Linear clusterHead{nullptr};
    torch::nn::Linear distillHead{nullptr};
};
TORCH_MODULE(PretrainHeads);

} // namespace emolens
