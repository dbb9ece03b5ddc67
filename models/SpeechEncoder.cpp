#include "SpeechEncoder.h"

#include "FbankEncoder.h"
#include "SelfSupervisedEncoder.h"

#include <ATen/Parallel.h>

#include <thread>

namespace emolens {

ModelStatus SpeechEncoder::loadFolder(const std::string &folder, const EncoderOptions &options,
                                      std::unique_ptr<SpeechEncoder> &out)
{
    applyThreadCount(options);
    return SelfSupervisedEncoder::load(folder, options, out);
}

ModelStatus SpeechEncoder::createFbank(const EncoderOptions &options,
                                       std::unique_ptr<SpeechEncoder> &out)
{
    applyThreadCount(options);
    return FbankEncoder::create(options, out);
}

const char *precisionName(EncoderPrecision precision)
{
    return precision == EncoderPrecision::BFloat16 ? "bf16" : "fp32";
}

bool parsePrecision(const std::string &name, EncoderPrecision &out)
{
    if (name == "fp32" || name == "float32") {
        out = EncoderPrecision::Float32;
        return true;
    }
    if (name == "bf16" || name == "bfloat16") {
        out = EncoderPrecision::BFloat16;
        return true;
    }
    return false;
}

void SpeechEncoder::applyThreadCount(const EncoderOptions &options)
{
    if (options.threadCount > 0) {
        at::set_num_threads(options.threadCount);
    } else if (options.threadCount == 0) {
        const unsigned cores = std::thread::hardware_concurrency();
        if (cores > 0)
            at::set_num_threads(static_cast<int>(cores));
    }
}

ModelStatus SpeechEncoder::checkInput(const at::Tensor &waveforms,
                                      const std::vector<std::int64_t> &sampleLengths,
                                      std::vector<std::int64_t> &lengths)
{
    if (!waveforms.defined() || waveforms.dim() != 2)
        return ModelStatus::failure("encoder input must be a [batch, samples] waveform tensor");
    if (!waveforms.is_floating_point())
        return ModelStatus::failure("encoder input must hold floating-point samples");
    const std::int64_t batch = waveforms.size(0);
    const std::int64_t samples = waveforms.size(1);
    if (sampleLengths.empty()) {
        lengths.assign(static_cast<std::size_t>(batch), samples);
        return ModelStatus::success();
    }
    if (static_cast<std::int64_t>(sampleLengths.size()) != batch)
        return ModelStatus::failure("encoder input has " + std::to_string(batch) + " clips but " +
                                    std::to_string(sampleLengths.size()) + " lengths");
    for (const std::int64_t length : sampleLengths) {
        if (length < 0 || length > samples)
            return ModelStatus::failure("clip length " + std::to_string(length) +
                                        " lies outside the padded width of " +
                                        std::to_string(samples) + " samples");
    }
    lengths = sampleLengths;
    return ModelStatus::success();
}

} // namespace emolens
