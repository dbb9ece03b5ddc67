#include "charts/AnalysisDialog.h"

#include "ClassColours.h"
#include "UtteranceTableModel.h"
#include "WorkspaceSession.h"
#include "charts/AgreementView.h"
#include "charts/ConfusionMatrixView.h"
#include "charts/PlotExport.h"
#include "charts/TsneMapView.h"
#include "corpus/DelimitedText.h"
#include "jobs/JobQueue.h"
#include "jobs/TsneJob.h"
#include "store/Database.h"
#include "store/FeatureRepository.h"
#include "store/ModelRepository.h"
#include "store/SelectionRepository.h"

#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QValueAxis>
#include <algorithm>

namespace emolens {

namespace {

constexpr int kIdRole = Qt::UserRole + 1;
const QString kPrefix = QStringLiteral("analysis/");

QTableWidget *makeTable(const QStringList &headers)
{
    auto *t = new QTableWidget(0, int(headers.size()));
    t->setHorizontalHeaderLabels(headers);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->verticalHeader()->hide();
    t->horizontalHeader()->setStretchLastSection(true);
    t->setAlternatingRowColors(true);
    return t;
}

QTableWidgetItem *numberItem(double value, int decimals = 3)
{
    auto *item = new QTableWidgetItem(QString::number(value, 'f', decimals));
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

QString modelTitle(const ModelVersionRecord &m, const QString &encoder)
{
    return QObject::tr("Model %1 - %2 on %3, UA %4%5")
        .arg(m.id)
        .arg(m.recipe, encoder)
        .arg(m.validationUa, 0, 'f', 3)
        .arg(m.active ? QObject::tr(" (active)") : QString());
}

} // namespace

AnalysisDialog::AnalysisDialog(WorkspaceSession *session, JobQueue *jobs,
                               const UtteranceTableModel *rows, QWidget *parent)
    : QDialog(parent), m_session(session), m_jobs(jobs), m_rows(rows)
{
    setWindowTitle(tr("Analysis"));
    setWindowFlag(Qt::WindowMaximizeButtonHint);
    m_tabs = new QTabWidget;
    m_tabs->addTab(createMapPage(), tr("t-SNE &Map"));
    m_tabs->addTab(createConfusionPage(), tr("&Confusion Matrix"));
    m_tabs->addTab(createModelsPage(), tr("Compare &Models"));
    m_agreement = new AgreementView(m_session);
    m_tabs->addTab(m_agreement, tr("&Agreement"));
    connect(m_agreement, &AgreementView::clipActivated, this, &AnalysisDialog::clipActivated);
    connect(m_agreement, &AgreementView::message, this, &AnalysisDialog::message);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_tabs);
    connect(m_jobs, &JobQueue::intermediate, this, &AnalysisDialog::onJobIntermediate);
    connect(m_jobs, &JobQueue::jobFinished, this, &AnalysisDialog::onJobFinished);

    QSettings settings;
    resize(settings.value(kPrefix + QStringLiteral("size"), QSize(1100, 760)).toSize());
    m_tabs->setCurrentIndex(settings.value(kPrefix + QStringLiteral("page"), 0).toInt());
    m_colour->setCurrentIndex(settings.value(kPrefix + QStringLiteral("colourBy"), 0).toInt());
    m_perplexity->setValue(settings.value(kPrefix + QStringLiteral("perplexity"), 30).toInt());
    m_iterations->setValue(settings.value(kPrefix + QStringLiteral("iterations"), 1000).toInt());
    m_seed->setValue(settings.value(kPrefix + QStringLiteral("seed"), 1).toInt());
    m_normalise->setChecked(settings.value(kPrefix + QStringLiteral("normalised"), true).toBool());
    m_split->setCurrentIndex(settings.value(kPrefix + QStringLiteral("split"), 0).toInt());
    m_lasso->setChecked(settings.value(kPrefix + QStringLiteral("lasso"), false).toBool());
    connect(m_tabs, &QTabWidget::currentChanged, this, [this](int page) {
        saveState();
        if (page == ConfusionPage && m_confusionStale)
            reloadConfusion();
        if (page == AgreementPage && m_agreementStale)
            reloadAgreement();
    });
    reload();
}

AnalysisDialog::~AnalysisDialog()
{
    if (m_jobId != 0)
        m_jobs->cancel(m_jobId);
}

void AnalysisDialog::showPage(Page page)
{
    m_tabs->setCurrentIndex(int(page));
}

void AnalysisDialog::closeEvent(QCloseEvent *event)
{
    saveState();
    QDialog::closeEvent(event);
}

void AnalysisDialog::saveState() const
{
    QSettings settings;
    settings.setValue(kPrefix + QStringLiteral("size"), size());
    settings.setValue(kPrefix + QStringLiteral("page"), m_tabs->currentIndex());
    settings.setValue(kPrefix + QStringLiteral("colourBy"), m_colour->currentIndex());
    settings.setValue(kPrefix + QStringLiteral("perplexity"), m_perplexity->value());
    settings.setValue(kPrefix + QStringLiteral("iterations"), m_iterations->value());
    settings.setValue(kPrefix + QStringLiteral("seed"), m_seed->value());
    settings.setValue(kPrefix + QStringLiteral("normalised"), m_normalise->isChecked());
    settings.setValue(kPrefix + QStringLiteral("split"), m_split->currentIndex());
    settings.setValue(kPrefix + QStringLiteral("lasso"), m_lasso->isChecked());
    if (!m_loading && m_source->currentIndex() >= 0)
        settings.setValue(kPrefix + QStringLiteral("source"), source());
    if (!m_loading && m_confusionModel->currentIndex() >= 0)
        settings.setValue(kPrefix + QStringLiteral("confusionModel"),
                          m_confusionModel->currentData());
}

bool AnalysisDialog::report(const Status &st)
{
    if (!st)
        Q_EMIT message(st.error(), 10000);
    return st.ok();
}

void AnalysisDialog::reload()
{
    m_predicted.reset();
    m_loading = true;
    reloadSources();
    m_loading = false;
    loadStoredLayout();
    reloadModels();
    reloadConfusion();
    m_agreementStale = true;
    if (m_tabs->currentIndex() == AgreementPage)
        reloadAgreement();
}

void AnalysisDialog::reloadAgreement()
{
    m_agreementStale = false;
    m_agreement->reload();
}

void AnalysisDialog::refreshLabels()
{
    recolour();
    // The matrix reads every clip and prediction: only when it is in view, else when it is
    // next shown.
    m_confusionStale = m_tabs->currentIndex() != ConfusionPage;
    if (!m_confusionStale)
        reloadConfusion();
    m_agreementStale = true;
    if (m_tabs->currentIndex() == AgreementPage)
        reloadAgreement();
}

// ---------------------------------------------------------------------------------- map

QWidget *AnalysisDialog::createMapPage()
{
    m_source = new QComboBox;
    m_source->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_source->setToolTip(tr("Which embeddings the map places: an encoder layer's utterance "
                            "embeddings, or the vectors a model version's classifier reads"));
    m_colour = new QComboBox;
    m_colour->addItems({tr("Label"), tr("Model's label"), tr("Right or wrong"), tr("Speaker"),
                        tr("Gender"), tr("Corpus"), tr("Active-learning round")});
    m_perplexity = new QSpinBox;
    m_perplexity->setRange(2, 200);
    m_perplexity->setToolTip(tr("About how many neighbours each clip keeps near (the usual "
                                "5 to 50; a map needs more than 3 x perplexity + 1 clips)"));
    m_iterations = new QSpinBox;
    m_iterations->setRange(100, 10000);
    m_iterations->setSingleStep(250);
    m_iterations->setToolTip(tr("Gradient steps; the first 250 exaggerate the clusters"));
    m_seed = new QSpinBox;
    m_seed->setRange(0, 1000000);
    m_seed->setToolTip(tr("The same seed and settings give the same map"));
    m_compute = new QPushButton(tr("Compute &Map"));
    m_compute->setToolTip(tr("Run t-SNE on this source with these settings (a stored map of "
                             "the same inputs and settings is reused)"));
    connect(m_compute, &QPushButton::clicked, this, [this] { computeMap(); });
    m_fit = new QPushButton(tr("&Fit"));
    m_fit->setToolTip(tr("Show every point again (0)"));
    m_lasso = new QPushButton(tr("&Lasso"));
    m_lasso->setCheckable(true);
    m_lasso->setToolTip(tr("Drag draws a freehand lasso instead of a rectangle (Alt while "
                           "dragging uses the other one; Shift adds to the selection)"));

    auto *controls = new QHBoxLayout;
    auto *sourceLabel = new QLabel(tr("&Source:"));
    sourceLabel->setBuddy(m_source);
    auto *colourLabel = new QLabel(tr("Colour &by:"));
    colourLabel->setBuddy(m_colour);
    m_source->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_source->setMinimumContentsLength(24);
    controls->addWidget(sourceLabel);
    controls->addWidget(m_source, 1);
    controls->addSpacing(8);
    controls->addWidget(colourLabel);
    controls->addWidget(m_colour);
    auto *settingsRow = new QHBoxLayout;
    settingsRow->addWidget(new QLabel(tr("Perplexity:")));
    settingsRow->addWidget(m_perplexity);
    settingsRow->addSpacing(8);
    settingsRow->addWidget(new QLabel(tr("Iterations:")));
    settingsRow->addWidget(m_iterations);
    settingsRow->addSpacing(8);
    settingsRow->addWidget(new QLabel(tr("Seed:")));
    settingsRow->addWidget(m_seed);
    settingsRow->addSpacing(8);
    settingsRow->addWidget(m_compute);
    settingsRow->addStretch(1);

    m_map = new TsneMapView;
    m_map->setTooltipText([this](qint64 id) { return tooltipText(id); });
    connect(m_fit, &QPushButton::clicked, m_map, &TsneMapView::fitView);
    connect(m_lasso, &QPushButton::toggled, this, [this](bool on) {
        m_map->setSelectShape(on ? TsneMapView::SelectShape::Lasso
                                 : TsneMapView::SelectShape::Rectangle);
    });
    connect(m_map, &TsneMapView::pointClicked, this,
            [this](qint64 id) { Q_EMIT clipActivated(id, true); });
    connect(m_map, &TsneMapView::selectionChanged, this, [this] { updateMapButtons(); });
    m_mapStatus = new QLabel;
    m_mapStatus->setWordWrap(true);
    m_mapStatus->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_sendToQueue = new QPushButton(tr("Send to &Queue"));
    m_sendToQueue->setToolTip(tr("Make the selected clips the labeling queue (a round of its "
                                 "own, in the map's order)"));
    connect(m_sendToQueue, &QPushButton::clicked, this,
            [this] { Q_EMIT sendToQueue(m_map->selection()); });
    m_showInTable = new QPushButton(tr("Show in &Table"));
    m_showInTable->setToolTip(tr("Show only the selected clips in the clip table"));
    connect(m_showInTable, &QPushButton::clicked, this,
            [this] { Q_EMIT showInTable(m_map->selection()); });
    m_saveMapImage = new QPushButton(tr("Save &Image..."));
    connect(m_saveMapImage, &QPushButton::clicked, this, [this] {
        const QString path = askPlotPath(this, QStringLiteral("tsne-map"));
        if (!path.isEmpty())
            report(savePlot(m_map, path, tr("t-SNE map")));
    });
    m_saveMapCsv = new QPushButton(tr("Save &CSV..."));
    m_saveMapCsv->setToolTip(tr("One row per clip: id, key, x, y, label, speaker, gender, "
                                "corpus, the model's label"));
    connect(m_saveMapCsv, &QPushButton::clicked, this, [this] {
        const QString path = askCsvPath(this, QStringLiteral("tsne-map"));
        if (!path.isEmpty())
            report(saveMapCsv(path));
    });
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_fit);
    buttons->addWidget(m_lasso);
    buttons->addWidget(new QLabel(tr("Drag to select; right-drag to pan; wheel to zoom")));
    buttons->addStretch(1);
    buttons->addWidget(m_sendToQueue);
    buttons->addWidget(m_showInTable);
    buttons->addSpacing(12);
    buttons->addWidget(m_saveMapImage);
    buttons->addWidget(m_saveMapCsv);

    auto *page = new QWidget;
    auto *layout = new QVBoxLayout(page);
    layout->addLayout(controls);
    layout->addLayout(settingsRow);
    layout->addWidget(m_mapStatus);
    layout->addWidget(m_map, 1);
    layout->addLayout(buttons);

    connect(m_source, &QComboBox::currentIndexChanged, this, [this] {
        if (m_loading)
            return;
        saveState();
        loadStoredLayout();
    });
    connect(m_colour, &QComboBox::currentIndexChanged, this, [this] {
        saveState();
        recolour();
    });
    updateMapButtons();
    return page;
}

void AnalysisDialog::reloadSources()
{
    const QString keep = m_source->currentIndex() >= 0
                             ? source()
                             : QSettings().value(kPrefix + QStringLiteral("source")).toString();
    m_source->clear();
    Database *db = m_session->database();
    if (!db)
        return;
    FeatureRepository features(*db);
    for (const EncoderRecord &e : features.encoders()) {
        for (int layer = e.layerCount - 1; layer >= 0; --layer)
            m_source->addItem(layer == e.layerCount - 1
                                  ? tr("%1, layer %2 (last)").arg(e.name).arg(layer)
                                  : tr("%1, layer %2").arg(e.name).arg(layer),
                              QStringLiteral("encoder:%1:%2").arg(e.name).arg(layer));
    }
    for (const ModelVersionRecord &m : ModelRepository(*db).models()) {
        const auto encoder = features.encoder(m.encoderId);
        m_source->addItem(tr("Model %1's pooled vectors (%2 on %3)")
                              .arg(m.id)
                              .arg(m.recipe, encoder ? encoder->name : tr("removed encoder")),
                          QStringLiteral("model:%1").arg(m.id));
    }
    int at = m_source->findData(keep);
    if (at < 0) // the last layer of the first encoder
        at = 0;
    m_source->setCurrentIndex(at);
}

QString AnalysisDialog::source() const
{
    return m_source->currentData().toString();
}

void AnalysisDialog::setCurrentClip(qint64 utteranceId)
{
    m_map->setCurrent(utteranceId);
}

void AnalysisDialog::setSource(const QString &source)
{
    if (const int at = m_source->findData(source); at >= 0)
        m_source->setCurrentIndex(at);
}

void AnalysisDialog::setColourBy(ColourBy by)
{
    m_colour->setCurrentIndex(int(by));
}

void AnalysisDialog::loadStoredLayout()
{
    m_layout.reset();
    Database *db = m_session->database();
    if (!db || m_source->count() == 0) {
        m_map->clear();
        m_map->setEmptyText(db ? tr("No embeddings yet: extract features first (Features > "
                                    "Extract Features), then compute the map here.")
                               : tr("Open a workspace to see its map."));
        m_mapStatus->setText(QString());
        updateMapButtons();
        return;
    }
    if (auto stored = AnalysisRepository(*db).latestLayout(source()))
        showLayout(*stored);
    else {
        m_map->clear();
        m_map->setEmptyText(
            tr("No map of %1 yet: press Compute Map.").arg(m_source->currentText()));
        m_mapStatus->setText(tr("t-SNE places clips whose embeddings are near close together, "
                                "so clusters of one colour show what the embeddings tell "
                                "apart. A map of a few thousand clips takes seconds."));
    }
    updateMapButtons();
}

void AnalysisDialog::showLayout(const MapLayoutRecord &layout)
{
    // Only the clips still in the workspace.
    QList<qint64> ids;
    std::vector<float> xy;
    for (const MapPoint &p : layout.points)
        if (m_rows->rowOf(p.utteranceId) >= 0) {
            ids << p.utteranceId;
            xy.push_back(p.x);
            xy.push_back(p.y);
        }
    m_layout = layout;
    m_map->setPoints(ids, xy);
    recolour();
    const QJsonObject settings = QJsonDocument::fromJson(layout.settings.toUtf8()).object();
    QString text =
        tr("%1 clips of %2; perplexity %3, %4 iterations, seed %5; computed %6 in "
           "%7 s")
            .arg(ids.size())
            .arg(m_source->currentText())
            .arg(settings.value(QStringLiteral("perplexity")).toDouble())
            .arg(settings.value(QStringLiteral("iterations")).toInt())
            .arg(settings.value(QStringLiteral("seed")).toString())
            .arg(QLocale().toString(layout.createdAt.toLocalTime(), QLocale::ShortFormat))
            .arg(layout.seconds, 0, 'f', 1);
    if (layout.trustworthiness >= 0)
        text += tr("; trustworthiness %1 (k = 10: 1 means every clip's map neighbours are "
                   "neighbours in the embeddings)")
                    .arg(layout.trustworthiness, 0, 'f', 3);
    if (ids.size() < qsizetype(layout.points.size()))
        text +=
            tr("; %1 clips have left the workspace since").arg(layout.points.size() - ids.size());
    m_mapStatus->setText(text);
}

const QHash<qint64, QString> &AnalysisDialog::predictedLabels() const
{
    // Read once per source (hover and colouring ask for every dot); reload() forgets it.
    const QString src = source();
    if (m_predicted && m_predictedSource == src)
        return *m_predicted;
    QHash<qint64, QString> out;
    Database *db = m_session->database();
    if (src.startsWith(QLatin1String("model:")) && db) {
        const QHash<qint64, PredictionRow> rows =
            ModelRepository(*db).predictions(src.mid(6).toLongLong());
        for (auto it = rows.cbegin(); it != rows.cend(); ++it)
            out.insert(it.key(), it->category);
    } else {
        for (const UtteranceRow &row : m_rows->rows())
            if (const PredictionRow *p = m_rows->prediction(row.id))
                out.insert(row.id, p->category);
    }
    m_predicted = std::move(out);
    m_predictedSource = src;
    return *m_predicted;
}

void AnalysisDialog::recolour()
{
    const QList<qint64> &ids = m_map->ids();
    if (ids.isEmpty())
        return;
    const ColourBy by = ColourBy(std::max(0, m_colour->currentIndex()));
    QStringList names;
    QList<QColor> colours;
    std::vector<int> group(std::size_t(ids.size()), -1);
    QHash<QString, int> groupOf;
    QStringList classes;
    for (const LabelSchema &set : m_session->labelSets())
        for (const QString &c : set.classes)
            if (!classes.contains(c))
                classes << c;
    const auto groupFor = [&](const QString &name, const QColor &colour) {
        auto it = groupOf.constFind(name);
        if (it != groupOf.cend())
            return *it;
        names << name;
        colours << colour;
        groupOf.insert(name, int(names.size()) - 1);
        return int(names.size()) - 1;
    };
    const auto classGroup = [&](const QString &label) {
        if (label.isEmpty())
            return -1;
        if (!classes.contains(label))
            classes << label;
        return groupFor(label, classColour(classes, int(classes.indexOf(label))));
    };
    if (by == ByLabel || by == ByPredicted) // legend in the label set's order
        for (const QString &c : std::as_const(classes))
            groupFor(c, classColour(classes, int(classes.indexOf(c))));
    static const QHash<qint64, QString> none;
    const QHash<qint64, QString> &predicted =
        by == ByPredicted || by == ByCorrect ? predictedLabels() : none;
    QHash<qint64, int> roundOf;
    if (by == ByRound && m_session->database()) {
        SelectionRepository selections(*m_session->database());
        QList<SelectionRoundRecord> rounds = selections.rounds();
        std::reverse(rounds.begin(), rounds.end());
        for (int r = 0; r < rounds.size(); ++r)
            for (const SelectionPickRecord &p : selections.picks(rounds[r].id))
                if (!roundOf.contains(p.utteranceId))
                    roundOf.insert(p.utteranceId, r + 1);
        for (int r = 1; r <= rounds.size(); ++r)
            groupFor(tr("round %1").arg(r), localAttributeColour(r - 1));
    }
    if (by == ByCorrect) {
        groupFor(tr("right"), QColor(46, 160, 67));
        groupFor(tr("wrong"), QColor(214, 39, 40));
    }
    if (by == ByGender) {
        groupFor(tr("female"), QColor(188, 80, 144));
        groupFor(tr("male"), QColor(0, 128, 128));
    }
    for (int i = 0; i < int(ids.size()); ++i) {
        const int row = m_rows->rowOf(ids[i]);
        if (row < 0)
            continue;
        const UtteranceRow &u = m_rows->rowAt(row);
        int g = -1;
        switch (by) {
        case ByLabel:
            g = classGroup(u.label);
            break;
        case ByPredicted:
            g = classGroup(predicted.value(u.id));
            break;
        case ByCorrect: {
            const QString p = predicted.value(u.id);
            if (!p.isEmpty() && !u.label.isEmpty())
                g = groupOf.value(p == u.label ? tr("right") : tr("wrong"));
            break;
        }
        case BySpeaker: {
            const QString name = QStringLiteral("%1/%2").arg(u.corpusName, u.speakerCode);
            g = groupOf.contains(name) ? groupOf.value(name)
                                       : groupFor(name, localAttributeColour(int(names.size())));
            break;
        }
        case ByGender:
            g = u.gender == Gender::Female ? 0 : u.gender == Gender::Male ? 1 : -1;
            break;
        case ByCorpus:
            g = groupOf.contains(u.corpusName)
                    ? groupOf.value(u.corpusName)
                    : groupFor(u.corpusName, localAttributeColour(int(names.size()) * 3));
            break;
        case ByRound:
            g = roundOf.contains(u.id) ? roundOf.value(u.id) - 1 : -1;
            break;
        }
        group[std::size_t(i)] = g;
    }
    m_map->setGroups(names, colours, group);
    if ((by == ByPredicted || by == ByCorrect) && predicted.isEmpty())
        m_map->setToolTip(tr("No model's labels: train a model (Model > Retrain) or choose a "
                             "model's vectors as the source"));
    else
        m_map->setToolTip(QString());
}

QString AnalysisDialog::tooltipText(qint64 utteranceId) const
{
    const int row = m_rows->rowOf(utteranceId);
    if (row < 0)
        return QString();
    const UtteranceRow &u = m_rows->rowAt(row);
    QString text =
        QStringLiteral("<b>%1</b><br>%2").arg(u.key.toHtmlEscaped(), u.speakerCode.toHtmlEscaped());
    if (u.gender != Gender::Unknown)
        text += QStringLiteral(" (%1)").arg(genderName(u.gender));
    text += QStringLiteral("<br>") +
            (u.label.isEmpty()
                 ? tr("no label")
                 : tr("label: %1").arg(u.label.toHtmlEscaped()) +
                       (u.labeledBy.isEmpty() ? QString()
                                              : tr(" (%1)").arg(u.labeledBy.toHtmlEscaped())));
    const QString predicted = predictedLabels().value(utteranceId);
    if (!predicted.isEmpty())
        text += QStringLiteral("<br>") + tr("model: %1").arg(predicted.toHtmlEscaped());
    return text;
}

Status AnalysisDialog::saveMapCsv(const QString &path) const
{
    const QHash<qint64, QString> &predicted = predictedLabels();
    QString text = delimitedLine({QStringLiteral("id"), QStringLiteral("key"), QStringLiteral("x"),
                                  QStringLiteral("y"), QStringLiteral("label"),
                                  QStringLiteral("speaker"), QStringLiteral("gender"),
                                  QStringLiteral("corpus"), QStringLiteral("predicted")});
    QHash<qint64, MapPoint> at;
    if (m_layout)
        for (const MapPoint &p : m_layout->points)
            at.insert(p.utteranceId, p);
    const QList<qint64> &ids = m_map->ids();
    for (int i = 0; i < int(ids.size()); ++i) {
        const int row = m_rows->rowOf(ids[i]);
        if (row < 0)
            continue;
        const UtteranceRow &u = m_rows->rowAt(row);
        const MapPoint p = at.value(u.id);
        const float x = p.x, y = p.y;
        text += delimitedLine({QString::number(u.id), u.key, QString::number(double(x), 'g', 7),
                               QString::number(double(y), 'g', 7), u.label, u.speakerCode,
                               genderName(u.gender), u.corpusName, predicted.value(u.id)});
    }
    return saveText(path, text);
}

void AnalysisDialog::updateMapButtons()
{
    const bool open = m_session->isOpen() && m_source->count() > 0;
    const int selected = int(m_map->selection().size());
    m_compute->setEnabled(open && m_jobId == 0);
    m_compute->setText(m_jobId != 0 ? tr("Computing...") : tr("Compute &Map"));
    m_sendToQueue->setEnabled(selected > 0 && m_jobId == 0);
    m_showInTable->setEnabled(selected > 0 && m_jobId == 0);
    m_sendToQueue->setText(selected > 0 ? tr("Send %1 to &Queue").arg(selected)
                                        : tr("Send to &Queue"));
    m_saveMapImage->setEnabled(m_map->count() > 0);
    m_saveMapCsv->setEnabled(m_map->count() > 0 && m_layout.has_value());
    m_fit->setEnabled(m_map->count() > 0);
}

bool AnalysisDialog::computeMap()
{
    if (!m_session->isOpen() || m_jobId != 0 || m_source->count() == 0)
        return false;
    TsneRequest request;
    request.databasePath = m_session->path();
    request.source = source();
    request.options.perplexity = m_perplexity->value();
    request.options.iterations = m_iterations->value();
    request.options.exaggerationIterations =
        std::min(request.options.exaggerationIterations, request.options.iterations);
    request.options.seed = std::uint64_t(m_seed->value());
    request.options.publishEvery = 25;
    m_job = std::make_shared<TsneJob>(request);
    m_jobSource = request.source;
    m_jobShown = false;
    m_jobId = m_jobs->submit(m_job);
    saveState();
    m_mapStatus->setText(tr("Computing the map of %1...").arg(m_source->currentText()));
    updateMapButtons();
    return m_jobId != 0;
}

void AnalysisDialog::onJobIntermediate(int id, const QVariant &value)
{
    if (id != m_jobId || m_jobSource != source())
        return;
    const QVariantMap v = value.toMap();
    if (v.value(QStringLiteral("kind")).toString() != QLatin1String("tsne-layout"))
        return;
    const QByteArray bytes = v.value(QStringLiteral("xy")).toByteArray();
    std::vector<float> xy(std::size_t(bytes.size()) / sizeof(float));
    std::memcpy(xy.data(), bytes.constData(), xy.size() * sizeof(float));
    if (!m_jobShown) {
        m_layout.reset();
        m_map->setPoints(v.value(QStringLiteral("ids")).value<QList<qint64>>(), xy);
        recolour();
        m_jobShown = true;
    } else {
        m_map->updatePositions(xy);
    }
    m_mapStatus->setText(tr("Computing the map of %1: iteration %2 of %3...")
                             .arg(m_source->currentText())
                             .arg(v.value(QStringLiteral("iteration")).toInt())
                             .arg(v.value(QStringLiteral("iterations")).toInt()));
}

void AnalysisDialog::onJobFinished(int id, const JobResult &result)
{
    if (id != m_jobId)
        return;
    const std::shared_ptr<TsneJob> job = std::move(m_job);
    m_jobId = 0;
    if (result.ok() && job && m_session->database()) {
        if (m_jobSource == source())
            if (auto stored =
                    AnalysisRepository(*m_session->database()).layout(job->report().layoutId))
                showLayout(*stored);
        Q_EMIT message(result.summary, 6000);
    } else {
        if (result.outcome == JobOutcome::Failed)
            Q_EMIT message(tr("Could not compute the map: %1").arg(result.summary), 12000);
        loadStoredLayout();
        if (result.outcome == JobOutcome::Failed)
            m_mapStatus->setText(tr("Could not compute the map: %1").arg(result.summary));
    }
    updateMapButtons();
}

// ---------------------------------------------------------------------------- confusion

QWidget *AnalysisDialog::createConfusionPage()
{
    m_confusionModel = new QComboBox;
    m_confusionModel->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_split = new QComboBox;
    m_split->addItem(tr("Held-out speakers (the run's validation)"));
    m_split->addItem(tr("Every labeled clip (includes its training clips)"));
    m_split->setToolTip(tr("Held-out speakers give the figures the run reported; every "
                           "labeled clip includes the clips the model learned from, so it "
                           "flatters the model"));
    m_fold = new QComboBox;
    m_fold->setToolTip(tr("A cross-validation run's folds: pooled, each clip scored by the fold "
                          "that held its speaker out, or one fold's test speakers"));
    m_fold->setVisible(false);
    m_normalise = new QCheckBox(tr("&Row-normalised"));
    m_normalise->setToolTip(tr("Each row as shares of its true class: the diagonal is the "
                               "class's recall"));
    auto *controls = new QHBoxLayout;
    auto *modelLabel = new QLabel(tr("M&odel:"));
    modelLabel->setBuddy(m_confusionModel);
    controls->addWidget(modelLabel);
    controls->addWidget(m_confusionModel, 1);
    controls->addWidget(new QLabel(tr("Clips:")));
    controls->addWidget(m_split);
    controls->addWidget(m_fold);
    controls->addWidget(m_normalise);

    m_matrix = new ConfusionMatrixView;
    m_matrix->setEmptyText(tr("No model yet: train one (Model > Retrain) to see which classes "
                              "it confuses."));
    m_confusionSummary = new QLabel;
    m_confusionSummary->setWordWrap(true);
    m_confusionSummary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_classTable = makeTable(
        {tr("Class"), tr("Clips"), tr("Predicted"), tr("Precision"), tr("Recall"), tr("F1")});
    m_cellTitle = new QLabel(tr("Click a cell to list its clips."));
    m_cellTitle->setWordWrap(true);
    m_cellClips =
        makeTable({tr("Clip"), tr("Speaker"), tr("True"), tr("Predicted"), tr("Confidence")});
    m_cellClips->setSelectionMode(QAbstractItemView::SingleSelection);
    connect(m_cellClips, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        if (auto *item = m_cellClips->item(row, 0))
            Q_EMIT clipActivated(item->data(kIdRole).toLongLong(), true);
    });
    connect(m_cellClips, &QTableWidget::currentCellChanged, this, [this](int row) {
        if (auto *item = m_cellClips->item(row, 0); item && m_turn.isEmpty())
            Q_EMIT clipActivated(item->data(kIdRole).toLongLong(), false);
    });
    m_playInTurn = new QPushButton(tr("&Play in Turn"));
    m_playInTurn->setToolTip(tr("Play the cell's clips one after another"));
    m_playInTurn->setEnabled(false);
    connect(m_playInTurn, &QPushButton::clicked, this, &AnalysisDialog::playCellInTurn);
    auto *saveImage = new QPushButton(tr("Save &Image..."));
    connect(saveImage, &QPushButton::clicked, this, [this] {
        const QString path =
            askPlotPath(this, QStringLiteral("confusion-model-%1").arg(m_confusion.modelId));
        if (!path.isEmpty())
            report(savePlot(m_matrix, path, tr("Confusion matrix")));
    });
    auto *saveTable = new QPushButton(tr("Save &Table..."));
    saveTable->setToolTip(tr("The per-class precision, recall and F1 as CSV"));
    connect(saveTable, &QPushButton::clicked, this, [this] {
        const QString path =
            askCsvPath(this, QStringLiteral("classes-model-%1").arg(m_confusion.modelId));
        if (!path.isEmpty())
            report(saveTableCsv(m_classTable->model(), path));
    });
    auto *saveClips = new QPushButton(tr("Save C&lips..."));
    saveClips->setToolTip(tr("The listed clips as CSV"));
    connect(saveClips, &QPushButton::clicked, this, [this] {
        const QString path = askCsvPath(this, QStringLiteral("cell-clips"));
        if (!path.isEmpty())
            report(saveTableCsv(m_cellClips->model(), path));
    });

    auto *right = new QWidget;
    auto *rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->addWidget(m_confusionSummary);
    rightLayout->addWidget(m_classTable, 2);
    rightLayout->addWidget(m_cellTitle);
    rightLayout->addWidget(m_cellClips, 3);
    auto *cellButtons = new QHBoxLayout;
    cellButtons->addWidget(m_playInTurn);
    cellButtons->addStretch(1);
    cellButtons->addWidget(saveClips);
    rightLayout->addLayout(cellButtons);
    auto *split = new QSplitter;
    split->addWidget(m_matrix);
    split->addWidget(right);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    split->setSizes({560, 520});

    auto *buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(saveImage);
    buttons->addWidget(saveTable);
    auto *page = new QWidget;
    auto *layout = new QVBoxLayout(page);
    layout->addLayout(controls);
    layout->addWidget(split, 1);
    layout->addLayout(buttons);

    connect(m_confusionModel, &QComboBox::currentIndexChanged, this, [this] {
        if (m_loading)
            return;
        saveState();
        reloadConfusion();
    });
    connect(m_split, &QComboBox::currentIndexChanged, this, [this] {
        saveState();
        reloadConfusion();
    });
    connect(m_fold, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_loading)
            reloadConfusion();
    });
    connect(m_normalise, &QCheckBox::toggled, this, [this](bool on) {
        m_matrix->setNormalised(on);
        saveState();
    });
    connect(m_matrix, &ConfusionMatrixView::cellActivated, this, &AnalysisDialog::openCell);
    return page;
}

void AnalysisDialog::setConfusionRun(qint64 runId)
{
    if (const int at = m_confusionModel->findData(-runId); at >= 0)
        m_confusionModel->setCurrentIndex(at);
}

void AnalysisDialog::setConfusionModel(qint64 modelId)
{
    if (const int at = m_confusionModel->findData(modelId); at >= 0)
        m_confusionModel->setCurrentIndex(at);
}

void AnalysisDialog::reloadConfusion()
{
    m_confusionStale = false;
    m_matrix->setNormalised(m_normalise->isChecked());
    m_cellClips->setRowCount(0);
    m_playInTurn->setEnabled(false);
    m_cellTitle->setText(tr("Click a cell to list its clips."));
    Database *db = m_session->database();
    const qint64 modelId = m_confusionModel->currentData().toLongLong();
    if (!db || modelId == 0) {
        m_confusion = ModelConfusion();
        m_matrix->setMatrix({}, {});
        m_classTable->setRowCount(0);
        m_confusionSummary->setText(QString());
        return;
    }
    m_split->setVisible(modelId > 0);
    m_fold->setVisible(modelId < 0);
    if (modelId < 0 && m_foldRun != -modelId) { // another cross-validation run: its folds
        m_loading = true;
        m_fold->clear();
        for (const MetricsRow &row : ModelRepository(*db).metrics(-modelId))
            m_fold->addItem(row.fold == 0 ? tr("Every fold, pooled (%1 clips)").arg(row.n)
                                          : tr("Fold %1 (%2 clips)").arg(row.fold).arg(row.n),
                            row.fold);
        m_foldRun = -modelId;
        m_loading = false;
    }
    const int fold = m_fold->currentData().toInt();
    const Status st =
        modelId < 0 ? runConfusion(*db, -modelId, fold, &m_confusion)
                    : modelConfusion(*db, modelId,
                                     m_split->currentIndex() == 1 ? ConfusionSplit::Labeled
                                                                  : ConfusionSplit::Validation,
                                     &m_confusion);
    if (!st) {
        m_matrix->setMatrix({}, {});
        m_matrix->setEmptyText(st.error());
        m_classTable->setRowCount(0);
        m_confusionSummary->setText(st.error());
        return;
    }
    if (modelId < 0) {
        const ClassificationMetrics &m = m_confusion.metrics;
        m_matrix->setMatrix(m.labels, m.confusion);
        m_confusionSummary->setText(
            tr("<b>UA %1</b> &middot; WA %2 &middot; macro F1 %3 on %4 clips, %5")
                .arg(m.ua, 0, 'f', 3)
                .arg(m.wa, 0, 'f', 3)
                .arg(m.macroF1, 0, 'f', 3)
                .arg(m.count)
                .arg(fold == 0 ? tr("each scored by the fold that held its speaker out")
                               : tr("the test speakers of fold %1").arg(fold)));
        if (!m_confusion.clipsListed)
            m_cellTitle->setText(tr("This cross-validation ran before EmoLens kept its "
                                    "predictions per clip: run it again to list a cell's clips, "
                                    "or choose a model version."));
    } else {
        fillModelSummary();
    }
    fillClassTable();
}

void AnalysisDialog::fillModelSummary()
{
    const auto split =
        m_split->currentIndex() == 1 ? ConfusionSplit::Labeled : ConfusionSplit::Validation;
    const ClassificationMetrics &m = m_confusion.metrics;
    m_matrix->setMatrix(m.labels, m.confusion);
    QString summary = tr("<b>UA %1</b> &middot; WA %2 &middot; macro F1 %3 on %4 clips")
                          .arg(m.ua, 0, 'f', 3)
                          .arg(m.wa, 0, 'f', 3)
                          .arg(m.macroF1, 0, 'f', 3)
                          .arg(m.count);
    if (split == ConfusionSplit::Validation)
        summary +=
            tr(" of the held-out speakers %1")
                .arg(m_confusion.validationSpeakers.join(QStringLiteral(", ")).toHtmlEscaped());
    else
        summary += tr(" (every labeled clip: the model trained on most of them)");
    if (m_confusion.withoutPrediction > 0)
        summary += tr("<br>%1 labeled clips have no current prediction (their audio changed, "
                      "or the model never saw them) and are left out")
                       .arg(m_confusion.withoutPrediction);
    m_confusionSummary->setText(summary);
}

void AnalysisDialog::fillClassTable()
{
    const ClassificationMetrics &m = m_confusion.metrics;
    m_classTable->setRowCount(int(m.perClass.size()));
    for (int r = 0; r < m.perClass.size(); ++r) {
        const ClassScores &c = m.perClass[r];
        auto *name = new QTableWidgetItem(c.label);
        name->setForeground(classColour(m.labels, r).darker(150));
        m_classTable->setItem(r, 0, name);
        m_classTable->setItem(r, 1, numberItem(c.support, 0));
        m_classTable->setItem(r, 2, numberItem(c.predicted, 0));
        m_classTable->setItem(r, 3, numberItem(c.precision));
        m_classTable->setItem(r, 4, numberItem(c.recall));
        m_classTable->setItem(r, 5, numberItem(c.f1));
    }
    m_classTable->resizeColumnsToContents();
}

void AnalysisDialog::openCell(int truth, int predicted)
{
    m_turn.clear();
    m_matrix->setCurrentCell(truth, predicted);
    const QList<qint64> ids = m_confusion.cells.value(truth).value(predicted);
    const QString t = m_confusion.classes.value(truth), p = m_confusion.classes.value(predicted);
    const int count = m_confusion.metrics.confusion.value(truth).value(predicted);
    m_cellTitle->setText(
        (truth == predicted
             ? tr("<b>%1</b> recognised: %n clip(s)", nullptr, count).arg(t)
             : tr("<b>%1</b> taken for <b>%2</b>: %n clip(s)", nullptr, count).arg(t, p)) +
        (!m_confusion.clipsListed && count > 0
             ? tr(" (this cross-validation ran before EmoLens kept its predictions per clip: "
                  "run it again to list them)")
             : QString()));
    m_cellClips->setRowCount(0);
    m_cellClips->setRowCount(int(ids.size()));
    for (int r = 0; r < ids.size(); ++r) {
        const ConfusionClip clip = m_confusion.clips.value(ids[r]);
        auto *key = new QTableWidgetItem(clip.key);
        key->setData(kIdRole, clip.utteranceId);
        m_cellClips->setItem(r, 0, key);
        m_cellClips->setItem(r, 1, new QTableWidgetItem(clip.speaker));
        m_cellClips->setItem(r, 2, new QTableWidgetItem(clip.truth));
        m_cellClips->setItem(r, 3, new QTableWidgetItem(clip.predicted));
        m_cellClips->setItem(r, 4, numberItem(clip.confidence, 2));
    }
    m_cellClips->resizeColumnsToContents();
    m_playInTurn->setEnabled(!ids.isEmpty());
}

void AnalysisDialog::playCellInTurn()
{
    m_turn.clear();
    for (int r = 0; r < m_cellClips->rowCount(); ++r)
        m_turn << m_cellClips->item(r, 0)->data(kIdRole).toLongLong();
    playNextInTurn();
}

void AnalysisDialog::playNextInTurn()
{
    if (m_turn.isEmpty())
        return;
    const qint64 id = m_turn.takeFirst();
    for (int r = 0; r < m_cellClips->rowCount(); ++r)
        if (m_cellClips->item(r, 0)->data(kIdRole).toLongLong() == id) {
            const QSignalBlocker block(m_cellClips);
            m_cellClips->selectRow(r);
        }
    Q_EMIT clipActivated(id, true);
}

QWidget *AnalysisDialog::confusionPlot() const
{
    return m_matrix;
}

// ------------------------------------------------------------------------------- models

QWidget *AnalysisDialog::createModelsPage()
{
    m_models = makeTable({tr("Model"), tr("Recipe"), tr("Encoder"), tr("Labels used"),
                          tr("Validation clips"), tr("UA"), tr("WA"), tr("F1"), tr("Training time"),
                          tr("Trained")});
    m_models->setToolTip(tr("Tick models to overlay their training curves"));
    connect(m_models, &QTableWidget::itemChanged, this, [this](QTableWidgetItem *item) {
        if (!m_loading && item->column() == 0)
            redrawCurves();
    });
    m_curves = new QChart;
    m_curves->setTitle(tr("Validation UA per epoch"));
    m_curves->legend()->setAlignment(Qt::AlignBottom);
    m_curvesView = new QChartView(m_curves);
    m_curvesView->setRenderHint(QPainter::Antialiasing);
    m_curvesView->setMinimumHeight(240);
    m_recallA = new QComboBox;
    m_recallB = new QComboBox;
    m_recallNote = new QLabel;
    m_recallNote->setWordWrap(true);
    m_recall = makeTable({tr("Class"), tr("Recall A"), tr("Recall B"), tr("B - A")});
    m_recall->horizontalHeader()->setStretchLastSection(false);
    connect(m_recallA, &QComboBox::currentIndexChanged, this, [this] { updateRecall(); });
    connect(m_recallB, &QComboBox::currentIndexChanged, this, [this] { updateRecall(); });

    auto *saveTable = new QPushButton(tr("Save &Table..."));
    connect(saveTable, &QPushButton::clicked, this, [this] {
        const QString path = askCsvPath(this, QStringLiteral("models"));
        if (!path.isEmpty())
            report(saveTableCsv(m_models->model(), path));
    });
    auto *saveImage = new QPushButton(tr("Save &Image..."));
    connect(saveImage, &QPushButton::clicked, this, [this] {
        const QString path = askPlotPath(this, QStringLiteral("training-curves"));
        if (!path.isEmpty())
            report(savePlot(m_curvesView, path, tr("Training curves")));
    });
    auto *saveRecall = new QPushButton(tr("Save &Recall..."));
    connect(saveRecall, &QPushButton::clicked, this, [this] {
        const QString path = askCsvPath(this, QStringLiteral("recall-difference"));
        if (!path.isEmpty())
            report(saveTableCsv(m_recall->model(), path));
    });

    auto *recallBox = new QGroupBox(tr("Per-class recall on held-out speakers"));
    auto *form = new QFormLayout;
    form->addRow(tr("Version &A:"), m_recallA);
    form->addRow(tr("Version &B:"), m_recallB);
    auto *recallLayout = new QVBoxLayout(recallBox);
    recallLayout->addLayout(form);
    recallLayout->addWidget(m_recallNote);
    recallLayout->addWidget(m_recall, 1);
    recallLayout->addWidget(saveRecall, 0, Qt::AlignRight);

    auto *lower = new QSplitter;
    lower->addWidget(m_curvesView);
    lower->addWidget(recallBox);
    lower->setStretchFactor(0, 3);
    lower->setStretchFactor(1, 2);
    lower->setSizes({640, 440});
    auto *split = new QSplitter(Qt::Vertical);
    split->addWidget(m_models);
    split->addWidget(lower);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 3);
    split->setSizes({170, 520});
    auto *buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(saveImage);
    buttons->addWidget(saveTable);
    auto *page = new QWidget;
    auto *layout = new QVBoxLayout(page);
    layout->addWidget(split, 1);
    layout->addLayout(buttons);
    return page;
}

QWidget *AnalysisDialog::curvesPlot() const
{
    return m_curvesView;
}

void AnalysisDialog::reloadModels()
{
    m_loading = true;
    const qint64 keepConfusion =
        m_confusionModel->count() > 0
            ? m_confusionModel->currentData().toLongLong()
            : QSettings().value(kPrefix + QStringLiteral("confusionModel")).toLongLong();
    const qint64 keepA = m_recallA->currentData().toLongLong();
    const qint64 keepB = m_recallB->currentData().toLongLong();
    QSet<qint64> ticked;
    for (int r = 0; r < m_models->rowCount(); ++r)
        if (m_models->item(r, 0)->checkState() == Qt::Checked)
            ticked.insert(m_models->item(r, 0)->data(kIdRole).toLongLong());
    m_confusionModel->clear();
    m_recallA->clear();
    m_recallB->clear();
    m_models->setRowCount(0);
    Database *db = m_session->database();
    QList<ModelVersionRecord> models;
    if (db)
        models = ModelRepository(*db).models();
    const bool first = ticked.isEmpty();
    m_models->setRowCount(int(models.size()));
    qint64 active = 0;
    for (int r = 0; r < models.size(); ++r) {
        const ModelVersionRecord &m = models[r];
        const auto encoder = FeatureRepository(*db).encoder(m.encoderId);
        const QString encoderName = encoder ? encoder->name : tr("(removed)");
        const QString title = modelTitle(m, encoderName);
        m_confusionModel->addItem(title, m.id);
        m_recallA->addItem(title, m.id);
        m_recallB->addItem(title, m.id);
        if (m.active)
            active = m.id;
        int labels = 0;
        if (const auto run = ModelRepository(*db).run(m.runId))
            labels = QJsonDocument::fromJson(run->labelSnapshot.toUtf8())
                         .object()
                         .value(QStringLiteral("labeled_clips"))
                         .toInt();
        auto *name = new QTableWidgetItem(m.active ? tr("Model %1 (active)").arg(m.id)
                                                   : tr("Model %1").arg(m.id));
        name->setData(kIdRole, m.id);
        name->setFlags(name->flags() | Qt::ItemIsUserCheckable);
        name->setCheckState(ticked.contains(m.id) || (first && r < 3) ? Qt::Checked
                                                                      : Qt::Unchecked);
        m_models->setItem(r, 0, name);
        m_models->setItem(r, 1, new QTableWidgetItem(m.recipe));
        m_models->setItem(r, 2, new QTableWidgetItem(encoderName));
        m_models->setItem(r, 3, numberItem(labels, 0));
        m_models->setItem(r, 4, numberItem(m.validationClips, 0));
        m_models->setItem(r, 5, numberItem(m.validationUa));
        m_models->setItem(r, 6, numberItem(m.validationWa));
        m_models->setItem(r, 7, numberItem(m.validationF1));
        m_models->setItem(r, 8, new QTableWidgetItem(tr("%1 s").arg(m.trainSeconds, 0, 'f', 1)));
        m_models->setItem(r, 9,
                          new QTableWidgetItem(
                              QLocale().toString(m.createdAt.toLocalTime(), QLocale::ShortFormat)));
    }
    m_models->resizeColumnsToContents();
    // Cross-validation runs (emolens-cli evaluate), after the models: their stored matrices.
    if (db) {
        ModelRepository repository(*db);
        FeatureRepository features(*db);
        for (const TrainingRunRecord &run : repository.runs()) {
            if (run.kind != QLatin1String("evaluate") || run.status != QLatin1String("succeeded"))
                continue;
            const QList<MetricsRow> rows = repository.metrics(run.id);
            if (rows.isEmpty() || rows.first().fold != 0)
                continue;
            const auto encoder = features.encoder(run.encoderId);
            m_confusionModel->addItem(
                tr("Cross-validation %1 - %2 on %3, %4 folds, UA %5")
                    .arg(run.id)
                    .arg(run.recipe, encoder ? encoder->name : tr("(removed)"))
                    .arg(rows.size() - 1)
                    .arg(rows.first().ua, 0, 'f', 3),
                -run.id);
        }
    }
    m_foldRun = 0;
    const auto pick = [](QComboBox *box, qint64 id, int fallback) {
        const int at = box->findData(id);
        box->setCurrentIndex(at >= 0 ? at : std::min(fallback, box->count() - 1));
    };
    pick(m_confusionModel, keepConfusion != 0 ? keepConfusion : active,
         std::max(0, m_confusionModel->findData(active)));
    pick(m_recallA, keepA, 1); // the older of the newest two
    pick(m_recallB, keepB, 0);
    m_loading = false;
    redrawCurves();
    updateRecall();
}

void AnalysisDialog::redrawCurves()
{
    m_curves->removeAllSeries();
    for (QAbstractAxis *axis : m_curves->axes())
        m_curves->removeAxis(axis);
    Database *db = m_session->database();
    if (!db)
        return;
    ModelRepository repository(*db);
    auto *x = new QValueAxis;
    x->setTitleText(tr("Epoch"));
    x->setLabelFormat(QStringLiteral("%d"));
    auto *y = new QValueAxis;
    y->setTitleText(tr("Validation UA"));
    y->setRange(0, 1);
    m_curves->addAxis(x, Qt::AlignBottom);
    m_curves->addAxis(y, Qt::AlignLeft);
    int epochs = 1, drawn = 0;
    for (int r = 0; r < m_models->rowCount(); ++r) {
        QTableWidgetItem *item = m_models->item(r, 0);
        if (item->checkState() != Qt::Checked)
            continue;
        const auto model = repository.model(item->data(kIdRole).toLongLong());
        if (!model)
            continue;
        auto *series = new QLineSeries;
        series->setName(tr("Model %1 (%2)").arg(model->id).arg(model->recipe));
        for (const EpochRow &e : repository.epochs(model->runId))
            if (e.fold == 0) {
                series->append(e.epoch, e.validationUa);
                epochs = std::max(epochs, e.epoch);
            }
        series->setPointsVisible(true);
        series->setColor(localAttributeColour(drawn * 2));
        m_curves->addSeries(series);
        series->attachAxis(x);
        series->attachAxis(y);
        ++drawn;
    }
    x->setRange(0, epochs);
    x->setTickCount(std::min(epochs, 10) + 1);
    m_curves->setTitle(drawn == 0 ? tr("Tick models above to compare their training curves")
                                  : tr("Validation UA per epoch"));
}

void AnalysisDialog::updateRecall()
{
    if (m_loading)
        return;
    m_recall->setRowCount(0);
    Database *db = m_session->database();
    const qint64 a = m_recallA->currentData().toLongLong();
    const qint64 b = m_recallB->currentData().toLongLong();
    if (!db || a == 0 || b == 0) {
        m_recallNote->setText(tr("Two trained models are needed."));
        return;
    }
    ModelRepository repository(*db);
    const auto metricsOf = [&repository](qint64 id, QStringList *speakers) {
        ClassificationMetrics out;
        const auto model = repository.model(id);
        if (!model)
            return out;
        for (const MetricsRow &row : repository.metrics(model->runId))
            if (row.fold == 0 && row.split == QLatin1String("validation"))
                out = ClassificationMetrics::fromConfusion(row.labels, row.confusion);
        if (const auto run = repository.run(model->runId))
            for (const QJsonValue &v : QJsonDocument::fromJson(run->settings.toUtf8())
                                           .object()
                                           .value(QStringLiteral("validation_speakers"))
                                           .toArray())
                *speakers << v.toString();
        return out;
    };
    QStringList speakersA, speakersB;
    const ClassificationMetrics ma = metricsOf(a, &speakersA);
    const ClassificationMetrics mb = metricsOf(b, &speakersB);
    QStringList classes = ma.labels;
    for (const QString &c : mb.labels)
        if (!classes.contains(c))
            classes << c;
    m_recall->setRowCount(int(classes.size()));
    for (int r = 0; r < classes.size(); ++r) {
        const int ia = int(ma.labels.indexOf(classes[r]));
        const int ib = int(mb.labels.indexOf(classes[r]));
        auto *name = new QTableWidgetItem(classes[r]);
        name->setForeground(classColour(classes, r).darker(150));
        m_recall->setItem(r, 0, name);
        if (ia >= 0)
            m_recall->setItem(r, 1, numberItem(ma.perClass[ia].recall));
        if (ib >= 0)
            m_recall->setItem(r, 2, numberItem(mb.perClass[ib].recall));
        if (ia >= 0 && ib >= 0) {
            const double d = mb.perClass[ib].recall - ma.perClass[ia].recall;
            auto *diff = numberItem(d);
            diff->setText(QStringLiteral("%1%2")
                              .arg(d > 0 ? QStringLiteral("+") : QString())
                              .arg(d, 0, 'f', 3));
            if (std::abs(d) >= 0.005)
                diff->setForeground(d > 0 ? QColor(30, 130, 50) : QColor(190, 30, 30));
            m_recall->setItem(r, 3, diff);
        }
    }
    m_recall->resizeColumnsToContents();
    std::sort(speakersA.begin(), speakersA.end());
    std::sort(speakersB.begin(), speakersB.end());
    m_recallNote->setText(
        a == b ? tr("The same model twice: choose another for B.")
        : speakersA == speakersB
            ? tr("Both held out the same speakers (%1): the recalls compare directly.")
                  .arg(speakersA.join(QStringLiteral(", ")))
            : tr("They held out different speakers (A: %1; B: %2): the difference mixes the "
                 "models with the speakers.")
                  .arg(speakersA.join(QStringLiteral(", ")), speakersB.join(QStringLiteral(", "))));
}

} // namespace emolens
