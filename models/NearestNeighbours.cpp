#include "NearestNeighbours.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace emolens {

namespace {

// A squared distance from |a|^2, |b|^2 and a.b; rounding can make a tiny one negative: clamped
// at 0.
inline float distanceOf(float ownNorm, float otherNorm, float product)
{
    return std::max(0.f, ownNorm + otherNorm - 2 * product);
}

// The first column from `at` on whose distance is under `bound` (`count` if none): the scan
// most candidates leave at its one compare, kept apart so it compiles to a tight loop.
std::int64_t nextUnder(const float *__restrict products, const float *__restrict norms,
                       float ownNorm, float bound, std::int64_t at, std::int64_t count)
{
    while (at < count && !(distanceOf(ownNorm, norms[at], products[at]) < bound))
        ++at;
    return at;
}

} // namespace

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
        // Blocks of kRows rows, shared out to the threads; each thread computes its blocks'
        // products a tile of kColumns columns at a time (BLAS, on that thread alone) and scans
        // each tile while it is in cache. Each row keeps the candidates under its current k-th
        // distance in a buffer; when the buffer holds 4k, it is cut back to its k nearest
        // (nth_element) and the k-th distance tightens. Most candidates fail the one compare
        // with that distance.
        constexpr std::int64_t kRows = 128, kColumns = 4096;
        using Candidates = std::vector<std::pair<float, int>>;
        const std::size_t keep = std::size_t(k), full = std::size_t(k) * 4;
        const std::int64_t blocks = (n + kRows - 1) / kRows;
        std::atomic<bool> stop{false};
        std::string failure;
        std::mutex failureLock;
        const auto work = [&](std::int64_t firstBlock, std::int64_t lastBlock) {
            try {
                const std::int64_t tileRows = std::min<std::int64_t>(kRows, n);
                torch::Tensor tile =
                    torch::empty({tileRows, std::min<std::int64_t>(kColumns, n)}, torch::kFloat32);
                std::vector<Candidates> candidates(static_cast<std::size_t>(tileRows));
                std::vector<float> worst(static_cast<std::size_t>(tileRows));
                for (Candidates &c : candidates)
                    c.reserve(full);
                for (std::int64_t blockAt = firstBlock; blockAt < lastBlock; ++blockAt) {
                    // The caller's cancel is asked on its own thread only (the first share's).
                    if (stop || (firstBlock == 0 && cancelled && cancelled())) {
                        stop = true;
                        return;
                    }
                    const std::int64_t start = blockAt * kRows;
                    const std::int64_t rowsHere = std::min(kRows, n - start);
                    for (std::int64_t r = 0; r < rowsHere; ++r) {
                        candidates[std::size_t(r)].clear();
                        worst[std::size_t(r)] = std::numeric_limits<float>::max();
                    }
                    const torch::Tensor q = x.narrow(0, start, rowsHere);
                    for (std::int64_t column = 0; column < n; column += kColumns) {
                        const std::int64_t columnsHere = std::min(kColumns, n - column);
                        torch::Tensor products =
                            tile.narrow(0, 0, rowsHere).narrow(1, 0, columnsHere);
                        torch::mm_out(products, q, x.narrow(0, column, columnsHere).t());
                        const float *block = products.data_ptr<float>();
                        const std::int64_t stride = products.stride(0);
                        const float *columnNorms = norms + column;
                        for (std::int64_t r = 0; r < rowsHere; ++r) {
                            Candidates &c = candidates[std::size_t(r)];
                            float bound = worst[std::size_t(r)];
                            const std::int64_t self = start + r;
                            const float own = norms[self];
                            const float *row = block + r * stride;
                            for (std::int64_t at =
                                     nextUnder(row, columnNorms, own, bound, 0, columnsHere);
                                 at < columnsHere; at = nextUnder(row, columnNorms, own, bound,
                                                                  at + 1, columnsHere)) {
                                if (column + at == self)
                                    continue;
                                c.push_back(
                                    {distanceOf(own, columnNorms[at], row[at]), int(column + at)});
                                if (c.size() == full) {
                                    std::nth_element(c.begin(),
                                                     c.begin() + std::ptrdiff_t(keep - 1), c.end());
                                    c.resize(keep);
                                    bound = c.back().first;
                                }
                            }
                            worst[std::size_t(r)] = bound;
                        }
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
                const std::lock_guard<std::mutex> lock(failureLock);
                failure = e.what();
                stop = true;
            }
        };
        // The blocks in contiguous shares, one thread each (ATen's intra-op pool measured no
        // faster than one thread here). Each share's products run on BLAS from its own thread.
        std::vector<std::thread> pool;
        for (int t = 1; t < wanted; ++t)
            pool.emplace_back(work, blocks * t / wanted, blocks * (t + 1) / wanted);
        work(0, blocks / wanted);
        for (std::thread &t : pool)
            t.join();
        if (!failure.empty())
            throw std::runtime_error(failure);
        if (stop)
            return ModelStatus::failure("cancelled");
    } catch (const std::exception &e) {
        index->clear();
        distance->clear();
        return ModelStatus::failure(std::string("nearest neighbours: ") + e.what());
    }
    return ModelStatus::success();
}

} // namespace emolens
