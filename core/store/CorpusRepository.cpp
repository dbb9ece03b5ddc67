#include "store/CorpusRepository.h"

#include "common/NaturalOrder.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "store/SqlHelpers.h"

#include <QFileInfo>
#include <QHash>
#include <QSet>
#include <QSqlQuery>
#include <algorithm>
#include <cmath>

namespace emolens {

namespace {

const QString kUtteranceColumns = QStringLiteral(
    "u.id, u.corpus_id, u.speaker_id, u.key, u.path, u.duration_seconds, u.sample_rate, "
    "u.channels, u.frames, u.file_size_bytes, u.session_key, u.style, u.transcript, "
    "u.content_hash, u.original_label");

UtteranceRecord utteranceFrom(const QSqlQuery &q, const PathMap &paths)
{
    UtteranceRecord u;
    u.id = q.value(0).toLongLong();
    u.corpusId = q.value(1).toLongLong();
    u.speakerId = q.value(2).toLongLong();
    u.key = q.value(3).toString();
    u.path = paths.toLocal(q.value(4).toString());
    u.durationSeconds = q.value(5).toDouble();
    u.sampleRate = q.value(6).toInt();
    u.channels = q.value(7).toInt();
    u.frames = q.value(8).toLongLong();
    u.fileSizeBytes = q.value(9).toLongLong();
    u.sessionKey = q.value(10).toString();
    u.style = styleFromName(q.value(11).toString());
    u.transcript = q.value(12).toString();
    u.contentHash = q.value(13).toString();
    u.originalLabel = q.value(14).toString();
    return u;
}

CorpusRecord corpusFrom(const QSqlQuery &q, const PathMap &paths)
{
    CorpusRecord c;
    c.id = q.value(0).toLongLong();
    c.name = q.value(1).toString();
    c.rootPath = paths.toLocal(q.value(2).toString());
    c.format = q.value(3).toString();
    c.labelMapping = q.value(4).toString();
    c.labelSchemaId = q.value(5).toLongLong();
    c.importedAt = sql::timeFrom(q.value(6));
    return c;
}

const QString kCorpusColumns =
    QStringLiteral("id, name, root_path, format, label_mapping, label_schema_id, imported_at");

// The state of the corpus's utterances before the import, for matching.
struct Existing
{
    qint64 id = 0;
    QString path;
    QString contentHash;
};

} // namespace

CorpusRepository::CorpusRepository(Database &db) : m_db(db) {}

Status CorpusRepository::applyImport(const ImportBatch &batch, ImportOutcome *outcome)
{
    ImportOutcome result;
    // Paths are stored as the team names them (the path map's stored folders).
    const PathMap &paths = m_db.pathMap();
    Transaction tx(m_db);
    if (auto st = tx.begin(); !st)
        return st;
    QSqlQuery q(m_db.connection());
    auto fail = [](const QString &what, const Status &st) {
        return Status::failure(QStringLiteral("%1: %2").arg(what, st.error()));
    };

    // The label schema: reuse an identical one, otherwise add it.
    const QString classesJson = sql::schemaClassesToJson(batch.schema.classes);
    const QString scalesJson = sql::schemaScalesToJson(batch.schema.scales);
    qint64 schemaId = 0;
    if (auto st = sql::run(q,
                           QStringLiteral("SELECT id FROM label_schemas WHERE name=? AND classes=? "
                                          "AND scales=?"),
                           {batch.schema.name, classesJson, scalesJson});
        !st)
        return fail(QStringLiteral("reading label schemas"), st);
    if (q.next()) {
        schemaId = q.value(0).toLongLong();
    } else {
        if (auto st = sql::run(q,
                               QStringLiteral("INSERT INTO label_schemas(name, classes, scales) "
                                              "VALUES(?,?,?)"),
                               {batch.schema.name, classesJson, scalesJson});
            !st)
            return fail(QStringLiteral("adding the label schema"), st);
        schemaId = q.lastInsertId().toLongLong();
    }

    // The corpus, by name: a re-import updates where it lives and how it is labeled.
    qint64 corpusId = 0;
    if (auto st =
            sql::run(q, QStringLiteral("SELECT id FROM corpora WHERE name=?"), {batch.corpusName});
        !st)
        return fail(QStringLiteral("reading corpora"), st);
    if (q.next()) {
        corpusId = q.value(0).toLongLong();
        if (auto st = sql::run(q,
                               QStringLiteral("UPDATE corpora SET root_path=?, format=?, "
                                              "label_mapping=?, label_schema_id=?, imported_at=? "
                                              "WHERE id=?"),
                               {paths.toStored(batch.rootPath), batch.format, batch.labelMapping,
                                schemaId, sql::nowUtc(), corpusId});
            !st)
            return fail(QStringLiteral("updating the corpus"), st);
    } else {
        if (auto st = sql::run(q,
                               QStringLiteral("INSERT INTO corpora(name, root_path, format, "
                                              "label_mapping, label_schema_id, imported_at) "
                                              "VALUES(?,?,?,?,?,?)"),
                               {batch.corpusName, paths.toStored(batch.rootPath), batch.format,
                                batch.labelMapping, schemaId, sql::nowUtc()});
            !st)
            return fail(QStringLiteral("adding the corpus"), st);
        corpusId = q.lastInsertId().toLongLong();
    }
    result.corpusId = corpusId;

    // Speakers already known.
    QHash<QString, QPair<qint64, Gender>> speakers;
    if (auto st =
            sql::run(q, QStringLiteral("SELECT id, code, gender FROM speakers WHERE corpus_id=?"),
                     {corpusId});
        !st)
        return fail(QStringLiteral("reading speakers"), st);
    while (q.next())
        speakers.insert(q.value(1).toString(),
                        {q.value(0).toLongLong(), genderFromName(q.value(2).toString())});

    // Utterances already known, by key and by content.
    QHash<QString, Existing> byKey;
    QMultiHash<QString, QString> keysByHash;
    if (auto st = sql::run(q,
                           QStringLiteral("SELECT id, key, path, content_hash FROM utterances "
                                          "WHERE corpus_id=?"),
                           {corpusId});
        !st)
        return fail(QStringLiteral("reading utterances"), st);
    while (q.next()) {
        const QString key = q.value(1).toString();
        byKey.insert(key, {q.value(0).toLongLong(), paths.toLocal(q.value(2).toString()),
                           q.value(3).toString()});
        keysByHash.insert(q.value(3).toString(), key);
    }

    // Each annotator's current corpus label, so a re-import adds no duplicate history.
    LabelRepository labels(m_db);
    const QString corpusAnnotator = LabelRepository::corpusAnnotatorName(batch.corpusName);
    QString why;
    const qint64 annotatorId = labels.ensureAnnotator(corpusAnnotator, AnnotatorKind::Corpus, &why);
    if (annotatorId == 0)
        return Status::failure(
            QStringLiteral("cannot record the annotator %1: %2").arg(corpusAnnotator, why));
    QHash<qint64, LabelValue> corpusLabels;
    if (auto st = sql::run(q,
                           QStringLiteral("SELECT l.utterance_id, l.category, l.dimensions, "
                                          "l.confidence, l.notes FROM labels l WHERE l.id IN "
                                          "(SELECT max(id) FROM labels WHERE annotator_id=? AND "
                                          "schema_id=? GROUP BY utterance_id)"),
                           {annotatorId, schemaId});
        !st)
        return fail(QStringLiteral("reading corpus labels"), st);
    while (q.next()) {
        LabelValue v;
        v.category = q.value(1).toString();
        v.dimensions = sql::dimensionsFromJson(q.value(2).toString());
        v.confidence = q.value(3).isNull() ? std::nan("") : q.value(3).toDouble();
        v.notes = q.value(4).toString();
        corpusLabels.insert(q.value(0).toLongLong(), v);
    }

    QSqlQuery insertSpeaker(m_db.connection()), updateSpeaker(m_db.connection()),
        insertUtterance(m_db.connection()), updateUtterance(m_db.connection()),
        insertMetadata(m_db.connection()), insertLabel(m_db.connection());
    insertSpeaker.prepare(
        QStringLiteral("INSERT INTO speakers(corpus_id, code, gender) VALUES(?,?,?)"));
    updateSpeaker.prepare(QStringLiteral("UPDATE speakers SET gender=? WHERE id=?"));
    insertUtterance.prepare(QStringLiteral(
        "INSERT INTO utterances(corpus_id, speaker_id, key, path, duration_seconds, sample_rate, "
        "channels, frames, file_size_bytes, session_key, style, transcript, content_hash, "
        "original_label) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    updateUtterance.prepare(QStringLiteral(
        "UPDATE utterances SET speaker_id=?, key=?, path=?, duration_seconds=?, sample_rate=?, "
        "channels=?, frames=?, file_size_bytes=?, session_key=?, style=?, transcript=?, "
        "content_hash=?, original_label=? WHERE id=?"));
    insertMetadata.prepare(
        QStringLiteral("INSERT INTO utterance_metadata(utterance_id, name, value) VALUES(?,?,?) "
                       "ON CONFLICT(utterance_id, name) DO UPDATE SET value=excluded.value"));
    insertLabel.prepare(QStringLiteral(
        "INSERT INTO labels(utterance_id, schema_id, annotator_id, created_at, category, "
        "dimensions, confidence, notes, action) VALUES(?,?,?,?,?,?,?,?,'import')"));

    const QString now = sql::nowUtc();
    QSet<QString> claimedKeys; // existing keys matched by an item of this batch
    for (const ImportItem &item : batch.items) {
        const UtteranceRecord &u = item.utterance;
        const QString speakerCode =
            item.speakerCode.isEmpty() ? QStringLiteral("unknown") : item.speakerCode;
        auto sp = speakers.find(speakerCode);
        if (sp == speakers.end()) {
            if (auto st =
                    sql::rerun(insertSpeaker, {corpusId, speakerCode, genderName(item.gender)});
                !st)
                return fail(QStringLiteral("adding speaker %1").arg(speakerCode), st);
            sp = speakers.insert(speakerCode,
                                 {insertSpeaker.lastInsertId().toLongLong(), item.gender});
        } else if (sp->second == Gender::Unknown && item.gender != Gender::Unknown) {
            if (auto st = sql::rerun(updateSpeaker, {genderName(item.gender), sp->first}); !st)
                return fail(QStringLiteral("updating speaker %1").arg(speakerCode), st);
            sp->second = item.gender;
        }
        const qint64 speakerId = sp->first;

        // Match: same key; else same content whose old file is gone (moved or renamed).
        qint64 utteranceId = 0;
        auto known = byKey.find(u.key);
        if (known == byKey.end()) {
            for (const QString &oldKey : keysByHash.values(u.contentHash)) {
                const Existing &old = byKey.value(oldKey);
                if (!claimedKeys.contains(oldKey) && !QFileInfo::exists(old.path)) {
                    known = byKey.find(oldKey);
                    ++result.moved;
                    result.movedPaths.append({old.path, u.path});
                    break;
                }
            }
        } else if (known->contentHash == u.contentHash) {
            if (known->path == u.path) {
                ++result.unchanged;
            } else {
                ++result.moved;
                result.movedPaths.append({known->path, u.path});
            }
        } else {
            ++result.updated;
            result.updatedPaths.append(u.path);
        }
        const QVariantList fields = {speakerId,
                                     u.key,
                                     paths.toStored(u.path),
                                     u.durationSeconds,
                                     u.sampleRate,
                                     u.channels,
                                     qlonglong(u.frames),
                                     qlonglong(u.fileSizeBytes),
                                     u.sessionKey,
                                     styleName(u.style),
                                     u.transcript,
                                     u.contentHash,
                                     u.originalLabel};
        if (known != byKey.end()) {
            claimedKeys.insert(known.key());
            utteranceId = known->id;
            int i = 0;
            for (const QVariant &v : fields)
                updateUtterance.bindValue(i++, sql::bindable(v));
            updateUtterance.bindValue(i, utteranceId);
            if (!updateUtterance.exec())
                return Status::failure(QStringLiteral("updating %1: %2")
                                           .arg(u.path, updateUtterance.lastError().text()));
        } else {
            insertUtterance.bindValue(0, corpusId);
            int i = 1;
            for (const QVariant &v : fields)
                insertUtterance.bindValue(i++, sql::bindable(v));
            if (!insertUtterance.exec())
                return Status::failure(QStringLiteral("adding %1: %2")
                                           .arg(u.path, insertUtterance.lastError().text()));
            utteranceId = insertUtterance.lastInsertId().toLongLong();
            ++result.added;
            byKey.insert(u.key, {utteranceId, u.path, u.contentHash});
            claimedKeys.insert(u.key);
        }

        for (auto it = u.metadata.begin(); it != u.metadata.end(); ++it)
            if (auto st = sql::rerun(insertMetadata, {utteranceId, it.key(), it.value()}); !st)
                return fail(QStringLiteral("storing metadata of %1").arg(u.path), st);

        if (!item.label.isEmpty()) {
            const auto current = corpusLabels.constFind(utteranceId);
            if (current == corpusLabels.constEnd() || *current != item.label) {
                const LabelValue &v = item.label;
                const QVariant confidence = std::isnan(v.confidence)
                                                ? QVariant(QMetaType(QMetaType::Double))
                                                : QVariant(v.confidence);
                if (auto st = sql::rerun(
                        insertLabel, {utteranceId, schemaId, annotatorId, now, v.category,
                                      sql::dimensionsToJson(v.dimensions), confidence, v.notes});
                    !st)
                    return fail(QStringLiteral("storing the label of %1").arg(u.path), st);
                corpusLabels.insert(utteranceId, v);
                ++result.labelsAdded;
            }
        }
    }

    if (auto st = tx.commit(); !st)
        return st;
    if (outcome)
        *outcome = result;
    return Status::success();
}

Status CorpusRepository::corpora(QList<CorpusRecord> *out) const
{
    out->clear();
    QSqlQuery q(m_db.connection());
    if (auto st =
            sql::run(q, QStringLiteral("SELECT %1 FROM corpora ORDER BY name").arg(kCorpusColumns));
        !st)
        return Status::failure(QStringLiteral("cannot read the corpora: %1").arg(st.error()));
    while (q.next())
        out->append(corpusFrom(q, m_db.pathMap()));
    return Status::success();
}

QList<CorpusRecord> CorpusRepository::corpora() const
{
    QList<CorpusRecord> out;
    corpora(&out);
    return out;
}

std::optional<CorpusRecord> CorpusRepository::corpus(qint64 corpusId) const
{
    QSqlQuery q(m_db.connection());
    if (!sql::run(q, QStringLiteral("SELECT %1 FROM corpora WHERE id=?").arg(kCorpusColumns),
                  {corpusId}) ||
        !q.next())
        return std::nullopt;
    return corpusFrom(q, m_db.pathMap());
}

QList<SpeakerRecord> CorpusRepository::speakers(qint64 corpusId) const
{
    QList<SpeakerRecord> out;
    QSqlQuery q(m_db.connection());
    if (sql::run(q,
                 QStringLiteral("SELECT id, corpus_id, code, gender FROM speakers "
                                "WHERE corpus_id=? ORDER BY code"),
                 {corpusId}))
        while (q.next())
            out.append({q.value(0).toLongLong(), q.value(1).toLongLong(), q.value(2).toString(),
                        genderFromName(q.value(3).toString())});
    // Natural order, as people count: spk2 before spk10.
    std::stable_sort(out.begin(), out.end(), [](const SpeakerRecord &a, const SpeakerRecord &b) {
        return naturalCompare(a.code, b.code) < 0;
    });
    return out;
}

std::optional<UtteranceRecord> CorpusRepository::utterance(qint64 utteranceId) const
{
    QSqlQuery q(m_db.connection());
    if (!sql::run(q,
                  QStringLiteral("SELECT %1 FROM utterances u WHERE u.id=?").arg(kUtteranceColumns),
                  {utteranceId}) ||
        !q.next())
        return std::nullopt;
    UtteranceRecord u = utteranceFrom(q, m_db.pathMap());
    if (sql::run(q,
                 QStringLiteral("SELECT name, value FROM utterance_metadata WHERE utterance_id=?"),
                 {utteranceId}))
        while (q.next())
            u.metadata.insert(q.value(0).toString(), q.value(1).toString());
    return u;
}

Status CorpusRepository::utterances(qint64 corpusId, QList<UtteranceRecord> *out) const
{
    out->clear();
    QHash<qint64, qsizetype> index;
    QSqlQuery q(m_db.connection());
    q.setForwardOnly(true);
    if (auto st = sql::run(q,
                           QStringLiteral("SELECT %1 FROM utterances u WHERE (?=0 OR "
                                          "u.corpus_id=?) ORDER BY u.corpus_id, u.key")
                               .arg(kUtteranceColumns),
                           {corpusId, corpusId});
        !st)
        return Status::failure(QStringLiteral("cannot read the utterances: %1").arg(st.error()));
    while (q.next()) {
        out->append(utteranceFrom(q, m_db.pathMap()));
        index.insert(out->last().id, out->size() - 1);
    }
    if (auto st = sql::run(q,
                           QStringLiteral("SELECT m.utterance_id, m.name, m.value FROM "
                                          "utterance_metadata m JOIN utterances u ON "
                                          "u.id=m.utterance_id WHERE (?=0 OR u.corpus_id=?)"),
                           {corpusId, corpusId});
        !st)
        return Status::failure(
            QStringLiteral("cannot read the utterances' metadata: %1").arg(st.error()));
    while (q.next()) {
        const auto it = index.constFind(q.value(0).toLongLong());
        if (it != index.constEnd())
            (*out)[*it].metadata.insert(q.value(1).toString(), q.value(2).toString());
    }
    return Status::success();
}

QList<UtteranceRecord> CorpusRepository::utterances(qint64 corpusId) const
{
    QList<UtteranceRecord> out;
    utterances(corpusId, &out);
    return out;
}

Status CorpusRepository::utteranceRows(qint64 corpusId, QList<UtteranceRow> *rows) const
{
    QList<UtteranceRow> &out = *rows;
    out.clear();
    QHash<qint64, ShownLabel> shown;
    if (auto st = LabelRepository(m_db).shownLabels(corpusId, &shown); !st)
        return st;
    QSqlQuery q(m_db.connection());
    q.setForwardOnly(true);
    if (auto st = sql::run(
            q,
            QStringLiteral("SELECT u.id, u.corpus_id, c.name, u.key, u.path, s.code, s.gender, "
                           "u.duration_seconds FROM utterances u "
                           "JOIN corpora c ON c.id=u.corpus_id "
                           "JOIN speakers s ON s.id=u.speaker_id "
                           "WHERE (?=0 OR u.corpus_id=?) ORDER BY c.name, u.key"),
            {corpusId, corpusId});
        !st)
        return Status::failure(QStringLiteral("cannot read the utterances: %1").arg(st.error()));
    while (q.next()) {
        UtteranceRow r;
        r.id = q.value(0).toLongLong();
        r.corpusId = q.value(1).toLongLong();
        r.corpusName = q.value(2).toString();
        r.key = q.value(3).toString();
        r.path = m_db.pathMap().toLocal(q.value(4).toString());
        r.speakerCode = q.value(5).toString();
        r.gender = genderFromName(q.value(6).toString());
        r.durationSeconds = q.value(7).toDouble();
        const auto label = shown.constFind(r.id);
        if (label != shown.constEnd()) {
            r.label = label->category;
            r.labeledBy = label->givenBy;
            r.labelOrigin = label->origin;
            r.labelInSet = label->inLabelSet;
            r.labeledByPeople = label->peopleCategories.keys();
            r.disagreement = label->disagreement();
        }
        out.append(r);
    }
    // Natural order within each corpus (utt2 before utt10), as the tree and table show them.
    std::stable_sort(out.begin(), out.end(), [](const UtteranceRow &a, const UtteranceRow &b) {
        if (a.corpusName != b.corpusName)
            return naturalCompare(a.corpusName, b.corpusName) < 0;
        return naturalCompare(a.key, b.key) < 0;
    });
    return Status::success();
}

QList<UtteranceRow> CorpusRepository::utteranceRows(qint64 corpusId) const
{
    QList<UtteranceRow> out;
    utteranceRows(corpusId, &out);
    return out;
}

int CorpusRepository::utteranceCount(qint64 corpusId) const
{
    QSqlQuery q(m_db.connection());
    if (sql::run(q, QStringLiteral("SELECT count(*) FROM utterances WHERE (?=0 OR corpus_id=?)"),
                 {corpusId, corpusId}) &&
        q.next())
        return q.value(0).toInt();
    return 0;
}

} // namespace emolens
