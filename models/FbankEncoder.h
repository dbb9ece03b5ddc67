#pragma once
// FbankEncoder: the built-in encoder that needs no weights. 80 log-mel bands from a 25 ms
// periodic Hann window (400 samples) every 10 ms (160 samples), 512-point FFT power spectrum,
// HTK mel scale with 80 triangular filters between 20 Hz and 8 kHz (peak 1, no area
// normalisation), log(mel + 1e-6), then mean/variance normalisation per utterance and band
// over the clip's valid frames, and pairs of frames averaged to 50 frames/s so it lines up
// with the Transformers. Frame f covers samples [160 f, 160 f + 400); a clip of n samples has
// (1 + (n - 400) / 160) / 2 frames (0 below 400 samples). One "layer" of 80 dimensions.
// Threads: see SpeechEncoder.

#include "SpeechEncoder.h"

namespace emolens {

class FbankEncoder final : public SpeechEncoder
{
public:
    static constexpr int kBandCount = 80;
    static constexpr int kWindowSamples = 400;
    static constexpr int kHopSamples = 160;
    static constexpr int kFftSize = 512;

    ~FbankEncoder() override;
    static ModelStatus create(const EncoderOptions &options, std::unique_ptr<SpeechEncoder> &out);

    ModelStatus encode(const at::Tensor &waveforms, const std::vector<std::int64_t> &sampleLengths,
                       HiddenStates &out) const override;
    int layerCount() const override { return 1; }
    int hiddenSize() const override { return kBandCount; }
    double framesPerSecond() const override { return 50.0; }
    std::int64_t frameCount(std::int64_t sampleCount) const override;
    std::string identity() const override { return "fbank-v1"; }
    c10::Device device() const override { return m_device; }

private:
    FbankEncoder(at::Tensor window, at::Tensor melFilters, c10::Device device);
    at::Tensor m_window;     // [400]
    at::Tensor m_melFilters; // [257, 80]
    c10::Device m_device;
};

} // namespace emolens
