// bench_curves: what the pitch and energy curves of a one-hour recording cost, next to the
// reference: a naive YIN whose difference function sums W x lags products per frame (the
// direct formula), timed on the first minute and extrapolated to the whole signal. Also
// checks on that minute that both give the same F0 (the FFT route is exact, not an
// approximation). Warms up on ten seconds first; prints the machine it ran on.
//
// Usage: bench_curves [MINUTES]   (default 60)

#include "audio/AcousticCurves.h"
#include "common/Progress.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QSysInfo>
#include <QThread>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

using namespace emolens;

namespace {

constexpr int kSampleRate = 16000;

// Speech-like: a harmonic tone gliding between 90 and 250 Hz in syllable-long bursts,
// with pauses of noise between them.
std::vector<float> makeSignal(qint64 count)
{
    std::vector<float> samples(static_cast<size_t>(count));
    std::mt19937 random(5);
    std::normal_distribution<float> noise(0.0f, 0.01f);
    double phase = 0;
    for (qint64 i = 0; i < count; ++i) {
        const double t = double(i) / kSampleRate;
        const double hz = 170 + 80 * std::sin(2 * M_PI * 0.21 * t);
        phase += 2 * M_PI * hz / kSampleRate;
        const double syllable = std::max(0.0, std::sin(2 * M_PI * 2.5 * t));
        samples[size_t(i)] = float(syllable * (0.3 * std::sin(phase) + 0.2 * std::sin(2 * phase) +
                                               0.1 * std::sin(3 * phase))) +
                             noise(random);
    }
    return samples;
}

// The same YIN as computeAcousticCurves (same window, lags, start, threshold and
// interpolation, no post-processing) with d(tau) summed directly.
std::vector<float> naiveYin(const std::vector<float> &x, qint64 frames,
                            const AcousticCurveOptions &o)
{
    const int hop = int(std::lround(kSampleRate / o.framesPerSecond));
    const int window = int(std::lround(o.pitchWindowSeconds * kSampleRate));
    const int minLag = int(std::floor(kSampleRate / o.maximumF0Hz));
    const int maxLag = int(std::ceil(kSampleRate / o.minimumF0Hz));
    const qint64 lead =
        window / 2 +
        qint64(std::lround(kSampleRate / std::sqrt(o.minimumF0Hz * o.maximumF0Hz) / 2));
    const double silence = std::pow(10.0, o.silenceFloorDb / 10.0);
    const qint64 count = qint64(x.size());
    auto at = [&](qint64 i) { return i >= 0 && i < count ? double(x[size_t(i)]) : 0.0; };
    std::vector<double> d(size_t(maxLag + 2)), dn(size_t(maxLag + 2));
    std::vector<float> f0(size_t(frames), 0.0f);
    for (qint64 f = 0; f < frames; ++f) {
        const qint64 start = f * hop - lead;
        double energy = 0;
        for (int j = 0; j < window; ++j)
            energy += at(start + j) * at(start + j);
        if (!(energy / window > silence))
            continue;
        for (int tau = 0; tau <= maxLag + 1; ++tau) {
            double sum = 0;
            for (int j = 0; j < window; ++j) {
                const double diff = at(start + j) - at(start + j + tau);
                sum += diff * diff;
            }
            d[size_t(tau)] = sum;
        }
        dn[0] = 1;
        double running = 0;
        for (int tau = 1; tau <= maxLag + 1; ++tau) {
            running += d[size_t(tau)];
            dn[size_t(tau)] = running > 0 ? d[size_t(tau)] * tau / running : 1;
        }
        int best = -1;
        for (int tau = minLag; tau <= maxLag; ++tau)
            if (dn[size_t(tau)] < o.yinThreshold) {
                while (tau + 1 <= maxLag && dn[size_t(tau + 1)] < dn[size_t(tau)])
                    ++tau;
                best = tau;
                break;
            }
        if (best < 0)
            best = int(std::min_element(dn.begin() + minLag, dn.begin() + maxLag + 1) - dn.begin());
        const double curvature = d[size_t(best - 1)] - 2 * d[size_t(best)] + d[size_t(best + 1)];
        const double shift =
            curvature > 0
                ? std::clamp(0.5 * (d[size_t(best - 1)] - d[size_t(best + 1)]) / curvature, -0.5,
                             0.5)
                : 0.0;
        if (dn[size_t(best)] <= o.maximumAperiodicity)
            f0[size_t(f)] = float(kSampleRate / (best + shift));
    }
    return f0;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int minutes = argc > 1 ? std::max(1, std::atoi(argv[1])) : 60;
    std::printf("machine: %s, %s, %d cores (one used)\n", qPrintable(QSysInfo::prettyProductName()),
                qPrintable(QSysInfo::currentCpuArchitecture()), QThread::idealThreadCount());
    const qint64 count = qint64(minutes) * 60 * kSampleRate;
    const std::vector<float> samples = makeSignal(count);
    std::printf("input: %d min at %d Hz (%lld samples), speech-like bursts\n", minutes, kSampleRate,
                static_cast<long long>(count));

    SilentProgress quiet;
    AcousticCurves curves;
    AcousticCurveOptions options;
    computeAcousticCurves(samples.data(), 10 * kSampleRate, kSampleRate, options, &curves,
                          quiet); // warm-up
    QElapsedTimer clock;
    clock.start();
    if (auto st =
            computeAcousticCurves(samples.data(), count, kSampleRate, options, &curves, quiet);
        !st) {
        std::fprintf(stderr, "bench_curves: %s\n", qPrintable(st.error()));
        return 1;
    }
    const double fastSeconds = clock.nsecsElapsed() / 1e9;
    int voiced = 0;
    for (int i = 0; i < curves.frameCount(); ++i)
        voiced += curves.isVoiced(i) ? 1 : 0;
    std::printf("\nFFT YIN + energy, whole signal: %d frames in %.2f s = %.0f frames/s "
                "(%.1f%% voiced)\n",
                curves.frameCount(), fastSeconds, curves.frameCount() / fastSeconds,
                100.0 * voiced / std::max(1, curves.frameCount()));

    // The reference, on the first minute without post-processing, against the same.
    const qint64 minuteCount = std::min<qint64>(count, 60 * kSampleRate);
    const std::vector<float> minute(samples.begin(), samples.begin() + minuteCount);
    AcousticCurveOptions raw = options;
    raw.minimumVoicedFrames = 1;
    raw.octaveContextFrames = 0;
    raw.medianFrames = 1;
    AcousticCurves fastMinute;
    computeAcousticCurves(minute.data(), minuteCount, kSampleRate, raw, &fastMinute, quiet);
    clock.restart();
    const std::vector<float> naive = naiveYin(minute, fastMinute.frameCount(), raw);
    const double naiveSeconds = clock.nsecsElapsed() / 1e9;
    const double extrapolated = naiveSeconds * double(curves.frameCount()) / double(naive.size());
    int disagree = 0;
    double worstHz = 0;
    for (size_t i = 0; i < naive.size(); ++i) {
        const double a = naive[i], b = fastMinute.f0Hz[i];
        if ((a > 0) != (b > 0))
            ++disagree;
        else if (a > 0)
            worstHz = std::max(worstHz, std::abs(a - b));
    }
    std::printf("naive YIN (W x lags), first minute: %zu frames in %.2f s = %.0f frames/s\n",
                naive.size(), naiveSeconds, naive.size() / naiveSeconds);
    std::printf("  extrapolated to the whole signal: %.1f s (%.0fx the FFT route)\n", extrapolated,
                extrapolated / fastSeconds);
    std::printf("  same answer: %d of %zu frames differ in voicing, largest F0 difference "
                "%.4f Hz\n",
                disagree, naive.size(), worstHz);
    return 0;
}
