#include "charts/AgreementView.h"

#include "WorkspaceSession.h"
#include "charts/ConfusionMatrixView.h"
#include "charts/PlotExport.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "training/LabelRule.h"

#include <QCheckBox>
#include <QComboBox>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QTableWidget>
#include <QThread>
#include <QVBoxLayout>
#include <climits>
#include <cmath>
#include <functional>
#include <memory>

namespace emolens {

namespace {

constexpr int kIdRole = Qt::UserRole + 1;
const QString kLabelSetKey = QStringLiteral("analysis/agreementLabelSet");
const QString kCorpusKey = QStringLiteral("analysis/agreementIncludeCorpus");
const QString kRuleKey = QStringLiteral("model/labelRule");

QTableWidget *makeTable(const QStringList &headers)
{
    auto *t = new QTableWidget(0, int(headers.size()));
    t->setHorizontalHeaderLabels(headers);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setSelectionMode(QAbstractItemView::SingleSelection);
    t->verticalHeader()->hide();
    t->horizontalHeader()->setStretchLastSection(true);
    t->setAlternatingRowColors(true);
    return t;
}

// A figure right-aligned; "-" (with why in the tooltip) where it is undefined.
QTableWidgetItem *figureItem(double value, int decimals = 3)
{
    auto *item = new QTableWidgetItem(std::isfinite(value) ? QString::number(value, 'f', decimals)
                                                           : QStringLiteral("-"));
    if (!std::isfinite(value))
        item->setToolTip(QObject::tr("Undefined for these labels: no variation, or nothing to "
                                     "compare"));
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

QTableWidgetItem *countItem(int value)
{
    auto *item = new QTableWidgetItem(QString::number(value));
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

QString figureText(double value)
{
    return std::isfinite(value) ? QString::number(value, 'f', 3) : QStringLiteral("-");
}

// Plays the current row's clip on Enter, as a double-click does.
class EnterPlays : public QObject
{
public:
    EnterPlays(QTableWidget *table, std::function<void(int)> play)
        : QObject(table), m_table(table), m_play(std::move(play))
    {
        table->installEventFilter(this);
    }
    bool eventFilter(QObject *, QEvent *event) override
    {
        if (event->type() == QEvent::KeyPress) {
            const int key = static_cast<QKeyEvent *>(event)->key();
            if ((key == Qt::Key_Return || key == Qt::Key_Enter) && m_table->currentRow() >= 0) {
                m_play(m_table->currentRow());
                return true;
            }
        }
        return false;
    }

private:
    QTableWidget *m_table;
    std::function<void(int)> m_play;
};

} // namespace

AgreementView::AgreementView(WorkspaceSession *session, QWidget *parent)
    : QWidget(parent), m_session(session)
{
    m_labelSet = new QComboBox;
    m_labelSet->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_labelSet->setToolTip(tr("Categories are compared within the label set they were given in"));
    m_includeCorpus = new QCheckBox(tr("Corpus labels count as an &annotator"));
    m_includeCorpus->setToolTip(tr("Compare people with the labels the corpus came with, as one "
                                   "more annotator"));
    QSettings settings;
    m_includeCorpus->setChecked(settings.value(kCorpusKey, false).toBool());
    m_trainOn = new QComboBox;
    m_trainOn->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_trainOn->setToolTip(tr("Which label a clip several people labeled trains on when you "
                             "retrain (Model > Retrain)"));
    auto *refresh = new QPushButton(tr("Re&fresh"));
    refresh->setToolTip(tr("Read the labels again"));
    auto *controls = new QHBoxLayout;
    auto *setLabel = new QLabel(tr("La&bel set:"));
    setLabel->setBuddy(m_labelSet);
    controls->addWidget(setLabel);
    controls->addWidget(m_labelSet);
    controls->addWidget(m_includeCorpus);
    controls->addStretch(1);
    auto *trainOnLabel = new QLabel(tr("&Train on:"));
    trainOnLabel->setBuddy(m_trainOn);
    controls->addWidget(trainOnLabel);
    controls->addWidget(m_trainOn);
    controls->addWidget(refresh);

    m_summary = new QLabel;
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_classes = makeTable({tr("Class"), tr("Ratings"), tr("Alpha")});
    m_classes->setToolTip(tr("Per class: Krippendorff's alpha of this class against all others"));
    m_pairs = makeTable(
        {tr("Annotator A"), tr("Annotator B"), tr("Clips"), tr("Kappa"), tr("Agreement")});
    m_pairs->horizontalHeaderItem(3)->setToolTip(tr("Cohen's kappa"));
    m_pairs->setToolTip(tr("Every pair of annotators over the clips both labeled; choose one to "
                           "see their confusion matrix"));
    m_matrix = new ConfusionMatrixView;
    m_matrix->setEmptyText(tr("Choose a pair of annotators to see where their labels differ."));
    m_pairTitle = new QLabel;
    m_pairTitle->setWordWrap(true);
    m_disagreements = makeTable({tr("Clip"), tr("Agreement"), tr("Labels")});
    m_disagreements->setWordWrap(false);
    m_disagreements->setToolTip(tr("Clips where annotators disagree, least agreement first: "
                                   "select one to show it, double-click or Enter to play it"));
    m_dimensions = makeTable({tr("Dimension"), tr("Clips"), tr("Ratings"), tr("Alpha (interval)"),
                              tr("Alpha (ordinal)"), tr("ICC(1)"), tr("ICC(1,k)")});
    m_dimensions->horizontalHeader()->setStretchLastSection(false);
    m_dimensions->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_dimensions->setToolTip(tr("Dimensional labels: Krippendorff's alpha and the one-way "
                                "intraclass correlation, for one rating and for the mean of a "
                                "clip's k ratings"));

    const auto saveButton = [this](const QString &text, QTableWidget *table, const QString &name) {
        auto *b = new QPushButton(text);
        connect(b, &QPushButton::clicked, this, [this, table, name] { saveTable(table, name); });
        return b;
    };
    auto *saveMatrix = new QPushButton(tr("Save &Image..."));
    connect(saveMatrix, &QPushButton::clicked, this, [this] {
        const QString path = askPlotPath(this, QStringLiteral("annotator-confusion"));
        if (path.isEmpty())
            return;
        if (const Status st = savePlot(m_matrix, path, m_pairTitle->text()); !st)
            Q_EMIT message(st.error(), 10000);
    });

    auto *classBox = new QGroupBox(tr("Per class"));
    auto *classLayout = new QVBoxLayout(classBox);
    classLayout->addWidget(m_classes);
    classLayout->addWidget(
        saveButton(tr("Save C&lasses..."), m_classes, QStringLiteral("agreement-classes")), 0,
        Qt::AlignRight);
    auto *pairBox = new QGroupBox(tr("Pairs of annotators"));
    auto *pairLayout = new QVBoxLayout(pairBox);
    pairLayout->addWidget(m_pairs);
    pairLayout->addWidget(
        saveButton(tr("Save &Pairs..."), m_pairs, QStringLiteral("agreement-pairs")), 0,
        Qt::AlignRight);
    auto *left = new QSplitter(Qt::Vertical);
    left->addWidget(classBox);
    left->addWidget(pairBox);

    auto *matrixBox = new QGroupBox(tr("Annotator against annotator"));
    auto *matrixLayout = new QVBoxLayout(matrixBox);
    matrixLayout->addWidget(m_pairTitle);
    matrixLayout->addWidget(m_matrix, 1);
    matrixLayout->addWidget(saveMatrix, 0, Qt::AlignRight);

    auto *clipBox = new QGroupBox(tr("Clips where annotators disagree"));
    auto *clipLayout = new QVBoxLayout(clipBox);
    clipLayout->addWidget(m_disagreements);
    clipLayout->addWidget(saveButton(tr("Save Cl&ips..."), m_disagreements,
                                     QStringLiteral("agreement-disagreements")),
                          0, Qt::AlignRight);

    auto *top = new QSplitter(Qt::Horizontal);
    top->addWidget(left);
    top->addWidget(matrixBox);
    top->addWidget(clipBox);
    top->setStretchFactor(0, 3);
    top->setStretchFactor(1, 3);
    top->setStretchFactor(2, 4);
    top->setSizes({360, 400, 440});

    m_traceTable = makeTable({tr("Traced"), tr("Clips"), tr("Traces"), tr("CCC (pairs)"),
                              tr("CCC (fused)"), tr("Cronbach's alpha")});
    m_traceTable->horizontalHeader()->setStretchLastSection(false);
    m_traceTable->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_traceTable->setToolTip(tr("Time-continuous traces: Lin's concordance per pair of "
                                "annotators and with the fused trace, and Cronbach's alpha, "
                                "averaged over the clips two or more people traced"));
    auto *dimensionBox = new QGroupBox(tr("Dimensions"));
    auto *dimensionLayout = new QVBoxLayout(dimensionBox);
    dimensionLayout->addWidget(m_dimensions);
    auto *traceBox = new QGroupBox(tr("Traces"));
    auto *traceLayout = new QVBoxLayout(traceBox);
    traceLayout->addWidget(m_traceTable);
    auto *bottom = new QSplitter(Qt::Horizontal);
    bottom->addWidget(dimensionBox);
    bottom->addWidget(traceBox);
    auto *body = new QSplitter(Qt::Vertical);
    body->addWidget(top);
    body->addWidget(bottom);
    body->setStretchFactor(0, 5);
    body->setStretchFactor(1, 1);
    body->setSizes({600, 110});

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(m_summary);
    layout->addWidget(body, 1);

    connect(refresh, &QPushButton::clicked, this, &AgreementView::reload);
    connect(m_includeCorpus, &QCheckBox::toggled, this, [this](bool on) {
        QSettings().setValue(kCorpusKey, on);
        reload();
    });
    connect(m_labelSet, &QComboBox::currentIndexChanged, this, [this] {
        if (m_loading)
            return;
        QSettings().setValue(kLabelSetKey, m_labelSet->currentData());
        showLabelSet();
    });
    connect(m_trainOn, &QComboBox::activated, this, [this] {
        QSettings().setValue(kRuleKey, m_trainOn->currentData());
        Q_EMIT message(tr("Retraining will train on %1").arg(m_trainOn->currentText()), 5000);
    });
    connect(m_pairs, &QTableWidget::currentCellChanged, this, [this](int row) { showPair(row); });
    const auto clipAt = [this](int row) -> qint64 {
        const QTableWidgetItem *item = m_disagreements->item(row, 0);
        return item ? item->data(kIdRole).toLongLong() : 0;
    };
    connect(m_disagreements, &QTableWidget::currentCellChanged, this, [this, clipAt](int row) {
        if (const qint64 id = clipAt(row))
            Q_EMIT clipActivated(id, false);
    });
    connect(m_disagreements, &QTableWidget::cellDoubleClicked, this, [this, clipAt](int row) {
        if (const qint64 id = clipAt(row))
            Q_EMIT clipActivated(id, true);
    });
    new EnterPlays(m_disagreements, [this, clipAt](int row) {
        if (const qint64 id = clipAt(row))
            Q_EMIT clipActivated(id, true);
    });
}

AgreementView::~AgreementView()
{
    // The measurement reads on its own connection; it ends on its own, soon.
    if (m_worker) {
        m_worker->wait();
        delete m_worker;
    }
}

void AgreementView::reload()
{
    if (!m_session || !m_session->isOpen()) {
        ++m_generation; // a measurement still running is of a workspace no longer open
        m_report = AgreementReport();
        m_traceReport.clear();
        showReport();
        return;
    }
    if (m_worker) {
        m_again = true; // the labels or the choice changed meanwhile: measure once more after
        return;
    }
    // Off the window's thread, on a connection of its own: a large team's labels take a
    // while, and they may arrive every few seconds (LabelingDesk's live labels).
    struct Measured
    {
        AgreementReport report;
        QList<TraceDimensionAgreement> traces;
        QString labelError, traceError;
    };
    auto result = std::make_shared<Measured>();
    AgreementOptions options;
    options.includeCorpusLabels = m_includeCorpus->isChecked();
    const QString location = m_session->path();
    const int generation = ++m_generation;
    m_worker = QThread::create([result, options, location] {
        Database db(location);
        if (const Status st = db.open(); !st) {
            result->labelError = st.error();
            return;
        }
        if (const Status st = labelAgreement(db, options, &result->report); !st)
            result->labelError = st.error();
        if (const Status st = traceAgreement(db, 0, TraceFusionOptions(), &result->traces); !st)
            result->traceError = st.error();
    });
    m_worker->setObjectName(QStringLiteral("emolens-agreement"));
    connect(m_worker, &QThread::finished, this, [this, result, generation] {
        m_worker->deleteLater();
        m_worker = nullptr;
        if (generation == m_generation) {
            if (!result->labelError.isEmpty())
                Q_EMIT message(tr("Cannot measure agreement: %1").arg(result->labelError), 10000);
            if (!result->traceError.isEmpty())
                Q_EMIT message(
                    tr("Cannot measure agreement over traces: %1").arg(result->traceError), 10000);
            m_report = result->report;
            m_traceReport = result->traces;
            showReport();
        }
        if (m_again) {
            m_again = false;
            reload();
            return;
        }
        Q_EMIT measured();
    });
    if (m_report.labelSets.isEmpty())
        m_summary->setText(tr("Measuring how much the annotators agree..."));
    m_worker->start();
}

void AgreementView::showReport()
{
    m_loading = true;
    const QVariant wanted = m_labelSet->currentIndex() >= 0 ? m_labelSet->currentData()
                                                            : QSettings().value(kLabelSetKey);
    m_labelSet->clear();
    int chosen = 0, most = -1;
    for (int i = 0; i < m_report.labelSets.size(); ++i) {
        const LabelSetAgreement &set = m_report.labelSets[i];
        m_labelSet->addItem(set.name, set.schemaId);
        m_labelSet->setItemData(i, tr("%n clips compared", nullptr, set.clips), Qt::ToolTipRole);
        if (wanted.isValid() && wanted.toLongLong() == set.schemaId)
            chosen = i, most = INT_MAX;
        else if (set.clips > most)
            chosen = i, most = set.clips;
    }
    m_labelSet->setEnabled(m_labelSet->count() > 1);
    if (m_labelSet->count() > 0)
        m_labelSet->setCurrentIndex(chosen);
    m_loading = false;
    showLabelSet();
    fillDimensions();
    fillTrainOn();
}

void AgreementView::fillTrainOn()
{
    LabelRule saved;
    if (!LabelRule::parse(QSettings().value(kRuleKey).toString(), &saved))
        saved = LabelRule();
    m_trainOn->clear();
    m_trainOn->addItem(tr("the newest label (as shown)"), QStringLiteral("newest"));
    m_trainOn->addItem(tr("the majority's label"), QStringLiteral("majority"));
    m_trainOn->addItem(tr("all labels, as soft targets"), QStringLiteral("soft"));
    QStringList reviewers;
    const QString corpusPrefix = LabelRepository::corpusAnnotatorName(QString());
    for (const QString &name : m_report.annotators)
        if (!name.startsWith(corpusPrefix))
            reviewers << name;
    // The saved reviewer stays a choice even before they labeled anything here.
    if (saved.kind == LabelRule::Reviewer && !reviewers.contains(saved.reviewer))
        reviewers << saved.reviewer;
    for (const QString &name : std::as_const(reviewers)) {
        LabelRule rule;
        rule.kind = LabelRule::Reviewer;
        rule.reviewer = name;
        m_trainOn->addItem(tr("%1's label, as reviewer").arg(name), rule.name());
    }
    m_trainOn->setCurrentIndex(std::max(0, m_trainOn->findData(saved.name())));
}

int AgreementView::labelSetIndex() const
{
    return m_labelSet->currentIndex();
}

void AgreementView::showLabelSet()
{
    m_classes->setRowCount(0);
    m_pairs->setRowCount(0);
    m_disagreements->setRowCount(0);
    showPair(-1);
    const int index = labelSetIndex();
    if (!m_session || !m_session->isOpen()) {
        m_summary->setText(tr("Open a workspace to see how much its annotators agree."));
        return;
    }
    if (index < 0 || m_report.labelSets[index].clips == 0) {
        m_summary->setText(
            tr("No clip has a category from two annotators yet. Agreement needs clips labeled "
               "by several people: each signs in under their own name (Settings > Annotator "
               "Name) and labels the same clips%1.")
                .arg(m_includeCorpus->isChecked()
                         ? QString()
                         : tr(", or count the corpus's own labels as an annotator")));
        return;
    }
    const LabelSetAgreement &set = m_report.labelSets[index];
    m_summary->setText(
        tr("<b>%1</b>: %2 clips with categories from 2 or more of %3 annotators (%4 ratings). "
           "Krippendorff's alpha <b>%5</b>, Fleiss' kappa %6, observed agreement %7. "
           "%n clips with disagreement.",
           nullptr, int(set.disagreements.size()))
            .arg(set.name.toHtmlEscaped())
            .arg(set.clips)
            .arg(set.annotators.size())
            .arg(set.ratings)
            .arg(figureText(set.alpha), figureText(set.fleissKappa),
                 figureText(set.observedAgreement)));
    for (const ClassAgreement &c : set.perClass) {
        const int row = m_classes->rowCount();
        m_classes->insertRow(row);
        m_classes->setItem(row, 0, new QTableWidgetItem(c.name));
        m_classes->setItem(row, 1, countItem(c.ratings));
        m_classes->setItem(row, 2, figureItem(c.alpha));
    }
    for (const AnnotatorPairAgreement &p : set.pairs) {
        const int row = m_pairs->rowCount();
        m_pairs->insertRow(row);
        m_pairs->setItem(row, 0, new QTableWidgetItem(p.first));
        m_pairs->setItem(row, 1, new QTableWidgetItem(p.second));
        m_pairs->setItem(row, 2, countItem(p.clips));
        m_pairs->setItem(row, 3, figureItem(p.cohenKappa));
        m_pairs->setItem(row, 4, figureItem(p.observedAgreement));
    }
    for (const DisagreedClip &d : set.disagreements) {
        const int row = m_disagreements->rowCount();
        m_disagreements->insertRow(row);
        auto *key = new QTableWidgetItem(d.key);
        key->setData(kIdRole, d.utteranceId);
        m_disagreements->setItem(row, 0, key);
        m_disagreements->setItem(row, 1, figureItem(d.observedAgreement, 2));
        QStringList given;
        for (auto it = d.categories.cbegin(); it != d.categories.cend(); ++it)
            given << QStringLiteral("%1: %2").arg(it.key(), it.value());
        auto *labels = new QTableWidgetItem(given.join(QStringLiteral(", ")));
        labels->setToolTip(given.join(QLatin1Char('\n')));
        m_disagreements->setItem(row, 2, labels);
    }
    for (QTableWidget *t : {m_classes, m_pairs, m_disagreements})
        t->resizeColumnsToContents();
    // The pair that labeled the most clips together.
    int best = -1;
    for (int i = 0; i < set.pairs.size(); ++i)
        if (set.pairs[i].clips > 0 && (best < 0 || set.pairs[i].clips > set.pairs[best].clips))
            best = i;
    if (best >= 0)
        m_pairs->setCurrentCell(best, 0);
}

void AgreementView::showPair(int row)
{
    const int index = labelSetIndex();
    if (row < 0 || index < 0 || row >= m_report.labelSets[index].pairs.size()) {
        m_matrix->setMatrix({}, {});
        m_pairTitle->clear();
        return;
    }
    const LabelSetAgreement &set = m_report.labelSets[index];
    const AnnotatorPairAgreement &p = set.pairs[row];
    m_matrix->setAxisTitles(tr("%1's label").arg(p.first), tr("%1's label").arg(p.second));
    m_matrix->setMatrix(set.classes, p.confusion);
    m_pairTitle->setText(tr("%1 (rows) against %2 (columns): %3 clips both labeled, Cohen's "
                            "kappa %4")
                             .arg(p.first, p.second)
                             .arg(p.clips)
                             .arg(figureText(p.cohenKappa)));
}

void AgreementView::fillDimensions()
{
    m_dimensions->setRowCount(0);
    for (const DimensionAgreement &d : m_report.dimensions) {
        const int row = m_dimensions->rowCount();
        m_dimensions->insertRow(row);
        m_dimensions->setItem(row, 0, new QTableWidgetItem(d.name));
        m_dimensions->setItem(row, 1, countItem(d.clips));
        m_dimensions->setItem(row, 2, countItem(d.ratings));
        m_dimensions->setItem(row, 3, figureItem(d.alpha[size_t(MeasurementLevel::Interval)]));
        m_dimensions->setItem(row, 4, figureItem(d.alpha[size_t(MeasurementLevel::Ordinal)]));
        m_dimensions->setItem(row, 5, figureItem(d.icc.single));
        m_dimensions->setItem(row, 6, figureItem(d.icc.average));
    }
    m_dimensions->resizeColumnsToContents();
    m_traceTable->setRowCount(0);
    for (const TraceDimensionAgreement &t : std::as_const(m_traceReport)) {
        const int row = m_traceTable->rowCount();
        m_traceTable->insertRow(row);
        m_traceTable->setItem(row, 0, new QTableWidgetItem(t.dimension));
        m_traceTable->setItem(row, 1, countItem(t.clips));
        m_traceTable->setItem(row, 2, countItem(t.traces));
        m_traceTable->setItem(row, 3, figureItem(t.pairConcordance));
        m_traceTable->setItem(row, 4, figureItem(t.fusedConcordance));
        m_traceTable->setItem(row, 5, figureItem(t.cronbachAlpha));
    }
    m_traceTable->resizeColumnsToContents();
}

void AgreementView::saveTable(QTableWidget *table, const QString &name)
{
    const QString path = askCsvPath(this, name);
    if (path.isEmpty())
        return;
    if (const Status st = saveTableCsv(table->model(), path); !st)
        Q_EMIT message(st.error(), 10000);
}

} // namespace emolens
