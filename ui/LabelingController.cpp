#include "LabelingController.h"

#include "SetLabelCommand.h"
#include "store/Database.h"

#include <QInputDialog>
#include <QLineEdit>
#include <QMessageBox>
#include <QSettings>
#include <QUndoStack>
#include <QWidget>

namespace emolens {

namespace {

const QString kAnnotatorKey = QStringLiteral("annotator/name");

} // namespace

LabelingController::LabelingController(QUndoStack *undoStack, QWidget *dialogParent,
                                       QObject *parent)
    : QObject(parent), m_undoStack(undoStack), m_dialogParent(dialogParent)
{
}

LabelingController::~LabelingController() = default;

void LabelingController::setWorkspace(Database *db)
{
    delete m_writer;
    m_writer = nullptr;
    m_unsaved.clear();
    m_unsavedTicket.clear();
    m_db = db;
    if (!m_db)
        return;
    m_writer = new LabelWriter(m_db->filePath(), this);
    connect(m_writer, &LabelWriter::written, this, &LabelingController::onWritten);
    connect(m_writer, &LabelWriter::waitingForLock, this,
            [this](bool waiting) { Q_EMIT waitingForWorkspace(waiting, unsavedCount()); });
    connect(m_writer, &LabelWriter::drained, this, &LabelingController::allSaved);
    connect(m_writer, &LabelWriter::offline, this,
            [this](bool offline) { Q_EMIT workspaceOffline(offline, unsavedCount()); });
    connect(m_writer, &LabelWriter::adopted, this, &LabelingController::journalAdopted);
}

bool LabelingController::isOffline() const
{
    return m_writer && m_writer->isOffline();
}

std::optional<LabelValue> LabelingController::unsavedValue(qint64 utteranceId) const
{
    const auto it = m_unsaved.constFind(utteranceId);
    if (it == m_unsaved.constEnd())
        return std::nullopt;
    return *it;
}

QString LabelingController::annotatorName() const
{
    // On a team's workspace the server knows who you are, and keeps you to that name.
    if (m_db && m_db->isServer() && !m_db->signedInUser().isEmpty())
        return m_db->signedInUser();
    return QSettings().value(kAnnotatorKey).toString().trimmed();
}

QString LabelingController::askAnnotatorName()
{
    QString name = annotatorName();
    if (!name.isEmpty())
        return name;
    bool ok = false;
    name = QInputDialog::getText(m_dialogParent, tr("Annotator Name"),
                                 tr("Your labels are recorded under your name, so several people "
                                    "can label the same corpus.\nYour name:"),
                                 QLineEdit::Normal, qEnvironmentVariable("USER"), &ok)
               .trimmed();
    if (!ok || name.isEmpty())
        return QString();
    if (isCorpusName(name)) {
        QMessageBox::warning(
            m_dialogParent, tr("Annotator Name"),
            tr("\"%1\" is the name of a corpus's own labels; choose another.").arg(name));
        return QString();
    }
    QSettings().setValue(kAnnotatorKey, name);
    Q_EMIT annotatorChanged(name);
    return name;
}

void LabelingController::changeAnnotatorName()
{
    if (m_db && m_db->isServer()) {
        QMessageBox::information(
            m_dialogParent, tr("Annotator Name"),
            tr("On a team's workspace your labels are recorded under the user you signed in "
               "as, %1. To label under another name, open the workspace as that user.")
                .arg(annotatorName()));
        return;
    }
    bool ok = false;
    const QString current = annotatorName();
    const QString name = QInputDialog::getText(m_dialogParent, tr("Annotator Name"),
                                               tr("Record new labels under this name:"),
                                               QLineEdit::Normal, current, &ok)
                             .trimmed();
    if (!ok || name.isEmpty() || name == current)
        return;
    if (isCorpusName(name)) {
        QMessageBox::warning(
            m_dialogParent, tr("Annotator Name"),
            tr("\"%1\" is the name of a corpus's own labels; choose another.").arg(name));
        return;
    }
    QSettings().setValue(kAnnotatorKey, name);
    Q_EMIT annotatorChanged(name);
}

bool LabelingController::isCorpusName(const QString &name) const
{
    // The store says who is a corpus; without a workspace, the form of its names does.
    if (m_db)
        return LabelRepository(*m_db).annotatorKind(name) == AnnotatorKind::Corpus;
    return name.startsWith(LabelRepository::corpusAnnotatorName(QString()));
}

ShownLabel LabelingController::shownLabel(qint64 utteranceId) const
{
    if (!m_db)
        return ShownLabel();
    const LabelRepository labels(*m_db);
    const auto unsaved = m_unsaved.constFind(utteranceId);
    if (unsaved != m_unsaved.constEnd())
        return labels.shownLabelWith(utteranceId, m_unsavedBy, *unsaved);
    return labels.shownLabel(utteranceId);
}

Status LabelingController::judgements(qint64 utteranceId,
                                      LabelRepository::ClipJudgements *out) const
{
    if (!m_db)
        return Status::failure(tr("No workspace is open"));
    if (auto st = LabelRepository(*m_db).judgements(utteranceId, annotatorName(), out); !st)
        return st;
    const auto unsaved = m_unsaved.constFind(utteranceId);
    if (unsaved != m_unsaved.constEnd() && m_unsavedBy == annotatorName()) {
        out->shown = LabelRepository(*m_db).shownLabelWith(utteranceId, m_unsavedBy, *unsaved);
        LabelRecord mine = out->mine.value_or(LabelRecord());
        mine.utteranceId = utteranceId;
        mine.annotatorName = m_unsavedBy;
        mine.value = *unsaved;
        out->mine = mine;
    }
    return Status::success();
}

LabelValue LabelingController::myValue(qint64 utteranceId) const
{
    const QString me = annotatorName();
    if (m_unsavedBy == me && m_unsaved.contains(utteranceId))
        return m_unsaved.value(utteranceId);
    if (!m_db || me.isEmpty())
        return LabelValue();
    const auto mine = LabelRepository(*m_db).currentLabel(utteranceId, me);
    return mine ? mine->value : LabelValue();
}

bool LabelingController::edit(qint64 utteranceId, qint64 schemaId, const QString &utteranceKey,
                              const LabelValue &value)
{
    if (!m_db || utteranceId == 0)
        return false;
    const QString annotator = askAnnotatorName();
    if (annotator.isEmpty())
        return false;
    const LabelValue previous = myValue(utteranceId);
    if (previous == value)
        return false;
    m_undoStack->push(new SetLabelCommand(
        utteranceId, schemaId, annotator, previous, value, utteranceKey,
        [this](qint64 id, qint64 schema, const QString &who, const LabelValue &v,
               LabelAction action) { write(id, schema, who, v, action); }));
    return true;
}

void LabelingController::write(qint64 utteranceId, qint64 schemaId, const QString &annotator,
                               const LabelValue &value, LabelAction action)
{
    if (!m_writer)
        return;
    if (m_unsavedBy != annotator) {
        // Unsaved values are kept for one annotator: the one labeling now.
        m_unsaved.clear();
        m_unsavedTicket.clear();
        m_unsavedBy = annotator;
    }
    const quint64 ticket =
        m_writer->enqueue({utteranceId, schemaId, annotator, value, action, QString()});
    m_unsaved.insert(utteranceId, value);
    m_unsavedTicket.insert(utteranceId, ticket);
    if (action != LabelAction::Edit)
        Q_EMIT clipUndoneOrRedone(utteranceId);
    Q_EMIT clipChanged(utteranceId);
}

void LabelingController::onWritten(quint64 ticket, qint64 utteranceId, const Status &status)
{
    // Only the newest edit of a clip clears its unsaved value; older ones are superseded.
    if (m_unsavedTicket.value(utteranceId) == ticket) {
        m_unsaved.remove(utteranceId);
        m_unsavedTicket.remove(utteranceId);
    }
    if (!status)
        Q_EMIT saveFailed(utteranceId, status.error());
    Q_EMIT clipChanged(utteranceId);
}

int LabelingController::unsavedCount() const
{
    return m_writer ? m_writer->unsavedCount() : 0;
}

bool LabelingController::isWaitingForWorkspace() const
{
    return m_writer && m_writer->isWaitingForLock();
}

} // namespace emolens
