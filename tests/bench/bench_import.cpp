// bench_import: imports a 10,000-clip generated corpus into a fresh workspace and prints the
// time, then the re-import time (idempotent pass) and, as the reference floor in the same run,
// the time to merely read every byte once.
//
// Usage: bench_import BASE_CLIP_FOLDER [CLIP_COUNT] [WORK_DIR]
//   BASE_CLIP_FOLDER: rendered clips to derive from, e.g. build/test-corpora/generic-csv/audio
//   The derived clips differ in a few samples each, so every file has its own content hash.

#include "common/Progress.h"
#include "corpus/CorpusImporter.h"

#include <QCoreApplication>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QSysInfo>
#include <QTemporaryDir>
#include <QThread>
#include <cstdio>

using namespace emolens;

namespace {

QString cpuModel()
{
    QFile f(QStringLiteral("/proc/cpuinfo"));
    if (f.open(QIODevice::ReadOnly))
        for (const QByteArray &line : f.readAll().split('\n'))
            if (line.startsWith("model name"))
                return QString::fromUtf8(line.mid(line.indexOf(':') + 1).trimmed());
    return QStringLiteral("unknown CPU");
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_import BASE_CLIP_FOLDER [CLIP_COUNT] [WORK_DIR]\n");
        return 2;
    }
    const QString baseFolder = QString::fromLocal8Bit(argv[1]);
    const int clipCount = argc > 2 ? std::atoi(argv[2]) : 10000;
    QTemporaryDir tmp(argc > 3 ? QString::fromLocal8Bit(argv[3]) + QStringLiteral("/bench-XXXXXX")
                               : QDir::tempPath() + QStringLiteral("/bench-XXXXXX"));

    QList<QByteArray> bases;
    QDirIterator it(baseFolder, {QStringLiteral("*.wav")}, QDir::Files,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        QFile f(it.next());
        if (f.open(QIODevice::ReadOnly))
            bases.append(f.readAll());
    }
    if (bases.isEmpty()) {
        std::fprintf(stderr, "bench_import: no .wav clips under %s\n", argv[1]);
        return 1;
    }

    std::printf("machine: %s, %d cores, %s\n", qPrintable(cpuModel()), QThread::idealThreadCount(),
                qPrintable(QSysInfo::prettyProductName()));
    const QString root = tmp.filePath(QStringLiteral("corpus"));
    QDir().mkpath(root);
    QFile manifest(root + QStringLiteral("/manifest.csv"));
    manifest.open(QIODevice::WriteOnly);
    manifest.write("path,label,speaker,gender\n");
    const char *labels[] = {"angry", "happy", "neutral", "sad"};
    qint64 totalBytes = 0;
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < clipCount; ++i) {
        QByteArray bytes = bases[i % bases.size()];
        // Change two samples well inside the data (after a 44-byte canonical header).
        const int at = 44 + 2 * ((i * 7919) % std::max(1, (int(bytes.size()) - 48) / 2));
        bytes[at] = char(i & 0xff);
        bytes[at + 1] = char((i >> 8) & 0x7f);
        const QString dir = QStringLiteral("spk%1").arg(i % 40, 2, 10, QLatin1Char('0'));
        QDir(root).mkpath(dir);
        const QString rel =
            QStringLiteral("%1/clip%2.wav").arg(dir).arg(i, 5, 10, QLatin1Char('0'));
        QFile out(root + QLatin1Char('/') + rel);
        out.open(QIODevice::WriteOnly);
        out.write(bytes);
        totalBytes += bytes.size();
        manifest.write(QStringLiteral("%1,%2,%3,%4\n")
                           .arg(rel, QLatin1String(labels[i % 4]), dir,
                                (i % 40) % 2 ? QStringLiteral("male") : QStringLiteral("female"))
                           .toUtf8());
    }
    manifest.close();
    std::printf("generated %d clips, %.1f MB, in %.2f s\n", clipCount, totalBytes / 1e6,
                clock.elapsed() / 1000.0);
    // The files were just written, so both the import and the reference read below run on a
    // warm page cache: the comparison is fair, and a cold-disk figure would measure the disk.

    // Reference floor: read every byte once, single pass, no parsing.
    clock.restart();
    qint64 readBytes = 0;
    QDirIterator files(root, {QStringLiteral("*.wav")}, QDir::Files, QDirIterator::Subdirectories);
    while (files.hasNext()) {
        QFile f(files.next());
        if (f.open(QIODevice::ReadOnly))
            readBytes += f.readAll().size();
    }
    const double readSeconds = clock.elapsed() / 1000.0;

    ImportRequest request;
    request.rootPath = root;
    request.databasePath = tmp.filePath(QStringLiteral("bench.emolens"));
    SilentProgress progress;
    ImportReport first, second;
    clock.restart();
    if (auto st = CorpusImporter::run(request, progress, &first); !st) {
        std::fprintf(stderr, "bench_import: %s\n", qPrintable(st.error()));
        return 1;
    }
    const double importSeconds = clock.elapsed() / 1000.0;
    clock.restart();
    CorpusImporter::run(request, progress, &second);
    const double reimportSeconds = clock.elapsed() / 1000.0;

    std::printf("\n%-34s %10s %12s\n", "", "seconds", "clips/s");
    std::printf("%-34s %10.2f %12.0f   (%d imported, %d skipped)\n", "import into a new workspace",
                importSeconds, clipCount / importSeconds, first.imported(),
                int(first.skipped.size()));
    std::printf("%-34s %10.2f %12.0f   (%d added, %d unchanged)\n", "re-import (nothing new)",
                reimportSeconds, clipCount / reimportSeconds, second.outcome.added,
                second.outcome.unchanged);
    std::printf("%-34s %10.2f %12.0f   (%.1f MB)\n", "reference: read every byte once", readSeconds,
                clipCount / readSeconds, readBytes / 1e6);
    std::printf("target: import of %d clips under 10 s: %s\n", clipCount,
                importSeconds < 10 ? "met" : "NOT met");
    return first.imported() == clipCount ? 0 : 1;
}
