#include "LabelingQueue.h"

#include "ClipNavigator.h"
#include "QueueModel.h"
#include "UtteranceTableModel.h"
#include "WorkspaceSession.h"

#include "jobs/JobQueue.h"
#include "jobs/SelectJob.h"
#include "store/Database.h"
#include "store/ModelRepository.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSettings>

namespace emolens {

namespace {

const QString kStrategyKey = QStringLiteral("queue/strategy");
const QString kCountKey = QStringLiteral("queue/count");
const QString kRetrainKey = QStringLiteral("queue/retrainAfter");
constexpr int kDefaultRetrainAfter = 20;

QString optionKey(LabelingQueue::Option which)
{
    switch (which) {
    case LabelingQueue::Option::FavourRare:
        return QStringLiteral("queue/favourRare");
    case LabelingQueue::Option::SecondOpinions:
        return QStringLiteral("queue/secondOpinions");
    case LabelingQueue::Option::DisagreementsFirst:
        break;
    }
    return QStringLiteral("queue/disagreementsFirst");
}

} // namespace

LabelingQueue::LabelingQueue(JobQueue *jobs, WorkspaceSession *session, UtteranceTableModel *rows,
                             ClipNavigator *navigator, QObject *parent)
    : QObject(parent), m_jobs(jobs), m_session(session), m_rows(rows), m_navigator(navigator),
      m_model(new QueueModel(this))
{
    connect(m_jobs, &JobQueue::jobFinished, this, &LabelingQueue::onJobFinished);
    connect(m_rows, &QAbstractItemModel::dataChanged, this,
            [this](const QModelIndex &from, const QModelIndex &to) {
                onRowsChanged(from.row(), to.row());
            });
    connect(m_rows, &QAbstractItemModel::modelReset, this,
            [this] { onRowsChanged(0, m_rows->rowCount() - 1); });
}

LabelingQueue::~LabelingQueue() = default;

bool LabelingQueue::isLabeled(qint64 utteranceId) const
{
    const int row = m_rows->rowOf(utteranceId);
    return row >= 0 && isDone(m_rows->rowAt(row));
}

bool LabelingQueue::isDone(const UtteranceRow &row) const
{
    return m_roundAnnotator.isEmpty() ? !row.labeledByPeople.isEmpty()
                                      : row.labeledByPeople.contains(m_roundAnnotator);
}

bool LabelingQueue::option(Option which) const
{
    return QSettings().value(optionKey(which), false).toBool();
}

void LabelingQueue::setOption(Option which, bool on)
{
    QSettings().setValue(optionKey(which), on);
    Q_EMIT changed();
}

QString LabelingQueue::strategySetting() const
{
    return QSettings().value(kStrategyKey).toString();
}

void LabelingQueue::setStrategySetting(const QString &name)
{
    QSettings().setValue(kStrategyKey, name);
    Q_EMIT changed();
}

int LabelingQueue::countSetting() const
{
    return std::max(0, QSettings().value(kCountKey, 0).toInt());
}

void LabelingQueue::setCountSetting(int count)
{
    QSettings().setValue(kCountKey, std::max(0, count));
}

int LabelingQueue::retrainAfter() const
{
    return std::max(0, QSettings().value(kRetrainKey, kDefaultRetrainAfter).toInt());
}

void LabelingQueue::setRetrainAfter(int labels)
{
    QSettings().setValue(kRetrainKey, std::max(0, labels));
    Q_EMIT changed();
}

QString LabelingQueue::effectiveStrategy() const
{
    SelectionStrategy chosen;
    if (selectionStrategyFromName(strategySetting(), &chosen))
        return selectionStrategyName(chosen);
    const bool hasModel =
        m_session->isOpen() && ModelRepository(*m_session->database()).activeModel().has_value();
    return selectionStrategyName(hasModel ? SelectionStrategy::Margin
                                          : SelectionStrategy::ColdStart);
}

void LabelingQueue::clear()
{
    if (m_jobId != 0)
        m_jobs->cancel(m_jobId);
    m_jobId = 0;
    m_job.reset();
    m_round.reset();
    m_model->clear();
    m_labeledAtRank.clear();
    m_newlyLabeled.clear();
    m_waitingForTraining = false;
    m_keepFirst = 0;
    applyOrder();
    Q_EMIT changed();
}

void LabelingQueue::reload()
{
    m_round.reset();
    m_labeledAtRank.clear();
    m_newlyLabeled.clear();
    if (!m_session->isOpen()) {
        m_model->clear();
        applyOrder();
        Q_EMIT changed();
        return;
    }
    Database &db = *m_session->database();
    SelectionRepository rounds(db);
    m_round = rounds.latestRound();
    m_roundAnnotator.clear();
    if (m_round) {
        const QJsonObject settings = QJsonDocument::fromJson(m_round->settings.toUtf8()).object();
        if (settings.value(QStringLiteral("second_opinions")).toBool() ||
            settings.value(QStringLiteral("disagreements_first")).toBool())
            m_roundAnnotator = settings.value(QStringLiteral("annotator")).toString();
    }
    QList<QueueRow> rows;
    QStringList classes;
    if (m_round) {
        if (m_round->modelId > 0)
            if (const auto model = ModelRepository(db).model(m_round->modelId))
                classes = model->classes;
        const qint64 keep = m_keepFirst;
        for (const SelectionPickRecord &p : rounds.picks(m_round->id)) {
            const int at = m_rows->rowOf(p.utteranceId);
            if (at < 0)
                continue; // the clip has left the workspace since
            const UtteranceRow &u = m_rows->rowAt(at);
            QueueRow r;
            r.rank = p.rank;
            r.utteranceId = p.utteranceId;
            r.key = u.key;
            r.speaker = u.speakerCode;
            r.score = p.score;
            r.reason = p.reason;
            r.predicted = p.predicted;
            r.confidence = p.confidence;
            r.label = isDone(u) ? u.label : QString();
            if (p.utteranceId == keep && r.label.isEmpty()) {
                r.kept = true;
                rows.prepend(r);
            } else {
                rows << r;
            }
        }
        // The clip being played when the ranking was asked for stays first even when the new
        // round did not pick it, so the annotator's place is kept.
        if (keep != 0 && (rows.isEmpty() || rows.first().utteranceId != keep) && !isLabeled(keep)) {
            const int at = m_rows->rowOf(keep);
            if (at >= 0) {
                QueueRow r;
                r.utteranceId = keep;
                r.key = m_rows->rowAt(at).key;
                r.speaker = m_rows->rowAt(at).speakerCode;
                r.reason = tr("the clip you were on (not in this round)");
                r.kept = true;
                rows.prepend(r);
            }
        }
        for (const UtteranceRow &u : m_rows->rows())
            if (!u.labeledByPeople.isEmpty())
                m_labeledAtRank.insert(u.id);
    }
    m_keepFirst = 0;
    m_model->setRows(rows, classes);
    applyOrder();
    Q_EMIT changed();
}

bool LabelingQueue::rank()
{
    if (!m_session->isOpen()) {
        Q_EMIT message(tr("Open a workspace first"), 4000);
        return false;
    }
    if (m_jobId != 0) {
        Q_EMIT message(tr("The queue is being ranked already"), 4000);
        return false;
    }
    SelectRequest request;
    request.databasePath = m_session->path();
    if (!selectionStrategyFromName(effectiveStrategy(), &request.options.strategy))
        return false;
    request.options.count = countSetting();
    request.options.seed = quint64(QDateTime::currentMSecsSinceEpoch());
    request.options.favourRare = option(Option::FavourRare);
    request.options.secondOpinions = option(Option::SecondOpinions);
    request.options.disagreementsFirst = option(Option::DisagreementsFirst);
    request.annotator = m_annotator ? m_annotator() : QString();
    if ((request.options.secondOpinions || request.options.disagreementsFirst) &&
        request.annotator.isEmpty()) {
        Q_EMIT message(tr("Second opinions and disputed clips are offered to someone: set your "
                          "name first (Settings > Annotator Name...)"),
                       8000);
        return false;
    }
    m_job = std::make_shared<SelectJob>(request);
    // The annotator's place: the clip being played, when it is one of the queue's.
    const qint64 current = m_navigator->current();
    m_keepFirst = m_model->rowOf(current) >= 0 ? current : 0;
    m_jobId = m_jobs->submit(m_job);
    Q_EMIT changed();
    return m_jobId != 0;
}

bool LabelingQueue::retrainAndRank()
{
    if (!m_retrain || !m_retrain()) {
        Q_EMIT message(tr("Retraining is already queued or running; the queue is ranked again "
                          "when it ends"),
                       5000);
        m_waitingForTraining = true;
        Q_EMIT changed();
        return false;
    }
    m_waitingForTraining = true;
    Q_EMIT changed();
    return true;
}

void LabelingQueue::onTrainingFinished(const JobResult &result)
{
    const bool wanted = m_waitingForTraining || m_round.has_value();
    m_waitingForTraining = false;
    if (result.ok() && wanted)
        rank();
    else
        Q_EMIT changed();
}

void LabelingQueue::onJobFinished(int id, const JobResult &result)
{
    if (id != m_jobId)
        return;
    m_jobId = 0;
    m_job.reset();
    if (result.ok())
        reload();
    else {
        m_keepFirst = 0;
        if (result.outcome == JobOutcome::Failed)
            Q_EMIT message(tr("Could not rank the queue: %1").arg(result.summary), 12000);
        Q_EMIT changed();
    }
    Q_EMIT ranked(result);
}

void LabelingQueue::onRowsChanged(int first, int last)
{
    if (!m_round)
        return;
    bool any = false;
    for (int row = std::max(0, first); row <= last && row < m_rows->rowCount(); ++row) {
        const UtteranceRow &u = m_rows->rowAt(row);
        const bool labeled = !u.labeledByPeople.isEmpty();
        m_model->setLabel(u.id, isDone(u) ? u.label : QString());
        if (labeled && !m_labeledAtRank.contains(u.id)) {
            if (!m_newlyLabeled.contains(u.id)) {
                m_newlyLabeled.insert(u.id);
                any = true;
            }
        } else if (m_newlyLabeled.remove(u.id)) {
            any = true;
        }
    }
    if (!any)
        return;
    Q_EMIT changed();
    countLabels();
}

void LabelingQueue::countLabels()
{
    const int after = retrainAfter();
    if (after <= 0 || labelsSinceRank() < after || m_waitingForTraining || m_jobId != 0)
        return;
    if (m_retrain && m_retrain()) {
        m_waitingForTraining = true;
        Q_EMIT message(tr("%1 new labels since the queue was ranked: retraining in the "
                          "background, then ranking again")
                           .arg(labelsSinceRank()),
                       6000);
        Q_EMIT changed();
    }
}

void LabelingQueue::setActive(bool active)
{
    m_active = active;
    applyOrder();
}

void LabelingQueue::applyOrder()
{
    if (!m_active) {
        m_navigator->clearOrder();
        return;
    }
    m_navigator->setOrder(m_model->ids(), [this](qint64 id) { return isLabeled(id); });
}

} // namespace emolens
