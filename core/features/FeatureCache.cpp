#include "features/FeatureCache.h"

#include "common/WorkspaceLocation.h"

#include "features/Float16.h"

#include "SafeTensors.h"
#include "SafeTensorsWriter.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <cstring>

namespace emolens {

namespace {

// Identities are made of the model type and a hex digest, but keep the folder name safe
// whatever they hold.
QString folderName(const QString &identity)
{
    QString out;
    out.reserve(identity.size());
    for (const QChar c : identity)
        out.append(c.isLetterOrNumber() || c == u'-' || c == u'_' || c == u'.' ? c : QChar(u'_'));
    return out.isEmpty() ? QStringLiteral("_") : out;
}

std::vector<float> copyFloats(const SafeTensorInfo &info)
{
    std::vector<float> out(std::size_t(info.elementCount()));
    std::memcpy(out.data(), info.data, out.size() * sizeof(float));
    return out;
}

Status fail(const QString &path, const QString &why)
{
    return Status::failure(QStringLiteral("%1: %2").arg(path, why));
}

} // namespace

CachedFeatures::~CachedFeatures() = default;

std::vector<float> CachedFeatures::layer(int layer) const
{
    std::vector<float> out;
    if (layer < 0 || layer >= m_layerCount)
        return out;
    const std::size_t count = std::size_t(m_frameCount) * std::size_t(m_hiddenSize);
    out.resize(count);
    const std::uint8_t *bytes = m_hidden + std::size_t(layer) * count * 2;
    for (std::size_t i = 0; i < count; ++i) {
        std::uint16_t h;
        std::memcpy(&h, bytes + 2 * i, 2); // the mapping need not be aligned
        out[i] = halfToFloat(h);
    }
    return out;
}

const std::uint16_t *CachedFeatures::layerHalf(int layer) const
{
    if (layer < 0 || layer >= m_layerCount)
        return nullptr;
    const std::size_t count = std::size_t(m_frameCount) * std::size_t(m_hiddenSize);
    return reinterpret_cast<const std::uint16_t *>(m_hidden + std::size_t(layer) * count * 2);
}

std::vector<float> CachedFeatures::embedding() const
{
    return copyFloats(*m_file->find("embedding"));
}

std::vector<float> CachedFeatures::curve(const char *name) const
{
    const SafeTensorInfo *info = m_file->find(name);
    return info ? copyFloats(*info) : std::vector<float>();
}

std::vector<float> CachedFeatures::f0Hz() const
{
    return curve("f0_hz");
}
std::vector<float> CachedFeatures::voicing() const
{
    return curve("voicing");
}
std::vector<float> CachedFeatures::energyDb() const
{
    return curve("energy_db");
}

FeatureCache::FeatureCache(QString rootDirectory) : m_root(std::move(rootDirectory)) {}

QString taptInputKey(const QString &contentHash)
{
    return contentHash + QStringLiteral("-tapt-input");
}

QString FeatureCache::defaultRootFor(const QString &workspacePath)
{
    return WorkspaceLocation::parse(workspacePath).companionPath(QStringLiteral(".features"));
}

QString FeatureCache::encoderDirectory(const QString &encoderIdentity) const
{
    return QDir(m_root).filePath(folderName(encoderIdentity));
}

QString FeatureCache::filePath(const QString &encoderIdentity, const QString &contentHash) const
{
    const QString hash = folderName(contentHash.toLower());
    return QDir(encoderDirectory(encoderIdentity))
        .filePath(hash.left(2) + u'/' + hash + QStringLiteral(".safetensors"));
}

bool FeatureCache::contains(const QString &encoderIdentity, const QString &contentHash) const
{
    if (!QFileInfo::exists(filePath(encoderIdentity, contentHash)))
        return false;
    std::unique_ptr<CachedFeatures> features;
    return bool(open(encoderIdentity, contentHash, &features));
}

Status FeatureCache::store(const QString &encoderIdentity, const QString &contentHash,
                           const FeatureBlock &block) const
{
    const QString path = filePath(encoderIdentity, contentHash);
    if (block.layerCount <= 0 || block.hiddenSize <= 0 || block.frameCount <= 0 ||
        !block.hiddenStatesF16 || !block.embedding)
        return fail(path, QStringLiteral("no features to store"));
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return fail(path, QStringLiteral("cannot create the folder"));

    SafeTensorsWriter writer;
    writer.setMetadata("format", kFormat);
    writer.setMetadata("encoder", encoderIdentity.toStdString());
    writer.setMetadata("content_hash", contentHash.toLower().toStdString());
    writer.setMetadata("frames_per_second", QString::number(block.framesPerSecond).toStdString());
    const std::int64_t layers = block.layerCount, width = block.hiddenSize;
    ModelStatus st =
        writer.add("hidden_states", TensorDtype::F16, {layers, block.frameCount, width},
                   block.hiddenStatesF16, std::uint64_t(layers * block.frameCount * width * 2));
    if (st)
        st = writer.add("embedding", TensorDtype::F32, {layers, width}, block.embedding,
                        std::uint64_t(layers * width * 4));
    if (st && block.curveFrameCount > 0 && block.f0Hz && block.voicing && block.energyDb) {
        writer.setMetadata("curve_frames_per_second",
                           QString::number(block.curveFramesPerSecond).toStdString());
        const std::uint64_t bytes = std::uint64_t(block.curveFrameCount) * 4;
        st = writer.add("f0_hz", TensorDtype::F32, {block.curveFrameCount}, block.f0Hz, bytes);
        if (st)
            st = writer.add("voicing", TensorDtype::F32, {block.curveFrameCount}, block.voicing,
                            bytes);
        if (st)
            st = writer.add("energy_db", TensorDtype::F32, {block.curveFrameCount}, block.energyDb,
                            bytes);
    }
    if (st)
        st = writer.write(path.toStdString());
    if (!st)
        return Status::failure(QString::fromStdString(st.error()));
    return Status::success();
}

Status FeatureCache::open(const QString &encoderIdentity, const QString &contentHash,
                          std::unique_ptr<CachedFeatures> *out) const
{
    out->reset();
    const QString path = filePath(encoderIdentity, contentHash);
    if (!QFileInfo::exists(path))
        return fail(path, QStringLiteral("no cached features"));
    std::unique_ptr<SafeTensorsFile> file;
    if (ModelStatus st = SafeTensorsFile::open(path.toStdString(), file); !st)
        return Status::failure(QString::fromStdString(st.error()));

    const auto &meta = file->metadata();
    const auto value = [&meta](const char *key) {
        const auto it = meta.find(key);
        return it == meta.end() ? QString() : QString::fromStdString(it->second);
    };
    if (value("format") != QLatin1String(kFormat))
        return fail(
            path,
            QStringLiteral("not an EmoLens feature file (format \"%1\")").arg(value("format")));
    if (value("encoder") != encoderIdentity)
        return fail(
            path,
            QStringLiteral("made by encoder %1, not %2").arg(value("encoder"), encoderIdentity));
    if (value("content_hash") != contentHash.toLower())
        return fail(path, QStringLiteral("made from other audio (content hash %1, not %2)")
                              .arg(value("content_hash"), contentHash.toLower()));

    const SafeTensorInfo *hidden = file->find("hidden_states");
    const SafeTensorInfo *embedding = file->find("embedding");
    if (!hidden || hidden->dtype != TensorDtype::F16 || hidden->shape.size() != 3 ||
        hidden->shape[0] <= 0 || hidden->shape[1] <= 0 || hidden->shape[2] <= 0)
        return fail(path, QStringLiteral("hidden_states is missing or is not F16 [layers, "
                                         "frames, dim]"));
    if (!embedding || embedding->dtype != TensorDtype::F32 ||
        embedding->shape != std::vector<std::int64_t>{hidden->shape[0], hidden->shape[2]})
        return fail(path, QStringLiteral("embedding is missing or does not match hidden_states"));

    auto features = std::unique_ptr<CachedFeatures>(new CachedFeatures);
    features->m_path = path;
    features->m_layerCount = int(hidden->shape[0]);
    features->m_frameCount = hidden->shape[1];
    features->m_hiddenSize = int(hidden->shape[2]);
    features->m_framesPerSecond = value("frames_per_second").toDouble();
    features->m_hidden = hidden->data;
    const SafeTensorInfo *f0 = file->find("f0_hz");
    if (f0) {
        const SafeTensorInfo *voicing = file->find("voicing");
        const SafeTensorInfo *energy = file->find("energy_db");
        const auto sameCurve = [f0](const SafeTensorInfo *c) {
            return c && c->dtype == TensorDtype::F32 && c->shape == f0->shape;
        };
        if (f0->dtype != TensorDtype::F32 || f0->shape.size() != 1 || !sameCurve(voicing) ||
            !sameCurve(energy))
            return fail(path, QStringLiteral("the acoustic curves are damaged"));
        features->m_curveFrameCount = f0->shape[0];
        features->m_curveFramesPerSecond = value("curve_frames_per_second").toDouble();
    }
    features->m_file = std::move(file);
    *out = std::move(features);
    return Status::success();
}

qint64 FeatureCache::bytesOnDisk(const QString &encoderIdentity) const
{
    return contents(encoderIdentity).bytes;
}

FeatureCache::Contents FeatureCache::contents(const QString &encoderIdentity) const
{
    Contents contents;
    QDirIterator it(encoderDirectory(encoderIdentity), {QStringLiteral("*.safetensors")},
                    QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        it.next();
        contents.bytes += it.fileInfo().size();
        contents.contentHashes.insert(it.fileInfo().completeBaseName());
    }
    return contents;
}

} // namespace emolens
