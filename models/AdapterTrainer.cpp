#include "AdapterTrainer.h"

#include "AdapterPretraining.h"
#include "EmotionAdapter.h"
#include "EncoderPretraining.h"
#include "KMeans.h"
#include "OutOfMemory.h"
#include "SafeTensors.h"
#include "SafeTensorsWriter.h"
#include "SelfSupervisedEncoder.h"
#include "TrainingParts.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <thread>

namespace emolens {

namespace {

using namespace trainingparts;

constexpr const char *kFormat = "emolens-adapter-1";

struct Batch
{
    std::vector<std::size_t> clips; // into the source
    int64_t frames = 0;             // the longest
    bool means = false;             // load each clip's frame means (one "frame" per clip)
};

// Clips sorted by length and cut into batches of at most batchFrames padded frames.
std::vector<Batch> makeBatches(const ClipFeatureSource &source, std::vector<std::size_t> which,
                               int64_t batchFrames, int maxClips)
{
    const auto &clips = source.clips();
    std::stable_sort(which.begin(), which.end(), [&clips](std::size_t a, std::size_t b) {
        return clips[a].frames < clips[b].frames;
    });
    std::vector<Batch> batches;
    Batch current;
    for (std::size_t i : which) {
        const int64_t frames = std::max<int64_t>(1, clips[i].frames);
        const int64_t longest = std::max(current.frames, frames);
        if (!current.clips.empty() && (longest * int64_t(current.clips.size() + 1) > batchFrames ||
                                       int(current.clips.size()) >= maxClips)) {
            batches.push_back(std::move(current));
            current = Batch();
        }
        current.clips.push_back(i);
        current.frames = std::max(current.frames, frames);
    }
    if (!current.clips.empty())
        batches.push_back(std::move(current));
    return batches;
}

struct BatchTensors
{
    torch::Tensor hidden; // [B, L, T, H]
    torch::Tensor extra;  // [B, T, E] or undefined
    torch::Tensor mask;   // [B, T]
};

ModelStatus loadBatch(const ClipFeatureSource &source, const Batch &batch,
                      const torch::Device &device, BatchTensors *out)
{
    const int64_t layers = source.layerCount();
    const int64_t hidden = source.hiddenSize();
    const int64_t extras = source.extraInputs();
    const int64_t count = int64_t(batch.clips.size());
    std::vector<float> clipHidden, clipExtra;
    if (batch.means) {
        out->hidden = torch::zeros({count, layers, 1, hidden});
        out->extra = extras > 0 ? torch::zeros({count, 1, extras}) : torch::Tensor();
        out->mask = torch::ones({count, 1}, torch::kBool);
        std::vector<float> layerMeans(std::size_t(layers * hidden)),
            extraMeans(std::size_t(std::max<int64_t>(extras, 1)));
        for (int64_t b = 0; b < count; ++b) {
            std::string error;
            if (!source.readClipMeans(batch.clips[std::size_t(b)], layerMeans.data(),
                                      extraMeans.data(), &error))
                return ModelStatus::failure(error.empty() ? "no clip means" : error);
            out->hidden[b].copy_(torch::from_blob(layerMeans.data(), {layers, 1, hidden}));
            if (extras > 0)
                out->extra[b].copy_(torch::from_blob(extraMeans.data(), {1, extras}));
        }
        if (device.is_cuda()) {
            out->hidden = out->hidden.to(device);
            out->mask = out->mask.to(device);
            if (out->extra.defined())
                out->extra = out->extra.to(device);
        }
        return ModelStatus::success();
    }
    // On CUDA, when every clip of the batch is float16 already (the feature cache), the
    // float16 travels as it is, from pinned memory, and becomes float32 on the device: half
    // the bytes over the bus, no conversion on the CPU, and the copy overlaps the CPU's work.
    std::vector<const std::uint16_t *> halves(std::size_t(count), nullptr);
    std::vector<std::shared_ptr<const void>> keeps(static_cast<std::size_t>(count));
    bool allHalf = device.is_cuda();
    for (int64_t b = 0; b < count && allHalf; ++b) {
        std::string error;
        halves[std::size_t(b)] =
            source.hiddenHalf(batch.clips[std::size_t(b)], &keeps[std::size_t(b)], &error);
        if (!halves[std::size_t(b)] && !error.empty())
            return ModelStatus::failure(error);
        allHalf = halves[std::size_t(b)] != nullptr;
    }
    const auto hostOptions = torch::TensorOptions()
                                 .dtype(allHalf ? torch::kHalf : torch::kFloat)
                                 .pinned_memory(device.is_cuda());
    auto hostHidden = torch::zeros({count, layers, batch.frames, hidden}, hostOptions);
    out->extra = extras > 0 ? torch::zeros({count, batch.frames, extras}) : torch::Tensor();
    out->mask = torch::zeros({count, batch.frames}, torch::kBool);
    for (int64_t b = 0; b < count; ++b) {
        const std::size_t i = batch.clips[std::size_t(b)];
        const int64_t frames = source.clips()[i].frames;
        std::string error;
        std::shared_ptr<const void> keep;
        const std::uint16_t *half =
            allHalf ? halves[std::size_t(b)] : source.hiddenHalf(i, &keep, &error);
        if (!half && !error.empty())
            return ModelStatus::failure(error);
        clipHidden.assign(half ? 0 : std::size_t(layers * frames * hidden), 0.0f);
        clipExtra.assign(std::size_t(frames * std::max<int64_t>(extras, 1)), 0.0f);
        if (!source.read(i, half ? nullptr : clipHidden.data(), clipExtra.data(), &error))
            return ModelStatus::failure(error);
        // float16 from the cache is converted in one vectorised copy (or not at all, above).
        const auto values = half ? torch::from_blob(const_cast<std::uint16_t *>(half),
                                                    {layers, frames, hidden}, torch::kHalf)
                                 : torch::from_blob(clipHidden.data(), {layers, frames, hidden});
        hostHidden[b].slice(1, 0, frames).copy_(values);
        if (extras > 0)
            out->extra[b]
                .slice(0, 0, frames)
                .copy_(torch::from_blob(clipExtra.data(), {frames, extras}));
        out->mask[b].slice(0, 0, frames).fill_(true);
    }
    if (device.is_cuda()) {
        out->hidden = hostHidden.to(device, /*non_blocking=*/true).to(torch::kFloat);
        out->mask = out->mask.to(device);
        if (out->extra.defined())
            out->extra = out->extra.to(device);
    } else {
        out->hidden = hostHidden;
    }
    return ModelStatus::success();
}

double unweightedAccuracy(const std::vector<int> &truth, const std::vector<int> &predicted,
                          int classes)
{
    std::vector<int> support(std::size_t(classes), 0), hits(std::size_t(classes), 0);
    for (std::size_t i = 0; i < truth.size(); ++i) {
        if (truth[i] < 0 || truth[i] >= classes)
            continue;
        ++support[std::size_t(truth[i])];
        hits[std::size_t(truth[i])] += predicted[i] == truth[i] ? 1 : 0;
    }
    double sum = 0;
    int present = 0;
    for (int c = 0; c < classes; ++c)
        if (support[std::size_t(c)] > 0) {
            sum += double(hits[std::size_t(c)]) / support[std::size_t(c)];
            ++present;
        }
    return present > 0 ? sum / present : 0;
}

// Whether the source's features fit the adapter's settings; the failure says what they are.
ModelStatus featuresFit(const ClipFeatureSource &source, const AdapterOptions &adapter)
{
    if (source.layerCount() != adapter.layerCount || source.hiddenSize() != adapter.hiddenSize ||
        source.extraInputs() != adapter.extraInputs)
        return ModelStatus::failure("the features (" + std::to_string(source.layerCount()) + " x " +
                                    std::to_string(source.hiddenSize()) +
                                    ") do not fit the adapter's settings");
    return ModelStatus::success();
}

// Whether the clip means give the same clip logits as the frames (see TrainerOptions).
bool meansAreExact(const TrainerOptions &o, const ClipFeatureSource &source,
                   const std::vector<std::size_t> &some)
{
    if (!o.clipMeansWhenExact || o.adapter.transformerLayers > 0 || o.pretrain.epochs > 0 ||
        !o.initialBackbone.empty() || o.gmpAtl.multiTaskEpochs > 0 ||
        o.adapter.encoderFirstLayer > 0 || o.speedPerturbation ||
        o.adapter.pooling != AdapterPooling::Mean || some.empty())
        return false;
    std::vector<float> layers(std::size_t(source.layerCount() * source.hiddenSize()));
    std::vector<float> extras(std::size_t(std::max(1, source.extraInputs())));
    std::string error;
    return source.readClipMeans(some.front(), layers.data(), extras.data(), &error);
}

// The clip means of the clips a run uses, read once: the epochs then read memory, not the
// cache (a file opened per clip per epoch). 13 x 768 floats per clip: 220 MB for 5,500 clips.
class MeansInMemory final : public ClipFeatureSource
{
public:
    ModelStatus load(const ClipFeatureSource &source, const std::vector<std::size_t> &a,
                     const std::vector<std::size_t> &b,
                     const AdapterTrainer::CancelCheck &cancelled)
    {
        m_source = &source;
        m_width = std::size_t(source.layerCount()) * std::size_t(source.hiddenSize());
        m_extras = std::size_t(std::max(0, source.extraInputs()));
        m_slot.assign(source.clips().size(), -1);
        std::size_t used = 0;
        for (const auto *which : {&a, &b})
            for (std::size_t i : *which)
                if (m_slot[i] < 0)
                    m_slot[i] = int64_t(used++);
        m_layers.resize(used * m_width);
        m_extra.resize(used * std::max<std::size_t>(m_extras, 1));
        std::string error;
        for (std::size_t i = 0; i < m_slot.size(); ++i) {
            if (m_slot[i] < 0)
                continue;
            if (cancelled && cancelled())
                return ModelStatus::success(); // the caller notices the cancel
            const std::size_t k = std::size_t(m_slot[i]);
            if (!source.readClipMeans(i, m_layers.data() + k * m_width,
                                      m_extra.data() + k * std::max<std::size_t>(m_extras, 1),
                                      &error))
                return ModelStatus::failure(error.empty() ? "no clip means" : error);
        }
        return ModelStatus::success();
    }
    int layerCount() const override { return m_source->layerCount(); }
    int hiddenSize() const override { return m_source->hiddenSize(); }
    int extraInputs() const override { return m_source->extraInputs(); }
    const std::vector<TrainerClip> &clips() const override { return m_source->clips(); }
    bool read(std::size_t i, float *hidden, float *extra, std::string *error) const override
    {
        return m_source->read(i, hidden, extra, error);
    }
    const std::uint16_t *hiddenHalf(std::size_t i, std::shared_ptr<const void> *keep,
                                    std::string *error) const override
    {
        return m_source->hiddenHalf(i, keep, error);
    }
    bool readClipMeans(std::size_t i, float *layerMeans, float *extraMeans,
                       std::string *error) const override
    {
        if (i >= m_slot.size() || m_slot[i] < 0)
            return m_source->readClipMeans(i, layerMeans, extraMeans, error);
        const std::size_t k = std::size_t(m_slot[i]);
        std::copy_n(m_layers.data() + k * m_width, m_width, layerMeans);
        std::copy_n(m_extra.data() + k * std::max<std::size_t>(m_extras, 1), m_extras, extraMeans);
        return true;
    }

private:
    const ClipFeatureSource *m_source = nullptr;
    std::size_t m_width = 0;
    std::size_t m_extras = 0;
    std::vector<int64_t> m_slot;
    std::vector<float> m_layers;
    std::vector<float> m_extra;
};

std::vector<Batch> withMeans(std::vector<Batch> batches, bool means)
{
    for (Batch &b : batches)
        b.means = means;
    return batches;
}

constexpr const char *kCheckpointFormat = "emolens-adapter-checkpoint-1";
constexpr const char *kPretrainCheckpointFormat = "emolens-adapter-pretrain-checkpoint-1";
// Seed 003's stage 1 (the auxiliary tasks alone), after each of its epochs.
constexpr const char *kStage1CheckpointFormat = "emolens-adapter-stage1-checkpoint-1";
// GMP-ATL's steps 1 and 3 (seed 001), after each of their epochs.
constexpr const char *kGmpAtlCheckpointFormat = "emolens-adapter-gmp-atl-checkpoint-1";

std::string pretrainHistoryText(const std::vector<PretrainRecord> &history)
{
    return recordsText(history, &PretrainRecord::maskLoss, &PretrainRecord::distillLoss,
                       &PretrainRecord::maskAccuracy, &PretrainRecord::seconds);
}

bool parsePretrainHistory(const std::string &text, std::vector<PretrainRecord> *out)
{
    return parseRecords(text, out, &PretrainRecord::maskLoss, &PretrainRecord::distillLoss,
                        &PretrainRecord::maskAccuracy, &PretrainRecord::seconds);
}

// Seed 003's stage-1 records, likewise.
std::string ariHistoryText(const std::vector<AriRecord> &history)
{
    return recordsText(history, &AriRecord::genderLoss, &AriRecord::speakerLoss,
                       &AriRecord::styleLoss, &AriRecord::characterLoss, &AriRecord::genderAccuracy,
                       &AriRecord::speakerAccuracy, &AriRecord::styleAccuracy, &AriRecord::seconds);
}

bool parseAriHistory(const std::string &text, std::vector<AriRecord> *out)
{
    return parseRecords(text, out, &AriRecord::genderLoss, &AriRecord::speakerLoss,
                        &AriRecord::styleLoss, &AriRecord::characterLoss,
                        &AriRecord::genderAccuracy, &AriRecord::speakerAccuracy,
                        &AriRecord::styleAccuracy, &AriRecord::seconds);
}

// GMP-ATL's records of one step, likewise (the step is the metadata key's).
std::string gmpHistoryText(const std::vector<GmpAtlRecord> &history, int step)
{
    std::vector<GmpAtlRecord> of;
    for (const GmpAtlRecord &r : history)
        if (r.step == step)
            of.push_back(r);
    return recordsText(of, &GmpAtlRecord::emotionLoss, &GmpAtlRecord::auxiliaryLoss,
                       &GmpAtlRecord::auxiliaryAccuracy, &GmpAtlRecord::seconds);
}

bool parseGmpHistory(const std::string &text, int step, std::vector<GmpAtlRecord> *out)
{
    std::vector<GmpAtlRecord> of;
    if (!parseRecords(text, &of, &GmpAtlRecord::emotionLoss, &GmpAtlRecord::auxiliaryLoss,
                      &GmpAtlRecord::auxiliaryAccuracy, &GmpAtlRecord::seconds))
        return false;
    for (GmpAtlRecord &r : of) {
        r.step = step;
        out->push_back(r);
    }
    return true;
}

// A stage's checkpoint (pre-training, seed 003's stage 1), opened, with its settings checked
// against the run's - the adapter's, the stage's own (under stageKey, named stageName in the
// message) and the seed - and its epoch read.
ModelStatus openStageCheckpoint(const std::string &path, const std::string &adapterSettings,
                                const char *stageKey, const std::string &stageSettings,
                                uint64_t seed, const char *stageName,
                                std::unique_ptr<SafeTensorsFile> *file, int *epoch)
{
    if (auto st = SafeTensorsFile::open(path, *file); !st)
        return st;
    if (metadataText(**file, "settings") != adapterSettings ||
        metadataText(**file, stageKey) != stageSettings ||
        metadataText(**file, "seed") != std::to_string(seed))
        return ModelStatus::failure(path +
                                    ": the checkpoint was written with other settings "
                                    "(adapter, " +
                                    stageName + " or seed) than this run's");
    try {
        *epoch = std::stoi(metadataText(**file, "epoch"));
    } catch (...) {
        return ModelStatus::failure(path + ": the checkpoint's header is damaged");
    }
    return ModelStatus::success();
}

// The tensors of an adapter's backbone (see AdapterTrainer::backboneSettings): what adapter TAPT
// hands on; the pooling and the heads are the rest.
bool isBackboneTensor(const std::string &name)
{
    for (const char *part :
         {"layer_logits", "ari_logits", "input_mean", "input_std", "block_logits"})
        if (name == part)
            return true;
    for (const char *prefix : {"projection.", "position.", "blocks."})
        if (name.rfind(prefix, 0) == 0)
            return true;
    return false;
}

// The state of a run after an epoch: what a resumed run needs to go on as if never stopped.
struct Checkpoint
{
    int epoch = 0;
    int bestEpoch = 0;
    double bestScore = -1e30;
    int sinceBest = 0;
    std::vector<EpochRecord> history;
};

std::string historyText(const std::vector<EpochRecord> &history)
{
    return recordsText(history, &EpochRecord::trainLoss, &EpochRecord::validationLoss,
                       &EpochRecord::validationUa, &EpochRecord::seconds);
}

bool parseHistory(const std::string &text, std::vector<EpochRecord> *out)
{
    return parseRecords(text, out, &EpochRecord::trainLoss, &EpochRecord::validationLoss,
                        &EpochRecord::validationUa, &EpochRecord::seconds);
}

ModelStatus readCheckpointHeader(const SafeTensorsFile &file, Checkpoint *out)
{
    const auto &meta = file.metadata();
    auto text = [&meta](const char *key) {
        const auto it = meta.find(key);
        return it == meta.end() ? std::string() : it->second;
    };
    if (text("format") != kCheckpointFormat)
        return ModelStatus::failure(file.path() + ": not an EmoLens training checkpoint");
    try {
        out->epoch = std::stoi(text("epoch"));
        out->bestEpoch = std::stoi(text("best_epoch"));
        out->bestScore = std::stod(text("best_score"));
        out->sinceBest = std::stoi(text("since_best"));
    } catch (...) {
        return ModelStatus::failure(file.path() + ": the checkpoint's header is damaged");
    }
    if (!parseHistory(text("history"), &out->history) || int(out->history.size()) != out->epoch)
        return ModelStatus::failure(file.path() + ": the checkpoint's history is damaged");
    return ModelStatus::success();
}

} // namespace

struct AdapterTrainer::Private
{
    TrainerOptions options;
    EmotionAdapter net{nullptr};
    torch::Device device = torch::kCPU;
    std::vector<EpochRecord> history;
    int bestEpoch = 0;
    bool usedClipMeans = false;

    torch::Tensor classWeights;

    // The batch's loss (categorical and dimensional heads as the clips have labels for).
    torch::Tensor loss(const AdapterOutput &out, const ClipFeatureSource &source,
                       const Batch &batch)
    {
        const auto &clips = source.clips();
        auto total = torch::zeros({}, torch::TensorOptions().device(device));
        bool any = false;
        if (options.adapter.classCount > 0) {
            const int64_t classes = options.adapter.classCount;
            std::vector<int64_t> rows, targets;
            std::vector<float> shares; // [rows, classes], when a clip has soft targets
            bool soft = false;
            for (std::size_t b = 0; b < batch.clips.size(); ++b) {
                const TrainerClip &clip = clips[batch.clips[b]];
                if (clip.classIndex < 0)
                    continue;
                rows.push_back(int64_t(b));
                targets.push_back(clip.classIndex);
                soft = soft || int64_t(clip.classTargets.size()) == classes;
            }
            if (!rows.empty() && soft) {
                for (std::size_t r = 0; r < rows.size(); ++r) {
                    const TrainerClip &clip = clips[batch.clips[std::size_t(rows[r])]];
                    for (int64_t c = 0; c < classes; ++c)
                        shares.push_back(int64_t(clip.classTargets.size()) == classes
                                             ? clip.classTargets[std::size_t(c)]
                                             : (c == targets[r] ? 1.0f : 0.0f));
                }
                const auto index = torch::tensor(rows, torch::kLong).to(device);
                const auto p =
                    torch::tensor(shares).view({int64_t(rows.size()), classes}).to(device);
                total = total +
                        softClassificationLoss(out.logits.index_select(0, index), p, classWeights);
                any = true;
            } else if (!rows.empty()) {
                const auto index = torch::tensor(rows, torch::kLong).to(device);
                total = total + classificationLoss(out.logits.index_select(0, index),
                                                   torch::tensor(targets, torch::kLong).to(device),
                                                   classWeights);
                any = true;
            }
        }
        if (options.adapter.dimensionCount > 0) {
            const int64_t dims = options.adapter.dimensionCount;
            const int64_t count = int64_t(batch.clips.size());
            auto truth = torch::zeros({count, dims});
            auto valid = torch::zeros({count, dims}, torch::kBool);
            for (int64_t b = 0; b < count; ++b) {
                const auto &values = clips[batch.clips[std::size_t(b)]].dimensions;
                for (int64_t d = 0; d < dims && d < int64_t(values.size()); ++d)
                    if (!std::isnan(values[std::size_t(d)])) {
                        truth[b][d] = values[std::size_t(d)];
                        valid[b][d] = true;
                    }
            }
            total = total + concordanceLoss(out.dimensions, truth.to(device), valid.to(device));
            any = true;
        }
        return any ? total : torch::Tensor();
    }

    // Per-dimension mean and standard deviation of the integrated inputs over the training
    // clips, with the layers averaged evenly (the start of the learned average).
    // *stopped: cancelled() said so between two batches (the statistics are then unset).
    ModelStatus normalise(const ClipFeatureSource &source, const std::vector<std::size_t> &train,
                          bool means, const CancelCheck &cancelled, bool *stopped)
    {
        *stopped = false;
        torch::NoGradGuard noGrad;
        const int64_t width = source.hiddenSize() + source.extraInputs();
        auto sum = torch::zeros({width}, torch::kDouble);
        auto squares = torch::zeros({width}, torch::kDouble);
        double count = 0;
        for (const Batch &batch : withMeans(
                 makeBatches(source, train, options.batchFrames, options.maxBatchClips), means)) {
            if (cancelled && cancelled()) {
                *stopped = true;
                return ModelStatus::success();
            }
            BatchTensors t;
            if (auto st = loadBatch(source, batch, torch::kCPU, &t); !st)
                return st;
            // [B, T, H]; ARI's start: the last layer plus the even mean of layers 1 to L-2.
            torch::Tensor frames;
            if (options.adapter.layerIntegration == LayerIntegration::Ari) {
                const int64_t layers = t.hidden.size(1);
                frames = t.hidden.select(1, layers - 1);
                if (layers > 2)
                    frames = frames + t.hidden.slice(1, 1, layers - 1).mean(1);
            } else {
                frames = t.hidden.mean(1);
            }
            if (t.extra.defined())
                frames = torch::cat({frames, t.extra}, 2);
            const auto real = frames.index({t.mask}).to(torch::kDouble); // [N, width]
            sum += real.sum(0);
            squares += (real * real).sum(0);
            count += double(real.size(0));
        }
        if (count < 1)
            return ModelStatus::failure("no training frames");
        const auto mean = sum / count;
        const auto variance = (squares / count - mean * mean).clamp_min(0);
        net->setInputNormalisation(mean.to(torch::kFloat).to(device),
                                   variance.sqrt().to(torch::kFloat).to(device));
        return ModelStatus::success();
    }

    // The run's state after an epoch, beside the path and renamed over it (never half written).
    ModelStatus saveCheckpoint(const std::string &path, const Checkpoint &c,
                               const std::map<std::string, torch::Tensor> &best,
                               const AdamW &adam) const
    {
        Float32Tensors writer;
        if (auto st = writeModule(&writer, "model/", *net); !st)
            return st;
        for (const auto &[name, value] : best)
            if (auto st = writer.add("best/" + name, value); !st)
                return st;
        if (auto st = adam.save(&writer); !st)
            return st;
        if (auto st = writeLocalAttributes(&writer); !st)
            return st;
        writer.setMetadata("format", kCheckpointFormat);
        writer.setMetadata("settings", options.adapter.describe());
        writer.setMetadata("seed", std::to_string(options.seed));
        writer.setMetadata("means", usedClipMeans ? "1" : "0");
        writer.setMetadata("pretrain", options.pretrain.describe());
        writer.setMetadata("epoch", std::to_string(c.epoch));
        writer.setMetadata("best_epoch", std::to_string(c.bestEpoch));
        char score[64];
        std::snprintf(score, sizeof score, "%.17g", c.bestScore);
        writer.setMetadata("best_score", score);
        writer.setMetadata("since_best", std::to_string(c.sinceBest));
        writer.setMetadata("history", historyText(c.history));
        return writer.write(path);
    }

    // Seed 000's teacher-student pre-training (see PretrainOptions).
    std::vector<std::size_t> pretrainClips;
    bool pretrainClipsSet = false;
    PretrainCallback onPretrain;
    GmpAtlCallback onGmpAtl;
    std::vector<GmpAtlRecord> gmpHistory;
    AriCallback onAri;
    std::vector<AriRecord> ariHistory;
    std::vector<PretrainRecord> pretrainHistory;

    // Seed 000's local attributes, kept from pre-training for the clip view: the teacher, its
    // centres [K, width], and how many labeled frames of each class carry each attribute
    // [K, classes] (of the clips pre-training and fine-tuning read with a category).
    EmotionAdapter laTeacher{nullptr};
    torch::Tensor laCentres, laClassFrames;
    // The pre-training's masked-prediction heads, kept with a backbone that adapter TAPT made
    // (for ALPS's surprisal), with the span length and mask fraction they were trained with.
    PretrainHeads laHeads{nullptr};
    int laSpanFrames = 8;
    double laMaskFraction = 0.5;

    // The local-attribute id of every frame of a batch [B, T] (padding gets some id too).
    torch::Tensor localAttributeIds(const BatchTensors &t)
    {
        const auto out = laTeacher->frames(t.hidden, t.mask, t.extra);
        const auto norms = laCentres.pow(2).sum(1); // [K]
        return (norms - 2 * torch::matmul(out, laCentres.t())).argmin(2);
    }

    // laClassFrames from the clips with a category.
    // cancelled() is polled between batches: *stopped, and the run keeps no local attributes.
    ModelStatus countLocalAttributes(const ClipFeatureSource &source,
                                     const std::vector<std::size_t> &clips,
                                     const CancelCheck &cancelled, bool *stopped)
    {
        *stopped = false;
        torch::NoGradGuard noGrad;
        const auto &info = source.clips();
        const int classes = options.adapter.classCount;
        std::vector<std::size_t> labeled;
        for (std::size_t i : clips)
            if (info[i].classIndex >= 0 && info[i].classIndex < classes)
                labeled.push_back(i);
        auto counts = torch::zeros({laCentres.size(0), std::max(classes, 1)}, torch::kFloat);
        auto table = counts.accessor<float, 2>();
        for (const Batch &batch :
             makeBatches(source, labeled, options.batchFrames, options.maxBatchClips)) {
            if (cancelled && cancelled()) {
                *stopped = true;
                laTeacher = nullptr; // no attributes without their counts
                laHeads = nullptr;
                laCentres = torch::Tensor();
                return ModelStatus::success();
            }
            BatchTensors t;
            if (auto st = loadBatch(source, batch, device, &t); !st)
                return st;
            const auto ids = localAttributeIds(t).cpu().contiguous();
            const auto a = ids.accessor<int64_t, 2>();
            for (std::size_t b = 0; b < batch.clips.size(); ++b) {
                const TrainerClip &clip = info[batch.clips[b]];
                for (int64_t f = 0; f < clip.frames; ++f)
                    table[a[int64_t(b)][f]][clip.classIndex] += 1;
            }
        }
        laClassFrames = counts;
        return ModelStatus::success();
    }

    // The local attributes into a model file or checkpoint (nothing when there are none).
    ModelStatus writeLocalAttributes(Float32Tensors *writer) const
    {
        if (!laTeacher)
            return ModelStatus::success();
        if (auto st = writeModule(writer, "local_attributes/teacher/", *laTeacher); !st)
            return st;
        if (auto st = writer->add("local_attributes/centres", laCentres); !st)
            return st;
        if (auto st = writer->add("local_attributes/class_frames", laClassFrames); !st)
            return st;
        writer->setMetadata("local_attributes", std::to_string(laCentres.size(0)));
        if (laHeads) {
            if (auto st = writeModule(writer, "local_attributes/heads/", *laHeads); !st)
                return st;
            writer->setMetadata("surprisal_span", std::to_string(laSpanFrames));
            char fraction[64];
            std::snprintf(fraction, sizeof fraction, "%.17g", laMaskFraction);
            writer->setMetadata("surprisal_mask", fraction);
        }
        return ModelStatus::success();
    }

    // The masked-prediction heads writeLocalAttributes wrote (a file without them, or without
    // local attributes, leaves none).
    ModelStatus readSurprisalHeads(const SafeTensorsFile &file)
    {
        laHeads = nullptr;
        const auto span = file.metadata().find("surprisal_span");
        if (!laTeacher || span == file.metadata().end())
            return ModelStatus::success();
        const auto mask = file.metadata().find("surprisal_mask");
        const SafeTensorInfo *head = file.find("local_attributes/heads/cluster_head.weight");
        try {
            laSpanFrames = std::stoi(span->second);
            laMaskFraction = mask == file.metadata().end() ? -1 : std::stod(mask->second);
        } catch (...) {
            laSpanFrames = 0;
        }
        if (laSpanFrames < 1 || !(laMaskFraction > 0 && laMaskFraction < 1) || !head ||
            head->shape.size() != 2 || head->shape[0] < 2 ||
            head->shape[1] != options.adapter.width)
            return ModelStatus::failure(file.path() +
                                        ": the masked-prediction heads' settings are damaged");
        PretrainHeads heads(options.adapter.width, int(head->shape[0]));
        heads->to(device);
        if (auto st = readModule(file, "local_attributes/heads/", *heads); !st)
            return st;
        heads->eval();
        laHeads = heads;
        return ModelStatus::success();
    }

    // What writeLocalAttributes wrote; a file without them leaves none. backboneOnly: the
    // teacher's backbone and the centres only (a backbone file of another run, whose classes
    // may differ): the counts per class are then zero until countLocalAttributes.
    ModelStatus readLocalAttributes(const SafeTensorsFile &file, bool backboneOnly = false)
    {
        laTeacher = nullptr;
        laHeads = nullptr;
        laCentres = laClassFrames = torch::Tensor();
        const auto it = file.metadata().find("local_attributes");
        if (it == file.metadata().end())
            return ModelStatus::success();
        int64_t k = 0;
        try {
            k = std::stoll(it->second);
        } catch (...) {
        }
        // The count must match the centres' shape before anything is allocated for it.
        const SafeTensorInfo *shape = file.find("local_attributes/centres");
        if (k < 1 || !shape || shape->shape.size() != 2 || shape->shape[0] != k)
            return ModelStatus::failure(file.path() + ": the local attributes' count \"" +
                                        it->second + "\" is damaged");
        torch::NoGradGuard noGrad;
        EmotionAdapter teacher(options.adapter);
        teacher->to(device);
        if (auto st = readModule(file, "local_attributes/teacher/", *teacher,
                                 backboneOnly ? isBackboneTensor : nullptr);
            !st)
            return st;
        torch::Tensor centres, classFrames;
        if (auto st = readTensor(file, "local_attributes/centres",
                                 torch::empty({k, options.adapter.width}).to(device), &centres);
            !st)
            return st;
        if (backboneOnly)
            classFrames = torch::zeros({k, std::max(options.adapter.classCount, 1)});
        else if (auto st = readTensor(file, "local_attributes/class_frames",
                                      torch::empty({k, std::max(options.adapter.classCount, 1)}),
                                      &classFrames);
                 !st)
            return st;
        for (auto &q : teacher->parameters())
            q.requires_grad_(false);
        teacher->eval();
        laTeacher = teacher;
        laCentres = centres;
        laClassFrames = classFrames;
        return ModelStatus::success();
    }

    // Up to `limit` frame features of net (its backbone's output, real frames only) over the
    // batches in a seeded shuffled order, as one float32 CPU matrix [rows, width]: the sample
    // k-means reads (seed 000's local attributes, GMP-ATL's pseudo-labels). Sets *stopped (and
    // returns an undefined *out) when cancelled() says so between batches.
    ModelStatus sampleFrames(EmotionAdapter &net, const ClipFeatureSource &source,
                             const std::vector<Batch> &batches, uint64_t shuffleSeed, int64_t limit,
                             const CancelCheck &cancelled, bool *stopped, torch::Tensor *out)
    {
        torch::NoGradGuard noGrad;
        std::vector<Batch> order = batches;
        std::mt19937_64 random(shuffleSeed);
        std::shuffle(order.begin(), order.end(), random);
        std::vector<torch::Tensor> parts;
        int64_t rows = 0;
        for (const Batch &batch : order) {
            if (rows >= limit)
                break;
            if (cancelled && cancelled()) {
                *stopped = true;
                return ModelStatus::success();
            }
            BatchTensors t;
            if (auto st = loadBatch(source, batch, device, &t); !st)
                return st;
            const auto x = net->frames(t.hidden, t.mask, t.extra);
            parts.push_back(x.index({t.mask}).to(torch::kCPU, torch::kFloat));
            rows += parts.back().size(0);
        }
        auto all = torch::cat(parts, 0);
        if (all.size(0) > limit)
            all = all.slice(0, 0, limit);
        *out = all.contiguous();
        return ModelStatus::success();
    }

    static constexpr uint64_t kPretrainSalt = 0x5052455452414E31ull;
    static constexpr uint64_t kClusterSalt = 0x434C555354455231ull;

    // Local attributes: k-means over the teacher's frame outputs on a seeded sample of batches.
    ModelStatus cluster(EmotionAdapter &teacher, const ClipFeatureSource &source,
                        const std::vector<Batch> &batches, int epoch, torch::Tensor *centres,
                        const CancelCheck &cancelled, bool *stopped)
    {
        torch::NoGradGuard noGrad;
        const PretrainOptions &p = options.pretrain;
        torch::Tensor all;
        if (auto st = sampleFrames(teacher, source, batches,
                                   epochSeed(options.seed ^ kClusterSalt, epoch), p.clusterFrames,
                                   cancelled, stopped, &all);
            !st || *stopped)
            return st;
        KMeansOptions k;
        k.clusters = int(std::min<int64_t>(p.clusters, all.size(0)));
        k.iterations = 20;
        k.seed = epochSeed(options.seed ^ kClusterSalt, epoch);
        k.device = options.device;
        k.threads = options.threads;
        const MatrixRows matrix(all.data_ptr<float>(), all.size(0), int(all.size(1)));
        KMeansResult result;
        if (auto st = runKMeans(matrix, k, &result); !st)
            return ModelStatus::failure("clustering the teacher's outputs: " + st.error());
        *centres = torch::from_blob(result.centres.data(), {result.clusters, result.dims})
                       .clone()
                       .to(device);
        return ModelStatus::success();
    }

    ModelStatus savePretrainCheckpoint(const std::string &path, EmotionAdapter &teacher,
                                       PretrainHeads &heads, const AdamW &adam,
                                       const torch::Tensor &centres, int epoch, int64_t step) const
    {
        Float32Tensors writer;
        using Part = std::pair<std::string, const torch::nn::Module *>;
        for (const auto &[prefix, module] :
             {Part{"model/", net.get()}, Part{"teacher/", teacher.get()},
              Part{"heads/", heads.get()}})
            if (auto st = writeModule(&writer, prefix, *module); !st)
                return st;
        if (auto st = writer.add("centres", centres); !st)
            return st;
        if (auto st = adam.save(&writer); !st)
            return st;
        writer.setMetadata("format", kPretrainCheckpointFormat);
        writer.setMetadata("settings", options.adapter.describe());
        writer.setMetadata("pretrain", options.pretrain.describe());
        writer.setMetadata("seed", std::to_string(options.seed));
        writer.setMetadata("epoch", std::to_string(epoch));
        writer.setMetadata("step", std::to_string(step));
        writer.setMetadata("history", pretrainHistoryText(pretrainHistory));
        return writer.write(path);
    }

    ModelStatus loadPretrainCheckpoint(const std::string &path, EmotionAdapter &teacher,
                                       PretrainHeads &heads, AdamW *adam, torch::Tensor *centres,
                                       int *epoch, int64_t *step)
    {
        std::unique_ptr<SafeTensorsFile> file;
        if (auto st = openStageCheckpoint(path, options.adapter.describe(), "pretrain",
                                          options.pretrain.describe(), options.seed, "pre-training",
                                          &file, epoch);
            !st)
            return st;
        auto text = [&file](const char *key) { return metadataText(*file, key); };
        try {
            *step = std::stoll(text("step"));
        } catch (...) {
            return ModelStatus::failure(path + ": the checkpoint's header is damaged");
        }
        if (!parsePretrainHistory(text("history"), &pretrainHistory) ||
            int(pretrainHistory.size()) != *epoch)
            return ModelStatus::failure(path + ": the checkpoint's history is damaged");
        using Part = std::pair<std::string, torch::nn::Module *>;
        for (const auto &[prefix, module] :
             {Part{"model/", net.get()}, Part{"teacher/", teacher.get()},
              Part{"heads/", heads.get()}})
            if (auto st = readModule(*file, prefix, *module); !st)
                return st;
        // The local attributes' centres: k x width, k as many as the sample allowed.
        const SafeTensorInfo *info = file->find("centres");
        if (!info || info->dtype != TensorDtype::F32 || info->shape.size() != 2 ||
            info->shape[1] != options.adapter.width || info->shape[0] < 1)
            return ModelStatus::failure(path +
                                        ": tensor centres is missing or has the wrong shape");
        auto value = torch::empty({info->shape[0], info->shape[1]}, torch::kFloat);
        std::memcpy(value.data_ptr<float>(), info->data, info->byteCount);
        *centres = value.to(device);
        return adam->restore(*file);
    }

    // Pre-trains the student (net) on clips; resume: from the pre-training checkpoint.
    ModelStatus pretrain(const ClipFeatureSource &source, const std::vector<std::size_t> &clips,
                         bool resume, const CancelCheck &cancelled, bool *stopped)
    {
        *stopped = false;
        pretrainHistory.clear();
        const PretrainOptions &p = options.pretrain;
        if (p.clusters < 2 || p.refreshEpochs < 1 || p.spanFrames < 1 || p.maskFraction <= 0 ||
            p.maskFraction >= 1 || p.emaStart < 0 || p.emaEnd > 1 || p.clusterFrames < p.clusters)
            return ModelStatus::failure("pre-training settings out of range: " + p.describe());
        EmotionAdapter teacher(options.adapter);
        teacher->to(device);
        emaUpdate(*teacher, *net, 0.0); // the teacher starts as the student
        for (auto &q : teacher->parameters())
            q.requires_grad_(false);
        teacher->eval();
        PretrainHeads heads(options.adapter.width, p.clusters);
        heads->to(device);
        torch::OrderedDict<std::string, torch::Tensor> named;
        for (const auto &q : net->named_parameters())
            named.insert("model/" + q.key(), q.value());
        for (const auto &q : heads->named_parameters())
            named.insert("heads/" + q.key(), q.value());
        AdamW adam(named, p.learningRate, options.weightDecay);

        const std::vector<Batch> batches =
            makeBatches(source, clips, options.batchFrames, std::max(1, p.batchClips));
        const int64_t totalSteps = int64_t(p.epochs) * int64_t(batches.size());
        int done = 0;
        int64_t step = 0;
        torch::Tensor centres;
        if (resume)
            if (auto st = loadPretrainCheckpoint(options.checkpointPath, teacher, heads, &adam,
                                                 &centres, &done, &step);
                !st)
                return st;
        const auto &info = source.clips();
        for (int epoch = done + 1; epoch <= p.epochs; ++epoch) {
            const auto start = std::chrono::steady_clock::now();
            if (!centres.defined() || (epoch - 1) % p.refreshEpochs == 0) {
                if (auto st =
                        cluster(teacher, source, batches, epoch, &centres, cancelled, stopped);
                    !st || *stopped)
                    return st;
            }
            const auto centreNorms = centres.pow(2).sum(1); // [K]
            const uint64_t seed = epochSeed(options.seed ^ kPretrainSalt, epoch);
            std::vector<Batch> order = batches;
            std::mt19937_64 random(seed);
            std::shuffle(order.begin(), order.end(), random);
            torch::manual_seed(seed);
            net->train();
            heads->train();
            double maskSum = 0, distillSum = 0, correct = 0, masked = 0;
            int used = 0;
            for (const Batch &batch : order) {
                if (cancelled && cancelled()) {
                    *stopped = true;
                    return ModelStatus::success();
                }
                BatchTensors t;
                if (auto st = loadBatch(source, batch, device, &t); !st)
                    return st;
                torch::Tensor target, ids;
                {
                    torch::NoGradGuard noGrad;
                    std::vector<torch::Tensor> blocks;
                    const auto out = teacher->frames(t.hidden, t.mask, t.extra, {}, {}, &blocks);
                    if (blocks.empty())
                        blocks.push_back(out);
                    target = torch::zeros_like(out);
                    for (const auto &b : blocks)
                        target += instanceNormalise(b, t.mask);
                    target /= double(blocks.size());
                    ids = (centreNorms - 2 * torch::matmul(out, centres.t())).argmin(2);
                }
                std::vector<int64_t> lengths;
                for (std::size_t i : batch.clips)
                    lengths.push_back(std::max<int64_t>(1, info[i].frames));
                const auto spans =
                    spanMask(lengths, batch.frames, p.spanFrames, p.maskFraction, random)
                        .to(device);
                const auto student =
                    net->frames(t.hidden, t.mask, t.extra, spans, heads->maskVector);
                const auto x = student.index({spans});
                const auto truth = ids.index({spans});
                const auto logits = heads->clusterHead(x);
                const auto maskLoss = torch::nn::functional::cross_entropy(logits, truth);
                const auto distillLoss =
                    torch::mse_loss(heads->distillHead(x), target.index({spans}));
                const auto loss = p.maskWeight * maskLoss + p.distillWeight * distillLoss;
                adam.zeroGrad();
                loss.backward();
                adam.step();
                ++step;
                emaUpdate(*teacher, *net, emaDecay(step, totalSteps, p.emaStart, p.emaEnd));
                maskSum += maskLoss.item<double>();
                distillSum += distillLoss.item<double>();
                correct += double(logits.argmax(1).eq(truth).sum().item<int64_t>());
                masked += double(truth.size(0));
                ++used;
            }
            PretrainRecord record;
            record.epoch = epoch;
            record.maskLoss = used > 0 ? maskSum / used : 0;
            record.distillLoss = used > 0 ? distillSum / used : 0;
            record.maskAccuracy = masked > 0 ? correct / masked : 0;
            record.seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            pretrainHistory.push_back(record);
            if (!options.checkpointPath.empty())
                if (auto st = savePretrainCheckpoint(options.checkpointPath, teacher, heads, adam,
                                                     centres, epoch, step);
                    !st)
                    return st;
            if (onPretrain)
                onPretrain(record, double(epoch) / p.epochs);
        }
        laTeacher = teacher;
        laCentres = centres;
        heads->eval();
        laHeads = heads;
        laSpanFrames = p.spanFrames;
        laMaskFraction = p.maskFraction;
        return ModelStatus::success();
    }

    static constexpr uint64_t kSpeedSalt = 0x5350454544303033ull;

    // The source a training batch reads (TrainerOptions::speedPerturbation): variant 0, or one
    // drawn by `random`, with the batch's padded length for it.
    const ClipFeatureSource &trainingSource(const ClipFeatureSource &source, Batch *batch,
                                            std::mt19937_64 &random) const
    {
        if (!options.speedPerturbation || source.variantCount() < 2 || batch->means)
            return source;
        const int v = int(random() % uint64_t(source.variantCount()));
        const ClipFeatureSource *chosen = source.variant(v);
        if (!chosen)
            return source;
        batch->frames = 1;
        for (std::size_t i : batch->clips)
            batch->frames = std::max(batch->frames, chosen->clips()[i].frames);
        return *chosen;
    }

    // Paper mode: the encoder's Transformer weights (TrainerOptions::encoderFolder), read once
    // per run; every fresh adapter of the run starts from them.
    std::map<std::string, at::Tensor> encoderWeights;

    // Paper mode's encoder, read before the run's first adapter is made: its config.json
    // becomes the adapter's encoderConfig, and it must make the features' shape.
    ModelStatus readEncoder()
    {
        encoderWeights.clear();
        AdapterOptions &a = options.adapter;
        if (a.encoderFirstLayer <= 0)
            return ModelStatus::success();
        const std::string &folder = options.encoderFolder;
        if (folder.empty())
            return ModelStatus::failure("paper mode fine-tunes the encoder's Transformer layers, "
                                        "and no encoder folder was given");
        EncoderConfig c;
        if (auto st = readTransformer(
                folder, "to fine-tune (paper mode needs wav2vec 2.0, HuBERT or WavLM)", &c,
                &a.encoderConfig, &encoderWeights);
            !st)
            return st;
        if (c.layerCount + 1 != a.layerCount || c.hiddenSize != a.hiddenSize)
            return ModelStatus::failure(folder + ": an encoder of " + std::to_string(c.layerCount) +
                                        " Transformer layers x " + std::to_string(c.hiddenSize) +
                                        " did not make these features (" +
                                        std::to_string(a.layerCount) + " x " +
                                        std::to_string(a.hiddenSize) + ")");
        if (a.encoderFirstLayer > c.layerCount ||
            (options.encoderTrainFrom != 0 && (options.encoderTrainFrom < a.encoderFirstLayer ||
                                               options.encoderTrainFrom > c.layerCount + 1)))
            return ModelStatus::failure("paper mode: the encoder has Transformer layers 1 to " +
                                        std::to_string(c.layerCount) + "; layers from " +
                                        std::to_string(a.encoderFirstLayer) +
                                        " cannot run, or train from " +
                                        std::to_string(options.encoderTrainFrom));
        if (!options.encoderWeights.empty()) {
            if (a.encoderFirstLayer != 1)
                return ModelStatus::failure(
                    "the encoder adapted by TAPT changed every Transformer layer, so the cached "
                    "output of layer " +
                    std::to_string(a.encoderFirstLayer - 1) +
                    " is not its own: a run from it must run every layer (from layer 1)");
            std::map<std::string, at::Tensor> adapted;
            std::string adaptedConfig;
            if (auto st = readTaptWeights(options.encoderWeights, &adapted, &adaptedConfig); !st)
                return st;
            EncoderConfig parsed;
            if (auto st = EncoderConfig::parse(adaptedConfig, options.encoderWeights, parsed);
                !st || parsed.layerCount != c.layerCount || parsed.hiddenSize != c.hiddenSize ||
                parsed.modelType != c.modelType)
                return ModelStatus::failure(options.encoderWeights +
                                            ": TAPT adapted another encoder than " + folder);
            for (auto &[name, tensor] : adapted) {
                auto it = encoderWeights.find(name);
                if (it == encoderWeights.end() || it->second.sizes() != tensor.sizes())
                    return ModelStatus::failure(options.encoderWeights + ": tensor " + name +
                                                " does not fit the encoder in " + folder);
                it->second = tensor;
            }
        }
        return ModelStatus::success();
    }

    // The layer paper mode's fine-tuning trains the encoder from.
    int encoderTrainFrom() const
    {
        return options.encoderTrainFrom > 0 ? options.encoderTrainFrom
                                            : options.adapter.encoderFirstLayer;
    }

    // A fresh adapter's encoder layers from the encoder's weights, trained from `trainFrom`.
    ModelStatus fillEncoder(EmotionAdapter &n, int trainFrom)
    {
        auto layers = n->encoderLayers();
        if (!layers)
            return ModelStatus::success();
        if (auto st = layers->copyFrom(encoderWeights); !st)
            return ModelStatus::failure(options.encoderFolder + ": " + st.error());
        layers->trainFrom(trainFrom);
        return ModelStatus::success();
    }

    // A run's start: the device and threads, and a fresh adapter from the seed.
    void start()
    {
        device = torch::Device(options.device);
        useThreads(options.threads);
        torch::manual_seed(options.seed);
        net = EmotionAdapter(options.adapter);
        net->to(device);
        history.clear();
        bestEpoch = 0;
    }

    // Adapter TAPT's start (TrainerOptions::initialBackbone): the file's backbone into net, and
    // its local attributes (their counts are the caller's to redo).
    ModelStatus loadBackbone(const std::string &path)
    {
        std::unique_ptr<SafeTensorsFile> file;
        if (auto st = SafeTensorsFile::open(path, file); !st)
            return st;
        const auto &meta = file->metadata();
        const auto format = meta.find("format");
        if (format == meta.end() || format->second != kFormat)
            return ModelStatus::failure(path + ": not an EmoLens adapter");
        const auto settings = meta.find("backbone");
        const std::string wanted = AdapterTrainer::backboneSettings(options.adapter);
        if (settings == meta.end() || settings->second != wanted)
            return ModelStatus::failure(
                path + ": the pre-trained backbone (" +
                (settings == meta.end() ? std::string("no backbone settings") : settings->second) +
                ") does not fit this adapter (" + wanted + ")");
        if (auto st = readModule(*file, "", *net, isBackboneTensor); !st)
            return st;
        return readLocalAttributes(*file, true);
    }

    // Seed 003's auxiliary losses of a batch, per task (gender, speaker, style, characters):
    // undefined where the model lacks the task or no clip of the batch has its label; right
    // and counted add up the utterance tasks' answers.
    struct AuxiliaryLosses
    {
        torch::Tensor loss[EmotionAdapterImpl::kAuxiliaryTasks];
        double right[3] = {0, 0, 0};
        double counted[3] = {0, 0, 0};

        // The tasks' weighted sum; undefined when no task has a loss.
        torch::Tensor weighted(const AriOptions &a) const
        {
            const double weights[EmotionAdapterImpl::kAuxiliaryTasks] = {
                a.genderWeight, a.speakerWeight, a.styleWeight, a.characterWeight};
            torch::Tensor total;
            for (int k = 0; k < EmotionAdapterImpl::kAuxiliaryTasks; ++k)
                if (loss[k].defined())
                    total = total.defined() ? total + weights[k] * loss[k] : weights[k] * loss[k];
            return total;
        }
    };

    AuxiliaryLosses auxiliaryLosses(const AdapterOutput &out, const ClipFeatureSource &source,
                                    const Batch &batch, const BatchTensors &t) const
    {
        AuxiliaryLosses r;
        const auto &clips = source.clips();
        const torch::Tensor *logits[3] = {&out.genderLogits, &out.speakerLogits, &out.styleLogits};
        for (int k = 0; k < 3; ++k) {
            if (!logits[k]->defined())
                continue;
            const int64_t classes = logits[k]->size(1);
            std::vector<int64_t> rows, targets;
            for (std::size_t b = 0; b < batch.clips.size(); ++b) {
                const TrainerClip &c = clips[batch.clips[b]];
                const int label = k == 0 ? c.gender : k == 1 ? c.speaker : c.style;
                if (label >= 0 && label < classes) {
                    rows.push_back(int64_t(b));
                    targets.push_back(label);
                }
            }
            if (rows.empty())
                continue;
            const auto index = torch::tensor(rows, torch::kLong).to(device);
            const auto truth = torch::tensor(targets, torch::kLong).to(device);
            const auto chosen = logits[k]->index_select(0, index);
            r.right[k] += double(chosen.argmax(1).eq(truth).sum().item<int64_t>());
            r.counted[k] += double(rows.size());
            r.loss[k] = torch::nn::functional::cross_entropy(chosen, truth);
        }
        if (out.characterLogits.defined()) {
            // A transcript with characters outside the model's vocabulary is skipped.
            const int64_t vocabulary = out.characterLogits.size(2);
            std::vector<std::vector<int32_t>> transcripts;
            for (std::size_t i : batch.clips) {
                const auto &text = clips[i].characters;
                const bool fits = std::all_of(text.begin(), text.end(), [vocabulary](int32_t c) {
                    return c >= 1 && c < vocabulary;
                });
                transcripts.push_back(fits ? text : std::vector<int32_t>());
            }
            r.loss[EmotionAdapterImpl::kCharacterTask] =
                characterLoss(out.characterLogits, t.mask, transcripts);
        }
        return r;
    }

    static constexpr uint64_t kAriSalt = 0x4152494341543033ull;

    // Seed 003's stage 1 (AriOptions): the auxiliary tasks alone, on the training clips. The
    // input normalisation is already set; the fine-tuning (stage 2) continues from net.
    ModelStatus ariStage1(const ClipFeatureSource &source, const std::vector<std::size_t> &train,
                          const CancelCheck &cancelled, bool *stopped)
    {
        *stopped = false;
        ariHistory.clear();
        const AriOptions &a = options.ari;
        if (a.genderWeight < 0 || a.speakerWeight < 0 || a.styleWeight < 0 ||
            a.characterWeight < 0 || !(a.learningRate > 0))
            return ModelStatus::failure("ARI settings out of range: " + a.describe());
        if (options.adapter.pooling != AdapterPooling::CoAttention)
            return ModelStatus::failure("seed 003's stage 1 trains the co-attention adapter's "
                                        "auxiliary heads; this adapter has none");
        const std::vector<Batch> batches =
            makeBatches(source, train, options.batchFrames, options.maxBatchClips);
        torch::OrderedDict<std::string, torch::Tensor> named;
        torch::Tensor frozen;
        for (const auto &q : net->named_parameters()) {
            if (a.freezeAriInStage1 && q.key() == "ari_logits") {
                frozen = q.value();
                continue;
            }
            named.insert(q.key(), q.value());
        }
        // ARI frozen: no gradient reaches it in stage 1 (none is left over for stage 2).
        struct Unfreeze
        {
            torch::Tensor t;
            ~Unfreeze()
            {
                if (t.defined())
                    t.requires_grad_(true);
            }
        } unfreeze{frozen};
        if (frozen.defined())
            frozen.requires_grad_(false);
        // Paper mode: stage 1 trains every encoder layer the adapter runs.
        if (auto layers = net->encoderLayers())
            layers->trainFrom(options.adapter.encoderFirstLayer);
        AdamW adam(named, a.learningRate, options.weightDecay, options.encoderLearningRate);
        int done = 0;
        if (resumeStage1)
            if (auto st = loadStage1Checkpoint(options.checkpointPath, &adam, &done); !st)
                return st;
        for (int epoch = done + 1; epoch <= a.auxiliaryEpochs; ++epoch) {
            const auto start = std::chrono::steady_clock::now();
            const uint64_t seed = epochSeed(options.seed ^ kAriSalt, epoch);
            std::vector<Batch> order = batches;
            std::mt19937_64 random(seed);
            std::shuffle(order.begin(), order.end(), random);
            torch::manual_seed(seed);
            net->train();
            double sums[EmotionAdapterImpl::kAuxiliaryTasks] = {0, 0, 0, 0};
            int counts[EmotionAdapterImpl::kAuxiliaryTasks] = {0, 0, 0, 0};
            double right[3] = {0, 0, 0}, counted[3] = {0, 0, 0};
            std::mt19937_64 speeds(epochSeed(options.seed ^ kAriSalt ^ kSpeedSalt, epoch));
            for (Batch batch : order) {
                if (cancelled && cancelled()) {
                    *stopped = true;
                    return ModelStatus::success();
                }
                const ClipFeatureSource &read = trainingSource(source, &batch, speeds);
                BatchTensors t;
                if (auto st = loadBatch(read, batch, device, &t); !st)
                    return st;
                const auto out = net->forward(t.hidden, t.mask, t.extra);
                const AuxiliaryLosses aux = auxiliaryLosses(out, read, batch, t);
                const auto total = aux.weighted(a);
                if (!total.defined())
                    continue;
                adam.zeroGrad();
                total.backward();
                adam.step();
                for (int k = 0; k < EmotionAdapterImpl::kAuxiliaryTasks; ++k)
                    if (aux.loss[k].defined()) {
                        sums[k] += aux.loss[k].item<double>();
                        ++counts[k];
                    }
                for (int k = 0; k < 3; ++k) {
                    right[k] += aux.right[k];
                    counted[k] += aux.counted[k];
                }
            }
            auto mean = [&](int k) { return counts[k] > 0 ? sums[k] / counts[k] : 0.0; };
            auto share = [&](int k) { return counted[k] > 0 ? right[k] / counted[k] : 0.0; };
            AriRecord record;
            record.epoch = epoch;
            record.genderLoss = mean(0);
            record.speakerLoss = mean(1);
            record.styleLoss = mean(2);
            record.characterLoss = mean(3);
            record.genderAccuracy = share(0);
            record.speakerAccuracy = share(1);
            record.styleAccuracy = share(2);
            record.seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            ariHistory.push_back(record);
            if (!options.checkpointPath.empty())
                if (auto st = saveStage1Checkpoint(options.checkpointPath, adam, epoch); !st)
                    return st;
            if (onAri)
                onAri(record, double(epoch) / a.auxiliaryEpochs);
        }
        return ModelStatus::success();
    }

    // Stage 1 continues from options.checkpointPath (set by train() for its checkpoint).
    bool resumeStage1 = false;

    // The stage's state after an epoch: the adapter (with its normalisation), the optimiser,
    // the history; replaced atomically.
    ModelStatus saveStage1Checkpoint(const std::string &path, const AdamW &adam, int epoch) const
    {
        Float32Tensors writer;
        if (auto st = writeModule(&writer, "model/", *net); !st)
            return st;
        if (auto st = adam.save(&writer); !st)
            return st;
        writer.setMetadata("format", kStage1CheckpointFormat);
        writer.setMetadata("settings", options.adapter.describe());
        writer.setMetadata("ari", options.ari.describe());
        writer.setMetadata("seed", std::to_string(options.seed));
        writer.setMetadata("epoch", std::to_string(epoch));
        writer.setMetadata("history", ariHistoryText(ariHistory));
        return writer.write(path);
    }

    ModelStatus loadStage1Checkpoint(const std::string &path, AdamW *adam, int *epoch)
    {
        std::unique_ptr<SafeTensorsFile> file;
        if (auto st =
                openStageCheckpoint(path, options.adapter.describe(), "ari", options.ari.describe(),
                                    options.seed, "stage 1", &file, epoch);
            !st)
            return st;
        auto text = [&file](const char *key) { return metadataText(*file, key); };
        if (!parseAriHistory(text("history"), &ariHistory) || int(ariHistory.size()) != *epoch)
            return ModelStatus::failure(path + ": the checkpoint's history is damaged");
        if (auto st = readModule(*file, "model/", *net); !st)
            return st;
        return adam->restore(*file);
    }

    static constexpr uint64_t kGmpAtlSalt = 0x474D5041544C3031ull;

    // The utterance vector's width: SAP gives the weighted mean and standard deviation.
    int64_t pooledWidth() const
    {
        return options.adapter.pooling == AdapterPooling::AttentiveStatistics
                   ? 2 * int64_t(options.adapter.width)
                   : int64_t(options.adapter.width);
    }

    // One epoch of GMP-ATL's step 1 or 3: the emotion loss plus `auxiliary` (which returns the
    // batch's auxiliary loss, undefined when it has none, and adds its right and counted
    // targets), with `adam` over the parameters it names.
    using AuxiliaryLoss =
        std::function<torch::Tensor(const AdapterOutput &, const Batch &, const BatchTensors &,
                                    double *right, double *counted)>;
    ModelStatus gmpAtlEpoch(int step, int epoch, const ClipFeatureSource &source,
                            const std::vector<Batch> &batches, AdamW &adam,
                            const AuxiliaryLoss &auxiliary, double weight,
                            const CancelCheck &cancelled, bool *stopped, GmpAtlRecord *record)
    {
        const auto start = std::chrono::steady_clock::now();
        const uint64_t seed = epochSeed(options.seed ^ kGmpAtlSalt ^ uint64_t(step), epoch);
        std::vector<Batch> order = batches;
        std::mt19937_64 random(seed);
        std::shuffle(order.begin(), order.end(), random);
        torch::manual_seed(seed);
        net->train();
        double emotionSum = 0, auxiliarySum = 0, right = 0, counted = 0;
        int emotionBatches = 0, auxiliaryBatches = 0;
        for (const Batch &batch : order) {
            if (cancelled && cancelled()) {
                *stopped = true;
                return ModelStatus::success();
            }
            BatchTensors t;
            if (auto st = loadBatch(source, batch, device, &t); !st)
                return st;
            const auto out = net->forward(t.hidden, t.mask, t.extra);
            const auto emotion = loss(out, source, batch);
            const auto aux = auxiliary(out, batch, t, &right, &counted);
            if (!emotion.defined() && !aux.defined())
                continue;
            auto total = emotion.defined() ? emotion : torch::zeros({}, out.pooled.options());
            if (aux.defined())
                total = total + weight * aux;
            adam.zeroGrad();
            total.backward();
            adam.step();
            if (emotion.defined()) {
                emotionSum += emotion.item<double>();
                ++emotionBatches;
            }
            if (aux.defined()) {
                auxiliarySum += aux.item<double>();
                ++auxiliaryBatches;
            }
        }
        record->step = step;
        record->epoch = epoch;
        record->emotionLoss = emotionBatches > 0 ? emotionSum / emotionBatches : 0;
        record->auxiliaryLoss = auxiliaryBatches > 0 ? auxiliarySum / auxiliaryBatches : 0;
        record->auxiliaryAccuracy = counted > 0 ? right / counted : 0;
        record->seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return ModelStatus::success();
    }

    // Seed 001's steps 1-3 (GmpAtlOptions) on the training clips; leaves net as step 3's
    // adapter, which the fine-tuning (step 4) continues. The input normalisation is already set.
    ModelStatus gmpAtl(const ClipFeatureSource &source, const std::vector<std::size_t> &train,
                       const CancelCheck &cancelled, bool *stopped)
    {
        *stopped = false;
        gmpHistory.clear();
        const GmpAtlOptions &g = options.gmpAtl;
        int largest = 0;
        for (int k : g.scales)
            largest = std::max(largest, k);
        if (g.scales.empty() || *std::min_element(g.scales.begin(), g.scales.end()) < 2 ||
            g.retrainEpochs < 1 || g.clusterFrames < largest || g.genderWeight < 0 ||
            g.pseudoLabelWeight < 0)
            return ModelStatus::failure("GMP-ATL settings out of range: " + g.describe());
        const auto &info = source.clips();
        const std::vector<Batch> batches =
            makeBatches(source, train, options.batchFrames, options.maxBatchClips);
        const double totalEpochs = double(g.multiTaskEpochs + g.retrainEpochs);
        int epochsDone = 0;

        // A run killed in step 1 or 3 continues from the checkpoint of its last epoch there.
        std::unique_ptr<SafeTensorsFile> checkpoint;
        int resumeStep = 0, resumeEpoch = 0;
        if (resumeGmpAtl) {
            const std::string &path = options.checkpointPath;
            if (auto st =
                    openStageCheckpoint(path, options.adapter.describe(), "gmp_atl", g.describe(),
                                        options.seed, "GMP-ATL", &checkpoint, &resumeEpoch);
                !st)
                return st;
            const std::string step = metadataText(*checkpoint, "step");
            resumeStep = step == "1" ? 1 : step == "3" ? 3 : 0;
            if (resumeStep == 0 ||
                !parseGmpHistory(metadataText(*checkpoint, "history1"), 1, &gmpHistory) ||
                !parseGmpHistory(metadataText(*checkpoint, "history3"), 3, &gmpHistory) ||
                int(gmpHistory.size()) !=
                    (resumeStep == 1 ? resumeEpoch : g.multiTaskEpochs + resumeEpoch))
                return ModelStatus::failure(path + ": the checkpoint's history is damaged");
            epochsDone = int(gmpHistory.size());
        }

        // Step 1: emotion + gender.
        torch::nn::Linear genderHead(pooledWidth(), 2);
        genderHead->to(device);
        {
            torch::OrderedDict<std::string, torch::Tensor> named;
            for (const auto &q : net->named_parameters())
                named.insert("model/" + q.key(), q.value());
            for (const auto &q : genderHead->named_parameters())
                named.insert("gender/" + q.key(), q.value());
            // Paper mode: the encoder's layers train in steps 3 and 4, not here.
            if (auto layers = net->encoderLayers())
                layers->trainFrom(options.adapter.layerCount);
            AdamW adam(named, g.learningRate, options.weightDecay);
            const AuxiliaryLoss gender = [&](const AdapterOutput &out, const Batch &batch,
                                             const BatchTensors &, double *right, double *counted) {
                std::vector<int64_t> rows, targets;
                for (std::size_t b = 0; b < batch.clips.size(); ++b)
                    if (const int sex = info[batch.clips[b]].gender; sex == 0 || sex == 1) {
                        rows.push_back(int64_t(b));
                        targets.push_back(sex);
                    }
                if (rows.empty())
                    return torch::Tensor();
                const auto index = torch::tensor(rows, torch::kLong).to(device);
                const auto truth = torch::tensor(targets, torch::kLong).to(device);
                const auto logits = genderHead(out.pooled.index_select(0, index));
                *right += double(logits.argmax(1).eq(truth).sum().item<int64_t>());
                *counted += double(rows.size());
                return torch::nn::functional::cross_entropy(logits, truth);
            };
            int first = 1;
            if (resumeStep == 1) {
                for (const auto &[prefix, module] :
                     {std::pair<const char *, torch::nn::Module *>{"model/", net.get()},
                      {"gender/", genderHead.get()}})
                    if (auto st = readModule(*checkpoint, prefix, *module); !st)
                        return st;
                if (auto st = adam.restore(*checkpoint); !st)
                    return st;
                first = resumeEpoch + 1;
            } else if (resumeStep == 3) {
                // Step 1 is over: its model, for step 2.
                if (auto st = readModule(*checkpoint, "step1/", *net); !st)
                    return st;
                first = g.multiTaskEpochs + 1;
            }
            for (int epoch = first; epoch <= g.multiTaskEpochs; ++epoch) {
                GmpAtlRecord record;
                if (auto st = gmpAtlEpoch(1, epoch, source, batches, adam, gender, g.genderWeight,
                                          cancelled, stopped, &record);
                    !st || *stopped)
                    return st;
                gmpHistory.push_back(record);
                if (!options.checkpointPath.empty())
                    if (auto st = saveGmpAtlCheckpoint(
                            1, epoch, {{"model/", net.get()}, {"gender/", genderHead.get()}}, adam);
                        !st)
                        return st;
                if (onGmpAtl)
                    onGmpAtl(record, ++epochsDone / totalEpochs);
            }
        }

        // Step 2: k-means of step 1's frame features at every scale, then each training
        // frame's nearest centre at each scale.
        std::vector<torch::Tensor> centres;          // per scale [k, width]
        std::map<std::size_t, torch::Tensor> pseudo; // per clip [scales, frames], long, CPU
        {
            torch::NoGradGuard noGrad;
            net->eval();
            torch::Tensor all;
            if (auto st = sampleFrames(net, source, batches, options.seed ^ kGmpAtlSalt,
                                       g.clusterFrames, cancelled, stopped, &all);
                !st || *stopped)
                return st;
            if (all.size(0) < largest)
                return ModelStatus::failure(
                    "GMP-ATL: " + std::to_string(all.size(0)) +
                    " training frames are too few for k = " + std::to_string(largest));
            const MatrixRows matrix(all.data_ptr<float>(), all.size(0), int(all.size(1)));
            for (std::size_t s = 0; s < g.scales.size(); ++s) {
                KMeansOptions k;
                k.clusters = g.scales[s];
                k.iterations = 20;
                k.seed = options.seed ^ kGmpAtlSalt ^ uint64_t(g.scales[s]);
                k.device = options.device;
                k.threads = options.threads;
                KMeansResult result;
                if (auto st = runKMeans(matrix, k, &result); !st)
                    return ModelStatus::failure("GMP-ATL, k-means at k = " +
                                                std::to_string(g.scales[s]) + ": " + st.error());
                centres.push_back(
                    torch::from_blob(result.centres.data(), {result.clusters, result.dims})
                        .clone()
                        .to(device));
            }
            for (const Batch &batch : batches) {
                if (cancelled && cancelled()) {
                    *stopped = true;
                    return ModelStatus::success();
                }
                BatchTensors t;
                if (auto st = loadBatch(source, batch, device, &t); !st)
                    return st;
                const auto x = net->frames(t.hidden, t.mask, t.extra); // [B, T, width]
                std::vector<torch::Tensor> ids;
                for (const auto &c : centres)
                    ids.push_back((c.pow(2).sum(1) - 2 * torch::matmul(x, c.t())).argmin(2).cpu());
                const auto stacked = torch::stack(ids, 1); // [B, scales, T]
                for (std::size_t b = 0; b < batch.clips.size(); ++b) {
                    const int64_t frames = std::max<int64_t>(1, info[batch.clips[b]].frames);
                    pseudo[batch.clips[b]] = stacked[int64_t(b)].slice(1, 0, frames).contiguous();
                }
            }
        }

        // Step 3: a fresh adapter (the same normalisation) learns the utterance labels with
        // one frame pseudo-label head per scale.
        torch::manual_seed(options.seed ^ kGmpAtlSalt ^ 3u);
        EmotionAdapter fresh(options.adapter);
        if (auto st = fillEncoder(fresh, encoderTrainFrom()); !st)
            return st;
        fresh->to(device);
        {
            torch::NoGradGuard noGrad;
            const auto buffers = net->named_buffers();
            for (auto &b : fresh->named_buffers())
                b.value().copy_(buffers[b.key()]);
        }
        EmotionAdapter step1 = net; // kept in step 3's checkpoints (step 2 is redone)
        net = fresh;
        std::vector<torch::nn::Linear> heads;
        torch::OrderedDict<std::string, torch::Tensor> named;
        for (const auto &q : net->named_parameters())
            named.insert("model/" + q.key(), q.value());
        for (std::size_t s = 0; s < g.scales.size(); ++s) {
            heads.emplace_back(options.adapter.width, g.scales[s]);
            heads.back()->to(device);
            for (const auto &q : heads.back()->named_parameters())
                named.insert("scale" + std::to_string(s) + "/" + q.key(), q.value());
        }
        AdamW adam(named, g.learningRate, options.weightDecay, options.encoderLearningRate);
        const AuxiliaryLoss pseudoLabels = [&](const AdapterOutput &out, const Batch &batch,
                                               const BatchTensors &t, double *right,
                                               double *counted) {
            const int64_t count = int64_t(batch.clips.size());
            const int64_t scales = int64_t(g.scales.size());
            auto truth = torch::full({count, scales, batch.frames}, -1, torch::kLong);
            for (int64_t b = 0; b < count; ++b) {
                const auto &ids = pseudo.at(batch.clips[std::size_t(b)]);
                truth[b].slice(1, 0, ids.size(1)).copy_(ids);
            }
            truth = truth.to(device);
            const auto x = out.frames.index({t.mask}); // [N, width]
            auto total = torch::zeros({}, x.options());
            for (int64_t s = 0; s < scales; ++s) {
                const auto target = truth.select(1, s).index({t.mask}); // [N]
                const auto logits = heads[std::size_t(s)](x);
                total = total + torch::nn::functional::cross_entropy(logits, target);
                *right += double(logits.argmax(1).eq(target).sum().item<int64_t>()) / scales;
            }
            *counted += double(x.size(0));
            return total;
        };
        std::vector<std::pair<std::string, torch::nn::Module *>> saved = {{"model/", net.get()},
                                                                          {"step1/", step1.get()}};
        for (std::size_t s = 0; s < heads.size(); ++s)
            saved.emplace_back("scale" + std::to_string(s) + "/", heads[s].get());
        int first = 1;
        if (resumeStep == 3) {
            for (const auto &[prefix, module] : saved)
                if (prefix != "step1/")
                    if (auto st = readModule(*checkpoint, prefix, *module); !st)
                        return st;
            if (auto st = adam.restore(*checkpoint); !st)
                return st;
            first = resumeEpoch + 1;
        }
        for (int epoch = first; epoch <= g.retrainEpochs; ++epoch) {
            GmpAtlRecord record;
            if (auto st = gmpAtlEpoch(3, epoch, source, batches, adam, pseudoLabels,
                                      g.pseudoLabelWeight, cancelled, stopped, &record);
                !st || *stopped)
                return st;
            gmpHistory.push_back(record);
            if (!options.checkpointPath.empty())
                if (auto st = saveGmpAtlCheckpoint(3, epoch, saved, adam); !st)
                    return st;
            if (onGmpAtl)
                onGmpAtl(record, ++epochsDone / totalEpochs);
        }
        return ModelStatus::success();
    }

    // GMP-ATL continues from options.checkpointPath (set by train() for its checkpoint).
    bool resumeGmpAtl = false;

    // Step 1's or 3's state after an epoch: the modules under their prefixes (step 3 also
    // keeps step 1's model, from which step 2 is redone on resume), the optimiser, the
    // records of both steps; replaced atomically.
    ModelStatus
    saveGmpAtlCheckpoint(int step, int epoch,
                         const std::vector<std::pair<std::string, torch::nn::Module *>> &modules,
                         const AdamW &adam) const
    {
        Float32Tensors writer;
        for (const auto &[prefix, module] : modules)
            if (auto st = writeModule(&writer, prefix, *module); !st)
                return st;
        if (auto st = adam.save(&writer); !st)
            return st;
        writer.setMetadata("format", kGmpAtlCheckpointFormat);
        writer.setMetadata("settings", options.adapter.describe());
        writer.setMetadata("gmp_atl", options.gmpAtl.describe());
        writer.setMetadata("seed", std::to_string(options.seed));
        writer.setMetadata("step", std::to_string(step));
        writer.setMetadata("epoch", std::to_string(epoch));
        writer.setMetadata("stage_epochs", std::to_string(gmpHistory.size()));
        writer.setMetadata("history1", gmpHistoryText(gmpHistory, 1));
        writer.setMetadata("history3", gmpHistoryText(gmpHistory, 3));
        return writer.write(options.checkpointPath);
    }

    // Restores what saveCheckpoint wrote, after checking that it belongs to these settings.
    ModelStatus loadCheckpoint(const std::string &path, Checkpoint *c,
                               std::map<std::string, torch::Tensor> *best, AdamW *adam)
    {
        std::unique_ptr<SafeTensorsFile> file;
        if (auto st = SafeTensorsFile::open(path, file); !st)
            return st;
        if (auto st = readCheckpointHeader(*file, c); !st)
            return st;
        const auto &meta = file->metadata();
        auto text = [&meta](const char *key) {
            const auto it = meta.find(key);
            return it == meta.end() ? std::string() : it->second;
        };
        if (text("settings") != options.adapter.describe() ||
            text("seed") != std::to_string(options.seed) ||
            text("means") != (usedClipMeans ? "1" : "0") ||
            text("pretrain") != options.pretrain.describe())
            return ModelStatus::failure(path + ": the checkpoint was written with other settings "
                                               "(adapter, pre-training, seed or inputs) than this "
                                               "run's");
        if (auto st = readModule(*file, "model/", *net); !st)
            return st;
        auto tensor = [&file](const std::string &name, const torch::Tensor &like,
                              torch::Tensor *out) { return readTensor(*file, name, like, out); };
        best->clear();
        if (c->bestEpoch > 0) {
            for (const auto &p : net->named_parameters())
                if (auto st = tensor("best/" + p.key(), p.value(), &(*best)[p.key()]); !st)
                    return st;
            for (const auto &b : net->named_buffers())
                if (auto st = tensor("best/" + b.key(), b.value(), &(*best)[b.key()]); !st)
                    return st;
        }
        if (auto st = readLocalAttributes(*file); !st)
            return st;
        return adam->restore(*file);
    }
};

AdapterTrainer::AdapterTrainer(TrainerOptions options) : d(std::make_unique<Private>())
{
    d->options = std::move(options);
}

AdapterTrainer::~AdapterTrainer() = default;

const std::vector<EpochRecord> &AdapterTrainer::history() const
{
    return d->history;
}

int AdapterTrainer::bestEpoch() const
{
    return d->bestEpoch;
}

bool AdapterTrainer::trainedOnClipMeans() const
{
    return d->usedClipMeans;
}

const TrainerOptions &AdapterTrainer::options() const
{
    return d->options;
}

int64_t AdapterTrainer::parameterCount() const
{
    if (!d->net)
        return 0;
    int64_t n = 0;
    for (const auto &p : d->net->parameters())
        n += p.numel();
    return n;
}

ModelStatus AdapterTrainer::train(const ClipFeatureSource &input,
                                  const std::vector<std::size_t> &train,
                                  const std::vector<std::size_t> &validation,
                                  const EpochCallback &onEpoch, const CancelCheck &cancelled,
                                  bool *wasCancelled)
{
    if (wasCancelled)
        *wasCancelled = false;
    try {
        TrainerOptions &o = d->options;
        if (auto st = featuresFit(input, o.adapter); !st)
            return st;
        if (train.empty())
            return ModelStatus::failure("no clips to train on");
        if (o.adapter.encoderFirstLayer > 0 &&
            (o.pretrain.epochs > 0 || !o.initialBackbone.empty()))
            return ModelStatus::failure(
                "paper mode fine-tunes the encoder; seed 000's pre-training and adapter TAPT "
                "are one-click stages and do not run with it");
        if (auto st = d->readEncoder(); !st)
            return st;
        // Where the means path applies, every clip's means are read once, up front.
        MeansInMemory memo;
        const bool memoised = meansAreExact(o, input, train);
        if (memoised) {
            if (auto st = memo.load(input, train, validation, cancelled); !st)
                return st;
            if (cancelled && cancelled()) {
                if (wasCancelled)
                    *wasCancelled = true;
                return ModelStatus::success();
            }
        }
        const ClipFeatureSource &source =
            memoised ? static_cast<const ClipFeatureSource &>(memo) : input;
        d->start();
        if (auto st = d->fillEncoder(d->net, d->encoderTrainFrom()); !st)
            return st;
        // Statistics over whatever the model is fed: frames, or the clips' frame means (any
        // affine normalisation keeps the means path exact).
        d->usedClipMeans = meansAreExact(o, source, train);
        const bool checkpointed = o.resume && !o.checkpointPath.empty() &&
                                  std::ifstream(o.checkpointPath, std::ios::binary).good();
        // A run killed while pre-training continues its pre-training; one killed later, its
        // fine-tuning (the checkpoint then holds the pre-trained weights).
        const std::string format = checkpointed ? checkpointFormat(o.checkpointPath) : "";
        const bool resumingPretrain = format == kPretrainCheckpointFormat;
        // Likewise one killed in seed 003's stage 1, or in GMP-ATL's steps 1 and 3.
        const bool resumingStage1 = format == kStage1CheckpointFormat;
        const bool resumingGmpAtl = format == kGmpAtlCheckpointFormat;
        const bool resuming =
            checkpointed && !resumingPretrain && !resumingStage1 && !resumingGmpAtl;
        if (resumingGmpAtl && o.gmpAtl.multiTaskEpochs == 0)
            return ModelStatus::failure(o.checkpointPath +
                                        ": a checkpoint of GMP-ATL's steps; this run has none");
        if (resumingStage1 && o.ari.auxiliaryEpochs == 0)
            return ModelStatus::failure(o.checkpointPath +
                                        ": a checkpoint of seed 003's stage 1; this run has no "
                                        "such stage");
        const bool fromBackbone = !o.initialBackbone.empty();
        if (fromBackbone && (o.pretrain.epochs > 0 || o.gmpAtl.multiTaskEpochs > 0 ||
                             o.ari.auxiliaryEpochs > 0 || resumingPretrain))
            return ModelStatus::failure(
                "a run from a pre-trained backbone (adapter TAPT) has no pre-training, GMP-ATL "
                "or auxiliary stage of its own");
        if (!resuming && !resumingPretrain && !resumingStage1 && !resumingGmpAtl && !fromBackbone) {
            bool stopped = false;
            if (auto st = d->normalise(source, train, d->usedClipMeans, cancelled, &stopped); !st)
                return st;
            if (stopped) {
                if (wasCancelled)
                    *wasCancelled = true;
                return ModelStatus::success();
            }
        }

        // Class weights, inverse to how often each class occurs in the training clips.
        const auto &clips = source.clips();
        if (o.balanceClasses && o.adapter.classCount > 0) {
            std::vector<double> counts(std::size_t(o.adapter.classCount), 0);
            for (std::size_t i : train) {
                if (clips[i].classIndex < 0 || clips[i].classIndex >= o.adapter.classCount)
                    continue;
                if (int(clips[i].classTargets.size()) == o.adapter.classCount)
                    for (std::size_t c = 0; c < counts.size(); ++c)
                        counts[c] += clips[i].classTargets[c]; // a soft clip's shares
                else
                    counts[std::size_t(clips[i].classIndex)] += 1;
            }
            const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
            std::vector<float> weights;
            for (double c : counts)
                weights.push_back(c > 0 ? float(total / (o.adapter.classCount * c)) : 0.0f);
            d->classWeights = torch::tensor(weights).to(d->device);
        } else {
            d->classWeights = torch::Tensor();
        }

        d->pretrainHistory.clear();
        d->laTeacher = nullptr;
        d->laHeads = nullptr;
        d->laCentres = d->laClassFrames = torch::Tensor();
        if (fromBackbone && !resuming) {
            if (auto st = d->loadBackbone(o.initialBackbone); !st)
                return st;
            if (d->laTeacher) {
                std::vector<std::size_t> seen = train;
                seen.insert(seen.end(), validation.begin(), validation.end());
                bool stopped = false;
                if (auto st = d->countLocalAttributes(source, seen, cancelled, &stopped); !st)
                    return st;
                if (stopped) {
                    if (wasCancelled)
                        *wasCancelled = true;
                    return ModelStatus::success();
                }
            }
        }
        if (o.pretrain.epochs > 0 && !resuming) {
            std::vector<std::size_t> clips = d->pretrainClips;
            if (!d->pretrainClipsSet) {
                clips = train;
                clips.insert(clips.end(), validation.begin(), validation.end());
            }
            if (clips.empty())
                return ModelStatus::failure("no clips to pre-train on");
            bool stopped = false;
            if (auto st = d->pretrain(source, clips, resumingPretrain, cancelled, &stopped); !st)
                return st;
            if (stopped) {
                if (wasCancelled)
                    *wasCancelled = true;
                return ModelStatus::success();
            }
            // Fine-tuning changes the backbone the masked-prediction heads were trained with.
            d->laHeads = nullptr;
            std::vector<std::size_t> seen = train;
            seen.insert(seen.end(), validation.begin(), validation.end());
            if (auto st = d->countLocalAttributes(source, seen, cancelled, &stopped); !st)
                return st;
            if (stopped) {
                if (wasCancelled)
                    *wasCancelled = true;
                return ModelStatus::success();
            }
        }

        // A stage before the fine-tuning on the training clips (GMP-ATL's steps 1-3, seed
        // 003's stage 1); a cancel inside it ends the run with nothing trained.
        bool stopped = false;
        auto runStage = [&](ModelStatus (Private::*stage)(const ClipFeatureSource &,
                                                          const std::vector<std::size_t> &,
                                                          const CancelCheck &, bool *)) {
            const ModelStatus st = (d.get()->*stage)(source, train, cancelled, &stopped);
            if (st && stopped && wasCancelled)
                *wasCancelled = true;
            return st;
        };
        if (o.gmpAtl.multiTaskEpochs > 0 && !resuming) {
            if (o.pretrain.epochs > 0)
                return ModelStatus::failure(
                    "GMP-ATL and the teacher-student pre-training are two recipes' stages; "
                    "they do not run together");
            if (resumingPretrain)
                return ModelStatus::failure(o.checkpointPath +
                                            ": a pre-training checkpoint; this run has no "
                                            "pre-training stage");
            d->resumeGmpAtl = resumingGmpAtl;
            if (auto st = runStage(&Private::gmpAtl); !st || stopped)
                return st;
        }

        if (o.ari.auxiliaryEpochs > 0 && !resuming) {
            if (o.pretrain.epochs > 0 || o.gmpAtl.multiTaskEpochs > 0)
                return ModelStatus::failure("seed 003's stage 1 runs alone, without another "
                                            "recipe's pre-training or GMP-ATL");
            if (resumingPretrain)
                return ModelStatus::failure(o.checkpointPath +
                                            ": a pre-training checkpoint; this run has no "
                                            "pre-training stage");
            d->resumeStage1 = resumingStage1;
            if (auto st = runStage(&Private::ariStage1); !st || stopped)
                return st;
        }

        if (auto layers = d->net->encoderLayers())
            layers->trainFrom(d->encoderTrainFrom());
        AdamW optimizer(d->net->named_parameters(), o.learningRate, o.weightDecay,
                        o.encoderLearningRate);
        const std::vector<Batch> sorted =
            withMeans(makeBatches(source, train, o.batchFrames, o.maxBatchClips), d->usedClipMeans);
        std::map<std::string, torch::Tensor> best;
        Checkpoint state;
        if (resuming) {
            if (auto st = d->loadCheckpoint(o.checkpointPath, &state, &best, &optimizer); !st)
                return st;
            d->history = state.history;
            d->bestEpoch = state.bestEpoch;
        }
        double &bestScore = state.bestScore;
        int &sinceBest = state.sinceBest;
        const bool patienceSpent = o.patience > 0 && sinceBest >= o.patience;
        for (int epoch = state.epoch + 1; epoch <= o.epochs && !patienceSpent; ++epoch) {
            const auto start = std::chrono::steady_clock::now();
            std::vector<Batch> batches = sorted;
            std::mt19937_64 order(epochSeed(o.seed, epoch));
            std::shuffle(batches.begin(), batches.end(), order);
            torch::manual_seed(epochSeed(o.seed, epoch));
            d->net->train();
            double lossSum = 0;
            int lossBatches = 0;
            std::mt19937_64 speeds(epochSeed(o.seed ^ Private::kSpeedSalt, epoch));
            for (Batch batch : batches) {
                if (cancelled && cancelled()) {
                    if (wasCancelled)
                        *wasCancelled = true;
                    break;
                }
                const ClipFeatureSource &read = d->trainingSource(source, &batch, speeds);
                BatchTensors t;
                if (auto st = loadBatch(read, batch, d->device, &t); !st)
                    return st;
                optimizer.zeroGrad();
                const auto out = d->net->forward(t.hidden, t.mask, t.extra);
                auto loss = d->loss(out, read, batch);
                // Seed 003's stage 2: the emotion loss plus the weighted auxiliary losses.
                if (o.adapter.pooling == AdapterPooling::CoAttention)
                    if (const auto aux = d->auxiliaryLosses(out, read, batch, t).weighted(o.ari);
                        aux.defined())
                        loss = loss.defined() ? loss + aux : aux;
                if (!loss.defined())
                    continue;
                loss.backward();
                optimizer.step();
                lossSum += loss.item<double>();
                ++lossBatches;
            }
            if (wasCancelled && *wasCancelled)
                break;
            EpochRecord record;
            record.epoch = epoch;
            record.trainLoss = lossBatches > 0 ? lossSum / lossBatches : 0;

            // Validation: loss and UA (or mean CCC when there is no categorical head).
            const std::vector<std::size_t> &scored = validation.empty() ? train : validation;
            {
                torch::NoGradGuard noGrad;
                d->net->eval();
                double validationLoss = 0;
                int validationBatches = 0;
                std::vector<int> truth, predicted;
                for (const Batch &batch :
                     withMeans(makeBatches(source, scored, o.batchFrames, o.maxBatchClips),
                               d->usedClipMeans)) {
                    BatchTensors t;
                    if (auto st = loadBatch(source, batch, d->device, &t); !st)
                        return st;
                    const auto out = d->net->forward(t.hidden, t.mask, t.extra);
                    if (const auto loss = d->loss(out, source, batch); loss.defined()) {
                        validationLoss += loss.item<double>();
                        ++validationBatches;
                    }
                    if (o.adapter.classCount > 0) {
                        const auto argmax = out.logits.argmax(1).cpu();
                        for (std::size_t b = 0; b < batch.clips.size(); ++b) {
                            truth.push_back(clips[batch.clips[b]].classIndex);
                            predicted.push_back(int(argmax[int64_t(b)].item<int64_t>()));
                        }
                    }
                }
                record.validationLoss =
                    validationBatches > 0 ? validationLoss / validationBatches : 0;
                record.validationUa =
                    o.adapter.classCount > 0
                        ? unweightedAccuracy(truth, predicted, o.adapter.classCount)
                        : 1 - record.validationLoss;
            }
            record.seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            d->history.push_back(record);
            // Better UA wins; a tie goes to the lower validation loss.
            const double score = record.validationUa - 1e-6 * record.validationLoss;
            if (score > bestScore) {
                bestScore = score;
                d->bestEpoch = epoch;
                sinceBest = 0;
                best.clear();
                for (const auto &p : d->net->named_parameters())
                    best[p.key()] = p.value().detach().clone();
                for (const auto &b : d->net->named_buffers())
                    best[b.key()] = b.value().detach().clone();
            } else {
                ++sinceBest;
            }
            state.epoch = epoch;
            state.bestEpoch = d->bestEpoch;
            state.history = d->history;
            if (!o.checkpointPath.empty())
                if (auto st = d->saveCheckpoint(o.checkpointPath, state, best, optimizer); !st)
                    return st;
            const bool goOn = !onEpoch || onEpoch(record, double(epoch) / o.epochs);
            if (!goOn || (o.patience > 0 && sinceBest >= o.patience))
                break;
        }
        // The best epoch's weights.
        if (!best.empty()) {
            torch::NoGradGuard noGrad;
            for (auto &p : d->net->named_parameters())
                p.value().copy_(best.at(p.key()));
            for (auto &b : d->net->named_buffers())
                b.value().copy_(best.at(b.key()));
        }
        d->net->eval();
        return ModelStatus::success();
    } catch (...) {
        return statusFromCurrentException("training the adapter");
    }
}

void AdapterTrainer::setPretrainClips(std::vector<std::size_t> clips)
{
    d->pretrainClips = std::move(clips);
    d->pretrainClipsSet = true;
}

void AdapterTrainer::setGmpAtlCallback(GmpAtlCallback callback)
{
    d->onGmpAtl = std::move(callback);
}

const std::vector<GmpAtlRecord> &AdapterTrainer::gmpAtlHistory() const
{
    return d->gmpHistory;
}

void AdapterTrainer::setAriCallback(AriCallback callback)
{
    d->onAri = std::move(callback);
}

const std::vector<AriRecord> &AdapterTrainer::ariHistory() const
{
    return d->ariHistory;
}

std::string AriOptions::describe() const
{
    char text[256];
    std::snprintf(text, sizeof text,
                  "ari-coattention stage1=%d weights=gender:%g/speaker:%g/style:%g/ctc:%g "
                  "freeze-ari=%d lr=%g",
                  auxiliaryEpochs, genderWeight, speakerWeight, styleWeight, characterWeight,
                  freezeAriInStage1 ? 1 : 0, learningRate);
    return text;
}

std::string GmpAtlOptions::describe() const
{
    std::string scaleText;
    for (int k : scales)
        scaleText += (scaleText.empty() ? "" : "/") + std::to_string(k);
    char text[256];
    std::snprintf(text, sizeof text,
                  "gmp-atl multitask=%d scales=%s frames=%lld retrain=%d weights=1/%g/%g "
                  "lr=%g",
                  multiTaskEpochs, scaleText.c_str(), static_cast<long long>(clusterFrames),
                  retrainEpochs, genderWeight, pseudoLabelWeight, learningRate);
    return text;
}

void AdapterTrainer::setPretrainCallback(PretrainCallback callback)
{
    d->onPretrain = std::move(callback);
}

const std::vector<PretrainRecord> &AdapterTrainer::pretrainHistory() const
{
    return d->pretrainHistory;
}

int AdapterTrainer::localAttributeCount() const
{
    return d->laTeacher ? int(d->laCentres.size(0)) : 0;
}

std::vector<float> AdapterTrainer::localAttributeClassFrames() const
{
    if (!d->laTeacher || d->options.adapter.classCount < 1)
        return {};
    const auto t = d->laClassFrames.contiguous();
    return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
}

std::string PretrainOptions::describe() const
{
    if (epochs <= 0)
        return "none";
    char text[320];
    std::snprintf(text, sizeof text,
                  "epochs=%d span=%d mask=%g ema=%g-%g clusters=%d refresh=%d sample=%lld "
                  "weights=%g/%g lr=%g batch=%d",
                  epochs, spanFrames, maskFraction, emaStart, emaEnd, clusters, refreshEpochs,
                  static_cast<long long>(clusterFrames), maskWeight, distillWeight, learningRate,
                  batchClips);
    return text;
}

ModelStatus AdapterTrainer::checkpointHistory(const std::string &path,
                                              std::vector<EpochRecord> *out, int *pretrainEpochs)
{
    if (pretrainEpochs)
        *pretrainEpochs = -1;
    std::unique_ptr<SafeTensorsFile> file;
    if (auto st = SafeTensorsFile::open(path, file); !st)
        return st;
    const auto &meta = file->metadata();
    if (const auto it = meta.find("format");
        it != meta.end() &&
        (it->second == kPretrainCheckpointFormat || it->second == kStage1CheckpointFormat ||
         it->second == kGmpAtlCheckpointFormat)) {
        out->clear(); // killed before fine-tuning: no fine-tuning epoch yet
        if (pretrainEpochs) {
            // GMP-ATL counts its steps 1 and 3 together.
            const auto epoch =
                meta.find(it->second == kGmpAtlCheckpointFormat ? "stage_epochs" : "epoch");
            try {
                *pretrainEpochs = epoch == meta.end() ? 0 : std::stoi(epoch->second);
            } catch (...) {
                return ModelStatus::failure(path + ": the checkpoint's header is damaged");
            }
        }
        return ModelStatus::success();
    }
    Checkpoint c;
    if (auto st = readCheckpointHeader(*file, &c); !st)
        return st;
    *out = c.history;
    return ModelStatus::success();
}

ModelStatus AdapterTrainer::predict(const ClipFeatureSource &source,
                                    const std::vector<std::size_t> &which, bool withFrames,
                                    bool withPooled, std::vector<ClipPrediction> *out,
                                    const CancelCheck &cancelled)
{
    out->assign(which.size(), ClipPrediction());
    if (!d->net)
        return ModelStatus::failure("the adapter has not been trained or loaded");
    try {
        const TrainerOptions &o = d->options;
        if (source.layerCount() != o.adapter.layerCount ||
            source.hiddenSize() != o.adapter.hiddenSize ||
            source.extraInputs() != o.adapter.extraInputs)
            return ModelStatus::failure("these features (" + std::to_string(source.layerCount()) +
                                        " layers x " + std::to_string(source.hiddenSize()) +
                                        ") come from another encoder than the one "
                                        "the model was trained on (" +
                                        std::to_string(o.adapter.layerCount) + " x " +
                                        std::to_string(o.adapter.hiddenSize) + ")");
        torch::NoGradGuard noGrad;
        useThreads(o.threads);
        d->net->eval();
        std::map<std::size_t, std::size_t> slot; // clip -> position in which
        for (std::size_t k = 0; k < which.size(); ++k)
            slot[which[k]] = k;
        // Clip posteriors only: the means suffice where they are exact.
        const bool means = !withFrames && !withPooled && meansAreExact(o, source, which);
        for (const Batch &batch :
             withMeans(makeBatches(source, which, o.batchFrames, o.maxBatchClips), means)) {
            if (cancelled && cancelled())
                return ModelStatus::failure("cancelled");
            BatchTensors t;
            if (auto st = loadBatch(source, batch, d->device, &t); !st)
                return st;
            const auto result = d->net->forward(t.hidden, t.mask, t.extra);
            const auto probabilities =
                result.logits.defined() ? torch::softmax(result.logits, 1).cpu() : torch::Tensor();
            const auto frameProbabilities = withFrames && result.frameLogits.defined()
                                                ? torch::softmax(result.frameLogits, 2).cpu()
                                                : torch::Tensor();
            const auto dimensions =
                result.dimensions.defined() ? result.dimensions.cpu() : torch::Tensor();
            const auto pooled = withPooled ? result.pooled.cpu().contiguous() : torch::Tensor();
            const auto attributes = withFrames && d->laTeacher
                                        ? d->localAttributeIds(t).to(torch::kInt).cpu().contiguous()
                                        : torch::Tensor();
            for (std::size_t b = 0; b < batch.clips.size(); ++b) {
                ClipPrediction &p = (*out)[slot.at(batch.clips[b])];
                const int64_t row = int64_t(b);
                p.frames = source.clips()[batch.clips[b]].frames;
                if (probabilities.defined()) {
                    const auto r = probabilities[row].contiguous();
                    p.probabilities.assign(r.data_ptr<float>(), r.data_ptr<float>() + r.numel());
                }
                if (dimensions.defined()) {
                    const auto r = dimensions[row].contiguous();
                    p.dimensions.assign(r.data_ptr<float>(), r.data_ptr<float>() + r.numel());
                }
                if (frameProbabilities.defined()) {
                    const auto r = frameProbabilities[row].slice(0, 0, p.frames).contiguous();
                    p.frameProbabilities.assign(r.data_ptr<float>(),
                                                r.data_ptr<float>() + r.numel());
                }
                if (pooled.defined()) {
                    const auto r = pooled[row].contiguous();
                    p.pooled.assign(r.data_ptr<float>(), r.data_ptr<float>() + r.numel());
                }
                if (attributes.defined()) {
                    const auto r = attributes[row].slice(0, 0, p.frames).contiguous();
                    p.localAttributes.assign(r.data_ptr<int32_t>(),
                                             r.data_ptr<int32_t>() + r.numel());
                }
            }
        }
        return ModelStatus::success();
    } catch (...) {
        return statusFromCurrentException("predicting with the adapter");
    }
}

ModelStatus AdapterTrainer::sample(const ClipFeatureSource &source,
                                   const std::vector<std::size_t> &which, int passes,
                                   std::uint64_t seed, std::vector<ClipPrediction> *out,
                                   const CancelCheck &cancelled)
{
    out->assign(which.size(), ClipPrediction());
    if (!d->net)
        return ModelStatus::failure("the adapter has not been trained or loaded");
    if (passes < 0)
        return ModelStatus::failure("the dropout passes cannot be negative");
    try {
        const TrainerOptions &o = d->options;
        if (source.layerCount() != o.adapter.layerCount ||
            source.hiddenSize() != o.adapter.hiddenSize ||
            source.extraInputs() != o.adapter.extraInputs)
            return ModelStatus::failure("these features come from another encoder than the one "
                                        "the model was trained on");
        torch::NoGradGuard noGrad;
        useThreads(o.threads);
        torch::manual_seed(seed);
        std::map<std::size_t, std::size_t> slot;
        for (std::size_t k = 0; k < which.size(); ++k)
            slot[which[k]] = k;
        const auto copyRow = [](const torch::Tensor &t, int64_t row, std::vector<float> *to) {
            const auto r = t[row].contiguous();
            to->insert(to->end(), r.data_ptr<float>(), r.data_ptr<float>() + r.numel());
        };
        // The clips' frame means where they give the same output (as training read them, so
        // the dropout passes sample the model that was trained).
        const bool means = meansAreExact(o, source, which);
        for (const Batch &batch :
             withMeans(makeBatches(source, which, o.batchFrames, o.maxBatchClips), means)) {
            if (cancelled && cancelled())
                return ModelStatus::failure("cancelled");
            BatchTensors t;
            if (auto st = loadBatch(source, batch, d->device, &t); !st)
                return st;
            d->net->eval();
            const auto result = d->net->forward(t.hidden, t.mask, t.extra);
            if (!result.logits.defined())
                return ModelStatus::failure("the model has no emotion classes to sample");
            const auto probabilities = torch::softmax(result.logits, 1).cpu();
            const auto input = result.classifierInput.to(torch::kFloat).cpu();
            for (std::size_t b = 0; b < batch.clips.size(); ++b) {
                ClipPrediction &p = (*out)[slot.at(batch.clips[b])];
                p.frames = source.clips()[batch.clips[b]].frames;
                copyRow(probabilities, int64_t(b), &p.probabilities);
                copyRow(input, int64_t(b), &p.classifierInput);
            }
            d->net->train(); // dropout on; the adapter has no batch statistics to disturb
            for (int pass = 0; pass < passes; ++pass) {
                const auto sampled =
                    torch::softmax(d->net->forward(t.hidden, t.mask, t.extra).logits, 1).cpu();
                for (std::size_t b = 0; b < batch.clips.size(); ++b)
                    copyRow(sampled, int64_t(b),
                            &(*out)[slot.at(batch.clips[b])].passProbabilities);
            }
            d->net->eval();
        }
        return ModelStatus::success();
    } catch (...) {
        d->net->eval();
        return statusFromCurrentException("sampling the adapter with dropout");
    }
}

bool AdapterTrainer::hasSurprisalHeads() const
{
    return d->net && d->laTeacher && d->laHeads;
}

ModelStatus
AdapterTrainer::surprisal(const ClipFeatureSource &source, const std::vector<std::size_t> &which,
                          int buckets, std::vector<std::vector<float>> *out,
                          const CancelCheck &cancelled,
                          const std::function<void(std::size_t done, std::size_t total)> &onBatch)
{
    out->assign(which.size(), {});
    if (!hasSurprisalHeads())
        return ModelStatus::failure(
            "this adapter file has no masked-prediction heads: ALPS needs a backbone that "
            "adapter TAPT stored with them (emolens-cli pretrain)");
    if (buckets < 1)
        return ModelStatus::failure("the surprisal needs at least one bucket per clip");
    try {
        const TrainerOptions &o = d->options;
        if (auto st = featuresFit(source, o.adapter); !st)
            return st;
        torch::NoGradGuard noGrad;
        useThreads(o.threads);
        d->net->eval();
        const int passes = std::max(2, int(std::lround(1.0 / d->laMaskFraction)));
        std::map<std::size_t, std::size_t> slot;
        for (std::size_t k = 0; k < which.size(); ++k)
            slot[which[k]] = k;
        const auto &info = source.clips();
        std::size_t done = 0;
        for (const Batch &batch : makeBatches(source, which, o.batchFrames, o.maxBatchClips)) {
            if (cancelled && cancelled())
                return ModelStatus::failure("cancelled");
            BatchTensors t;
            if (auto st = loadBatch(source, batch, d->device, &t); !st)
                return st;
            const auto ids = d->localAttributeIds(t); // [B, T]
            std::vector<int64_t> lengths;
            for (std::size_t i : batch.clips)
                lengths.push_back(std::max<int64_t>(1, info[i].frames));
            auto loss = torch::zeros(ids.sizes(), torch::kFloat).to(d->device);
            for (int pass = 0; pass < passes; ++pass) {
                const auto spans =
                    alternatingSpans(lengths, batch.frames, d->laSpanFrames, passes, pass)
                        .to(d->device)
                        .logical_and(t.mask);
                const auto student =
                    d->net->frames(t.hidden, t.mask, t.extra, spans, d->laHeads->maskVector);
                const auto logits = d->laHeads->clusterHead(student); // [B, T, K]
                const auto each =
                    torch::nn::functional::cross_entropy(
                        logits.flatten(0, 1).to(torch::kFloat), ids.flatten(),
                        torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))
                        .view(ids.sizes());
                loss = torch::where(spans, each, loss);
            }
            const auto values = loss.cpu().contiguous();
            for (std::size_t b = 0; b < batch.clips.size(); ++b)
                (*out)[slot.at(batch.clips[b])] =
                    bucketMeans(values[int64_t(b)].data_ptr<float>(),
                                std::min<int64_t>(lengths[b], batch.frames), buckets);
            done += batch.clips.size();
            if (onBatch)
                onBatch(done, which.size());
        }
        return ModelStatus::success();
    } catch (...) {
        return statusFromCurrentException("computing the clips' surprisal");
    }
}

std::string AdapterTrainer::backboneSettings(const AdapterOptions &a)
{
    std::ostringstream out;
    out << "encoder=" << a.layerCount << "x" << a.hiddenSize << " extra=" << a.extraInputs
        << (a.layerIntegration == LayerIntegration::WeightedAverage ? " layers=weighted"
            : a.layerIntegration == LayerIntegration::Ari
                ? " layers=ari"
                : " layer=" + std::to_string(a.chosenLayer))
        << " width=" << a.width << " position=" << a.positionKernel
        << " blocks=" << a.transformerLayers;
    if (a.transformerLayers > 0)
        out << " heads=" << a.heads << " ff=" << a.feedForward
            << (a.averageBlocks ? " average=1" : " average=0");
    return out.str();
}

ModelStatus AdapterTrainer::pretrainBackbone(const ClipFeatureSource &source,
                                             const std::vector<std::size_t> &clips,
                                             const CancelCheck &cancelled, bool *wasCancelled)
{
    if (wasCancelled)
        *wasCancelled = false;
    try {
        const TrainerOptions &o = d->options;
        if (auto st = featuresFit(source, o.adapter); !st)
            return st;
        if (o.pretrain.epochs < 1)
            return ModelStatus::failure("adapter TAPT needs at least one pre-training epoch");
        if (o.adapter.encoderFirstLayer > 0)
            return ModelStatus::failure("adapter TAPT trains the adapter alone; it has no paper "
                                        "mode (TAPT proper is not built yet)");
        if (clips.empty())
            return ModelStatus::failure("no clips to pre-train on");
        d->start();
        d->usedClipMeans = false;
        d->laTeacher = nullptr;
        d->laHeads = nullptr;
        d->laCentres = d->laClassFrames = torch::Tensor();
        const bool resuming = o.resume && !o.checkpointPath.empty() &&
                              std::ifstream(o.checkpointPath, std::ios::binary).good();
        if (resuming && checkpointFormat(o.checkpointPath) != kPretrainCheckpointFormat)
            return ModelStatus::failure(o.checkpointPath + ": not a pre-training checkpoint");
        bool stopped = false;
        auto stop = [&] {
            if (wasCancelled)
                *wasCancelled = true;
            d->laTeacher = nullptr;
            d->laHeads = nullptr;
            return ModelStatus::success();
        };
        // A resumed run's normalisation comes with the student from the checkpoint.
        if (!resuming) {
            if (auto st = d->normalise(source, clips, false, cancelled, &stopped); !st)
                return st;
            if (stopped)
                return stop();
        }
        if (auto st = d->pretrain(source, clips, resuming, cancelled, &stopped); !st)
            return st;
        if (stopped)
            return stop();
        if (auto st = d->countLocalAttributes(source, clips, cancelled, &stopped); !st)
            return st;
        if (stopped)
            return stop();
        d->net->eval();
        return ModelStatus::success();
    } catch (...) {
        return statusFromCurrentException("pre-training the adapter");
    }
}

ModelStatus AdapterTrainer::save(const std::string &path) const
{
    if (!d->net)
        return ModelStatus::failure("nothing to save: the adapter has not been trained");
    try {
        Float32Tensors writer;
        if (auto st = writeModule(&writer, "", *d->net); !st)
            return st;
        const AdapterOptions &a = d->options.adapter;
        writer.setMetadata("format", kFormat);
        writer.setMetadata("settings", a.describe());
        writer.setMetadata("backbone", backboneSettings(a));
        writer.setMetadata("layer_count", std::to_string(a.layerCount));
        writer.setMetadata("hidden_size", std::to_string(a.hiddenSize));
        writer.setMetadata("extra_inputs", std::to_string(a.extraInputs));
        writer.setMetadata("layer_integration",
                           a.layerIntegration == LayerIntegration::WeightedAverage ? "weighted"
                           : a.layerIntegration == LayerIntegration::Ari           ? "ari"
                                                                                   : "single");
        writer.setMetadata("chosen_layer", std::to_string(a.chosenLayer));
        writer.setMetadata("width", std::to_string(a.width));
        writer.setMetadata("transformer_layers", std::to_string(a.transformerLayers));
        writer.setMetadata("heads", std::to_string(a.heads));
        writer.setMetadata("feed_forward", std::to_string(a.feedForward));
        writer.setMetadata("position_kernel", std::to_string(a.positionKernel));
        writer.setMetadata("average_blocks", a.averageBlocks ? "1" : "0");
        writer.setMetadata("pooling", a.pooling == AdapterPooling::Mean          ? "mean"
                                      : a.pooling == AdapterPooling::CoAttention ? "coattention"
                                                                                 : "sap");
        writer.setMetadata("auxiliary_width", std::to_string(a.auxiliaryWidth));
        writer.setMetadata("gender_classes", std::to_string(a.genderClasses));
        writer.setMetadata("speaker_classes", std::to_string(a.speakerClasses));
        writer.setMetadata("style_classes", std::to_string(a.styleClasses));
        writer.setMetadata("character_classes", std::to_string(a.characterClasses));
        writer.setMetadata("attention_width", std::to_string(a.attentionWidth));
        writer.setMetadata("class_count", std::to_string(a.classCount));
        writer.setMetadata("dimension_count", std::to_string(a.dimensionCount));
        if (a.encoderFirstLayer > 0) {
            writer.setMetadata("encoder_first_layer", std::to_string(a.encoderFirstLayer));
            writer.setMetadata("encoder_config", a.encoderConfig);
            char dropout[64];
            std::snprintf(dropout, sizeof dropout, "%.17g", a.encoderDropout);
            writer.setMetadata("encoder_dropout", dropout);
        }
        if (auto st = d->writeLocalAttributes(&writer); !st)
            return st;
        return writer.write(path);
    } catch (...) {
        return statusFromCurrentException("saving the adapter to " + path);
    }
}

ModelStatus AdapterTrainer::load(const std::string &path)
{
    std::unique_ptr<SafeTensorsFile> file;
    if (auto st = SafeTensorsFile::open(path, file); !st)
        return st;
    const auto &meta = file->metadata();
    auto text = [&meta](const char *key) {
        const auto it = meta.find(key);
        return it == meta.end() ? std::string() : it->second;
    };
    if (text("format") != kFormat)
        return ModelStatus::failure(path + ": not an EmoLens adapter (format \"" + text("format") +
                                    "\")");
    try {
        AdapterOptions a;
        a.layerCount = std::stoi(text("layer_count"));
        a.hiddenSize = std::stoi(text("hidden_size"));
        a.extraInputs = std::stoi(text("extra_inputs"));
        a.layerIntegration = text("layer_integration") == "single" ? LayerIntegration::SingleLayer
                             : text("layer_integration") == "ari"
                                 ? LayerIntegration::Ari
                                 : LayerIntegration::WeightedAverage;
        a.chosenLayer = std::stoi(text("chosen_layer"));
        a.width = std::stoi(text("width"));
        a.transformerLayers = std::stoi(text("transformer_layers"));
        a.heads = std::stoi(text("heads"));
        a.feedForward = std::stoi(text("feed_forward"));
        // Files written before the option have no position convolution.
        a.positionKernel = text("position_kernel").empty() ? 0 : std::stoi(text("position_kernel"));
        a.averageBlocks = text("average_blocks") == "1";
        a.pooling = text("pooling") == "mean"          ? AdapterPooling::Mean
                    : text("pooling") == "coattention" ? AdapterPooling::CoAttention
                                                       : AdapterPooling::AttentiveStatistics;
        // Files written before seed 003's heads have none.
        auto count = [&text](const char *key, int otherwise) {
            return text(key).empty() ? otherwise : std::stoi(text(key));
        };
        a.auxiliaryWidth = count("auxiliary_width", a.auxiliaryWidth);
        a.genderClasses = count("gender_classes", 0);
        a.speakerClasses = count("speaker_classes", 0);
        a.styleClasses = count("style_classes", 0);
        a.characterClasses = count("character_classes", 0);
        a.attentionWidth = std::stoi(text("attention_width"));
        a.classCount = std::stoi(text("class_count"));
        a.dimensionCount = std::stoi(text("dimension_count"));
        // Paper mode's encoder layers (files of the one-click mode have none).
        a.encoderFirstLayer = count("encoder_first_layer", 0);
        if (a.encoderFirstLayer > 0) {
            a.encoderConfig = text("encoder_config");
            a.encoderDropout = std::stod(text("encoder_dropout"));
        }
        d->options.adapter = a;
        d->net = EmotionAdapter(a);
        if (auto st = readModule(*file, "", *d->net); !st)
            return st;
        d->device = torch::Device(d->options.device);
        d->net->to(d->device);
        d->net->eval();
        if (auto st = d->readLocalAttributes(*file); !st)
            return st;
        return d->readSurprisalHeads(*file);
    } catch (const std::invalid_argument &) {
        return ModelStatus::failure(path + ": the adapter settings in the file are damaged");
    } catch (...) {
        return statusFromCurrentException("loading the adapter from " + path);
    }
}

} // namespace emolens
