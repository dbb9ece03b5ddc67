#pragma once
// SafeTensorsFile: a memory-mapped, strictly validated reader of the safetensors format
// (an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
// byte range, then the raw little-endian tensor bytes). It is the only weight format EmoLens
// loads: no pickle, no TorchScript.
//
// open() checks everything before anything is used: the header length lies inside the file,
// the header is well-formed JSON, every dtype is known, every shape's byte size equals its
// byte range, and the ranges lie inside the data section, back to back, with no overlap and
// no hole. Every error names the file and, where there is one, the tensor.
//
// Ownership and threads: the file stays mapped while the SafeTensorsFile lives; the `data`
// pointers of its tensors point into the mapping (unaligned: copy before use). The object is
// read-only after open(), so any thread may read it. No Torch here: converting to tensors is
// ModelWeights's job. Assumes a little-endian host (x86-64, aarch64), as the format does.
//
//     std::unique_ptr<SafeTensorsFile> file;
//     if (ModelStatus s = SafeTensorsFile::open("model.safetensors", file); !s) report(s.error());
//     const SafeTensorInfo *w = file->find("encoder.layer_norm.weight");

#include "ModelStatus.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace emolens {

// The dtypes of the safetensors specification.
enum class TensorDtype {
    Bool,
    U8,
    I8,
    F8_E4M3,
    F8_E5M2,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    I64,
    U64,
    F64
};

std::size_t dtypeSize(TensorDtype dtype);
const char *dtypeName(TensorDtype dtype);
bool dtypeFromName(std::string_view name, TensorDtype &dtype);

struct SafeTensorInfo
{
    std::string name;
    TensorDtype dtype = TensorDtype::F32;
    std::vector<std::int64_t> shape;
    std::uint64_t byteCount = 0;
    const std::uint8_t *data = nullptr; // into the mapping; not aligned

    std::int64_t elementCount() const;
    // "[2, 3]"
    std::string shapeText() const;
};

class SafeTensorsFile
{
public:
    ~SafeTensorsFile();
    SafeTensorsFile(const SafeTensorsFile &) = delete;
    SafeTensorsFile &operator=(const SafeTensorsFile &) = delete;

    static ModelStatus open(const std::string &path, std::unique_ptr<SafeTensorsFile> &out);

    const std::string &path() const { return m_path; }
    // In file order.
    const std::vector<SafeTensorInfo> &tensors() const { return m_tensors; }
    // The tensor called `name`, or nullptr.
    const SafeTensorInfo *find(std::string_view name) const;
    // The header's optional "__metadata__" (string to string).
    const std::map<std::string, std::string> &metadata() const { return m_metadata; }
    // The whole file as mapped (for content hashes).
    const std::uint8_t *fileBytes() const { return m_bytes; }
    std::uint64_t fileSize() const { return m_size; }

private:
    SafeTensorsFile() = default;
    ModelStatus parseHeader();

    std::string m_path;
    const std::uint8_t *m_bytes = nullptr;
    std::uint64_t m_size = 0;
    std::vector<SafeTensorInfo> m_tensors;
    std::map<std::string, std::size_t, std::less<>> m_index;
    std::map<std::string, std::string> m_metadata;
};

} // namespace emolens
