#include "FeatureExtractionController.h"

#include "features/EncoderCatalog.h"
#include "store/Database.h"
#include "store/FeatureRepository.h"

#include <QFileInfo>
#include <QMessageBox>
#include <QSet>
#include <QSettings>
#include <algorithm>

namespace emolens {

namespace {

const QString kEncoderKey = QStringLiteral("features/encoder");
const QString kDeviceKey = QStringLiteral("features/device");
const QString kBatchKey = QStringLiteral("features/batchSeconds");

QString encoderNameOf(const QString &source)
{
    return source == QLatin1String(EncoderCatalog::kBuiltIn) ? source
                                                             : QFileInfo(source).fileName();
}

} // namespace

ExtractionChoice ExtractionChoice::load()
{
    QSettings settings;
    ExtractionChoice choice;
    choice.encoder = settings.value(kEncoderKey, choice.encoder).toString();
    choice.device = settings.value(kDeviceKey, choice.device).toString();
    choice.batchSeconds = qBound(
        kMinBatchSeconds, settings.value(kBatchKey, choice.batchSeconds).toInt(), kMaxBatchSeconds);
    if (choice.encoder.isEmpty())
        choice.encoder = QString::fromLatin1(EncoderCatalog::kBuiltIn);
    if (choice.device.isEmpty())
        choice.device = QStringLiteral("auto");
    return choice;
}

void ExtractionChoice::save() const
{
    QSettings settings;
    settings.setValue(kEncoderKey, encoder);
    settings.setValue(kDeviceKey, device);
    settings.setValue(kBatchKey, batchSeconds);
}

namespace {

// The extraction job, plus the count of requested clips that have current embeddings
// afterwards, taken on the job's own connection so the window does not query the store
// between the job's commit and its own reload.
class CountedExtraction final : public Job
{
public:
    explicit CountedExtraction(ExtractFeaturesRequest request) : m_job(std::move(request)) {}
    QString name() const override { return m_job.name(); }
    QString cancelEffect() const override { return m_job.cancelEffect(); }
    JobResult run(ProgressSink &progress) override
    {
        const JobResult result = m_job.run(progress);
        const ExtractFeaturesRequest &request = m_job.request();
        if (result.outcome == JobOutcome::Failed || m_job.report().encoderId == 0)
            return result;
        Database db(request.databasePath);
        if (db.open()) {
            const QSet<qint64> done =
                FeatureRepository(db).utterancesWithEmbedding(m_job.report().encoderId);
            if (request.utteranceIds.isEmpty()) {
                m_done = int(done.size());
            } else {
                for (qint64 id : request.utteranceIds)
                    m_done += done.contains(id) ? 1 : 0;
            }
        }
        return result;
    }
    const ExtractFeaturesReport &report() const { return m_job.report(); }
    int done() const { return m_done; }

private:
    ExtractFeaturesJob m_job;
    int m_done = 0;
};

} // namespace

struct FeatureExtractionController::Outcome
{
    std::shared_ptr<CountedExtraction> job;
};

FeatureExtractionController::FeatureExtractionController(JobQueue *queue, QWidget *dialogParent,
                                                         QObject *parent)
    : QObject(parent), m_queue(queue), m_dialogParent(dialogParent)
{
    connect(m_queue, &JobQueue::progress, this,
            [this](int id, double fraction, const QString &message, const QString &eta) {
                if (id == m_jobId)
                    Q_EMIT progress(fraction, message, eta);
            });
    connect(m_queue, &JobQueue::jobFinished, this, [this](int id, const JobResult &result) {
        if (id == m_jobId)
            onFinished(result);
    });
}

FeatureExtractionController::~FeatureExtractionController() = default;

ExtractionChoice FeatureExtractionController::activeChoiceFor(Database &db)
{
    ExtractionChoice choice = ExtractionChoice::load();
    if (choice.encoder == QLatin1String(EncoderCatalog::kBuiltIn))
        return choice;
    const QList<EncoderRecord> known = FeatureRepository(db).encoders();
    const bool listed = std::any_of(known.begin(), known.end(), [&](const EncoderRecord &e) {
        return e.source == choice.encoder;
    });
    if (!listed)
        choice.encoder = QString::fromLatin1(EncoderCatalog::kBuiltIn);
    return choice;
}

bool FeatureExtractionController::isRunning() const
{
    return m_jobId != 0;
}

void FeatureExtractionController::cancel()
{
    if (m_jobId != 0)
        m_queue->cancel(m_jobId);
}

bool FeatureExtractionController::start(const QString &workspacePath,
                                        const ExtractionChoice &choice,
                                        const QList<qint64> &utteranceIds)
{
    if (isRunning() || workspacePath.isEmpty())
        return false;
    ExtractFeaturesRequest request;
    request.databasePath = workspacePath;
    request.encoder = choice.encoder;
    request.device = choice.device;
    request.batchSeconds = choice.batchSeconds;
    request.utteranceIds = utteranceIds;
    auto outcome = std::make_shared<Outcome>();
    outcome->job = std::make_shared<CountedExtraction>(request);
    m_pending = outcome;
    m_runningName = encoderNameOf(choice.encoder);
    m_jobId = m_queue->submit(outcome->job);
    if (m_jobId == 0)
        return false;
    Q_EMIT started(tr("Extracting features with %1...").arg(m_runningName));
    return true;
}

void FeatureExtractionController::onFinished(const JobResult &result)
{
    const Status status = result.toStatus();
    m_jobId = 0;
    m_lastReport = m_pending ? m_pending->job->report() : ExtractFeaturesReport();
    m_lastDone = m_pending ? m_pending->job->done() : 0;
    m_pending.reset();
    const ExtractFeaturesReport &r = m_lastReport;
    const QString name = r.encoderName.isEmpty() ? m_runningName : r.encoderName;
    if (!status) {
        m_lastSummary = tr("Extraction with %1 failed: %2").arg(name, status.error());
    } else if (result.wasCancelled() && !r.cancelled) {
        m_lastSummary = tr("Extraction cancelled before it started");
    } else if (r.cancelled) {
        m_lastSummary = tr("Extraction cancelled; %1 of %2 clips done - run it again to continue")
                            .arg(m_lastDone)
                            .arg(r.requested);
    } else if (r.extracted == 0 && r.failed.isEmpty()) {
        m_lastSummary = tr("Nothing to extract: all %1 clips already have %2 features")
                            .arg(r.requested)
                            .arg(name);
    } else {
        // Real time over the whole job (decoding and writing included): what the user waited.
        const double speed = r.seconds > 0 ? r.audioSeconds / r.seconds : 0;
        QString text = tr("Extracted %1 clips with %2 on %3 (%4 s of audio, %5x real time); ")
                           .arg(r.extracted)
                           .arg(name, r.device)
                           .arg(qRound(r.audioSeconds))
                           .arg(speed, 0, 'f', speed < 10 ? 1 : 0);
        if (r.alreadyDone > 0)
            text += tr("%1 already done, ").arg(r.alreadyDone);
        text += tr("%1 failed").arg(r.failed.size());
        m_lastSummary = text;
    }
    m_runningName.clear();
    present(status);
    Q_EMIT finished(status);
}

void FeatureExtractionController::present(const Status &status)
{
    Q_EMIT message(m_lastSummary, 30000);
    if (!m_dialogParent)
        return;
    if (!status) {
        auto *box = new QMessageBox(QMessageBox::Warning, tr("Extract Features"), status.error(),
                                    QMessageBox::Ok, m_dialogParent);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
    } else if (const int failed = int(m_lastReport.failed.size()); failed > 0) {
        auto *box = new QMessageBox(
            QMessageBox::Warning, tr("Extract Features"),
            tr("%n clip(s) could not be extracted; the others were.", nullptr, failed),
            QMessageBox::Ok, m_dialogParent);
        box->setInformativeText(tr("Show Details lists each file and the reason."));
        box->setDetailedText(failureDetails());
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
    }
}

QString FeatureExtractionController::failureDetails() const
{
    QStringList lines;
    for (const ExtractionProblem &p : m_lastReport.failed)
        lines << QStringLiteral("%1: %2").arg(p.path, p.reason);
    return lines.join(QLatin1Char('\n'));
}

} // namespace emolens
