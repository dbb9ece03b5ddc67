#pragma once
// Pca: principal component analysis of rows in memory - the t-SNE map's first step (50
// components of 768-dimensional utterance embeddings), and any caller that wants the directions
// of largest variance.
//
// The covariance (d x d, accumulated in float64 from chunks of rows) is diagonalised with
// LibTorch's symmetric eigensolver; the rows, centred, are projected on the eigenvectors of the
// largest eigenvalues. Each component's sign is fixed so that its largest coefficient is
// positive, so the result does not depend on the solver's choice of sign.
//
// Threads: any; no state. Uses LibTorch's intra-op threads as set by the caller.

#include "ModelStatus.h"

#include <cstdint>
#include <vector>

namespace emolens {

struct PcaResult
{
    int components = 0;
    int dims = 0;
    std::vector<float> mean;       // [dims]
    std::vector<float> axes;       // [components x dims], unit length, largest variance first
    std::vector<double> variances; // per component
    double totalVariance = 0;      // of every dimension
};

// The first `components` principal components of rows [n x dims] (row-major), and the rows
// projected on them ([n x components]) when `projected` is not null. Fails for fewer than two
// rows, components out of 1..dims, or a solver error.
ModelStatus principalComponents(const float *rows, std::int64_t n, int dims, int components,
                                PcaResult *result, std::vector<float> *projected = nullptr);

} // namespace emolens
