#include "common/WorkspaceLocation.h"

#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QMutex>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QUrl>
#include <QUrlQuery>

namespace emolens {

namespace {

QMutex &passwordsLock()
{
    static QMutex lock;
    return lock;
}

QHash<QString, QString> &passwords()
{
    static QHash<QString, QString> remembered;
    return remembered;
}

} // namespace

void WorkspaceLocation::rememberPassword(const QString &shownUrl, const QString &password)
{
    QMutexLocker lock(&passwordsLock());
    if (password.isEmpty())
        passwords().remove(shownUrl);
    else
        passwords().insert(shownUrl, password);
}

bool WorkspaceLocation::isServerUrl(const QString &text)
{
    const QString t = text.trimmed();
    return t.startsWith(QLatin1String("postgresql://"), Qt::CaseInsensitive) ||
           t.startsWith(QLatin1String("postgres://"), Qt::CaseInsensitive);
}

WorkspaceLocation WorkspaceLocation::parse(const QString &text)
{
    WorkspaceLocation loc;
    if (!isServerUrl(text)) {
        loc.m_filePath = text;
        return loc;
    }
    loc.m_backend = Backend::PostgreSQL;
    const QUrl url(text.trimmed(), QUrl::StrictMode);
    // Shown in errors: what was typed, less any password.
    QString shown = text.trimmed();
    shown.replace(QRegularExpression(QStringLiteral("^([a-zA-Z]+://[^:@/]*):[^@/]*@")),
                  QStringLiteral("\\1@"));
    if (!url.isValid()) {
        loc.m_error = QStringLiteral("%1: not a PostgreSQL URL (%2)").arg(shown, url.errorString());
        return loc;
    }
    loc.m_user = url.userName();
    loc.m_password = url.password();
    loc.m_host = url.host();
    loc.m_port = url.port(5432);
    loc.m_database = url.path().mid(1);
    const QUrlQuery query(url);
    for (const auto &[key, value] : query.queryItems(QUrl::FullyDecoded))
        loc.m_options.insert(key, value);
    if (loc.m_options.contains(QStringLiteral("host")))
        loc.m_host = loc.m_options.take(QStringLiteral("host"));
    if (loc.m_options.contains(QStringLiteral("port")))
        loc.m_port = loc.m_options.take(QStringLiteral("port")).toInt();
    if (loc.m_options.contains(QStringLiteral("user")))
        loc.m_user = loc.m_options.take(QStringLiteral("user"));
    if (loc.m_options.contains(QStringLiteral("dbname")))
        loc.m_database = loc.m_options.take(QStringLiteral("dbname"));
    if (loc.m_options.contains(QStringLiteral("password")))
        loc.m_password = loc.m_options.take(QStringLiteral("password"));
    if (loc.m_database.isEmpty() || loc.m_database.contains(QLatin1Char('/')))
        loc.m_error =
            QStringLiteral("%1: the URL names no database (postgresql://USER@HOST/DATABASE)")
                .arg(shown);
    else if (loc.m_port <= 0 || loc.m_port > 65535)
        loc.m_error = QStringLiteral("%1: %2 is not a port").arg(shown).arg(loc.m_port);
    if (loc.m_password.isEmpty()) {
        QMutexLocker lock(&passwordsLock());
        loc.m_password = passwords().value(loc.display());
    }
    return loc;
}

QString WorkspaceLocation::key() const
{
    return isServer() ? display() : QFileInfo(m_filePath).absoluteFilePath();
}

QString WorkspaceLocation::display() const
{
    if (!isServer())
        return m_filePath;
    QUrl url;
    url.setScheme(QStringLiteral("postgresql"));
    url.setUserName(m_user);
    const bool socket = m_host.startsWith(QLatin1Char('/'));
    if (!socket)
        url.setHost(m_host.isEmpty() ? QStringLiteral("localhost") : m_host);
    if (m_port != 5432)
        url.setPort(m_port);
    url.setPath(QLatin1Char('/') + m_database);
    QUrlQuery query;
    if (socket)
        query.addQueryItem(QStringLiteral("host"), m_host);
    for (auto it = m_options.cbegin(); it != m_options.cend(); ++it)
        query.addQueryItem(it.key(), it.value());
    url.setQuery(query);
    return url.toString();
}

QString WorkspaceLocation::folderName() const
{
    if (!isServer())
        return QFileInfo(m_filePath).completeBaseName();
    QString host =
        m_host.isEmpty() || m_host.startsWith(QLatin1Char('/')) ? QStringLiteral("local") : m_host;
    QString name = QStringLiteral("%1_%2_%3").arg(host).arg(m_port).arg(m_database);
    name.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]")), QStringLiteral("_"));
    return name;
}

QString WorkspaceLocation::companionPath(const QString &suffix) const
{
    if (!isServer()) {
        const QFileInfo info(m_filePath);
        return info.absoluteDir().filePath(info.completeBaseName() + suffix);
    }
    const QString cache = QStandardPaths::writableLocation(QStandardPaths::GenericCacheLocation);
    return QDir(cache).filePath(QStringLiteral("emolens/") + folderName() + suffix);
}

bool WorkspaceLocation::isMissingFile(const QString &text)
{
    return !isServerUrl(text) && !QFileInfo::exists(text);
}

} // namespace emolens
