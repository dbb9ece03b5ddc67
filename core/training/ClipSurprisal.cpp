#include "training/ClipSurprisal.h"

#include "store/Database.h"
#include "store/FeatureRepository.h"
#include "training/CacheClipSource.h"
#include "training/StoredAdapter.h"

#include <QDataStream>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QSaveFile>

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
    auto trainer = std::make_unique<AdapterTrainer>(TrainerOptions{});
    if (auto st = loadStoredAdapter(models.backboneWeights(chosen->id),
                                    QStringLiteral("backbone %1").arg(chosen->id), trainer.get());
        !st)
        return st;
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

namespace {

constexpr quint32 kCacheMagic = 0x454c5355; // "ELSU"
constexpr quint32 kCacheVersion = 1;

// The kept surprisal of a backbone: content hash -> [buckets]. Empty when the file is missing
// or damaged.
QHash<QString, std::vector<float>> readKept(const QString &path, int buckets)
{
    QHash<QString, std::vector<float>> kept;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return kept;
    QDataStream in(&file);
    in.setFloatingPointPrecision(QDataStream::SinglePrecision);
    quint32 magic = 0, version = 0, count = 0;
    qint32 width = 0;
    in >> magic >> version >> width >> count;
    if (in.status() != QDataStream::Ok || magic != kCacheMagic || version != kCacheVersion ||
        width != buckets || qint64(count) * buckets * 4 > file.size())
        return kept;
    kept.reserve(qsizetype(count));
    for (quint32 i = 0; i < count; ++i) {
        QString hash;
        std::vector<float> row(static_cast<std::size_t>(buckets));
        in >> hash;
        for (float &v : row)
            in >> v;
        if (in.status() != QDataStream::Ok)
            return {};
        kept.insert(hash, std::move(row));
    }
    return kept;
}

void writeKept(const QString &path, int buckets, const QHash<QString, std::vector<float>> &kept)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return; // a cache: the next rank computes again
    QDataStream out(&file);
    out.setFloatingPointPrecision(QDataStream::SinglePrecision);
    out << kCacheMagic << kCacheVersion << qint32(buckets) << quint32(kept.size());
    for (auto it = kept.cbegin(); it != kept.cend(); ++it) {
        out << it.key();
        for (float v : it.value())
            out << v;
    }
    file.commit();
}

} // namespace

QString ClipSurprisal::cachePath(int buckets) const
{
    return QDir(m_cacheRoot)
        .filePath(QStringLiteral("surprisal/%1-b%2.f32")
                      .arg(m_backbone.weightsHash.left(32))
                      .arg(buckets));
}

Status ClipSurprisal::embed(const QStringList &contentHashes, int buckets,
                            std::vector<std::vector<float>> *out, int *missing,
                            const std::function<bool()> &cancelled, int *cached,
                            const Progress &progress) const
{
    out->assign(std::size_t(contentHashes.size()), {});
    if (missing)
        *missing = 0;
    if (cached)
        *cached = 0;
    if (!m_trainer)
        return Status::failure(QStringLiteral("no pre-trained backbone loaded"));
    const bool keep = !m_backbone.weightsHash.isEmpty() && !m_cacheRoot.isEmpty();
    QHash<QString, std::vector<float>> kept;
    if (keep)
        kept = readKept(cachePath(buckets), buckets);
    CacheClipSource source(m_cacheRoot, m_encoderIdentity, m_layerCount, m_hiddenSize,
                           m_backbone.acousticInputs);
    // The position in contentHashes of each clip to compute (those kept are filled in).
    const std::vector<std::size_t> rows = source.addEach(contentHashes, missing, [&](qsizetype i) {
        const auto known = kept.constFind(contentHashes[i]);
        if (known == kept.cend())
            return false;
        (*out)[std::size_t(i)] = *known;
        if (cached)
            ++*cached;
        return true;
    });
    std::vector<std::size_t> which(rows.size());
    for (std::size_t k = 0; k < which.size(); ++k)
        which[k] = k;
    if (which.empty())
        return Status::success();
    std::vector<std::vector<float>> embedded;
    if (auto st = embed(source, which, buckets, &embedded, cancelled, progress); !st)
        return st;
    for (std::size_t k = 0; k < rows.size(); ++k) {
        if (keep)
            kept.insert(contentHashes[qsizetype(rows[k])], embedded[k]);
        (*out)[rows[k]] = std::move(embedded[k]);
    }
    if (keep)
        writeKept(cachePath(buckets), buckets, kept);
    return Status::success();
}

Status ClipSurprisal::embed(const ClipFeatureSource &source, const std::vector<std::size_t> &which,
                            int buckets, std::vector<std::vector<float>> *out,
                            const std::function<bool()> &cancelled, const Progress &progress) const
{
    if (!m_trainer)
        return Status::failure(QStringLiteral("no pre-trained backbone loaded"));
    const auto onBatch = [&progress](std::size_t done, std::size_t total) {
        if (progress)
            progress(int(done), int(total));
    };
    if (auto st = m_trainer->surprisal(source, which, buckets, out, cancelled, onBatch); !st)
        return Status::failure(QStringLiteral("backbone %1: %2")
                                   .arg(m_backbone.id)
                                   .arg(QString::fromStdString(st.error())));
    return Status::success();
}

} // namespace emolens
