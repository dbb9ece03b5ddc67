#include "ImportCorpusDialog.h"

#include "corpus/CorpusFormat.h"

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
const QString kLastFolderKey = QStringLiteral("import/lastFolder");
} // namespace

ImportCorpusDialog::ImportCorpusDialog(QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("Import Corpus"));
    setMinimumWidth(560);

    m_folder = new QLineEdit(this);
    m_folder->setPlaceholderText(tr("The folder that holds the corpus"));
    auto *browseButton = new QPushButton(tr("Browse..."), this);
    connect(browseButton, &QPushButton::clicked, this, &ImportCorpusDialog::browse);
    auto *folderRow = new QHBoxLayout;
    folderRow->addWidget(m_folder, 1);
    folderRow->addWidget(browseButton);

    m_format = new QComboBox(this);
    m_format->addItem(tr("Detect automatically"), QString());
    for (const auto &format : corpusFormats())
        m_format->addItem(format->displayName(), format->name());
    m_mapping = new QComboBox(this);
    m_mapping->setToolTip(tr("How the corpus's own labels become the classes you label with"));
    m_name = new QLineEdit(this);
    m_name->setPlaceholderText(tr("Default: the folder's name"));
    m_hint = new QLabel(this);
    m_hint->setWordWrap(true);
    m_hint->setForegroundRole(QPalette::PlaceholderText);

    auto *form = new QFormLayout;
    // A row whose field is a layout gets no buddy from QFormLayout (and shows the "&"): the
    // label is made here and points at the line edit.
    m_folderLabel = new QLabel(tr("&Folder:"), this);
    m_folderLabel->setBuddy(m_folder);
    form->addRow(m_folderLabel, folderRow);
    form->addRow(tr("F&ormat:"), m_format);
    form->addRow(QString(), m_hint);
    form->addRow(tr("Label &mapping:"), m_mapping);
    form->addRow(tr("Corpus &name:"), m_name);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Import"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addStretch(1);
    layout->addWidget(m_buttons);

    connect(m_folder, &QLineEdit::textChanged, this, &ImportCorpusDialog::updateFormatHint);
    connect(m_format, &QComboBox::currentIndexChanged, this, &ImportCorpusDialog::updateFormatHint);
    const QString last = QSettings().value(kLastFolderKey).toString();
    if (!last.isEmpty() && QFileInfo(last).isDir())
        setFolder(last);
    updateFormatHint();
}

QString ImportCorpusDialog::folder() const
{
    return QDir::fromNativeSeparators(m_folder->text().trimmed());
}

void ImportCorpusDialog::accept()
{
    QSettings().setValue(kLastFolderKey, QFileInfo(folder()).absoluteFilePath());
    QDialog::accept();
}

void ImportCorpusDialog::setFolder(const QString &path)
{
    m_folder->setText(QDir::toNativeSeparators(path));
}

void ImportCorpusDialog::browse()
{
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("Corpus Folder"), m_folder->text());
    if (!dir.isEmpty())
        setFolder(dir);
}

void ImportCorpusDialog::updateFormatHint()
{
    const QString folder = QDir::fromNativeSeparators(m_folder->text().trimmed());
    const bool folderOk = !folder.isEmpty() && QFileInfo(folder).isDir();
    m_detectedFormat.clear();
    if (m_format->currentIndex() == 0) {
        if (!folderOk) {
            m_hint->setText(folder.isEmpty() ? tr("Choose a folder: its layout tells the format.")
                                             : tr("This folder does not exist."));
        } else if (const auto format = detectCorpusFormat(folder)) {
            m_detectedFormat = format->name();
            m_hint->setText(tr("Looks like %1.").arg(format->displayName()));
        } else {
            m_hint->setText(tr("No known layout here: choose the format, or add a manifest.csv "
                               "(path,label,speaker,gender) to the folder."));
        }
    } else {
        m_hint->setText(folderOk || folder.isEmpty() ? QString()
                                                     : tr("This folder does not exist."));
    }
    fillMappings();
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(folderOk);
}

void ImportCorpusDialog::fillMappings()
{
    const QString chosen = m_format->currentData().toString();
    const auto format = corpusFormat(chosen.isEmpty() ? m_detectedFormat : chosen);
    const QString previous = m_mapping->currentData().toString();
    m_mapping->clear();
    if (!format) {
        m_mapping->addItem(tr("The format's default"), QString());
        m_mapping->setEnabled(false);
        return;
    }
    const QStringList mappings = format->labelMappings();
    for (int i = 0; i < mappings.size(); ++i)
        m_mapping->addItem(i == 0 ? tr("%1 (default)").arg(mappings[i]) : mappings[i], mappings[i]);
    m_mapping->setEnabled(true);
    const int keep = m_mapping->findData(previous);
    if (keep >= 0)
        m_mapping->setCurrentIndex(keep);
}

ImportRequest ImportCorpusDialog::request() const
{
    ImportRequest request;
    request.rootPath = QDir::fromNativeSeparators(m_folder->text().trimmed());
    request.format = m_format->currentData().toString();
    // The first mapping is the default; leaving it empty lets the importer pick it.
    request.labelMapping =
        m_mapping->currentIndex() > 0 ? m_mapping->currentData().toString() : QString();
    request.corpusName = m_name->text().trimmed();
    return request;
}

} // namespace emolens
