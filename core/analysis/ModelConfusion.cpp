#include "analysis/ModelConfusion.h"

#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/ModelRepository.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <algorithm>

namespace emolens {

Status modelConfusion(Database &db, qint64 modelId, ConfusionSplit split, ModelConfusion *out)
{
    *out = ModelConfusion();
    out->modelId = modelId;
    out->split = split;
    ModelRepository models(db);
    const auto model = models.model(modelId);
    if (!model)
        return Status::failure(
            QStringLiteral("%1: there is no model %2").arg(db.filePath()).arg(modelId));
    out->classes = model->classes;
    if (const auto run = models.run(model->runId)) {
        const QJsonObject settings = QJsonDocument::fromJson(run->settings.toUtf8()).object();
        for (const QJsonValue &v : settings.value(QStringLiteral("validation_speakers")).toArray())
            out->validationSpeakers << v.toString();
    }
    if (split == ConfusionSplit::Validation && out->validationSpeakers.isEmpty())
        return Status::failure(QStringLiteral("model %1's run records no held-out speakers: "
                                              "choose every labeled clip instead")
                                   .arg(modelId));
    const QSet<QString> heldOut(out->validationSpeakers.cbegin(), out->validationSpeakers.cend());

    CorpusRepository corpora(db);
    QList<UtteranceRow> rows;
    if (auto st = corpora.utteranceRows(0, &rows); !st)
        return Status::failure(QStringLiteral("%1: %2").arg(db.filePath(), st.error()));
    std::sort(rows.begin(), rows.end(),
              [](const UtteranceRow &a, const UtteranceRow &b) { return a.key < b.key; });
    const QHash<qint64, PredictionRow> predictions = models.predictions(modelId);

    const int k = int(out->classes.size());
    out->cells = QList<QList<QList<qint64>>>(k, QList<QList<qint64>>(k));
    QList<int> truth, predicted;
    for (const UtteranceRow &row : std::as_const(rows)) {
        const QString speaker = QStringLiteral("%1/%2").arg(row.corpusName, row.speakerCode);
        if (split == ConfusionSplit::Validation && !heldOut.contains(speaker))
            continue;
        const int t = row.labelInSet ? int(out->classes.indexOf(row.label)) : -1;
        if (t < 0)
            continue;
        const auto p = predictions.constFind(row.id);
        const int pi = p == predictions.cend() ? -1 : int(out->classes.indexOf(p->category));
        if (pi < 0) {
            ++out->withoutPrediction;
            continue;
        }
        truth << t;
        predicted << pi;
        out->cells[t][pi] << row.id;
        out->clips.insert(row.id,
                          {row.id, row.key, speaker, row.label, p->category, p->confidence});
    }
    out->metrics = ClassificationMetrics::compute(out->classes, truth, predicted);
    return Status::success();
}

Status runConfusion(Database &db, qint64 runId, int fold, ModelConfusion *out)
{
    *out = ModelConfusion();
    out->runId = runId;
    out->fold = fold;
    ModelRepository models(db);
    bool found = false;
    for (const MetricsRow &row : models.metrics(runId))
        if (row.fold == fold) {
            out->classes = row.labels;
            out->metrics = ClassificationMetrics::fromConfusion(row.labels, row.confusion);
            found = true;
        }
    if (!found)
        return Status::failure(QStringLiteral("%1: run %2 stored no confusion matrix for %3")
                                   .arg(db.filePath())
                                   .arg(runId)
                                   .arg(fold == 0 ? QStringLiteral("its pooled folds")
                                                  : QStringLiteral("fold %1").arg(fold)));
    const int k = int(out->classes.size());
    out->cells = QList<QList<QList<qint64>>>(k, QList<QList<qint64>>(k));
    const QList<RunPredictionRow> predictions = models.runPredictions(runId, fold);
    out->clipsListed = !predictions.isEmpty() || out->metrics.count == 0;
    if (predictions.isEmpty())
        return Status::success();

    CorpusRepository corpora(db);
    QList<UtteranceRow> rows;
    if (auto st = corpora.utteranceRows(0, &rows); !st)
        return Status::failure(QStringLiteral("%1: %2").arg(db.filePath(), st.error()));
    QHash<qint64, const UtteranceRow *> byId;
    for (const UtteranceRow &row : std::as_const(rows))
        byId.insert(row.id, &row);
    for (const RunPredictionRow &p : predictions) {
        const int t = int(out->classes.indexOf(p.truth));
        const int pi = int(out->classes.indexOf(p.predicted));
        const UtteranceRow *row = byId.value(p.utteranceId);
        if (t < 0 || pi < 0 || !row) // a clip deleted since: counted, not listed
            continue;
        out->cells[t][pi] << p.utteranceId;
        out->clips.insert(p.utteranceId,
                          {p.utteranceId, row->key,
                           QStringLiteral("%1/%2").arg(row->corpusName, row->speakerCode), p.truth,
                           p.predicted, p.confidence});
    }
    // Each cell by key, as a model's.
    for (auto &line : out->cells)
        for (auto &cell : line)
            std::sort(cell.begin(), cell.end(), [out](qint64 a, qint64 b) {
                return out->clips.value(a).key < out->clips.value(b).key;
            });
    return Status::success();
}

} // namespace emolens
