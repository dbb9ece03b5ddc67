#pragma once
// PeakPyramid: min/max per block of samples at several block sizes, so a waveform of any
// length draws in time proportional to the pixels, not the samples. Level 0 has one
// min/max pair per kBaseBlock samples; each next level merges kFanOut blocks.
// Cached on disk next to nothing the user owns: under a cache directory, keyed by the
// audio content hash. Immutable after build; safe to read from any thread.

#include "common/Status.h"

#include <QString>
#include <vector>

namespace emolens {

class PeakPyramid
{
public:
    static constexpr int kBaseBlock = 64;
    static constexpr int kFanOut = 4;

    struct Peak
    {
        float minimum = 0;
        float maximum = 0;
    };

    PeakPyramid() = default;
    static PeakPyramid build(const std::vector<float> &samples, int sampleRate);

    // One min/max per pixel for samples [startSample, endSample), using the coarsest level
    // whose blocks are no wider than a pixel, and the raw samples when zoomed in further.
    // `samples` must be the same samples the pyramid was built from (may be empty when
    // every pixel covers at least one base block).
    std::vector<Peak> peaks(const std::vector<float> &samples, qint64 startSample,
                            qint64 endSample, int pixelCount) const;

    qint64 sampleCount() const { return m_sampleCount; }
    int sampleRate() const { return m_sampleRate; }
    int levelCount() const { return int(m_levels.size()); }

    Status save(const QString &filePath) const;
    static Status load(const QString &filePath, PeakPyramid *pyramid);

private:
    qint64 m_sampleCount = 0;
    int m_sampleRate = 0;
    std::vector<std::vector<Peak>> m_levels;
};

} // namespace emolens
