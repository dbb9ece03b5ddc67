#pragma once
// Database: one SQLite connection to a workspace file, for the calling thread.
//
// Thread contract: a Database object belongs to the thread that created it; each thread that
// touches the store opens its own Database on the same file (SQLite in WAL mode with a busy
// timeout lets them share it). open() applies pragmas (WAL, foreign keys, busy timeout) and
// brings the schema to the current version with migrations, each in its own transaction.
//
//   emolens::Database db(path);
//   if (auto st = db.open(); !st) { report(st.error()); }
//   emolens::CorpusRepository corpora(db);

#include "common/Status.h"

#include <QSqlDatabase>
#include <QString>

namespace emolens {

class Database
{
public:
    static constexpr int kCurrentSchemaVersion = 9;

    explicit Database(QString filePath);
    ~Database();
    Database(const Database &) = delete;
    Database &operator=(const Database &) = delete;

    // Opens (creating the file if needed) and migrates up to targetVersion.
    Status open(int targetVersion = kCurrentSchemaVersion);
    bool isOpen() const;
    void close();

    QSqlDatabase &connection() { return m_db; }
    const QString &filePath() const { return m_filePath; }
    int schemaVersion() const;
    // How long a statement waits for another connection's write lock before it fails
    // (10 s by default).
    Status setBusyTimeout(int milliseconds);
    // True when another connection holds the write lock right now (asks without waiting).
    bool isWriteLocked();

private:
    Status migrate(int targetVersion);

    QString m_filePath;
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
