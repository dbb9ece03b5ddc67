#pragma once
// LogMelSpectrogram: a log-mel spectrogram for DISPLAY (not a model feature: the encoders
// compute their own). Frame f covers samples [f * hopSamples, f * hopSamples + windowSamples),
// Hann-windowed, zero-padded to a 512-point FFT; the power spectrum goes through 80
// triangular mel filters (HTK mel scale) and into dB re full scale.
//
// Thread-safety: compute() is a pure function of its arguments; call it from any thread,
// several threads at once included. The result owns its values; nothing is shared.
//
// Usage (a view drawing only what is visible):
//   const auto spec = LogMelSpectrogram::compute(samples, 16000, firstSample, lastSample);
//   for (int f = 0; f < spec.frameCount; ++f)
//       for (int m = 0; m < spec.melCount; ++m)
//           draw(spec.firstFrame + f, m, spec.valueDb(f, m), spec.minimumDb, spec.maximumDb);

#include <QtGlobal>
#include <limits>
#include <vector>

namespace emolens {

// Settings of LogMelSpectrogram::compute(); the defaults are the display's.
struct LogMelOptions
{
    int melCount = 80;
    double windowSeconds = 0.025; // 400 samples at 16 kHz
    double hopSeconds = 0.010;    // 160 samples at 16 kHz
    double lowestHz = 0;
    double highestHz = 0; // 0: half the sample rate
    double dynamicRangeDb = 80;
    // Values are clamped to [topDb - dynamicRangeDb, topDb]. NaN: topDb is the loudest
    // value computed, so each call fills its own range; pass the whole file's maximum
    // to colour separately computed pieces of one file alike.
    double topDb = std::numeric_limits<double>::quiet_NaN();
};

class LogMelSpectrogram
{
public:
    using Options = LogMelOptions;

    static constexpr int kFftSize = 512;

    qint64 firstFrame = 0; // index of row 0 in the whole signal's frame sequence
    int frameCount = 0;
    int melCount = 0;
    int hopSamples = 0;
    int windowSamples = 0;
    float minimumDb = 0; // over the returned values, after clamping
    float maximumDb = 0;
    std::vector<float> valuesDb; // frameCount x melCount, row-major (one row per frame)

    float valueDb(int frame, int mel) const { return valuesDb[size_t(frame) * melCount + mel]; }

    // Frames whose start lies in [startSample, endSample) (the whole signal when endSample < 0).
    // Samples past the end of the signal count as silence. The window is capped at the FFT
    // size (512 samples: 32 ms at 16 kHz); the display is meant for 16 kHz audio.
    static LogMelSpectrogram compute(const std::vector<float> &samples, int sampleRate,
                                     qint64 startSample = 0, qint64 endSample = -1,
                                     const Options &options = Options());

    // Centre frequency of each mel band for these options, lowest first.
    static std::vector<double> melBandCentresHz(int sampleRate, const Options &options = Options());
};

} // namespace emolens
