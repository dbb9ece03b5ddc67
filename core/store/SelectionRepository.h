#pragma once
// SelectionRepository: active learning's stored rounds and simulations.
//
// A round is one ranking of the clips no person had labeled: which model version ranked them
// (0: none, the cold start), the strategy and its settings (JSON), the pool it ranked (the
// candidates' ids, a snapshot) and the ranked picks, each with its score, the reason in words
// and the model's label. The queue view shows the newest round; `select` adds one per call.
// A simulation is one `simulate` run: its settings and its learning curve, as the JSON object
// `simulate --json` prints, for the learning-curve plot.
//
// Threads: like every repository, use it on the thread that owns the Database.
//
//     SelectionRepository rounds(db);
//     if (auto latest = rounds.latestRound())
//         for (const SelectionPickRecord &p : rounds.picks(latest->id)) show(p);

#include "common/Status.h"

#include <QDateTime>
#include <QList>
#include <QString>
#include <optional>

namespace emolens {

class Database;

struct SelectionRoundRecord
{
    qint64 id = 0;
    qint64 modelId = 0; // 0: ranked without a model (or the model was deleted since)
    QString strategy;
    QString settings; // JSON
    int poolSize = 0;
    int labeledCount = 0;
    QList<qint64> pool; // the utterance ids ranked over (read by round(), not by rounds())
    double seconds = 0;
    QDateTime createdAt;
};

struct SelectionPickRecord
{
    int rank = 0; // 1 = first to label
    qint64 utteranceId = 0;
    double score = 0;
    QString reason;
    QString predicted; // the model's label, when a model ranked
    double confidence = 0;
};

struct SimulationRecord
{
    qint64 id = 0;
    QString strategy;
    QString recipe;
    QString encoder;
    qint64 seed = 0;
    QString report; // JSON object: simulate --json's
    QDateTime createdAt;
};

class SelectionRepository
{
public:
    explicit SelectionRepository(Database &db) : m_db(db) {}

    // Stores the round and its picks in one transaction; fills round->id and createdAt.
    Status addRound(SelectionRoundRecord *round, const QList<SelectionPickRecord> &picks);
    std::optional<SelectionRoundRecord> round(qint64 roundId) const;
    std::optional<SelectionRoundRecord> latestRound() const;
    // Newest first, without their pools.
    QList<SelectionRoundRecord> rounds() const;
    QList<SelectionPickRecord> picks(qint64 roundId) const;
    Status deleteRound(qint64 roundId);

    Status addSimulation(SimulationRecord *simulation);
    // Oldest first.
    QList<SimulationRecord> simulations() const;
    Status deleteSimulation(qint64 simulationId);

private:
    Database &m_db;
};

} // namespace emolens
