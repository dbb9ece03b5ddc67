#include "WorkspaceSession.h"

#include "common/WorkspaceLocation.h"

#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "store/ModelRepository.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSettings>
#include <algorithm>

namespace emolens {

WorkspaceSession::WorkspaceSession(QObject *parent) : QObject(parent) {}

WorkspaceSession::~WorkspaceSession() = default;

Status WorkspaceSession::open(const QString &path, IfMissing ifMissing)
{
    if (path.trimmed().isEmpty())
        return Status::failure(tr("No workspace file given"));
    if (WorkspaceLocation::isServerUrl(path))
        return openServer(path);
    const QString absolute = QFileInfo(path).absoluteFilePath();
    const QString shown = QDir::toNativeSeparators(absolute);
    if (!QFileInfo(absolute).dir().exists())
        return Status::failure(tr("%1: the folder does not exist").arg(shown));
    if (!QFileInfo::exists(absolute) && ifMissing == IfMissing::Refuse)
        return Status::failure(tr("%1 does not exist. Use File > New Workspace to create a "
                                  "workspace.")
                                   .arg(shown));
    applySavedPathMap(absolute);
    auto db = std::make_unique<Database>(absolute);
    if (auto st = db->open(); !st) {
        // The store names the file first; say it once, then why.
        QString why = st.error();
        if (why.startsWith(absolute + QStringLiteral(": ")))
            why = why.mid(absolute.size() + 2);
        return Status::failure(tr("Cannot open %1: %2").arg(shown, why));
    }
    close();
    m_db = std::move(db);
    m_path = absolute;
    // A training run a crash left "running" is marked interrupted (a run of another living
    // process is left alone).
    ModelRepository(*m_db).markInterruptedRuns();
    rememberRecent(absolute);
    reload();
    Q_EMIT opened(absolute);
    return Status::success();
}

Status WorkspaceSession::openServer(const QString &url)
{
    applySavedPathMap(url.trimmed());
    auto db = std::make_unique<Database>(url.trimmed());
    const QString shown = db->filePath(); // the URL without any password
    if (auto st = db->open(); !st) {
        QString why = st.error();
        if (why.startsWith(shown + QStringLiteral(": ")))
            why = why.mid(shown.size() + 2);
        return Status::failure(tr("Cannot open %1: %2").arg(shown, why));
    }
    close();
    m_db = std::move(db);
    m_path = shown;
    ModelRepository(*m_db).markInterruptedRuns();
    rememberRecent(shown);
    reload();
    Q_EMIT opened(shown);
    return Status::success();
}

Status WorkspaceSession::reconnect()
{
    if (!m_db)
        return Status::failure(tr("No workspace is open"));
    if (auto st = m_db->reconnect(); !st)
        return st;
    reload();
    return Status::success();
}

Status WorkspaceSession::create(const QString &path)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    if (!m_path.isEmpty() && absolute == m_path)
        return Status::failure(tr("%1 is the workspace that is open; choose another name for the "
                                  "new one.")
                                   .arg(QDir::toNativeSeparators(absolute)));
    // A replaced workspace goes with its write-ahead log and shared-memory index: a stale log
    // would otherwise be replayed into the new file.
    for (const QString &suffix : {QString(), QStringLiteral("-wal"), QStringLiteral("-shm")}) {
        const QString file = absolute + suffix;
        if (QFileInfo::exists(file) && !QFile::remove(file))
            return Status::failure(
                tr("%1 exists and cannot be replaced.").arg(QDir::toNativeSeparators(file)));
    }
    return open(absolute, IfMissing::Create);
}

void WorkspaceSession::close()
{
    if (!m_db)
        return;
    Q_EMIT aboutToClose();
    m_corpora.clear();
    m_labelSets.clear();
    m_speakers.clear();
    m_db.reset();
    m_path.clear();
    Q_EMIT closed();
}

void WorkspaceSession::reload()
{
    m_corpora.clear();
    m_labelSets.clear();
    m_speakers.clear();
    if (!m_db)
        return;
    CorpusRepository corpora(*m_db);
    LabelRepository labels(*m_db);
    for (const CorpusRecord &c : corpora.corpora()) {
        m_corpora.insert(c.id, c);
        if (auto set = labels.schema(c.labelSchemaId))
            m_labelSets.insert(c.id, *set);
        m_speakers.insert(c.id, corpora.speakers(c.id));
    }
    Q_EMIT reloaded();
}

QList<CorpusRecord> WorkspaceSession::corpora() const
{
    QList<CorpusRecord> out = m_corpora.values();
    std::sort(out.begin(), out.end(),
              [](const CorpusRecord &a, const CorpusRecord &b) { return a.name < b.name; });
    return out;
}

namespace {
const QString kPathMapsKey = QStringLiteral("workspace/pathMaps");
}

PathMap WorkspaceSession::savedPathMap(const QString &workspaceKey)
{
    PathMap map;
    const QVariantMap saved = QSettings().value(kPathMapsKey).toMap();
    if (!PathMap::parse(saved.value(workspaceKey).toString(), &map))
        return PathMap(); // an edited settings file: no map rather than half of one
    return map;
}

void WorkspaceSession::applySavedPathMap(const QString &location)
{
    const QString key = WorkspaceLocation::parse(location).key();
    PathMap::setForWorkspace(key, savedPathMap(key));
}

PathMap WorkspaceSession::pathMap() const
{
    return m_db ? savedPathMap(m_db->location().key()) : PathMap();
}

Status WorkspaceSession::setPathMap(const PathMap &map)
{
    if (!m_db)
        return Status::failure(tr("No workspace is open"));
    const QString key = m_db->location().key();
    QSettings settings;
    QVariantMap saved = settings.value(kPathMapsKey).toMap();
    if (map.isEmpty())
        saved.remove(key);
    else
        saved.insert(key, map.text());
    settings.setValue(kPathMapsKey, saved);
    PathMap::setForWorkspace(key, map);
    m_db->setPathMap(PathMap::forWorkspace(key));
    reload();
    return Status::success();
}

QStringList WorkspaceSession::recentWorkspaces()
{
    QStringList out;
    for (const QString &path : QSettings().value(QStringLiteral("workspace/recent")).toStringList())
        if (!WorkspaceLocation::isMissingFile(path))
            out << path;
    return out;
}

void WorkspaceSession::rememberRecent(const QString &path)
{
    QSettings settings;
    QStringList recent = settings.value(QStringLiteral("workspace/recent")).toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > kMaxRecent)
        recent.removeLast();
    settings.setValue(QStringLiteral("workspace/recent"), recent);
    settings.setValue(QStringLiteral("workspace/last"), path);
}

} // namespace emolens
