#pragma once
// New empty workspaces for tests, on the backend the run asks for: an SQLite file in a
// temporary folder, or - when EMOLENS_TEST_POSTGRES names the test server's maintenance
// database (tests/support/postgres-server.sh, ctest's *_postgresql variants) - a new
// database on that PostgreSQL server.

#include "TestPaths.h"

#include <QAtomicInteger>
#include <QCoreApplication>
#include <QDir>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QString>
#include <QUrl>
#include <QVariant>
#include <QtGlobal>

namespace emolens::test {

// The test server's maintenance URL, or empty when the run is on SQLite.
inline QString postgresServer()
{
    return qEnvironmentVariable("EMOLENS_TEST_POSTGRES");
}
inline bool onPostgres()
{
    return !postgresServer().isEmpty();
}

// Runs `sql` on the test server as its superuser, in the database `database` (the
// maintenance database when empty); returns the server's error, or "" when it ran. *first:
// the first column of the first row, where asked for.
inline QString runOnServer(const QString &sql, const QString &database = QString(),
                           QVariant *first = nullptr)
{
    static QAtomicInteger<int> counter;
    const QString name = QStringLiteral("test-admin-%1").arg(counter.fetchAndAddRelaxed(1));
    QString error;
    {
        QUrl url(postgresServer());
        QSqlDatabase admin = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name);
        admin.setHostName(url.host());
        admin.setPort(url.port(5432));
        admin.setUserName(url.userName());
        admin.setDatabaseName(database.isEmpty() ? url.path().mid(1) : database);
        if (!admin.open()) {
            error = admin.lastError().text();
        } else {
            QSqlQuery q(admin);
            if (!q.exec(sql))
                error = q.lastError().text();
            else if (first && q.next())
                *first = q.value(0);
        }
        admin.close();
    }
    QSqlDatabase::removeDatabase(name);
    return error;
}

// The database name of a workspace URL newWorkspace() made.
inline QString databaseOf(const QString &workspace)
{
    return QUrl(workspace).path().mid(1);
}

// A new, empty workspace called `name`: `dir`/name.emolens, or a fresh database on the test
// server (its name made unique per process and call). Fails the test run when the server
// cannot make one.
inline QString newWorkspace(const QDir &dir, const QString &name)
{
    if (!onPostgres())
        return dir.filePath(name + QStringLiteral(".emolens"));
    static QAtomicInteger<int> counter;
    const QString database = QStringLiteral("%1_%2_%3")
                                 .arg(name.toLower().replace(QLatin1Char('-'), QLatin1Char('_')))
                                 .arg(QCoreApplication::applicationPid())
                                 .arg(counter.fetchAndAddRelaxed(1));
    if (const QString error = runOnServer(QStringLiteral("CREATE DATABASE %1").arg(database));
        !error.isEmpty())
        qFatal("cannot create the test database %s: %s", qPrintable(database), qPrintable(error));
    QUrl url(postgresServer());
    url.setPath(QLatin1Char('/') + database);
    return url.toString();
}

// The workspace's URL, signed in as `user` with `password` (for the team tests' members).
inline QString signedInAs(const QString &workspace, const QString &user, const QString &password)
{
    QUrl url(workspace);
    url.setUserName(user);
    url.setPassword(password);
    return url.toString();
}

// Stops the test server keeping its data ("pause") or starts it again ("resume"): an outage,
// for the tests that live through one. True when the script succeeded.
inline bool controlServer(const char *action)
{
    QProcess script;
    script.start(QStringLiteral("/bin/bash"),
                 {sourceRoot() + QStringLiteral("/tests/support/postgres-server.sh"),
                  QString::fromLatin1(action), QString::number(QUrl(postgresServer()).port())});
    return script.waitForFinished(120000) && script.exitStatus() == QProcess::NormalExit &&
           script.exitCode() == 0;
}

} // namespace emolens::test
