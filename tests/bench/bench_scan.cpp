// bench_scan [FILE_COUNT]: how fast the corpus formats scan a large layout (file names and
// label lines only; the audio is probed afterwards and timed by bench_probe).
// Writes FILE_COUNT (default 10,000) empty files twice into a temporary folder: a RAVDESS
// layout (9,216 valid names spread over 24 actors, the rest off the pattern) and a generic
// CSV manifest with one line per file. Times each format's scan after a warm-up, best of 3,
// and, as the reference in the same run, a plain recursive listing of the same folder (the
// least any scan has to do). The goal: each scan of 10,000 files well under a second.

#include "common/Progress.h"
#include "corpus/CorpusFormat.h"

#include <QCoreApplication>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>

using namespace emolens;

namespace {

QString cpuModel()
{
    QFile cpuinfo(QStringLiteral("/proc/cpuinfo"));
    if (cpuinfo.open(QIODevice::ReadOnly))
        for (const QByteArray &line : cpuinfo.readAll().split('\n'))
            if (line.startsWith("model name"))
                return QString::fromUtf8(line.mid(line.indexOf(':') + 1).trimmed());
    return QStringLiteral("unknown CPU");
}

template <typename Work> double bestOfThree(Work &&work)
{
    work(); // warm-up
    double best = 1e9;
    for (int run = 0; run < 3; ++run) {
        QElapsedTimer clock;
        clock.start();
        work();
        best = std::min(best, clock.nsecsElapsed() / 1e6);
    }
    return best;
}

int listFiles(const QString &folder)
{
    int count = 0;
    for (QDirIterator it(folder, QDir::Files, QDirIterator::Subdirectories); it.hasNext();) {
        it.next();
        ++count;
    }
    return count;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int fileCount = argc > 1 ? std::max(1, atoi(argv[1])) : 10000;
    QTemporaryDir dir;
    const QDir root(dir.path());

    // RAVDESS: 24 actors x 8 emotions x 2 intensities x 2 statements x 2 repetitions x 2
    // channels x 3 modalities = 9,216 distinct valid names.
    const int valid = std::min(fileCount, 9216);
    const QString ravdessRoot = root.filePath(QStringLiteral("ravdess"));
    QDir(ravdessRoot).mkpath(QStringLiteral("Actor_01"));
    for (int i = valid; i < fileCount; ++i)
        QFile(QDir(ravdessRoot).filePath(QStringLiteral("Actor_01/odd-name-%1.wav").arg(i)))
            .open(QIODevice::WriteOnly);
    for (int i = 0; i < valid; ++i) {
        int rest = i;
        auto take = [&rest](int count) {
            const int v = rest % count + 1;
            rest /= count;
            return QStringLiteral("%1").arg(v, 2, 10, QLatin1Char('0'));
        };
        const QString emotion = take(8), intensity = take(2), statement = take(2),
                      repetition = take(2), channel = take(2), modality = take(3), actor = take(24);
        const QString folder = QStringLiteral("Actor_") + actor;
        QDir(ravdessRoot).mkpath(folder);
        QFile(QDir(ravdessRoot)
                  .filePath(QStringLiteral("%1/%2-%3-%4-%5-%6-%7-%8.wav")
                                .arg(folder, modality, channel, emotion, intensity, statement,
                                     repetition, actor)))
            .open(QIODevice::WriteOnly);
    }

    const QString csvRoot = root.filePath(QStringLiteral("csv"));
    QDir().mkpath(csvRoot);
    QByteArray manifest = "path,label,speaker\n";
    for (int i = 0; i < fileCount; ++i) {
        manifest += QStringLiteral("x%1.wav,happy,s%2\n").arg(i).arg(i % 10).toUtf8();
        QFile(QDir(csvRoot).filePath(QStringLiteral("x%1.wav").arg(i))).open(QIODevice::WriteOnly);
    }
    QFile out(QDir(csvRoot).filePath(QStringLiteral("manifest.csv")));
    if (!out.open(QIODevice::WriteOnly) || out.write(manifest) != manifest.size()) {
        std::fprintf(stderr, "bench_scan: cannot write the manifest\n");
        return 1;
    }
    out.close();

    SilentProgress quiet;
    int ravdessItems = 0, csvItems = 0, listed = 0;
    const double ravdessMs = bestOfThree([&] {
        ravdessItems = int(corpusFormat(QStringLiteral("ravdess"))
                               ->scan(ravdessRoot, QStringLiteral("original"), quiet)
                               .items.size());
    });
    const double csvMs = bestOfThree([&] {
        csvItems = int(corpusFormat(QStringLiteral("generic"))
                           ->scan(csvRoot, QStringLiteral("original"), quiet)
                           .items.size());
    });
    const double listMs = bestOfThree([&] { listed = listFiles(ravdessRoot); });
    const double listCsvMs = bestOfThree([&] { listFiles(csvRoot); });

    std::printf("bench_scan on %s, %d files per layout\n", qPrintable(cpuModel()), fileCount);
    std::printf("%-34s %10s %10s\n", "", "ms", "items");
    std::printf("%-34s %10.1f %10d\n", "RAVDESS names (ravdess scan)", ravdessMs, ravdessItems);
    std::printf("%-34s %10.1f %10d\n", "reference: listing that folder", listMs, listed);
    std::printf("%-34s %10.1f %10d\n", "CSV manifest (generic scan)", csvMs, csvItems);
    std::printf("%-34s %10.1f %10d\n", "reference: listing that folder", listCsvMs, fileCount + 1);
    return ravdessItems == valid && csvItems == fileCount ? 0 : 1;
}
