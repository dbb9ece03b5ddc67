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
        // Tiles of kRows x kColumns products stay in cache while they are scanned; each row
        // keeps a max-heap of its k nearest so far, which most candidates fail to enter.
        constexpr std::int64_t kRows = 256, kColumns = 4096;
        using Heap = std::vector<std::pair<float, int>>;
        std::vector<Heap> heaps(std::size_t(std::min<std::int64_t>(kRows, n)));
        torch::Tensor tile =
            torch::empty({std::min<std::int64_t>(kRows, n), std::min<std::int64_t>(kColumns, n)},
                         torch::kFloat32);
        for (std::int64_t start = 0; start < n; start += kRows) {
            if (cancelled && cancelled())
                return ModelStatus::failure("cancelled");
            const std::int64_t rowsHere = std::min(kRows, n - start);
            for (std::int64_t r = 0; r < rowsHere; ++r) {
                heaps[std::size_t(r)].clear();
                heaps[std::size_t(r)].reserve(std::size_t(k));
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
                        Heap &heap = heaps[std::size_t(r)];
                        const std::int64_t self = start + r;
                        const float own = norms[self];
                        const float *row = block + r * stride;
                        const float *columnNorms = norms + column;
                        // The k-th nearest distance so far, held in a register: the scan is
                        // one compare per candidate, and the heap is touched only by the few
                        // that enter it.
                        float worst = int(heap.size()) < k ? std::numeric_limits<float>::max()
                                                           : heap.front().first;
                        for (std::int64_t c = 0; c < columnsHere; ++c) {
                            // Rounding can make a tiny distance negative: clamp at 0.
                            const float d = std::max(0.f, own + columnNorms[c] - 2 * row[c]);
                            if (!(d < worst) || column + c == self)
                                continue;
                            if (int(heap.size()) < k) {
                                heap.push_back({d, int(column + c)});
                                if (int(heap.size()) == k) {
                                    std::make_heap(heap.begin(), heap.end());
                                    worst = heap.front().first;
                                }
                            } else {
                                std::pop_heap(heap.begin(), heap.end());
                                heap.back() = {d, int(column + c)};
                                std::push_heap(heap.begin(), heap.end());
                                worst = heap.front().first;
                            }
                        }
                    }
                });
            }
            for (std::int64_t r = 0; r < rowsHere; ++r) {
                Heap &heap = heaps[std::size_t(r)];
                std::sort(heap.begin(), heap.end());
                const std::size_t at = std::size_t(start + r) * std::size_t(k);
                for (int j = 0; j < k; ++j) {
                    (*distance)[at + std::size_t(j)] = heap[std::size_t(j)].first;
                    (*index)[at + std::size_t(j)] = heap[std::size_t(j)].second;
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
