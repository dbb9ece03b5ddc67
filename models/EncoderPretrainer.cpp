#include "EncoderPretrainer.h"

#include "EncoderPretraining.h"

#include "EncoderLayers.h"
#include "KMeans.h"
#include "OutOfMemory.h"
#include "SelfSupervisedEncoder.h"
#include "TrainingParts.h"

#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

namespace emolens {

using namespace trainingparts;

namespace {

constexpr const char *kCheckpointFormat = "emolens-tapt-checkpoint-1";

std::string historyText(const std::vector<EncoderPretrainRecord> &history)
{
    return recordsText(history, &EncoderPretrainRecord::loss,
                       &EncoderPretrainRecord::maskedAccuracy, &EncoderPretrainRecord::seconds);
}

bool parseHistory(const std::string &text, std::vector<EncoderPretrainRecord> *out)
{
    return parseRecords(text, out, &EncoderPretrainRecord::loss,
                        &EncoderPretrainRecord::maskedAccuracy, &EncoderPretrainRecord::seconds);
}

// One clip's features as float32 [layers, frames, hidden] (from the source's float16 when it
// holds them, as the feature cache does).
ModelStatus readClip(const ClipFeatureSource &source, std::size_t i, torch::Tensor *out)
{
    const int64_t frames = source.clips()[i].frames;
    std::string error;
    std::shared_ptr<const void> keep;
    if (const std::uint16_t *half = source.hiddenHalf(i, &keep, &error)) {
        *out = torch::from_blob(const_cast<std::uint16_t *>(half),
                                {source.layerCount(), frames, source.hiddenSize()}, torch::kHalf)
                   .to(torch::kFloat);
        return ModelStatus::success();
    }
    if (!error.empty())
        return ModelStatus::failure(error);
    *out = torch::empty({source.layerCount(), frames, source.hiddenSize()}, torch::kFloat);
    std::vector<float> extra(std::size_t(std::max<int64_t>(1, frames * source.extraInputs())));
    if (!source.read(i, out->data_ptr<float>(), extra.data(), &error))
        return ModelStatus::failure(error);
    return ModelStatus::success();
}

// The prediction head HuBERT adds during pre-training and drops afterwards: the learned mask
// vector, the projection of the last layer's output and one embedding per cluster.
struct HeadsImpl : torch::nn::Module
{
    HeadsImpl(int hidden, int projection, int clusters)
    {
        maskVector = register_parameter("mask_vector", torch::rand({hidden}));
        finalProjection =
            register_module("final_projection", torch::nn::Linear(hidden, projection));
        clusterEmbeddings =
            register_parameter("cluster_embeddings", torch::randn({clusters, projection}));
    }
    torch::Tensor maskVector;
    torch::nn::Linear finalProjection{nullptr};
    torch::Tensor clusterEmbeddings;
};
TORCH_MODULE(Heads);

} // namespace

std::string EncoderPretrainOptions::describe() const
{
    std::ostringstream out;
    out << "objective=hubert-masked-prediction clusters=" << clusters
        << " target_layer=" << (targetLayer > 0 ? std::to_string(targetLayer) : "middle")
        << " cluster_frames=" << clusterFrames << " mask_start=" << startProbability
        << " span=" << spanFrames << " projection=" << projectionSize
        << " temperature=" << temperature << " lr=" << learningRate
        << " weight_decay=" << weightDecay << " batch=" << batchClips << " dropout=" << dropout
        << " epochs=" << epochs << " frozen=cnn,projection,positional-conv";
    return out.str();
}

at::Tensor spanStartMask(const std::vector<int64_t> &lengths, int64_t frames, int spanFrames,
                         double startProbability, std::mt19937_64 &random)
{
    TORCH_CHECK(spanFrames > 0 && startProbability > 0 && startProbability < 1,
                "span masking: the span must be at least one frame and the start probability "
                "in (0, 1)");
    auto mask = torch::zeros({int64_t(lengths.size()), frames}, torch::kBool);
    bool *out = mask.data_ptr<bool>();
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<int64_t> starts;
    for (std::size_t b = 0; b < lengths.size(); ++b) {
        const int64_t length = std::min(lengths[b], frames);
        if (length <= 0)
            continue;
        bool *row = out + int64_t(b) * frames;
        const double u = unit(random);
        if (length <= spanFrames) {
            std::fill(row, row + length, true);
            continue;
        }
        starts.resize(std::size_t(length - spanFrames + 1));
        std::iota(starts.begin(), starts.end(), int64_t(0));
        const std::size_t count =
            std::min(starts.size(),
                     std::max<std::size_t>(1, std::size_t(startProbability * double(length) + u)));
        for (std::size_t k = 0; k < count; ++k) {
            std::uniform_int_distribution<std::size_t> pick(k, starts.size() - 1);
            std::swap(starts[k], starts[pick(random)]);
            std::fill(row + starts[k], row + starts[k] + spanFrames, true);
        }
    }
    return mask;
}

at::Tensor positionalInput(const at::Tensor &projected, const at::Tensor &mask,
                           const std::map<std::string, at::Tensor> &tensors, const EncoderConfig &c)
{
    const auto tensor = [&tensors](const char *name) {
        const auto it = tensors.find(name);
        TORCH_CHECK(it != tensors.end(), "the encoder has no tensor \"", name, "\"");
        return it->second;
    };
    const auto padding = mask.to(torch::kBool).logical_not().unsqueeze(2);
    const auto x = projected.masked_fill(padding, 0);
    const int64_t kernel = c.positionConvKernel;
    auto position = torch::conv1d(x.transpose(1, 2), tensor("position_weight").to(x.dtype()),
                                  tensor("position_bias").to(x.dtype()), /*stride=*/1,
                                  /*padding=*/kernel / 2, /*dilation=*/1, c.positionConvGroups);
    if (kernel % 2 == 0)
        position = position.narrow(2, 0, position.size(2) - 1);
    auto y = x + torch::gelu(position).transpose(1, 2);
    if (!c.stableLayerNorm)
        y = torch::layer_norm(y, {c.hiddenSize}, tensor("encoder_norm_weight").to(x.dtype()),
                              tensor("encoder_norm_bias").to(x.dtype()), c.layerNormEps);
    return y.masked_fill(padding, 0);
}

struct EncoderPretrainer::Private
{
    EncoderPretrainOptions options;
    Callback callback;
    std::vector<EncoderPretrainRecord> history;
    EncoderConfig config;
    std::string configText;
    std::map<std::string, at::Tensor> encoderTensors; // the folder's, on the CPU
    EncoderLayers layers{nullptr};
    Heads heads{nullptr};
    torch::Device device{torch::kCPU};
    int targetLayer = 0;
    KMeansResult centres;
    std::vector<std::vector<int64_t>> targets; // per clip of the source, per frame
    bool resumed = false;
    int resumedAfterEpoch = 0;

    ModelStatus readEncoder()
    {
        const std::string &folder = options.encoderFolder;
        if (folder.empty())
            return ModelStatus::failure("TAPT trains the encoder's Transformer, and no encoder "
                                        "folder was given");
        return readTransformer(folder, "to pre-train (TAPT needs wav2vec 2.0, HuBERT or WavLM)",
                               &config, &configText, &encoderTensors);
    }

    // The targets: k-means of the target layer's cached frames (a seeded sample of them), then
    // each frame's nearest centre.
    ModelStatus makeTargets(const ClipFeatureSource &source, const std::vector<std::size_t> &clips,
                            bool haveCentres, const CancelCheck &cancelled, bool *stopped)
    {
        const int hidden = source.hiddenSize();
        if (!haveCentres) {
            int64_t total = 0;
            for (std::size_t i : clips)
                total += source.clips()[i].frames;
            const int64_t wanted = std::min<int64_t>(total, options.clusterFrames);
            const double keep = total > 0 ? double(wanted) / double(total) : 0;
            std::mt19937_64 random(options.seed ^ 0x7A97ull);
            std::uniform_real_distribution<double> unit(0.0, 1.0);
            std::vector<float> rows;
            rows.reserve(std::size_t(wanted + 64) * std::size_t(hidden));
            for (std::size_t i : clips) {
                if (cancelled && cancelled()) {
                    *stopped = true;
                    return ModelStatus::success();
                }
                torch::Tensor clip;
                if (auto st = readClip(source, i, &clip); !st)
                    return st;
                const auto layer = clip[targetLayer].contiguous();
                for (int64_t t = 0; t < layer.size(0); ++t)
                    if (keep >= 1 || unit(random) < keep) {
                        const float *row = layer[t].data_ptr<float>();
                        rows.insert(rows.end(), row, row + hidden);
                    }
            }
            const int64_t count = int64_t(rows.size()) / hidden;
            if (count < options.clusters)
                return ModelStatus::failure("TAPT needs at least as many frames as clusters (" +
                                            std::to_string(count) + " frames, " +
                                            std::to_string(options.clusters) + " clusters)");
            KMeansOptions k;
            k.clusters = options.clusters;
            k.iterations = 20;
            k.seed = options.seed;
            k.device = options.device;
            k.threads = options.threads;
            const MatrixRows matrix(rows.data(), count, hidden);
            if (auto st = runKMeans(matrix, k, &centres); !st)
                return st;
        }
        const auto centreTensor = torch::from_blob(centres.centres.data(),
                                                   {centres.clusters, centres.dims}, torch::kFloat)
                                      .clone();
        const auto centreNorms = centreTensor.pow(2).sum(1);
        targets.assign(source.clips().size(), {});
        for (std::size_t i : clips) {
            if (cancelled && cancelled()) {
                *stopped = true;
                return ModelStatus::success();
            }
            torch::Tensor clip;
            if (auto st = readClip(source, i, &clip); !st)
                return st;
            const auto layer = clip[targetLayer];
            const auto distances = centreNorms.unsqueeze(0) - 2 * layer.matmul(centreTensor.t());
            const auto nearest = distances.argmin(1).contiguous();
            targets[i].assign(nearest.data_ptr<int64_t>(),
                              nearest.data_ptr<int64_t>() + nearest.numel());
        }
        return ModelStatus::success();
    }

    ModelStatus writeCheckpoint(const AdamW &optimiser, int epoch) const
    {
        Float32Tensors writer;
        if (auto st = writeModule(&writer, "layers/", *layers); !st)
            return st;
        if (auto st = writeModule(&writer, "heads/", *heads); !st)
            return st;
        if (auto st = writer.add("centres",
                                 torch::from_blob(const_cast<float *>(centres.centres.data()),
                                                  {centres.clusters, centres.dims}, torch::kFloat));
            !st)
            return st;
        if (auto st = optimiser.save(&writer); !st)
            return st;
        writer.setMetadata("format", kCheckpointFormat);
        writer.setMetadata("settings", options.describe());
        writer.setMetadata("seed", std::to_string(options.seed));
        writer.setMetadata("epoch", std::to_string(epoch));
        writer.setMetadata("history", historyText(history));
        // Written aside and renamed: a kill while writing leaves the last checkpoint whole.
        const std::string partial = options.checkpointPath + ".partial";
        if (auto st = writer.write(partial); !st)
            return st;
        std::error_code error;
        std::filesystem::rename(partial, options.checkpointPath, error);
        if (error)
            return ModelStatus::failure(options.checkpointPath + ": " + error.message());
        return ModelStatus::success();
    }

    ModelStatus readCheckpoint(AdamW *optimiser, int *epoch)
    {
        std::unique_ptr<SafeTensorsFile> file;
        if (auto st = SafeTensorsFile::open(options.checkpointPath, file); !st)
            return st;
        if (metadataText(*file, "format") != kCheckpointFormat)
            return ModelStatus::failure(options.checkpointPath + ": not a TAPT checkpoint");
        if (metadataText(*file, "settings") != options.describe() ||
            metadataText(*file, "seed") != std::to_string(options.seed))
            return ModelStatus::failure(options.checkpointPath +
                                        ": the checkpoint was written with other settings or "
                                        "another seed than this run's");
        try {
            *epoch = std::stoi(metadataText(*file, "epoch"));
        } catch (...) {
            return ModelStatus::failure(options.checkpointPath + ": the checkpoint is damaged");
        }
        if (!parseHistory(metadataText(*file, "history"), &history) ||
            int(history.size()) != *epoch)
            return ModelStatus::failure(options.checkpointPath + ": the checkpoint is damaged");
        if (auto st = readModule(*file, "layers/", *layers); !st)
            return st;
        if (auto st = readModule(*file, "heads/", *heads); !st)
            return st;
        torch::Tensor centreTensor;
        if (auto st =
                readTensor(*file, "centres", torch::empty({options.clusters, config.hiddenSize}),
                           &centreTensor);
            !st)
            return st;
        centreTensor = centreTensor.contiguous();
        centres = KMeansResult();
        centres.clusters = options.clusters;
        centres.dims = int(config.hiddenSize);
        centres.centres.assign(centreTensor.data_ptr<float>(),
                               centreTensor.data_ptr<float>() + centreTensor.numel());
        return optimiser->restore(*file);
    }
};

EncoderPretrainer::EncoderPretrainer(EncoderPretrainOptions options)
    : d(std::make_unique<Private>())
{
    d->options = std::move(options);
}

EncoderPretrainer::~EncoderPretrainer() = default;

void EncoderPretrainer::setCallback(Callback callback)
{
    d->callback = std::move(callback);
}

const std::vector<EncoderPretrainRecord> &EncoderPretrainer::history() const
{
    return d->history;
}

int EncoderPretrainer::targetLayer() const
{
    return d->targetLayer;
}

bool EncoderPretrainer::resumed() const
{
    return d->resumed;
}

int EncoderPretrainer::resumedAfterEpoch() const
{
    return d->resumedAfterEpoch;
}

ModelStatus EncoderPretrainer::run(const ClipFeatureSource &layers, const ClipFeatureSource &inputs,
                                   const std::vector<std::size_t> &clips,
                                   const CancelCheck &cancelled, bool *wasCancelled)
{
    if (wasCancelled)
        *wasCancelled = false;
    try {
        const EncoderPretrainOptions &o = d->options;
        if (o.epochs < 1)
            return ModelStatus::failure("TAPT needs at least one epoch");
        if (o.clusters < 2 || o.batchClips < 1 || o.spanFrames < 1 || o.projectionSize < 1 ||
            !(o.temperature > 0) || !(o.startProbability > 0 && o.startProbability < 1))
            return ModelStatus::failure("TAPT: the settings are out of range (" + o.describe() +
                                        ")");
        if (clips.empty())
            return ModelStatus::failure("no clips to pre-train on");
        if (auto st = d->readEncoder(); !st)
            return st;
        const EncoderConfig &c = d->config;
        if (layers.layerCount() != c.layerCount + 1 || layers.hiddenSize() != c.hiddenSize)
            return ModelStatus::failure(
                o.encoderFolder + ": an encoder of " + std::to_string(c.layerCount) +
                " Transformer layers x " + std::to_string(c.hiddenSize) +
                " did not make these features (" + std::to_string(layers.layerCount()) + " x " +
                std::to_string(layers.hiddenSize()) + ")");
        if (inputs.layerCount() != 1 || inputs.hiddenSize() != c.hiddenSize ||
            inputs.clips().size() != layers.clips().size())
            return ModelStatus::failure("TAPT's inputs (the projected CNN features) do not match "
                                        "the clips' cached features");
        for (std::size_t i : clips)
            if (i >= layers.clips().size() || inputs.clips()[i].frames != layers.clips()[i].frames)
                return ModelStatus::failure("TAPT's input for clip " + std::to_string(i) +
                                            " has another frame count than its cached features");
        d->targetLayer = o.targetLayer > 0 ? o.targetLayer : (c.layerCount + 1) / 2;
        if (d->targetLayer > c.layerCount)
            return ModelStatus::failure("TAPT: the encoder has layers 1 to " +
                                        std::to_string(c.layerCount) + ", not " +
                                        std::to_string(d->targetLayer));

        d->device = torch::Device(o.device);
        useThreads(o.threads);
        torch::manual_seed(o.seed);
        d->layers = EncoderLayers(c, 1, o.dropout);
        if (auto st = d->layers->copyFrom(d->encoderTensors); !st)
            return ModelStatus::failure(o.encoderFolder + ": " + st.error());
        d->layers->trainFrom(1);
        d->heads = Heads(int(c.hiddenSize), o.projectionSize, o.clusters);
        d->layers->to(d->device);
        d->heads->to(d->device);
        std::map<std::string, at::Tensor> frozen;
        for (const char *name :
             {"position_weight", "position_bias", "encoder_norm_weight", "encoder_norm_bias"})
            if (auto it = d->encoderTensors.find(name); it != d->encoderTensors.end())
                frozen[name] = it->second.to(d->device);

        torch::OrderedDict<std::string, torch::Tensor> named;
        for (const auto &p : d->layers->named_parameters())
            named.insert("layers/" + p.key(), p.value());
        for (const auto &p : d->heads->named_parameters())
            named.insert("heads/" + p.key(), p.value());
        AdamW optimiser(named, o.learningRate, o.weightDecay);

        d->history.clear();
        d->resumed = false;
        d->resumedAfterEpoch = 0;
        int done = 0;
        const bool resuming = o.resume && !o.checkpointPath.empty() &&
                              std::ifstream(o.checkpointPath, std::ios::binary).good();
        if (resuming) {
            if (auto st = d->readCheckpoint(&optimiser, &done); !st)
                return st;
            d->resumed = true;
            d->resumedAfterEpoch = done;
        }
        bool stopped = false;
        if (auto st = d->makeTargets(layers, clips, resuming, cancelled, &stopped); !st)
            return st;
        if (stopped) {
            if (wasCancelled)
                *wasCancelled = true;
            return ModelStatus::success();
        }

        const int64_t hidden = c.hiddenSize;
        for (int epoch = done + 1; epoch <= o.epochs; ++epoch) {
            const auto started = std::chrono::steady_clock::now();
            const uint64_t seed = epochSeed(o.seed, epoch);
            torch::manual_seed(seed);
            std::mt19937_64 random(seed);
            std::vector<std::size_t> order = clips;
            std::shuffle(order.begin(), order.end(), random);
            d->layers->train();
            d->heads->train();
            double lossSum = 0, correct = 0, masked = 0;
            for (std::size_t first = 0; first < order.size(); first += std::size_t(o.batchClips)) {
                if (cancelled && cancelled()) {
                    if (wasCancelled)
                        *wasCancelled = true;
                    return ModelStatus::success();
                }
                const std::size_t end = std::min(order.size(), first + std::size_t(o.batchClips));
                const int64_t batch = int64_t(end - first);
                std::vector<int64_t> lengths;
                int64_t frames = 1;
                for (std::size_t k = first; k < end; ++k) {
                    lengths.push_back(inputs.clips()[order[k]].frames);
                    frames = std::max(frames, lengths.back());
                }
                auto x = torch::zeros({batch, frames, hidden}, torch::kFloat);
                auto target = torch::zeros({batch, frames}, torch::kLong);
                auto valid = torch::zeros({batch, frames}, torch::kBool);
                for (int64_t b = 0; b < batch; ++b) {
                    const std::size_t i = order[first + std::size_t(b)];
                    torch::Tensor clip;
                    if (auto st = readClip(inputs, i, &clip); !st)
                        return st;
                    const int64_t n = lengths[std::size_t(b)];
                    x[b].narrow(0, 0, n).copy_(clip[0]);
                    target[b].narrow(0, 0, n).copy_(
                        torch::from_blob(d->targets[i].data(), {n}, torch::kLong));
                    valid[b].narrow(0, 0, n).fill_(true);
                }
                const auto spans =
                    spanStartMask(lengths, frames, o.spanFrames, o.startProbability, random);
                x = x.to(d->device);
                const auto validOn = valid.to(d->device);
                const auto spansOn = spans.to(d->device);
                const auto input = torch::where(spansOn.unsqueeze(2),
                                                d->heads->maskVector.view({1, 1, hidden}), x);
                const auto layer0 = positionalInput(input, validOn, frozen, c);
                const auto out = d->layers->forward(layer0, validOn);
                const auto last = out.select(1, out.size(1) - 1); // [B, T, H]
                const auto picked = spansOn.logical_and(validOn);
                const auto projected = d->heads->finalProjection(last.index({picked}));
                const auto logits =
                    torch::nn::functional::normalize(
                        projected, torch::nn::functional::NormalizeFuncOptions().dim(1))
                        .matmul(torch::nn::functional::normalize(
                                    d->heads->clusterEmbeddings,
                                    torch::nn::functional::NormalizeFuncOptions().dim(1))
                                    .t()) /
                    o.temperature;
                const auto wanted = target.to(d->device).index({picked});
                const auto loss = torch::nn::functional::cross_entropy(logits, wanted);
                optimiser.zeroGrad();
                loss.backward();
                optimiser.step();
                const double count = double(wanted.size(0));
                lossSum += loss.item<double>() * count;
                correct += logits.argmax(1).eq(wanted).sum().item<double>();
                masked += count;
            }
            EncoderPretrainRecord record;
            record.epoch = epoch;
            record.loss = masked > 0 ? lossSum / masked : 0;
            record.maskedAccuracy = masked > 0 ? correct / masked : 0;
            record.seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            d->history.push_back(record);
            if (!o.checkpointPath.empty())
                if (auto st = d->writeCheckpoint(optimiser, epoch); !st)
                    return st;
            if (d->callback)
                d->callback(record, double(epoch) / double(o.epochs));
        }
        d->layers->eval();
        d->heads->eval();
        return ModelStatus::success();
    } catch (...) {
        return statusFromCurrentException("TAPT (continued pre-training of the encoder)");
    }
}

ModelStatus EncoderPretrainer::save(const std::string &path) const
{
    if (!d->layers)
        return ModelStatus::failure("nothing to save: TAPT has not run");
    try {
        Float32Tensors writer;
        std::set<std::string> written;
        for (const auto &p : d->layers->named_parameters()) {
            if (auto st = writer.add(p.key(), p.value()); !st)
                return st;
            written.insert(p.key());
        }
        for (const auto &[name, tensor] : d->encoderTensors)
            if (!written.count(name))
                if (auto st = writer.add(name, tensor); !st)
                    return st;
        writer.setMetadata("format", kFormat);
        writer.setMetadata("config", d->configText);
        writer.setMetadata("settings", d->options.describe());
        writer.setMetadata("target_layer", std::to_string(d->targetLayer));
        writer.setMetadata("history", historyText(d->history));
        return writer.write(path);
    } catch (...) {
        return statusFromCurrentException("saving the pre-trained encoder");
    }
}

ModelStatus readTaptWeights(const std::string &path, std::map<std::string, at::Tensor> *tensors,
                            std::string *configText)
{
    std::unique_ptr<SafeTensorsFile> file;
    if (auto st = SafeTensorsFile::open(path, file); !st)
        return st;
    if (metadataText(*file, "format") != EncoderPretrainer::kFormat)
        return ModelStatus::failure(path + ": not an encoder adapted by TAPT");
    tensors->clear();
    for (const SafeTensorInfo &info : file->tensors()) {
        if (info.dtype != TensorDtype::F32)
            return ModelStatus::failure(path + ": tensor " + info.name + " is not float32");
        auto value = torch::empty(info.shape, torch::kFloat);
        if (std::uint64_t(value.numel()) * sizeof(float) != info.byteCount)
            return ModelStatus::failure(path + ": tensor " + info.name + " is damaged");
        std::memcpy(value.data_ptr<float>(), info.data, info.byteCount);
        (*tensors)[info.name] = value;
    }
    if (configText)
        *configText = metadataText(*file, "config");
    return ModelStatus::success();
}

int EncoderPretrainer::checkpointEpochs(const std::string &path)
{
    std::unique_ptr<SafeTensorsFile> file;
    if (!SafeTensorsFile::open(path, file) || metadataText(*file, "format") != kCheckpointFormat)
        return 0;
    try {
        return std::stoi(metadataText(*file, "epoch"));
    } catch (...) {
        return 0;
    }
}

} // namespace emolens
