#include "ModelsDialog.h"

#include "store/Database.h"
#include "store/FeatureRepository.h"
#include "store/ModelRepository.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
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
    row->addWidget(buttons);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addWidget(m_table, 1);
    layout->addLayout(row);
    resize(960, 360);
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
    updateButtons();
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
}

} // namespace emolens
