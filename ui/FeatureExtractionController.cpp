#include "FeatureExtractionController.h"

#include "JobRunner.h"
#include "features/EncoderCatalog.h"
#include "store/Database.h"
#include "store/FeatureRepository.h"

#include <QFileInfo>
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

// Filled on the worker thread, read on the GUI thread after finished().
struct FeatureExtractionController::Outcome
{
    ExtractFeaturesReport report;
    int done = 0;
};

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

FeatureExtractionController::FeatureExtractionController(QObject *parent) : QObject(parent)
{
    m_runner = new JobRunner(this);
    connect(m_runner, &JobRunner::progress, this, &FeatureExtractionController::progress);
    connect(m_runner, &JobRunner::finished, this, &FeatureExtractionController::onFinished);
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
    return m_runner->isRunning();
}

void FeatureExtractionController::cancel()
{
    m_runner->cancel();
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
    const bool running = m_runner->start([request, outcome](ProgressSink &progress) {
        const Status st = ExtractFeaturesJob::run(request, progress, &outcome->report);
        if (!st || outcome->report.encoderId == 0)
            return st;
        // Counted here, on the job's own connection, so the window does not query the store
        // between the job's commit and its own reload.
        Database db(request.databasePath);
        if (db.open()) {
            const QSet<qint64> done =
                FeatureRepository(db).utterancesWithEmbedding(outcome->report.encoderId);
            if (request.utteranceIds.isEmpty()) {
                outcome->done = int(done.size());
            } else {
                for (qint64 id : request.utteranceIds)
                    outcome->done += done.contains(id) ? 1 : 0;
            }
        }
        return st;
    });
    if (!running)
        return false;
    m_pending = outcome;
    m_runningName = encoderNameOf(choice.encoder);
    Q_EMIT started(tr("Extracting features with %1...").arg(m_runningName));
    return true;
}

void FeatureExtractionController::onFinished(const Status &status)
{
    m_lastReport = m_pending ? m_pending->report : ExtractFeaturesReport();
    m_lastDone = m_pending ? m_pending->done : 0;
    m_pending.reset();
    const ExtractFeaturesReport &r = m_lastReport;
    const QString name = r.encoderName.isEmpty() ? m_runningName : r.encoderName;
    if (!status) {
        m_lastSummary = tr("Extraction with %1 failed: %2").arg(name, status.error());
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
    Q_EMIT finished(status);
}

QString FeatureExtractionController::failureDetails() const
{
    QStringList lines;
    for (const ExtractionProblem &p : m_lastReport.failed)
        lines << QStringLiteral("%1: %2").arg(p.path, p.reason);
    return lines.join(QLatin1Char('\n'));
}

} // namespace emolens
