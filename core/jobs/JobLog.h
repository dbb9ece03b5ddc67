#pragma once
// JobLog: every job a JobQueue ran - when it was queued, started and ended, how it ended, its
// summary and the item-by-item details (skipped files, failed clips) - so that someone who
// walked away from an hours-long run finds the result, after the status bar has moved on and
// after a restart. The GUI shows it in View > Job Log.
//
// Kept in a JSON file (the GUI uses the application's data folder), rewritten whole through
// QSaveFile at each start and end, so a crash never leaves half a file; the newest kMaxEntries
// are kept. A job that was waiting or running when the program ended shows as Interrupted at
// the next start. Two programs sharing the file each keep their own entries in memory and the
// last to write wins; the log is a record for the user, not a store of results.
//
// Threads: GUI thread (or the thread of the queues it watches). Create it, then watch() each
// queue; the log does not own the queues.

#include "jobs/Job.h"

#include <QDateTime>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

namespace emolens {

class JobQueue;

struct JobLogEntry
{
    enum class State { Waiting, Running, Ended, Interrupted };

    QString name;      // the job's name(), e.g. "Import demo"
    QString workspace; // the workspace that was open when it was queued (may be empty)
    QDateTime queued;
    QDateTime started; // invalid when it never started
    QDateTime ended;   // invalid while waiting or running
    State state = State::Waiting;
    JobOutcome outcome = JobOutcome::Succeeded; // meaningful once Ended
    QString summary;                            // the JobResult's, or the last progress message
    QStringList details;                        // the JobResult's details
    quint64 serial = 0; // identifies the entry while this log runs (not saved)

    // "succeeded", "failed", "cancelled", "stopped", "waiting", "running", "interrupted".
    QString stateText() const;
    // Seconds from start to end (or to now while running); negative when it never started.
    double seconds(const QDateTime &now = QDateTime::currentDateTimeUtc()) const;
};

class JobLog : public QObject
{
    Q_OBJECT

public:
    static constexpr int kMaxEntries = 200;

    // filePath: where the log is kept; empty keeps it in memory only. An unreadable or damaged
    // file starts an empty log (loadError() says why) and is replaced at the next write.
    explicit JobLog(QString filePath = QString(), QObject *parent = nullptr);

    void watch(JobQueue *queue);
    // The workspace recorded with jobs queued from now on.
    void setWorkspace(const QString &path) { m_workspace = path; }

    // Oldest first.
    const QList<JobLogEntry> &entries() const { return m_entries; }
    QString filePath() const { return m_filePath; }
    QString loadError() const { return m_loadError; }
    // The last write's error (empty when it worked).
    QString saveError() const { return m_saveError; }
    void clear();

Q_SIGNALS:
    void entryAdded(int index);
    void entryChanged(int index);
    // Entries were dropped from the front (the log keeps kMaxEntries), or all of them (clear).
    void entriesRemoved(int count);

private:
    void onQueued(JobQueue *queue, int id, const QString &name);
    void onStarted(JobQueue *queue, int id);
    void onProgress(JobQueue *queue, int id, const QString &message);
    void onFinished(JobQueue *queue, int id, const JobResult &result);
    int indexOf(JobQueue *queue, int id) const;
    void load();
    void save();

    QString m_filePath;
    QString m_workspace;
    QString m_loadError;
    QString m_saveError;
    QList<JobLogEntry> m_entries;
    struct Live
    {
        JobQueue *queue = nullptr;
        int id = 0;
        quint64 serial = 0; // of the entry, which may move as old entries are dropped
    };
    QList<Live> m_live; // jobs queued or running, by queue and id
    quint64 m_nextSerial = 1;
};

} // namespace emolens
