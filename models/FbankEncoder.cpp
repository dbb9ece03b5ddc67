#include "FbankEncoder.h"

#include "OutOfMemory.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <vector>

namespace emolens {

namespace {

constexpr double kMinFrequencyHz = 20.0;
constexpr double kMaxFrequencyHz = 8000.0;
constexpr double kLogFloor = 1e-6;
constexpr double kVarianceFloor = 1e-5;

double hzToMel(double hz)
{
    return 2595.0 * std::log10(1.0 + hz / 700.0);
}

double melToHz(double mel)
{
    return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
}

// [fftSize / 2 + 1, bands]: triangles on the HTK mel scale, evaluated at each FFT bin's
// frequency. Built once in double precision; tiny, so computed rather than stored.
at::Tensor melFilterBank(int bands, int fftSize, int sampleRate)
{
    const int bins = fftSize / 2 + 1;
    const double lowMel = hzToMel(kMinFrequencyHz);
    const double highMel = hzToMel(kMaxFrequencyHz);
    std::vector<double> edgesHz(static_cast<std::size_t>(bands + 2));
    for (int i = 0; i < bands + 2; ++i)
        edgesHz[static_cast<std::size_t>(i)] =
            melToHz(lowMel + (highMel - lowMel) * i / (bands + 1));
    std::vector<float> weights(static_cast<std::size_t>(bins * bands), 0.0f);
    for (int bin = 0; bin < bins; ++bin) {
        const double hz = static_cast<double>(bin) * sampleRate / fftSize;
        for (int band = 0; band < bands; ++band) {
            const double left = edgesHz[static_cast<std::size_t>(band)];
            const double centre = edgesHz[static_cast<std::size_t>(band + 1)];
            const double right = edgesHz[static_cast<std::size_t>(band + 2)];
            double weight = 0.0;
            if (hz > left && hz < right)
                weight =
                    hz <= centre ? (hz - left) / (centre - left) : (right - hz) / (right - centre);
            weights[static_cast<std::size_t>(bin * bands + band)] = static_cast<float>(weight);
        }
    }
    return at::tensor(weights).view({bins, bands});
}

std::int64_t windowCount(std::int64_t samples)
{
    return samples < FbankEncoder::kWindowSamples
               ? 0
               : 1 + (samples - FbankEncoder::kWindowSamples) / FbankEncoder::kHopSamples;
}

} // namespace

FbankEncoder::FbankEncoder(at::Tensor window, at::Tensor melFilters, c10::Device device)
    : m_window(std::move(window)), m_melFilters(std::move(melFilters)), m_device(device)
{
}

FbankEncoder::~FbankEncoder() = default;

ModelStatus FbankEncoder::create(const EncoderOptions &options, std::unique_ptr<SpeechEncoder> &out)
{
    out.reset();
    try {
        at::Tensor window = at::hann_window(kWindowSamples, /*periodic=*/true,
                                            at::TensorOptions().dtype(at::kFloat))
                                .to(options.device);
        at::Tensor filters = melFilterBank(kBandCount, kFftSize, kSampleRate).to(options.device);
        out.reset(new FbankEncoder(std::move(window), std::move(filters), options.device));
    } catch (...) {
        return statusFromCurrentException("cannot create the fbank encoder on " +
                                          options.device.str() + ": ");
    }
    return ModelStatus::success();
}

std::int64_t FbankEncoder::frameCount(std::int64_t sampleCount) const
{
    return windowCount(sampleCount) / 2;
}

ModelStatus FbankEncoder::encode(const at::Tensor &waveforms,
                                 const std::vector<std::int64_t> &sampleLengths,
                                 HiddenStates &out) const
{
    out = HiddenStates();
    std::vector<std::int64_t> lengths;
    if (ModelStatus status = checkInput(waveforms, sampleLengths, lengths); !status)
        return status;
    try {
        c10::InferenceMode inferenceMode;
        const std::int64_t batch = waveforms.size(0);
        const std::int64_t windows = windowCount(waveforms.size(1));
        const std::int64_t frames = windows / 2;
        std::vector<std::int64_t> validWindows;
        for (const std::int64_t length : lengths) {
            validWindows.push_back(windowCount(length));
            out.frameLengths.push_back(windowCount(length) / 2);
        }
        const auto floatOptions = at::TensorOptions().dtype(at::kFloat).device(m_device);
        if (frames == 0) {
            out.layers = at::zeros({1, batch, 0, kBandCount}, floatOptions);
            return ModelStatus::success();
        }

        // stft centres the 400-sample window in the 512-sample frame, so 56 samples of padding
        // on each side make frame f start its window at sample 160 f.
        const std::int64_t margin = (kFftSize - kWindowSamples) / 2;
        at::Tensor x = waveforms.to(floatOptions);
        x = at::constant_pad_nd(x, {margin, margin}, 0.0);
        const at::Tensor spectrum =
            at::stft(x, kFftSize, kHopSamples, kWindowSamples, m_window, /*normalized=*/false,
                     /*onesided=*/true, /*return_complex=*/true); // [batch, 257, windows]
        const at::Tensor power = at::view_as_real(spectrum).pow(2).sum(-1);
        at::Tensor mel = at::matmul(power.transpose(1, 2), m_melFilters); // [batch, windows, 80]
        mel = (mel + kLogFloor).log().narrow(1, 0, windows);

        const at::Tensor validCounts =
            at::tensor(validWindows, at::TensorOptions().dtype(at::kLong)).to(m_device);
        const at::Tensor valid = at::arange(windows, validCounts.options())
                                     .unsqueeze(0)
                                     .lt(validCounts.unsqueeze(1))
                                     .unsqueeze(2); // [batch, windows, 1]
        const at::Tensor count = validCounts.clamp_min(1).to(at::kFloat).view({-1, 1, 1});
        const at::Tensor zero = at::zeros({}, floatOptions);
        const at::Tensor mean = at::where(valid, mel, zero).sum(1, true) / count;
        const at::Tensor centred = mel - mean;
        const at::Tensor variance = at::where(valid, centred * centred, zero).sum(1, true) / count;
        at::Tensor normalised = centred * (variance + kVarianceFloor).rsqrt();

        // Pairs of 10 ms frames to one 20 ms frame (a trailing odd frame is dropped).
        at::Tensor pooled =
            normalised.narrow(1, 0, frames * 2).view({batch, frames, 2, kBandCount}).mean(2);
        const at::Tensor frameCounts =
            at::tensor(out.frameLengths, at::TensorOptions().dtype(at::kLong)).to(m_device);
        const at::Tensor validFrames = at::arange(frames, frameCounts.options())
                                           .unsqueeze(0)
                                           .lt(frameCounts.unsqueeze(1))
                                           .unsqueeze(2);
        pooled = at::where(validFrames, pooled, zero);
        out.layers = pooled.unsqueeze(0);
    } catch (...) {
        out = HiddenStates();
        return statusFromCurrentException("fbank encoding failed: ");
    }
    return ModelStatus::success();
}

} // namespace emolens
