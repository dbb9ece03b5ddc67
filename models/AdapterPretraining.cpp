#include "AdapterPretraining.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace emolens {

at::Tensor spanMask(const std::vector<int64_t> &lengths, int64_t frames, int spanFrames,
                    double fraction, std::mt19937_64 &random)
{
    TORCH_CHECK(spanFrames > 0 && fraction > 0 && fraction < 1,
                "span masking: the span must be at least one frame and the fraction in (0, 1)");
    auto mask = torch::zeros({int64_t(lengths.size()), frames}, torch::kBool);
    auto *out = mask.data_ptr<bool>();
    std::vector<int64_t> starts;
    for (std::size_t b = 0; b < lengths.size(); ++b) {
        const int64_t length = std::min(lengths[b], frames);
        if (length <= 0)
            continue;
        bool *row = out + int64_t(b) * frames;
        const int64_t wanted = std::max<int64_t>(1, std::llround(fraction * double(length)));
        if (length <= spanFrames) {
            std::fill(row, row + wanted, true);
            continue;
        }
        // Starts in a random order, without repeats: the cover grows until it is enough.
        starts.resize(std::size_t(length - spanFrames + 1));
        std::iota(starts.begin(), starts.end(), int64_t(0));
        int64_t covered = 0;
        for (std::size_t k = 0; k < starts.size() && covered < wanted; ++k) {
            std::uniform_int_distribution<std::size_t> pick(k, starts.size() - 1);
            std::swap(starts[k], starts[pick(random)]);
            for (int64_t t = starts[k]; t < starts[k] + spanFrames; ++t)
                if (!row[t]) {
                    row[t] = true;
                    ++covered;
                }
        }
    }
    return mask;
}

at::Tensor alternatingSpans(const std::vector<int64_t> &lengths, int64_t frames, int spanFrames,
                            int passes, int pass)
{
    TORCH_CHECK(spanFrames > 0 && passes > 0 && pass >= 0 && pass < passes,
                "alternating spans: the span must be at least one frame and the pass one of the "
                "passes");
    auto mask = torch::zeros({int64_t(lengths.size()), frames}, torch::kBool);
    auto *out = mask.data_ptr<bool>();
    for (std::size_t b = 0; b < lengths.size(); ++b) {
        const int64_t length = std::min(lengths[b], frames);
        for (int64_t f = 0; f < length; ++f)
            out[int64_t(b) * frames + f] = (f / spanFrames) % passes == pass;
    }
    return mask;
}

std::vector<float> bucketMeans(const float *values, int64_t frames, int buckets)
{
    std::vector<float> out;
    if (frames <= 0 || buckets <= 0)
        return out;
    out.reserve(std::size_t(buckets));
    for (int b = 0; b < buckets; ++b) {
        const int64_t first = int64_t(b) * frames / buckets;
        const int64_t end = int64_t(b + 1) * frames / buckets;
        if (end <= first) {
            out.push_back(values[std::min(first, frames - 1)]);
            continue;
        }
        double sum = 0;
        for (int64_t f = first; f < end; ++f)
            sum += values[f];
        out.push_back(float(sum / double(end - first)));
    }
    return out;
}

double emaDecay(int64_t step, int64_t totalSteps, double start, double end)
{
    if (totalSteps <= 1 || step >= totalSteps)
        return end;
    const double t = double(std::max<int64_t>(step, 0)) / double(totalSteps);
    return start + (end - start) * t;
}

void emaUpdate(torch::nn::Module &teacher, const torch::nn::Module &student, double decay)
{
    torch::NoGradGuard noGrad;
    const auto from = student.named_parameters();
    for (auto &p : teacher.named_parameters()) {
        const torch::Tensor *s = from.find(p.key());
        TORCH_CHECK(s, "EMA update: the student has no parameter ", p.key());
        p.value().mul_(decay).add_(*s, 1 - decay);
    }
    const auto buffers = student.named_buffers();
    for (auto &b : teacher.named_buffers())
        if (const torch::Tensor *s = buffers.find(b.key()))
            b.value().copy_(*s);
}

at::Tensor instanceNormalise(const at::Tensor &x, const at::Tensor &mask)
{
    const auto maskF = mask.to(x.scalar_type()).unsqueeze(2); // [B, T, 1]
    const auto count = maskF.sum(1, /*keepdim=*/true).clamp_min(1);
    const auto mean = (x * maskF).sum(1, true) / count;
    const auto centred = (x - mean) * maskF;
    const auto variance = (centred * centred).sum(1, true) / count;
    return centred / (variance + 1e-5).sqrt();
}

PretrainHeadsImpl::PretrainHeadsImpl(int width, int clusters)
{
    // A small random vector, like the projected frames at the start.
    maskVector = register_parameter("mask_vector", torch::randn({width}) * 0.1);
    clusterHead = register_module("cluster_head", torch::nn::Linear(width, clusters));
    distillHead = register_module("distill_head", torch::nn::Linear(width, width));
}

} // namespace emolens
