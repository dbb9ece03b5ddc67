#pragma once
// PathMap: where this machine finds the audio a workspace names. A workspace stores each clip's
// path as the machine that imported it saw it. A team's machines often mount the shared audio
// at different places (/mnt/lab/corpora on one, /Volumes/lab/corpora on another); a path map
// says, for this machine, which folder stands for which:
//
//   /mnt/lab/corpora=/Volumes/lab/corpora
//
// Paths read from the workspace go through toLocal() (the first entry whose stored folder
// holds the path), paths written to it through toStored() (the first entry whose local folder
// holds it), so a corpus imported on either machine is stored in the same form. A folder
// matches whole path components only: /mnt/lab does not hold /mnt/laboratory.
//
// Where it comes from (PathMap::forWorkspace): the EMOLENS_PATH_MAP variable, for every
// workspace, then what was set for the workspace in this process (the GUI sets it from its
// settings, File > Audio Folders on This Machine); the set entries come first. The Database
// takes its workspace's map when it opens; the repositories apply it.
//
// Threads: value type; the per-workspace registry is guarded and may be used from any thread.

#include "common/Status.h"

#include <QList>
#include <QPair>
#include <QString>

namespace emolens {

class PathMap
{
public:
    struct Entry
    {
        QString stored; // a folder as the workspace names it
        QString local;  // the same folder on this machine
        bool operator==(const Entry &o) const { return stored == o.stored && local == o.local; }
    };

    PathMap() = default;
    explicit PathMap(QList<Entry> entries);

    bool isEmpty() const { return m_entries.isEmpty(); }
    const QList<Entry> &entries() const { return m_entries; }
    QString toLocal(const QString &storedPath) const;
    QString toStored(const QString &localPath) const;

    // "STORED=LOCAL" entries separated by ';' or new lines; blank entries are skipped.
    // Fails, naming the entry, for one without '=', with an empty side, or with a side that is
    // not an absolute path.
    static Status parse(const QString &text, PathMap *out);
    // The entries as parse() reads them, one per line.
    QString text() const;

    // The map for the workspace shown as workspaceKey (WorkspaceLocation::display()): the
    // entries set for it in this process, then EMOLENS_PATH_MAP's. A malformed
    // EMOLENS_PATH_MAP is ignored here; environmentError() says why.
    static PathMap forWorkspace(const QString &workspaceKey);
    static void setForWorkspace(const QString &workspaceKey, const PathMap &map);
    static QString environmentError();

    bool operator==(const PathMap &o) const { return m_entries == o.m_entries; }

private:
    QList<Entry> m_entries;
};

} // namespace emolens
