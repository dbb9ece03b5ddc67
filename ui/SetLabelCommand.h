#pragma once
// SetLabelCommand: one label edit as one undo step. redo() stores the new value for the
// annotator; undo() stores the annotator's previous value again (an empty value when there
// was none). The rows say whether they were the edit, an undo or a redo (LabelAction). The label
// history is append-only, so undo and redo each ADD a row - nothing is ever deleted - and each is
// one transaction (LabelRepository::setLabel).
//
// The command keeps a pointer to the workspace's Database: the owner (MainWindow) clears its
// QUndoStack before it closes that Database. After each store write it calls `changed` with
// the utterance id and the result, so the owner can refresh that one table row.
// A first redo() that fails marks the command obsolete, so QUndoStack::push drops it.
// GUI thread only (the Database belongs to it).

#include "common/Status.h"
#include "store/Records.h"

#include <QUndoCommand>
#include <functional>

namespace emolens {

class Database;

class SetLabelCommand : public QUndoCommand
{
public:
    using ChangedCallback = std::function<void(qint64 utteranceId, const Status &status)>;

    SetLabelCommand(Database &db, qint64 utteranceId, qint64 schemaId, QString annotator,
                    LabelValue previousValue, LabelValue newValue, QString utteranceKey,
                    ChangedCallback changed);

    void redo() override;
    void undo() override;

    const Status &lastStatus() const { return m_lastStatus; }

    // "Label Ses01F_impro01_F000 as angry", "Set arousal of ... to 3.5", ...
    static QString describe(const LabelValue &before, const LabelValue &after, const QString &key);

private:
    void write(const LabelValue &value, LabelAction action);

    Database &m_db;
    qint64 m_utteranceId = 0;
    qint64 m_schemaId = 0;
    QString m_annotator;
    LabelValue m_previous;
    LabelValue m_new;
    ChangedCallback m_changed;
    Status m_lastStatus;
    bool m_everApplied = false;
};

} // namespace emolens
