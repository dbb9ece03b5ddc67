#include "KMeans.h"

#include "OutOfMemory.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <thread>

namespace emolens {

bool MatrixRows::read(std::int64_t first, std::int64_t count, float *out, std::string *error) const
{
    if (first < 0 || count < 0 || first + count > m_rows) {
        *error = "rows " + std::to_string(first) + "+" + std::to_string(count) +
                 " are outside the matrix of " + std::to_string(m_rows);
        return false;
    }
    std::memcpy(out, m_values + first * m_dims, std::size_t(count) * std::size_t(m_dims) * 4);
    return true;
}

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// |x|^2 per row, without a temporary the size of x.
torch::Tensor rowNorms(const torch::Tensor &x)
{
    return x.norm(2, {1}).square_();
}

// Squared distances [rows, clusters] from x [rows, dims] to c [clusters, dims], by one matrix
// product; xNorms, cNorms: |x|^2 per row and |c|^2 per centre.
torch::Tensor squaredDistances(const torch::Tensor &x, const torch::Tensor &xNorms,
                               const torch::Tensor &c, const torch::Tensor &cNorms)
{
    return torch::addmm(xNorms.unsqueeze(1) + cNorms.unsqueeze(0), x, c.t(), 1.0, -2.0)
        .clamp_min_(0);
}

class Reader
{
public:
    // residentBytes: on a GPU, rows that take at most this much are copied there once and
    // read from there by every pass; 0: never.
    Reader(const RowSource &rows, torch::Device device, std::int64_t residentBytes)
        : m_rows(rows), m_device(device),
          m_tryResident(!device.is_cpu() && residentBytes > 0 &&
                        rows.rows() * std::int64_t(rows.dims()) * 4 <= residentBytes)
    {
    }

    // Rows [first, first + count) on the device; undefined with *error set on failure.
    torch::Tensor range(std::int64_t first, std::int64_t count, std::string *error)
    {
        if (const auto &all = resident(error); all.defined())
            return all.narrow(0, first, count);
        if (!error->empty())
            return torch::Tensor();
        return readRange(first, count, error);
    }

    // The rows `which` (any order), read in runs of consecutive indexes.
    torch::Tensor gather(const std::vector<std::int64_t> &which, std::string *error)
    {
        if (const auto &all = resident(error); all.defined())
            return all.index_select(
                0, torch::tensor(which, torch::kLong).to(m_device, /*non_blocking=*/false));
        if (!error->empty())
            return torch::Tensor();
        std::vector<std::int64_t> order(which.size());
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(),
                  [&which](std::int64_t a, std::int64_t b) { return which[a] < which[b]; });
        const int dims = m_rows.dims();
        auto host = torch::empty({std::int64_t(which.size()), dims}, torch::kFloat);
        float *out = host.data_ptr<float>();
        std::vector<float> run;
        std::size_t k = 0;
        while (k < order.size()) {
            std::size_t end = k + 1;
            while (end < order.size() && which[order[end]] == which[order[end - 1]] + 1)
                ++end;
            const std::int64_t count = std::int64_t(end - k);
            run.resize(std::size_t(count) * dims);
            if (!m_rows.read(which[order[k]], count, run.data(), error))
                return torch::Tensor();
            for (std::int64_t r = 0; r < count; ++r)
                std::memcpy(out + order[k + std::size_t(r)] * dims,
                            run.data() + std::size_t(r) * dims, std::size_t(dims) * 4);
            k = end;
        }
        return m_device.is_cpu() ? host : host.to(m_device);
    }

private:
    torch::Tensor readRange(std::int64_t first, std::int64_t count, std::string *error)
    {
        if (const float *inPlace = m_rows.view(first, count)) {
            const auto rows = torch::from_blob(const_cast<float *>(inPlace), {count, m_rows.dims()},
                                               torch::kFloat);
            return m_device.is_cpu() ? rows : rows.to(m_device);
        }
        auto host = torch::empty({count, m_rows.dims()}, torch::kFloat);
        if (!m_rows.read(first, count, host.data_ptr<float>(), error))
            return torch::Tensor();
        return m_device.is_cpu() ? host : host.to(m_device);
    }

    // Every row on the device, read once on first use; undefined when they are not to be kept
    // there, or do not fit (then each pass reads them again), or on a read error (*error set).
    const torch::Tensor &resident(std::string *error)
    {
        if (!m_tryResident)
            return m_all;
        m_tryResident = false;
        const std::int64_t n = m_rows.rows(), step = 65536;
        try {
            m_all = torch::empty({n, m_rows.dims()}, torch::TensorOptions().device(m_device));
            for (std::int64_t first = 0; first < n; first += step) {
                const auto part = readRange(first, std::min(step, n - first), error);
                if (!part.defined()) {
                    m_all = torch::Tensor();
                    return m_all;
                }
                m_all.narrow(0, first, part.size(0)).copy_(part);
            }
        } catch (const c10::OutOfMemoryError &) {
            m_all = torch::Tensor(); // streamed from the host instead
        }
        return m_all;
    }

    const RowSource &m_rows;
    torch::Device m_device;
    bool m_tryResident;
    torch::Tensor m_all;
};

void useThreads(int threads)
{
    const int wanted =
        threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
    if (at::get_num_threads() != wanted)
        at::set_num_threads(wanted);
}

// Greedy k-means++ on the sample x [n, dims]: centres [k, dims].
torch::Tensor seedCentres(const torch::Tensor &x, int k, std::mt19937_64 &random)
{
    const std::int64_t n = x.size(0);
    const int trials = 2 + int(std::log(double(k)));
    const auto norms = rowNorms(x);
    auto centres = torch::empty({k, x.size(1)}, x.options());
    std::uniform_int_distribution<std::int64_t> anyRow(0, n - 1);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const std::int64_t first = anyRow(random);
    centres[0].copy_(x[first]);
    auto closest =
        squaredDistances(x, norms, x.slice(0, first, first + 1), norms.slice(0, first, first + 1))
            .squeeze(1)
            .to(torch::kDouble);
    for (int c = 1; c < k; ++c) {
        const auto cumulative = closest.cumsum(0).cpu();
        const double total = cumulative[n - 1].item<double>();
        // Rows drawn with probability proportional to their squared distance, all the trials'
        // in one search (one call each cost more than the distances at k = 500).
        std::vector<double> targets(std::size_t(trials), 0.0);
        for (double &target : targets)
            target = unit(random) * total;
        const auto at =
            torch::searchsorted(cumulative, torch::tensor(targets, torch::kDouble)).contiguous();
        const std::int64_t *found = at.data_ptr<std::int64_t>();
        std::vector<std::int64_t> candidates;
        for (int t = 0; t < trials; ++t)
            candidates.push_back(std::min<std::int64_t>(found[t], n - 1));
        const auto index = torch::tensor(candidates, torch::kLong).to(x.device());
        const auto candidateRows = x.index_select(0, index);
        const auto distances =
            squaredDistances(x, norms, candidateRows, norms.index_select(0, index))
                .to(torch::kDouble);
        const auto lowered = torch::minimum(distances, closest.unsqueeze(1)); // [n, trials]
        const auto potential = lowered.sum(0);
        const std::int64_t best = potential.argmin().item<std::int64_t>();
        centres[c].copy_(candidateRows[best]);
        closest = lowered.select(1, best).contiguous();
    }
    return centres;
}

struct Pass
{
    torch::Tensor sums;   // [k, dims], double
    torch::Tensor counts; // [k], double
    double inertia = 0;
    // The rows farthest from their centres, for centres left without rows.
    torch::Tensor farRows;     // [<= k, dims]
    torch::Tensor farDistance; // [<= k]
};

// Assigns the chunk x to the centres and adds it to the pass. The nearest centre minimises
// |c|^2 - 2 x.c (one matrix product); |x|^2 is added only to the minimum.
void accumulate(const torch::Tensor &x, const torch::Tensor &centres, const torch::Tensor &cNorms,
                Pass *pass, torch::Tensor *labels = nullptr, torch::Tensor *minimum = nullptr)
{
    const auto scores = torch::addmm(cNorms.unsqueeze(0), x, centres.t(), 1.0, -2.0);
    const auto [best, argmin] = scores.min(1);
    const auto nearest = (best + rowNorms(x)).clamp_min_(0);
    if (labels)
        *labels = argmin;
    if (minimum)
        *minimum = nearest;
    if (!pass)
        return;
    const std::int64_t k = centres.size(0);
    pass->inertia += nearest.to(torch::kDouble).sum().item<double>();
    // The chunk's per-centre sums in float32 (a chunk is small), then added to the pass's
    // float64 sums.
    auto chunkSums = torch::zeros({k, x.size(1)}, x.options());
    chunkSums.index_add_(0, argmin, x);
    pass->sums += chunkSums.to(torch::kDouble);
    pass->counts += torch::bincount(argmin, {}, k).to(torch::kDouble);
    const std::int64_t keep = std::min<std::int64_t>(k, x.size(0));
    const auto [far, where] = nearest.topk(keep);
    auto rows = x.index_select(0, where);
    if (pass->farRows.defined()) {
        rows = torch::cat({pass->farRows, rows});
        const auto all = torch::cat({pass->farDistance, far});
        const auto [top, at] = all.topk(std::min<std::int64_t>(k, all.size(0)));
        pass->farRows = rows.index_select(0, at);
        pass->farDistance = top;
    } else {
        pass->farRows = rows;
        pass->farDistance = far;
    }
}

// Lloyd's passes with Hamerly's bounds (Hamerly, 2010): the same assignments as plain Lloyd,
// without computing every distance. Per row it keeps its centre, an upper bound on the
// distance to it and a lower bound on the distance to every other centre; after the centres
// move, the bounds loosen by how far they moved. A row whose upper bound is below both its
// lower bound and half the distance from its centre to the nearest other centre cannot have
// changed centre, and is skipped; the others get their exact distance to their centre, and
// only those still in doubt are compared with every centre (one matrix product on those rows).
// The per-centre sums and counts follow the rows that change centre, so a pass costs what its
// doubtful rows cost, and the pass's inertia comes from the sums in closed form.
class BoundedLloyd
{
public:
    BoundedLloyd(std::int64_t rows, int clusters, int dims, torch::Device device)
    {
        const auto on = torch::TensorOptions().device(device);
        m_assign = torch::full({rows}, -1, on.dtype(torch::kLong));
        m_upper = torch::full({rows}, std::numeric_limits<float>::infinity(), on);
        m_lower = torch::zeros({rows}, on);
        m_half = torch::zeros({clusters}, on);
        m_sums = torch::zeros({clusters, dims}, on.dtype(torch::kDouble));
        m_counts = torch::zeros({clusters}, on.dtype(torch::kDouble));
    }

    // One pass over the rows [first, first + x.size(0)) for `centres`. Temporaries stay
    // small (a row block at most), since large ones cost a page fault per page here.
    void visit(std::int64_t first, const torch::Tensor &x, const torch::Tensor &centres,
               const torch::Tensor &cNorms)
    {
        const std::int64_t m = x.size(0);
        auto assign = m_assign.narrow(0, first, m);
        auto upper = m_upper.narrow(0, first, m);
        auto lower = m_lower.narrow(0, first, m);
        if (!m_started)
            m_squaredNorms += rowNorms(x).to(torch::kDouble).sum().item<double>();
        torch::Tensor doubtful; // undefined: every row
        if (m_started) {
            const auto bound = torch::maximum(lower, m_half.index_select(0, assign));
            doubtful = (upper > bound).nonzero().flatten();
            if (doubtful.numel() == m)
                doubtful = torch::Tensor();
        }
        m_far.add(x, upper, centres.size(0));
        if (doubtful.defined() && doubtful.numel() == 0)
            return;
        // The rows in doubt against every centre: one matrix product.
        const auto rows = doubtful.defined() ? x.index_select(0, doubtful) : x;
        const auto scores = torch::addmm(cNorms.unsqueeze(0), rows, centres.t(), 1.0, -2.0);
        const int64_t k = centres.size(0);
        const auto [best, which] = scores.topk(std::min<int64_t>(2, k), 1, /*largest=*/false);
        const auto norms = rowNorms(rows);
        const auto nearest = which.select(1, 0).contiguous();
        const auto previous =
            doubtful.defined() ? assign.index_select(0, doubtful) : assign.clone();
        const auto near = (best.select(1, 0) + norms).clamp_min_(0).sqrt_();
        const auto far = k > 1 ? (best.select(1, 1) + norms).clamp_min_(0).sqrt_()
                               : torch::full_like(norms, std::numeric_limits<float>::infinity());
        if (doubtful.defined()) {
            upper.index_copy_(0, doubtful, near);
            lower.index_copy_(0, doubtful, far);
            assign.index_copy_(0, doubtful, nearest);
        } else {
            upper.copy_(near);
            lower.copy_(far);
            assign.copy_(nearest);
        }
        const auto changed = (nearest != previous).nonzero().flatten();
        if (changed.numel() == 0)
            return;
        m_changed += changed.numel();
        // Each changed row's offset from the centre it joins (and, negated, from the one it
        // leaves) in float32, which is small next to the row itself; plus that centre times
        // the rows' count in float64: the sums keep the precision the pass's inertia needs
        // (it comes from them in closed form). In blocks of rows, for small temporaries.
        auto delta = torch::zeros({k, x.size(1)}, x.options());
        auto counted = torch::zeros({k}, nearest.options());
        constexpr int64_t kBlock = 4096;
        for (int64_t b = 0; b < changed.numel(); b += kBlock) {
            const auto index = changed.slice(0, b, std::min(changed.numel(), b + kBlock));
            const auto block = rows.index_select(0, index);
            const auto to = nearest.index_select(0, index);
            delta.index_add_(0, to, block - centres.index_select(0, to));
            counted += torch::bincount(to, {}, k);
            const auto from = previous.index_select(0, index);
            const auto had = (from >= 0).nonzero().flatten();
            if (had.numel() > 0) {
                const auto left = from.index_select(0, had);
                delta.index_add_(0, left,
                                 block.index_select(0, had) - centres.index_select(0, left), -1.0);
                counted -= torch::bincount(left, {}, k);
            }
        }
        const auto net = counted.to(torch::kDouble);
        m_sums += delta.to(torch::kDouble) + net.unsqueeze(1) * centres.to(torch::kDouble);
        m_counts += net;
    }

    // After a pass: its inertia for the centres it used (sum |x|^2 - 2 c.S + n |c|^2 per
    // centre), and the centres it moves to; then the bounds follow that move.
    double inertia(const torch::Tensor &centres) const
    {
        const auto c = centres.to(torch::kDouble);
        return m_squaredNorms - 2.0 * (c * m_sums).sum().item<double>() +
               (m_counts * (c * c).sum(1)).sum().item<double>();
    }
    torch::Tensor moved() const
    {
        auto out = (m_sums / m_counts.clamp_min(1).unsqueeze(1)).to(torch::kFloat);
        // Centres left without rows take the farthest rows of the pass, in turn.
        const auto empty = (m_counts <= 0.5).nonzero().flatten().cpu();
        const auto far = m_far.rows();
        for (std::int64_t e = 0; e < empty.size(0) && far.defined() && e < far.size(0); ++e)
            out[empty[e].item<std::int64_t>()].copy_(far[e]);
        return out;
    }
    void moveTo(const torch::Tensor &from, const torch::Tensor &to)
    {
        const auto shift = (to - from).pow(2).sum(1).sqrt_();
        m_upper += shift.index_select(0, m_assign.clamp_min(0));
        m_lower -= shift.max();
        const auto between = torch::cdist(to.unsqueeze(0), to.unsqueeze(0)).squeeze(0);
        const int64_t k = to.size(0);
        m_half = k > 1 ? 0.5 * (between +
                                torch::diag(torch::full({k}, std::numeric_limits<float>::infinity(),
                                                        between.options())))
                                   .amin(1)
                       : torch::zeros({k}, between.options());
        m_started = true;
        m_changed = 0;
        m_far = Farthest();
    }
    std::int64_t changed() const { return m_changed; }

private:
    // The rows with the largest upper bounds seen in a pass (at most k), for empty centres.
    struct Farthest
    {
        torch::Tensor values, distances;
        void add(const torch::Tensor &x, const torch::Tensor &distance, int64_t k)
        {
            const int64_t keep = std::min<int64_t>(k, x.size(0));
            const auto [top, at] = distance.topk(keep);
            auto rows = x.index_select(0, at);
            auto d = top;
            if (values.defined()) {
                rows = torch::cat({values, rows});
                d = torch::cat({distances, d});
                const auto [best, where] = d.topk(std::min<int64_t>(k, d.size(0)));
                rows = rows.index_select(0, where);
                d = best;
            }
            values = rows.clone();
            distances = d;
        }
        torch::Tensor rows() const { return values; }
    };

    torch::Tensor m_assign, m_upper, m_lower, m_half, m_sums, m_counts;
    Farthest m_far;
    double m_squaredNorms = 0;
    std::int64_t m_changed = 0;
    bool m_started = false;
};

// Rows per chunk: the setting, but few enough that a chunk's distance block (rows x clusters
// floats) and its rows when a source copies them (rows x dims) stay within 4 Mi floats (16 MB).
// glibc gives larger blocks fresh mappings each time (above its 32 MB threshold) and frees
// them at once, and their first-touch page faults cost more than the product itself: 65,536
// rows x 1,000 centres (262 MB a chunk) spent 2.0 s of core-set's 3.2 s in them on this 2-core
// machine, and 65,536 copied rows x 768 dims 1.2 s of the cold start's 2.0 s.
std::int64_t chunkRowsFor(const KMeansOptions &o, const RowSource &rows, std::int64_t clusters)
{
    const std::int64_t widest = std::max<std::int64_t>(
        {std::int64_t(1), clusters, rows.view(0, 1) ? std::int64_t(1) : std::int64_t(rows.dims())});
    const std::int64_t fits = (std::int64_t(4) << 20) / widest;
    return std::max<std::int64_t>(1, std::min(o.chunkRows, std::max<std::int64_t>(1024, fits)));
}

} // namespace

ModelStatus runKMeans(const RowSource &rows, const KMeansOptions &o, KMeansResult *result,
                      const KMeansCallback &onIteration)
{
    *result = KMeansResult();
    const std::int64_t n = rows.rows();
    const int dims = rows.dims();
    if (o.clusters < 1 || n < o.clusters)
        return ModelStatus::failure("k-means needs at least as many rows (" + std::to_string(n) +
                                    ") as clusters (" + std::to_string(o.clusters) + ")");
    if (dims < 1 || o.iterations < 0 || o.chunkRows < 1)
        return ModelStatus::failure("k-means: bad settings (dims, iterations or chunk rows)");
    try {
        torch::NoGradGuard noGrad;
        useThreads(o.threads);
        const torch::Device device(o.device);
        Reader reader(rows, device, o.deviceResidentBytes);
        std::mt19937_64 random(o.seed);
        std::string error;

        // Seeding, on a random sample of the rows.
        auto start = Clock::now();
        const std::int64_t sampleSize = std::min<std::int64_t>(
            n, o.initSample > 0 ? o.initSample : std::max<std::int64_t>(20000, 50 * o.clusters));
        std::vector<std::int64_t> sample;
        if (sampleSize == n) {
            sample.resize(std::size_t(n));
            std::iota(sample.begin(), sample.end(), 0);
        } else {
            // Floyd's algorithm: sampleSize distinct rows.
            std::vector<std::int64_t> chosen;
            std::vector<bool> taken(std::size_t(n), false);
            for (std::int64_t j = n - sampleSize; j < n; ++j) {
                const std::int64_t t = std::uniform_int_distribution<std::int64_t>(0, j)(random);
                const std::int64_t pick = taken[std::size_t(t)] ? j : t;
                taken[std::size_t(pick)] = true;
                chosen.push_back(pick);
            }
            std::sort(chosen.begin(), chosen.end());
            sample = std::move(chosen);
        }
        const auto sampled = reader.gather(sample, &error);
        if (!sampled.defined())
            return ModelStatus::failure(error);
        // Seeding is a hundred small steps: one thread runs them faster than two that wait
        // on each other at every step.
        at::set_num_threads(1);
        auto centres = seedCentres(sampled, o.clusters, random);
        useThreads(o.threads);
        result->seedSeconds = secondsSince(start);

        start = Clock::now();
        const auto doubleOptions = torch::TensorOptions().dtype(torch::kDouble).device(device);
        auto counts = torch::zeros({o.clusters}, doubleOptions); // mini-batch: rows seen
        std::uniform_int_distribution<std::int64_t> anyRow(0, n - 1);
        bool converged = false;
        BoundedLloyd lloyd(o.batchRows > 0 ? 0 : n, o.clusters, dims, device);
        for (int iteration = 1; iteration <= o.iterations; ++iteration) {
            const auto cNorms = (centres * centres).sum(1);
            Pass pass;
            if (o.batchRows > 0) {
                pass.sums = torch::zeros({o.clusters, dims}, doubleOptions);
                pass.counts = torch::zeros({o.clusters}, doubleOptions);
                std::vector<std::int64_t> batch(std::size_t(std::min(o.batchRows, n)));
                for (auto &r : batch)
                    r = anyRow(random);
                const auto x = reader.gather(batch, &error);
                if (!x.defined())
                    return ModelStatus::failure(error);
                accumulate(x, centres, cNorms, &pass);
                // Each centre moves towards its rows' mean at the rate 1 / (rows it has seen).
                counts += pass.counts;
                const auto seen = counts.clamp_min(1).unsqueeze(1);
                const auto c64 = centres.to(torch::kDouble);
                centres =
                    (c64 + (pass.sums - pass.counts.unsqueeze(1) * c64) / seen).to(torch::kFloat);
            } else {
                const std::int64_t chunk = chunkRowsFor(o, rows, o.clusters);
                for (std::int64_t first = 0; first < n; first += chunk) {
                    const auto x = reader.range(first, std::min(chunk, n - first), &error);
                    if (!x.defined())
                        return ModelStatus::failure(error);
                    lloyd.visit(first, x, centres, cNorms);
                }
                pass.inertia = lloyd.inertia(centres);
                const auto moved = lloyd.moved();
                // No row changed its centre: the next passes would change nothing.
                converged = torch::equal(moved, centres);
                lloyd.moveTo(centres, moved);
                centres = moved;
            }
            result->history.push_back(pass.inertia);
            result->iterations = iteration;
            if ((onIteration && !onIteration(iteration, pass.inertia)) || converged)
                break;
        }
        result->iterateSeconds = secondsSince(start);

        // The returned centres' sizes and inertia, over every row.
        const auto cNorms = (centres * centres).sum(1);
        Pass last;
        last.sums = torch::zeros({o.clusters, dims}, doubleOptions);
        last.counts = torch::zeros({o.clusters}, doubleOptions);
        if (o.keepLabels)
            result->labels.resize(std::size_t(n));
        const std::int64_t chunk = chunkRowsFor(o, rows, o.clusters);
        for (std::int64_t first = 0; first < n; first += chunk) {
            const std::int64_t count = std::min(chunk, n - first);
            const auto x = reader.range(first, count, &error);
            if (!x.defined())
                return ModelStatus::failure(error);
            torch::Tensor nearest;
            accumulate(x, centres, cNorms, &last, o.keepLabels ? &nearest : nullptr);
            if (o.keepLabels) {
                const auto l = nearest.to(torch::kCPU).to(torch::kInt).contiguous();
                std::memcpy(result->labels.data() + first, l.data_ptr<std::int32_t>(),
                            std::size_t(count) * 4);
            }
        }
        result->clusters = o.clusters;
        result->dims = dims;
        result->inertia = last.inertia;
        const auto hostCentres = centres.to(torch::kCPU).contiguous();
        result->centres.assign(hostCentres.data_ptr<float>(),
                               hostCentres.data_ptr<float>() + hostCentres.numel());
        const auto sizes = last.counts.to(torch::kCPU).to(torch::kLong).contiguous();
        result->sizes.assign(sizes.data_ptr<std::int64_t>(),
                             sizes.data_ptr<std::int64_t>() + sizes.numel());
        return ModelStatus::success();
    } catch (...) {
        return statusFromCurrentException("k-means");
    }
}

ModelStatus assignToCentres(const RowSource &rows, const KMeansResult &centres,
                            const KMeansOptions &o, std::vector<std::int32_t> *labels,
                            std::vector<float> *squaredDistancesOut, double *inertia)
{
    if (centres.dims != rows.dims() || centres.clusters < 1)
        return ModelStatus::failure("the centres (" + std::to_string(centres.dims) +
                                    " dims) do not fit these rows (" + std::to_string(rows.dims()) +
                                    " dims)");
    try {
        torch::NoGradGuard noGrad;
        useThreads(o.threads);
        const torch::Device device(o.device);
        Reader reader(rows, device, o.deviceResidentBytes);
        const auto c = torch::from_blob(const_cast<float *>(centres.centres.data()),
                                        {centres.clusters, centres.dims})
                           .to(device);
        const auto cNorms = (c * c).sum(1);
        const std::int64_t n = rows.rows();
        if (labels)
            labels->resize(std::size_t(n));
        if (squaredDistancesOut)
            squaredDistancesOut->resize(std::size_t(n));
        double total = 0;
        std::string error;
        const std::int64_t chunk = chunkRowsFor(o, rows, centres.clusters);
        for (std::int64_t first = 0; first < n; first += chunk) {
            const std::int64_t count = std::min(chunk, n - first);
            const auto x = reader.range(first, count, &error);
            if (!x.defined())
                return ModelStatus::failure(error);
            torch::Tensor nearest, minimum;
            accumulate(x, c, cNorms, nullptr, &nearest, &minimum);
            total += minimum.sum().to(torch::kDouble).item<double>();
            if (labels) {
                const auto l = nearest.to(torch::kCPU).to(torch::kInt).contiguous();
                std::memcpy(labels->data() + first, l.data_ptr<std::int32_t>(),
                            std::size_t(count) * 4);
            }
            if (squaredDistancesOut) {
                const auto m = minimum.to(torch::kCPU).contiguous();
                std::memcpy(squaredDistancesOut->data() + first, m.data_ptr<float>(),
                            std::size_t(count) * 4);
            }
        }
        if (inertia)
            *inertia = total;
        return ModelStatus::success();
    } catch (...) {
        return statusFromCurrentException("assigning rows to k-means centres");
    }
}

} // namespace emolens
