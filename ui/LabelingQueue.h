#pragma once
// LabelingQueue: active learning in the window - the ranked queue of clips to label next,
// kept in step with the labels and the model.
//
// - rank() queues a SelectJob (core/jobs/SelectJob.h) on the window's job queue with the
//   queue's settings; the round it stores becomes the queue. reload() shows the newest stored
//   round (on opening a workspace: the queue is where it was left).
// - The queue follows the table's rows: a label a person gives a queued clip (or an undo)
//   marks its row; every clip that gains a person's label counts towards retrainAfter().
// - After retrainAfter() new labels (QSettings "queue/retrainAfter", 0: never), or on
//   retrainAndRank(), it asks the window to retrain (the Retrain action's job); any training
//   that stores a model while a queue is shown ranks the queue again with the new model.
// - A new round keeps the annotator's place: when the clip being played is one of the queue's,
//   it stays current and, when it is not labeled yet, first in the new queue (whatever its new
//   rank), the new ranking after it.
// - While active (the Queue tab in front), the ClipNavigator follows the queue's order,
//   skipping clips already labeled on the way forward.
//
// - Rounds for one annotator among several (second opinions, disputed clips first): a clip
//   counts as done in the queue when that annotator has labeled it, not when anyone has.
//
// Settings (QSettings): "queue/strategy" (empty: margin with a model, cold-start without),
// "queue/count" (0: 5 % of the unlabeled clips, seed 002's code), "queue/retrainAfter"
// (default 20), and the SER options of core/active/Selection.h, off by default:
// "queue/favourRare", "queue/secondOpinions", "queue/disagreementsFirst".
//
// Ownership and threads: GUI thread; everything given to the constructor must outlive it.

#include "store/SelectionRepository.h"

#include <QObject>
#include <QSet>
#include <functional>
#include <memory>
#include <optional>

namespace emolens {

class ClipNavigator;
class JobQueue;
class QueueModel;
class SelectJob;
class UtteranceTableModel;
class WorkspaceSession;
struct JobResult;

class LabelingQueue : public QObject
{
    Q_OBJECT

public:
    LabelingQueue(JobQueue *jobs, WorkspaceSession *session, UtteranceTableModel *rows,
                  ClipNavigator *navigator, QObject *parent = nullptr);
    ~LabelingQueue() override;

    QueueModel *model() const { return m_model; }
    // How the window retrains (false: it could not start, e.g. one is running).
    void setRetrainer(std::function<bool()> retrain) { m_retrain = std::move(retrain); }
    // Who is labeling (the rounds are ranked for them); empty: not known yet.
    void setAnnotatorSource(std::function<QString()> annotator)
    {
        m_annotator = std::move(annotator);
    }

    // Shows the newest stored round of the open workspace (or nothing).
    void reload();
    void clear();
    // Queues a ranking with the current settings; false (message() says why) when one is
    // queued or running, or no workspace is open.
    bool rank();
    // Retrains now; the new model ranks the queue again when it is stored.
    bool retrainAndRank();
    bool isRanking() const { return m_jobId != 0; }
    bool isWaitingForTraining() const { return m_waitingForTraining; }

    const std::optional<SelectionRoundRecord> &round() const { return m_round; }
    // The annotator the shown round was ranked for (second opinions, disputes); empty when it
    // was for nobody in particular.
    QString roundAnnotator() const { return m_roundAnnotator; }
    // Clips that gained a person's label since the queue was ranked.
    int labelsSinceRank() const { return int(m_newlyLabeled.size()); }
    bool isLabeled(qint64 utteranceId) const;

    // The strategy's name ("" : automatic), the round size (0: 5 % of the pool), the labels
    // after which to retrain (0: never); remembered in QSettings.
    QString strategySetting() const;
    void setStrategySetting(const QString &name);
    int countSetting() const;
    void setCountSetting(int count);
    int retrainAfter() const;
    void setRetrainAfter(int labels);
    // The strategy rank() uses now: the setting, else margin with a model, cold-start without.
    QString effectiveStrategy() const;
    // The SER options (SelectionOptions::favourRare, secondOpinions, disagreementsFirst).
    enum class Option { FavourRare, SecondOpinions, DisagreementsFirst };
    bool option(Option which) const;
    void setOption(Option which, bool on);

    // The navigator follows the queue while active.
    void setActive(bool active);
    bool isActive() const { return m_active; }

Q_SIGNALS:
    void message(const QString &text, int timeoutMs);
    // The queue or its state changed (a new round, a ranking or training started or ended).
    void changed();
    void ranked(const emolens::JobResult &result);

public Q_SLOTS:
    // A training ended (TrainingController::finished): a stored model ranks the queue again.
    void onTrainingFinished(const emolens::JobResult &result);

private:
    void onRowsChanged(int first, int last);
    void onJobFinished(int id, const JobResult &result);
    void applyOrder();
    void countLabels();
    // Whether the queue counts the clip as labeled: by the round's annotator when the round
    // was for one (second opinions, disputes), else by anyone.
    bool isDone(const struct UtteranceRow &row) const;

    JobQueue *m_jobs = nullptr;
    WorkspaceSession *m_session = nullptr;
    UtteranceTableModel *m_rows = nullptr;
    ClipNavigator *m_navigator = nullptr;
    QueueModel *m_model = nullptr;
    std::function<bool()> m_retrain;
    std::function<QString()> m_annotator;
    QString m_roundAnnotator; // whose labels count as done in the shown round (see isDone)
    std::optional<SelectionRoundRecord> m_round;
    QSet<qint64> m_labeledAtRank; // clips a person had labeled when the round was loaded
    QSet<qint64> m_newlyLabeled;
    std::shared_ptr<SelectJob> m_job;
    int m_jobId = 0;
    qint64 m_keepFirst = 0; // the clip being played when the ranking was asked for
    bool m_waitingForTraining = false;
    bool m_active = false;
};

} // namespace emolens
