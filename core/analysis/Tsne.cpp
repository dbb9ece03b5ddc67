#include "analysis/Tsne.h"

#include "common/Distances.h"

#include <QString>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <thread>
#include <utility>

namespace emolens {

namespace {

int threadCount(int asked)
{
    const int cores = std::max(1, int(std::thread::hardware_concurrency()));
    return std::max(1, asked > 0 ? asked : std::min(cores, 16));
}

// Runs work(from, to) over [0, n) split into `threads` contiguous parts.
template <typename Work> void split(int n, int threads, const Work &work)
{
    if (threads <= 1 || n < 256) {
        work(0, n);
        return;
    }
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t)
        pool.emplace_back([&, t] {
            work(int(std::int64_t(n) * t / threads), int(std::int64_t(n) * (t + 1) / threads));
        });
    work(0, int(std::int64_t(n) / threads));
    for (std::thread &t : pool)
        t.join();
}

// False when cancelled (polled by each thread every 64 rows).
bool nearestNeighbours(const float *rows, int n, int dims, int k, int threads,
                       const std::function<bool()> &cancelled, std::vector<int> *index,
                       std::vector<float> *distance)
{
    std::atomic<bool> stop{false};
    index->assign(std::size_t(n) * std::size_t(k), 0);
    distance->assign(std::size_t(n) * std::size_t(k), 0.f);
    split(n, threads, [&](int from, int to) {
        std::vector<std::pair<float, int>> all(static_cast<std::size_t>(n));
        for (int i = from; i < to; ++i) {
            if ((i - from) % 64 == 0 && cancelled && (stop || cancelled())) {
                stop = true;
                return;
            }
            const float *a = rows + std::size_t(i) * std::size_t(dims);
            std::size_t m = 0;
            for (int j = 0; j < n; ++j)
                if (j != i)
                    all[m++] = {
                        squaredDistanceFloat(a, rows + std::size_t(j) * std::size_t(dims), dims),
                        j};
            std::partial_sort(all.begin(), all.begin() + k, all.begin() + std::ptrdiff_t(m));
            for (int j = 0; j < k; ++j) {
                (*index)[std::size_t(i) * std::size_t(k) + std::size_t(j)] =
                    all[std::size_t(j)].second;
                (*distance)[std::size_t(i) * std::size_t(k) + std::size_t(j)] =
                    all[std::size_t(j)].first;
            }
        }
    });
    return !stop;
}

// p_j|i over the k neighbours, with the bandwidth whose entropy is log(perplexity).
void conditionalProbabilities(const std::vector<float> &distance, int n, int k, double perplexity,
                              int threads, std::vector<double> *p)
{
    p->assign(std::size_t(n) * std::size_t(k), 0.0);
    const double target = std::log(perplexity);
    split(n, threads, [&](int from, int to) {
        std::vector<double> row(static_cast<std::size_t>(k));
        for (int i = from; i < to; ++i) {
            const float *d = distance.data() + std::size_t(i) * std::size_t(k);
            double beta = 1, low = 0, high = std::numeric_limits<double>::infinity();
            for (int step = 0; step < 200; ++step) {
                // Shifted by the nearest distance, so exp() cannot underflow to all zeros.
                double sum = 0, weighted = 0;
                for (int j = 0; j < k; ++j) {
                    row[std::size_t(j)] = std::exp(-beta * (double(d[j]) - double(d[0])));
                    sum += row[std::size_t(j)];
                    weighted += row[std::size_t(j)] * (double(d[j]) - double(d[0]));
                }
                const double entropy = std::log(sum) + beta * weighted / sum;
                for (int j = 0; j < k; ++j)
                    row[std::size_t(j)] /= sum;
                if (std::abs(entropy - target) < 1e-5)
                    break;
                if (entropy > target) { // too flat: narrower
                    low = beta;
                    beta = std::isinf(high) ? beta * 2 : (beta + high) / 2;
                } else {
                    high = beta;
                    beta = (beta + low) / 2;
                }
            }
            std::copy(row.begin(), row.end(), p->begin() + std::ptrdiff_t(i) * k);
        }
    });
}

// The symmetric joint probabilities, as rows of (column, value), columns ascending.
struct SparseRows
{
    std::vector<std::size_t> start; // n + 1
    std::vector<int> column;
    std::vector<double> value;
};

SparseRows symmetrise(const std::vector<int> &index, const std::vector<double> &p, int n, int k)
{
    std::vector<std::pair<std::int64_t, double>> entries; // (i x n + j, p)
    entries.reserve(std::size_t(n) * std::size_t(k) * 2);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < k; ++j) {
            const int other = index[std::size_t(i) * std::size_t(k) + std::size_t(j)];
            const double v = p[std::size_t(i) * std::size_t(k) + std::size_t(j)] / (2.0 * n);
            entries.emplace_back(std::int64_t(i) * n + other, v);
            entries.emplace_back(std::int64_t(other) * n + i, v);
        }
    std::sort(entries.begin(), entries.end(),
              [](const auto &a, const auto &b) { return a.first < b.first; });
    SparseRows out;
    out.start.assign(std::size_t(n) + 1, 0);
    for (std::size_t e = 0; e < entries.size();) {
        std::size_t f = e;
        double sum = 0;
        while (f < entries.size() && entries[f].first == entries[e].first)
            sum += entries[f++].second;
        const int row = int(entries[e].first / n);
        out.column.push_back(int(entries[e].first % n));
        out.value.push_back(sum);
        ++out.start[std::size_t(row) + 1];
        e = f;
    }
    for (int i = 0; i < n; ++i)
        out.start[std::size_t(i) + 1] += out.start[std::size_t(i)];
    return out;
}

// A quadtree over the layout: each cell's bounds, centre of mass and point count; a leaf holds
// one point, or several that coincide (or lie deeper than maxDepth).
class QuadTree
{
public:
    QuadTree(const std::vector<float> &layout, int n) : m_layout(layout)
    {
        m_order.resize(std::size_t(n));
        std::iota(m_order.begin(), m_order.end(), 0);
        float minX = std::numeric_limits<float>::max(), minY = minX;
        float maxX = std::numeric_limits<float>::lowest(), maxY = maxX;
        for (int i = 0; i < n; ++i) {
            minX = std::min(minX, x(i));
            maxX = std::max(maxX, x(i));
            minY = std::min(minY, y(i));
            maxY = std::max(maxY, y(i));
        }
        const float width = std::max({maxX - minX, maxY - minY, 1e-6f}) * 1.0001f;
        m_cells.reserve(std::size_t(n) * 2);
        build(0, n, minX, minY, width, 0);
    }

    // The repulsive force on point i (unnormalised: sum of q^2 (y_i - y_j) with q = 1 / (1 +
    // d^2)) and its part of Z (sum of q), by Barnes-Hut with theta.
    void repulsion(int i, double theta, double *fx, double *fy, double *z) const
    {
        const double xi = x(i), yi = y(i);
        const double theta2 = theta * theta;
        int stack[256];
        int top = 0;
        stack[top++] = 0;
        while (top > 0) {
            const Cell &c = m_cells[std::size_t(stack[--top])];
            if (c.count == 0)
                continue;
            const double dx = xi - c.comX, dy = yi - c.comY;
            const double d2 = dx * dx + dy * dy;
            if (c.firstChild < 0 || double(c.width) * c.width < theta2 * d2) {
                if (c.firstChild < 0) {
                    // A leaf: its points one by one (so the point itself is left out).
                    for (int k = c.from; k < c.to; ++k) {
                        const int j = m_order[std::size_t(k)];
                        if (j == i)
                            continue;
                        const double ex = xi - x(j), ey = yi - y(j);
                        const double q = 1.0 / (1.0 + ex * ex + ey * ey);
                        *z += q;
                        *fx += q * q * ex;
                        *fy += q * q * ey;
                    }
                } else {
                    const double q = 1.0 / (1.0 + d2);
                    *z += c.count * q;
                    *fx += c.count * q * q * dx;
                    *fy += c.count * q * q * dy;
                }
                continue;
            }
            for (int child = 0; child < 4; ++child)
                if (m_cells[std::size_t(c.firstChild + child)].count > 0 && top < 256)
                    stack[top++] = c.firstChild + child;
        }
    }

    // The points in the tree's order: neighbours in the layout are near in it.
    const std::vector<int> &order() const { return m_order; }

private:
    struct Cell
    {
        float minX = 0, minY = 0, width = 0;
        double comX = 0, comY = 0;
        int count = 0;
        int from = 0, to = 0; // m_order's range
        int firstChild = -1;  // four consecutive cells; -1: a leaf
    };

    float x(int i) const { return m_layout[std::size_t(i) * 2]; }
    float y(int i) const { return m_layout[std::size_t(i) * 2 + 1]; }

    int build(int from, int to, float minX, float minY, float width, int depth)
    {
        const int id = int(m_cells.size());
        m_cells.push_back(Cell());
        Cell cell;
        cell.minX = minX;
        cell.minY = minY;
        cell.width = width;
        cell.from = from;
        cell.to = to;
        cell.count = to - from;
        for (int k = from; k < to; ++k) {
            cell.comX += x(m_order[std::size_t(k)]);
            cell.comY += y(m_order[std::size_t(k)]);
        }
        if (cell.count > 0) {
            cell.comX /= cell.count;
            cell.comY /= cell.count;
        }
        bool coincide = true;
        for (int k = from + 1; k < to && coincide; ++k)
            coincide = x(m_order[std::size_t(k)]) == x(m_order[std::size_t(from)]) &&
                       y(m_order[std::size_t(k)]) == y(m_order[std::size_t(from)]);
        if (cell.count > 1 && !coincide && depth < kMaxDepth) {
            const float half = width / 2, midX = minX + half, midY = minY + half;
            // Quadrants in order: x low/y low, x high/y low, x low/y high, x high/y high.
            const auto begin = m_order.begin();
            const auto lowY =
                std::partition(begin + from, begin + to, [&](int i) { return y(i) < midY; });
            const auto lowYLowX =
                std::partition(begin + from, lowY, [&](int i) { return x(i) < midX; });
            const auto highYLowX =
                std::partition(lowY, begin + to, [&](int i) { return x(i) < midX; });
            const int a = from, b = int(lowYLowX - begin), c = int(lowY - begin),
                      d = int(highYLowX - begin);
            const int first = int(m_cells.size());
            // Reserve the four children's slots first, so they are consecutive.
            for (int q = 0; q < 4; ++q)
                m_cells.push_back(Cell());
            cell.firstChild = first;
            m_cells[std::size_t(id)] = cell;
            const int ranges[4][2] = {{a, b}, {b, c}, {c, d}, {d, to}};
            const float corners[4][2] = {{minX, minY}, {midX, minY}, {minX, midY}, {midX, midY}};
            for (int q = 0; q < 4; ++q)
                fill(first + q, ranges[q][0], ranges[q][1], corners[q][0], corners[q][1], half,
                     depth + 1);
            return id;
        }
        m_cells[std::size_t(id)] = cell;
        return id;
    }

    // Builds the subtree of a slot reserved by its parent.
    void fill(int slot, int from, int to, float minX, float minY, float width, int depth)
    {
        const int made = build(from, to, minX, minY, width, depth);
        m_cells[std::size_t(slot)] = m_cells[std::size_t(made)];
        m_cells[std::size_t(made)].count = 0; // the copy at `made` is never reached
    }

    static constexpr int kMaxDepth = 40;
    const std::vector<float> &m_layout;
    std::vector<int> m_order;
    std::vector<Cell> m_cells;
};

} // namespace

Status runTsne(const float *rows, int n, int dims, const TsneOptions &o, std::vector<float> *layout,
               const TsneCallback &onProgress, const std::function<bool()> &cancelled)
{
    layout->clear();
    if (dims < 1 || o.perplexity <= 0 || o.iterations < 1 || o.exaggeration <= 0 || o.theta < 0 ||
        o.learningRate < 0 || o.exaggerationIterations < 0)
        return Status::failure(QStringLiteral("t-SNE: the perplexity, iterations, exaggeration "
                                              "and learning rate must be positive"));
    const int k = int(std::floor(3 * o.perplexity));
    if (n < k + 2)
        return Status::failure(
            QStringLiteral("t-SNE with perplexity %1 needs more than %2 clips; there are %3 "
                           "(lower the perplexity)")
                .arg(o.perplexity)
                .arg(k + 1)
                .arg(n));
    for (std::size_t v = 0; v < std::size_t(n) * std::size_t(dims); ++v)
        if (!std::isfinite(rows[v]))
            return Status::failure(QStringLiteral("t-SNE: row %1 holds a value that is not a "
                                                  "number")
                                       .arg(v / std::size_t(dims)));
    const int threads = threadCount(o.threads);

    std::vector<int> index;
    std::vector<float> distance;
    if (o.neighbours) {
        if (Status st = o.neighbours(rows, n, dims, k, &index, &distance); !st)
            return st;
        if (index.size() != std::size_t(n) * std::size_t(k) || distance.size() != index.size())
            return Status::failure(QStringLiteral("t-SNE: the neighbour search gave %1 "
                                                  "neighbours for %2 rows of %3")
                                       .arg(index.size())
                                       .arg(n)
                                       .arg(k));
    } else if (!nearestNeighbours(rows, n, dims, k, threads, cancelled, &index, &distance)) {
        return Status::failure(QStringLiteral("cancelled"));
    }
    std::vector<double> conditional;
    conditionalProbabilities(distance, n, k, o.perplexity, threads, &conditional);
    const SparseRows p = symmetrise(index, conditional, n, k);

    std::vector<float> y(std::size_t(n) * 2);
    std::mt19937_64 random(o.seed);
    std::normal_distribution<double> start(0.0, 1e-4);
    for (float &v : y)
        v = float(start(random));
    std::vector<double> update(y.size(), 0.0), gains(y.size(), 1.0);
    std::vector<double> attract(y.size(), 0.0), repulse(y.size(), 0.0);
    std::vector<double> zParts(std::size_t(n), 0.0);
    const double rate = o.learningRate > 0 ? o.learningRate : std::max(n / 12.0, 50.0);

    for (int iteration = 1; iteration <= o.iterations; ++iteration) {
        if (cancelled && cancelled()) {
            *layout = y;
            return Status::failure(QStringLiteral("cancelled"));
        }
        const bool early = iteration <= o.exaggerationIterations;
        const double exaggeration = early ? o.exaggeration : 1.0;
        const double momentum = early ? 0.5 : 0.8;
        const QuadTree tree(y, n);
        // Per row: the attractive force (exact, over its neighbours) and the repulsive one
        // (Barnes-Hut, unnormalised) with its part of Z, summed in row order afterwards.
        // The points in the tree's order, so that consecutive ones walk the same cells.
        const std::vector<int> &treeOrder = tree.order();
        split(n, threads, [&](int from, int to) {
            for (int at = from; at < to; ++at) {
                const int i = treeOrder[std::size_t(at)];
                const double xi = y[std::size_t(i) * 2], yi = y[std::size_t(i) * 2 + 1];
                double ax = 0, ay = 0;
                for (std::size_t e = p.start[std::size_t(i)]; e < p.start[std::size_t(i) + 1];
                     ++e) {
                    const int j = p.column[e];
                    const double dx = xi - y[std::size_t(j) * 2],
                                 dy = yi - y[std::size_t(j) * 2 + 1];
                    const double q = 1.0 / (1.0 + dx * dx + dy * dy);
                    ax += p.value[e] * q * dx;
                    ay += p.value[e] * q * dy;
                }
                double rx = 0, ry = 0, z = 0;
                tree.repulsion(i, o.theta, &rx, &ry, &z);
                attract[std::size_t(i) * 2] = ax;
                attract[std::size_t(i) * 2 + 1] = ay;
                repulse[std::size_t(i) * 2] = rx;
                repulse[std::size_t(i) * 2 + 1] = ry;
                zParts[std::size_t(i)] = z;
            }
        });
        double z = 0;
        for (double part : zParts)
            z += part;
        z = std::max(z, std::numeric_limits<double>::min());
        double meanX = 0, meanY = 0;
        for (std::size_t c = 0; c < y.size(); ++c) {
            const double gradient = 4.0 * (exaggeration * attract[c] - repulse[c] / z);
            // Gains grow where the step keeps changing direction against the gradient.
            gains[c] = (gradient > 0) != (update[c] > 0) ? gains[c] + 0.2 : gains[c] * 0.8;
            gains[c] = std::max(gains[c], 0.01);
            update[c] = momentum * update[c] - rate * gains[c] * gradient;
            y[c] = float(y[c] + update[c]);
            (c % 2 == 0 ? meanX : meanY) += y[c];
        }
        meanX /= n;
        meanY /= n;
        for (int i = 0; i < n; ++i) {
            y[std::size_t(i) * 2] = float(y[std::size_t(i) * 2] - meanX);
            y[std::size_t(i) * 2 + 1] = float(y[std::size_t(i) * 2 + 1] - meanY);
        }
        if (onProgress &&
            (iteration % std::max(1, o.publishEvery) == 0 || iteration == o.iterations) &&
            !onProgress(iteration, y)) {
            *layout = y;
            return Status::failure(QStringLiteral("cancelled"));
        }
    }
    *layout = std::move(y);
    return Status::success();
}

double trustworthiness(const float *input, int inputDims, const float *layout, int layoutDims,
                       int n, int k)
{
    if (n < 3 || k < 1 || 2 * k >= n)
        return 0;
    double penalty = 0;
    std::vector<std::pair<float, int>> order(static_cast<std::size_t>(n));
    std::vector<int> rank(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        // The input's ranking of every other point (1: nearest).
        for (int j = 0; j < n; ++j)
            order[std::size_t(j)] = {
                j == i ? -1.f
                       : squaredDistanceFloat(input + std::size_t(i) * std::size_t(inputDims),
                                              input + std::size_t(j) * std::size_t(inputDims),
                                              inputDims),
                j};
        std::sort(order.begin(), order.end());
        for (int r = 0; r < n; ++r)
            rank[std::size_t(order[std::size_t(r)].second)] = r; // self at 0
        // The layout's k nearest.
        for (int j = 0; j < n; ++j)
            order[std::size_t(j)] = {
                j == i ? -1.f
                       : squaredDistanceFloat(layout + std::size_t(i) * std::size_t(layoutDims),
                                              layout + std::size_t(j) * std::size_t(layoutDims),
                                              layoutDims),
                j};
        std::partial_sort(order.begin(), order.begin() + k + 1, order.end());
        for (int r = 1; r <= k; ++r) {
            const int j = order[std::size_t(r)].second;
            if (rank[std::size_t(j)] > k)
                penalty += rank[std::size_t(j)] - k;
        }
    }
    return 1.0 - penalty * 2.0 / (double(n) * k * (2.0 * n - 3.0 * k - 1.0));
}

} // namespace emolens
