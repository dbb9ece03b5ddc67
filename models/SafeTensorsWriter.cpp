#include "SafeTensorsWriter.h"

#include "Json.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace emolens {

ModelStatus SafeTensorsWriter::add(const std::string &name, TensorDtype dtype,
                                   std::vector<std::int64_t> shape, const void *data,
                                   std::uint64_t byteCount)
{
    if (name.empty() || name == "__metadata__")
        return ModelStatus::failure("safetensors writer: \"" + name + "\" cannot be a tensor name");
    for (const Entry &entry : m_entries) {
        if (entry.name == name)
            return ModelStatus::failure("safetensors writer: tensor \"" + name + "\" added twice");
    }
    std::uint64_t elements = 1;
    for (const std::int64_t extent : shape) {
        if (extent < 0)
            return ModelStatus::failure("safetensors writer: tensor \"" + name +
                                        "\" has a negative extent");
        elements *= static_cast<std::uint64_t>(extent);
    }
    if (elements * dtypeSize(dtype) != byteCount || (byteCount > 0 && data == nullptr))
        return ModelStatus::failure("safetensors writer: tensor \"" + name + "\" has " +
                                    std::to_string(byteCount) + " bytes, its shape needs " +
                                    std::to_string(elements * dtypeSize(dtype)));
    m_entries.push_back({name, dtype, std::move(shape), data, byteCount});
    return ModelStatus::success();
}

void SafeTensorsWriter::setMetadata(const std::string &key, const std::string &value)
{
    m_metadata[key] = value;
}

ModelStatus SafeTensorsWriter::write(const std::string &path) const
{
    std::string header = "{";
    bool first = true;
    if (!m_metadata.empty()) {
        header += "\"__metadata__\":{";
        for (const auto &[key, value] : m_metadata) {
            if (!first)
                header += ',';
            first = false;
            header += JsonValue::quote(key) + ':' + JsonValue::quote(value);
        }
        header += '}';
        first = false;
    }
    std::uint64_t offset = 0;
    for (const Entry &entry : m_entries) {
        if (!first)
            header += ',';
        first = false;
        header += JsonValue::quote(entry.name) + ":{\"dtype\":\"" + dtypeName(entry.dtype) +
                  "\",\"shape\":[";
        for (std::size_t i = 0; i < entry.shape.size(); ++i) {
            if (i > 0)
                header += ',';
            header += std::to_string(entry.shape[i]);
        }
        header += "],\"data_offsets\":[" + std::to_string(offset) + ',' +
                  std::to_string(offset + entry.byteCount) + "]}";
        offset += entry.byteCount;
    }
    header += '}';
    header.append((8 - header.size() % 8) % 8, ' ');

    const std::string partial = path + ".partial";
    std::FILE *file = std::fopen(partial.c_str(), "wb");
    if (file == nullptr)
        return ModelStatus::failure(path + ": cannot create the file (" + std::strerror(errno) +
                                    ")");
    unsigned char length[8];
    for (int i = 0; i < 8; ++i)
        length[i] = static_cast<unsigned char>((header.size() >> (8 * i)) & 0xFF);
    bool written = std::fwrite(length, 1, 8, file) == 8 &&
                   std::fwrite(header.data(), 1, header.size(), file) == header.size();
    for (const Entry &entry : m_entries) {
        if (!written)
            break;
        written = entry.byteCount == 0 ||
                  std::fwrite(entry.data, 1, entry.byteCount, file) == entry.byteCount;
    }
    const int savedErrno = errno;
    if (std::fclose(file) != 0)
        written = false;
    if (!written || std::rename(partial.c_str(), path.c_str()) != 0) {
        const std::string reason = std::strerror(written ? errno : savedErrno);
        std::remove(partial.c_str());
        return ModelStatus::failure(path + ": cannot write the file (" + reason + ")");
    }
    return ModelStatus::success();
}

} // namespace emolens
