#pragma once
// ExtractFeaturesJob: runs a speech encoder over the utterances of a workspace and fills the
// feature cache (every layer, every frame, float16) and the store (per-utterance embeddings).
// The CLI's `extract` and the GUI's Extract Features action both run it as a Job (the GUI
// through the JobQueue); a cancel keeps what was extracted (JobOutcome::Stopped).
//
// - Clips are sorted by length and batched so that batch size x longest clip stays under
//   batchSeconds of audio: little padding, and the attention masks make a padded clip's
//   features equal to the clip's own.
// - Resumable: what is in the cache for this encoder and this audio is not computed again, so
//   a killed or cancelled job picks up where it stopped. Embeddings are committed batch by
//   batch; a cached clip whose embedding is missing gets it back from its cache file.
// - Out of memory on the device: the batch is split in halves and retried (and later batches
//   are made smaller); a clip that does not fit even alone is reported and skipped.
// - A clip that cannot be decoded, or is too short for the encoder, is reported with its path
//   and skipped; the rest goes on.
// - Cancel is honoured between batches (and between the clips of a batch being decoded).
//
// Threads: run() blocks; call it from a worker thread. It opens its own Database connection
// and runs Torch in inference mode on that thread.

#include "common/Progress.h"
#include "common/Status.h"
#include "jobs/Job.h"

#include <QList>
#include <QString>

namespace emolens {

struct ExtractFeaturesRequest
{
    QString databasePath;
    QString encoder = QStringLiteral("fbank");  // "fbank" or a Hugging Face model folder
    QString device = QStringLiteral("auto");    // auto, cpu, cuda, cuda:N
    QString precision = QStringLiteral("fp32"); // fp32 or bf16 (EncoderCatalog::loadEncoder)
    double batchSeconds = 160;                  // padded audio per batch
    QList<qint64> utteranceIds;                 // empty: every utterance in the workspace
    QString cacheDirectory;                     // empty: FeatureCache::defaultRootFor(database)
    int threadCount = 0;                        // CPU threads; 0: one per core
    bool acousticCurves = true;                 // also store F0, voicing and energy per clip
    // Seed 003's speed perturbation: also extract each clip's copy at these rates (e.g. 0.8
    // and 1.2) into the cache, under speedKey(hash, rate); for training only, so they get no
    // utterance embedding in the workspace. Copies already cached are not redone.
    QList<double> speedRates;
    // TAPT proper (seed 002's paper mode, `pretrain --mode paper`): also cache each clip's
    // projected CNN features, the input TAPT masks, under taptInputKey(hash). Self-supervised
    // encoders only; clips whose input is cached already are not redone.
    bool taptInputs = false;
};

struct ExtractionProblem
{
    qint64 utteranceId = 0;
    QString path;
    QString reason;
};

struct ExtractFeaturesReport
{
    QString encoderName;
    QString encoderIdentity;
    qint64 encoderId = 0;
    QString device;         // the device it ran on, e.g. "cpu" or "cuda:0"
    QString cacheDirectory; // the cache root used
    int requested = 0;      // utterances asked for
    int extracted = 0;      // utterances computed by this run (same audio is computed once)
    int perturbed = 0;      // speed-perturbed copies computed by this run
    int taptInputs = 0;     // TAPT inputs cached by this run
    int alreadyDone = 0;    // found in the cache (restored to the store if needed)
    QList<ExtractionProblem> failed;
    double audioSeconds = 0;  // audio this run encoded
    double encodeSeconds = 0; // time inside the encoder
    double seconds = 0;       // the whole job
    int batches = 0;
    int memoryRetries = 0; // batches split because the device ran out of memory
    qint64 cacheBytes = 0; // the encoder's cache size on disk afterwards
    bool cancelled = false;
};

class ExtractFeaturesJob final : public Job
{
public:
    explicit ExtractFeaturesJob(ExtractFeaturesRequest request) : m_request(std::move(request)) {}

    QString name() const override;
    JobResult run(ProgressSink &progress) override;
    QString cancelEffect() const override
    {
        return QStringLiteral("Stop after the current batch; what is done stays, and the next "
                              "run goes on from there");
    }
    const ExtractFeaturesRequest &request() const { return m_request; }
    const ExtractFeaturesReport &report() const { return m_report; }

    // The work itself, for callers that need no Job (tests, benchmarks). Fails when the workspace
    // or the encoder cannot be opened, or the store cannot be written; bad clips are not failures
    // (see report->failed). A cancelled run returns success with report->cancelled set; what it
    // finished stays stored.
    static Status extract(const ExtractFeaturesRequest &request, ProgressSink &progress,
                          ExtractFeaturesReport *report);
    // One audio file outside any workspace (emolens-cli predict --in): its features as extract()
    // computes them, stored under cacheRoot for the encoder encoderSpec (on the CPU); refused
    // when that encoder's identity is no longer expectedIdentity. Sets *contentHash, the key.
    static Status extractFile(const QString &audioPath, const QString &encoderSpec,
                              const QString &expectedIdentity, bool acousticCurves,
                              const QString &cacheRoot, QString *contentHash);

private:
    ExtractFeaturesRequest m_request;
    ExtractFeaturesReport m_report;
};

} // namespace emolens
