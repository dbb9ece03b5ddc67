#pragma once
// Recipes: named compositions of the adapter's parts and the trainer's settings. Each says
// where its values come from (../shared/METHODS.md keeps apart what a paper states, our
// default where it is silent, and our variants); the name and every value are recorded with
// a run.
//
// - baseline: the SUPERB emotion-recognition protocol - learned layer weights, a linear
//   projection, masked mean pooling, a linear classifier.
// - wap-sap: seed 000's network on the labels alone - WAP-Transformer (3 blocks, 4 heads, a
//   learned average over the blocks) and attentive statistics pooling; the teacher-student
//   stage comes with the seed recipes.
// - default: what Retrain runs (see recipeFor).
//
// Pure functions: any thread.

#include "AdapterTrainer.h"

#include <QString>
#include <QStringList>

namespace emolens {

struct RecipeInfo
{
    QString name;
    QString summary; // one line for the user
    QString origin;  // where the values come from
};

QList<RecipeInfo> recipes();
// The recipe's trainer settings for an encoder of this shape and these classes; empty name:
// "default". Fails (empty options, *error set) for an unknown name.
bool recipeOptions(const QString &name, int layerCount, int hiddenSize, int extraInputs,
                   int classCount, TrainerOptions *options, QString *error);
QString defaultRecipe();

// A run's trainer settings: the recipe's for this encoder shape, extra inputs and classes, with
// the run's own seed, device, CPU threads and epochs (0: the recipe's).
struct RunChoices
{
    QString recipe; // empty: the default
    quint32 seed = 1;
    QString device = QStringLiteral("cpu");
    int threads = 0;
    int epochs = 0;
};
bool runOptions(const RunChoices &choices, int layerCount, int hiddenSize, int extraInputs,
                int classCount, TrainerOptions *options, QString *error);

} // namespace emolens
