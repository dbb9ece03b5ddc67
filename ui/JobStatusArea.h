#pragma once
// JobStatusArea: the status bar's job area (what runs, a progress bar with the time left, and
// Cancel), fed by the JobQueue itself, so every job that goes through the queue - an import,
// an extraction, later training or a t-SNE layout - shows there without the window knowing
// about it. Cancel cancels the running job (and what waits behind it); its tooltip says what
// a cancel keeps (Job::cancelEffect()).
//
// Ownership and threads: GUI thread; the widgets are added to the given status bar.

#include <QObject>
#include <QString>

class QLabel;
class QProgressBar;
class QStatusBar;
class QToolButton;

namespace emolens {

class JobQueue;
struct JobResult;

class JobStatusArea : public QObject
{
    Q_OBJECT

public:
    JobStatusArea(JobQueue *queue, QStatusBar *statusBar, QObject *parent = nullptr);

    QLabel *label() const { return m_label; }
    QProgressBar *progressBar() const { return m_progress; }
    QToolButton *cancelButton() const { return m_cancel; }

    // Says that the jobs are being stopped (for a window that closes when they have).
    void showStopping(const QString &message);

private:
    void onStarted(int id, const QString &name);
    void onProgress(int id, double fraction, const QString &message, const QString &etaText);
    void onFinished(int id, const JobResult &result);
    void setVisible(bool visible);

    JobQueue *m_queue = nullptr;
    QStatusBar *m_statusBar = nullptr;
    QLabel *m_label = nullptr;
    QProgressBar *m_progress = nullptr;
    QToolButton *m_cancel = nullptr;
};

} // namespace emolens
