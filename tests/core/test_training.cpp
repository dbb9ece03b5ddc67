// The figures the training platform reports and the splits it scores on: UA, WA, macro F1,
// per-class precision/recall/F1 and CCC equal values worked out by hand on fixed data (the
// conventions are scikit-learn's); speaker folds are speaker-disjoint, cover every speaker
// once, balance genders and classes as far as the speakers allow, and depend only on the seed;
// session folds follow the sessions; validation speakers come from the training speakers; paper
// mode gives seeds 001 and 003 the papers' stated settings and keeps the run's own choices.

#include "training/ClassificationMetrics.h"
#include "training/Recipes.h"
#include "training/SpeakerFolds.h"

#include <QSet>
#include <QTest>

using namespace emolens;

namespace {

const QStringList kLabels = {QStringLiteral("angry"), QStringLiteral("happy"),
                             QStringLiteral("neutral"), QStringLiteral("sad")};

// 8 speakers (4 women, 4 men), 2 sessions of 4, each speaker 5 clips of each of 4 classes;
// speaker i has i extra neutral clips so the speakers differ in size.
QList<FoldClip> generatedClips()
{
    QList<FoldClip> clips;
    qint64 id = 1;
    for (int s = 0; s < 8; ++s) {
        const QString speaker = QStringLiteral("spk%1").arg(s);
        const Gender gender = s % 2 == 0 ? Gender::Female : Gender::Male;
        for (int c = 0; c < 4; ++c)
            for (int n = 0; n < 5 + (c == 2 ? s : 0); ++n)
                clips.append(
                    {id++, speaker, gender, c, QStringLiteral("Session%1").arg(s / 4 + 1), {}});
    }
    return clips;
}

} // namespace

class TestTraining : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void metricsEqualHandComputedValues()
    {
        // true \ predicted: angry happy neutral sad
        const QList<QList<int>> confusion = {
            {8, 1, 1, 0}, {2, 5, 3, 0}, {0, 1, 6, 3}, {0, 0, 2, 3}};
        const ClassificationMetrics m = ClassificationMetrics::fromConfusion(kLabels, confusion);
        QCOMPARE(m.count, 35);
        QCOMPARE(m.wa, 22.0 / 35.0);
        // Recall 0.8, 0.5, 0.6, 0.6.
        QCOMPARE(m.ua, (0.8 + 0.5 + 0.6 + 0.6) / 4);
        // Precision 8/10, 5/7, 6/12, 3/6.
        QCOMPARE(m.perClass[1].precision, 5.0 / 7.0);
        QCOMPARE(m.perClass[2].precision, 0.5);
        QCOMPARE(m.perClass[1].f1, 10.0 / 17.0);
        QCOMPARE(m.perClass[3].f1, 6.0 / 11.0);
        QCOMPARE(m.macroF1, (0.8 + 10.0 / 17.0 + 6.0 / 11.0 + 6.0 / 11.0) / 4);
        QCOMPARE(m.perClass[0].support, 10);
        QCOMPARE(m.perClass[2].predicted, 12);

        // The same from label lists.
        QList<int> truth, predicted;
        for (int t = 0; t < 4; ++t)
            for (int p = 0; p < 4; ++p)
                for (int n = 0; n < confusion[t][p]; ++n) {
                    truth << t;
                    predicted << p;
                }
        const ClassificationMetrics again =
            ClassificationMetrics::compute(kLabels, truth, predicted);
        QCOMPARE(again.confusion, confusion);
        QCOMPARE(again.ua, m.ua);
        QCOMPARE(again.macroF1, m.macroF1);
    }

    void absentClassesAreLeftOutOfTheAverages()
    {
        // "sad" never occurs and is never predicted; "neutral" is predicted but never true.
        const QList<QList<int>> confusion = {
            {3, 0, 1, 0}, {1, 2, 1, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}};
        const ClassificationMetrics m = ClassificationMetrics::fromConfusion(kLabels, confusion);
        QCOMPARE(m.ua, (0.75 + 0.5) / 2);                  // over the true classes only
        QCOMPARE(m.perClass[2].precision, 0.0);            // predicted twice, never right
        QCOMPARE(m.macroF1, (0.75 + 2.0 / 3.0 + 0.0) / 3); // angry, happy, neutral
        QCOMPARE(m.wa, 5.0 / 8.0);
        // Pooling folds adds their matrices.
        const auto pooled = ClassificationMetrics::addConfusion(confusion, confusion);
        QCOMPARE(ClassificationMetrics::fromConfusion(kLabels, pooled).ua, m.ua);
        QCOMPARE(pooled[0][0], 6);
        // Out-of-range indexes are not scored.
        QCOMPARE(ClassificationMetrics::compute(kLabels, {0, 7, -1}, {0, 0, 1}).count, 1);
    }

    void concordanceCorrelationEqualsHandValues()
    {
        QCOMPARE(concordanceCorrelation({1, 2, 3, 4}, {1, 2, 3, 4}), 1.0);
        // Shifted by one: covariance 1.25, variances 1.25, squared mean difference 1.
        QCOMPARE(concordanceCorrelation({1, 2, 3, 4}, {2, 3, 4, 5}), 2.5 / 3.5);
        QCOMPARE(concordanceCorrelation({1, 2, 3, 4}, {4, 3, 2, 1}), -2.5 / 2.5);
        QCOMPARE(concordanceCorrelation({1, 2, 3}, {2, 2, 2}), 0.0);
        QCOMPARE(concordanceCorrelation({}, {}), 0.0);
        QCOMPARE(concordanceCorrelation({1, 2}, {1}), 0.0);
    }

    void speakerFoldsAreDisjointAndBalanced()
    {
        const QList<FoldClip> clips = generatedClips();
        FoldPlan plan;
        QVERIFY(SpeakerFolds::bySpeaker(clips, 4, /*seed=*/7, &plan).ok());
        QCOMPARE(plan.foldCount(), 4);
        QSet<QString> seen;
        for (int f = 0; f < 4; ++f) {
            QCOMPARE(plan.testSpeakers[f].size(), 2);
            int women = 0;
            for (const QString &s : plan.testSpeakers[f]) {
                QVERIFY2(!seen.contains(s), qPrintable(s));
                seen.insert(s);
                women += s.mid(3).toInt() % 2 == 0 ? 1 : 0;
            }
            QCOMPARE(women, 1); // one woman and one man in each fold
            // Test and training clips are disjoint in speakers and cover every clip.
            const QList<qint64> test = plan.testClips(clips, f);
            const QList<qint64> train = plan.trainingClips(clips, f);
            QCOMPARE(test.size() + train.size(), clips.size());
            const QSet<qint64> testSet(test.begin(), test.end());
            for (qint64 id : train)
                QVERIFY(!testSet.contains(id));
        }
        QCOMPARE(seen.size(), 8);
        // The speakers differ in size (20 + 0..7 clips): the folds still hold similar numbers.
        int smallest = INT_MAX, largest = 0;
        for (int f = 0; f < 4; ++f) {
            const int n = int(plan.testClips(clips, f).size());
            smallest = std::min(smallest, n);
            largest = std::max(largest, n);
        }
        QVERIFY2(largest - smallest <= 2,
                 qPrintable(QStringLiteral("%1..%2").arg(smallest).arg(largest)));

        // Same seed, same folds.
        FoldPlan again;
        QVERIFY(SpeakerFolds::bySpeaker(clips, 4, 7, &again).ok());
        QCOMPARE(again.testSpeakers, plan.testSpeakers);
    }

    void tooFewSpeakersIsAClearError()
    {
        FoldPlan plan;
        const Status st = SpeakerFolds::bySpeaker(generatedClips(), 9, 1, &plan);
        QVERIFY(!st.ok());
        QVERIFY2(st.error().contains(QLatin1String("8 speakers")), qPrintable(st.error()));
        QVERIFY(!SpeakerFolds::bySpeaker(generatedClips(), 1, 1, &plan).ok());
    }

    void sessionFoldsFollowTheSessions()
    {
        const QList<FoldClip> clips = generatedClips();
        FoldPlan plan;
        QVERIFY(SpeakerFolds::bySession(clips, &plan).ok());
        QCOMPARE(plan.foldCount(), 2);
        QCOMPARE(plan.testSpeakers[0], (QStringList{"spk0", "spk1", "spk2", "spk3"}));
        QList<FoldClip> mixed = clips;
        mixed.first().session = QStringLiteral("Session2"); // spk0 now speaks in both
        const Status st = SpeakerFolds::bySession(mixed, &plan);
        QVERIFY(!st.ok());
        QVERIFY2(st.error().contains(QLatin1String("spk0")), qPrintable(st.error()));
    }

    void officialFoldsFollowTheCorpusPartition()
    {
        // spk0-3 train, spk4 development, spk5 Test1, spk6-7 Test2 (names in any case).
        QList<FoldClip> clips = generatedClips();
        const QStringList parts = {"Train",       "train", "Train", "TRAIN",
                                   "Development", "Test1", "Test2", "test2"};
        for (FoldClip &c : clips)
            c.partition = parts[c.speaker.mid(3).toInt()];
        FoldPlan plan;
        QVERIFY(SpeakerFolds::byPartition(clips, &plan).ok());
        QVERIFY(plan.official());
        QCOMPARE(plan.foldCount(), 2); // Test1 and Test2, each scored on its own
        QCOMPARE(plan.testSpeakers[0], QStringList{"spk5"});
        QCOMPARE(plan.testSpeakers[1], (QStringList{"spk6", "spk7"}));
        auto speakersOf = [&clips](const QList<qint64> &ids) {
            QSet<QString> speakers;
            for (const FoldClip &c : clips)
                if (ids.contains(c.utteranceId))
                    speakers.insert(c.speaker);
            return speakers;
        };
        for (int f = 0; f < 2; ++f) {
            QCOMPARE(speakersOf(plan.trainingClips(clips, f)),
                     (QSet<QString>{"spk0", "spk1", "spk2", "spk3"}));
            QCOMPARE(speakersOf(plan.testClips(clips, f)),
                     QSet<QString>(plan.testSpeakers[f].cbegin(), plan.testSpeakers[f].cend()));
        }
        QCOMPARE(speakersOf(plan.validationClips(clips)), QSet<QString>{"spk4"});

        // What is missing is named.
        QList<FoldClip> gap = clips;
        gap.first().partition.clear();
        Status st = SpeakerFolds::byPartition(gap, &plan);
        QVERIFY2(!st.ok() && st.error().contains(QLatin1String("1 clips have no partition")),
                 qPrintable(st.error()));
        QVERIFY(!plan.official());
        QList<FoldClip> odd = clips;
        odd.last().partition = QStringLiteral("Holdout");
        st = SpeakerFolds::byPartition(odd, &plan);
        QVERIFY2(!st.ok() && st.error().contains(QLatin1String("\"Holdout\"")),
                 qPrintable(st.error()));
        st = SpeakerFolds::byPartition(generatedClips(), &plan);
        QVERIFY2(!st.ok() && st.error().contains(QLatin1String("defines no partition")),
                 qPrintable(st.error()));
        QList<FoldClip> noTest = clips;
        for (FoldClip &c : noTest)
            if (c.partition.startsWith(QLatin1String("Test"), Qt::CaseInsensitive))
                c.partition = QStringLiteral("Train");
        st = SpeakerFolds::byPartition(noTest, &plan);
        QVERIFY2(!st.ok() && st.error().contains(QLatin1String("no test part")),
                 qPrintable(st.error()));
    }

    void validationSpeakersComeFromTrainingSpeakers()
    {
        const QList<FoldClip> clips = generatedClips();
        FoldPlan plan;
        QVERIFY(SpeakerFolds::bySpeaker(clips, 4, 3, &plan).ok());
        QStringList training;
        for (int f = 1; f < 4; ++f)
            training << plan.testSpeakers[f];
        const QStringList validation =
            SpeakerFolds::validationSpeakers(clips, training, 0.34, /*seed=*/3);
        QCOMPARE(validation.size(), 2);
        int women = 0;
        for (const QString &s : validation) {
            QVERIFY(training.contains(s));
            QVERIFY(!plan.testSpeakers[0].contains(s));
            women += s.mid(3).toInt() % 2 == 0 ? 1 : 0;
        }
        QCOMPARE(women, 1);
        QCOMPARE(SpeakerFolds::validationSpeakers(clips, training, 0.34, 3), validation);
        // Never all of them; from five speakers on, at least two.
        QCOMPARE(SpeakerFolds::validationSpeakers(clips, training, 1.0, 3).size(), 5);
        QCOMPARE(SpeakerFolds::validationSpeakers(clips, training, 0.0, 3).size(), 2);
        QCOMPARE(SpeakerFolds::validationSpeakers(clips, training.mid(0, 4), 0.0, 3).size(), 1);
    }

    void paperModeTakesThePapersSettings()
    {
        // A HuBERT-base-shaped encoder (13 hidden states of 768), 4 classes.
        RunChoices choices;
        choices.recipe = QStringLiteral("ari-coattention");
        choices.mode = QStringLiteral("paper");
        choices.encoderFolder = QStringLiteral("/models/hubert-base");
        TrainerOptions o;
        QString error;
        QVERIFY2(runOptions(choices, 13, 768, 0, 4, &o, &error), qPrintable(error));
        // Seed 003: every layer runs, stage 2 trains the last 8, 100 epochs per stage, batch 4,
        // 1e-4 and 1e-5; no adapter blocks stand in for the encoder.
        QCOMPARE(o.adapter.encoderFirstLayer, 1);
        QCOMPARE(o.encoderTrainFrom, 5);
        QCOMPARE(o.ari.auxiliaryEpochs, 100);
        QCOMPARE(o.epochs, 100);
        QCOMPARE(o.maxBatchClips, 4);
        QCOMPARE(o.learningRate, 1e-4);
        QCOMPARE(o.ari.learningRate, 1e-4);
        QCOMPARE(o.encoderLearningRate, 1e-5);
        QCOMPARE(o.adapter.transformerLayers, 0);
        QCOMPARE(o.encoderFolder, std::string("/models/hubert-base"));
        QVERIFY(paperModeNote(o).contains(u"stage 2 those from layer 5"));
        // The run's own epochs and top layers stay its own.
        choices.epochs = 7;
        choices.auxiliaryEpochs = 3;
        choices.encoderLayers = 4;
        QVERIFY(runOptions(choices, 13, 768, 0, 4, &o, &error));
        QCOMPARE(o.epochs, 7);
        QCOMPARE(o.ari.auxiliaryEpochs, 3);
        QCOMPARE(o.adapter.encoderFirstLayer, 9);
        QCOMPARE(o.encoderTrainFrom, 9);

        // Seed 001: every layer, trained in steps 3 and 4.
        choices = RunChoices();
        choices.recipe = QStringLiteral("gmp-atl");
        choices.mode = QStringLiteral("paper");
        choices.encoderFolder = QStringLiteral("/models/hubert-base");
        QVERIFY(runOptions(choices, 13, 768, 0, 4, &o, &error));
        QCOMPARE(o.adapter.encoderFirstLayer, 1);
        QCOMPARE(o.encoderTrainFrom, 1);
        QCOMPARE(o.gmpAtl.multiTaskEpochs, 20);
        QVERIFY(paperModeNote(o).contains(u"steps 3 and 4"));

        // The one-click mode has no encoder layers; fbank's features have none to train.
        choices.mode = QStringLiteral("one-click");
        QVERIFY(runOptions(choices, 13, 768, 0, 4, &o, &error));
        QCOMPARE(o.adapter.encoderFirstLayer, 0);
        QVERIFY(paperModeNote(o).isEmpty());
        choices.mode = QStringLiteral("paper");
        QVERIFY(!runOptions(choices, 1, 80, 3, 4, &o, &error));
        QVERIFY2(error.contains(u"fbank"), qPrintable(error));
        choices.recipe = QStringLiteral("adapter-local-attributes");
        QVERIFY(!runOptions(choices, 13, 768, 0, 4, &o, &error));
        QVERIFY2(error.contains(u"seed 000 keeps it frozen"), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestTraining)
#include "test_training.moc"
