#include "audio/LogMelSpectrogram.h"

#include "audio/Fft.h"

#include <algorithm>
#include <cmath>

namespace emolens {

namespace {

constexpr double kPi = 3.14159265358979323846;

double hzToMel(double hz)
{
    return 2595.0 * std::log10(1.0 + hz / 700.0);
}

double melToHz(double mel)
{
    return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
}

// melCount + 2 edge frequencies: band m rises from edge m, peaks at m + 1, falls to m + 2.
std::vector<double> melEdgesHz(int sampleRate, const LogMelSpectrogram::Options &options)
{
    const double highest =
        options.highestHz > 0 ? std::min(options.highestHz, sampleRate / 2.0) : sampleRate / 2.0;
    const double lowMel = hzToMel(std::max(0.0, options.lowestHz));
    const double highMel = hzToMel(highest);
    std::vector<double> edges(static_cast<size_t>(options.melCount + 2));
    for (size_t i = 0; i < edges.size(); ++i)
        edges[i] = melToHz(lowMel + (highMel - lowMel) * double(i) / (options.melCount + 1));
    return edges;
}

} // namespace

std::vector<double> LogMelSpectrogram::melBandCentresHz(int sampleRate, const Options &options)
{
    const std::vector<double> edges = melEdgesHz(sampleRate, options);
    return std::vector<double>(edges.begin() + 1, edges.end() - 1);
}

LogMelSpectrogram LogMelSpectrogram::compute(const std::vector<float> &samples, int sampleRate,
                                             qint64 startSample, qint64 endSample,
                                             const Options &options)
{
    LogMelSpectrogram result;
    if (sampleRate <= 0 || options.melCount <= 0)
        return result;
    result.melCount = options.melCount;
    result.hopSamples = std::max(1, int(std::lround(options.hopSeconds * sampleRate)));
    result.windowSamples =
        std::clamp(int(std::lround(options.windowSeconds * sampleRate)), 1, kFftSize);
    const qint64 sampleCount = qint64(samples.size());
    if (endSample < 0 || endSample > sampleCount)
        endSample = sampleCount;
    startSample = std::clamp<qint64>(startSample, 0, endSample);
    const qint64 hop = result.hopSamples;
    result.firstFrame = (startSample + hop - 1) / hop;
    const qint64 endFrame = (endSample + hop - 1) / hop;
    result.frameCount = int(std::max<qint64>(0, endFrame - result.firstFrame));
    if (result.frameCount == 0)
        return result;

    const int window = result.windowSamples;
    std::vector<double> hann(static_cast<size_t>(window));
    double windowSum = 0;
    for (int i = 0; i < window; ++i) {
        hann[size_t(i)] = 0.5 - 0.5 * std::cos(2 * kPi * i / window);
        windowSum += hann[size_t(i)];
    }
    // A full-scale sine then reads about 0 dB in its band.
    const double powerScale = 4.0 / (windowSum * windowSum);

    constexpr int kBins = kFftSize / 2 + 1;
    const std::vector<double> edges = melEdgesHz(sampleRate, options);
    std::vector<std::vector<double>> weights(size_t(options.melCount),
                                             std::vector<double>(kBins, 0.0));
    for (int m = 0; m < options.melCount; ++m) {
        const double low = edges[size_t(m)];
        const double centre = edges[size_t(m + 1)];
        const double high = edges[size_t(m + 2)];
        for (int k = 0; k < kBins; ++k) {
            const double hz = double(k) * sampleRate / kFftSize;
            double w = 0;
            if (hz > low && hz <= centre)
                w = (hz - low) / (centre - low);
            else if (hz > centre && hz < high)
                w = (high - hz) / (high - centre);
            weights[size_t(m)][size_t(k)] = w;
        }
    }

    // Each triangle covers a few bins: summing only those makes the mel projection about 40
    // times cheaper than the dense product (it dominated a one-hour clip's spectrogram).
    std::vector<int> bandFirst(size_t(options.melCount), 0), bandEnd(size_t(options.melCount), 0);
    for (int m = 0; m < options.melCount; ++m) {
        const std::vector<double> &w = weights[size_t(m)];
        int first = 0, end = kBins;
        while (first < kBins && w[size_t(first)] == 0.0)
            ++first;
        while (end > first && w[size_t(end - 1)] == 0.0)
            --end;
        bandFirst[size_t(m)] = first;
        bandEnd[size_t(m)] = end;
    }

    RealFft fft(kFftSize);
    std::vector<double> frame(kFftSize);
    std::vector<double> power(kBins);
    result.valuesDb.resize(size_t(result.frameCount) * size_t(options.melCount));
    float loudest = -std::numeric_limits<float>::infinity();
    for (int f = 0; f < result.frameCount; ++f) {
        const qint64 first = (result.firstFrame + f) * hop;
        std::fill(frame.begin(), frame.end(), 0.0);
        for (int i = 0; i < window; ++i) {
            const qint64 index = first + i;
            if (index >= sampleCount)
                break;
            frame[size_t(i)] = double(samples[size_t(index)]) * hann[size_t(i)];
        }
        fft.powerSpectrum(frame.data(), power.data());
        float *row = result.valuesDb.data() + size_t(f) * options.melCount;
        for (int m = 0; m < options.melCount; ++m) {
            double energy = 0;
            const std::vector<double> &w = weights[size_t(m)];
            for (int k = bandFirst[size_t(m)]; k < bandEnd[size_t(m)]; ++k)
                energy += w[size_t(k)] * power[size_t(k)];
            row[m] = float(10.0 * std::log10(std::max(energy * powerScale, 1e-12)));
            loudest = std::max(loudest, row[m]);
        }
    }

    const float top = std::isnan(options.topDb) ? loudest : float(options.topDb);
    const float floor = top - float(options.dynamicRangeDb);
    result.minimumDb = std::numeric_limits<float>::infinity();
    result.maximumDb = -std::numeric_limits<float>::infinity();
    for (float &value : result.valuesDb) {
        value = std::clamp(value, floor, top);
        result.minimumDb = std::min(result.minimumDb, value);
        result.maximumDb = std::max(result.maximumDb, value);
    }
    return result;
}

} // namespace emolens
