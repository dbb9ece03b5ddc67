#pragma once
// KMeans: k-means clustering of row vectors (frames, utterance embeddings) for local
// attributes, pseudo-labels, active learning's cold start and core-sets.
//
// - Seeding: greedy k-means++ (Arthur and Vassilvitskii, 2007; the greedy variant samples
//   2 + ln k candidates per centre and keeps the one that lowers the potential most, as
//   scikit-learn does), on a seeded random sample of the rows (initSample), so seeding never
//   needs every row at once.
// - Lloyd (batchRows = 0): every iteration streams the rows from the RowSource in chunks of
//   chunkRows, assigns each to its nearest centre and moves each centre to the mean of its
//   rows. Hamerly's bounds (2010) skip the rows that provably keep their centre (an upper
//   bound on the distance to it below a lower bound on the distance to any other, both
//   loosened by how far the centres moved); the rest are compared with every centre by one
//   matrix product. The result is Lloyd's, pass for pass (tested against plain passes); after
//   the first passes a few percent of the rows are compared. A centre left without rows moves
//   to the farthest row (by its bound) seen in that pass. It stops early when a pass leaves
//   every centre where it was (no row changed its centre), as scikit-learn's strict
//   convergence does. Memory: one chunk, the centres and their sums, and per row its centre
//   and two bounds (16 bytes) - never the whole matrix.
// - Mini-batch (batchRows > 0): each iteration draws batchRows rows and moves each centre
//   towards its rows' mean with a per-centre rate 1 / (rows it has seen) (Sculley, 2010).
// - The reported inertia (sum of squared distances to the nearest centre) is that of the
//   returned centres, from a last assignment pass over every row.
//
// Deterministic with the seed on the CPU (the same rows, chunking and threads give the same
// centres). On CUDA when options.device is: the rows are read on the CPU, chunk by chunk, and
// kept on the device when they fit options.deviceResidentBytes.
// No Torch in this header. Threads: one call at a time per source; the source is read from
// the calling thread.

#include "ModelStatus.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace emolens {

// Rows of a matrix, read in ranges (from memory, memory-mapped files or the feature cache).
class RowSource
{
public:
    virtual ~RowSource() = default;
    virtual std::int64_t rows() const = 0;
    virtual int dims() const = 0;
    // Copies rows [first, first + count) as float32, row-major, to out. False with a reason.
    virtual bool read(std::int64_t first, std::int64_t count, float *out,
                      std::string *error) const = 0;
    // Sources that hold the rows in memory already: rows [first, first + count) in place
    // (float32, row-major), valid while the source lives; null (the default): read() copies.
    virtual const float *view(std::int64_t /*first*/, std::int64_t /*count*/) const
    {
        return nullptr;
    }
};

// A RowSource over a float32 row-major buffer that outlives it.
class MatrixRows final : public RowSource
{
public:
    MatrixRows(const float *values, std::int64_t rows, int dims)
        : m_values(values), m_rows(rows), m_dims(dims)
    {
    }
    std::int64_t rows() const override { return m_rows; }
    int dims() const override { return m_dims; }
    bool read(std::int64_t first, std::int64_t count, float *out,
              std::string *error) const override;
    const float *view(std::int64_t first, std::int64_t count) const override
    {
        return first >= 0 && count >= 0 && first + count <= m_rows ? m_values + first * m_dims
                                                                   : nullptr;
    }

private:
    const float *m_values;
    std::int64_t m_rows;
    int m_dims;
};

struct KMeansOptions
{
    int clusters = 100;
    int iterations = 20;        // Lloyd passes, or mini-batch steps
    std::int64_t batchRows = 0; // 0: Lloyd over every row; > 0: mini-batches of this many
    std::int64_t chunkRows = 65536;
    std::int64_t initSample = 0; // rows k-means++ seeds from; 0: min(rows, max(20,000, 50 k))
    std::uint64_t seed = 1;
    std::string device = "cpu"; // cpu, cuda, cuda:N
    // On a GPU: rows that take at most this many bytes as float32 are copied to the device
    // once and every pass reads them there (else each pass streams them from the host).
    std::int64_t deviceResidentBytes = std::int64_t(4) << 30;
    int threads = 0; // CPU intra-op threads; 0: one per core
    // runKMeans: also keep each row's nearest returned centre (KMeansResult::labels), from the
    // pass over every row that measures the result - saves an assignToCentres pass.
    bool keepLabels = false;
};

struct KMeansResult
{
    int clusters = 0;
    int dims = 0;
    std::vector<float> centres;       // [clusters * dims]
    std::vector<std::int64_t> sizes;  // rows nearest each centre
    std::vector<std::int32_t> labels; // each row's nearest centre, with keepLabels
    double inertia = 0;               // of the returned centres, over every row
    std::vector<double> history;      // inertia seen during each iteration (Lloyd: before the
                                      // move; mini-batch: of its batch)
    int iterations = 0;               // run: fewer than asked when Lloyd converged (no row
                                      // changed its centre) or the callback stopped it
    double seedSeconds = 0;
    double iterateSeconds = 0;
};

// Returns false from the callback to stop after this iteration.
using KMeansCallback = std::function<bool(int iteration, double inertia)>;

ModelStatus runKMeans(const RowSource &rows, const KMeansOptions &options, KMeansResult *result,
                      const KMeansCallback &onIteration = {});

// Each row's nearest centre (and, when asked, its squared distance), streaming the rows.
ModelStatus assignToCentres(const RowSource &rows, const KMeansResult &centres,
                            const KMeansOptions &options, std::vector<std::int32_t> *labels,
                            std::vector<float> *squaredDistances, double *inertia);

} // namespace emolens
