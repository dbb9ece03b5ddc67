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
// Others' labels: while a workspace is open the desk asks the store every kLivePollMs for rows
// other people or programs stored since it last looked (LabelRepository::labelsAfter) and
// refreshes those clips' rows, and the panel when one is the current clip: on a team's server
// a window shows its colleagues' labels within seconds, without reading the workspace again.
//
// Ownership and threads: GUI thread only; everything given to the constructor must outlive
// the desk.

#include "store/Records.h"

#include <QObject>
#include <QSet>

class QTimer;

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
    // Following the team's hand-out (Label > Next Clip to Label): while on, a number key with
    // auto-advance asks for the next clip handed out (claimRequested(), once the label is in
    // the store, so the clip just labeled counts as done) instead of moving to the next row.
    // The window turns it on when it hands out a clip and off when the user picks another.
    void setFollowingHandOut(bool on);
    bool isFollowingHandOut() const { return m_followHandOut; }
    // Looks for labels others stored since the last look, now (the timer does it every
    // kLivePollMs).
    void pollOthersLabels();
    static constexpr int kLivePollMs = 2000;

Q_SIGNALS:
    void message(const QString &text, int timeoutMs);
    // What some clip shows changed (the window updates its counts and filters).
    void labelsChanged();
    // A clip now shows a label no filter entry names yet.
    void newLabelShown(const QString &label);
    // So many labels arrived at once (an import, a script) that the window should read the
    // whole workspace again rather than row by row.
    void manyLabelsArrived();
    // Following the hand-out: the clip was labeled and stored; hand out the next.
    void handOutRequested();

private:
    void onLabelEdited(qint64 utteranceId, const LabelValue &value);
    void onClipChanged(qint64 utteranceId);

    LabelingPanel *m_panel = nullptr;
    LabelingController *m_labeling = nullptr;
    ClipNavigator *m_navigator = nullptr;
    UtteranceTableModel *m_rows = nullptr;
    WorkspaceSession *m_session = nullptr;
    bool m_lastEditQueued = false;
    bool m_followHandOut = false;
    qint64 m_handOutAfter = 0; // the handed-out clip whose label, once stored, asks for the next
    // Others' labels: the highest row id seen, and the ids seen a little below it (a server
    // may commit a lower id later).
    QTimer *m_livePoll = nullptr;
    qint64 m_seenUpTo = -1;
    QSet<qint64> m_seenRecently;
};

} // namespace emolens
