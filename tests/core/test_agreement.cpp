// Agreement between annotators (core/analysis/Agreement, LabelAgreement) against published
// worked examples:
// - Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 observers x 12 units
//   with missing values: alpha 0.743 nominal, 0.815 ordinal, 0.849 interval, 0.797 ratio;
// - the 3-coder x 15-unit example of Wikipedia's "Krippendorff's alpha" article: 0.691
//   nominal, 0.811 interval;
// - Wikipedia's Fleiss' kappa example (10 subjects, 14 raters, 5 categories): 0.210;
// - Wikipedia's Cohen's kappa example (50 proposals, 2 readers): 0.4;
// - Shrout and Fleiss (1979), Table 2 (6 targets, 4 judges): ICC(1,1) .17, (2,1) .29, (3,1)
//   .71, (1,4) .44, (2,4) .62, (3,4) .91; Cronbach's alpha of the same table equals ICC(3,k);
// - Lin's CCC (training/ClassificationMetrics, shared with the training metrics) on series
//   worked by hand.
// Then the same examples written as labels into a real workspace (imported test corpus, real
// SQLite file) by several annotators, read back by labelAgreement().

#include "analysis/Agreement.h"
#include "analysis/LabelAgreement.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "training/ClassificationMetrics.h"
#include "training/LabelRule.h"

#include "ImportedWorkspace.h"

#include <QTemporaryDir>
#include <QTest>
#include <cmath>
#include <memory>

using namespace emolens;

namespace {

constexpr double N = std::numeric_limits<double>::quiet_NaN();

// Krippendorff (2011): observers A-D (rows) x units 1-12; unit 12 has one value only.
const std::vector<std::vector<double>> kKrippendorff = {
    {1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N},
    {1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3},
    {N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N},
    {1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N},
};

// Wikipedia's computational example: coders 1-3 (rows) x units 1-15.
const std::vector<std::vector<double>> kWikipedia = {
    {N, N, N, N, N, 3, 4, 1, 2, 1, 1, 3, 3, N, 3},
    {1, N, 2, 1, 3, 3, 4, 3, N, N, N, N, N, N, N},
    {N, N, 2, 1, 3, 4, 4, N, 2, 1, 1, 3, 3, N, 4},
};

RatingTable tableOf(const std::vector<std::vector<double>> &rows)
{
    RatingTable t(int(rows.size()), int(rows.front().size()));
    for (size_t c = 0; c < rows.size(); ++c)
        for (size_t u = 0; u < rows[c].size(); ++u)
            t.at(int(c), int(u)) = rows[c][u];
    return t;
}

// Shrout and Fleiss (1979), Table 2: 6 targets (rows) x 4 judges.
const std::vector<double> kShroutFleiss = {9, 2, 5, 8, 6,  1, 3, 2, 8, 4, 6, 8,
                                           7, 1, 2, 6, 10, 5, 6, 9, 6, 2, 4, 7};

} // namespace

class TestAgreement : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    // A workspace with the emodb test corpus imported; its utterance ids in key order and its
    // label set.
    bool workspace(const QString &name, std::unique_ptr<Database> *out, QList<qint64> *ids,
                   LabelSchema *schema)
    {
        QList<UtteranceRecord> utterances;
        *out = test::importedWorkspace(QStringLiteral("emodb"), m_dir.filePath(name), &utterances);
        if (!*out || utterances.size() < 27)
            return false;
        Database *db = out->get();
        for (const UtteranceRecord &u : utterances)
            ids->append(u.id);
        const auto s = LabelRepository(*db).schemaForUtterance(ids->first());
        if (!s || s->classes.size() < 4)
            return false;
        *schema = *s;
        return true;
    }

private Q_SLOTS:
    void krippendorffsOwnExampleAtEachLevel()
    {
        const RatingTable t = tableOf(kKrippendorff);
        QCOMPARE(qRound(krippendorffAlpha(t, MeasurementLevel::Nominal).alpha * 1000), 743);
        QCOMPARE(qRound(krippendorffAlpha(t, MeasurementLevel::Ordinal).alpha * 1000), 815);
        QCOMPARE(qRound(krippendorffAlpha(t, MeasurementLevel::Interval).alpha * 1000), 849);
        QCOMPARE(qRound(krippendorffAlpha(t, MeasurementLevel::Ratio).alpha * 1000), 797);
        const KrippendorffAlpha nominal = krippendorffAlpha(t, MeasurementLevel::Nominal);
        // Unit 12 (one value) is not pairable: 11 units, 40 values, as in the paper.
        QCOMPARE(nominal.pairableUnits, 11);
        QCOMPARE(nominal.pairableValues, 40.0);
        // The paper's coincidence matrix: o_11 = 7, o_12 = 4/3, and its marginals n_1 = 9,
        // n_2 = 13, n_3 = 10, n_4 = 5, n_5 = 3.
        const size_t V = nominal.values.size();
        QCOMPARE(V, size_t(5));
        std::vector<double> marginals(V, 0.0);
        for (size_t c = 0; c < V; ++c)
            for (size_t k = 0; k < V; ++k)
                marginals[c] += nominal.coincidences[c * V + k];
        const std::vector<double> paper = {9, 13, 10, 5, 3};
        for (size_t c = 0; c < V; ++c)
            QVERIFY(std::abs(marginals[c] - paper[c]) < 1e-12);
        QVERIFY(std::abs(nominal.coincidences[0] - 7) < 1e-12);
        QVERIFY(std::abs(nominal.coincidences[1] - 4.0 / 3) < 1e-12);
    }

    void wikipediasExampleWithMissingRatings()
    {
        const RatingTable t = tableOf(kWikipedia);
        QCOMPARE(qRound(krippendorffAlpha(t, MeasurementLevel::Nominal).alpha * 1000), 691);
        QCOMPARE(qRound(krippendorffAlpha(t, MeasurementLevel::Interval).alpha * 1000), 811);
        // The article gives no ordinal or ratio figure; these come from the pairwise
        // definition of alpha (every pair of values within a unit against every pair of
        // values overall), computed apart from the coincidence matrix.
        QVERIFY(std::abs(krippendorffAlpha(t, MeasurementLevel::Ordinal).alpha - 0.806721) < 1e-6);
        QVERIFY(std::abs(krippendorffAlpha(t, MeasurementLevel::Ratio).alpha - 0.808944) < 1e-6);
    }

    void alphaIsUndefinedWithoutVariationAndPerfectWithFullAgreement()
    {
        RatingTable same(2, 3);
        for (int u = 0; u < 3; ++u)
            same.at(0, u) = same.at(1, u) = 2;
        QVERIFY(std::isnan(krippendorffAlpha(same, MeasurementLevel::Nominal).alpha));
        RatingTable agree(3, 4);
        for (int u = 0; u < 4; ++u)
            for (int c = 0; c < 3; ++c)
                agree.at(c, u) = u % 2;
        QCOMPARE(krippendorffAlpha(agree, MeasurementLevel::Interval).alpha, 1.0);
        RatingTable lonely(3, 4); // no unit with two ratings
        for (int u = 0; u < 3; ++u)
            lonely.at(u, u) = u;
        QVERIFY(std::isnan(krippendorffAlpha(lonely, MeasurementLevel::Nominal).alpha));
    }

    void perCategoryAlphaDichotomises()
    {
        const RatingTable t = tableOf(kWikipedia);
        const std::vector<double> perValue = krippendorffAlphaPerValue(t, {1, 2, 3, 4, 7});
        QCOMPARE(perValue.size(), size_t(5));
        // Category 1 against the rest, by hand: the binary table's nominal alpha.
        RatingTable binary = t;
        for (double &v : binary.values)
            if (!std::isnan(v))
                v = v == 1 ? 1 : 0;
        QCOMPARE(perValue[0], krippendorffAlpha(binary, MeasurementLevel::Nominal).alpha);
        // Category 2 is always given together (units 3 and 9 agree): perfect.
        QCOMPARE(perValue[1], 1.0);
        QVERIFY(std::isnan(perValue[4])); // nobody used 7
    }

    void cohenAndFleissKappaOnTheirExamples()
    {
        // Wikipedia: both yes 20, A yes B no 5, A no B yes 10, both no 15.
        QVERIFY(std::abs(cohenKappa({20, 5, 10, 15}, 2) - 0.4) < 1e-12);
        QVERIFY(std::isnan(cohenKappa({0, 0, 0, 0}, 2)));
        QVERIFY(std::isnan(cohenKappa({5, 0, 0, 0}, 2))); // one category only: undefined
        const std::vector<double> counts = {0, 0, 0, 0, 14, 0, 2, 6, 4, 2, 0, 0, 3, 5, 6, 0, 3,
                                            9, 2, 0, 2, 2,  8, 1, 1, 7, 7, 0, 0, 0, 3, 2, 6, 3,
                                            0, 2, 5, 3, 2,  2, 6, 5, 2, 1, 0, 0, 2, 2, 3, 7};
        QCOMPARE(qRound(fleissKappa(counts, 5) * 1000), 210);
    }

    void intraclassCorrelationOnShroutAndFleiss()
    {
        const IntraclassCorrelation icc = intraclassCorrelation(kShroutFleiss, 6, 4);
        QCOMPARE(qRound(icc.icc11 * 100), 17);
        QCOMPARE(qRound(icc.icc21 * 100), 29);
        QCOMPARE(qRound(icc.icc31 * 100), 71);
        QCOMPARE(qRound(icc.icc1k * 100), 44);
        QCOMPARE(qRound(icc.icc2k * 100), 62);
        QCOMPARE(qRound(icc.icc3k * 100), 91);
        // The one-way ICC on the same (balanced) table is ICC(1,1) and ICC(1,k).
        std::vector<std::vector<double>> groups(6);
        for (int t = 0; t < 6; ++t)
            groups[t].assign(kShroutFleiss.begin() + t * 4, kShroutFleiss.begin() + t * 4 + 4);
        const OneWayIcc oneWay = oneWayIcc(groups);
        QVERIFY(std::abs(oneWay.single - icc.icc11) < 1e-12);
        QVERIFY(std::abs(oneWay.average - icc.icc1k) < 1e-12);
        QCOMPARE(oneWay.k0, 4.0);
        // Cronbach's alpha with the judges as items equals ICC(3,k).
        std::vector<std::vector<double>> items(4, std::vector<double>(6));
        for (int t = 0; t < 6; ++t)
            for (int j = 0; j < 4; ++j)
                items[j][t] = kShroutFleiss[t * 4 + j];
        QVERIFY(std::abs(cronbachAlpha(items) - icc.icc3k) < 1e-12);
    }

    void concordanceByHand()
    {
        // y = x + 1: variances 2 and 2, covariance 2, squared mean difference 1: 4 / 5.
        QVERIFY(std::abs(concordanceCorrelation({1, 2, 3, 4, 5}, {2, 3, 4, 5, 6}) - 0.8) < 1e-12);
        // y = 2x: 2 (4/3) / (2/3 + 8/3 + 4) = 8/22, though Pearson's r is 1.
        QVERIFY(std::abs(concordanceCorrelation({1, 2, 3}, {2, 4, 6}) - 8.0 / 22) < 1e-12);
        QCOMPARE(concordanceCorrelation({1, 2, 3}, {1, 2, 3}), 1.0);
        QCOMPARE(concordanceCorrelation({1, 1}, {1, 1}), 0.0); // no variance: no concordance
    }

    void workspaceLabelsGiveThePublishedFigures()
    {
        std::unique_ptr<Database> store;
        QList<qint64> ids;
        LabelSchema schema;
        QVERIFY(workspace(QStringLiteral("agreement.emolens"), &store, &ids, &schema));
        Database &db = *store;
        LabelRepository labels(db);
        const QStringList people = {QStringLiteral("ann"), QStringLiteral("bob"),
                                    QStringLiteral("cy"), QStringLiteral("dee")};
        // Wikipedia's example as categories on clips 0-14 (value v: the label set's class v),
        // Krippendorff's as arousal on clips 15-26.
        for (int c = 0; c < 3; ++c)
            for (int u = 0; u < 15; ++u)
                if (!std::isnan(kWikipedia[c][u]))
                    QVERIFY(labels.setLabel(
                        ids[u], schema.id, people[c],
                        LabelValue::ofCategory(schema.classes[int(kWikipedia[c][u]) - 1])));
        for (int c = 0; c < 4; ++c)
            for (int u = 0; u < 12; ++u)
                if (!std::isnan(kKrippendorff[c][u])) {
                    LabelValue v;
                    v.dimensions.insert(QStringLiteral("arousal"), kKrippendorff[c][u]);
                    QVERIFY(labels.setLabel(ids[15 + u], schema.id, people[c], v));
                }
        // ann first gives clip 5 another class, then her final one: only the current counts.
        QVERIFY(labels.setLabel(ids[5], schema.id, people[0],
                                LabelValue::ofCategory(schema.classes[0])));
        QVERIFY(labels.setLabel(ids[5], schema.id, people[0],
                                LabelValue::ofCategory(schema.classes[2])));

        AgreementReport report;
        QVERIFY(labelAgreement(db, AgreementOptions(), &report));
        QCOMPARE(report.annotators, people);
        QCOMPARE(report.labelSets.size(), 1);
        const LabelSetAgreement &set = report.labelSets.first();
        QCOMPARE(set.schemaId, schema.id);
        QCOMPARE(set.annotators, people.mid(0, 3));
        QCOMPARE(set.clips, 12);
        QCOMPARE(set.ratings, 26);
        QCOMPARE(qRound(set.alpha * 1000), 691);
        // Fleiss with each clip's own number of ratings (12 clips of 2 or 3 ratings), worked
        // apart from this code with numpy.
        QVERIFY(std::abs(set.fleissKappa - 0.690901) < 1e-6);
        // Pairs, against scikit-learn 1.2's cohen_kappa_score on the clips both rated.
        QCOMPARE(set.pairs.size(), 3);
        const AnnotatorPairAgreement &annBob = set.pairs[0], &annCy = set.pairs[1],
                                     &bobCy = set.pairs[2];
        QCOMPARE(annBob.first, people[0]);
        QCOMPARE(annBob.second, people[1]);
        QCOMPARE(annBob.clips, 3);
        QVERIFY(std::abs(annBob.cohenKappa - 0.5) < 1e-12);
        QCOMPARE(annCy.clips, 8);
        QVERIFY(std::abs(annCy.cohenKappa - 2.0 / 3) < 1e-12);
        QVERIFY(std::abs(annCy.observedAgreement - 0.75) < 1e-12);
        QCOMPARE(bobCy.clips, 5);
        QVERIFY(std::abs(bobCy.cohenKappa - 0.736842) < 1e-6);
        // ann and cy disagree on clips 5 (3 vs 4) and 14 (3 vs 4): their confusion matrix.
        QCOMPARE(annCy.confusion[2][3], 2);
        QCOMPARE(annCy.confusion[0][0], 2);
        // The clips they disagree on, least agreement first: 7 (ann 1, bob 3) and 14 (ann 3,
        // cy 4) share no pair, 5 (3, 3, 4) has one agreeing pair of three.
        QCOMPARE(set.disagreements.size(), 3);
        QCOMPARE(set.disagreements[0].observedAgreement, 0.0);
        QCOMPARE(set.disagreements[1].observedAgreement, 0.0);
        QCOMPARE(set.disagreements[2].utteranceId, ids[5]);
        QVERIFY(std::abs(set.disagreements[2].observedAgreement - 1.0 / 3) < 1e-12);
        QCOMPARE(set.disagreements[2].categories.value(people[2]), schema.classes[3]);
        QSet<qint64> zero = {set.disagreements[0].utteranceId, set.disagreements[1].utteranceId};
        QCOMPARE(zero, (QSet<qint64>{ids[7], ids[14]}));
        // Per class: class 2 (units 3 and 9) always given together.
        QCOMPARE(set.perClass.size(), schema.classes.size());
        QCOMPARE(set.perClass[1].alpha, 1.0);
        QCOMPARE(set.perClass[1].ratings, 4);

        QCOMPARE(report.dimensions.size(), 1);
        const DimensionAgreement &arousal = report.dimensions.first();
        QCOMPARE(arousal.name, QStringLiteral("arousal"));
        QCOMPARE(arousal.clips, 11);
        QCOMPARE(arousal.ratings, 40);
        QCOMPARE(qRound(arousal.alpha[size_t(MeasurementLevel::Nominal)] * 1000), 743);
        QCOMPARE(qRound(arousal.alpha[size_t(MeasurementLevel::Ordinal)] * 1000), 815);
        QCOMPARE(qRound(arousal.alpha[size_t(MeasurementLevel::Interval)] * 1000), 849);
        QCOMPARE(qRound(arousal.alpha[size_t(MeasurementLevel::Ratio)] * 1000), 797);
        QCOMPARE(arousal.icc.targets, 11);
        QVERIFY(arousal.icc.single > 0.7 && arousal.icc.single < 1);

        // The corpus's own labels as one more annotator: it labeled every clip.
        AgreementOptions withCorpus;
        withCorpus.includeCorpusLabels = true;
        AgreementReport more;
        QVERIFY(labelAgreement(db, withCorpus, &more));
        QCOMPARE(more.annotators.size(), 5);
        QVERIFY(more.annotators.contains(
            LabelRepository::corpusAnnotatorName(CorpusRepository(db).corpora().first().name)));
        QVERIFY(more.labelSets.first().clips >= 12);
    }

    void labelRulesChooseWhatAClipTrainsOn()
    {
        LabelRule rule;
        QVERIFY(LabelRule::parse(QStringLiteral("majority"), &rule));
        QCOMPARE(rule.kind, LabelRule::Majority);
        QVERIFY(LabelRule::parse(QStringLiteral("reviewer:dee"), &rule));
        QCOMPARE(rule.kind, LabelRule::Reviewer);
        QCOMPARE(rule.reviewer, QStringLiteral("dee"));
        QCOMPARE(rule.name(), QStringLiteral("reviewer:dee"));
        QVERIFY(LabelRule::parse(QString(), &rule));
        QCOMPARE(rule.kind, LabelRule::Newest);
        const Status bad = LabelRule::parse(QStringLiteral("reviewer:"), &rule);
        QVERIFY(!bad);
        QVERIFY2(bad.error().contains(QStringLiteral("newest, majority, reviewer:NAME or soft")),
                 qPrintable(bad.error()));
        QVERIFY(LabelRule::parse(QStringLiteral("soft"), &rule));
        QCOMPARE(rule.kind, LabelRule::Soft);
        QCOMPARE(rule.name(), QStringLiteral("soft"));

        std::unique_ptr<Database> store;
        QList<qint64> ids;
        LabelSchema schema;
        QVERIFY(workspace(QStringLiteral("rules.emolens"), &store, &ids, &schema));
        LabelRepository labels(*store);
        const QStringList &c = schema.classes;
        const auto give = [&](int clip, const char *who, int cls) {
            return bool(labels.setLabel(ids[clip], schema.id, QString::fromLatin1(who),
                                        LabelValue::ofCategory(c[cls])));
        };
        // Clip 0: two for class 1, one (the newest) for class 2: the majority is class 1.
        QVERIFY(give(0, "ann", 1) && give(0, "bob", 1) && give(0, "cy", 2));
        // Clip 1: ann gives class 3, then bob class 0: a tie, which goes to the class given
        // most recently (bob's).
        QVERIFY(give(1, "ann", 3) && give(1, "bob", 0));
        // Clip 2: the reviewer dee against two others.
        QVERIFY(give(2, "ann", 2) && give(2, "bob", 2) && give(2, "dee", 0));
        // Clip 3: a category outside the label set does not vote.
        QVERIFY(labels.setLabel(ids[3], schema.id, QStringLiteral("ann"),
                                LabelValue::ofCategory(QStringLiteral("bored"))));

        QHash<qint64, QString> chosen;
        LabelRule majority;
        majority.kind = LabelRule::Majority;
        QVERIFY(trainingCategories(*store, majority, 0, c, &chosen));
        QCOMPARE(chosen.value(ids[0]), c[1]);
        QCOMPARE(chosen.value(ids[1]), c[0]); // bob's is the newer of the tie
        QCOMPARE(chosen.value(ids[2]), c[2]);
        QVERIFY(!chosen.contains(ids[3])); // keeps the corpus's label
        QVERIFY(!chosen.contains(ids[4])); // nobody labeled it
        QVERIFY(give(1, "ann", 0));        // ann now agrees with bob
        QVERIFY(give(1, "ann", 3));        // and back: her row is now the newest of the tie
        QVERIFY(trainingCategories(*store, majority, 0, c, &chosen));
        QCOMPARE(chosen.value(ids[1]), c[3]);

        LabelRule reviewer;
        QVERIFY(LabelRule::parse(QStringLiteral("reviewer:dee"), &reviewer));
        QVERIFY(trainingCategories(*store, reviewer, 0, c, &chosen));
        QCOMPARE(chosen.value(ids[2]), c[0]); // the reviewer's adjudication
        QCOMPARE(chosen.value(ids[0]), c[1]); // no review: the majority
        QVERIFY(trainingCategories(*store, LabelRule(), 0, c, &chosen));
        QVERIFY(chosen.isEmpty()); // newest: every clip keeps the label it shows

        // Soft targets: the share of the votes per class where people disagree, the majority
        // as the clip's category; a clip everyone agrees on gets no shares (a hard label).
        QVERIFY(give(5, "ann", 2) && give(5, "bob", 2));
        LabelRule soft;
        QVERIFY(LabelRule::parse(QStringLiteral("soft"), &soft));
        QHash<qint64, QList<float>> shares;
        QVERIFY(trainingCategories(*store, soft, 0, c, &chosen, &shares));
        QCOMPARE(chosen.value(ids[0]), c[1]);
        QList<float> expected(c.size(), 0.0f);
        expected[1] = 2.0f / 3.0f; // ann and bob
        expected[2] = 1.0f / 3.0f; // cy
        QCOMPARE(shares.value(ids[0]), expected);
        expected.fill(0.0f);
        expected[0] = 1.0f / 3.0f; // dee
        expected[2] = 2.0f / 3.0f; // ann and bob: the reviewer is one vote here
        QCOMPARE(shares.value(ids[2]), expected);
        QCOMPARE(chosen.value(ids[5]), c[2]);
        QVERIFY(!shares.contains(ids[5])); // agreed: trained as a hard label
        QVERIFY(!shares.contains(ids[3]) && !shares.contains(ids[4]));
    }

    void anEmptyWorkspaceHasNothingToCompare()
    {
        std::unique_ptr<Database> store;
        QList<qint64> ids;
        LabelSchema schema;
        QVERIFY(workspace(QStringLiteral("empty.emolens"), &store, &ids, &schema));
        Database &db = *store;
        AgreementReport report;
        QVERIFY(labelAgreement(db, AgreementOptions(), &report));
        QVERIFY(report.annotators.isEmpty()); // the corpus's labels are not people's
        QVERIFY(report.labelSets.isEmpty());
        // One person alone: a label set with nothing pairable, every figure undefined.
        LabelRepository(db).setLabel(ids[0], schema.id, QStringLiteral("ann"),
                                     LabelValue::ofCategory(schema.classes[0]));
        QVERIFY(labelAgreement(db, AgreementOptions(), &report));
        QCOMPARE(report.labelSets.size(), 1);
        QCOMPARE(report.labelSets.first().clips, 0);
        QVERIFY(std::isnan(report.labelSets.first().alpha));
    }
};

QTEST_GUILESS_MAIN(TestAgreement)
#include "test_agreement.moc"
