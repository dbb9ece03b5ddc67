#include "ImportReportDialog.h"

#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QDir>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace emolens {

ImportReportDialog::ImportReportDialog(const ImportReport &report, const QString &rootPath,
                                       QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Import Report - %1").arg(report.corpusName));
    setAttribute(Qt::WA_DeleteOnClose);
    resize(820, 460);

    const ImportOutcome &o = report.outcome;
    QStringList labels;
    for (auto it = report.labelCounts.cbegin(); it != report.labelCounts.cend(); ++it)
        labels << QStringLiteral("%1 %2").arg(it.key()).arg(it.value());
    QString summary = tr("<b>%1</b> (%2): %3 utterances from %4 speakers in %5 s.<br>"
                         "New %6, unchanged %7, updated %8, moved %9; %10 labels added.")
                          .arg(report.corpusName.toHtmlEscaped(), report.format)
                          .arg(report.imported())
                          .arg(report.speakers)
                          .arg(report.seconds, 0, 'f', report.seconds < 1 ? 2 : 1)
                          .arg(o.added)
                          .arg(o.unchanged)
                          .arg(o.updated)
                          .arg(o.moved)
                          .arg(o.labelsAdded);
    if (!labels.isEmpty())
        summary += tr("<br>Labels: %1.").arg(labels.join(QStringLiteral(", ")).toHtmlEscaped());
    if (!report.skipped.isEmpty())
        summary += tr("<br><br><b>%n file(s) or line(s) were skipped:</b>", nullptr,
                      int(report.skipped.size()));
    auto *summaryLabel = new QLabel(summary, this);
    summaryLabel->setWordWrap(true);
    summaryLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_table = new QTableWidget(int(report.skipped.size()), 3, this);
    m_table->setHorizontalHeaderLabels({tr("File"), tr("Line"), tr("Reason")});
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Interactive);
    m_table->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setColumnWidth(0, 320);
    const QDir root(rootPath);
    for (int i = 0; i < report.skipped.size(); ++i) {
        const ImportProblem &p = report.skipped[i];
        // Paths inside the corpus read better relative to it; the tooltip keeps the full path.
        const QString shown =
            p.path.startsWith(root.absolutePath()) ? root.relativeFilePath(p.path) : p.path;
        auto *file = new QTableWidgetItem(QDir::toNativeSeparators(shown));
        file->setToolTip(p.path);
        auto *line = new QTableWidgetItem(p.line > 0 ? QString::number(p.line) : QString());
        line->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        auto *reason = new QTableWidgetItem(p.reason);
        reason->setToolTip(p.reason);
        m_table->setItem(i, 0, file);
        m_table->setItem(i, 1, line);
        m_table->setItem(i, 2, reason);
    }
    m_table->setVisible(!report.skipped.isEmpty());

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    if (!report.skipped.isEmpty()) {
        QPushButton *copy = buttons->addButton(tr("Copy List"), QDialogButtonBox::ActionRole);
        const QList<ImportProblem> skipped = report.skipped;
        connect(copy, &QPushButton::clicked, this, [skipped] {
            QStringList lines;
            for (const ImportProblem &p : skipped)
                lines << QStringLiteral("%1\t%2\t%3").arg(p.path).arg(p.line).arg(p.reason);
            QApplication::clipboard()->setText(lines.join(QLatin1Char('\n')));
        });
    }
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(summaryLabel);
    layout->addWidget(m_table, 1);
    layout->addWidget(buttons);
    if (report.skipped.isEmpty())
        resize(520, 180);
}

} // namespace emolens
