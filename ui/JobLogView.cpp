#include "JobLogView.h"

#include "jobs/JobLog.h"

#include <QDir>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace emolens {

namespace {

constexpr int kIndexRole = Qt::UserRole + 1;

QString durationText(double seconds)
{
    if (seconds < 0)
        return QString();
    if (seconds < 60)
        return QStringLiteral("%1 s").arg(seconds, 0, 'f', seconds < 10 ? 1 : 0);
    const qint64 s = qint64(seconds + 0.5);
    if (s < 3600)
        return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60);
    return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

QString whenText(const QDateTime &utc)
{
    if (!utc.isValid())
        return QString();
    const QDateTime local = utc.toLocalTime();
    return local.date() == QDate::currentDate()
               ? local.toString(QStringLiteral("HH:mm:ss"))
               : local.toString(QStringLiteral("yyyy-MM-dd HH:mm"));
}

QColor outcomeColour(const JobLogEntry &e)
{
    if (e.state == JobLogEntry::State::Interrupted)
        return QColor(0x9a5b00);
    if (e.state != JobLogEntry::State::Ended)
        return QColor(0x1f5fa8);
    switch (e.outcome) {
    case JobOutcome::Succeeded:
        return QColor(0x1e7b34);
    case JobOutcome::Failed:
        return QColor(0xb3261e);
    case JobOutcome::Cancelled:
    case JobOutcome::Stopped:
        break;
    }
    return QColor(0x9a5b00);
}

} // namespace

JobLogView::JobLogView(JobLog *log, QWidget *parent) : QWidget(parent), m_log(log)
{
    m_list = new QTreeWidget(this);
    m_list->setColumnCount(5);
    m_list->setHeaderLabels({tr("Started"), tr("Job"), tr("Outcome"), tr("Took"), tr("Summary")});
    m_list->setRootIsDecorated(false);
    m_list->setAlternatingRowColors(true);
    m_list->setUniformRowHeights(true);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->header()->setStretchLastSection(true);
    for (int c : {StartedColumn, JobColumn, OutcomeColumn, DurationColumn})
        m_list->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    m_list->setTextElideMode(Qt::ElideRight);

    m_details = new QPlainTextEdit(this);
    m_details->setReadOnly(true);
    m_details->setPlaceholderText(tr("Select a job to see its summary and every file it "
                                     "skipped, moved or could not process."));
    m_details->setLineWrapMode(QPlainTextEdit::WidgetWidth);

    auto *splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(m_list);
    splitter->addWidget(m_details);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setChildrenCollapsible(false);

    m_clear = new QPushButton(tr("Clear Finished"), this);
    m_clear->setToolTip(tr("Forget the jobs that have ended; running and waiting ones stay"));
    connect(m_clear, &QPushButton::clicked, m_log, &JobLog::clear);
    auto *where = new QLabel(log->filePath().isEmpty()
                                 ? tr("Kept while EmoLens runs")
                                 : tr("Kept in %1").arg(QDir::toNativeSeparators(log->filePath())),
                             this);
    where->setForegroundRole(QPalette::PlaceholderText);
    where->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *bottom = new QHBoxLayout;
    bottom->addWidget(where, 1);
    bottom->addWidget(m_clear);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(splitter, 1);
    layout->addLayout(bottom);

    connect(m_list, &QTreeWidget::currentItemChanged, this, &JobLogView::showSelected);
    connect(m_log, &JobLog::entryAdded, this, [this](int index) {
        auto *item = new QTreeWidgetItem;
        item->setData(StartedColumn, kIndexRole, index);
        fill(item, m_log->entries().at(index));
        m_list->insertTopLevelItem(0, item); // newest on top
    });
    connect(m_log, &JobLog::entryChanged, this, [this](int index) {
        for (int row = 0; row < m_list->topLevelItemCount(); ++row) {
            QTreeWidgetItem *item = m_list->topLevelItem(row);
            if (item->data(StartedColumn, kIndexRole).toInt() == index) {
                fill(item, m_log->entries().at(index));
                if (item == m_list->currentItem())
                    showSelected();
                return;
            }
        }
    });
    connect(m_log, &JobLog::entriesRemoved, this, &JobLogView::rebuild);
    rebuild();
}

void JobLogView::rebuild()
{
    m_list->clear();
    const QList<JobLogEntry> &entries = m_log->entries();
    for (int i = int(entries.size()) - 1; i >= 0; --i) {
        auto *item = new QTreeWidgetItem(m_list);
        item->setData(StartedColumn, kIndexRole, i);
        fill(item, entries[i]);
    }
    showSelected();
}

void JobLogView::fill(QTreeWidgetItem *item, const JobLogEntry &e) const
{
    item->setText(StartedColumn, whenText(e.started.isValid() ? e.started : e.queued));
    item->setText(JobColumn, e.name);
    item->setText(OutcomeColumn, e.stateText());
    item->setForeground(OutcomeColumn, outcomeColour(e));
    item->setText(DurationColumn, durationText(e.seconds()));
    QString summary = e.summary;
    if (!e.details.isEmpty())
        summary += tr("  [%n detail line(s)]", nullptr, int(e.details.size()));
    item->setText(SummaryColumn, summary);
    item->setToolTip(SummaryColumn, e.summary);
}

void JobLogView::showSelected()
{
    QTreeWidgetItem *item = m_list->currentItem();
    if (!item) {
        m_details->clear();
        return;
    }
    const int index = item->data(StartedColumn, kIndexRole).toInt();
    if (index < 0 || index >= m_log->entries().size())
        return;
    const JobLogEntry &e = m_log->entries().at(index);
    QStringList lines;
    lines << e.name;
    lines << tr("Outcome: %1").arg(e.stateText());
    if (e.state == JobLogEntry::State::Interrupted)
        lines << tr("EmoLens ended while this job was waiting or running; what it had committed "
                    "is kept, and running it again continues where that kind of job can.");
    if (!e.workspace.isEmpty())
        lines << tr("Workspace: %1").arg(QDir::toNativeSeparators(e.workspace));
    lines << tr("Queued: %1").arg(e.queued.toLocalTime().toString(Qt::ISODate));
    if (e.started.isValid())
        lines << tr("Started: %1").arg(e.started.toLocalTime().toString(Qt::ISODate));
    if (e.ended.isValid())
        lines << tr("Ended: %1 (took %2)")
                     .arg(e.ended.toLocalTime().toString(Qt::ISODate), durationText(e.seconds()));
    lines << QString() << e.summary;
    if (!e.details.isEmpty())
        lines << QString() << e.details;
    m_details->setPlainText(lines.join(QLatin1Char('\n')));
}

} // namespace emolens
