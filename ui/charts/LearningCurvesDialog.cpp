#include "LearningCurvesDialog.h"

#include "store/SelectionRepository.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPushButton>
#include <QScatterSeries>
#include <QSettings>
#include <QTableWidget>
#include <QTextStream>
#include <QVBoxLayout>
#include <QValueAxis>

namespace emolens {

namespace {

// One hue per strategy, the same in every setup; random is the grey baseline.
QColor strategyColour(const QString &strategy)
{
    static const QList<std::pair<QString, QColor>> colours{
        {QStringLiteral("random"), QColor(0x70, 0x70, 0x70)},
        {QStringLiteral("margin"), QColor(0x1f, 0x77, 0xb4)},
        {QStringLiteral("least-confidence"), QColor(0xff, 0x7f, 0x0e)},
        {QStringLiteral("entropy"), QColor(0x2c, 0xa0, 0x2c)},
        {QStringLiteral("core-set"), QColor(0xd6, 0x27, 0x28)},
        {QStringLiteral("cold-start"), QColor(0x94, 0x67, 0xbd)},
        {QStringLiteral("hybrid"), QColor(0x8c, 0x56, 0x4b)},
        {QStringLiteral("bald"), QColor(0xe3, 0x77, 0xc2)},
        {QStringLiteral("badge"), QColor(0xbc, 0xbd, 0x22)},
        {QStringLiteral("alps"), QColor(0x17, 0xbe, 0xcf)},
    };
    for (const auto &c : colours)
        if (c.first == strategy)
            return c.second;
    // A variant ("margin+rare", favouring rare classes): its strategy's hue, darker.
    if (const qsizetype plus = strategy.indexOf(QLatin1Char('+')); plus > 0)
        return strategyColour(strategy.left(plus)).darker(150);
    return QColor(0x39, 0x3b, 0x79);
}

QString percent(double fraction)
{
    return QStringLiteral("%1 %").arg(100 * fraction, 0, 'f', 1);
}

enum Column { StrategyColumn, RunsColumn, FractionColumn, LastUaColumn, SecondsColumn, Columns };

} // namespace

LearningCurvesDialog::LearningCurvesDialog(Database *db, QWidget *parent)
    : QDialog(parent), m_db(db)
{
    setWindowTitle(tr("Learning Curves"));
    m_setupCombo = new QComboBox;
    m_setupCombo->setToolTip(tr("Simulations are compared on the same recipe, encoder and pool"));
    connect(m_setupCombo, &QComboBox::currentIndexChanged, this, &LearningCurvesDialog::showSetup);
    m_message = new QLabel;
    m_message->setWordWrap(true);

    m_chart = new QChart;
    m_chart->setBackgroundRoundness(0);
    m_chart->setMargins(QMargins(4, 4, 4, 4));
    m_chart->legend()->setAlignment(Qt::AlignRight);
    m_view = new QChartView(m_chart);
    m_view->setRenderHint(QPainter::Antialiasing);
    m_view->setMinimumSize(520, 300);
    m_view->setAccessibleName(tr("Learning curves"));

    m_table = new QTableWidget(0, Columns);
    m_table->setHorizontalHeaderLabels({tr("Strategy"), tr("Runs"), tr("Labels to 95 % of full UA"),
                                        tr("Last round UA"), tr("Seconds to 95 % (all labels)")});
    m_table->horizontalHeaderItem(FractionColumn)
        ->setToolTip(tr("The fraction of the pool labeled when UA first reached 95 % of the "
                        "same recipe trained on every label: mean ± spread over the runs that "
                        "reached it"));
    m_table->horizontalHeaderItem(SecondsColumn)
        ->setToolTip(tr("Training and selection seconds of the rounds until then, against "
                        "training once on every label"));
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setMinimumHeight(m_table->fontMetrics().height() * 7);

    m_saveImage = new QPushButton(tr("Save &Image..."));
    connect(m_saveImage, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save Image"),
            QSettings()
                .value(QStringLiteral("curves/lastImage"), QStringLiteral("curves.png"))
                .toString(),
            tr("PNG images (*.png)"));
        if (!path.isEmpty() && saveImage(path))
            QSettings().setValue(QStringLiteral("curves/lastImage"), path);
    });
    m_saveTable = new QPushButton(tr("Save &Table..."));
    connect(m_saveTable, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save Table"),
            QSettings()
                .value(QStringLiteral("curves/lastTable"), QStringLiteral("curves.csv"))
                .toString(),
            tr("CSV files (*.csv)"));
        if (!path.isEmpty() && saveTable(path))
            QSettings().setValue(QStringLiteral("curves/lastTable"), path);
    });
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    buttons->addButton(m_saveImage, QDialogButtonBox::ActionRole);
    buttons->addButton(m_saveTable, QDialogButtonBox::ActionRole);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *top = new QHBoxLayout;
    auto *setupLabel = new QLabel(tr("&Setup:"));
    setupLabel->setBuddy(m_setupCombo);
    top->addWidget(setupLabel);
    top->addWidget(m_setupCombo, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_message);
    layout->addWidget(m_view, 3);
    layout->addWidget(m_table, 1);
    layout->addWidget(buttons);
    resize(900, 680);
    reload();
}

void LearningCurvesDialog::reload()
{
    QStringList problems;
    m_setups = m_db ? learningCurves(SelectionRepository(*m_db).simulations(), &problems)
                    : QList<LearningCurveSetup>();
    const int previous = m_setupCombo->currentIndex();
    m_setupCombo->blockSignals(true);
    m_setupCombo->clear();
    for (const LearningCurveSetup &s : std::as_const(m_setups))
        m_setupCombo->addItem(s.title());
    m_setupCombo->blockSignals(false);
    m_setupCombo->setEnabled(m_setups.size() > 1);
    const QString empty =
        tr("No simulations in this workspace yet. Each run of emolens-cli simulate --db FILE "
           "--strategy NAME --seed N adds a curve; run random and the strategies to compare "
           "with several seeds (see the user guide's active-learning chapter).");
    m_message->setText(m_setups.isEmpty() ? empty : problems.join(QLatin1Char('\n')));
    m_message->setVisible(!m_message->text().isEmpty());
    showSetup(m_setups.isEmpty() ? -1 : std::clamp(previous, 0, int(m_setups.size()) - 1));
    if (!m_setups.isEmpty())
        m_setupCombo->setCurrentIndex(std::clamp(previous, 0, int(m_setups.size()) - 1));
    m_saveImage->setEnabled(!m_setups.isEmpty());
    m_saveTable->setEnabled(!m_setups.isEmpty());
}

void LearningCurvesDialog::showSetup(int index)
{
    m_chart->removeAllSeries();
    for (QAbstractAxis *axis : m_chart->axes())
        m_chart->removeAxis(axis);
    m_table->setRowCount(0);
    if (index < 0 || index >= m_setups.size()) {
        m_chart->setTitle(QString());
        return;
    }
    const LearningCurveSetup &setup = m_setups[index];
    m_chart->setTitle(tr("UA on held-out speakers against labels - %1").arg(setup.title()));
    auto *x = new QValueAxis;
    x->setTitleText(tr("Fraction of the pool labeled"));
    x->setLabelFormat(QStringLiteral("%.2f"));
    auto *y = new QValueAxis;
    y->setTitleText(tr("UA"));
    y->setLabelFormat(QStringLiteral("%.2f"));
    m_chart->addAxis(x, Qt::AlignBottom);
    m_chart->addAxis(y, Qt::AlignLeft);
    double maxFraction = 0, lowUa = 1, highUa = 0, fullUa = 0;
    for (const LearningCurve &c : setup.curves) {
        fullUa += c.fullUa / setup.curves.size();
        for (const LearningCurvePoint &p : c.points) {
            maxFraction = std::max(maxFraction, p.fraction);
            lowUa = std::min(lowUa, p.minUa);
            highUa = std::max(highUa, p.maxUa);
        }
    }
    highUa = std::max(highUa, fullUa);
    const auto attach = [&](QAbstractSeries *s) {
        m_chart->addSeries(s);
        s->attachAxis(x);
        s->attachAxis(y);
    };
    for (const LearningCurve &c : setup.curves) {
        const QColor colour = strategyColour(c.strategy);
        auto *mean = new QLineSeries;
        mean->setName(QStringLiteral("%1 (%2)").arg(c.strategy).arg(c.runs()));
        QPen pen(colour);
        pen.setWidthF(c.strategy == QLatin1String("random") ? 2 : 2.5);
        if (c.strategy == QLatin1String("random"))
            pen.setStyle(Qt::DashLine);
        mean->setPen(pen);
        mean->setPointsVisible(true);
        auto *range = new QScatterSeries; // each run's lowest and highest round
        range->setMarkerSize(5);
        QColor faint = colour;
        faint.setAlpha(110);
        range->setColor(faint);
        range->setBorderColor(faint);
        for (const LearningCurvePoint &p : c.points) {
            mean->append(p.fraction, p.meanUa);
            if (p.runs > 1) {
                range->append(p.fraction, p.minUa);
                range->append(p.fraction, p.maxUa);
            }
        }
        attach(mean);
        attach(range);
        m_chart->legend()->markers(range).first()->setVisible(false);
    }
    // Training on every label, and 95 % of it: what the curves are measured against.
    auto *full = new QLineSeries;
    full->setName(tr("every label (%1)").arg(fullUa, 0, 'f', 3));
    full->setPen(QPen(Qt::black, 1.5));
    full->append(0, fullUa);
    full->append(maxFraction, fullUa);
    auto *target = new QLineSeries;
    target->setName(tr("95 % of it"));
    target->setPen(QPen(Qt::black, 1, Qt::DotLine));
    target->append(0, 0.95 * fullUa);
    target->append(maxFraction, 0.95 * fullUa);
    attach(full);
    attach(target);
    x->setRange(0, std::max(0.05, maxFraction * 1.02));
    y->setRange(std::max(0.0, std::floor(lowUa * 20 - 1) / 20),
                std::min(1.0, std::ceil(highUa * 20 + 1) / 20));
    y->applyNiceNumbers();
    x->applyNiceNumbers();
    full->replace(1, QPointF(x->max(), fullUa)); // across the whole plot
    target->replace(1, QPointF(x->max(), 0.95 * fullUa));

    const QLocale locale;
    m_table->setRowCount(int(setup.curves.size()));
    for (int row = 0; row < setup.curves.size(); ++row) {
        const LearningCurve &c = setup.curves[row];
        QString fraction = tr("not reached");
        if (c.reached > 0)
            fraction = QStringLiteral("%1 ± %2 (%3 of %4 runs)")
                           .arg(percent(c.fractionTo95), percent(c.fractionTo95Sd))
                           .arg(c.reached)
                           .arg(c.runs());
        const LearningCurvePoint last = c.points.isEmpty() ? LearningCurvePoint() : c.points.last();
        const QString seconds =
            c.reached > 0 ? QStringLiteral("%1 s (%2 s)")
                                .arg(locale.toString(c.secondsTo95, 'f', 1),
                                     locale.toString(c.fullSeconds, 'f', 1))
                          : QStringLiteral("- (%1 s)").arg(locale.toString(c.fullSeconds, 'f', 1));
        const QStringList cells{
            c.strategy, QString::number(c.runs()), fraction,
            QStringLiteral("%1 at %2").arg(last.meanUa, 0, 'f', 3).arg(percent(last.fraction)),
            seconds};
        for (int col = 0; col < Columns; ++col) {
            auto *item = new QTableWidgetItem(cells[col]);
            if (col == StrategyColumn)
                item->setForeground(strategyColour(c.strategy).darker(120));
            m_table->setItem(row, col, item);
        }
    }
}

bool LearningCurvesDialog::saveImage(const QString &path)
{
    const QImage image = m_view->grab().toImage();
    if (image.isNull() || !image.save(path, "PNG")) {
        m_message->setText(tr("%1: cannot write the image there").arg(path));
        m_message->setVisible(true);
        return false;
    }
    return true;
}

bool LearningCurvesDialog::saveTable(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) {
        m_message->setText(tr("%1: %2").arg(path, file.errorString()));
        m_message->setVisible(true);
        return false;
    }
    QTextStream out(&file);
    out << "setup,strategy,runs,reached,fraction_to_95,fraction_to_95_sd,last_labeled_fraction,"
           "last_ua,seconds_to_95,full_seconds,full_ua\n";
    for (const LearningCurveSetup &setup : std::as_const(m_setups)) { // every setup
        for (const LearningCurve &c : setup.curves) {
            const LearningCurvePoint last =
                c.points.isEmpty() ? LearningCurvePoint() : c.points.last();
            const QString title =
                QString(setup.title()).replace(QLatin1Char('"'), QLatin1String("\"\""));
            out << '"' << title << "\"," << c.strategy << ',' << c.runs() << ',' << c.reached << ','
                << (c.reached > 0 ? QString::number(c.fractionTo95) : QString()) << ','
                << (c.reached > 0 ? QString::number(c.fractionTo95Sd) : QString()) << ','
                << last.fraction << ',' << last.meanUa << ','
                << (c.reached > 0 ? QString::number(c.secondsTo95) : QString()) << ','
                << c.fullSeconds << ',' << c.fullUa << '\n';
        }
    }
    out.flush();
    if (file.error() != QFileDevice::NoError) {
        m_message->setText(tr("%1: %2").arg(path, file.errorString()));
        m_message->setVisible(true);
        return false;
    }
    return true;
}

} // namespace emolens
