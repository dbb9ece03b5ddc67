#include "store/SelectionRepository.h"

#include "store/Database.h"
#include "store/SqlHelpers.h"

#include <QtEndian>

namespace emolens {

namespace {

QByteArray idsBlob(const QList<qint64> &ids)
{
    QByteArray blob(ids.size() * qsizetype(sizeof(qint64)), Qt::Uninitialized);
    for (qsizetype i = 0; i < ids.size(); ++i)
        qToLittleEndian<qint64>(ids[i], blob.data() + i * qsizetype(sizeof(qint64)));
    return blob;
}

QList<qint64> idsFrom(const QByteArray &blob)
{
    QList<qint64> ids;
    const qsizetype n = blob.size() / qsizetype(sizeof(qint64));
    ids.reserve(n);
    for (qsizetype i = 0; i < n; ++i)
        ids << qFromLittleEndian<qint64>(blob.constData() + i * qsizetype(sizeof(qint64)));
    return ids;
}

const QString kRoundColumns =
    QStringLiteral("SELECT id, model_id, strategy, settings, pool_size, labeled_count, seconds, "
                   "created_at FROM selection_rounds ");

SelectionRoundRecord roundFrom(const QSqlQuery &q)
{
    SelectionRoundRecord r;
    r.id = q.value(0).toLongLong();
    r.modelId = q.value(1).toLongLong();
    r.strategy = q.value(2).toString();
    r.settings = q.value(3).toString();
    r.poolSize = q.value(4).toInt();
    r.labeledCount = q.value(5).toInt();
    r.seconds = q.value(6).toDouble();
    r.createdAt = sql::timeFrom(q.value(7));
    return r;
}

} // namespace

Status SelectionRepository::addRound(SelectionRoundRecord *round,
                                     const QList<SelectionPickRecord> &picks)
{
    Transaction tx(m_db);
    if (auto st = tx.begin(); !st)
        return st;
    QSqlQuery q(m_db.connection());
    const QString now = sql::nowUtc();
    if (auto st = sql::run(
            q,
            QStringLiteral("INSERT INTO selection_rounds(model_id, strategy, settings, pool_size, "
                           "labeled_count, pool, seconds, created_at) VALUES(?,?,?,?,?,?,?,?)"),
            {round->modelId > 0 ? QVariant(round->modelId)
                                : QVariant(QMetaType(QMetaType::LongLong)),
             round->strategy, round->settings, round->poolSize, round->labeledCount,
             idsBlob(round->pool), round->seconds, now});
        !st)
        return st;
    const qint64 id = q.lastInsertId().toLongLong();
    QSqlQuery insert(m_db.connection());
    if (!insert.prepare(QStringLiteral("INSERT INTO selection_picks(round_id, rank, utterance_id, "
                                       "score, reason, predicted, confidence) "
                                       "VALUES(?,?,?,?,?,?,?)")))
        return Status::failure(insert.lastError().text());
    for (const SelectionPickRecord &p : picks)
        if (auto st = sql::rerun(
                insert, {id, p.rank, p.utteranceId, p.score, p.reason, p.predicted, p.confidence});
            !st)
            return st;
    if (auto st = tx.commit(); !st)
        return st;
    round->id = id;
    round->createdAt = sql::timeFrom(now);
    return Status::success();
}

std::optional<SelectionRoundRecord> SelectionRepository::round(qint64 roundId) const
{
    QSqlQuery q(m_db.connection());
    if (!sql::run(q, kRoundColumns + QStringLiteral("WHERE id=?"), {roundId}) || !q.next())
        return std::nullopt;
    SelectionRoundRecord r = roundFrom(q);
    if (sql::run(q, QStringLiteral("SELECT pool FROM selection_rounds WHERE id=?"), {roundId}) &&
        q.next())
        r.pool = idsFrom(q.value(0).toByteArray());
    return r;
}

std::optional<SelectionRoundRecord> SelectionRepository::latestRound() const
{
    QSqlQuery q(m_db.connection());
    if (!sql::run(q, QStringLiteral("SELECT max(id) FROM selection_rounds")) || !q.next() ||
        q.value(0).isNull())
        return std::nullopt;
    return round(q.value(0).toLongLong());
}

QList<SelectionRoundRecord> SelectionRepository::rounds() const
{
    QList<SelectionRoundRecord> out;
    QSqlQuery q(m_db.connection());
    if (sql::run(q, kRoundColumns + QStringLiteral("ORDER BY id DESC")))
        while (q.next())
            out << roundFrom(q);
    return out;
}

QList<SelectionPickRecord> SelectionRepository::picks(qint64 roundId) const
{
    QList<SelectionPickRecord> out;
    QSqlQuery q(m_db.connection());
    if (sql::run(q,
                 QStringLiteral("SELECT rank, utterance_id, score, reason, predicted, confidence "
                                "FROM selection_picks WHERE round_id=? ORDER BY rank"),
                 {roundId}))
        while (q.next()) {
            SelectionPickRecord p;
            p.rank = q.value(0).toInt();
            p.utteranceId = q.value(1).toLongLong();
            p.score = q.value(2).toDouble();
            p.reason = q.value(3).toString();
            p.predicted = q.value(4).toString();
            p.confidence = q.value(5).toDouble();
            out << p;
        }
    return out;
}

Status SelectionRepository::deleteRound(qint64 roundId)
{
    QSqlQuery q(m_db.connection());
    return sql::run(q, QStringLiteral("DELETE FROM selection_rounds WHERE id=?"), {roundId});
}

Status SelectionRepository::addSimulation(SimulationRecord *simulation)
{
    QSqlQuery q(m_db.connection());
    const QString now = sql::nowUtc();
    if (auto st = sql::run(q,
                           QStringLiteral("INSERT INTO simulations(strategy, recipe, encoder, "
                                          "seed, report, created_at) VALUES(?,?,?,?,?,?)"),
                           {simulation->strategy, simulation->recipe, simulation->encoder,
                            simulation->seed, simulation->report, now});
        !st)
        return st;
    simulation->id = q.lastInsertId().toLongLong();
    simulation->createdAt = sql::timeFrom(now);
    return Status::success();
}

QList<SimulationRecord> SelectionRepository::simulations() const
{
    QList<SimulationRecord> out;
    QSqlQuery q(m_db.connection());
    if (sql::run(q, QStringLiteral("SELECT id, strategy, recipe, encoder, seed, report, "
                                   "created_at FROM simulations ORDER BY id")))
        while (q.next()) {
            SimulationRecord s;
            s.id = q.value(0).toLongLong();
            s.strategy = q.value(1).toString();
            s.recipe = q.value(2).toString();
            s.encoder = q.value(3).toString();
            s.seed = q.value(4).toLongLong();
            s.report = q.value(5).toString();
            s.createdAt = sql::timeFrom(q.value(6));
            out << s;
        }
    return out;
}

Status SelectionRepository::deleteSimulation(qint64 simulationId)
{
    QSqlQuery q(m_db.connection());
    return sql::run(q, QStringLiteral("DELETE FROM simulations WHERE id=?"), {simulationId});
}

} // namespace emolens
