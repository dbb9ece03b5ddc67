#include "ClipAudio.h"

#include "audio/AudioFile.h"
#include "audio/LogMelSpectrogram.h"

#include <QColor>
#include <array>
#include <cmath>

namespace emolens {

namespace {

// A perceptually ordered dark-to-bright ramp (black, indigo, magenta, orange, pale yellow),
// so loudness reads the same in colour and in grey.
QRgb rampColour(double t)
{
    static constexpr std::array<std::array<int, 3>, 6> stops = {{
        {0, 0, 4},
        {40, 11, 84},
        {101, 21, 110},
        {159, 42, 99},
        {237, 105, 37},
        {252, 255, 164},
    }};
    t = std::clamp(t, 0.0, 1.0) * (stops.size() - 1);
    const size_t i = std::min(size_t(t), stops.size() - 2);
    const double f = t - double(i);
    auto mix = [&](int c) {
        return int(std::lround(stops[i][c] + (stops[i + 1][c] - stops[i][c]) * f));
    };
    return qRgb(mix(0), mix(1), mix(2));
}

} // namespace

Status loadClipWaveform(const QString &path, ClipAudio *clip, ProgressSink &progress)
{
    progress.setProgress(0, QStringLiteral("Decoding %1").arg(path));
    clip->path = path;
    clip->sampleRate = ClipAudio::kSampleRate;
    if (auto st = decodeMono(path, &clip->samples, ClipAudio::kSampleRate); !st)
        return Status::failure(QStringLiteral("%1: %2").arg(path, st.error()));
    if (progress.isCancelled())
        return Status::success();
    progress.setProgress(0.9, QStringLiteral("Computing the waveform overview"));
    clip->peaks = PeakPyramid::build(clip->samples, clip->sampleRate);
    progress.setProgress(1.0, QStringLiteral("Waveform ready"));
    return Status::success();
}

Status renderClipSpectrogram(const ClipAudio &clip, ClipSpectrogram *spectrogram,
                             ProgressSink &progress)
{
    progress.setProgress(0, QStringLiteral("Computing the spectrogram"));
    LogMelSpectrogram::Options options;
    const LogMelSpectrogram spec =
        LogMelSpectrogram::compute(clip.samples, clip.sampleRate, 0, -1, options);
    spectrogram->hopSeconds = double(spec.hopSamples) / clip.sampleRate;
    spectrogram->topHz = clip.sampleRate / 2.0;
    if (spec.frameCount <= 0 || spec.melCount <= 0) {
        spectrogram->image = QImage();
        return Status::success();
    }
    if (progress.isCancelled())
        return Status::success();
    QImage image(spec.frameCount, spec.melCount, QImage::Format_RGB32);
    const double range = std::max(1e-3f, spec.maximumDb - spec.minimumDb);
    // Colours precomputed per 1/256 of the range: a long clip has millions of cells.
    std::array<QRgb, 256> lut{};
    for (int i = 0; i < 256; ++i)
        lut[size_t(i)] = rampColour(i / 255.0);
    for (int m = 0; m < spec.melCount; ++m) {
        auto *line = reinterpret_cast<QRgb *>(image.scanLine(spec.melCount - 1 - m));
        for (int f = 0; f < spec.frameCount; ++f) {
            const double t = (spec.valueDb(f, m) - spec.minimumDb) / range;
            line[f] = lut[size_t(std::clamp(int(t * 255.0 + 0.5), 0, 255))];
        }
    }
    spectrogram->image = std::move(image);
    progress.setProgress(1.0, QStringLiteral("Spectrogram ready"));
    return Status::success();
}

Status computeClipCurves(const ClipAudio &clip, AcousticCurves *curves, ProgressSink &progress)
{
    const Status st =
        computeAcousticCurves(clip.samples.data(), qint64(clip.samples.size()), clip.sampleRate,
                              AcousticCurveOptions(), curves, progress);
    if (!st)
        return Status::failure(QStringLiteral("%1: %2").arg(clip.path, st.error()));
    return st;
}

Status loadClipAudio(const QString &path, ClipAudio *clip, ProgressSink &progress)
{
    ScaledProgress decoding(progress, 0.0, 0.6);
    if (auto st = loadClipWaveform(path, clip, decoding); !st)
        return st;
    if (progress.isCancelled())
        return Status::success();
    auto spectrogram = std::make_shared<ClipSpectrogram>();
    ScaledProgress rendering(progress, 0.6, 0.8);
    if (auto st = renderClipSpectrogram(*clip, spectrogram.get(), rendering); !st)
        return st;
    clip->spectrogram = std::move(spectrogram);
    if (progress.isCancelled())
        return Status::success();
    auto curves = std::make_shared<AcousticCurves>();
    ScaledProgress tracking(progress, 0.8, 1.0);
    // A clip without curves is still worth showing and hearing: the curve view then says
    // there is no pitch curve, so a failure here does not fail the load.
    if (computeClipCurves(*clip, curves.get(), tracking))
        clip->curves = std::move(curves);
    return Status::success();
}

} // namespace emolens
