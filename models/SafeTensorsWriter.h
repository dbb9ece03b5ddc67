#pragma once
// SafeTensorsWriter: writes a safetensors file (the format SafeTensorsFile reads): used for
// feature files and by tests that build weight files. The tensors are written in the order
// they were added, back to back, after a header padded to 8 bytes so the data is aligned.
// The file appears complete or not at all: it is written beside the target and renamed.
//
// Ownership: add() keeps the `data` pointer, not a copy, so the bytes must stay valid until
// write() returns. One thread at a time.

#include "ModelStatus.h"
#include "SafeTensors.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace emolens {

class SafeTensorsWriter
{
public:
    // Fails on a duplicate or reserved name, or when byteCount does not match shape * dtype.
    ModelStatus add(const std::string &name, TensorDtype dtype, std::vector<std::int64_t> shape,
                    const void *data, std::uint64_t byteCount);
    void setMetadata(const std::string &key, const std::string &value);
    ModelStatus write(const std::string &path) const;

private:
    struct Entry
    {
        std::string name;
        TensorDtype dtype;
        std::vector<std::int64_t> shape;
        const void *data;
        std::uint64_t byteCount;
    };
    std::vector<Entry> m_entries;
    std::map<std::string, std::string> m_metadata;
};

} // namespace emolens
