#pragma once
// JobLogView (View > Job Log): the JobLog as a list - when each job started, its name, how it
// ended, how long it took and its summary, newest on top - and, for the selected job, the
// whole summary with every detail line (skipped files, moved files, failed clips) in a text
// pane the user can select and copy. A running job's line shows its latest progress.
// GUI thread only; the log outlives the view.

#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace emolens {

class JobLog;
struct JobLogEntry;

class JobLogView : public QWidget
{
    Q_OBJECT

public:
    enum Column { StartedColumn, JobColumn, OutcomeColumn, DurationColumn, SummaryColumn };

    explicit JobLogView(JobLog *log, QWidget *parent = nullptr);

    QTreeWidget *list() const { return m_list; }
    QPlainTextEdit *detailsPane() const { return m_details; }

private:
    void rebuild();
    void fill(QTreeWidgetItem *item, const JobLogEntry &entry) const;
    void showSelected();

    JobLog *m_log = nullptr;
    QTreeWidget *m_list = nullptr;
    QPlainTextEdit *m_details = nullptr;
    QPushButton *m_clear = nullptr;
};

} // namespace emolens
