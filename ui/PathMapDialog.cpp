#include "PathMapDialog.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace emolens {

namespace {

// At most this many clips are looked for on disk while the rows are edited: the count is then
// of a sample, and says so.
constexpr int kCheckedClips = 2000;

} // namespace

PathMapDialog::PathMapDialog(const PathMap &current, QStringList storedClipPaths,
                             QStringList storedRoots, QWidget *parent)
    : QDialog(parent), m_clips(std::move(storedClipPaths)), m_roots(std::move(storedRoots))
{
    setWindowTitle(tr("Audio Folders on This Machine"));
    auto *intro = new QLabel(
        tr("The workspace names each clip's file as the machine that imported it saw it. Where "
           "this machine reaches the same folder under another path, say so here: the left "
           "column as the workspace names the folder, the right as this machine sees it. Kept "
           "for this workspace on this machine only; other machines keep their own."),
        this);
    intro->setWordWrap(true);

    m_table = new QTableWidget(0, 2, this);
    m_table->setHorizontalHeaderLabels(
        {tr("Folder in the workspace"), tr("Folder on this machine")});
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setMinimumHeight(140);

    m_add = new QPushButton(tr("&Add"), this);
    m_remove = new QPushButton(tr("&Remove"), this);
    m_browse = new QPushButton(tr("&Browse for This Machine's Folder..."), this);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_add);
    buttons->addWidget(m_remove);
    buttons->addWidget(m_browse);
    buttons->addStretch();

    m_found = new QLabel(this);
    m_found->setWordWrap(true);
    m_found->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *box = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_ok = box->button(QDialogButtonBox::Ok);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addWidget(m_table, 1);
    layout->addLayout(buttons);
    layout->addWidget(m_found);
    layout->addWidget(box);
    resize(760, 380);

    for (const PathMap::Entry &e : current.entries())
        addRow(e.stored, e.local);

    connect(m_add, &QPushButton::clicked, this, [this] {
        // Propose the first corpus folder this machine does not have and no row maps yet.
        const PathMap map = pathMap();
        QString proposal;
        for (const QString &root : std::as_const(m_roots))
            if (!QFileInfo::exists(map.toLocal(root))) {
                proposal = root;
                break;
            }
        addRow(proposal, QString());
        m_table->setCurrentCell(m_table->rowCount() - 1, proposal.isEmpty() ? 0 : 1);
        m_table->editItem(m_table->currentItem());
    });
    connect(m_remove, &QPushButton::clicked, this, [this] {
        if (const int row = m_table->currentRow(); row >= 0)
            m_table->removeRow(row);
        updateFound();
    });
    connect(m_browse, &QPushButton::clicked, this, &PathMapDialog::browse);
    connect(m_table, &QTableWidget::itemChanged, this, &PathMapDialog::updateFound);
    connect(m_table, &QTableWidget::currentCellChanged, this,
            [this] { m_browse->setEnabled(m_table->currentRow() >= 0); });
    connect(box, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(box, &QDialogButtonBox::rejected, this, &QDialog::reject);
    m_browse->setEnabled(false);
    updateFound();
}

void PathMapDialog::addRow(const QString &stored, const QString &local)
{
    const int row = m_table->rowCount();
    m_table->insertRow(row);
    m_table->setItem(row, 0, new QTableWidgetItem(stored));
    m_table->setItem(row, 1, new QTableWidgetItem(local));
    updateFound();
}

void PathMapDialog::browse()
{
    const int row = m_table->currentRow();
    if (row < 0)
        return;
    const QString start =
        m_table->item(row, 1)->text().isEmpty() ? QDir::homePath() : m_table->item(row, 1)->text();
    const QString folder =
        QFileDialog::getExistingDirectory(this, tr("The Folder on This Machine"), start);
    if (!folder.isEmpty())
        m_table->item(row, 1)->setText(folder);
}

QString PathMapDialog::error() const
{
    for (int row = 0; row < m_table->rowCount(); ++row) {
        const QString stored = m_table->item(row, 0) ? m_table->item(row, 0)->text().trimmed() : "";
        const QString local = m_table->item(row, 1) ? m_table->item(row, 1)->text().trimmed() : "";
        if (stored.isEmpty() && local.isEmpty())
            continue;
        PathMap one;
        if (auto st = PathMap::parse(stored + u'=' + local, &one); !st)
            return tr("Row %1: %2").arg(row + 1).arg(st.error());
    }
    return QString();
}

PathMap PathMapDialog::pathMap() const
{
    QList<PathMap::Entry> entries;
    for (int row = 0; row < m_table->rowCount(); ++row) {
        const QString stored = m_table->item(row, 0) ? m_table->item(row, 0)->text() : QString();
        const QString local = m_table->item(row, 1) ? m_table->item(row, 1)->text() : QString();
        PathMap one;
        if (PathMap::parse(stored + u'=' + local, &one) && !one.isEmpty())
            entries += one.entries();
    }
    return PathMap(entries);
}

void PathMapDialog::updateFound()
{
    const QString why = error();
    m_ok->setEnabled(why.isEmpty());
    const PathMap map = pathMap();
    const int checked = int(std::min<qsizetype>(m_clips.size(), kCheckedClips));
    int found = 0;
    // Evenly spread over the clips, so a sample sees every corpus.
    for (int i = 0; i < checked; ++i) {
        const qsizetype at =
            m_clips.size() <= kCheckedClips ? i : qsizetype(i) * m_clips.size() / checked;
        found += QFileInfo::exists(map.toLocal(m_clips.at(at))) ? 1 : 0;
    }
    QStringList missing;
    for (const QString &root : std::as_const(m_roots))
        if (!QFileInfo::exists(map.toLocal(root)))
            missing << QDir::toNativeSeparators(map.toLocal(root));
    QString text = m_clips.size() <= kCheckedClips
                       ? tr("With these folders, %1 of the %2 clips are found on this machine.")
                             .arg(found)
                             .arg(m_clips.size())
                       : tr("With these folders, %1 of %2 clips looked for (of %3) are found on "
                            "this machine.")
                             .arg(found)
                             .arg(checked)
                             .arg(m_clips.size());
    if (!missing.isEmpty())
        text +=
            u' ' + tr("Corpus folders missing here: %1.").arg(missing.join(QStringLiteral(", ")));
    if (!why.isEmpty())
        text = why;
    m_found->setText(text);
}

} // namespace emolens
