// bench_probe [FILE_COUNT]: how fast an import can probe (validate + hash) short clips.
// Renders 4 clips with espeak-ng, derives FILE_COUNT (default 10,000) distinct 1 s WAV files
// from them in a temporary folder (a few samples changed per file, so every hash differs),
// then, after a warm-up, times probeAudioFile() over all of them with 2 threads, and a plain
// read of every byte with 2 threads as the bound no probe can beat. The files were just
// written, so both runs read from the page cache: this measures the CPU cost of probing.

#include "audio/AudioFile.h"
#include "common/Progress.h"
#include "corpus/SpeechSynthesizer.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSet>
#include <QTemporaryDir>
#include <QtEndian>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

using namespace emolens;

namespace {

constexpr int kThreads = 2;

QString cpuModel()
{
    QFile cpuinfo(QStringLiteral("/proc/cpuinfo"));
    if (cpuinfo.open(QIODevice::ReadOnly)) {
        for (const QByteArray &line : cpuinfo.readAll().split('\n')) {
            if (line.startsWith("model name"))
                return QString::fromUtf8(line.mid(line.indexOf(':') + 1).trimmed());
        }
    }
    return QStringLiteral("unknown CPU");
}

QByteArray wavHeader(quint32 dataBytes, int sampleRate)
{
    QByteArray header;
    auto u32 = [&header](quint32 v) {
        const quint32 le = qToLittleEndian(v);
        header.append(reinterpret_cast<const char *>(&le), 4);
    };
    auto u16 = [&header](quint16 v) {
        const quint16 le = qToLittleEndian(v);
        header.append(reinterpret_cast<const char *>(&le), 2);
    };
    header.append("RIFF");
    u32(36 + dataBytes);
    header.append("WAVEfmt ");
    u32(16);
    u16(1); // PCM
    u16(1); // mono
    u32(quint32(sampleRate));
    u32(quint32(sampleRate * 2));
    u16(2);
    u16(16);
    header.append("data");
    u32(dataBytes);
    return header;
}

// Runs work(index) for every index on kThreads threads; returns seconds taken.
template <typename Work> double timed(int count, Work work)
{
    QElapsedTimer clock;
    clock.start();
    std::atomic<int> next{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&]() {
            for (int i = next++; i < count; i = next++)
                work(i);
        });
    }
    for (std::thread &thread : threads)
        thread.join();
    return clock.nsecsElapsed() / 1e9;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int fileCount = argc > 1 ? std::max(1, atoi(argv[1])) : 10'000;
    std::printf("bench_probe: %s, %u hardware threads, %d probe threads\n", qPrintable(cpuModel()),
                std::thread::hardware_concurrency(), kThreads);

    QTemporaryDir dir;
    if (!dir.isValid()) {
        std::fprintf(stderr, "bench_probe: cannot create a temporary folder\n");
        return 1;
    }

    // A few real utterances to derive the files from.
    QList<SpeechJob> jobs;
    const QStringList voices{QStringLiteral("en+f2"), QStringLiteral("en+m3")};
    for (int i = 0; i < 4; ++i) {
        SpeechJob job;
        job.text = QStringLiteral("This is clip number %1 of the benchmark.").arg(i + 1);
        job.voice = voices[i % 2];
        job.emotion = SpeechSynthesizer::emotions()[i];
        job.outputPath = dir.filePath(QStringLiteral("source%1.wav").arg(i));
        jobs << job;
    }
    SilentProgress silent;
    const Status rendered = SpeechSynthesizer::renderAll(jobs, silent, 2);
    if (!rendered) {
        std::fprintf(stderr, "bench_probe: %s\n", qPrintable(rendered.error()));
        return 1;
    }
    std::vector<std::vector<qint16>> sources;
    for (const SpeechJob &job : jobs) {
        std::vector<float> samples;
        if (!decodeMono(job.outputPath, &samples, 16000))
            return 1;
        samples.resize(16000); // 1 s
        std::vector<qint16> pcm(samples.size());
        for (size_t i = 0; i < samples.size(); ++i)
            pcm[i] = qint16(std::clamp(samples[i], -1.0f, 0.999f) * 32768.0f);
        sources.push_back(std::move(pcm));
    }

    QElapsedTimer clock;
    clock.start();
    QStringList paths;
    qint64 totalBytes = 0;
    for (int i = 0; i < fileCount; ++i) {
        std::vector<qint16> pcm = sources[size_t(i) % sources.size()];
        // The file's index in a few samples: every file has its own bytes and hash.
        pcm[100] = qint16(i & 0x7fff);
        pcm[101] = qint16(i >> 15);
        const quint32 dataBytes = quint32(pcm.size() * 2);
        QByteArray bytes = wavHeader(dataBytes, 16000);
        bytes.append(reinterpret_cast<const char *>(pcm.data()), int(dataBytes));
        const QString path =
            dir.filePath(QStringLiteral("clips/%1/clip%2.wav").arg(i / 1000).arg(i));
        if (i % 1000 == 0)
            QDir().mkpath(QFileInfo(path).absolutePath());
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size()) {
            std::fprintf(stderr, "bench_probe: cannot write %s\n", qPrintable(path));
            return 1;
        }
        totalBytes += bytes.size();
        paths << path;
    }
    std::printf("bench_probe: wrote %d files (%.1f MB) in %.1f s\n", fileCount, totalBytes / 1e6,
                clock.elapsed() / 1000.0);

    // Warm-up: the first probes pay for loading codecs and growing buffers.
    timed(std::min(fileCount, 200), [&](int i) {
        AudioProbe probe;
        probeAudioFile(paths[i], &probe);
    });

    std::vector<QString> hashes(static_cast<size_t>(fileCount));
    std::atomic<int> failures{0};
    const double probeSeconds = timed(fileCount, [&](int i) {
        AudioProbe probe;
        if (probeAudioFile(paths[i], &probe))
            hashes[size_t(i)] = probe.contentHash;
        else
            ++failures;
    });

    std::atomic<qint64> readBytes{0};
    const double readSeconds = timed(fileCount, [&](int i) {
        QFile file(paths[i]);
        if (file.open(QIODevice::ReadOnly | QIODevice::Unbuffered))
            readBytes += file.readAll().size();
    });

    const int distinct = int(QSet<QString>(hashes.begin(), hashes.end()).size());
    std::printf("bench_probe: probe      %6.2f s  %8.0f files/s  %7.1f MB/s  (%d failed, %d "
                "distinct hashes)\n",
                probeSeconds, fileCount / probeSeconds, totalBytes / 1e6 / probeSeconds,
                failures.load(), distinct);
    std::printf("bench_probe: plain read %6.2f s  %8.0f files/s  %7.1f MB/s  (reference bound)\n",
                readSeconds, fileCount / readSeconds, readBytes.load() / 1e6 / readSeconds);
    return failures.load() == 0 && distinct == fileCount ? 0 : 1;
}
