#pragma once
// SpeakerFolds: speaker-independent evaluation splits. Every clip of a speaker lands in the
// same fold, so a model is always scored on voices it never heard.
//
// - speaker: k folds; speakers are dealt so that each fold gets about the same number of clips,
//   of clips of each class and of speakers of each gender - as far as the speakers allow (with
//   4 women and 4 men in 4 folds, each fold gets one of each). Greedy: the speakers with the
//   most clips first, each to the fold where it evens the counts out most; ties are broken by a
//   seeded shuffle, so the same seed gives the same folds and another seed may give others.
// - session: one fold per session key (IEMOCAP's leave-one-session-out: 5 folds).
// - official: the corpus's own partition (MSP-Podcast's Split_Set): train on its training
//   part, choose the epoch on its development part, score each test part (Test1, Test2, ...)
//   as a fold of its own. The partition is the corpus's to make speaker-independent.
// - Validation: from the training speakers of a fold only (the test fold is never looked at
//   before the final score), about `fraction` of them, at least one, balanced by gender.
//
// Pure functions: any thread.

#include "common/Status.h"
#include "store/Records.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

namespace emolens {

struct FoldClip
{
    qint64 utteranceId = 0;
    QString speaker; // unique within the clips given (e.g. corpus id + speaker code)
    Gender gender = Gender::Unknown;
    int classIndex = -1; // -1: no category
    QString session;     // for session folds
    QString partition;   // the corpus's own split (Train, Development, Test1, ...), if any
};

struct FoldPlan
{
    QList<QStringList> testSpeakers; // per fold, sorted
    QHash<QString, int> foldOfSpeaker;
    int foldCount() const { return int(testSpeakers.size()); }
    // official folds: each clip's role - 0 train, 1 validation, 2 + f the test clips of fold f.
    QHash<qint64, int> partitionRole;
    bool official() const { return !partitionRole.isEmpty(); }
    QList<qint64> validationClips(const QList<FoldClip> &clips) const; // official only
    // The clips of fold f (its test clips) and of every other fold (its training clips).
    QList<qint64> testClips(const QList<FoldClip> &clips, int fold) const;
    QList<qint64> trainingClips(const QList<FoldClip> &clips, int fold) const;
};

class SpeakerFolds
{
public:
    // Fails when there are fewer speakers than folds, or k < 2.
    static Status bySpeaker(const QList<FoldClip> &clips, int k, quint32 seed, FoldPlan *plan);
    // One fold per distinct session; fails with fewer than two sessions or a clip without one.
    static Status bySession(const QList<FoldClip> &clips, FoldPlan *plan);
    // The corpus's partition: Train/Training, Development/Dev/Validation, Test* (any case). Fails
    // naming what is missing: a clip without a partition, an unknown partition's name, no
    // training or no test part.
    static Status byPartition(const QList<FoldClip> &clips, FoldPlan *plan);
    // About fraction of the training speakers (at least one, two from five speakers on, never
    // all), balanced by gender.
    static QStringList validationSpeakers(const QList<FoldClip> &clips,
                                          const QStringList &trainingSpeakers, double fraction,
                                          quint32 seed);
};

} // namespace emolens
