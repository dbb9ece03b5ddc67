// Fuzz target: EncoderConfig::parse (models/EncoderConfig), the config.json of a wav2vec 2.0 /
// HuBERT / WavLM model. A config that parses must be one the encoder can be built from, so the
// derived sizes are computed too (the frame arithmetic must not overflow).

#include "EncoderConfig.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const std::string text(reinterpret_cast<const char *>(data), size);
    emolens::EncoderConfig config;
    const emolens::ModelStatus status = emolens::EncoderConfig::parse(text, "config.json", config);
    if (!status) {
        if (status.error().rfind("config.json: ", 0) != 0)
            std::abort(); // every message names the file
        return 0;
    }
    if (config.samplesPerFrame() < 1)
        std::abort();
    for (const std::int64_t samples :
         {std::int64_t(0), std::int64_t(400), std::int64_t(16000), std::int64_t(16000) * 3600})
        if (config.frameCount(samples) < 0)
            std::abort();
    return 0;
}
