// bench_train [cpu|cuda] [--clips N] [--seconds S] [--epochs E] [--threads T]
//             [--recipes NAME,NAME] [--paper] [--tapt]
// How long the training recipes (all, or those named) take at IEMOCAP's 4-class size with
// HuBERT-base-shaped features (13 layers x 768, 50 frames/s): by default 5,500 clips of 4.5 s (225
// frames). The features come from a pool of 32 random float16 clips handed to the trainer the way
// the feature cache hands them (float16, converted per batch), so the figures are the trainer's
// compute and conversion, not the disk: reading a 24 GB cache from disk comes on top when it does
// not fit the page cache.
//
// For each recipe (the settings of core/training/Recipes.cpp): the time of E epochs (default 1;
// adapter-local-attributes also E pre-training epochs, gmp-atl E epochs of its steps 1 and 3,
// ari-coattention E epochs of its stage 1,
// timed apart), per epoch, the achieved GFLOP/s (training is counted as three forward passes:
// forward, and a backward of about twice its cost), the peak RSS, and the projected time of
// one-click retraining (the recipe's epochs, validation included). In the same run, a plain at::mm
// of a projection-sized product on the same threads gives the GEMM rate the recipes are compared
// with. Prints the machine and the OpenBLAS kernels first.
//
// --paper adds the paper mode of gmp-atl and ari-coattention (gmp-atl/paper,
// ari-coattention/paper): the encoder's 12 Transformer layers, from a HuBERT-base-shaped folder
// with random weights written to a temporary folder, run inside the adapter and train
// (ari-coattention's stage 2 from layer 5), batches of 4 clips. It is meant for a GPU: on the CPU
// give it few clips
// (--clips 40). Its GFLOP figures add the encoder layers, counted as training (three forward
// passes) even where stage 2 only runs them forward.
//
// --tapt adds TAPT proper (seed 002's paper mode, models/EncoderPretrainer) on the same
// HuBERT-base-shaped folder: its k-means of the middle layer, then E epochs of masked
// prediction over every clip (the projected CNN features drawn from a pool like the layers),
// with the 10 epochs of a run projected. Like --paper, meant for a GPU; on the CPU give it few
// clips.

#include "AdapterTrainer.h"
#include "BenchMachine.h"
#include "BlasKernels.h"
#include "EncoderPretrainer.h"
#include "RandomModels.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace emolens;

namespace {

constexpr int kLayers = 13;
constexpr int kHidden = 768;
constexpr double kFramesPerSecond = 50;
constexpr int kPool = 32;

// N clips of the same length, their features drawn from a pool of random float16 clips.
class PoolSource final : public ClipFeatureSource
{
public:
    PoolSource(int clips, int64_t frames, int layers = kLayers) : m_layers(layers)
    {
        at::manual_seed(7);
        for (int i = 0; i < clips; ++i) {
            TrainerClip clip;
            clip.frames = frames;
            clip.classIndex = i % 4;
            clip.gender = (i / 4) % 2; // for gmp-atl's step 1 and ari-coattention
            // ari-coattention's other tasks: 10 speakers, a transcript of a character per 4
            // frames (12.5 a second at 50 frames/s) from 29 letters.
            clip.speaker = (i / 4) % 10;
            for (int64_t c = 0; c < frames / 4; ++c)
                clip.characters.push_back(int32_t(1 + (i * 7 + c * 13) % 29));
            m_clips.push_back(clip);
        }
        for (int p = 0; p < kPool; ++p) {
            const at::Tensor values =
                (at::randn({m_layers, frames, kHidden}) + 0.2 * (p % 4)).to(at::kHalf).contiguous();
            m_pool.emplace_back(reinterpret_cast<const std::uint16_t *>(values.data_ptr()),
                                reinterpret_cast<const std::uint16_t *>(values.data_ptr()) +
                                    values.numel());
            // What the cache stores beside the frames: each layer's mean.
            const at::Tensor means = values.to(at::kFloat).mean(1).contiguous();
            m_means.emplace_back(means.data_ptr<float>(), means.data_ptr<float>() + means.numel());
        }
    }
    int layerCount() const override { return m_layers; }
    int hiddenSize() const override { return kHidden; }
    int extraInputs() const override { return 0; }
    const std::vector<TrainerClip> &clips() const override { return m_clips; }
    bool read(std::size_t, float *, float *, std::string *) const override { return true; }
    const std::uint16_t *hiddenHalf(std::size_t i, std::shared_ptr<const void> *,
                                    std::string *) const override
    {
        return m_pool[i % kPool].data();
    }

    bool readClipMeans(std::size_t i, float *layerMeans, float *, std::string *) const override
    {
        if (!m_withMeans)
            return false;
        std::copy(m_means[i % kPool].begin(), m_means[i % kPool].end(), layerMeans);
        return true;
    }
    void setMeans(bool on) { m_withMeans = on; }

private:
    int m_layers;
    std::vector<TrainerClip> m_clips;
    std::vector<std::vector<std::uint16_t>> m_pool;
    std::vector<std::vector<float>> m_means;
    bool m_withMeans = true;
};

struct Recipe
{
    const char *name;
    TrainerOptions options;
    int recipeEpochs;
    int stage1Epochs = 20; // ari-coattention's stage 1
};

TrainerOptions baseOptions()
{
    TrainerOptions o;
    o.adapter.layerCount = kLayers;
    o.adapter.hiddenSize = kHidden;
    o.adapter.classCount = 4;
    o.adapter.width = 256;
    o.patience = 0;
    return o;
}

// Forward multiply-adds per clip x 2 (FLOP) x 3 (training: forward + backward).
double trainingFlopsPerClip(const AdapterOptions &a, int64_t frames)
{
    const double t = double(frames);
    double macs = double(a.layerCount) * t * a.hiddenSize; // layer average
    macs += t * (a.hiddenSize + a.extraInputs) * a.width;  // projection
    for (int b = 0; b < a.transformerLayers; ++b)
        macs += t * (4.0 * a.width * a.width + 2.0 * a.width * a.feedForward) +
                2.0 * t * t * a.width; // projections, FFN, attention
    if (a.pooling == AdapterPooling::AttentiveStatistics)
        macs += t * a.width * a.attentionWidth;
    if (a.encoderFirstLayer > 0) // paper mode: HuBERT-base's layers (768 wide, 3,072 inner)
        macs += double(a.layerCount - a.encoderFirstLayer) *
                (t * (4.0 * kHidden * kHidden + 2.0 * kHidden * 3072) + 2.0 * t * t * kHidden);
    return macs * 2 * 3;
}

// TAPT proper per clip: HuBERT-base's 12 layers, the positional convolution (128 taps, 16
// groups) and the 256-wide prediction head, as training (x 2 FLOP x 3).
double encoderFlopsPerClip(int64_t frames)
{
    const double t = double(frames);
    const double macs =
        12.0 * (t * (4.0 * kHidden * kHidden + 2.0 * kHidden * 3072) + 2.0 * t * t * kHidden) +
        t * kHidden * (kHidden / 16.0) * 128 + t * kHidden * 256;
    return macs * 2 * 3;
}

} // namespace

int main(int argc, char **argv)
{
    useFastBlasKernels(argv);
    std::string device = "cpu";
    int clips = 5500;
    double seconds = 4.5;
    int epochs = 1;
    int threads = int(std::max(1u, std::thread::hardware_concurrency()));
    std::string only; // ",a,b,": these recipes only
    bool paper = false;
    bool tapt = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--clips" && i + 1 < argc)
            clips = std::max(8, std::atoi(argv[++i]));
        else if (arg == "--seconds" && i + 1 < argc)
            seconds = std::atof(argv[++i]);
        else if (arg == "--epochs" && i + 1 < argc)
            epochs = std::max(1, std::atoi(argv[++i]));
        else if (arg == "--threads" && i + 1 < argc)
            threads = std::max(1, std::atoi(argv[++i]));
        else if (arg == "--recipes" && i + 1 < argc)
            only = "," + std::string(argv[++i]) + ",";
        else if (arg == "--paper")
            paper = true;
        else if (arg == "--tapt")
            tapt = true;
        else
            device = arg;
    }
    const int64_t frames = int64_t(seconds * kFramesPerSecond);
    at::set_num_threads(threads);
    std::printf("machine: %s, %u hardware threads; LibTorch %s; device %s; %d threads; OpenBLAS "
                "kernels %s\n",
                cpuModel().c_str(), std::thread::hardware_concurrency(), TORCH_VERSION,
                device.c_str(), at::get_num_threads(),
                blasCoreName().empty() ? "(not OpenBLAS)" : blasCoreName().c_str());
    std::printf("data: %d clips x %.1f s (%lld frames) of %d x %d features (%.1f GB as the "
                "float16 cache holds them), 4 classes; %d epoch(s) timed\n",
                clips, seconds, static_cast<long long>(frames), kLayers, kHidden,
                double(clips) * frames * kLayers * kHidden * 2 / 1e9, epochs);

    // The reference: a plain GEMM of the projection's shape, on the same threads.
    {
        const at::Tensor a = at::randn({4096, kHidden});
        const at::Tensor b = at::randn({kHidden, 256});
        at::mm(a, b);
        const auto start = std::chrono::steady_clock::now();
        const int runs = 50;
        for (int i = 0; i < runs; ++i)
            at::mm(a, b);
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("reference: at::mm 4096x768 @ 768x256: %.1f GFLOP/s\n",
                    runs * 2.0 * 4096 * kHidden * 256 / s / 1e9);
    }

    PoolSource source(clips, frames);
    std::vector<std::size_t> train, validation;
    for (int i = 0; i < clips; ++i)
        (i % 5 == 0 ? validation : train).push_back(std::size_t(i));

    std::vector<Recipe> recipes;
    const std::string encoderFolder = (std::filesystem::temp_directory_path() /
                                       ("emolens-bench-train-hubert-" + std::to_string(::getpid())))
                                          .string();
    struct RemoveFolder
    {
        const std::string &path;
        ~RemoveFolder()
        {
            std::error_code ignored;
            std::filesystem::remove_all(path, ignored);
        }
    } removeFolder{encoderFolder};
    {
        TrainerOptions o = baseOptions();
        o.adapter.transformerLayers = 0;
        o.adapter.pooling = AdapterPooling::Mean;
        recipes.push_back({"baseline", o, 40});
        o.clipMeansWhenExact = false;
        recipes.push_back({"baseline*", o, 40});
    }
    {
        TrainerOptions o = baseOptions();
        o.adapter.transformerLayers = 3;
        o.adapter.heads = 4;
        o.adapter.feedForward = 512;
        o.adapter.pooling = AdapterPooling::AttentiveStatistics;
        o.learningRate = 5e-4;
        recipes.push_back({"wap-sap", o, 30});
        // Seed 000 whole: the same network with the position convolution, after the
        // teacher-student pre-training (timed separately: E pre-training epochs, the recipe's
        // 10 projected).
        // Seed 001 (gmp-atl): wap-sap's network after steps 1-3 (timed separately: E epochs of
        // steps 1 and 3 each, the recipe's 20 each projected; step 2's k-means and pseudo-label
        // pass count as setup).
        TrainerOptions g = o;
        g.gmpAtl.multiTaskEpochs = 1;
        g.gmpAtl.retrainEpochs = 1;
        o.adapter.positionKernel = 15;
        o.pretrain.epochs = 1;
        recipes.push_back({"adapter-local-attributes", o, 30});
        recipes.push_back({"gmp-atl", g, 30});
        // Seed 003 (ari-coattention): ARI, 3 blocks, co-attention over gender, speaker and
        // character CTC heads (timed separately: E stage-1 epochs, the recipe's 20 projected).
        TrainerOptions a = baseOptions();
        a.adapter.layerIntegration = LayerIntegration::Ari;
        a.adapter.transformerLayers = 3;
        a.adapter.heads = 4;
        a.adapter.feedForward = 512;
        a.adapter.averageBlocks = false;
        a.adapter.pooling = AdapterPooling::CoAttention;
        a.adapter.attentionWidth = 128;
        a.adapter.auxiliaryWidth = 256;
        a.adapter.genderClasses = 2;
        a.adapter.speakerClasses = 10;
        a.adapter.characterClasses = 30;
        a.learningRate = 5e-4;
        a.ari.auxiliaryEpochs = 1;
        recipes.push_back({"ari-coattention", a, 30});
        if (paper || tapt) {
            std::printf("paper mode: writing a HuBERT-base-shaped folder with random weights to "
                        "%s\n",
                        encoderFolder.c_str());
            if (!bench::writeRandomHubertBase(encoderFolder)) {
                std::fprintf(stderr, "cannot write %s\n", encoderFolder.c_str());
                return 1;
            }
        }
        if (paper) {
            // core/training/Recipes.cpp's paper mode: every encoder layer runs inside the
            // adapter, no adapter blocks, batch 4, 1e-4 / 1e-5.
            const auto paperMode = [&encoderFolder](TrainerOptions o, int trainFrom) {
                o.adapter.transformerLayers = 0;
                o.adapter.encoderFirstLayer = 1;
                o.encoderFolder = encoderFolder;
                o.encoderTrainFrom = trainFrom;
                o.maxBatchClips = 4;
                o.learningRate = 1e-4;
                o.gmpAtl.learningRate = 1e-4;
                o.ari.learningRate = 1e-4;
                o.encoderLearningRate = 1e-5;
                return o;
            };
            recipes.push_back({"gmp-atl/paper", paperMode(g, 1), 30});
            recipes.push_back({"ari-coattention/paper", paperMode(a, 5), 100, 100});
        }
    }
    std::printf("\n%-24s %9s %12s %10s %16s %10s\n", "recipe", "epoch s", "GFLOP/epoch", "GFLOP/s",
                "retrain (proj.)", "peak RSS");
    for (Recipe &r : recipes) {
        if (!only.empty() && only.find("," + std::string(r.name) + ",") == std::string::npos)
            continue;
        r.options.epochs = epochs;
        const int pretrainEpochs = r.options.pretrain.epochs > 0 ? epochs : 0;
        r.options.pretrain.epochs = pretrainEpochs;
        const int gmpEpochs = r.options.gmpAtl.multiTaskEpochs > 0 ? epochs : 0;
        r.options.gmpAtl.multiTaskEpochs = gmpEpochs;
        r.options.gmpAtl.retrainEpochs = std::max(1, gmpEpochs);
        const int ariEpochs = r.options.ari.auxiliaryEpochs > 0 ? epochs : 0;
        r.options.ari.auxiliaryEpochs = ariEpochs;
        r.options.device = device;
        r.options.threads = threads;
        AdapterTrainer trainer(r.options);
        const auto start = std::chrono::steady_clock::now();
        const ModelStatus st = trainer.train(source, train, validation, {}, {});
        const double total =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (!st) {
            std::fprintf(stderr, "%s: %s\n", r.name, st.error().c_str());
            return 1;
        }
        double epochSeconds = 0;
        for (const EpochRecord &e : trainer.history())
            epochSeconds += e.seconds;
        epochSeconds /= double(trainer.history().size());
        // Validation is a forward pass: a third of a training clip's cost.
        // The means path feeds one "frame" per clip (its frame means).
        const double flops =
            trainingFlopsPerClip(r.options.adapter, trainer.trainedOnClipMeans() ? 1 : frames) *
            (double(train.size()) + double(validation.size()) / 3);
        double pretrainSeconds = 0;
        for (const PretrainRecord &e : trainer.pretrainHistory())
            pretrainSeconds += e.seconds;
        double stepSeconds[2] = {0, 0}; // gmp-atl's steps 1 and 3
        for (const GmpAtlRecord &g : trainer.gmpAtlHistory())
            stepSeconds[g.step == 1 ? 0 : 1] += g.seconds;
        double stage1Seconds = 0; // ari-coattention's stage 1
        for (const AriRecord &a : trainer.ariHistory())
            stage1Seconds += a.seconds;
        const double setup = total - epochSeconds * double(trainer.history().size()) -
                             pretrainSeconds - stepSeconds[0] - stepSeconds[1] - stage1Seconds;
        // The pre-training stage: the recipe's 10 epochs at the measured time per epoch.
        const double pretrainProjected =
            pretrainEpochs > 0 ? pretrainSeconds / pretrainEpochs * 10 : 0;
        // GMP-ATL's steps 1 and 3: the recipe's 20 epochs each at the measured times.
        const double gmpProjected =
            gmpEpochs > 0 ? (stepSeconds[0] + stepSeconds[1]) / gmpEpochs * 20 : 0;
        // ari-coattention's stage 1: the recipe's 20 epochs (paper mode 100) at the measured time.
        const double ariProjected = ariEpochs > 0 ? stage1Seconds / ariEpochs * r.stage1Epochs : 0;
        std::printf("%-24s %9.1f %12.0f %10.1f %12.1f min %7.0f MB\n", r.name, epochSeconds,
                    flops / 1e9, flops / 1e9 / epochSeconds,
                    (setup + pretrainProjected + gmpProjected + ariProjected +
                     epochSeconds * r.recipeEpochs) /
                        60,
                    peakRssMb());
        if (pretrainEpochs > 0)
            std::printf("%-24s %9.1f s per pre-training epoch (k-means of the teacher's frames "
                        "included), last mask accuracy %.3f\n",
                        "", pretrainSeconds / pretrainEpochs,
                        trainer.pretrainHistory().back().maskAccuracy);
        if (gmpEpochs > 0)
            std::printf("%-24s %9.1f s per step-1 epoch (emotion + gender), %.1f s per step-3 "
                        "epoch (emotion + pseudo-labels at 64/128/256); step 2 and the rest of "
                        "the setup %.1f s\n",
                        "", stepSeconds[0] / gmpEpochs, stepSeconds[1] / gmpEpochs, setup);
        if (ariEpochs > 0)
            std::printf("%-24s %9.1f s per stage-1 epoch (gender, speaker and CTC heads); the "
                        "GFLOP figures count the network without its auxiliary heads\n",
                        "", stage1Seconds / ariEpochs);
        std::fflush(stdout);
    }
    if (tapt) {
        // Seed 002's TAPT proper: the encoder's 12 layers train on every clip (no validation).
        PoolSource inputs(clips, frames, 1);
        EncoderPretrainOptions t;
        t.encoderFolder = encoderFolder;
        t.epochs = epochs;
        t.device = device;
        t.threads = threads;
        EncoderPretrainer trainer(t);
        std::vector<std::size_t> all(static_cast<std::size_t>(clips));
        for (int i = 0; i < clips; ++i)
            all[std::size_t(i)] = std::size_t(i);
        const auto start = std::chrono::steady_clock::now();
        const ModelStatus st = trainer.run(source, inputs, all);
        const double total =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (!st) {
            std::fprintf(stderr, "tapt: %s\n", st.error().c_str());
            return 1;
        }
        double epochSeconds = 0;
        for (const EncoderPretrainRecord &e : trainer.history())
            epochSeconds += e.seconds;
        const double setup = total - epochSeconds; // the encoder's weights, k-means, targets
        epochSeconds /= double(trainer.history().size());
        const double flops = encoderFlopsPerClip(frames) * clips;
        std::printf("%-24s %9.1f %12.0f %10.1f %12.1f min %7.0f MB\n", "tapt (paper)", epochSeconds,
                    flops / 1e9, flops / 1e9 / epochSeconds, (setup + epochSeconds * 10) / 60,
                    peakRssMb());
        std::printf("%-24s %9.1f s of setup (the folder's weights, k-means of %lld frames of "
                    "layer %d into 100 clusters, every frame's target); last masked accuracy "
                    "%.3f; projected: setup + 10 epochs\n",
                    "", setup, static_cast<long long>(std::min<int64_t>(50000, clips * frames)),
                    trainer.targetLayer(), trainer.history().back().maskedAccuracy);
    }
    std::printf("\nbaseline reads each clip's frame means (exact for an affine-then-mean-pooled "
                "recipe); baseline* reads every frame, as before\n");
    std::printf("peak RSS: %.0f MB (the pool of %d clips is %.0f MB of it)\n", peakRssMb(), kPool,
                kPool * double(frames) * kLayers * kHidden * 2 / 1e6);
    std::printf("retrain (proj.): the normalisation pass and setup once, plus the recipe's "
                "epochs (baseline 40, wap-sap 30, adapter-local-attributes 10 pre-training and "
                "30, gmp-atl 20 + 20 in steps 1 and 3 and 30, ari-coattention 20 in stage 1 and "
                "30; paper mode: gmp-atl as one-click, ari-coattention 100 and 100) at the "
                "measured epoch times, early "
                "stopping not counted; extraction not "
                "included\n");
    std::printf("peak RSS: the process's peak after each recipe (recipes run in turn)\n");
    const double labeledFrames = double(clips) * double(frames);
    std::printf("Retrain's default at this size: %s (%.0f labeled frames; wap-sap only up to "
                "60,000 on the CPU, see core/training/Recipes.cpp)\n",
                labeledFrames > 60000 && device == "cpu" ? "baseline" : "wap-sap", labeledFrames);
    return 0;
}
