#include "jobs/TsneJob.h"

#include "NearestNeighbours.h"
#include "Pca.h"
#include "common/Progress.h"
#include "features/FeatureCache.h"
#include "store/AnalysisRepository.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/FeatureRepository.h"
#include "training/ClipPosteriors.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <optional>

namespace emolens {

QString TsneJob::name() const
{
    return QStringLiteral("t-SNE map (%1)")
        .arg(m_request.source.isEmpty() ? QStringLiteral("fbank") : m_request.source);
}

JobResult TsneJob::run(ProgressSink &progress)
{
    m_report = TsneReport();
    Database db(m_request.databasePath);
    if (auto st = db.open(); !st)
        return JobResult::failed(st.error());
    const Status st = map(db, m_request, &m_report, &progress);
    if (!st && st.error() == QLatin1String("cancelled"))
        return JobResult::cancelled(QStringLiteral("Map cancelled; nothing is kept"));
    if (!st)
        return JobResult::failed(st.error());
    return JobResult::succeeded(QStringLiteral("Map of %1 clips (%2) in %3 s")
                                    .arg(m_report.points.size())
                                    .arg(m_report.source)
                                    .arg(m_report.seconds, 0, 'f', 1));
}

QString TsneJob::settingsJson(const TsneRequest &request)
{
    const TsneOptions &o = request.options;
    const QJsonObject settings{
        {QStringLiteral("perplexity"), o.perplexity},
        {QStringLiteral("iterations"), o.iterations},
        {QStringLiteral("exaggeration"), o.exaggeration},
        {QStringLiteral("exaggeration_iterations"), o.exaggerationIterations},
        {QStringLiteral("learning_rate"), o.learningRate},
        {QStringLiteral("theta"), o.theta},
        {QStringLiteral("seed"), QString::number(o.seed)},
        {QStringLiteral("pca"), request.pcaComponents}};
    return QString::fromUtf8(QJsonDocument(settings).toJson(QJsonDocument::Compact));
}

Status TsneJob::map(Database &db, const TsneRequest &request, TsneReport *out,
                    ProgressSink *progress)
{
    QElapsedTimer clock;
    clock.start();
    *out = TsneReport();
    const auto cancelled = [progress] { return progress && progress->isCancelled(); };
    const QString cache = request.cacheDirectory.isEmpty()
                              ? FeatureCache::defaultRootFor(db.filePath())
                              : request.cacheDirectory;
    CorpusRepository corpora(db);
    QList<UtteranceRow> rows;
    if (auto st = corpora.utteranceRows(0, &rows); !st)
        return Status::failure(QStringLiteral("%1: %2").arg(db.filePath(), st.error()));
    QHash<qint64, qsizetype> rowOf;
    for (qsizetype i = 0; i < rows.size(); ++i)
        rowOf.insert(rows[i].id, i);

    QList<qint64> ids;
    std::vector<float> matrix;
    int dims = 0;
    QStringList predicted; // per id, model sources only
    const QString source = request.source.trimmed();
    if (source.startsWith(QLatin1String("model:"))) {
        bool ok = false;
        const qint64 modelId = source.mid(6).toLongLong(&ok);
        if (!ok || modelId < 1)
            return Status::failure(
                QStringLiteral("\"%1\": a model source is model:ID, e.g. model:3").arg(source));
        ClipPosteriors posteriors;
        if (auto st = posteriors.loadModel(db, cache, modelId); !st)
            return st;
        QList<UtteranceRecord> all;
        if (auto st = corpora.utterances(0, &all); !st)
            return Status::failure(QStringLiteral("%1: %2").arg(db.filePath(), st.error()));
        QStringList hashes;
        for (const UtteranceRecord &u : std::as_const(all))
            hashes << u.contentHash;
        std::vector<ClipSample> samples;
        if (auto st = posteriors.sample(hashes, 0, 1, &samples, nullptr, cancelled); !st)
            return Status::failure(cancelled()
                                       ? QStringLiteral("cancelled")
                                       : QStringLiteral("%1: %2").arg(db.filePath(), st.error()));
        const QStringList classes = posteriors.model().classes;
        for (qsizetype i = 0; i < all.size(); ++i) {
            const ClipSample &s = samples[std::size_t(i)];
            if (s.classifierInput.empty() ||
                s.probabilities.size() != std::size_t(classes.size())) {
                ++out->withoutEmbeddings;
                continue;
            }
            dims = int(s.classifierInput.size());
            ids << all[i].id;
            matrix.insert(matrix.end(), s.classifierInput.begin(), s.classifierInput.end());
            predicted << classes.value(
                int(std::max_element(s.probabilities.begin(), s.probabilities.end()) -
                    s.probabilities.begin()));
        }
        out->source = QStringLiteral("model:%1").arg(modelId);
    } else {
        // encoder:NAME:LAYER, encoder:NAME, NAME, or empty (fbank).
        QStringList parts = source.split(QLatin1Char(':'));
        if (parts.value(0) == QLatin1String("encoder"))
            parts.removeFirst();
        const QString name = parts.value(0).isEmpty() ? QStringLiteral("fbank") : parts.value(0);
        FeatureRepository features(db);
        std::optional<EncoderRecord> encoder;
        for (const EncoderRecord &e : features.encoders())
            if (e.name == name || e.source == name)
                encoder = e;
        if (!encoder)
            return Status::failure(
                QStringLiteral("%1: no features of %2 yet: extract them first (emolens-cli "
                               "extract --db %1 --encoder %2)")
                    .arg(db.filePath(), name));
        int layer = encoder->layerCount - 1;
        if (parts.size() > 1) {
            bool ok = false;
            layer = parts[1].toInt(&ok);
            if (!ok || layer < 0 || layer >= encoder->layerCount)
                return Status::failure(QStringLiteral("the layer of %1 is 0 to %2, not \"%3\"")
                                           .arg(encoder->name)
                                           .arg(encoder->layerCount - 1)
                                           .arg(parts[1]));
        }
        if (auto st = features.layerMatrix(encoder->id, layer, &ids, &matrix); !st)
            return Status::failure(QStringLiteral("%1: %2").arg(db.filePath(), st.error()));
        dims = encoder->hiddenSize;
        out->withoutEmbeddings = int(std::max<qsizetype>(0, rows.size() - ids.size()));
        out->source = QStringLiteral("encoder:%1:%2").arg(encoder->name).arg(layer);
    }
    out->dims = dims;
    const int n = int(ids.size());
    out->settings = settingsJson(request);
    {
        QCryptographicHash hash(QCryptographicHash::Sha1);
        hash.addData(out->source.toUtf8());
        hash.addData(QByteArrayView("\n"));
        hash.addData(out->settings.toUtf8());
        hash.addData(QByteArrayView(reinterpret_cast<const char *>(ids.constData()),
                                    ids.size() * qsizetype(sizeof(qint64))));
        hash.addData(QByteArrayView(reinterpret_cast<const char *>(matrix.data()),
                                    qsizetype(matrix.size() * sizeof(float))));
        out->fingerprint = QString::fromLatin1(hash.result().toHex());
    }
    AnalysisRepository maps(db);
    std::vector<float> layout;
    if (request.reuse) {
        if (auto stored = maps.layoutWithFingerprint(out->fingerprint);
            stored && stored->points.size() == std::size_t(n)) {
            layout.resize(std::size_t(n) * 2);
            bool same = true;
            for (int i = 0; i < n && same; ++i) {
                const MapPoint &p = stored->points[std::size_t(i)];
                same = p.utteranceId == ids[i];
                layout[std::size_t(i) * 2] = p.x;
                layout[std::size_t(i) * 2 + 1] = p.y;
            }
            if (same) {
                out->reused = true;
                out->layoutId = stored->id;
                out->trustworthiness = stored->trustworthiness;
            } else {
                layout.clear();
            }
        }
    }
    if (!out->reused) {
        if (progress)
            progress->setProgress(0.02,
                                  QStringLiteral("Principal components of %1 clips...").arg(n));
        // PCA to 50 (where there are more dimensions than that), then t-SNE.
        std::vector<float> input = std::move(matrix);
        int inputDims = dims;
        if (request.pcaComponents > 0 && dims > request.pcaComponents && n >= 2) {
            QElapsedTimer pcaClock;
            pcaClock.start();
            PcaResult pca;
            std::vector<float> projected;
            if (const ModelStatus st = principalComponents(input.data(), n, dims,
                                                           request.pcaComponents, &pca, &projected);
                !st)
                return Status::failure(QString::fromStdString(st.error()));
            input = std::move(projected);
            inputDims = request.pcaComponents;
            out->pcaSeconds = pcaClock.elapsed() / 1000.0;
        }
        if (cancelled())
            return Status::failure(QStringLiteral("cancelled"));
        const int iterations = request.options.iterations;
        TsneOptions options = request.options;
        if (!options.neighbours)
            options.neighbours = [&cancelled, progress, threads = options.threads](
                                     const float *rows, int count, int dims, int k,
                                     std::vector<int> *index, std::vector<float> *distance) {
                if (progress)
                    progress->setProgress(
                        0.04, QStringLiteral("Nearest neighbours of %1 clips...").arg(count));
                const ModelStatus st = exactNearestNeighbours(rows, count, dims, k, index, distance,
                                                              cancelled, threads);
                return st ? Status::success() : Status::failure(QString::fromStdString(st.error()));
            };
        const Status st = runTsne(
            input.data(), n, inputDims, options, &layout,
            [progress, iterations, &ids](int iteration, const std::vector<float> &so_far) {
                if (progress) {
                    progress->setProgress(
                        0.05 + 0.9 * iteration / std::max(1, iterations),
                        QStringLiteral("t-SNE iteration %1 of %2").arg(iteration).arg(iterations));
                    progress->publish(
                        QVariantMap{{QStringLiteral("kind"), QStringLiteral("tsne-layout")},
                                    {QStringLiteral("iteration"), iteration},
                                    {QStringLiteral("iterations"), iterations},
                                    {QStringLiteral("ids"), QVariant::fromValue(ids)},
                                    {QStringLiteral("xy"),
                                     QByteArray(reinterpret_cast<const char *>(so_far.data()),
                                                qsizetype(so_far.size() * sizeof(float)))}});
                }
                return true;
            },
            cancelled);
        if (!st)
            return st;
        if (n <= request.measureTrustUpTo && n > 22) {
            if (progress)
                progress->setProgress(0.96, QStringLiteral("Measuring trustworthiness..."));
            out->trustworthiness =
                trustworthiness(input.data(), inputDims, layout.data(), 2, n, 10);
        }
        if (request.store) {
            MapLayoutRecord record;
            record.source = out->source;
            record.settings = out->settings;
            record.fingerprint = out->fingerprint;
            record.points.resize(std::size_t(n));
            for (int i = 0; i < n; ++i)
                record.points[std::size_t(i)] = {ids[i], layout[std::size_t(i) * 2],
                                                 layout[std::size_t(i) * 2 + 1]};
            record.trustworthiness = out->trustworthiness;
            record.seconds = clock.elapsed() / 1000.0;
            if (auto st = maps.addLayout(&record); !st)
                return Status::failure(QStringLiteral("%1: the map could not be stored: %2")
                                           .arg(db.filePath(), st.error()));
            out->layoutId = record.id;
        }
    }
    for (int i = 0; i < n; ++i) {
        TsnePoint p;
        p.utteranceId = ids[i];
        p.x = layout[std::size_t(i) * 2];
        p.y = layout[std::size_t(i) * 2 + 1];
        if (const auto at = rowOf.constFind(ids[i]); at != rowOf.cend()) {
            const UtteranceRow &row = rows[*at];
            p.key = row.key;
            p.label = row.label;
            p.speaker = row.speakerCode;
            p.gender = genderName(row.gender);
        }
        p.predicted = predicted.value(i);
        out->points << p;
    }
    out->seconds = clock.elapsed() / 1000.0;
    return Status::success();
}

} // namespace emolens
