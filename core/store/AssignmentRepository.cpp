#include "store/AssignmentRepository.h"

#include "store/Database.h"
#include "store/LabelRepository.h"
#include "store/SqlHelpers.h"

#include <QDateTime>
#include <algorithm>
#include <vector>

namespace emolens {

namespace {

// A gap longer than this between two labels of one person is a break, not labeling time.
constexpr double kBreakSeconds = 30 * 60;
// The claim lasts this many times the team's median time per clip.
constexpr double kPaceFactor = 4;
// How many of the newest labels the pace is read from.
constexpr int kPaceLabels = 400;

Status annotatorId(Database &db, const QString &name, qint64 *id)
{
    QString why;
    *id = LabelRepository(db).ensureAnnotator(name.trimmed(), AnnotatorKind::Person, &why);
    if (*id == 0)
        return Status::failure(QStringLiteral("cannot record the annotator %1: %2").arg(name, why));
    return Status::success();
}

} // namespace

AssignmentRepository::AssignmentRepository(Database &db) : m_db(db) {}

double AssignmentRepository::nowSeconds()
{
    return double(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
}

double AssignmentRepository::claimSeconds() const
{
    QSqlQuery q(m_db.connection());
    if (!sql::run(q, QStringLiteral("SELECT l.annotator_id, l.created_at FROM labels l JOIN "
                                    "annotators a ON a.id=l.annotator_id WHERE a.kind='person' "
                                    "ORDER BY l.id DESC LIMIT %1")
                         .arg(kPaceLabels)))
        return kDefaultClaimSeconds;
    QHash<qint64, std::vector<double>> times;
    while (q.next())
        times[q.value(0).toLongLong()].push_back(
            double(sql::timeFrom(q.value(1)).toMSecsSinceEpoch()) / 1000.0);
    std::vector<double> gaps;
    for (auto &t : times) {
        std::sort(t.begin(), t.end());
        for (size_t i = 1; i < t.size(); ++i)
            if (const double gap = t[i] - t[i - 1]; gap > 0 && gap <= kBreakSeconds)
                gaps.push_back(gap);
    }
    if (gaps.empty())
        return kDefaultClaimSeconds;
    std::nth_element(gaps.begin(), gaps.begin() + gaps.size() / 2, gaps.end());
    return std::clamp(kPaceFactor * gaps[gaps.size() / 2], kMinClaimSeconds, kMaxClaimSeconds);
}

int AssignmentRepository::overlap() const
{
    WorkspaceSetting s;
    if (!setting(QStringLiteral("overlap"), QStringLiteral("1"), &s))
        return 1;
    return std::max(1, s.value.toInt());
}

Status AssignmentRepository::claimNext(const AssignmentRequest &request,
                                       std::optional<ClipClaim> *out)
{
    out->reset();
    const QString name = request.annotator.trimmed();
    if (name.isEmpty())
        return Status::failure(QStringLiteral("a claim needs an annotator name"));
    const double now = request.now > 0 ? request.now : nowSeconds();
    const int overlapWanted = request.overlap > 0 ? request.overlap : overlap();
    const double seconds = request.claimSeconds > 0 ? request.claimSeconds : claimSeconds();

    // No workspace-wide write lock: the clip's primary key in clip_claims decides who gets a
    // clip two people reach for at once, and the loser picks again. Each statement below is
    // safe on its own against the others' (the deletes only remove what is over for
    // everyone; a person's own claim is only theirs to renew).
    qint64 me = 0;
    if (auto st = annotatorId(m_db, name, &me); !st)
        return st;
    QSqlQuery q(m_db.connection());
    // Expired claims are released for real, whoever held them.
    if (auto st =
            sql::run(q, QStringLiteral("DELETE FROM clip_claims WHERE expires_at < ?"), {now});
        !st)
        return Status::failure(QStringLiteral("cannot release expired claims: %1").arg(st.error()));
    // A claim on a clip its holder has labeled since is done.
    if (auto st =
            sql::run(q, QStringLiteral("DELETE FROM clip_claims WHERE EXISTS (SELECT 1 FROM "
                                       "labels l WHERE l.utterance_id=clip_claims.utterance_id "
                                       "AND l.annotator_id=clip_claims.annotator_id)"));
        !st)
        return Status::failure(
            QStringLiteral("cannot release finished claims: %1").arg(st.error()));
    // Their unfinished claim comes back first (they closed the window, or skipped nothing).
    if (auto st = sql::run(q,
                           QStringLiteral("SELECT utterance_id, claimed_at, version FROM "
                                          "clip_claims WHERE annotator_id=? ORDER BY claimed_at "
                                          "LIMIT 1"),
                           {me});
        !st)
        return Status::failure(QStringLiteral("cannot read the claims: %1").arg(st.error()));
    ClipClaim claim;
    claim.annotator = name;
    if (q.next()) {
        claim.utteranceId = q.value(0).toLongLong();
        claim.claimedAt = q.value(1).toDouble();
        const qint64 version = q.value(2).toLongLong();
        claim.version = version + 1;
        claim.expiresAt = now + seconds;
        claim.resumed = true;
        if (auto st = sql::run(q,
                               QStringLiteral("UPDATE clip_claims SET expires_at=?, version=? "
                                              "WHERE utterance_id=? AND annotator_id=? AND "
                                              "version=?"),
                               {claim.expiresAt, claim.version, claim.utteranceId, me, version});
            !st)
            return Status::failure(QStringLiteral("cannot renew the claim: %1").arg(st.error()));
        if (q.numRowsAffected() == 1) {
            *out = claim;
            return Status::success();
        }
        // It expired and went to someone else between the two statements: a new one.
    }
    // One pass over the labels, joined by hashing. The plan is fixed on PostgreSQL: on a
    // server whose statistics lag behind a fresh import, the planner took the aggregate for
    // one row and chose a nested loop over it (a second per request at 2,000 clips).
    const QString pick = QStringLiteral(
        "SELECT u.id, coalesce(n.people, 0) FROM utterances u "
        "LEFT JOIN (SELECT l.utterance_id, count(DISTINCT l.annotator_id) AS people FROM "
        "labels l JOIN annotators a ON a.id=l.annotator_id WHERE a.kind='person' GROUP BY "
        "l.utterance_id) n ON n.utterance_id=u.id "
        "LEFT JOIN (SELECT utterance_id, min(rank) AS rank FROM selection_picks WHERE "
        "round_id=(SELECT max(id) FROM selection_rounds) GROUP BY utterance_id) p ON "
        "p.utterance_id=u.id "
        "WHERE (?=0 OR u.corpus_id=?) "
        "AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.utterance_id=u.id AND "
        "l.annotator_id=?) "
        "AND NOT EXISTS (SELECT 1 FROM clip_claims c WHERE c.utterance_id=u.id) "
        "AND coalesce(n.people, 0) < ? "
        "ORDER BY CASE WHEN coalesce(n.people, 0) > 0 THEN 0 ELSE 1 END, "
        "coalesce(n.people, 0) DESC, CASE WHEN p.rank IS NULL THEN 1 ELSE 0 END, p.rank, "
        "u.id LIMIT 1");
    const bool server = m_db.isServer();
    if (server)
        sql::run(q, QStringLiteral("SET enable_nestloop = off"));
    struct ResetPlanner
    {
        Database &db;
        bool active;
        ~ResetPlanner()
        {
            if (active) {
                QSqlQuery reset(db.connection());
                reset.exec(QStringLiteral("RESET enable_nestloop"));
            }
        }
    } resetPlanner{m_db, server};
    // Reaching for the same clip as someone else loses at most a few times in a row.
    for (int attempt = 0; attempt < 20; ++attempt) {
        if (auto st = sql::run(q, pick, {request.corpusId, request.corpusId, me, overlapWanted});
            !st)
            return Status::failure(QStringLiteral("cannot choose a clip: %1").arg(st.error()));
        if (!q.next())
            return Status::success(); // nothing left for this person
        claim.utteranceId = q.value(0).toLongLong();
        claim.labelsSoFar = q.value(1).toInt();
        claim.claimedAt = now;
        claim.expiresAt = now + seconds;
        claim.version = 1;
        if (auto st = sql::run(q,
                               QStringLiteral("INSERT INTO clip_claims(utterance_id, "
                                              "annotator_id, claimed_at, expires_at, version) "
                                              "VALUES(?,?,?,?,1) ON CONFLICT(utterance_id) DO "
                                              "NOTHING"),
                               {claim.utteranceId, me, claim.claimedAt, claim.expiresAt});
            !st)
            return Status::failure(QStringLiteral("cannot claim the clip: %1").arg(st.error()));
        if (q.numRowsAffected() == 1) {
            *out = claim;
            return Status::success();
        }
    }
    return Status::failure(
        QStringLiteral("cannot claim a clip: others took every one this program reached for"));
}

Status AssignmentRepository::renewClaim(qint64 utteranceId, const QString &annotator, double now,
                                        ClipClaim *out)
{
    if (now <= 0)
        now = nowSeconds();
    const double seconds = claimSeconds();
    Transaction tx(m_db);
    if (auto st = tx.begin(); !st)
        return st;
    QSqlQuery q(m_db.connection());
    if (auto st = sql::run(q,
                           QStringLiteral("SELECT a.name, c.expires_at, c.version, c.claimed_at "
                                          "FROM clip_claims c JOIN annotators a ON "
                                          "a.id=c.annotator_id WHERE c.utterance_id=?"),
                           {utteranceId});
        !st)
        return Status::failure(QStringLiteral("cannot read the claim: %1").arg(st.error()));
    if (!q.next())
        return Status::failure(
            QStringLiteral("conflict: your claim on clip %1 expired and was released")
                .arg(utteranceId));
    const QString holder = q.value(0).toString();
    const double expiresAt = q.value(1).toDouble();
    const qint64 version = q.value(2).toLongLong();
    const double claimedAt = q.value(3).toDouble();
    if (holder != annotator.trimmed())
        return Status::failure(
            QStringLiteral("conflict: your claim on clip %1 expired and the clip went to %2")
                .arg(utteranceId)
                .arg(holder));
    if (expiresAt < now)
        return Status::failure(
            QStringLiteral("conflict: your claim on clip %1 expired").arg(utteranceId));
    // Version-checked: a renewal that raced another change to the row changes nothing.
    if (auto st = sql::run(q,
                           QStringLiteral("UPDATE clip_claims SET expires_at=?, version=? WHERE "
                                          "utterance_id=? AND version=?"),
                           {now + seconds, version + 1, utteranceId, version});
        !st)
        return Status::failure(QStringLiteral("cannot renew the claim: %1").arg(st.error()));
    if (q.numRowsAffected() != 1)
        return Status::failure(
            QStringLiteral("conflict: the claim on clip %1 changed meanwhile").arg(utteranceId));
    if (auto st = tx.commit(); !st)
        return st;
    if (out)
        *out = {utteranceId, holder, claimedAt, now + seconds, version + 1, true, 0};
    return Status::success();
}

Status AssignmentRepository::releaseClaim(qint64 utteranceId, const QString &annotator)
{
    QSqlQuery q(m_db.connection());
    if (auto st = sql::run(q,
                           QStringLiteral("DELETE FROM clip_claims WHERE utterance_id=? AND "
                                          "annotator_id=(SELECT id FROM annotators WHERE "
                                          "name=?)"),
                           {utteranceId, annotator.trimmed()});
        !st)
        return Status::failure(QStringLiteral("cannot release the claim: %1").arg(st.error()));
    return Status::success();
}

Status AssignmentRepository::claims(QList<ClipClaim> *out, double now) const
{
    out->clear();
    if (now <= 0)
        now = nowSeconds();
    QSqlQuery q(m_db.connection());
    if (auto st = sql::run(q,
                           QStringLiteral("SELECT c.utterance_id, a.name, c.claimed_at, "
                                          "c.expires_at, c.version FROM clip_claims c JOIN "
                                          "annotators a ON a.id=c.annotator_id WHERE "
                                          "c.expires_at >= ? ORDER BY c.claimed_at"),
                           {now});
        !st)
        return Status::failure(QStringLiteral("cannot read the claims: %1").arg(st.error()));
    while (q.next())
        out->append({q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toDouble(),
                     q.value(3).toDouble(), q.value(4).toLongLong(), false, 0});
    return Status::success();
}

Status AssignmentRepository::clipsNeedingLabels(qint64 corpusId, int overlapWanted,
                                                int *count) const
{
    QSqlQuery q(m_db.connection());
    if (auto st = sql::run(
            q,
            QStringLiteral("SELECT count(*) FROM utterances u WHERE (?=0 OR u.corpus_id=?) "
                           "AND (SELECT count(DISTINCT l.annotator_id) FROM labels l JOIN "
                           "annotators a ON a.id=l.annotator_id WHERE a.kind='person' AND "
                           "l.utterance_id=u.id) < ?"),
            {corpusId, corpusId, std::max(1, overlapWanted)});
        !st || !q.next())
        return Status::failure(QStringLiteral("cannot count the clips: %1")
                                   .arg(st ? q.lastError().text() : st.error()));
    *count = q.value(0).toInt();
    return Status::success();
}

Status AssignmentRepository::setting(const QString &name, const QString &defaultValue,
                                     WorkspaceSetting *out) const
{
    *out = WorkspaceSetting{name, defaultValue, 0, QString(), QDateTime()};
    QSqlQuery q(m_db.connection());
    if (auto st = sql::run(q,
                           QStringLiteral("SELECT value, version, changed_by, changed_at FROM "
                                          "workspace_settings WHERE name=?"),
                           {name});
        !st)
        return Status::failure(
            QStringLiteral("cannot read the setting %1: %2").arg(name, st.error()));
    if (q.next()) {
        out->value = q.value(0).toString();
        out->version = q.value(1).toLongLong();
        out->changedBy = q.value(2).toString();
        out->changedAt = sql::timeFrom(q.value(3));
    }
    return Status::success();
}

Status AssignmentRepository::writeSetting(const QString &name, const QString &value,
                                          qint64 expectedVersion, const QString &who,
                                          bool *conflict)
{
    if (conflict)
        *conflict = false;
    Transaction tx(m_db);
    if (auto st = tx.begin(); !st)
        return st;
    QSqlQuery q(m_db.connection());
    if (expectedVersion == 0)
        sql::run(q,
                 QStringLiteral("INSERT INTO workspace_settings(name, value, version, changed_by, "
                                "changed_at) VALUES(?,?,1,?,?) ON CONFLICT(name) DO NOTHING"),
                 {name, value, who, sql::nowUtc()});
    else
        sql::run(q,
                 QStringLiteral("UPDATE workspace_settings SET value=?, version=version+1, "
                                "changed_by=?, changed_at=? WHERE name=? AND version=?"),
                 {value, who, sql::nowUtc(), name, expectedVersion});
    if (q.lastError().isValid())
        return Status::failure(
            QStringLiteral("cannot write the setting %1: %2").arg(name, q.lastError().text()));
    if (q.numRowsAffected() != 1) {
        if (conflict)
            *conflict = true;
        WorkspaceSetting now;
        setting(name, QString(), &now);
        return Status::failure(
            QStringLiteral("conflict: %1 was changed by %2 at %3 (it is now %4); your %5 was "
                           "not written")
                .arg(name, now.changedBy.isEmpty() ? QStringLiteral("someone") : now.changedBy,
                     now.changedAt.toString(Qt::ISODate), now.value, value));
    }
    return tx.commit();
}

} // namespace emolens
