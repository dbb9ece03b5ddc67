#include "ModelsDialog.h"

#include "store/Database.h"
#include "store/FeatureRepository.h"
#include "store/ModelRepository.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QStyle>
#include <QTableWidget>
#include <QVBoxLayout>

namespace emolens {

namespace {
constexpr int kModelIdRole = Qt::UserRole + 1;
}

ModelsDialog::ModelsDialog(Database &db, QWidget *parent) : QDialog(parent), m_db(db)
{
    setWindowTitle(tr("Models"));
    auto *intro = new QLabel(
        tr("Every model trained in this workspace. The active one (ticked) gives the table's "
           "predictions, the labeling panel's model label and the emotion curves. UA, WA and F1 "
           "are on the run's validation speakers, which the model never trained on."),
        this);
    intro->setWordWrap(true);
    m_table = new QTableWidget(0, ColumnCount, this);
    m_table->setHorizontalHeaderLabels({tr("Model"), tr("Recipe"), tr("Encoder"), tr("Classes"),
                                        tr("UA"), tr("WA"), tr("F1"), tr("Validation clips"),
                                        tr("Trained")});
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setAlternatingRowColors(true);
    connect(m_table, &QTableWidget::itemSelectionChanged, this, &ModelsDialog::updateButtons);
    connect(m_table, &QTableWidget::cellDoubleClicked, this,
            [this] { makeActive(selectedModel()); });

    m_activeButton = new QPushButton(tr("Make &Active"), this);
    m_activeButton->setToolTip(tr("Use the selected model for predictions and emotion curves"));
    connect(m_activeButton, &QPushButton::clicked, this, [this] { makeActive(selectedModel()); });
    m_deleteButton = new QPushButton(tr("&Delete..."), this);
    m_deleteButton->setToolTip(tr("Forget the selected model and its predictions"));
    connect(m_deleteButton, &QPushButton::clicked, this, &ModelsDialog::deleteSelected);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *row = new QHBoxLayout;
    row->addWidget(m_activeButton);
    row->addWidget(m_deleteButton);
    row->addStretch(1);

    auto *backboneIntro =
        new QLabel(tr("Pre-trained backbones (Model > Pre-train): runs of a recipe they fit start "
                      "from the newest that fits instead of pre-training on their own clips."),
                   this);
    backboneIntro->setWordWrap(true);
    m_backbones = new QTableWidget(0, 7, this);
    m_backbones->setHorizontalHeaderLabels({tr("Backbone"), tr("Kind"), tr("Encoder"), tr("Clips"),
                                            tr("Epochs"), tr("Last epoch"), tr("Pre-trained")});
    m_backbones->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_backbones->setSelectionMode(QAbstractItemView::SingleSelection);
    m_backbones->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_backbones->verticalHeader()->hide();
    m_backbones->horizontalHeader()->setStretchLastSection(true);
    m_backbones->setAlternatingRowColors(true);
    connect(m_backbones, &QTableWidget::itemSelectionChanged, this, &ModelsDialog::updateButtons);
    m_deleteBackboneButton = new QPushButton(tr("Delete &Backbone..."), this);
    m_deleteBackboneButton->setToolTip(
        tr("Forget the selected backbone: later runs no longer start from it"));
    connect(m_deleteBackboneButton, &QPushButton::clicked, this,
            &ModelsDialog::deleteSelectedBackbone);
    auto *backboneRow = new QHBoxLayout;
    backboneRow->addWidget(m_deleteBackboneButton);
    backboneRow->addStretch(1);
    backboneRow->addWidget(buttons);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addWidget(m_table, 2);
    layout->addLayout(row);
    layout->addSpacing(8);
    layout->addWidget(backboneIntro);
    layout->addWidget(m_backbones, 1);
    layout->addLayout(backboneRow);
    resize(960, 520);
    reload();
}

void ModelsDialog::reload()
{
    const qint64 keep = selectedModel();
    ModelRepository models(m_db);
    FeatureRepository features(m_db);
    const QList<ModelVersionRecord> list = models.models();
    m_table->setRowCount(0);
    m_table->setRowCount(int(list.size()));
    const QIcon check = style()->standardIcon(QStyle::SP_DialogApplyButton);
    for (int r = 0; r < list.size(); ++r) {
        const ModelVersionRecord &m = list[r];
        const auto encoder = features.encoder(m.encoderId);
        const QStringList cells = {
            tr("Model %1").arg(m.id),
            m.recipe,
            encoder ? encoder->name : tr("(removed)"),
            m.classes.join(QStringLiteral(", ")),
            QString::number(m.validationUa, 'f', 3),
            QString::number(m.validationWa, 'f', 3),
            QString::number(m.validationF1, 'f', 3),
            QString::number(m.validationClips),
            tr("%1, %2 s")
                .arg(m.createdAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")))
                .arg(qRound(m.trainSeconds))};
        for (int c = 0; c < ColumnCount; ++c) {
            auto *item = new QTableWidgetItem(cells[c]);
            item->setData(kModelIdRole, m.id);
            QFont font = item->font();
            font.setBold(m.active);
            item->setFont(font);
            if (c >= UaColumn && c <= ClipsColumn)
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_table->setItem(r, c, item);
        }
        if (m.active) {
            m_table->item(r, ModelColumn)->setIcon(check);
            m_table->item(r, ModelColumn)->setToolTip(tr("The active model"));
        }
        if (m.id == keep)
            m_table->selectRow(r);
    }
    m_table->resizeColumnsToContents();
    if (keep == 0 && m_table->rowCount() > 0)
        m_table->selectRow(0);
    reloadBackbones();
    updateButtons();
}

void ModelsDialog::reloadBackbones()
{
    const qint64 keep = selectedBackbone();
    const QList<BackboneRecord> list = ModelRepository(m_db).backbones();
    FeatureRepository features(m_db);
    m_backbones->setRowCount(0);
    m_backbones->setRowCount(int(list.size()));
    for (int r = 0; r < list.size(); ++r) {
        const BackboneRecord &b = list[r];
        const auto encoder = features.encoder(b.encoderId);
        const QJsonArray epochs = QJsonDocument::fromJson(b.history.toUtf8()).array();
        const QJsonObject last = epochs.isEmpty() ? QJsonObject() : epochs.last().toObject();
        QString lastEpoch;
        if (last.contains(QStringLiteral("distill_loss")))
            lastEpoch =
                tr("mask loss %1, distillation %2, %3 % right")
                    .arg(last.value(QStringLiteral("mask_loss")).toDouble(), 0, 'f', 3)
                    .arg(last.value(QStringLiteral("distill_loss")).toDouble(), 0, 'f', 3)
                    .arg(100 * last.value(QStringLiteral("mask_accuracy")).toDouble(), 0, 'f', 1);
        else if (last.contains(QStringLiteral("masked_loss")))
            lastEpoch =
                tr("masked-prediction loss %1, %2 % right")
                    .arg(last.value(QStringLiteral("masked_loss")).toDouble(), 0, 'f', 3)
                    .arg(100 * last.value(QStringLiteral("masked_accuracy")).toDouble(), 0, 'f', 1);
        const QStringList cells = {
            tr("Backbone %1").arg(b.id),
            b.mode == QLatin1String("paper") ? tr("TAPT proper (encoder)") : tr("adapter TAPT"),
            encoder ? encoder->name : tr("(removed)"),
            QString::number(b.clips),
            QString::number(epochs.size()),
            lastEpoch,
            tr("%1, %2 s")
                .arg(b.createdAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")))
                .arg(qRound(b.seconds))};
        for (int c = 0; c < cells.size(); ++c) {
            auto *item = new QTableWidgetItem(cells[c]);
            item->setData(kModelIdRole, b.id);
            if (c == 3 || c == 4)
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_backbones->setItem(r, c, item);
        }
        if (b.id == keep)
            m_backbones->selectRow(r);
    }
    m_backbones->resizeColumnsToContents();
}

qint64 ModelsDialog::selectedBackbone() const
{
    const QList<QTableWidgetItem *> selected = m_backbones->selectedItems();
    return selected.isEmpty() ? 0 : selected.first()->data(kModelIdRole).toLongLong();
}

bool ModelsDialog::deleteSelectedBackbone()
{
    const qint64 id = selectedBackbone();
    if (id == 0)
        return false;
    const auto answer = QMessageBox::question(
        this, tr("Delete Backbone"),
        tr("Delete backbone %1? Runs then pre-train on their own clips again, or start from "
           "another backbone that fits; the models already trained from it stay.")
            .arg(id),
        QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
    if (answer != QMessageBox::Yes)
        return false;
    if (auto st = ModelRepository(m_db).removeBackbone(id); !st) {
        QMessageBox::warning(this, tr("Models"),
                             tr("Backbone %1 could not be deleted: %2").arg(id).arg(st.error()));
        return false;
    }
    reloadBackbones();
    updateButtons();
    return true;
}

qint64 ModelsDialog::selectedModel() const
{
    const QList<QTableWidgetItem *> selected = m_table->selectedItems();
    return selected.isEmpty() ? 0 : selected.first()->data(kModelIdRole).toLongLong();
}

bool ModelsDialog::makeActive(qint64 modelId)
{
    if (modelId == 0)
        return false;
    if (auto st = ModelRepository(m_db).setActive(modelId); !st) {
        QMessageBox::warning(this, tr("Models"), st.error());
        return false;
    }
    reload();
    Q_EMIT activeModelChanged();
    return true;
}

bool ModelsDialog::deleteSelected()
{
    const qint64 id = selectedModel();
    if (id == 0)
        return false;
    const auto model = ModelRepository(m_db).model(id);
    if (!model)
        return false;
    const auto answer = QMessageBox::question(
        this, tr("Delete Model"),
        model->active ? tr("Delete model %1, the active model, and its predictions? No model "
                           "will be active until you choose or train one.")
                            .arg(id)
                      : tr("Delete model %1 and its predictions?").arg(id),
        QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
    if (answer != QMessageBox::Yes)
        return false;
    if (auto st = ModelRepository(m_db).removeModel(id); !st) {
        QMessageBox::warning(this, tr("Models"), st.error());
        return false;
    }
    reload();
    if (model->active)
        Q_EMIT activeModelChanged();
    return true;
}

void ModelsDialog::updateButtons()
{
    const qint64 id = selectedModel();
    bool active = false;
    for (int r = 0; r < m_table->rowCount(); ++r)
        if (m_table->item(r, ModelColumn)->data(kModelIdRole).toLongLong() == id)
            active = m_table->item(r, ModelColumn)->font().bold();
    m_activeButton->setEnabled(id != 0 && !active);
    m_deleteButton->setEnabled(id != 0);
    m_deleteBackboneButton->setEnabled(selectedBackbone() != 0);
}

} // namespace emolens
