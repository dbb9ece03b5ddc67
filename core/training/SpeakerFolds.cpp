#include "training/SpeakerFolds.h"

#include <QMap>
#include <QSet>
#include <algorithm>
#include <cmath>
#include <random>

namespace emolens {

namespace {

struct SpeakerCounts
{
    QString speaker;
    Gender gender = Gender::Unknown;
    int clips = 0;
    QMap<int, int> perClass;
    int shuffleRank = 0;
};

QList<SpeakerCounts> countSpeakers(const QList<FoldClip> &clips)
{
    QMap<QString, SpeakerCounts> bySpeaker;
    for (const FoldClip &c : clips) {
        SpeakerCounts &s = bySpeaker[c.speaker];
        s.speaker = c.speaker;
        if (c.gender != Gender::Unknown)
            s.gender = c.gender;
        ++s.clips;
        if (c.classIndex >= 0)
            ++s.perClass[c.classIndex];
    }
    return bySpeaker.values();
}

// A seeded order of the names, for breaking ties the same way every time with one seed.
void rankByShuffle(QList<SpeakerCounts> &speakers, quint32 seed)
{
    std::vector<int> ranks(std::size_t(speakers.size()));
    for (std::size_t i = 0; i < ranks.size(); ++i)
        ranks[i] = int(i);
    std::mt19937 generator(seed);
    std::shuffle(ranks.begin(), ranks.end(), generator);
    for (qsizetype i = 0; i < speakers.size(); ++i)
        speakers[i].shuffleRank = ranks[std::size_t(i)];
}

} // namespace

QList<qint64> FoldPlan::validationClips(const QList<FoldClip> &clips) const
{
    QList<qint64> ids;
    for (const FoldClip &c : clips)
        if (partitionRole.value(c.utteranceId, -1) == 1)
            ids.append(c.utteranceId);
    return ids;
}

QList<qint64> FoldPlan::testClips(const QList<FoldClip> &clips, int fold) const
{
    QList<qint64> ids;
    if (official()) {
        for (const FoldClip &c : clips)
            if (partitionRole.value(c.utteranceId, -1) == 2 + fold)
                ids.append(c.utteranceId);
        return ids;
    }
    for (const FoldClip &c : clips)
        if (foldOfSpeaker.value(c.speaker, -1) == fold)
            ids.append(c.utteranceId);
    return ids;
}

QList<qint64> FoldPlan::trainingClips(const QList<FoldClip> &clips, int fold) const
{
    QList<qint64> ids;
    if (official()) {
        for (const FoldClip &c : clips)
            if (partitionRole.value(c.utteranceId, -1) == 0)
                ids.append(c.utteranceId);
        return ids;
    }
    for (const FoldClip &c : clips) {
        const int f = foldOfSpeaker.value(c.speaker, -1);
        if (f >= 0 && f != fold)
            ids.append(c.utteranceId);
    }
    return ids;
}

Status SpeakerFolds::bySpeaker(const QList<FoldClip> &clips, int k, quint32 seed, FoldPlan *plan)
{
    *plan = FoldPlan();
    QList<SpeakerCounts> speakers = countSpeakers(clips);
    if (k < 2)
        return Status::failure(
            QStringLiteral("speaker folds need k of at least 2 (got %1)").arg(k));
    if (speakers.size() < k)
        return Status::failure(
            QStringLiteral("%1 speakers cannot fill %2 speaker-disjoint folds; use fewer folds")
                .arg(speakers.size())
                .arg(k));
    rankByShuffle(speakers, seed);
    // Most clips first: the big speakers decide the balance, the small ones even it out.
    std::sort(speakers.begin(), speakers.end(), [](const SpeakerCounts &a, const SpeakerCounts &b) {
        return a.clips != b.clips ? a.clips > b.clips : a.shuffleRank < b.shuffleRank;
    });

    QSet<int> classes;
    int totalClips = 0;
    QMap<Gender, int> speakersOfGender;
    for (const SpeakerCounts &s : std::as_const(speakers)) {
        totalClips += s.clips;
        ++speakersOfGender[s.gender];
        for (auto it = s.perClass.cbegin(); it != s.perClass.cend(); ++it)
            classes.insert(it.key());
    }
    struct FoldCounts
    {
        int clips = 0;
        int speakers = 0;
        QMap<int, int> perClass;
        QMap<Gender, int> perGender;
    };
    QList<FoldCounts> folds(k);
    plan->testSpeakers = QList<QStringList>(k);

    // The cost of a fold's counts: squared distance from an even share, each part relative to
    // its total so clips, classes and genders weigh alike.
    const auto cost = [&](const FoldCounts &f) {
        auto term = [k](double value, double total) {
            if (total <= 0)
                return 0.0;
            const double d = (value - total / k) / total;
            return d * d;
        };
        double c = term(f.clips, totalClips) + term(f.speakers, double(speakers.size()));
        for (int cls : classes) {
            int total = 0;
            for (const SpeakerCounts &s : std::as_const(speakers))
                total += s.perClass.value(cls);
            c += term(f.perClass.value(cls), total);
        }
        for (auto it = speakersOfGender.cbegin(); it != speakersOfGender.cend(); ++it)
            c += term(f.perGender.value(it.key()), it.value());
        return c;
    };

    for (qsizetype i = 0; i < speakers.size(); ++i) {
        const SpeakerCounts &s = speakers[i];
        // Every fold must get a speaker: once only as many speakers remain as folds are
        // empty, only an empty fold will do.
        const int emptyFolds = int(std::count_if(
            folds.cbegin(), folds.cend(), [](const FoldCounts &f) { return f.speakers == 0; }));
        const bool onlyEmpty = speakers.size() - i <= emptyFolds;
        int best = -1;
        double bestGain = 0;
        for (int f = 0; f < k; ++f) {
            if (onlyEmpty && folds[f].speakers > 0)
                continue;
            FoldCounts with = folds[f];
            with.clips += s.clips;
            ++with.speakers;
            for (auto it = s.perClass.cbegin(); it != s.perClass.cend(); ++it)
                with.perClass[it.key()] += it.value();
            ++with.perGender[s.gender];
            const double gain = cost(with) - cost(folds[f]);
            if (best < 0 || gain < bestGain - 1e-12) {
                best = f;
                bestGain = gain;
            }
        }
        FoldCounts &f = folds[best];
        f.clips += s.clips;
        ++f.speakers;
        for (auto it = s.perClass.cbegin(); it != s.perClass.cend(); ++it)
            f.perClass[it.key()] += it.value();
        ++f.perGender[s.gender];
        plan->testSpeakers[best].append(s.speaker);
        plan->foldOfSpeaker.insert(s.speaker, best);
    }
    for (QStringList &fold : plan->testSpeakers)
        fold.sort();
    return Status::success();
}

Status SpeakerFolds::byPartition(const QList<FoldClip> &clips, FoldPlan *plan)
{
    *plan = FoldPlan();
    QMap<QString, QList<qint64>> tests; // by partition name (lower case), in name order
    QMap<QString, QSet<QString>> testSpeakers;
    int withoutPartition = 0, train = 0;
    for (const FoldClip &c : clips) {
        const QString name = c.partition.trimmed();
        const QString lower = name.toLower();
        if (name.isEmpty()) {
            ++withoutPartition;
        } else if (lower == u"train" || lower == u"training") {
            plan->partitionRole.insert(c.utteranceId, 0);
            ++train;
        } else if (lower == u"development" || lower == u"dev" || lower == u"validation" ||
                   lower == u"valid") {
            plan->partitionRole.insert(c.utteranceId, 1);
        } else if (lower.startsWith(u"test")) {
            tests[lower].append(c.utteranceId); // Test2 and test2 are one part
            testSpeakers[lower].insert(c.speaker);
        } else {
            *plan = FoldPlan();
            return Status::failure(
                QStringLiteral("clip %1 is in the partition \"%2\", which is neither a training, "
                               "a development nor a test part")
                    .arg(c.utteranceId)
                    .arg(name));
        }
    }
    if (withoutPartition == int(clips.size())) {
        *plan = FoldPlan();
        return Status::failure(QStringLiteral("the corpus defines no partition: official folds "
                                              "need each clip's split (as MSP-Podcast's "
                                              "Split_Set); use speaker or session folds"));
    }
    if (withoutPartition > 0 || train == 0 || tests.isEmpty()) {
        *plan = FoldPlan();
        return Status::failure(
            withoutPartition > 0
                ? QStringLiteral("%1 clips have no partition; official folds need one on every "
                                 "clip")
                      .arg(withoutPartition)
                : QStringLiteral("the corpus's partition has no %1 part")
                      .arg(train == 0 ? QStringLiteral("training") : QStringLiteral("test")));
    }
    int fold = 0;
    for (auto it = tests.cbegin(); it != tests.cend(); ++it, ++fold) {
        for (qint64 id : it.value())
            plan->partitionRole.insert(id, 2 + fold);
        QStringList speakers(testSpeakers[it.key()].cbegin(), testSpeakers[it.key()].cend());
        speakers.sort();
        plan->testSpeakers.append(speakers);
    }
    return Status::success();
}

Status SpeakerFolds::bySession(const QList<FoldClip> &clips, FoldPlan *plan)
{
    *plan = FoldPlan();
    QMap<QString, QSet<QString>> speakersOfSession;
    for (const FoldClip &c : clips) {
        if (c.session.isEmpty())
            return Status::failure(
                QStringLiteral("clip %1 has no session; session folds need one on every clip")
                    .arg(c.utteranceId));
        speakersOfSession[c.session].insert(c.speaker);
    }
    if (speakersOfSession.size() < 2)
        return Status::failure(QStringLiteral("session folds need at least two sessions (found %1)")
                                   .arg(speakersOfSession.size()));
    int fold = 0;
    for (auto it = speakersOfSession.cbegin(); it != speakersOfSession.cend(); ++it, ++fold) {
        QStringList speakers(it.value().cbegin(), it.value().cend());
        speakers.sort();
        for (const QString &s : std::as_const(speakers)) {
            if (plan->foldOfSpeaker.contains(s))
                return Status::failure(
                    QStringLiteral("speaker %1 speaks in more than one session; session folds "
                                   "would not be speaker-independent")
                        .arg(s));
            plan->foldOfSpeaker.insert(s, fold);
        }
        plan->testSpeakers.append(speakers);
    }
    return Status::success();
}

QStringList SpeakerFolds::validationSpeakers(const QList<FoldClip> &clips,
                                             const QStringList &trainingSpeakers, double fraction,
                                             quint32 seed)
{
    if (trainingSpeakers.size() < 2)
        return {};
    const QSet<QString> training(trainingSpeakers.cbegin(), trainingSpeakers.cend());
    QMap<Gender, QStringList> byGender;
    {
        QMap<QString, Gender> genderOf;
        for (const FoldClip &c : clips)
            if (training.contains(c.speaker) &&
                (!genderOf.contains(c.speaker) || genderOf.value(c.speaker) == Gender::Unknown))
                genderOf.insert(c.speaker, c.gender);
        for (const QString &s : trainingSpeakers)
            byGender[genderOf.value(s)].append(s);
    }
    // At least two once there are five speakers, so both genders can be in it.
    const int n = int(trainingSpeakers.size());
    const int wanted = std::clamp(int(std::lround(n * fraction)), n >= 5 ? 2 : 1, n - 1);
    std::mt19937 generator(seed);
    for (QStringList &list : byGender) {
        list.sort();
        std::shuffle(list.begin(), list.end(), generator);
    }
    // Take in turn from each gender, so the validation speakers are as mixed as the training ones.
    QStringList chosen;
    while (chosen.size() < wanted) {
        bool took = false;
        for (QStringList &list : byGender) {
            if (!list.isEmpty() && chosen.size() < wanted) {
                chosen.append(list.takeFirst());
                took = true;
            }
        }
        if (!took)
            break;
    }
    chosen.sort();
    return chosen;
}

} // namespace emolens
