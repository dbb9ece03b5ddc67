// TAPT proper (seed 002's paper mode, models/EncoderPretrainer): continued masked-prediction
// training of a real (tiny) HuBERT's Transformer on its own cached features. The positional
// input it computes from the projected CNN features is the cache's layer 0 on every encoder
// shape; HuBERT's span masking gives hand-checkable covers; the loss falls; the CNN-side parts
// stay exactly as pre-trained; it is deterministic, resumes after a kill as if never stopped,
// and paper-mode fine-tuning starts from what it saved.

#include "AdapterTestSupport.h"
#include "AdapterTrainer.h"
#include "EncoderPretrainer.h"
#include "EncoderPretraining.h"
#include "ModelTest.h"
#include "SafeTensors.h"
#include "SelfSupervisedEncoder.h"
#include "SpeechEncoder.h"
#include "TensorFiles.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <unistd.h>

using namespace emolens;
using namespace emolens::modeltest;
using namespace emolens::testsupport;

namespace {

const std::string &encoderFolder()
{
    static const std::string folder = fixtureDir("hubert-tiny-base");
    return folder;
}

// Features of generated tones as the tiny HuBERT gives them: every hidden state [3, frames, 32]
// (source) and the projected CNN features [1, frames, 32] (inputs()).
class Tones final : public ClipFeatureSource
{
public:
    class Inputs final : public ClipFeatureSource
    {
    public:
        explicit Inputs(const Tones &owner) : m_owner(owner) {}
        int layerCount() const override { return 1; }
        int hiddenSize() const override { return 32; }
        int extraInputs() const override { return 0; }
        const std::vector<TrainerClip> &clips() const override { return m_owner.m_clips; }
        bool read(std::size_t i, float *hidden, float *, std::string *) const override
        {
            std::memcpy(hidden, m_owner.m_inputs[i].data_ptr<float>(),
                        std::size_t(m_owner.m_inputs[i].numel()) * sizeof(float));
            return true;
        }

    private:
        const Tones &m_owner;
    };

    Tones(int count, uint64_t seed) : m_inputSource(*this)
    {
        std::unique_ptr<SpeechEncoder> encoder;
        EncoderOptions options;
        options.threadCount = -1;
        options.keepProjection = true;
        REQUIRE_OK(SpeechEncoder::loadFolder(encoderFolder(), options, encoder));
        std::mt19937_64 random(seed);
        std::normal_distribution<float> noise;
        const double pitches[4] = {220, 440, 880, 1760};
        for (int i = 0; i < count; ++i) {
            TrainerClip clip;
            clip.classIndex = i % 4;
            const int64_t samples = 4800 + int64_t(random() % 4800);
            std::vector<float> wave(static_cast<std::size_t>(samples));
            for (int64_t n = 0; n < samples; ++n)
                wave[std::size_t(n)] =
                    float(0.4 * std::sin(2 * M_PI * pitches[clip.classIndex] * double(n) / 16000)) +
                    0.05f * noise(random);
            HiddenStates states;
            REQUIRE_OK(
                encoder->encode(torch::from_blob(wave.data(), {1, samples}).clone(), {}, states));
            REQUIRE(states.projection.defined());
            clip.frames = states.layers.size(2);
            m_values.push_back(states.layers.select(1, 0).contiguous()); // [3, frames, 32]
            m_inputs.push_back(states.projection.contiguous());          // [1, frames, 32]
            m_clips.push_back(clip);
        }
    }
    int layerCount() const override { return 3; }
    int hiddenSize() const override { return 32; }
    int extraInputs() const override { return 0; }
    const std::vector<TrainerClip> &clips() const override { return m_clips; }
    bool read(std::size_t i, float *hidden, float *, std::string *) const override
    {
        if (hidden)
            std::memcpy(hidden, m_values[i].data_ptr<float>(),
                        std::size_t(m_values[i].numel()) * sizeof(float));
        return true;
    }
    const ClipFeatureSource &inputs() const { return m_inputSource; }

private:
    std::vector<TrainerClip> m_clips;
    std::vector<torch::Tensor> m_values, m_inputs;
    Inputs m_inputSource;
};

const Tones &tones()
{
    static const Tones source(60, 23);
    return source;
}

EncoderPretrainOptions taptOptions()
{
    EncoderPretrainOptions o;
    o.encoderFolder = encoderFolder();
    o.epochs = 6;
    o.clusters = 8;
    o.learningRate = 1e-3; // a tiny random encoder: far from any optimum
    o.seed = 5;
    o.threads = 2;
    return o;
}

std::string temporaryPath(const char *name)
{
    return "/tmp/emolens-tapt-" + std::to_string(getpid()) + "-" + name;
}

std::map<std::string, at::Tensor> saved(const EncoderPretrainer &tapt)
{
    const std::string path = temporaryPath("saved.safetensors");
    REQUIRE_OK(tapt.save(path));
    std::map<std::string, at::Tensor> tensors;
    std::string config;
    REQUIRE_OK(readTaptWeights(path, &tensors, &config));
    VERIFY(config.find("hidden_size") != std::string::npos);
    std::remove(path.c_str());
    return tensors;
}

} // namespace

MODEL_TEST(tapt_positional_input_is_the_cached_layer_0)
{
    // A padded batch [the utterance's first half, the whole utterance] on every fixture shape.
    const at::Tensor wave = readTensor(fixtureDir("utterance.safetensors"), "waveform");
    at::Tensor batch = wave.repeat({2, 1});
    const std::int64_t half = wave.size(1) / 2;
    batch[0].narrow(0, half, wave.size(1) - half).normal_();
    for (const char *fixture : {"wav2vec2-tiny-base", "wav2vec2-tiny-large", "hubert-tiny-base"}) {
        EncoderOptions options;
        options.threadCount = 2;
        options.keepProjection = true;
        std::unique_ptr<SpeechEncoder> encoder;
        REQUIRE_OK(SpeechEncoder::loadFolder(fixtureDir(fixture), options, encoder));
        const auto &self = static_cast<const SelfSupervisedEncoder &>(*encoder);
        HiddenStates states;
        REQUIRE_OK(encoder->encode(batch, {half, wave.size(1)}, states));
        REQUIRE(states.projection.defined());
        const std::int64_t frames = states.layers.size(2);
        const auto lengths = torch::tensor(states.frameLengths, torch::kLong).unsqueeze(1);
        const auto mask = torch::arange(frames, torch::kLong).unsqueeze(0).lt(lengths);
        torch::NoGradGuard noGrad;
        const auto layer0 =
            positionalInput(states.projection, mask, self.transformerTensors(), self.config());
        const double diff = maxAbsDiff(layer0, states.layers[0]);
        std::printf("  %s: layer 0 from the projection, max abs diff %.2e\n", fixture, diff);
        VERIFY_MSG(diff <= 1e-5, fixture << ": " << diff);
        VERIFY(layer0[0].slice(0, states.frameLengths[0]).abs().max().item<double>() == 0.0);
    }
}

MODEL_TEST(tapt_span_starts_mask_as_hubert_does)
{
    std::mt19937_64 random(3);
    // One start (floor(0.001 x 100 + u) = 0, at least 1): exactly one span of 10 frames.
    auto one = spanStartMask({100}, 120, 10, 0.001, random);
    VERIFY(one.sum().item<int64_t>() == 10);
    const auto row = one[0].nonzero().squeeze(1);
    VERIFY(row[-1].item<int64_t>() - row[0].item<int64_t>() == 9);
    VERIFY(one[0].slice(0, 0, 100).sum().item<int64_t>() == 10); // never past the clip

    // A long clip: 80 or 81 distinct starts of 991; their spans cover about 1 - (1 - 0.08)^10
    // = 57 % of it (less where starts are near each other, a little at the edges).
    double cover = 0;
    for (int k = 0; k < 20; ++k)
        cover += spanStartMask({1000}, 1000, 10, 0.08, random).sum().item<double>() / 1000.0;
    cover /= 20;
    std::printf("  mean cover %.3f\n", cover);
    VERIFY_MSG(cover > 0.50 && cover < 0.62, cover);

    // Shorter than a span: masked whole; empty: nothing; padding: never.
    const auto mixed = spanStartMask({5, 0, 40}, 50, 10, 0.08, random);
    VERIFY(mixed[0].slice(0, 0, 5).all().item<bool>() &&
           !mixed[0].slice(0, 0, 6).all().item<bool>());
    VERIFY(mixed[0].sum().item<int64_t>() == 5);
    VERIFY(mixed[1].sum().item<int64_t>() == 0);
    VERIFY(mixed[2].slice(0, 0, 40).sum().item<int64_t>() >= 10);
    VERIFY(mixed[2].slice(0, 40, 50).sum().item<int64_t>() == 0);

    // The same generator state, the same masks.
    std::mt19937_64 a(9), b(9);
    VERIFY(torch::equal(spanStartMask({300, 200}, 300, 10, 0.08, a),
                        spanStartMask({300, 200}, 300, 10, 0.08, b)));
}

MODEL_TEST(tapt_adapts_the_transformer_and_its_loss_falls)
{
    EncoderPretrainer tapt(taptOptions());
    int calls = 0;
    tapt.setCallback([&calls](const EncoderPretrainRecord &, double) { ++calls; });
    REQUIRE_OK(tapt.run(tones(), tones().inputs(), range(0, 60)));
    const auto &history = tapt.history();
    REQUIRE(history.size() == 6);
    VERIFY(calls == 6);
    VERIFY(tapt.targetLayer() == 1); // the middle of 2 layers
    std::printf("  TAPT: masked loss %.3f -> %.3f, masked accuracy %.2f -> %.2f (chance %.3f), "
                "%.2f s per epoch\n",
                history.front().loss, history.back().loss, history.front().maskedAccuracy,
                history.back().maskedAccuracy, 1.0 / 8, history.back().seconds);
    VERIFY(history.back().loss < 0.8 * history.front().loss);
    VERIFY(history.back().maskedAccuracy > 2.0 / 8);

    // Every Transformer tensor moved; the positional convolution did not.
    std::unique_ptr<SpeechEncoder> encoder;
    REQUIRE_OK(SpeechEncoder::loadFolder(encoderFolder(), {}, encoder));
    const auto pretrained =
        static_cast<const SelfSupervisedEncoder &>(*encoder).transformerTensors();
    const auto adapted = saved(tapt);
    REQUIRE(adapted.size() == pretrained.size());
    for (const auto &[name, tensor] : pretrained) {
        REQUIRE(adapted.count(name) == 1);
        const double moved = maxAbsDiff(adapted.at(name), tensor);
        if (name.rfind("position_", 0) == 0 || name.rfind("encoder_norm_", 0) == 0)
            VERIFY_MSG(moved == 0.0, name << " moved " << moved);
        else if (name.find("weight") != std::string::npos)
            VERIFY_MSG(moved > 1e-5, name << " moved only " << moved);
    }

    // The same seed, the same run.
    EncoderPretrainer again(taptOptions());
    REQUIRE_OK(again.run(tones(), tones().inputs(), range(0, 60)));
    for (std::size_t e = 0; e < history.size(); ++e)
        VERIFY_MSG(again.history()[e].loss == history[e].loss, e);
    const auto twice = saved(again);
    for (const auto &[name, tensor] : adapted)
        VERIFY_MSG(torch::equal(twice.at(name), tensor), name);
}

MODEL_TEST(tapt_resumes_a_killed_run_as_if_never_stopped)
{
    EncoderPretrainOptions options = taptOptions();
    options.epochs = 4;
    EncoderPretrainer whole(options);
    REQUIRE_OK(whole.run(tones(), tones().inputs(), range(0, 60)));

    const std::string checkpoint = temporaryPath("checkpoint.safetensors");
    std::remove(checkpoint.c_str());
    options.checkpointPath = checkpoint;
    {
        EncoderPretrainer killed(options);
        int epochs = 0;
        killed.setCallback([&epochs](const EncoderPretrainRecord &, double) { ++epochs; });
        bool cancelled = false;
        REQUIRE_OK(killed.run(
            tones(), tones().inputs(), range(0, 60), [&epochs] { return epochs >= 2; },
            &cancelled));
        VERIFY(cancelled);
    }
    VERIFY(EncoderPretrainer::checkpointEpochs(checkpoint) == 2);
    options.resume = true;
    EncoderPretrainer resumed(options);
    REQUIRE_OK(resumed.run(tones(), tones().inputs(), range(0, 60)));
    VERIFY(resumed.resumed() && resumed.resumedAfterEpoch() == 2);
    REQUIRE(resumed.history().size() == 4);
    for (std::size_t e = 0; e < 4; ++e)
        VERIFY_MSG(resumed.history()[e].loss == whole.history()[e].loss, e);
    const auto a = saved(resumed), b = saved(whole);
    for (const auto &[name, tensor] : a)
        VERIFY_MSG(torch::equal(b.at(name), tensor), name);

    // Another seed does not resume from it.
    options.seed = 6;
    EncoderPretrainer other(options);
    const ModelStatus refused = other.run(tones(), tones().inputs(), range(0, 60));
    VERIFY(!refused && contains(refused.error(), "other settings"));
    std::remove(checkpoint.c_str());
}

MODEL_TEST(tapt_paper_mode_fine_tuning_starts_from_the_adapted_encoder)
{
    EncoderPretrainOptions options = taptOptions();
    options.epochs = 2;
    EncoderPretrainer tapt(options);
    REQUIRE_OK(tapt.run(tones(), tones().inputs(), range(0, 60)));
    const std::string weights = temporaryPath("adapted.safetensors");
    REQUIRE_OK(tapt.save(weights));
    const auto adapted = saved(tapt);

    TrainerOptions o;
    o.adapter.layerCount = 3;
    o.adapter.hiddenSize = 32;
    o.adapter.width = 16;
    o.adapter.transformerLayers = 0;
    o.adapter.attentionWidth = 8;
    o.adapter.classCount = 4;
    o.adapter.encoderFirstLayer = 1;
    o.encoderFolder = encoderFolder();
    o.encoderWeights = weights;
    o.encoderTrainFrom = 2; // layer 1 runs as TAPT left it
    o.epochs = 3;
    o.patience = 0;
    o.maxBatchClips = 4;
    o.seed = 9;
    AdapterTrainer trainer(o);
    REQUIRE_OK(trainer.train(tones(), range(0, 40), range(40, 60), nullptr, nullptr));
    const std::string model = temporaryPath("model.safetensors");
    REQUIRE_OK(trainer.save(model));
    for (const char *name : {"layer1.qkv_weight", "layer1.ff_in_weight"}) {
        const double fromTapt =
            maxAbsDiff(readTensor(model, std::string("encoder.") + name), adapted.at(name));
        VERIFY_MSG(fromTapt == 0.0, name << " is " << fromTapt << " from TAPT's");
    }

    // Layers from 2 on would read the cached layer 1, which TAPT changed: refused.
    o.adapter.encoderFirstLayer = 2;
    AdapterTrainer partial(o);
    const ModelStatus refused =
        partial.train(tones(), range(0, 40), range(40, 60), nullptr, nullptr);
    VERIFY_MSG(!refused && contains(refused.error(), "from layer 1"), refused.error());
    std::remove(weights.c_str());
    std::remove(model.c_str());
}

MODEL_TEST(tapt_refuses_what_it_cannot_do)
{
    EncoderPretrainOptions options = taptOptions();
    options.encoderFolder.clear();
    ModelStatus st = EncoderPretrainer(options).run(tones(), tones().inputs(), range(0, 10));
    VERIFY_MSG(!st && contains(st.error(), "no encoder folder"), st.error());

    options = taptOptions();
    options.clusters = 5000; // more clusters than frames
    st = EncoderPretrainer(options).run(tones(), tones().inputs(), range(0, 10));
    VERIFY_MSG(!st && contains(st.error(), "frames"), st.error());

    options = taptOptions();
    st = EncoderPretrainer(options).run(tones(), tones(), range(0, 10)); // 3 layers as inputs
    VERIFY_MSG(!st && contains(st.error(), "do not match"), st.error());

    options.targetLayer = 7;
    st = EncoderPretrainer(options).run(tones(), tones().inputs(), range(0, 10));
    VERIFY_MSG(!st && contains(st.error(), "not 7"), st.error());

    const std::string bad = temporaryPath("bad.safetensors");
    {
        std::FILE *f = std::fopen(bad.c_str(), "wb");
        std::fputs("not a safetensors file", f);
        std::fclose(f);
    }
    std::map<std::string, at::Tensor> tensors;
    st = readTaptWeights(bad, &tensors, nullptr);
    VERIFY(!st && contains(st.error(), bad));
    std::remove(bad.c_str());
}
