#pragma once
// ClipAudio: one decoded clip ready to draw: mono 16 kHz samples, their peak pyramid and the
// log-mel spectrogram rendered to an image (one column per 10 ms frame, low bands at the
// bottom). Built on any thread, then shared read-only with the views (shared_ptr<const>), so
// nothing is copied when the GUI takes it over. A long clip is built in two steps, so its
// waveform shows as soon as it is decoded: loadClipWaveform(), then renderClipSpectrogram(),
// whose result the view receives separately (ClipSpectrogram).

#include "audio/AcousticCurves.h"
#include "audio/PeakPyramid.h"
#include "common/Progress.h"
#include "common/Status.h"

#include <QImage>
#include <QString>
#include <memory>
#include <vector>

namespace emolens {

struct ClipSpectrogram
{
    QImage image; // width = frames, height = mel bands; null when the clip is too short
    double hopSeconds = 0.010;
    double topHz = 8000;
};

struct ClipAudio
{
    static constexpr int kSampleRate = 16000;

    QString path;
    std::vector<float> samples;
    int sampleRate = kSampleRate;
    PeakPyramid peaks;
    std::shared_ptr<const ClipSpectrogram> spectrogram; // null until rendered
    std::shared_ptr<const AcousticCurves> curves;       // null until computed

    double durationSeconds() const
    {
        return sampleRate > 0 ? double(samples.size()) / sampleRate : 0;
    }
};

// Decodes `path` to mono 16 kHz and builds the peak pyramid (no spectrogram). Reentrant.
Status loadClipWaveform(const QString &path, ClipAudio *clip, ProgressSink &progress);
// Renders the spectrogram image of a decoded clip. Reentrant; reads clip only.
Status renderClipSpectrogram(const ClipAudio &clip, ClipSpectrogram *spectrogram,
                             ProgressSink &progress);
// Computes the pitch and energy curves of a decoded clip (default AcousticCurveOptions).
// Reentrant; reads clip only. A cancelled run fails (see computeAcousticCurves).
Status computeClipCurves(const ClipAudio &clip, AcousticCurves *curves, ProgressSink &progress);
// Both steps (the second: spectrogram and curves). Checks progress.isCancelled() between the steps;
// a cancelled load returns success with *clip left incomplete (the caller throws it away).
Status loadClipAudio(const QString &path, ClipAudio *clip, ProgressSink &progress);

} // namespace emolens
