#include "training/CrossValidation.h"

#include "training/Recipes.h"

#include <QElapsedTimer>
#include <QSet>

namespace emolens {

Status CrossValidation::run(const TrainingSet &set, const TrainerOptions &options,
                            const FoldPlan &plan, double validationFraction, ProgressSink &progress,
                            CrossValidationReport *report)
{
    QElapsedTimer clock;
    clock.start();
    report->folds.clear();
    report->cancelled = false;
    report->settings = QString::fromStdString(options.adapter.describe()) +
                       QStringLiteral(" lr=%1 epochs=%2 patience=%3 seed=%4")
                           .arg(options.learningRate)
                           .arg(options.epochs)
                           .arg(options.patience)
                           .arg(options.seed);
    if (options.pretrain.epochs > 0)
        report->settings +=
            QStringLiteral(" pretrain: ") + QString::fromStdString(options.pretrain.describe());
    if (options.gmpAtl.multiTaskEpochs > 0)
        report->settings += QLatin1Char(' ') + QString::fromStdString(options.gmpAtl.describe());
    if (options.adapter.pooling == AdapterPooling::CoAttention)
        report->settings += QLatin1Char(' ') + QString::fromStdString(options.ari.describe());
    QList<QList<int>> pooled;
    const int folds = plan.foldCount();
    for (int f = 0; f < folds; ++f) {
        QElapsedTimer foldClock;
        foldClock.start();
        FoldResult result;
        result.fold = f + 1;
        result.testSpeakers = plan.testSpeakers[f];
        QStringList trainingSpeakers;
        for (int g = 0; g < folds; ++g)
            if (g != f)
                trainingSpeakers << plan.testSpeakers[g];
        std::vector<std::size_t> train, valid;
        if (plan.official()) {
            // The corpus's own development part chooses the epoch.
            for (std::size_t i : set.indexesOf(plan.trainingClips(set.clips, f)))
                if (set.clips[qsizetype(i)].classIndex >= 0)
                    train.push_back(i);
            QSet<QString> speakers;
            for (std::size_t i : set.indexesOf(plan.validationClips(set.clips)))
                if (set.clips[qsizetype(i)].classIndex >= 0) {
                    valid.push_back(i);
                    speakers.insert(set.clips[qsizetype(i)].speaker);
                }
            result.validationSpeakers = QStringList(speakers.cbegin(), speakers.cend());
            result.validationSpeakers.sort();
        } else {
            result.validationSpeakers = SpeakerFolds::validationSpeakers(
                set.clips, trainingSpeakers, validationFraction, quint32(options.seed + f));
            const QSet<QString> validation(result.validationSpeakers.cbegin(),
                                           result.validationSpeakers.cend());
            // Split the training clips by speaker: validation speakers are held out of training.
            for (std::size_t i : set.indexesOf(plan.trainingClips(set.clips, f))) {
                if (set.clips[qsizetype(i)].classIndex < 0)
                    continue;
                (validation.contains(set.clips[qsizetype(i)].speaker) ? valid : train).push_back(i);
            }
        }
        std::vector<std::size_t> test;
        for (std::size_t i : set.indexesOf(plan.testClips(set.clips, f)))
            if (set.clips[qsizetype(i)].classIndex >= 0)
                test.push_back(i);
        result.trainClips = int(train.size());
        result.testClips = int(test.size());
        if (train.empty() || test.empty())
            return Status::failure(
                QStringLiteral("fold %1 has no labeled clips to %2")
                    .arg(f + 1)
                    .arg(train.empty() ? QStringLiteral("train on") : QStringLiteral("test")));

        AdapterTrainer trainer(options);
        bool cancelled = false;
        const auto onEpoch = [&](const EpochRecord &r, double fraction) {
            progress.setProgress(
                (f + fraction) / folds,
                QStringLiteral("Fold %1 of %2, epoch %3: loss %4, validation UA %5")
                    .arg(f + 1)
                    .arg(folds)
                    .arg(r.epoch)
                    .arg(r.trainLoss, 0, 'f', 3)
                    .arg(r.validationUa, 0, 'f', 3));
            return !progress.isCancelled();
        };
        // Pre-training (seed 000) reads this fold's training and validation clips only: the
        // test speakers' audio stays unseen.
        trainer.setGmpAtlCallback([&](const GmpAtlRecord &g, double) {
            progress.setProgress(
                double(f) / folds,
                QStringLiteral("Fold %1 of %2, GMP-ATL step %3 of 4, epoch %4: "
                               "emotion loss %5, %6 loss %7")
                    .arg(f + 1)
                    .arg(folds)
                    .arg(g.step)
                    .arg(g.epoch)
                    .arg(g.emotionLoss, 0, 'f', 3)
                    .arg(g.step == 1 ? QStringLiteral("gender") : QStringLiteral("pseudo-label"))
                    .arg(g.auxiliaryLoss, 0, 'f', 3));
        });
        trainer.setAriCallback([&](const AriRecord &a, double) {
            progress.setProgress(double(f) / folds,
                                 QStringLiteral("Fold %1 of %2, stage 1 (auxiliary tasks), epoch "
                                                "%3 of %4: %5")
                                     .arg(f + 1)
                                     .arg(folds)
                                     .arg(a.epoch)
                                     .arg(options.ari.auxiliaryEpochs)
                                     .arg(ariRecordText(a, options.adapter)));
        });
        trainer.setPretrainCallback([&](const PretrainRecord &p, double) {
            progress.setProgress(double(f) / folds,
                                 QStringLiteral("Fold %1 of %2, pre-training epoch %3 of %4: "
                                                "mask loss %5, distillation loss %6")
                                     .arg(f + 1)
                                     .arg(folds)
                                     .arg(p.epoch)
                                     .arg(options.pretrain.epochs)
                                     .arg(p.maskLoss, 0, 'f', 3)
                                     .arg(p.distillLoss, 0, 'f', 3));
        });
        if (auto st = trainer.train(
                *set.source, train, valid, onEpoch, [&progress] { return progress.isCancelled(); },
                &cancelled);
            !st)
            return Status::failure(
                QStringLiteral("fold %1: %2").arg(f + 1).arg(QString::fromStdString(st.error())));
        if (cancelled || progress.isCancelled()) {
            report->cancelled = true;
            break;
        }
        std::vector<ClipPrediction> predictions;
        if (auto st = trainer.predict(*set.source, test, false, false, &predictions,
                                      [&progress] { return progress.isCancelled(); });
            !st) {
            if (progress.isCancelled()) {
                report->cancelled = true;
                break;
            }
            return Status::failure(
                QStringLiteral("fold %1: %2").arg(f + 1).arg(QString::fromStdString(st.error())));
        }
        QList<int> truth, predicted;
        for (std::size_t k = 0; k < test.size(); ++k) {
            const FoldClip &clip = set.clips[qsizetype(test[k])];
            const auto &p = predictions[k].probabilities;
            const auto top = std::max_element(p.begin(), p.end());
            truth << clip.classIndex;
            predicted << int(top - p.begin());
            result.predictions << FoldPrediction{clip.utteranceId, truth.last(), predicted.last(),
                                                 top == p.end() ? 0.0 : double(*top)};
        }
        result.metrics = ClassificationMetrics::compute(set.classes, truth, predicted);
        result.bestEpoch = trainer.bestEpoch();
        result.history = trainer.history();
        result.pretrainHistory = trainer.pretrainHistory();
        result.gmpAtlHistory = trainer.gmpAtlHistory();
        result.ariHistory = trainer.ariHistory();
        result.seconds = foldClock.elapsed() / 1000.0;
        pooled = ClassificationMetrics::addConfusion(pooled, result.metrics.confusion);
        report->folds.append(result);
    }
    report->pooled = ClassificationMetrics::fromConfusion(set.classes, pooled);
    report->seconds = clock.elapsed() / 1000.0;
    return Status::success();
}

} // namespace emolens
