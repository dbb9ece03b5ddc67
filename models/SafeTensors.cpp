#include "SafeTensors.h"

#include "Json.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace emolens {

namespace {

struct DtypeEntry
{
    TensorDtype dtype;
    const char *name;
    std::size_t size;
};

constexpr DtypeEntry kDtypes[] = {
    {TensorDtype::Bool, "BOOL", 1},       {TensorDtype::U8, "U8", 1},
    {TensorDtype::I8, "I8", 1},           {TensorDtype::F8_E4M3, "F8_E4M3", 1},
    {TensorDtype::F8_E5M2, "F8_E5M2", 1}, {TensorDtype::I16, "I16", 2},
    {TensorDtype::U16, "U16", 2},         {TensorDtype::F16, "F16", 2},
    {TensorDtype::BF16, "BF16", 2},       {TensorDtype::I32, "I32", 4},
    {TensorDtype::U32, "U32", 4},         {TensorDtype::F32, "F32", 4},
    {TensorDtype::I64, "I64", 8},         {TensorDtype::U64, "U64", 8},
    {TensorDtype::F64, "F64", 8},
};

// The reference implementation refuses headers above 100 MB; so do we, before parsing.
constexpr std::uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;

std::string quoted(const std::string &name)
{
    return "\"" + name + "\"";
}

} // namespace

std::size_t dtypeSize(TensorDtype dtype)
{
    for (const DtypeEntry &entry : kDtypes) {
        if (entry.dtype == dtype)
            return entry.size;
    }
    return 0;
}

const char *dtypeName(TensorDtype dtype)
{
    for (const DtypeEntry &entry : kDtypes) {
        if (entry.dtype == dtype)
            return entry.name;
    }
    return "?";
}

bool dtypeFromName(std::string_view name, TensorDtype &dtype)
{
    for (const DtypeEntry &entry : kDtypes) {
        if (name == entry.name) {
            dtype = entry.dtype;
            return true;
        }
    }
    return false;
}

std::int64_t SafeTensorInfo::elementCount() const
{
    // open() accepts any extents beside a zero ([2^62, 4, 0] is an empty tensor), so a zero
    // must win before the product can overflow; without one the product is at most the file
    // size, and saturating only guards tensors described by hand.
    if (std::find(shape.begin(), shape.end(), 0) != shape.end())
        return 0;
    std::int64_t count = 1;
    for (const std::int64_t extent : shape) {
        if (__builtin_mul_overflow(count, extent, &count))
            return std::numeric_limits<std::int64_t>::max();
    }
    return count;
}

std::string SafeTensorInfo::shapeText() const
{
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i > 0)
            text += ", ";
        text += std::to_string(shape[i]);
    }
    return text + "]";
}

SafeTensorsFile::~SafeTensorsFile()
{
    if (m_bytes != nullptr)
        ::munmap(const_cast<std::uint8_t *>(m_bytes), m_size);
}

ModelStatus SafeTensorsFile::open(const std::string &path, std::unique_ptr<SafeTensorsFile> &out)
{
    out.reset();
    std::unique_ptr<SafeTensorsFile> file(new SafeTensorsFile());
    file->m_path = path;

    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ModelStatus::failure(path + ": cannot open the weight file (" +
                                    std::strerror(errno) + ")");
    struct stat info = {};
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        ::close(fd);
        return ModelStatus::failure(path + ": not a regular file");
    }
    file->m_size = static_cast<std::uint64_t>(info.st_size);
    if (file->m_size < 8) {
        ::close(fd);
        return ModelStatus::failure(path + ": the file is " + std::to_string(file->m_size) +
                                    " bytes long, too short to be a safetensors file "
                                    "(truncated?)");
    }
    void *mapping = ::mmap(nullptr, file->m_size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (mapping == MAP_FAILED)
        return ModelStatus::failure(path + ": cannot map the weight file into memory (" +
                                    std::strerror(errno) + ")");
    file->m_bytes = static_cast<const std::uint8_t *>(mapping);

    if (ModelStatus status = file->parseHeader(); !status)
        return status;
    out = std::move(file);
    return ModelStatus::success();
}

ModelStatus SafeTensorsFile::parseHeader()
{
    const auto failure = [this](const std::string &problem) {
        return ModelStatus::failure(m_path + ": " + problem);
    };
    const auto tensorFailure = [this](const std::string &name, const std::string &problem) {
        return ModelStatus::failure(m_path + ": tensor " + quoted(name) + ": " + problem);
    };

    std::uint64_t headerBytes = 0;
    for (int i = 7; i >= 0; --i)
        headerBytes = (headerBytes << 8) | m_bytes[i];
    if (headerBytes > m_size - 8)
        return failure("the header length (" + std::to_string(headerBytes) +
                       " bytes) runs past the end of the file (" + std::to_string(m_size) +
                       " bytes): the file is truncated or not a safetensors file");
    if (headerBytes > kMaxHeaderBytes)
        return failure("the header length (" + std::to_string(headerBytes) +
                       " bytes) is implausibly large");
    if (headerBytes == 0 || m_bytes[8] != '{')
        return failure("the header does not start with '{': not a safetensors file");

    const std::string_view headerText(reinterpret_cast<const char *>(m_bytes + 8),
                                      static_cast<std::size_t>(headerBytes));
    JsonValue header;
    std::string jsonError;
    if (!JsonValue::parse(headerText, header, jsonError))
        return failure("the JSON header is malformed (" + jsonError + ")");
    if (!header.isObject())
        return failure("the JSON header is not an object");

    const std::uint64_t dataStart = 8 + headerBytes;
    const std::uint64_t dataSize = m_size - dataStart;
    struct Range
    {
        std::uint64_t begin;
        std::uint64_t end;
        std::size_t tensor;
    };
    std::vector<Range> ranges;

    for (const JsonMember &member : header.members()) {
        const std::string &name = member.key;
        const JsonValue &entry = member.value;
        if (name == "__metadata__") {
            if (!entry.isObject())
                return failure("\"__metadata__\" is not an object");
            for (const JsonMember &item : entry.members()) {
                if (!item.value.isString())
                    return failure("\"__metadata__\" member " + quoted(item.key) +
                                   " is not a string");
                m_metadata[item.key] = item.value.string();
            }
            continue;
        }
        if (!entry.isObject())
            return tensorFailure(name, "its header entry is not an object");

        SafeTensorInfo tensor;
        tensor.name = name;
        const JsonValue *dtype = entry.find("dtype");
        if (dtype == nullptr || !dtype->isString())
            return tensorFailure(name, "\"dtype\" is missing or not a string");
        if (!dtypeFromName(dtype->string(), tensor.dtype))
            return tensorFailure(name, "unknown dtype " + quoted(dtype->string()));

        const JsonValue *shape = entry.find("shape");
        if (shape == nullptr || !shape->isArray())
            return tensorFailure(name, "\"shape\" is missing or not an array");
        // The product saturates just above the file size (no tensor can be larger), so a
        // hostile shape cannot overflow it; a zero extent makes the tensor empty.
        const std::uint64_t limit = m_size + 1;
        std::uint64_t elements = 1;
        bool empty = false;
        for (const JsonValue &extent : shape->array()) {
            if (!extent.isInteger() || extent.integer() < 0)
                return tensorFailure(name, "the shape holds something other than a "
                                           "non-negative integer");
            tensor.shape.push_back(extent.integer());
            const auto value = static_cast<std::uint64_t>(extent.integer());
            if (value == 0)
                empty = true;
            else
                elements = elements > limit / value ? limit : std::min(elements * value, limit);
        }
        if (empty)
            elements = 0;

        const JsonValue *offsets = entry.find("data_offsets");
        if (offsets == nullptr || !offsets->isArray() || offsets->array().size() != 2 ||
            !offsets->array()[0].isInteger() || !offsets->array()[1].isInteger() ||
            offsets->array()[0].integer() < 0 || offsets->array()[1].integer() < 0)
            return tensorFailure(name, "\"data_offsets\" must be two non-negative integers");
        const auto begin = static_cast<std::uint64_t>(offsets->array()[0].integer());
        const auto end = static_cast<std::uint64_t>(offsets->array()[1].integer());
        const std::string rangeText =
            "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
        if (end < begin)
            return tensorFailure(name, "data_offsets " + rangeText + " end before they begin");
        if (end > dataSize)
            return tensorFailure(
                name, "data_offsets " + rangeText + " run past the end of the data section (" +
                          std::to_string(dataSize) + " bytes): the file is truncated or corrupt");
        const std::uint64_t expectedBytes = elements * dtypeSize(tensor.dtype);
        if (elements > m_size || expectedBytes != end - begin)
            return tensorFailure(name, "shape " + tensor.shapeText() + " of " + dtype->string() +
                                           " does not match its byte range " + rangeText + " (" +
                                           std::to_string(end - begin) + " bytes)");
        tensor.byteCount = end - begin;
        tensor.data = m_bytes + dataStart + begin;
        ranges.push_back({begin, end, m_tensors.size()});
        m_index[name] = m_tensors.size();
        m_tensors.push_back(std::move(tensor));
    }

    // Back to back from the start of the data section to the end of the file: this rejects
    // overlapping tensors (one byte read as two weights) and bytes that belong to nothing.
    std::stable_sort(ranges.begin(), ranges.end(), [](const Range &a, const Range &b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::uint64_t covered = 0;
    const SafeTensorInfo *previous = nullptr;
    for (const Range &range : ranges) {
        const SafeTensorInfo &tensor = m_tensors[range.tensor];
        if (range.begin == range.end)
            continue; // an empty tensor occupies no bytes
        if (range.begin < covered)
            return tensorFailure(tensor.name,
                                 "its bytes overlap those of tensor " + quoted(previous->name));
        if (range.begin > covered)
            return tensorFailure(tensor.name,
                                 std::to_string(range.begin - covered) +
                                     " bytes before it belong to no tensor (a hole in the "
                                     "data section)");
        covered = range.end;
        previous = &tensor;
    }
    if (covered != dataSize)
        return failure("the last " + std::to_string(dataSize - covered) +
                       " bytes of the file belong to no tensor");

    // Offsets sorted by position make file order the natural listing order.
    std::vector<SafeTensorInfo> ordered;
    ordered.reserve(m_tensors.size());
    m_index.clear();
    for (const Range &range : ranges) {
        m_index[m_tensors[range.tensor].name] = ordered.size();
        ordered.push_back(std::move(m_tensors[range.tensor]));
    }
    m_tensors = std::move(ordered);
    return ModelStatus::success();
}

const SafeTensorInfo *SafeTensorsFile::find(std::string_view name) const
{
    const auto it = m_index.find(name);
    return it == m_index.end() ? nullptr : &m_tensors[it->second];
}

} // namespace emolens
