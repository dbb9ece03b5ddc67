#pragma once
// NearestNeighbours: each row's k nearest other rows, exactly, by squared Euclidean distance -
// the input similarities of the t-SNE map. Distances come a tile of rows and columns at a
// time as |a|^2 + |b|^2 - 2 a.b, the products by BLAS through LibTorch (clamped at 0: rounding
// can make a tiny distance negative), scanned while the tile is in cache: a candidate enters a
// row's buffer only under its k-th distance so far, and a full buffer is cut back to its k
// nearest. Still O(n^2 d); 0.25 s for 10,000 rows of 50 on 2 cores (tests/bench/bench_tsne).
//
// Threads: any; no state. Runs `threads` threads of its own (0: one per core), each on its
// share of the rows; the cancel callback is asked on the caller's thread only.

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
