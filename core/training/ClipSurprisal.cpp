#include "training/ClipSurprisal.h"

#include "store/Database.h"
#include "store/FeatureRepository.h"
#include "training/CacheClipSource.h"

#include <QFile>
#include <QTemporaryDir>

namespace emolens {

ClipSurprisal::ClipSurprisal() = default;
ClipSurprisal::~ClipSurprisal() = default;

Status ClipSurprisal::load(Database &db, const QString &cacheRoot, qint64 encoderId,
                           qint64 backboneId)
{
    m_trainer.reset();
    m_backbone = BackboneRecord();
    m_cacheRoot = cacheRoot;
    ModelRepository models(db);
    std::optional<BackboneRecord> chosen;
    if (backboneId > 0) {
        chosen = models.backbone(backboneId);
        if (!chosen)
            return Status::failure(QStringLiteral("%1: no pre-trained backbone %2 in this "
                                                  "workspace")
                                       .arg(db.filePath())
                                       .arg(backboneId));
    } else {
        for (const BackboneRecord &b : models.backbones())
            if (b.encoderId == encoderId && b.mode == QLatin1String("adapter")) {
                chosen = b;
                break;
            }
        if (!chosen)
            return Status::failure(
                QStringLiteral("ALPS needs a backbone pre-trained by adapter TAPT on these "
                               "features, and %1 has none yet: pre-train one (Model > Pre-train "
                               "on Every Clip, or emolens-cli pretrain --db %1)")
                    .arg(db.filePath()));
    }
    if (chosen->mode != QLatin1String("adapter"))
        return Status::failure(QStringLiteral("backbone %1 is an encoder adapted by TAPT proper; "
                                              "ALPS needs one of adapter TAPT, whose "
                                              "masked-prediction heads it reads")
                                   .arg(chosen->id));
    const auto encoder = FeatureRepository(db).encoder(chosen->encoderId);
    if (!encoder)
        return Status::failure(
            QStringLiteral("backbone %1: its encoder is no longer in this workspace")
                .arg(chosen->id));
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("backbone.safetensors"));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(models.backboneWeights(chosen->id)) <= 0)
        return Status::failure(QStringLiteral("%1: %2").arg(path, file.errorString()));
    file.close();
    auto trainer = std::make_unique<AdapterTrainer>(TrainerOptions{});
    if (auto st = trainer->load(path.toStdString()); !st)
        return Status::failure(QStringLiteral("backbone %1: %2")
                                   .arg(chosen->id)
                                   .arg(QString::fromStdString(st.error())));
    if (!trainer->hasSurprisalHeads())
        return Status::failure(
            QStringLiteral("backbone %1 was stored without its masked-prediction heads (by an "
                           "older EmoLens), and ALPS needs them: pre-train again (Model > "
                           "Pre-train on Every Clip, or emolens-cli pretrain --db %2)")
                .arg(chosen->id)
                .arg(db.filePath()));
    m_backbone = *chosen;
    m_encoderIdentity = encoder->identity;
    m_layerCount = encoder->layerCount;
    m_hiddenSize = encoder->hiddenSize;
    m_trainer = std::move(trainer);
    return Status::success();
}

Status ClipSurprisal::embed(const QStringList &contentHashes, int buckets,
                            std::vector<std::vector<float>> *out, int *missing,
                            const std::function<bool()> &cancelled) const
{
    out->assign(std::size_t(contentHashes.size()), {});
    if (missing)
        *missing = 0;
    if (!m_trainer)
        return Status::failure(QStringLiteral("no pre-trained backbone loaded"));
    CacheClipSource source(m_cacheRoot, m_encoderIdentity, m_layerCount, m_hiddenSize,
                           m_backbone.acousticInputs);
    std::vector<std::size_t> rows; // the position in contentHashes of each source clip
    for (qsizetype i = 0; i < contentHashes.size(); ++i) {
        if (!source.add(contentHashes[i], TrainerClip())) {
            if (missing)
                ++*missing;
            continue;
        }
        rows.push_back(std::size_t(i));
    }
    std::vector<std::size_t> which(rows.size());
    for (std::size_t k = 0; k < which.size(); ++k)
        which[k] = k;
    std::vector<std::vector<float>> embedded;
    if (auto st = embed(source, which, buckets, &embedded, cancelled); !st)
        return st;
    for (std::size_t k = 0; k < rows.size(); ++k)
        (*out)[rows[k]] = std::move(embedded[k]);
    return Status::success();
}

Status ClipSurprisal::embed(const ClipFeatureSource &source, const std::vector<std::size_t> &which,
                            int buckets, std::vector<std::vector<float>> *out,
                            const std::function<bool()> &cancelled) const
{
    if (!m_trainer)
        return Status::failure(QStringLiteral("no pre-trained backbone loaded"));
    if (auto st = m_trainer->surprisal(source, which, buckets, out, cancelled); !st)
        return Status::failure(QStringLiteral("backbone %1: %2")
                                   .arg(m_backbone.id)
                                   .arg(QString::fromStdString(st.error())));
    return Status::success();
}

} // namespace emolens
