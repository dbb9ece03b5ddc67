#pragma once
// QueueView: the Queue tab beside the clip table - the labeling queue of active learning.
// Above the table: the strategy, the round size, the SER options (a menu), Rank, Retrain && Rank,
// and after how many new labels the model retrains by itself; a line says which round is shown
// (strategy, model, clips, labels since). The table lists the queue (QueueModel): a click opens the
// clip, and the row of the clip being shown is kept selected as the annotator moves on.
//
// Ownership and threads: GUI thread; the queue and navigator must outlive the view.

#include <QWidget>

class QAction;
class QComboBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTableView;
class QToolButton;

namespace emolens {

class ClipNavigator;
class LabelingQueue;

class QueueView : public QWidget
{
    Q_OBJECT

public:
    QueueView(LabelingQueue *queue, ClipNavigator *navigator, QWidget *parent = nullptr);

    QTableView *table() const { return m_table; }
    QComboBox *strategyCombo() const { return m_strategy; }
    QSpinBox *countSpin() const { return m_count; }
    QSpinBox *retrainAfterSpin() const { return m_retrainAfter; }
    QPushButton *rankButton() const { return m_rank; }
    QPushButton *retrainButton() const { return m_retrainRank; }
    QLabel *summaryLabel() const { return m_summary; }
    QToolButton *optionsButton() const { return m_options; }
    QAction *favourRareAction() const { return m_favourRare; }
    QAction *secondOpinionsAction() const { return m_secondOpinions; }
    QAction *disputedFirstAction() const { return m_disputedFirst; }

    // Selects the clip's row (no signal back to the navigator); clears when not queued.
    void showCurrent(qint64 utteranceId);
    // Enables the buttons as the window allows (a workspace is open).
    void setWorkspaceOpen(bool open);

private:
    void refresh();
    void onRowActivated(const QModelIndex &index);

    LabelingQueue *m_queue = nullptr;
    ClipNavigator *m_navigator = nullptr;
    QComboBox *m_strategy = nullptr;
    QSpinBox *m_count = nullptr;
    QSpinBox *m_retrainAfter = nullptr;
    QPushButton *m_rank = nullptr;
    QPushButton *m_retrainRank = nullptr;
    QLabel *m_summary = nullptr;
    QToolButton *m_options = nullptr;
    QAction *m_favourRare = nullptr;
    QAction *m_secondOpinions = nullptr;
    QAction *m_disputedFirst = nullptr;
    QLabel *m_empty = nullptr;
    QTableView *m_table = nullptr;
    bool m_workspaceOpen = false;
    bool m_showing = false;
};

} // namespace emolens
