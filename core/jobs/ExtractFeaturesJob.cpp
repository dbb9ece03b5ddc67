#include "jobs/ExtractFeaturesJob.h"

#include "audio/AcousticCurves.h"
#include "audio/AudioFile.h"
#include "common/WorkspaceLocation.h"
#include "features/EncoderCatalog.h"
#include "features/FeatureCache.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/FeatureRepository.h"

#include "OutOfMemory.h"
#include "SpeechEncoder.h"

#include <ATen/ATen.h>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QHash>
#include <QSet>
#include <algorithm>
#include <c10/core/InferenceMode.h>

namespace emolens {

namespace {

constexpr int kMaxClipsPerBatch = 64;

struct Clip
{
    qint64 utteranceId = 0;
    QString path;
    QString contentHash;
    double durationSeconds = 0;
    // Utterances with the same audio (same content hash) share one computation.
    QList<qint64> sameAudio;
    // A speed-perturbed copy (ExtractFeaturesRequest::speedRates) when not 1: its samples are
    // perturbed after decoding and it is cached under speedKey(contentHash, rate) alone.
    double rate = 1;
    // Its features are cached already and it runs for its TAPT input alone.
    bool taptInputOnly = false;
    // Its TAPT input (ExtractFeaturesRequest::taptInputs) is to be cached too.
    bool taptInput = false;
};

struct DecodedClip
{
    const Clip *clip = nullptr;
    std::vector<float> samples;
};

// Runs the encoder, splitting the batch in halves while the device runs out of memory.
// Each finished sub-batch goes to `consume`; clips that do not fit alone go to `tooBig`.
class BatchRunner
{
public:
    BatchRunner(const SpeechEncoder &encoder, ExtractFeaturesReport &report)
        : m_encoder(encoder), m_report(report)
    {
    }

    template <typename Consume, typename TooBig>
    Status run(const std::vector<DecodedClip *> &clips, Consume &&consume, TooBig &&tooBig)
    {
        std::int64_t longest = 0;
        std::vector<std::int64_t> lengths;
        for (const DecodedClip *c : clips) {
            lengths.push_back(std::int64_t(c->samples.size()));
            longest = std::max(longest, lengths.back());
        }
        HiddenStates states;
        ModelStatus st;
        try {
            at::Tensor waveforms = at::zeros({std::int64_t(clips.size()), longest}, at::kFloat);
            for (std::size_t i = 0; i < clips.size(); ++i)
                waveforms[std::int64_t(i)]
                    .narrow(0, 0, lengths[i])
                    .copy_(at::from_blob(clips[i]->samples.data(), {lengths[i]}, at::kFloat));
            QElapsedTimer clock;
            clock.start();
            st = m_encoder.encode(waveforms, lengths, states);
            m_report.encodeSeconds += clock.elapsed() / 1000.0;
        } catch (...) {
            st = statusFromCurrentException(std::string());
        }
        if (st) {
            // Exceptions from here on (the float16 conversion, the cache write) are not retried
            // with a smaller batch: they reach the job's exception barrier, and the batches
            // committed before stay stored.
            consume(clips, states);
            return Status::success();
        }
        // Told by type (OutOfMemory.h), not by the message.
        if (!st.isOutOfMemory())
            return Status::failure(QString::fromStdString(st.error()));
        states = HiddenStates();
        if (clips.size() == 1) {
            tooBig(clips.front());
            return Status::success();
        }
        ++m_report.memoryRetries;
        m_shrunk = true;
        const auto middle = clips.begin() + std::ptrdiff_t(clips.size() / 2);
        if (auto s = run(std::vector<DecodedClip *>(clips.begin(), middle), consume, tooBig); !s)
            return s;
        return run(std::vector<DecodedClip *>(middle, clips.end()), consume, tooBig);
    }

    // True once a batch had to be split: the caller makes later batches smaller.
    bool takeShrunk() { return std::exchange(m_shrunk, false); }

private:
    const SpeechEncoder &m_encoder;
    ExtractFeaturesReport &m_report;
    bool m_shrunk = false;
};

QString rateText(double clipsPerSecond, double realTime)
{
    return QStringLiteral("%1 clips/s, %2x real time")
        .arg(clipsPerSecond, 0, 'f', clipsPerSecond < 10 ? 1 : 0)
        .arg(realTime, 0, 'f', realTime < 10 ? 1 : 0);
}

// One clip's features as the cache stores them: every layer as float16, each layer's mean
// and, when asked, the clip's F0, voicing and energy curves (about 1 ms per audio second next
// to the encoder). layers: [layers, frames, hidden] on any device. *mean: the means, float32.
Status storeClip(const FeatureCache &cache, const QString &identity, const QString &contentHash,
                 const at::Tensor &layers, double framesPerSecond,
                 const std::vector<float> &samples, bool acousticCurves, at::Tensor *mean)
{
    *mean = layers.mean(1).to(at::kCPU, at::kFloat).contiguous();
    const at::Tensor half = layers.to(at::kHalf).to(at::kCPU).contiguous();
    FeatureBlock block;
    block.layerCount = int(layers.size(0));
    block.hiddenSize = int(layers.size(2));
    block.frameCount = layers.size(1);
    block.framesPerSecond = framesPerSecond;
    block.hiddenStatesF16 = reinterpret_cast<const std::uint16_t *>(half.data_ptr());
    block.embedding = mean->data_ptr<float>();
    AcousticCurves curves;
    if (acousticCurves) {
        // Stored with the features so training and analysis read them from the same place.
        SilentProgress quiet;
        if (computeAcousticCurves(samples.data(), qint64(samples.size()),
                                  SpeechEncoder::kSampleRate, AcousticCurveOptions(), &curves,
                                  quiet)) {
            block.curveFrameCount = curves.frameCount();
            block.curveFramesPerSecond = curves.framesPerSecond;
            block.f0Hz = curves.f0Hz.data();
            block.voicing = curves.voicing.data();
            block.energyDb = curves.energyDb.data();
        }
    }
    return cache.store(identity, contentHash, block);
}

} // namespace

QString ExtractFeaturesJob::name() const
{
    const QString encoder = m_request.encoder == QStringLiteral("fbank")
                                ? m_request.encoder
                                : QFileInfo(m_request.encoder).fileName();
    return QStringLiteral("Extract features with %1").arg(encoder);
}

JobResult ExtractFeaturesJob::run(ProgressSink &progress)
{
    const Status st = extract(m_request, progress, &m_report);
    if (!st)
        return JobResult::failed(st.error());
    const ExtractFeaturesReport &r = m_report;
    // Counts of utterances throughout (clips that share their audio are computed once but
    // counted each), and "have features" means stored and in the cache now.
    const int haveFeatures = r.alreadyDone + r.extracted;
    JobResult result;
    if (r.cancelled) {
        result = JobResult::stopped(
            QStringLiteral("Extraction with %1 stopped: %2 of %3 clips have features (%4 by this "
                           "run); running it again continues")
                .arg(r.encoderName)
                .arg(haveFeatures)
                .arg(r.requested)
                .arg(r.extracted));
    } else if (r.extracted == 0 && r.failed.isEmpty()) {
        result = JobResult::succeeded(
            QStringLiteral("Nothing to extract: all %1 clips already have %2 features")
                .arg(r.requested)
                .arg(r.encoderName));
    } else {
        // Real time over the whole job (decoding and writing included): what the user waited.
        const double speed = r.seconds > 0 ? r.audioSeconds / r.seconds : 0;
        QString text = QStringLiteral("Extracted %1 clips with %2 on %3 (%4 s of audio, %5x real "
                                      "time); ")
                           .arg(r.extracted)
                           .arg(r.encoderName, r.device)
                           .arg(qRound(r.audioSeconds))
                           .arg(speed, 0, 'f', speed < 10 ? 1 : 0);
        if (r.alreadyDone > 0)
            text += QStringLiteral("%1 already done, ").arg(r.alreadyDone);
        text += QStringLiteral("%1 failed").arg(r.failed.size());
        result = JobResult::succeeded(text);
    }
    for (const ExtractionProblem &p : r.failed)
        result.details << QStringLiteral("Failed: %1: %2").arg(p.path, p.reason);
    if (r.memoryRetries > 0)
        result.details
            << QStringLiteral("%1 batches were split because memory ran out").arg(r.memoryRetries);
    return result;
}

Status ExtractFeaturesJob::extract(const ExtractFeaturesRequest &request, ProgressSink &progress,
                                   ExtractFeaturesReport *report)
{
    *report = ExtractFeaturesReport();
    guardCpuAllocations(); // idempotent; running out of memory is then told by type
    QElapsedTimer jobClock;
    jobClock.start();

    if (WorkspaceLocation::isMissingFile(request.databasePath))
        return Status::failure(
            QStringLiteral("%1: no such workspace file").arg(request.databasePath));
    Database db(request.databasePath);
    if (auto st = db.open(); !st)
        return Status::failure(QStringLiteral("%1: %2").arg(request.databasePath, st.error()));

    QString device;
    if (auto st = EncoderCatalog::resolveDevice(request.device, &device); !st)
        return st;
    progress.setProgress(0,
                         QStringLiteral("Loading encoder %1 on %2").arg(request.encoder, device));
    std::unique_ptr<SpeechEncoder> encoder;
    EncoderDescription described;
    if (request.taptInputs &&
        (request.encoder.isEmpty() || request.encoder == QLatin1String("fbank")))
        return Status::failure(QStringLiteral(
            "TAPT inputs are the projected CNN features of a wav2vec 2.0, HuBERT or WavLM "
            "encoder; fbank has none (TAPT proper adapts an encoder's Transformer)"));
    if (auto st =
            EncoderCatalog::loadEncoder(request.encoder, device, request.threadCount, &encoder,
                                        &described, request.taptInputs, request.precision);
        !st)
        return st;
    report->encoderName = described.name;
    report->encoderIdentity = described.identity;
    report->device = device;

    FeatureRepository features(db);
    EncoderRecord record = described.toRecord();
    if (auto st = features.addEncoder(&record); !st)
        return Status::failure(QStringLiteral("%1: %2").arg(request.databasePath, st.error()));
    report->encoderId = record.id;

    const FeatureCache cache(request.cacheDirectory.isEmpty()
                                 ? FeatureCache::defaultRootFor(request.databasePath)
                                 : request.cacheDirectory);
    report->cacheDirectory = cache.rootDirectory();

    // What to do: the requested utterances, minus those already stored and cached.
    CorpusRepository corpora(db);
    const QSet<qint64> wanted(request.utteranceIds.begin(), request.utteranceIds.end());
    const QSet<qint64> stored = features.utterancesWithEmbedding(record.id);
    QList<UtteranceEmbedding> restored;
    QHash<QString, Clip> byHash;
    QList<QString> order;
    QList<UtteranceRecord> utterances;
    if (auto st = corpora.utterances(0, &utterances); !st)
        return Status::failure(QStringLiteral("%1: %2").arg(request.databasePath, st.error()));
    std::vector<Clip> copies; // speed-perturbed copies and TAPT inputs not cached yet
    QSet<QString> copied;
    QSet<QString> inputs; // content hashes whose TAPT input is to be cached
    for (const UtteranceRecord &u : std::as_const(utterances)) {
        if (!wanted.isEmpty() && !wanted.contains(u.id))
            continue;
        ++report->requested;
        for (const double rate : request.speedRates) {
            const QString key = speedKey(u.contentHash, rate);
            if (rate == 1 || copied.contains(key) || cache.contains(described.identity, key))
                continue;
            copied.insert(key);
            Clip copy;
            copy.utteranceId = u.id;
            copy.path = u.path;
            copy.contentHash = u.contentHash;
            copy.durationSeconds = u.durationSeconds / rate;
            copy.rate = rate;
            copies.push_back(copy);
        }
        const bool cached = cache.contains(described.identity, u.contentHash);
        const bool needsInput = request.taptInputs && !inputs.contains(u.contentHash) &&
                                !cache.contains(described.identity, taptInputKey(u.contentHash));
        if (needsInput)
            inputs.insert(u.contentHash);
        if (cached && needsInput) { // features there: run again for the TAPT input alone
            Clip input;
            input.utteranceId = u.id;
            input.path = u.path;
            input.contentHash = u.contentHash;
            input.durationSeconds = u.durationSeconds;
            input.taptInputOnly = input.taptInput = true;
            copies.push_back(input);
        }
        if (cached && stored.contains(u.id)) {
            ++report->alreadyDone;
            continue;
        }
        if (cached) { // killed between the cache write and the commit: take it from the file
            std::unique_ptr<CachedFeatures> file;
            if (cache.open(described.identity, u.contentHash, &file)) {
                restored.append({u.id, u.contentHash, file->frameCount(), file->embedding()});
                ++report->alreadyDone;
                continue;
            }
        }
        auto it = byHash.find(u.contentHash);
        if (it == byHash.end()) {
            Clip clip;
            clip.utteranceId = u.id;
            clip.path = u.path;
            clip.contentHash = u.contentHash;
            clip.durationSeconds = u.durationSeconds;
            clip.taptInput = needsInput;
            it = byHash.insert(u.contentHash, clip);
            order.append(u.contentHash);
        }
        it->sameAudio.append(u.id);
    }
    if (!restored.isEmpty())
        if (auto st = features.storeEmbeddings(record.id, restored); !st)
            return Status::failure(QStringLiteral("%1: %2").arg(request.databasePath, st.error()));

    std::vector<Clip> todo;
    todo.reserve(std::size_t(order.size()));
    double totalSeconds = 0;
    for (const QString &hash : order) {
        todo.push_back(byHash.value(hash));
        totalSeconds += todo.back().durationSeconds;
    }
    for (const Clip &copy : copies) {
        todo.push_back(copy);
        totalSeconds += copy.durationSeconds;
    }
    // Longest first: the biggest batch meets the device first, so running out of memory shows
    // at once, and the ETA errs on the safe side.
    std::stable_sort(todo.begin(), todo.end(), [](const Clip &a, const Clip &b) {
        return a.durationSeconds > b.durationSeconds;
    });

    c10::InferenceMode inferenceMode;
    BatchRunner runner(*encoder, *report);
    double batchSeconds = std::max(1.0, request.batchSeconds);
    double doneSeconds = 0;
    int doneClips = 0;
    std::size_t next = 0;
    const QString what =
        QStringLiteral("Extracting features with %1 on %2").arg(described.name, device);
    // Clips, as the summary counts them: utterances that share their audio are computed once
    // but counted each.
    int clipsToDo = 0;
    for (const Clip &clip : todo)
        clipsToDo += clip.rate == 1 && !clip.taptInputOnly ? int(clip.sameAudio.size()) : 1;
    progress.setProgress(0, QStringLiteral("%1: %2 clips to do, %3 already cached")
                                .arg(what)
                                .arg(clipsToDo)
                                .arg(report->alreadyDone));

    while (next < todo.size()) {
        if (progress.isCancelled()) {
            report->cancelled = true;
            break;
        }
        // Length bucketing: clips are sorted longest first, so the first one sets the padded
        // length, and the batch grows while clips x that length fits.
        const double longest = std::max(todo[next].durationSeconds, 1e-3);
        std::size_t end = next + 1;
        while (end < todo.size() && int(end - next) < kMaxClipsPerBatch &&
               double(end - next + 1) * longest <= batchSeconds)
            ++end;

        std::vector<DecodedClip> decoded;
        decoded.reserve(end - next);
        for (std::size_t i = next; i < end; ++i) {
            if (progress.isCancelled())
                break;
            DecodedClip d;
            d.clip = &todo[i];
            Status st = decodeMono(todo[i].path, &d.samples, SpeechEncoder::kSampleRate);
            if (st && todo[i].rate != 1) {
                std::vector<float> original;
                original.swap(d.samples);
                st = speedPerturb(original, SpeechEncoder::kSampleRate, todo[i].rate, &d.samples);
            }
            if (!st) {
                report->failed.append({todo[i].utteranceId, todo[i].path, st.error()});
                continue;
            }
            if (encoder->frameCount(std::int64_t(d.samples.size())) < 1) {
                report->failed.append(
                    {todo[i].utteranceId, todo[i].path,
                     QStringLiteral("too short for %1 (%2 ms of audio)")
                         .arg(described.name)
                         .arg(qRound(1000.0 * d.samples.size() / SpeechEncoder::kSampleRate))});
                continue;
            }
            decoded.push_back(std::move(d));
        }
        if (progress.isCancelled()) {
            report->cancelled = true;
            break;
        }

        QList<UtteranceEmbedding> embeddings;
        Status storeStatus;
        const auto consume = [&](const std::vector<DecodedClip *> &clips,
                                 const HiddenStates &states) {
            for (std::size_t i = 0; i < clips.size() && storeStatus; ++i) {
                const Clip &clip = *clips[i]->clip;
                const std::int64_t frames = states.frameLengths[i];
                at::Tensor mean;
                if (clip.taptInput) {
                    if (!states.projection.defined()) {
                        storeStatus = Status::failure(
                            QStringLiteral("%1 gives no projected CNN features (TAPT inputs)")
                                .arg(described.name));
                        break;
                    }
                    storeStatus =
                        storeClip(cache, described.identity, taptInputKey(clip.contentHash),
                                  states.projection.select(0, std::int64_t(i))
                                      .narrow(0, 0, frames)
                                      .unsqueeze(0),
                                  encoder->framesPerSecond(), clips[i]->samples, false, &mean);
                    if (!storeStatus)
                        break;
                    ++report->taptInputs;
                    if (clip.taptInputOnly) {
                        report->audioSeconds +=
                            double(clips[i]->samples.size()) / SpeechEncoder::kSampleRate;
                        continue;
                    }
                }
                const at::Tensor layers =
                    states.layers.select(1, std::int64_t(i)).narrow(1, 0, frames);
                storeStatus = storeClip(
                    cache, described.identity, speedKey(clip.contentHash, clip.rate), layers,
                    encoder->framesPerSecond(), clips[i]->samples, request.acousticCurves, &mean);
                if (!storeStatus)
                    break;
                if (clip.rate != 1) { // a training copy: the cache only
                    ++report->perturbed;
                    report->audioSeconds +=
                        double(clips[i]->samples.size()) / SpeechEncoder::kSampleRate;
                    continue;
                }
                const float *values = mean.data_ptr<float>();
                for (qint64 id : clip.sameAudio)
                    embeddings.append({id, clip.contentHash, frames,
                                       std::vector<float>(values, values + mean.numel())});
                report->extracted += int(clip.sameAudio.size()); // utterances, like requested
                report->audioSeconds +=
                    double(clips[i]->samples.size()) / SpeechEncoder::kSampleRate;
            }
        };
        const auto tooBig = [&](const DecodedClip *d) {
            report->failed.append(
                {d->clip->utteranceId, d->clip->path,
                 QStringLiteral("%1 ran out of memory on %2 even for this clip alone (%3 s)")
                     .arg(described.name, device)
                     .arg(d->clip->durationSeconds, 0, 'f', 1)});
        };
        std::vector<DecodedClip *> batch;
        for (DecodedClip &d : decoded)
            batch.push_back(&d);
        if (!batch.empty()) {
            ++report->batches;
            if (auto st = runner.run(batch, consume, tooBig); !st)
                return Status::failure(
                    QStringLiteral("%1 failed on %2: %3")
                        .arg(described.name, batch.front()->clip->path, st.error()));
            if (runner.takeShrunk())
                batchSeconds = std::max(1.0, batchSeconds / 2);
        }
        if (!storeStatus)
            return storeStatus;
        if (auto st = features.storeEmbeddings(record.id, embeddings); !st)
            return Status::failure(QStringLiteral("%1: %2").arg(request.databasePath, st.error()));

        for (std::size_t i = next; i < end; ++i) {
            doneSeconds += todo[i].durationSeconds;
            doneClips +=
                todo[i].rate == 1 && !todo[i].taptInputOnly ? int(todo[i].sameAudio.size()) : 1;
        }
        next = end;
        const double elapsed = std::max(1e-3, jobClock.elapsed() / 1000.0);
        progress.setProgress(totalSeconds > 0 ? doneSeconds / totalSeconds : 1.0,
                             QStringLiteral("%1: %2 of %3 clips (%4)")
                                 .arg(what)
                                 .arg(doneClips)
                                 .arg(clipsToDo)
                                 .arg(rateText(doneClips / elapsed, doneSeconds / elapsed)));
    }

    report->cacheBytes = cache.bytesOnDisk(described.identity);
    report->seconds = jobClock.elapsed() / 1000.0;
    if (!report->cancelled)
        progress.setProgress(1.0, QStringLiteral("%1: done").arg(what));
    return Status::success();
}

Status ExtractFeaturesJob::extractFile(const QString &audioPath, const QString &encoderSpec,
                                       const QString &expectedIdentity, bool acousticCurves,
                                       const QString &cacheRoot, QString *contentHash)
{
    AudioProbe probe;
    if (auto st = probeAudioFile(audioPath, &probe); !st)
        return Status::failure(QStringLiteral("%1: %2").arg(audioPath, st.error()));
    std::vector<float> samples;
    if (auto st = decodeMono(audioPath, &samples, SpeechEncoder::kSampleRate); !st)
        return Status::failure(QStringLiteral("%1: %2").arg(audioPath, st.error()));
    std::unique_ptr<SpeechEncoder> encoder;
    // In the precision the model's features were computed in.
    if (auto st = EncoderCatalog::loadEncoder(
            encoderSpec, QStringLiteral("cpu"), 0, &encoder, nullptr, false,
            EncoderCatalog::precisionOfIdentity(expectedIdentity));
        !st)
        return st;
    if (QString::fromStdString(encoder->identity()) != expectedIdentity)
        return Status::failure(
            QStringLiteral("%1 has changed since the model was trained on its features (its "
                           "weights or settings differ): the model cannot read what it gives now")
                .arg(encoderSpec));
    if (encoder->frameCount(std::int64_t(samples.size())) < 1)
        return Status::failure(
            QStringLiteral("%1: too short for %2 (%3 ms of audio)")
                .arg(audioPath, encoderSpec)
                .arg(qRound(1000.0 * double(samples.size()) / SpeechEncoder::kSampleRate)));
    try {
        c10::InferenceMode inference;
        const at::Tensor waveform =
            at::from_blob(samples.data(), {1, std::int64_t(samples.size())}, at::kFloat);
        HiddenStates states;
        if (ModelStatus st = encoder->encode(waveform, {}, states); !st)
            return Status::failure(
                QStringLiteral("%1: %2").arg(audioPath, QString::fromStdString(st.error())));
        const std::int64_t frames = states.frameLengths.at(0);
        at::Tensor mean;
        if (auto st = storeClip(FeatureCache(cacheRoot), expectedIdentity, probe.contentHash,
                                states.layers.select(1, 0).narrow(1, 0, frames),
                                encoder->framesPerSecond(), samples, acousticCurves, &mean);
            !st)
            return st;
    } catch (const std::exception &e) {
        return Status::failure(
            QStringLiteral("%1: %2").arg(audioPath, QString::fromUtf8(e.what())));
    }
    *contentHash = probe.contentHash;
    return Status::success();
}

} // namespace emolens
