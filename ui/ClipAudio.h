#pragma once
// ClipAudio: one decoded clip ready to draw: mono 16 kHz samples, their peak pyramid and the
// log-mel spectrogram rendered to an image (one column per 10 ms frame, low bands at the
// bottom). Built by loadClipAudio() on any thread, then shared read-only with the views
// (std::shared_ptr<const ClipAudio>), so nothing is copied when the GUI takes it over.

#include "audio/PeakPyramid.h"
#include "common/Progress.h"
#include "common/Status.h"

#include <QImage>
#include <QString>
#include <vector>

namespace emolens {

struct ClipAudio
{
    static constexpr int kSampleRate = 16000;

    QString path;
    std::vector<float> samples;
    int sampleRate = kSampleRate;
    PeakPyramid peaks;
    QImage spectrogram; // width = frames, height = mel bands
    double spectrogramHopSeconds = 0.010;
    double spectrogramTopHz = 8000;

    double durationSeconds() const
    {
        return sampleRate > 0 ? double(samples.size()) / sampleRate : 0;
    }
};

// Decodes `path` to mono 16 kHz and builds peaks and spectrogram. Reentrant. Checks
// progress.isCancelled() between the steps; a cancelled load returns success with *clip
// left incomplete (the caller throws it away).
Status loadClipAudio(const QString &path, ClipAudio *clip, ProgressSink &progress);

} // namespace emolens
