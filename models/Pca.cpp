#include "Pca.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>

namespace emolens {

ModelStatus principalComponents(const float *rows, std::int64_t n, int dims, int components,
                                PcaResult *result, std::vector<float> *projected)
{
    *result = PcaResult();
    if (n < 2 || dims < 1 || components < 1 || components > dims)
        return ModelStatus::failure("PCA needs at least two rows and 1 to " + std::to_string(dims) +
                                    " components (asked " + std::to_string(components) + " of " +
                                    std::to_string(n) + " rows)");
    try {
        torch::NoGradGuard noGrad;
        const auto x = torch::from_blob(const_cast<float *>(rows), {n, dims}, torch::kFloat);
        const auto mean = x.to(torch::kDouble).mean(0);
        // The covariance from chunks of rows (float32 products, float64 sums).
        auto covariance = torch::zeros({dims, dims}, torch::kDouble);
        const auto meanF = mean.to(torch::kFloat);
        const std::int64_t chunk = 16384;
        for (std::int64_t first = 0; first < n; first += chunk) {
            const auto part = x.narrow(0, first, std::min(chunk, n - first)) - meanF;
            covariance += torch::mm(part.t(), part).to(torch::kDouble);
        }
        covariance /= double(n - 1);
        const auto [values, vectors] = torch::linalg_eigh(covariance); // ascending
        const auto top = torch::arange(dims - 1, dims - 1 - components, -1, torch::kLong);
        auto axes = vectors.index_select(1, top).t().contiguous(); // [components, dims]
        // A fixed sign: the largest coefficient (in magnitude) of each axis is positive.
        const auto largest = axes.abs().argmax(1);
        const auto signs = axes.gather(1, largest.unsqueeze(1)).sign().clamp_min(0) * 2 - 1;
        axes = axes * signs;
        result->components = components;
        result->dims = dims;
        result->mean.resize(std::size_t(dims));
        std::memcpy(result->mean.data(), meanF.contiguous().data_ptr<float>(),
                    std::size_t(dims) * sizeof(float));
        const auto axesF = axes.to(torch::kFloat).contiguous();
        result->axes.resize(std::size_t(components) * std::size_t(dims));
        std::memcpy(result->axes.data(), axesF.data_ptr<float>(),
                    result->axes.size() * sizeof(float));
        const auto chosen = values.index_select(0, top).contiguous();
        result->variances.assign(chosen.data_ptr<double>(), chosen.data_ptr<double>() + components);
        result->totalVariance = covariance.diagonal().sum().item<double>();
        if (projected) {
            projected->resize(std::size_t(n) * std::size_t(components));
            auto out = torch::from_blob(projected->data(), {n, components}, torch::kFloat);
            for (std::int64_t first = 0; first < n; first += chunk) {
                const std::int64_t count = std::min(chunk, n - first);
                out.narrow(0, first, count)
                    .copy_(torch::mm(x.narrow(0, first, count) - meanF, axesF.t()));
            }
        }
        return ModelStatus::success();
    } catch (const std::exception &e) {
        return ModelStatus::failure(std::string("PCA failed: ") + e.what());
    }
}

} // namespace emolens
