#pragma once
// LabelingDesk: the annotator's desk - wires the labeling panel to the LabelingController,
// the ClipNavigator and the utterance table. It fills the panel with the current clip's
// judgements (one read through the controller, unsaved edits on top), turns the panel's edits
// and the number keys into edits of that clip, keeps the clip's table row in step with what
// it shows, and moves on after a number key when auto-advance is on. A number key acts only
// on a clip the table shows.
//
// The window owns the widgets and the status bar; the desk says what to tell the user
// (message()) and when the counts may have changed (labelsChanged()).
//
// Ownership and threads: GUI thread only; everything given to the constructor must outlive
// the desk.

#include "store/Records.h"

#include <QObject>

namespace emolens {

class ClipNavigator;
class LabelingController;
class LabelingPanel;
class UtteranceTableModel;
class WorkspaceSession;

class LabelingDesk : public QObject
{
    Q_OBJECT

public:
    LabelingDesk(LabelingPanel *panel, LabelingController *labeling, ClipNavigator *navigator,
                 UtteranceTableModel *rows, WorkspaceSession *session, QObject *parent = nullptr);

    // Shows the current clip (or none) in the panel, as the store and the unsaved edits say.
    void refreshPanel();
    // What the table holds of a clip, as a record (id, corpus, key, path, duration): enough to
    // go on labeling while a team's server is away.
    std::optional<UtteranceRecord> tableRecord(qint64 utteranceId) const;
    // The clip's table row, from the label it shows now.
    void refreshRow(qint64 utteranceId);
    // Number key `index` (0-based) on the current clip.
    void categoryKey(int index);

Q_SIGNALS:
    void message(const QString &text, int timeoutMs);
    // What some clip shows changed (the window updates its counts and filters).
    void labelsChanged();
    // A clip now shows a label no filter entry names yet.
    void newLabelShown(const QString &label);

private:
    void onLabelEdited(qint64 utteranceId, const LabelValue &value);
    void onClipChanged(qint64 utteranceId);

    LabelingPanel *m_panel = nullptr;
    LabelingController *m_labeling = nullptr;
    ClipNavigator *m_navigator = nullptr;
    UtteranceTableModel *m_rows = nullptr;
    WorkspaceSession *m_session = nullptr;
    bool m_lastEditQueued = false;
};

} // namespace emolens
