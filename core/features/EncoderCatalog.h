#pragma once
// EncoderCatalog: turns what a user names ("fbank", a model folder, "auto"/"cpu"/"cuda:1")
// into a loaded speech encoder on a device, with errors a user can act on. The GUI's encoder
// chooser validates a folder with describeEncoder() before adding it; the extraction job and
// the CLI load through loadEncoder(). Torch stays inside EncoderCatalog.cpp.
//
// Threads: any thread; loading takes a second or two for a base model, so the GUI calls it
// from a job.

#include "common/Status.h"
#include "store/FeatureRepository.h"

#include <QString>
#include <QStringList>
#include <memory>

namespace emolens {

class SpeechEncoder;

struct EncoderDescription
{
    QString identity;  // SpeechEncoder::identity(): the feature cache key
    QString name;      // "fbank", or the folder's name
    QString source;    // "fbank", or the folder's absolute path
    QString modelType; // fbank, wav2vec2, hubert, wavlm
    int layerCount = 0;
    int hiddenSize = 0;
    double framesPerSecond = 0;

    // The row the workspace's encoders table keeps for it (no id yet).
    EncoderRecord toRecord() const;
};

class EncoderCatalog
{
public:
    static constexpr const char *kBuiltIn = "fbank";

    // "auto" (a GPU when this build has CUDA and one is present), "cpu", "cuda", "cuda:N".
    // Fails, saying what is available, for anything else or a GPU that is not there.
    static Status resolveDevice(const QString &name, QString *resolved);
    // The devices this machine offers: "cpu", then "cuda:0", "cuda:1", ...
    static QStringList availableDevices();

    // Loads "fbank" or a Hugging Face folder (config.json + model.safetensors) on `device`
    // (already resolved). threadCount 0 uses one CPU thread per core.
    // keepProjection: a self-supervised encoder also returns the projected CNN features (the
    // input TAPT masks; HiddenStates::projection).
    // precision: "fp32" (the default) or "bf16" (models/SpeechEncoder.h, EncoderPrecision): a
    // bf16 encoder has an identity of its own ("...-bf16") and its name says "(bf16)"; fbank
    // computes in fp32 whatever is asked.
    static Status loadEncoder(const QString &spec, const QString &device, int threadCount,
                              std::unique_ptr<SpeechEncoder> *encoder,
                              EncoderDescription *description, bool keepProjection = false,
                              const QString &precision = QStringLiteral("fp32"));
    // "fp32", "bf16".
    static QStringList precisions();
    // The precision an encoder identity was computed in: "bf16" for "...-bf16", else "fp32".
    static QString precisionOfIdentity(const QString &identity);
    // Loads on the CPU only to check the folder and describe it; nothing is kept.
    static Status describeEncoder(const QString &spec, EncoderDescription *description);
};

} // namespace emolens
