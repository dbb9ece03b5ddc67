#include "LabelingDesk.h"

#include "ClipNavigator.h"
#include "LabelingController.h"
#include "LabelingPanel.h"
#include "UtteranceTableModel.h"
#include "WorkspaceSession.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"

#include <QTimer>

namespace emolens {

namespace {

QString speakerText(const QString &code, Gender gender)
{
    const QString g = genderName(gender);
    return g.isEmpty() ? code : QStringLiteral("%1 (%2)").arg(code, g);
}

} // namespace

LabelingDesk::LabelingDesk(LabelingPanel *panel, LabelingController *labeling,
                           ClipNavigator *navigator, UtteranceTableModel *rows,
                           WorkspaceSession *session, QObject *parent)
    : QObject(parent), m_panel(panel), m_labeling(labeling), m_navigator(navigator), m_rows(rows),
      m_session(session)
{
    connect(m_panel, &LabelingPanel::labelEdited, this, &LabelingDesk::onLabelEdited);
    connect(m_labeling, &LabelingController::clipChanged, this, &LabelingDesk::onClipChanged);
    connect(m_labeling, &LabelingController::clipUndoneOrRedone, this, [this](qint64 utteranceId) {
        // An undo of an edit on another clip brings that clip back into view.
        if (utteranceId != m_navigator->current())
            m_navigator->select(utteranceId);
    });
    connect(m_labeling, &LabelingController::annotatorChanged, this, [this](const QString &name) {
        m_panel->setAnnotatorName(name);
        refreshPanel();
    });
    m_livePoll = new QTimer(this);
    m_livePoll->setInterval(kLivePollMs);
    connect(m_livePoll, &QTimer::timeout, this, &LabelingDesk::pollOthersLabels);
    connect(m_session, &WorkspaceSession::opened, this, [this] {
        m_seenUpTo = -1; // from what is there now on
        m_seenRecently.clear();
        pollOthersLabels();
        m_livePoll->start();
    });
    connect(m_session, &WorkspaceSession::aboutToClose, m_livePoll, &QTimer::stop);
}

void LabelingDesk::pollOthersLabels()
{
    Database *db = m_session->database();
    if (!db || m_labeling->isOffline())
        return;
    LabelRepository labels(*db);
    // A row committed late on a server has an id below rows seen already: look again from
    // this far below the highest.
    constexpr qint64 kOverlap = 256;
    constexpr int kRowByRowAtMost = 200;
    QList<LabelRepository::StoredRow> rows;
    if (m_seenUpTo < 0) {
        // What is there when the workspace opens is shown already: the newest row, and those
        // just below it that a later look covers again.
        qint64 newest = 0;
        if (!labels.newestLabelId(&newest) ||
            !labels.labelsAfter(std::max<qint64>(0, newest - kOverlap), 5000, &rows))
            return;
        m_seenUpTo = newest;
        for (const LabelRepository::StoredRow &r : std::as_const(rows)) {
            m_seenRecently.insert(r.id);
            m_seenUpTo = std::max(m_seenUpTo, r.id);
        }
        return;
    }
    if (!labels.labelsAfter(std::max<qint64>(0, m_seenUpTo - kOverlap), 5000, &rows))
        return; // the writer notices a server that went away, and says so
    const QString me = m_labeling->annotatorName();
    QSet<qint64> clips;
    for (const LabelRepository::StoredRow &r : std::as_const(rows)) {
        if (m_seenRecently.contains(r.id) || r.id <= m_seenUpTo - kOverlap)
            continue;
        m_seenRecently.insert(r.id);
        m_seenUpTo = std::max(m_seenUpTo, r.id);
        if (r.annotator != me) // this window's own edits are shown already
            clips.insert(r.utteranceId);
    }
    for (auto it = m_seenRecently.begin(); it != m_seenRecently.end();)
        it = *it <= m_seenUpTo - kOverlap ? m_seenRecently.erase(it) : std::next(it);
    if (clips.isEmpty())
        return;
    if (clips.size() > kRowByRowAtMost) {
        Q_EMIT manyLabelsArrived();
        return;
    }
    for (const qint64 clip : std::as_const(clips))
        refreshRow(clip);
    if (clips.contains(m_navigator->current()))
        refreshPanel();
    Q_EMIT labelsChanged();
}

std::optional<UtteranceRecord> LabelingDesk::tableRecord(qint64 utteranceId) const
{
    const int row = m_rows->rowOf(utteranceId);
    if (row < 0)
        return std::nullopt;
    const UtteranceRow &r = m_rows->rowAt(row);
    UtteranceRecord record;
    record.id = r.id;
    record.corpusId = r.corpusId;
    record.key = r.key;
    record.path = r.path;
    record.durationSeconds = r.durationSeconds;
    return record;
}

void LabelingDesk::refreshPanel()
{
    Database *db = m_session->database();
    const qint64 current = m_navigator->current();
    auto utterance = db && current != 0 ? CorpusRepository(*db).utterance(current) : std::nullopt;
    const bool offline =
        !utterance && db && db->isServer() && (m_labeling->isOffline() || !db->isAlive());
    // The team's server is away: what the table holds is enough to go on labeling (the edits
    // wait in the journal); the history and the others' labels come back with it.
    if (offline && current != 0)
        utterance = tableRecord(current);
    if (!utterance) {
        m_panel->clearUtterance();
        return;
    }
    LabelingPanel::Shown shown;
    shown.utterance = *utterance;
    shown.corpusName = m_session->corpus(utterance->corpusId).name;
    shown.schema = m_session->labelSet(utterance->corpusId);
    for (const SpeakerRecord &s : m_session->speakers(utterance->corpusId))
        if (s.id == utterance->speakerId)
            shown.speakerText = speakerText(s.code, s.gender);
    LabelRepository::ClipJudgements judgements;
    if (auto st = m_labeling->judgements(utterance->id, &judgements);
        !st && !offline) // offline, the status bar says so
        Q_EMIT message(st.error(), 10000);
    shown.corpusLabel = judgements.corpusLabel;
    shown.shownLabel = judgements.shown.category;
    shown.shownBy = judgements.shown.givenBy;
    shown.shownDimensions = judgements.shown.dimensions;
    shown.history = judgements.history;
    if (judgements.mine)
        shown.myValue = judgements.mine->value;
    if (const PredictionRow *p = m_rows->prediction(utterance->id)) {
        shown.modelLabel = p->category;
        shown.modelConfidence = p->confidence;
    }
    m_panel->showUtterance(shown);
}

void LabelingDesk::refreshRow(qint64 utteranceId)
{
    const int row = m_rows->rowOf(utteranceId);
    if (!m_session->isOpen() || row < 0)
        return;
    UtteranceRow updated = m_rows->rowAt(row);
    Database *db = m_session->database();
    if (db && db->isServer() && (m_labeling->isOffline() || !db->isAlive())) {
        // The team's server is away: the store cannot say what the clip shows. Keep the row,
        // with this annotator's kept edit on top; the rest is read again once it is back.
        if (const auto mine = m_labeling->unsavedValue(utteranceId)) {
            const QString me = m_labeling->annotatorName();
            if (!mine->category.isEmpty()) {
                updated.label = mine->category;
                updated.labeledBy = me;
                updated.labelOrigin = LabelOrigin::Person;
                if (!updated.labeledByPeople.contains(me))
                    updated.labeledByPeople << me;
            }
            m_rows->updateRow(updated);
        }
        return;
    }
    const ShownLabel shown = m_labeling->shownLabel(utteranceId);
    updated.label = shown.category;
    updated.labeledBy = shown.givenBy;
    updated.labelOrigin = shown.origin;
    updated.labelInSet = shown.inLabelSet;
    updated.labeledByPeople = shown.peopleCategories.keys();
    updated.disagreement = shown.disagreement();
    m_rows->updateRow(updated);
    if (!updated.label.isEmpty())
        Q_EMIT newLabelShown(updated.label);
}

void LabelingDesk::categoryKey(int index)
{
    const qint64 current = m_navigator->current();
    if (current == 0 || index >= m_panel->schema().classes.size())
        return;
    // A key labels only a clip the table shows: with a filter that hides the panel's clip
    // (or shows no clip at all), a stray key must not label something out of sight.
    if (!m_navigator->isShown(current)) {
        Q_EMIT message(tr("The clip in the panel is not in the table any more (see the "
                          "filters); select a clip to label it"),
                       6000);
        return;
    }
    // Pick the next clip before labeling: with a filter such as "Not labeled by me" the
    // labeled row leaves the table and "next" would otherwise come from a moved selection.
    const bool handOut = m_followHandOut && m_panel->autoAdvance();
    const qint64 next = m_panel->autoAdvance() && !handOut ? m_navigator->at(+1) : 0;
    m_lastEditQueued = false;
    m_panel->chooseCategory(index);
    const bool labeled =
        m_lastEditQueued || m_panel->myValue().category == m_panel->schema().classes.value(index);
    if (handOut && labeled) {
        // The next clip once this label is stored: until then the hand-out would count this
        // clip as still unfinished and give it back.
        m_handOutAfter = current;
        if (!m_labeling->unsavedValue(current)) {
            m_handOutAfter = 0;
            Q_EMIT handOutRequested();
        }
        return;
    }
    if (next != 0 && labeled)
        m_navigator->select(next);
}

void LabelingDesk::setFollowingHandOut(bool on)
{
    m_followHandOut = on;
    if (!on)
        m_handOutAfter = 0;
}

void LabelingDesk::onLabelEdited(qint64 utteranceId, const LabelValue &value)
{
    // The clip the edit was made for (a note finished while moving on belongs to the clip it
    // was typed for, not to the one now current).
    const int row = m_rows->rowOf(utteranceId);
    if (!m_session->isOpen() || utteranceId == 0 || row < 0)
        return;
    const UtteranceRow &clip = m_rows->rowAt(row);
    if (m_labeling->annotatorName().isEmpty() && m_labeling->askAnnotatorName().isEmpty()) {
        refreshPanel(); // put the controls back to what the store holds
        Q_EMIT message(tr("A label needs an annotator name (Settings > Annotator Name)"), 6000);
        return;
    }
    m_lastEditQueued =
        m_labeling->edit(clip.id, m_session->labelSet(clip.corpusId).id, clip.key, value);
    if (!m_lastEditQueued)
        refreshPanel();
}

void LabelingDesk::onClipChanged(qint64 utteranceId)
{
    refreshRow(utteranceId);
    if (utteranceId == m_navigator->current())
        refreshPanel();
    Q_EMIT labelsChanged();
    if (m_followHandOut && utteranceId == m_handOutAfter &&
        !m_labeling->unsavedValue(utteranceId)) {
        m_handOutAfter = 0;
        Q_EMIT handOutRequested();
    }
}

} // namespace emolens
