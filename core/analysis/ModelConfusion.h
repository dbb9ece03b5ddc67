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
    qint64 modelId = 0;
    ConfusionSplit split = ConfusionSplit::Validation;
    QStringList classes; // the model's, in its order
    QStringList validationSpeakers;
    ClassificationMetrics metrics;
    QList<QList<QList<qint64>>> cells; // [true][predicted]: utterance ids, by key
    QHash<qint64, ConfusionClip> clips;
    int withoutPrediction = 0; // labeled clips of the split without a current prediction
};

Status modelConfusion(Database &db, qint64 modelId, ConfusionSplit split, ModelConfusion *out);

} // namespace emolens
