#pragma once
// WorkspaceSession: the open workspace of a window - its GUI-thread Database connection, its
// path, and what the views need of it at hand (corpora, each corpus's current label set and
// speakers), plus the recent-workspaces list in QSettings. It opens and creates workspaces
// safely: nothing is closed before the new one is open, a missing file is created only when
// asked, and a file that is not a workspace is refused untouched with one plain message.
//
// The window decides *whether* the workspace may change (no job running, no label waiting);
// the session does the change and says so: opened() after a switch, closed() after a close,
// reloaded() after reload().
//
// Ownership and threads: GUI thread only. Jobs open their own connections from path().

#include "common/PathMap.h"
#include "common/Status.h"
#include "store/Records.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>
#include <memory>

namespace emolens {

class Database;

class WorkspaceSession : public QObject
{
    Q_OBJECT

public:
    enum class IfMissing { Refuse, Create };

    explicit WorkspaceSession(QObject *parent = nullptr);
    ~WorkspaceSession() override;

    // Opens the workspace at path - a file, or a team's postgresql:// URL - in place of the
    // open one (which stays open on failure). path() is then the file, or the URL without
    // any password.
    Status open(const QString &path, IfMissing ifMissing = IfMissing::Refuse);
    // Connects the open server workspace again (after the server was away) and re-reads it.
    Status reconnect();
    // Replaces the file at path (with its -wal and -shm) by a new empty workspace and opens
    // it. Refused for the workspace that is open.
    Status create(const QString &path);
    void close();

    bool isOpen() const { return m_db != nullptr; }
    Database *database() const { return m_db.get(); }
    const QString &path() const { return m_path; }

    // Re-reads the corpora, their label sets and speakers.
    void reload();
    QList<CorpusRecord> corpora() const;
    CorpusRecord corpus(qint64 corpusId) const { return m_corpora.value(corpusId); }
    LabelSchema labelSet(qint64 corpusId) const { return m_labelSets.value(corpusId); }
    QList<LabelSchema> labelSets() const { return m_labelSets.values(); }
    QList<SpeakerRecord> speakers(qint64 corpusId) const { return m_speakers.value(corpusId); }
    const QHash<qint64, QList<SpeakerRecord>> &allSpeakers() const { return m_speakers; }

    // Where this machine finds the open workspace's audio (File > Audio Folders on This
    // Machine): kept in QSettings per workspace ("workspace/pathMaps"), applied to every
    // connection this process opens to it (PathMap::forWorkspace), jobs' included.
    PathMap pathMap() const;
    // Saves and applies it, then re-reads the workspace (reloaded()).
    Status setPathMap(const PathMap &map);
    // The map saved for a workspace (its WorkspaceLocation::key()).
    static PathMap savedPathMap(const QString &workspaceKey);

    // Workspaces opened before, newest first, those that still exist.
    static QStringList recentWorkspaces();
    static constexpr int kMaxRecent = 8;

Q_SIGNALS:
    void aboutToClose();
    void opened(const QString &path);
    void closed();
    void reloaded();

private:
    Status openServer(const QString &url);
    static void rememberRecent(const QString &path);
    // Registers the saved path map of the workspace at `location` before it opens.
    static void applySavedPathMap(const QString &location);

    std::unique_ptr<Database> m_db;
    QString m_path;
    QHash<qint64, CorpusRecord> m_corpora;
    QHash<qint64, LabelSchema> m_labelSets; // by corpus id
    QHash<qint64, QList<SpeakerRecord>> m_speakers;
};

} // namespace emolens
