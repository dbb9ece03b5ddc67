// Fuzz target: SafeTensorsFile::open (models/SafeTensors), the header and the tensor index of a
// weight file. The bytes are written to a scratch file, since the reader maps a file. A file
// that opens must describe tensors that lie inside it: every tensor's bytes are read (the
// address sanitizer checks them) and every name is found through the index.

#include "SafeTensors.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <unistd.h>

namespace {

// One scratch file per process, removed at exit.
class ScratchFile
{
public:
    ScratchFile()
    {
        const char *tmp = std::getenv("TMPDIR");
        m_path = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                 "/emolens-fuzz-XXXXXX.safetensors";
        const int fd = ::mkstemps(m_path.data(), 12);
        if (fd < 0) {
            std::perror("mkstemps");
            std::abort();
        }
        ::close(fd);
    }
    ~ScratchFile() { ::unlink(m_path.c_str()); }

    const std::string &write(const std::uint8_t *data, std::size_t size) const
    {
        std::FILE *file = std::fopen(m_path.c_str(), "wb");
        if (file == nullptr || (size > 0 && std::fwrite(data, 1, size, file) != size) ||
            std::fclose(file) != 0)
            std::abort();
        return m_path;
    }

private:
    std::string m_path;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static const ScratchFile scratch;
    std::unique_ptr<emolens::SafeTensorsFile> file;
    const emolens::ModelStatus status =
        emolens::SafeTensorsFile::open(scratch.write(data, size), file);
    if (!status) {
        if (file != nullptr)
            std::abort();
        return 0;
    }
    if (file->fileSize() != size)
        std::abort();
    std::uint64_t checksum = 0;
    std::uint64_t covered = 0;
    for (const emolens::SafeTensorInfo &tensor : file->tensors()) {
        if (file->find(tensor.name) != &tensor)
            std::abort();
        const std::int64_t elements = tensor.elementCount();
        if (elements < 0 ||
            static_cast<std::uint64_t>(elements) * emolens::dtypeSize(tensor.dtype) !=
                tensor.byteCount)
            std::abort();
        if (tensor.shapeText().empty())
            std::abort();
        for (std::uint64_t i = 0; i < tensor.byteCount; ++i)
            checksum += tensor.data[i];
        covered += tensor.byteCount;
    }
    for (const auto &[key, value] : file->metadata())
        checksum += key.size() + value.size();
    if (covered > size || checksum > 255 * covered + 255 * size) // uses the reads, so they stay
        std::abort();
    return 0;
}
