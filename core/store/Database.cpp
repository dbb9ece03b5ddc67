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

// The key of the PostgreSQL advisory lock that serializes a workspace's writers ("EmoLens"
// in ASCII). Advisory locks belong to one database, so two workspaces on a server do not
// wait on each other.
constexpr qint64 kWriterLockKey = 0x456d6f4c656e73;

QString nextConnectionName()
{
    static QAtomicInteger<quint64> counter;
    return QStringLiteral("emolens-%1").arg(counter.fetchAndAddRelaxed(1));
}

QString databaseWords(const QSqlError &error)
{
    // The server's own words ("file is not a database", "permission denied for table labels"),
    // without Qt's "Unable to execute".
    const QString why = error.databaseText().trimmed();
    return why.isEmpty() ? error.text().trimmed() : why;
}

Status exec(QSqlDatabase &db, const QString &sql)
{
    QSqlQuery q(db);
    if (!q.exec(sql))
        return Status::failure(databaseWords(q.lastError()));
    return Status::success();
}

} // namespace

Database::Database(QString location)
    : m_location(WorkspaceLocation::parse(location)),
      m_shownName(m_location.isServer() ? m_location.display() : location),
      m_connectionName(nextConnectionName())
{
}

Database::~Database()
{
    close();
}

Status Database::open(int targetVersion)
{
    close();
    if (!m_location.isValid())
        return Status::failure(m_location.error());
    if (auto st = m_location.isServer() ? openServer() : openFile(); !st)
        return st;
    m_pathMap = PathMap::forWorkspace(m_location.key());
    if (auto st = migrate(targetVersion); !st) {
        close();
        return Status::failure(QStringLiteral("%1: %2").arg(m_shownName, st.error()));
    }
    return Status::success();
}

Status Database::openFile()
{
    const QString path = m_location.filePath();
    const QFileInfo info(path);
    if (!info.absoluteDir().exists())
        return Status::failure(
            QStringLiteral("%1: the folder %2 does not exist").arg(path, info.absolutePath()));
    if (info.exists() && !info.isFile())
        return Status::failure(QStringLiteral("%1: not a file").arg(path));

    m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName);
    m_db.setDatabaseName(path);
    m_db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=10000"));
    if (!m_db.open()) {
        const QString why = m_db.lastError().text();
        close();
        return Status::failure(QStringLiteral("%1: cannot open the workspace: %2").arg(path, why));
    }
    // WAL lets one writer and many readers share the file across threads; FULL sync makes a
    // committed label survive a crash or kill at any moment.
    for (const char *pragma : {"PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON",
                               "PRAGMA synchronous=FULL", "PRAGMA busy_timeout=10000"}) {
        if (auto st = exec(m_db, QString::fromLatin1(pragma)); !st) {
            close();
            return Status::failure(
                QStringLiteral("%1: not an EmoLens workspace (%2)").arg(path, st.error()));
        }
    }
    return Status::success();
}

Status Database::openServer()
{
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")))
        return Status::failure(QStringLiteral("%1: this EmoLens cannot reach PostgreSQL: Qt's "
                                              "PostgreSQL driver is not installed "
                                              "(Debian: libqt6sql6-psql)")
                                   .arg(m_shownName));
    m_db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), m_connectionName);
    if (!m_location.host().isEmpty())
        m_db.setHostName(m_location.host());
    m_db.setPort(m_location.port());
    m_db.setDatabaseName(m_location.databaseName());
    if (!m_location.user().isEmpty())
        m_db.setUserName(m_location.user());
    if (!m_location.password().isEmpty())
        m_db.setPassword(m_location.password());
    QMap<QString, QString> options = m_location.options();
    // A server that does not answer is an error within seconds, not a frozen window.
    if (!options.contains(QStringLiteral("connect_timeout")))
        options.insert(QStringLiteral("connect_timeout"), QStringLiteral("10"));
    // A server whose machine vanished (a dropped network, a crash) leaves a statement waiting
    // for an answer that never comes: the kernel gives up on unanswered data after 10 s, and
    // keepalives find an idle connection gone within about 25 s, so no window waits longer
    // (libpq ignores both on a local socket).
    for (const auto &[name, value] :
         {std::pair<const char *, const char *>{"tcp_user_timeout", "10000"},
          {"keepalives", "1"},
          {"keepalives_idle", "10"},
          {"keepalives_interval", "5"},
          {"keepalives_count", "3"}})
        if (!options.contains(QLatin1String(name)))
            options.insert(QLatin1String(name), QLatin1String(value));
    if (!options.contains(QStringLiteral("application_name")))
        options.insert(QStringLiteral("application_name"), QStringLiteral("EmoLens"));
    QStringList connectOptions;
    for (auto it = options.cbegin(); it != options.cend(); ++it)
        connectOptions << QStringLiteral("%1=%2").arg(it.key(), it.value());
    m_db.setConnectOptions(connectOptions.join(QLatin1Char(';')));
    if (!m_db.open()) {
        QString why = databaseWords(m_db.lastError());
        if (why.contains(QLatin1String("no password supplied")))
            why = QStringLiteral("the server wants a password for %1 and none was given (put it "
                                 "in ~/.pgpass, or type it when EmoLens asks)")
                      .arg(m_location.user().isEmpty() ? QStringLiteral("this user")
                                                       : m_location.user());
        close();
        return Status::failure(
            QStringLiteral("%1: cannot connect to the workspace: %2").arg(m_shownName, why));
    }
    if (!m_location.password().isEmpty())
        WorkspaceLocation::rememberPassword(m_shownName, m_location.password());
    {
        QSqlQuery q(m_db);
        if (q.exec(QStringLiteral("SELECT current_user")) && q.next())
            m_signedInUser = q.value(0).toString();
    }
    // lock_timeout plays SQLite's busy timeout: a writer waits this long for another's lock.
    for (const char *setting : {"SET lock_timeout = '10s'", "SET client_min_messages = warning"}) {
        if (auto st = exec(m_db, QString::fromLatin1(setting)); !st) {
            close();
            return Status::failure(QStringLiteral("%1: %2").arg(m_shownName, st.error()));
        }
    }
    return Status::success();
}

bool Database::isOpen() const
{
    return m_db.isValid() && m_db.isOpen();
}

bool Database::isAlive()
{
    if (!isOpen())
        return false;
    QSqlQuery q(m_db);
    return q.exec(QStringLiteral("SELECT 1")) && q.next();
}

Status Database::reconnect()
{
    return open();
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
    if (!m_location.isServer()) {
        if (q.exec(QStringLiteral("PRAGMA user_version")) && q.next())
            return q.value(0).toInt();
        return -1;
    }
    // A statement that fails would spoil the transaction it is in: ask whether the table is
    // there before reading it.
    if (!q.exec(QStringLiteral("SELECT to_regclass('emolens_schema') IS NOT NULL")) || !q.next())
        return -1;
    if (!q.value(0).toBool())
        return 0;
    if (q.exec(QStringLiteral("SELECT version FROM emolens_schema")) && q.next())
        return q.value(0).toInt();
    return -1;
}

Status Database::setBusyTimeout(int milliseconds)
{
    if (!m_location.isServer())
        return exec(m_db, QStringLiteral("PRAGMA busy_timeout=%1").arg(qMax(0, milliseconds)));
    // PostgreSQL's 0 means "wait for ever"; SQLite's means "do not wait".
    return exec(m_db, QStringLiteral("SET lock_timeout = %1").arg(qMax(1, milliseconds)));
}

bool Database::isWriteLocked()
{
    QSqlQuery q(m_db);
    if (m_location.isServer()) {
        if (!q.exec(QStringLiteral("SELECT pg_try_advisory_lock(%1)").arg(kWriterLockKey)) ||
            !q.next())
            return true;
        if (!q.value(0).toBool())
            return true;
        q.exec(QStringLiteral("SELECT pg_advisory_unlock(%1)").arg(kWriterLockKey));
        return false;
    }
    QSqlQuery timeout(m_db);
    int previous = 10000;
    if (timeout.exec(QStringLiteral("PRAGMA busy_timeout")) && timeout.next())
        previous = timeout.value(0).toInt();
    setBusyTimeout(0);
    const bool locked = !q.exec(QStringLiteral("BEGIN IMMEDIATE"));
    if (!locked)
        q.exec(QStringLiteral("ROLLBACK"));
    setBusyTimeout(previous);
    return locked;
}

Status Database::lockForWriting()
{
    if (!m_location.isServer())
        return Status::success(); // BEGIN IMMEDIATE took it
    return exec(m_db, QStringLiteral("SELECT pg_advisory_xact_lock(%1)").arg(kWriterLockKey));
}

int Database::foreignTableCount()
{
    QSqlQuery q(m_db);
    const QString sql =
        m_location.isServer()
            ? QStringLiteral("SELECT count(*) FROM information_schema.tables WHERE "
                             "table_schema = current_schema() AND table_name <> 'emolens_schema'")
            : QStringLiteral("SELECT count(*) FROM sqlite_master");
    if (!q.exec(sql) || !q.next())
        return -1;
    return q.value(0).toInt();
}

Status Database::migrate(int targetVersion)
{
    const QString notOurs = m_location.isServer() ? QStringLiteral("not a PostgreSQL database")
                                                  : QStringLiteral("not an SQLite database");
    const auto tooNew = [](int version) {
        return Status::failure(
            QStringLiteral("the workspace was written by a newer EmoLens (schema %1, this one "
                           "knows up to %2)")
                .arg(version)
                .arg(kCurrentSchemaVersion));
    };
    const int seen = schemaVersion();
    if (seen < 0 && m_location.isServer()) {
        // Say what the server said ("permission denied for table emolens_schema": a user
        // who is not in the workspace's team).
        QSqlQuery q(m_db);
        if (!q.exec(QStringLiteral("SELECT version FROM emolens_schema")))
            return Status::failure(
                QStringLiteral("cannot read the workspace: %1").arg(databaseWords(q.lastError())));
    }
    if (seen < 0)
        return Status::failure(notOurs);
    if (seen > kCurrentSchemaVersion)
        return tooNew(seen);
    if (seen >= targetVersion)
        return Status::success();

    // Read the version again under the write lock: another process may have migrated the
    // workspace between the read above and now, and must not be migrated twice.
    Transaction tx(*this);
    if (auto st = tx.begin(); !st)
        return st;
    const int current = schemaVersion();
    if (current < 0)
        return Status::failure(notOurs);
    if (current > kCurrentSchemaVersion)
        return tooNew(current);
    if (current == 0) {
        // A new workspace has no tables; a database of another program has some and is not
        // ours to add tables to.
        const int foreign = foreignTableCount();
        if (foreign < 0)
            return Status::failure(notOurs);
        if (foreign > 0)
            return Status::failure(m_location.isServer()
                                       ? QStringLiteral("a PostgreSQL database, but not an "
                                                        "EmoLens workspace")
                                       : QStringLiteral("an SQLite database, but not an EmoLens "
                                                        "workspace"));
        if (m_location.isServer()) {
            if (auto st = exec(m_db, QStringLiteral("CREATE TABLE emolens_schema(version "
                                                    "INTEGER NOT NULL)"));
                !st)
                return st;
            if (auto st = exec(m_db, QStringLiteral("INSERT INTO emolens_schema VALUES(0)")); !st)
                return st;
        }
    }
    for (int version = current + 1; version <= targetVersion; ++version) {
        for (const QString &sql : migrationStatements(version, m_location.backend())) {
            if (auto st = exec(m_db, sql); !st)
                return Status::failure(QStringLiteral("migration to schema %1 failed: %2")
                                           .arg(version)
                                           .arg(st.error()));
        }
        const QString setVersion =
            m_location.isServer()
                ? QStringLiteral("UPDATE emolens_schema SET version=%1").arg(version)
                : QStringLiteral("PRAGMA user_version=%1").arg(version);
        if (auto st = exec(m_db, setVersion); !st)
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
    // SQLite: IMMEDIATE takes the write lock up front, so two writers wait on the busy timeout
    // instead of failing half-way through with SQLITE_BUSY. PostgreSQL: the advisory lock
    // does the same (Database::lockForWriting).
    const QString begin =
        m_db.isServer() ? QStringLiteral("BEGIN") : QStringLiteral("BEGIN IMMEDIATE");
    if (auto st = exec(m_db.connection(), begin); !st)
        return Status::failure(QStringLiteral("cannot start a transaction: %1").arg(st.error()));
    m_active = true;
    if (auto st = m_db.lockForWriting(); !st)
        return Status::failure(
            QStringLiteral("cannot take the workspace's write lock: %1").arg(st.error()));
    return Status::success();
}

Status Transaction::commit()
{
    if (!m_active)
        return Status::failure(QStringLiteral("no transaction to commit"));
    // PostgreSQL answers COMMIT of a transaction that an earlier statement spoiled with a
    // quiet rollback; ask first, so that such a commit is an error and not a lost write.
    if (m_db.isServer())
        if (auto st = exec(m_db.connection(), QStringLiteral("SELECT 1")); !st)
            return Status::failure(QStringLiteral("cannot commit: %1").arg(st.error()));
    if (auto st = exec(m_db.connection(), QStringLiteral("COMMIT")); !st)
        return Status::failure(QStringLiteral("cannot commit: %1").arg(st.error()));
    m_active = false;
    return Status::success();
}

} // namespace emolens
