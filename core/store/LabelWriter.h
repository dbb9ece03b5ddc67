#pragma once
// LabelWriter: writes a person's label edits to the store on a thread of its own, in the
// order they were made, so that the GUI never waits for the workspace's write lock. While
// another process or a job holds the lock (an import commits in one transaction), edits wait
// in the queue and are written as soon as the lock frees; none is dropped. A write that
// fails for any other reason (the disk is full, the file went away) is reported and the
// queue goes on.
//
// The window shows an edit as soon as it is queued (LabelingController keeps the unsaved
// value on top of what the store says) and refreshes from the store when written() arrives.
//
// On a server workspace (PostgreSQL) the connection can drop. The writer notices within
// seconds - a write that fails, or a ping every few seconds while idle - says offline(true),
// keeps queueing edits, tries to reconnect every second, and when it is back writes the queue
// in order and says offline(false). Every edit carries a client key (a UUID): an edit whose
// write committed just before the connection dropped is not stored twice. The queue is also
// kept in a journal file (WorkspaceLocation::companionPath(".journal"), one file per running
// writer, rewritten atomically on every change), so edits typed while offline survive a crash
// or a kill: the next writer on that workspace adopts the journals of writers that are gone
// and writes their edits first.
//
// Ownership and threads: create, use and delete on the GUI thread. The writer opens its own
// Database connection on its worker thread. The destructor stops after the write in progress
// and drops what is still queued, so an owner that closes waits for drained() first while
// unsavedCount() > 0 (the window says so and asks).

#include "common/Status.h"
#include "store/Records.h"

#include <QObject>
#include <QString>
#include <memory>

namespace emolens {

struct LabelWrite
{
    qint64 utteranceId = 0;
    qint64 schemaId = 0;
    QString annotator;
    LabelValue value;
    LabelAction action = LabelAction::Edit;
    QString clientKey; // made by enqueue() when empty
};

class LabelWriter : public QObject
{
    Q_OBJECT

public:
    explicit LabelWriter(const QString &databasePath, QObject *parent = nullptr);
    ~LabelWriter() override;

    // Queues the write; returns its ticket (increasing from 1).
    quint64 enqueue(const LabelWrite &write);
    // Edits queued or being written.
    int unsavedCount() const;
    // True while the writer waits for another connection's write lock.
    bool isWaitingForLock() const;
    // True while a server workspace cannot be reached (edits wait in the journal).
    bool isOffline() const;
    // The journal file of this writer (empty for an SQLite workspace).
    QString journalPath() const;

Q_SIGNALS:
    // One per enqueued write, in order; status fails only for reasons other than the lock.
    void written(quint64 ticket, qint64 utteranceId, const emolens::Status &status);
    // The writer started (true) or stopped (false) waiting for the workspace's write lock.
    void waitingForLock(bool waiting);
    // Every queued edit is written.
    void drained();
    // The server went away (true) or is back and the queue is being written (false).
    void offline(bool isOffline);
    // Edits left in the journals of writers that are gone were queued again, first.
    void adopted(int edits);

private:
    struct Shared;
    std::shared_ptr<Shared> m_shared;
    class QThread *m_thread = nullptr;
};

} // namespace emolens
