#pragma once
// TeamRepository: who may do what in a server workspace (PostgreSQL), enforced by the server.
//
// Each member signs in as their own database user; their annotator name is that user name.
// Two group roles per workspace database carry the rights:
// - DB_annotator: reads everything; adds labels, traces and their own annotator row, only in
//   their own name (row-level security on labels, traces and annotators); changes and deletes
//   nothing (labels and traces are append-only for everyone, by trigger) but clip claims,
//   which only coordinate who labels what.
// - DB_reviewer: an annotator who also imports corpora (their labels go in under the
//   corpus's name), trains and evaluates models, ranks queues and keeps the workspace's
//   settings. A reviewer's labels are what the "reviewer:NAME" training rule adjudicates by.
// The workspace's owner (who created it) sets the rights up and adds members; as the owner of
// the tables, it is not bound by the policies.
//
// An SQLite workspace has no team rights: every method says so.
//
//   TeamRepository team(db);
//   team.setUp();
//   team.addMember("ana", TeamRole::Annotator, password);

#include "common/Status.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace emolens {

class Database;

enum class TeamRole { Annotator, Reviewer };
QString teamRoleName(TeamRole role); // "annotator", "reviewer"

struct TeamMember
{
    QString name;
    TeamRole role = TeamRole::Annotator;
};

class TeamRepository
{
public:
    explicit TeamRepository(Database &db);

    // Creates the group roles, grants their rights and turns on the policies. Idempotent;
    // needs the workspace's owner (or a superuser) with the right to create roles.
    Status setUp();
    // Creates the database user `name` where it does not exist (with `password` where one is
    // given; an existing user keeps theirs unless one is given) and makes them a member.
    Status addMember(const QString &name, TeamRole role, const QString &password = QString());
    // Takes `name` out of the workspace's group roles (their labels stay).
    Status removeMember(const QString &name);
    Status members(QList<TeamMember> *out) const;
    // The user this connection signed in as ("" for an SQLite workspace).
    QString currentUser() const;

    // The group role of `role` in this workspace ("iemocap_annotator").
    QString groupRole(TeamRole role) const;

private:
    Status requireServer() const;
    // Runs the statements in one transaction; a failure names `what` and the server's words.
    Status runInOneTransaction(QStringList statements, const QString &what);

    Database &m_db;
};

} // namespace emolens
