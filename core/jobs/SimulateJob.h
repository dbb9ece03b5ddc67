#pragma once
// SimulateJob: seed 002's active-learning loop simulated with the corpus's own labels as the
// oracle - the label-efficiency evidence (`emolens-cli simulate`). The workspace's labels and
// models are left alone; the learning curve is stored as a simulation (SelectionRepository,
// unless the request says not to), for the learning-curve plot.
//
// - Split: speaker-disjoint; the speakers of one of `folds` speaker folds (SpeakerFolds, by the
//   seed) are the test set, every other labeled clip is the pool.
// - Round 0: `initial` clips by the cold start (k-means of the pool's utterance embeddings,
//   the clips nearest each centre in turn, balanced over speakers), the same for every
//   strategy, so the curves differ by the strategy alone.
// - Each round: the recipe is trained on the labeled pool clips (its epochs; with so few
//   labels no speakers are spared for validation, so the epoch kept is the best on the labeled
//   clips), scored on the test speakers (UA, WA, macro-F1), and the strategy picks `step` more
//   clips from the rest of the pool (the model's posteriors of them, their embeddings), whose
//   labels are then revealed.
// - full: the same recipe trained on every pool label, scored the same way: what the curve is
//   measured against (the fraction of labels each round needs to reach 95 % of its UA).
//
// Threads: construct anywhere; run() on a worker thread (its own Database connection).

#include "active/Selection.h"
#include "jobs/Job.h"

#include <QJsonObject>
#include <QList>
#include <QString>

namespace emolens {

struct SimulateRequest
{
    QString databasePath;
    QString cacheDirectory; // empty: beside the workspace
    QString strategy = QStringLiteral("margin");
    QString recipe = QStringLiteral("baseline");
    QString encoder = QStringLiteral("fbank");
    quint32 seed = 1;
    int initial = 20;
    int step = 20;
    int rounds = 5;
    int folds = 4;    // the test speakers are one fold of this many
    int epochs = 0;   // 0: the recipe's
    int clusters = 3; // the cold start's k
    int passes = 10;  // bald's MC dropout passes (ours)
    // alps: the adapter-TAPT backbone (0: the newest of the encoder) and its buckets per clip.
    // The surprisal is the pre-trained backbone's, so it is computed once, at the first
    // selection (its seconds are that round's), and holds for every round.
    qint64 backboneId = 0;
    int buckets = 16;
    // Ours: each round favours clips predicted as rare classes (SelectionOptions::favourRare);
    // the curve's strategy is then named "NAME+rare".
    bool favourRare = false;
    int threads = 0;
    bool store = true; // keep the learning curve in the workspace
};

struct SimulationRound
{
    int round = 0;
    int labeled = 0;
    double labeledFraction = 0; // of the pool
    double ua = 0, wa = 0, f1 = 0;
    double trainSeconds = 0;
    double selectSeconds = 0; // choosing this round's clips (0 for round 0's cold start: in setup)
};

struct SimulationReport
{
    QString strategy;
    QString recipe;
    QString encoder;
    QStringList classes;
    QStringList testSpeakers;
    int poolClips = 0;
    int testClips = 0;
    double fullUa = 0, fullWa = 0, fullF1 = 0;
    double fullSeconds = 0;
    QList<SimulationRound> rounds;
    qint64 backboneId = 0; // alps: whose surprisal
    double seconds = 0;
    qint64 simulationId = 0; // 0: not stored

    // The fraction of the pool labeled in the first round that reaches 95 % of fullUa (-1:
    // none does).
    double fractionTo95() const;
};

// The report as `simulate --json` prints it and the workspace stores it.
QJsonObject simulationJson(const SimulationReport &report, quint32 seed);

class SimulateJob final : public Job
{
public:
    explicit SimulateJob(SimulateRequest request) : m_request(std::move(request)) {}

    QString name() const override;
    JobResult run(ProgressSink &progress) override;
    QString cancelEffect() const override
    {
        return QStringLiteral("Stop the simulation; nothing is kept");
    }
    const SimulationReport &report() const { return m_report; }

private:
    SimulateRequest m_request;
    SimulationReport m_report;
};

} // namespace emolens
