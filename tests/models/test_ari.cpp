// Seed 003 in the adapter: ARI is the last layer plus a per-dimension softmax-weighted sum of
// the layers between the first and the last (checked by hand, and the first layer has no
// effect); co-attention gives every auxiliary task's logits, frame weights that sum to 1 over
// the real frames, and a clip's outputs do not depend on the padding of its batch; the CTC loss
// equals a hand-counted alignment; the two stages learn the auxiliary tasks from their cues
// (stage 1) and then emotion (stage 2), deterministically with a seed; freezing ARI in stage 1
// leaves it as initialised; the model saves and loads with its heads; bad settings are refused.

#include "AdapterTestSupport.h"
#include "AdapterTrainer.h"
#include "EmotionAdapter.h"
#include "ModelTest.h"
#include "SafeTensors.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <unistd.h>

using namespace emolens;
using namespace emolens::testsupport;

namespace {

AdapterOptions ariOptions()
{
    AdapterOptions o;
    o.layerCount = 4;
    o.hiddenSize = 8;
    o.extraInputs = 2;
    o.layerIntegration = LayerIntegration::Ari;
    o.width = 16;
    o.transformerLayers = 0;
    o.pooling = AdapterPooling::CoAttention;
    o.attentionWidth = 8;
    o.auxiliaryWidth = 12;
    o.classCount = 4;
    o.dimensionCount = 2;
    o.genderClasses = 2;
    o.speakerClasses = 5;
    o.styleClasses = 2;
    o.characterClasses = 6;
    return o;
}

} // namespace

MODEL_TEST(ari_is_the_last_layer_plus_the_weighted_middle_layers)
{
    torch::manual_seed(3);
    AdapterOptions o = ariOptions();
    o.extraInputs = 0;
    EmotionAdapter net(o);
    torch::NoGradGuard noGrad;
    // Weights: layer 1 gets 0.25 and layer 2 0.75 in every dimension but the first, where
    // they share evenly.
    auto logits = torch::zeros({2, 8});
    logits[1].fill_(std::log(3.0));
    logits[1][0] = 0;
    net->named_parameters()["ari_logits"].copy_(logits);
    const auto hidden = torch::randn({1, 4, 5, 8});
    const auto got = net->integrate(hidden, {});
    auto expected = hidden[0][3] + 0.25 * hidden[0][1] + 0.75 * hidden[0][2];
    expected.select(1, 0).copy_(hidden[0][3].select(1, 0) +
                                0.5 * (hidden[0][1].select(1, 0) + hidden[0][2].select(1, 0)));
    VERIFY_MSG(maxDifference(got[0], expected) < 1e-5, maxDifference(got[0], expected));
    // Layer 0 (the CNN's projection) is not part of ARI.
    auto changed = hidden.clone();
    changed[0][0].add_(5.0);
    VERIFY(maxDifference(net->integrate(changed, {}), got) == 0);
    // The reported weights: 1 on the last layer, the dimensions' mean on layers 1 and 2.
    const auto weights = net->layerWeights();
    const float second = (0.5f + 7 * 0.75f) / 8;
    VERIFY_MSG(std::abs(weights[0].item<float>()) < 1e-6 &&
                   std::abs(weights[2].item<float>() - second) < 1e-5 &&
                   std::abs(weights[1].item<float>() - (1 - second)) < 1e-5 &&
                   weights[3].item<float>() == 1,
               weights);

    // An encoder of one or two layers: ARI is the last layer alone.
    for (int layers : {1, 2}) {
        AdapterOptions small = o;
        small.layerCount = layers;
        EmotionAdapter alone(small);
        VERIFY(alone->named_parameters().find("ari_logits") == nullptr);
        const auto h = torch::randn({1, layers, 3, 8});
        VERIFY(maxDifference(alone->integrate(h, {}), h.select(1, layers - 1)) == 0);
    }
}

MODEL_TEST(ari_coattention_has_every_head_and_ignores_padding)
{
    torch::manual_seed(5);
    EmotionAdapter net(ariOptions());
    net->eval();
    torch::NoGradGuard noGrad;
    const auto hidden = torch::randn({1, 4, 7, 8});
    const auto extra = torch::randn({1, 7, 2});
    const auto alone = net->forward(hidden, torch::ones({1, 7}, torch::kBool), extra);
    VERIFY(alone.genderLogits.sizes() == torch::IntArrayRef({1, 2}));
    VERIFY(alone.speakerLogits.sizes() == torch::IntArrayRef({1, 5}));
    VERIFY(alone.styleLogits.sizes() == torch::IntArrayRef({1, 2}));
    VERIFY(alone.characterLogits.sizes() == torch::IntArrayRef({1, 7, 6}));
    VERIFY(alone.attention.sizes() == torch::IntArrayRef({1, 7}));
    // The utterance vector: the weighted frames (16) and four task states (12 each).
    VERIFY(alone.pooled.sizes() == torch::IntArrayRef({1, 16 + 4 * 12}));
    VERIFY(alone.logits.sizes() == torch::IntArrayRef({1, 4}));
    VERIFY(alone.frameLogits.sizes() == torch::IntArrayRef({1, 7, 4}));
    VERIFY(std::abs(alone.attention.sum().item<float>() - 1) < 1e-5);

    // The same clip second in a batch of two, padded to 11 frames with noise.
    auto batchHidden = torch::randn({2, 4, 11, 8});
    batchHidden[1].slice(1, 0, 7).copy_(hidden[0]);
    auto batchExtra = torch::randn({2, 11, 2});
    batchExtra[1].slice(0, 0, 7).copy_(extra[0]);
    auto mask = torch::ones({2, 11}, torch::kBool);
    mask[1].slice(0, 7, 11).fill_(false);
    const auto both = net->forward(batchHidden, mask, batchExtra);
    const float tolerance = 1e-5f;
    VERIFY(maxDifference(both.logits[1], alone.logits[0]) < tolerance);
    VERIFY(maxDifference(both.dimensions[1], alone.dimensions[0]) < tolerance);
    VERIFY(maxDifference(both.genderLogits[1], alone.genderLogits[0]) < tolerance);
    VERIFY(maxDifference(both.speakerLogits[1], alone.speakerLogits[0]) < tolerance);
    VERIFY(maxDifference(both.styleLogits[1], alone.styleLogits[0]) < tolerance);
    VERIFY(maxDifference(both.characterLogits[1].slice(0, 0, 7), alone.characterLogits[0]) <
           tolerance);
    VERIFY(maxDifference(both.frameLogits[1].slice(0, 0, 7), alone.frameLogits[0]) < tolerance);
    VERIFY(maxDifference(both.attention[1].slice(0, 0, 7), alone.attention[0]) < tolerance);
    // Padded frames get no weight and no outputs.
    VERIFY(both.attention[1].slice(0, 7, 11).abs().max().item<float>() == 0);
    VERIFY(both.characterLogits[1].slice(0, 7, 11).abs().max().item<float>() == 0);
    VERIFY(both.frameLogits[1].slice(0, 7, 11).abs().max().item<float>() == 0);

    // A model without some tasks has none of their outputs; one without any is refused.
    AdapterOptions fewer = ariOptions();
    fewer.speakerClasses = fewer.styleClasses = fewer.characterClasses = 0;
    EmotionAdapter genderOnly(fewer);
    genderOnly->eval();
    const auto out = genderOnly->forward(hidden, torch::ones({1, 7}, torch::kBool), extra);
    VERIFY(out.genderLogits.defined() && !out.speakerLogits.defined() &&
           !out.styleLogits.defined() && !out.characterLogits.defined());
    VERIFY(out.pooled.size(1) == 16 + 12);
    fewer.genderClasses = 0;
    bool refused = false;
    try {
        EmotionAdapter none(fewer);
    } catch (const std::exception &error) {
        refused =
            std::string(error.what()).find("at least one auxiliary task") != std::string::npos;
    }
    VERIFY(refused);
}

MODEL_TEST(ari_ctc_equals_a_hand_counted_alignment)
{
    // Two frames, vocabulary {blank, a, b}, every frame uniform (1/3 each). The transcript "a"
    // has three paths (a a, a -, - a): p = 3/9; "ab" has one (a b): p = 1/9. The mean over the
    // clips of -log p divided by the transcript's length.
    const auto logits = torch::zeros({3, 2, 3});
    const auto mask = torch::ones({3, 2}, torch::kBool);
    const auto loss = characterLoss(logits, mask, {{1}, {}, {1, 2}});
    const double expected = (-std::log(3.0 / 9.0) / 1 + -std::log(1.0 / 9.0) / 2) / 2;
    VERIFY_MSG(std::abs(loss.item<double>() - expected) < 1e-5, loss.item<double>());
    // The clip's real frames only: with one real frame "ab" cannot be emitted (adds 0), and
    // "a" has one path (a) of p = 1/3.
    auto shortMask = mask.clone();
    shortMask.select(1, 1).fill_(false);
    const auto shorter = characterLoss(logits, shortMask, {{1}, {}, {1, 2}});
    VERIFY_MSG(std::abs(shorter.item<double>() - (-std::log(1.0 / 3.0)) / 2) < 1e-5,
               shorter.item<double>());
    VERIFY(!characterLoss(logits, mask, {{}, {}, {}}).defined());
}

namespace {

// Speech-like toy clips with every kind of metadata: runs of 8-frame "phones" from 5
// prototypes (the transcript is the phone sequence), a class cue in dimension 0-3, and cues
// for the gender (dimension 5), the speaker (dimension 6) and the style (dimension 7) in
// layers 1 to 3; layer 0 is noise.
class TaskSource final : public ClipFeatureSource
{
public:
    TaskSource(int clips, uint64_t seed)
    {
        std::mt19937_64 random(seed);
        std::normal_distribution<float> noise;
        std::vector<std::vector<float>> prototypes(5, std::vector<float>(8));
        for (auto &p : prototypes)
            for (float &v : p)
                v = 2.0f * noise(random);
        for (int i = 0; i < clips; ++i) {
            TrainerClip clip;
            clip.frames = 8 * (3 + int64_t(random() % 4));
            clip.classIndex = i % 4;
            clip.speaker = (i / 4) % 5;
            clip.gender = clip.speaker % 2;
            clip.style = (i / 2) % 2;
            std::vector<float> h(std::size_t(4 * clip.frames * 8));
            for (int64_t f = 0; f < clip.frames; f += 8) {
                const int phone = int(random() % 5);
                clip.characters.push_back(phone + 1);
                const auto &p = prototypes[std::size_t(phone)];
                for (int64_t g = f; g < f + 8; ++g)
                    for (int l = 0; l < 4; ++l)
                        for (int d = 0; d < 8; ++d) {
                            float v = 0.3f * noise(random);
                            if (l > 0)
                                v += p[std::size_t(d)] + (d == clip.classIndex ? 1.0f : 0.0f) +
                                     (d == 5 && clip.gender == 1 ? 2.0f : 0.0f) +
                                     (d == 6 ? 1.0f * float(clip.speaker) : 0.0f) +
                                     (d == 7 && clip.style == 1 ? 2.0f : 0.0f);
                            h[std::size_t((l * clip.frames + g) * 8 + d)] = v;
                        }
            }
            m_clips.push_back(clip);
            m_hiddenValues.push_back(std::move(h));
        }
    }
    int layerCount() const override { return 4; }
    int hiddenSize() const override { return 8; }
    int extraInputs() const override { return 0; }
    const std::vector<TrainerClip> &clips() const override { return m_clips; }
    bool read(std::size_t i, float *hidden, float *, std::string *) const override
    {
        if (hidden)
            std::copy(m_hiddenValues[i].begin(), m_hiddenValues[i].end(), hidden);
        return true;
    }

private:
    std::vector<TrainerClip> m_clips;
    std::vector<std::vector<float>> m_hiddenValues;
};

TrainerOptions twoStageOptions()
{
    TrainerOptions o;
    o.adapter = ariOptions();
    o.adapter.extraInputs = 0;
    o.adapter.dimensionCount = 0;
    o.adapter.width = 32;
    o.adapter.auxiliaryWidth = 16;
    o.adapter.dropout = 0.1;
    o.epochs = 8;
    o.patience = 0;
    o.learningRate = 5e-3;
    o.batchFrames = 400;
    o.seed = 7;
    o.ari.auxiliaryEpochs = 8;
    o.ari.learningRate = 5e-3;
    return o;
}

std::vector<float> flatPredictions(AdapterTrainer &trainer, const ClipFeatureSource &source,
                                   const std::vector<std::size_t> &which)
{
    std::vector<ClipPrediction> out;
    VERIFY(trainer.predict(source, which, true, true, &out).ok());
    std::vector<float> flat;
    for (const ClipPrediction &p : out) {
        flat.insert(flat.end(), p.probabilities.begin(), p.probabilities.end());
        flat.insert(flat.end(), p.frameProbabilities.begin(), p.frameProbabilities.end());
        flat.insert(flat.end(), p.pooled.begin(), p.pooled.end());
    }
    return flat;
}

std::string temporaryPath(const char *name)
{
    return "/tmp/emolens-ari-" + std::to_string(getpid()) + "-" + name;
}

} // namespace

MODEL_TEST(ari_two_stages_learn_the_tasks_then_emotion)
{
    const TaskSource source(100, 11);
    const TrainerOptions options = twoStageOptions();
    AdapterTrainer trainer(options);
    std::vector<double> fractions;
    trainer.setAriCallback(
        [&fractions](const AriRecord &, double fraction) { fractions.push_back(fraction); });
    REQUIRE_OK(trainer.train(source, range(0, 80), range(80, 100), nullptr, nullptr));

    const auto &stage1 = trainer.ariHistory();
    REQUIRE(stage1.size() == 8);
    VERIFY(fractions.size() == 8 && std::abs(fractions.back() - 1.0) < 1e-9);
    const AriRecord &first = stage1.front(), &last = stage1.back();
    std::printf("stage 1, epoch 1 -> 8: gender %.2f -> %.2f, speaker %.2f -> %.2f, style "
                "%.2f -> %.2f, CTC loss %.3f -> %.3f\n",
                first.genderAccuracy, last.genderAccuracy, first.speakerAccuracy,
                last.speakerAccuracy, first.styleAccuracy, last.styleAccuracy, first.characterLoss,
                last.characterLoss);
    // Chance: 0.5, 0.2, 0.5; the CTC loss per character starts near log(6) + alignment.
    VERIFY_MSG(last.genderAccuracy > 0.9, last.genderAccuracy);
    VERIFY_MSG(last.speakerAccuracy > 0.6, last.speakerAccuracy);
    VERIFY_MSG(last.styleAccuracy > 0.9, last.styleAccuracy);
    VERIFY_MSG(last.characterLoss < 0.5 * first.characterLoss, last.characterLoss);
    VERIFY(last.genderLoss < first.genderLoss && last.speakerLoss < first.speakerLoss);

    // Stage 2: emotion on unseen clips (chance 0.25).
    REQUIRE(trainer.history().size() == 8);
    const double ua = trainer.history()[std::size_t(trainer.bestEpoch() - 1)].validationUa;
    std::printf("validation UA after stage 2: %.3f\n", ua);
    VERIFY_MSG(ua > 0.6, ua);

    // Deterministic with the seed.
    AdapterTrainer again(options);
    REQUIRE_OK(again.train(source, range(0, 80), range(80, 100), nullptr, nullptr));
    REQUIRE(again.ariHistory().size() == 8);
    for (std::size_t i = 0; i < 8; ++i)
        VERIFY(again.ariHistory()[i].characterLoss == stage1[i].characterLoss &&
               again.ariHistory()[i].speakerLoss == stage1[i].speakerLoss);
    const auto predictions = flatPredictions(trainer, source, range(80, 100));
    VERIFY(flatPredictions(again, source, range(80, 100)) == predictions);

    // Saved and loaded with its heads: the same predictions, frame curves and vectors.
    const std::string path = temporaryPath("model.safetensors");
    REQUIRE_OK(trainer.save(path));
    AdapterTrainer loaded(TrainerOptions{});
    REQUIRE_OK(loaded.load(path));
    VERIFY(loaded.options().adapter.describe() == options.adapter.describe());
    // (Its batches are padded differently: equal to rounding.)
    const auto reloaded = flatPredictions(loaded, source, range(80, 100));
    REQUIRE(reloaded.size() == predictions.size());
    float largest = 0;
    for (std::size_t i = 0; i < reloaded.size(); ++i)
        largest = std::max(largest, std::abs(reloaded[i] - predictions[i]));
    VERIFY_MSG(largest < 1e-5f, largest);
    std::remove(path.c_str());
}

MODEL_TEST(ari_frozen_in_stage_1_stays_as_initialised)
{
    const TaskSource source(40, 13);
    for (bool freeze : {true, false}) {
        TrainerOptions options = twoStageOptions();
        options.ari.auxiliaryEpochs = 3;
        options.ari.freezeAriInStage1 = freeze;
        AdapterTrainer trainer(options);
        // Stopped right after stage 1: the model is stage 1's.
        bool stop = false;
        trainer.setAriCallback([&stop](const AriRecord &r, double) { stop = r.epoch == 3; });
        bool cancelled = false;
        REQUIRE_OK(trainer.train(
            source, range(0, 30), range(30, 40), nullptr, [&stop] { return stop; }, &cancelled));
        VERIFY(cancelled && trainer.ariHistory().size() == 3 && trainer.history().empty());
        const std::string path = temporaryPath(freeze ? "frozen" : "free");
        REQUIRE_OK(trainer.save(path));
        std::unique_ptr<SafeTensorsFile> file;
        REQUIRE_OK(SafeTensorsFile::open(path, file));
        const SafeTensorInfo *info = file->find("ari_logits");
        REQUIRE(info != nullptr && info->dtype == TensorDtype::F32);
        const float *values = reinterpret_cast<const float *>(info->data);
        float largest = 0;
        for (int64_t i = 0; i < info->elementCount(); ++i)
            largest = std::max(largest, std::abs(values[i]));
        VERIFY_MSG(freeze ? largest == 0 : largest > 1e-4, largest);
        std::remove(path.c_str());
    }
}

MODEL_TEST(ari_refuses_bad_settings)
{
    const TaskSource source(20, 17);
    {
        TrainerOptions o = twoStageOptions();
        o.pretrain.epochs = 2;
        AdapterTrainer trainer(o);
        const auto st = trainer.train(source, range(0, 16), range(16, 20), nullptr, nullptr);
        VERIFY_MSG(!st.ok() && st.error().find("runs alone") != std::string::npos, st.error());
    }
    {
        TrainerOptions o = twoStageOptions();
        o.adapter.pooling = AdapterPooling::AttentiveStatistics;
        AdapterTrainer trainer(o);
        const auto st = trainer.train(source, range(0, 16), range(16, 20), nullptr, nullptr);
        VERIFY_MSG(!st.ok() && st.error().find("co-attention") != std::string::npos, st.error());
    }
    {
        TrainerOptions o = twoStageOptions();
        o.ari.speakerWeight = -1;
        AdapterTrainer trainer(o);
        const auto st = trainer.train(source, range(0, 16), range(16, 20), nullptr, nullptr);
        VERIFY_MSG(!st.ok() && st.error().find("speaker:-1") != std::string::npos, st.error());
    }
    {
        TrainerOptions o = twoStageOptions();
        o.adapter.genderClasses = o.adapter.speakerClasses = o.adapter.styleClasses =
            o.adapter.characterClasses = 0;
        AdapterTrainer trainer(o);
        const auto st = trainer.train(source, range(0, 16), range(16, 20), nullptr, nullptr);
        VERIFY_MSG(!st.ok() && st.error().find("at least one auxiliary task") != std::string::npos,
                   st.error());
    }
}

// Killed in stage 1 after epoch 3's checkpoint, a run resumes there and ends as if it had never
// stopped: the same stage-1 records, fine-tuning epochs and predictions.
MODEL_TEST(ari_stage_1_resumes_after_a_kill)
{
    const TaskSource source(100, 11);
    TrainerOptions options = twoStageOptions();
    options.ari.auxiliaryEpochs = 5;
    options.epochs = 3;
    AdapterTrainer whole(options);
    REQUIRE_OK(whole.train(source, range(0, 80), range(80, 100), nullptr, nullptr));

    const std::string checkpoint = temporaryPath("stage1.checkpoint.safetensors");
    std::remove(checkpoint.c_str());
    options.checkpointPath = checkpoint;
    {
        AdapterTrainer killed(options);
        bool stop = false;
        killed.setAriCallback([&stop](const AriRecord &r, double) { stop = r.epoch >= 3; });
        bool cancelled = false;
        REQUIRE_OK(killed.train(
            source, range(0, 80), range(80, 100), nullptr, [&stop] { return stop; }, &cancelled));
        VERIFY(cancelled && killed.ariHistory().size() == 3 && killed.history().empty());
    }
    std::vector<EpochRecord> saved;
    int stageDone = 0;
    REQUIRE_OK(AdapterTrainer::checkpointHistory(checkpoint, &saved, &stageDone));
    VERIFY(saved.empty());
    VERIFY_MSG(stageDone == 3, stageDone);

    options.resume = true;
    AdapterTrainer resumed(options);
    std::vector<int> epochsRun;
    resumed.setAriCallback(
        [&epochsRun](const AriRecord &r, double) { epochsRun.push_back(r.epoch); });
    REQUIRE_OK(resumed.train(source, range(0, 80), range(80, 100), nullptr, nullptr));
    VERIFY(epochsRun == std::vector<int>({4, 5}));
    REQUIRE(resumed.ariHistory().size() == 5);
    for (std::size_t e = 0; e < 5; ++e)
        VERIFY_MSG(resumed.ariHistory()[e].characterLoss == whole.ariHistory()[e].characterLoss &&
                       resumed.ariHistory()[e].genderLoss == whole.ariHistory()[e].genderLoss,
                   e);
    REQUIRE(resumed.history().size() == whole.history().size());
    for (std::size_t e = 0; e < whole.history().size(); ++e)
        VERIFY_MSG(resumed.history()[e].trainLoss == whole.history()[e].trainLoss, e);
    VERIFY(flatPredictions(resumed, source, range(80, 100)) ==
           flatPredictions(whole, source, range(80, 100)));

    // A stage-1 checkpoint does not serve a run without stage 1.
    std::remove(checkpoint.c_str());
    {
        options.resume = false;
        AdapterTrainer first(options);
        bool stop = false;
        first.setAriCallback([&stop](const AriRecord &r, double) { stop = r.epoch >= 1; });
        bool cancelled = false;
        REQUIRE_OK(first.train(
            source, range(0, 80), range(80, 100), nullptr, [&stop] { return stop; }, &cancelled));
    }
    TrainerOptions without = options;
    without.resume = true;
    without.ari.auxiliaryEpochs = 0;
    AdapterTrainer other(without);
    const ModelStatus refused = other.train(source, range(0, 80), range(80, 100), nullptr, nullptr);
    VERIFY_MSG(!refused && refused.error().find("stage 1") != std::string::npos, refused.error());
    std::remove(checkpoint.c_str());
}

namespace {

// `base`'s clips played `rate` times as fast, as the frames see it: frame f of the copy is the
// base's frame floor(f * rate) (dropped or repeated); it counts its reads.
class StretchedSource final : public ClipFeatureSource
{
public:
    StretchedSource(const ClipFeatureSource &base, double rate) : m_base(base), m_rate(rate)
    {
        for (TrainerClip clip : base.clips()) {
            clip.frames = std::max<int64_t>(1, int64_t(double(clip.frames) / rate));
            m_clips.push_back(clip);
        }
    }
    int layerCount() const override { return m_base.layerCount(); }
    int hiddenSize() const override { return m_base.hiddenSize(); }
    int extraInputs() const override { return 0; }
    const std::vector<TrainerClip> &clips() const override { return m_clips; }
    bool read(std::size_t i, float *hidden, float *, std::string *error) const override
    {
        ++reads;
        const int64_t frames = m_base.clips()[i].frames, width = hiddenSize();
        std::vector<float> original(std::size_t(layerCount() * frames * width));
        if (!m_base.read(i, original.data(), nullptr, error))
            return false;
        const int64_t copy = m_clips[i].frames;
        if (hidden)
            for (int l = 0; l < layerCount(); ++l)
                for (int64_t f = 0; f < copy; ++f) {
                    const int64_t from = std::min(frames - 1, int64_t(double(f) * m_rate));
                    std::copy_n(original.data() + (l * frames + from) * width, width,
                                hidden + (l * copy + f) * width);
                }
        return true;
    }
    mutable int reads = 0;

private:
    const ClipFeatureSource &m_base;
    double m_rate;
    std::vector<TrainerClip> m_clips;
};

// TaskSource with its copies at 0.8 and 1.2 as variants 1 and 2.
class SpeedSource final : public ClipFeatureSource
{
public:
    explicit SpeedSource(const ClipFeatureSource &base)
        : m_base(base), m_slow(base, 0.8), m_fast(base, 1.2)
    {
    }
    int layerCount() const override { return m_base.layerCount(); }
    int hiddenSize() const override { return m_base.hiddenSize(); }
    int extraInputs() const override { return 0; }
    const std::vector<TrainerClip> &clips() const override { return m_base.clips(); }
    bool read(std::size_t i, float *hidden, float *extra, std::string *error) const override
    {
        return m_base.read(i, hidden, extra, error);
    }
    int variantCount() const override { return 3; }
    const ClipFeatureSource *variant(int v) const override
    {
        const ClipFeatureSource *variants[] = {this, &m_slow, &m_fast};
        return v >= 0 && v < 3 ? variants[v] : nullptr;
    }
    const StretchedSource &slow() const { return m_slow; }
    const StretchedSource &fast() const { return m_fast; }

private:
    const ClipFeatureSource &m_base;
    StretchedSource m_slow, m_fast;
};

} // namespace

MODEL_TEST(ari_speed_perturbation_reads_one_rate_per_batch)
{
    // Seed 003's speed perturbation: the training batches of both stages read the copies at
    // 0.8 and 1.2 about as often as the clips themselves; without it they are never read. The
    // run is deterministic, learns, and resumes after a kill as if never stopped.
    const TaskSource base(100, 11);
    TrainerOptions options = twoStageOptions();
    options.ari.auxiliaryEpochs = 4;
    options.epochs = 4;
    options.speedPerturbation = true;
    const SpeedSource speeds(base);
    AdapterTrainer trainer(options);
    REQUIRE_OK(trainer.train(speeds, range(0, 80), range(80, 100), nullptr, nullptr));
    const int slow = speeds.slow().reads, fast = speeds.fast().reads;
    std::printf("clip reads at 0.8: %d, at 1.2: %d (of 8 epochs over 80 training clips)\n", slow,
                fast);
    // 8 epochs of 80 clips, a third of them at each rate in expectation.
    VERIFY_MSG(slow > 80 && fast > 80 && slow < 400 && fast < 400, slow << " / " << fast);
    const double ua = trainer.history()[std::size_t(trainer.bestEpoch() - 1)].validationUa;
    VERIFY_MSG(ua > 0.5, ua);

    const SpeedSource again(base);
    AdapterTrainer same(options);
    REQUIRE_OK(same.train(again, range(0, 80), range(80, 100), nullptr, nullptr));
    VERIFY(again.slow().reads == slow && again.fast().reads == fast);
    VERIFY(flatPredictions(same, base, range(80, 100)) ==
           flatPredictions(trainer, base, range(80, 100)));

    // Killed in stage 2 after its second epoch, resumed: the same run.
    const std::string checkpoint = temporaryPath("speed.checkpoint.safetensors");
    std::remove(checkpoint.c_str());
    TrainerOptions o = options;
    o.checkpointPath = checkpoint;
    {
        const SpeedSource first(base);
        AdapterTrainer killed(o);
        REQUIRE_OK(killed.train(
            first, range(0, 80), range(80, 100),
            [](const EpochRecord &r, double) { return r.epoch < 2; }, nullptr));
    }
    o.resume = true;
    const SpeedSource rest(base);
    AdapterTrainer resumed(o);
    REQUIRE_OK(resumed.train(rest, range(0, 80), range(80, 100), nullptr, nullptr));
    REQUIRE(resumed.history().size() == trainer.history().size());
    for (std::size_t e = 0; e < trainer.history().size(); ++e)
        VERIFY_MSG(resumed.history()[e].trainLoss == trainer.history()[e].trainLoss, e);
    std::remove(checkpoint.c_str());

    // Off: the copies are never read.
    options.speedPerturbation = false;
    const SpeedSource unused(base);
    AdapterTrainer plain(options);
    REQUIRE_OK(plain.train(unused, range(0, 80), range(80, 100), nullptr, nullptr));
    VERIFY(unused.slow().reads == 0 && unused.fast().reads == 0);
}
