#include "jobs/SelectJob.h"

#include "features/FeatureCache.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/FeatureRepository.h"
#include "store/LabelRepository.h"
#include "training/ClipPosteriors.h"
#include "training/ClipSurprisal.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <cmath>
#include <optional>

namespace emolens {

QString SelectJob::name() const
{
    return QStringLiteral("Rank the clips to label next (%1)")
        .arg(selectionStrategyName(m_request.options.strategy));
}

JobResult SelectJob::run(ProgressSink &progress)
{
    m_report = SelectReport();
    Database db(m_request.databasePath);
    if (auto st = db.open(); !st)
        return JobResult::failed(st.error());
    progress.setProgress(0, QStringLiteral("Ranking the clips to label next..."));
    bool stopped = false;
    const Status st = select(
        db, m_request, &m_report,
        [&progress, &stopped] {
            stopped = stopped || progress.isCancelled();
            return stopped;
        },
        [&progress](double fraction, const QString &message) {
            progress.setProgress(fraction, message);
        });
    if (stopped)
        return JobResult::cancelled(QStringLiteral("Ranking cancelled; the queue is as it was"));
    if (!st)
        return JobResult::failed(st.error());
    progress.setProgress(1, QString());
    return JobResult::succeeded(
        QStringLiteral("%1 clips to label next, ranked by %2 from %3 unlabeled")
            .arg(m_report.picks.size())
            .arg(m_report.round.strategy)
            .arg(m_report.round.poolSize - m_report.round.labeledCount));
}

Status SelectJob::select(Database &db, const SelectRequest &request, SelectReport *out,
                         const std::function<bool()> &cancelled,
                         const std::function<void(double, const QString &)> &progress)
{
    QElapsedTimer clock;
    clock.start();
    *out = SelectReport();
    const SelectionOptions &options = request.options;
    const QString cache = request.cacheDirectory.isEmpty()
                              ? FeatureCache::defaultRootFor(db.filePath())
                              : request.cacheDirectory;

    // The model, when one is there (the uncertainty strategies need it).
    ClipPosteriors posteriors;
    if (auto st = request.modelId > 0 ? posteriors.loadModel(db, cache, request.modelId)
                                      : posteriors.loadActive(db, cache);
        !st)
        return st;
    // Favouring rare classes needs the model's predictions whatever the strategy.
    const bool needsModel = selectionNeedsModel(options.strategy) || options.favourRare;
    if (needsModel && !posteriors.hasModel())
        return Status::failure(
            QStringLiteral("%1 needs a model's posteriors, and %2 has no model yet: train "
                           "one (Model > Retrain, or emolens-cli train --db %2), or start with "
                           "the cold-start strategy")
                .arg(selectionNeedsModel(options.strategy)
                         ? selectionStrategyName(options.strategy)
                         : QStringLiteral("Favouring rare classes"),
                     db.filePath()));
    if ((options.secondOpinions || options.disagreementsFirst) && request.annotator.isEmpty())
        return Status::failure(QStringLiteral("second opinions and disagreements are offered to "
                                              "someone: name the annotator"));

    // The embeddings' encoder: asked, else the model's, else the asked backbone's, else fbank.
    FeatureRepository features(db);
    const bool needsSurprisal = selectionNeedsSurprisal(options.strategy);
    std::optional<BackboneRecord> askedBackbone;
    if (needsSurprisal && request.backboneId > 0) {
        askedBackbone = ModelRepository(db).backbone(request.backboneId);
        if (!askedBackbone)
            return Status::failure(
                QStringLiteral("%1: no pre-trained backbone %2 in this workspace")
                    .arg(db.filePath())
                    .arg(request.backboneId));
    }
    std::optional<EncoderRecord> encoder;
    for (const EncoderRecord &e : features.encoders())
        if (request.encoder.isEmpty()
                ? (posteriors.hasModel() ? e.id == posteriors.model().encoderId
                   : askedBackbone       ? e.id == askedBackbone->encoderId
                                         : e.name == QLatin1String("fbank"))
                : (e.name == request.encoder || e.source == request.encoder))
            encoder = e;
    if (!encoder)
        return Status::failure(
            QStringLiteral("%1: no features of %2 yet: extract them first (Features > Extract "
                           "Features, or emolens-cli extract --db %1%3)")
                .arg(db.filePath(),
                     request.encoder.isEmpty() ? QStringLiteral("fbank") : request.encoder,
                     request.encoder.isEmpty() ? QString()
                                               : QStringLiteral(" --encoder ") + request.encoder));
    const int layer = request.layer < 0 ? encoder->layerCount - 1 : request.layer;
    if (layer >= encoder->layerCount)
        return Status::failure(QStringLiteral("the layer is 0 to %1 for %2")
                                   .arg(encoder->layerCount - 1)
                                   .arg(encoder->name));
    // ALPS: the backbone (asked, else the newest of the encoder) and its heads.
    ClipSurprisal surprisal;
    if (needsSurprisal) {
        if (askedBackbone && askedBackbone->encoderId != encoder->id)
            return Status::failure(
                QStringLiteral("backbone %1 was pre-trained on other features than %2's: rank "
                               "with that encoder's embeddings (--encoder)")
                    .arg(askedBackbone->id)
                    .arg(encoder->name));
        if (auto st = surprisal.load(db, cache, encoder->id, request.backboneId); !st)
            return st;
        out->backboneId = surprisal.backbone().id;
    }
    QList<qint64> ids;
    std::vector<float> matrix;
    if (auto st = features.layerMatrix(encoder->id, layer, &ids, &matrix); !st)
        return Status::failure(QStringLiteral("%1: %2").arg(db.filePath(), st.error()));

    // The pool: every clip with an embedding; labeled when a person gave it a category.
    CorpusRepository corpora(db);
    LabelRepository labels(db);
    const QHash<qint64, ShownLabel> shown = labels.shownLabels();
    SelectionPool pool;
    pool.dims = encoder->hiddenSize;
    if (needsModel)
        pool.classes = posteriors.model().classes;
    QHash<qint64, std::pair<QString, QString>> keyAndPath;
    struct Candidate
    {
        qsizetype row; // in the embedding matrix
        UtteranceRecord utterance;
        bool labeled;
        bool mine;        // the annotator the round is for labeled it
        bool mayBePicked; // so the model's view of it is needed
        ShownLabel shown;
    };
    std::vector<Candidate> candidates;
    QStringList rankedHashes;    // the clips the model's view is needed for
    QStringList surprisalHashes; // alps: the clips that may be picked
    // Every utterance in one query (one per clip took seconds at 100,000 clips).
    QList<UtteranceRecord> all;
    if (auto st = corpora.utterances(0, &all); !st)
        return Status::failure(QStringLiteral("%1: %2").arg(db.filePath(), st.error()));
    QHash<qint64, qsizetype> utteranceAt;
    utteranceAt.reserve(all.size());
    for (qsizetype k = 0; k < all.size(); ++k)
        utteranceAt.insert(all[k].id, k);
    for (qsizetype i = 0; i < ids.size(); ++i) {
        if (cancelled && i % 256 == 0 && cancelled())
            return Status::failure(QStringLiteral("cancelled"));
        const auto at = utteranceAt.constFind(ids[i]);
        if (at == utteranceAt.cend())
            continue; // features of a clip that has left the workspace
        const UtteranceRecord *u = &all[*at];
        const ShownLabel label = shown.value(u->id);
        const bool labeled = label.hasPersonCategory();
        const bool mine =
            !request.annotator.isEmpty() && label.peopleCategories.contains(request.annotator);
        const bool mayBePicked =
            options.includeLabeled || !labeled ||
            ((options.secondOpinions || (options.disagreementsFirst && label.disagreement())) &&
             !mine);
        candidates.push_back({i, *u, labeled, mine, mayBePicked, label});
        if (needsModel && mayBePicked)
            rankedHashes << u->contentHash;
        if (needsSurprisal && mayBePicked)
            surprisalHashes << u->contentHash;
    }
    // The model's view of the clips that may be picked (unlabeled, or every one with
    // includeLabeled), in batches: posteriors, and for bald the dropout passes, for badge the
    // classifier's input.
    std::vector<ClipSample> samples;
    if (needsModel) {
        const int passes = selectionNeedsPasses(options.strategy) ? options.passes : 0;
        if (auto st =
                posteriors.sample(rankedHashes, passes, options.seed, &samples, nullptr, cancelled);
            !st)
            return Status::failure(QStringLiteral("%1: %2").arg(db.filePath(), st.error()));
        pool.passes = passes;
        for (const ClipSample &one : samples)
            if (!one.classifierInput.empty()) {
                pool.headDims = int(one.classifierInput.size());
                break;
            }
    }
    // ALPS's view of them: their surprisal under the backbone (costs its adapter passes).
    std::vector<std::vector<float>> surprisals;
    if (needsSurprisal) {
        QElapsedTimer surprisalClock;
        surprisalClock.start();
        const qint64 backboneId = out->backboneId;
        const auto computed = [&progress, backboneId](int done, int total) {
            if (progress)
                progress(0.95 * done / std::max(1, total),
                         QStringLiteral("ALPS: the surprisal of %1 of %2 clips under backbone %3")
                             .arg(done)
                             .arg(total)
                             .arg(backboneId));
        };
        if (auto st = surprisal.embed(surprisalHashes, options.buckets, &surprisals, nullptr,
                                      cancelled, &out->surprisalCached, computed);
            !st)
            return Status::failure(QStringLiteral("%1: %2").arg(db.filePath(), st.error()));
        pool.surprisalDims = options.buckets;
        out->surprisalSeconds = surprisalClock.elapsed() / 1000.0;
    }
    const std::size_t classCount = std::size_t(pool.classes.size());
    std::size_t next = 0, nextSurprisal = 0;
    for (const Candidate &c : candidates) {
        const ClipSample *sample = nullptr;
        if (needsModel && c.mayBePicked) {
            sample = &samples[next++];
            if (sample->probabilities.size() != classCount) {
                ++out->withoutPosteriors; // no features for the model's encoder: left out
                if (needsSurprisal)
                    ++nextSurprisal;
                continue;
            }
        }
        if (needsSurprisal) {
            // A clip that is not ranked: zeros stand for its surprisal.
            const std::vector<float> *row = c.mayBePicked ? &surprisals[nextSurprisal++] : nullptr;
            if (row && row->size() != std::size_t(options.buckets)) {
                ++out->withoutSurprisal; // no features for the backbone's encoder: left out
                continue;
            }
            if (row)
                pool.surprisal.insert(pool.surprisal.end(), row->begin(), row->end());
            else
                pool.surprisal.insert(pool.surprisal.end(), std::size_t(options.buckets), 0.f);
        }
        keyAndPath.insert(c.utterance.id, {c.utterance.key, c.utterance.path});
        pool.utteranceIds << c.utterance.id;
        pool.embeddings.insert(pool.embeddings.end(),
                               matrix.begin() + std::ptrdiff_t(c.row) * pool.dims,
                               matrix.begin() + std::ptrdiff_t(c.row + 1) * pool.dims);
        if (needsModel) {
            // A labeled clip that is not ranked: zeros stand for its posteriors.
            if (sample) {
                pool.probabilities.insert(pool.probabilities.end(), sample->probabilities.begin(),
                                          sample->probabilities.end());
                pool.passProbabilities.insert(pool.passProbabilities.end(), sample->passes.begin(),
                                              sample->passes.end());
                pool.classifierInputs.insert(pool.classifierInputs.end(),
                                             sample->classifierInput.begin(),
                                             sample->classifierInput.end());
            } else {
                pool.probabilities.insert(pool.probabilities.end(), classCount, 0.f);
                pool.passProbabilities.insert(pool.passProbabilities.end(),
                                              classCount * std::size_t(pool.passes), 0.f);
                pool.classifierInputs.insert(pool.classifierInputs.end(),
                                             std::size_t(pool.headDims), 0.f);
            }
        }
        pool.speakers << c.utterance.speakerId;
        pool.seconds.push_back(c.utterance.durationSeconds);
        pool.labeled.push_back(c.labeled);
        if (!request.annotator.isEmpty())
            pool.mine.push_back(c.mine);
        pool.labelClasses.push_back(c.labeled ? int(pool.classes.indexOf(c.shown.category)) : -1);
        pool.opinions.push_back(int(c.shown.peopleCategories.size()));
        QStringList opinions;
        if (c.shown.disagreement())
            for (auto it = c.shown.peopleCategories.cbegin(); it != c.shown.peopleCategories.cend();
                 ++it)
                opinions << QStringLiteral("%1 (%2)").arg(it.value(), it.key());
        pool.disagreements << opinions.join(QStringLiteral(", "));
    }
    if (cancelled && cancelled())
        return Status::failure(QStringLiteral("cancelled"));
    // Count 0: seed 002's code's round size, 5 % of the clips that can be picked.
    SelectionOptions chosen = options;
    if (chosen.count == 0) {
        int pickable = 0;
        for (const Candidate &c : candidates)
            pickable += c.mayBePicked ? 1 : 0;
        chosen.count = std::max(1, int(std::ceil(0.05 * pickable)));
    }
    QList<SelectionPick> picks;
    if (auto st = selectClips(pool, chosen, &picks); !st)
        return st;

    SelectionRoundRecord &round = out->round;
    round.modelId = needsModel ? posteriors.modelId() : 0;
    round.strategy = selectionStrategyName(options.strategy);
    round.poolSize = pool.rows();
    for (bool l : pool.labeled)
        round.labeledCount += l ? 1 : 0;
    for (const Candidate &c : candidates)
        if (c.mayBePicked && keyAndPath.contains(c.utterance.id))
            round.pool << c.utterance.id;
    QJsonObject settings{{QStringLiteral("count"), chosen.count},
                         {QStringLiteral("seed"), QString::number(options.seed)},
                         {QStringLiteral("encoder"), encoder->name},
                         {QStringLiteral("layer"), layer}};
    if (options.count == 0)
        settings.insert(QStringLiteral("count_rule"), QStringLiteral("5 % of the pool"));
    if (options.strategy == SelectionStrategy::ColdStart)
        settings.insert(QStringLiteral("clusters"), options.clusters);
    if (selectionNeedsPasses(options.strategy))
        settings.insert(QStringLiteral("passes"), options.passes);
    if (needsSurprisal) {
        settings.insert(QStringLiteral("backbone"), out->backboneId);
        settings.insert(QStringLiteral("buckets"), options.buckets);
    }
    if (options.perSpeaker > 0)
        settings.insert(QStringLiteral("per_speaker"), options.perSpeaker);
    if (options.minSeconds > 0)
        settings.insert(QStringLiteral("min_seconds"), options.minSeconds);
    if (options.maxSeconds > 0)
        settings.insert(QStringLiteral("max_seconds"), options.maxSeconds);
    if (options.includeLabeled)
        settings.insert(QStringLiteral("include_labeled"), true);
    if (!request.annotator.isEmpty())
        settings.insert(QStringLiteral("annotator"), request.annotator);
    if (options.favourRare)
        settings.insert(QStringLiteral("favour_rare"), true);
    if (options.secondOpinions)
        settings.insert(QStringLiteral("second_opinions"), true);
    if (options.disagreementsFirst)
        settings.insert(QStringLiteral("disagreements_first"), true);
    round.settings = QString::fromUtf8(QJsonDocument(settings).toJson(QJsonDocument::Compact));
    out->encoder = encoder->name;
    out->layer = layer;
    QList<SelectionPickRecord> stored;
    const QStringList classes = posteriors.hasModel() ? posteriors.model().classes : QStringList();
    for (const SelectionPick &p : std::as_const(picks)) {
        SelectedClip c;
        c.pick = p;
        c.key = keyAndPath.value(p.utteranceId).first;
        c.path = keyAndPath.value(p.utteranceId).second;
        c.predicted = p.predicted >= 0 ? classes.value(p.predicted) : QString();
        out->picks << c;
        SelectionPickRecord r;
        r.rank = int(stored.size()) + 1;
        r.utteranceId = p.utteranceId;
        r.score = p.score;
        r.reason = p.reason;
        r.predicted = c.predicted;
        r.confidence = p.confidence;
        stored << r;
    }
    round.seconds = clock.elapsed() / 1000.0;
    if (request.store)
        if (auto st = SelectionRepository(db).addRound(&round, stored); !st)
            return Status::failure(
                QStringLiteral("%1: cannot store the round: %2").arg(db.filePath(), st.error()));
    out->seconds = clock.elapsed() / 1000.0;
    return Status::success();
}

} // namespace emolens
