#include "store/LabelRepository.h"

#include "store/Database.h"
#include "store/SqlHelpers.h"

#include <QSqlQuery>
#include <cmath>

namespace emolens {

namespace {

const QString kLabelColumns = QStringLiteral(
    "l.id, l.utterance_id, l.schema_id, l.annotator_id, a.name, l.created_at, l.category, "
    "l.dimensions, l.confidence, l.notes");

LabelRecord labelFrom(const QSqlQuery &q)
{
    LabelRecord r;
    r.id = q.value(0).toLongLong();
    r.utteranceId = q.value(1).toLongLong();
    r.schemaId = q.value(2).toLongLong();
    r.annotatorId = q.value(3).toLongLong();
    r.annotatorName = q.value(4).toString();
    r.createdAt = sql::timeFrom(q.value(5));
    r.value.category = q.value(6).toString();
    r.value.dimensions = sql::dimensionsFromJson(q.value(7).toString());
    r.value.confidence = q.value(8).isNull() ? std::nan("") : q.value(8).toDouble();
    r.value.notes = q.value(9).toString();
    return r;
}

} // namespace

LabelRepository::LabelRepository(Database &db) : m_db(db) {}

std::optional<LabelSchema> LabelRepository::schema(qint64 schemaId) const
{
    QSqlQuery q(m_db.connection());
    if (!sql::run(q,
                  QStringLiteral("SELECT id, name, classes, scales FROM label_schemas WHERE id=?"),
                  {schemaId}) ||
        !q.next())
        return std::nullopt;
    LabelSchema s;
    s.id = q.value(0).toLongLong();
    s.name = q.value(1).toString();
    s.classes = sql::schemaClassesFromJson(q.value(2).toString());
    s.scales = sql::schemaScalesFromJson(q.value(3).toString());
    return s;
}

std::optional<LabelSchema> LabelRepository::schemaForUtterance(qint64 utteranceId) const
{
    QSqlQuery q(m_db.connection());
    if (!sql::run(q,
                  QStringLiteral("SELECT c.label_schema_id FROM utterances u JOIN corpora c ON "
                                 "c.id=u.corpus_id WHERE u.id=?"),
                  {utteranceId}) ||
        !q.next())
        return std::nullopt;
    return schema(q.value(0).toLongLong());
}

qint64 LabelRepository::ensureAnnotator(const QString &name)
{
    QSqlQuery q(m_db.connection());
    if (sql::run(q, QStringLiteral("SELECT id FROM annotators WHERE name=?"), {name}) && q.next())
        return q.value(0).toLongLong();
    if (!sql::run(q, QStringLiteral("INSERT INTO annotators(name, created_at) VALUES(?, ?)"),
                  {name, sql::nowUtc()}))
        return 0;
    return q.lastInsertId().toLongLong();
}

QStringList LabelRepository::annotators() const
{
    QStringList out;
    QSqlQuery q(m_db.connection());
    if (sql::run(q, QStringLiteral("SELECT name FROM annotators ORDER BY name")))
        while (q.next())
            out << q.value(0).toString();
    return out;
}

Status LabelRepository::setLabel(qint64 utteranceId, qint64 schemaId, const QString &annotator,
                                 const LabelValue &value, qint64 *newRecordId)
{
    if (annotator.trimmed().isEmpty())
        return Status::failure(QStringLiteral("a label needs an annotator name"));
    if (!std::isnan(value.confidence) && (value.confidence < 0 || value.confidence > 1))
        return Status::failure(QStringLiteral("confidence must be between 0 and 1"));
    Transaction tx(m_db);
    if (auto st = tx.begin(); !st)
        return st;
    const qint64 annotatorId = ensureAnnotator(annotator.trimmed());
    if (annotatorId == 0)
        return Status::failure(QStringLiteral("cannot record the annotator %1").arg(annotator));
    QSqlQuery q(m_db.connection());
    const QVariant confidence =
        std::isnan(value.confidence) ? QVariant(QMetaType(QMetaType::Double)) : value.confidence;
    if (auto st =
            sql::run(q,
                     QStringLiteral("INSERT INTO labels(utterance_id, schema_id, annotator_id, "
                                    "created_at, category, dimensions, confidence, notes) "
                                    "VALUES(?,?,?,?,?,?,?,?)"),
                     {utteranceId, schemaId, annotatorId, sql::nowUtc(), value.category,
                      sql::dimensionsToJson(value.dimensions), confidence, value.notes});
        !st)
        return Status::failure(QStringLiteral("cannot store the label: %1").arg(st.error()));
    const qint64 id = q.lastInsertId().toLongLong();
    if (auto st = tx.commit(); !st)
        return st;
    if (newRecordId)
        *newRecordId = id;
    return Status::success();
}

std::optional<LabelRecord> LabelRepository::currentLabel(qint64 utteranceId, qint64 schemaId,
                                                         const QString &annotator) const
{
    QSqlQuery q(m_db.connection());
    if (!sql::run(q,
                  QStringLiteral("SELECT %1 FROM labels l JOIN annotators a ON a.id=l.annotator_id "
                                 "WHERE l.utterance_id=? AND l.schema_id=? AND a.name=? "
                                 "ORDER BY l.id DESC LIMIT 1")
                      .arg(kLabelColumns),
                  {utteranceId, schemaId, annotator}) ||
        !q.next())
        return std::nullopt;
    return labelFrom(q);
}

std::optional<LabelRecord> LabelRepository::latestLabel(qint64 utteranceId, qint64 schemaId) const
{
    QSqlQuery q(m_db.connection());
    const QString text =
        QStringLiteral("SELECT %1 FROM labels l JOIN annotators a ON a.id=l.annotator_id "
                       "WHERE l.id IN (SELECT max(id) FROM labels WHERE utterance_id=? AND "
                       "schema_id=? GROUP BY annotator_id) "
                       "AND (l.category<>'' OR l.dimensions<>'{}') ORDER BY l.id DESC LIMIT 1")
            .arg(kLabelColumns);
    if (!sql::run(q, text, {utteranceId, schemaId}) || !q.next())
        return std::nullopt;
    return labelFrom(q);
}

QList<LabelRecord> LabelRepository::history(qint64 utteranceId) const
{
    QList<LabelRecord> out;
    QSqlQuery q(m_db.connection());
    if (sql::run(q,
                 QStringLiteral("SELECT %1 FROM labels l JOIN annotators a ON a.id=l.annotator_id "
                                "WHERE l.utterance_id=? ORDER BY l.id")
                     .arg(kLabelColumns),
                 {utteranceId}))
        while (q.next())
            out.append(labelFrom(q));
    return out;
}

QHash<qint64, LabelRepository::ShownLabel> LabelRepository::shownLabels(qint64 corpusId) const
{
    // Each annotator's current row per utterance (in the corpus's own schema), then the newest
    // non-empty one wins. One pass over the index, no per-utterance queries.
    QHash<qint64, ShownLabel> out;
    QSqlQuery q(m_db.connection());
    q.setForwardOnly(true);
    const QString text = QStringLiteral(
        "SELECT l.utterance_id, l.id, l.category, a.name FROM labels l "
        "JOIN annotators a ON a.id=l.annotator_id "
        "WHERE l.id IN (SELECT max(l2.id) FROM labels l2 JOIN utterances u ON u.id=l2.utterance_id "
        "  JOIN corpora c ON c.id=u.corpus_id AND c.label_schema_id=l2.schema_id "
        "  WHERE (?=0 OR u.corpus_id=?) GROUP BY l2.utterance_id, l2.annotator_id) "
        "AND l.category<>''");
    if (!sql::run(q, text, {corpusId, corpusId}))
        return out;
    while (q.next()) {
        const qint64 utteranceId = q.value(0).toLongLong();
        const qint64 labelId = q.value(1).toLongLong();
        auto it = out.find(utteranceId);
        if (it == out.end() || it->labelId < labelId)
            out.insert(utteranceId, {labelId, q.value(2).toString(), q.value(3).toString()});
    }
    return out;
}

QMap<QString, int> LabelRepository::labelCounts(qint64 corpusId) const
{
    QMap<QString, int> counts;
    const auto shown = shownLabels(corpusId);
    for (const ShownLabel &s : shown)
        ++counts[s.category];
    return counts;
}

} // namespace emolens
