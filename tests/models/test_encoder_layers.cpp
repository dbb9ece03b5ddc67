// The encoder's Transformer layers as a trainable module (the recipes' paper mode): from any
// cached layer, they give the layers above exactly as the encoder does (padded batches
// included, WavLM's position bias included), their gradients agree with finite differences,
// padding gets no gradient, and only the layers asked to train do.

#include "EncoderLayers.h"
#include "ModelTest.h"
#include "SelfSupervisedEncoder.h"
#include "SpeechEncoder.h"
#include "TensorFiles.h"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <iomanip>
#include <random>

using namespace emolens;
using namespace emolens::modeltest;

namespace {

constexpr double kForwardTolerance = 1e-5;

// The fixtures' three shapes (post-LN, pre-LN, HuBERT) plus WavLM made from each stack.
struct Encoder
{
    std::string name;
    std::unique_ptr<SpeechEncoder> encoder;
    const SelfSupervisedEncoder &self() const
    {
        return static_cast<const SelfSupervisedEncoder &>(*encoder);
    }
};

std::vector<Encoder> encoders(ScratchFolder &scratch)
{
    std::vector<Encoder> out;
    const auto add = [&out](const std::string &name, const std::string &folder) {
        Encoder e;
        e.name = name;
        EncoderOptions options;
        options.threadCount = 2;
        REQUIRE_OK(SpeechEncoder::loadFolder(folder, options, e.encoder));
        REQUIRE(dynamic_cast<const SelfSupervisedEncoder *>(e.encoder.get()) != nullptr);
        out.push_back(std::move(e));
    };
    for (const char *fixture : {"wav2vec2-tiny-base", "wav2vec2-tiny-large", "hubert-tiny-base"})
        add(fixture, fixtureDir(fixture));
    for (const char *fixture : {"wav2vec2-tiny-base", "wav2vec2-tiny-large"}) {
        const std::string folder = scratch.path() + "/wavlm-" + fixture;
        std::filesystem::create_directories(folder);
        makeWavlm(fixture, folder, 1.0);
        add(std::string("wavlm from ") + fixture, folder);
    }
    return out;
}

// A batch of [the utterance's first half padded with noise, the whole utterance].
HiddenStates paddedStates(const SpeechEncoder &encoder, std::vector<std::int64_t> *lengths)
{
    const at::Tensor wave =
        readTensor(fixtureDir("utterance.safetensors"), "waveform"); // [1, 16000]
    at::Tensor batch = wave.repeat({2, 1});
    const std::int64_t half = wave.size(1) / 2;
    batch[0].narrow(0, half, wave.size(1) - half).normal_();
    *lengths = {half, wave.size(1)};
    HiddenStates states;
    REQUIRE_OK(encoder.encode(batch, *lengths, states));
    return states;
}

torch::Tensor maskOf(const HiddenStates &states)
{
    const std::int64_t frames = states.layers.size(2);
    const auto lengths = torch::tensor(states.frameLengths, torch::kLong).unsqueeze(1);
    return torch::arange(frames, torch::kLong).unsqueeze(0).lt(lengths); // [B, T]
}

} // namespace

MODEL_TEST(layers_give_the_encoder_its_own_outputs_from_any_cached_layer)
{
    ScratchFolder scratch;
    for (const Encoder &e : encoders(scratch)) {
        std::vector<std::int64_t> lengths;
        const HiddenStates states = paddedStates(*e.encoder, &lengths);
        const auto mask = maskOf(states);
        const EncoderConfig &config = e.self().config();
        std::cout << "  " << e.name << ":";
        for (int first = 1; first <= config.layerCount; ++first) {
            EncoderLayers layers(config, first);
            REQUIRE_OK(layers->copyFrom(e.self().transformerTensors()));
            layers->eval();
            torch::NoGradGuard noGrad;
            const auto out = layers->forward(states.layers[first - 1], mask); // [B, n, T, H]
            REQUIRE(out.size(1) == config.layerCount - first + 1);
            const auto expected =
                states.layers.slice(0, first, config.layerCount + 1).transpose(0, 1);
            const double diff = maxAbsDiff(out, expected);
            std::cout << " from layer " << first << " " << std::scientific << std::setprecision(2)
                      << diff;
            VERIFY_MSG(diff <= kForwardTolerance,
                       e.name << " from layer " << first << ": " << diff);
            // Padded frames are zero, as in the cache.
            VERIFY(out[0].slice(1, states.frameLengths[0]).abs().max().item<double>() == 0.0);
        }
        std::cout << std::endl;
    }
}

MODEL_TEST(layers_gradients_agree_with_finite_differences)
{
    // Double precision, no dropout: the central difference of a fixed random projection of the
    // outputs against autograd's gradient, for entries of every parameter and of the input.
    ScratchFolder scratch;
    for (const Encoder &e : encoders(scratch)) {
        const EncoderConfig &config = e.self().config();
        EncoderLayers layers(config, 1);
        REQUIRE_OK(layers->copyFrom(e.self().transformerTensors()));
        layers->to(torch::kDouble);
        layers->eval();
        torch::manual_seed(3);
        const auto input =
            torch::randn({2, 7, config.hiddenSize}, torch::kDouble).set_requires_grad(true);
        auto mask = torch::ones({2, 7}, torch::kBool);
        mask[0].slice(0, 5).fill_(false);
        const auto projection =
            torch::randn({2, config.layerCount, 7, config.hiddenSize}, torch::kDouble);
        const auto objective = [&] { return (layers->forward(input, mask) * projection).sum(); };
        objective().backward();

        std::vector<std::pair<std::string, torch::Tensor>> checked;
        for (const auto &p : layers->named_parameters())
            checked.emplace_back(p.key(), p.value());
        checked.emplace_back("input", input);
        std::mt19937_64 pick(11);
        double worst = 0;
        for (auto &[name, tensor] : checked) {
            VERIFY_MSG(tensor.grad().defined(), e.name << ": no gradient for " << name);
            if (!tensor.grad().defined())
                continue;
            const auto flat = tensor.view({-1});
            const auto gradient = tensor.grad().view({-1});
            for (int k = 0; k < 3; ++k) {
                int64_t i = int64_t(pick() % uint64_t(flat.numel()));
                if (name == "input") // a real frame of the padded clip
                    i = int64_t(pick() % uint64_t(5 * config.hiddenSize));
                const double step = 1e-6;
                double up = 0, down = 0;
                {
                    torch::NoGradGuard noGrad;
                    const double original = flat[i].item<double>();
                    flat[i].fill_(original + step);
                    up = objective().item<double>();
                    flat[i].fill_(original - step);
                    down = objective().item<double>();
                    flat[i].fill_(original);
                }
                const double numeric = (up - down) / (2 * step);
                const double analytic = gradient[i].item<double>();
                const double error =
                    std::abs(numeric - analytic) / std::max(1.0, std::abs(numeric));
                worst = std::max(worst, error);
                VERIFY_MSG(error < 1e-6, e.name << " " << name << "[" << i << "]: autograd "
                                                << analytic << ", finite difference " << numeric);
            }
        }
        // Padded input frames reach nothing, so they get no gradient at all.
        VERIFY(input.grad()[0].slice(0, 5).abs().max().item<double>() == 0.0);
        std::cout << "  " << e.name << ": " << checked.size() << " tensors, worst relative error "
                  << std::scientific << std::setprecision(2) << worst << std::endl;
    }
}

MODEL_TEST(layers_train_only_from_the_layer_asked)
{
    const std::string folder = fixtureDir("wav2vec2-tiny-base");
    std::unique_ptr<SpeechEncoder> encoder;
    REQUIRE_OK(SpeechEncoder::loadFolder(folder, {}, encoder));
    const auto &self = static_cast<const SelfSupervisedEncoder &>(*encoder);
    std::vector<std::int64_t> lengths;
    const HiddenStates states = paddedStates(*encoder, &lengths);
    EncoderLayers layers(self.config(), 1);
    REQUIRE_OK(layers->copyFrom(self.transformerTensors()));
    layers->trainFrom(2); // layer 1 frozen, as seed 003's stage 2 freezes the first four
    layers->train();
    torch::manual_seed(5);
    const auto mask = maskOf(states);
    const auto first = layers->forward(states.layers[0], mask);
    first.pow(2).sum().backward();
    for (const auto &p : layers->named_parameters()) {
        const bool layerOne = p.key().rfind("layer1.", 0) == 0;
        VERIFY_MSG(p.value().grad().defined() != layerOne, p.key());
    }
    // Dropout acts in training and not in evaluation.
    const auto second = layers->forward(states.layers[0], mask);
    VERIFY(maxAbsDiff(first, second) > 1e-3);
    layers->eval();
    torch::NoGradGuard noGrad;
    VERIFY(torch::equal(layers->forward(states.layers[0], mask),
                        layers->forward(states.layers[0], mask)));
}

MODEL_TEST(layers_refuse_weights_that_do_not_fit)
{
    const std::string folder = fixtureDir("hubert-tiny-base");
    std::unique_ptr<SpeechEncoder> encoder;
    REQUIRE_OK(SpeechEncoder::loadFolder(folder, {}, encoder));
    const auto &self = static_cast<const SelfSupervisedEncoder &>(*encoder);
    auto tensors = self.transformerTensors();
    EncoderLayers layers(self.config(), 2);
    tensors.erase("layer2.ff_in_bias");
    const ModelStatus missing = layers->copyFrom(tensors);
    VERIFY(!missing && contains(missing.error(), "layer2.ff_in_bias"));
    tensors = self.transformerTensors();
    tensors["layer2.out_weight"] = torch::zeros({3, 3});
    const ModelStatus shape = layers->copyFrom(tensors);
    VERIFY(!shape && contains(shape.error(), "layer2.out_weight"));
    bool refused = false;
    try {
        EncoderLayers beyond(self.config(), self.config().layerCount + 1);
    } catch (const c10::Error &) {
        refused = true;
    }
    VERIFY(refused);
}
