#pragma once
// Small helpers the adapter suites share (test_adapter.cpp, test_ari.cpp).

#include <torch/torch.h>

#include <cstddef>
#include <vector>

namespace emolens::testsupport {

// The largest absolute difference between two tensors of the same shape.
inline float maxDifference(const torch::Tensor &a, const torch::Tensor &b)
{
    return (a - b).abs().max().item<float>();
}

// The clip indexes from, from + 1, ..., to - 1.
inline std::vector<std::size_t> range(std::size_t from, std::size_t to)
{
    std::vector<std::size_t> out;
    for (std::size_t i = from; i < to; ++i)
        out.push_back(i);
    return out;
}

} // namespace emolens::testsupport
