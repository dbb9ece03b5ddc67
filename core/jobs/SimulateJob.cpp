#include "jobs/SimulateJob.h"

#include "features/FeatureCache.h"
#include "store/Database.h"
#include "store/FeatureRepository.h"
#include "store/SelectionRepository.h"
#include "training/ClassificationMetrics.h"
#include "training/ClipSurprisal.h"
#include "training/Recipes.h"
#include "training/SpeakerFolds.h"
#include "training/TrainingSet.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <algorithm>
#include <memory>

namespace emolens {

double SimulationReport::fractionTo95() const
{
    for (const SimulationRound &round : rounds)
        if (round.ua >= 0.95 * fullUa)
            return round.labeledFraction;
    return -1;
}

QJsonObject simulationJson(const SimulationReport &report, quint32 seed)
{
    const double fractionTo95 = report.fractionTo95();
    double roundSeconds = 0;
    QJsonArray rounds;
    for (const SimulationRound &round : report.rounds) {
        roundSeconds += round.trainSeconds + round.selectSeconds;
        rounds.append(QJsonObject{{QStringLiteral("round"), round.round},
                                  {QStringLiteral("labeled"), round.labeled},
                                  {QStringLiteral("labeled_fraction"), round.labeledFraction},
                                  {QStringLiteral("ua"), round.ua},
                                  {QStringLiteral("wa"), round.wa},
                                  {QStringLiteral("f1"), round.f1},
                                  {QStringLiteral("train_seconds"), round.trainSeconds},
                                  {QStringLiteral("select_seconds"), round.selectSeconds}});
    }
    QJsonObject out{
        {QStringLiteral("strategy"), report.strategy},
        {QStringLiteral("favour_rare"), report.strategy.endsWith(QLatin1String("+rare"))},
        {QStringLiteral("recipe"), report.recipe},
        {QStringLiteral("encoder"), report.encoder},
        {QStringLiteral("seed"), qint64(seed)},
        {QStringLiteral("pool"), report.poolClips},
        {QStringLiteral("test_clips"), report.testClips},
        {QStringLiteral("test_speakers"), QJsonArray::fromStringList(report.testSpeakers)},
        {QStringLiteral("full_ua"), report.fullUa},
        {QStringLiteral("full_wa"), report.fullWa},
        {QStringLiteral("full_f1"), report.fullF1},
        {QStringLiteral("full_seconds"), report.fullSeconds},
        {QStringLiteral("fraction_to_95"),
         fractionTo95 >= 0 ? QJsonValue(fractionTo95) : QJsonValue()},
        {QStringLiteral("rounds_seconds"), roundSeconds},
        {QStringLiteral("rounds"), rounds},
        {QStringLiteral("seconds"), report.seconds},
        {QStringLiteral("simulation"), report.simulationId}};
    if (report.backboneId > 0)
        out.insert(QStringLiteral("backbone"), report.backboneId);
    return out;
}

QString SimulateJob::name() const
{
    return QStringLiteral("Simulate active learning (%1)").arg(m_request.strategy);
}

JobResult SimulateJob::run(ProgressSink &progress)
{
    QElapsedTimer clock;
    clock.start();
    m_report = SimulationReport();
    const SimulateRequest &r = m_request;
    SelectionStrategy strategy;
    if (!selectionStrategyFromName(r.strategy, &strategy))
        return JobResult::failed(
            QStringLiteral("unknown strategy \"%1\" (%2)")
                .arg(r.strategy, selectionStrategyNames().join(QStringLiteral(", "))));
    if (r.initial < 1 || r.step < 1 || r.rounds < 0 || r.folds < 2)
        return JobResult::failed(QStringLiteral(
            "a simulation needs at least 1 initial clip, a step of at least 1, 0 or more "
            "rounds and at least 2 speaker folds"));
    Database db(r.databasePath);
    if (auto st = db.open(); !st)
        return JobResult::failed(st.error());
    progress.setProgress(0, QStringLiteral("Reading the labels and the feature cache..."));
    TrainingSet set;
    if (auto st = TrainingSet::load(
            db, TrainingSetRequest::of(r.databasePath, r.cacheDirectory, r.encoder, -1), &set);
        !st)
        return JobResult::failed(st.error());
    const QString recipe = set.resolveRecipe(r.recipe, QStringLiteral("cpu"));
    RunChoices choices;
    choices.recipe = recipe;
    choices.seed = r.seed;
    choices.threads = r.threads;
    choices.epochs = r.epochs;
    TrainerOptions options;
    QString error;
    if (!runOptions(choices, set.encoder.layerCount, set.encoder.hiddenSize,
                    set.source->extraInputs(), int(set.classes.size()), &options, &error))
        return JobResult::failed(error);
    QStringList notes;
    if (auto st = set.fitAuxiliaryTasks(&options, {}, &notes); !st)
        return JobResult::failed(QStringLiteral("%1: %2").arg(r.databasePath, st.error()));
    options.patience = 0; // each round trains the recipe's epochs through
    // Favouring rare classes is named in the curve's strategy: "margin+rare".
    m_report.strategy =
        selectionStrategyName(strategy) + (r.favourRare ? QStringLiteral("+rare") : QString());
    m_report.recipe = recipe;
    m_report.encoder = set.encoder.name;
    m_report.classes = set.classes;

    // The split: one speaker fold is the test set, the other labeled clips the pool.
    QList<FoldClip> labeled;
    for (const FoldClip &c : std::as_const(set.clips))
        if (c.classIndex >= 0)
            labeled << c;
    FoldPlan plan;
    if (auto st = SpeakerFolds::bySpeaker(labeled, r.folds, r.seed, &plan); !st)
        return JobResult::failed(st.error());
    m_report.testSpeakers = plan.testSpeakers.value(0);
    std::vector<std::size_t> test;
    for (std::size_t i : set.indexesOf(plan.testClips(set.clips, 0)))
        if (set.clips[qsizetype(i)].classIndex >= 0)
            test.push_back(i);

    // The pool, with each clip's utterance embedding (the encoder's last layer).
    FeatureRepository features(db);
    QList<qint64> embeddedIds;
    std::vector<float> matrix;
    const int layer = set.encoder.layerCount - 1;
    if (auto st = features.layerMatrix(set.encoder.id, layer, &embeddedIds, &matrix); !st)
        return JobResult::failed(QStringLiteral("%1: %2").arg(r.databasePath, st.error()));
    QHash<qint64, int> embeddingRow;
    for (qsizetype i = 0; i < embeddedIds.size(); ++i)
        embeddingRow.insert(embeddedIds[i], int(i));
    SelectionPool pool;
    pool.dims = set.encoder.hiddenSize;
    std::vector<std::size_t> setIndex; // per pool row: its clip in the set
    QHash<QString, qint64> speakerIds;
    for (std::size_t i : set.indexesOf(plan.trainingClips(set.clips, 0))) {
        const FoldClip &clip = set.clips[qsizetype(i)];
        const auto row = embeddingRow.find(clip.utteranceId);
        if (clip.classIndex < 0 || row == embeddingRow.end())
            continue;
        pool.utteranceIds << clip.utteranceId;
        const float *values = matrix.data() + std::size_t(*row) * std::size_t(pool.dims);
        pool.embeddings.insert(pool.embeddings.end(), values, values + pool.dims);
        pool.speakers << *speakerIds.insert(
            clip.speaker, speakerIds.value(clip.speaker, qint64(speakerIds.size()) + 1));
        pool.seconds.push_back(0); // no duration bound in a simulation
        pool.labeled.push_back(false);
        pool.labelClasses.push_back(-1); // revealed with the label
        setIndex.push_back(i);
    }
    m_report.poolClips = pool.rows();
    m_report.testClips = int(test.size());
    if (pool.rows() == 0 || test.empty())
        return JobResult::failed(QStringLiteral("%1: no labeled clips with features to %2")
                                     .arg(r.databasePath, pool.rows() == 0
                                                              ? QStringLiteral("select from")
                                                              : QStringLiteral("test on")));

    const int trainings = r.rounds + 2; // each round, and the full run
    int trained = 0;
    // Trains the recipe on these pool rows and scores it on the test speakers.
    std::unique_ptr<AdapterTrainer> trainer;
    const auto trainAndScore = [&](const std::vector<int> &rows, ClassificationMetrics *metrics,
                                   double *seconds, bool *cancelled) -> Status {
        QElapsedTimer trainClock;
        trainClock.start();
        std::vector<std::size_t> train;
        for (int row : rows)
            train.push_back(setIndex[std::size_t(row)]);
        trainer = std::make_unique<AdapterTrainer>(options);
        const auto onEpoch = [&](const EpochRecord &e, double fraction) {
            progress.setProgress((trained + fraction) / trainings,
                                 QStringLiteral("Training on %1 labeled clips, epoch %2: loss %3")
                                     .arg(train.size())
                                     .arg(e.epoch)
                                     .arg(e.trainLoss, 0, 'f', 3));
            return !progress.isCancelled();
        };
        if (auto st = trainer->train(
                *set.source, train, {}, onEpoch, [&progress] { return progress.isCancelled(); },
                cancelled);
            !st)
            return Status::failure(QString::fromStdString(st.error()));
        if (*cancelled || progress.isCancelled()) {
            *cancelled = true;
            return Status::success();
        }
        std::vector<ClipPrediction> predictions;
        if (auto st = trainer->predict(*set.source, test, false, false, &predictions); !st)
            return Status::failure(QString::fromStdString(st.error()));
        QList<int> truth, predicted;
        for (std::size_t k = 0; k < test.size(); ++k) {
            truth << set.clips[qsizetype(test[k])].classIndex;
            const auto &p = predictions[k].probabilities;
            predicted << int(std::max_element(p.begin(), p.end()) - p.begin());
        }
        *metrics = ClassificationMetrics::compute(set.classes, truth, predicted);
        *seconds = trainClock.elapsed() / 1000.0;
        ++trained;
        return Status::success();
    };
    const auto cancelledResult = [] {
        return JobResult::cancelled(QStringLiteral("Simulation cancelled; nothing is kept"));
    };

    // Round 0: the cold start.
    SelectionOptions start;
    start.strategy = SelectionStrategy::ColdStart;
    start.count = r.initial;
    start.seed = r.seed;
    start.clusters = r.clusters;
    QList<SelectionPick> picks;
    if (auto st = selectClips(pool, start, &picks); !st)
        return JobResult::failed(st.error());
    std::vector<int> labeledRows;
    const auto reveal = [&](int row) {
        pool.labeled[std::size_t(row)] = true;
        pool.labelClasses[std::size_t(row)] =
            set.clips[qsizetype(setIndex[std::size_t(row)])].classIndex;
        labeledRows.push_back(row);
    };
    for (const SelectionPick &p : std::as_const(picks))
        reveal(p.row);
    const bool needsModel = selectionNeedsModel(strategy) || r.favourRare;
    double selectSeconds = 0;
    for (int round = 0; round <= r.rounds; ++round) {
        SimulationRound result;
        result.round = round;
        result.labeled = int(labeledRows.size());
        result.labeledFraction = double(labeledRows.size()) / pool.rows();
        result.selectSeconds = selectSeconds;
        ClassificationMetrics metrics;
        bool cancelled = false;
        if (auto st = trainAndScore(labeledRows, &metrics, &result.trainSeconds, &cancelled); !st)
            return JobResult::failed(QStringLiteral("round %1: %2").arg(round).arg(st.error()));
        if (cancelled)
            return cancelledResult();
        result.ua = metrics.ua;
        result.wa = metrics.wa;
        result.f1 = metrics.macroF1;
        m_report.rounds.append(result);
        progress.setProgress(double(trained) / trainings,
                             QStringLiteral("Round %1 of %2: %3 labeled clips, test UA %4")
                                 .arg(round)
                                 .arg(r.rounds)
                                 .arg(result.labeled)
                                 .arg(result.ua, 0, 'f', 3));
        if (round == r.rounds || int(labeledRows.size()) >= pool.rows())
            break;

        // The strategy picks the next clips from the rest of the pool.
        QElapsedTimer selectClock;
        selectClock.start();
        if (needsModel) {
            std::vector<std::size_t> unlabeled;
            std::vector<int> unlabeledRows;
            for (int row = 0; row < pool.rows(); ++row)
                if (!pool.labeled[std::size_t(row)]) {
                    unlabeled.push_back(setIndex[std::size_t(row)]);
                    unlabeledRows.push_back(row);
                }
            // BALD's dropout passes and BADGE's classifier inputs come with sample(); the
            // other strategies need the posteriors alone.
            const bool passes = selectionNeedsPasses(strategy);
            const bool inputs = selectionNeedsClassifierInputs(strategy);
            std::vector<ClipPrediction> predictions;
            const ModelStatus predicted =
                passes || inputs
                    ? trainer->sample(*set.source, unlabeled, passes ? r.passes : 0,
                                      r.seed + quint32(round), &predictions)
                    : trainer->predict(*set.source, unlabeled, false, false, &predictions);
            if (!predicted)
                return JobResult::failed(QStringLiteral("round %1: %2")
                                             .arg(round)
                                             .arg(QString::fromStdString(predicted.error())));
            const int classes = int(set.classes.size());
            pool.classes = set.classes;
            pool.probabilities.assign(std::size_t(pool.rows()) * std::size_t(classes), 0.f);
            pool.passes = passes ? r.passes : 0;
            pool.passProbabilities.assign(
                std::size_t(pool.rows()) * std::size_t(pool.passes) * std::size_t(classes), 0.f);
            pool.headDims =
                inputs && !predictions.empty() ? int(predictions[0].classifierInput.size()) : 0;
            pool.classifierInputs.assign(std::size_t(pool.rows()) * std::size_t(pool.headDims),
                                         0.f);
            for (std::size_t k = 0; k < unlabeledRows.size(); ++k) {
                const std::ptrdiff_t row = unlabeledRows[k];
                const ClipPrediction &p = predictions[k];
                std::copy(p.probabilities.begin(), p.probabilities.end(),
                          pool.probabilities.begin() + row * classes);
                if (pool.passes > 0 &&
                    p.passProbabilities.size() == std::size_t(pool.passes) * std::size_t(classes))
                    std::copy(p.passProbabilities.begin(), p.passProbabilities.end(),
                              pool.passProbabilities.begin() + row * pool.passes * classes);
                if (pool.headDims > 0 && p.classifierInput.size() == std::size_t(pool.headDims))
                    std::copy(p.classifierInput.begin(), p.classifierInput.end(),
                              pool.classifierInputs.begin() + row * pool.headDims);
            }
        }
        if (selectionNeedsSurprisal(strategy) && pool.surprisalDims == 0) {
            ClipSurprisal surprisal;
            if (auto st = surprisal.load(db,
                                         r.cacheDirectory.isEmpty()
                                             ? FeatureCache::defaultRootFor(r.databasePath)
                                             : r.cacheDirectory,
                                         set.encoder.id, r.backboneId);
                !st)
                return JobResult::failed(st.error());
            std::vector<std::vector<float>> rows;
            const double at = double(trained) / trainings;
            const qint64 backboneId = surprisal.backbone().id;
            if (auto st = surprisal.embed(
                    *set.source, setIndex, r.buckets, &rows,
                    [&progress] { return progress.isCancelled(); },
                    [&progress, at, backboneId](int done, int total) {
                        progress.setProgress(
                            at, QStringLiteral("ALPS: the surprisal of %1 of %2 pool clips under "
                                               "backbone %3")
                                    .arg(done)
                                    .arg(total)
                                    .arg(backboneId));
                    });
                !st) {
                if (progress.isCancelled())
                    return cancelledResult();
                return JobResult::failed(st.error());
            }
            pool.surprisalDims = r.buckets;
            m_report.backboneId = surprisal.backbone().id;
            for (const auto &row : rows)
                pool.surprisal.insert(pool.surprisal.end(), row.begin(), row.end());
        }
        SelectionOptions next;
        next.strategy = strategy;
        next.count = r.step;
        next.seed = r.seed + quint32(round) + 1;
        next.clusters = r.clusters;
        next.favourRare = r.favourRare;
        if (auto st = selectClips(pool, next, &picks); !st)
            return JobResult::failed(QStringLiteral("round %1: %2").arg(round).arg(st.error()));
        for (const SelectionPick &p : std::as_const(picks))
            reveal(p.row);
        selectSeconds = selectClock.elapsed() / 1000.0;
        if (picks.isEmpty())
            break;
    }

    // Every pool label: what the curve is measured against.
    std::vector<int> all(std::size_t(pool.rows()));
    for (int row = 0; row < pool.rows(); ++row)
        all[std::size_t(row)] = row;
    ClassificationMetrics full;
    bool cancelled = false;
    if (auto st = trainAndScore(all, &full, &m_report.fullSeconds, &cancelled); !st)
        return JobResult::failed(QStringLiteral("every label: %1").arg(st.error()));
    if (cancelled)
        return cancelledResult();
    m_report.fullUa = full.ua;
    m_report.fullWa = full.wa;
    m_report.fullF1 = full.macroF1;
    m_report.seconds = clock.elapsed() / 1000.0;
    if (r.store) {
        SimulationRecord stored;
        stored.strategy = m_report.strategy;
        stored.recipe = m_report.recipe;
        stored.encoder = m_report.encoder;
        stored.seed = r.seed;
        stored.report = QString::fromUtf8(
            QJsonDocument(simulationJson(m_report, r.seed)).toJson(QJsonDocument::Compact));
        if (auto st = SelectionRepository(db).addSimulation(&stored); !st)
            return JobResult::failed(QStringLiteral("%1: cannot store the simulation: %2")
                                         .arg(r.databasePath, st.error()));
        m_report.simulationId = stored.id;
    }
    const SimulationRound &last = m_report.rounds.last();
    return JobResult::succeeded(
        QStringLiteral("%1 on %2 (%3): from %4 to %5 labeled clips of %6, test UA %7 -> %8 "
                       "(every label: %9) on %10 clips of held-out speakers, in %11 s")
            .arg(m_report.strategy, recipe, set.encoder.name)
            .arg(m_report.rounds.first().labeled)
            .arg(last.labeled)
            .arg(pool.rows())
            .arg(m_report.rounds.first().ua, 0, 'f', 3)
            .arg(last.ua, 0, 'f', 3)
            .arg(m_report.fullUa, 0, 'f', 3)
            .arg(test.size())
            .arg(m_report.seconds, 0, 'f', 0));
}

} // namespace emolens
