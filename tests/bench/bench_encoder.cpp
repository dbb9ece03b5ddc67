// bench_encoder [cpu|cuda] [THREADS] [--runs N] [--profile] [--no-reference]: how fast the
// self-supervised encoder runs at HuBERT-base size, next to torchaudio's hubert_base on the same
// machine. Writes a HuBERT-base-shaped model (768 wide, 12 layers, 7-layer 512-channel extractor)
// with random weights to a temporary folder, loads it like any Hugging Face folder, and times 10 s
// of audio as one clip and as a batch of 8 with THREADS (default 2) CPU threads: one warm-up, then
// the best of N runs (default 3), single clip and batch interleaved so a burst of load elsewhere
// hits both alike. Then bench_encoder_reference.py times torchaudio the same way, and one table
// gives seconds per run, the real-time factor (compute seconds per audio second), audio seconds per
// second, the speedup over torchaudio, and the ratio to the bound that arithmetic alone sets (about
// 15 GFLOP per audio second at the FP32 FMA peak of the cores used). --profile adds where the time
// goes, stage by stage, with GFLOP/s, next to a plain at::mm of the same shapes measured in the
// same run; --no-reference skips torchaudio.

#include "BlasKernels.h"
#include "RandomModels.h"
#include "ReferencePython.h"
#include "SelfSupervisedEncoder.h"
#include "SpeechEncoder.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace emolens;
namespace fs = std::filesystem;

namespace {

constexpr int kSampleRate = 16000;
constexpr double kClipSeconds = 10.0;
constexpr int kBatchClips = 8;
// HuBERT-base's arithmetic per audio second (CNN ~4.9, Transformer ~9.5, positional conv
// ~0.5 GFLOP) over the FP32 FMA peak of two Zen / Skylake-class cores at AVX2 width
// (2 cores x 2 FMA x 8 lanes x 2 FLOP x ~2.9 GHz ~ 185 GFLOP/s): no implementation that
// does the model's arithmetic in FP32 gets below this real-time factor on such a machine.
constexpr double kBoundRealTimeFactor = 0.08;

std::string cpuModel()
{
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
        if (line.rfind("model name", 0) == 0)
            return line.substr(line.find(':') + 2);
    }
    return "unknown CPU";
}

long minorFaults()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
}

struct Timing
{
    double bestSeconds = 1e30;
    long faults = 0; // minor page faults of the best run: fresh memory the run touched
};

void timeOnce(const SpeechEncoder &encoder, const at::Tensor &input, Timing &timing)
{
    HiddenStates states;
    const long faultsBefore = minorFaults();
    const auto start = std::chrono::steady_clock::now();
    const ModelStatus status = encoder.encode(input, {}, states);
    if (encoder.device().is_cuda())
        states.layers.sum().item<float>(); // waits for the GPU
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!status) {
        std::fprintf(stderr, "%s\n", status.error().c_str());
        std::exit(1);
    }
    if (seconds < timing.bestSeconds) {
        timing.bestSeconds = seconds;
        timing.faults = minorFaults() - faultsBefore;
    }
}

// torchaudio's best seconds per run for 1 clip and for the batch, from the reference script's
// "reference-seconds CLIPS SECONDS" lines; negative when it could not run.
void runReference(const std::string &deviceName, int threads, int runs, double &single,
                  double &batch)
{
    single = batch = -1.0;
    // Beside this source file (the build passes absolute source paths).
    const std::string script =
        (fs::path(__FILE__).parent_path() / "bench_encoder_reference.py").string();
    const std::string command = referencePython() + " " + script + " " + deviceName + " " +
                                std::to_string(threads) + " " + std::to_string(runs);
    FILE *pipe = popen(command.c_str(), "r");
    if (pipe == nullptr)
        return;
    char line[512];
    while (std::fgets(line, sizeof line, pipe) != nullptr) {
        int clips = 0;
        double seconds = 0.0;
        if (std::sscanf(line, "reference-seconds %d %lf", &clips, &seconds) == 2)
            (clips == 1 ? single : batch) = seconds;
        else
            std::fputs(line, stdout);
    }
    pclose(pipe);
}

void printRow(const char *who, int clips, double seconds, double referenceSeconds)
{
    const double audioSeconds = clips * kClipSeconds;
    const double rtf = seconds / audioSeconds;
    std::printf("%-10s %d x %2.0f s  %8.3f  %8.4f  %9.1f", who, clips, kClipSeconds, seconds, rtf,
                audioSeconds / seconds);
    if (referenceSeconds > 0)
        std::printf("  %7.2fx", referenceSeconds / seconds);
    else
        std::printf("  %8s", "-");
    std::printf("  %8.2fx\n", rtf / kBoundRealTimeFactor);
}

double gemmGflops(std::int64_t m, std::int64_t k, std::int64_t n)
{
    const at::Tensor a = at::randn({m, k});
    const at::Tensor b = at::randn({k, n});
    at::mm(a, b);
    double best = 1e30;
    for (int i = 0; i < 3; ++i) {
        const auto start = std::chrono::steady_clock::now();
        at::mm(a, b);
        best = std::min(
            best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return 2.0 * m * k * n / best / 1e9;
}

void printProfile(const SelfSupervisedEncoder &encoder, const at::Tensor &input, int runs)
{
    // The best run's stages (least disturbed by other load).
    std::vector<SelfSupervisedEncoder::StageSeconds> best;
    double bestTotal = 1e30;
    for (int i = 0; i < runs; ++i) {
        std::vector<SelfSupervisedEncoder::StageSeconds> stages;
        HiddenStates states;
        const ModelStatus status = encoder.encodeProfiled(input, {}, states, stages);
        if (!status) {
            std::fprintf(stderr, "%s\n", status.error().c_str());
            std::exit(1);
        }
        double total = 0.0;
        for (const auto &stage : stages)
            total += stage.seconds;
        if (total < bestTotal) {
            bestTotal = total;
            best = stages;
        }
    }
    std::printf("\nprofile, %lld x %.0f s (best of %d):\n", static_cast<long long>(input.size(0)),
                kClipSeconds, runs);
    std::printf("  %-24s %8s %6s %8s %8s\n", "stage", "seconds", "share", "GFLOP", "GFLOP/s");
    for (const auto &stage : best) {
        std::printf("  %-24s %8.4f %5.1f%%", stage.stage.c_str(), stage.seconds,
                    100.0 * stage.seconds / bestTotal);
        if (stage.flops > 0)
            std::printf(" %8.2f %8.1f", stage.flops / 1e9, stage.flops / 1e9 / stage.seconds);
        std::printf("\n");
    }
    std::printf("  %-24s %8.4f\n", "total", bestTotal);
}

} // namespace

int main(int argc, char **argv)
{
    // As the shipped programs do: OpenBLAS's kernels for this CPU (may restart the benchmark).
    emolens::useFastBlasKernels(argv);
    std::vector<std::string> positional;
    bool profile = false;
    bool reference = true;
    int runs = 3;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--profile")
            profile = true;
        else if (arg == "--no-reference")
            reference = false;
        else if (arg == "--runs" && i + 1 < argc)
            runs = std::max(1, std::atoi(argv[++i]));
        else
            positional.push_back(arg);
    }
    const std::string deviceName = positional.size() > 0 ? positional[0] : "cpu";
    const int threads = positional.size() > 1 ? std::atoi(positional[1].c_str()) : 2;
    const fs::path folder = fs::temp_directory_path() / "emolens-bench-hubert-base";
    if (!bench::writeRandomHubertBase(folder))
        return 1;

    EncoderOptions options;
    options.device = c10::Device(deviceName);
    options.threadCount = threads;
    std::unique_ptr<SpeechEncoder> encoder;
    const ModelStatus status = SpeechEncoder::loadFolder(folder.string(), options, encoder);
    fs::remove_all(folder);
    if (!status) {
        std::fprintf(stderr, "%s\n", status.error().c_str());
        return 1;
    }

    std::printf("machine: %s, %u hardware threads; LibTorch %s; device %s; %d threads "
                "(%d inter-op); oneDNN %s; OpenBLAS kernels %s\n",
                cpuModel().c_str(), std::thread::hardware_concurrency(), TORCH_VERSION,
                deviceName.c_str(), at::get_num_threads(), int(at::get_num_interop_threads()),
                at::hasMKLDNN() && at::globalContext().userEnabledMkldnn() ? "on" : "off",
                emolens::blasCoreName().empty() ? "(not OpenBLAS)"
                                                : emolens::blasCoreName().c_str());
    const auto samples = static_cast<std::int64_t>(kClipSeconds * kSampleRate);
    const at::Tensor one = at::randn({1, samples}) * 0.1;
    const at::Tensor eight = at::randn({kBatchClips, samples}) * 0.1;
    Timing single, batch;
    timeOnce(*encoder, one, single); // warm-up: allocator, thread pool, kernels
    timeOnce(*encoder, eight, batch);
    single = batch = Timing();
    for (int i = 0; i < runs; ++i) {
        timeOnce(*encoder, one, single);
        timeOnce(*encoder, eight, batch);
    }
    std::printf("emolens: 1 clip %.3f s (%ld page faults), %d clips %.3f s (%ld page faults), "
                "best of %d\n",
                single.bestSeconds, single.faults, kBatchClips, batch.bestSeconds, batch.faults,
                runs);
    std::fflush(stdout);

    if (profile) {
        const auto *selfSupervised = dynamic_cast<const SelfSupervisedEncoder *>(encoder.get());
        if (selfSupervised != nullptr) {
            printProfile(*selfSupervised, one, runs);
            printProfile(*selfSupervised, eight, runs);
        }
        if (!options.device.is_cuda()) {
            std::printf("\nplain at::mm in this run (GFLOP/s): 499x768x768 %.1f, "
                        "499x768x3072 %.1f, 499x3072x768 %.1f, 16000x1536x512 %.1f\n",
                        gemmGflops(499, 768, 768), gemmGflops(499, 768, 3072),
                        gemmGflops(499, 3072, 768), gemmGflops(16000, 1536, 512));
        }
        std::fflush(stdout);
    }

    double referenceSingle = -1.0, referenceBatch = -1.0;
    if (reference)
        runReference(deviceName, threads, runs, referenceSingle, referenceBatch);
    if (reference && referenceSingle < 0)
        std::printf("reference: not run (needs %s with torchaudio: Debian's python3-torchaudio, "
                    "or EMOLENS_REFERENCE_PYTHON)\n",
                    referencePython().c_str());

    std::printf("\n%-10s %-8s %8s %8s %9s %8s %9s\n", "", "input", "s/run", "RTF", "audio-s/s",
                "vs ref", "vs bound");
    printRow("emolens", 1, single.bestSeconds, referenceSingle);
    printRow("emolens", kBatchClips, batch.bestSeconds, referenceBatch);
    if (referenceSingle > 0) {
        printRow("torchaudio", 1, referenceSingle, referenceSingle);
        printRow("torchaudio", kBatchClips, referenceBatch, referenceBatch);
    }
    std::printf("bound: RTF %.2f (%.1f audio-s/s); \"vs bound\" is RTF / bound (1.00x is the "
                "arithmetic limit)\n",
                kBoundRealTimeFactor, 1.0 / kBoundRealTimeFactor);
    return 0;
}
