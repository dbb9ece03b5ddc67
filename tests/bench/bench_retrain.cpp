// bench_retrain [--clips N] [--seconds S]: one-click retraining end to end, as Retrain and
// `emolens-cli train` run it (TrainJob with the default recipe), at IEMOCAP's 4-class size:
// by default 5,500 clips of 4.5 s with HuBERT-base-shaped features (13 layers x 768, 50
// frames/s) in a real feature cache on disk (float16, about 24.7 GB) and a real workspace.
//
// The workspace: N generated noise clips (each its own content hash) imported with the
// generic importer, 12 speakers, 4 balanced classes. The feature cache: every clip's file
// written as the extraction job writes it, its hidden states drawn from a pool of 32 random
// clips whose class shifts their values (so the labels are learnable) and its per-layer means
// computed from them. Extraction itself is bench_extract's subject and is not timed here.
//
// Prints the recipe the default chose at this size, the job's wall time split into its steps
// as the job reports them, the validation UA, and the peak resident memory; the reference in
// the same run is the plain cost of reading every clip's cached means once (the I/O the
// baseline recipe cannot avoid). Work files go to $TMPDIR/emolens-bench-retrain (reused: the
// cache is written once and kept; delete the folder to reclaim the disk).

#include "BenchWav.h"
#include "BlasKernels.h"

#include "common/Progress.h"
#include "corpus/CorpusImporter.h"
#include "features/FeatureCache.h"
#include "features/Float16.h"
#include "jobs/TrainJob.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/FeatureRepository.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTextStream>
#include <cmath>
#include <cstdio>
#include <random>

using namespace emolens;

namespace {

constexpr int kLayers = 13;
constexpr int kHidden = 768;
constexpr int kPool = 32;
constexpr const char *kIdentity = "bench-hubert-base-shape-1";

double peakResidentMegabytes()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return 0;
    for (const QString &line : QString::fromLatin1(status.readAll()).split(u'\n'))
        if (line.startsWith(QLatin1String("VmHWM")))
            return line.section(u':', 1).trimmed().section(u' ', 0, 0).toDouble() / 1024.0;
    return 0;
}

// Noise of its own for each clip, so every file has its own content hash.
bool writeNoiseWav(const QString &path, int samples, quint32 seed)
{
    std::mt19937 random(seed);
    std::uniform_real_distribution<float> noise(-0.06f, 0.06f);
    std::vector<float> values(static_cast<std::size_t>(samples));
    for (float &v : values)
        v = noise(random);
    return bench::writeWav(path, values, 16000);
}

class PrintedSteps final : public ProgressSink
{
public:
    explicit PrintedSteps(QElapsedTimer &clock) : m_clock(clock) {}
    void setProgress(double, const QString &message) override
    {
        // Each new kind of step, once, with the time it started.
        const QString kind = message.section(u':', 0, 0).section(u',', 0, 0).left(40);
        if (kind == m_last)
            return;
        m_last = kind;
        std::printf("  %7.1f s  %s\n", m_clock.elapsed() / 1000.0, qPrintable(message.left(110)));
        std::fflush(stdout);
    }
    bool isCancelled() const override { return false; }

private:
    QElapsedTimer &m_clock;
    QString m_last;
};

} // namespace

int main(int argc, char **argv)
{
    useFastBlasKernels(argv);
    QCoreApplication app(argc, argv);
    int clips = 5500;
    double seconds = 4.5;
    for (int i = 1; i + 1 < argc; i += 2) {
        const QString arg = QString::fromLocal8Bit(argv[i]);
        if (arg == u"--clips")
            clips = std::max(40, std::atoi(argv[i + 1]));
        else if (arg == u"--seconds")
            seconds = std::atof(argv[i + 1]);
    }
    const int frames = int(std::lround(seconds * 50));
    QDir work(QDir::temp().filePath(QStringLiteral("emolens-bench-retrain")));
    const QString tag = QStringLiteral("%1x%2").arg(clips).arg(frames);
    const QString corpus = work.filePath(QStringLiteral("corpus-") + tag);
    const QString workspace = work.filePath(QStringLiteral("retrain-%1.emolens").arg(tag));
    const QString cacheRoot = FeatureCache::defaultRootFor(workspace);
    std::printf("data: %d clips x %.1f s (%d frames) of %d x %d features, %.1f GB of float16 "
                "cache at %s\n",
                clips, seconds, frames, kLayers, kHidden,
                double(clips) * frames * kLayers * kHidden * 2 / 1e9, qPrintable(cacheRoot));

    // 1. The corpus and the workspace (once).
    QElapsedTimer clock;
    clock.start();
    QFile::remove(workspace); // the runs and models of the last run go; the cache stays
    if (!QFileInfo::exists(QDir(corpus).filePath(QStringLiteral("manifest.csv")))) {
        QDir().mkpath(QDir(corpus).filePath(QStringLiteral("audio")));
        QFile manifest(QDir(corpus).filePath(QStringLiteral("manifest.part")));
        if (!manifest.open(QIODevice::WriteOnly))
            return 1;
        QTextStream out(&manifest);
        out << "path,label,speaker,gender\n";
        const char *labels[] = {"angry", "happy", "neutral", "sad"};
        for (int i = 0; i < clips; ++i) {
            const QString name = QStringLiteral("audio/clip%1.wav").arg(i, 5, 10, QChar(u'0'));
            if (!writeNoiseWav(QDir(corpus).filePath(name), int(seconds * 16000), quint32(i + 1)))
                return 1;
            out << name << ',' << labels[i % 4] << ",spk" << (i % 12) << ','
                << ((i % 12) < 6 ? "female" : "male") << '\n';
        }
        out.flush();
        manifest.close();
        QFile::rename(manifest.fileName(), QDir(corpus).filePath(QStringLiteral("manifest.csv")));
    }
    {
        ImportRequest import;
        import.rootPath = corpus;
        import.databasePath = workspace;
        ImportReport imported;
        SilentProgress quiet;
        if (auto st = CorpusImporter::run(import, quiet, &imported); !st) {
            std::fprintf(stderr, "import: %s\n", qPrintable(st.error()));
            return 1;
        }
    }

    // 2. The encoder and its cache (written once, then reused).
    Database db(workspace);
    if (!db.open())
        return 1;
    EncoderRecord encoder;
    encoder.identity = QString::fromLatin1(kIdentity);
    encoder.name = QStringLiteral("hubert-base-shape");
    encoder.source = work.filePath(QStringLiteral("hubert-base-shape"));
    encoder.modelType = QStringLiteral("hubert");
    encoder.layerCount = kLayers;
    encoder.hiddenSize = kHidden;
    encoder.framesPerSecond = 50;
    if (auto st = FeatureRepository(db).addEncoder(&encoder); !st) {
        std::fprintf(stderr, "encoder: %s\n", qPrintable(st.error()));
        return 1;
    }
    QList<UtteranceRecord> utterances;
    if (auto st = CorpusRepository(db).utterances(0, &utterances); !st)
        return 1;
    const FeatureCache cache(cacheRoot);
    std::vector<std::vector<std::uint16_t>> pool(kPool);
    std::vector<std::vector<float>> poolMeans(kPool);
    std::mt19937 random(7);
    std::normal_distribution<float> normal;
    int written = 0;
    for (const UtteranceRecord &u : std::as_const(utterances)) {
        if (cache.contains(encoder.identity, u.contentHash))
            continue;
        if (pool[0].empty())
            for (int p = 0; p < kPool; ++p) {
                pool[std::size_t(p)].resize(std::size_t(kLayers) * frames * kHidden);
                poolMeans[std::size_t(p)].assign(std::size_t(kLayers) * kHidden, 0.0f);
                for (int l = 0; l < kLayers; ++l)
                    for (int t = 0; t < frames; ++t)
                        for (int h = 0; h < kHidden; ++h) {
                            const float v = normal(random) + 0.2f * float(p % 4);
                            const std::uint16_t half = floatToHalf(v);
                            pool[std::size_t(p)][(std::size_t(l) * frames + t) * kHidden + h] =
                                half;
                            poolMeans[std::size_t(p)][std::size_t(l) * kHidden + h] +=
                                halfToFloat(half) / float(frames);
                        }
            }
        // The manifest deals the classes in turn: clip i has class i % 4, like pool clip p.
        const int index = u.key.mid(u.key.lastIndexOf(u'p') + 1).toInt();
        const std::size_t p = std::size_t(index % kPool);
        FeatureBlock block;
        block.layerCount = kLayers;
        block.hiddenSize = kHidden;
        block.frameCount = frames;
        block.framesPerSecond = 50;
        block.hiddenStatesF16 = pool[p].data();
        block.embedding = poolMeans[p].data();
        if (auto st = cache.store(encoder.identity, u.contentHash, block); !st) {
            std::fprintf(stderr, "cache: %s\n", qPrintable(st.error()));
            return 1;
        }
        ++written;
    }
    std::printf("setup: %d clips imported, %d cache files written (%d reused) in %.0f s\n",
                int(utterances.size()), written, int(utterances.size()) - written,
                clock.elapsed() / 1000.0);

    // 3. The reference: every clip's cached means read once.
    clock.restart();
    double checksum = 0;
    for (const UtteranceRecord &u : std::as_const(utterances)) {
        std::unique_ptr<CachedFeatures> file;
        if (auto st = cache.open(encoder.identity, u.contentHash, &file); !st)
            return 1;
        checksum += double(file->embedding().front());
    }
    const double readSeconds = clock.elapsed() / 1000.0;
    std::printf("reference: reading every clip's cached means once: %.1f s (checksum %.3f)\n",
                readSeconds, checksum);

    // 4. One-click retraining: the default recipe on the current labels, as Retrain runs it.
    TrainRequest request;
    request.databasePath = workspace;
    request.encoder = encoder.name;
    auto job = std::make_shared<TrainJob>(request);
    clock.restart();
    std::printf("retrain (TrainJob, default recipe, cpu, one thread per core):\n");
    PrintedSteps steps(clock);
    const JobResult result = job->run(steps);
    const double total = clock.elapsed() / 1000.0;
    if (!result.ok()) {
        std::fprintf(stderr, "retrain: %s\n", qPrintable(result.summary));
        return 1;
    }
    const TrainReport &report = job->report();
    std::printf("  %7.1f s  done\n%s\n", total, qPrintable(result.summary));
    std::printf("retrain end to end: %.1f s (%.2f min); %d training clips, %d validation, %d "
                "predicted; best epoch %d of %d; validation UA %.3f\n",
                total, total / 60, report.trainClips, report.validation.n, report.predictedClips,
                report.bestEpoch, int(report.validationUaByEpoch.size()), report.validation.ua);
    std::printf("peak RSS: %.0f MB\n", peakResidentMegabytes());
    return 0;
}
