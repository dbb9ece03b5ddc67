#pragma once
// Database: one connection to a workspace, for the calling thread. A workspace is an SQLite
// file (the embedded default) or a PostgreSQL database (postgresql://USER@HOST/DATABASE, see
// common/WorkspaceLocation.h); the same repositories and migrations serve both.
//
// Thread contract: a Database object belongs to the thread that created it; each thread that
// touches the store opens its own Database on the same workspace (SQLite in WAL mode with a
// busy timeout lets them share a file). open() applies the connection's settings (SQLite: WAL,
// foreign keys, busy timeout; PostgreSQL: lock timeout) and brings the schema to the current
// version with migrations, each in its own transaction.
//
// Writers are serialized on both backends: a Transaction takes the workspace's write lock
// first (SQLite's BEGIN IMMEDIATE; on PostgreSQL a transaction-scoped advisory lock), so a
// read-then-write inside a transaction sees what it writes over, as it always has.
//
//   emolens::Database db(pathOrUrl);
//   if (auto st = db.open(); !st) { report(st.error()); }
//   emolens::CorpusRepository corpora(db);

#include "common/PathMap.h"
#include "common/Status.h"
#include "common/WorkspaceLocation.h"

#include <QSqlDatabase>
#include <QString>

namespace emolens {

class Database
{
public:
    static constexpr int kCurrentSchemaVersion = 11;

    // A file path or a postgresql:// URL.
    explicit Database(QString location);
    ~Database();
    Database(const Database &) = delete;
    Database &operator=(const Database &) = delete;

    // Opens (creating the file if needed) and migrates up to targetVersion.
    Status open(int targetVersion = kCurrentSchemaVersion);
    bool isOpen() const;
    void close();
    // True when the connection answers a trivial query: false once a server went away or
    // restarted (QPSQL gives no notice of its own). Costs one round trip.
    bool isAlive();
    // Closes and opens the connection again (after isAlive() said it is gone).
    Status reconnect();

    QSqlDatabase &connection() { return m_db; }
    // What errors name: the file path, or the server URL without its password.
    const QString &filePath() const { return m_shownName; }
    const WorkspaceLocation &location() const { return m_location; }
    bool isServer() const { return m_location.isServer(); }
    // The database user this connection signed in as (a server workspace; "" for a file). On a
    // team's workspace it is the name labels are recorded under.
    const QString &signedInUser() const { return m_signedInUser; }
    // Where this machine finds the audio the workspace names (PathMap::forWorkspace, taken when
    // the workspace opens); the repositories read and write clip paths through it.
    const PathMap &pathMap() const { return m_pathMap; }
    void setPathMap(const PathMap &map) { m_pathMap = map; }
    int schemaVersion() const;
    // How long a statement waits for another connection's write lock before it fails
    // (10 s by default).
    Status setBusyTimeout(int milliseconds);
    // True when another connection holds the write lock right now (asks without waiting).
    bool isWriteLocked();

    // Takes the workspace's write lock inside the current transaction (used by Transaction).
    Status lockForWriting();

private:
    Status openFile();
    Status openServer();
    Status migrate(int targetVersion);
    // Tables of the database that are not EmoLens's (0 for a new one), or -1 when unreadable.
    int foreignTableCount();

    WorkspaceLocation m_location;
    QString m_shownName;
    QString m_signedInUser;
    PathMap m_pathMap;
    QString m_connectionName;
    QSqlDatabase m_db;
};

// RAII transaction: rolls back unless commit() succeeded.
class Transaction
{
public:
    explicit Transaction(Database &db);
    ~Transaction();
    Status begin();
    Status commit();

private:
    Database &m_db;
    bool m_active = false;
};

} // namespace emolens
