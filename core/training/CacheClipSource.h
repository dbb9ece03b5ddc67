#pragma once
// CacheClipSource: a ClipFeatureSource over the feature cache - the clips' hidden states
// (float16, memory-mapped, handed to the trainer without a copy) and, when acoustic inputs are
// on, three values per encoder frame from the cached curves: log F0 where voiced (0 where
// not), voicing, and energy in dB, each averaged over the curve frames the encoder frame
// covers (the curves run at 100 frames/s, encoders at 50).
//
// Files are opened when read and closed after (a corpus may have more clips than a process has
// file mappings to spare); frame counts are read once, at add().
//
// Threads: fill it on one thread, then read from one thread at a time.

#include "AdapterTrainer.h"
#include "common/Status.h"
#include "features/FeatureCache.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <functional>
#include <memory>
#include <vector>

namespace emolens {

class CacheClipSource final : public ClipFeatureSource
{
public:
    static constexpr int kAcousticInputs = 3;

    CacheClipSource(const QString &cacheRoot, const QString &encoderIdentity, int layerCount,
                    int hiddenSize, bool acousticInputs);

    // Adds a clip (its audio's content hash), checking that its cache file is there and fits
    // the encoder's shape. Fails, naming the file, otherwise (the clip is not added).
    Status add(const QString &contentHash, TrainerClip clip);
    // Adds every clip of contentHashes (each with an empty TrainerClip) but those `skip` names
    // by position; returns the position in contentHashes of each clip added, in the source's
    // order, and counts in *missing (when given) the clips without a fitting cache file.
    std::vector<std::size_t> addEach(const QStringList &contentHashes, int *missing,
                                     const std::function<bool(qsizetype)> &skip = {});

    int layerCount() const override { return m_layerCount; }
    int hiddenSize() const override { return m_hiddenSize; }
    int extraInputs() const override { return m_acoustic ? kAcousticInputs : 0; }
    const std::vector<TrainerClip> &clips() const override { return m_clips; }
    bool read(std::size_t i, float *hidden, float *extra, std::string *error) const override;
    const std::uint16_t *hiddenHalf(std::size_t i, std::shared_ptr<const void> *keep,
                                    std::string *error) const override;
    // The cache file's per-layer means (stored at extraction) and the extra inputs' means.
    bool readClipMeans(std::size_t i, float *layerMeans, float *extraMeans,
                       std::string *error) const override;

    // Seed 003's speed perturbation: the clips' copies at these rates (cached by the extraction
    // under speedKey(hash, rate)) as variants 1, 2, ... of this source, the same clips in the
    // same order. Fails, naming the first clip whose copy is not in the cache.
    Status addSpeedVariants(const QList<double> &rates);
    int variantCount() const override { return 1 + int(m_variants.size()); }

    // TAPT proper (seed 002's paper mode): the same clips' TAPT inputs (the projected CNN
    // features the extraction cached under taptInputKey(hash)) as a source of one layer, the
    // same clips in the same order. Fails, naming the first clip whose input is not cached.
    Status taptInputs(std::unique_ptr<CacheClipSource> *out) const;
    const ClipFeatureSource *variant(int v) const override;

private:
    FeatureCache m_cache;
    QString m_identity;
    int m_layerCount = 0;
    int m_hiddenSize = 0;
    bool m_acoustic = false;
    std::vector<TrainerClip> m_clips;
    std::vector<QString> m_hashes;
    std::vector<std::unique_ptr<CacheClipSource>> m_variants;
};

} // namespace emolens
