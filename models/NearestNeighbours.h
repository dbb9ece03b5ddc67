#pragma once
// NearestNeighbours: each row's k nearest other rows, exactly, by squared Euclidean distance -
// the input similarities of the t-SNE map. Distances come a tile of rows and columns at a
// time as |a|^2 + |b|^2 - 2 a.b, the products by BLAS through LibTorch (clamped at 0: rounding
// can make a tiny distance negative), scanned while the tile is in cache into a heap of each
// row's k nearest so far. Still O(n^2 d); on 2 cores about 1.8x faster than the plain loop at
// 10,000 rows and 3x at 30,000 (tests/bench/bench_tsne).
//
// Threads: any; no state. Uses LibTorch's intra-op threads, `threads` of them (0: one per
// core).

#include "ModelStatus.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace emolens {

// index[i * k + j] is row i's (j+1)-th nearest other row and distance[i * k + j] its squared
// distance, ascending. Fails for k outside 1..n-1 or when `cancelled` (polled between blocks)
// says so ("cancelled").
ModelStatus exactNearestNeighbours(const float *rows, std::int64_t n, int dims, int k,
                                   std::vector<int> *index, std::vector<float> *distance,
                                   const std::function<bool()> &cancelled = {}, int threads = 0);

} // namespace emolens
