#include "jobs/PretrainJob.h"

#include "jobs/TrainJob.h"
#include "store/Database.h"
#include "training/CacheClipSource.h"
#include "training/PretrainedBackbones.h"
#include "training/Recipes.h"
#include "training/TrainingSet.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <functional>
#include <optional>

namespace emolens {

namespace {

const QString kRecipe = QStringLiteral("adapter-tapt");
// The recipe whose backbone and pre-training adapter TAPT runs (seed 000's).
const QString kBackboneRecipe = QStringLiteral("adapter-local-attributes");

// The interrupted pre-training run r->resumeRunId, with its own settings read back into *r.
Status resumedRun(const ModelRepository &models, PretrainRequest *r,
                  std::optional<TrainingRunRecord> *prior)
{
    TrainingRunRecord resumed;
    if (auto st = TrainJob::resumableRun(models, r->databasePath, r->resumeRunId,
                                         QStringLiteral("pretrain"),
                                         QStringLiteral("; pre-train anew instead"), &resumed);
        !st)
        return st;
    *prior = resumed;
    const QJsonObject settings = QJsonDocument::fromJson(resumed.settings.toUtf8()).object();
    r->seed = quint32(resumed.seed);
    r->device = resumed.device;
    r->encoder = settings.value(QStringLiteral("encoder")).toString();
    r->epochs = settings.value(QStringLiteral("pretrain_epochs")).toInt();
    r->acousticInputs = settings.value(QStringLiteral("acoustic_inputs")).toBool() ? 1 : 0;
    return Status::success();
}

// The trained weights, written by `save` to a temporary file, stored as run runId's backbone
// (whose other fields the caller filled). Fails naming the file or the workspace.
Status storeWeights(ModelRepository &models, const QString &databasePath, qint64 runId,
                    double seconds, const std::function<ModelStatus(const std::string &)> &save,
                    BackboneRecord *backbone)
{
    QTemporaryDir dir;
    const QString weightsPath = dir.filePath(QStringLiteral("weights.safetensors"));
    if (auto st = save(QFile::encodeName(weightsPath).toStdString()); !st)
        return Status::failure(QString::fromStdString(st.error()));
    QFile weightsFile(weightsPath);
    if (!weightsFile.open(QIODevice::ReadOnly))
        return Status::failure(
            QStringLiteral("%1: %2").arg(weightsPath, weightsFile.errorString()));
    if (auto st = models.storeBackbone(runId, seconds, weightsFile.readAll(), backbone); !st)
        return Status::failure(QStringLiteral("%1: %2").arg(databasePath, st.error()));
    return Status::success();
}

} // namespace

QJsonArray PretrainJob::epochsJson(const std::vector<PretrainRecord> &history)
{
    QJsonArray epochs;
    for (const PretrainRecord &p : history)
        epochs.append(QJsonObject{{QStringLiteral("epoch"), p.epoch},
                                  {QStringLiteral("mask_loss"), p.maskLoss},
                                  {QStringLiteral("distill_loss"), p.distillLoss},
                                  {QStringLiteral("mask_accuracy"), p.maskAccuracy},
                                  {QStringLiteral("seconds"), p.seconds}});
    return epochs;
}

QJsonArray PretrainJob::epochsJson(const std::vector<EncoderPretrainRecord> &history)
{
    QJsonArray epochs;
    for (const EncoderPretrainRecord &p : history)
        epochs.append(QJsonObject{{QStringLiteral("epoch"), p.epoch},
                                  {QStringLiteral("masked_loss"), p.loss},
                                  {QStringLiteral("masked_accuracy"), p.maskedAccuracy},
                                  {QStringLiteral("seconds"), p.seconds}});
    return epochs;
}

int PretrainJob::checkpointEpochs(const QString &databasePath, qint64 runId)
{
    return EncoderPretrainer::checkpointEpochs(
        QFile::encodeName(TrainJob::checkpointPath(databasePath, runId)).toStdString());
}

QString PretrainJob::name() const
{
    if (m_request.resumeRunId > 0)
        return QStringLiteral("Resume pre-training run %1").arg(m_request.resumeRunId);
    return m_request.mode == QLatin1String("paper")
               ? QStringLiteral("TAPT (the encoder's Transformer) on %1")
                     .arg(QFileInfo(m_request.encoder).fileName())
               : QStringLiteral("Pre-train (adapter TAPT) on %1").arg(m_request.encoder);
}

JobResult PretrainJob::run(ProgressSink &progress)
{
    QElapsedTimer clock;
    clock.start();
    m_report = PretrainReport();
    PretrainRequest r = m_request;
    if (r.resumeRunId > 0) { // the run's own mode
        Database db(r.databasePath);
        if (auto st = db.open(); !st)
            return JobResult::failed(st.error());
        ModelRepository models(db);
        if (const auto prior = models.run(r.resumeRunId);
            prior && prior->recipe == QLatin1String("tapt"))
            r.mode = QStringLiteral("paper");
    }
    if (r.mode == QLatin1String("paper"))
        return runPaper(progress);
    if (r.mode != QLatin1String("adapter"))
        return JobResult::failed(
            QStringLiteral("unknown pre-training mode \"%1\" (adapter or paper)").arg(r.mode));
    Database db(r.databasePath);
    if (auto st = db.open(); !st)
        return JobResult::failed(st.error());
    ModelRepository models(db);

    std::optional<TrainingRunRecord> prior;
    if (r.resumeRunId > 0)
        if (auto st = resumedRun(models, &r, &prior); !st)
            return JobResult::failed(st.error());

    progress.setProgress(0, QStringLiteral("Reading the feature cache..."));
    TrainingSet set;
    if (auto st = TrainingSet::load(
            db,
            TrainingSetRequest::of(r.databasePath, r.cacheDirectory, r.encoder, r.acousticInputs),
            &set);
        !st)
        return JobResult::failed(st.error());
    TrainerOptions options;
    QString error;
    RunChoices choices;
    choices.recipe = kBackboneRecipe;
    choices.seed = r.seed;
    choices.device = r.device;
    choices.threads = r.threads;
    choices.pretrainEpochs = r.epochs > 0 ? r.epochs : -1;
    if (!runOptions(choices, set.encoder.layerCount, set.encoder.hiddenSize,
                    set.source->extraInputs(), int(set.classes.size()), &options, &error))
        return JobResult::failed(error);
    std::vector<std::size_t> clips;
    for (qsizetype i = 0; i < set.clips.size(); ++i) {
        clips.push_back(std::size_t(i));
        if (set.clips[i].classIndex >= 0)
            ++m_report.labeledClips;
    }
    m_report.clips = int(clips.size());
    const QString backbone =
        QString::fromStdString(AdapterTrainer::backboneSettings(options.adapter));
    m_report.settings = QString::fromStdString(options.pretrain.describe());

    TrainingRunRecord run;
    if (prior) {
        run = *prior;
        if (QJsonDocument::fromJson(run.settings.toUtf8())
                .object()
                .value(QStringLiteral("clips"))
                .toInt() != m_report.clips)
            return JobResult::failed(
                QStringLiteral("the clips with features have changed since run %1 started: "
                               "pre-train anew instead")
                    .arg(run.id));
        int done = -1;
        std::vector<EpochRecord> none;
        AdapterTrainer::checkpointHistory(
            QFile::encodeName(TrainJob::checkpointPath(r.databasePath, run.id)).toStdString(),
            &none, &done);
        if (auto st = models.resumeRun(run.id, {}); !st)
            return JobResult::failed(QStringLiteral("%1: %2").arg(r.databasePath, st.error()));
        m_report.resumed = true;
        m_report.resumedAfterEpoch = std::max(0, done);
    } else {
        run.kind = QStringLiteral("pretrain");
        run.recipe = kRecipe;
        const QJsonObject settings{
            {QStringLiteral("mode"), r.mode},
            {QStringLiteral("encoder"), set.encoder.name},
            {QStringLiteral("backbone_recipe"), kBackboneRecipe},
            {QStringLiteral("adapter"), QString::fromStdString(options.adapter.describe())},
            {QStringLiteral("backbone"), backbone},
            {QStringLiteral("pretrain"), m_report.settings},
            {QStringLiteral("pretrain_epochs"), options.pretrain.epochs},
            {QStringLiteral("acoustic_inputs"), set.acousticInputs},
            {QStringLiteral("clips"), m_report.clips},
            {QStringLiteral("labeled_clips"), m_report.labeledClips}};
        run.settings = QString::fromUtf8(QJsonDocument(settings).toJson(QJsonDocument::Compact));
        run.seed = r.seed;
        run.encoderId = set.encoder.id;
        run.labelSnapshot = QStringLiteral("{}"); // pre-training reads no labels
        run.device = r.device;
        if (auto st = models.startRun(&run); !st)
            return JobResult::failed(QStringLiteral("%1: %2").arg(r.databasePath, st.error()));
    }
    m_report.runId = run.id;
    TrainJob::useCheckpoint(r.databasePath, run.id, bool(prior), &options);
    auto dropCheckpoint = [&] { TrainJob::dropCheckpoint(r.databasePath, run.id); };
    auto fail = [&](const QString &why) {
        dropCheckpoint();
        models.finishRun(run.id, QStringLiteral("failed"), why, clock.elapsed() / 1000.0);
        return JobResult::failed(why);
    };

    progress.setProgress(
        0.01, QStringLiteral("Run %1: adapter TAPT on %2 clips (%3 labeled) of %4%5...")
                  .arg(run.id)
                  .arg(m_report.clips)
                  .arg(m_report.labeledClips)
                  .arg(set.encoder.name)
                  .arg(prior ? QStringLiteral(", from epoch %1").arg(m_report.resumedAfterEpoch + 1)
                             : QString()));
    // For a live view of the run (the training dashboard): what it is, then each epoch.
    progress.publish(QVariantMap{{QStringLiteral("kind"), QStringLiteral("pretrain-run")},
                                 {QStringLiteral("run"), run.id},
                                 {QStringLiteral("encoder"), set.encoder.name},
                                 {QStringLiteral("epochs"), options.pretrain.epochs},
                                 {QStringLiteral("clips"), m_report.clips},
                                 {QStringLiteral("labeled_clips"), m_report.labeledClips},
                                 {QStringLiteral("clusters"), options.pretrain.clusters}});
    AdapterTrainer trainer(options);
    trainer.setPretrainCallback([&](const PretrainRecord &p, double fraction) {
        progress.publish(QVariantMap{{QStringLiteral("kind"), QStringLiteral("pretrain-epoch")},
                                     {QStringLiteral("run"), run.id},
                                     {QStringLiteral("epoch"), p.epoch},
                                     {QStringLiteral("mask_loss"), p.maskLoss},
                                     {QStringLiteral("distill_loss"), p.distillLoss},
                                     {QStringLiteral("mask_accuracy"), p.maskAccuracy}});
        progress.setProgress(0.01 + 0.93 * fraction,
                             QStringLiteral("Run %1: adapter TAPT, epoch %2 of %3: mask loss %4 "
                                            "(%5 % of the local attributes right), distillation "
                                            "loss %6")
                                 .arg(run.id)
                                 .arg(p.epoch)
                                 .arg(options.pretrain.epochs)
                                 .arg(p.maskLoss, 0, 'f', 3)
                                 .arg(100 * p.maskAccuracy, 0, 'f', 0)
                                 .arg(p.distillLoss, 0, 'f', 3));
    });
    bool cancelled = false;
    if (auto st = trainer.pretrainBackbone(
            *set.source, clips, [&progress] { return progress.isCancelled(); }, &cancelled);
        !st)
        return fail(QString::fromStdString(st.error()));
    if (cancelled || progress.isCancelled()) {
        dropCheckpoint();
        models.finishRun(run.id, QStringLiteral("cancelled"), QString(), clock.elapsed() / 1000.0);
        return JobResult::cancelled(QStringLiteral("Pre-training cancelled; nothing is kept"));
    }
    m_report.history = trainer.pretrainHistory();
    m_report.localAttributes = trainer.localAttributeCount();

    progress.setProgress(0.96, QStringLiteral("Run %1: storing the backbone...").arg(run.id));
    m_report.backbone.encoderId = set.encoder.id;
    m_report.backbone.mode = r.mode;
    m_report.backbone.acousticInputs = set.acousticInputs;
    m_report.backbone.backbone = backbone;
    m_report.backbone.clips = m_report.clips;
    m_report.backbone.history = QString::fromUtf8(
        QJsonDocument(epochsJson(m_report.history)).toJson(QJsonDocument::Compact));
    m_report.seconds = clock.elapsed() / 1000.0;
    if (auto st = storeWeights(
            models, r.databasePath, run.id, m_report.seconds,
            [&trainer](const std::string &path) { return trainer.save(path); }, &m_report.backbone);
        !st)
        return fail(st.error());
    dropCheckpoint();
    const PretrainRecord last =
        m_report.history.empty() ? PretrainRecord() : m_report.history.back();
    return JobResult::succeeded(
        QStringLiteral("%1 adapter TAPT on %2 clips of %3 as backbone %4: after %5 epochs mask "
                       "loss %6 (%7 % of %8 local attributes right), distillation loss %9, in "
                       "%10 s; adapter-local-attributes runs start from it")
            .arg(m_report.resumed ? QStringLiteral("Resumed run %1 after epoch %2 and finished")
                                        .arg(run.id)
                                        .arg(m_report.resumedAfterEpoch)
                                  : QStringLiteral("Finished"))
            .arg(m_report.clips)
            .arg(set.encoder.name)
            .arg(m_report.backbone.id)
            .arg(m_report.history.size())
            .arg(last.maskLoss, 0, 'f', 3)
            .arg(100 * last.maskAccuracy, 0, 'f', 0)
            .arg(m_report.localAttributes)
            .arg(last.distillLoss, 0, 'f', 3)
            .arg(m_report.seconds, 0, 'f', 0));
}

} // namespace emolens

namespace emolens {

JobResult PretrainJob::runPaper(ProgressSink &progress)
{
    QElapsedTimer clock;
    clock.start();
    PretrainRequest r = m_request;
    Database db(r.databasePath);
    if (auto st = db.open(); !st)
        return JobResult::failed(st.error());
    ModelRepository models(db);

    std::optional<TrainingRunRecord> prior;
    if (r.resumeRunId > 0)
        if (auto st = resumedRun(models, &r, &prior); !st)
            return JobResult::failed(st.error());

    progress.setProgress(0, QStringLiteral("Reading the feature cache..."));
    TrainingSet set;
    if (auto st = TrainingSet::load(
            db, TrainingSetRequest::of(r.databasePath, r.cacheDirectory, r.encoder, 0), &set);
        !st)
        return JobResult::failed(st.error());
    if (set.encoder.layerCount < 2)
        return JobResult::failed(
            QStringLiteral("TAPT proper adapts an encoder's Transformer, and %1 has none: extract "
                           "features with a wav2vec 2.0, HuBERT or WavLM folder (or run adapter "
                           "TAPT, --mode adapter)")
                .arg(set.encoder.name));
    std::unique_ptr<CacheClipSource> inputs;
    if (auto st = set.source->taptInputs(&inputs); !st)
        return JobResult::failed(
            QStringLiteral("%1; TAPT reads the projected CNN features of every clip: run "
                           "emolens-cli extract --db %2 --encoder %3 --tapt-inputs first")
                .arg(st.error(), r.databasePath, set.encoder.source));

    EncoderPretrainOptions options;
    options.encoderFolder = QFile::encodeName(set.encoder.source).toStdString();
    if (r.epochs > 0)
        options.epochs = r.epochs;
    options.seed = r.seed;
    options.device = r.device.toStdString();
    options.threads = r.threads;
    std::vector<std::size_t> clips;
    for (qsizetype i = 0; i < set.clips.size(); ++i) {
        clips.push_back(std::size_t(i));
        if (set.clips[i].classIndex >= 0)
            ++m_report.labeledClips;
    }
    m_report.clips = int(clips.size());
    m_report.settings = QString::fromStdString(options.describe());

    TrainingRunRecord run;
    if (prior) {
        run = *prior;
        if (QJsonDocument::fromJson(run.settings.toUtf8())
                .object()
                .value(QStringLiteral("clips"))
                .toInt() != m_report.clips)
            return JobResult::failed(
                QStringLiteral("the clips with features have changed since run %1 started: "
                               "pre-train anew instead")
                    .arg(run.id));
        if (auto st = models.resumeRun(run.id, {}); !st)
            return JobResult::failed(QStringLiteral("%1: %2").arg(r.databasePath, st.error()));
    } else {
        run.kind = QStringLiteral("pretrain");
        run.recipe = QStringLiteral("tapt");
        const QJsonObject settings{{QStringLiteral("mode"), QStringLiteral("paper")},
                                   {QStringLiteral("encoder"), set.encoder.name},
                                   {QStringLiteral("encoder_folder"), set.encoder.source},
                                   {QStringLiteral("pretrain"), m_report.settings},
                                   {QStringLiteral("pretrain_epochs"), options.epochs},
                                   {QStringLiteral("clips"), m_report.clips},
                                   {QStringLiteral("labeled_clips"), m_report.labeledClips}};
        run.settings = QString::fromUtf8(QJsonDocument(settings).toJson(QJsonDocument::Compact));
        run.seed = r.seed;
        run.encoderId = set.encoder.id;
        run.labelSnapshot = QStringLiteral("{}"); // pre-training reads no labels
        run.device = r.device;
        if (auto st = models.startRun(&run); !st)
            return JobResult::failed(QStringLiteral("%1: %2").arg(r.databasePath, st.error()));
    }
    m_report.runId = run.id;
    TrainerOptions where; // TrainJob's checkpoint file (its folder made), read from here
    TrainJob::useCheckpoint(r.databasePath, run.id, bool(prior), &where);
    options.checkpointPath = where.checkpointPath;
    options.resume = where.resume;
    if (prior) {
        m_report.resumed = true;
        m_report.resumedAfterEpoch = EncoderPretrainer::checkpointEpochs(options.checkpointPath);
    }
    auto dropCheckpoint = [&] { TrainJob::dropCheckpoint(r.databasePath, run.id); };
    auto fail = [&](const QString &why) {
        dropCheckpoint();
        models.finishRun(run.id, QStringLiteral("failed"), why, clock.elapsed() / 1000.0);
        return JobResult::failed(why);
    };

    progress.setProgress(
        0.02,
        QStringLiteral("Run %1: TAPT of %2's Transformer on %3 clips (%4 labeled)%5: clustering "
                       "the targets...")
            .arg(run.id)
            .arg(set.encoder.name)
            .arg(m_report.clips)
            .arg(m_report.labeledClips)
            .arg(prior ? QStringLiteral(", from epoch %1").arg(m_report.resumedAfterEpoch + 1)
                       : QString()));
    // The training dashboard's pre-training events, with the mode and the objective's names.
    progress.publish(QVariantMap{{QStringLiteral("kind"), QStringLiteral("pretrain-run")},
                                 {QStringLiteral("mode"), QStringLiteral("paper")},
                                 {QStringLiteral("run"), run.id},
                                 {QStringLiteral("labeled_clips"), m_report.labeledClips},
                                 {QStringLiteral("encoder"), set.encoder.name},
                                 {QStringLiteral("epochs"), options.epochs},
                                 {QStringLiteral("clips"), m_report.clips},
                                 {QStringLiteral("clusters"), options.clusters}});
    EncoderPretrainer tapt(options);
    tapt.setCallback([&](const EncoderPretrainRecord &p, double fraction) {
        progress.publish(QVariantMap{{QStringLiteral("kind"), QStringLiteral("pretrain-epoch")},
                                     {QStringLiteral("mode"), QStringLiteral("paper")},
                                     {QStringLiteral("run"), run.id},
                                     {QStringLiteral("epoch"), p.epoch},
                                     {QStringLiteral("mask_loss"), p.loss},
                                     {QStringLiteral("mask_accuracy"), p.maskedAccuracy}});
        progress.setProgress(0.05 + 0.9 * fraction,
                             QStringLiteral("Run %1: TAPT, epoch %2 of %3: masked-prediction loss "
                                            "%4 (%5 % of the masked frames' clusters right)")
                                 .arg(run.id)
                                 .arg(p.epoch)
                                 .arg(options.epochs)
                                 .arg(p.loss, 0, 'f', 3)
                                 .arg(100 * p.maskedAccuracy, 0, 'f', 0));
    });
    bool cancelled = false;
    if (auto st = tapt.run(
            *set.source, *inputs, clips, [&progress] { return progress.isCancelled(); },
            &cancelled);
        !st)
        return fail(QString::fromStdString(st.error()));
    if (cancelled || progress.isCancelled()) {
        dropCheckpoint();
        models.finishRun(run.id, QStringLiteral("cancelled"), QString(), clock.elapsed() / 1000.0);
        return JobResult::cancelled(QStringLiteral("Pre-training cancelled; nothing is kept"));
    }
    m_report.taptHistory = tapt.history();

    progress.setProgress(0.96,
                         QStringLiteral("Run %1: storing the adapted encoder...").arg(run.id));
    m_report.backbone.encoderId = set.encoder.id;
    m_report.backbone.mode = QStringLiteral("paper");
    m_report.backbone.acousticInputs = false;
    m_report.backbone.backbone = taptBackboneSettings(set.encoder);
    m_report.backbone.clips = m_report.clips;
    m_report.backbone.history = QString::fromUtf8(
        QJsonDocument(epochsJson(m_report.taptHistory)).toJson(QJsonDocument::Compact));
    m_report.seconds = clock.elapsed() / 1000.0;
    if (auto st = storeWeights(
            models, r.databasePath, run.id, m_report.seconds,
            [&tapt](const std::string &path) { return tapt.save(path); }, &m_report.backbone);
        !st)
        return fail(st.error());
    dropCheckpoint();
    const EncoderPretrainRecord last =
        m_report.taptHistory.empty() ? EncoderPretrainRecord() : m_report.taptHistory.back();
    const EncoderPretrainRecord first =
        m_report.taptHistory.empty() ? EncoderPretrainRecord() : m_report.taptHistory.front();
    return JobResult::succeeded(
        QStringLiteral("%1 TAPT of %2's Transformer on %3 clips as backbone %4: after %5 epochs "
                       "masked-prediction loss %6 (from %7; %8 % of the masked frames' clusters "
                       "right), in %9 s; paper-mode runs on %2 that train every layer start from "
                       "it")
            .arg(m_report.resumed ? QStringLiteral("Resumed run %1 after epoch %2 and finished")
                                        .arg(run.id)
                                        .arg(m_report.resumedAfterEpoch)
                                  : QStringLiteral("Finished"))
            .arg(set.encoder.name)
            .arg(m_report.clips)
            .arg(m_report.backbone.id)
            .arg(m_report.taptHistory.size())
            .arg(last.loss, 0, 'f', 3)
            .arg(first.loss, 0, 'f', 3)
            .arg(100 * last.maskedAccuracy, 0, 'f', 0)
            .arg(m_report.seconds, 0, 'f', 0));
}

} // namespace emolens
