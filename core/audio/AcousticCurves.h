#pragma once
// AcousticCurves: frame-level pitch (F0 with a voicing decision) and loudness (energy) of a
// mono signal, for drawing under the waveform and for analysis. Frame i is centred on sample
// i * hop (hop = sampleRate / framesPerSecond; 10 ms by default), so frame 0 is centred on
// the first sample and there are ceil(count / hop) frames. Samples outside the signal count
// as silence.
//
// Energy: the RMS of a window of energyWindowSeconds (25 ms) centred on the frame, in dB
// relative to full scale (a full-scale square wave reads 0 dB, a full-scale sine -3 dB),
// never below energyFloorDb (-100 dB); digital silence reads exactly the floor.
//
// F0: YIN (de Cheveigne & Kawahara, 2002). For each frame, over an integration window of
// W = pitchWindowSeconds samples starting about half a window before the frame centre,
//   d(tau)  = sum_{j<W} (x[j] - x[j + tau])^2           the difference function
//   d'(tau) = d(tau) * tau / sum_{k=1..tau} d(k)        its cumulative-mean normalisation
// and the period is the first lag in [sampleRate / maximumF0Hz, sampleRate / minimumF0Hz]
// where d' dips below yinThreshold (followed down to the bottom of that dip), or the lowest
// d' in the range when none does; parabolic interpolation of d around it gives a fractional
// lag, and F0 = sampleRate / lag. d'(lag) is the frame's aperiodicity: near 0 for a periodic
// sound, near 1 for noise. voicing = 1 - aperiodicity (clamped to [0, 1]).
// A frame is voiced when its aperiodicity is at most maximumAperiodicity and its window is
// louder than silenceFloorDb; silent frames are not analysed (voicing 0).
//
// Speed: d(tau) = e(0) + e(tau) - 2 r(tau), where e are sliding sums of squares and r is the
// cross-correlation of the window with the signal after it. r is computed exactly with FFTs:
// the window is cut into blocks of gcd(hop, W) samples; each block's correlation with the
// following blocks comes from one forward FFT of the block and one of the block plus the
// longest lag, and a frame's r is the inverse FFT of the sum of its blocks' cross spectra.
// Each block is shared by W / block frames, so with the defaults (hop 160, W 480 at 16 kHz)
// a frame costs three 512-point real FFTs instead of W x lags = 154,000 multiply-adds.
// A one-hour file (360,000 frames) takes a few seconds on one core.
//
// Post-processing, in this order, each step optional:
//  1. voiced runs shorter than minimumVoicedFrames become unvoiced (clicks, breath);
//  2. octave jumps: a voiced frame whose F0 is about twice or half (within a quarter octave)
//     the median of the voiced frames within octaveContextFrames on either side is halved
//     or doubled (YIN's occasional pick of half or twice the period);
//  3. median smoothing of F0 over medianFrames frames, among voiced frames only, so
//     unvoiced gaps are never bridged.
//
// Thread-safety: computeAcousticCurves() is a pure function of its arguments; call it from
// any thread, several at once included. The result owns its vectors.
//
//   AcousticCurves curves;
//   if (auto st = computeAcousticCurves(samples.data(), qint64(samples.size()), 16000,
//                                       AcousticCurveOptions(), &curves, progress); !st)
//       return st;
//   for (int i = 0; i < curves.frameCount(); ++i)
//       plot(curves.secondsAtFrame(i), curves.f0Hz[i], curves.energyDb[i]);

#include "common/Progress.h"
#include "common/Status.h"

#include <QtGlobal>
#include <vector>

namespace emolens {

struct AcousticCurveOptions
{
    double framesPerSecond = 100; // hop = sampleRate / framesPerSecond samples, rounded
    double minimumF0Hz = 50;
    double maximumF0Hz = 600;
    double pitchWindowSeconds = 0.030; // YIN integration window (one 50 Hz period and more)
    double yinThreshold = 0.15;        // the dip of d' that ends the period search
    double maximumAperiodicity = 0.3;  // voiced when d' at the chosen period is at most this
    double silenceFloorDb = -60;       // windows quieter than this are unvoiced, not analysed
    double energyWindowSeconds = 0.025;
    double energyFloorDb = -100;
    int minimumVoicedFrames = 3;  // shorter voiced runs are dropped; 1 keeps every one
    int octaveContextFrames = 10; // frames on either side for the octave-jump reference; 0: off
    int medianFrames = 5;         // odd; 1: no smoothing
};

struct AcousticCurves
{
    double framesPerSecond = 100;
    std::vector<float> f0Hz;     // 0 where unvoiced
    std::vector<float> voicing;  // 0..1: 1 - aperiodicity; 0 in silence
    std::vector<float> energyDb; // RMS in dBFS, at least the energy floor

    int frameCount() const { return int(energyDb.size()); }
    bool isVoiced(int frame) const { return f0Hz[size_t(frame)] > 0; }
    double secondsAtFrame(int frame) const { return frame / framesPerSecond; }
    // The frame whose centre is nearest to seconds, clamped to the frames there are
    // (-1 when there are none).
    int frameAtSeconds(double seconds) const;
};

// Computes the curves of count mono samples at sampleRate. Polls progress.isCancelled()
// every few thousand frames; a cancelled run returns a failure and leaves *out empty.
// Fails when the sample rate or the options make no sense (e.g. a maximum F0 above a
// quarter of the sample rate). Reentrant.
Status computeAcousticCurves(const float *samples, qint64 count, int sampleRate,
                             const AcousticCurveOptions &options, AcousticCurves *out,
                             ProgressSink &progress);

} // namespace emolens
