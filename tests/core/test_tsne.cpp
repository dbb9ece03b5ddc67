// Our t-SNE (core/analysis/Tsne) on inputs whose answer is known: well-separated Gaussian
// clusters stay apart in the layout (every point's layout neighbours are of its cluster, and
// trustworthiness is high), the same seed gives the same layout and another seed another one,
// a cancel stops it within an iteration, and bad settings are refused with the reason.
// Trustworthiness itself is checked on hand-made layouts.

#include "analysis/Tsne.h"

#include <QElapsedTimer>
#include <QTest>
#include <cmath>
#include <random>

using namespace emolens;

namespace {

// `clusters` Gaussian blobs of `each` points in `dims` dimensions, centres 20 apart on the
// axes, unit noise; labels[i] is point i's blob.
std::vector<float> blobs(int clusters, int each, int dims, std::vector<int> *labels)
{
    std::mt19937_64 random(7);
    std::normal_distribution<float> noise;
    std::vector<float> rows;
    labels->clear();
    for (int c = 0; c < clusters; ++c)
        for (int i = 0; i < each; ++i) {
            for (int d = 0; d < dims; ++d)
                rows.push_back((d == c ? 20.f : 0.f) + noise(random));
            labels->push_back(c);
        }
    return rows;
}

// The fraction of points whose k nearest in the layout all share their label.
double neighbourPurity(const std::vector<float> &layout, const std::vector<int> &labels, int k)
{
    const int n = int(labels.size());
    int pure = 0;
    for (int i = 0; i < n; ++i) {
        std::vector<std::pair<float, int>> d;
        for (int j = 0; j < n; ++j)
            if (j != i) {
                const float dx = layout[std::size_t(i) * 2] - layout[std::size_t(j) * 2];
                const float dy = layout[std::size_t(i) * 2 + 1] - layout[std::size_t(j) * 2 + 1];
                d.emplace_back(dx * dx + dy * dy, j);
            }
        std::partial_sort(d.begin(), d.begin() + k, d.end());
        bool same = true;
        for (int r = 0; r < k; ++r)
            same = same && labels[std::size_t(d[std::size_t(r)].second)] == labels[std::size_t(i)];
        pure += same ? 1 : 0;
    }
    return double(pure) / n;
}

} // namespace

class TestTsne : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void trustworthinessByHand()
    {
        // Points on a line: a layout that keeps the order is perfectly trustworthy.
        const std::vector<float> line{0, 1, 2, 3, 4, 5, 6, 7};
        QCOMPARE(trustworthiness(line.data(), 1, line.data(), 1, 8, 2), 1.0);
        // Swap the ends (0 and 7). In the layout 0 (now at 7) has 6 and 5 as neighbours, of
        // input ranks 6 and 5 (penalties 6 - 2 and 5 - 2: 7), and 7 (now at 0) has 1 and 2 (7
        // too); 1 has 7 beside it, input rank 7 (the others from 1: 0 and 2 at 1, 3 at 2, ...):
        // penalty 5, and 6 has 0 (5). Total 24; T = 1 - 2 x 24 / (8 x 2 x (16 - 6 - 1)).
        const std::vector<float> swapped{7, 1, 2, 3, 4, 5, 6, 0};
        QVERIFY(std::abs(trustworthiness(line.data(), 1, swapped.data(), 1, 8, 2) -
                         (1.0 - 48.0 / 144.0)) < 1e-12);
    }

    void separatedClustersStayApart()
    {
        std::vector<int> labels;
        const std::vector<float> rows = blobs(4, 60, 10, &labels);
        TsneOptions o;
        o.perplexity = 15;
        o.iterations = 500;
        std::vector<float> layout;
        int published = 0;
        const Status st = runTsne(rows.data(), 240, 10, o, &layout,
                                  [&published](int iteration, const std::vector<float> &y) {
                                      ++published;
                                      return iteration > 0 && y.size() == 480;
                                  });
        QVERIFY2(st, qPrintable(st.error()));
        QCOMPARE(layout.size(), std::size_t(480));
        QCOMPARE(published, 10); // every 50 iterations
        for (float v : layout)
            QVERIFY(std::isfinite(v));
        const double purity = neighbourPurity(layout, labels, 10);
        QVERIFY2(purity > 0.97, qPrintable(QString::number(purity)));
        const double t = trustworthiness(rows.data(), 10, layout.data(), 2, 240, 10);
        QVERIFY2(t > 0.9, qPrintable(QString::number(t)));
        // The clusters are apart: each centre is farther from the others than its points'
        // spread around it.
        double centres[4][2] = {};
        for (int i = 0; i < 240; ++i) {
            centres[labels[std::size_t(i)]][0] += layout[std::size_t(i) * 2] / 60.0;
            centres[labels[std::size_t(i)]][1] += layout[std::size_t(i) * 2 + 1] / 60.0;
        }
        double spread = 0;
        for (int i = 0; i < 240; ++i)
            spread = std::max(
                spread,
                std::hypot(layout[std::size_t(i) * 2] - centres[labels[std::size_t(i)]][0],
                           layout[std::size_t(i) * 2 + 1] - centres[labels[std::size_t(i)]][1]));
        for (int a = 0; a < 4; ++a)
            for (int b = a + 1; b < 4; ++b)
                QVERIFY(std::hypot(centres[a][0] - centres[b][0], centres[a][1] - centres[b][1]) >
                        spread);
    }

    void sameSeedSameLayout()
    {
        std::vector<int> labels;
        // Enough points for several Barnes-Hut groups per thread, and for the neighbour and
        // bandwidth searches to split.
        const std::vector<float> rows = blobs(6, 200, 6, &labels);
        TsneOptions o;
        o.perplexity = 10;
        o.iterations = 200;
        o.threads = 3;
        std::vector<float> first, again, other;
        QVERIFY(runTsne(rows.data(), 1200, 6, o, &first));
        o.threads = 1; // the thread count does not change the result
        QVERIFY(runTsne(rows.data(), 1200, 6, o, &again));
        QCOMPARE(again, first);
        o.seed = 2;
        QVERIFY(runTsne(rows.data(), 1200, 6, o, &other));
        QVERIFY(other != first);
    }

    void cancelStopsWithinAnIteration()
    {
        std::vector<int> labels;
        const std::vector<float> rows = blobs(4, 250, 20, &labels);
        TsneOptions o;
        o.iterations = 100000; // far longer than the test
        int polls = 0;
        std::vector<float> layout;
        QElapsedTimer clock;
        clock.start();
        const Status st =
            runTsne(rows.data(), 1000, 20, o, &layout, {}, [&polls] { return ++polls > 30; });
        QVERIFY(!st && st.error() == QLatin1String("cancelled"));
        QVERIFY(clock.elapsed() < 20000);
        QCOMPARE(layout.size(), std::size_t(2000)); // as far as it got
        // The callback stops it too.
        const Status byCallback =
            runTsne(rows.data(), 1000, 20, o, &layout,
                    [](int iteration, const std::vector<float> &) { return iteration < 100; });
        QVERIFY(!byCallback && byCallback.error() == QLatin1String("cancelled"));
    }

    void badSettingsAreRefused()
    {
        std::vector<int> labels;
        std::vector<float> rows = blobs(2, 20, 4, &labels);
        TsneOptions o; // perplexity 30 needs more than 91 points
        std::vector<float> layout;
        const Status few = runTsne(rows.data(), 40, 4, o, &layout);
        QVERIFY(!few && few.error().contains(QLatin1String("lower the perplexity")));
        o.perplexity = 5;
        o.iterations = 0;
        QVERIFY(!runTsne(rows.data(), 40, 4, o, &layout));
        o.iterations = 10;
        rows[13] = std::nanf("");
        const Status nan = runTsne(rows.data(), 40, 4, o, &layout);
        QVERIFY(!nan && nan.error().contains(QLatin1String("row 3")));
    }
};

QTEST_GUILESS_MAIN(TestTsne)
#include "test_tsne.moc"
