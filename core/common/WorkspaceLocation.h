#pragma once
// WorkspaceLocation: where a workspace lives - an SQLite file (the embedded default, one
// person) or a PostgreSQL database on a server (a team). Parsed from what the user typed or
// what --db got:
//
//   /home/ana/iemocap.emolens                        an SQLite file
//   postgresql://ana@labserver:5432/iemocap          a PostgreSQL database
//   postgres://ana@labserver/iemocap?sslmode=require (query items go to libpq as they are)
//
// A password is never part of what is shown or stored: libpq reads it from ~/.pgpass (or the
// file PGPASSFILE names), or the GUI asks for it. A password typed into the URL is used for
// the connection and dropped from display() and from everything kept in settings.

#include <QMap>
#include <QString>

namespace emolens {

class WorkspaceLocation
{
public:
    enum class Backend { SQLite, PostgreSQL };

    // Empty text parses as an SQLite location with an empty path (the caller reports it).
    static WorkspaceLocation parse(const QString &text);
    static bool isServerUrl(const QString &text);

    Backend backend() const { return m_backend; }
    bool isServer() const { return m_backend == Backend::PostgreSQL; }
    bool isValid() const { return m_error.isEmpty(); }
    // Why a server URL could not be read, naming the URL (without its password).
    const QString &error() const { return m_error; }

    // SQLite: the file's path.
    const QString &filePath() const { return m_filePath; }

    // PostgreSQL: the parts of the URL. host is empty for the local socket; port is 5432 where
    // the URL gives none.
    const QString &user() const { return m_user; }
    const QString &host() const { return m_host; }
    int port() const { return m_port; }
    const QString &databaseName() const { return m_database; }
    const QString &password() const { return m_password; }
    // libpq parameters from the URL's query (sslmode, connect_timeout, host=/socket/dir ...).
    const QMap<QString, QString> &options() const { return m_options; }

    // What the user sees and what settings keep: the file path, or the URL without password.
    QString display() const;
    // What names the workspace in this process's registries (PathMap::forWorkspace): the
    // file's absolute path, or display().
    QString key() const;
    // A name safe for a folder: the file's base name, or host_port_database.
    QString folderName() const;
    // Where the workspace's local companions live (its feature cache ".features", its runs'
    // checkpoints ".runs"): beside an SQLite file (iemocap.emolens -> iemocap.features); for
    // a server workspace, in this machine's cache folder (~/.cache/emolens/HOST_PORT_DB.features),
    // since the database cannot hold them.
    QString companionPath(const QString &suffix) const;
    // True only for an SQLite location whose file is not there (a server URL is checked by
    // connecting to it).
    static bool isMissingFile(const QString &text);

    // Passwords live in this process's memory only: a connection that succeeded with a
    // password (typed into the URL or asked for) remembers it under the URL without it, so
    // the program's other connections to that workspace (jobs, the label writer) sign in too.
    // Never written to disk.
    static void rememberPassword(const QString &shownUrl, const QString &password);

private:
    Backend m_backend = Backend::SQLite;
    QString m_error;
    QString m_filePath;
    QString m_user;
    QString m_host;
    int m_port = 5432;
    QString m_database;
    QString m_password;
    QMap<QString, QString> m_options;
};

} // namespace emolens
