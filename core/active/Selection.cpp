#include "active/Selection.h"

#include "KMeans.h"
#include "common/Distances.h"

#include <QHash>
#include <QSet>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <thread>

namespace emolens {

namespace {

struct Named
{
    SelectionStrategy strategy;
    const char *name;
    const char *title;
};

constexpr Named kNames[] = {
    {SelectionStrategy::Random, "random", "Random (the baseline)"},
    {SelectionStrategy::LeastConfidence, "least-confidence", "Least confidence"},
    {SelectionStrategy::Margin, "margin", "Margin (smallest top-2 gap)"},
    {SelectionStrategy::Entropy, "entropy", "Entropy"},
    {SelectionStrategy::CoreSet, "core-set", "Core-set (far from the labeled)"},
    {SelectionStrategy::ColdStart, "cold-start", "Cold start (no model needed)"},
    {SelectionStrategy::Hybrid, "hybrid", "Hybrid (margin inside clusters)"},
    {SelectionStrategy::Bald, "bald", "BALD (MC dropout disagreement)"},
    {SelectionStrategy::Badge, "badge", "BADGE (gradient embeddings, k-means++)"},
    {SelectionStrategy::Alps, "alps", "ALPS (surprisal clusters; needs adapter TAPT)"}};

// The two most probable classes of a row and their probabilities.
struct TopTwo
{
    int first = -1, second = -1;
    double p1 = 0, p2 = 0;
};

TopTwo topTwo(const float *p, int classes)
{
    TopTwo t;
    for (int c = 0; c < classes; ++c) {
        if (t.first < 0 || p[c] > t.p1) {
            t.second = t.first;
            t.p2 = t.p1;
            t.first = c;
            t.p1 = p[c];
        } else if (t.second < 0 || p[c] > t.p2) {
            t.second = c;
            t.p2 = p[c];
        }
    }
    return t;
}

double squaredDistance(const float *a, const float *b, int dims)
{
    double sum = 0;
    for (int k = 0; k < dims; ++k) {
        const double d = double(a[k]) - double(b[k]);
        sum += d * d;
    }
    return sum;
}

bool flag(const std::vector<bool> &flags, int row)
{
    return row < int(flags.size()) && flags[std::size_t(row)];
}

bool withinDuration(const SelectionPool &pool, const SelectionOptions &o, int row)
{
    const double s = row < int(pool.seconds.size()) ? pool.seconds[std::size_t(row)] : 0;
    return s >= o.minSeconds && (o.maxSeconds <= 0 || s <= o.maxSeconds);
}

// The rows a strategy may pick: unlabeled (unless asked; with second opinions, not labeled by
// the round's annotator), within the duration range.
std::vector<int> eligibleRows(const SelectionPool &pool, const SelectionOptions &o)
{
    std::vector<int> rows;
    for (int r = 0; r < pool.rows(); ++r) {
        if (!o.includeLabeled && (o.secondOpinions ? flag(pool.mine, r) : flag(pool.labeled, r)))
            continue;
        if (!withinDuration(pool, o, r))
            continue;
        rows.push_back(r);
    }
    return rows;
}

// Takes picks from a ranked list while the per-speaker cap allows, up to count.
QList<SelectionPick> capped(const SelectionPool &pool, const SelectionOptions &o,
                            const QList<SelectionPick> &ranked)
{
    QList<SelectionPick> out;
    QHash<qint64, int> perSpeaker;
    for (const SelectionPick &p : ranked) {
        if (out.size() >= o.count)
            break;
        const qint64 speaker = pool.speakers.value(p.row, 0);
        if (o.perSpeaker > 0 && speaker != 0 && perSpeaker.value(speaker) >= o.perSpeaker)
            continue;
        ++perSpeaker[speaker];
        out.append(p);
    }
    return out;
}

void describePrediction(const SelectionPool &pool, int row, SelectionPick *pick)
{
    const int classes = int(pool.classes.size());
    if (classes == 0 || pool.probabilities.size() < std::size_t(row + 1) * std::size_t(classes))
        return;
    const TopTwo t =
        topTwo(pool.probabilities.data() + std::size_t(row) * std::size_t(classes), classes);
    pick->predicted = t.first;
    pick->confidence = t.p1;
}

// The pool's embeddings of some rows, in place: k-means reads them in chunks, so the rows need
// not be copied out first (a copy of 100,000 x 768 values cost 0.9 s, most of it the first
// touch of 300 MB of fresh pages).
class PoolRows final : public RowSource
{
public:
    PoolRows(const SelectionPool &pool, const std::vector<int> &rows) : m_pool(pool), m_rows(rows)
    {
    }
    std::int64_t rows() const override { return std::int64_t(m_rows.size()); }
    int dims() const override { return m_pool.dims; }
    bool read(std::int64_t first, std::int64_t count, float *out, std::string *error) const override
    {
        if (first < 0 || count < 0 || first + count > rows()) {
            *error = "rows " + std::to_string(first) + "+" + std::to_string(count) +
                     " are outside the pool's " + std::to_string(rows());
            return false;
        }
        const std::size_t dims = std::size_t(m_pool.dims);
        for (std::int64_t i = 0; i < count; ++i)
            std::memcpy(out + std::size_t(i) * dims,
                        m_pool.embeddings.data() +
                            std::size_t(m_rows[std::size_t(first + i)]) * dims,
                        dims * sizeof(float));
        return true;
    }

private:
    const SelectionPool &m_pool;
    const std::vector<int> &m_rows;
};

Status kmeans(const RowSource &matrix, int clusters, std::uint64_t seed, KMeansResult *result,
              std::vector<std::int32_t> *labels)
{
    const std::int64_t count = matrix.rows();
    KMeansOptions k;
    k.clusters = clusters;
    k.iterations = 20;
    k.seed = seed;
    k.threads = 0;
    // Beyond 20,000 clips or 32 clusters (hybrid's one per pick), the mini-batch form seeded
    // from a sample: the clusters spread the picks, and each of Lloyd's passes over 100,000
    // clips x 768 values reads 300 MB (x 500 centres, seconds each).
    if (count > 20000 || clusters > 32) {
        k.initSample = std::min<std::int64_t>(count, std::max<std::int64_t>(2000, 4 * clusters));
        k.batchRows = std::min<std::int64_t>(count, 4096);
        k.iterations = 20;
    }
    k.keepLabels = true; // the pass that measures the result labels the rows too
    if (auto st = runKMeans(matrix, k, result); !st)
        return Status::failure(QString::fromStdString(st.error()));
    *labels = std::move(result->labels);
    return Status::success();
}

// k-center greedy, exact, with the triangle inequality sparing most distance computations:
// every row keeps its nearest centre a and the squared distance r to it; a new centre c can
// only become a row's nearest when |c - a| < 2 sqrt(r) (else |x - c| >= |c - a| - |x - a| >=
// sqrt(r)), so only those rows are compared with c. The first assignment (to the labeled
// clips, or to the pool's mean when none is labeled) is one matrix product (models/KMeans).
template <typename PickOf>
Status coreSet(const SelectionPool &pool, const SelectionOptions &o,
               const std::vector<int> &eligible, const PickOf &pickOf, QList<SelectionPick> *out)
{
    const int dims = pool.dims;
    const auto embedding = [&](int row) {
        return pool.embeddings.data() + std::size_t(row) * std::size_t(dims);
    };
    // The centres so far, as vectors: the labeled clips (or the mean), then the picks.
    std::vector<float> centres;
    for (int r = 0; r < pool.rows(); ++r)
        if (r < int(pool.labeled.size()) && pool.labeled[std::size_t(r)])
            centres.insert(centres.end(), embedding(r), embedding(r) + dims);
    const bool anyLabeled = !centres.empty();
    if (!anyLabeled) {
        std::vector<double> mean(std::size_t(dims), 0.0);
        for (int r = 0; r < pool.rows(); ++r)
            for (int k = 0; k < dims; ++k)
                mean[std::size_t(k)] += embedding(r)[k];
        for (int k = 0; k < dims; ++k)
            centres.push_back(float(mean[std::size_t(k)] / pool.rows()));
    }
    KMeansResult initial;
    initial.clusters = int(centres.size() / std::size_t(dims));
    initial.dims = dims;
    initial.centres = centres;
    std::vector<std::int32_t> nearestCentre;
    std::vector<float> nearest;
    {
        const MatrixRows rows(pool.embeddings.data(), pool.rows(), dims);
        KMeansOptions k;
        k.clusters = initial.clusters;
        k.threads = 0;
        double inertia = 0;
        if (auto st = assignToCentres(rows, initial, k, &nearestCentre, &nearest, &inertia); !st)
            return Status::failure(QString::fromStdString(st.error()));
    }
    std::vector<bool> taken(std::size_t(pool.rows()), false);
    // Speakers as dense slots (slot 0: unknown, never capped), so the cap costs an array read.
    QHash<qint64, int> slotOf;
    std::vector<int> slot(std::size_t(pool.rows()), 0);
    for (int e : eligible) {
        const qint64 speaker = pool.speakers.value(e, 0);
        if (speaker != 0)
            slot[std::size_t(e)] =
                *slotOf.insert(speaker, slotOf.value(speaker, 1 + int(slotOf.size())));
    }
    std::vector<int> picksOf(std::size_t(slotOf.size() + 1), 0);
    std::vector<float> toNew; // squared distance from the new centre to each centre

    // One pass over the eligible rows, split over the cores: with a new centre, each row's
    // nearest centre is updated (where the bound allows a change); and the next pick is the row
    // farthest from its nearest centre, first in pool order among equals (as one thread would
    // find it), among those not taken and under the speaker cap.
    const int workers = std::max(1, std::min(8, int(std::thread::hardware_concurrency())));
    const auto scan = [&](std::size_t from, std::size_t to, const float *c, int centre) {
        int best = -1;
        for (std::size_t i = from; i < to; ++i) {
            const int e = eligible[i];
            if (taken[std::size_t(e)])
                continue;
            if (c) {
                const float r = nearest[std::size_t(e)];
                if (toNew[std::size_t(nearestCentre[std::size_t(e)])] < 4 * r) {
                    const float d = squaredDistanceFloat(embedding(e), c, dims);
                    if (d < r) {
                        nearest[std::size_t(e)] = d;
                        nearestCentre[std::size_t(e)] = centre;
                    }
                }
            }
            const int s = slot[std::size_t(e)];
            if (o.perSpeaker > 0 && s != 0 && picksOf[std::size_t(s)] >= o.perSpeaker)
                continue;
            if (best < 0 || nearest[std::size_t(e)] > nearest[std::size_t(best)])
                best = e;
        }
        return best;
    };
    const auto pass = [&](const float *c, int centre) {
        const std::size_t n = eligible.size();
        std::vector<int> bests(std::size_t(workers), -1);
        if (workers == 1 || n < 4096) {
            bests[0] = scan(0, n, c, centre);
        } else {
            std::vector<std::thread> threads;
            for (int w = 1; w < workers; ++w)
                threads.emplace_back([&, w] {
                    bests[std::size_t(w)] =
                        scan(n * std::size_t(w) / std::size_t(workers),
                             n * std::size_t(w + 1) / std::size_t(workers), c, centre);
                });
            bests[0] = scan(0, n / std::size_t(workers), c, centre);
            for (std::thread &t : threads)
                t.join();
        }
        int best = -1;
        for (int b : bests)
            if (b >= 0 && (best < 0 || nearest[std::size_t(b)] > nearest[std::size_t(best)]))
                best = b;
        return best;
    };

    int best = pass(nullptr, 0);
    while (out->size() < o.count && best >= 0) {
        taken[std::size_t(best)] = true;
        ++picksOf[std::size_t(slot[std::size_t(best)])];
        const double distance = std::sqrt(std::max(0.f, nearest[std::size_t(best)]));
        out->append(pickOf(
            best, distance,
            out->isEmpty() && !anyLabeled
                ? QStringLiteral("farthest from the pool's mean (%1)").arg(distance, 0, 'f', 2)
                : QStringLiteral("%1 from everything labeled or picked").arg(distance, 0, 'f', 2)));
        if (out->size() >= o.count)
            break;
        // The pick becomes a centre.
        const float *c = embedding(best);
        const int count = int(centres.size() / std::size_t(dims));
        toNew.resize(std::size_t(count));
        for (int j = 0; j < count; ++j)
            toNew[std::size_t(j)] =
                squaredDistanceFloat(c, centres.data() + std::size_t(j) * std::size_t(dims), dims);
        centres.insert(centres.end(), c, c + dims);
        best = pass(c, count);
    }
    return Status::success();
}

// BADGE: k-means++ seeding over gradient embeddings g = a outer h, a = p - onehot(top) and h
// the classifier's input. For two such embeddings |g_i - g_j|^2 = |a_i|^2 |h_i|^2 +
// |a_j|^2 |h_j|^2 - 2 (a_i . a_j)(h_i . h_j), so each distance costs O(c + h).
template <typename PickOf>
Status badge(const SelectionPool &pool, const SelectionOptions &o, const std::vector<int> &eligible,
             const PickOf &pickOf, QList<SelectionPick> *out)
{
    const int classes = int(pool.classes.size());
    const int dims = pool.headDims;
    const std::size_t n = eligible.size();
    std::vector<float> a(n * std::size_t(classes));
    std::vector<double> norm2(n); // |g|^2
    for (std::size_t i = 0; i < n; ++i) {
        const int row = eligible[i];
        const float *p = pool.probabilities.data() + std::size_t(row) * classes;
        const int top = topTwo(p, classes).first;
        double aa = 0;
        for (int c = 0; c < classes; ++c) {
            const float v = p[c] - (c == top ? 1.f : 0.f);
            a[i * classes + c] = v;
            aa += double(v) * v;
        }
        const float *h = pool.classifierInputs.data() + std::size_t(row) * dims;
        double hh = 0;
        for (int k = 0; k < dims; ++k)
            hh += double(h[k]) * h[k];
        norm2[i] = aa * hh;
    }
    const auto input = [&](std::size_t i) {
        return pool.classifierInputs.data() + std::size_t(eligible[i]) * dims;
    };
    std::vector<double> nearest(n, std::numeric_limits<double>::infinity());
    std::vector<char> taken(n, 0); // not vector<bool>: the threads read it
    const int workers = std::max(1, std::min(8, int(std::thread::hardware_concurrency())));
    QHash<qint64, int> perSpeaker;
    std::mt19937_64 random(o.seed);
    const auto allowed = [&](std::size_t i) {
        const qint64 speaker = pool.speakers.value(eligible[i], 0);
        return !taken[i] &&
               !(o.perSpeaker > 0 && speaker != 0 && perSpeaker.value(speaker) >= o.perSpeaker);
    };
    // The first pick: the largest gradient norm (BADGE's first centre).
    std::size_t chosen = n;
    for (std::size_t i = 0; i < n; ++i)
        if (allowed(i) && (chosen == n || norm2[i] > norm2[chosen]))
            chosen = i;
    double chosenD2 = 0;
    while (chosen < n && out->size() < o.count) {
        taken[chosen] = true;
        ++perSpeaker[pool.speakers.value(eligible[chosen], 0)];
        out->append(pickOf(eligible[chosen], std::sqrt(norm2[chosen]),
                           out->isEmpty()
                               ? QStringLiteral("the largest gradient norm, %1: the model would "
                                                "change most for its label")
                                     .arg(std::sqrt(norm2[chosen]), 0, 'f', 3)
                               : QStringLiteral("gradient norm %1, %2 from the picks before it")
                                     .arg(std::sqrt(norm2[chosen]), 0, 'f', 3)
                                     .arg(std::sqrt(chosenD2), 0, 'f', 3)));
        // Distances to the new pick, split over the cores. A row whose gradient norm differs
        // from the pick's by at least its current distance cannot come nearer (|g_i - g_c| >=
        // ||g_i| - |g_c||): it is skipped. Then the next pick is drawn in proportion to D^2.
        const float *hc = input(chosen);
        const float *ac = a.data() + chosen * classes;
        const double gc = std::sqrt(norm2[chosen]);
        const double chosenNorm2 = norm2[chosen];
        const auto update = [&](std::size_t from, std::size_t to) {
            for (std::size_t i = from; i < to; ++i) {
                if (taken[i])
                    continue;
                const double gap = std::sqrt(norm2[i]) - gc;
                if (gap * gap >= nearest[i])
                    continue;
                double dotA = 0;
                const float *ai = a.data() + i * classes;
                for (int c = 0; c < classes; ++c)
                    dotA += double(ai[c]) * ac[c];
                const double dotH = dotFloat(input(i), hc, dims);
                nearest[i] =
                    std::min(nearest[i], std::max(0.0, norm2[i] + chosenNorm2 - 2 * dotA * dotH));
            }
        };
        if (workers == 1 || n < 4096) {
            update(0, n);
        } else {
            std::vector<std::thread> threads;
            for (int w = 1; w < workers; ++w)
                threads.emplace_back([&, w] {
                    update(n * std::size_t(w) / std::size_t(workers),
                           n * std::size_t(w + 1) / std::size_t(workers));
                });
            update(0, n / std::size_t(workers));
            for (std::thread &t : threads)
                t.join();
        }
        double total = 0; // in row order, so the draw does not depend on the threads
        for (std::size_t i = 0; i < n; ++i)
            if (allowed(i))
                total += nearest[i];
        chosen = n;
        if (total <= 0) { // every clip left coincides with a pick: take them in order
            for (std::size_t i = 0; i < n && chosen == n; ++i)
                if (allowed(i))
                    chosen = i;
            chosenD2 = 0;
            continue;
        }
        double target = std::uniform_real_distribution<double>(0, total)(random);
        for (std::size_t i = 0; i < n; ++i) {
            if (!allowed(i) || nearest[i] <= 0)
                continue; // a clip that coincides with a pick is never drawn
            chosen = i;
            target -= nearest[i];
            if (target <= 0)
                break;
        }
        chosenD2 = chosen < n ? nearest[chosen] : 0;
    }
    return Status::success();
}

// ALPS: the eligible rows' surprisal embeddings scaled to unit length, k-means with k = count,
// each cluster's clip nearest its centre, the clusters largest first. When the per-speaker cap
// turns a clip away, its cluster's next nearest takes its place (after every cluster's
// nearest).
template <typename PickOf>
Status alps(const SelectionPool &pool, const SelectionOptions &o, const std::vector<int> &eligible,
            const PickOf &pickOf, QList<SelectionPick> *out)
{
    const std::size_t dims = std::size_t(pool.surprisalDims);
    std::vector<float> unit(eligible.size() * dims);
    std::vector<double> meanNats(eligible.size());
    for (std::size_t i = 0; i < eligible.size(); ++i) {
        const float *from = pool.surprisal.data() + std::size_t(eligible[i]) * dims;
        float *to = unit.data() + i * dims;
        double squares = 0, sum = 0;
        for (std::size_t k = 0; k < dims; ++k) {
            squares += double(from[k]) * double(from[k]);
            sum += double(from[k]);
        }
        meanNats[i] = sum / double(dims);
        const double scale = squares > 0 ? 1.0 / std::sqrt(squares) : 0.0;
        for (std::size_t k = 0; k < dims; ++k)
            to[k] = float(double(from[k]) * scale);
    }
    const int k = std::min<int>(int(eligible.size()), o.count);
    KMeansResult centres;
    std::vector<std::int32_t> labels;
    if (auto st = kmeans(MatrixRows(unit.data(), std::int64_t(eligible.size()), int(dims)), k,
                         o.seed, &centres, &labels);
        !st)
        return st;
    std::vector<std::vector<std::pair<double, std::size_t>>> members(static_cast<std::size_t>(k));
    for (std::size_t i = 0; i < eligible.size(); ++i)
        members[std::size_t(labels[i])].emplace_back(
            squaredDistance(unit.data() + i * dims,
                            centres.centres.data() + std::size_t(labels[i]) * dims, int(dims)),
            i);
    std::vector<int> order;
    for (int c = 0; c < k; ++c) {
        auto &m = members[std::size_t(c)];
        std::stable_sort(m.begin(), m.end(),
                         [](const auto &a, const auto &b) { return a.first < b.first; });
        if (!m.empty())
            order.push_back(c);
    }
    std::stable_sort(order.begin(), order.end(), [&members](int a, int b) {
        return members[std::size_t(a)].size() > members[std::size_t(b)].size();
    });
    QHash<qint64, int> perSpeaker;
    for (std::size_t level = 0; out->size() < o.count; ++level) {
        bool any = false;
        for (std::size_t n = 0; n < order.size() && out->size() < o.count; ++n) {
            const auto &m = members[std::size_t(order[n])];
            if (level >= m.size())
                continue;
            any = true;
            const std::size_t i = m[level].second;
            const int row = eligible[i];
            const qint64 speaker = pool.speakers.value(row, 0);
            if (o.perSpeaker > 0 && speaker != 0 && perSpeaker.value(speaker) >= o.perSpeaker)
                continue;
            ++perSpeaker[speaker];
            out->append(
                pickOf(row, double(m.size()),
                       QStringLiteral("%1 the centre of surprisal cluster %2 of %3 (%4 "
                                      "clips); %5 nats a frame")
                           .arg(level == 0 ? QStringLiteral("nearest") : QStringLiteral("near"))
                           .arg(n + 1)
                           .arg(k)
                           .arg(m.size())
                           .arg(meanNats[i], 0, 'f', 2)));
        }
        if (!any)
            break;
    }
    return Status::success();
}

} // namespace

QString selectionStrategyName(SelectionStrategy strategy)
{
    for (const Named &n : kNames)
        if (n.strategy == strategy)
            return QString::fromLatin1(n.name);
    return QString();
}

QString selectionStrategyTitle(SelectionStrategy strategy)
{
    for (const Named &n : kNames)
        if (n.strategy == strategy)
            return QString::fromLatin1(n.title);
    return QString();
}

bool selectionStrategyFromName(const QString &name, SelectionStrategy *out)
{
    for (const Named &n : kNames)
        if (name == QLatin1String(n.name)) {
            *out = n.strategy;
            return true;
        }
    return false;
}

QStringList selectionStrategyNames()
{
    QStringList names;
    for (const Named &n : kNames)
        names << QString::fromLatin1(n.name);
    return names;
}

bool selectionNeedsModel(SelectionStrategy strategy)
{
    return strategy == SelectionStrategy::LeastConfidence ||
           strategy == SelectionStrategy::Margin || strategy == SelectionStrategy::Entropy ||
           strategy == SelectionStrategy::Hybrid || strategy == SelectionStrategy::Bald ||
           strategy == SelectionStrategy::Badge;
}

bool selectionNeedsPasses(SelectionStrategy strategy)
{
    return strategy == SelectionStrategy::Bald;
}

bool selectionNeedsClassifierInputs(SelectionStrategy strategy)
{
    return strategy == SelectionStrategy::Badge;
}

bool selectionNeedsSurprisal(SelectionStrategy strategy)
{
    return strategy == SelectionStrategy::Alps;
}

namespace {

// The strategy's picks among `eligible` (at most o.count), best first. The pool has what the
// strategy needs (selectClips checked).
Status rankByStrategy(const SelectionPool &pool, const SelectionOptions &o,
                      const std::vector<int> &eligible, QList<SelectionPick> *out)
{
    out->clear();
    if (eligible.empty() || o.count < 1)
        return Status::success();
    const int classes = int(pool.classes.size());
    const auto probabilities = [&](int row) {
        return pool.probabilities.data() + std::size_t(row) * std::size_t(classes);
    };
    const auto embedding = [&](int row) {
        return pool.embeddings.data() + std::size_t(row) * std::size_t(pool.dims);
    };
    const auto pickOf = [&](int row, double score, const QString &reason) {
        SelectionPick p;
        p.row = row;
        p.utteranceId = pool.utteranceIds[row];
        p.score = score;
        p.reason = reason;
        describePrediction(pool, row, &p);
        return p;
    };
    // Best first by a key (ascending), ties in pool order.
    const auto ranked = [&](const std::vector<std::pair<double, int>> &keyed,
                            const auto &makePick) {
        std::vector<std::pair<double, int>> order = keyed;
        std::stable_sort(order.begin(), order.end(),
                         [](const auto &a, const auto &b) { return a.first < b.first; });
        QList<SelectionPick> list;
        for (const auto &[key, row] : order)
            list.append(makePick(row));
        return capped(pool, o, list);
    };

    switch (o.strategy) {
    case SelectionStrategy::Random: {
        std::vector<int> order = eligible;
        std::mt19937_64 random(o.seed);
        std::shuffle(order.begin(), order.end(), random);
        QList<SelectionPick> list;
        for (int row : order)
            list.append(pickOf(row, 0, QStringLiteral("random order (seed %1)").arg(o.seed)));
        *out = capped(pool, o, list);
        return Status::success();
    }
    case SelectionStrategy::LeastConfidence:
    case SelectionStrategy::Margin:
    case SelectionStrategy::Entropy: {
        std::vector<std::pair<double, int>> keyed;
        for (int row : eligible) {
            const float *p = probabilities(row);
            double key = 0;
            if (o.strategy == SelectionStrategy::LeastConfidence) {
                key = -(1.0 - topTwo(p, classes).p1);
            } else if (o.strategy == SelectionStrategy::Margin) {
                const TopTwo t = topTwo(p, classes);
                key = t.p1 - t.p2;
            } else {
                double h = 0;
                for (int c = 0; c < classes; ++c)
                    if (p[c] > 0)
                        h -= double(p[c]) * std::log(double(p[c]));
                key = -h;
            }
            keyed.emplace_back(key, row);
        }
        *out = ranked(keyed, [&](int row) {
            const float *p = probabilities(row);
            const TopTwo t = topTwo(p, classes);
            if (o.strategy == SelectionStrategy::LeastConfidence)
                return pickOf(row, 1.0 - t.p1,
                              QStringLiteral("confidence %1 in %2")
                                  .arg(t.p1, 0, 'f', 2)
                                  .arg(pool.classes[t.first]));
            if (o.strategy == SelectionStrategy::Margin)
                return pickOf(row, t.p1 - t.p2,
                              QStringLiteral("margin %1 between %2 and %3")
                                  .arg(t.p1 - t.p2, 0, 'f', 2)
                                  .arg(pool.classes[t.first], pool.classes[t.second]));
            double h = 0;
            for (int c = 0; c < classes; ++c)
                if (p[c] > 0)
                    h -= double(p[c]) * std::log(double(p[c]));
            return pickOf(row, h,
                          QStringLiteral("entropy %1 of at most %2 nats")
                              .arg(h, 0, 'f', 2)
                              .arg(std::log(double(classes)), 0, 'f', 2));
        });
        return Status::success();
    }
    case SelectionStrategy::CoreSet:
        return coreSet(pool, o, eligible, pickOf, out);
    case SelectionStrategy::Bald: {
        const auto entropy = [classes](const double *p) {
            double h = 0;
            for (int c = 0; c < classes; ++c)
                if (p[c] > 0)
                    h -= p[c] * std::log(p[c]);
            return h;
        };
        QHash<int, std::pair<double, double>> parts; // row -> (mutual information, mean H)
        std::vector<std::pair<double, int>> keyed;
        std::vector<double> mean(static_cast<std::size_t>(classes));
        std::vector<double> one(static_cast<std::size_t>(classes));
        for (int row : eligible) {
            std::fill(mean.begin(), mean.end(), 0.0);
            double meanEntropy = 0;
            const float *passes =
                pool.passProbabilities.data() + std::size_t(row) * pool.passes * classes;
            for (int t = 0; t < pool.passes; ++t) {
                for (int c = 0; c < classes; ++c) {
                    one[std::size_t(c)] = passes[t * classes + c];
                    mean[std::size_t(c)] += one[std::size_t(c)] / pool.passes;
                }
                meanEntropy += entropy(one.data()) / pool.passes;
            }
            const double information = std::max(0.0, entropy(mean.data()) - meanEntropy);
            parts.insert(row, {information, meanEntropy});
            keyed.emplace_back(-information, row);
        }
        *out = ranked(keyed, [&](int row) {
            const auto [information, meanEntropy] = parts.value(row);
            return pickOf(row, information,
                          QStringLiteral("the %1 dropout passes disagree: mutual information "
                                         "%2 nats (each pass's entropy %3)")
                              .arg(pool.passes)
                              .arg(information, 0, 'f', 3)
                              .arg(meanEntropy, 0, 'f', 2));
        });
        return Status::success();
    }
    case SelectionStrategy::Badge:
        return badge(pool, o, eligible, pickOf, out);
    case SelectionStrategy::Alps:
        return alps(pool, o, eligible, pickOf, out);
    case SelectionStrategy::ColdStart:
    case SelectionStrategy::Hybrid: {
        const bool hybrid = o.strategy == SelectionStrategy::Hybrid;
        const int k =
            std::min<int>(int(eligible.size()), std::max(1, hybrid ? o.count : o.clusters));
        KMeansResult centres;
        std::vector<std::int32_t> labels;
        if (auto st = kmeans(PoolRows(pool, eligible), k, o.seed, &centres, &labels); !st)
            return st;
        // Per cluster, its rows by the order the strategy takes them.
        std::vector<std::vector<std::pair<double, int>>> members(static_cast<std::size_t>(k));
        for (std::size_t i = 0; i < eligible.size(); ++i) {
            const int row = eligible[i];
            double key = 0;
            if (hybrid) {
                const TopTwo t = topTwo(probabilities(row), classes);
                key = t.p1 - t.p2;
            } else {
                key = squaredDistance(embedding(row),
                                      centres.centres.data() +
                                          std::size_t(labels[i]) * std::size_t(pool.dims),
                                      pool.dims);
            }
            members[std::size_t(labels[i])].emplace_back(key, row);
        }
        for (auto &m : members)
            std::stable_sort(m.begin(), m.end(),
                             [](const auto &a, const auto &b) { return a.first < b.first; });
        if (hybrid) {
            // Each cluster's most uncertain clip, then the picks ranked by their margin.
            std::vector<std::pair<double, int>> heads;
            QHash<int, int> clusterOf;
            for (int c = 0; c < k; ++c)
                if (!members[std::size_t(c)].empty()) {
                    heads.push_back(members[std::size_t(c)].front());
                    clusterOf[members[std::size_t(c)].front().second] = c;
                }
            *out = ranked(heads, [&](int row) {
                const TopTwo t = topTwo(probabilities(row), classes);
                return pickOf(row, t.p1 - t.p2,
                              QStringLiteral("cluster %1 of %2, margin %3 between %4 and %5")
                                  .arg(clusterOf.value(row) + 1)
                                  .arg(k)
                                  .arg(t.p1 - t.p2, 0, 'f', 2)
                                  .arg(pool.classes[t.first], pool.classes[t.second]));
            });
            return Status::success();
        }
        // Cold start: the centres in turn, each giving its nearest clip not taken yet, from a
        // speaker with the fewest picks so far (nearest first among those). Speakers are dense
        // slots (an array read per row), and a cluster's scan stops at a speaker with as few
        // picks as any speaker has: none can have fewer.
        std::vector<std::size_t> next(std::size_t(k), 0);
        std::vector<bool> taken(std::size_t(pool.rows()), false);
        QHash<qint64, int> slotOf;
        std::vector<int> slot(std::size_t(pool.rows()), 0);
        for (int e : eligible)
            slot[std::size_t(e)] =
                *slotOf.insert(pool.speakers.value(e, 0),
                               slotOf.value(pool.speakers.value(e, 0), int(slotOf.size())));
        std::vector<int> picksOf(std::size_t(slotOf.size()), 0);
        // How many speakers have each number of picks, and the smallest such number.
        std::vector<int> atLevel(std::size_t(o.count) + 2, 0);
        atLevel[0] = int(slotOf.size());
        int fewestAnywhere = 0;
        bool progress = true;
        while (out->size() < o.count && progress) {
            progress = false;
            for (int c = 0; c < k && out->size() < o.count; ++c) {
                auto &m = members[std::size_t(c)];
                int chosen = -1;
                int fewest = std::numeric_limits<int>::max();
                for (std::size_t j = next[std::size_t(c)]; j < m.size(); ++j) {
                    const int row = m[j].second;
                    if (taken[std::size_t(row)])
                        continue;
                    const int picks = picksOf[std::size_t(slot[std::size_t(row)])];
                    if (o.perSpeaker > 0 && pool.speakers.value(row, 0) != 0 &&
                        picks >= o.perSpeaker)
                        continue;
                    if (picks < fewest) {
                        fewest = picks;
                        chosen = int(j);
                        if (picks <= fewestAnywhere)
                            break;
                    }
                }
                if (chosen < 0)
                    continue;
                const int row = m[std::size_t(chosen)].second;
                taken[std::size_t(row)] = true;
                while (next[std::size_t(c)] < m.size() &&
                       taken[std::size_t(m[next[std::size_t(c)]].second)])
                    ++next[std::size_t(c)];
                {
                    int &picks = picksOf[std::size_t(slot[std::size_t(row)])];
                    --atLevel[std::size_t(picks)];
                    ++picks;
                    ++atLevel[std::size_t(picks)];
                    while (atLevel[std::size_t(fewestAnywhere)] == 0)
                        ++fewestAnywhere;
                }
                progress = true;
                out->append(pickOf(row, std::sqrt(m[std::size_t(chosen)].first),
                                   QStringLiteral("near the centre of cluster %1 of %2 (%3)")
                                       .arg(c + 1)
                                       .arg(k)
                                       .arg(std::sqrt(m[std::size_t(chosen)].first), 0, 'f', 2)));
            }
        }
        return Status::success();
    }
    }
    return Status::failure(QStringLiteral("unknown selection strategy"));
}

// favourRare (ours): the picks shared among the predicted classes in inverse proportion to
// each class's labels + 1, the strategy ranking within each share, interleaved rarest first.
Status favourRareClasses(const SelectionPool &pool, const SelectionOptions &o,
                         const std::vector<int> &eligible, QList<SelectionPick> *out)
{
    out->clear();
    const int classes = int(pool.classes.size());
    std::vector<int> labels(std::size_t(classes), 0);
    for (int r = 0; r < pool.rows(); ++r)
        if (flag(pool.labeled, r) && r < int(pool.labelClasses.size()) &&
            pool.labelClasses[std::size_t(r)] >= 0 && pool.labelClasses[std::size_t(r)] < classes)
            ++labels[std::size_t(pool.labelClasses[std::size_t(r)])];
    std::vector<std::vector<int>> byClass(static_cast<std::size_t>(classes));
    for (int row : eligible)
        byClass[std::size_t(
                    topTwo(pool.probabilities.data() + std::size_t(row) * classes, classes).first)]
            .push_back(row);
    // Shares one pick at a time to the class whose share per weight would stay smallest
    // ((share + 1) x (labels + 1)), as far as it has clips: proportional to the weights.
    std::vector<int> share(std::size_t(classes), 0);
    for (int given = 0; given < o.count; ++given) {
        int best = -1;
        for (int c = 0; c < classes; ++c) {
            const auto cc = std::size_t(c);
            if (share[cc] >= int(byClass[cc].size()))
                continue;
            if (best < 0 ||
                double(share[cc] + 1) * (labels[cc] + 1) <
                    double(share[std::size_t(best)] + 1) * (labels[std::size_t(best)] + 1))
                best = c;
        }
        if (best < 0)
            break;
        ++share[std::size_t(best)];
    }
    std::vector<int> rarest(static_cast<std::size_t>(classes));
    std::iota(rarest.begin(), rarest.end(), 0);
    std::stable_sort(rarest.begin(), rarest.end(),
                     [&](int a, int b) { return labels[std::size_t(a)] < labels[std::size_t(b)]; });
    std::vector<QList<SelectionPick>> lists(static_cast<std::size_t>(classes));
    for (int c : rarest) {
        const auto cc = std::size_t(c);
        if (share[cc] == 0)
            continue;
        SelectionOptions one = o;
        one.count = share[cc];
        if (auto st = rankByStrategy(pool, one, byClass[cc], &lists[cc]); !st)
            return st;
        for (SelectionPick &p : lists[cc])
            p.reason += QStringLiteral("; for %1, a share of %2 picks (%3 labeled so far)")
                            .arg(pool.classes[c])
                            .arg(share[cc])
                            .arg(labels[cc]);
    }
    QList<SelectionPick> merged;
    for (int i = 0;; ++i) {
        bool any = false;
        for (int c : rarest)
            if (i < lists[std::size_t(c)].size()) {
                merged.append(lists[std::size_t(c)][i]);
                any = true;
            }
        if (!any)
            break;
    }
    *out = capped(pool, o, merged);
    if (out->size() >= o.count || o.perSpeaker <= 0)
        return Status::success();
    // The speaker cap cut the list: top it up from the strategy's ranking of the rows left
    // (not picked, of speakers under the cap).
    QHash<qint64, int> perSpeaker;
    QSet<int> picked;
    for (const SelectionPick &p : std::as_const(*out)) {
        ++perSpeaker[pool.speakers.value(p.row, 0)];
        picked.insert(p.row);
    }
    std::vector<int> left;
    for (int row : eligible) {
        const qint64 speaker = pool.speakers.value(row, 0);
        if (!picked.contains(row) && (speaker == 0 || perSpeaker.value(speaker) < o.perSpeaker))
            left.push_back(row);
    }
    SelectionOptions more = o;
    more.count = o.count - int(out->size());
    QList<SelectionPick> extra;
    if (auto st = rankByStrategy(pool, more, left, &extra); !st)
        return st;
    *out = capped(pool, o, *out + extra);
    return Status::success();
}

} // namespace

Status selectClips(const SelectionPool &pool, const SelectionOptions &o, QList<SelectionPick> *out)
{
    out->clear();
    const QString name = selectionStrategyName(o.strategy);
    if (o.count < 1)
        return Status::failure(QStringLiteral("select at least one clip"));
    const int classes = int(pool.classes.size());
    if (selectionNeedsModel(o.strategy) &&
        (classes < 2 || pool.probabilities.size() != std::size_t(pool.rows()) * classes))
        return Status::failure(
            QStringLiteral("%1 ranks by the model's posteriors, and there are none: train a "
                           "model first, or start with cold-start (no model needed)")
                .arg(name));
    const bool needsEmbeddings = o.strategy == SelectionStrategy::CoreSet ||
                                 o.strategy == SelectionStrategy::ColdStart ||
                                 o.strategy == SelectionStrategy::Hybrid;
    if (needsEmbeddings &&
        (pool.dims < 1 || pool.embeddings.size() != std::size_t(pool.rows()) * pool.dims))
        return Status::failure(
            QStringLiteral("%1 compares the clips' embeddings, and the pool has none: extract "
                           "features first")
                .arg(name));
    if (o.strategy == SelectionStrategy::Bald &&
        (pool.passes < 1 ||
         pool.passProbabilities.size() != std::size_t(pool.rows()) * pool.passes * classes))
        return Status::failure(QStringLiteral("bald needs the model's dropout passes of every "
                                              "clip, and the pool has none"));
    if (selectionNeedsSurprisal(o.strategy) &&
        (pool.surprisalDims < 1 ||
         pool.surprisal.size() != std::size_t(pool.rows()) * std::size_t(pool.surprisalDims)))
        return Status::failure(QStringLiteral(
            "alps clusters the clips' surprisal under a pre-trained backbone, and the pool has "
            "none: pre-train one first (Model > Pre-train on Every Clip, or emolens-cli "
            "pretrain)"));
    if (o.strategy == SelectionStrategy::Badge &&
        (pool.headDims < 1 ||
         pool.classifierInputs.size() != std::size_t(pool.rows()) * pool.headDims))
        return Status::failure(QStringLiteral("badge needs the classifier's input of every clip, "
                                              "and the pool has none"));
    if ((o.secondOpinions || o.disagreementsFirst) && !o.includeLabeled &&
        pool.mine.size() != std::size_t(pool.rows()))
        return Status::failure(QStringLiteral("second opinions and disagreements need to know "
                                              "whose labels to skip: name the annotator"));
    if (o.favourRare &&
        (classes < 2 || pool.probabilities.size() != std::size_t(pool.rows()) * classes))
        return Status::failure(
            QStringLiteral("favouring rare classes needs the model's predictions, and there "
                           "are none: train a model first"));
    std::vector<int> eligible = eligibleRows(pool, o);
    // Clips people disagree on, which the annotator has not labeled: first, fewest opinions
    // first (breadth-first), ties in pool order.
    QList<SelectionPick> first;
    if (o.disagreementsFirst) {
        std::vector<std::pair<int, int>> disputed; // (opinions, row)
        for (int r = 0; r < pool.rows(); ++r)
            if (!pool.disagreements.value(r).isEmpty() && !flag(pool.mine, r) &&
                withinDuration(pool, o, r))
                disputed.emplace_back(
                    pool.opinions.size() > std::size_t(r) ? pool.opinions[std::size_t(r)] : 0, r);
        std::stable_sort(disputed.begin(), disputed.end(),
                         [](const auto &a, const auto &b) { return a.first < b.first; });
        QList<SelectionPick> list;
        for (const auto &[opinions, row] : disputed) {
            SelectionPick p;
            p.row = row;
            p.utteranceId = pool.utteranceIds[row];
            p.score = opinions;
            p.reason = QStringLiteral("people disagree (%1): another opinion is needed")
                           .arg(pool.disagreements[row]);
            describePrediction(pool, row, &p);
            list.append(p);
        }
        first = capped(pool, o, list);
        QSet<int> taken;
        for (const SelectionPick &p : std::as_const(first))
            taken.insert(p.row);
        eligible.erase(std::remove_if(eligible.begin(), eligible.end(),
                                      [&](int row) { return taken.contains(row); }),
                       eligible.end());
    }
    SelectionOptions rest = o;
    rest.count = o.count - int(first.size());
    QList<SelectionPick> ranked;
    if (rest.count > 0 && !eligible.empty())
        if (auto st = o.favourRare ? favourRareClasses(pool, rest, eligible, &ranked)
                                   : rankByStrategy(pool, rest, eligible, &ranked);
            !st)
            return st;
    *out = first.isEmpty() ? ranked : capped(pool, o, first + ranked);
    return Status::success();
}

} // namespace emolens
