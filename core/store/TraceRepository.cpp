#include "store/TraceRepository.h"

#include "store/Database.h"
#include "store/LabelRepository.h"
#include "store/SqlHelpers.h"

#include <QSqlQuery>
#include <QtEndian>
#include <cmath>

namespace emolens {

namespace {

QByteArray samplesBlob(const std::vector<float> &samples)
{
    QByteArray blob(qsizetype(samples.size()) * 4, Qt::Uninitialized);
    char *out = blob.data();
    for (float v : samples) {
        qToLittleEndian<float>(v, out);
        out += 4;
    }
    return blob;
}

std::vector<float> samplesFrom(const QByteArray &blob)
{
    std::vector<float> samples(std::size_t(blob.size() / 4));
    const char *in = blob.constData();
    for (float &v : samples) {
        v = qFromLittleEndian<float>(in);
        in += 4;
    }
    return samples;
}

const QString kSelect =
    QStringLiteral("SELECT t.id, t.utterance_id, t.annotator_id, a.name, t.dimension, t.rate_hz, "
                   "t.start_seconds, t.samples, t.input, t.created_at FROM traces t "
                   "JOIN annotators a ON a.id=t.annotator_id ");

} // namespace

Status TraceRepository::addTrace(TraceRecord *trace)
{
    const QString name = trace->annotatorName.trimmed();
    const QString dimension = trace->dimension.trimmed();
    if (name.isEmpty())
        return Status::failure(QStringLiteral("a trace needs an annotator name"));
    if (dimension.isEmpty())
        return Status::failure(QStringLiteral("a trace needs a dimension (e.g. arousal)"));
    if (!(trace->rateHz > 0) || !std::isfinite(trace->rateHz))
        return Status::failure(QStringLiteral("a trace needs a positive sampling rate"));
    if (!std::isfinite(trace->startSeconds) || trace->startSeconds < 0)
        return Status::failure(QStringLiteral("a trace cannot start before the clip"));
    if (trace->samples.empty())
        return Status::failure(QStringLiteral("the trace has no samples"));
    for (std::size_t i = 0; i < trace->samples.size(); ++i) {
        const float v = trace->samples[i];
        if (!std::isnan(v) && (v < -1.f || v > 1.f))
            return Status::failure(
                QStringLiteral("trace value %1 at sample %2 is outside -1..1").arg(v).arg(i));
    }
    Transaction tx(m_db);
    if (auto st = tx.begin(); !st)
        return st;
    QSqlQuery q(m_db.connection());
    if (auto st = sql::run(q, QStringLiteral("SELECT 1 FROM utterances WHERE id=?"),
                           {trace->utteranceId});
        !st || !q.next())
        return Status::failure(
            QStringLiteral("no clip with id %1 in this workspace").arg(trace->utteranceId));
    QString why;
    const qint64 annotatorId =
        LabelRepository(m_db).ensureAnnotator(name, AnnotatorKind::Person, &why);
    if (annotatorId == 0)
        return Status::failure(QStringLiteral("cannot record the annotator %1: %2").arg(name, why));
    const QString now = sql::nowUtc();
    if (auto st = sql::run(q,
                           QStringLiteral("INSERT INTO traces(utterance_id, annotator_id, "
                                          "dimension, rate_hz, start_seconds, samples, input, "
                                          "created_at) VALUES(?,?,?,?,?,?,?,?)"),
                           {trace->utteranceId, annotatorId, dimension, trace->rateHz,
                            trace->startSeconds, samplesBlob(trace->samples), trace->input, now});
        !st)
        return Status::failure(QStringLiteral("cannot store the trace: %1").arg(st.error()));
    const qint64 id = q.lastInsertId().toLongLong();
    if (auto st = tx.commit(); !st)
        return st;
    trace->id = id;
    trace->annotatorId = annotatorId;
    trace->annotatorName = name;
    trace->dimension = dimension;
    trace->createdAt = sql::timeFrom(now);
    return Status::success();
}

Status TraceRepository::read(const QString &where, const QVariantList &values,
                             QList<TraceRecord> *out) const
{
    out->clear();
    QSqlQuery q(m_db.connection());
    q.setForwardOnly(true);
    if (!q.prepare(kSelect + where))
        return Status::failure(
            QStringLiteral("cannot read the traces: %1").arg(q.lastError().text()));
    for (const QVariant &v : values)
        q.addBindValue(v);
    if (!q.exec())
        return Status::failure(
            QStringLiteral("cannot read the traces: %1").arg(q.lastError().text()));
    while (q.next()) {
        TraceRecord r;
        r.id = q.value(0).toLongLong();
        r.utteranceId = q.value(1).toLongLong();
        r.annotatorId = q.value(2).toLongLong();
        r.annotatorName = q.value(3).toString();
        r.dimension = q.value(4).toString();
        r.rateHz = q.value(5).toDouble();
        r.startSeconds = q.value(6).toDouble();
        r.samples = samplesFrom(q.value(7).toByteArray());
        r.input = q.value(8).toString();
        r.createdAt = sql::timeFrom(q.value(9));
        out->append(std::move(r));
    }
    return Status::success();
}

Status TraceRepository::currentTraces(qint64 utteranceId, QList<TraceRecord> *out) const
{
    return read(QStringLiteral("WHERE t.id IN (SELECT max(id) FROM traces WHERE utterance_id=? "
                               "GROUP BY dimension, annotator_id) ORDER BY t.dimension, a.name"),
                {utteranceId}, out);
}

Status TraceRepository::allCurrentTraces(qint64 corpusId, QList<TraceRecord> *out) const
{
    return read(QStringLiteral("WHERE t.id IN (SELECT max(t2.id) FROM traces t2 "
                               "JOIN utterances u ON u.id=t2.utterance_id "
                               "WHERE (?=0 OR u.corpus_id=?) "
                               "GROUP BY t2.utterance_id, t2.dimension, t2.annotator_id) "
                               "ORDER BY t.utterance_id, t.dimension, a.name"),
                {corpusId, corpusId}, out);
}

Status TraceRepository::history(qint64 utteranceId, QList<TraceRecord> *out) const
{
    return read(QStringLiteral("WHERE t.utterance_id=? ORDER BY t.id"), {utteranceId}, out);
}

} // namespace emolens
