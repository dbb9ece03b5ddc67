#include "analysis/TraceFusion.h"

#include "analysis/Agreement.h"
#include "training/ClassificationMetrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace emolens {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The points both series have.
void common(const std::vector<double> &x, const std::vector<double> &y, std::vector<double> *a,
            std::vector<double> *b)
{
    a->clear();
    b->clear();
    for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i)
        if (!std::isnan(x[i]) && !std::isnan(y[i])) {
            a->push_back(x[i]);
            b->push_back(y[i]);
        }
}

// The mean of the other annotators' values at each point (NaN where none of them has one).
std::vector<double> meanOfOthers(const std::vector<std::vector<double>> &grid, std::size_t skip)
{
    const std::size_t frames = grid.empty() ? 0 : grid.front().size();
    std::vector<double> out(frames, kNaN);
    for (std::size_t t = 0; t < frames; ++t) {
        double sum = 0;
        int n = 0;
        for (std::size_t a = 0; a < grid.size(); ++a)
            if (a != skip && !std::isnan(grid[a][t])) {
                sum += grid[a][t];
                ++n;
            }
        if (n > 0)
            out[t] = sum / n;
    }
    return out;
}

double concordance(const std::vector<double> &x, const std::vector<double> &y)
{
    std::vector<double> a, b;
    common(x, y, &a, &b);
    if (a.size() < 2)
        return kNaN;
    return concordanceCorrelation(a, b);
}

} // namespace

double pearsonCorrelation(const std::vector<double> &x, const std::vector<double> &y)
{
    std::vector<double> a, b;
    common(x, y, &a, &b);
    const std::size_t n = a.size();
    if (n < 2)
        return kNaN;
    double ma = 0, mb = 0;
    for (std::size_t i = 0; i < n; ++i) {
        ma += a[i];
        mb += b[i];
    }
    ma /= double(n);
    mb /= double(n);
    double va = 0, vb = 0, c = 0;
    for (std::size_t i = 0; i < n; ++i) {
        va += (a[i] - ma) * (a[i] - ma);
        vb += (b[i] - mb) * (b[i] - mb);
        c += (a[i] - ma) * (b[i] - mb);
    }
    return va > 0 && vb > 0 ? c / std::sqrt(va * vb) : kNaN;
}

std::vector<double> traceOnGrid(const TraceRecord &trace, double rateHz, int frames,
                                double lagSeconds)
{
    std::vector<double> out(std::size_t(std::max(0, frames)), kNaN);
    const std::size_t n = trace.samples.size();
    if (n == 0 || !(trace.rateHz > 0))
        return out;
    for (std::size_t i = 0; i < out.size(); ++i) {
        // The position of the grid time (read lagSeconds later) among the trace's samples.
        double at = (double(i) / rateHz + lagSeconds - trace.startSeconds) * trace.rateHz;
        // Times that are a sample's up to rounding (249 / 25 * 25 is not 249) are that sample.
        if (std::abs(at - std::round(at)) < 1e-6)
            at = std::round(at);
        if (at < 0 || at > double(n - 1))
            continue;
        const std::size_t lo = std::size_t(std::floor(at));
        const std::size_t hi = std::min(lo + 1, n - 1);
        const double w = at - double(lo);
        const double a = trace.samples[lo], b = trace.samples[hi];
        if (std::isnan(a) || (w > 0 && std::isnan(b)))
            continue;
        out[i] = w > 0 ? a + (b - a) * w : a;
    }
    return out;
}

FusedTraces fuseTraces(const QList<TraceRecord> &traces, double durationSeconds,
                       const TraceFusionOptions &options)
{
    FusedTraces out;
    out.rateHz = options.rateHz;
    const int frames = std::max(0, int(std::floor(durationSeconds * options.rateHz + 1e-9)));
    const std::size_t A = std::size_t(traces.size());
    for (const TraceRecord &t : traces) {
        out.annotators << t.annotatorName;
        out.grid.push_back(traceOnGrid(t, options.rateHz, frames, options.fixedLagSeconds));
        out.lagSeconds.push_back(options.fixedLagSeconds);
    }
    // Per annotator, the shift that best matches the others' (unshifted) mean.
    if (options.estimateLag && A >= 2) {
        const std::vector<std::vector<double>> unshifted = out.grid;
        const int maxSteps = int(std::floor(options.maxLagSeconds * options.rateHz + 1e-9));
        for (std::size_t a = 0; a < A; ++a) {
            const std::vector<double> others = meanOfOthers(unshifted, a);
            double best = -2;
            int bestStep = 0;
            for (int step = 0; step <= maxSteps; ++step) {
                const double lag = options.fixedLagSeconds + step / options.rateHz;
                const double r = pearsonCorrelation(
                    traceOnGrid(traces[int(a)], options.rateHz, frames, lag), others);
                if (!std::isnan(r) && r > best + 1e-12) {
                    best = r;
                    bestStep = step;
                }
            }
            out.lagSeconds[a] = options.fixedLagSeconds + bestStep / options.rateHz;
            out.grid[a] = traceOnGrid(traces[int(a)], options.rateHz, frames, out.lagSeconds[a]);
        }
    }
    // The EWE's weights: each annotator's correlation with the mean of all (Grimm and
    // Kroschel's maximum likelihood estimate).
    out.weights.assign(A, kNaN);
    const std::vector<double> everyone = meanOfOthers(out.grid, A); // skips nobody
    for (std::size_t a = 0; a < A && A >= 2; ++a)
        out.weights[a] = pearsonCorrelation(out.grid[a], everyone);
    out.mean.assign(std::size_t(frames), kNaN);
    out.ewe.assign(std::size_t(frames), kNaN);
    for (std::size_t t = 0; t < std::size_t(frames); ++t) {
        double sum = 0, weighted = 0, weightSum = 0;
        int n = 0;
        for (std::size_t a = 0; a < A; ++a) {
            const double v = out.grid[a][t];
            if (std::isnan(v))
                continue;
            sum += v;
            ++n;
            const double w = out.weights[a];
            if (!std::isnan(w) && w > 0) {
                weighted += w * v;
                weightSum += w;
            }
        }
        if (n == 0)
            continue;
        out.mean[t] = sum / n;
        out.ewe[t] = weightSum > 0 ? weighted / weightSum : out.mean[t];
    }
    out.pairConcordance.assign(A, std::vector<double>(A, kNaN));
    out.concordanceWithEwe.assign(A, kNaN);
    for (std::size_t a = 0; a < A; ++a) {
        out.concordanceWithEwe[a] = concordance(out.grid[a], out.ewe);
        for (std::size_t b = 0; b < A; ++b)
            out.pairConcordance[a][b] = a == b ? 1.0 : concordance(out.grid[a], out.grid[b]);
    }
    // Cronbach's alpha over the grid points every annotator has.
    out.cronbachAlpha = kNaN;
    if (A >= 2) {
        std::vector<std::vector<double>> items(A);
        for (std::size_t t = 0; t < std::size_t(frames); ++t) {
            bool all = true;
            for (std::size_t a = 0; a < A && all; ++a)
                all = !std::isnan(out.grid[a][t]);
            if (all)
                for (std::size_t a = 0; a < A; ++a)
                    items[a].push_back(out.grid[a][t]);
        }
        out.cronbachAlpha = cronbachAlpha(items);
    }
    return out;
}

} // namespace emolens
