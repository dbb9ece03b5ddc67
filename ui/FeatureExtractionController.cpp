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
const QString kPrecisionKey = QStringLiteral("features/precision");

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
    choice.precision = settings.value(kPrecisionKey, choice.precision).toString();
    if (!EncoderCatalog::precisions().contains(choice.precision))
        choice.precision = QStringLiteral("fp32");
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
    settings.setValue(kPrecisionKey, precision);
    settings.setValue(kBatchKey, batchSeconds);
}

struct FeatureExtractionController::Outcome
{
    std::shared_ptr<ExtractFeaturesJob> job;
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
    request.precision = choice.precision;
    request.batchSeconds = choice.batchSeconds;
    request.utteranceIds = utteranceIds;
    auto outcome = std::make_shared<Outcome>();
    outcome->job = std::make_shared<ExtractFeaturesJob>(request);
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
    m_pending.reset();
    const ExtractFeaturesReport &r = m_lastReport;
    const QString name = r.encoderName.isEmpty() ? m_runningName : r.encoderName;
    if (!status) {
        m_lastSummary = tr("Extraction with %1 failed: %2").arg(name, status.error());
    } else if (result.wasCancelled() && !r.cancelled) {
        m_lastSummary = tr("Extraction cancelled before it started");
    } else {
        m_lastSummary = result.summary; // the job's own counts: see ExtractFeaturesJob::run
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
