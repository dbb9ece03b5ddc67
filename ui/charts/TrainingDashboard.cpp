#include "TrainingDashboard.h"

#include <QChart>
#include <QChartView>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPen>
#include <QProgressBar>
#include <QPushButton>
#include <QScatterSeries>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace emolens {

namespace {

// The same hues for the same quantities wherever training is drawn.
const QColor kTrainColour(0x1f, 0x77, 0xb4);      // blue
const QColor kValidationColour(0xff, 0x7f, 0x0e); // orange
const QColor kUaColour(0x2c, 0xa0, 0x2c);         // green

QLineSeries *lineSeries(const QString &name, const QColor &colour, Qt::PenStyle style, int width)
{
    auto *series = new QLineSeries;
    series->setName(name);
    QPen pen(colour);
    pen.setWidth(width);
    pen.setStyle(style);
    series->setPen(pen);
    return series;
}

} // namespace

TrainingDashboard::TrainingDashboard(QWidget *parent) : QWidget(parent)
{
    m_title = new QLabel(tr("No training yet"), this);
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    m_status = new QLabel(this);
    setStatus(tr("Model > Retrain (Ctrl+R) trains the default recipe on the current labels; its "
                 "loss and validation UA are drawn here epoch by epoch."));
    // One line, so the chart keeps its height in a small window; the whole text is in the
    // tooltip and the job log.
    m_status->setMinimumWidth(1);

    m_trainLoss = lineSeries(QString(), kTrainColour, Qt::SolidLine, 2);
    m_validationLoss = lineSeries(QString(), kValidationColour, Qt::SolidLine, 2);
    m_validationUa = lineSeries(QString(), kUaColour, Qt::SolidLine, 3);
    m_chance = lineSeries(QString(), kUaColour.lighter(140), Qt::DashLine, 1);
    m_best = new QScatterSeries;
    m_best->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
    m_best->setMarkerSize(11);
    m_best->setColor(kUaColour.darker(130));
    m_best->setBorderColor(Qt::black);

    m_chart = new QChart;
    m_chart->setMargins(QMargins(4, 2, 4, 2));
    m_chart->setBackgroundRoundness(0);
    // One row above the plot: the plot keeps the dock's width.
    m_chart->legend()->setAlignment(Qt::AlignTop);
    QFont legendFont = m_chart->legend()->font();
    legendFont.setPointSizeF(std::max(7.0, legendFont.pointSizeF() - 1));
    m_chart->legend()->setFont(legendFont);
    for (QAbstractSeries *s : std::initializer_list<QAbstractSeries *>{
             m_trainLoss, m_validationLoss, m_validationUa, m_chance, m_best})
        m_chart->addSeries(s);
    m_epochAxis = new QValueAxis;
    m_epochAxis->setTitleText(tr("Epoch"));
    m_epochAxis->setLabelFormat(QStringLiteral("%d"));
    m_epochAxis->setRange(1, 10);
    m_lossAxis = new QValueAxis;
    m_lossAxis->setTitleText(tr("Loss"));
    m_lossAxis->setLabelFormat(QStringLiteral("%.2f"));
    m_lossAxis->setRange(0, 1);
    m_uaAxis = new QValueAxis;
    m_uaAxis->setLabelFormat(QStringLiteral("%.1f"));
    m_uaAxis->setRange(0, 1);
    m_chart->addAxis(m_epochAxis, Qt::AlignBottom);
    m_chart->addAxis(m_lossAxis, Qt::AlignLeft);
    m_chart->addAxis(m_uaAxis, Qt::AlignRight);
    for (QAbstractSeries *s : {static_cast<QAbstractSeries *>(m_trainLoss),
                               static_cast<QAbstractSeries *>(m_validationLoss)}) {
        s->attachAxis(m_epochAxis);
        s->attachAxis(m_lossAxis);
    }
    for (QAbstractSeries *s :
         {static_cast<QAbstractSeries *>(m_validationUa), static_cast<QAbstractSeries *>(m_chance),
          static_cast<QAbstractSeries *>(m_best)}) {
        s->attachAxis(m_epochAxis);
        s->attachAxis(m_uaAxis);
    }
    m_view = new QChartView(m_chart, this);
    m_view->setRenderHint(QPainter::Antialiasing);
    m_view->setMinimumHeight(170);
    m_view->setAccessibleName(tr("Training curves"));

    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setTextVisible(true);
    m_progress->setFormat(tr("Idle"));
    m_eta = new QLabel(this);
    m_eta->setMinimumWidth(m_eta->fontMetrics().horizontalAdvance(QStringLiteral("00 min left")));
    m_stop = new QPushButton(tr("&Stop && Keep Best"), this);
    m_stop->setToolTip(tr("End training now and keep the best epoch so far as a model (it is "
                          "compared with the active model as usual)"));
    m_cancel = new QPushButton(tr("&Cancel"), this);
    m_cancel->setToolTip(tr("End training now and keep nothing"));
    m_stop->setEnabled(false);
    m_cancel->setEnabled(false);
    connect(m_stop, &QPushButton::clicked, this, [this] {
        m_stop->setEnabled(false);
        setStatus(tr("Stopping after the current batch; the best epoch so far is kept..."));
        Q_EMIT stopRequested();
    });
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        m_stop->setEnabled(false);
        m_cancel->setEnabled(false);
        setStatus(tr("Cancelling; no model is kept..."));
        Q_EMIT cancelRequested();
    });

    auto *bottom = new QHBoxLayout;
    bottom->addWidget(m_progress, 1);
    bottom->addWidget(m_eta);
    bottom->addWidget(m_stop);
    bottom->addWidget(m_cancel);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->setSpacing(4);
    layout->addWidget(m_title);
    layout->addWidget(m_status);
    layout->addWidget(m_view, 1);
    layout->addLayout(bottom);
    nameSeries(false);
    redraw();
}

void TrainingDashboard::nameSeries(bool pretraining, bool encoderPretraining)
{
    m_pretraining = pretraining;
    m_encoderPretraining = pretraining && encoderPretraining;
    // TAPT proper (the encoder's own masked prediction) has one loss and no distillation.
    m_trainLoss->setName(m_encoderPretraining ? tr("Masked-prediction loss")
                         : pretraining        ? tr("Mask loss")
                                              : tr("Training loss"));
    m_validationLoss->setName(pretraining ? tr("Distillation loss") : tr("Validation loss"));
    m_validationLoss->setVisible(!m_encoderPretraining);
    const auto lossMarkers = m_chart->legend()->markers(m_validationLoss);
    for (QLegendMarker *marker : lossMarkers)
        marker->setVisible(!m_encoderPretraining);
    m_validationUa->setName(m_encoderPretraining ? tr("Masked frames' clusters right")
                            : pretraining        ? tr("Local attributes right")
                                                 : tr("Validation UA"));
    m_chance->setName(pretraining ? tr("Chance") : tr("Chance UA"));
    m_best->setName(tr("Best epoch (kept)"));
    m_uaAxis->setTitleText(pretraining ? tr("Right") : tr("UA"));
    // Pre-training keeps its last epoch, not a best one.
    m_best->setVisible(!pretraining);
    const auto markers = m_chart->legend()->markers(m_best);
    for (QLegendMarker *marker : markers)
        marker->setVisible(!pretraining);
}

void TrainingDashboard::pretrainingStarted(const QVariantMap &run)
{
    const bool paper = run.value(QStringLiteral("mode")).toString() == QLatin1String("paper");
    nameSeries(true, paper);
    m_maxEpochs = run.value(QStringLiteral("epochs")).toInt();
    m_classes = run.value(QStringLiteral("clusters")).toInt();
    m_title->setText((paper ? tr("Run %1: TAPT of %2's Transformer (paper mode)")
                            : tr("Run %1: adapter TAPT on %2"))
                         .arg(run.value(QStringLiteral("run")).toLongLong())
                         .arg(run.value(QStringLiteral("encoder")).toString()));
    setStatus((paper ? tr("%1 clips, labeled or not (%2 labeled; labels unused); %3 epochs of "
                          "HuBERT's masked prediction of %4 k-means clusters")
                     : tr("%1 clips, labeled or not (%2 labeled; labels unused); %3 epochs of "
                          "teacher-student pre-training, %4 local attributes"))
                  .arg(run.value(QStringLiteral("clips")).toInt())
                  .arg(run.value(QStringLiteral("labeled_clips")).toInt())
                  .arg(m_maxEpochs)
                  .arg(m_classes));
    m_stop->setEnabled(false);
    m_epochs.clear();
    m_bestEpoch = 0;
    redraw();
}

void TrainingDashboard::begin(const QString &what)
{
    nameSeries(false);
    m_epochs.clear();
    m_maxEpochs = 0;
    m_classes = 0;
    m_bestEpoch = 0;
    m_active = true;
    m_title->setText(what);
    setStatus(tr("Waiting for the features of the clips that have none..."));
    m_progress->setValue(0);
    m_progress->setFormat(tr("Queued"));
    m_eta->clear();
    m_stop->setEnabled(true);
    m_cancel->setEnabled(true);
    redraw();
}

void TrainingDashboard::runStarted(const QVariantMap &run)
{
    nameSeries(false);
    m_maxEpochs = run.value(QStringLiteral("epochs")).toInt();
    m_classes = run.value(QStringLiteral("classes")).toInt();
    m_title->setText(tr("Run %1: %2 on %3")
                         .arg(run.value(QStringLiteral("run")).toLongLong())
                         .arg(run.value(QStringLiteral("recipe")).toString(),
                              run.value(QStringLiteral("encoder")).toString()));
    const QVariantList history = run.value(QStringLiteral("history")).toList();
    setStatus(tr("%1 training clips, %2 validation clips (held-out speakers); at most %3 epochs%4")
                  .arg(run.value(QStringLiteral("train_clips")).toInt())
                  .arg(run.value(QStringLiteral("validation_clips")).toInt())
                  .arg(m_maxEpochs)
                  .arg(history.isEmpty() ? QString()
                                         : tr(", resumed after epoch %1").arg(history.size())));
    m_epochs.clear();
    m_bestEpoch = 0;
    for (const QVariant &v : history) {
        const QVariantMap e = v.toMap();
        addEpoch(e.value(QStringLiteral("epoch")).toInt(),
                 e.value(QStringLiteral("train_loss")).toDouble(),
                 e.value(QStringLiteral("validation_loss")).toDouble(),
                 e.value(QStringLiteral("validation_ua")).toDouble());
    }
    redraw();
}

void TrainingDashboard::addEpoch(int epoch, double trainLoss, double validationLoss,
                                 double validationUa)
{
    m_epochs.push_back({epoch, trainLoss, validationLoss, validationUa});
    // The trainer's rule: the better UA, a tie going to the lower validation loss.
    double bestScore = -1e30;
    for (const Epoch &e : m_epochs) {
        const double score = e.validationUa - 1e-6 * e.validationLoss;
        if (score > bestScore) {
            bestScore = score;
            m_bestEpoch = e.epoch;
        }
    }
    redraw();
}

void TrainingDashboard::setProgress(double fraction, const QString &message, const QString &etaText)
{
    m_progress->setValue(int(std::lround(std::clamp(fraction, 0.0, 1.0) * 1000)));
    m_progress->setFormat(message.isEmpty() ? QStringLiteral("%p%") : message);
    m_progress->setToolTip(message);
    m_eta->setText(etaText);
}

void TrainingDashboard::finish(const QString &summary, bool ok)
{
    m_active = false;
    m_stop->setEnabled(false);
    m_cancel->setEnabled(false);
    m_progress->setValue(ok ? 1000 : m_progress->value());
    m_progress->setFormat(ok ? tr("Done") : tr("Ended without a model"));
    m_eta->clear();
    setStatus(summary);
}

QString TrainingDashboard::statusText() const
{
    return m_statusText;
}

QString TrainingDashboard::titleText() const
{
    return m_title->text();
}

void TrainingDashboard::setStatus(const QString &text)
{
    m_statusText = text;
    m_status->setToolTip(text);
    elideStatus();
}

void TrainingDashboard::elideStatus()
{
    m_status->setText(
        m_status->fontMetrics().elidedText(m_statusText, Qt::ElideRight, m_status->width()));
}

void TrainingDashboard::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    elideStatus();
}

void TrainingDashboard::redraw()
{
    m_trainLoss->clear();
    m_validationLoss->clear();
    m_validationUa->clear();
    m_chance->clear();
    m_best->clear();
    double lossTop = 0;
    for (const Epoch &e : m_epochs) {
        m_trainLoss->append(e.epoch, e.trainLoss);
        if (!m_encoderPretraining)
            m_validationLoss->append(e.epoch, e.validationLoss);
        m_validationUa->append(e.epoch, e.validationUa);
        if (e.epoch == m_bestEpoch && !m_pretraining)
            m_best->append(e.epoch, e.validationUa);
        if (std::isfinite(e.trainLoss))
            lossTop = std::max(lossTop, e.trainLoss);
        if (std::isfinite(e.validationLoss) && !m_encoderPretraining)
            lossTop = std::max(lossTop, e.validationLoss);
    }
    const int lastEpoch = m_epochs.empty() ? 0 : m_epochs.back().epoch;
    const int right = std::max({m_maxEpochs, lastEpoch, 2});
    m_epochAxis->setRange(1, right);
    // Whole epochs, at a round step that leaves about eight labels.
    int step = 1;
    for (int candidate : {1, 2, 5, 10, 20, 50, 100, 200, 500})
        if (right / candidate <= 8) {
            step = candidate;
            break;
        }
    m_epochAxis->setTickType(QValueAxis::TicksDynamic);
    m_epochAxis->setTickAnchor(0);
    m_epochAxis->setTickInterval(step);
    m_lossAxis->setRange(0, lossTop > 0 ? lossTop * 1.1 : 1);
    if (m_classes > 1) {
        m_chance->append(1, 1.0 / m_classes);
        m_chance->append(right, 1.0 / m_classes);
    }
}

} // namespace emolens
