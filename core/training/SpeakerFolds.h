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
};

struct FoldPlan
{
    QList<QStringList> testSpeakers; // per fold, sorted
    QHash<QString, int> foldOfSpeaker;
    int foldCount() const { return int(testSpeakers.size()); }
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
    // About fraction of the training speakers (at least one, two from five speakers on, never
    // all), balanced by gender.
    static QStringList validationSpeakers(const QList<FoldClip> &clips,
                                          const QStringList &trainingSpeakers, double fraction,
                                          quint32 seed);
};

} // namespace emolens
