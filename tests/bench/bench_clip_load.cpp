// bench_clip_load: what opening a one-hour recording costs in the clip view, and what each
// repaint costs afterwards. Prints the load steps (decode + resample, peak pyramid,
// spectrogram image) and the time to compute one waveform repaint at several zoom levels from
// the peak pyramid, next to the reference: a naive min/max over the raw samples, which is
// what a view without the pyramid would do on every repaint.
//
// Usage: bench_clip_load [MINUTES]   (default 60)
// The waveform shows after decode + overview; the spectrogram follows (see ClipView).

#include "ClipAudio.h"
#include "audio/PeakPyramid.h"
#include "common/Progress.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QThread>
#include <cmath>
#include <cstdio>

using namespace emolens;

namespace {

// A 44.1 kHz 16-bit stereo WAV of speech-like bursts (so decode and resampling do real work).
bool writeRecording(const QString &path, int minutes)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return false;
    const quint32 rate = 44100, channels = 2;
    const quint64 frames = quint64(minutes) * 60 * rate;
    const quint32 dataBytes = quint32(frames * channels * 2);
    auto put32 = [&](quint32 v) { f.write(reinterpret_cast<const char *>(&v), 4); };
    auto put16 = [&](quint16 v) { f.write(reinterpret_cast<const char *>(&v), 2); };
    f.write("RIFF");
    put32(36 + dataBytes);
    f.write("WAVEfmt ");
    put32(16);
    put16(1);
    put16(quint16(channels));
    put32(rate);
    put32(rate * channels * 2);
    put16(quint16(channels * 2));
    put16(16);
    f.write("data");
    put32(dataBytes);
    std::vector<qint16> block(size_t(rate) * channels);
    for (quint64 second = 0; second < frames / rate; ++second) {
        for (quint32 i = 0; i < rate; ++i) {
            const double t = double(i) / rate;
            const double envelope = 0.5 + 0.5 * std::sin(2 * M_PI * (3 + second % 5) * t);
            const double v = envelope * 0.6 * std::sin(2 * M_PI * (120 + second % 80) * t);
            block[2 * i] = block[2 * i + 1] = qint16(v * 32767);
        }
        f.write(reinterpret_cast<const char *>(block.data()), qint64(block.size() * 2));
    }
    return true;
}

class StepClock final : public ProgressSink
{
public:
    void setProgress(double fraction, const QString &message) override
    {
        if (!m_last.isEmpty())
            std::printf("  %-40s %8.2f s\n", qPrintable(m_last), m_clock.elapsed() / 1000.0);
        m_last = fraction < 1.0 ? message.section(QLatin1Char('/'), 0, 0).left(40) : QString();
        m_clock.restart();
    }
    bool isCancelled() const override { return false; }

private:
    QString m_last;
    QElapsedTimer m_clock;
};

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int minutes = argc > 1 ? std::max(1, std::atoi(argv[1])) : 60;
    QTemporaryDir tmp;
    const QString path = tmp.filePath(QStringLiteral("recording.wav"));
    std::printf("machine: %d cores; input: %d min, 44.1 kHz stereo 16-bit WAV\n",
                QThread::idealThreadCount(), minutes);
    if (!writeRecording(path, minutes)) {
        std::fprintf(stderr, "bench_clip_load: cannot write %s\n", qPrintable(path));
        return 1;
    }

    std::printf("\nopening the clip (off the GUI thread in the app):\n");
    ClipAudio clip;
    StepClock steps;
    QElapsedTimer total;
    total.start();
    if (auto st = loadClipAudio(path, &clip, steps); !st) {
        std::fprintf(stderr, "bench_clip_load: %s\n", qPrintable(st.error()));
        return 1;
    }
    std::printf("  %-40s %8.2f s\n", "total", total.elapsed() / 1000.0);

    const int pixels = 1400;
    const qint64 n = qint64(clip.samples.size());
    std::printf(
        "\none waveform repaint, %d pixels wide    pyramid (ms)   reference: raw min/max (ms)\n",
        pixels);
    for (double visibleSeconds : {double(minutes) * 60, 600.0, 60.0, 10.0, 1.0}) {
        const qint64 span = std::min(n, qint64(visibleSeconds * clip.sampleRate));
        const qint64 start = (n - span) / 2;
        QElapsedTimer t;
        t.start();
        const int repeats = 20;
        std::vector<PeakPyramid::Peak> peaks;
        for (int r = 0; r < repeats; ++r)
            peaks = clip.peaks.peaks(clip.samples, start, start + span, pixels);
        const double pyramidMs = t.nsecsElapsed() / 1e6 / repeats;
        t.restart();
        float checksum = 0;
        for (int r = 0; r < 3; ++r)
            for (int p = 0; p < pixels; ++p) {
                const qint64 a = start + span * p / pixels, b = start + span * (p + 1) / pixels;
                float lo = 0, hi = 0;
                for (qint64 i = a; i < b; ++i) {
                    lo = std::min(lo, clip.samples[size_t(i)]);
                    hi = std::max(hi, clip.samples[size_t(i)]);
                }
                checksum += hi - lo;
            }
        const double rawMs = t.nsecsElapsed() / 1e6 / 3;
        std::printf("  visible %7.0f s                        %10.3f   %10.3f%s\n", visibleSeconds,
                    pyramidMs, rawMs, checksum < 0 ? " " : "");
    }
    std::printf(
        "\nmemory held for the view: samples %.0f MB, pyramid levels %d, spectrogram %.0f MB\n",
        clip.samples.size() * 4 / 1e6, clip.peaks.levelCount(),
        clip.spectrogram ? clip.spectrogram->image.sizeInBytes() / 1e6 : 0.0);
    return 0;
}
