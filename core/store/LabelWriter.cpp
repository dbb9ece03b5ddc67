#include "store/LabelWriter.h"

#include "store/Database.h"
#include "store/LabelRepository.h"

#include <QMutex>
#include <QPointer>
#include <QQueue>
#include <QThread>
#include <QWaitCondition>

namespace emolens {

namespace {

// How long one attempt waits for the lock before the writer looks again (and at stop()).
constexpr int kAttemptBusyMs = 200;

} // namespace

struct LabelWriter::Shared
{
    QMutex mutex;
    QWaitCondition wake;
    QQueue<QPair<quint64, LabelWrite>> queue;
    bool stop = false;
    bool waitingForLock = false;
    quint64 nextTicket = 1;
};

LabelWriter::LabelWriter(const QString &databasePath, QObject *parent)
    : QObject(parent), m_shared(std::make_shared<Shared>())
{
    qRegisterMetaType<emolens::Status>("emolens::Status");
    QPointer<LabelWriter> self(this);
    auto shared = m_shared;
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
    m_thread = QThread::create([shared, databasePath, deliver] {
        Database db(databasePath);
        const Status opened = db.open();
        if (opened)
            db.setBusyTimeout(kAttemptBusyMs);
        for (;;) {
            QPair<quint64, LabelWrite> item;
            {
                QMutexLocker lock(&shared->mutex);
                while (shared->queue.isEmpty() && !shared->stop)
                    shared->wake.wait(&shared->mutex);
                if (shared->stop)
                    return;
                item = shared->queue.head(); // stays queued (and counted) until written
            }
            const LabelWrite &w = item.second;
            Status st;
            bool waited = false;
            int otherFailures = 0;
            for (;;) {
                st = opened ? LabelRepository(db).setLabel(w.utteranceId, w.schemaId, w.annotator,
                                                           w.value, nullptr, w.action)
                            : opened;
                if (st || !opened)
                    break;
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
}

quint64 LabelWriter::enqueue(const LabelWrite &write)
{
    QMutexLocker lock(&m_shared->mutex);
    const quint64 ticket = m_shared->nextTicket++;
    m_shared->queue.enqueue({ticket, write});
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

} // namespace emolens
