#include "QueueView.h"

#include "ClipNavigator.h"
#include "LabelingQueue.h"
#include "QueueModel.h"

#include "active/Selection.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QPushButton>
#include <QSpinBox>
#include <QStackedLayout>
#include <QTableView>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

namespace emolens {

namespace {

QString strategyTitle(const QString &name)
{
    SelectionStrategy strategy;
    return selectionStrategyFromName(name, &strategy) ? selectionStrategyTitle(strategy) : name;
}

} // namespace

QueueView::QueueView(LabelingQueue *queue, ClipNavigator *navigator, QWidget *parent)
    : QWidget(parent), m_queue(queue), m_navigator(navigator)
{
    m_strategy = new QComboBox;
    m_strategy->addItem(tr("Automatic"), QString());
    for (const QString &name : selectionStrategyNames())
        m_strategy->addItem(strategyTitle(name), name);
    m_strategy->setToolTip(tr("How the queue is ranked (seed 002's strategies; core-set and "
                              "hybrid are ours). Automatic: margin when the workspace has a "
                              "model, the cold start when it has none"));
    const int stored = m_strategy->findData(m_queue->strategySetting());
    m_strategy->setCurrentIndex(stored >= 0 ? stored : 0);
    connect(m_strategy, &QComboBox::currentIndexChanged, this,
            [this] { m_queue->setStrategySetting(m_strategy->currentData().toString()); });

    m_count = new QSpinBox;
    m_count->setRange(0, 100000);
    m_count->setSpecialValueText(tr("5 % of the pool"));
    m_count->setSuffix(tr(" clips"));
    m_count->setToolTip(tr("How many clips one round queues (5 % of the unlabeled clips, as "
                           "seed 002's code, unless set)"));
    m_count->setValue(m_queue->countSetting());
    connect(m_count, &QSpinBox::valueChanged, m_queue, &LabelingQueue::setCountSetting);

    m_rank = new QPushButton(tr("&Rank"));
    m_rank->setToolTip(tr("Rank the unlabeled clips now, with the active model"));
    connect(m_rank, &QPushButton::clicked, m_queue, &LabelingQueue::rank);
    m_retrainRank = new QPushButton(tr("Retrain && Rank"));
    m_retrainRank->setToolTip(tr("Retrain the model on every label in the background, then rank "
                                 "the queue again with it"));
    connect(m_retrainRank, &QPushButton::clicked, m_queue, &LabelingQueue::retrainAndRank);

    m_retrainAfter = new QSpinBox;
    m_retrainAfter->setRange(0, 10000);
    m_retrainAfter->setSpecialValueText(tr("never retrain"));
    m_retrainAfter->setPrefix(tr("retrain after "));
    m_retrainAfter->setSuffix(tr(" labels"));
    m_retrainAfter->setToolTip(tr("Retrain and rank again by itself after this many new labels"));
    m_retrainAfter->setValue(m_queue->retrainAfter());
    connect(m_retrainAfter, &QSpinBox::valueChanged, m_queue, &LabelingQueue::setRetrainAfter);

    // The SER options (ours), in a menu: each a checkable action, remembered.
    m_options = new QToolButton;
    m_options->setText(tr("&Options"));
    m_options->setToolTip(tr("Options for SER corpora (ours, off by default): favour rare "
                             "classes, second opinions, disputed clips first"));
    m_options->setPopupMode(QToolButton::InstantPopup);
    auto *menu = new QMenu(m_options);
    const auto addOption = [this, menu](LabelingQueue::Option which, const QString &text,
                                        const QString &tip) {
        QAction *action = menu->addAction(text);
        action->setCheckable(true);
        action->setChecked(m_queue->option(which));
        action->setToolTip(tip);
        connect(action, &QAction::toggled, m_queue,
                [this, which](bool on) { m_queue->setOption(which, on); });
        return action;
    };
    menu->setToolTipsVisible(true);
    m_favourRare = addOption(
        LabelingQueue::Option::FavourRare, tr("Favour &Rare Classes"),
        tr("Share each round among the classes the model predicts, in inverse proportion to "
           "the labels each class has so far, so rare emotions get labeled sooner (needs a "
           "model)"));
    m_secondOpinions =
        addOption(LabelingQueue::Option::SecondOpinions, tr("&Second Opinions"),
                  tr("Also offer clips other people have labeled; only the clips you labeled are "
                     "skipped"));
    m_disputedFirst = addOption(
        LabelingQueue::Option::DisagreementsFirst, tr("&Disputed Clips First"),
        tr("Clips on which people gave different categories, and you have not labeled, come "
           "first"));
    m_options->setMenu(menu);

    // A tool bar, so a narrow window keeps what fits and offers the rest under its » button.
    auto *controls = new QToolBar;
    controls->setObjectName(QStringLiteral("queueControls"));
    controls->setMovable(false);
    controls->setFloatable(false);
    controls->setToolButtonStyle(Qt::ToolButtonTextOnly);
    controls->setStyleSheet(QStringLiteral("QToolBar { border: none; spacing: 6px; }"));
    auto *strategyLabel = new QLabel(tr("&Strategy: "));
    strategyLabel->setBuddy(m_strategy);
    m_strategy->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_strategy->setMinimumContentsLength(12);
    controls->addWidget(strategyLabel);
    controls->addWidget(m_strategy);
    controls->addWidget(m_count);
    controls->addWidget(m_options);
    controls->addWidget(m_rank);
    controls->addSeparator();
    controls->addWidget(m_retrainRank);
    controls->addWidget(m_retrainAfter);

    m_summary = new QLabel;
    m_summary->setWordWrap(true);
    m_summary->setTextFormat(Qt::PlainText);

    m_table = new QTableView;
    m_table->setModel(m_queue->model());
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideRight);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->setShowGrid(false);
    m_table->setAlternatingRowColors(true);
    QHeaderView *header = m_table->horizontalHeader();
    header->setHighlightSections(false);
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setStretchLastSection(false);
    header->setSectionResizeMode(QueueModel::ReasonColumn, QHeaderView::Stretch);
    const QFontMetrics fm = m_table->fontMetrics();
    m_table->setColumnWidth(QueueModel::RankColumn,
                            fm.horizontalAdvance(QStringLiteral("9999")) + 16);
    m_table->setColumnWidth(QueueModel::KeyColumn,
                            fm.horizontalAdvance(QStringLiteral("03-01-05-02-01-01-12")) + 16);
    m_table->setColumnWidth(QueueModel::SpeakerColumn,
                            fm.horizontalAdvance(QStringLiteral("Speaker")) + 20);
    m_table->setColumnWidth(QueueModel::ScoreColumn,
                            fm.horizontalAdvance(QStringLiteral("0.000")) + 16);
    m_table->setColumnWidth(QueueModel::PredictedColumn,
                            fm.horizontalAdvance(QStringLiteral("Model says")) + 20);
    m_table->setColumnWidth(QueueModel::ConfidenceColumn,
                            fm.horizontalAdvance(QStringLiteral("Conf.")) + 20);
    m_table->setColumnWidth(QueueModel::LabelColumn,
                            fm.horizontalAdvance(QStringLiteral("\u2713 surprised")) + 16);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (!m_showing && current.isValid())
                    onRowActivated(current);
            });
    connect(m_table, &QTableView::clicked, this, &QueueView::onRowActivated);

    m_empty = new QLabel;
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setTextFormat(Qt::RichText);
    m_empty->setMargin(24);
    auto *stackHost = new QWidget;
    auto *stack = new QStackedLayout(stackHost);
    stack->addWidget(m_empty);
    stack->addWidget(m_table);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 0);
    layout->setSpacing(4);
    layout->addWidget(controls);
    layout->addWidget(m_summary);
    layout->addWidget(stackHost, 1);

    connect(m_queue, &LabelingQueue::changed, this, &QueueView::refresh);
    connect(m_queue->model(), &QAbstractItemModel::modelReset, this,
            [this] { showCurrent(m_navigator->current()); });
    connect(m_queue->model(), &QAbstractItemModel::modelReset, this, [this, stack] {
        stack->setCurrentIndex(m_queue->model()->rowCount() > 0 ? 1 : 0);
        // Keys are often paths: as wide as they need, up to 30 % of the view.
        m_table->resizeColumnToContents(QueueModel::KeyColumn);
        const int cap = std::max(180, width() * 3 / 10);
        if (m_table->columnWidth(QueueModel::KeyColumn) > cap)
            m_table->setColumnWidth(QueueModel::KeyColumn, cap);
    });
    refresh();
}

void QueueView::setWorkspaceOpen(bool open)
{
    m_workspaceOpen = open;
    refresh();
}

void QueueView::showCurrent(qint64 utteranceId)
{
    const int row = m_queue->model()->rowOf(utteranceId);
    m_showing = true;
    if (row < 0) {
        m_table->selectionModel()->clearSelection();
        m_table->selectionModel()->setCurrentIndex(QModelIndex(), QItemSelectionModel::NoUpdate);
    } else {
        const QModelIndex index = m_queue->model()->index(row, QueueModel::KeyColumn);
        m_table->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect |
                                                              QItemSelectionModel::Rows);
        m_table->scrollTo(index);
    }
    m_showing = false;
}

void QueueView::onRowActivated(const QModelIndex &index)
{
    const qint64 id = index.data(QueueModel::UtteranceIdRole).toLongLong();
    if (id != 0 && id != m_navigator->current())
        m_navigator->select(id);
}

void QueueView::refresh()
{
    const bool busy = m_queue->isRanking();
    m_rank->setEnabled(m_workspaceOpen && !busy);
    m_retrainRank->setEnabled(m_workspaceOpen && !busy && !m_queue->isWaitingForTraining());
    m_strategy->setEnabled(m_workspaceOpen);
    QString text;
    const auto &round = m_queue->round();
    const QLocale locale;
    if (!m_workspaceOpen) {
        text = tr("Open a workspace to rank its clips.");
    } else if (round) {
        const QueueModel *model = m_queue->model();
        const QString annotator = m_queue->roundAnnotator();
        text = tr("Round %1: %2%3, %4 clips from %5; %6 of them labeled. %7 new "
                  "labels since it was ranked%8.")
                   .arg(round->id)
                   .arg(round->strategy,
                        round->modelId > 0 ? tr(" by model %1").arg(round->modelId) : QString())
                   .arg(model->rowCount())
                   .arg(annotator.isEmpty()
                            ? tr("%1 unlabeled")
                                  .arg(locale.toString(round->poolSize - round->labeledCount))
                            : tr("%1 not labeled by %2")
                                  .arg(locale.toString(round->pool.size()), annotator))
                   .arg(model->labeledCount())
                   .arg(m_queue->labelsSinceRank())
                   .arg(m_queue->retrainAfter() > 0
                            ? tr(" (retrains at %1)").arg(m_queue->retrainAfter())
                            : QString());
    } else {
        text = tr("No queue yet: Rank picks the clips most worth labeling next (%1).")
                   .arg(m_queue->effectiveStrategy());
    }
    if (busy)
        text = tr("Ranking the clips with %1...").arg(m_queue->effectiveStrategy()) +
               QLatin1Char(' ') + text;
    else if (m_queue->isWaitingForTraining())
        text = tr("Retraining; the queue is ranked again when the model is stored.") +
               QLatin1Char(' ') + text;
    m_summary->setText(text);
    m_empty->setText(
        m_workspaceOpen
            ? tr("<p><b>No labeling queue yet.</b></p><p>Click <b>Rank</b> and the clips most "
                 "worth labeling next are listed here, each with why it was picked. Work "
                 "through them with the number keys; Down and Up follow the queue.</p><p>With "
                 "no model yet the cold start picks clips spread over the corpus and its "
                 "speakers.</p>")
            : tr("<p>Open a workspace to rank its clips.</p>"));
}

} // namespace emolens
