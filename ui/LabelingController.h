#pragma once
// LabelingController: a person's labeling, between the labeling panel and the store. It knows
// who is labeling (the annotator name, asked once and kept in QSettings), turns each edit into
// one undoable SetLabelCommand, and hands the writes to a LabelWriter, so the window never
// waits for the workspace's write lock: an edit shows at once (the unsaved value is laid over
// what the store says) and is written, in order, as soon as the lock is free.
//
// The window asks it for what a clip shows (shownLabel(), judgements()) and refreshes a clip
// when clipChanged() says so: once when an edit is queued, again when it is written.
//
// Ownership and threads: GUI thread only. The undo stack must be cleared before the
// Database given to setWorkspace() goes away (MainWindow does both on close).

#include "common/Status.h"
#include "store/LabelRepository.h"
#include "store/LabelWriter.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <optional>

class QUndoStack;
class QWidget;

namespace emolens {

class Database;

class LabelingController : public QObject
{
    Q_OBJECT

public:
    LabelingController(QUndoStack *undoStack, QWidget *dialogParent, QObject *parent = nullptr);
    ~LabelingController() override;

    // The workspace edits go to; null when none is open. Unsaved edits of the previous one
    // are dropped, so callers check unsavedCount() first.
    void setWorkspace(Database *db);

    // The saved annotator name (empty when none was given yet).
    QString annotatorName() const;
    // The saved name, or asks for one; empty when the user declines.
    QString askAnnotatorName();
    void changeAnnotatorName();
    // True when the name is a corpus's own annotator (people cannot sign in under it).
    bool isCorpusName(const QString &name) const;

    // What the clip shows, with this annotator's unsaved edit on top.
    ShownLabel shownLabel(qint64 utteranceId) const;
    Status judgements(qint64 utteranceId, LabelRepository::ClipJudgements *out) const;
    // This annotator's current judgement of the clip (unsaved edit first).
    LabelValue myValue(qint64 utteranceId) const;

    // The user's edit of a clip, as one undoable step. False (and nothing done) without an
    // annotator name or a workspace, or when the value is what the clip already holds.
    bool edit(qint64 utteranceId, qint64 schemaId, const QString &utteranceKey,
              const LabelValue &value);

    // Edits queued but not yet in the store.
    int unsavedCount() const;
    bool isWaitingForWorkspace() const;
    // A team's server cannot be reached: edits wait in the journal (LabelWriter).
    bool isOffline() const;
    // This annotator's edit of the clip that is not in the store yet, if any.
    std::optional<LabelValue> unsavedValue(qint64 utteranceId) const;

Q_SIGNALS:
    // What this clip shows changed: an edit (or undo/redo) was queued, written or failed.
    void clipChanged(qint64 utteranceId);
    // An undo or redo changed this clip now (the window brings the clip into view).
    void clipUndoneOrRedone(qint64 utteranceId);
    void saveFailed(qint64 utteranceId, const QString &message);
    // The writer waits for another program's (or a job's) write lock; unsaved edits pending.
    void waitingForWorkspace(bool waiting, int unsaved);
    // Every edit is in the store.
    void allSaved();
    // The server went away (true; edits wait in the journal) or is back (false).
    void workspaceOffline(bool offline, int unsaved);
    // Edits a program that closed or died left in its journal were queued, first.
    void journalAdopted(int edits);
    void annotatorChanged(const QString &name);

private:
    void write(qint64 utteranceId, qint64 schemaId, const QString &annotator,
               const LabelValue &value, LabelAction action);
    void onWritten(quint64 ticket, qint64 utteranceId, const Status &status);

    QUndoStack *m_undoStack = nullptr;
    QWidget *m_dialogParent = nullptr;
    Database *m_db = nullptr;
    LabelWriter *m_writer = nullptr;
    // This annotator's unsaved value per clip, and the ticket that will save it.
    QHash<qint64, LabelValue> m_unsaved;
    QHash<qint64, quint64> m_unsavedTicket;
    QString m_unsavedBy; // the annotator the unsaved values belong to
};

} // namespace emolens
