// The BLAS nearest neighbours against a plain loop: the same neighbours in the same order
// (where distances are not tied) and the same distances, a row never its own neighbour,
// duplicated rows at distance 0, blocks that do not divide the rows, and refusals.

#include "ModelTest.h"
#include "NearestNeighbours.h"

#include <algorithm>
#include <cmath>
#include <random>

using namespace emolens;

MODEL_TEST(neighbours_equal_a_plain_search)
{
    const int n = 700, dims = 13, k = 9;
    std::mt19937_64 random(5);
    std::normal_distribution<float> normal;
    std::vector<float> rows(std::size_t(n) * dims);
    for (float &v : rows)
        v = 4 * normal(random);
    // Row 7 repeats row 3.
    std::copy_n(rows.begin() + 3 * dims, dims, rows.begin() + 7 * dims);
    std::vector<int> index;
    std::vector<float> distance;
    REQUIRE_OK(exactNearestNeighbours(rows.data(), n, dims, k, &index, &distance, {}, 2));
    REQUIRE(index.size() == std::size_t(n) * k && distance.size() == index.size());
    for (int i = 0; i < n; ++i) {
        std::vector<std::pair<double, int>> all;
        for (int j = 0; j < n; ++j) {
            if (j == i)
                continue;
            double d = 0;
            for (int c = 0; c < dims; ++c) {
                const double e =
                    double(rows[std::size_t(i) * dims + c]) - rows[std::size_t(j) * dims + c];
                d += e * e;
            }
            all.push_back({d, j});
        }
        std::sort(all.begin(), all.end());
        for (int j = 0; j < k; ++j) {
            const int got = index[std::size_t(i) * k + std::size_t(j)];
            const float d = distance[std::size_t(i) * k + std::size_t(j)];
            VERIFY(got != i);
            VERIFY_MSG(std::abs(d - all[std::size_t(j)].first) <=
                           1e-3 * (1 + all[std::size_t(j)].first),
                       i << ": " << d << " vs " << all[std::size_t(j)].first);
            const bool tied =
                (j > 0 && all[std::size_t(j)].first - all[std::size_t(j) - 1].first < 1e-3) ||
                (all[std::size_t(j) + 1].first - all[std::size_t(j)].first < 1e-3);
            if (!tied)
                VERIFY_MSG(got == all[std::size_t(j)].second, "row " << i << " neighbour " << j
                                                                     << ": " << got << " vs "
                                                                     << all[std::size_t(j)].second);
        }
    }
    VERIFY(index[3 * k] == 7 && distance[3 * k] == 0.f);
    VERIFY(index[7 * k] == 3 && distance[7 * k] == 0.f);
}

MODEL_TEST(neighbours_refuse_bad_settings_and_stop_when_cancelled)
{
    const std::vector<float> rows{0, 1, 2, 3, 4, 5};
    std::vector<int> index;
    std::vector<float> distance;
    VERIFY(!exactNearestNeighbours(rows.data(), 3, 2, 3, &index, &distance));
    VERIFY(!exactNearestNeighbours(rows.data(), 3, 2, 0, &index, &distance));
    VERIFY(index.empty());
    const ModelStatus st =
        exactNearestNeighbours(rows.data(), 3, 2, 2, &index, &distance, [] { return true; });
    VERIFY(!st && st.error() == "cancelled");
    REQUIRE_OK(exactNearestNeighbours(rows.data(), 3, 2, 2, &index, &distance));
    VERIFY(index[0] == 1 && index[1] == 2 && distance[0] == 8.f && distance[1] == 32.f);
}
