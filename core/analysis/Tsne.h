#pragma once
// Tsne: our t-SNE (van der Maaten 2014, "Accelerating t-SNE using tree-based algorithms") for
// the analysis map - 2-D layouts of utterance embeddings in which near clips stay near.
//
// - Input similarities from the exact k nearest neighbours (k = 3 x perplexity, squared
//   Euclidean), each row's Gaussian bandwidth found by bisection so that its conditional
//   distribution has the perplexity asked for, then symmetrised: p_ij = (p_j|i + p_i|j) / 2n.
// - Gradient: the attractive part exactly over those neighbours, the repulsive part by
//   Barnes-Hut over a quadtree of the layout (a cell whose width over its distance is below
//   theta counts as one point at its centre of mass). Our variant of the walk, for speed:
//   points go in groups of at most 64 neighbours in the tree, each group walks the tree once,
//   judging a cell by its distance from the group's bounding box (so every point of the
//   group is approximated at least as finely as its own walk would), and the group's points
//   then sum that one list in vector lanes (Barnes 1990's grouping). The tree is rebuilt
//   each iteration from the points' Morton codes; its leaves hold up to 8 points, always
//   summed one by one. The points are renumbered inside once, in the order a breadth-first
//   walk of the neighbour graph meets them, so that neighbours sit near in memory. The
//   attraction is summed once per pair (P is symmetric), in fixed blocks of rows with a force
//   buffer each, added per row in block order.
// - Optimisation as the usual implementations do it: early exaggeration of P for the first
//   iterations with momentum 0.5, then momentum 0.8; per-coordinate gains (+0.2 when the
//   gradient changes sign, x0.8 when it does not, at least 0.01); the layout recentred at zero
//   each iteration; the start drawn from N(0, 1e-4^2) with the seed.
//
// Defaults (the usual ones, not a paper's): perplexity 30, 1,000 iterations of which 250
// exaggerated by 12, learning rate n / 12 (at least 50, as scikit-learn's floor), theta 0.5.
//
// Cost: O(n^2 d) for the neighbours (split over the cores, or a faster search the caller
// passes in TsneOptions::neighbours), then O(n log n) per iteration.
// Deterministic with the seed, whatever the thread count: each thread writes its own rows, and
// sums over rows are taken in row order.
//
// Threads: runTsne() on any thread; the callback is called on that thread.

#include "common/Status.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace emolens {

// Finds each row's k nearest other rows (squared Euclidean distances, ascending) into
// index[i * k + j] and distance[i * k + j]; a failure "cancelled" is a cancel.
using TsneNeighbourSearch =
    std::function<Status(const float *rows, int n, int dims, int k, std::vector<int> *index,
                         std::vector<float> *distance)>;

struct TsneOptions
{
    double perplexity = 30;
    int iterations = 1000;
    int exaggerationIterations = 250;
    double exaggeration = 12;
    double learningRate = 0; // 0: n / 12, at least 50
    double theta = 0.5;      // Barnes-Hut's accuracy (0: exact repulsion, slow)
    std::uint64_t seed = 1;
    int threads = 0;       // 0: one per core
    int publishEvery = 50; // iterations between calls of the callback
    // The neighbour search; empty: the built-in exact one (a plain loop over the rows, split
    // over the threads). TsneJob passes models/NearestNeighbours (BLAS), ~100x faster.
    TsneNeighbourSearch neighbours;
};

// Called every publishEvery iterations and after the last with the layout so far ([n x 2]);
// returning false stops the run.
using TsneCallback = std::function<bool(int iteration, const std::vector<float> &layout)>;

// The 2-D layout [n x 2] of rows [n x dims] (row-major). Fails, saying why, for too few rows
// for the perplexity (it needs more than 3 x perplexity + 1), bad settings, or values that are
// not finite. `cancelled` is polled every 64 rows of the neighbour search and every
// iteration; a run stopped by it or by the callback fails with "cancelled", the layout as far
// as it got (empty when stopped before the first iteration).
Status runTsne(const float *rows, int n, int dims, const TsneOptions &options,
               std::vector<float> *layout, const TsneCallback &onProgress = {},
               const std::function<bool()> &cancelled = {});

// Trustworthiness at k (Venna and Kaski; scikit-learn's sklearn.manifold.trustworthiness): 1
// minus the penalty for points among a point's k nearest in the layout that are not among its
// k nearest in the input, by how far down the input's ranking they are. 1: every layout
// neighbourhood is an input neighbourhood. O(n^2 log n); needs k < n / 2.
double trustworthiness(const float *input, int inputDims, const float *layout, int layoutDims,
                       int n, int k);

} // namespace emolens
