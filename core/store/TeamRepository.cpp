#include "store/TeamRepository.h"

#include "store/Database.h"
#include "store/SqlHelpers.h"

#include <QSqlDriver>
#include <QSqlField>

namespace emolens {

namespace {

// The tables a member may add rows to in their own name.
const QStringList kOwnRowTables = {QStringLiteral("labels"), QStringLiteral("traces")};

} // namespace

QString teamRoleName(TeamRole role)
{
    return role == TeamRole::Reviewer ? QStringLiteral("reviewer") : QStringLiteral("annotator");
}

TeamRepository::TeamRepository(Database &db) : m_db(db) {}

Status TeamRepository::runInOneTransaction(QStringList statements, const QString &what)
{
    Transaction tx(m_db);
    if (auto st = tx.begin(); !st)
        return st;
    // REVOKE of a role one does not hold, GRANT of one already granted: the server warns on
    // stderr about what is anyway true.
    statements.prepend(QStringLiteral("SET LOCAL client_min_messages = error"));
    for (const QString &statement : std::as_const(statements)) {
        QSqlQuery q(m_db.connection());
        if (!q.exec(statement))
            return Status::failure(QStringLiteral("%1: %2: %3")
                                       .arg(m_db.filePath(), what, q.lastError().databaseText()));
    }
    return tx.commit();
}

Status TeamRepository::requireServer() const
{
    if (!m_db.isServer())
        return Status::failure(QStringLiteral("%1: a workspace file belongs to whoever can open "
                                              "it; team rights need a PostgreSQL workspace")
                                   .arg(m_db.filePath()));
    return Status::success();
}

QString TeamRepository::groupRole(TeamRole role) const
{
    return m_db.location().databaseName() + QLatin1Char('_') + teamRoleName(role);
}

QString TeamRepository::currentUser() const
{
    if (!m_db.isServer())
        return QString();
    QSqlQuery q(m_db.connection());
    if (sql::run(q, QStringLiteral("SELECT current_user")) && q.next())
        return q.value(0).toString();
    return QString();
}

Status TeamRepository::setUp()
{
    if (auto st = requireServer(); !st)
        return st;
    QSqlDriver *driver = m_db.connection().driver();
    const auto ident = [driver](const QString &name) {
        return driver->escapeIdentifier(name, QSqlDriver::TableName);
    };
    const auto literal = [driver](const QString &text) {
        QSqlField field(QString(), QMetaType(QMetaType::QString));
        field.setValue(text);
        return driver->formatValue(field);
    };
    const QString annotator = ident(groupRole(TeamRole::Annotator));
    const QString reviewer = ident(groupRole(TeamRole::Reviewer));
    const QString reviewerName = literal(groupRole(TeamRole::Reviewer));
    const QString database = ident(m_db.location().databaseName());
    // Is the signed-in user a reviewer of this workspace?
    const QString isReviewer =
        QStringLiteral("pg_has_role(current_user, %1, 'MEMBER')").arg(reviewerName);

    QStringList statements;
    for (TeamRole role : {TeamRole::Annotator, TeamRole::Reviewer})
        statements << QStringLiteral("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE "
                                     "rolname = %1) THEN CREATE ROLE %2 NOLOGIN; END IF; END $$")
                          .arg(literal(groupRole(role)), ident(groupRole(role)));
    statements
        << QStringLiteral("GRANT %1 TO %2").arg(annotator, reviewer)
        << QStringLiteral("GRANT CONNECT ON DATABASE %1 TO %2").arg(database, annotator)
        << QStringLiteral("GRANT USAGE ON SCHEMA public TO %1").arg(annotator)
        << QStringLiteral("GRANT SELECT ON ALL TABLES IN SCHEMA public TO %1").arg(annotator)
        << QStringLiteral("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %1").arg(annotator)
        << QStringLiteral("GRANT INSERT ON labels, traces, annotators TO %1").arg(annotator)
        // Claims coordinate the team; anyone hands out, renews and releases them (an expired
        // one is released by whoever asks next).
        << QStringLiteral("GRANT INSERT, UPDATE, DELETE ON clip_claims TO %1").arg(annotator)
        << QStringLiteral("GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
                          "TO %1")
               .arg(reviewer)
        // Nobody rewrites or removes a label or a trace (the triggers refuse updates).
        << QStringLiteral("REVOKE UPDATE, DELETE ON labels, traces, annotators, "
                          "emolens_schema FROM %1")
               .arg(reviewer)
        // Tables later migrations add get the same rights.
        << QStringLiteral("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON "
                          "TABLES TO %1")
               .arg(annotator)
        << QStringLiteral("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON "
                          "SEQUENCES TO %1")
               .arg(annotator)
        << QStringLiteral("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT INSERT, "
                          "UPDATE, DELETE ON TABLES TO %1")
               .arg(reviewer);

    // Row-level security: everyone reads every row; a row is added only in one's own name. A
    // reviewer may also add rows under a corpus's name (an import's labels).
    const QString ownAnnotator =
        QStringLiteral("annotator_id IN (SELECT id FROM annotators WHERE name = current_user "
                       "OR (kind = 'corpus' AND %1))")
            .arg(isReviewer);
    const QList<QPair<QString, QString>> policies = {
        {QStringLiteral("annotators"),
         QStringLiteral("name = current_user OR (kind = 'corpus' AND %1)").arg(isReviewer)},
        {QStringLiteral("labels"), ownAnnotator},
        {QStringLiteral("traces"), ownAnnotator},
    };
    for (const auto &[table, check] : policies) {
        statements
            << QStringLiteral("ALTER TABLE %1 ENABLE ROW LEVEL SECURITY").arg(table)
            << QStringLiteral("DROP POLICY IF EXISTS emolens_read ON %1").arg(table)
            << QStringLiteral("CREATE POLICY emolens_read ON %1 FOR SELECT USING (true)").arg(table)
            << QStringLiteral("DROP POLICY IF EXISTS emolens_own ON %1").arg(table)
            << QStringLiteral("CREATE POLICY emolens_own ON %1 FOR INSERT WITH CHECK (%2)")
                   .arg(table, check);
    }
    return runInOneTransaction(statements, QStringLiteral("cannot set up the team's rights"));
}

Status TeamRepository::addMember(const QString &name, TeamRole role, const QString &password)
{
    if (auto st = requireServer(); !st)
        return st;
    const QString who = name.trimmed();
    if (who.isEmpty())
        return Status::failure(QStringLiteral("a member needs a name"));
    QSqlDriver *driver = m_db.connection().driver();
    const QString ident = driver->escapeIdentifier(who, QSqlDriver::TableName);
    QSqlField field(QString(), QMetaType(QMetaType::QString));
    field.setValue(who);
    const QString nameLiteral = driver->formatValue(field);
    field.setValue(password);
    const QString passwordLiteral = driver->formatValue(field);

    QStringList statements;
    statements << QStringLiteral("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE "
                                 "rolname = %1) THEN CREATE ROLE %2 LOGIN; END IF; END $$")
                      .arg(nameLiteral, ident);
    if (!password.isEmpty())
        statements << QStringLiteral("ALTER ROLE %1 PASSWORD %2").arg(ident, passwordLiteral);
    // A reviewer who becomes an annotator loses the reviewer's rights, and the other way.
    const TeamRole other = role == TeamRole::Reviewer ? TeamRole::Annotator : TeamRole::Reviewer;
    statements << QStringLiteral("REVOKE %1 FROM %2")
                      .arg(driver->escapeIdentifier(groupRole(other), QSqlDriver::TableName), ident)
               << QStringLiteral("GRANT %1 TO %2")
                      .arg(driver->escapeIdentifier(groupRole(role), QSqlDriver::TableName), ident);
    return runInOneTransaction(statements,
                               QStringLiteral("cannot add %1 as %2").arg(who, teamRoleName(role)));
}

Status TeamRepository::removeMember(const QString &name)
{
    if (auto st = requireServer(); !st)
        return st;
    QSqlDriver *driver = m_db.connection().driver();
    const QString ident = driver->escapeIdentifier(name.trimmed(), QSqlDriver::TableName);
    QStringList statements;
    for (TeamRole role : {TeamRole::Annotator, TeamRole::Reviewer})
        statements << QStringLiteral("REVOKE %1 FROM %2")
                          .arg(driver->escapeIdentifier(groupRole(role), QSqlDriver::TableName),
                               ident);
    return runInOneTransaction(statements, QStringLiteral("cannot remove %1").arg(name));
}

Status TeamRepository::members(QList<TeamMember> *out) const
{
    out->clear();
    if (auto st = requireServer(); !st)
        return st;
    QSqlQuery q(m_db.connection());
    // Direct members of either group role; a reviewer is listed once, as a reviewer.
    if (auto st = sql::run(q,
                           QStringLiteral("SELECT m.rolname, bool_or(g.rolname = ?) FROM "
                                          "pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid "
                                          "JOIN pg_roles m ON m.oid = am.member WHERE g.rolname IN "
                                          "(?, ?) AND m.rolcanlogin GROUP BY m.rolname ORDER BY "
                                          "m.rolname"),
                           {groupRole(TeamRole::Reviewer), groupRole(TeamRole::Annotator),
                            groupRole(TeamRole::Reviewer)});
        !st)
        return Status::failure(
            QStringLiteral("%1: cannot read the team: %2").arg(m_db.filePath(), st.error()));
    while (q.next())
        out->append({q.value(0).toString(),
                     q.value(1).toBool() ? TeamRole::Reviewer : TeamRole::Annotator});
    return Status::success();
}

} // namespace emolens
