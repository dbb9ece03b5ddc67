#pragma once
// SelectJob: one round of seed 002's active learning on a workspace - which clips an annotator
// should label next. It builds the pool (every clip with an utterance embedding of the chosen
// encoder; labeled when a person gave it a category), asks the model version for the
// posteriors of the clips that may be picked when the strategy ranks by them (or rare classes
// are favoured) - for alps, their surprisal under an adapter-TAPT backbone (ClipSurprisal) -
// ranks with selectClips()
// (core/active/Selection.h) and, unless told not to, stores the round (SelectionRepository):
// the queue the GUI shows and `emolens-cli select` prints.
//
// The embeddings' encoder: the one asked for (name or source), else the model's, else the
// backbone's asked for (alps), else fbank; their layer: the one asked for, else the encoder's
// last.
//
// Threads: construct anywhere; run() on a worker thread (its own Database connection), or
// select() directly on the thread that owns `db`.

#include "active/Selection.h"
#include "jobs/Job.h"
#include "store/SelectionRepository.h"

#include <QList>
#include <QString>

namespace emolens {

class Database;

struct SelectRequest
{
    QString databasePath;
    QString cacheDirectory;   // empty: FeatureCache::defaultRootFor(databasePath)
    SelectionOptions options; // count 0: 5 % of the clips that can be picked (seed 002's code)
    qint64 modelId = 0;       // 0: the active model version, if any
    qint64 backboneId = 0;    // alps: 0, the newest adapter-TAPT backbone of the encoder
    QString encoder;          // the embeddings' encoder; empty: the model's, else fbank
    int layer = -1;           // -1: the encoder's last
    bool store = true;        // keep the round in the workspace
    // Whom the round is for (their labels are skipped with second opinions, and the clips
    // people disagree on are offered to them unless they gave one of the opinions); empty:
    // nobody in particular.
    QString annotator;
};

struct SelectedClip
{
    SelectionPick pick;
    QString key;
    QString path;
    QString predicted; // the model's label (empty without posteriors)
};

struct SelectReport
{
    SelectionRoundRecord round; // id 0 when not stored
    QString encoder;
    int layer = 0;
    int withoutPosteriors = 0;   // unlabeled clips without features for the model's encoder
    int withoutSurprisal = 0;    // alps: unlabeled clips without features for the backbone's
    qint64 backboneId = 0;       // alps: the backbone whose surprisal ranked the clips
    double surprisalSeconds = 0; // alps: computing the surprisal (the adapter's passes)
    int surprisalCached = 0;     // alps: clips whose surprisal was kept from an earlier round
    QList<SelectedClip> picks;
    double seconds = 0;
};

class SelectJob final : public Job
{
public:
    explicit SelectJob(SelectRequest request) : m_request(std::move(request)) {}

    QString name() const override;
    JobResult run(ProgressSink &progress) override;
    QString cancelEffect() const override
    {
        return QStringLiteral("Stop ranking; the queue stays as it was");
    }
    const SelectReport &report() const { return m_report; }

    // The work, on an open workspace; `cancelled` (may be null) is polled between clips;
    // `progress` (may be null) hears of the long part, ALPS's surprisal of the pool.
    static Status select(Database &db, const SelectRequest &request, SelectReport *out,
                         const std::function<bool()> &cancelled = {},
                         const std::function<void(double, const QString &)> &progress = {});

private:
    SelectRequest m_request;
    SelectReport m_report;
};

} // namespace emolens
