#include "corpus/CorpusImporter.h"

#include "audio/AudioFile.h"
#include "corpus/CorpusFormat.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QSet>
#include <QThread>
#include <atomic>
#include <thread>
#include <vector>

namespace emolens {

namespace {

// Probes every item's audio on all cores. The calling thread works too and is the only one
// that talks to `progress` (sinks need not be reentrant). Returns false when cancelled.
bool probeAll(QList<ImportItem> &items, std::vector<Status> &results, ProgressSink &progress,
              double fromFraction, double toFraction)
{
    const int count = int(items.size());
    results.assign(size_t(count), Status::success());
    std::atomic<int> next{0};
    std::atomic<int> done{0};
    std::atomic<bool> stop{false};
    auto probeOne = [&](int i) {
        AudioProbe probe;
        UtteranceRecord &u = items[i].utterance;
        results[size_t(i)] = probeAudioFile(u.path, &probe);
        if (results[size_t(i)]) {
            u.sampleRate = probe.info.sampleRate;
            u.channels = probe.info.channels;
            u.frames = probe.info.frames;
            u.durationSeconds = probe.info.durationSeconds;
            u.contentHash = probe.contentHash;
            u.fileSizeBytes = probe.fileSizeBytes;
        }
    };
    auto work = [&] {
        for (int i = next++; i < count && !stop.load(std::memory_order_relaxed); i = next++) {
            probeOne(i);
            ++done;
        }
    };
    const int threads = std::max(1, std::min(QThread::idealThreadCount(), 8));
    std::vector<std::thread> helpers;
    for (int t = 1; t < threads; ++t)
        helpers.emplace_back(work);
    // The calling thread probes in small steps so it can report and notice a cancel.
    for (int i = next++; i < count; i = next++) {
        probeOne(i);
        const int finished = ++done;
        if ((finished & 31) == 0 || finished == count) {
            progress.setProgress(fromFraction + (toFraction - fromFraction) * finished / count,
                                 QStringLiteral("Reading audio %1 of %2").arg(finished).arg(count));
            if (progress.isCancelled()) {
                stop = true;
                break;
            }
        }
    }
    for (std::thread &t : helpers)
        t.join();
    return !stop.load();
}

} // namespace

Status CorpusImporter::run(const ImportRequest &request, ProgressSink &progress,
                           ImportReport *report)
{
    QElapsedTimer clock;
    clock.start();
    ImportReport out;
    const QFileInfo root(request.rootPath);
    if (!root.exists())
        return Status::failure(QStringLiteral("%1: no such folder").arg(request.rootPath));
    if (!root.isDir())
        return Status::failure(QStringLiteral("%1: not a folder").arg(request.rootPath));
    const QString rootPath = root.canonicalFilePath();

    std::shared_ptr<const CorpusFormat> format;
    if (request.format.isEmpty()) {
        format = detectCorpusFormat(rootPath);
        if (!format)
            return Status::failure(
                QStringLiteral("%1: no known corpus layout and no manifest (.csv/.tsv) or label "
                               "sub-folders found; use --format")
                    .arg(request.rootPath));
    } else {
        format = corpusFormat(request.format.toLower());
        if (!format) {
            QStringList names;
            for (const auto &f : corpusFormats())
                names << f->name();
            return Status::failure(QStringLiteral("unknown corpus format \"%1\" (known: %2)")
                                       .arg(request.format, names.join(QStringLiteral(", "))));
        }
    }
    const QStringList mappings = format->labelMappings();
    const QString mapping =
        request.labelMapping.isEmpty() ? mappings.value(0) : request.labelMapping;
    if (!mappings.contains(mapping))
        return Status::failure(
            QStringLiteral("format %1 has no label mapping \"%2\" (it has: %3)")
                .arg(format->name(), mapping, mappings.join(QStringLiteral(", "))));
    out.format = format->name();

    progress.setProgress(0, QStringLiteral("Scanning %1").arg(rootPath));
    ScaledProgress scanProgress(progress, 0.0, 0.1);
    CorpusScan scan = format->scan(rootPath, mapping, scanProgress);
    if (progress.isCancelled()) {
        out.cancelled = true;
        out.seconds = clock.elapsed() / 1000.0;
        if (report)
            *report = out;
        return Status::success();
    }
    out.corpusName = request.corpusName.isEmpty()
                         ? (scan.corpusName.isEmpty() ? root.fileName() : scan.corpusName)
                         : request.corpusName;
    out.skipped = scan.problems;

    std::vector<Status> probes;
    if (!probeAll(scan.items, probes, progress, 0.1, 0.9)) {
        out.cancelled = true;
        out.seconds = clock.elapsed() / 1000.0;
        if (report)
            *report = out;
        return Status::success();
    }

    ImportBatch batch;
    batch.corpusName = out.corpusName;
    batch.rootPath = rootPath;
    batch.format = format->name();
    batch.labelMapping = mapping;
    batch.schema = scan.schema;
    QSet<QString> speakers;
    for (int i = 0; i < scan.items.size(); ++i) {
        const ImportItem &item = scan.items[i];
        if (!probes[size_t(i)]) {
            out.skipped.append({item.utterance.path, 0, probes[size_t(i)].error()});
            continue;
        }
        batch.items.append(item);
        speakers.insert(item.speakerCode);
        if (!item.label.category.isEmpty())
            ++out.labelCounts[item.label.category];
    }
    out.speakers = int(speakers.size());

    progress.setProgress(
        0.9, QStringLiteral("Writing %1 utterances to the workspace").arg(batch.items.size()));
    if (progress.isCancelled()) {
        out.cancelled = true;
        out.seconds = clock.elapsed() / 1000.0;
        if (report)
            *report = out;
        return Status::success();
    }
    Database db(request.databasePath);
    if (auto st = db.open(); !st)
        return st;
    if (auto st = CorpusRepository(db).applyImport(batch, &out.outcome); !st)
        return Status::failure(QStringLiteral("%1: the import was not saved: %2")
                                   .arg(request.databasePath, st.error()));
    progress.setProgress(1, QStringLiteral("Imported %1 utterances").arg(batch.items.size()));
    out.seconds = clock.elapsed() / 1000.0;
    if (report)
        *report = out;
    return Status::success();
}

} // namespace emolens
