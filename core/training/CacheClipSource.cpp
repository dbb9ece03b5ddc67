#include "training/CacheClipSource.h"

#include "audio/AudioFile.h"
#include "features/Float16.h"

#include <algorithm>
#include <cmath>

namespace emolens {

CacheClipSource::CacheClipSource(const QString &cacheRoot, const QString &encoderIdentity,
                                 int layerCount, int hiddenSize, bool acousticInputs)
    : m_cache(cacheRoot), m_identity(encoderIdentity), m_layerCount(layerCount),
      m_hiddenSize(hiddenSize), m_acoustic(acousticInputs)
{
}

Status CacheClipSource::add(const QString &contentHash, TrainerClip clip)
{
    std::unique_ptr<CachedFeatures> file;
    if (auto st = m_cache.open(m_identity, contentHash, &file); !st)
        return st;
    if (file->layerCount() != m_layerCount || file->hiddenSize() != m_hiddenSize)
        return Status::failure(QStringLiteral("%1: %2 layers x %3, the encoder has %4 x %5")
                                   .arg(file->path())
                                   .arg(file->layerCount())
                                   .arg(file->hiddenSize())
                                   .arg(m_layerCount)
                                   .arg(m_hiddenSize));
    clip.frames = file->frameCount();
    m_clips.push_back(std::move(clip));
    m_hashes.push_back(contentHash);
    return Status::success();
}

const std::uint16_t *CacheClipSource::hiddenHalf(std::size_t i, std::shared_ptr<const void> *keep,
                                                 std::string *error) const
{
    std::unique_ptr<CachedFeatures> file;
    if (auto st = m_cache.open(m_identity, m_hashes[i], &file); !st) {
        *error = st.error().toStdString();
        return nullptr;
    }
    if (file->frameCount() != m_clips[i].frames) {
        *error = QStringLiteral("%1 changed while training (%2 frames, was %3)")
                     .arg(file->path())
                     .arg(file->frameCount())
                     .arg(m_clips[i].frames)
                     .toStdString();
        return nullptr;
    }
    const std::uint16_t *data = file->layerHalf(0);
    *keep = std::shared_ptr<const CachedFeatures>(std::move(file));
    return data;
}

bool CacheClipSource::readClipMeans(std::size_t i, float *layerMeans, float *extraMeans,
                                    std::string *error) const
{
    std::unique_ptr<CachedFeatures> file;
    if (auto st = m_cache.open(m_identity, m_hashes[i], &file); !st) {
        *error = st.error().toStdString();
        return false;
    }
    const std::vector<float> means = file->embedding();
    if (means.size() != std::size_t(m_layerCount) * std::size_t(m_hiddenSize)) {
        *error = QStringLiteral("%1: no per-layer means").arg(file->path()).toStdString();
        return false;
    }
    std::copy(means.begin(), means.end(), layerMeans);
    if (!m_acoustic)
        return true;
    const std::int64_t frames = m_clips[i].frames;
    std::vector<float> extra(std::size_t(frames * kAcousticInputs));
    if (!read(i, nullptr, extra.data(), error))
        return false;
    for (int e = 0; e < kAcousticInputs; ++e) {
        double sum = 0;
        for (std::int64_t t = 0; t < frames; ++t)
            sum += extra[std::size_t(t * kAcousticInputs + e)];
        extraMeans[e] = frames > 0 ? float(sum / double(frames)) : 0.0f;
    }
    return true;
}

bool CacheClipSource::read(std::size_t i, float *hidden, float *extra, std::string *error) const
{
    std::unique_ptr<CachedFeatures> file;
    if (auto st = m_cache.open(m_identity, m_hashes[i], &file); !st) {
        *error = st.error().toStdString();
        return false;
    }
    const std::int64_t frames = m_clips[i].frames;
    if (hidden) {
        const std::size_t perLayer = std::size_t(frames) * std::size_t(m_hiddenSize);
        for (int layer = 0; layer < m_layerCount; ++layer) {
            const std::uint16_t *half = file->layerHalf(layer);
            float *out = hidden + std::size_t(layer) * perLayer;
            for (std::size_t k = 0; k < perLayer; ++k)
                out[k] = halfToFloat(half[k]);
        }
    }
    if (!m_acoustic || !extra)
        return true;
    std::fill(extra, extra + frames * kAcousticInputs, 0.0f);
    if (!file->hasCurves())
        return true; // an older cache file: no curves, zeros (the voicing input says unvoiced)
    const std::vector<float> f0 = file->f0Hz();
    const std::vector<float> voicing = file->voicing();
    const std::vector<float> energy = file->energyDb();
    const double ratio = file->curveFramesPerSecond() / file->framesPerSecond();
    const std::int64_t curveFrames = std::int64_t(f0.size());
    for (std::int64_t t = 0; t < frames; ++t) {
        const std::int64_t from = std::int64_t(std::floor(t * ratio));
        const std::int64_t to =
            std::min(curveFrames, std::max(from + 1, std::int64_t(std::floor((t + 1) * ratio))));
        double logF0 = 0, voiced = 0, level = 0;
        int voicedFrames = 0, count = 0;
        for (std::int64_t c = from; c < to; ++c) {
            voiced += voicing[std::size_t(c)];
            level += energy[std::size_t(c)];
            if (f0[std::size_t(c)] > 0) {
                logF0 += std::log(double(f0[std::size_t(c)]));
                ++voicedFrames;
            }
            ++count;
        }
        if (count == 0)
            continue;
        float *row = extra + t * kAcousticInputs;
        row[0] = voicedFrames > 0 ? float(logF0 / voicedFrames) : 0.0f;
        row[1] = float(voiced / count);
        row[2] = float(level / count);
    }
    return true;
}

std::vector<std::size_t> CacheClipSource::addEach(const QStringList &contentHashes, int *missing,
                                                  const std::function<bool(qsizetype)> &skip)
{
    std::vector<std::size_t> added;
    for (qsizetype i = 0; i < contentHashes.size(); ++i) {
        if (skip && skip(i))
            continue;
        if (!add(contentHashes[i], TrainerClip())) {
            if (missing)
                ++*missing;
            continue;
        }
        added.push_back(std::size_t(i));
    }
    return added;
}

Status CacheClipSource::addSpeedVariants(const QList<double> &rates)
{
    m_variants.clear();
    for (const double rate : rates) {
        auto copies = std::make_unique<CacheClipSource>(m_cache.rootDirectory(), m_identity,
                                                        m_layerCount, m_hiddenSize, m_acoustic);
        for (std::size_t i = 0; i < m_clips.size(); ++i)
            if (auto st = copies->add(speedKey(m_hashes[i], rate), m_clips[i]); !st) {
                m_variants.clear();
                return Status::failure(
                    QStringLiteral("the copy at speed %1 of the audio %2 is not in the feature "
                                   "cache (%3)")
                        .arg(rate)
                        .arg(m_hashes[i], st.error()));
            }
        m_variants.push_back(std::move(copies));
    }
    return Status::success();
}

Status CacheClipSource::taptInputs(std::unique_ptr<CacheClipSource> *out) const
{
    auto inputs = std::make_unique<CacheClipSource>(m_cache.rootDirectory(), m_identity, 1,
                                                    m_hiddenSize, false);
    for (std::size_t i = 0; i < m_clips.size(); ++i)
        if (auto st = inputs->add(taptInputKey(m_hashes[i]), m_clips[i]); !st)
            return Status::failure(
                QStringLiteral("the TAPT input of the audio %1 is not in the feature cache (%2)")
                    .arg(m_hashes[i], st.error()));
    *out = std::move(inputs);
    return Status::success();
}

const ClipFeatureSource *CacheClipSource::variant(int v) const
{
    if (v == 0)
        return this;
    return v >= 1 && v <= int(m_variants.size()) ? m_variants[std::size_t(v - 1)].get() : nullptr;
}

} // namespace emolens
