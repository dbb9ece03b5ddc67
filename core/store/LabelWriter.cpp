#include "store/LabelWriter.h"

#include "common/WorkspaceLocation.h"
#include "store/Database.h"
#include "store/LabelRepository.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLockFile>
#include <QMutex>
#include <QPointer>
#include <QQueue>
#include <QSaveFile>
#include <QThread>
#include <QUuid>
#include <QWaitCondition>
#include <cmath>

namespace emolens {

namespace {

// How long one attempt waits for the lock before the writer looks again (and at stop()).
constexpr int kAttemptBusyMs = 200;
// While idle on a server workspace, the writer asks the server this often whether it is there.
constexpr int kPingMs = 3000;
// While offline, it tries to connect again this often.
constexpr int kReconnectMs = 1000;

QJsonObject toJson(const LabelWrite &w)
{
    QJsonObject dims;
    for (auto it = w.value.dimensions.cbegin(); it != w.value.dimensions.cend(); ++it)
        dims.insert(it.key(), it.value());
    return {{QStringLiteral("key"), w.clientKey},
            {QStringLiteral("utterance"), w.utteranceId},
            {QStringLiteral("schema"), w.schemaId},
            {QStringLiteral("annotator"), w.annotator},
            {QStringLiteral("action"), labelActionName(w.action)},
            {QStringLiteral("category"), w.value.category},
            {QStringLiteral("dimensions"), dims},
            {QStringLiteral("confidence"),
             std::isnan(w.value.confidence) ? QJsonValue() : QJsonValue(w.value.confidence)},
            {QStringLiteral("notes"), w.value.notes}};
}

bool fromJson(const QJsonObject &o, LabelWrite *w)
{
    w->clientKey = o.value(QStringLiteral("key")).toString();
    w->utteranceId = o.value(QStringLiteral("utterance")).toInteger();
    w->schemaId = o.value(QStringLiteral("schema")).toInteger();
    w->annotator = o.value(QStringLiteral("annotator")).toString();
    w->action = labelActionFromName(o.value(QStringLiteral("action")).toString());
    w->value.category = o.value(QStringLiteral("category")).toString();
    const QJsonObject dims = o.value(QStringLiteral("dimensions")).toObject();
    for (auto it = dims.begin(); it != dims.end(); ++it)
        w->value.dimensions.insert(it.key(), it.value().toDouble());
    const QJsonValue confidence = o.value(QStringLiteral("confidence"));
    w->value.confidence = confidence.isDouble() ? confidence.toDouble() : std::nan("");
    w->value.notes = o.value(QStringLiteral("notes")).toString();
    return !w->clientKey.isEmpty() && w->utteranceId > 0 && !w->annotator.isEmpty();
}

// The edits a journal file holds, in order (a torn last line is skipped).
QList<LabelWrite> readJournal(const QString &path)
{
    QList<LabelWrite> out;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return out;
    while (!f.atEnd()) {
        const QByteArray line = f.readLine().trimmed();
        LabelWrite w;
        if (!line.isEmpty() && fromJson(QJsonDocument::fromJson(line).object(), &w))
            out << w;
    }
    return out;
}

} // namespace

struct LabelWriter::Shared
{
    QMutex mutex;
    QWaitCondition wake;
    QQueue<QPair<quint64, LabelWrite>> queue;
    bool stop = false;
    bool waitingForLock = false;
    bool offline = false;
    quint64 nextTicket = 1;
    QString journal; // empty: no journal (an SQLite workspace)
    std::unique_ptr<QLockFile> journalLock;

    // Writes the queue to the journal; call with the mutex held.
    void saveJournal()
    {
        if (journal.isEmpty())
            return;
        if (queue.isEmpty()) {
            QFile::remove(journal);
            return;
        }
        QSaveFile f(journal);
        if (!f.open(QIODevice::WriteOnly))
            return;
        for (const auto &item : std::as_const(queue))
            f.write(QJsonDocument(toJson(item.second)).toJson(QJsonDocument::Compact) + '\n');
        f.commit();
    }
};

LabelWriter::LabelWriter(const QString &databasePath, QObject *parent)
    : QObject(parent), m_shared(std::make_shared<Shared>())
{
    qRegisterMetaType<emolens::Status>("emolens::Status");
    QPointer<LabelWriter> self(this);
    auto shared = m_shared;

    int adoptedEdits = 0;
    const WorkspaceLocation location = WorkspaceLocation::parse(databasePath);
    if (location.isServer()) {
        const QDir folder(location.companionPath(QStringLiteral(".journal")));
        if (QDir().mkpath(folder.path())) {
            const QString mine = folder.filePath(QStringLiteral("labels-%1-%2.jsonl")
                                                     .arg(QCoreApplication::applicationPid())
                                                     .arg(QDateTime::currentMSecsSinceEpoch()));
            auto lock = std::make_unique<QLockFile>(mine + QStringLiteral(".lock"));
            lock->setStaleLockTime(0); // only a dead owner's lock is stale
            if (lock->tryLock(0)) {
                shared->journal = mine;
                shared->journalLock = std::move(lock);
                // The journals of writers that are gone (crashed, killed): their edits first.
                const QStringList others = folder.entryList({QStringLiteral("labels-*.jsonl")},
                                                            QDir::Files, QDir::Name | QDir::Time);
                for (const QString &name : others) {
                    const QString path = folder.filePath(name);
                    if (path == mine)
                        continue;
                    QLockFile theirs(path + QStringLiteral(".lock"));
                    theirs.setStaleLockTime(0);
                    if (!theirs.tryLock(0))
                        continue; // its writer is alive
                    for (const LabelWrite &w : readJournal(path)) {
                        shared->queue.enqueue({shared->nextTicket++, w});
                        ++adoptedEdits;
                    }
                    QFile::remove(path);
                    theirs.unlock();
                }
                shared->saveJournal();
            }
        }
    }

    // Deliveries are queued to the writer's thread and dropped once it is gone.
    auto deliver = [self](std::function<void(LabelWriter *)> f) {
        QMetaObject::invokeMethod(
            self.data(),
            [self, f] {
                if (self)
                    f(self.data());
            },
            Qt::QueuedConnection);
    };
    if (adoptedEdits > 0)
        deliver([adoptedEdits](LabelWriter *writer) { Q_EMIT writer->adopted(adoptedEdits); });
    m_thread = QThread::create([shared, databasePath, deliver] {
        Database db(databasePath);
        Status opened = db.open();
        if (opened)
            db.setBusyTimeout(kAttemptBusyMs);
        const bool server = db.isServer();
        // Offline until the server answers again; false when stopped meanwhile.
        const auto waitForServer = [&]() -> bool {
            {
                QMutexLocker lock(&shared->mutex);
                shared->offline = true;
            }
            deliver([](LabelWriter *writer) { Q_EMIT writer->offline(true); });
            for (;;) {
                {
                    QMutexLocker lock(&shared->mutex);
                    if (shared->stop)
                        return false;
                    shared->wake.wait(&shared->mutex, kReconnectMs);
                    if (shared->stop)
                        return false;
                }
                if (db.reconnect()) {
                    db.setBusyTimeout(kAttemptBusyMs);
                    opened = Status::success();
                    break;
                }
            }
            {
                QMutexLocker lock(&shared->mutex);
                shared->offline = false;
            }
            deliver([](LabelWriter *writer) { Q_EMIT writer->offline(false); });
            return true;
        };
        if (!opened && server && !waitForServer())
            return;
        for (;;) {
            QPair<quint64, LabelWrite> item;
            bool ping = false;
            {
                QMutexLocker lock(&shared->mutex);
                while (shared->queue.isEmpty() && !shared->stop) {
                    if (server && !shared->wake.wait(&shared->mutex, kPingMs)) {
                        ping = true;
                        break;
                    }
                    if (!server)
                        shared->wake.wait(&shared->mutex);
                }
                if (shared->stop)
                    return;
                if (!ping)
                    item = shared->queue.head(); // stays queued (and counted) until written
            }
            if (ping) {
                if (!db.isAlive() && !waitForServer())
                    return;
                continue;
            }
            const LabelWrite &w = item.second;
            Status st;
            bool waited = false;
            int otherFailures = 0;
            for (;;) {
                st = opened ? LabelRepository(db).setLabel(w.utteranceId, w.schemaId, w.annotator,
                                                           w.value, nullptr, w.action, w.clientKey)
                            : opened;
                if (st || !opened)
                    break;
                if (server && !db.isAlive()) {
                    // The server went away: keep the edit, wait for it, write it again (its
                    // key makes a write that did commit count once).
                    if (!waitForServer())
                        return;
                    continue;
                }
                if (db.isWriteLocked()) {
                    // The only failure worth waiting for: look again every 100 ms (plus the
                    // attempt's own busy wait) until the holder lets go.
                    if (!waited) {
                        waited = true;
                        {
                            QMutexLocker lock(&shared->mutex);
                            shared->waitingForLock = true;
                        }
                        deliver([](LabelWriter *writer) { Q_EMIT writer->waitingForLock(true); });
                    }
                    QMutexLocker lock(&shared->mutex);
                    if (shared->stop)
                        return; // the owner gave up on the queue
                    shared->wake.wait(&shared->mutex, 100);
                    continue;
                }
                // Not the lock: one more try (it may have freed between the two looks), then
                // report it.
                if (++otherFailures >= 2)
                    break;
            }
            {
                QMutexLocker lock(&shared->mutex);
                shared->queue.dequeue();
                shared->waitingForLock = false;
                shared->saveJournal();
            }
            const quint64 ticket = item.first;
            const qint64 utteranceId = w.utteranceId;
            deliver([waited, ticket, utteranceId, st](LabelWriter *writer) {
                if (waited)
                    Q_EMIT writer->waitingForLock(false);
                Q_EMIT writer->written(ticket, utteranceId, st);
                if (writer->unsavedCount() == 0)
                    Q_EMIT writer->drained();
            });
        }
    });
    m_thread->setObjectName(QStringLiteral("emolens-label-writer"));
    m_thread->start();
}

LabelWriter::~LabelWriter()
{
    {
        QMutexLocker lock(&m_shared->mutex);
        m_shared->stop = true;
        m_shared->wake.wakeAll();
    }
    m_thread->wait();
    delete m_thread;
    // What is still queued stays in the journal for the next writer; an empty one goes.
    QMutexLocker lock(&m_shared->mutex);
    if (!m_shared->journal.isEmpty()) {
        m_shared->saveJournal();
        if (m_shared->queue.isEmpty())
            QFile::remove(m_shared->journal);
        m_shared->journalLock.reset(); // unlocks: the journal is the next writer's to adopt
    }
}

quint64 LabelWriter::enqueue(const LabelWrite &write)
{
    QMutexLocker lock(&m_shared->mutex);
    const quint64 ticket = m_shared->nextTicket++;
    LabelWrite keyed = write;
    if (keyed.clientKey.isEmpty())
        keyed.clientKey = QUuid::createUuid().toString(QUuid::WithoutBraces);
    m_shared->queue.enqueue({ticket, keyed});
    m_shared->saveJournal();
    m_shared->wake.wakeAll();
    return ticket;
}

int LabelWriter::unsavedCount() const
{
    QMutexLocker lock(&m_shared->mutex);
    return int(m_shared->queue.size());
}

bool LabelWriter::isWaitingForLock() const
{
    QMutexLocker lock(&m_shared->mutex);
    return m_shared->waitingForLock;
}

bool LabelWriter::isOffline() const
{
    QMutexLocker lock(&m_shared->mutex);
    return m_shared->offline;
}

QString LabelWriter::journalPath() const
{
    QMutexLocker lock(&m_shared->mutex);
    return m_shared->journal;
}

} // namespace emolens
