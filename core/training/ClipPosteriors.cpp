#include "training/ClipPosteriors.h"

#include "store/Database.h"
#include "store/FeatureRepository.h"
#include "training/CacheClipSource.h"
#include "training/StoredAdapter.h"

namespace emolens {

ClipPosteriors::ClipPosteriors() = default;
ClipPosteriors::~ClipPosteriors() = default;

Status ClipPosteriors::loadActive(Database &db, const QString &cacheRoot)
{
    m_trainer.reset();
    m_model = ModelVersionRecord();
    const auto active = ModelRepository(db).activeModel();
    return active ? loadModel(db, cacheRoot, active->id) : Status::success();
}

Status ClipPosteriors::loadModel(Database &db, const QString &cacheRoot, qint64 modelId)
{
    m_trainer.reset();
    m_model = ModelVersionRecord();
    m_cacheRoot = cacheRoot;
    ModelRepository models(db);
    const auto model = models.model(modelId);
    if (!model)
        return Status::failure(
            QStringLiteral("%1: no model %2 in this workspace").arg(db.filePath()).arg(modelId));
    const auto encoder = FeatureRepository(db).encoder(model->encoderId);
    if (!encoder)
        return Status::failure(
            QStringLiteral("model %1: its encoder is no longer in this workspace").arg(model->id));
    auto trainer = std::make_unique<AdapterTrainer>(TrainerOptions{});
    if (auto st = loadStoredAdapter(models.weights(model->id),
                                    QStringLiteral("model %1").arg(model->id), trainer.get());
        !st)
        return st;
    m_model = *model;
    m_encoderIdentity = encoder->identity;
    m_encoderName = encoder->name;
    m_layerCount = encoder->layerCount;
    m_hiddenSize = encoder->hiddenSize;
    m_framesPerSecond = encoder->framesPerSecond;
    m_trainer = std::move(trainer);
    return Status::success();
}

Status ClipPosteriors::predict(const QString &contentHash, FramePosteriors *out) const
{
    *out = FramePosteriors();
    if (!m_trainer)
        return Status::failure(QStringLiteral("no active model"));
    CacheClipSource source(m_cacheRoot, m_encoderIdentity, m_layerCount, m_hiddenSize,
                           m_model.acousticInputs);
    if (auto st = source.add(contentHash, TrainerClip()); !st)
        return Status::failure(QStringLiteral("no %1 features for this clip yet (Features > "
                                              "Extract Features): %2")
                                   .arg(m_encoderName, st.error()));
    std::vector<ClipPrediction> predictions;
    if (auto st = m_trainer->predict(source, {0}, /*withFrames=*/true, /*withPooled=*/false,
                                     &predictions);
        !st)
        return Status::failure(QString::fromStdString(st.error()));
    out->classes = m_model.classes;
    out->framesPerSecond = m_framesPerSecond;
    out->frameCount = int(predictions.front().frames);
    out->values = std::move(predictions.front().frameProbabilities);
    out->clip = std::move(predictions.front().probabilities);
    const auto &ids = predictions.front().localAttributes;
    if (!ids.empty()) {
        out->localAttributes.assign(ids.begin(), ids.end());
        out->localAttributeCount = m_trainer->localAttributeCount();
        out->attributeClassFrames = m_trainer->localAttributeClassFrames();
    }
    return Status::success();
}

} // namespace emolens

namespace emolens {

Status ClipPosteriors::sample(const QStringList &contentHashes, int passes, std::uint64_t seed,
                              std::vector<ClipSample> *out, int *missing,
                              const std::function<bool()> &cancelled) const
{
    out->assign(std::size_t(contentHashes.size()), ClipSample());
    if (missing)
        *missing = 0;
    if (!m_trainer)
        return Status::failure(QStringLiteral("no model to sample"));
    CacheClipSource source(m_cacheRoot, m_encoderIdentity, m_layerCount, m_hiddenSize,
                           m_model.acousticInputs);
    // The position in contentHashes of each source clip.
    const std::vector<std::size_t> rows = source.addEach(contentHashes, missing);
    std::vector<std::size_t> which(rows.size());
    for (std::size_t k = 0; k < which.size(); ++k)
        which[k] = k;
    std::vector<ClipPrediction> predictions;
    if (auto st = m_trainer->sample(source, which, passes, seed, &predictions, cancelled); !st)
        return Status::failure(QString::fromStdString(st.error()));
    for (std::size_t k = 0; k < rows.size(); ++k) {
        ClipSample &c = (*out)[rows[k]];
        c.probabilities = std::move(predictions[k].probabilities);
        c.classifierInput = std::move(predictions[k].classifierInput);
        c.passes = std::move(predictions[k].passProbabilities);
    }
    return Status::success();
}

} // namespace emolens
