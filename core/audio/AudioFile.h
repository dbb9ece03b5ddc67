#pragma once
// Reading audio files: probing (header + validity + content hash, fast, no full decode
// beyond what validation needs) and decoding to mono float at a target rate.
// All functions are reentrant and may be called from any thread.

#include "common/Status.h"

#include <QString>
#include <vector>

namespace emolens {

struct AudioInfo
{
    int sampleRate = 0;
    int channels = 0;
    qint64 frames = 0;
    double durationSeconds = 0;
    QString formatName; // e.g. "WAV PCM 16", "FLAC PCM 24"
};

struct AudioProbe
{
    AudioInfo info;
    QString contentHash; // hex digest of the file bytes (XXH3-128)
    qint64 fileSizeBytes = 0;
};

// Opens the file with libsndfile, rejects what is not usable audio (unreadable, not audio,
// empty, truncated), and hashes its bytes. On failure the Status says why, in words a user
// understands (the caller adds the path).
Status probeAudioFile(const QString &path, AudioProbe *probe);

// Hex XXH3-128 digest of a file's bytes.
Status hashFile(const QString &path, QString *hexDigest);

// Decodes the whole file, averages channels to mono and resamples to targetSampleRate with
// libsoxr (high quality). 0 keeps the file's own rate.
Status decodeMono(const QString &path, std::vector<float> *samples, int targetSampleRate = 16000,
                  AudioInfo *originalInfo = nullptr);

// Speed perturbation (seed 003's training augmentation, as Kaldi's): the signal played `rate`
// times as fast, tempo and pitch together - resampled from sampleRate x rate to sampleRate with
// libsoxr, so the result has about samples / rate samples. rate 1 copies. Fails for a rate
// outside (0, 4].
Status speedPerturb(const std::vector<float> &samples, int sampleRate, double rate,
                    std::vector<float> *out);

// The feature cache's key for a clip's copy at a speed-perturbation rate: the audio's content
// hash with the rate appended ("<hash>-speed0.8"); rate 1 is the hash itself.
QString speedKey(const QString &contentHash, double rate);

} // namespace emolens
