// The recipes' paper mode on a real (tiny) encoder: the features are hubert-tiny-base's hidden
// states of generated tones, and the adapter fine-tunes the encoder's own Transformer layers
// from the cached ones. It learns, leaves the frozen layers exactly as they were, is
// deterministic with a seed, round-trips through its file (no encoder folder needed to
// predict), resumes after a kill as if never stopped, runs seed 001's and seed 003's stages,
// and refuses what it cannot do with a message that names the problem.

#include "AdapterTestSupport.h"
#include "AdapterTrainer.h"
#include "ModelTest.h"
#include "SafeTensors.h"
#include "SelfSupervisedEncoder.h"
#include "SpeechEncoder.h"
#include "TensorFiles.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstring>
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

// Clips of a tone whose pitch is the class (4 classes) plus a high tone for one gender, with
// noise, 0.3 to 0.6 s long, as the tiny encoder hears them: every hidden state [3, frames, 32].
class EncodedTones final : public ClipFeatureSource
{
public:
    EncodedTones(int count, uint64_t seed)
    {
        std::unique_ptr<SpeechEncoder> encoder;
        EncoderOptions options;
        options.threadCount = -1;
        REQUIRE_OK(SpeechEncoder::loadFolder(encoderFolder(), options, encoder));
        std::mt19937_64 random(seed);
        std::normal_distribution<float> noise;
        const double pitches[4] = {220, 440, 880, 1760};
        for (int i = 0; i < count; ++i) {
            TrainerClip clip;
            clip.classIndex = i % 4;
            clip.gender = (i / 4) % 2;
            const int64_t samples = 4800 + int64_t(random() % 4800);
            std::vector<float> wave(static_cast<std::size_t>(samples));
            const double phase = double(random() % 1000) / 1000.0;
            for (int64_t n = 0; n < samples; ++n) {
                const double t = double(n) / 16000.0;
                wave[std::size_t(n)] =
                    float(0.4 * std::sin(2 * M_PI * (pitches[clip.classIndex] * t + phase)) +
                          (clip.gender == 1 ? 0.2 * std::sin(2 * M_PI * 3000 * t) : 0.0)) +
                    0.05f * noise(random);
            }
            HiddenStates states;
            REQUIRE_OK(
                encoder->encode(torch::from_blob(wave.data(), {1, samples}).clone(), {}, states));
            clip.frames = states.layers.size(2);
            m_values.push_back(states.layers.select(1, 0).contiguous()); // [3, frames, 32]
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

private:
    std::vector<TrainerClip> m_clips;
    std::vector<torch::Tensor> m_values;
};

const EncodedTones &tones()
{
    static const EncodedTones source(100, 17);
    return source;
}

TrainerOptions paperOptions()
{
    TrainerOptions o;
    o.adapter.layerCount = 3;
    o.adapter.hiddenSize = 32;
    o.adapter.width = 16;
    o.adapter.transformerLayers = 0;
    o.adapter.pooling = AdapterPooling::AttentiveStatistics;
    o.adapter.attentionWidth = 8;
    o.adapter.classCount = 4;
    o.adapter.encoderFirstLayer = 1;
    o.encoderFolder = encoderFolder();
    o.encoderTrainFrom = 2; // layer 1 runs but stays as pre-trained
    o.encoderLearningRate = 1e-3;
    o.learningRate = 3e-3;
    o.epochs = 10;
    o.patience = 0;
    o.batchFrames = 400;
    o.maxBatchClips = 4; // seed 003's batch
    o.seed = 9;
    return o;
}

std::string temporaryPath(const char *name)
{
    return "/tmp/emolens-paper-" + std::to_string(getpid()) + "-" + name;
}

std::vector<float> probabilities(AdapterTrainer &trainer, const std::vector<std::size_t> &which)
{
    std::vector<ClipPrediction> out;
    REQUIRE_OK(trainer.predict(tones(), which, false, false, &out));
    std::vector<float> flat;
    for (const ClipPrediction &p : out)
        flat.insert(flat.end(), p.probabilities.begin(), p.probabilities.end());
    return flat;
}

// How far each of the saved model's encoder tensors moved from the pre-trained encoder's.
std::map<std::string, double> encoderMoves(AdapterTrainer &trainer)
{
    const std::string path = temporaryPath("moves.safetensors");
    REQUIRE_OK(trainer.save(path));
    std::unique_ptr<SpeechEncoder> encoder;
    REQUIRE_OK(SpeechEncoder::loadFolder(encoderFolder(), {}, encoder));
    const auto pretrained =
        static_cast<const SelfSupervisedEncoder &>(*encoder).transformerTensors();
    std::unique_ptr<SafeTensorsFile> file;
    REQUIRE_OK(SafeTensorsFile::open(path, file));
    std::map<std::string, double> moves;
    for (const auto &[name, tensor] : pretrained)
        if (file->find("encoder." + name)) // (the post-LN stack's input norm is not trained)
            moves[name] = maxAbsDiff(readTensor(path, "encoder." + name), tensor);
    VERIFY(moves.size() == 24);
    std::remove(path.c_str());
    return moves;
}

} // namespace

MODEL_TEST(paper_mode_fine_tunes_the_chosen_encoder_layers)
{
    const TrainerOptions options = paperOptions();
    AdapterTrainer trainer(options);
    REQUIRE_OK(trainer.train(tones(), range(0, 60), range(60, 80), nullptr, nullptr));
    const auto &history = trainer.history();
    REQUIRE(history.size() == 10);
    std::printf("  paper mode: train loss %.3f -> %.3f, validation UA %.2f (best epoch %d), "
                "%.2f s per epoch\n",
                history.front().trainLoss, history.back().trainLoss,
                history[std::size_t(trainer.bestEpoch() - 1)].validationUa, trainer.bestEpoch(),
                history.back().seconds);
    VERIFY(history.back().trainLoss < 0.7 * history.front().trainLoss);

    // Held-out clips, chance 0.25.
    const auto held = probabilities(trainer, range(80, 100));
    int right = 0;
    for (std::size_t k = 0; k < 20; ++k) {
        const auto begin = held.begin() + std::ptrdiff_t(4 * k);
        right +=
            int(std::max_element(begin, begin + 4) - begin) == tones().clips()[80 + k].classIndex
                ? 1
                : 0;
    }
    VERIFY_MSG(right >= 14, right << " of 20");

    // Layer 1 ran but did not train; layer 2 did.
    const auto moves = encoderMoves(trainer);
    for (const auto &[name, moved] : moves) {
        if (name.rfind("layer1.", 0) == 0)
            VERIFY_MSG(moved == 0.0, name << " moved " << moved);
        if (name == "layer2.qkv_weight" || name == "layer2.ff_in_weight")
            VERIFY_MSG(moved > 1e-4, name << " moved " << moved);
    }

    // The same seed, the same run.
    AdapterTrainer again(options);
    REQUIRE_OK(again.train(tones(), range(0, 60), range(60, 80), nullptr, nullptr));
    for (std::size_t e = 0; e < history.size(); ++e)
        VERIFY_MSG(again.history()[e].trainLoss == history[e].trainLoss, e);
    VERIFY(probabilities(again, range(80, 100)) == held);

    // Saved and loaded without the encoder's folder: the same predictions.
    const std::string path = temporaryPath("model.safetensors");
    REQUIRE_OK(trainer.save(path));
    AdapterTrainer loaded(TrainerOptions{});
    REQUIRE_OK(loaded.load(path));
    VERIFY(loaded.options().adapter.describe() == trainer.options().adapter.describe());
    VERIFY(contains(loaded.options().adapter.describe(), "encoder-layers=1-2"));
    const auto reloaded = probabilities(loaded, range(80, 100));
    REQUIRE(reloaded.size() == held.size());
    for (std::size_t i = 0; i < held.size(); ++i)
        VERIFY_MSG(std::abs(reloaded[i] - held[i]) < 1e-5, i);
    std::remove(path.c_str());
}

MODEL_TEST(paper_mode_resumes_a_killed_run_as_if_never_stopped)
{
    TrainerOptions options = paperOptions();
    options.epochs = 5;
    AdapterTrainer whole(options);
    REQUIRE_OK(whole.train(tones(), range(0, 60), range(60, 80), nullptr, nullptr));

    const std::string checkpoint = temporaryPath("checkpoint.safetensors");
    std::remove(checkpoint.c_str());
    options.checkpointPath = checkpoint;
    {
        AdapterTrainer killed(options);
        REQUIRE_OK(killed.train(
            tones(), range(0, 60), range(60, 80),
            [](const EpochRecord &r, double) { return r.epoch < 2; }, nullptr));
    }
    options.resume = true;
    AdapterTrainer resumed(options);
    REQUIRE_OK(resumed.train(tones(), range(0, 60), range(60, 80), nullptr, nullptr));
    REQUIRE(resumed.history().size() == 5);
    for (std::size_t e = 0; e < 5; ++e)
        VERIFY_MSG(resumed.history()[e].trainLoss == whole.history()[e].trainLoss, e);
    VERIFY(probabilities(resumed, range(80, 100)) == probabilities(whole, range(80, 100)));
    std::remove(checkpoint.c_str());
}

MODEL_TEST(paper_mode_runs_seed_001_and_seed_003_stages)
{
    // Seed 003: stage 1 trains every encoder layer the adapter runs (layer 1 moves), stage 2
    // from layer 2 on.
    TrainerOptions ari = paperOptions();
    ari.adapter.layerIntegration = LayerIntegration::Ari;
    ari.adapter.pooling = AdapterPooling::CoAttention;
    ari.adapter.genderClasses = 2;
    ari.adapter.auxiliaryWidth = 8;
    ari.ari.auxiliaryEpochs = 3;
    ari.ari.learningRate = 3e-3;
    ari.epochs = 3;
    AdapterTrainer seed003(ari);
    REQUIRE_OK(seed003.train(tones(), range(0, 60), range(60, 80), nullptr, nullptr));
    REQUIRE(seed003.ariHistory().size() == 3);
    VERIFY_MSG(seed003.ariHistory().back().genderLoss < seed003.ariHistory().front().genderLoss,
               seed003.ariHistory().front().genderLoss << " -> "
                                                       << seed003.ariHistory().back().genderLoss);
    auto moves = encoderMoves(seed003);
    VERIFY_MSG(moves["layer1.qkv_weight"] > 1e-4, moves["layer1.qkv_weight"]);
    VERIFY_MSG(moves["layer2.qkv_weight"] > 1e-4, moves["layer2.qkv_weight"]);

    // Seed 001: step 1 leaves the encoder alone, steps 3 and 4 train it from layer 2.
    TrainerOptions gmp = paperOptions();
    gmp.gmpAtl.multiTaskEpochs = 2;
    gmp.gmpAtl.retrainEpochs = 2;
    gmp.gmpAtl.scales = {4, 8};
    gmp.gmpAtl.clusterFrames = 500;
    gmp.gmpAtl.learningRate = 3e-3;
    gmp.epochs = 3;
    AdapterTrainer seed001(gmp);
    REQUIRE_OK(seed001.train(tones(), range(0, 60), range(60, 80), nullptr, nullptr));
    REQUIRE(seed001.gmpAtlHistory().size() == 4);
    moves = encoderMoves(seed001);
    VERIFY_MSG(moves["layer1.qkv_weight"] == 0.0, moves["layer1.qkv_weight"]);
    VERIFY_MSG(moves["layer2.qkv_weight"] > 1e-4, moves["layer2.qkv_weight"]);
}

MODEL_TEST(paper_mode_refuses_what_it_cannot_do)
{
    const auto attempt = [](TrainerOptions options) {
        AdapterTrainer trainer(options);
        return trainer.train(tones(), range(0, 20), range(20, 30), nullptr, nullptr);
    };
    TrainerOptions o = paperOptions();
    o.encoderFolder.clear();
    ModelStatus st = attempt(o);
    VERIFY_MSG(!st && contains(st.error(), "no encoder folder"), st.error());

    ScratchFolder scratch;
    o.encoderFolder = scratch.path();
    st = attempt(o);
    VERIFY_MSG(!st && contains(st.error(), scratch.path()), st.error());

    o = paperOptions();
    o.encoderTrainFrom = 5;
    st = attempt(o);
    VERIFY_MSG(!st && contains(st.error(), "train from 5"), st.error());

    o = paperOptions();
    o.pretrain.epochs = 2;
    st = attempt(o);
    VERIFY_MSG(!st && contains(st.error(), "one-click"), st.error());
}
