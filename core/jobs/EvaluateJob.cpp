#include "jobs/EvaluateJob.h"

#include "jobs/TrainJob.h"
#include "store/Database.h"
#include "training/PretrainedBackbones.h"

#include "training/Recipes.h"
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

namespace emolens {

QString EvaluateJob::name() const
{
    return QStringLiteral("Evaluate %1")
        .arg(m_request.recipe.isEmpty() ? QStringLiteral("(default recipe)") : m_request.recipe);
}

JobResult EvaluateJob::run(ProgressSink &progress)
{
    const EvaluateRequest &r = m_request;
    Database db(r.databasePath);
    if (auto st = db.open(); !st)
        return JobResult::failed(st.error());
    TrainingSetRequest setRequest =
        TrainingSetRequest::of(r.databasePath, r.cacheDirectory, r.encoder, r.acousticInputs);
    setRequest.corpusId = r.corpusId;
    setRequest.labelRule = r.labelRule;
    if (r.speedPerturbation)
        setRequest.speedRates = speedPerturbationRates();
    progress.setProgress(0, QStringLiteral("Reading the labels and the feature cache..."));
    TrainingSet set;
    if (auto st = TrainingSet::load(db, setRequest, &set); !st)
        return JobResult::failed(st.error());
    m_classes = set.classes;
    m_clipCount = int(set.clips.size());
    m_missing = set.missingFeatures;
    m_withoutCategory = set.withoutCategory;
    m_acoustic = set.acousticInputs;
    m_encoderName = set.encoder.name;

    const QString recipe = set.resolveRecipe(r.recipe, r.device);
    TrainerOptions options;
    QString error;
    if (!runOptions(runChoicesOf(r, recipe, set.encoder.source), set.encoder.layerCount,
                    set.encoder.hiddenSize, set.source->extraInputs(), int(set.classes.size()),
                    &options, &error))
        return JobResult::failed(error);
    // Seed 003's auxiliary tasks, as the metadata allows.
    QStringList notes;
    if (auto st = set.fitAuxiliaryTasks(&options, r.auxiliaryTasks, &notes); !st)
        return JobResult::failed(QStringLiteral("%1: %2").arg(r.databasePath, st.error()));
    if (const QString note = paperModeNote(options); !note.isEmpty())
        notes << note;
    if (const QString note = set.labelRuleNote(); !note.isEmpty())
        notes << note;
    // Adapter TAPT's backbone, when one fits: every fold starts from it.
    QTemporaryDir backboneFolder;
    BackboneRecord backbone;
    ModelRepository models(db);
    if (auto st = chooseBackbone(models, set, r.backbone,
                                 backboneFolder.filePath(QStringLiteral("backbone.safetensors")),
                                 &options, &backbone, &notes);
        !st)
        return JobResult::failed(QStringLiteral("%1: %2").arg(r.databasePath, st.error()));
    m_backboneId = backbone.id;
    for (const QString &note : std::as_const(notes))
        progress.setProgress(0, QStringLiteral("%1: %2").arg(recipe, note));

    FoldPlan plan;
    QList<FoldClip> labeled;
    for (const FoldClip &c : std::as_const(set.clips))
        if (c.classIndex >= 0)
            labeled << c;
    if (r.folds == QLatin1String("session")) {
        if (auto st = SpeakerFolds::bySession(labeled, &plan); !st)
            return JobResult::failed(st.error());
    } else if (r.folds == QLatin1String("speaker")) {
        if (auto st = SpeakerFolds::bySpeaker(labeled, r.k, r.seed, &plan); !st)
            return JobResult::failed(st.error());
    } else if (r.folds == QLatin1String("official")) {
        if (auto st = SpeakerFolds::byPartition(labeled, &plan); !st)
            return JobResult::failed(st.error());
    } else {
        return JobResult::failed(
            QStringLiteral("unknown fold protocol \"%1\" (speaker, session or official)")
                .arg(r.folds));
    }
    m_report = CrossValidationReport();
    m_report.recipe = recipe;
    m_report.notes = notes;
    // The run is kept (kind "evaluate"): its folds' and the pooled confusion matrices, for the
    // analysis views.
    TrainingRunRecord run;
    run.kind = QStringLiteral("evaluate");
    run.recipe = recipe;
    run.settings = QString::fromUtf8(
        QJsonDocument(QJsonObject{{QStringLiteral("folds"), r.folds},
                                  {QStringLiteral("fold_count"), plan.foldCount()},
                                  {QStringLiteral("validation_fraction"), r.validationFraction},
                                  {QStringLiteral("encoder"), set.encoder.name},
                                  {QStringLiteral("adapter"),
                                   QString::fromStdString(options.adapter.describe())},
                                  {QStringLiteral("epochs"), options.epochs},
                                  {QStringLiteral("learning_rate"), options.learningRate},
                                  {QStringLiteral("acoustic_inputs"), set.acousticInputs},
                                  {QStringLiteral("label_rule"), set.labelRule.name()},
                                  {QStringLiteral("backbone_id"), backbone.id}})
            .toJson(QJsonDocument::Compact));
    run.seed = r.seed;
    run.encoderId = set.encoder.id;
    run.labelSnapshot = set.labelSnapshot();
    run.device = r.device;
    if (auto st = models.startRun(&run); !st)
        return JobResult::failed(QStringLiteral("%1: %2").arg(r.databasePath, st.error()));
    m_runId = run.id;
    QElapsedTimer clock;
    clock.start();
    if (auto st =
            CrossValidation::run(set, options, plan, r.validationFraction, progress, &m_report);
        !st) {
        models.finishRun(run.id, QStringLiteral("failed"), st.error(), clock.elapsed() / 1000.0);
        return JobResult::failed(st.error());
    }
    if (m_report.cancelled) {
        models.finishRun(run.id, QStringLiteral("cancelled"), QString(), clock.elapsed() / 1000.0);
        return JobResult::cancelled(
            QStringLiteral("Evaluation cancelled; the run is kept as cancelled, without results"));
    }
    QList<MetricsRow> metrics;
    metrics << metricsRowOf(m_report.pooled, 0, QStringLiteral("test"));
    QList<RunPredictionRow> clipPredictions; // so the confusion view lists each cell's clips
    for (const FoldResult &f : std::as_const(m_report.folds)) {
        metrics << metricsRowOf(f.metrics, f.fold, QStringLiteral("test")); // 1-based
        for (const FoldPrediction &p : f.predictions)
            clipPredictions << RunPredictionRow{f.fold, p.utteranceId, set.classes.value(p.truth),
                                                set.classes.value(p.predicted), p.confidence};
    }
    if (auto st = models.finishRun(run.id, QStringLiteral("succeeded"), QString(), m_report.seconds,
                                   metrics, clipPredictions);
        !st)
        return JobResult::failed(QStringLiteral("%1: %2").arg(r.databasePath, st.error()));
    const ClassificationMetrics &m = m_report.pooled;
    return JobResult::succeeded(
        QStringLiteral("%1 on %2 (%3 %4 folds, %5 clips): UA %6, WA %7, macro F1 %8 in %9 s")
            .arg(m_report.recipe, set.encoder.name)
            .arg(plan.foldCount())
            .arg(r.folds)
            .arg(m.count)
            .arg(m.ua, 0, 'f', 3)
            .arg(m.wa, 0, 'f', 3)
            .arg(m.macroF1, 0, 'f', 3)
            .arg(m_report.seconds, 0, 'f', 0));
}

} // namespace emolens
