// bench_extract [MINUTES] [hubert-base|fbank] [BATCH_SECONDS] [fp32|bf16]: the extraction job over
// a corpus of MINUTES of speech (default 60), as `emolens-cli extract` runs it, on the CPU with one
// thread per core. Prints throughput, the real-time factor, the peak resident memory of the
// process and the feature cache's size per audio second.
//
// The corpus: the demo corpus (espeak-ng + sox, 96 clips) is rendered once, then clips of 1 to
// 4 demo utterances joined end to end, each with its own small gain so every file has its own
// content hash, are written until MINUTES are reached: real speech, realistic 2-12 s lengths.
// The model: HuBERT-base's shapes with random weights (speed and memory depend on the shapes).
// References printed in the same run: the memory the model's weights take, and what holding
// every hidden state of the corpus in float32 would take (the naive way to extract).
// Work files go to $TMPDIR/emolens-bench-extract (reused between runs; the cache is cleared).

#include "BenchWav.h"
#include "BlasKernels.h"
#include "RandomModels.h"

#include "audio/AudioFile.h"
#include "common/EtaEstimator.h"
#include "common/Progress.h"
#include "corpus/CorpusImporter.h"
#include "corpus/DemoCorpus.h"
#include "features/EncoderCatalog.h"
#include "jobs/ExtractFeaturesJob.h"

#include <QCoreApplication>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QTextStream>
#include <QThread>
#include <cstdio>
#include <random>
#include <sys/resource.h>

using namespace emolens;

namespace {

double residentMegabytes(const char *field)
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return 0;
    const QString text = QString::fromLatin1(status.readAll());
    for (const QString &line : text.split(u'\n'))
        if (line.startsWith(QLatin1String(field)))
            return line.section(u':', 1).trimmed().section(u' ', 0, 0).toDouble() / 1024.0;
    return 0;
}

class PrintedProgress final : public ProgressSink
{
public:
    void setProgress(double fraction, const QString &message) override
    {
        if (fraction - m_last < 0.05 && fraction < 1)
            return;
        m_last = fraction;
        std::fprintf(stderr, "  [%3.0f%%] %s  %s\n", fraction * 100, qPrintable(message),
                     qPrintable(EtaEstimator::describe(m_eta.remainingSeconds(fraction))));
    }
    bool isCancelled() const override { return false; }

private:
    double m_last = -1;
    EtaEstimator m_eta;
};

} // namespace

int main(int argc, char **argv)
{
    // As the shipped programs do: OpenBLAS's kernels for this CPU (may restart the benchmark).
    emolens::useFastBlasKernels(argv);
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const double minutes = args.value(1, QStringLiteral("60")).toDouble();
    const QString encoderName = args.value(2, QStringLiteral("hubert-base"));
    const double batchSeconds = args.value(3, QStringLiteral("160")).toDouble();
    const QString precision = args.value(4, QStringLiteral("fp32"));
    if (minutes <= 0 || (encoderName != u"hubert-base" && encoderName != u"fbank") ||
        !EncoderCatalog::precisions().contains(precision)) {
        std::fprintf(stderr, "usage: bench_extract [MINUTES] [hubert-base|fbank] [BATCH_SECONDS] "
                             "[fp32|bf16]\n");
        return 2;
    }
    const QDir work(QDir::temp().filePath(QStringLiteral("emolens-bench-extract")));
    QDir().mkpath(work.path());

    // 1. The corpus.
    const QString demo = work.filePath(QStringLiteral("demo"));
    SilentProgress quiet;
    if (auto st = DemoCorpus::generate(demo, quiet); !st) {
        std::fprintf(stderr, "demo corpus: %s\n", qPrintable(st.error()));
        return 1;
    }
    std::vector<std::vector<float>> utterances;
    QDirIterator it(demo, {QStringLiteral("*.wav")}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        std::vector<float> samples;
        if (decodeMono(it.next(), &samples, 16000))
            utterances.push_back(std::move(samples));
    }
    const QString corpus = work.filePath(QStringLiteral("corpus-%1min").arg(minutes));
    const QString manifest = QDir(corpus).filePath(QStringLiteral("manifest.csv"));
    double corpusSeconds = 0;
    int clipCount = 0;
    if (!QFileInfo::exists(manifest)) {
        QDir().mkpath(QDir(corpus).filePath(QStringLiteral("audio")));
        QFile file(manifest + QStringLiteral(".part"));
        if (!file.open(QIODevice::WriteOnly))
            return 1;
        QTextStream out(&file);
        out << "path,label,speaker\n";
        std::mt19937 random(7);
        std::uniform_int_distribution<int> parts(1, 4);
        std::uniform_int_distribution<std::size_t> pick(0, utterances.size() - 1);
        const char *labels[] = {"neutral", "happy", "sad", "angry"};
        while (corpusSeconds < minutes * 60) {
            std::vector<float> clip;
            for (int p = parts(random); p > 0; --p) {
                const auto &u = utterances[pick(random)];
                clip.insert(clip.end(), u.begin(), u.end());
            }
            const float gain = 0.8f + 0.0001f * float(clipCount);
            for (float &s : clip)
                s *= gain;
            const QString name =
                QStringLiteral("audio/clip%1.wav").arg(clipCount, 5, 10, QChar(u'0'));
            if (!bench::writeWav(QDir(corpus).filePath(name), clip, 16000))
                return 1;
            out << name << ',' << labels[clipCount % 4] << ",spk" << (clipCount % 12) << '\n';
            corpusSeconds += clip.size() / 16000.0;
            ++clipCount;
        }
        out.flush();
        file.close();
        QFile::rename(file.fileName(), manifest);
    }
    const QString workspace = work.filePath(QStringLiteral("bench-%1min.emolens").arg(minutes));
    ImportRequest import;
    import.rootPath = corpus;
    import.databasePath = workspace;
    ImportReport imported;
    if (auto st = CorpusImporter::run(import, quiet, &imported); !st) {
        std::fprintf(stderr, "import: %s\n", qPrintable(st.error()));
        return 1;
    }

    // 2. The encoder.
    QString encoder = QStringLiteral("fbank");
    int layers = 1, width = 80;
    if (encoderName == u"hubert-base") {
        encoder = work.filePath(QStringLiteral("hubert-base-random"));
        if (!QFileInfo::exists(QDir(encoder).filePath(QStringLiteral("model.safetensors"))) &&
            !bench::writeRandomHubertBase(encoder.toStdString()))
            return 1;
        layers = 13;
        width = 768;
    }

    // 3. The job, on a fresh cache.
    const QString cache = work.filePath(QStringLiteral("cache"));
    QDir(cache).removeRecursively();
    const double baselineMb = residentMegabytes("VmRSS");
    ExtractFeaturesRequest request;
    request.databasePath = workspace;
    request.encoder = encoder;
    request.device = QStringLiteral("cpu");
    request.precision = precision;
    request.batchSeconds = batchSeconds;
    request.cacheDirectory = cache;
    PrintedProgress progress;
    ExtractFeaturesReport report;
    std::fprintf(stderr, "extracting %d clips with %s...\n", imported.imported(),
                 qPrintable(encoderName));
    if (auto st = ExtractFeaturesJob::extract(request, progress, &report); !st) {
        std::fprintf(stderr, "extract: %s\n", qPrintable(st.error()));
        return 1;
    }
    const double peakMb = residentMegabytes("VmHWM");

    const double audio = report.audioSeconds;
    std::printf("bench_extract: %s (%s) on %s, %d CPU threads, batches of %.0f s padded audio\n",
                qPrintable(encoderName), qPrintable(precision), qPrintable(report.device),
                QThread::idealThreadCount(), batchSeconds);
    std::printf("  corpus:        %d clips, %.1f min of speech (%d failed)\n", report.extracted,
                audio / 60, int(report.failed.size()));
    std::printf("  job:           %.1f s wall, %.1f s in the encoder, %d batches, %d memory "
                "retries\n",
                report.seconds, report.encodeSeconds, report.batches, report.memoryRetries);
    std::printf("  throughput:    %.2f clips/s, %.1fx real time (RTF %.3f), encoder alone RTF "
                "%.3f\n",
                report.extracted / report.seconds, audio / report.seconds, report.seconds / audio,
                report.encodeSeconds / audio);
    std::printf("  peak RSS:      %.0f MB (before the job: %.0f MB; target: under 4096 MB)\n",
                peakMb, baselineMb);
    std::printf("  cache:         %.1f MB, %.0f bytes per audio second (%d layers x %d x 50/s x "
                "2 bytes = %d)\n",
                report.cacheBytes / 1e6, report.cacheBytes / audio, layers, width,
                layers * width * 50 * 2);
    std::printf("  reference:     weights %.0f MB in float32; every hidden state of this corpus "
                "held in float32: %.0f MB\n",
                encoderName == u"hubert-base" ? 94.4e6 * 4 / 1e6 : 0.0,
                double(layers) * width * 50 * audio * 4 / 1e6);
    return 0;
}
