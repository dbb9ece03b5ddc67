#pragma once
// FeatureCache: the frame-level features of every extracted clip, on disk, one safetensors file
// per (encoder, audio content), memory-mapped when read.
//
// Layout: <root>/<encoder identity>/<first two hex digits of the content hash>/<hash>.safetensors
// holding
//   hidden_states  F16 [layers, frames, hiddenSize]   every layer, every valid frame
//   embedding      F32 [layers, hiddenSize]           each layer's mean over those frames
//   f0_hz, voicing, energy_db  F32 [curveFrames]      acoustic curves at 100 frames/s (optional)
// and metadata naming the format, the encoder identity, the content hash and the frame rates.
// The key is the encoder identity (it changes with any weight or config change) and the audio's
// content hash, and open() checks both against the file's own metadata, so a changed model or
// a changed recording is never served stale features: it simply misses.
//
// Size: 2 bytes per value, so layers x hiddenSize x framesPerSecond x 2 bytes per audio second:
// fbank (1 x 80 x 50) 8 kB/s; a base model (13 x 768 x 50) 0.96 MB/s, 3.5 GB per audio hour;
// a large model (25 x 1024 x 50) 2.4 MB/s.
//
// Writes go to a temporary file that is renamed into place (SafeTensorsWriter), so a killed
// extraction leaves whole files or none. Threads: a FeatureCache holds only its root path; any
// thread may use its own instance. A CachedFeatures is read-only and may be shared.

#include "common/Status.h"

#include <QSet>
#include <QString>
#include <cstdint>
#include <memory>
#include <vector>

namespace emolens {

class SafeTensorsFile;

// One clip's features as the extraction job hands them over. The pointers must stay valid
// during store().
struct FeatureBlock
{
    int layerCount = 0;
    int hiddenSize = 0;
    std::int64_t frameCount = 0;
    double framesPerSecond = 0;
    const std::uint16_t *hiddenStatesF16 = nullptr; // [layers, frames, hiddenSize], IEEE half
    const float *embedding = nullptr;               // [layers, hiddenSize]
    // Optional acoustic curves (all three, or none), curveFrameCount values each.
    std::int64_t curveFrameCount = 0;
    double curveFramesPerSecond = 100;
    const float *f0Hz = nullptr;
    const float *voicing = nullptr;
    const float *energyDb = nullptr;
};

// A cached clip, memory-mapped. Layer data are float16 in file order.
class CachedFeatures
{
public:
    ~CachedFeatures();
    CachedFeatures(const CachedFeatures &) = delete;
    CachedFeatures &operator=(const CachedFeatures &) = delete;

    int layerCount() const { return m_layerCount; }
    int hiddenSize() const { return m_hiddenSize; }
    std::int64_t frameCount() const { return m_frameCount; }
    double framesPerSecond() const { return m_framesPerSecond; }
    const QString &path() const { return m_path; }

    // One layer as float32, [frames, hiddenSize] row-major.
    std::vector<float> layer(int layer) const;
    // The raw float16 bytes of one layer (in the mapping; valid while this object lives).
    const std::uint16_t *layerHalf(int layer) const;
    std::vector<float> embedding() const; // [layers * hiddenSize]
    bool hasCurves() const { return m_curveFrameCount > 0; }
    std::vector<float> f0Hz() const;
    std::vector<float> voicing() const;
    std::vector<float> energyDb() const;
    double curveFramesPerSecond() const { return m_curveFramesPerSecond; }

private:
    friend class FeatureCache;
    CachedFeatures() = default;
    std::vector<float> curve(const char *name) const;

    std::unique_ptr<SafeTensorsFile> m_file;
    QString m_path;
    int m_layerCount = 0;
    int m_hiddenSize = 0;
    std::int64_t m_frameCount = 0;
    double m_framesPerSecond = 0;
    std::int64_t m_curveFrameCount = 0;
    double m_curveFramesPerSecond = 0;
    const std::uint8_t *m_hidden = nullptr;
};

class FeatureCache
{
public:
    static constexpr const char *kFormat = "emolens-features-1";

    explicit FeatureCache(QString rootDirectory);
    // "<folder>/<name>.features" beside the workspace file "<folder>/<name>.emolens"; for a
    // server workspace, this machine's cache folder (WorkspaceLocation::companionPath).
    static QString defaultRootFor(const QString &workspacePath);

    const QString &rootDirectory() const { return m_root; }
    QString encoderDirectory(const QString &encoderIdentity) const;
    QString filePath(const QString &encoderIdentity, const QString &contentHash) const;

    // True when a valid file for this encoder and audio is there (checked like open()).
    bool contains(const QString &encoderIdentity, const QString &contentHash) const;
    Status store(const QString &encoderIdentity, const QString &contentHash,
                 const FeatureBlock &block) const;
    // Fails, naming the file, when it is missing, damaged, or belongs to other audio or another
    // encoder.
    Status open(const QString &encoderIdentity, const QString &contentHash,
                std::unique_ptr<CachedFeatures> *out) const;
    // Bytes the encoder's files take on disk.
    qint64 bytesOnDisk(const QString &encoderIdentity) const;
    // What the encoder's folder holds, from one walk over it: the bytes, and the content hash
    // (lower case) of each file there. Files are listed, not opened: a damaged file counts
    // until a job opens it (and computes it again).
    struct Contents
    {
        qint64 bytes = 0;
        QSet<QString> contentHashes;
    };
    Contents contents(const QString &encoderIdentity) const;

private:
    QString m_root;
};

// The cache's key for a clip's TAPT input (TAPT proper, seed 002's paper mode): the projected
// CNN features before the positional convolution, [1, frames, hidden], stored like features
// under "<hash>-tapt-input" (ExtractFeaturesRequest::taptInputs).
QString taptInputKey(const QString &contentHash);

} // namespace emolens
