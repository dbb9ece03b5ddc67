#pragma once
// ModelConfusion: a model version's confusion matrix with the clips in each cell, for the
// confusion view - which clips of class A the model took for B, to open and listen to.
//
// Truth is the label the table shows (a person's, else the corpus's), where it is one of the
// model's classes; the prediction is the model's stored one for the clip's current audio
// (a stale or missing prediction leaves the clip out, counted in `withoutPrediction`).
// Splits:
// - Validation: the clips of the speakers the model's run held out (its settings'
//   validation_speakers) - the figures the run reported, when the labels have not changed since;
// - Labeled: every labeled clip, training clips included (optimistic: the model saw most).
//
// A cross-validation run's matrix (runConfusion) is the one the run stored, pooled or of one
// fold; its cells list the clips the folds predicted, where the run kept them (schema 11 on).
//
// Threads: on the thread that owns the Database.

#include "common/Status.h"
#include "training/ClassificationMetrics.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

namespace emolens {

class Database;

enum class ConfusionSplit { Validation, Labeled };

struct ConfusionClip
{
    qint64 utteranceId = 0;
    QString key;
    QString speaker;
    QString truth;
    QString predicted;
    double confidence = 0;
};

struct ModelConfusion
{
    qint64 modelId = 0;      // 0 for a cross-validation run
    qint64 runId = 0;        // a cross-validation run's
    int fold = 0;            // its fold (0: pooled)
    bool clipsListed = true; // false: a run from before schema 11 kept no clips
    ConfusionSplit split = ConfusionSplit::Validation;
    QStringList classes; // the model's, in its order
    QStringList validationSpeakers;
    ClassificationMetrics metrics;
    QList<QList<QList<qint64>>> cells; // [true][predicted]: utterance ids, by key
    QHash<qint64, ConfusionClip> clips;
    int withoutPrediction = 0; // labeled clips of the split without a current prediction
};

Status modelConfusion(Database &db, qint64 modelId, ConfusionSplit split, ModelConfusion *out);
Status runConfusion(Database &db, qint64 runId, int fold, ModelConfusion *out);

} // namespace emolens
