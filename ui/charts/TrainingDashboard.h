#pragma once
// TrainingDashboard: the live view of a training run (View > Training Dashboard), in a dock.
// Its chart draws each epoch's training and validation loss (left axis) and validation UA
// (right axis, 0 to 1, with chance as a dashed line) as the epochs end, and marks the best
// epoch - the one the run keeps; under it the run's progress with its ETA, and Stop (end now,
// keep the best epoch as a model) and Cancel (end now, keep nothing). Between runs it shows the
// last run's curves and how it ended.
//
// It only displays: TrainingController feeds it (begin, runStarted, addEpoch, setProgress,
// finish) and acts on stopRequested and cancelRequested. GUI thread only.

#include <QVariantMap>
#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;
class QChart;
class QChartView;
class QLineSeries;
class QScatterSeries;
class QValueAxis;

namespace emolens {

class TrainingDashboard : public QWidget
{
    Q_OBJECT

public:
    explicit TrainingDashboard(QWidget *parent = nullptr);

    // A retrain was queued: clears the curves, enables Stop and Cancel.
    void begin(const QString &what);
    // The run's description as TrainJob publishes it (kind "train-run"): recipe, encoder,
    // epochs, classes, clip counts, and the epochs a resumed run already has.
    void runStarted(const QVariantMap &run);
    // Adapter TAPT's run as PretrainJob publishes it (kind "pretrain-run": run, encoder,
    // epochs, clips, labeled_clips, clusters): the chart then draws, per pre-training epoch
    // (addEpoch), the mask loss, the distillation loss and the share of masked frames whose
    // local attribute was right, against chance (1 in clusters); Stop is off (nothing to keep
    // before the end). With "mode" "paper" (TAPT proper), the masked-prediction loss and the
    // share of masked frames whose cluster was right; it has no distillation loss.
    void pretrainingStarted(const QVariantMap &run);
    void addEpoch(int epoch, double trainLoss, double validationLoss, double validationUa);
    void setProgress(double fraction, const QString &message, const QString &etaText);
    // The run ended (ok: a model was stored); the curves stay, the buttons go off.
    void finish(const QString &summary, bool ok);

    bool isActive() const { return m_active; }
    int epochCount() const { return int(m_epochs.size()); }
    int bestEpoch() const { return m_bestEpoch; }
    QPushButton *stopButton() const { return m_stop; }
    QPushButton *cancelButton() const { return m_cancel; }
    QString statusText() const;
    QString titleText() const;

Q_SIGNALS:
    void stopRequested();
    void cancelRequested();

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    void setStatus(const QString &text);
    void elideStatus();
    struct Epoch
    {
        int epoch = 0;
        double trainLoss = 0;
        double validationLoss = 0;
        double validationUa = 0;
    };
    void redraw();

    QLabel *m_title = nullptr;
    QLabel *m_status = nullptr;
    QString m_statusText; // the whole text; the label shows what fits
    QChart *m_chart = nullptr;
    QChartView *m_view = nullptr;
    QLineSeries *m_trainLoss = nullptr;
    QLineSeries *m_validationLoss = nullptr;
    QLineSeries *m_validationUa = nullptr;
    QLineSeries *m_chance = nullptr;
    QScatterSeries *m_best = nullptr;
    QValueAxis *m_epochAxis = nullptr;
    QValueAxis *m_lossAxis = nullptr;
    QValueAxis *m_uaAxis = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_eta = nullptr;
    QPushButton *m_stop = nullptr;
    QPushButton *m_cancel = nullptr;
    std::vector<Epoch> m_epochs;
    int m_maxEpochs = 0;
    int m_classes = 0;
    int m_bestEpoch = 0;
    bool m_active = false;
    bool m_pretraining = false;
    bool m_encoderPretraining = false; // TAPT proper
    void nameSeries(bool pretraining, bool encoderPretraining = false);
};

} // namespace emolens
