#pragma once
// TrainingSet: what a training or evaluation run learns from - the workspace's clips that have
// cached features for one encoder, with the label each shows (LabelRepository's rule: the
// newest person's category, else the corpus's; or the majority's or a reviewer's, by the
// request's LabelRule), their speakers for the folds, and a
// CacheClipSource over their features. Classes are the corpora's label sets (their union, in
// order of first appearance); a clip whose category is not among them, or that has none,
// trains no categorical head (it still counts for nothing else here).
//
// Threads: load on the thread that owns the Database connection; the set is then read-only.

#include "common/Status.h"
#include "store/FeatureRepository.h"
#include "training/CacheClipSource.h"
#include "training/LabelRule.h"
#include "training/SpeakerFolds.h"

#include <QList>
#include <QStringList>
#include <memory>

namespace emolens {

class Database;

struct TrainingSetRequest
{
    QString cacheRoot;                         // the workspace's feature cache
    QString encoder = QStringLiteral("fbank"); // source ("fbank" or a folder) or name
    qint64 corpusId = 0;                       // 0: every corpus
    int acousticInputs = -1;                   // -1: on for fbank, off for the others
    // Seed 003's speed perturbation: the clips' cached copies at these rates as the source's
    // variants (CacheClipSource::addSpeedVariants); empty: none.
    QList<double> speedRates;
    // Which label a clip several people labeled trains on (LabelRule; default: the newest,
    // the label the views show).
    LabelRule labelRule;

    // A workspace's request: its cache (cacheDirectory, or beside the workspace when empty).
    static TrainingSetRequest of(const QString &databasePath, const QString &cacheDirectory,
                                 const QString &encoder, int acousticInputs);
};

struct TrainingSet
{
    EncoderRecord encoder;
    QStringList classes;
    bool acousticInputs = false;
    std::unique_ptr<CacheClipSource> source;
    QList<FoldClip> clips;     // parallel to source->clips()
    QStringList contentHashes; // parallel to clips: the audio each clip's features are of
    int missingFeatures = 0;   // clips of the workspace without cached features (not in the set)
    int withoutCategory = 0;   // clips in the set without a usable category
    LabelRule labelRule;       // the rule the categories were chosen by
    int ruledClips = 0; // clips whose category the rule took from another than the shown (soft
                        // rule: clips that train on shares of the votes)
    // Seed 003's auxiliary metadata, as the clips carry it (TrainerClip): speakers by index in
    // order of first appearance, and the transcripts' characters (lower-cased letters, digits,
    // apostrophes, single spaces; id = position in `characters` + 1, 0 is CTC's blank).
    int speakerCount = 0;
    QString characters;
    int withGender = 0, withStyle = 0, withTranscript = 0; // clips that have each
    bool bothStyles = false; // scripted and improvised clips are both present

    // Fails when the encoder is unknown, no clip has features (naming the command that makes
    // them), or the store cannot be read.
    static Status load(Database &db, const TrainingSetRequest &request, TrainingSet *out);
    // Indexes into clips (and the source) of these utterances, in the order given.
    std::vector<std::size_t> indexesOf(const QList<qint64> &utteranceIds) const;
    // Seed 003 (the co-attention adapter): gives options->adapter its auxiliary tasks from the
    // metadata the clips have, of those asked for (gender, speaker, style, characters; empty:
    // all); a task left out is named in *notes with the reason. Fails for an unknown task name,
    // when no task is left, or when tasks are asked of another adapter (which has none).
    Status fitAuxiliaryTasks(TrainerOptions *options, const QStringList &asked,
                             QStringList *notes) const;
    // What the label rule did ("label rule majority: 3 clips train on another category than
    // the one the views show"); empty for the newest label.
    QString labelRuleNote() const;
    // Encoder frames of the clips with a category (what the default recipe is chosen by).
    qint64 labeledFrames() const;
    // What the labels were (JSON: classes, labeled_clips, counts per class, and a SHA-256 of
    // each labeled clip with its class), kept with a run to tell whether they changed since.
    QString labelSnapshot() const;
    // The recipe a run asked for, with "default" (or empty) resolved by the labeled frames.
    QString resolveRecipe(const QString &asked, const QString &device) const;
};

} // namespace emolens
