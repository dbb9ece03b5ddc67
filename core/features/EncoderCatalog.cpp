#include "features/EncoderCatalog.h"

#include "SpeechEncoder.h"

#include <QDir>
#include <QFileInfo>
#include <QThread>
#include <torch/cuda.h>

namespace emolens {

namespace {

c10::Device deviceFrom(const QString &resolved)
{
    if (resolved.startsWith(QLatin1String("cuda")))
        return c10::Device(c10::kCUDA, c10::DeviceIndex(resolved.section(u':', 1).toInt()));
    return c10::Device(c10::kCPU);
}

QString modelTypeOf(const std::string &identity)
{
    // "hubert-<digest>", "wav2vec2-<digest>", "fbank-v1"
    const QString id = QString::fromStdString(identity);
    return id.section(u'-', 0, 0);
}

} // namespace

EncoderRecord EncoderDescription::toRecord() const
{
    EncoderRecord record;
    record.identity = identity;
    record.name = name;
    record.source = source;
    record.modelType = modelType;
    record.layerCount = layerCount;
    record.hiddenSize = hiddenSize;
    record.framesPerSecond = framesPerSecond;
    return record;
}

QStringList EncoderCatalog::availableDevices()
{
    QStringList out{QStringLiteral("cpu")};
    const int gpus = torch::cuda::is_available() ? int(torch::cuda::device_count()) : 0;
    for (int i = 0; i < gpus; ++i)
        out.append(QStringLiteral("cuda:%1").arg(i));
    return out;
}

Status EncoderCatalog::resolveDevice(const QString &name, QString *resolved)
{
    const QStringList devices = availableDevices();
    const QString wanted = name.trimmed().toLower();
    if (wanted.isEmpty() || wanted == u"auto") {
        *resolved = devices.size() > 1 ? devices.at(1) : devices.at(0);
        return Status::success();
    }
    const QString canonical = wanted == u"cuda" ? QStringLiteral("cuda:0") : wanted;
    if (devices.contains(canonical)) {
        *resolved = canonical;
        return Status::success();
    }
    if (canonical.startsWith(QLatin1String("cuda")))
        return Status::failure(
            QStringLiteral("device \"%1\" is not available here: %2")
                .arg(name,
                     devices.size() > 1
                         ? QStringLiteral("this machine has %1").arg(devices.join(u", "))
                         : QStringLiteral("this build or machine has no CUDA GPU (use cpu)")));
    return Status::failure(
        QStringLiteral("unknown device \"%1\" (use auto, cpu, cuda or cuda:N)").arg(name));
}

Status EncoderCatalog::loadEncoder(const QString &spec, const QString &device, int threadCount,
                                   std::unique_ptr<SpeechEncoder> *encoder,
                                   EncoderDescription *description, bool keepProjection,
                                   const QString &precision)
{
    EncoderOptions options;
    options.device = deviceFrom(device);
    options.threadCount = threadCount;
    options.keepProjection = keepProjection;
    if (!parsePrecision(precision.toStdString(), options.precision))
        return Status::failure(
            QStringLiteral("unknown precision \"%1\" (use fp32 or bf16)").arg(precision));
    std::unique_ptr<SpeechEncoder> loaded;
    const bool builtIn = spec.isEmpty() || spec == QLatin1String(kBuiltIn);
    QString source = QString::fromLatin1(kBuiltIn);
    ModelStatus st;
    if (builtIn) {
        st = SpeechEncoder::createFbank(options, loaded);
    } else {
        const QFileInfo folder(spec);
        if (!folder.isDir())
            return Status::failure(
                QStringLiteral("%1: not a model folder (expected a folder with config.json and "
                               "model.safetensors, or \"fbank\")")
                    .arg(spec));
        source = folder.absoluteFilePath();
        st = SpeechEncoder::loadFolder(QDir::toNativeSeparators(source).toStdString(), options,
                                       loaded);
    }
    if (!st)
        return Status::failure(QString::fromStdString(st.error()));

    if (description) {
        EncoderDescription d;
        d.identity = QString::fromStdString(loaded->identity());
        d.source = source;
        d.name = builtIn ? source : QFileInfo(source).fileName();
        if (!builtIn && options.precision == EncoderPrecision::BFloat16)
            d.name += QStringLiteral(" (bf16)");
        d.modelType = builtIn ? source : modelTypeOf(loaded->identity());
        d.layerCount = loaded->layerCount();
        d.hiddenSize = loaded->hiddenSize();
        d.framesPerSecond = loaded->framesPerSecond();
        *description = d;
    }
    *encoder = std::move(loaded);
    return Status::success();
}

QStringList EncoderCatalog::precisions()
{
    return {QString::fromLatin1(precisionName(EncoderPrecision::Float32)),
            QString::fromLatin1(precisionName(EncoderPrecision::BFloat16))};
}

QString EncoderCatalog::precisionOfIdentity(const QString &identity)
{
    return QString::fromLatin1(precisionName(identity.endsWith(QLatin1String("-bf16"))
                                                 ? EncoderPrecision::BFloat16
                                                 : EncoderPrecision::Float32));
}

Status EncoderCatalog::describeEncoder(const QString &spec, EncoderDescription *description)
{
    std::unique_ptr<SpeechEncoder> encoder;
    // Validation must not change the process-wide thread setting: -1 leaves it alone.
    return loadEncoder(spec, QStringLiteral("cpu"), -1, &encoder, description);
}

} // namespace emolens
