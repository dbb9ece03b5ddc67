#pragma once
// ClipPosteriors: the active model's frame-level emotion posteriors for one clip, for the clip
// view's emotion lane. Loads the active model version once (its weights from the workspace)
// and, per clip, reads the clip's cached features and runs the adapter: a few milliseconds for
// a 10 s clip with the built-in recipes on this machine's CPU.
//
// Threads: one thread at a time (the GUI thread in the app); it keeps no Database reference.

#include "AdapterTrainer.h"
#include "common/Status.h"
#include "store/ModelRepository.h"

#include <QString>
#include <QStringList>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace emolens {

class Database;

struct FramePosteriors
{
    QStringList classes;
    double framesPerSecond = 0;
    int frameCount = 0;
    std::vector<float> values; // [frames * classes]
    std::vector<float> clip;   // [classes]: the clip's posteriors
    // Seed 000's local attributes, when the model was pre-trained (adapter-local-attributes):
    // the id of each frame [frames], how many there are, and how many labeled frames of each
    // class carry each one in the data the model was trained on [attributes * classes].
    std::vector<int> localAttributes;
    int localAttributeCount = 0;
    std::vector<float> attributeClassFrames;
};

// Active learning's view of a clip (ClipPosteriors::sample).
struct ClipSample
{
    std::vector<float> probabilities;   // [classes], inference mode
    std::vector<float> classifierInput; // [head width]: what the classifier reads
    std::vector<float> passes;          // [passes * classes]: MC dropout's probabilities
};

class ClipPosteriors
{
public:
    ClipPosteriors();
    ~ClipPosteriors();

    // Loads the active model (or forgets the loaded one when there is none). False with a
    // reason when the weights cannot be read or the encoder is gone.
    Status loadActive(Database &db, const QString &cacheRoot);
    // Loads this model version, active or not. Fails naming the model when it is not there.
    Status loadModel(Database &db, const QString &cacheRoot, qint64 modelId);
    bool hasModel() const { return m_trainer != nullptr; }
    qint64 modelId() const { return m_model.id; }
    const ModelVersionRecord &model() const { return m_model; }

    // The clip's posteriors from its cached features; fails (naming what is missing) when the
    // clip has no features for the model's encoder.
    Status predict(const QString &contentHash, FramePosteriors *out) const;
    // The clips' probabilities, the classifier's input and `passes` MC-dropout passes (seed
    // 002's BALD and BADGE), in batches: out[i] is empty for a clip without features, and
    // *missing counts them. Costs passes + 1 forward passes of the adapter per clip.
    Status sample(const QStringList &contentHashes, int passes, std::uint64_t seed,
                  std::vector<ClipSample> *out, int *missing = nullptr,
                  const std::function<bool()> &cancelled = {}) const;

private:
    ModelVersionRecord m_model;
    QString m_cacheRoot;
    QString m_encoderIdentity;
    QString m_encoderName;
    int m_layerCount = 0;
    int m_hiddenSize = 0;
    double m_framesPerSecond = 0;
    std::unique_ptr<AdapterTrainer> m_trainer;
};

} // namespace emolens
