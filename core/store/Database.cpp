#include "store/Database.h"

#include "store/Migrations.h"

#include <QAtomicInteger>
#include <QDir>
#include <QFileInfo>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

namespace emolens {

namespace {

QString nextConnectionName()
{
    static QAtomicInteger<quint64> counter;
    return QStringLiteral("emolens-%1").arg(counter.fetchAndAddRelaxed(1));
}

Status exec(QSqlDatabase &db, const QString &sql)
{
    QSqlQuery q(db);
    if (!q.exec(sql)) {
        // SQLite's own words ("file is not a database"), without Qt's "Unable to execute".
        const QString why = q.lastError().databaseText();
        return Status::failure(why.isEmpty() ? q.lastError().text() : why);
    }
    return Status::success();
}

} // namespace

Database::Database(QString filePath)
    : m_filePath(std::move(filePath)), m_connectionName(nextConnectionName())
{
}

Database::~Database()
{
    close();
}

Status Database::open(int targetVersion)
{
    close();
    const QFileInfo info(m_filePath);
    if (!info.absoluteDir().exists())
        return Status::failure(QStringLiteral("%1: the folder %2 does not exist")
                                   .arg(m_filePath, info.absolutePath()));
    if (info.exists() && !info.isFile())
        return Status::failure(QStringLiteral("%1: not a file").arg(m_filePath));

    m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName);
    m_db.setDatabaseName(m_filePath);
    m_db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=10000"));
    if (!m_db.open()) {
        const QString why = m_db.lastError().text();
        close();
        return Status::failure(
            QStringLiteral("%1: cannot open the workspace: %2").arg(m_filePath, why));
    }
    // WAL lets one writer and many readers share the file across threads; FULL sync makes a
    // committed label survive a crash or kill at any moment.
    for (const char *pragma : {"PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON",
                               "PRAGMA synchronous=FULL", "PRAGMA busy_timeout=10000"}) {
        if (auto st = exec(m_db, QString::fromLatin1(pragma)); !st) {
            close();
            return Status::failure(
                QStringLiteral("%1: not an EmoLens workspace (%2)").arg(m_filePath, st.error()));
        }
    }
    if (auto st = migrate(targetVersion); !st) {
        close();
        return Status::failure(QStringLiteral("%1: %2").arg(m_filePath, st.error()));
    }
    return Status::success();
}

bool Database::isOpen() const
{
    return m_db.isValid() && m_db.isOpen();
}

void Database::close()
{
    if (!m_db.isValid())
        return;
    m_db.close();
    m_db = QSqlDatabase();
    QSqlDatabase::removeDatabase(m_connectionName);
}

int Database::schemaVersion() const
{
    QSqlQuery q(m_db);
    if (q.exec(QStringLiteral("PRAGMA user_version")) && q.next())
        return q.value(0).toInt();
    return -1;
}

Status Database::setBusyTimeout(int milliseconds)
{
    return exec(m_db, QStringLiteral("PRAGMA busy_timeout=%1").arg(qMax(0, milliseconds)));
}

bool Database::isWriteLocked()
{
    QSqlQuery timeout(m_db);
    int previous = 10000;
    if (timeout.exec(QStringLiteral("PRAGMA busy_timeout")) && timeout.next())
        previous = timeout.value(0).toInt();
    setBusyTimeout(0);
    QSqlQuery q(m_db);
    const bool locked = !q.exec(QStringLiteral("BEGIN IMMEDIATE"));
    if (!locked)
        q.exec(QStringLiteral("ROLLBACK"));
    setBusyTimeout(previous);
    return locked;
}

Status Database::migrate(int targetVersion)
{
    const auto tooNew = [](int version) {
        return Status::failure(
            QStringLiteral("the workspace was written by a newer EmoLens (schema %1, this one "
                           "knows up to %2)")
                .arg(version)
                .arg(kCurrentSchemaVersion));
    };
    const int seen = schemaVersion();
    if (seen < 0)
        return Status::failure(QStringLiteral("not an SQLite database"));
    if (seen > kCurrentSchemaVersion)
        return tooNew(seen);
    if (seen >= targetVersion)
        return Status::success();

    // Read the version again under the write lock: another process may have migrated the file
    // between the read above and now, and must not be migrated twice.
    Transaction tx(*this);
    if (auto st = tx.begin(); !st)
        return st;
    const int current = schemaVersion();
    if (current < 0)
        return Status::failure(QStringLiteral("not an SQLite database"));
    if (current > kCurrentSchemaVersion)
        return tooNew(current);
    if (current == 0) {
        // A new file has no tables; an SQLite file of another program has some and is not ours
        // to add tables to.
        QSqlQuery q(m_db);
        if (!q.exec(QStringLiteral("SELECT count(*) FROM sqlite_master")) || !q.next())
            return Status::failure(QStringLiteral("not an SQLite database"));
        if (q.value(0).toInt() > 0)
            return Status::failure(
                QStringLiteral("an SQLite database, but not an EmoLens workspace"));
    }
    for (int version = current + 1; version <= targetVersion; ++version) {
        for (const QString &sql : migrationStatements(version)) {
            if (auto st = exec(m_db, sql); !st)
                return Status::failure(QStringLiteral("migration to schema %1 failed: %2")
                                           .arg(version)
                                           .arg(st.error()));
        }
        if (auto st = exec(m_db, QStringLiteral("PRAGMA user_version=%1").arg(version)); !st)
            return st;
    }
    return tx.commit();
}

Transaction::Transaction(Database &db) : m_db(db) {}

Transaction::~Transaction()
{
    if (m_active)
        exec(m_db.connection(), QStringLiteral("ROLLBACK"));
}

Status Transaction::begin()
{
    // IMMEDIATE takes the write lock up front, so two writers wait on the busy timeout
    // instead of failing half-way through with SQLITE_BUSY.
    if (auto st = exec(m_db.connection(), QStringLiteral("BEGIN IMMEDIATE")); !st)
        return Status::failure(QStringLiteral("cannot start a transaction: %1").arg(st.error()));
    m_active = true;
    return Status::success();
}

Status Transaction::commit()
{
    if (!m_active)
        return Status::failure(QStringLiteral("no transaction to commit"));
    if (auto st = exec(m_db.connection(), QStringLiteral("COMMIT")); !st)
        return Status::failure(QStringLiteral("cannot commit: %1").arg(st.error()));
    m_active = false;
    return Status::success();
}

} // namespace emolens
