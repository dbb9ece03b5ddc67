#include "store/ModelRepository.h"

#include "store/Database.h"
#include "store/SqlHelpers.h"

#include <QCryptographicHash>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSysInfo>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <unistd.h>

namespace emolens {

namespace {

QString jsonText(const QJsonArray &a)
{
    return QString::fromUtf8(QJsonDocument(a).toJson(QJsonDocument::Compact));
}

QJsonArray confusionJson(const QList<QList<int>> &confusion)
{
    QJsonArray rows;
    for (const QList<int> &row : confusion) {
        QJsonArray r;
        for (int v : row)
            r.append(v);
        rows.append(r);
    }
    return rows;
}

QList<QList<int>> confusionFrom(const QString &text)
{
    QList<QList<int>> out;
    for (const QJsonValue &row : QJsonDocument::fromJson(text.toUtf8()).array()) {
        QList<int> r;
        for (const QJsonValue &v : row.toArray())
            r << v.toInt();
        out << r;
    }
    return out;
}

QStringList stringsFrom(const QString &text)
{
    QStringList out;
    for (const QJsonValue &v : QJsonDocument::fromJson(text.toUtf8()).array())
        out << v.toString();
    return out;
}

Status insertMetrics(QSqlQuery &q, qint64 runId, const QList<MetricsRow> &metrics)
{
    for (const MetricsRow &m : metrics)
        if (auto st = sql::run(q,
                               QStringLiteral("INSERT INTO run_metrics(run_id, fold, split, n, "
                                              "ua, wa, f1, labels, confusion) "
                                              "VALUES(?,?,?,?,?,?,?,?,?) "
                                              "ON CONFLICT(run_id, fold, split) DO UPDATE SET "
                                              "n=excluded.n, ua=excluded.ua, wa=excluded.wa, "
                                              "f1=excluded.f1, labels=excluded.labels, "
                                              "confusion=excluded.confusion"),
                               {runId, m.fold, m.split, m.n, m.ua, m.wa, m.f1,
                                jsonText(QJsonArray::fromStringList(m.labels)),
                                jsonText(confusionJson(m.confusion))});
            !st)
            return st;
    return Status::success();
}

TrainingRunRecord runFrom(const QSqlQuery &q)
{
    TrainingRunRecord r;
    r.id = q.value(0).toLongLong();
    r.kind = q.value(1).toString();
    r.recipe = q.value(2).toString();
    r.settings = q.value(3).toString();
    r.seed = q.value(4).toLongLong();
    r.encoderId = q.value(5).toLongLong();
    r.labelSnapshot = q.value(6).toString();
    r.device = q.value(7).toString();
    r.status = q.value(8).toString();
    r.error = q.value(9).toString();
    r.startedAt = sql::timeFrom(q.value(10));
    if (!q.value(11).isNull())
        r.finishedAt = sql::timeFrom(q.value(11));
    r.seconds = q.value(12).toDouble();
    return r;
}

const QString kRunColumns =
    QStringLiteral("SELECT id, kind, recipe, settings, seed, encoder_id, label_snapshot, device, "
                   "status, error, started_at, finished_at, seconds FROM training_runs ");

// Model versions with their run's recipe, time and validation metrics.
const QString kModelColumns = QStringLiteral(
    "SELECT m.id, m.run_id, m.encoder_id, m.classes, m.acoustic_inputs, m.weights_hash, "
    "m.active, m.created_at, r.recipe, COALESCE(x.ua, 0), COALESCE(x.wa, 0), COALESCE(x.f1, 0), "
    "COALESCE(x.n, 0), COALESCE(r.seconds, 0) FROM model_versions m "
    "JOIN training_runs r ON r.id = m.run_id "
    "LEFT JOIN run_metrics x ON x.run_id = m.run_id AND x.fold = 0 AND x.split = 'validation' ");

ModelVersionRecord modelFrom(const QSqlQuery &q)
{
    ModelVersionRecord m;
    m.id = q.value(0).toLongLong();
    m.runId = q.value(1).toLongLong();
    m.encoderId = q.value(2).toLongLong();
    m.classes = stringsFrom(q.value(3).toString());
    m.acousticInputs = q.value(4).toBool();
    m.weightsHash = q.value(5).toString();
    m.active = q.value(6).toBool();
    m.createdAt = sql::timeFrom(q.value(7));
    m.recipe = q.value(8).toString();
    m.validationUa = q.value(9).toDouble();
    m.validationWa = q.value(10).toDouble();
    m.validationF1 = q.value(11).toDouble();
    m.validationClips = q.value(12).toInt();
    m.trainSeconds = q.value(13).toDouble();
    return m;
}

} // namespace

ModelRepository::ModelRepository(Database &db) : m_db(db) {}

Status ModelRepository::startRun(TrainingRunRecord *run)
{
    QSqlQuery q(m_db.connection());
    run->status = QStringLiteral("running");
    run->startedAt = QDateTime::currentDateTimeUtc();
    if (auto st = sql::run(
            q,
            QStringLiteral("INSERT INTO training_runs(kind, recipe, settings, seed, encoder_id, "
                           "label_snapshot, device, status, started_at, host, pid) "
                           "VALUES(?,?,?,?,?,?,?,?,?,?,?)"),
            {run->kind, run->recipe, run->settings, run->seed,
             run->encoderId > 0 ? QVariant(run->encoderId)
                                : QVariant(QMetaType(QMetaType::LongLong)),
             run->labelSnapshot, run->device, run->status,
             run->startedAt.toString(Qt::ISODateWithMs), QSysInfo::machineHostName(),
             qint64(::getpid())});
        !st)
        return st;
    run->id = q.lastInsertId().toLongLong();
    return Status::success();
}

Status ModelRepository::addEpoch(qint64 runId, const EpochRow &e)
{
    QSqlQuery q(m_db.connection());
    return sql::run(
        q,
        QStringLiteral("INSERT INTO training_epochs(run_id, fold, epoch, "
                       "train_loss, validation_loss, validation_ua, seconds) "
                       "VALUES(?,?,?,?,?,?,?) ON CONFLICT(run_id, fold, epoch) DO UPDATE SET "
                       "train_loss=excluded.train_loss, "
                       "validation_loss=excluded.validation_loss, "
                       "validation_ua=excluded.validation_ua, seconds=excluded.seconds"),
        {runId, e.fold, e.epoch, e.trainLoss, e.validationLoss, e.validationUa, e.seconds});
}

Status ModelRepository::resumeRun(qint64 runId, const QList<EpochRow> &epochs)
{
    Transaction tx(m_db);
    if (auto st = tx.begin(); !st)
        return st;
    QSqlQuery q(m_db.connection());
    if (auto st = sql::run(q,
                           QStringLiteral("UPDATE training_runs SET status='running', error='', "
                                          "finished_at=NULL, host=?, pid=? WHERE id=?"),
                           {QSysInfo::machineHostName(), qint64(::getpid()), runId});
        !st)
        return st;
    if (q.numRowsAffected() != 1)
        return Status::failure(QStringLiteral("no training run %1").arg(runId));
    if (auto st =
            sql::run(q, QStringLiteral("DELETE FROM training_epochs WHERE run_id=?"), {runId});
        !st)
        return st;
    for (const EpochRow &e : epochs)
        if (auto st = addEpoch(runId, e); !st)
            return st;
    return tx.commit();
}

Status ModelRepository::finishRun(qint64 runId, const QString &status, const QString &error,
                                  double seconds, const QList<MetricsRow> &metrics,
                                  const QList<RunPredictionRow> &clipPredictions)
{
    Transaction tx(m_db);
    if (auto st = tx.begin(); !st)
        return st;
    QSqlQuery q(m_db.connection());
    if (auto st = insertMetrics(q, runId, metrics); !st)
        return st;
    if (!clipPredictions.isEmpty()) {
        QSqlQuery insert(m_db.connection());
        if (!insert.prepare(QStringLiteral("INSERT INTO run_predictions(run_id, fold, "
                                           "utterance_id, truth, predicted, confidence) "
                                           "VALUES(?,?,?,?,?,?)")))
            return Status::failure(insert.lastError().text());
        for (const RunPredictionRow &p : clipPredictions)
            if (auto st = sql::rerun(
                    insert, {runId, p.fold, p.utteranceId, p.truth, p.predicted, p.confidence});
                !st)
                return st;
    }
    if (auto st = sql::run(q,
                           QStringLiteral("UPDATE training_runs SET status=?, error=?, "
                                          "finished_at=?, seconds=? WHERE id=?"),
                           {status, error, sql::nowUtc(), seconds, runId});
        !st)
        return st;
    return tx.commit();
}

Status ModelRepository::storeTrainedModel(qint64 runId, double seconds,
                                          const QList<MetricsRow> &metrics,
                                          const QByteArray &weights, ModelVersionRecord *model,
                                          const QList<PredictionRow> &predictions, bool makeActive,
                                          const QString &status)
{
    Transaction tx(m_db);
    if (auto st = tx.begin(); !st)
        return st;
    QSqlQuery q(m_db.connection());
    if (auto st = insertMetrics(q, runId, metrics); !st)
        return st;
    const QString now = sql::nowUtc();
    model->runId = runId;
    model->weightsHash =
        QString::fromLatin1(QCryptographicHash::hash(weights, QCryptographicHash::Sha256).toHex());
    if (makeActive)
        if (auto st = sql::run(q, QStringLiteral("UPDATE model_versions SET active=0")); !st)
            return st;
    if (auto st = sql::run(
            q,
            QStringLiteral("INSERT INTO model_versions(run_id, encoder_id, classes, "
                           "acoustic_inputs, weights, weights_hash, active, created_at) "
                           "VALUES(?,?,?,?,?,?,?,?)"),
            {runId,
             model->encoderId > 0 ? QVariant(model->encoderId)
                                  : QVariant(QMetaType(QMetaType::LongLong)),
             jsonText(QJsonArray::fromStringList(model->classes)), model->acousticInputs ? 1 : 0,
             weights, model->weightsHash, makeActive ? 1 : 0, now});
        !st)
        return st;
    model->id = q.lastInsertId().toLongLong();
    model->active = makeActive;
    QSqlQuery insert(m_db.connection());
    if (!insert.prepare(QStringLiteral("INSERT INTO predictions(model_id, utterance_id, "
                                       "content_hash, category, confidence, probabilities, "
                                       "created_at) VALUES(?,?,?,?,?,?,?)")))
        return Status::failure(insert.lastError().text());
    for (const PredictionRow &p : predictions) {
        const QByteArray blob(reinterpret_cast<const char *>(p.probabilities.data()),
                              qsizetype(p.probabilities.size() * sizeof(float)));
        if (auto st = sql::rerun(insert, {model->id, p.utteranceId, p.contentHash, p.category,
                                          p.confidence, blob, now});
            !st)
            return st;
    }
    if (auto st = sql::run(q,
                           QStringLiteral("UPDATE training_runs SET status=?, "
                                          "finished_at=?, seconds=? WHERE id=?"),
                           {status, now, seconds, runId});
        !st)
        return st;
    return tx.commit();
}

Status ModelRepository::storeBackbone(qint64 runId, double seconds, const QByteArray &weights,
                                      BackboneRecord *backbone)
{
    Transaction tx(m_db);
    if (auto st = tx.begin(); !st)
        return st;
    QSqlQuery q(m_db.connection());
    const QString now = sql::nowUtc();
    backbone->runId = runId;
    backbone->weightsHash =
        QString::fromLatin1(QCryptographicHash::hash(weights, QCryptographicHash::Sha256).toHex());
    if (auto st = sql::run(
            q,
            QStringLiteral("INSERT INTO pretrained_backbones(run_id, encoder_id, mode, "
                           "acoustic_inputs, backbone, clips, history, weights, weights_hash, "
                           "created_at) VALUES(?,?,?,?,?,?,?,?,?,?)"),
            {runId,
             backbone->encoderId > 0 ? QVariant(backbone->encoderId)
                                     : QVariant(QMetaType(QMetaType::LongLong)),
             backbone->mode, backbone->acousticInputs ? 1 : 0, backbone->backbone, backbone->clips,
             backbone->history, weights, backbone->weightsHash, now});
        !st)
        return st;
    backbone->id = q.lastInsertId().toLongLong();
    backbone->createdAt = sql::timeFrom(now);
    backbone->seconds = seconds;
    if (auto st = sql::run(q,
                           QStringLiteral("UPDATE training_runs SET status='succeeded', "
                                          "finished_at=?, seconds=? WHERE id=?"),
                           {now, seconds, runId});
        !st)
        return st;
    return tx.commit();
}

namespace {

const QString kBackboneColumns = QStringLiteral(
    "SELECT b.id, b.run_id, b.encoder_id, b.mode, b.acoustic_inputs, b.backbone, b.clips, "
    "b.history, b.weights_hash, b.created_at, r.seconds FROM pretrained_backbones b JOIN "
    "training_runs r ON r.id = b.run_id ");

BackboneRecord backboneFrom(const QSqlQuery &q)
{
    BackboneRecord b;
    b.id = q.value(0).toLongLong();
    b.runId = q.value(1).toLongLong();
    b.encoderId = q.value(2).toLongLong();
    b.mode = q.value(3).toString();
    b.acousticInputs = q.value(4).toInt() != 0;
    b.backbone = q.value(5).toString();
    b.clips = q.value(6).toInt();
    b.history = q.value(7).toString();
    b.weightsHash = q.value(8).toString();
    b.createdAt = sql::timeFrom(q.value(9));
    b.seconds = q.value(10).toDouble();
    return b;
}

} // namespace

QList<BackboneRecord> ModelRepository::backbones() const
{
    QList<BackboneRecord> out;
    QSqlQuery q(m_db.connection());
    if (sql::run(q, kBackboneColumns + QStringLiteral("ORDER BY b.id DESC")))
        while (q.next())
            out << backboneFrom(q);
    return out;
}

std::optional<BackboneRecord> ModelRepository::backbone(qint64 backboneId) const
{
    QSqlQuery q(m_db.connection());
    if (sql::run(q, kBackboneColumns + QStringLiteral("WHERE b.id=?"), {backboneId}) && q.next())
        return backboneFrom(q);
    return std::nullopt;
}

QByteArray ModelRepository::backboneWeights(qint64 backboneId) const
{
    QSqlQuery q(m_db.connection());
    if (sql::run(q, QStringLiteral("SELECT weights FROM pretrained_backbones WHERE id=?"),
                 {backboneId}) &&
        q.next())
        return q.value(0).toByteArray();
    return QByteArray();
}

Status ModelRepository::markInterruptedRuns(int *marked)
{
    if (marked)
        *marked = 0;
    QSqlQuery q(m_db.connection());
    if (auto st = sql::run(q, QStringLiteral("SELECT id, host, pid FROM training_runs WHERE "
                                             "status='running'"));
        !st)
        return st;
    QList<qint64> gone;
    const QString host = QSysInfo::machineHostName();
    while (q.next()) {
        const qint64 pid = q.value(2).toLongLong();
        // Another machine's run cannot be checked from here: it stays running.
        if (q.value(1).toString() != host)
            continue;
        const bool alive = pid > 0 && (::kill(pid_t(pid), 0) == 0 || errno == EPERM);
        if (!alive || pid == ::getpid())
            gone << q.value(0).toLongLong();
    }
    for (qint64 id : gone)
        if (auto st = finishRun(id, QStringLiteral("interrupted"),
                                QStringLiteral("the program ended while the run was going"), 0);
            !st)
            return st;
    if (marked)
        *marked = int(gone.size());
    return Status::success();
}

QList<TrainingRunRecord> ModelRepository::runs() const
{
    QList<TrainingRunRecord> out;
    QSqlQuery q(m_db.connection());
    if (sql::run(q, kRunColumns + QStringLiteral("ORDER BY id DESC")))
        while (q.next())
            out << runFrom(q);
    return out;
}

std::optional<TrainingRunRecord> ModelRepository::run(qint64 runId) const
{
    QSqlQuery q(m_db.connection());
    if (sql::run(q, kRunColumns + QStringLiteral("WHERE id=?"), {runId}) && q.next())
        return runFrom(q);
    return std::nullopt;
}

QList<EpochRow> ModelRepository::epochs(qint64 runId) const
{
    QList<EpochRow> out;
    QSqlQuery q(m_db.connection());
    if (sql::run(q,
                 QStringLiteral("SELECT fold, epoch, train_loss, validation_loss, validation_ua, "
                                "seconds FROM training_epochs WHERE run_id=? ORDER BY fold, "
                                "epoch"),
                 {runId}))
        while (q.next())
            out << EpochRow{q.value(0).toInt(),    q.value(1).toInt(),    q.value(2).toDouble(),
                            q.value(3).toDouble(), q.value(4).toDouble(), q.value(5).toDouble()};
    return out;
}

QList<MetricsRow> ModelRepository::metrics(qint64 runId) const
{
    QList<MetricsRow> out;
    QSqlQuery q(m_db.connection());
    if (sql::run(q,
                 QStringLiteral("SELECT fold, split, n, ua, wa, f1, labels, confusion FROM "
                                "run_metrics WHERE run_id=? ORDER BY fold, split"),
                 {runId}))
        while (q.next()) {
            MetricsRow m;
            m.fold = q.value(0).toInt();
            m.split = q.value(1).toString();
            m.n = q.value(2).toInt();
            m.ua = q.value(3).toDouble();
            m.wa = q.value(4).toDouble();
            m.f1 = q.value(5).toDouble();
            m.labels = stringsFrom(q.value(6).toString());
            m.confusion = confusionFrom(q.value(7).toString());
            out << m;
        }
    return out;
}

QList<RunPredictionRow> ModelRepository::runPredictions(qint64 runId, int fold) const
{
    QList<RunPredictionRow> out;
    QSqlQuery q(m_db.connection());
    const QString select = QStringLiteral("SELECT fold, utterance_id, truth, predicted, "
                                          "confidence FROM run_predictions WHERE run_id=? %1 "
                                          "ORDER BY fold, utterance_id");
    if (fold > 0 ? sql::run(q, select.arg(QStringLiteral("AND fold=?")), {runId, fold})
                 : sql::run(q, select.arg(QString()), {runId}))
        while (q.next())
            out << RunPredictionRow{q.value(0).toInt(), q.value(1).toLongLong(),
                                    q.value(2).toString(), q.value(3).toString(),
                                    q.value(4).toDouble()};
    return out;
}

QList<ModelVersionRecord> ModelRepository::models() const
{
    QList<ModelVersionRecord> out;
    QSqlQuery q(m_db.connection());
    if (sql::run(q, kModelColumns + QStringLiteral("ORDER BY m.id DESC")))
        while (q.next())
            out << modelFrom(q);
    return out;
}

std::optional<ModelVersionRecord> ModelRepository::model(qint64 modelId) const
{
    QSqlQuery q(m_db.connection());
    if (sql::run(q, kModelColumns + QStringLiteral("WHERE m.id=?"), {modelId}) && q.next())
        return modelFrom(q);
    return std::nullopt;
}

std::optional<ModelVersionRecord> ModelRepository::activeModel() const
{
    QSqlQuery q(m_db.connection());
    if (sql::run(q, kModelColumns + QStringLiteral("WHERE m.active=1")) && q.next())
        return modelFrom(q);
    return std::nullopt;
}

QByteArray ModelRepository::weights(qint64 modelId) const
{
    QSqlQuery q(m_db.connection());
    if (sql::run(q, QStringLiteral("SELECT weights FROM model_versions WHERE id=?"), {modelId}) &&
        q.next())
        return q.value(0).toByteArray();
    return QByteArray();
}

Status ModelRepository::setActive(qint64 modelId)
{
    if (!model(modelId))
        return Status::failure(
            QStringLiteral("no model version %1 in this workspace").arg(modelId));
    Transaction tx(m_db);
    if (auto st = tx.begin(); !st)
        return st;
    QSqlQuery q(m_db.connection());
    if (auto st = sql::run(q, QStringLiteral("UPDATE model_versions SET active=(id=?)"), {modelId});
        !st)
        return st;
    return tx.commit();
}

Status ModelRepository::removeBackbone(qint64 backboneId)
{
    QSqlQuery q(m_db.connection());
    return sql::run(q, QStringLiteral("DELETE FROM pretrained_backbones WHERE id=?"), {backboneId});
}

Status ModelRepository::removeModel(qint64 modelId)
{
    QSqlQuery q(m_db.connection());
    return sql::run(q, QStringLiteral("DELETE FROM model_versions WHERE id=?"), {modelId});
}

QHash<qint64, PredictionRow> ModelRepository::predictions(qint64 modelId) const
{
    QHash<qint64, PredictionRow> out;
    QSqlQuery q(m_db.connection());
    if (!sql::run(q,
                  QStringLiteral("SELECT p.utterance_id, p.content_hash, p.category, p.confidence, "
                                 "p.probabilities FROM predictions p JOIN utterances u ON "
                                 "u.id = p.utterance_id AND u.content_hash = p.content_hash "
                                 "WHERE p.model_id=?"),
                  {modelId}))
        return out;
    while (q.next()) {
        PredictionRow p;
        p.utteranceId = q.value(0).toLongLong();
        p.contentHash = q.value(1).toString();
        p.category = q.value(2).toString();
        p.confidence = q.value(3).toDouble();
        const QByteArray blob = q.value(4).toByteArray();
        p.probabilities.resize(std::size_t(blob.size()) / sizeof(float));
        std::memcpy(p.probabilities.data(), blob.constData(),
                    p.probabilities.size() * sizeof(float));
        out.insert(p.utteranceId, p);
    }
    return out;
}

} // namespace emolens
