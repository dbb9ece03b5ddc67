#include "jobs/JobLog.h"

#include "jobs/JobQueue.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

namespace emolens {

namespace {

const QLatin1String kFormat("emolens-job-log-1");

QString stateName(JobLogEntry::State state)
{
    switch (state) {
    case JobLogEntry::State::Waiting:
        return QStringLiteral("waiting");
    case JobLogEntry::State::Running:
        return QStringLiteral("running");
    case JobLogEntry::State::Interrupted:
        return QStringLiteral("interrupted");
    case JobLogEntry::State::Ended:
        break;
    }
    return QStringLiteral("ended");
}

JobOutcome outcomeFromName(const QString &name)
{
    for (JobOutcome o :
         {JobOutcome::Succeeded, JobOutcome::Failed, JobOutcome::Cancelled, JobOutcome::Stopped})
        if (jobOutcomeName(o) == name)
            return o;
    return JobOutcome::Failed;
}

QString timeText(const QDateTime &t)
{
    return t.isValid() ? t.toUTC().toString(Qt::ISODateWithMs) : QString();
}

QDateTime timeFrom(const QJsonValue &v)
{
    QDateTime t = QDateTime::fromString(v.toString(), Qt::ISODateWithMs);
    if (t.isValid())
        t.setTimeSpec(Qt::UTC);
    return t;
}

} // namespace

QString JobLogEntry::stateText() const
{
    return state == State::Ended ? jobOutcomeName(outcome) : stateName(state);
}

double JobLogEntry::seconds(const QDateTime &now) const
{
    if (!started.isValid())
        return -1;
    const QDateTime end = ended.isValid() ? ended : now;
    return started.msecsTo(end) / 1000.0;
}

JobLog::JobLog(QString filePath, QObject *parent) : QObject(parent), m_filePath(std::move(filePath))
{
    load();
}

void JobLog::watch(JobQueue *queue)
{
    connect(queue, &JobQueue::jobQueued, this,
            [this, queue](int id, const QString &name) { onQueued(queue, id, name); });
    connect(queue, &JobQueue::jobStarted, this,
            [this, queue](int id, const QString &) { onStarted(queue, id); });
    connect(queue, &JobQueue::progress, this,
            [this, queue](int id, double, const QString &message, const QString &) {
                onProgress(queue, id, message);
            });
    connect(queue, &JobQueue::jobFinished, this,
            [this, queue](int id, const JobResult &result) { onFinished(queue, id, result); });
    connect(queue, &QObject::destroyed, this, [this, queue] {
        m_live.erase(std::remove_if(m_live.begin(), m_live.end(),
                                    [queue](const Live &l) { return l.queue == queue; }),
                     m_live.end());
    });
}

int JobLog::indexOf(JobQueue *queue, int id) const
{
    for (const Live &l : m_live) {
        if (l.queue != queue || l.id != id)
            continue;
        for (int i = int(m_entries.size()) - 1; i >= 0; --i)
            if (m_entries[i].serial == l.serial)
                return i;
    }
    return -1;
}

void JobLog::onQueued(JobQueue *queue, int id, const QString &name)
{
    JobLogEntry entry;
    entry.name = name;
    entry.workspace = m_workspace;
    entry.queued = QDateTime::currentDateTimeUtc();
    entry.serial = m_nextSerial++;
    m_live.append({queue, id, entry.serial});
    // Room first, so entryAdded() always names the last entry.
    int dropped = 0;
    while (m_entries.size() >= kMaxEntries) {
        m_entries.removeFirst();
        ++dropped;
    }
    if (dropped > 0)
        Q_EMIT entriesRemoved(dropped);
    m_entries.append(entry);
    Q_EMIT entryAdded(int(m_entries.size()) - 1);
    save();
}

void JobLog::onStarted(JobQueue *queue, int id)
{
    const int i = indexOf(queue, id);
    if (i < 0)
        return;
    m_entries[i].state = JobLogEntry::State::Running;
    m_entries[i].started = QDateTime::currentDateTimeUtc();
    Q_EMIT entryChanged(i);
    save();
}

void JobLog::onProgress(JobQueue *queue, int id, const QString &message)
{
    // Shown while it runs; not written to the file (a progress line every second or so would
    // rewrite it that often for nothing the result will not say better).
    const int i = indexOf(queue, id);
    if (i < 0 || message.isEmpty() || m_entries[i].summary == message)
        return;
    m_entries[i].summary = message;
    Q_EMIT entryChanged(i);
}

void JobLog::onFinished(JobQueue *queue, int id, const JobResult &result)
{
    const int i = indexOf(queue, id);
    m_live.erase(
        std::remove_if(m_live.begin(), m_live.end(),
                       [queue, id](const Live &l) { return l.queue == queue && l.id == id; }),
        m_live.end());
    if (i < 0)
        return;
    JobLogEntry &e = m_entries[i];
    e.state = JobLogEntry::State::Ended;
    e.ended = QDateTime::currentDateTimeUtc();
    e.outcome = result.outcome;
    if (!result.summary.isEmpty())
        e.summary = result.summary;
    e.details = result.details;
    Q_EMIT entryChanged(i);
    save();
}

void JobLog::clear()
{
    const int count = int(m_entries.size());
    // Jobs still waiting or running stay: their end is still to come.
    QList<JobLogEntry> kept;
    for (const JobLogEntry &e : std::as_const(m_entries))
        if (e.state == JobLogEntry::State::Waiting || e.state == JobLogEntry::State::Running)
            kept.append(e);
    m_entries.clear();
    Q_EMIT entriesRemoved(count);
    for (const JobLogEntry &e : std::as_const(kept)) {
        m_entries.append(e);
        Q_EMIT entryAdded(int(m_entries.size()) - 1);
    }
    save();
}

void JobLog::load()
{
    if (m_filePath.isEmpty() || !QFileInfo::exists(m_filePath))
        return;
    QFile file(m_filePath);
    if (!file.open(QIODevice::ReadOnly)) {
        m_loadError = QStringLiteral("%1: %2").arg(m_filePath, file.errorString());
        return;
    }
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject() ||
        doc.object().value(QStringLiteral("format")).toString() != kFormat) {
        m_loadError = QStringLiteral("%1: not a job log (%2); it starts again")
                          .arg(m_filePath, error.error != QJsonParseError::NoError
                                               ? error.errorString()
                                               : QStringLiteral("unknown format"));
        return;
    }
    const QJsonArray jobs = doc.object().value(QStringLiteral("jobs")).toArray();
    for (const QJsonValue &v : jobs) {
        const QJsonObject o = v.toObject();
        JobLogEntry e;
        e.name = o.value(QStringLiteral("name")).toString();
        if (e.name.isEmpty())
            continue;
        e.workspace = o.value(QStringLiteral("workspace")).toString();
        e.queued = timeFrom(o.value(QStringLiteral("queued")));
        e.started = timeFrom(o.value(QStringLiteral("started")));
        e.ended = timeFrom(o.value(QStringLiteral("ended")));
        const QString state = o.value(QStringLiteral("state")).toString();
        if (state == stateName(JobLogEntry::State::Ended)) {
            e.state = JobLogEntry::State::Ended;
            e.outcome = outcomeFromName(o.value(QStringLiteral("outcome")).toString());
        } else {
            // Waiting, running or interrupted when the file was written: the program that ran
            // it ended without saying how the job ended.
            e.state = JobLogEntry::State::Interrupted;
        }
        e.summary = o.value(QStringLiteral("summary")).toString();
        for (const QJsonValue &d : o.value(QStringLiteral("details")).toArray())
            e.details.append(d.toString());
        e.serial = m_nextSerial++;
        m_entries.append(e);
    }
    while (m_entries.size() > kMaxEntries)
        m_entries.removeFirst();
}

void JobLog::save()
{
    if (m_filePath.isEmpty())
        return;
    QJsonArray jobs;
    for (const JobLogEntry &e : std::as_const(m_entries)) {
        QJsonObject o;
        o.insert(QStringLiteral("name"), e.name);
        if (!e.workspace.isEmpty())
            o.insert(QStringLiteral("workspace"), e.workspace);
        o.insert(QStringLiteral("queued"), timeText(e.queued));
        if (e.started.isValid())
            o.insert(QStringLiteral("started"), timeText(e.started));
        if (e.ended.isValid())
            o.insert(QStringLiteral("ended"), timeText(e.ended));
        o.insert(QStringLiteral("state"), stateName(e.state));
        if (e.state == JobLogEntry::State::Ended)
            o.insert(QStringLiteral("outcome"), jobOutcomeName(e.outcome));
        o.insert(QStringLiteral("summary"), e.summary);
        if (!e.details.isEmpty())
            o.insert(QStringLiteral("details"), QJsonArray::fromStringList(e.details));
        jobs.append(o);
    }
    QJsonObject root;
    root.insert(QStringLiteral("format"), kFormat);
    root.insert(QStringLiteral("jobs"), jobs);
    QDir().mkpath(QFileInfo(m_filePath).absolutePath());
    QSaveFile file(m_filePath);
    if (!file.open(QIODevice::WriteOnly) ||
        file.write(QJsonDocument(root).toJson(QJsonDocument::Indented)) < 0 || !file.commit()) {
        m_saveError = QStringLiteral("%1: %2").arg(m_filePath, file.errorString());
        return;
    }
    m_saveError.clear();
}

} // namespace emolens
