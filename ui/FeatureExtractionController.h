#pragma once
// FeatureExtractionController: the GUI side of Features > Extract Features. It submits
// ExtractFeaturesJob (the job the CLI's `extract` runs) to the window's JobQueue with the encoder,
// device and batch size the user chose in the Encoders dialog, and turns the job's report into
// the words the status bar and the failure dialog show. The window owns the status-bar widgets;
// the controller only says what to put in them.
//
// The choice (ExtractionChoice) lives in QSettings: the encoder by its source ("fbank" or the
// model folder's absolute path, so a folder stays chosen across restarts even though its
// database id differs between workspaces), the device and the batch size. A folder chosen in
// another workspace is not used here until it is added to this one: activeEncoderFor() falls
// back to fbank, so the dialog and the action always agree on what runs.
//
// Ownership and threads: GUI thread only; create it with the window as parent. The job opens
// its own Database connection on the worker thread.

#include "common/Status.h"
#include "jobs/ExtractFeaturesJob.h"
#include "jobs/JobQueue.h" // declares emolens::Status as a metatype, for finished()

#include <QObject>
#include <QString>
#include <memory>

class QWidget;

namespace emolens {

class Database;

struct ExtractionChoice
{
    static constexpr int kMinBatchSeconds = 10;
    static constexpr int kMaxBatchSeconds = 1000;
    static constexpr int kDefaultBatchSeconds = 160;

    QString encoder = QStringLiteral("fbank");  // "fbank" or a model folder's absolute path
    QString device = QStringLiteral("auto");    // auto, cpu, cuda:N
    QString precision = QStringLiteral("fp32"); // fp32 or bf16
    int batchSeconds = kDefaultBatchSeconds;    // padded audio per batch

    static ExtractionChoice load();
    void save() const;
};

class FeatureExtractionController : public QObject
{
    Q_OBJECT

public:
    // Jobs go through queue, which must outlive the controller. A failed run, and clips that
    // could not be extracted, are reported in message boxes over dialogParent (none when null).
    FeatureExtractionController(JobQueue *queue, QWidget *dialogParent = nullptr,
                                QObject *parent = nullptr);
    ~FeatureExtractionController() override;

    // The saved choice with its encoder checked against the workspace's encoders (fbank when
    // the saved folder is not one of them).
    static ExtractionChoice activeChoiceFor(Database &db);

    // Queues extracting every utterance of the workspace (or only utteranceIds); it starts when
    // the queue is free. False when an extraction is already queued or running.
    bool start(const QString &workspacePath, const ExtractionChoice &choice,
               const QList<qint64> &utteranceIds = {});
    bool isRunning() const;
    void cancel();

    // What the last finished run reported.
    const ExtractFeaturesReport &lastReport() const { return m_lastReport; }
    // "Extracted 96 clips with fbank (257 s of audio, 12x real time); 0 failed", or the
    // cancelled / failed variant.
    QString lastSummary() const { return m_lastSummary; }
    // One line per failed clip: "path: reason".
    QString failureDetails() const;
    // The encoder name shown while the job runs: "fbank" or the folder's name.
    QString runningEncoderName() const { return m_runningName; }

Q_SIGNALS:
    void started(const QString &message);
    // fraction in [0, 1]; etaText as JobRunner gives it.
    void progress(double fraction, const QString &message, const QString &etaText);
    void finished(const emolens::Status &status);
    // The summary for the status bar (also in lastSummary()).
    void message(const QString &text, int timeoutMs);

private:
    void onFinished(const JobResult &result);
    void present(const Status &status);

    struct Outcome;
    JobQueue *m_queue = nullptr;
    QWidget *m_dialogParent = nullptr;
    int m_jobId = 0; // queued or running; 0 when none
    std::shared_ptr<Outcome> m_pending;
    QString m_runningName;
    ExtractFeaturesReport m_lastReport;
    QString m_lastSummary;
};

} // namespace emolens
