#include "jobs/TrainJob.h"

#include "common/WorkspaceLocation.h"

#include "store/Database.h"
#include "training/ClassificationMetrics.h"
#include "training/PretrainedBackbones.h"
#include "training/Recipes.h"
#include "training/StoredAdapter.h"
#include "training/TrainingSet.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTemporaryDir>
#include <optional>

namespace emolens {

namespace {

int argmax(const std::vector<float> &p)
{
    return p.empty() ? -1 : int(std::max_element(p.begin(), p.end()) - p.begin());
}

} // namespace

MetricsRow metricsRowOf(const ClassificationMetrics &m, int fold, const QString &split)
{
    MetricsRow row;
    row.fold = fold;
    row.split = split;
    row.n = m.count;
    row.ua = m.ua;
    row.wa = m.wa;
    row.f1 = m.macroF1;
    row.labels = m.labels;
    row.confusion = m.confusion;
    return row;
}

QString TrainJob::name() const
{
    return m_request.resumeRunId > 0
               ? QStringLiteral("Resume training run %1").arg(m_request.resumeRunId)
               : QStringLiteral("Train %1")
                     .arg(m_request.recipe.isEmpty() ? QStringLiteral("(default recipe)")
                                                     : m_request.recipe);
}

int TrainJob::checkpointPretrainEpochs(const QString &databasePath, qint64 runId)
{
    const QString path = checkpointPath(databasePath, runId);
    if (!QFileInfo::exists(path))
        return -1;
    std::vector<EpochRecord> done;
    int pretrain = -1;
    if (!AdapterTrainer::checkpointHistory(QFile::encodeName(path).toStdString(), &done, &pretrain))
        return -1;
    return pretrain;
}

Status TrainJob::resumableRun(const ModelRepository &models, const QString &databasePath,
                              qint64 runId, const QString &kind, const QString &instead,
                              TrainingRunRecord *run)
{
    const auto prior = models.run(runId);
    if (!prior || prior->kind != kind)
        return Status::failure(QStringLiteral("%1: no %2 run %3")
                                   .arg(databasePath, kind == QLatin1String("train")
                                                          ? QStringLiteral("training")
                                                          : QStringLiteral("pre-training"))
                                   .arg(runId));
    if (prior->status != QLatin1String("interrupted"))
        return Status::failure(
            QStringLiteral("run %1 is %2: only an interrupted run can be resumed")
                .arg(runId)
                .arg(prior->status));
    if (!QFileInfo::exists(checkpointPath(databasePath, runId)))
        return Status::failure(
            QStringLiteral("run %1 has no checkpoint (%2): it ended before its first epoch did%3")
                .arg(runId)
                .arg(checkpointPath(databasePath, runId), instead));
    *run = *prior;
    return Status::success();
}

void TrainJob::useCheckpoint(const QString &databasePath, qint64 runId, bool resume,
                             TrainerOptions *options)
{
    const QString checkpoint = checkpointPath(databasePath, runId);
    QDir().mkpath(QFileInfo(checkpoint).absolutePath());
    options->checkpointPath = QFile::encodeName(checkpoint).toStdString();
    options->resume = resume;
}

void TrainJob::dropCheckpoint(const QString &databasePath, qint64 runId)
{
    const QString checkpoint = checkpointPath(databasePath, runId);
    QFile::remove(checkpoint);
    QDir().rmdir(QFileInfo(checkpoint).absolutePath()); // only when empty
}

QString TrainJob::checkpointPath(const QString &databasePath, qint64 runId)
{
    return QDir(WorkspaceLocation::parse(databasePath).companionPath(QStringLiteral(".runs")))
        .filePath(QStringLiteral("run-%1.checkpoint.safetensors").arg(runId));
}

JobResult TrainJob::run(ProgressSink &progress)
{
    QElapsedTimer clock;
    clock.start();
    m_report = TrainReport();
    TrainRequest r = m_request;
    Database db(r.databasePath);
    if (auto st = db.open(); !st)
        return JobResult::failed(st.error());
    ModelRepository models(db);

    // A resumed run takes its settings from the run it continues.
    std::optional<TrainingRunRecord> prior;
    QJsonObject priorSettings;
    if (r.resumeRunId > 0) {
        TrainingRunRecord resumed;
        if (auto st = resumableRun(models, r.databasePath, r.resumeRunId, QStringLiteral("train"),
                                   QStringLiteral("; train a new model instead"), &resumed);
            !st)
            return JobResult::failed(st.error());
        prior = resumed;
        priorSettings = QJsonDocument::fromJson(prior->settings.toUtf8()).object();
        if (!priorSettings.contains(QStringLiteral("encoder")))
            return JobResult::failed(
                QStringLiteral("run %1 was recorded without its encoder's name (an older "
                               "version's run); train a new model instead")
                    .arg(r.resumeRunId));
        r.recipe = prior->recipe;
        r.seed = quint32(prior->seed);
        r.device = prior->device;
        r.encoder = priorSettings.value(QStringLiteral("encoder")).toString();
        r.epochs = priorSettings.value(QStringLiteral("epochs")).toInt();
        r.pretrainEpochs = priorSettings.value(QStringLiteral("pretrain_epochs")).toInt(-1);
        r.gmpEpochs = priorSettings.value(QStringLiteral("gmp_epochs")).toInt(-1);
        r.auxiliaryEpochs = priorSettings.value(QStringLiteral("auxiliary_epochs")).toInt(-1);
        r.freezeAri = priorSettings.value(QStringLiteral("freeze_ari")).toBool();
        r.mode = priorSettings.value(QStringLiteral("mode")).toString(QStringLiteral("one-click"));
        r.encoderLayers = priorSettings.value(QStringLiteral("encoder_layers")).toInt(0);
        r.speedPerturbation = priorSettings.value(QStringLiteral("speed_perturbation")).toBool();
        r.auxiliaryTasks.clear();
        for (const QJsonValue &v : priorSettings.value(QStringLiteral("auxiliary_tasks")).toArray())
            r.auxiliaryTasks << v.toString();
        r.acousticInputs = priorSettings.value(QStringLiteral("acoustic_inputs")).toBool() ? 1 : 0;
        r.backbone = priorSettings.value(QStringLiteral("backbone_id")).toInteger(0);
        if (auto st = LabelRule::parse(priorSettings.value(QStringLiteral("label_rule")).toString(),
                                       &r.labelRule);
            !st)
            return JobResult::failed(
                QStringLiteral("run %1: %2").arg(r.resumeRunId).arg(st.error()));
    }

    progress.setProgress(0, QStringLiteral("Reading the labels and the feature cache..."));
    TrainingSet set;
    TrainingSetRequest setRequest =
        TrainingSetRequest::of(r.databasePath, r.cacheDirectory, r.encoder, r.acousticInputs);
    if (r.speedPerturbation)
        setRequest.speedRates = speedPerturbationRates();
    setRequest.labelRule = r.labelRule;
    if (auto st = TrainingSet::load(db, setRequest, &set); !st)
        return JobResult::failed(st.error());

    // "default" by the size of the labeled set (see defaultRecipeFor).
    const QString recipe = set.resolveRecipe(r.recipe, r.device);
    TrainerOptions options;
    QString error;
    if (!runOptions(runChoicesOf(r, recipe, set.encoder.source), set.encoder.layerCount,
                    set.encoder.hiddenSize, set.source->extraInputs(), int(set.classes.size()),
                    &options, &error))
        return JobResult::failed(error);
    // Seed 003's auxiliary tasks, as the metadata allows.
    if (auto st = set.fitAuxiliaryTasks(&options, r.auxiliaryTasks, &m_report.notes); !st)
        return JobResult::failed(QStringLiteral("%1: %2").arg(r.databasePath, st.error()));
    if (const QString note = paperModeNote(options); !note.isEmpty())
        m_report.notes << note;
    if (const QString note = set.labelRuleNote(); !note.isEmpty())
        m_report.notes << note;
    // Adapter TAPT's backbone, when one fits (it replaces the recipe's own pre-training).
    QTemporaryDir backboneFolder;
    BackboneRecord backbone;
    if (auto st = chooseBackbone(models, set, r.backbone,
                                 backboneFolder.filePath(QStringLiteral("backbone.safetensors")),
                                 &options, &backbone, &m_report.notes);
        !st)
        return JobResult::failed(QStringLiteral("%1: %2").arg(r.databasePath, st.error()));
    m_report.backboneId = backbone.id;

    // Validation speakers from the labeled speakers; the rest train.
    QStringList speakers;
    QList<FoldClip> labeled;
    for (const FoldClip &c : std::as_const(set.clips))
        if (c.classIndex >= 0) {
            labeled << c;
            if (!speakers.contains(c.speaker))
                speakers << c.speaker;
        }
    if (labeled.isEmpty())
        return JobResult::failed(
            QStringLiteral("%1: no clip with features has a label of the corpus's classes; "
                           "label some clips first")
                .arg(r.databasePath));
    speakers.sort();
    if (prior) {
        if (set.labelSnapshot() != prior->labelSnapshot)
            return JobResult::failed(
                QStringLiteral("the labels have changed since run %1 started: a resumed run "
                               "must train on the labels it began with; train a new model "
                               "instead")
                    .arg(r.resumeRunId));
        for (const QJsonValue &v :
             priorSettings.value(QStringLiteral("validation_speakers")).toArray())
            m_report.validationSpeakers << v.toString();
    } else {
        m_report.validationSpeakers =
            SpeakerFolds::validationSpeakers(labeled, speakers, r.validationFraction, r.seed);
    }
    const QSet<QString> validationSet(m_report.validationSpeakers.cbegin(),
                                      m_report.validationSpeakers.cend());
    std::vector<std::size_t> train, validation, everything;
    for (qsizetype i = 0; i < set.clips.size(); ++i) {
        everything.push_back(std::size_t(i));
        if (set.clips[i].classIndex < 0)
            continue;
        (validationSet.contains(set.clips[i].speaker) ? validation : train)
            .push_back(std::size_t(i));
    }
    m_report.trainClips = int(train.size());

    TrainingRunRecord run;
    if (prior) {
        run = *prior;
        std::vector<EpochRecord> done;
        const QString path = checkpointPath(r.databasePath, run.id);
        int pretrainDone = -1;
        if (auto st = AdapterTrainer::checkpointHistory(path.toStdString(), &done, &pretrainDone);
            !st)
            return JobResult::failed(QString::fromStdString(st.error()));
        QList<EpochRow> rows;
        for (const EpochRecord &e : done) {
            rows << EpochRow{0, e.epoch, e.trainLoss, e.validationLoss, e.validationUa, e.seconds};
            m_report.validationUaByEpoch.push_back(e.validationUa);
        }
        if (auto st = models.resumeRun(run.id, rows); !st)
            return JobResult::failed(QStringLiteral("%1: %2").arg(r.databasePath, st.error()));
        m_report.resumed = true;
        m_report.resumedAfterEpoch = int(done.size());
        m_report.resumedAfterPretrainEpoch = pretrainDone;
    } else {
        run.kind = QStringLiteral("train");
        run.recipe = recipe;
        QJsonObject settings{
            {QStringLiteral("adapter"), QString::fromStdString(options.adapter.describe())},
            {QStringLiteral("encoder"), set.encoder.name},
            {QStringLiteral("recipe_asked"),
             r.recipe.isEmpty() ? QStringLiteral("default") : r.recipe},
            {QStringLiteral("labeled_frames"), set.labeledFrames()},
            {QStringLiteral("learning_rate"), options.learningRate},
            {QStringLiteral("weight_decay"), options.weightDecay},
            {QStringLiteral("epochs"), options.epochs},
            {QStringLiteral("pretrain"), QString::fromStdString(options.pretrain.describe())},
            {QStringLiteral("pretrain_epochs"), options.pretrain.epochs},
            {QStringLiteral("patience"), options.patience},
            {QStringLiteral("batch_frames"), qint64(options.batchFrames)},
            {QStringLiteral("balance_classes"), options.balanceClasses},
            {QStringLiteral("acoustic_inputs"), set.acousticInputs},
            {QStringLiteral("label_rule"), set.labelRule.name()},
            {QStringLiteral("backbone_id"), backbone.id},
            {QStringLiteral("validation_speakers"),
             QJsonArray::fromStringList(m_report.validationSpeakers)}};
        settings.insert(QStringLiteral("mode"), r.mode);
        if (options.adapter.encoderFirstLayer > 0) {
            settings.insert(QStringLiteral("encoder_layers"),
                            set.encoder.layerCount - options.adapter.encoderFirstLayer);
            settings.insert(QStringLiteral("encoder_train_from"), options.encoderTrainFrom);
            settings.insert(QStringLiteral("encoder_learning_rate"), options.encoderLearningRate);
            settings.insert(QStringLiteral("batch_clips"), options.maxBatchClips);
        }
        if (options.gmpAtl.multiTaskEpochs > 0) {
            settings.insert(QStringLiteral("gmp_atl"),
                            QString::fromStdString(options.gmpAtl.describe()));
            settings.insert(QStringLiteral("gmp_epochs"), options.gmpAtl.multiTaskEpochs);
        }
        if (options.adapter.pooling == AdapterPooling::CoAttention) {
            settings.insert(QStringLiteral("ari"), QString::fromStdString(options.ari.describe()));
            settings.insert(QStringLiteral("auxiliary_epochs"), options.ari.auxiliaryEpochs);
            settings.insert(QStringLiteral("freeze_ari"), options.ari.freezeAriInStage1);
            settings.insert(QStringLiteral("speed_perturbation"), options.speedPerturbation);
            settings.insert(QStringLiteral("auxiliary_tasks"),
                            QJsonArray::fromStringList(auxiliaryTaskNames(options.adapter)));
            settings.insert(QStringLiteral("auxiliary_notes"),
                            QJsonArray::fromStringList(m_report.notes));
            settings.insert(QStringLiteral("characters"), set.characters);
        }
        run.settings = QString::fromUtf8(QJsonDocument(settings).toJson(QJsonDocument::Compact));
        run.seed = r.seed;
        run.encoderId = set.encoder.id;
        run.labelSnapshot = set.labelSnapshot();
        run.device = r.device;
        if (auto st = models.startRun(&run); !st)
            return JobResult::failed(QStringLiteral("%1: %2").arg(r.databasePath, st.error()));
    }
    m_report.runId = run.id;
    // The stage before the fine-tuning that a resumed run may continue, in words.
    const QString stageName = options.ari.auxiliaryEpochs > 0 ? QStringLiteral("stage-1")
                              : options.gmpAtl.multiTaskEpochs > 0
                                  ? QStringLiteral("GMP-ATL step-1/3")
                                  : QStringLiteral("pre-training");
    // For a live view of the run (the training dashboard): what it is, and its epochs so far.
    auto epochValue = [](int epoch, double trainLoss, double validationLoss, double ua) {
        return QVariantMap{{QStringLiteral("epoch"), epoch},
                           {QStringLiteral("train_loss"), trainLoss},
                           {QStringLiteral("validation_loss"), validationLoss},
                           {QStringLiteral("validation_ua"), ua}};
    };
    {
        QVariantList done;
        for (const EpochRow &e : models.epochs(run.id))
            done << epochValue(e.epoch, e.trainLoss, e.validationLoss, e.validationUa);
        progress.publish(QVariantMap{{QStringLiteral("kind"), QStringLiteral("train-run")},
                                     {QStringLiteral("run"), run.id},
                                     {QStringLiteral("recipe"), recipe},
                                     {QStringLiteral("encoder"), set.encoder.name},
                                     {QStringLiteral("epochs"), options.epochs},
                                     {QStringLiteral("classes"), int(set.classes.size())},
                                     {QStringLiteral("train_clips"), int(train.size())},
                                     {QStringLiteral("validation_clips"), int(validation.size())},
                                     {QStringLiteral("history"), done}});
    }
    progress.setProgress(
        0.01,
        QStringLiteral("Run %1: training %2 on %3 clips (%4 for "
                       "validation)%5...")
            .arg(run.id)
            .arg(recipe)
            .arg(train.size())
            .arg(validation.size())
            .arg(!prior ? QString()
                 : m_report.resumedAfterPretrainEpoch >= 0
                     ? QStringLiteral(", from %1 epoch %2")
                           .arg(stageName)
                           .arg(m_report.resumedAfterPretrainEpoch + 1)
                     : QStringLiteral(", from epoch %1").arg(m_report.resumedAfterEpoch + 1)));
    for (const QString &note : std::as_const(m_report.notes))
        progress.setProgress(0.01, QStringLiteral("Run %1: %2").arg(run.id).arg(note));
    useCheckpoint(r.databasePath, run.id, bool(prior), &options);
    auto dropCheckpoint = [&] { TrainJob::dropCheckpoint(r.databasePath, run.id); };
    auto fail = [&](const QString &why) {
        dropCheckpoint();
        models.finishRun(run.id, QStringLiteral("failed"), why, clock.elapsed() / 1000.0);
        return JobResult::failed(why);
    };

    AdapterTrainer trainer(options);
    // A stage before the fine-tuning (seed 000's teacher-student pre-training, seed 001's
    // GMP-ATL steps 1 and 3, or seed 003's stage 1) shares the progress bar's first part with the
    // fine-tuning epochs by their count.
    const int gmpAtlEpochs = options.gmpAtl.multiTaskEpochs > 0
                                 ? options.gmpAtl.multiTaskEpochs + options.gmpAtl.retrainEpochs
                                 : 0;
    const int stageEpochs = options.pretrain.epochs + gmpAtlEpochs + options.ari.auxiliaryEpochs;
    const double pretrainShare =
        stageEpochs > 0 ? double(stageEpochs) / (stageEpochs + options.epochs) : 0.0;
    bool cancelled = false;
    const auto onEpoch = [&](const EpochRecord &e, double fraction) {
        models.addEpoch(run.id,
                        {0, e.epoch, e.trainLoss, e.validationLoss, e.validationUa, e.seconds});
        m_report.validationUaByEpoch.push_back(e.validationUa);
        QVariantMap value = epochValue(e.epoch, e.trainLoss, e.validationLoss, e.validationUa);
        value.insert(QStringLiteral("kind"), QStringLiteral("train-epoch"));
        value.insert(QStringLiteral("run"), run.id);
        progress.publish(value);
        progress.setProgress((pretrainShare + fraction * (1 - pretrainShare)) * 0.9,
                             QStringLiteral("Run %6: training %1, epoch %2 of %3: loss %4, "
                                            "validation UA %5")
                                 .arg(recipe)
                                 .arg(e.epoch)
                                 .arg(options.epochs)
                                 .arg(e.trainLoss, 0, 'f', 3)
                                 .arg(e.validationUa, 0, 'f', 3)
                                 .arg(run.id));
        return !progress.isCancelled() && !m_stop;
    };
    trainer.setPretrainCallback([&](const PretrainRecord &p, double fraction) {
        progress.setProgress(fraction * pretrainShare * 0.9,
                             QStringLiteral("Run %1: pre-training (teacher-student), epoch %2 of "
                                            "%3: mask loss %4 (%5 % of the local attributes "
                                            "right), distillation loss %6")
                                 .arg(run.id)
                                 .arg(p.epoch)
                                 .arg(options.pretrain.epochs)
                                 .arg(p.maskLoss, 0, 'f', 3)
                                 .arg(100 * p.maskAccuracy, 0, 'f', 0)
                                 .arg(p.distillLoss, 0, 'f', 3));
    });
    trainer.setAriCallback([&](const AriRecord &a, double fraction) {
        progress.setProgress(fraction * pretrainShare * 0.9,
                             QStringLiteral("Run %1: stage 1 of 2 (auxiliary tasks), epoch %2 of "
                                            "%3: %4")
                                 .arg(run.id)
                                 .arg(a.epoch)
                                 .arg(options.ari.auxiliaryEpochs)
                                 .arg(ariRecordText(a, options.adapter)));
    });
    trainer.setGmpAtlCallback([&](const GmpAtlRecord &g, double fraction) {
        const int total =
            g.step == 1 ? options.gmpAtl.multiTaskEpochs : options.gmpAtl.retrainEpochs;
        const QString task =
            g.step == 1 ? QStringLiteral("emotion + gender: gender loss %1 (%2 % right)")
                        : QStringLiteral("emotion + frame pseudo-labels: pseudo-label loss %1 "
                                         "(%2 % right)");
        progress.setProgress(
            fraction * pretrainShare * 0.9,
            QStringLiteral("Run %1: GMP-ATL step %2 of 4, epoch %3 of %4: emotion loss %5, %6")
                .arg(run.id)
                .arg(g.step)
                .arg(g.epoch)
                .arg(total)
                .arg(g.emotionLoss, 0, 'f', 3)
                .arg(task.arg(g.auxiliaryLoss, 0, 'f', 3)
                         .arg(100 * g.auxiliaryAccuracy, 0, 'f', 0)));
    });
    if (auto st = trainer.train(
            *set.source, train, validation, onEpoch,
            [this, &progress] { return progress.isCancelled() || m_stop; }, &cancelled);
        !st)
        return fail(QString::fromStdString(st.error()));
    // Cancel ends the run without a model, whenever it comes (the predictions below poll it
    // between batches too).
    const auto isCancelled = [&progress] { return progress.isCancelled(); };
    auto cancelRun = [&](const QString &why) {
        dropCheckpoint();
        models.finishRun(run.id, QStringLiteral("cancelled"), QString(), clock.elapsed() / 1000.0);
        return JobResult::cancelled(why);
    };
    if (progress.isCancelled() || (cancelled && !m_stop))
        return cancelRun(QStringLiteral("Training cancelled; no model is kept"));
    if (m_stop && trainer.bestEpoch() == 0)
        return cancelRun(
            QStringLiteral("Training stopped before its first epoch ended; no model is kept"));
    m_report.stopped = m_stop;
    m_report.bestEpoch = trainer.bestEpoch();

    // Validation metrics, and the predictions of every clip with features.
    progress.setProgress(0.92, QStringLiteral("Predicting %1 clips...").arg(everything.size()));
    std::vector<ClipPrediction> predicted;
    if (auto st = trainer.predict(*set.source, everything, false, false, &predicted, isCancelled);
        !st)
        return progress.isCancelled()
                   ? cancelRun(QStringLiteral("Training cancelled; no model is kept"))
                   : fail(QString::fromStdString(st.error()));
    QList<int> truth, guess;
    for (std::size_t i : validation) {
        truth << set.clips[qsizetype(i)].classIndex;
        guess << argmax(predicted[i].probabilities);
    }
    const ClassificationMetrics validationMetrics =
        ClassificationMetrics::compute(set.classes, truth, guess);
    m_report.validation = metricsRowOf(validationMetrics, 0, QStringLiteral("validation"));

    // The active model, on the same validation clips, when it reads these features.
    bool makeActive = true;
    if (const auto active = models.activeModel()) {
        m_report.previousActiveId = active->id;
        AdapterTrainer previous(TrainerOptions{});
        if (active->encoderId == set.encoder.id && active->classes == set.classes &&
            active->acousticInputs == set.acousticInputs && !validation.empty() &&
            loadStoredAdapter(models.weights(active->id), QString(), &previous)) {
            std::vector<ClipPrediction> old;
            if (previous.predict(*set.source, validation, false, false, &old, isCancelled)) {
                QList<int> oldGuess;
                for (const ClipPrediction &p : old)
                    oldGuess << argmax(p.probabilities);
                m_report.previousUa =
                    ClassificationMetrics::compute(set.classes, truth, oldGuess).ua;
                makeActive = validationMetrics.ua >= m_report.previousUa;
            }
        }
    }

    if (progress.isCancelled())
        return cancelRun(QStringLiteral("Training cancelled; no model is kept"));

    // The weights as the bytes of their file.
    QTemporaryDir dir;
    const QString weightsPath = dir.filePath(QStringLiteral("model.safetensors"));
    if (auto st = trainer.save(weightsPath.toStdString()); !st)
        return fail(QString::fromStdString(st.error()));
    QFile weightsFile(weightsPath);
    if (!weightsFile.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("%1: %2").arg(weightsPath, weightsFile.errorString()));
    const QByteArray weights = weightsFile.readAll();

    QList<PredictionRow> rows;
    for (std::size_t i = 0; i < everything.size(); ++i) {
        const ClipPrediction &p = predicted[i];
        const int best = argmax(p.probabilities);
        if (best < 0)
            continue;
        const qint64 id = set.clips[qsizetype(i)].utteranceId;
        rows << PredictionRow{id, set.contentHashes.value(qsizetype(i)), set.classes.value(best),
                              p.probabilities[std::size_t(best)], p.probabilities};
    }
    m_report.predictedClips = int(rows.size());
    m_report.model.encoderId = set.encoder.id;
    m_report.model.classes = set.classes;
    m_report.model.acousticInputs = set.acousticInputs;
    m_report.seconds = clock.elapsed() / 1000.0;
    if (auto st = models.storeTrainedModel(
            run.id, m_report.seconds, {m_report.validation}, weights, &m_report.model, rows,
            makeActive, m_report.stopped ? QStringLiteral("stopped") : QStringLiteral("succeeded"));
        !st)
        return fail(QStringLiteral("%1: %2").arg(r.databasePath, st.error()));
    m_report.madeActive = makeActive;
    dropCheckpoint();

    QString verdict;
    if (m_report.previousActiveId == 0)
        verdict = QStringLiteral("it is the active model");
    else if (m_report.previousUa < 0)
        verdict =
            QStringLiteral("it is the active model (the previous one, %1, was trained on other "
                           "features or classes)")
                .arg(m_report.previousActiveId);
    else if (makeActive)
        verdict = QStringLiteral("it is the active model: model %1 scored %2 on the same speakers")
                      .arg(m_report.previousActiveId)
                      .arg(m_report.previousUa, 0, 'f', 3);
    else
        verdict = QStringLiteral("model %1 stays active: it scored %2 on the same speakers")
                      .arg(m_report.previousActiveId)
                      .arg(m_report.previousUa, 0, 'f', 3);
    return JobResult::succeeded(
        QStringLiteral("%11 %1 on %2 as model %3: validation UA %4 on %5 clips of %6 "
                       "(best epoch %7 of %8), in %9 s; %10")
            .arg(recipe, set.encoder.name)
            .arg(m_report.model.id)
            .arg(validationMetrics.ua, 0, 'f', 3)
            .arg(validationMetrics.count)
            .arg(m_report.validationSpeakers.size() == 1
                     ? QStringLiteral("1 speaker")
                     : QStringLiteral("%1 speakers").arg(m_report.validationSpeakers.size()))
            .arg(m_report.bestEpoch)
            .arg(trainer.history().size())
            .arg(m_report.seconds, 0, 'f', 0)
            .arg(verdict)
            .arg(m_report.stopped
                     ? QStringLiteral("Stopped by request, keeping the best epoch: trained")
                 : m_report.resumed && m_report.resumedAfterPretrainEpoch >= 0
                     ? QStringLiteral("Resumed run %1 after %3 epoch %2 and trained")
                           .arg(run.id)
                           .arg(m_report.resumedAfterPretrainEpoch)
                           .arg(stageName)
                 : m_report.resumed ? QStringLiteral("Resumed run %1 after epoch %2 and trained")
                                          .arg(run.id)
                                          .arg(m_report.resumedAfterEpoch)
                                    : QStringLiteral("Trained")));
}

} // namespace emolens
