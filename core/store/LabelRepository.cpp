#include "store/LabelRepository.h"

#include "store/Database.h"
#include "store/SqlHelpers.h"

#include <QSet>
#include <QSqlQuery>
#include <algorithm>
#include <cmath>
#include <limits>

namespace emolens {

namespace {

const QString kLabelColumns = QStringLiteral(
    "l.id, l.utterance_id, l.schema_id, l.annotator_id, a.name, l.created_at, l.category, "
    "l.dimensions, l.confidence, l.notes, a.kind, l.action, l.changed");

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
    r.annotatorKind = annotatorKindFromName(q.value(10).toString());
    r.action = labelActionFromName(q.value(11).toString());
    const QString changed = q.value(12).toString();
    if (!changed.isEmpty())
        r.changed = changed.split(QLatin1Char(','));
    return r;
}

bool sameConfidence(double a, double b)
{
    return (std::isnan(a) && std::isnan(b)) || a == b;
}

// The parts of a judgement that differ between two values, in a fixed order.
QStringList changedParts(const LabelValue &before, const LabelValue &after)
{
    QStringList parts;
    if (before.category != after.category)
        parts << QStringLiteral("category");
    QStringList scales = before.dimensions.keys() + after.dimensions.keys();
    scales.removeDuplicates();
    std::sort(scales.begin(), scales.end());
    for (const QString &scale : scales)
        if (before.dimensions.contains(scale) != after.dimensions.contains(scale) ||
            before.dimensions.value(scale) != after.dimensions.value(scale))
            parts << scale;
    if (!sameConfidence(before.confidence, after.confidence))
        parts << QStringLiteral("confidence");
    if (before.notes != after.notes)
        parts << QStringLiteral("notes");
    return parts;
}

// One annotator's newest row in one label set, as the shown-label rule reads it.
struct Candidate
{
    qint64 labelId = 0;
    qint64 schemaId = 0;
    qint64 corpusSchemaId = 0; // the corpus's current label set
    QString category;
    QMap<QString, double> dimensions;
    QString annotator;
    AnnotatorKind kind = AnnotatorKind::Person;
};

// The rule of the header, over every candidate row of one utterance.
ShownLabel chooseShown(qint64 utteranceId, const QList<Candidate> &rows,
                       const QHash<qint64, QStringList> &classesBySchema)
{
    ShownLabel shown;
    shown.utteranceId = utteranceId;
    // Each person's current judgement: their newest row in any label set.
    QHash<QString, const Candidate *> people;
    const Candidate *corpus = nullptr;
    for (const Candidate &c : rows) {
        if (c.kind == AnnotatorKind::Person) {
            const Candidate *&mine = people[c.annotator];
            if (!mine || mine->labelId < c.labelId)
                mine = &c;
            continue;
        }
        // The corpus's label in its current label set wins over older mappings.
        const bool current = c.schemaId == c.corpusSchemaId;
        const bool corpusCurrent = corpus && corpus->schemaId == corpus->corpusSchemaId;
        if (!corpus || (current && !corpusCurrent) ||
            (current == corpusCurrent && corpus->labelId < c.labelId))
            corpus = &c;
    }
    QList<const Candidate *> newestFirst = people.values();
    std::sort(newestFirst.begin(), newestFirst.end(),
              [](const Candidate *a, const Candidate *b) { return a->labelId > b->labelId; });
    for (const Candidate *c : std::as_const(newestFirst)) {
        if (!c->category.isEmpty()) {
            shown.peopleCategories.insert(c->annotator, c->category);
            if (shown.origin == LabelOrigin::None) {
                shown.origin = LabelOrigin::Person;
                shown.category = c->category;
                shown.givenBy = c->annotator;
                shown.labelId = c->labelId;
            }
        }
        for (auto it = c->dimensions.cbegin(); it != c->dimensions.cend(); ++it)
            if (!shown.dimensions.contains(it.key()))
                shown.dimensions.insert(it.key(), it.value());
    }
    if (corpus) {
        if (shown.origin == LabelOrigin::None && !corpus->category.isEmpty()) {
            shown.origin = LabelOrigin::Corpus;
            shown.category = corpus->category;
            shown.givenBy = corpus->annotator;
            shown.labelId = corpus->labelId;
        }
        for (auto it = corpus->dimensions.cbegin(); it != corpus->dimensions.cend(); ++it)
            if (!shown.dimensions.contains(it.key()))
                shown.dimensions.insert(it.key(), it.value());
    }
    if (shown.origin != LabelOrigin::None && !rows.isEmpty()) {
        const auto classes = classesBySchema.constFind(rows.first().corpusSchemaId);
        shown.inLabelSet =
            classes == classesBySchema.constEnd() || classes->contains(shown.category);
    }
    return shown;
}

} // namespace

LabelRepository::LabelRepository(Database &db) : m_db(db) {}

QString LabelRepository::corpusAnnotatorName(const QString &corpusName)
{
    return QStringLiteral("corpus:") + corpusName;
}

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

qint64 LabelRepository::ensureAnnotator(const QString &name, AnnotatorKind kind, QString *error)
{
    QSqlQuery q(m_db.connection());
    if (auto st =
            sql::run(q, QStringLiteral("SELECT id, kind FROM annotators WHERE name=?"), {name});
        !st) {
        if (error)
            *error = st.error();
        return 0;
    }
    if (q.next()) {
        if (annotatorKindFromName(q.value(1).toString()) != kind) {
            if (error)
                *error = QStringLiteral("the name %1 belongs to a corpus's own labels").arg(name);
            return 0;
        }
        return q.value(0).toLongLong();
    }
    if (auto st = sql::run(
            q, QStringLiteral("INSERT INTO annotators(name, created_at, kind) VALUES(?, ?, ?)"),
            {name, sql::nowUtc(), annotatorKindName(kind)});
        !st) {
        if (error)
            *error = st.error();
        return 0;
    }
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

std::optional<AnnotatorKind> LabelRepository::annotatorKind(const QString &name) const
{
    QSqlQuery q(m_db.connection());
    if (sql::run(q, QStringLiteral("SELECT kind FROM annotators WHERE name=?"), {name}) && q.next())
        return annotatorKindFromName(q.value(0).toString());
    return std::nullopt;
}

Status LabelRepository::setLabel(qint64 utteranceId, qint64 schemaId, const QString &annotator,
                                 const LabelValue &value, qint64 *newRecordId, LabelAction action,
                                 const QString &clientKey)
{
    const QString name = annotator.trimmed();
    if (name.isEmpty())
        return Status::failure(QStringLiteral("a label needs an annotator name"));
    if (!std::isnan(value.confidence) && (value.confidence < 0 || value.confidence > 1))
        return Status::failure(QStringLiteral("confidence must be between 0 and 1"));
    Transaction tx(m_db);
    if (auto st = tx.begin(); !st)
        return st;
    if (!clientKey.isEmpty()) {
        QSqlQuery known(m_db.connection());
        if (auto st = sql::run(known, QStringLiteral("SELECT id FROM labels WHERE client_key=?"),
                               {clientKey});
            !st)
            return Status::failure(QStringLiteral("cannot store the label: %1").arg(st.error()));
        if (known.next()) {
            if (newRecordId)
                *newRecordId = known.value(0).toLongLong();
            return Status::success(); // written before: once is enough
        }
    }
    QString why;
    const qint64 annotatorId = ensureAnnotator(name, AnnotatorKind::Person, &why);
    if (annotatorId == 0)
        return Status::failure(QStringLiteral("cannot record the annotator %1: %2").arg(name, why));
    // What changed, against the current judgement read inside this transaction.
    const std::optional<LabelRecord> before = currentLabel(utteranceId, name);
    const QStringList changed =
        before ? changedParts(before->value, value) : changedParts(LabelValue(), value);
    QSqlQuery q(m_db.connection());
    const QVariant confidence =
        std::isnan(value.confidence) ? QVariant(QMetaType(QMetaType::Double)) : value.confidence;
    // A write without a key leaves the column out: it is also how a workspace opened at an
    // older schema (the migration tests) is written.
    const bool keyed = !clientKey.isEmpty();
    QVariantList values = {utteranceId,
                           schemaId,
                           annotatorId,
                           sql::nowUtc(),
                           value.category,
                           sql::dimensionsToJson(value.dimensions),
                           confidence,
                           value.notes,
                           labelActionName(action),
                           changed.join(QLatin1Char(','))};
    if (keyed)
        values << clientKey;
    if (!q.prepare(QStringLiteral("INSERT INTO labels(utterance_id, schema_id, annotator_id, "
                                  "created_at, category, dimensions, confidence, notes, action, "
                                  "changed%1) VALUES(?,?,?,?,?,?,?,?,?,?%2)")
                       .arg(keyed ? QStringLiteral(", client_key") : QString(),
                            keyed ? QStringLiteral(",?") : QString())))
        return Status::failure(
            QStringLiteral("cannot store the label: %1").arg(q.lastError().text()));
    for (const QVariant &v : std::as_const(values))
        q.addBindValue(sql::bindable(v));
    if (!q.exec())
        return Status::failure(
            QStringLiteral("cannot store the label: %1").arg(q.lastError().text()));
    const qint64 id = q.lastInsertId().toLongLong();
    if (auto st = tx.commit(); !st)
        return st;
    if (newRecordId)
        *newRecordId = id;
    return Status::success();
}

std::optional<LabelRecord> LabelRepository::currentLabel(qint64 utteranceId,
                                                         const QString &annotator) const
{
    QSqlQuery q(m_db.connection());
    if (!sql::run(q,
                  QStringLiteral("SELECT %1 FROM labels l JOIN annotators a ON a.id=l.annotator_id "
                                 "WHERE l.utterance_id=? AND a.name=? ORDER BY l.id DESC LIMIT 1")
                      .arg(kLabelColumns),
                  {utteranceId, annotator}) ||
        !q.next())
        return std::nullopt;
    return labelFrom(q);
}

namespace {

// Every annotator's newest row per label set, for one utterance (utteranceId > 0) or for
// the utterances of a corpus (corpusId; 0: all), grouped by utterance.
Status readCandidates(Database &db, qint64 utteranceId, qint64 corpusId,
                      QHash<qint64, QList<Candidate>> *out,
                      QHash<qint64, QStringList> *classesBySchema)
{
    QSqlQuery q(db.connection());
    q.setForwardOnly(true);
    if (auto st = sql::run(q, QStringLiteral("SELECT id, classes FROM label_schemas")); !st)
        return st;
    while (q.next())
        classesBySchema->insert(q.value(0).toLongLong(),
                                sql::schemaClassesFromJson(q.value(1).toString()));
    const QString scope = utteranceId > 0
                              ? QStringLiteral("WHERE l2.utterance_id=?")
                              : QStringLiteral("JOIN utterances u2 ON u2.id=l2.utterance_id "
                                               "WHERE (?=0 OR u2.corpus_id=?)");
    const QString text =
        QStringLiteral(
            "SELECT l.utterance_id, l.id, l.schema_id, c.label_schema_id, l.category, "
            "l.dimensions, a.name, a.kind FROM labels l "
            "JOIN annotators a ON a.id=l.annotator_id "
            "JOIN utterances u ON u.id=l.utterance_id JOIN corpora c ON c.id=u.corpus_id "
            "WHERE l.id IN (SELECT max(l2.id) FROM labels l2 %1 "
            "GROUP BY l2.utterance_id, l2.annotator_id, l2.schema_id)")
            .arg(scope);
    if (auto st = utteranceId > 0 ? sql::run(q, text, {utteranceId})
                                  : sql::run(q, text, {corpusId, corpusId});
        !st)
        return st;
    while (q.next()) {
        Candidate c;
        c.labelId = q.value(1).toLongLong();
        c.schemaId = q.value(2).toLongLong();
        c.corpusSchemaId = q.value(3).toLongLong();
        c.category = q.value(4).toString();
        const QString dimensions = q.value(5).toString();
        if (dimensions != QLatin1String("{}"))
            c.dimensions = sql::dimensionsFromJson(dimensions);
        c.annotator = q.value(6).toString();
        c.kind = annotatorKindFromName(q.value(7).toString());
        (*out)[q.value(0).toLongLong()].append(c);
    }
    return Status::success();
}

} // namespace

ShownLabel LabelRepository::shownLabel(qint64 utteranceId) const
{
    QHash<qint64, QList<Candidate>> rows;
    QHash<qint64, QStringList> classes;
    if (!readCandidates(m_db, utteranceId, 0, &rows, &classes)) {
        ShownLabel none;
        none.utteranceId = utteranceId;
        return none;
    }
    return chooseShown(utteranceId, rows.value(utteranceId), classes);
}

ShownLabel LabelRepository::shownLabelWith(qint64 utteranceId, const QString &annotator,
                                           const LabelValue &value) const
{
    QHash<qint64, QList<Candidate>> rows;
    QHash<qint64, QStringList> classes;
    readCandidates(m_db, utteranceId, 0, &rows, &classes);
    QList<Candidate> candidates = rows.value(utteranceId);
    candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                    [&](const Candidate &c) {
                                        return c.kind == AnnotatorKind::Person &&
                                               c.annotator == annotator;
                                    }),
                     candidates.end());
    Candidate mine;
    mine.labelId = std::numeric_limits<qint64>::max(); // newer than any stored row
    mine.category = value.category;
    mine.dimensions = value.dimensions;
    mine.annotator = annotator;
    mine.kind = AnnotatorKind::Person;
    // The corpus's current label set rides on every candidate; the unsaved one has it too.
    if (const auto set = schemaForUtterance(utteranceId)) {
        mine.corpusSchemaId = mine.schemaId = set->id;
        classes.insert(set->id, set->classes);
    }
    candidates.prepend(mine);
    return chooseShown(utteranceId, candidates, classes);
}

Status LabelRepository::shownLabels(qint64 corpusId, QHash<qint64, ShownLabel> *out) const
{
    out->clear();
    QHash<qint64, QList<Candidate>> rows;
    QHash<qint64, QStringList> classes;
    if (auto st = readCandidates(m_db, 0, corpusId, &rows, &classes); !st)
        return Status::failure(QStringLiteral("cannot read the labels: %1").arg(st.error()));
    out->reserve(rows.size());
    for (auto it = rows.cbegin(); it != rows.cend(); ++it) {
        ShownLabel shown = chooseShown(it.key(), it.value(), classes);
        if (shown.origin != LabelOrigin::None || !shown.dimensions.isEmpty())
            out->insert(it.key(), shown);
    }
    return Status::success();
}

QHash<qint64, ShownLabel> LabelRepository::shownLabels(qint64 corpusId) const
{
    QHash<qint64, ShownLabel> out;
    shownLabels(corpusId, &out);
    return out;
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

Status LabelRepository::currentJudgements(qint64 corpusId, QList<LabelRecord> *out) const
{
    out->clear();
    QSqlQuery q(m_db.connection());
    q.setForwardOnly(true);
    if (auto st = sql::run(
            q,
            QStringLiteral("SELECT %1 FROM labels l JOIN annotators a ON a.id=l.annotator_id "
                           "WHERE l.id IN (SELECT max(l2.id) FROM labels l2 "
                           "JOIN utterances u2 ON u2.id=l2.utterance_id "
                           "WHERE (?=0 OR u2.corpus_id=?) "
                           "GROUP BY l2.utterance_id, l2.annotator_id) "
                           "ORDER BY l.utterance_id, a.name")
                .arg(kLabelColumns),
            {corpusId, corpusId});
        !st)
        return Status::failure(QStringLiteral("cannot read the labels: %1").arg(st.error()));
    while (q.next())
        out->append(labelFrom(q));
    return Status::success();
}

Status LabelRepository::labelsAfter(qint64 afterId, int limit, QList<StoredRow> *out) const
{
    out->clear();
    QSqlQuery q(m_db.connection());
    q.setForwardOnly(true);
    if (auto st = sql::run(q,
                           QStringLiteral("SELECT l.id, l.utterance_id, a.name FROM labels l "
                                          "JOIN annotators a ON a.id=l.annotator_id "
                                          "WHERE l.id > ? ORDER BY l.id LIMIT ?"),
                           {afterId, limit});
        !st)
        return Status::failure(QStringLiteral("cannot read the labels: %1").arg(st.error()));
    while (q.next())
        out->append({q.value(0).toLongLong(), q.value(1).toLongLong(), q.value(2).toString()});
    return Status::success();
}

Status LabelRepository::newestLabelId(qint64 *out) const
{
    *out = 0;
    QSqlQuery q(m_db.connection());
    if (auto st = sql::run(q, QStringLiteral("SELECT max(id) FROM labels"), {}); !st)
        return Status::failure(QStringLiteral("cannot read the labels: %1").arg(st.error()));
    if (q.next())
        *out = q.value(0).toLongLong();
    return Status::success();
}

Status LabelRepository::judgements(qint64 utteranceId, const QString &annotator,
                                   ClipJudgements *out) const
{
    *out = ClipJudgements();
    QSqlQuery q(m_db.connection());
    if (auto st = sql::run(q,
                           QStringLiteral("SELECT %1, c.label_schema_id, s.classes FROM labels l "
                                          "JOIN annotators a ON a.id=l.annotator_id "
                                          "JOIN utterances u ON u.id=l.utterance_id "
                                          "JOIN corpora c ON c.id=u.corpus_id "
                                          "LEFT JOIN label_schemas s ON s.id=c.label_schema_id "
                                          "WHERE l.utterance_id=? ORDER BY l.id")
                               .arg(kLabelColumns),
                           {utteranceId});
        !st)
        return Status::failure(QStringLiteral("cannot read the labels: %1").arg(st.error()));
    // The history holds every row, so the shown label comes from it under the same rule:
    // each annotator's newest row per label set is a candidate.
    QHash<QPair<QString, qint64>, int> newest; // (annotator, label set) -> candidate index
    QList<Candidate> candidates;
    QHash<qint64, QStringList> classes;
    while (q.next()) {
        const LabelRecord r = labelFrom(q);
        out->history.append(r);
        const qint64 corpusSchemaId = q.value(13).toLongLong();
        classes.insert(corpusSchemaId, sql::schemaClassesFromJson(q.value(14).toString()));
        Candidate c;
        c.labelId = r.id;
        c.schemaId = r.schemaId;
        c.corpusSchemaId = corpusSchemaId;
        c.category = r.value.category;
        c.dimensions = r.value.dimensions;
        c.annotator = r.annotatorName;
        c.kind = r.annotatorKind;
        const auto key = qMakePair(r.annotatorName, r.schemaId);
        const auto at = newest.constFind(key);
        if (at == newest.constEnd()) {
            newest.insert(key, int(candidates.size()));
            candidates.append(c);
        } else {
            candidates[*at] = c; // rows come oldest first
        }
        if (r.annotatorName == annotator && r.annotatorKind == AnnotatorKind::Person)
            out->mine = r;
    }
    out->shown = chooseShown(utteranceId, candidates, classes);
    for (const Candidate &c : std::as_const(candidates))
        if (c.kind == AnnotatorKind::Corpus && c.schemaId == c.corpusSchemaId) {
            out->corpusLabel = c.category;
            out->corpusDimensions = c.dimensions;
        }
    return Status::success();
}

QMap<QString, int> LabelRepository::labelCounts(qint64 corpusId) const
{
    QMap<QString, int> counts;
    const auto shown = shownLabels(corpusId);
    for (const ShownLabel &s : shown)
        if (!s.category.isEmpty())
            ++counts[s.category];
    return counts;
}

QSet<qint64> LabelRepository::labeledBy(const QString &annotator, qint64 corpusId) const
{
    QSet<qint64> out;
    QSqlQuery q(m_db.connection());
    q.setForwardOnly(true);
    if (sql::run(q,
                 QStringLiteral("SELECT l.utterance_id, l.category FROM labels l "
                                "JOIN utterances u ON u.id=l.utterance_id "
                                "WHERE l.id IN (SELECT max(l2.id) FROM labels l2 "
                                "JOIN annotators a ON a.id=l2.annotator_id WHERE a.name=? "
                                "GROUP BY l2.utterance_id) AND (?=0 OR u.corpus_id=?)"),
                 {annotator, corpusId, corpusId}))
        while (q.next())
            if (!q.value(1).toString().isEmpty())
                out.insert(q.value(0).toLongLong());
    return out;
}

} // namespace emolens
