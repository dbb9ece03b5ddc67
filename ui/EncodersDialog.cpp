#include "EncodersDialog.h"

#include "FeatureExtractionController.h"
#include "features/EncoderCatalog.h"
#include "features/FeatureCache.h"
#include "jobs/JobRunner.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/FeatureRepository.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>

namespace emolens {

namespace {

const QString kBuiltIn = QString::fromLatin1(EncoderCatalog::kBuiltIn);

QString typeText(const QString &modelType)
{
    if (modelType == QLatin1String("fbank"))
        return QObject::tr("Log-mel fbank");
    if (modelType == QLatin1String("wav2vec2"))
        return QStringLiteral("wav2vec 2.0");
    if (modelType == QLatin1String("hubert"))
        return QStringLiteral("HuBERT");
    if (modelType == QLatin1String("wavlm"))
        return QStringLiteral("WavLM");
    return modelType;
}

QString deviceText(const QString &device)
{
    if (device == QLatin1String("cpu"))
        return QObject::tr("CPU");
    if (device.startsWith(QLatin1String("cuda:")))
        return QObject::tr("GPU %1 (%2)").arg(device.section(u':', 1), device);
    return device;
}

} // namespace

// What the worker thread fills while it checks a folder.
struct EncodersDialog::Pending
{
    EncoderDescription description;
};

EncodersDialog::EncodersDialog(Database &db, const QString &workspacePath,
                               FeatureExtractionController *extraction, QAction *extractAction,
                               QWidget *parent)
    : QDialog(parent), m_db(db), m_workspacePath(workspacePath), m_extraction(extraction)
{
    setWindowTitle(tr("Encoders"));
    setObjectName(QStringLiteral("EncodersDialog"));
    m_validator = new JobRunner(this);
    connect(m_validator, &JobRunner::finished, this, &EncodersDialog::onValidated);

    auto *intro = new QLabel(
        tr("Extract Features runs the active encoder over every clip of the workspace and keeps "
           "every layer of every frame in the feature cache. Add a Hugging Face model folder "
           "(wav2vec 2.0, HuBERT or WavLM: config.json and model.safetensors) to use it."));
    intro->setWordWrap(true);

    m_table = new QTableWidget(0, ColumnCount);
    m_table->setHorizontalHeaderLabels({tr("Name"), tr("Type"), tr("Layers x size"),
                                        tr("Extracted"), tr("Cache (MB)"), tr("Folder")});
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideMiddle);
    m_table->setShowGrid(false);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 10);
    QHeaderView *header = m_table->horizontalHeader();
    header->setHighlightSections(false);
    header->setStretchLastSection(true);
    header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_table->horizontalHeaderItem(CacheColumn)->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    const QFontMetrics metrics = m_table->fontMetrics();
    auto widthFor = [&metrics](const QString &sample) {
        return metrics.horizontalAdvance(sample) + 28;
    };
    header->resizeSection(NameColumn, widthFor(QStringLiteral("wav2vec2-large-robust")));
    header->resizeSection(TypeColumn, widthFor(QStringLiteral("Log-mel fbank")));
    header->resizeSection(LayersColumn, widthFor(tr("Layers x size")));
    header->resizeSection(ExtractedColumn, widthFor(QStringLiteral("10,000 / 10,000 clips_")));
    header->resizeSection(CacheColumn, widthFor(tr("Cache (MB)")));
    connect(m_table, &QTableWidget::itemSelectionChanged, this, &EncodersDialog::updateButtons);
    connect(m_table, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        useEncoder(m_table->item(row, NameColumn)->data(SourceRole).toString());
    });

    m_addButton = new QPushButton(tr("Add Model Folder..."));
    m_addButton->setToolTip(tr("Choose a folder with config.json and model.safetensors"));
    connect(m_addButton, &QPushButton::clicked, this, &EncodersDialog::chooseFolder);
    m_removeButton = new QPushButton(tr("Remove"));
    m_removeButton->setToolTip(
        tr("Forget the selected encoder and its embeddings (the built-in fbank stays)"));
    connect(m_removeButton, &QPushButton::clicked, this, &EncodersDialog::removeSelectedEncoder);
    m_useButton = new QPushButton(tr("Use for Extraction"));
    m_useButton->setToolTip(tr("Extract Features runs the selected encoder (double-click a row "
                               "does the same)"));
    connect(m_useButton, &QPushButton::clicked, this, [this] { useEncoder(selectedSource()); });
    m_busyLabel = new QLabel;
    m_busyBar = new QProgressBar;
    m_busyBar->setRange(0, 0); // busy: a load has no fraction to report
    m_busyBar->setMaximumWidth(120);
    m_busyBar->setTextVisible(false);
    m_busyLabel->hide();
    m_busyBar->hide();

    auto *tableButtons = new QHBoxLayout;
    tableButtons->addWidget(m_addButton);
    tableButtons->addWidget(m_removeButton);
    tableButtons->addWidget(m_busyBar);
    tableButtons->addWidget(m_busyLabel, 1);
    tableButtons->addStretch();
    tableButtons->addWidget(m_useButton);

    // Device and batch: the same choices as `emolens-cli extract --device --batch-seconds`.
    m_device = new QComboBox;
    m_device->setToolTip(tr("Automatic uses a GPU when this build and machine have one"));
    m_device->addItem(tr("Automatic"), QStringLiteral("auto"));
    for (const QString &device : EncoderCatalog::availableDevices())
        m_device->addItem(deviceText(device), device);
    m_precision = new QComboBox;
    m_precision->addItem(tr("fp32 (exact)"), QStringLiteral("fp32"));
    m_precision->addItem(tr("bf16 (faster)"), QStringLiteral("bf16"));
    m_precision->setToolTip(
        tr("bf16 runs the model's matrix products in bfloat16: several times faster on GPUs and "
           "on CPUs with AVX-512 BF16, with features within about 2% of fp32's. They are cached "
           "as an encoder of their own, named \"(bf16)\". The built-in fbank is always fp32."));
    m_batch = new QSpinBox;
    m_batch->setRange(ExtractionChoice::kMinBatchSeconds, ExtractionChoice::kMaxBatchSeconds);
    m_batch->setSingleStep(10);
    m_batch->setSuffix(tr(" s of audio"));
    m_batch->setToolTip(tr("Padded audio per batch. Smaller needs less memory; a batch that "
                           "does not fit on the device is split and retried."));
    const ExtractionChoice saved = ExtractionChoice::load();
    int deviceIndex = m_device->findData(saved.device);
    if (deviceIndex < 0) { // chosen on another machine: keep it visible rather than forget it
        m_device->addItem(tr("%1 (not found here)").arg(saved.device), saved.device);
        deviceIndex = m_device->count() - 1;
    }
    m_device->setCurrentIndex(deviceIndex);
    m_precision->setCurrentIndex(std::max(0, m_precision->findData(saved.precision)));
    m_batch->setValue(saved.batchSeconds);
    connect(m_device, &QComboBox::currentIndexChanged, this, &EncodersDialog::saveChoice);
    connect(m_precision, &QComboBox::currentIndexChanged, this, &EncodersDialog::saveChoice);
    connect(m_batch, &QSpinBox::valueChanged, this, &EncodersDialog::saveChoice);

    auto *deviceLabel = new QLabel(tr("&Device:"));
    deviceLabel->setBuddy(m_device);
    auto *precisionLabel = new QLabel(tr("&Precision:"));
    precisionLabel->setBuddy(m_precision);
    auto *batchLabel = new QLabel(tr("&Batch:"));
    batchLabel->setBuddy(m_batch);
    auto *settingsRow = new QHBoxLayout;
    settingsRow->addWidget(deviceLabel);
    settingsRow->addWidget(m_device);
    settingsRow->addSpacing(16);
    settingsRow->addWidget(precisionLabel);
    settingsRow->addWidget(m_precision);
    settingsRow->addSpacing(16);
    settingsRow->addWidget(batchLabel);
    settingsRow->addWidget(m_batch);
    settingsRow->addStretch();

    m_cacheLabel = new QLabel;
    m_cacheLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_cacheLabel->setWordWrap(true);
    m_cacheLabel->setForegroundRole(QPalette::PlaceholderText);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    if (extractAction) {
        // A push button mirroring the window's action, so it looks like the other buttons.
        QPushButton *extract =
            buttons->addButton(extractAction->text().remove(u'&'), QDialogButtonBox::ActionRole);
        extract->setToolTip(extractAction->toolTip());
        extract->setEnabled(extractAction->isEnabled());
        connect(extract, &QPushButton::clicked, extractAction, &QAction::trigger);
        connect(extractAction, &QAction::changed, extract,
                [extract, extractAction] { extract->setEnabled(extractAction->isEnabled()); });
    }

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addWidget(m_table, 1);
    layout->addLayout(tableButtons);
    layout->addSpacing(6);
    layout->addLayout(settingsRow);
    layout->addWidget(m_cacheLabel);
    layout->addWidget(buttons);

    if (m_extraction) {
        connect(m_extraction, &FeatureExtractionController::started, this,
                &EncodersDialog::updateButtons);
        connect(m_extraction, &FeatureExtractionController::finished, this,
                &EncodersDialog::reload);
        connect(m_extraction, &FeatureExtractionController::progress, this,
                &EncodersDialog::remeasureSoon);
    }
    m_remeasure = new QTimer(this);
    m_remeasure->setSingleShot(true);
    m_remeasure->setInterval(3000);
    connect(m_remeasure, &QTimer::timeout, this, [this] {
        measureCache(FeatureCache::defaultRootFor(m_workspacePath), m_measuredIdentities,
                     m_clipHashes);
    });
    // Wide enough for a model folder under a home directory without eliding it.
    resize(1080, 400);
    reload();
}

EncodersDialog::~EncodersDialog() = default;

void EncodersDialog::reload()
{
    const QString keepSelected = selectedSource();
    FeatureRepository features(m_db);
    // The clips' audio, by content hash: a clip counts as extracted when its encoder's cache
    // file is there (the store's embedding alone is not enough: a deleted cache folder leaves it).
    QList<UtteranceRecord> utterances;
    CorpusRepository(m_db).utterances(0, &utterances);
    const int clipCount = int(utterances.size());
    m_clipCount = clipCount;
    QStringList clipHashes;
    clipHashes.reserve(clipCount);
    for (const UtteranceRecord &u : std::as_const(utterances))
        clipHashes.append(u.contentHash.toLower());
    const FeatureCache cache(FeatureCache::defaultRootFor(m_workspacePath));
    const QLocale locale;

    // fbank first, described from the code when no extraction has stored it yet.
    QList<EncoderRecord> rows;
    EncoderRecord fbank;
    EncoderDescription builtIn;
    if (EncoderCatalog::describeEncoder(kBuiltIn, &builtIn)) {
        fbank = builtIn.toRecord();
    } else {
        fbank.name = fbank.source = fbank.modelType = kBuiltIn;
    }
    QList<EncoderRecord> folders;
    for (const EncoderRecord &e : features.encoders()) {
        if (e.source == kBuiltIn) {
            // A record of an older fbank version is not what runs now: it stays unlisted.
            if (e.identity == fbank.identity || fbank.identity.isEmpty())
                fbank = e;
        } else {
            folders.append(e);
        }
    }
    rows.append(fbank);
    rows.append(folders);

    m_table->setRowCount(0);
    m_table->setRowCount(int(rows.size()));
    for (int row = 0; row < rows.size(); ++row) {
        const EncoderRecord &e = rows[row];
        const bool isBuiltIn = e.source == kBuiltIn;
        auto *name = new QTableWidgetItem(e.name);
        name->setData(SourceRole, e.source);
        name->setData(EncoderIdRole, e.id);
        m_table->setItem(row, NameColumn, name);
        m_table->setItem(row, TypeColumn, new QTableWidgetItem(typeText(e.modelType)));
        auto *layers = new QTableWidgetItem(
            e.layerCount > 0 ? QStringLiteral("%1 x %2").arg(e.layerCount).arg(e.hiddenSize)
                             : QStringLiteral("-"));
        layers->setToolTip(tr("%1 layers of %2 values, %3 frames per second")
                               .arg(e.layerCount)
                               .arg(e.hiddenSize)
                               .arg(e.framesPerSecond));
        m_table->setItem(row, LayersColumn, layers);
        // Counted with the cache sizes, on a worker thread.
        auto *extracted = new QTableWidgetItem(tr("counting..."));
        extracted->setToolTip(tr("Clips whose features are in the cache, of %1 in the workspace")
                                  .arg(locale.toString(clipCount)));
        m_table->setItem(row, ExtractedColumn, extracted);
        auto *cacheItem = new QTableWidgetItem(tr("..."));
        cacheItem->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        cacheItem->setToolTip(QDir::toNativeSeparators(cache.encoderDirectory(e.identity)));
        m_table->setItem(row, CacheColumn, cacheItem);
        auto *folder =
            new QTableWidgetItem(isBuiltIn ? tr("built in") : QDir::toNativeSeparators(e.source));
        folder->setToolTip(folder->text());
        m_table->setItem(row, FolderColumn, folder);
        for (int column = NameColumn; column < ColumnCount; ++column)
            if (column != CacheColumn)
                m_table->item(row, column)->setTextAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    }

    QStringList identities;
    for (const EncoderRecord &e : rows)
        identities.append(e.identity);
    m_measuredIdentities = identities;
    m_clipHashes = clipHashes;
    measureCache(cache.rootDirectory(), identities, clipHashes);

    // The active encoder: the saved one when this workspace lists it (see ExtractionChoice).
    m_activeSource = FeatureExtractionController::activeChoiceFor(m_db).encoder;
    markActiveRow();
    const int keep = rowOf(keepSelected);
    m_table->selectRow(keep >= 0 ? keep : qMax(0, rowOf(m_activeSource)));

    m_cacheLabel->setText(
        tr("Feature cache: %1  (fbank takes about 8 kB per second of audio, a base model about "
           "1 MB, a large one 2.4 MB)")
            .arg(QDir::toNativeSeparators(cache.rootDirectory())));
    updateButtons();
}

void EncodersDialog::measureCache(const QString &cacheRoot, const QStringList &identities,
                                  const QStringList &clipHashes)
{
    const int generation = ++m_cacheGeneration;
    m_measuring = true;
    // A runner owned by the dialog: closing the dialog cancels it between encoders and joins
    // its thread, so no thread outlives the dialog.
    auto *runner = new JobRunner(this);
    auto measured = std::make_shared<QList<CacheMeasure>>();
    connect(runner, &JobRunner::finished, this, [this, runner, generation, measured] {
        runner->deleteLater();
        m_measuring = false;
        showCacheSizes(generation, *measured);
    });
    runner->start(std::make_shared<FunctionJob>(
        tr("Measure the feature cache"),
        [cacheRoot, identities, clipHashes, measured](ProgressSink &progress) {
            const FeatureCache cache(cacheRoot);
            for (const QString &identity : identities) {
                if (progress.isCancelled())
                    return JobResult::cancelled(QString());
                CacheMeasure m;
                if (!identity.isEmpty()) {
                    const FeatureCache::Contents contents = cache.contents(identity);
                    m.bytes = contents.bytes;
                    for (const QString &hash : clipHashes)
                        m.clips += contents.contentHashes.contains(hash) ? 1 : 0;
                }
                m.measured = true;
                measured->append(m);
            }
            return JobResult::succeeded();
        }));
}

void EncodersDialog::showCacheSizes(int generation, const QList<CacheMeasure> &measured)
{
    if (generation != m_cacheGeneration || measured.size() != m_table->rowCount())
        return;
    const QLocale locale;
    for (int row = 0; row < m_table->rowCount(); ++row) {
        if (QTableWidgetItem *item = m_table->item(row, CacheColumn))
            item->setText(measured[row].bytes > 0
                              ? locale.toString(measured[row].bytes / 1e6, 'f', 1)
                              : tr("-"));
        if (QTableWidgetItem *item = m_table->item(row, ExtractedColumn))
            item->setText(
                tr("%1 / %2 clips")
                    .arg(locale.toString(measured[row].clips), locale.toString(m_clipCount)));
    }
    Q_EMIT countsMeasured();
}

void EncodersDialog::remeasureSoon()
{
    // While an extraction runs the counts move: measured again every few seconds, one walk at
    // a time, so a large cache never has two walks at once.
    if (m_remeasure->isActive() || m_measuring)
        return;
    m_remeasure->start();
}

int EncodersDialog::rowOf(const QString &source) const
{
    // Several rows may share a folder (its weights changed): the newest one is what loads.
    int found = -1;
    for (int row = 0; row < m_table->rowCount(); ++row)
        if (m_table->item(row, NameColumn)->data(SourceRole).toString() == source)
            found = row;
    return found;
}

QString EncodersDialog::selectedSource() const
{
    const QList<QTableWidgetItem *> selected = m_table->selectedItems();
    if (selected.isEmpty())
        return QString();
    return m_table->item(selected.first()->row(), NameColumn)->data(SourceRole).toString();
}

void EncodersDialog::markActiveRow()
{
    // A check mark and bold text on the active row; the others get an empty icon of the same
    // size so their names line up.
    const QIcon check = style()->standardIcon(QStyle::SP_DialogApplyButton);
    const int iconSize = style()->pixelMetric(QStyle::PM_SmallIconSize);
    QPixmap blank(iconSize, iconSize);
    blank.fill(Qt::transparent);
    const int active = rowOf(m_activeSource);
    for (int row = 0; row < m_table->rowCount(); ++row) {
        const bool isActive = row == active;
        for (int column = NameColumn; column < ColumnCount; ++column) {
            QTableWidgetItem *item = m_table->item(row, column);
            QFont font = item->font();
            font.setBold(isActive);
            item->setFont(font);
        }
        QTableWidgetItem *name = m_table->item(row, NameColumn);
        name->setIcon(isActive ? check : QIcon(blank));
        name->setToolTip(isActive ? tr("Extract Features uses this encoder")
                                  : tr("Double-click to use this encoder for extraction"));
    }
}

void EncodersDialog::updateButtons()
{
    const QString source = selectedSource();
    const bool extracting = m_extraction && m_extraction->isRunning();
    m_removeButton->setEnabled(!source.isEmpty() && source != kBuiltIn && !extracting);
    m_removeButton->setToolTip(
        extracting ? tr("Wait for the extraction to finish")
                   : tr("Forget the selected encoder and its embeddings (the built-in fbank "
                        "stays)"));
    m_useButton->setEnabled(!source.isEmpty() && source != m_activeSource);
    m_addButton->setEnabled(!isValidating());
}

void EncodersDialog::saveChoice()
{
    ExtractionChoice choice = ExtractionChoice::load();
    choice.encoder = m_activeSource.isEmpty() ? kBuiltIn : m_activeSource;
    choice.device = m_device->currentData().toString();
    choice.precision = m_precision->currentData().toString();
    choice.batchSeconds = m_batch->value();
    choice.save();
}

bool EncodersDialog::useEncoder(const QString &source)
{
    if (source.isEmpty() || rowOf(source) < 0)
        return false;
    if (source != m_activeSource) {
        m_activeSource = source;
        saveChoice();
        markActiveRow();
        updateButtons();
        Q_EMIT activeEncoderChanged(source);
    }
    return true;
}

void EncodersDialog::removeSelectedEncoder()
{
    const int row = m_table->currentRow();
    if (row < 0)
        return;
    const QString source = m_table->item(row, NameColumn)->data(SourceRole).toString();
    const qint64 id = m_table->item(row, NameColumn)->data(EncoderIdRole).toLongLong();
    if (source == kBuiltIn || id == 0 || (m_extraction && m_extraction->isRunning()))
        return;
    const QString name = m_table->item(row, NameColumn)->text();
    const QString extracted = m_table->item(row, ExtractedColumn)->text();
    const auto answer = QMessageBox::question(
        this, tr("Remove Encoder"),
        tr("Forget %1 and its embeddings (%2)?\n\nThe model folder and the feature cache on disk "
           "are left alone; extracting with it again reads the cache.")
            .arg(name, extracted),
        QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
    if (answer != QMessageBox::Yes)
        return;
    if (auto st = FeatureRepository(m_db).removeEncoder(id); !st) {
        QMessageBox::warning(this, tr("Remove Encoder"),
                             tr("%1 could not be removed: %2").arg(name, st.error()));
        return;
    }
    const bool wasActive = source == m_activeSource && rowOf(source) == row;
    reload();
    if (wasActive && rowOf(source) < 0) {
        m_activeSource = kBuiltIn;
        saveChoice();
        markActiveRow();
        Q_EMIT activeEncoderChanged(m_activeSource);
    }
}

void EncodersDialog::chooseFolder()
{
    const QString start =
        m_table->rowCount() > 1
            ? QFileInfo(
                  m_table->item(m_table->rowCount() - 1, NameColumn)->data(SourceRole).toString())
                  .path()
            : QFileInfo(m_workspacePath).path();
    const QString folder = QFileDialog::getExistingDirectory(
        this, tr("Add Model Folder (config.json + model.safetensors)"), start);
    if (!folder.isEmpty())
        addEncoderFolder(folder);
}

bool EncodersDialog::isValidating() const
{
    return m_validator->isRunning();
}

bool EncodersDialog::addEncoderFolder(const QString &folder)
{
    if (isValidating() || folder.trimmed().isEmpty())
        return false;
    const QString absolute = QFileInfo(folder).absoluteFilePath();
    auto pending = std::make_shared<Pending>();
    const bool started = m_validator->start(std::make_shared<FunctionJob>(
        tr("Check a model folder"), [absolute, pending](ProgressSink &) {
            const Status st = EncoderCatalog::describeEncoder(absolute, &pending->description);
            return st ? JobResult::succeeded() : JobResult::failed(st.error());
        }));
    if (!started)
        return false;
    m_pending = pending;
    m_validatingFolder = absolute;
    m_lastError.clear();
    m_busyLabel->setText(tr("Checking %1...").arg(QFileInfo(absolute).fileName()));
    m_busyLabel->setToolTip(QDir::toNativeSeparators(absolute));
    m_busyLabel->show();
    m_busyBar->show();
    updateButtons();
    return true;
}

void EncodersDialog::onValidated(const JobResult &result)
{
    const Status status = result.toStatus();
    m_busyLabel->hide();
    m_busyBar->hide();
    const QString folder = m_validatingFolder;
    const EncoderDescription description =
        m_pending ? m_pending->description : EncoderDescription();
    m_pending.reset();
    m_validatingFolder.clear();
    updateButtons();
    if (!status) {
        showAddError(folder, status.error());
        return;
    }
    EncoderRecord record = description.toRecord();
    if (auto st = FeatureRepository(m_db).addEncoder(&record); !st) {
        showAddError(folder, st.error());
        return;
    }
    reload();
    const int row = rowOf(record.source);
    if (row >= 0)
        m_table->selectRow(row);
    Q_EMIT encoderAdded(record.source);
}

void EncodersDialog::showAddError(const QString &folder, const QString &message)
{
    m_lastError =
        tr("%1 cannot be used as an encoder:\n%2").arg(QDir::toNativeSeparators(folder), message);
    // Opened, not exec()'d: the dialog keeps its own event loop and a test can read the box.
    auto *box = new QMessageBox(QMessageBox::Warning, tr("Add Model Folder"), m_lastError,
                                QMessageBox::Ok, this);
    box->setInformativeText(tr("Choose a folder with config.json and model.safetensors of a "
                               "wav2vec 2.0, HuBERT or WavLM model. Nothing was added."));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
    Q_EMIT addFailed(folder, m_lastError);
}

} // namespace emolens
