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

Q_SIGNALS:
    // One per enqueued write, in order; status fails only for reasons other than the lock.
    void written(quint64 ticket, qint64 utteranceId, const emolens::Status &status);
    // The writer started (true) or stopped (false) waiting for the workspace's write lock.
    void waitingForLock(bool waiting);
    // Every queued edit is written.
    void drained();

private:
    struct Shared;
    std::shared_ptr<Shared> m_shared;
    class QThread *m_thread = nullptr;
};

} // namespace emolens
