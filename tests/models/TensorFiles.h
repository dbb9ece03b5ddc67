#pragma once
// Test helpers: float32 tensors in and out of safetensors files, scratch folders, and copies of
// the committed fixtures with one thing changed (the robustness cases).

#include "ModelTest.h"
#include "SafeTensors.h"
#include "SafeTensorsWriter.h"

#include <ATen/ATen.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>

namespace emolens::modeltest {

namespace fs = std::filesystem;

// A folder under the system temp dir, removed when the object goes.
class ScratchFolder
{
public:
    ScratchFolder()
    {
        std::random_device random;
        m_path = fs::temp_directory_path() /
                 ("emolens-models-test-" + std::to_string(random()) + std::to_string(random()));
        fs::create_directories(m_path);
    }
    ~ScratchFolder()
    {
        std::error_code ignored;
        fs::remove_all(m_path, ignored);
    }
    ScratchFolder(const ScratchFolder &) = delete;
    ScratchFolder &operator=(const ScratchFolder &) = delete;
    std::string path() const { return m_path.string(); }
    std::string file(const std::string &name) const { return (m_path / name).string(); }

private:
    fs::path m_path;
};

inline std::string readBytes(const std::string &path)
{
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

inline void writeBytes(const std::string &path, const std::string &bytes)
{
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// An F32 tensor from a safetensors file (REQUIREd to exist).
inline at::Tensor readTensor(const std::string &path, const std::string &name)
{
    std::unique_ptr<SafeTensorsFile> file;
    REQUIRE_OK(SafeTensorsFile::open(path, file));
    const SafeTensorInfo *info = file->find(name);
    REQUIRE(info != nullptr);
    REQUIRE(info->dtype == TensorDtype::F32);
    at::Tensor tensor = at::empty(info->shape, at::kFloat);
    std::memcpy(tensor.data_ptr(), info->data, info->byteCount);
    return tensor;
}

// Every tensor of a file as F32 (the fixtures hold F32 only), in file order.
inline std::vector<std::pair<std::string, at::Tensor>> readAll(const std::string &path)
{
    std::unique_ptr<SafeTensorsFile> file;
    REQUIRE_OK(SafeTensorsFile::open(path, file));
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const SafeTensorInfo &info : file->tensors())
        tensors.emplace_back(info.name, readTensor(path, info.name));
    return tensors;
}

// Writes F32 tensors (contiguous copies are kept alive until the write is done).
inline void writeAll(const std::string &path,
                     const std::vector<std::pair<std::string, at::Tensor>> &tensors)
{
    SafeTensorsWriter writer;
    std::vector<at::Tensor> keep;
    for (const auto &[name, tensor] : tensors) {
        keep.push_back(tensor.contiguous().to(at::kFloat));
        REQUIRE_OK(writer.add(name, TensorDtype::F32, keep.back().sizes().vec(),
                              keep.back().data_ptr(),
                              static_cast<std::uint64_t>(keep.back().numel()) * 4));
    }
    REQUIRE_OK(writer.write(path));
}

// Copies fixture `name` into `folder`, passing every tensor through `edit` (which may rename,
// drop by returning false, or change it) and the config text through `editConfig`.
inline void copyFixture(const std::string &name, const std::string &folder,
                        const std::function<bool(std::string &, at::Tensor &)> &edit = {},
                        const std::function<void(std::string &)> &editConfig = {},
                        const std::vector<std::pair<std::string, at::Tensor>> &extra = {})
{
    const std::string source = fixtureDir(name);
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (auto [tensorName, tensor] : readAll(source + "/model.safetensors")) {
        if (!edit || edit(tensorName, tensor))
            tensors.emplace_back(tensorName, tensor);
    }
    for (const auto &entry : extra)
        tensors.push_back(entry);
    writeAll(folder + "/model.safetensors", tensors);
    std::string config = readBytes(source + "/config.json");
    if (editConfig)
        editConfig(config);
    writeBytes(folder + "/config.json", config);
}

inline void replaceOnce(std::string &text, const std::string &from, const std::string &to)
{
    const std::size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
}

inline bool contains(const std::string &text, const std::string &part)
{
    return text.find(part) != std::string::npos;
}

inline double maxAbsDiff(const at::Tensor &a, const at::Tensor &b)
{
    return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

// A WavLM folder made from a wav2vec 2.0 fixture's weights plus the relative position bias
// tensors; `biasScale` 0 switches the bias off.
inline void makeWavlm(const std::string &fixture, const std::string &folder, double biasScale)
{
    at::manual_seed(7);
    const int heads = 2, headSize = 16, buckets = 320;
    // The base fixture carries the "wav2vec2." prefix, renamed to WavLM's below.
    const std::string prefix = fixture == "wav2vec2-tiny-base" ? "wavlm." : "";
    std::vector<std::pair<std::string, at::Tensor>> extra = {
        {prefix + "encoder.layers.0.attention.rel_attn_embed.weight",
         at::randn({buckets, heads}) * biasScale}};
    for (int i = 0; i < 2; ++i) {
        const std::string base = prefix + "encoder.layers." + std::to_string(i) + ".attention.";
        extra.push_back({base + "gru_rel_pos_const", at::rand({1, heads, 1, 1}) + 0.5});
        extra.push_back({base + "gru_rel_pos_linear.weight", at::randn({8, headSize}) * 0.3});
        extra.push_back({base + "gru_rel_pos_linear.bias", at::randn({8}) * 0.1});
    }
    copyFixture(
        fixture, folder,
        [](std::string &name, at::Tensor &) {
            // WavLM checkpoints use the "wavlm." prefix or none.
            if (name.rfind("wav2vec2.", 0) == 0)
                name = "wavlm." + name.substr(9);
            return true;
        },
        [](std::string &config) {
            replaceOnce(config, "\"model_type\": \"wav2vec2\"", "\"model_type\": \"wavlm\"");
        },
        extra);
}

} // namespace emolens::modeltest
