#include "common/PathMap.h"

#include <QDir>
#include <QHash>
#include <QMutex>
#include <QRegularExpression>

namespace emolens {

namespace {

QMutex &registryMutex()
{
    static QMutex mutex;
    return mutex;
}

QHash<QString, PathMap> &registry()
{
    static QHash<QString, PathMap> maps;
    return maps;
}

// A folder without its trailing separators ("/" stays "/").
QString folder(const QString &path)
{
    QString f = QDir::cleanPath(path.trimmed());
    while (f.size() > 1 && f.endsWith(u'/'))
        f.chop(1);
    return f;
}

// path with `from` (a folder holding it, whole components) replaced by `to`; empty when `from`
// does not hold it.
QString replacedPrefix(const QString &path, const QString &from, const QString &to)
{
    if (path == from)
        return to;
    const QString withSlash = from.endsWith(u'/') ? from : from + u'/';
    if (!path.startsWith(withSlash))
        return QString();
    const QString rest = path.mid(withSlash.size());
    return to.endsWith(u'/') ? to + rest : to + u'/' + rest;
}

bool isAbsolute(const QString &path)
{
    // Stored paths may come from another operating system: a drive letter counts too.
    static const QRegularExpression drive(QStringLiteral("^[A-Za-z]:[/\\\\]"));
    return path.startsWith(u'/') || drive.match(path).hasMatch();
}

} // namespace

PathMap::PathMap(QList<Entry> entries) : m_entries(std::move(entries)) {}

QString PathMap::toLocal(const QString &storedPath) const
{
    for (const Entry &e : m_entries)
        if (const QString mapped = replacedPrefix(storedPath, e.stored, e.local); !mapped.isEmpty())
            return mapped;
    return storedPath;
}

QString PathMap::toStored(const QString &localPath) const
{
    for (const Entry &e : m_entries)
        if (const QString mapped = replacedPrefix(localPath, e.local, e.stored); !mapped.isEmpty())
            return mapped;
    return localPath;
}

Status PathMap::parse(const QString &text, PathMap *out)
{
    QList<Entry> entries;
    static const QRegularExpression separators(QStringLiteral("[;\\n]"));
    for (const QString &raw : text.split(separators)) {
        const QString entry = raw.trimmed();
        if (entry.isEmpty())
            continue;
        const qsizetype eq = entry.indexOf(u'=');
        if (eq < 0)
            return Status::failure(
                QStringLiteral("path map entry \"%1\": write it as STORED=LOCAL (the folder as "
                               "the workspace names it, = , the folder on this machine)")
                    .arg(entry));
        const QString stored = folder(entry.left(eq));
        const QString local = folder(entry.mid(eq + 1));
        if (stored.isEmpty() || local.isEmpty())
            return Status::failure(
                QStringLiteral("path map entry \"%1\": both folders are needed").arg(entry));
        for (const QString &side : {stored, local})
            if (!isAbsolute(side))
                return Status::failure(
                    QStringLiteral("path map entry \"%1\": \"%2\" is not an absolute path")
                        .arg(entry, side));
        entries.append({stored, local});
    }
    *out = PathMap(entries);
    return Status::success();
}

QString PathMap::text() const
{
    QStringList lines;
    for (const Entry &e : m_entries)
        lines << e.stored + u'=' + e.local;
    return lines.join(u'\n');
}

PathMap PathMap::forWorkspace(const QString &workspaceKey)
{
    QList<Entry> entries;
    {
        QMutexLocker lock(&registryMutex());
        entries = registry().value(workspaceKey).entries();
    }
    PathMap fromEnvironment;
    if (parse(qEnvironmentVariable("EMOLENS_PATH_MAP"), &fromEnvironment))
        entries += fromEnvironment.entries();
    return PathMap(entries);
}

void PathMap::setForWorkspace(const QString &workspaceKey, const PathMap &map)
{
    QMutexLocker lock(&registryMutex());
    if (map.isEmpty())
        registry().remove(workspaceKey);
    else
        registry().insert(workspaceKey, map);
}

QString PathMap::environmentError()
{
    PathMap ignored;
    const Status st = parse(qEnvironmentVariable("EMOLENS_PATH_MAP"), &ignored);
    return st ? QString() : QStringLiteral("EMOLENS_PATH_MAP: %1").arg(st.error());
}

} // namespace emolens
