#include "NearestNeighbours.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <thread>

namespace emolens {

ModelStatus exactNearestNeighbours(const float *rows, std::int64_t n, int dims, int k,
                                   std::vector<int> *index, std::vector<float> *distance,
                                   const std::function<bool()> &cancelled, int threads)
{
    index->clear();
    distance->clear();
    if (n < 2 || k < 1 || k >= n || dims < 1)
        return ModelStatus::failure("nearest neighbours: k must be 1 to n - 1 (k " +
                                    std::to_string(k) + ", n " + std::to_string(n) + ")");
    const int wanted =
        threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
    if (at::get_num_threads() != wanted)
        at::set_num_threads(wanted);
    torch::NoGradGuard noGrad;
    try {
        const torch::Tensor x =
            torch::from_blob(const_cast<float *>(rows), {n, std::int64_t(dims)}, torch::kFloat32);
        const torch::Tensor normsTensor = x.square().sum(1).contiguous();
        const float *norms = normsTensor.data_ptr<float>();
        index->resize(std::size_t(n) * std::size_t(k));
        distance->resize(std::size_t(n) * std::size_t(k));
        // Tiles of kRows x kColumns products stay in cache while they are scanned. Each row
        // keeps the candidates under its current k-th distance in a buffer; when the buffer
        // holds 4k, it is cut back to its k nearest (nth_element) and the k-th distance
        // tightens. Most candidates fail the one compare with that distance.
        constexpr std::int64_t kRows = 256, kColumns = 4096;
        using Candidates = std::vector<std::pair<float, int>>;
        const std::size_t keep = std::size_t(k), full = std::size_t(k) * 4;
        const std::size_t rowsPerBlock = std::size_t(std::min<std::int64_t>(kRows, n));
        std::vector<Candidates> candidates(rowsPerBlock);
        std::vector<float> worst(rowsPerBlock);
        for (Candidates &c : candidates)
            c.reserve(full);
        torch::Tensor tile =
            torch::empty({std::min<std::int64_t>(kRows, n), std::min<std::int64_t>(kColumns, n)},
                         torch::kFloat32);
        for (std::int64_t start = 0; start < n; start += kRows) {
            if (cancelled && cancelled())
                return ModelStatus::failure("cancelled");
            const std::int64_t rowsHere = std::min(kRows, n - start);
            for (std::int64_t r = 0; r < rowsHere; ++r) {
                candidates[std::size_t(r)].clear();
                worst[std::size_t(r)] = std::numeric_limits<float>::max();
            }
            const torch::Tensor q = x.narrow(0, start, rowsHere);
            for (std::int64_t column = 0; column < n; column += kColumns) {
                const std::int64_t columnsHere = std::min(kColumns, n - column);
                torch::Tensor products = tile.narrow(0, 0, rowsHere).narrow(1, 0, columnsHere);
                torch::mm_out(products, q, x.narrow(0, column, columnsHere).t());
                const float *block = products.data_ptr<float>();
                const std::int64_t stride = products.stride(0);
                at::parallel_for(0, rowsHere, 8, [&](std::int64_t from, std::int64_t to) {
                    for (std::int64_t r = from; r < to; ++r) {
                        Candidates &c = candidates[std::size_t(r)];
                        float bound = worst[std::size_t(r)];
                        const std::int64_t self = start + r;
                        const float own = norms[self];
                        const float *row = block + r * stride;
                        const float *columnNorms = norms + column;
                        for (std::int64_t at = 0; at < columnsHere; ++at) {
                            // Rounding can make a tiny distance negative: clamp at 0.
                            const float d = std::max(0.f, own + columnNorms[at] - 2 * row[at]);
                            if (!(d < bound) || column + at == self)
                                continue;
                            c.push_back({d, int(column + at)});
                            if (c.size() == full) {
                                std::nth_element(c.begin(), c.begin() + std::ptrdiff_t(keep - 1),
                                                 c.end());
                                c.resize(keep);
                                bound = c.back().first;
                            }
                        }
                        worst[std::size_t(r)] = bound;
                    }
                });
            }
            for (std::int64_t r = 0; r < rowsHere; ++r) {
                Candidates &c = candidates[std::size_t(r)];
                std::partial_sort(c.begin(), c.begin() + std::ptrdiff_t(keep), c.end());
                const std::size_t at = std::size_t(start + r) * keep;
                for (std::size_t j = 0; j < keep; ++j) {
                    (*distance)[at + j] = c[j].first;
                    (*index)[at + j] = c[j].second;
                }
            }
        }
    } catch (const std::exception &e) {
        index->clear();
        distance->clear();
        return ModelStatus::failure(std::string("nearest neighbours: ") + e.what());
    }
    return ModelStatus::success();
}

} // namespace emolens
