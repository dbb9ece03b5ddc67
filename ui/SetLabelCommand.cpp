#include "SetLabelCommand.h"

#include "store/Database.h"
#include "store/LabelRepository.h"

#include <QObject>
#include <cmath>

namespace emolens {

SetLabelCommand::SetLabelCommand(Database &db, qint64 utteranceId, qint64 schemaId,
                                 QString annotator, LabelValue previousValue, LabelValue newValue,
                                 QString utteranceKey, ChangedCallback changed)
    : QUndoCommand(describe(previousValue, newValue, utteranceKey)), m_db(db),
      m_utteranceId(utteranceId), m_schemaId(schemaId), m_annotator(std::move(annotator)),
      m_previous(std::move(previousValue)), m_new(std::move(newValue)),
      m_changed(std::move(changed))
{
}

void SetLabelCommand::redo()
{
    // The first redo() is the edit itself (QUndoStack::push calls it); later ones are redos.
    write(m_new, m_everApplied ? LabelAction::Redo : LabelAction::Edit);
    if (!m_everApplied && !m_lastStatus)
        setObsolete(true);
    m_everApplied = m_everApplied || m_lastStatus.ok();
}

void SetLabelCommand::undo()
{
    write(m_previous, LabelAction::Undo);
}

void SetLabelCommand::write(const LabelValue &value, LabelAction action)
{
    LabelRepository labels(m_db);
    m_lastStatus = labels.setLabel(m_utteranceId, m_schemaId, m_annotator, value, nullptr, action);
    if (m_changed)
        m_changed(m_utteranceId, m_lastStatus);
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
