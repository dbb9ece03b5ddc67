#pragma once
// SetLabelCommand: one label edit as one undo step. redo() writes the new value for the
// annotator; undo() writes the annotator's previous value again (an empty value when there
// was none). The label history is append-only, so undo and redo each ADD a row - nothing is
// ever deleted - and the rows say whether they were the edit, an undo or a redo
// (LabelAction). The writing itself is the owner's (LabelingController queues it on a
// LabelWriter), so a push never waits for the store.
// GUI thread only.

#include "common/Status.h"
#include "store/Records.h"

#include <QUndoCommand>
#include <functional>

namespace emolens {

class SetLabelCommand : public QUndoCommand
{
public:
    using Write = std::function<void(qint64 utteranceId, qint64 schemaId, const QString &annotator,
                                     const LabelValue &value, LabelAction action)>;

    SetLabelCommand(qint64 utteranceId, qint64 schemaId, QString annotator,
                    LabelValue previousValue, LabelValue newValue, QString utteranceKey,
                    Write write);

    void redo() override;
    void undo() override;

    // "Label Ses01F_impro01_F000 as angry", "Set arousal of ... to 3.5", ...
    static QString describe(const LabelValue &before, const LabelValue &after, const QString &key);

private:
    qint64 m_utteranceId = 0;
    qint64 m_schemaId = 0;
    QString m_annotator;
    LabelValue m_previous;
    LabelValue m_new;
    Write m_write;
    bool m_everApplied = false;
};

} // namespace emolens
