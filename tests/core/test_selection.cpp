// Seed 002's active-learning strategies (core/active/Selection) on small fixed pools whose
// answers can be checked by hand: margin picks the smallest top-2 gap, least confidence the
// lowest top probability, entropy the flattest posterior, k-center the farthest point, the
// cold start one clip per cluster (nearest its centre, balanced over speakers), hybrid one
// per cluster ranked by margin, ALPS each surprisal cluster's central clip; labeled clips are never
// picked; the same seed gives the same picks; and what a strategy needs but lacks is refused with
// the reason.

#include "active/LearningCurves.h"
#include "active/Selection.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTest>
#include <cmath>

using namespace emolens;

namespace {

// Five clips, 3 classes: their posteriors, hand-made.
SelectionPool posteriorPool()
{
    SelectionPool pool;
    pool.utteranceIds = {10, 11, 12, 13, 14};
    pool.classes = {QStringLiteral("angry"), QStringLiteral("happy"), QStringLiteral("neutral")};
    pool.probabilities = {
        0.90f, 0.05f, 0.05f, // 10: sure
        0.45f, 0.41f, 0.14f, // 11: margin 0.04, top 0.45
        0.34f, 0.33f, 0.33f, // 12: flattest, margin 0.01, top 0.34
        0.60f, 0.10f, 0.30f, // 13: margin 0.30
        0.40f, 0.35f, 0.25f, // 14: margin 0.05, top 0.40
    };
    pool.speakers = {1, 1, 2, 2, 3};
    pool.seconds = {2, 2, 2, 2, 2};
    pool.labeled = {false, false, false, false, false};
    return pool;
}

QList<qint64> idsOf(const QList<SelectionPick> &picks)
{
    QList<qint64> ids;
    for (const SelectionPick &p : picks)
        ids << p.utteranceId;
    return ids;
}

// Points on a line, 2-D: clusters around x = 0, 10 and 20 (three clips each, speakers A, B, C).
SelectionPool clusteredPool()
{
    SelectionPool pool;
    pool.dims = 2;
    const float xs[] = {0.f, 0.5f, -0.5f, 10.f, 10.4f, 9.7f, 20.f, 20.3f, 19.8f};
    for (int i = 0; i < 9; ++i) {
        pool.utteranceIds << 100 + i;
        pool.embeddings.push_back(xs[i]);
        pool.embeddings.push_back(0.f);
        pool.speakers << 1 + i % 3;
        pool.seconds.push_back(3);
        pool.labeled.push_back(false);
    }
    return pool;
}

} // namespace

class TestSelection : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void namesRoundTrip()
    {
        for (const QString &name : selectionStrategyNames()) {
            SelectionStrategy s;
            QVERIFY(selectionStrategyFromName(name, &s));
            QCOMPARE(selectionStrategyName(s), name);
            QVERIFY(!selectionStrategyTitle(s).isEmpty());
        }
        QCOMPARE(selectionStrategyTitle(SelectionStrategy::Margin),
                 QStringLiteral("Margin (smallest top-2 gap)"));
        SelectionStrategy s;
        QVERIFY(!selectionStrategyFromName(QStringLiteral("badge?"), &s));
    }

    void uncertaintyStrategiesRankByHand()
    {
        const SelectionPool pool = posteriorPool();
        SelectionOptions o;
        o.count = 3;
        QList<SelectionPick> picks;

        o.strategy = SelectionStrategy::Margin;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(idsOf(picks), (QList<qint64>{12, 11, 14})); // gaps 0.01, 0.04, 0.05
        QCOMPARE(picks[1].reason, QStringLiteral("margin 0.04 between angry and happy"));
        QVERIFY(std::abs(picks[0].score - 0.01) < 1e-6);
        QCOMPARE(picks[1].predicted, 0);
        QVERIFY(std::abs(picks[1].confidence - 0.45) < 1e-6);

        o.strategy = SelectionStrategy::LeastConfidence;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(idsOf(picks), (QList<qint64>{12, 14, 11})); // tops 0.34, 0.40, 0.45
        QVERIFY(std::abs(picks[0].score - 0.66) < 1e-6);

        o.strategy = SelectionStrategy::Entropy;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(picks.first().utteranceId, qint64(12));
        QVERIFY(std::abs(picks.first().score - std::log(3.0)) < 1e-3); // nearly uniform
        QCOMPARE(picks.last().utteranceId,
                 qint64(11)); // 1.00 nats, after 14 (1.08), before 13 (0.90)
    }

    void labeledClipsAreNeverPickedUnlessAsked()
    {
        SelectionPool pool = posteriorPool();
        pool.labeled[2] = true; // 12, the most uncertain
        SelectionOptions o;
        o.strategy = SelectionStrategy::Margin;
        o.count = 5;
        QList<SelectionPick> picks;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(idsOf(picks), (QList<qint64>{11, 14, 13, 10}));
        o.includeLabeled = true;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(picks.first().utteranceId, qint64(12));
    }

    void perSpeakerCapAndDurationRange()
    {
        SelectionPool pool = posteriorPool();
        pool.seconds = {2, 2, 9, 2, 0.5};
        SelectionOptions o;
        o.strategy = SelectionStrategy::Margin;
        o.count = 5;
        o.perSpeaker = 1;
        QList<SelectionPick> picks;
        QVERIFY(selectClips(pool, o, &picks));
        // 12 (speaker 2), 11 (speaker 1), 14 (speaker 3); 13 and 10 are over their cap.
        QCOMPARE(idsOf(picks), (QList<qint64>{12, 11, 14}));
        o.perSpeaker = 0;
        o.minSeconds = 1;
        o.maxSeconds = 5;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(idsOf(picks), (QList<qint64>{11, 13, 10})); // 12 too long, 14 too short
    }

    void kCenterPicksTheFarthestPoint()
    {
        SelectionPool pool = clusteredPool();
        pool.labeled[0] = true; // x = 0 is labeled
        SelectionOptions o;
        o.strategy = SelectionStrategy::CoreSet;
        o.count = 2;
        QList<SelectionPick> picks;
        QVERIFY(selectClips(pool, o, &picks));
        // Farthest from x = 0: x = 20.3 (id 107). Then each clip's distance to the nearer of
        // 0 and 20.3: 10.0 -> 10.0, 10.4 -> 9.9, 9.7 -> 9.7, the rest under 1: x = 10 (id 103).
        QCOMPARE(idsOf(picks), (QList<qint64>{107, 103}));
        QVERIFY(std::abs(picks[0].score - 20.3) < 1e-4);
        QVERIFY(std::abs(picks[1].score - 10.0) < 1e-4);
        QVERIFY2(picks[1].reason.contains(QLatin1String("from everything labeled or picked")),
                 qPrintable(picks[1].reason));
    }

    void coldStartTakesOneClipPerClusterBalancedOverSpeakers()
    {
        const SelectionPool pool = clusteredPool();
        SelectionOptions o;
        o.strategy = SelectionStrategy::ColdStart;
        o.clusters = 3;
        o.count = 3;
        QList<SelectionPick> picks;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(picks.size(), 3);
        // One per cluster (x near 0, 10 and 20), each time the clip nearest the centre among
        // the speakers with the fewest picks: the first is the nearest of all (x = 0, id 100,
        // speaker 1); the next clusters take speakers 2 and 3 - three clusters, three speakers.
        QCOMPARE(picks.first().utteranceId, qint64(100));
        QSet<int> clusters;
        QSet<qint64> speakers;
        for (const SelectionPick &p : picks) {
            clusters.insert(int(p.utteranceId - 100) / 3);
            speakers.insert(pool.speakers[p.row]);
        }
        QCOMPARE(clusters.size(), 3);
        QCOMPARE(speakers.size(), 3);
        // Six picks: two per cluster and two per speaker.
        o.count = 6;
        QVERIFY(selectClips(pool, o, &picks));
        QHash<qint64, int> perSpeaker;
        QHash<int, int> perCluster;
        for (const SelectionPick &p : picks) {
            ++perSpeaker[pool.speakers[p.row]];
            ++perCluster[int(p.utteranceId - 100) / 3];
        }
        for (int c = 0; c < 3; ++c) {
            QCOMPARE(perSpeaker.value(c + 1), 2);
            QCOMPARE(perCluster.value(c), 2);
        }
        QVERIFY2(picks.first().reason.startsWith(QLatin1String("near the centre of cluster")),
                 qPrintable(picks.first().reason));
    }

    void hybridTakesEachClustersMostUncertainClip()
    {
        SelectionPool pool = clusteredPool();
        pool.classes = {QStringLiteral("a"), QStringLiteral("b")};
        // Margins: cluster 0 (ids 100-102): 0.8, 0.2, 0.6; cluster 1: 0.4, 0.1, 0.9; cluster 2:
        // 0.7, 0.5, 0.3.
        const float top[] = {0.9f, 0.6f, 0.8f, 0.7f, 0.55f, 0.95f, 0.85f, 0.75f, 0.65f};
        for (float p : top) {
            pool.probabilities.push_back(p);
            pool.probabilities.push_back(1 - p);
        }
        SelectionOptions o;
        o.strategy = SelectionStrategy::Hybrid;
        o.count = 3;
        QList<SelectionPick> picks;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(idsOf(picks), (QList<qint64>{104, 101, 108})); // margins 0.1, 0.2, 0.3
        QVERIFY2(picks.first().reason.contains(QLatin1String("of 3, margin 0.10")),
                 qPrintable(picks.first().reason));
    }

    void randomIsDeterministicWithTheSeed()
    {
        const SelectionPool pool = clusteredPool();
        SelectionOptions o;
        o.strategy = SelectionStrategy::Random;
        o.count = 9;
        QList<SelectionPick> a, b, c;
        QVERIFY(selectClips(pool, o, &a));
        QVERIFY(selectClips(pool, o, &b));
        o.seed = 2;
        QVERIFY(selectClips(pool, o, &c));
        QCOMPARE(idsOf(a), idsOf(b));
        QVERIFY(idsOf(a) != idsOf(c));
        QList<qint64> all = idsOf(a);
        std::sort(all.begin(), all.end());
        QCOMPARE(all, pool.utteranceIds); // a permutation of the pool
    }

    void whatAStrategyLacksIsRefused()
    {
        SelectionPool pool = clusteredPool(); // no posteriors
        SelectionOptions o;
        o.strategy = SelectionStrategy::Margin;
        o.count = 2;
        QList<SelectionPick> picks;
        const Status noModel = selectClips(pool, o, &picks);
        QVERIFY(!noModel && noModel.error().contains(QLatin1String("train a model first")));
        SelectionPool bare = posteriorPool(); // no embeddings
        o.strategy = SelectionStrategy::CoreSet;
        const Status noEmbeddings = selectClips(bare, o, &picks);
        QVERIFY(!noEmbeddings &&
                noEmbeddings.error().contains(QLatin1String("extract features first")));
        o.count = 0;
        QVERIFY(!selectClips(bare, o, &picks));
    }

    void rareClassesGetTheLargerShare()
    {
        // Three clips labeled neutral, none angry; eight unlabeled (203-210), three predicted
        // angry (margins 0.8, 0.4, 0.1) and five neutral (margins 0.04, 0.2, 0.6, 0.9, 0.12).
        SelectionPool pool;
        pool.classes = {QStringLiteral("angry"), QStringLiteral("neutral")};
        const float angry[] = {0.1f,  0.2f, 0.3f, 0.9f,  0.7f, 0.55f,
                               0.48f, 0.4f, 0.2f, 0.05f, 0.44f};
        for (int i = 0; i < 11; ++i) {
            pool.utteranceIds << 200 + i;
            pool.probabilities.push_back(angry[i]);
            pool.probabilities.push_back(1.f - angry[i]);
            pool.speakers << 1 + i;
            pool.seconds.push_back(2);
            pool.labeled.push_back(i < 3);
            pool.labelClasses.push_back(i < 3 ? 1 : -1);
        }
        SelectionOptions o;
        o.strategy = SelectionStrategy::Margin;
        o.count = 4;
        QList<SelectionPick> picks;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(idsOf(picks), (QList<qint64>{206, 205, 210, 207})); // smallest margins overall

        // Weights 1/(0+1) for angry and 1/(3+1) for neutral: angry takes picks while
        // (share + 1) x 1 < 1 x 4, so 3 (all it has), neutral 1; interleaved, angry first.
        o.favourRare = true;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(idsOf(picks), (QList<qint64>{205, 206, 204, 203}));
        QCOMPARE(picks[0].reason, QStringLiteral("margin 0.10 between angry and neutral; for "
                                                 "angry, a share of 3 picks (0 labeled so far)"));
        QVERIFY(picks[1].reason.endsWith(QLatin1String("for neutral, a share of 1 picks (3 "
                                                       "labeled so far)")));
        o.count = 2;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(idsOf(picks), (QList<qint64>{205, 204}));

        // Any strategy, as long as the model's predictions are there: random within the shares.
        o.strategy = SelectionStrategy::Random;
        o.count = 4;
        QVERIFY(selectClips(pool, o, &picks));
        int predictedAngry = 0;
        for (const SelectionPick &p : std::as_const(picks))
            predictedAngry += p.predicted == 0 ? 1 : 0;
        QCOMPARE(predictedAngry, 3);
        SelectionPool noModel = clusteredPool();
        o.strategy = SelectionStrategy::CoreSet;
        const Status refused = selectClips(noModel, o, &picks);
        QVERIFY(!refused && refused.error().contains(QLatin1String("model's predictions")));
    }

    void secondOpinionsAndDisagreementsComeFirst()
    {
        // 10, 11 and 12 are labeled: 10 by this annotator; on 11 two others disagree.
        SelectionPool pool = posteriorPool();
        pool.labeled = {true, true, true, false, false};
        pool.mine = {true, false, false, false, false};
        pool.disagreements = {QString(), QStringLiteral("angry (ana), happy (ben)"), QString(),
                              QString(), QString()};
        pool.opinions = {1, 2, 1, 0, 0};
        SelectionOptions o;
        o.strategy = SelectionStrategy::Margin;
        o.count = 5;
        QList<SelectionPick> picks;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(idsOf(picks), (QList<qint64>{14, 13})); // nobody's labeled clips

        o.secondOpinions = true; // only this annotator's own are skipped
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(idsOf(picks), (QList<qint64>{12, 11, 14, 13}));

        o.secondOpinions = false;
        o.disagreementsFirst = true;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(idsOf(picks), (QList<qint64>{11, 14, 13}));
        QCOMPARE(picks[0].reason, QStringLiteral("people disagree (angry (ana), happy (ben)): "
                                                 "another opinion is needed"));
        QCOMPARE(picks[0].score, 2.0);
        o.count = 1; // the disputed clip fills the round
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(idsOf(picks), (QList<qint64>{11}));

        pool.mine[1] = true; // this annotator gave one of the two opinions: not offered again
        o.count = 5;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(idsOf(picks), (QList<qint64>{14, 13}));

        pool.mine.clear(); // whose labels to skip is not known
        const Status refused = selectClips(pool, o, &picks);
        QVERIFY(!refused && refused.error().contains(QLatin1String("name the annotator")));
    }

    void baldPicksWhereTheDropoutPassesDisagree()
    {
        // Three clips, two passes: clip 0's passes contradict each other (mutual information
        // ln 2 - H(0.9, 0.1) = 0.368 nats), clip 1 is uncertain in both (0), clip 2 sure in
        // both (0). BALD takes clip 0, then the ties in pool order.
        SelectionPool pool;
        pool.utteranceIds = {10, 11, 12};
        pool.classes = {QStringLiteral("angry"), QStringLiteral("sad")};
        pool.probabilities = {0.5f, 0.5f, 0.5f, 0.5f, 0.9f, 0.1f};
        pool.passes = 2;
        pool.passProbabilities = {0.9f, 0.1f, 0.1f, 0.9f, 0.5f, 0.5f,
                                  0.5f, 0.5f, 0.9f, 0.1f, 0.9f, 0.1f};
        pool.speakers = {1, 2, 3};
        pool.seconds = {1, 1, 1};
        pool.labeled = {false, false, false};
        SelectionOptions o;
        o.strategy = SelectionStrategy::Bald;
        o.count = 3;
        QList<SelectionPick> picks;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(picks.size(), 3);
        QCOMPARE(picks[0].utteranceId, 10);
        const double expected = std::log(2.0) + 0.9 * std::log(0.9) + 0.1 * std::log(0.1);
        QVERIFY(qAbs(picks[0].score - expected) < 1e-6);
        QVERIFY2(picks[0].reason.startsWith(QLatin1String("the 2 dropout passes disagree")),
                 qPrintable(picks[0].reason));
        QCOMPARE(picks[1].utteranceId, 11);
        QVERIFY(qAbs(picks[1].score) < 1e-9);
        QCOMPARE(picks[2].utteranceId, 12);
        pool.passProbabilities.pop_back();
        const Status missing = selectClips(pool, o, &picks);
        QVERIFY(!missing && missing.error().contains(QLatin1String("dropout passes")));
    }

    void alpsTakesEachSurprisalClustersCentralClip()
    {
        // Surprisal over 3 buckets, three directions: A (5 clips) round (1, .1, .1), B (3)
        // round (.1, 1, .1), C (2) along (.1, .1, 1). Within A and B the rows are symmetric
        // about the direction's axis, and the first row lies on it: after scaling to unit
        // length the centroid is on the axis too, so that row is nearest it. C's two rows are
        // one direction at two scales: the same once scaled (the tie keeps pool order).
        SelectionPool pool;
        pool.surprisalDims = 3;
        pool.surprisal = {2.0f, 0.2f,  0.2f,  1.0f, 0.2f,  0.0f,  1.0f, 0.0f, 0.2f, // A: 0-2
                          1.0f, 0.15f, 0.05f, 1.0f, 0.05f, 0.15f,                   // A: 3-4
                          0.1f, 1.0f,  0.1f,  0.2f, 1.0f,  0.0f,  0.0f, 1.0f, 0.2f, // B: 5-7
                          0.1f, 0.1f,  1.0f,  0.3f, 0.3f,  3.0f};                   // C: 8-9
        for (int i = 0; i < 10; ++i) {
            pool.utteranceIds << 300 + i;
            pool.speakers << 1 + i;
            pool.seconds.push_back(2);
            pool.labeled.push_back(false);
        }
        SelectionOptions o;
        o.strategy = SelectionStrategy::Alps;
        o.count = 3;
        QList<SelectionPick> picks;
        for (std::uint64_t seed : {1, 2, 3}) {
            o.seed = seed;
            QVERIFY(selectClips(pool, o, &picks));
            // One per cluster, the largest cluster first; the score is the cluster's size.
            QCOMPARE(idsOf(picks), (QList<qint64>{300, 305, 308}));
            QCOMPARE(picks[0].score, 5.0);
            QCOMPARE(picks[2].score, 2.0);
            // Clip 300: mean surprisal (2 + .2 + .2) / 3 = 0.80 nats a frame.
            QVERIFY2(picks[0].reason ==
                         QLatin1String("nearest the centre of surprisal cluster 1 of 3 (5 clips); "
                                       "0.80 nats a frame"),
                     qPrintable(picks[0].reason));
        }
        // Clip 300 labeled: A's nearest of the rest is 303 (nearer the axis than 301 and 302;
        // tied with 304, first in the pool).
        pool.labeled[0] = true;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(idsOf(picks), (QList<qint64>{303, 305, 308}));
        QCOMPARE(picks[0].score, 4.0);
        // One clip per speaker, and 305 spoken by 303's speaker: B's nearest is turned away,
        // and after C's the place goes to A's next nearest (304).
        pool.speakers[5] = pool.speakers[3];
        o.perSpeaker = 1;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(idsOf(picks), (QList<qint64>{303, 308, 304}));
        QVERIFY2(
            picks[2].reason.startsWith(QLatin1String("near the centre of surprisal cluster 1")),
            qPrintable(picks[2].reason));
        // Without surprisal it is refused, saying what to do.
        pool.surprisal.pop_back();
        const Status missing = selectClips(pool, o, &picks);
        QVERIFY2(!missing && missing.error().contains(QLatin1String("pre-train")),
                 qPrintable(missing.error()));
    }

    void badgeStartsFromTheLargestGradientAndSpreads()
    {
        // Gradient embeddings (p - onehot(top)) outer h: clip 0 has the largest norm, clip 1
        // is its copy (distance 0, never drawn), clip 2 differs: BADGE takes 0, then 2.
        SelectionPool pool;
        pool.utteranceIds = {20, 21, 22, 23};
        pool.classes = {QStringLiteral("angry"), QStringLiteral("sad")};
        pool.probabilities = {0.6f, 0.4f, 0.6f, 0.4f, 0.2f, 0.8f, 0.f, 0.f};
        pool.headDims = 2;
        pool.classifierInputs = {3.f, 0.f, 3.f, 0.f, 0.f, 1.f, 0.f, 0.f};
        pool.speakers = {1, 1, 2, 3};
        pool.seconds = {1, 1, 1, 1};
        pool.labeled = {false, false, false, true};
        SelectionOptions o;
        o.strategy = SelectionStrategy::Badge;
        o.count = 2;
        for (std::uint64_t seed : {1, 2, 3}) {
            o.seed = seed;
            QList<SelectionPick> picks;
            QVERIFY(selectClips(pool, o, &picks));
            QCOMPARE(picks.size(), 2);
            QCOMPARE(picks[0].utteranceId, 20);
            // |a| = |(-0.4, 0.4)| = 0.566, |h| = 3: norm 1.697.
            QVERIFY(qAbs(picks[0].score - std::sqrt(0.32) * 3) < 1e-6);
            QVERIFY2(picks[0].reason.startsWith(QLatin1String("the largest gradient norm")),
                     qPrintable(picks[0].reason));
            QCOMPARE(picks[1].utteranceId, 22);
            // Clip 2: a = (0.2, -0.2), h = (0, 1); a . a0 = -0.16, h . h0 = 0: distance^2 =
            // 0.32 x 9 + 0.08 x 1.
            QVERIFY2(picks[1].reason.contains(QString::number(std::sqrt(0.32 * 9 + 0.08), 'f', 3)),
                     qPrintable(picks[1].reason));
        }
        // One clip per speaker: the copy (speaker 1 again) is not taken even when asked for 3.
        o.count = 3;
        o.perSpeaker = 1;
        QList<SelectionPick> picks;
        QVERIFY(selectClips(pool, o, &picks));
        QCOMPARE(picks.size(), 2);
        pool.classifierInputs.clear();
        const Status missing = selectClips(pool, o, &picks);
        QVERIFY(!missing && missing.error().contains(QLatin1String("classifier's input")));
    }

    void learningCurvesAverageRunsPerStrategy()
    {
        // Two random runs and one margin run of the same setup, one of another setup and one
        // unreadable: per strategy the rounds' UA is averaged with its range, and the fraction
        // to 95 % of the full UA and the seconds until then come from the runs that reach it.
        const auto record = [](qint64 id, const QString &strategy, qint64 seed, int pool,
                               double fullUa, const QList<double> &ua) {
            QJsonArray rounds;
            for (qsizetype i = 0; i < ua.size(); ++i)
                rounds.append(QJsonObject{{QStringLiteral("labeled"), int(10 * (i + 1))},
                                          {QStringLiteral("labeled_fraction"), 0.1 * (i + 1)},
                                          {QStringLiteral("ua"), ua[i]},
                                          {QStringLiteral("train_seconds"), 2.0},
                                          {QStringLiteral("select_seconds"), 0.5}});
            SimulationRecord r;
            r.id = id;
            r.strategy = strategy;
            r.recipe = QStringLiteral("baseline");
            r.encoder = QStringLiteral("fbank");
            r.seed = seed;
            r.report =
                QString::fromUtf8(QJsonDocument(QJsonObject{{QStringLiteral("pool"), pool},
                                                            {QStringLiteral("test_clips"), 30},
                                                            {QStringLiteral("full_ua"), fullUa},
                                                            {QStringLiteral("full_seconds"), 20.0},
                                                            {QStringLiteral("rounds"), rounds}})
                                      .toJson());
            return r;
        };
        SimulationRecord broken;
        broken.id = 9;
        broken.strategy = QStringLiteral("entropy");
        broken.report = QStringLiteral("{not json");
        QStringList problems;
        const QList<LearningCurveSetup> setups =
            learningCurves({record(1, QStringLiteral("margin"), 1, 100, 0.8, {0.5, 0.78, 0.8}),
                            record(2, QStringLiteral("random"), 1, 100, 0.8, {0.4, 0.6, 0.77}),
                            record(3, QStringLiteral("random"), 2, 100, 0.6, {0.5, 0.58, 0.6}),
                            record(4, QStringLiteral("random"), 1, 200, 0.8, {0.5}), broken},
                           &problems);
        QCOMPARE(problems.size(), 1);
        QVERIFY(problems[0].contains(QLatin1String("simulation 9")));
        QCOMPARE(setups.size(), 2);
        const LearningCurveSetup &setup = setups[0]; // "baseline|fbank|100|30" sorts first
        QCOMPARE(setup.pool, 100);
        QCOMPARE(setup.curves.size(), 2);
        const LearningCurve &random = setup.curves[0]; // random first, the baseline
        QCOMPARE(random.strategy, QStringLiteral("random"));
        QCOMPARE(random.runs(), 2);
        QCOMPARE(random.points.size(), 3);
        QCOMPARE(random.points[1].labeled, 20);
        QVERIFY(qAbs(random.points[1].meanUa - 0.59) < 1e-12);
        QCOMPARE(random.points[1].minUa, 0.58);
        QCOMPARE(random.points[1].maxUa, 0.6);
        QVERIFY(qAbs(random.fullUa - 0.7) < 1e-12);
        // Run 2 reaches 0.76 (95 % of 0.8) at 0.3; run 3 reaches 0.57 at 0.2.
        QCOMPARE(random.reached, 2);
        QVERIFY(qAbs(random.fractionTo95 - 0.25) < 1e-12);
        QVERIFY(qAbs(random.fractionTo95Sd - std::sqrt(0.005)) < 1e-12);
        QVERIFY(qAbs(random.secondsTo95 - 6.25) < 1e-12); // (7.5 + 5) / 2
        QCOMPARE(random.fullSeconds, 20.0);
        const LearningCurve &margin = setup.curves[1];
        QCOMPARE(margin.strategy, QStringLiteral("margin"));
        QVERIFY(qAbs(margin.fractionTo95 - 0.2) < 1e-12);
        QCOMPARE(margin.fractionTo95Sd, 0.0);
        QCOMPARE(margin.secondsTo95, 5.0);
        QCOMPARE(setups[1].pool, 200);
        QCOMPARE(setups[1].curves.size(), 1);
        QCOMPARE(setups[1].curves[0].reached, 0);
        QCOMPARE(setups[1].curves[0].fractionTo95, -1.0);
    }
};

QTEST_GUILESS_MAIN(TestSelection)
#include "test_selection.moc"
