#include "ModelWeights.h"

#include "ContentHash.h"
#include "Json.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace emolens {

namespace fs = std::filesystem;

namespace {

std::string shapeText(const std::vector<std::int64_t> &shape)
{
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        text += (i > 0 ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

bool readText(const std::string &path, std::string &text)
{
    std::ifstream file(path, std::ios::binary);
    if (!file)
        return false;
    std::ostringstream buffer;
    buffer << file.rdbuf();
    text = buffer.str();
    return true;
}

} // namespace

ModelWeights::~ModelWeights() = default;

ModelStatus ModelWeights::openFolder(const std::string &folder, std::unique_ptr<ModelWeights> &out)
{
    out.reset();
    std::unique_ptr<ModelWeights> weights(new ModelWeights());
    const fs::path root(folder);
    const std::string single = (root / "model.safetensors").string();
    const std::string index = (root / "model.safetensors.index.json").string();
    std::error_code ignored;

    if (fs::exists(single, ignored)) {
        std::unique_ptr<SafeTensorsFile> file;
        if (ModelStatus status = SafeTensorsFile::open(single, file); !status)
            return status;
        weights->m_mainFile = single;
        for (const SafeTensorInfo &tensor : file->tensors())
            weights->m_owner[tensor.name] = file.get();
        weights->m_files.push_back(std::move(file));
        out = std::move(weights);
        return ModelStatus::success();
    }

    if (!fs::exists(index, ignored)) {
        std::string problem = folder + ": no model.safetensors or model.safetensors.index.json";
        if (fs::exists(root / "pytorch_model.bin", ignored))
            problem += " (pytorch_model.bin is not loaded: pickle files can run code; convert "
                       "the model to safetensors)";
        return ModelStatus::failure(problem);
    }

    std::string text;
    if (!readText(index, text))
        return ModelStatus::failure(index + ": cannot read the shard index");
    JsonValue json;
    std::string jsonError;
    if (!JsonValue::parse(text, json, jsonError))
        return ModelStatus::failure(index + ": malformed JSON (" + jsonError + ")");
    const JsonValue *map = json.isObject() ? json.find("weight_map") : nullptr;
    if (map == nullptr || !map->isObject())
        return ModelStatus::failure(index + ": \"weight_map\" is missing or not an object");

    std::map<std::string, SafeTensorsFile *> shards;
    weights->m_mainFile = index;
    for (const JsonMember &entry : map->members()) {
        if (!entry.value.isString())
            return ModelStatus::failure(index + ": tensor \"" + entry.key +
                                        "\": its shard is not a file name");
        const std::string &shardName = entry.value.string();
        // Shards live beside the index: a name with a directory part could point anywhere.
        if (shardName.empty() || shardName.find('/') != std::string::npos ||
            shardName.find('\\') != std::string::npos || shardName == "." || shardName == "..")
            return ModelStatus::failure(index + ": tensor \"" + entry.key + "\": shard \"" +
                                        shardName + "\" is not a plain file name");
        auto found = shards.find(shardName);
        if (found == shards.end()) {
            std::unique_ptr<SafeTensorsFile> file;
            if (ModelStatus status = SafeTensorsFile::open((root / shardName).string(), file);
                !status)
                return ModelStatus::failure(index + ": tensor \"" + entry.key +
                                            "\": " + status.error());
            found = shards.emplace(shardName, file.get()).first;
            weights->m_files.push_back(std::move(file));
        }
        if (found->second->find(entry.key) == nullptr)
            return ModelStatus::failure(found->second->path() + ": tensor \"" + entry.key +
                                        "\" is listed in " + index + " but missing from the file");
        weights->m_owner[entry.key] = found->second;
    }
    out = std::move(weights);
    return ModelStatus::success();
}

ModelStatus ModelWeights::floatTensor(const std::string &name,
                                      const std::vector<std::int64_t> &shape, at::Tensor &out) const
{
    out = at::Tensor();
    const auto owner = m_owner.find(name);
    if (owner == m_owner.end())
        return ModelStatus::failure(m_mainFile + ": tensor \"" + name + "\" is missing (expected " +
                                    shapeText(shape) + ")");
    const SafeTensorsFile &file = *owner->second;
    const SafeTensorInfo &info = *file.find(name);
    const std::string where = file.path() + ": tensor \"" + name + "\"";
    if (info.shape != shape)
        return ModelStatus::failure(where + " has shape " + info.shapeText() + ", expected " +
                                    shapeText(shape));
    at::ScalarType type;
    switch (info.dtype) {
    case TensorDtype::F32:
        type = at::kFloat;
        break;
    case TensorDtype::F16:
        type = at::kHalf;
        break;
    case TensorDtype::BF16:
        type = at::kBFloat16;
        break;
    case TensorDtype::F64:
        type = at::kDouble;
        break;
    default:
        return ModelStatus::failure(where + " has dtype " + dtypeName(info.dtype) +
                                    ", expected a floating-point dtype (F32, F16, BF16, F64)");
    }
    try {
        // A copy, not a view of the mapping: the data may be unaligned and the mapping goes
        // away with this object.
        at::Tensor raw = at::empty(shape, at::TensorOptions().dtype(type));
        if (info.byteCount > 0)
            std::memcpy(raw.data_ptr(), info.data, info.byteCount);
        out = raw.to(at::kFloat);
    } catch (const std::exception &error) {
        return ModelStatus::failure(where + ": cannot be read (" + error.what() + ")");
    }
    return ModelStatus::success();
}

bool ModelWeights::contains(const std::string &name) const
{
    return m_owner.count(name) > 0;
}

std::vector<std::string> ModelWeights::names() const
{
    std::vector<std::string> list;
    list.reserve(m_owner.size());
    for (const auto &entry : m_owner)
        list.push_back(entry.first);
    return list;
}

std::string ModelWeights::fileOf(const std::string &name) const
{
    const auto owner = m_owner.find(name);
    return owner == m_owner.end() ? m_mainFile : owner->second->path();
}

std::string ModelWeights::contentHash() const
{
    std::vector<const SafeTensorsFile *> files;
    for (const auto &file : m_files)
        files.push_back(file.get());
    std::sort(files.begin(), files.end(), [](const SafeTensorsFile *a, const SafeTensorsFile *b) {
        return fs::path(a->path()).filename() < fs::path(b->path()).filename();
    });
    ContentHash hash;
    for (const SafeTensorsFile *file : files)
        hash.add(file->fileBytes(), static_cast<std::size_t>(file->fileSize()));
    return hash.hex();
}

} // namespace emolens
