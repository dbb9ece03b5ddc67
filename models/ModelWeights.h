#pragma once
// ModelWeights: the tensors of a Hugging Face model folder, from model.safetensors or from the
// shards listed by model.safetensors.index.json. Every file is validated on open (see
// SafeTensorsFile); tensors are copied out as float32 on request, with their shape checked, so
// nothing half-loaded is ever used. Pickle checkpoints (pytorch_model.bin) are refused.
//
// Ownership: keeps the files mapped until destroyed. Read-only after open: any thread may
// call the const methods.

#include "ModelStatus.h"
#include "SafeTensors.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace emolens {

class ModelWeights
{
public:
    ~ModelWeights();

    static ModelStatus openFolder(const std::string &folder, std::unique_ptr<ModelWeights> &out);

    // The tensor called `name` as a contiguous float32 CPU tensor of exactly `shape`. Fails,
    // naming the file and the tensor, when it is missing, mis-shaped or not floating point.
    ModelStatus floatTensor(const std::string &name, const std::vector<std::int64_t> &shape,
                            at::Tensor &out) const;
    bool contains(const std::string &name) const;
    std::vector<std::string> names() const;
    // The file a tensor lives in (or the folder's main file when it is missing), for messages.
    std::string fileOf(const std::string &name) const;
    // Every weight file's bytes, hashed in a fixed order.
    std::string contentHash() const;

private:
    ModelWeights() = default;

    std::string m_mainFile;
    std::vector<std::unique_ptr<SafeTensorsFile>> m_files;
    std::map<std::string, const SafeTensorsFile *> m_owner;
};

} // namespace emolens
