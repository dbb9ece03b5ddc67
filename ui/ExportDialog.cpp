#include "ExportDialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QVBoxLayout>

namespace emolens {

namespace {

const QString kFormatKey = QStringLiteral("export/format");
const QString kFolderKey = QStringLiteral("export/folder");

QString defaultName(const QString &format, const QString &workspacePath)
{
    const QString base =
        QFileInfo(workspacePath).completeBaseName().isEmpty()
            ? QStringLiteral("labels")
            : QFileInfo(workspacePath).completeBaseName() + QStringLiteral("-labels");
    if (format == u"csv")
        return base + QStringLiteral(".csv");
    if (format == u"jsonl")
        return base + QStringLiteral(".jsonl");
    return base + u'-' + format;
}

} // namespace

ExportDialog::ExportDialog(const QList<CorpusRecord> &corpora, qint64 currentCorpusId,
                           const QString &workspacePath, QWidget *parent)
    : QDialog(parent), m_workspacePath(workspacePath)
{
    setWindowTitle(tr("Export Labels"));
    setMinimumWidth(600);

    m_format = new QComboBox(this);
    for (const QString &format : CorpusExporter::formats())
        m_format->addItem(CorpusExporter::describeFormat(format), format);
    m_formatHelp = new QLabel(this);
    m_formatHelp->setWordWrap(true);
    m_formatHelp->setForegroundRole(QPalette::PlaceholderText);

    m_corpus = new QComboBox(this);
    m_corpus->addItem(tr("Every corpus in the workspace"), qint64(0));
    for (const CorpusRecord &c : corpora)
        m_corpus->addItem(c.name, c.id);
    const int current = m_corpus->findData(currentCorpusId);
    m_corpus->setCurrentIndex(current >= 0 ? current : 0);

    m_outPath = new QLineEdit(this);
    auto *browseButton = new QPushButton(tr("Browse..."), this);
    connect(browseButton, &QPushButton::clicked, this, &ExportDialog::browse);
    auto *outRow = new QHBoxLayout;
    outRow->addWidget(m_outPath, 1);
    outRow->addWidget(browseButton);
    m_outLabel = new QLabel(tr("&Save to:"), this);
    m_outLabel->setBuddy(m_outPath);

    auto *rule = new QLabel(
        tr("<b>Which label each clip gets:</b> the one the table shows - the newest category a "
           "person gave it, else the corpus's own label; clips with neither are exported without "
           "one. CSV and JSON Lines also say who gave it (<i>annotator</i>) and whether it is a "
           "person's or the corpus's (<i>label_origin</i>), with the dimensional values where "
           "there are any."),
        this);
    rule->setWordWrap(true);
    rule->setTextFormat(Qt::RichText);
    m_problem = new QLabel(this);
    m_problem->setWordWrap(true);
    m_problem->setStyleSheet(QStringLiteral("QLabel { color: #b3261e; }"));

    auto *form = new QFormLayout;
    form->addRow(tr("&Format:"), m_format);
    form->addRow(QString(), m_formatHelp);
    form->addRow(tr("&Corpus:"), m_corpus);
    form->addRow(m_outLabel, outRow);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Export"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &ExportDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addSpacing(6);
    layout->addWidget(rule);
    layout->addWidget(m_problem);
    layout->addStretch(1);
    layout->addWidget(m_buttons);

    connect(m_format, &QComboBox::currentIndexChanged, this, &ExportDialog::onFormatChanged);
    connect(m_outPath, &QLineEdit::textChanged, this, &ExportDialog::updateButtons);
    const QSettings settings;
    const int saved = m_format->findData(settings.value(kFormatKey).toString());
    m_format->setCurrentIndex(saved >= 0 ? saved : 0);
    onFormatChanged();
}

ExportRequest ExportDialog::request() const
{
    ExportRequest request;
    request.format = m_format->currentData().toString();
    request.outPath = QDir::fromNativeSeparators(m_outPath->text().trimmed());
    request.corpusId = m_corpus->currentData().toLongLong();
    return request;
}

void ExportDialog::setFormat(const QString &format)
{
    const int index = m_format->findData(format);
    if (index >= 0)
        m_format->setCurrentIndex(index);
}

void ExportDialog::setOutPath(const QString &path)
{
    m_outPath->setText(QDir::toNativeSeparators(path));
}

void ExportDialog::onFormatChanged()
{
    const QString format = m_format->currentData().toString();
    const bool folder = CorpusExporter::writesAFolder(format);
    m_outLabel->setText(folder ? tr("&Into folder:") : tr("&Save to:"));
    m_formatHelp->setText(folder ? tr("One file per clip, named after its key; a folder per "
                                      "corpus when there are several.")
                                 : tr("One file; an existing file is replaced only when the "
                                      "export has finished."));
    // Follow the format: keep the folder, change the name's extension or suffix.
    const QString current = QDir::fromNativeSeparators(m_outPath->text().trimmed());
    QString dir = current.isEmpty() ? QSettings().value(kFolderKey).toString()
                                    : QFileInfo(current).absolutePath();
    if (dir.isEmpty() || !QFileInfo(dir).isDir())
        dir = QFileInfo(m_workspacePath).absolutePath();
    setOutPath(QDir(dir).filePath(defaultName(format, m_workspacePath)));
    updateButtons();
}

void ExportDialog::browse()
{
    const QString format = m_format->currentData().toString();
    const QString current = QDir::fromNativeSeparators(m_outPath->text().trimmed());
    const QString chosen =
        CorpusExporter::writesAFolder(format)
            ? QFileDialog::getExistingDirectory(this, tr("Export Into Folder"),
                                                QFileInfo(current).absolutePath())
            : QFileDialog::getSaveFileName(this, tr("Export To File"), current);
    if (!chosen.isEmpty())
        setOutPath(chosen);
}

void ExportDialog::updateButtons()
{
    const ExportRequest r = request();
    QString problem;
    const QFileInfo info(r.outPath);
    if (r.outPath.isEmpty())
        problem = tr("Choose where to save the export.");
    else if (CorpusExporter::writesAFolder(r.format) && info.exists() && !info.isDir())
        problem = tr("%1 is a file; this format writes a folder of files.")
                      .arg(QDir::toNativeSeparators(r.outPath));
    else if (!CorpusExporter::writesAFolder(r.format) && info.isDir())
        problem = tr("%1 is a folder; this format writes one file.")
                      .arg(QDir::toNativeSeparators(r.outPath));
    m_problem->setText(problem);
    m_problem->setVisible(!problem.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(problem.isEmpty());
}

void ExportDialog::accept()
{
    const ExportRequest r = request();
    QSettings settings;
    settings.setValue(kFormatKey, r.format);
    // The folder the file (or the folder of files) is in: the next export is offered there.
    settings.setValue(kFolderKey, QFileInfo(r.outPath).absolutePath());
    QDialog::accept();
}

} // namespace emolens
