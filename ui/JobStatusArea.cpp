#include "JobStatusArea.h"

#include "jobs/JobQueue.h"

#include <QLabel>
#include <QProgressBar>
#include <QStatusBar>
#include <QToolButton>

namespace emolens {

JobStatusArea::JobStatusArea(JobQueue *queue, QStatusBar *statusBar, QObject *parent)
    : QObject(parent), m_queue(queue), m_statusBar(statusBar)
{
    m_label = new QLabel;
    m_label->setObjectName(QStringLiteral("jobLabel"));
    m_progress = new QProgressBar;
    m_progress->setObjectName(QStringLiteral("jobProgress"));
    m_progress->setRange(0, 1000);
    m_progress->setMinimumWidth(200);
    m_progress->setMaximumWidth(260);
    m_progress->setTextVisible(true);
    m_cancel = new QToolButton;
    m_cancel->setObjectName(QStringLiteral("jobCancel"));
    m_cancel->setText(tr("Cancel"));
    connect(m_cancel, &QToolButton::clicked, this, [this] {
        m_queue->cancelAll();
        m_cancel->setEnabled(false); // one click is enough; the job stops at its next check
    });
    for (QWidget *w : {static_cast<QWidget *>(m_label), static_cast<QWidget *>(m_progress),
                       static_cast<QWidget *>(m_cancel)}) {
        m_statusBar->addWidget(w);
        w->hide();
    }
    connect(m_queue, &JobQueue::jobStarted, this, &JobStatusArea::onStarted);
    connect(m_queue, &JobQueue::progress, this, &JobStatusArea::onProgress);
    connect(m_queue, &JobQueue::jobFinished, this, &JobStatusArea::onFinished);
}

void JobStatusArea::showStopping(const QString &message)
{
    m_cancel->setEnabled(false);
    m_label->setText(message);
    m_label->setToolTip(message);
    m_label->show();
}

void JobStatusArea::onStarted(int, const QString &name)
{
    const QString message =
        m_queue->waitingCount() > 0
            ? tr("%1... (%n more waiting)", nullptr, m_queue->waitingCount()).arg(name)
            : tr("%1...").arg(name);
    m_label->setText(message);
    m_label->setToolTip(message);
    m_progress->setValue(0);
    m_progress->setFormat(QStringLiteral("%p%"));
    m_cancel->setToolTip(m_queue->runningCancelEffect());
    m_cancel->setEnabled(true);
    m_statusBar->clearMessage();
    setVisible(true);
}

void JobStatusArea::onProgress(int, double fraction, const QString &message, const QString &etaText)
{
    if (!m_cancel->isEnabled() && m_queue->isCancelRequested())
        return; // keep saying that it stops
    m_progress->setValue(int(fraction * 1000));
    m_progress->setFormat(etaText.isEmpty() ? QStringLiteral("%p%")
                                            : QStringLiteral("%p%  ") + etaText);
    m_label->setText(message);
    m_label->setToolTip(message);
}

void JobStatusArea::onFinished(int, const JobResult &)
{
    if (!m_queue->isBusy())
        setVisible(false);
}

void JobStatusArea::setVisible(bool visible)
{
    for (QWidget *w : {static_cast<QWidget *>(m_label), static_cast<QWidget *>(m_progress),
                       static_cast<QWidget *>(m_cancel)})
        w->setVisible(visible);
}

} // namespace emolens
