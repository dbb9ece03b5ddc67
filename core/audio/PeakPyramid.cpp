#include "audio/PeakPyramid.h"

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QtEndian>

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace emolens {

namespace {

// Cache file layout (all little-endian):
//   8 bytes magic "EMLPEAKS", u32 version, u32 base block, u32 fan-out, u32 sample rate,
//   i64 sample count, u32 level count, u32 reserved (0),
//   per level: its peaks as (f32 minimum, f32 maximum) pairs, the count implied by the
//   sample count, then u64 XXH3-64 of every byte before it.
// Sizes are never trusted from the file: they are recomputed from the sample count and the
// file must be exactly that long, so a corrupt file is rejected before anything is indexed.
constexpr char kMagic[8] = {'E', 'M', 'L', 'P', 'E', 'A', 'K', 'S'};
constexpr quint32 kVersion = 1;
constexpr int kHeaderBytes = 8 + 4 * 4 + 8 + 4 + 4;
constexpr qint64 kMaxSampleCount = qint64(1) << 40;

// Peaks per level for a signal of sampleCount samples: level 0 has ceil(n / base) blocks, and
// levels are added until one block covers everything.
std::vector<qint64> levelSizes(qint64 sampleCount)
{
    std::vector<qint64> sizes;
    if (sampleCount <= 0)
        return sizes;
    qint64 count = (sampleCount + PeakPyramid::kBaseBlock - 1) / PeakPyramid::kBaseBlock;
    sizes.push_back(count);
    while (count > 1) {
        count = (count + PeakPyramid::kFanOut - 1) / PeakPyramid::kFanOut;
        sizes.push_back(count);
    }
    return sizes;
}

struct PeakAccumulator
{
    float minimum = std::numeric_limits<float>::infinity();
    float maximum = -std::numeric_limits<float>::infinity();

    void addSample(float value)
    {
        minimum = std::min(minimum, value);
        maximum = std::max(maximum, value);
    }
    void addPeak(const PeakPyramid::Peak &peak)
    {
        minimum = std::min(minimum, peak.minimum);
        maximum = std::max(maximum, peak.maximum);
    }
    PeakPyramid::Peak result() const
    {
        if (minimum > maximum)
            return {};
        return {minimum, maximum};
    }
};

void putU32(QByteArray &out, quint32 value)
{
    const quint32 le = qToLittleEndian(value);
    out.append(reinterpret_cast<const char *>(&le), 4);
}

void putI64(QByteArray &out, qint64 value)
{
    const qint64 le = qToLittleEndian(value);
    out.append(reinterpret_cast<const char *>(&le), 8);
}

void putFloat(QByteArray &out, float value)
{
    quint32 bits;
    std::memcpy(&bits, &value, 4);
    putU32(out, bits);
}

quint32 getU32(const char *p)
{
    return qFromLittleEndian<quint32>(p);
}

float getFloat(const char *p)
{
    const quint32 bits = getU32(p);
    float value;
    std::memcpy(&value, &bits, 4);
    return value;
}

} // namespace

PeakPyramid PeakPyramid::build(const std::vector<float> &samples, int sampleRate)
{
    PeakPyramid pyramid;
    pyramid.m_sampleCount = qint64(samples.size());
    pyramid.m_sampleRate = sampleRate;
    const std::vector<qint64> sizes = levelSizes(pyramid.m_sampleCount);
    if (sizes.empty())
        return pyramid;
    pyramid.m_levels.resize(sizes.size());

    std::vector<Peak> &base = pyramid.m_levels[0];
    base.resize(size_t(sizes[0]));
    for (qint64 block = 0; block < sizes[0]; ++block) {
        const size_t first = size_t(block) * kBaseBlock;
        const size_t last = std::min(samples.size(), first + kBaseBlock);
        const auto [lowest, highest] =
            std::minmax_element(samples.begin() + first, samples.begin() + last);
        base[size_t(block)] = {*lowest, *highest};
    }
    for (size_t level = 1; level < sizes.size(); ++level) {
        const std::vector<Peak> &finer = pyramid.m_levels[level - 1];
        std::vector<Peak> &coarser = pyramid.m_levels[level];
        coarser.resize(size_t(sizes[level]));
        for (size_t i = 0; i < coarser.size(); ++i) {
            PeakAccumulator accumulator;
            const size_t first = i * kFanOut;
            const size_t last = std::min(finer.size(), first + kFanOut);
            for (size_t j = first; j < last; ++j)
                accumulator.addPeak(finer[j]);
            coarser[i] = accumulator.result();
        }
    }
    return pyramid;
}

std::vector<PeakPyramid::Peak> PeakPyramid::peaks(const std::vector<float> &samples,
                                                  qint64 startSample, qint64 endSample,
                                                  int pixelCount) const
{
    if (pixelCount <= 0)
        return {};
    std::vector<Peak> result(static_cast<size_t>(pixelCount));
    startSample = std::clamp<qint64>(startSample, 0, m_sampleCount);
    endSample = std::clamp<qint64>(endSample, startSample, m_sampleCount);
    const qint64 length = endSample - startSample;
    if (length <= 0 || m_levels.empty())
        return result;
    const bool haveSamples = qint64(samples.size()) == m_sampleCount;

    // Min/max of whole blocks [firstBlock, lastBlock) of `level`, climbing to coarser levels
    // wherever the blocks line up, so a pixel costs O(levels * fan-out), not O(samples).
    auto addBlocks = [this](PeakAccumulator &accumulator, size_t level, qint64 firstBlock,
                            qint64 lastBlock) {
        while (firstBlock < lastBlock) {
            const std::vector<Peak> &blocks = m_levels[level];
            if (level + 1 >= m_levels.size() || lastBlock - firstBlock < kFanOut) {
                for (qint64 b = firstBlock; b < lastBlock; ++b)
                    accumulator.addPeak(blocks[size_t(b)]);
                return;
            }
            while (firstBlock < lastBlock && firstBlock % kFanOut != 0)
                accumulator.addPeak(blocks[size_t(firstBlock++)]);
            while (lastBlock > firstBlock && lastBlock % kFanOut != 0)
                accumulator.addPeak(blocks[size_t(--lastBlock)]);
            firstBlock /= kFanOut;
            lastBlock /= kFanOut;
            ++level;
        }
    };
    auto addSamples = [&samples](PeakAccumulator &accumulator, qint64 first, qint64 last) {
        for (qint64 i = first; i < last; ++i)
            accumulator.addSample(samples[size_t(i)]);
    };

    for (int pixel = 0; pixel < pixelCount; ++pixel) {
        const qint64 first = startSample + length * pixel / pixelCount;
        qint64 last = startSample + length * (pixel + 1) / pixelCount;
        // Zoomed in past one sample per pixel: the pixel shows the sample under it.
        last = std::max(last, first + 1);
        PeakAccumulator accumulator;
        if (haveSamples) {
            // Exact: raw samples for the partial blocks at both ends, blocks in between.
            const qint64 firstBlock = (first + kBaseBlock - 1) / kBaseBlock;
            const qint64 lastBlock = last / kBaseBlock;
            if (firstBlock >= lastBlock) {
                addSamples(accumulator, first, last);
            } else {
                addSamples(accumulator, first, firstBlock * kBaseBlock);
                addBlocks(accumulator, 0, firstBlock, lastBlock);
                addSamples(accumulator, lastBlock * kBaseBlock, last);
            }
        } else {
            // Without the samples, widen to the base blocks the pixel touches: never misses a
            // peak, at most one base block too wide on each side.
            addBlocks(accumulator, 0, first / kBaseBlock, (last + kBaseBlock - 1) / kBaseBlock);
        }
        result[size_t(pixel)] = accumulator.result();
    }
    return result;
}

Status PeakPyramid::save(const QString &filePath) const
{
    QByteArray bytes;
    qint64 peakCount = 0;
    for (const std::vector<Peak> &level : m_levels)
        peakCount += qint64(level.size());
    bytes.reserve(int(kHeaderBytes + peakCount * 8 + 8));
    bytes.append(kMagic, sizeof(kMagic));
    putU32(bytes, kVersion);
    putU32(bytes, quint32(kBaseBlock));
    putU32(bytes, quint32(kFanOut));
    putU32(bytes, quint32(m_sampleRate));
    putI64(bytes, m_sampleCount);
    putU32(bytes, quint32(m_levels.size()));
    putU32(bytes, 0);
    for (const std::vector<Peak> &level : m_levels) {
        for (const Peak &peak : level) {
            putFloat(bytes, peak.minimum);
            putFloat(bytes, peak.maximum);
        }
    }
    const quint64 checksum = qToLittleEndian<quint64>(XXH3_64bits(bytes.constData(), bytes.size()));
    bytes.append(reinterpret_cast<const char *>(&checksum), 8);

    QDir().mkpath(QFileInfo(filePath).absolutePath());
    // Written to a temporary file and renamed: a reader never sees half a cache file.
    QSaveFile file(filePath);
    if (!file.open(QIODevice::WriteOnly))
        return Status::failure(QStringLiteral("%1: cannot write the peak cache: %2")
                                   .arg(filePath, file.errorString()));
    if (file.write(bytes) != bytes.size() || !file.commit())
        return Status::failure(QStringLiteral("%1: cannot write the peak cache: %2")
                                   .arg(filePath, file.errorString()));
    return Status::success();
}

Status PeakPyramid::load(const QString &filePath, PeakPyramid *pyramid)
{
    *pyramid = PeakPyramid();
    auto corrupt = [&filePath](const QString &why) {
        return Status::failure(
            QStringLiteral("%1: the peak cache is not usable (%2)").arg(filePath, why));
    };
    QFile file(filePath);
    if (!file.open(QIODevice::ReadOnly))
        return Status::failure(
            QStringLiteral("%1: cannot read the peak cache: %2").arg(filePath, file.errorString()));
    if (file.size() < kHeaderBytes + 8)
        return corrupt(QStringLiteral("too short"));
    const QByteArray bytes = file.readAll();
    const char *p = bytes.constData();
    if (std::memcmp(p, kMagic, sizeof(kMagic)) != 0)
        return corrupt(QStringLiteral("not a peak cache file"));
    if (getU32(p + 8) != kVersion)
        return corrupt(QStringLiteral("version %1, expected %2").arg(getU32(p + 8)).arg(kVersion));
    if (getU32(p + 12) != quint32(kBaseBlock) || getU32(p + 16) != quint32(kFanOut))
        return corrupt(QStringLiteral("built with other block sizes"));
    const quint32 sampleRate = getU32(p + 20);
    const qint64 sampleCount = qFromLittleEndian<qint64>(p + 24);
    const quint32 levelCount = getU32(p + 32);
    if (sampleRate == 0 || sampleRate > 10'000'000)
        return corrupt(QStringLiteral("sample rate %1 Hz").arg(sampleRate));
    if (sampleCount < 0 || sampleCount > kMaxSampleCount)
        return corrupt(QStringLiteral("sample count %1").arg(sampleCount));
    const std::vector<qint64> sizes = levelSizes(sampleCount);
    if (levelCount != sizes.size())
        return corrupt(QStringLiteral("%1 levels for %2 samples, expected %3")
                           .arg(levelCount)
                           .arg(sampleCount)
                           .arg(sizes.size()));
    qint64 peakCount = 0;
    for (qint64 size : sizes)
        peakCount += size;
    const qint64 expectedBytes = kHeaderBytes + peakCount * 8 + 8;
    if (bytes.size() != expectedBytes)
        return corrupt(
            QStringLiteral("%1 bytes, expected %2").arg(bytes.size()).arg(expectedBytes));
    const quint64 storedChecksum = qFromLittleEndian<quint64>(p + expectedBytes - 8);
    if (XXH3_64bits(p, size_t(expectedBytes - 8)) != storedChecksum)
        return corrupt(QStringLiteral("checksum mismatch"));

    PeakPyramid loaded;
    loaded.m_sampleCount = sampleCount;
    loaded.m_sampleRate = int(sampleRate);
    loaded.m_levels.resize(sizes.size());
    const char *cursor = p + kHeaderBytes;
    for (size_t level = 0; level < sizes.size(); ++level) {
        std::vector<Peak> &peaks = loaded.m_levels[level];
        peaks.resize(size_t(sizes[level]));
        for (Peak &peak : peaks) {
            peak.minimum = getFloat(cursor);
            peak.maximum = getFloat(cursor + 4);
            cursor += 8;
            if (!std::isfinite(peak.minimum) || !std::isfinite(peak.maximum) ||
                peak.minimum > peak.maximum)
                return corrupt(QStringLiteral("invalid peak values"));
        }
    }
    *pyramid = std::move(loaded);
    return Status::success();
}

} // namespace emolens
