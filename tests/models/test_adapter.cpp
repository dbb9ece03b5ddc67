// The emotion adapter on small random data: padding a clip in a batch does not change its
// outputs (posteriors, frame curves, dimensions) for any pooling or backbone; the frame curves
// of a mean-pooled model average to its clip logits; a model refuses another encoder's
// features; the losses equal hand-computed values; and a few steps of Adam on a separable toy
// problem bring the loss down and the accuracy up, the same on every run with the same seed.

#include "AdapterPretraining.h"
#include "AdapterTestSupport.h"
#include "AdapterTrainer.h"
#include "EmotionAdapter.h"
#include "ModelTest.h"
#include "SafeTensors.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>
#include <unistd.h>

using namespace emolens;
using namespace emolens::testsupport;

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

} // namespace

MODEL_TEST(adapter_padding_does_not_change_a_clip)
{
    for (AdapterPooling pooling : {AdapterPooling::Mean, AdapterPooling::AttentiveStatistics})
        for (int blocks : {0, 2, -2}) { // -2: two blocks after a position convolution
            torch::manual_seed(1);
            AdapterOptions options = smallOptions(pooling, std::abs(blocks));
            options.positionKernel = blocks < 0 ? 5 : 0;
            EmotionAdapter net(options);
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
    // Soft targets: one-hot shares give the hard loss, weighted or not; the first clip's votes
    // split 1:1 give -(ln 0.75 + ln 0.25) / 2 for it, so with the second (class 0, -ln 0.25)
    // the mean is (-(ln 0.75 + ln 0.25) / 2 - ln 0.25) / 2.
    const auto oneHot = torch::tensor({{0.0f, 1.0f}, {1.0f, 0.0f}});
    VERIFY(std::abs(softClassificationLoss(logits, oneHot).item<float>() - ce) < 1e-5);
    VERIFY(
        std::abs(softClassificationLoss(logits, oneHot, torch::tensor({1.0f, 3.0f})).item<float>() -
                 weighted) < 1e-5);
    const auto split = torch::tensor({{0.5f, 0.5f}, {1.0f, 0.0f}});
    const float soft = softClassificationLoss(logits, split).item<float>();
    VERIFY_MSG(std::abs(soft - (-(std::log(0.75f) + std::log(0.25f)) / 2 - std::log(0.25f)) / 2) <
                   1e-5,
               soft);

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
    // Clip i's soft targets (the share of the votes per class).
    void setClassTargets(std::size_t i, std::vector<float> shares)
    {
        m_clips[i].classTargets = std::move(shares);
    }
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

    // Active learning's sample (BALD, BADGE): inference-mode probabilities as predict's, the
    // classifier's input (the SAP vector here), and MC-dropout passes that are distributions,
    // differ from each other, and repeat with the seed.
    std::vector<ClipPrediction> sampled, sampledAgain;
    REQUIRE_OK(loaded.sample(source, range(100, 120), 6, 7, &sampled));
    REQUIRE_OK(loaded.sample(source, range(100, 120), 6, 7, &sampledAgain));
    bool passesDiffer = false;
    for (std::size_t k = 0; k < sampled.size(); ++k) {
        const ClipPrediction &p = sampled[k];
        for (std::size_t c = 0; c < 4; ++c)
            VERIFY(std::abs(p.probabilities[c] - predictions[k].probabilities[c]) < 1e-5);
        VERIFY(p.classifierInput.size() == predictions[k].pooled.size());
        for (std::size_t i = 0; i < p.classifierInput.size(); ++i)
            VERIFY(std::abs(p.classifierInput[i] - predictions[k].pooled[i]) < 1e-4);
        REQUIRE(p.passProbabilities.size() == 6 * 4);
        for (int t = 0; t < 6; ++t) {
            double sum = 0;
            for (int c = 0; c < 4; ++c)
                sum += p.passProbabilities[std::size_t(t * 4 + c)];
            VERIFY(std::abs(sum - 1) < 1e-5);
            passesDiffer = passesDiffer || std::abs(p.passProbabilities[std::size_t(t * 4)] -
                                                    p.passProbabilities[0]) > 1e-4;
        }
        VERIFY(p.passProbabilities == sampledAgain[k].passProbabilities);
    }
    VERIFY_MSG(passesDiffer, "dropout is on in the passes");
    std::vector<ClipPrediction> noPasses;
    REQUIRE_OK(loaded.sample(source, range(100, 102), 0, 7, &noPasses));
    VERIFY(noPasses[0].passProbabilities.empty() && noPasses[0].probabilities.size() == 4);

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

MODEL_TEST(adapter_trainer_honours_soft_targets)
{
    // The "soft" label rule: clips carry the share of the votes per class. One-hot shares train
    // exactly as the hard labels (the same losses, class weights included); shares split
    // between two classes change the losses.
    auto losses = [](const MemorySource &source) {
        TrainerOptions options = trainerOptions();
        options.epochs = 4;
        AdapterTrainer trainer(options);
        std::vector<double> out;
        bool cancelled = false;
        REQUIRE_OK(trainer.train(
            source, range(0, 40), range(40, 60),
            [&out](const EpochRecord &r, double) {
                out.push_back(r.trainLoss);
                out.push_back(r.validationLoss);
                return true;
            },
            {}, &cancelled));
        return out;
    };
    const MemorySource hard(60, 21);
    MemorySource oneHot(60, 21), split(60, 21);
    for (std::size_t i = 0; i < 60; ++i) {
        std::vector<float> shares(4, 0.0f);
        shares[std::size_t(i % 4)] = 1.0f;
        oneHot.setClassTargets(i, shares);
        if (i < 30) { // two of four people chose the next class
            shares[std::size_t(i % 4)] = 0.5f;
            shares[std::size_t((i + 1) % 4)] = 0.5f;
        }
        split.setClassTargets(i, shares);
    }
    const auto reference = losses(hard);
    const auto same = losses(oneHot);
    const auto changed = losses(split);
    VERIFY(reference.size() == 8 && same.size() == 8 && changed.size() == 8);
    double sameGap = 0, changedGap = 0;
    for (std::size_t k = 0; k < reference.size(); ++k) {
        sameGap = std::max(sameGap, std::abs(same[k] - reference[k]));
        changedGap = std::max(changedGap, std::abs(changed[k] - reference[k]));
    }
    VERIFY_MSG(sameGap < 1e-4, sameGap);
    VERIFY_MSG(changedGap > 1e-2, changedGap);
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

// Seed 000's teacher-student pre-training: its parts against hand values, then the loop.

MODEL_TEST(pretrain_span_mask_covers_the_fraction_in_whole_spans)
{
    const std::vector<int64_t> lengths{100, 37, 5, 200, 9};
    std::mt19937_64 random(3);
    double coverSum = 0, lengthSum = 0;
    for (int draw = 0; draw < 50; ++draw) {
        const auto mask = spanMask(lengths, 200, 8, 0.5, random);
        VERIFY(mask.sizes() == torch::IntArrayRef({5, 200}));
        for (std::size_t b = 0; b < lengths.size(); ++b) {
            const auto row = mask[int64_t(b)];
            const int64_t length = lengths[b];
            const int64_t covered = row.sum().item<int64_t>();
            const int64_t wanted = std::llround(0.5 * double(length));
            // Nothing past the clip's end.
            VERIFY_MSG(row.slice(0, length).sum().item<int64_t>() == 0, b);
            if (length <= 8) {
                // One span from the first frame, cut to the fraction.
                VERIFY_MSG(covered == wanted, b);
                VERIFY(row.slice(0, 0, wanted).all().item<bool>());
                continue;
            }
            VERIFY_MSG(covered >= wanted && covered < wanted + 8, covered);
            // Every masked run is a union of whole spans: at least 8 frames long.
            int64_t run = 0;
            for (int64_t t = 0; t <= length; ++t) {
                const bool on = t < length && row[t].item<bool>();
                if (on) {
                    ++run;
                } else {
                    VERIFY_MSG(run == 0 || run >= 8, run);
                    run = 0;
                }
            }
            coverSum += double(covered);
            lengthSum += double(length);
        }
    }
    // Over many clips the cover is the fraction, plus less than one span.
    const double cover = coverSum / lengthSum;
    VERIFY_MSG(cover >= 0.5 && cover < 0.56, cover);
    // The same generator state gives the same mask.
    std::mt19937_64 a(11), b(11);
    VERIFY(spanMask(lengths, 200, 8, 0.5, a).equal(spanMask(lengths, 200, 8, 0.5, b)));
}

// ALPS's masks and buckets (AdapterTrainer::surprisal) against hand values.
MODEL_TEST(surprisal_masks_every_frame_once_and_buckets_average_by_hand)
{
    const std::vector<int64_t> lengths{10, 3};
    const auto first = alternatingSpans(lengths, 12, 2, 2, 0);
    const auto second = alternatingSpans(lengths, 12, 2, 2, 1);
    // Spans of 2 frames, alternately: frames 0-1, 4-5, 8-9 in the first pass, 2-3, 6-7 in the
    // second; nothing past a clip's end.
    const std::vector<int> a{1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0};
    const std::vector<int> b{0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0};
    const std::vector<int> c{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    const std::vector<int> e{0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int f = 0; f < 12; ++f) {
        VERIFY_MSG(first[0][f].item<bool>() == bool(a[std::size_t(f)]), f);
        VERIFY_MSG(second[0][f].item<bool>() == bool(b[std::size_t(f)]), f);
        VERIFY_MSG(first[1][f].item<bool>() == bool(c[std::size_t(f)]), f);
        VERIFY_MSG(second[1][f].item<bool>() == bool(e[std::size_t(f)]), f);
    }
    // Three passes of spans of 3 over 9 frames: each frame in exactly one.
    const std::vector<int64_t> nine{9};
    auto sum = torch::zeros({1, 9}, torch::kInt);
    for (int pass = 0; pass < 3; ++pass)
        sum += alternatingSpans(nine, 9, 3, 3, pass).to(torch::kInt);
    VERIFY(sum.eq(1).all().item<bool>());

    // Buckets: 6 frames into 3 parts of 2; 7 frames into 2 parts of 3 and 4 (floor(7/2) = 3);
    // 2 frames into 4 parts, the empty ones taking the frame at their start.
    const std::vector<float> v{1, 3, 5, 7, 9, 11, 20};
    VERIFY((bucketMeans(v.data(), 6, 3) == std::vector<float>{2, 6, 10}));
    VERIFY((bucketMeans(v.data(), 7, 2) == std::vector<float>{3, 11.75f}));
    VERIFY((bucketMeans(v.data(), 2, 4) == std::vector<float>{1, 1, 3, 3}));
    VERIFY(bucketMeans(v.data(), 7, 1) == std::vector<float>{8});
    VERIFY(bucketMeans(v.data(), 0, 3).empty());
}

MODEL_TEST(pretrain_ema_update_and_decay_equal_hand_values)
{
    torch::nn::Linear teacher(2, 1), student(2, 1);
    {
        torch::NoGradGuard noGrad;
        teacher->weight.fill_(1.0);
        teacher->bias.fill_(-2.0);
        student->weight.fill_(3.0);
        student->bias.fill_(2.0);
    }
    emaUpdate(*teacher, *student, 0.9);
    // 0.9 x 1 + 0.1 x 3 = 1.2; 0.9 x -2 + 0.1 x 2 = -1.6
    VERIFY(std::abs(teacher->weight[0][0].item<float>() - 1.2f) < 1e-6f);
    VERIFY(std::abs(teacher->bias[0].item<float>() + 1.6f) < 1e-6f);
    VERIFY(student->weight[0][1].item<float>() == 3.0f); // the student is untouched
    // Decay 0 copies the student (how the teacher starts).
    emaUpdate(*teacher, *student, 0.0);
    VERIFY(teacher->weight.equal(student->weight));
    // Linear from start to end over the steps.
    VERIFY(std::abs(emaDecay(0, 100, 0.999, 0.9999) - 0.999) < 1e-12);
    VERIFY(std::abs(emaDecay(50, 100, 0.999, 0.9999) - 0.99945) < 1e-12);
    VERIFY(std::abs(emaDecay(100, 100, 0.999, 0.9999) - 0.9999) < 1e-12);
    VERIFY(std::abs(emaDecay(500, 100, 0.999, 0.9999) - 0.9999) < 1e-12);
}

MODEL_TEST(pretrain_instance_normalisation_uses_real_frames_only)
{
    // Clip 0: 1, 2, 3 and a padded 100; clip 1: 5, 5 (no spread) and two padded frames.
    const auto x =
        torch::tensor({1.0f, 2.0f, 3.0f, 100.0f, 5.0f, 5.0f, 7.0f, 9.0f}).view({2, 4, 1});
    const auto mask = torch::tensor({1, 1, 1, 0, 1, 1, 0, 0}, torch::kBool).view({2, 4});
    const auto y = instanceNormalise(x, mask);
    const float s = 1.0f / std::sqrt(2.0f / 3.0f + 1e-5f); // mean 2, population variance 2/3
    const std::vector<float> expected{-s, 0, s, 0, 0, 0, 0, 0};
    for (int k = 0; k < 8; ++k)
        VERIFY_MSG(std::abs(y.view({-1})[k].item<float>() - expected[std::size_t(k)]) < 1e-5f, k);
}

namespace {

// Speech-like toy frames: each clip is a run of "phones", 8 frames each, drawn from 8
// prototypes (plus noise) - so a masked span inside a phone can be told from its neighbours,
// as in speech. The clip's class shifts one hidden dimension.
class PhoneSource final : public ClipFeatureSource
{
public:
    // withGender: clips 4n..4n+3 alternate female (0) and male (1) by n, independent of the
    // class, and male clips carry +2 in feature 5 (a gender cue, as pitch is in speech).
    PhoneSource(int clips, uint64_t seed, bool withGender = false)
    {
        std::mt19937_64 random(seed);
        std::normal_distribution<float> noise;
        std::vector<std::vector<float>> prototypes(8, std::vector<float>(8));
        for (auto &p : prototypes)
            for (float &v : p)
                v = 2.0f * noise(random);
        for (int i = 0; i < clips; ++i) {
            TrainerClip clip;
            clip.frames = 8 * (3 + int64_t(random() % 4));
            clip.classIndex = i % 4;
            if (withGender)
                clip.gender = (i / 4) % 2;
            m_clips.push_back(clip);
            std::vector<float> h(std::size_t(3 * clip.frames * 8));
            m_phones.emplace_back();
            for (int64_t f = 0; f < clip.frames; f += 8) {
                const int phone = int(random() % 8);
                m_phones.back().insert(m_phones.back().end(), 8, phone);
                const auto &p = prototypes[std::size_t(phone)];
                for (int64_t g = f; g < f + 8; ++g)
                    for (int l = 0; l < 3; ++l)
                        for (int d = 0; d < 8; ++d)
                            h[std::size_t((l * clip.frames + g) * 8 + d)] =
                                p[std::size_t(d)] + 0.3f * noise(random) +
                                (d == clip.classIndex ? 1.0f : 0.0f) +
                                (d == 5 && clip.gender == 1 ? 2.0f : 0.0f);
            }
            m_hiddenValues.push_back(std::move(h));
            m_extraValues.push_back(std::vector<float>(std::size_t(clip.frames * 2), 0.0f));
        }
    }
    int layerCount() const override { return 3; }
    int hiddenSize() const override { return 8; }
    int extraInputs() const override { return 2; }
    const std::vector<TrainerClip> &clips() const override { return m_clips; }
    // Clip i's soft targets (the share of the votes per class).
    void setClassTargets(std::size_t i, std::vector<float> shares)
    {
        m_clips[i].classTargets = std::move(shares);
    }
    bool read(std::size_t i, float *hidden, float *extra, std::string *) const override
    {
        if (hidden)
            std::copy(m_hiddenValues[i].begin(), m_hiddenValues[i].end(), hidden);
        std::copy(m_extraValues[i].begin(), m_extraValues[i].end(), extra);
        return true;
    }
    // The prototype behind each frame of clip i.
    const std::vector<int> &phones(std::size_t i) const { return m_phones[i]; }

private:
    std::vector<TrainerClip> m_clips;
    std::vector<std::vector<int>> m_phones;
    std::vector<std::vector<float>> m_hiddenValues, m_extraValues;
};

TrainerOptions pretrainOptions()
{
    TrainerOptions o = trainerOptions();
    o.epochs = 4;
    o.pretrain.epochs = 8;
    o.pretrain.clusters = 8;
    o.pretrain.clusterFrames = 400;
    o.pretrain.refreshEpochs = 4;
    o.pretrain.spanFrames = 3;
    o.batchFrames = 400;
    o.pretrain.emaStart = 0.9;
    o.pretrain.emaEnd = 0.99;
    o.pretrain.learningRate = 5e-3;
    o.adapter.dropout = 0.1;
    o.adapter.positionKernel = 5;
    return o;
}

std::vector<float> flatPredictions(AdapterTrainer &trainer, const ClipFeatureSource &source,
                                   const std::vector<std::size_t> &which)
{
    std::vector<ClipPrediction> out;
    VERIFY(trainer.predict(source, which, false, false, &out).ok());
    std::vector<float> flat;
    for (const ClipPrediction &p : out)
        flat.insert(flat.end(), p.probabilities.begin(), p.probabilities.end());
    return flat;
}

std::vector<std::vector<int32_t>> localAttributes(AdapterTrainer &trainer,
                                                  const ClipFeatureSource &source,
                                                  const std::vector<std::size_t> &which)
{
    std::vector<ClipPrediction> out;
    VERIFY(trainer.predict(source, which, true, false, &out).ok());
    std::vector<std::vector<int32_t>> ids;
    for (const ClipPrediction &p : out)
        ids.push_back(p.localAttributes);
    return ids;
}

} // namespace

MODEL_TEST(pretrain_keeps_local_attributes_that_find_the_phones)
{
    const PhoneSource source(80, 41);
    const TrainerOptions options = pretrainOptions();
    AdapterTrainer trainer(options);
    trainer.setPretrainClips(range(0, 80));
    REQUIRE_OK(trainer.train(source, range(0, 40), range(40, 60), nullptr, nullptr));
    VERIFY(trainer.localAttributeCount() == 8);

    // Every frame of the labeled clips read (0-59) is counted once, under its clip's class.
    const std::vector<float> table = trainer.localAttributeClassFrames();
    VERIFY(table.size() == 8 * 4);
    std::vector<double> perClass(4, 0), expected(4, 0);
    for (int k = 0; k < 8; ++k)
        for (int c = 0; c < 4; ++c)
            perClass[std::size_t(c)] += table[std::size_t(k * 4 + c)];
    for (std::size_t i = 0; i < 60; ++i)
        expected[std::size_t(source.clips()[i].classIndex)] += double(source.clips()[i].frames);
    VERIFY_MSG(perClass == expected, perClass[0] << " " << expected[0]);

    // Unseen clips: one id per frame, in range, and the ids follow the phones - most frames of
    // an id share one prototype (purity; 1/8 would be chance).
    const auto ids = localAttributes(trainer, source, range(60, 80));
    std::vector<std::vector<double>> joint(8, std::vector<double>(8, 0));
    double frames = 0;
    for (std::size_t k = 0; k < ids.size(); ++k) {
        const auto &phones = source.phones(60 + k);
        VERIFY(ids[k].size() == phones.size());
        for (std::size_t f = 0; f < phones.size(); ++f) {
            VERIFY(ids[k][f] >= 0 && ids[k][f] < 8);
            joint[std::size_t(ids[k][f])][std::size_t(phones[f])] += 1;
            frames += 1;
        }
    }
    double majority = 0;
    for (const auto &row : joint)
        majority += *std::max_element(row.begin(), row.end());
    std::cout << "local-attribute purity against the phones: " << majority / frames << "\n";
    VERIFY_MSG(majority / frames > 0.6, majority / frames);

    // Kept in the model file: a loaded model gives the same ids and counts.
    const std::string path =
        "/tmp/emolens-local-attributes-" + std::to_string(::getpid()) + ".safetensors";
    REQUIRE_OK(trainer.save(path));
    AdapterTrainer loaded(TrainerOptions{});
    REQUIRE_OK(loaded.load(path));
    std::remove(path.c_str());
    VERIFY(loaded.localAttributeCount() == 8);
    VERIFY(loaded.localAttributeClassFrames() == table);
    VERIFY(localAttributes(loaded, source, range(60, 80)) == ids);

    // Cancel right after the last pre-training epoch lands in the counting pass: honoured
    // there, before any fine-tuning.
    {
        AdapterTrainer cancelledRun(options);
        cancelledRun.setPretrainClips(range(0, 80));
        bool stop = false;
        cancelledRun.setPretrainCallback(
            [&stop](const PretrainRecord &r, double) { stop = r.epoch == 8; });
        bool cancelled = false;
        REQUIRE_OK(cancelledRun.train(
            source, range(0, 40), range(40, 60), nullptr, [&stop] { return stop; }, &cancelled));
        VERIFY(cancelled);
        VERIFY(cancelledRun.pretrainHistory().size() == 8 && cancelledRun.history().empty());
        VERIFY(cancelledRun.localAttributeCount() == 0); // stopped before they were counted
    }

    // A model trained without pre-training has none, and predicts no ids.
    TrainerOptions plain = options;
    plain.pretrain.epochs = 0;
    AdapterTrainer without(plain);
    REQUIRE_OK(without.train(source, range(0, 40), range(40, 60), nullptr, nullptr));
    VERIFY(without.localAttributeCount() == 0 && without.localAttributeClassFrames().empty());
    for (const auto &clip : localAttributes(without, source, range(60, 62)))
        VERIFY(clip.empty());
}

MODEL_TEST(pretrain_losses_fall_deterministically_and_a_killed_run_resumes)
{
    const PhoneSource source(80, 41);
    TrainerOptions options = pretrainOptions();
    // Pre-training reads the unlabeled clips 60-79 too.
    std::vector<std::size_t> everything = range(0, 80);

    AdapterTrainer whole(options);
    whole.setPretrainClips(everything);
    std::vector<double> fractions;
    whole.setPretrainCallback(
        [&fractions](const PretrainRecord &, double fraction) { fractions.push_back(fraction); });
    REQUIRE_OK(whole.train(source, range(0, 40), range(40, 60), nullptr, nullptr));
    const auto &h = whole.pretrainHistory();
    VERIFY(h.size() == 8);
    VERIFY(fractions == std::vector<double>({0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0}));
    // Within one set of local attributes (epochs 1-4, 5-8) the mask loss falls; the
    // distillation targets move with the teacher, yet its loss falls over the run.
    VERIFY_MSG(h[3].maskLoss < h[0].maskLoss, h[0].maskLoss << " " << h[3].maskLoss);
    VERIFY_MSG(h[7].maskLoss < h[4].maskLoss, h[4].maskLoss << " " << h[7].maskLoss);
    VERIFY_MSG(h[7].distillLoss < h[0].distillLoss, h[0].distillLoss << " " << h[7].distillLoss);
    // Far better than guessing among 8 ids (0.125).
    VERIFY_MSG(h[7].maskAccuracy > 0.4, h[7].maskAccuracy);
    VERIFY(whole.history().size() == 4); // then fine-tuning as usual

    AdapterTrainer again(options);
    again.setPretrainClips(everything);
    REQUIRE_OK(again.train(source, range(0, 40), range(40, 60), nullptr, nullptr));
    for (std::size_t e = 0; e < 8; ++e) {
        VERIFY_MSG(again.pretrainHistory()[e].maskLoss == h[e].maskLoss, e);
        VERIFY_MSG(again.pretrainHistory()[e].distillLoss == h[e].distillLoss, e);
    }
    VERIFY(flatPredictions(again, source, range(40, 60)) ==
           flatPredictions(whole, source, range(40, 60)));

    // Killed during pre-training, after epoch 5's checkpoint (the local attributes of epoch 5
    // come from the checkpoint); resumed, it ends as if never
    // stopped.
    const std::string checkpoint =
        "/tmp/emolens-pretrain-resume-" + std::to_string(::getpid()) + ".safetensors";
    std::remove(checkpoint.c_str());
    options.checkpointPath = checkpoint;
    {
        AdapterTrainer killed(options);
        killed.setPretrainClips(everything);
        bool stop = false;
        killed.setPretrainCallback(
            [&stop](const PretrainRecord &r, double) { stop = r.epoch >= 5; });
        bool cancelled = false;
        REQUIRE_OK(killed.train(
            source, range(0, 40), range(40, 60), nullptr, [&stop] { return stop; }, &cancelled));
        VERIFY(cancelled);
        VERIFY(killed.pretrainHistory().size() == 5);
    }
    std::vector<EpochRecord> saved;
    int pretrainDone = 0;
    REQUIRE_OK(AdapterTrainer::checkpointHistory(checkpoint, &saved, &pretrainDone));
    VERIFY(saved.empty()); // no fine-tuning epoch yet
    VERIFY_MSG(pretrainDone == 5, pretrainDone);
    options.resume = true;
    AdapterTrainer resumed(options);
    resumed.setPretrainClips(everything);
    std::vector<int> epochsRun;
    resumed.setPretrainCallback(
        [&epochsRun](const PretrainRecord &r, double) { epochsRun.push_back(r.epoch); });
    REQUIRE_OK(resumed.train(source, range(0, 40), range(40, 60), nullptr, nullptr));
    VERIFY(epochsRun == std::vector<int>({6, 7, 8}));
    VERIFY(resumed.pretrainHistory().size() == 8);
    VERIFY(resumed.pretrainHistory()[7].maskLoss == h[7].maskLoss);
    for (std::size_t e = 0; e < 4; ++e)
        VERIFY_MSG(resumed.history()[e].trainLoss == whole.history()[e].trainLoss, e);
    VERIFY(flatPredictions(resumed, source, range(40, 60)) ==
           flatPredictions(whole, source, range(40, 60)));
    VERIFY(localAttributes(resumed, source, range(60, 80)) ==
           localAttributes(whole, source, range(60, 80)));
    VERIFY(resumed.localAttributeClassFrames() == whole.localAttributeClassFrames());

    // Stopped during fine-tuning after epoch 2: the checkpoint keeps the local attributes.
    options.resume = false;
    {
        AdapterTrainer stopped(options);
        stopped.setPretrainClips(everything);
        REQUIRE_OK(stopped.train(
            source, range(0, 40), range(40, 60),
            [](const EpochRecord &r, double) { return r.epoch < 2; }, nullptr));
        VERIFY(stopped.history().size() == 2);
    }
    options.resume = true;
    AdapterTrainer fineTuned(options);
    fineTuned.setPretrainClips(everything);
    REQUIRE_OK(fineTuned.train(source, range(0, 40), range(40, 60), nullptr, nullptr));
    VERIFY(fineTuned.pretrainHistory().empty()); // pre-training was over
    VERIFY(fineTuned.history().size() == 4);
    VERIFY(localAttributes(fineTuned, source, range(60, 80)) ==
           localAttributes(whole, source, range(60, 80)));
    VERIFY(fineTuned.localAttributeClassFrames() == whole.localAttributeClassFrames());

    // Other pre-training settings refuse the checkpoint, naming the file.
    options.pretrain.clusters = 9;
    AdapterTrainer other(options);
    const ModelStatus refused = other.train(source, range(0, 40), range(40, 60), nullptr, nullptr);
    VERIFY(!refused.ok());
    VERIFY_MSG(refused.error().find(checkpoint) != std::string::npos, refused.error());
    std::remove(checkpoint.c_str());
}

namespace {

TrainerOptions gmpAtlOptions()
{
    TrainerOptions o = trainerOptions();
    o.epochs = 4;
    o.batchFrames = 400;
    o.gmpAtl.multiTaskEpochs = 6;
    o.gmpAtl.retrainEpochs = 6;
    o.gmpAtl.scales = {4, 8};
    o.gmpAtl.clusterFrames = 600;
    o.gmpAtl.learningRate = 5e-3;
    return o;
}

} // namespace

MODEL_TEST(gmp_atl_learns_gender_then_pseudo_labels_then_emotion)
{
    const PhoneSource source(80, 43, /*withGender=*/true);
    const TrainerOptions options = gmpAtlOptions();
    AdapterTrainer trainer(options);
    std::vector<double> fractions;
    trainer.setGmpAtlCallback(
        [&fractions](const GmpAtlRecord &, double fraction) { fractions.push_back(fraction); });
    REQUIRE_OK(trainer.train(source, range(0, 60), range(60, 80), nullptr, nullptr));

    // Step 1's epochs, then step 3's, reported in order; step 4 is the fine-tuning.
    const auto &history = trainer.gmpAtlHistory();
    REQUIRE(history.size() == 12);
    for (std::size_t i = 0; i < 12; ++i) {
        VERIFY(history[i].step == (i < 6 ? 1 : 3));
        VERIFY(history[i].epoch == int(i % 6) + 1);
        VERIFY(std::isfinite(history[i].emotionLoss) && std::isfinite(history[i].auxiliaryLoss));
    }
    VERIFY(fractions.size() == 12 && std::abs(fractions.back() - 1.0) < 1e-9);
    VERIFY(std::is_sorted(fractions.begin(), fractions.end()));
    VERIFY(trainer.history().size() == 4);

    // Step 1 learns the speakers' gender from its cue (chance is 0.5).
    std::cout << "gender accuracy in step 1: " << history[0].auxiliaryAccuracy << " -> "
              << history[5].auxiliaryAccuracy << "\n";
    VERIFY_MSG(history[5].auxiliaryAccuracy > 0.9, history[5].auxiliaryAccuracy);
    // Step 3 learns the frame pseudo-labels of both scales (chance: 1/4 and 1/8, mean 0.19).
    std::cout << "pseudo-label accuracy in step 3: " << history[6].auxiliaryAccuracy << " -> "
              << history[11].auxiliaryAccuracy << "\n";
    VERIFY_MSG(history[11].auxiliaryAccuracy > 0.5, history[11].auxiliaryAccuracy);
    VERIFY(history[11].auxiliaryLoss < history[6].auxiliaryLoss);
    // And the model ends up knowing the emotions of unseen clips (chance 0.25).
    const double ua = trainer.history()[std::size_t(trainer.bestEpoch() - 1)].validationUa;
    std::cout << "validation UA after step 4: " << ua << "\n";
    VERIFY_MSG(ua > 0.6, ua);

    // Deterministic with the seed: the same steps and the same model.
    AdapterTrainer again(options);
    REQUIRE_OK(again.train(source, range(0, 60), range(60, 80), nullptr, nullptr));
    REQUIRE(again.gmpAtlHistory().size() == 12);
    for (std::size_t i = 0; i < 12; ++i)
        VERIFY(again.gmpAtlHistory()[i].auxiliaryLoss == history[i].auxiliaryLoss);
    VERIFY(flatPredictions(again, source, range(60, 80)) ==
           flatPredictions(trainer, source, range(60, 80)));
}

MODEL_TEST(gmp_atl_cancels_within_its_steps_and_refuses_bad_settings)
{
    const PhoneSource source(40, 47, /*withGender=*/true);
    {
        // Cancelled in step 3: no fine-tuning, nothing kept.
        AdapterTrainer trainer(gmpAtlOptions());
        bool stop = false;
        trainer.setGmpAtlCallback(
            [&stop](const GmpAtlRecord &r, double) { stop = r.step == 3 && r.epoch == 2; });
        bool cancelled = false;
        REQUIRE_OK(trainer.train(
            source, range(0, 30), range(30, 40), nullptr, [&stop] { return stop; }, &cancelled));
        VERIFY(cancelled);
        VERIFY(trainer.gmpAtlHistory().size() == 8 && trainer.history().empty());
    }
    {
        TrainerOptions o = gmpAtlOptions();
        o.gmpAtl.scales = {8, 1};
        AdapterTrainer trainer(o);
        const auto st = trainer.train(source, range(0, 30), range(30, 40), nullptr, nullptr);
        VERIFY_MSG(!st.ok() && st.error().find("GMP-ATL settings") != std::string::npos &&
                       st.error().find("scales=8/1") != std::string::npos,
                   st.error());
    }
    {
        TrainerOptions o = gmpAtlOptions();
        o.pretrain.epochs = 2;
        AdapterTrainer trainer(o);
        const auto st = trainer.train(source, range(0, 30), range(30, 40), nullptr, nullptr);
        VERIFY_MSG(!st.ok() && st.error().find("do not run together") != std::string::npos,
                   st.error());
    }
    {
        // Clips without a known gender: step 1 learns emotion alone and says so (no accuracy).
        const PhoneSource unknown(40, 47);
        AdapterTrainer trainer(gmpAtlOptions());
        REQUIRE_OK(trainer.train(unknown, range(0, 30), range(30, 40), nullptr, nullptr));
        VERIFY(trainer.gmpAtlHistory().size() == 12);
        VERIFY(trainer.gmpAtlHistory()[0].auxiliaryLoss == 0 &&
               trainer.gmpAtlHistory()[0].auxiliaryAccuracy == 0);
    }
}

// Adapter TAPT (seed 002's one-click variant): the teacher-student pre-training alone, on every
// clip, is a backbone file that a later run starts from.
MODEL_TEST(pretrain_backbone_alone_is_where_a_later_run_starts)
{
    const PhoneSource source(80, 41);
    const TrainerOptions options = pretrainOptions();
    AdapterTrainer tapt(options);
    std::vector<double> fractions;
    tapt.setPretrainCallback(
        [&fractions](const PretrainRecord &, double fraction) { fractions.push_back(fraction); });
    REQUIRE_OK(tapt.pretrainBackbone(source, range(0, 80), nullptr));
    const auto h = tapt.pretrainHistory();
    VERIFY(h.size() == 8 && tapt.history().empty());
    VERIFY(fractions.size() == 8 && fractions.back() == 1.0);
    VERIFY_MSG(h[3].maskLoss < h[0].maskLoss, h[0].maskLoss << " " << h[3].maskLoss);
    VERIFY_MSG(h[7].distillLoss < h[0].distillLoss, h[0].distillLoss << " " << h[7].distillLoss);
    VERIFY_MSG(h[7].maskAccuracy > 0.4, h[7].maskAccuracy);
    VERIFY(tapt.localAttributeCount() == 8);
    {
        // Deterministic with the seed.
        AdapterTrainer again(options);
        REQUIRE_OK(again.pretrainBackbone(source, range(0, 80), nullptr));
        for (std::size_t e = 0; e < 8; ++e)
            VERIFY_MSG(again.pretrainHistory()[e].maskLoss == h[e].maskLoss, e);
    }
    const std::string path = "/tmp/emolens-tapt-" + std::to_string(::getpid()) + ".safetensors";
    REQUIRE_OK(tapt.save(path));

    // ALPS's surprisal: the backbone keeps its masked-prediction heads, in the file too.
    VERIFY(tapt.hasSurprisalHeads());
    std::vector<std::vector<float>> surprisal, reloadedSurprisal, two, perFrame, whole;
    REQUIRE_OK(tapt.surprisal(source, range(0, 80), 4, &surprisal));
    VERIFY(surprisal.size() == 80);
    double frameWeighted = 0, frameCount = 0;
    for (std::size_t i = 0; i < 80; ++i) {
        VERIFY(surprisal[i].size() == 4);
        for (float v : surprisal[i]) {
            VERIFY_MSG(std::isfinite(v) && v >= 0, v);
            frameWeighted += double(v) * double(source.clips()[i].frames) / 4;
        }
        frameCount += double(source.clips()[i].frames);
    }
    // It is the pre-training's own loss: about its last epoch's mask loss (that one with random
    // spans, dropout and a student that moved during the epoch).
    const double meanSurprisal = frameWeighted / frameCount;
    VERIFY_MSG(std::abs(meanSurprisal - h[7].maskLoss) < 0.5 * h[7].maskLoss,
               meanSurprisal << " " << h[7].maskLoss);
    {
        AdapterTrainer reloaded(TrainerOptions{});
        REQUIRE_OK(reloaded.load(path));
        VERIFY(reloaded.hasSurprisalHeads());
        REQUIRE_OK(reloaded.surprisal(source, range(0, 80), 4, &reloadedSurprisal));
        for (std::size_t i = 0; i < 80; ++i)
            for (std::size_t b = 0; b < 4; ++b)
                VERIFY_MSG(std::abs(reloadedSurprisal[i][b] - surprisal[i][b]) < 1e-5, i);
    }
    // A clip's surprisal does not depend on the clips batched with it; one bucket per frame
    // averages to the clip's one bucket.
    REQUIRE_OK(tapt.surprisal(source, {17, 3}, 4, &two));
    for (std::size_t b = 0; b < 4; ++b)
        VERIFY_MSG(std::abs(two[0][b] - surprisal[17][b]) < 1e-4 &&
                       std::abs(two[1][b] - surprisal[3][b]) < 1e-4,
                   b);
    const int frames17 = int(source.clips()[17].frames);
    REQUIRE_OK(tapt.surprisal(source, {17}, frames17, &perFrame));
    REQUIRE_OK(tapt.surprisal(source, {17}, 1, &whole));
    VERIFY(int(perFrame[0].size()) == frames17);
    const double mean = std::accumulate(perFrame[0].begin(), perFrame[0].end(), 0.0) / frames17;
    VERIFY_MSG(std::abs(mean - whole[0][0]) < 1e-4, mean << " " << whole[0][0]);
    // Clips unlike the corpus (other phones) surprise it more.
    {
        const PhoneSource strange(20, 99);
        std::vector<std::vector<float>> other;
        REQUIRE_OK(tapt.surprisal(strange, range(0, 20), 1, &other));
        double strangeMean = 0;
        for (const auto &row : other)
            strangeMean += row[0] / 20.0;
        VERIFY_MSG(strangeMean > 1.2 * meanSurprisal, strangeMean << " " << meanSurprisal);
    }
    VERIFY(!tapt.surprisal(source, range(0, 4), 0, &two));

    // A run from the file, with another seed and no epochs: the backbone is the file's, the
    // pooling and the heads are its own.
    TrainerOptions from = options;
    from.pretrain.epochs = 0;
    from.initialBackbone = path;
    from.seed = 7;
    from.epochs = 0;
    AdapterTrainer start(from);
    REQUIRE_OK(start.train(source, range(0, 40), range(40, 60), nullptr, nullptr));
    const std::string startPath =
        "/tmp/emolens-tapt-start-" + std::to_string(::getpid()) + ".safetensors";
    REQUIRE_OK(start.save(startPath));
    {
        std::unique_ptr<SafeTensorsFile> a, b;
        REQUIRE_OK(SafeTensorsFile::open(path, a));
        REQUIRE_OK(SafeTensorsFile::open(startPath, b));
        int backbone = 0;
        int heads = 0;
        for (const SafeTensorInfo &t : a->tensors()) {
            const SafeTensorInfo *u = b->find(t.name);
            if (t.name.rfind("local_attributes/heads/", 0) == 0) {
                // The masked-prediction heads stay with the backbone alone.
                VERIFY_MSG(!u, t.name);
                ++heads;
                continue;
            }
            VERIFY_MSG(u && u->byteCount == t.byteCount, t.name);
            const bool same = std::memcmp(t.data, u->data, t.byteCount) == 0;
            const bool isBackbone =
                t.name.rfind("local_attributes/", 0) != 0 &&
                (t.name == "layer_logits" || t.name == "input_mean" || t.name == "input_std" ||
                 t.name == "block_logits" || t.name.rfind("projection.", 0) == 0 ||
                 t.name.rfind("position.", 0) == 0 || t.name.rfind("blocks.", 0) == 0);
            if (isBackbone) {
                VERIFY_MSG(same, t.name);
                ++backbone;
            }
            if (t.name == "classifier.weight" || t.name == "attention_hidden.weight")
                VERIFY_MSG(!same, t.name);
        }
        VERIFY_MSG(backbone > 10, backbone);
        VERIFY_MSG(heads == 5, heads); // mask vector, cluster and distillation heads
        VERIFY(a->metadata().at("backbone") == AdapterTrainer::backboneSettings(options.adapter));
    }
    std::remove(startPath.c_str());
    // Fine-tuning moves the backbone away from the heads: a trained model has none.
    VERIFY(!start.hasSurprisalHeads());
    {
        const ModelStatus none = start.surprisal(source, range(0, 4), 4, &two);
        VERIFY_MSG(!none && none.error().find("masked-prediction heads") != std::string::npos,
                   none.error());
    }
    // The local attributes come along, counted on this run's labeled clips (0-59).
    VERIFY(start.localAttributeCount() == 8);
    VERIFY(localAttributes(start, source, range(60, 80)) ==
           localAttributes(tapt, source, range(60, 80)));
    double counted = 0, frames = 0;
    for (float v : start.localAttributeClassFrames())
        counted += v;
    for (std::size_t i = 0; i < 60; ++i)
        frames += double(source.clips()[i].frames);
    VERIFY_MSG(counted == frames, counted << " " << frames);

    // Fine-tuning from it trains as usual.
    from.epochs = 4;
    AdapterTrainer fine(from);
    REQUIRE_OK(fine.train(source, range(0, 40), range(40, 60), nullptr, nullptr));
    VERIFY(fine.history().size() == 4 && fine.pretrainHistory().empty());

    // Refused: a pre-training stage of its own; a backbone of other settings; a missing file.
    TrainerOptions twice = from;
    twice.pretrain.epochs = 2;
    AdapterTrainer twiceRun(twice);
    const ModelStatus twiceStatus =
        twiceRun.train(source, range(0, 40), range(40, 60), nullptr, nullptr);
    VERIFY(!twiceStatus && twiceStatus.error().find("adapter TAPT") != std::string::npos);
    TrainerOptions other = from;
    other.adapter.positionKernel = 0;
    AdapterTrainer otherRun(other);
    const ModelStatus otherStatus =
        otherRun.train(source, range(0, 40), range(40, 60), nullptr, nullptr);
    VERIFY_MSG(!otherStatus && otherStatus.error().find("does not fit") != std::string::npos &&
                   otherStatus.error().find(path) != std::string::npos,
               otherStatus.error());
    std::remove(path.c_str());
    AdapterTrainer missing(from);
    const ModelStatus missingStatus =
        missing.train(source, range(0, 40), range(40, 60), nullptr, nullptr);
    VERIFY_MSG(!missingStatus && missingStatus.error().find(path) != std::string::npos,
               missingStatus.error());

    // Cancelled during TAPT: no local attributes are kept.
    AdapterTrainer cancelledRun(options);
    bool stop = false;
    cancelledRun.setPretrainCallback(
        [&stop](const PretrainRecord &r, double) { stop = r.epoch == 2; });
    bool cancelled = false;
    REQUIRE_OK(cancelledRun.pretrainBackbone(
        source, range(0, 80), [&stop] { return stop; }, &cancelled));
    VERIFY(cancelled && cancelledRun.pretrainHistory().size() == 2);
    VERIFY(cancelledRun.localAttributeCount() == 0);
}

MODEL_TEST(gmp_atl_resumes_after_a_kill_in_step_1_or_3)
{
    // Killed (cancelled after the epoch's checkpoint) in step 1 and, separately, in step 3,
    // each resumed run ends with the records and the model of a run never stopped; step 2 is
    // redone from step 1's model.
    const PhoneSource source(80, 43, /*withGender=*/true);
    const TrainerOptions options = gmpAtlOptions();
    AdapterTrainer whole(options);
    REQUIRE_OK(whole.train(source, range(0, 60), range(60, 80), nullptr, nullptr));
    const std::string checkpoint =
        "/tmp/emolens-gmp-resume-" + std::to_string(::getpid()) + ".safetensors";
    for (const auto &[step, epoch] : {std::pair<int, int>{1, 2}, {3, 4}}) {
        std::remove(checkpoint.c_str());
        TrainerOptions o = options;
        o.checkpointPath = checkpoint;
        {
            AdapterTrainer killed(o);
            bool stop = false;
            killed.setGmpAtlCallback(
                [&stop, step = step, epoch = epoch](const GmpAtlRecord &r, double) {
                    stop = r.step == step && r.epoch >= epoch;
                });
            bool cancelled = false;
            REQUIRE_OK(killed.train(
                source, range(0, 60), range(60, 80), nullptr, [&stop] { return stop; },
                &cancelled));
            VERIFY(cancelled && killed.history().empty());
        }
        std::vector<EpochRecord> saved;
        int stageDone = -1;
        REQUIRE_OK(AdapterTrainer::checkpointHistory(checkpoint, &saved, &stageDone));
        const int expected = step == 1 ? epoch : 6 + epoch;
        VERIFY_MSG(saved.empty() && stageDone == expected, stageDone);

        o.resume = true;
        AdapterTrainer resumed(o);
        std::vector<int> run;
        resumed.setGmpAtlCallback(
            [&run](const GmpAtlRecord &r, double) { run.push_back(r.step * 100 + r.epoch); });
        REQUIRE_OK(resumed.train(source, range(0, 60), range(60, 80), nullptr, nullptr));
        VERIFY_MSG(!run.empty() && run.front() == step * 100 + epoch + 1, run.front());
        REQUIRE(resumed.gmpAtlHistory().size() == whole.gmpAtlHistory().size());
        for (std::size_t i = 0; i < whole.gmpAtlHistory().size(); ++i)
            VERIFY_MSG(resumed.gmpAtlHistory()[i].auxiliaryLoss ==
                               whole.gmpAtlHistory()[i].auxiliaryLoss &&
                           resumed.gmpAtlHistory()[i].step == whole.gmpAtlHistory()[i].step,
                       "step " << step << ", record " << i);
        REQUIRE(resumed.history().size() == whole.history().size());
        for (std::size_t e = 0; e < whole.history().size(); ++e)
            VERIFY_MSG(resumed.history()[e].trainLoss == whole.history()[e].trainLoss, e);
        VERIFY(flatPredictions(resumed, source, range(60, 80)) ==
               flatPredictions(whole, source, range(60, 80)));
    }
    // A GMP-ATL checkpoint does not serve a run without the steps.
    std::remove(checkpoint.c_str());
    TrainerOptions without = options;
    without.checkpointPath = checkpoint;
    {
        AdapterTrainer first(without);
        bool stop = false;
        first.setGmpAtlCallback([&stop](const GmpAtlRecord &, double) { stop = true; });
        bool cancelled = false;
        REQUIRE_OK(first.train(
            source, range(0, 60), range(60, 80), nullptr, [&stop] { return stop; }, &cancelled));
    }
    without.resume = true;
    without.gmpAtl.multiTaskEpochs = 0;
    AdapterTrainer other(without);
    const ModelStatus refused = other.train(source, range(0, 60), range(60, 80), nullptr, nullptr);
    VERIFY_MSG(!refused && refused.error().find("GMP-ATL") != std::string::npos, refused.error());
    std::remove(checkpoint.c_str());
}
