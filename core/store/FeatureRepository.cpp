#include "store/FeatureRepository.h"

#include "store/Database.h"
#include "store/SqlHelpers.h"

#include <QByteArray>
#include <QSqlQuery>
#include <cstring>

namespace emolens {

namespace {

const QString kEncoderColumns = QStringLiteral(
    "id, identity, name, source, model_type, layer_count, hidden_size, frames_per_second, "
    "added_at");

EncoderRecord encoderFrom(const QSqlQuery &q)
{
    EncoderRecord r;
    r.id = q.value(0).toLongLong();
    r.identity = q.value(1).toString();
    r.name = q.value(2).toString();
    r.source = q.value(3).toString();
    r.modelType = q.value(4).toString();
    r.layerCount = q.value(5).toInt();
    r.hiddenSize = q.value(6).toInt();
    r.framesPerSecond = q.value(7).toDouble();
    r.addedAt = sql::timeFrom(q.value(8));
    return r;
}

// The embedding is joined with its utterance so a stale one (the audio changed since) is
// never returned.
const QString kCurrentEmbeddings =
    QStringLiteral("FROM utterance_embeddings e JOIN utterances u ON u.id=e.utterance_id "
                   "AND u.content_hash=e.content_hash WHERE e.encoder_id=?");

} // namespace

FeatureRepository::FeatureRepository(Database &db) : m_db(db) {}

Status FeatureRepository::addEncoder(EncoderRecord *record)
{
    if (record->identity.isEmpty() || record->layerCount <= 0 || record->hiddenSize <= 0)
        return Status::failure(QStringLiteral("an encoder needs an identity, layers and a size"));
    // One statement adds the encoder unless its identity is known, so two processes adding the
    // same encoder at once both end up with the one row (a select-then-insert would let the
    // second fail on the unique identity).
    QSqlQuery q(m_db.connection());
    if (auto st = sql::run(q,
                           QStringLiteral("INSERT INTO encoders(identity, name, source, "
                                          "model_type, layer_count, hidden_size, "
                                          "frames_per_second, added_at) VALUES(?,?,?,?,?,?,?,?) "
                                          "ON CONFLICT(identity) DO NOTHING"),
                           {record->identity, record->name, record->source, record->modelType,
                            record->layerCount, record->hiddenSize, record->framesPerSecond,
                            sql::nowUtc()});
        !st)
        return st;
    if (auto st = sql::run(
            q, QStringLiteral("SELECT %1 FROM encoders WHERE identity=?").arg(kEncoderColumns),
            {record->identity});
        !st)
        return st;
    if (!q.next())
        return Status::failure(
            QStringLiteral("the encoder %1 could not be recorded").arg(record->identity));
    *record = encoderFrom(q);
    return Status::success();
}

Status FeatureRepository::removeEncoder(qint64 encoderId)
{
    Transaction tx(m_db);
    if (auto st = tx.begin(); !st)
        return st;
    QSqlQuery q(m_db.connection());
    if (auto st = sql::run(q, QStringLiteral("DELETE FROM utterance_embeddings WHERE encoder_id=?"),
                           {encoderId});
        !st)
        return st;
    if (auto st = sql::run(q, QStringLiteral("DELETE FROM encoders WHERE id=?"), {encoderId}); !st)
        return st;
    return tx.commit();
}

QList<EncoderRecord> FeatureRepository::encoders() const
{
    QList<EncoderRecord> out;
    QSqlQuery q(m_db.connection());
    if (!sql::run(q, QStringLiteral("SELECT %1 FROM encoders ORDER BY id").arg(kEncoderColumns)))
        return out;
    while (q.next())
        out.append(encoderFrom(q));
    return out;
}

std::optional<EncoderRecord> FeatureRepository::encoder(qint64 encoderId) const
{
    QSqlQuery q(m_db.connection());
    if (!sql::run(q, QStringLiteral("SELECT %1 FROM encoders WHERE id=?").arg(kEncoderColumns),
                  {encoderId}) ||
        !q.next())
        return std::nullopt;
    return encoderFrom(q);
}

Status FeatureRepository::storeEmbeddings(qint64 encoderId,
                                          const QList<UtteranceEmbedding> &embeddings)
{
    const std::optional<EncoderRecord> owner = encoder(encoderId);
    if (!owner)
        return Status::failure(QStringLiteral("no encoder %1 in this workspace").arg(encoderId));
    const std::size_t expected = std::size_t(owner->layerCount) * std::size_t(owner->hiddenSize);
    Transaction tx(m_db);
    if (auto st = tx.begin(); !st)
        return st;
    QSqlQuery q(m_db.connection());
    if (!q.prepare(QStringLiteral("INSERT INTO utterance_embeddings(utterance_id, encoder_id, "
                                  "content_hash, frame_count, embedding, created_at) "
                                  "VALUES(?,?,?,?,?,?) ON CONFLICT(utterance_id, encoder_id) "
                                  "DO UPDATE SET content_hash=excluded.content_hash, "
                                  "frame_count=excluded.frame_count, "
                                  "embedding=excluded.embedding, created_at=excluded.created_at")))
        return Status::failure(q.lastError().text());
    const QString now = sql::nowUtc();
    for (const UtteranceEmbedding &e : embeddings) {
        if (e.values.size() != expected)
            return Status::failure(
                QStringLiteral("embedding of utterance %1 has %2 values, encoder %3 needs %4")
                    .arg(e.utteranceId)
                    .arg(e.values.size())
                    .arg(owner->name)
                    .arg(expected));
        const QByteArray blob(reinterpret_cast<const char *>(e.values.data()),
                              qsizetype(e.values.size() * sizeof(float)));
        if (auto st =
                sql::rerun(q, {e.utteranceId, encoderId, e.contentHash, e.frameCount, blob, now});
            !st)
            return st;
    }
    return tx.commit();
}

QSet<qint64> FeatureRepository::utterancesWithEmbedding(qint64 encoderId) const
{
    QSet<qint64> out;
    QSqlQuery q(m_db.connection());
    if (!sql::run(q, QStringLiteral("SELECT e.utterance_id ") + kCurrentEmbeddings, {encoderId}))
        return out;
    while (q.next())
        out.insert(q.value(0).toLongLong());
    return out;
}

Status FeatureRepository::layerMatrix(qint64 encoderId, int layer, QList<qint64> *utteranceIds,
                                      std::vector<float> *matrix) const
{
    const std::optional<EncoderRecord> owner = encoder(encoderId);
    if (!owner)
        return Status::failure(QStringLiteral("no encoder %1 in this workspace").arg(encoderId));
    if (layer < 0 || layer >= owner->layerCount)
        return Status::failure(QStringLiteral("encoder %1 has layers 0-%2, not %3")
                                   .arg(owner->name)
                                   .arg(owner->layerCount - 1)
                                   .arg(layer));
    utteranceIds->clear();
    matrix->clear();
    QSqlQuery q(m_db.connection());
    q.setForwardOnly(true);
    if (auto st = sql::run(q,
                           QStringLiteral("SELECT e.utterance_id, e.embedding ") +
                               kCurrentEmbeddings + QStringLiteral(" ORDER BY e.utterance_id"),
                           {encoderId});
        !st)
        return st;
    const std::size_t width = std::size_t(owner->hiddenSize);
    const std::size_t rowBytes = width * sizeof(float);
    while (q.next()) {
        const QByteArray blob = q.value(1).toByteArray();
        if (std::size_t(blob.size()) != rowBytes * std::size_t(owner->layerCount))
            return Status::failure(
                QStringLiteral("the stored embedding of utterance %1 has the wrong size")
                    .arg(q.value(0).toLongLong()));
        utteranceIds->append(q.value(0).toLongLong());
        const std::size_t at = matrix->size();
        matrix->resize(at + width);
        std::memcpy(matrix->data() + at, blob.constData() + std::size_t(layer) * rowBytes,
                    rowBytes);
    }
    return Status::success();
}

std::optional<UtteranceEmbedding> FeatureRepository::embedding(qint64 encoderId,
                                                               qint64 utteranceId) const
{
    QSqlQuery q(m_db.connection());
    if (!sql::run(q,
                  QStringLiteral("SELECT e.utterance_id, e.content_hash, e.frame_count, "
                                 "e.embedding ") +
                      kCurrentEmbeddings + QStringLiteral(" AND e.utterance_id=?"),
                  {encoderId, utteranceId}) ||
        !q.next())
        return std::nullopt;
    UtteranceEmbedding e;
    e.utteranceId = q.value(0).toLongLong();
    e.contentHash = q.value(1).toString();
    e.frameCount = q.value(2).toLongLong();
    const QByteArray blob = q.value(3).toByteArray();
    e.values.resize(std::size_t(blob.size()) / sizeof(float));
    std::memcpy(e.values.data(), blob.constData(), e.values.size() * sizeof(float));
    return e;
}

} // namespace emolens
