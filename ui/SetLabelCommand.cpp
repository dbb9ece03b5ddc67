#include "SetLabelCommand.h"

#include <QObject>
#include <cmath>

namespace emolens {

SetLabelCommand::SetLabelCommand(qint64 utteranceId, qint64 schemaId, QString annotator,
                                 LabelValue previousValue, LabelValue newValue,
                                 QString utteranceKey, Write write)
    : QUndoCommand(describe(previousValue, newValue, utteranceKey)), m_utteranceId(utteranceId),
      m_schemaId(schemaId), m_annotator(std::move(annotator)), m_previous(std::move(previousValue)),
      m_new(std::move(newValue)), m_write(std::move(write))
{
}

void SetLabelCommand::redo()
{
    // The first redo() is the edit itself (QUndoStack::push calls it); later ones are redos.
    m_write(m_utteranceId, m_schemaId, m_annotator, m_new,
            m_everApplied ? LabelAction::Redo : LabelAction::Edit);
    m_everApplied = true;
}

void SetLabelCommand::undo()
{
    m_write(m_utteranceId, m_schemaId, m_annotator, m_previous, LabelAction::Undo);
}

QString SetLabelCommand::describe(const LabelValue &before, const LabelValue &after,
                                  const QString &key)
{
    if (before.category != after.category) {
        if (after.category.isEmpty())
            return QObject::tr("Clear Category of %1").arg(key);
        return QObject::tr("Label %1 as %2").arg(key, after.category);
    }
    if (before.dimensions != after.dimensions) {
        for (auto it = after.dimensions.cbegin(); it != after.dimensions.cend(); ++it)
            if (!before.dimensions.contains(it.key()) ||
                before.dimensions.value(it.key()) != it.value())
                return QObject::tr("Set %1 of %2 to %3")
                    .arg(it.key(), key)
                    .arg(it.value(), 0, 'f', 1);
        return QObject::tr("Clear Dimension of %1").arg(key);
    }
    if (before.notes != after.notes)
        return QObject::tr("Edit Notes of %1").arg(key);
    if (!(std::isnan(before.confidence) && std::isnan(after.confidence)) &&
        before.confidence != after.confidence)
        return QObject::tr("Set Confidence of %1").arg(key);
    return QObject::tr("Edit Label of %1").arg(key);
}

} // namespace emolens
