#include "analysis/Tsne.h"

#include "common/Distances.h"

#include <QString>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
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

// Runs work(from, to) over [0, n) split into `threads` contiguous parts (one part when n is
// below `smallest`).
template <typename Work> void split(int n, int threads, const Work &work, int smallest = 256)
{
    if (threads <= 1 || n < smallest) {
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

// Renumbers the points in the order a breadth-first walk of the neighbour graph meets them
// (from point 0, then from the lowest point not met yet): order[new] is the old number, and
// index and distance are rewritten in the new numbering.
void renumberByNeighbours(int n, int k, std::vector<int> *index, std::vector<float> *distance,
                          std::vector<int> *order)
{
    order->clear();
    order->reserve(std::size_t(n));
    std::vector<int> rank(static_cast<std::size_t>(n), -1);
    for (int seed = 0; seed < n; ++seed) {
        if (rank[std::size_t(seed)] >= 0)
            continue;
        rank[std::size_t(seed)] = int(order->size());
        order->push_back(seed);
        for (std::size_t head = order->size() - 1; head < order->size(); ++head) {
            const int i = (*order)[head];
            for (int j = 0; j < k; ++j) {
                const int other = (*index)[std::size_t(i) * std::size_t(k) + std::size_t(j)];
                if (rank[std::size_t(other)] < 0) {
                    rank[std::size_t(other)] = int(order->size());
                    order->push_back(other);
                }
            }
        }
    }
    std::vector<int> newIndex(index->size());
    std::vector<float> newDistance(distance->size());
    for (int r = 0; r < n; ++r) {
        const std::size_t from = std::size_t((*order)[std::size_t(r)]) * std::size_t(k);
        for (int j = 0; j < k; ++j) {
            newIndex[std::size_t(r) * std::size_t(k) + std::size_t(j)] =
                rank[std::size_t((*index)[from + std::size_t(j)])];
            newDistance[std::size_t(r) * std::size_t(k) + std::size_t(j)] =
                (*distance)[from + std::size_t(j)];
        }
    }
    index->swap(newIndex);
    distance->swap(newDistance);
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
    // Each (i, j, p_j|i / 2n) goes to row i and, mirrored, to row j: rows filled by counts,
    // then each row sorted by column and its repeats added (p_ij + p_ji).
    std::vector<std::size_t> count(std::size_t(n) + 1, 0);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < k; ++j) {
            ++count[std::size_t(i) + 1];
            ++count[std::size_t(index[std::size_t(i) * std::size_t(k) + std::size_t(j)]) + 1];
        }
    for (int i = 0; i < n; ++i)
        count[std::size_t(i) + 1] += count[std::size_t(i)];
    std::vector<std::pair<int, double>> entries(count[std::size_t(n)]);
    std::vector<std::size_t> fill(count.begin(), count.end() - 1);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < k; ++j) {
            const int other = index[std::size_t(i) * std::size_t(k) + std::size_t(j)];
            const double v = p[std::size_t(i) * std::size_t(k) + std::size_t(j)] / (2.0 * n);
            entries[fill[std::size_t(i)]++] = {other, v};
            entries[fill[std::size_t(other)]++] = {i, v};
        }
    SparseRows out;
    out.start.assign(std::size_t(n) + 1, 0);
    out.column.reserve(entries.size());
    out.value.reserve(entries.size());
    for (int i = 0; i < n; ++i) {
        const auto first = entries.begin() + std::ptrdiff_t(count[std::size_t(i)]);
        const auto last = entries.begin() + std::ptrdiff_t(count[std::size_t(i) + 1]);
        // By column; a repeated column's two values in the order they were filled, so the sum
        // is the same for (i, j) and (j, i).
        std::stable_sort(first, last,
                         [](const auto &a, const auto &b) { return a.first < b.first; });
        for (auto e = first; e != last;) {
            auto f = e;
            double sum = 0;
            while (f != last && f->first == e->first)
                sum += (f++)->second;
            out.column.push_back(e->first);
            out.value.push_back(sum);
            e = f;
        }
        out.start[std::size_t(i) + 1] = out.column.size();
    }
    return out;
}

// Lanes of the repulsion kernel: GCC's and Clang's vector extension, lowered to what the
// target has (two SSE registers on plain x86-64; repulsionFrom has an AVX2 clone too, one
// register, which x86-64 machines that have AVX2 run).
constexpr int kLanes = 8;
typedef float Lanes __attribute__((vector_size(kLanes * sizeof(float))));

// A group's interaction list, as arrays of x, y and mass.
struct InteractionList
{
    std::vector<float> x, y, mass;
    void clear()
    {
        x.clear();
        y.clear();
        mass.clear();
    }
    void add(float px, float py, float m)
    {
        x.push_back(px);
        y.push_back(py);
        mass.push_back(m);
    }
    // Massless entries up to a multiple of kLanes (they add nothing).
    void pad()
    {
        while (x.size() % kLanes != 0)
            add(0.f, 0.f, 0.f);
    }
};

// The repulsion on a point at (px, py) from a list's entries: sums of m q^2 (p - e) and of
// m q, q = 1 / (1 + |p - e|^2), lane by lane, then the lanes in order. Floats: the layout is
// one already.
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target_clones("avx2", "default")))
#endif
void repulsionFrom(const InteractionList &list, float px, float py, double *fx, double *fy,
                   double *z)
{
    Lanes ax = {}, ay = {}, az = {};
    const Lanes x0 = px - Lanes{}, y0 = py - Lanes{};
    for (std::size_t e = 0; e < list.x.size(); e += kLanes) {
        Lanes ex, ey, m;
        std::memcpy(&ex, list.x.data() + e, sizeof ex);
        std::memcpy(&ey, list.y.data() + e, sizeof ey);
        std::memcpy(&m, list.mass.data() + e, sizeof m);
        const Lanes dx = x0 - ex, dy = y0 - ey;
        const Lanes q = 1.f / (1.f + dx * dx + dy * dy);
        const Lanes mq = m * q;
        az += mq;
        const Lanes mq2 = mq * q;
        ax += mq2 * dx;
        ay += mq2 * dy;
    }
    double sx = 0, sy = 0, sz = 0;
    for (int l = 0; l < kLanes; ++l) {
        sx += ax[l];
        sy += ay[l];
        sz += az[l];
    }
    *fx = sx;
    *fy = sy;
    *z = sz;
}

// The attraction, each pair of neighbours once (P is symmetric): the pairs (i, j > i) go in
// kBlocks fixed blocks of rows, of about equal numbers of pairs. A block adds p q (y_i - y_j)
// to i and subtracts it from j in a buffer of its own; each row then adds its buffers in
// block order. So the sums are the same whatever the thread count.
class PairAttraction
{
public:
    PairAttraction(const SparseRows &p, int n) : m_n(n)
    {
        m_start.assign(std::size_t(n) + 1, 0);
        for (int i = 0; i < n; ++i) {
            for (std::size_t e = p.start[std::size_t(i)]; e < p.start[std::size_t(i) + 1]; ++e)
                if (p.column[e] > i) {
                    m_column.push_back(p.column[e]);
                    m_value.push_back(float(p.value[e]));
                }
            m_start[std::size_t(i) + 1] = m_column.size();
        }
        m_blockRow.assign(kBlocks + 1, n);
        m_blockRow[0] = 0;
        for (int b = 1, i = 0; b < kBlocks; ++b) {
            const std::size_t wanted = m_column.size() * std::size_t(b) / kBlocks;
            while (i < n && m_start[std::size_t(i)] < wanted)
                ++i;
            m_blockRow[std::size_t(b)] = i;
        }
        m_buffers.assign(kBlocks, std::vector<float>(std::size_t(n) * 2));
    }

    static constexpr int blocks() { return kBlocks; }

    // One block's pairs into its buffer (any thread; each block on one thread at a time).
    void block(int b, const std::vector<float> &y)
    {
        float *force = m_buffers[std::size_t(b)].data();
        const int first = m_blockRow[std::size_t(b)], last = m_blockRow[std::size_t(b) + 1];
        std::fill(force + std::size_t(first) * 2, force + std::size_t(m_n) * 2, 0.f);
        const float *at = y.data();
        for (int i = first; i < last; ++i) {
            const float xi = at[std::size_t(i) * 2], yi = at[std::size_t(i) * 2 + 1];
            float fx = 0, fy = 0;
            for (std::size_t e = m_start[std::size_t(i)]; e < m_start[std::size_t(i) + 1]; ++e) {
                const std::size_t j = std::size_t(m_column[e]) * 2;
                const float dx = xi - at[j], dy = yi - at[j + 1];
                const float q = m_value[e] / (1.f + dx * dx + dy * dy);
                fx += q * dx;
                fy += q * dy;
                force[j] -= q * dx;
                force[j + 1] -= q * dy;
            }
            force[std::size_t(i) * 2] += fx;
            force[std::size_t(i) * 2 + 1] += fy;
        }
    }

    // Once every block is done: the attraction on i, the sum over its neighbours of
    // p_ij q_ij (y_i - y_j), its buffers added in block order.
    void on(int i, double *fx, double *fy) const
    {
        double ax = 0, ay = 0;
        for (int b = 0; b < kBlocks && m_blockRow[std::size_t(b)] <= i; ++b) {
            ax += m_buffers[std::size_t(b)][std::size_t(i) * 2];
            ay += m_buffers[std::size_t(b)][std::size_t(i) * 2 + 1];
        }
        *fx = ax;
        *fy = ay;
    }

private:
    static constexpr int kBlocks = 16;
    int m_n = 0;
    std::vector<std::size_t> m_start;
    std::vector<int> m_column;
    std::vector<float> m_value;
    std::vector<int> m_blockRow;
    std::vector<std::vector<float>> m_buffers;
};

// A quadtree over the layout: each cell's width, centre of mass and point count. Built from
// the points' Morton codes (their positions on a 65,536 x 65,536 grid over the layout, bits
// interleaved) sorted by a stable radix sort, so a cell's points are a range of that order and
// its four children split the range by the code's next two bits. A leaf holds at most
// kLeafSize points (or more that share a grid square); its points always count one by one.
class QuadTree
{
public:
    QuadTree(const std::vector<float> &layout, int n) : m_layout(layout)
    {
        float minX = std::numeric_limits<float>::max(), minY = minX;
        float maxX = std::numeric_limits<float>::lowest(), maxY = maxX;
        for (int i = 0; i < n; ++i) {
            minX = std::min(minX, x(i));
            maxX = std::max(maxX, x(i));
            minY = std::min(minY, y(i));
            maxY = std::max(maxY, y(i));
        }
        const double width = std::max({double(maxX) - minX, double(maxY) - minY, 1e-6}) * 1.0001;
        const double scale = double(kGridSide) / width;
        std::vector<std::uint32_t> codes(static_cast<std::size_t>(n)),
            sortedCodes(static_cast<std::size_t>(n));
        std::vector<int> order(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) {
            const auto gx = std::uint32_t(std::min(double(kGridSide - 1), (x(i) - minX) * scale));
            const auto gy = std::uint32_t(std::min(double(kGridSide - 1), (y(i) - minY) * scale));
            codes[std::size_t(i)] = spread(gx) | (spread(gy) << 1);
        }
        // Radix sort by 16-bit digits, stable: equal codes keep their point order.
        m_order.resize(std::size_t(n));
        std::iota(m_order.begin(), m_order.end(), 0);
        std::vector<int> counts(65537);
        for (int shift : {0, 16}) {
            std::fill(counts.begin(), counts.end(), 0);
            for (int i : m_order)
                ++counts[((codes[std::size_t(i)] >> shift) & 0xffff) + 1];
            for (std::size_t d = 1; d < counts.size(); ++d)
                counts[d] += counts[d - 1];
            for (int i : m_order)
                order[std::size_t(counts[(codes[std::size_t(i)] >> shift) & 0xffff]++)] = i;
            m_order.swap(order);
        }
        for (int k = 0; k < n; ++k)
            sortedCodes[std::size_t(k)] = codes[std::size_t(m_order[std::size_t(k)])];
        m_cells.reserve(std::size_t(n) / 2 + 16);
        m_cells.push_back(Cell());
        build(0, 0, n, sortedCodes, width, 0);
    }

    // The groups: the highest cells holding at most kGroupSize points (a leaf above that size
    // holds points that share a grid square). Their points are contiguous in order(), and together
    // they hold every point once.
    std::vector<int> groups() const
    {
        std::vector<int> out;
        std::vector<int> stack{0};
        while (!stack.empty()) {
            const int id = stack.back();
            stack.pop_back();
            const Cell &c = m_cells[std::size_t(id)];
            if (c.count == 0)
                continue;
            if (c.count <= kGroupSize || c.firstChild < 0) {
                out.push_back(id);
                continue;
            }
            for (int child = 3; child >= 0; --child) // so that they come out in order
                stack.push_back(c.firstChild + child);
        }
        return out;
    }
    int groupFrom(int group) const { return m_cells[std::size_t(group)].from; }
    int groupTo(int group) const { return m_cells[std::size_t(group)].to; }

    // The interaction list of a group, by Barnes-Hut with theta (Barnes 1990's grouping): a
    // cell whose width over its distance from the group's bounding box is below theta counts
    // as one point of its mass at its centre of mass, for every point of the group; the other
    // cells are opened down to their points. Since the box is nearer than any of its points,
    // each point's approximation is at least as accurate as its own walk's with theta. Entries
    // go into `list` (x, y and mass, each padded with massless entries to a multiple of
    // kLanes); the group's own points are in it, each of which a point must leave out.
    void interactions(int group, double theta, InteractionList *list) const
    {
        list->clear();
        const Cell &g = m_cells[std::size_t(group)];
        double minX = std::numeric_limits<double>::max(), minY = minX;
        double maxX = std::numeric_limits<double>::lowest(), maxY = maxX;
        for (int k = g.from; k < g.to; ++k) {
            const int i = m_order[std::size_t(k)];
            minX = std::min(minX, double(x(i)));
            maxX = std::max(maxX, double(x(i)));
            minY = std::min(minY, double(y(i)));
            maxY = std::max(maxY, double(y(i)));
        }
        const double theta2 = theta * theta;
        int stack[256];
        int top = 0;
        stack[top++] = 0;
        while (top > 0) {
            const Cell &c = m_cells[std::size_t(stack[--top])];
            if (c.count == 0)
                continue;
            if (c.firstChild < 0) { // a leaf: its points one by one
                for (int k = c.from; k < c.to; ++k) {
                    const int j = m_order[std::size_t(k)];
                    list->add(x(j), y(j), 1.f);
                }
                continue;
            }
            const double dx = std::max({0.0, minX - c.comX, c.comX - maxX});
            const double dy = std::max({0.0, minY - c.comY, c.comY - maxY});
            if (double(c.width) * c.width < theta2 * (dx * dx + dy * dy)) {
                list->add(float(c.comX), float(c.comY), float(c.count));
                continue;
            }
            for (int child = 0; child < 4; ++child)
                if (m_cells[std::size_t(c.firstChild + child)].count > 0 && top < 256)
                    stack[top++] = c.firstChild + child;
        }
        list->pad();
    }

    // The points in the tree's order: neighbours in the layout are near in it.
    const std::vector<int> &order() const { return m_order; }

private:
    struct Cell
    {
        float width = 0;
        double comX = 0, comY = 0;
        int count = 0;
        int from = 0, to = 0; // m_order's range
        int firstChild = -1;  // four consecutive cells; -1: a leaf
    };

    float x(int i) const { return m_layout[std::size_t(i) * 2]; }
    float y(int i) const { return m_layout[std::size_t(i) * 2 + 1]; }

    // A 16-bit value's bits spread to the even bits of 32.
    static std::uint32_t spread(std::uint32_t v)
    {
        v &= 0xffff;
        v = (v | (v << 8)) & 0x00ff00ff;
        v = (v | (v << 4)) & 0x0f0f0f0f;
        v = (v | (v << 2)) & 0x33333333;
        v = (v | (v << 1)) & 0x55555555;
        return v;
    }

    // Fills the cell at `slot` with the points [from, to) of the sorted order, `level` levels
    // below the root (its width: the root's / 2^level).
    void build(int slot, int from, int to, const std::vector<std::uint32_t> &codes, double width,
               int level)
    {
        Cell cell;
        cell.width = float(width);
        cell.from = from;
        cell.to = to;
        cell.count = to - from;
        if (cell.count <= kLeafSize || level == kLevels) {
            for (int k = from; k < to; ++k) {
                cell.comX += x(m_order[std::size_t(k)]);
                cell.comY += y(m_order[std::size_t(k)]);
            }
            if (cell.count > 0) {
                cell.comX /= cell.count;
                cell.comY /= cell.count;
            }
            m_cells[std::size_t(slot)] = cell;
            return;
        }
        // The children: the points whose code has 0, 1, 2 or 3 in the next two bits.
        const int shift = 2 * (kLevels - 1 - level);
        int bounds[5] = {from, 0, 0, 0, to};
        for (std::uint32_t q = 1; q < 4; ++q)
            bounds[q] =
                int(std::partition_point(codes.begin() + bounds[q - 1], codes.begin() + to,
                                         [&](std::uint32_t c) { return ((c >> shift) & 3u) < q; }) -
                    codes.begin());
        cell.firstChild = int(m_cells.size());
        for (int q = 0; q < 4; ++q)
            m_cells.push_back(Cell());
        for (int q = 0; q < 4; ++q) {
            build(cell.firstChild + q, bounds[q], bounds[q + 1], codes, width / 2, level + 1);
            const Cell &child = m_cells[std::size_t(cell.firstChild + q)];
            cell.comX += child.comX * child.count;
            cell.comY += child.comY * child.count;
        }
        cell.comX /= cell.count;
        cell.comY /= cell.count;
        m_cells[std::size_t(slot)] = cell;
    }

    static constexpr int kLevels = 16; // the grid's side is 2^16
    static constexpr std::uint32_t kGridSide = 1u << kLevels;
    static constexpr int kLeafSize = 8;
    static constexpr int kGroupSize = 64;
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
    // The points renumbered in the order a breadth-first walk of the neighbour graph meets
    // them, so that a point's neighbours sit near it in memory; the layouts given out are in
    // the rows' order again.
    std::vector<int> order;
    renumberByNeighbours(n, k, &index, &distance, &order);
    const auto inRowOrder = [&order, n](const std::vector<float> &walked) {
        std::vector<float> out(walked.size());
        for (int r = 0; r < n; ++r) {
            out[std::size_t(order[std::size_t(r)]) * 2] = walked[std::size_t(r) * 2];
            out[std::size_t(order[std::size_t(r)]) * 2 + 1] = walked[std::size_t(r) * 2 + 1];
        }
        return out;
    };
    std::vector<double> conditional;
    conditionalProbabilities(distance, n, k, o.perplexity, threads, &conditional);
    const SparseRows p = symmetrise(index, conditional, n, k);
    PairAttraction attraction(p, n);

    // The start, drawn in the rows' order.
    std::vector<float> y(std::size_t(n) * 2);
    {
        std::mt19937_64 random(o.seed);
        std::normal_distribution<double> start(0.0, 1e-4);
        std::vector<float> drawn(y.size());
        for (float &v : drawn)
            v = float(start(random));
        for (int r = 0; r < n; ++r) {
            y[std::size_t(r) * 2] = drawn[std::size_t(order[std::size_t(r)]) * 2];
            y[std::size_t(r) * 2 + 1] = drawn[std::size_t(order[std::size_t(r)]) * 2 + 1];
        }
    }
    std::vector<double> update(y.size(), 0.0), gains(y.size(), 1.0);
    std::vector<double> attract(y.size(), 0.0), repulse(y.size(), 0.0);
    std::vector<double> zParts(std::size_t(n), 0.0);
    const double rate = o.learningRate > 0 ? o.learningRate : std::max(n / 12.0, 50.0);

    for (int iteration = 1; iteration <= o.iterations; ++iteration) {
        if (cancelled && cancelled()) {
            *layout = inRowOrder(y);
            return Status::failure(QStringLiteral("cancelled"));
        }
        const bool early = iteration <= o.exaggerationIterations;
        const double exaggeration = early ? o.exaggeration : 1.0;
        const double momentum = early ? 0.5 : 0.8;
        // First the attraction's blocks (exact, over the neighbours), taken by the threads in
        // turn while the first one builds the tree; then, per group of points, the repulsion
        // (Barnes-Hut over the group's interaction list, unnormalised) with each point's part
        // of Z, summed in row order afterwards, and each point's attraction added up.
        std::unique_ptr<QuadTree> tree;
        std::atomic<int> nextBlock{0};
        split(
            threads, threads,
            [&](int from, int) {
                if (from == 0)
                    tree = std::make_unique<QuadTree>(y, n);
                for (int b = nextBlock++; b < PairAttraction::blocks(); b = nextBlock++)
                    attraction.block(b, y);
            },
            1);
        const std::vector<int> groups = tree->groups();
        const std::vector<int> &treeOrder = tree->order();
        split(
            int(groups.size()), threads,
            [&](int from, int to) {
                InteractionList list;
                for (int g = from; g < to; ++g) {
                    const int group = groups[std::size_t(g)];
                    tree->interactions(group, o.theta, &list);
                    for (int at = tree->groupFrom(group); at < tree->groupTo(group); ++at) {
                        const int i = treeOrder[std::size_t(at)];
                        const float xf = y[std::size_t(i) * 2], yf = y[std::size_t(i) * 2 + 1];
                        double rx = 0, ry = 0, z = 0;
                        repulsionFrom(list, xf, yf, &rx, &ry, &z);
                        repulse[std::size_t(i) * 2] = rx;
                        repulse[std::size_t(i) * 2 + 1] = ry;
                        zParts[std::size_t(i)] = z - 1.0; // itself, at distance 0, is in the list
                        attraction.on(i, &attract[std::size_t(i) * 2],
                                      &attract[std::size_t(i) * 2 + 1]);
                    }
                }
            },
            8);
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
            !onProgress(iteration, inRowOrder(y))) {
            *layout = inRowOrder(y);
            return Status::failure(QStringLiteral("cancelled"));
        }
    }
    *layout = inRowOrder(y);
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
