// The emotion adapter on small random data: padding a clip in a batch does not change its
// outputs (posteriors, frame curves, dimensions) for any pooling or backbone; the frame curves
// of a mean-pooled model average to its clip logits; a model refuses another encoder's
// features; the losses equal hand-computed values; and a few steps of Adam on a separable toy
// problem bring the loss down and the accuracy up, the same on every run with the same seed.

#include "AdapterTrainer.h"
#include "EmotionAdapter.h"
#include "ModelTest.h"

#include <torch/torch.h>

#include <cstdio>
#include <random>
#include <unistd.h>

using namespace emolens;

namespace {

AdapterOptions smallOptions(AdapterPooling pooling, int blocks)
{
    AdapterOptions o;
    o.layerCount = 3;
    o.hiddenSize = 8;
    o.extraInputs = 2;
    o.width = 16;
    o.transformerLayers = blocks;
    o.heads = 4;
    o.feedForward = 32;
    o.pooling = pooling;
    o.attentionWidth = 8;
    o.classCount = 4;
    o.dimensionCount = 2;
    return o;
}

float maxDifference(const torch::Tensor &a, const torch::Tensor &b)
{
    return (a - b).abs().max().item<float>();
}

} // namespace

MODEL_TEST(adapter_padding_does_not_change_a_clip)
{
    for (AdapterPooling pooling : {AdapterPooling::Mean, AdapterPooling::AttentiveStatistics})
        for (int blocks : {0, 2}) {
            torch::manual_seed(1);
            EmotionAdapter net(smallOptions(pooling, blocks));
            net->eval();
            torch::NoGradGuard noGrad;
            const auto hidden = torch::randn({1, 3, 7, 8});
            const auto extra = torch::randn({1, 7, 2});
            const auto alone = net->forward(hidden, torch::ones({1, 7}, torch::kBool), extra);

            // The same clip first in a batch of two, padded to 12 frames with noise.
            auto batchHidden = torch::randn({2, 3, 12, 8}) * 50;
            auto batchExtra = torch::randn({2, 12, 2}) * 50;
            batchHidden.index_put_({0, torch::indexing::Slice(), torch::indexing::Slice(0, 7)},
                                   hidden[0]);
            batchExtra.index_put_({0, torch::indexing::Slice(0, 7)}, extra[0]);
            auto mask = torch::ones({2, 12}, torch::kBool);
            mask.index_put_({0, torch::indexing::Slice(7, 12)}, false);
            const auto batch = net->forward(batchHidden, mask, batchExtra);

            const std::string where =
                std::string(pooling == AdapterPooling::Mean ? "mean" : "sap") +
                " blocks=" + std::to_string(blocks);
            VERIFY_MSG(maxDifference(batch.logits[0], alone.logits[0]) < 1e-4, where);
            VERIFY_MSG(maxDifference(batch.dimensions[0], alone.dimensions[0]) < 1e-4, where);
            VERIFY_MSG(maxDifference(batch.frameLogits[0].slice(0, 0, 7), alone.frameLogits[0]) <
                           1e-4,
                       where);
            VERIFY_MSG(batch.frameLogits[0].slice(0, 7).abs().max().item<float>() == 0, where);
            VERIFY_MSG(batch.pooled.size(1) == (pooling == AdapterPooling::Mean ? 16 : 32), where);
        }
}

MODEL_TEST(adapter_mean_frame_curves_average_to_the_clip)
{
    torch::manual_seed(2);
    EmotionAdapter net(smallOptions(AdapterPooling::Mean, 1));
    net->eval();
    torch::NoGradGuard noGrad;
    auto mask = torch::ones({2, 9}, torch::kBool);
    mask.index_put_({1, torch::indexing::Slice(5, 9)}, false);
    const auto out = net->forward(torch::randn({2, 3, 9, 8}), mask, torch::randn({2, 9, 2}));
    const auto frameMean = out.frameLogits.sum(1) / mask.sum(1, true).to(torch::kFloat);
    VERIFY(maxDifference(frameMean, out.logits) < 1e-4);
    VERIFY(out.frameLogits.sizes() == torch::IntArrayRef({2, 9, 4}));
    VERIFY(out.frameDimensions.sizes() == torch::IntArrayRef({2, 9, 2}));
    // Layer weights start even and sum to one.
    const auto weights = net->layerWeights();
    VERIFY(std::abs(weights.sum().item<float>() - 1) < 1e-6);
    VERIFY(std::abs(weights[0].item<float>() - 1.0f / 3) < 1e-6);
}

MODEL_TEST(adapter_refuses_another_encoders_features)
{
    EmotionAdapter net(smallOptions(AdapterPooling::Mean, 0));
    bool refused = false;
    try {
        net->forward(torch::randn({1, 13, 5, 768}), torch::ones({1, 5}, torch::kBool),
                     torch::randn({1, 5, 2}));
    } catch (const c10::Error &error) {
        refused = std::string(error.what()).find("do not fit an encoder of 3 layers x 8") !=
                  std::string::npos;
    }
    VERIFY(refused);
}

MODEL_TEST(adapter_losses_equal_hand_values)
{
    // Two clips, two classes: logits (0, ln 3) -> p(class 1) = 0.75.
    const auto logits = torch::tensor({{0.0f, std::log(3.0f)}, {0.0f, std::log(3.0f)}});
    const auto targets = torch::tensor({1, 0}, torch::kLong);
    const float ce = classificationLoss(logits, targets).item<float>();
    VERIFY(std::abs(ce - (-(std::log(0.75f) + std::log(0.25f)) / 2)) < 1e-5);
    // Class weights (1, 3): (3 * -ln 0.75 + 1 * -ln 0.25) / (3 + 1).
    const float weighted =
        classificationLoss(logits, targets, torch::tensor({1.0f, 3.0f})).item<float>();
    VERIFY(std::abs(weighted - (-(3 * std::log(0.75f) + std::log(0.25f)) / 4)) < 1e-5);

    // CCC of (1,2,3,4) against itself shifted by one: 2.5 / 3.5; the second dimension has one
    // value only and is left out.
    const auto predicted = torch::tensor({{2.0f, 0.0f}, {3.0f, 0.0f}, {4.0f, 0.0f}, {5.0f, 9.0f}});
    const auto truth = torch::tensor({{1.0f, 0.0f}, {2.0f, 0.0f}, {3.0f, 0.0f}, {4.0f, 1.0f}});
    auto valid = torch::ones({4, 2}, torch::kBool);
    valid.index_put_({torch::indexing::Slice(0, 3), 1}, false);
    const float ccc = concordanceLoss(predicted, truth, valid).item<float>();
    VERIFY_MSG(std::abs(ccc - (1 - 2.5f / 3.5f)) < 1e-5, ccc);
}

MODEL_TEST(adapter_learns_a_separable_problem_deterministically)
{
    auto train = [](std::vector<float> *losses) {
        torch::manual_seed(42);
        // Class c has its mean shifted in feature c: separable, but only after pooling.
        const int clips = 64, frames = 10;
        const auto labels = torch::arange(clips) % 4;
        auto hidden = torch::randn({clips, 3, frames, 8});
        for (int i = 0; i < clips; ++i)
            hidden[i].select(2, labels[i].item<int64_t>()) += 1.5;
        const auto extra = torch::randn({clips, frames, 2});
        const auto mask = torch::ones({clips, frames}, torch::kBool);
        EmotionAdapter net(smallOptions(AdapterPooling::AttentiveStatistics, 1));
        torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(3e-3));
        net->train();
        for (int step = 0; step < 60; ++step) {
            optimizer.zero_grad();
            const auto out = net->forward(hidden, mask, extra);
            const auto loss = classificationLoss(out.logits, labels);
            loss.backward();
            optimizer.step();
            losses->push_back(loss.item<float>());
        }
        net->eval();
        torch::NoGradGuard noGrad;
        const auto predicted = net->forward(hidden, mask, extra).logits.argmax(1);
        return predicted.eq(labels).to(torch::kFloat).mean().item<float>();
    };
    std::vector<float> first, second;
    const float accuracy = train(&first);
    const float again = train(&second);
    VERIFY_MSG(first.back() < first.front() * 0.5f, first.front() << " -> " << first.back());
    VERIFY_MSG(accuracy > 0.9f, accuracy);
    VERIFY(first == second);
    VERIFY(accuracy == again);
}

namespace {

// Clips held in memory: class c raises hidden feature c and the first extra input by c.
class MemorySource final : public ClipFeatureSource
{
public:
    MemorySource(int clips, uint64_t seed, int layers = 3, int hidden = 8)
        : m_layers(layers), m_hidden(hidden)
    {
        std::mt19937_64 random(seed);
        std::normal_distribution<float> noise;
        for (int i = 0; i < clips; ++i) {
            TrainerClip clip;
            clip.frames = 6 + int64_t(random() % 10);
            clip.classIndex = i % 4;
            m_clips.push_back(clip);
            std::vector<float> h(std::size_t(layers * clip.frames * hidden));
            for (std::size_t k = 0; k < h.size(); ++k)
                h[k] = noise(random) + (int(k % std::size_t(hidden)) == clip.classIndex ? 1.0f : 0);
            std::vector<float> e(std::size_t(clip.frames * 2));
            for (std::size_t k = 0; k < e.size(); ++k)
                e[k] = noise(random) + (k % 2 == 0 ? 0.5f * clip.classIndex : 0);
            m_hiddenValues.push_back(std::move(h));
            m_extraValues.push_back(std::move(e));
        }
    }
    int layerCount() const override { return m_layers; }
    int hiddenSize() const override { return m_hidden; }
    int extraInputs() const override { return 2; }
    const std::vector<TrainerClip> &clips() const override { return m_clips; }
    bool read(std::size_t i, float *hidden, float *extra, std::string *) const override
    {
        std::copy(m_hiddenValues[i].begin(), m_hiddenValues[i].end(), hidden);
        std::copy(m_extraValues[i].begin(), m_extraValues[i].end(), extra);
        return true;
    }

private:
    int m_layers, m_hidden;
    std::vector<TrainerClip> m_clips;
    std::vector<std::vector<float>> m_hiddenValues, m_extraValues;
};

std::vector<std::size_t> range(std::size_t from, std::size_t to)
{
    std::vector<std::size_t> out;
    for (std::size_t i = from; i < to; ++i)
        out.push_back(i);
    return out;
}

TrainerOptions trainerOptions()
{
    TrainerOptions o;
    o.adapter = smallOptions(AdapterPooling::AttentiveStatistics, 1);
    o.adapter.dimensionCount = 0;
    o.epochs = 25;
    o.patience = 0;
    o.learningRate = 3e-3;
    o.batchFrames = 200;
    o.seed = 5;
    return o;
}

} // namespace

MODEL_TEST(adapter_trainer_learns_keeps_the_best_epoch_and_round_trips)
{
    const MemorySource source(120, 11);
    AdapterTrainer trainer(trainerOptions());
    std::vector<EpochRecord> seen;
    REQUIRE_OK(trainer.train(source, range(0, 80), range(80, 100),
                             [&seen](const EpochRecord &r, double) {
                                 seen.push_back(r);
                                 return true;
                             },
                             {}));
    REQUIRE(seen.size() == 25);
    VERIFY(trainer.bestEpoch() >= 1);
    VERIFY_MSG(seen.back().trainLoss < seen.front().trainLoss,
               seen.front().trainLoss << " -> " << seen.back().trainLoss);
    double best = 0;
    for (const EpochRecord &r : seen)
        best = std::max(best, r.validationUa);
    VERIFY_MSG(seen[std::size_t(trainer.bestEpoch() - 1)].validationUa == best, best);

    // Held-out clips: well above chance (0.25).
    std::vector<ClipPrediction> predictions;
    REQUIRE_OK(trainer.predict(source, range(100, 120), true, true, &predictions));
    int right = 0;
    for (std::size_t k = 0; k < predictions.size(); ++k) {
        const auto &p = predictions[k].probabilities;
        REQUIRE(p.size() == 4);
        right += int(std::max_element(p.begin(), p.end()) - p.begin()) ==
                         source.clips()[100 + k].classIndex
                     ? 1
                     : 0;
        VERIFY(predictions[k].frameProbabilities.size() == std::size_t(predictions[k].frames * 4));
        VERIFY(predictions[k].pooled.size() == 32);
    }
    VERIFY_MSG(right >= 14, right << " of 20");

    // Saved and loaded: the same predictions.
    const std::string path =
        "/tmp/emolens-adapter-test-" + std::to_string(::getpid()) + ".safetensors";
    REQUIRE_OK(trainer.save(path));
    AdapterTrainer loaded(TrainerOptions{});
    REQUIRE_OK(loaded.load(path));
    std::vector<ClipPrediction> again;
    REQUIRE_OK(loaded.predict(source, range(100, 120), false, false, &again));
    for (std::size_t k = 0; k < again.size(); ++k)
        for (std::size_t c = 0; c < 4; ++c)
            VERIFY(std::abs(again[k].probabilities[c] - predictions[k].probabilities[c]) < 1e-5);
    std::remove(path.c_str());

    // Another encoder's features are refused by name of the shapes.
    const MemorySource other(8, 3, 13, 8);
    std::vector<ClipPrediction> refused;
    const ModelStatus st = loaded.predict(other, range(0, 8), false, false, &refused);
    VERIFY(!st.ok());
    VERIFY_MSG(st.error().find("another encoder") != std::string::npos, st.error());
}

MODEL_TEST(adapter_trainer_is_deterministic_and_stops_when_asked)
{
    const MemorySource source(60, 21);
    auto run = [&source](int stopAfter, bool cancelAtOnce, bool *cancelled) {
        AdapterTrainer trainer(trainerOptions());
        std::vector<double> losses;
        trainer.train(
            source, range(0, 40), range(40, 60),
            [&losses, stopAfter](const EpochRecord &r, double) {
                losses.push_back(r.trainLoss);
                return int(losses.size()) < stopAfter;
            },
            [cancelAtOnce] { return cancelAtOnce; }, cancelled);
        return losses;
    };
    bool cancelled = false;
    const auto first = run(6, false, &cancelled);
    VERIFY(!cancelled);
    VERIFY(first.size() == 6); // stopped by the callback after epoch 6
    VERIFY(run(6, false, &cancelled) == first);
    const auto none = run(6, true, &cancelled);
    VERIFY(cancelled);
    VERIFY(none.empty());
}

MODEL_TEST(adapter_trainer_cancel_is_honoured_within_one_batch)
{
    const MemorySource source(60, 29);
    TrainerOptions options = trainerOptions();
    options.epochs = 1;
    // A cancel during the normalisation pass: the run ends there, before any epoch.
    int polls = 0;
    bool cancelled = false;
    AdapterTrainer early(options);
    REQUIRE_OK(early.train(
        source, range(0, 40), range(40, 60), nullptr, [&polls] { return ++polls >= 2; },
        &cancelled));
    VERIFY(cancelled);
    VERIFY(polls == 2);
    VERIFY(early.history().empty());

    // A cancel while predicting: the call ends after the batch it was in.
    AdapterTrainer trainer(options);
    REQUIRE_OK(trainer.train(source, range(0, 40), range(40, 60), nullptr, nullptr));
    std::vector<ClipPrediction> out;
    polls = 0;
    const ModelStatus st = trainer.predict(source, range(0, 60), false, false, &out,
                                           [&polls] { return ++polls >= 2; });
    VERIFY(!st.ok());
    VERIFY_MSG(st.error() == "cancelled", st.error());
    VERIFY(polls == 2);
}

MODEL_TEST(adapter_trainer_resumes_a_killed_run_as_if_never_stopped)
{
    // A run stopped after epoch 3 (as a kill after the epoch's checkpoint leaves it), resumed
    // from its checkpoint, ends with the same history and the same weights as a run of 7
    // epochs that was never stopped; with dropout on, so the random stream must resume too.
    const MemorySource source(60, 23);
    const std::string checkpoint =
        "/tmp/emolens-adapter-resume-" + std::to_string(::getpid()) + ".safetensors";
    std::remove(checkpoint.c_str());
    TrainerOptions options = trainerOptions();
    options.epochs = 7;
    options.adapter.dropout = 0.2;
    auto predictions = [&source](AdapterTrainer &trainer) {
        std::vector<ClipPrediction> out;
        VERIFY(trainer.predict(source, range(40, 60), false, false, &out).ok());
        std::vector<float> flat;
        for (const ClipPrediction &p : out)
            flat.insert(flat.end(), p.probabilities.begin(), p.probabilities.end());
        return flat;
    };

    AdapterTrainer whole(options);
    REQUIRE_OK(whole.train(source, range(0, 40), range(40, 60), nullptr, nullptr));
    VERIFY(whole.history().size() == 7);

    options.checkpointPath = checkpoint;
    {
        AdapterTrainer killed(options);
        REQUIRE_OK(killed.train(
            source, range(0, 40), range(40, 60),
            [](const EpochRecord &r, double) { return r.epoch < 3; }, nullptr));
    }
    std::vector<EpochRecord> saved;
    REQUIRE_OK(AdapterTrainer::checkpointHistory(checkpoint, &saved));
    VERIFY(saved.size() == 3);

    options.resume = true;
    AdapterTrainer resumed(options);
    std::vector<int> epochsRun;
    REQUIRE_OK(resumed.train(
        source, range(0, 40), range(40, 60),
        [&epochsRun](const EpochRecord &r, double) {
            epochsRun.push_back(r.epoch);
            return true;
        },
        nullptr));
    VERIFY(epochsRun == std::vector<int>({4, 5, 6, 7}));
    VERIFY(resumed.history().size() == 7);
    for (std::size_t e = 0; e < 7; ++e) {
        VERIFY_MSG(resumed.history()[e].trainLoss == whole.history()[e].trainLoss, e);
        VERIFY_MSG(resumed.history()[e].validationUa == whole.history()[e].validationUa, e);
    }
    VERIFY(resumed.bestEpoch() == whole.bestEpoch());
    VERIFY(predictions(resumed) == predictions(whole));

    // A checkpoint of other settings is refused, naming the file.
    options.seed = 6;
    AdapterTrainer other(options);
    const ModelStatus refused = other.train(source, range(0, 40), range(40, 60), nullptr, nullptr);
    VERIFY(!refused.ok());
    VERIFY_MSG(refused.error().find(checkpoint) != std::string::npos &&
                   refused.error().find("other settings") != std::string::npos,
               refused.error());
    std::remove(checkpoint.c_str());
}

namespace {

// MemorySource with the per-layer frame means the feature cache stores.
class MeansSource final : public ClipFeatureSource
{
public:
    explicit MeansSource(const MemorySource &frames) : m_frames(frames)
    {
        for (std::size_t i = 0; i < frames.clips().size(); ++i) {
            const int64_t t = frames.clips()[i].frames;
            std::vector<float> hidden(std::size_t(3 * t * 8)), extra(std::size_t(t * 2));
            std::string error;
            frames.read(i, hidden.data(), extra.data(), &error);
            std::vector<float> layerMeans(3 * 8, 0.0f), extraMeans(2, 0.0f);
            for (int l = 0; l < 3; ++l)
                for (int64_t f = 0; f < t; ++f)
                    for (int h = 0; h < 8; ++h)
                        layerMeans[std::size_t(l * 8 + h)] +=
                            hidden[std::size_t((l * t + f) * 8 + h)] / float(t);
            for (int64_t f = 0; f < t; ++f)
                for (int e = 0; e < 2; ++e)
                    extraMeans[std::size_t(e)] += extra[std::size_t(f * 2 + e)] / float(t);
            m_layerMeans.push_back(layerMeans);
            m_extraMeans.push_back(extraMeans);
        }
    }
    int layerCount() const override { return 3; }
    int hiddenSize() const override { return 8; }
    int extraInputs() const override { return 2; }
    const std::vector<TrainerClip> &clips() const override { return m_frames.clips(); }
    bool read(std::size_t i, float *hidden, float *extra, std::string *error) const override
    {
        std::vector<float> scratch;
        if (!hidden) {
            scratch.resize(std::size_t(3 * clips()[i].frames * 8));
            hidden = scratch.data();
        }
        return m_frames.read(i, hidden, extra, error);
    }
    bool readClipMeans(std::size_t i, float *layerMeans, float *extraMeans,
                       std::string *) const override
    {
        std::copy(m_layerMeans[i].begin(), m_layerMeans[i].end(), layerMeans);
        std::copy(m_extraMeans[i].begin(), m_extraMeans[i].end(), extraMeans);
        return true;
    }

private:
    const MemorySource &m_frames;
    std::vector<std::vector<float>> m_layerMeans, m_extraMeans;
};

} // namespace

MODEL_TEST(adapter_trainer_uses_clip_means_where_they_are_exact)
{
    const MemorySource frames(120, 31);
    const MeansSource source(frames);
    TrainerOptions o = trainerOptions();
    o.adapter.transformerLayers = 0;
    o.adapter.pooling = AdapterPooling::Mean;
    o.adapter.dropout = 0;
    AdapterTrainer trainer(o);
    REQUIRE_OK(trainer.train(source, range(0, 80), range(80, 100), {}, {}));
    VERIFY(trainer.trainedOnClipMeans());
    // Clip posteriors from the means and from every frame are the same.
    std::vector<ClipPrediction> fromMeans, fromFrames;
    REQUIRE_OK(trainer.predict(source, range(100, 120), false, false, &fromMeans));
    REQUIRE_OK(trainer.predict(source, range(100, 120), true, false, &fromFrames));
    int right = 0;
    for (std::size_t k = 0; k < fromMeans.size(); ++k) {
        for (std::size_t c = 0; c < 4; ++c)
            VERIFY_MSG(std::abs(fromMeans[k].probabilities[c] - fromFrames[k].probabilities[c]) <
                           1e-4,
                       fromMeans[k].probabilities[c] << " vs " << fromFrames[k].probabilities[c]);
        const auto &p = fromMeans[k].probabilities;
        right += int(std::max_element(p.begin(), p.end()) - p.begin()) ==
                         frames.clips()[100 + k].classIndex
                     ? 1
                     : 0;
    }
    VERIFY_MSG(right >= 14, right << " of 20");
    // A recipe with Transformer blocks is not affine: it reads the frames.
    AdapterTrainer blocks(trainerOptions());
    REQUIRE_OK(blocks.train(source, range(0, 40), range(40, 60), {}, {}));
    VERIFY(!blocks.trainedOnClipMeans());
}
