#pragma once
// TrainingParts: what the models' trainers share (AdapterTrainer, EncoderPretrainer) - the
// intra-op thread setting, checkpoint files of float32 tensors with text metadata, per-epoch
// records as exact text, and AdamW with its state in plain tensors. Internal to models/: only
// .cpp files include it (it pulls in the whole Torch API).

#include "EncoderConfig.h"
#include "ModelStatus.h"
#include "SafeTensors.h"
#include "SafeTensorsWriter.h"
#include "SelfSupervisedEncoder.h"
#include "SpeechEncoder.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace emolens::trainingparts {

// Torch's intra-op threads: `threads`, or one per core when 0 or less.
inline void useThreads(int threads)
{
    const int wanted =
        threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
    if (torch::get_num_threads() != wanted)
        torch::set_num_threads(wanted);
}

inline std::string checkpointFormat(const std::string &path)
{
    std::unique_ptr<SafeTensorsFile> file;
    if (!SafeTensorsFile::open(path, file))
        return {};
    const auto it = file->metadata().find("format");
    return it == file->metadata().end() ? std::string() : it->second;
}

// Per-epoch records as text lines: the epoch, then the fields, exact to the last bit.
template <typename Record, typename... Fields>
std::string recordsText(const std::vector<Record> &records, Fields... fields)
{
    std::string text;
    char number[32];
    for (const Record &e : records) {
        text += std::to_string(e.epoch);
        ((std::snprintf(number, sizeof number, " %.17g", e.*fields), text += number), ...);
        text += '\n';
    }
    return text;
}

template <typename Record, typename... Fields>
bool parseRecords(const std::string &text, std::vector<Record> *out, Fields... fields)
{
    out->clear();
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        if (line.empty())
            continue;
        Record e;
        const char *at = line.c_str();
        char *next = nullptr;
        e.epoch = int(std::strtol(at, &next, 10));
        bool ok = next != at;
        auto field = [&](double &value) {
            at = next;
            value = std::strtod(at, &next);
            ok = ok && next != at;
        };
        (field(e.*fields), ...);
        if (!ok)
            return false;
        out->push_back(e);
    }
    return true;
}

// A metadata value of a file; empty when it has none.
inline std::string metadataText(const SafeTensorsFile &file, const char *key)
{
    const auto it = file.metadata().find(key);
    return it == file.metadata().end() ? std::string() : it->second;
}

// A float32 tensor of a checkpoint, shaped like `like` and on its device.
inline ModelStatus readTensor(const SafeTensorsFile &file, const std::string &name,
                              const torch::Tensor &like, torch::Tensor *out)
{
    const SafeTensorInfo *info = file.find(name);
    if (!info || info->dtype != TensorDtype::F32 || info->elementCount() != like.numel())
        return ModelStatus::failure(file.path() + ": tensor " + name +
                                    " is missing or has the wrong shape");
    auto value = torch::empty(like.sizes(), torch::kFloat);
    std::memcpy(value.data_ptr<float>(), info->data, info->byteCount);
    *out = value.to(like.device());
    return ModelStatus::success();
}

// A safetensors writer of float32 CPU copies of tensors, which it keeps until written.
struct Float32Tensors
{
    SafeTensorsWriter file;
    std::vector<torch::Tensor> keep;

    ModelStatus add(const std::string &name, const torch::Tensor &value)
    {
        keep.push_back(value.detach().to(torch::kCPU, torch::kFloat).contiguous());
        const auto &t = keep.back();
        return file.add(name, TensorDtype::F32,
                        std::vector<std::int64_t>(t.sizes().begin(), t.sizes().end()), t.data_ptr(),
                        std::uint64_t(t.numel()) * sizeof(float));
    }
    void setMetadata(const std::string &key, const std::string &value)
    {
        file.setMetadata(key, value);
    }
    ModelStatus write(const std::string &path) const { return file.write(path); }
};

// A module's parameters and buffers into a file, each under prefix + its name.
inline ModelStatus writeModule(Float32Tensors *writer, const std::string &prefix,
                               const torch::nn::Module &module)
{
    for (const auto &q : module.named_parameters())
        if (auto st = writer->add(prefix + q.key(), q.value()); !st)
            return st;
    for (const auto &q : module.named_buffers())
        if (auto st = writer->add(prefix + q.key(), q.value()); !st)
            return st;
    return ModelStatus::success();
}

// What writeModule wrote, copied into the module's tensors (checked against their shapes);
// with `only`, just the tensors whose names it accepts.
inline ModelStatus readModule(const SafeTensorsFile &file, const std::string &prefix,
                              torch::nn::Module &module,
                              bool (*only)(const std::string &) = nullptr)
{
    torch::NoGradGuard noGrad;
    auto read = [&](const std::string &name, torch::Tensor &target) {
        if (only && !only(name))
            return ModelStatus::success();
        torch::Tensor value;
        auto st = readTensor(file, prefix + name, target, &value);
        if (st)
            target.copy_(value);
        return st;
    };
    for (auto &q : module.named_parameters())
        if (auto st = read(q.key(), q.value()); !st)
            return st;
    for (auto &q : module.named_buffers())
        if (auto st = read(q.key(), q.value()); !st)
            return st;
    return ModelStatus::success();
}

// AdamW as LibTorch's AdamW computes it (decoupled weight decay; bias-corrected first and
// second moments; no amsgrad), with its state in plain tensors we can checkpoint. A parameter
// without a gradient in a step (a head without labels in the batch) is left as it is.
struct AdamW
{
    std::vector<std::string> names;
    std::vector<torch::Tensor> params, m, v;
    std::vector<int64_t> steps;
    std::vector<double> rates; // per parameter
    double lr = 1e-3, weightDecay = 1e-2, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;

    // encoderRate > 0: the rate of paper mode's encoder layers (names "encoder." or
    // "model/encoder."), the others learningRate.
    AdamW(const torch::OrderedDict<std::string, torch::Tensor> &named, double learningRate,
          double decay, double encoderRate = 0)
        : lr(learningRate), weightDecay(decay)
    {
        for (const auto &p : named) {
            names.push_back(p.key());
            params.push_back(p.value());
            const bool encoder =
                p.key().rfind("encoder.", 0) == 0 || p.key().rfind("model/encoder.", 0) == 0;
            rates.push_back(encoder && encoderRate > 0 ? encoderRate : learningRate);
        }
        m.resize(params.size());
        v.resize(params.size());
        steps.assign(params.size(), 0);
    }

    void zeroGrad()
    {
        for (auto &p : params)
            if (p.grad().defined())
                p.mutable_grad() = torch::Tensor();
    }

    // The moments as tensors of the writer and the step counts as one line of metadata.
    ModelStatus save(Float32Tensors *writer) const
    {
        std::string list;
        for (std::size_t i = 0; i < params.size(); ++i) {
            list += std::to_string(steps[i]) + (i + 1 < params.size() ? "," : "");
            if (m[i].defined()) {
                if (auto st = writer->add("adam_m/" + names[i], m[i]); !st)
                    return st;
                if (auto st = writer->add("adam_v/" + names[i], v[i]); !st)
                    return st;
            }
        }
        writer->setMetadata("adam_steps", list);
        return ModelStatus::success();
    }

    // What save() wrote.
    ModelStatus restore(const SafeTensorsFile &file)
    {
        const auto it = file.metadata().find("adam_steps");
        const std::string list = it == file.metadata().end() ? std::string() : it->second;
        std::vector<int64_t> counts;
        for (std::size_t start = 0; start <= list.size() && !list.empty();) {
            std::size_t end = list.find(',', start);
            if (end == std::string::npos)
                end = list.size();
            try {
                counts.push_back(std::stoll(list.substr(start, end - start)));
            } catch (...) {
                return ModelStatus::failure(file.path() + ": the optimiser's state is damaged");
            }
            start = end + 1;
        }
        if (counts.size() != params.size())
            return ModelStatus::failure(file.path() + ": the optimiser's state is damaged");
        for (std::size_t i = 0; i < params.size(); ++i) {
            steps[i] = counts[i];
            if (!file.find("adam_m/" + names[i]))
                continue;
            if (auto st = readTensor(file, "adam_m/" + names[i], params[i], &m[i]); !st)
                return st;
            if (auto st = readTensor(file, "adam_v/" + names[i], params[i], &v[i]); !st)
                return st;
        }
        return ModelStatus::success();
    }

    void step()
    {
        torch::NoGradGuard noGrad;
        for (std::size_t i = 0; i < params.size(); ++i) {
            auto &p = params[i];
            const auto &g = p.grad();
            if (!g.defined())
                continue;
            if (!m[i].defined()) {
                m[i] = torch::zeros_like(p);
                v[i] = torch::zeros_like(p);
            }
            const int64_t step = ++steps[i];
            const double lr = rates[i];
            if (weightDecay != 0)
                p.mul_(1 - lr * weightDecay);
            m[i].mul_(beta1).add_(g, 1 - beta1);
            v[i].mul_(beta2).addcmul_(g, g, 1 - beta2);
            const double correction1 = 1 - std::pow(beta1, double(step));
            const double correction2 = 1 - std::pow(beta2, double(step));
            const auto denominator = (v[i].sqrt() / std::sqrt(correction2)).add_(eps);
            p.addcdiv_(m[i], denominator, -lr / correction1);
        }
    }
};

// Each epoch's batch order and dropout depend only on the seed and the epoch's number.
inline uint64_t epochSeed(uint64_t seed, int epoch)
{
    uint64_t x = seed + 0x9E3779B97F4A7C15ull * uint64_t(epoch);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// A wav2vec 2.0 / HuBERT / WavLM folder's Transformer, for training it (paper mode, TAPT): the
// encoder's config, its config.json text and the Transformer's tensors by EncoderLayers' names
// (CPU copies). `needs` ends the message for another kind of encoder, e.g. "(paper mode needs
// wav2vec 2.0, HuBERT or WavLM)".
inline ModelStatus readTransformer(const std::string &folder, const std::string &needs,
                                   EncoderConfig *config, std::string *configText,
                                   std::map<std::string, at::Tensor> *tensors)
{
    EncoderOptions options;
    options.threadCount = -1;
    std::unique_ptr<SpeechEncoder> encoder;
    if (auto st = SpeechEncoder::loadFolder(folder, options, encoder); !st)
        return st;
    const auto *self = dynamic_cast<const SelfSupervisedEncoder *>(encoder.get());
    if (!self)
        return ModelStatus::failure(folder + ": this encoder has no Transformer layers " + needs);
    *config = self->config();
    std::ifstream in(std::filesystem::path(folder) / "config.json", std::ios::binary);
    configText->assign(std::istreambuf_iterator<char>(in), {});
    tensors->clear();
    for (const auto &[name, tensor] : self->transformerTensors())
        (*tensors)[name] = tensor.to(torch::kCPU).clone();
    return ModelStatus::success();
}

} // namespace emolens::trainingparts
