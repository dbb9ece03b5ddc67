// k-means on data with a known answer: well-separated Gaussian blobs are found (every true
// centre has a found centre beside it, every blob is one cluster), Lloyd's inertia never rises,
// the same seed gives the same centres, mini-batches come close to Lloyd, the rows are only
// ever read a chunk at a time, a centre left without rows is moved (no NaN), and bad settings
// are refused.

#include "KMeans.h"
#include "ModelTest.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>

using namespace emolens;

namespace {

struct Blobs
{
    int dims = 8;
    int blobs = 5;
    std::vector<float> truth;  // [blobs * dims]
    std::vector<float> values; // [rows * dims]
    std::vector<int> blobOf;   // per row
    std::int64_t rows() const { return std::int64_t(blobOf.size()); }
};

Blobs makeBlobs(int perBlob, unsigned seed)
{
    Blobs b;
    std::mt19937 random(seed);
    std::normal_distribution<float> normal;
    for (int k = 0; k < b.blobs; ++k)
        for (int d = 0; d < b.dims; ++d)
            b.truth.push_back(20.0f * float((k + d) % 3) + 10.0f * float(k));
    for (int r = 0; r < perBlob * b.blobs; ++r) {
        const int k = r % b.blobs;
        b.blobOf.push_back(k);
        for (int d = 0; d < b.dims; ++d)
            b.values.push_back(b.truth[std::size_t(k * b.dims + d)] + normal(random));
    }
    return b;
}

// A source that records the largest read, to show the rows are streamed.
class CountingRows final : public RowSource
{
public:
    explicit CountingRows(const MatrixRows &inner) : m_inner(inner) {}
    std::int64_t rows() const override { return m_inner.rows(); }
    int dims() const override { return m_inner.dims(); }
    bool read(std::int64_t first, std::int64_t count, float *out, std::string *error) const override
    {
        largest = std::max(largest, count);
        return m_inner.read(first, count, out, error);
    }
    mutable std::int64_t largest = 0;

private:
    const MatrixRows &m_inner;
};

} // namespace

MODEL_TEST(kmeans_finds_separated_blobs)
{
    const Blobs b = makeBlobs(200, 3);
    const MatrixRows rows(b.values.data(), b.rows(), b.dims);
    KMeansOptions o;
    o.clusters = 5;
    o.iterations = 10;
    o.chunkRows = 128;
    KMeansResult result;
    REQUIRE_OK(runKMeans(rows, o, &result));
    VERIFY(result.centres.size() == 5u * 8u);
    for (int k = 0; k < b.blobs; ++k) {
        double nearest = 1e30;
        for (int c = 0; c < 5; ++c) {
            double d2 = 0;
            for (int d = 0; d < b.dims; ++d) {
                const double diff =
                    result.centres[std::size_t(c * 8 + d)] - b.truth[std::size_t(k * b.dims + d)];
                d2 += diff * diff;
            }
            nearest = std::min(nearest, d2);
        }
        VERIFY_MSG(std::sqrt(nearest) < 0.5, std::sqrt(nearest)); // noise 1 per dim, 200 rows
    }
    std::vector<std::int32_t> labels;
    double inertia = 0;
    REQUIRE_OK(assignToCentres(rows, result, o, &labels, nullptr, &inertia));
    VERIFY(std::abs(inertia - result.inertia) < 1e-6 * result.inertia);
    for (int k = 0; k < b.blobs; ++k) {
        std::set<int> clustersOfBlob;
        for (std::int64_t r = 0; r < b.rows(); ++r)
            if (b.blobOf[std::size_t(r)] == k)
                clustersOfBlob.insert(labels[std::size_t(r)]);
        VERIFY(clustersOfBlob.size() == 1);
    }
    for (std::int64_t size : result.sizes)
        VERIFY(size == 200);
    VERIFY(result.labels.empty()); // not asked for
    // keepLabels: the same labels from the run's own last pass, with nothing else changed.
    KMeansOptions keep = o;
    keep.keepLabels = true;
    KMeansResult kept;
    REQUIRE_OK(runKMeans(rows, keep, &kept));
    VERIFY(kept.labels == labels);
    VERIFY(kept.centres == result.centres && kept.inertia == result.inertia);
    // About dims x rows for unit noise: the sum of squared distances to the blob means.
    VERIFY_MSG(std::abs(result.inertia / double(b.rows() * b.dims) - 1) < 0.1, result.inertia);
}

MODEL_TEST(kmeans_lloyd_never_raises_inertia_and_is_deterministic)
{
    // Overlapping blobs and more clusters than blobs: many moves before it settles.
    Blobs b = makeBlobs(300, 5);
    for (float &v : b.values)
        v *= 0.05f;
    const MatrixRows rows(b.values.data(), b.rows(), b.dims);
    KMeansOptions o;
    o.clusters = 12;
    o.iterations = 15;
    o.chunkRows = 100;
    o.seed = 9;
    KMeansResult first, second;
    REQUIRE_OK(runKMeans(rows, o, &first));
    REQUIRE_OK(runKMeans(rows, o, &second));
    VERIFY(first.centres == second.centres);
    VERIFY(first.inertia == second.inertia);
    for (std::size_t i = 1; i < first.history.size(); ++i)
        VERIFY_MSG(first.history[i] <= first.history[i - 1] * (1 + 1e-9), i);
    VERIFY(first.inertia <= first.history.back() * (1 + 1e-9));
    o.seed = 10;
    KMeansResult other;
    REQUIRE_OK(runKMeans(rows, o, &other));
    VERIFY(other.centres != first.centres);
}

MODEL_TEST(kmeans_bounded_passes_equal_plain_lloyd_steps)
{
    // The passes skip rows whose bounds prove they keep their centre. Each pass must still be
    // exactly one Lloyd step: the centres after I + 1 passes are the means of the rows nearest
    // each of the centres after I passes (found here by comparing every row with every centre
    // in double precision), and pass I + 1's inertia is theirs. Overlapping blobs, so rows keep
    // moving. A row whose two nearest centres are within float32's precision of the distance
    // formula (|x|^2 + |c|^2 - 2 x.c, as scikit-learn computes it too) may go to either: the
    // centres such a row could join are not compared in that pass.
    Blobs b = makeBlobs(300, 21);
    for (float &v : b.values)
        v *= 0.05f;
    const MatrixRows rows(b.values.data(), b.rows(), b.dims);
    KMeansOptions o;
    o.clusters = 12;
    o.chunkRows = 70;
    o.seed = 4;
    const int dims = b.dims;
    int compared = 0;
    for (int passes = 1; passes <= 8; ++passes) {
        o.iterations = passes;
        KMeansResult before, after;
        REQUIRE_OK(runKMeans(rows, o, &before));
        o.iterations = passes + 1;
        REQUIRE_OK(runKMeans(rows, o, &after));
        if (after.iterations <= before.iterations)
            break; // converged: nothing moves any more
        std::vector<double> sums(std::size_t(o.clusters * dims), 0.0);
        std::vector<double> counts(std::size_t(o.clusters), 0.0);
        std::vector<bool> tied(std::size_t(o.clusters), false);
        double inertia = 0;
        for (std::int64_t r = 0; r < b.rows(); ++r) {
            const float *x = b.values.data() + r * dims;
            int nearest = 0, next = 0;
            double best = std::numeric_limits<double>::infinity(), second = best;
            for (int c = 0; c < o.clusters; ++c) {
                double d = 0;
                for (int j = 0; j < dims; ++j) {
                    const double diff = double(x[j]) - before.centres[std::size_t(c * dims + j)];
                    d += diff * diff;
                }
                if (d < best) {
                    second = best;
                    next = nearest;
                    best = d;
                    nearest = c;
                } else if (d < second) {
                    second = d;
                    next = c;
                }
            }
            if (second - best < 1e-3 * best)
                tied[std::size_t(nearest)] = tied[std::size_t(next)] = true;
            inertia += best;
            counts[std::size_t(nearest)] += 1;
            for (int j = 0; j < dims; ++j)
                sums[std::size_t(nearest * dims + j)] += x[j];
        }
        VERIFY_MSG(std::abs(after.history.back() - inertia) <= 1e-5 * inertia,
                   passes << ": " << after.history.back() << " vs " << inertia);
        for (int c = 0; c < o.clusters; ++c) {
            if (counts[std::size_t(c)] == 0 || tied[std::size_t(c)])
                continue; // an empty centre takes a far row instead
            ++compared;
            for (int j = 0; j < dims; ++j) {
                const double mean = sums[std::size_t(c * dims + j)] / counts[std::size_t(c)];
                VERIFY_MSG(std::abs(after.centres[std::size_t(c * dims + j)] - mean) < 1e-5,
                           passes << ", centre " << c);
            }
        }
    }
    VERIFY_MSG(compared >= 40, compared); // most centres of most passes were compared
}

MODEL_TEST(kmeans_streams_rows_a_chunk_at_a_time)
{
    const Blobs b = makeBlobs(400, 11);
    const MatrixRows matrix(b.values.data(), b.rows(), b.dims);
    const CountingRows rows(matrix);
    KMeansOptions o;
    o.clusters = 5;
    o.iterations = 5;
    o.chunkRows = 64;
    o.initSample = 300; // seeding reads a sample, in runs of consecutive rows
    KMeansResult result;
    REQUIRE_OK(runKMeans(rows, o, &result));
    VERIFY_MSG(rows.largest <= 300, rows.largest);
    VERIFY(rows.largest < b.rows());
}

MODEL_TEST(kmeans_mini_batches_come_close_to_lloyd)
{
    const Blobs b = makeBlobs(400, 13);
    const MatrixRows rows(b.values.data(), b.rows(), b.dims);
    KMeansOptions o;
    o.clusters = 5;
    o.iterations = 10;
    KMeansResult lloyd, mini;
    REQUIRE_OK(runKMeans(rows, o, &lloyd));
    o.batchRows = 256;
    o.iterations = 40;
    REQUIRE_OK(runKMeans(rows, o, &mini));
    VERIFY_MSG(mini.inertia <= lloyd.inertia * 1.05, mini.inertia / lloyd.inertia);
}

MODEL_TEST(kmeans_moves_a_centre_left_without_rows)
{
    // Six distinct points, each repeated, and eight clusters: some centre must go without
    // rows at some pass; every centre stays finite and the six points end at zero inertia.
    std::vector<float> values;
    for (int r = 0; r < 60; ++r)
        for (int d = 0; d < 3; ++d)
            values.push_back(float((r % 6) * 10 + d));
    const MatrixRows rows(values.data(), 60, 3);
    KMeansOptions o;
    o.clusters = 8;
    o.iterations = 6;
    KMeansResult result;
    REQUIRE_OK(runKMeans(rows, o, &result));
    for (float v : result.centres)
        VERIFY(std::isfinite(v));
    // Zero up to float32 rounding: far below the rows' own squared norms.
    double norms = 0;
    for (float v : values)
        norms += double(v) * v;
    VERIFY_MSG(result.inertia < 1e-8 * norms, result.inertia / norms);
}

MODEL_TEST(kmeans_refuses_bad_settings)
{
    std::vector<float> values(10 * 4, 1.0f);
    const MatrixRows rows(values.data(), 10, 4);
    KMeansOptions o;
    o.clusters = 11;
    KMeansResult result;
    const ModelStatus st = runKMeans(rows, o, &result);
    VERIFY(!st.ok());
    VERIFY_MSG(st.error().find("at least as many rows (10) as clusters (11)") != std::string::npos,
               st.error());
    KMeansResult wrong;
    wrong.clusters = 2;
    wrong.dims = 5;
    wrong.centres.assign(10, 0.0f);
    std::vector<std::int32_t> labels;
    VERIFY(!assignToCentres(rows, wrong, o, &labels, nullptr, nullptr).ok());
}
