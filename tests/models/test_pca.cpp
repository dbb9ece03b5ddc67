// PCA on rows whose answer is known: points spread 10 along one direction and 3 along
// another (a rotation of the axes) with little noise elsewhere; the components come back as
// those directions, largest first, with their variances, a fixed sign, and the rows projected;
// bad settings are refused.

#include "ModelTest.h"
#include "Pca.h"

#include <cmath>
#include <random>

using namespace emolens;

MODEL_TEST(pca_finds_the_directions_of_largest_variance)
{
    const int dims = 5;
    const std::int64_t n = 4000;
    // Two orthonormal directions, not on the axes.
    const double u[dims] = {0.6, 0.8, 0, 0, 0};
    const double v[dims] = {0, 0, 0.6, 0, -0.8};
    std::mt19937_64 random(3);
    std::normal_distribution<double> normal;
    std::vector<float> rows;
    for (std::int64_t i = 0; i < n; ++i) {
        const double a = 10 * normal(random), b = 3 * normal(random);
        for (int d = 0; d < dims; ++d)
            rows.push_back(float(5.0 + a * u[d] + b * v[d] + 0.01 * normal(random)));
    }
    PcaResult pca;
    std::vector<float> projected;
    REQUIRE_OK(principalComponents(rows.data(), n, dims, 2, &pca, &projected));
    VERIFY(pca.components == 2 && pca.dims == dims);
    double dotU = 0, dotV = 0;
    for (int d = 0; d < dims; ++d) {
        dotU += pca.axes[std::size_t(d)] * u[d];
        dotV += pca.axes[std::size_t(dims + d)] * v[d];
    }
    // The sign rule: the largest coefficient positive (0.8 of u, -0.8 of v: so -v).
    VERIFY_MSG(dotU > 0.9999, dotU);
    VERIFY_MSG(dotV < -0.9999, dotV);
    VERIFY_MSG(std::abs(pca.variances[0] / 100.0 - 1) < 0.06, pca.variances[0]);
    VERIFY_MSG(std::abs(pca.variances[1] / 9.0 - 1) < 0.06, pca.variances[1]);
    VERIFY(pca.totalVariance >= pca.variances[0] + pca.variances[1]);
    VERIFY(std::abs(pca.mean[0] - 5.0f) < 0.5f);
    // Each row's projection is its centred row dotted with each axis.
    for (std::int64_t i : {std::int64_t(0), std::int64_t(1234), n - 1})
        for (int c = 0; c < 2; ++c) {
            double dot = 0;
            for (int d = 0; d < dims; ++d)
                dot += (rows[std::size_t(i * dims + d)] - pca.mean[std::size_t(d)]) *
                       pca.axes[std::size_t(c * dims + d)];
            VERIFY_MSG(std::abs(projected[std::size_t(i * 2 + c)] - dot) < 1e-3,
                       projected[std::size_t(i * 2 + c)] << " vs " << dot);
        }
}

MODEL_TEST(pca_refuses_bad_settings)
{
    const std::vector<float> rows{1, 2, 3, 4};
    PcaResult pca;
    VERIFY(!principalComponents(rows.data(), 1, 4, 1, &pca));
    VERIFY(!principalComponents(rows.data(), 2, 2, 3, &pca));
    VERIFY(!principalComponents(rows.data(), 2, 2, 0, &pca));
    VERIFY(principalComponents(rows.data(), 2, 2, 2, &pca));
}
