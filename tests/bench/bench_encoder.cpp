// bench_encoder [cpu|cuda] [THREADS] [--runs N] [--precision fp32|bf16|both] [--profile]
//               [--memory] [--no-reference]: how fast the self-supervised encoder runs at
// HuBERT-base size, next to torchaudio's hubert_base on the same machine in the same run.
// Writes a HuBERT-base-shaped model (768 wide, 12 layers, 7-layer 512-channel extractor) with
// random weights to a temporary folder, loads it like any Hugging Face folder (once per
// precision), and times 10 s of audio as one clip and as a batch of 8, and one 30 s clip (on
// CUDA also a batch of 64 x 10 s) with THREADS (default 2) CPU threads: one warm-up, then the
// best of N runs (default 3), the cases interleaved so a burst of load elsewhere hits all
// alike. bench_encoder_reference.py times torchaudio the same way (bf16: under autocast), and
// one table gives seconds per run, the real-time factor (compute seconds per audio second),
// audio seconds per second, the speedup over torchaudio, the 30 s clip's time per audio second
// over the 10 s clip's, and the ratio to the bound that arithmetic alone sets (about 15 GFLOP
// per audio second at the FP32 FMA peak of the cores used). With bf16, the features' deviation
// from fp32 per layer (relative RMS and max over the layer's max) on one 10 s clip.
// --memory: the peak resident memory of a process that loads the encoder and encodes one clip
// of 0 (load only), 10, 30, 60 and 300 s, ours and torchaudio's (one child process each).
// --profile adds where the time goes, stage by stage, with GFLOP/s, next to a plain at::mm of
// the same shapes measured in the same run; --no-reference skips torchaudio.

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
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace emolens;
namespace fs = std::filesystem;

namespace {

constexpr int kSampleRate = 16000;
// HuBERT-base's arithmetic per audio second (CNN ~4.9, Transformer ~9.5, positional conv
// ~0.5 GFLOP) over the FP32 FMA peak of two Zen / Skylake-class cores at AVX2 width
// (2 cores x 2 FMA x 8 lanes x 2 FLOP x ~2.9 GHz ~ 185 GFLOP/s): no implementation that
// does the model's arithmetic in FP32 gets below this real-time factor on such a machine.
constexpr double kBoundRealTimeFactor = 0.08;

struct Case
{
    int clips = 1;
    double seconds = 10.0;
    std::string key() const
    {
        char text[32];
        std::snprintf(text, sizeof text, "%dx%.0f", clips, seconds);
        return text;
    }
};

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

HiddenStates encodeOrExit(const SpeechEncoder &encoder, const at::Tensor &input)
{
    HiddenStates states;
    const ModelStatus status = encoder.encode(input, {}, states);
    if (!status) {
        std::fprintf(stderr, "%s\n", status.error().c_str());
        std::exit(1);
    }
    return states;
}

void timeOnce(const SpeechEncoder &encoder, const at::Tensor &input, Timing &timing)
{
    const long faultsBefore = minorFaults();
    const auto start = std::chrono::steady_clock::now();
    const HiddenStates states = encodeOrExit(encoder, input);
    if (encoder.device().is_cuda())
        states.layers.sum().item<float>(); // waits for the GPU
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (seconds < timing.bestSeconds) {
        timing.bestSeconds = seconds;
        timing.faults = minorFaults() - faultsBefore;
    }
}

std::string scriptPath()
{
    // Beside this source file (the build passes absolute source paths).
    return (fs::path(__FILE__).parent_path() / "bench_encoder_reference.py").string();
}

// torchaudio's best seconds per case and precision, from the reference script's
// "reference-seconds PRECISION CASE SECONDS" lines; empty when it could not run.
std::map<std::string, double> runReference(const std::string &deviceName, int threads, int runs,
                                           const std::vector<std::string> &precisions,
                                           const std::vector<Case> &cases)
{
    std::map<std::string, double> seconds;
    std::string command = referencePython() + " " + scriptPath() + " " + deviceName + " " +
                          std::to_string(threads) + " " + std::to_string(runs) + " ";
    for (std::size_t i = 0; i < precisions.size(); ++i)
        command += (i ? "," : "") + precisions[i];
    for (const Case &c : cases)
        command += " " + c.key();
    FILE *pipe = popen(command.c_str(), "r");
    if (pipe == nullptr)
        return seconds;
    char line[512];
    while (std::fgets(line, sizeof line, pipe) != nullptr) {
        char precision[16], key[32];
        double value = 0.0;
        if (std::sscanf(line, "reference-seconds %15s %31s %lf", precision, key, &value) == 3)
            seconds[std::string(precision) + " " + key] = value;
        else
            std::fputs(line, stdout);
    }
    pclose(pipe);
    return seconds;
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

void printProfile(const SelfSupervisedEncoder &encoder, const at::Tensor &input, double seconds,
                  int runs)
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
    std::printf("\nprofile, %lld x %.0f s, %s (best of %d):\n",
                static_cast<long long>(input.size(0)), seconds, precisionName(encoder.precision()),
                runs);
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

std::unique_ptr<SpeechEncoder> loadOrExit(const fs::path &folder, const std::string &deviceName,
                                          int threads, EncoderPrecision precision)
{
    EncoderOptions options;
    options.device = c10::Device(deviceName);
    options.threadCount = threads;
    options.precision = precision;
    std::unique_ptr<SpeechEncoder> encoder;
    const ModelStatus status = SpeechEncoder::loadFolder(folder.string(), options, encoder);
    if (!status) {
        std::fprintf(stderr, "%s\n", status.error().c_str());
        std::exit(1);
    }
    return encoder;
}

// --memory-child FOLDER DEVICE THREADS PRECISION SECONDS: load, encode one clip of SECONDS
// (none for 0), exit; the parent reads this process's peak RSS.
int memoryChild(char **argv)
{
    const auto encoder = loadOrExit(argv[2], argv[3], std::atoi(argv[4]),
                                    std::string(argv[5]) == "bf16" ? EncoderPrecision::BFloat16
                                                                   : EncoderPrecision::Float32);
    const double seconds = std::atof(argv[6]);
    if (seconds > 0) {
        const auto samples = static_cast<std::int64_t>(seconds * kSampleRate);
        encodeOrExit(*encoder, at::randn({1, samples}) * 0.1);
    }
    return 0;
}

// Runs COMMAND... as a child and returns its peak resident memory in MB (negative on failure).
double childPeakMegabytes(const std::vector<std::string> &command)
{
    const pid_t pid = fork();
    if (pid == 0) {
        std::vector<char *> args;
        for (const std::string &arg : command)
            args.push_back(const_cast<char *>(arg.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    if (pid < 0)
        return -1.0;
    int status = 0;
    rusage usage{};
    if (wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1.0;
    return usage.ru_maxrss / 1024.0;
}

void printMemory(const fs::path &folder, const std::string &deviceName, int threads,
                 const std::vector<std::string> &precisions, bool reference)
{
    const std::string self = fs::canonical("/proc/self/exe").string();
    const double lengths[] = {0, 10, 30, 60, 300};
    std::printf("\npeak resident memory (MB) of a process that loads the model and encodes one "
                "clip:\n  %-18s",
                "");
    for (const double seconds : lengths)
        std::printf(" %8s", seconds == 0 ? "load" : (std::to_string(int(seconds)) + " s").c_str());
    std::printf("\n");
    for (const std::string &precision : precisions) {
        for (const bool ours : {true, false}) {
            if (!ours && !reference)
                continue;
            std::printf("  %-18s", ((ours ? "emolens " : "torchaudio ") + precision).c_str());
            for (const double seconds : lengths) {
                const std::string length = std::to_string(seconds);
                const double peak =
                    ours ? childPeakMegabytes({self, "--memory-child", folder.string(), deviceName,
                                               std::to_string(threads), precision, length})
                         : childPeakMegabytes({referencePython(), scriptPath(), "--memory",
                                               deviceName, std::to_string(threads), precision,
                                               length});
                if (peak < 0)
                    std::printf(" %8s", "failed");
                else
                    std::printf(" %8.0f", peak);
                std::fflush(stdout);
            }
            std::printf("\n");
        }
    }
}

// `rough` against `exact` on the same clip, per layer: relative RMS error and max abs error
// over the layer's max magnitude.
void printDeviation(const char *title, const SpeechEncoder &exactEncoder,
                    const SpeechEncoder &roughEncoder, const at::Tensor &clip)
{
    const at::Tensor exact = encodeOrExit(exactEncoder, clip).layers.cpu();
    const at::Tensor rough = encodeOrExit(roughEncoder, clip).layers.cpu();
    std::printf("\n%s, one 10 s clip, per layer (0 = Transformer input):\n", title);
    std::printf("  %-12s", "layer");
    for (std::int64_t layer = 0; layer < exact.size(0); ++layer)
        std::printf(" %6lld", static_cast<long long>(layer));
    std::printf("\n  %-12s", "rel. RMS");
    for (std::int64_t layer = 0; layer < exact.size(0); ++layer)
        std::printf(" %6.4f",
                    ((rough[layer] - exact[layer]).norm() / exact[layer].norm()).item<double>());
    std::printf("\n  %-12s", "max/max");
    for (std::int64_t layer = 0; layer < exact.size(0); ++layer)
        std::printf(
            " %6.4f",
            ((rough[layer] - exact[layer]).abs().max() / exact[layer].abs().max()).item<double>());
    std::printf("\n");
}

} // namespace

int main(int argc, char **argv)
{
    if (argc == 7 && std::string(argv[1]) == "--memory-child")
        return memoryChild(argv);
    // As the shipped programs do: OpenBLAS's kernels for this CPU (may restart the benchmark).
    emolens::useFastBlasKernels(argv);
    std::vector<std::string> positional;
    bool profile = false;
    bool reference = true;
    bool memory = false;
    std::string precisionChoice = "both";
    int runs = 3;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--profile")
            profile = true;
        else if (arg == "--no-reference")
            reference = false;
        else if (arg == "--memory")
            memory = true;
        else if (arg == "--runs" && i + 1 < argc)
            runs = std::max(1, std::atoi(argv[++i]));
        else if (arg == "--precision" && i + 1 < argc)
            precisionChoice = argv[++i];
        else
            positional.push_back(arg);
    }
    std::vector<std::string> precisions;
    if (precisionChoice == "both")
        precisions = {"fp32", "bf16"};
    else if (precisionChoice == "fp32" || precisionChoice == "bf16")
        precisions = {precisionChoice};
    else {
        std::fprintf(stderr, "--precision takes fp32, bf16 or both, not %s\n",
                     precisionChoice.c_str());
        return 2;
    }
    const std::string deviceName = positional.size() > 0 ? positional[0] : "cpu";
    const int threads = positional.size() > 1 ? std::atoi(positional[1].c_str()) : 2;
    const bool cuda = c10::Device(deviceName).is_cuda();
    const fs::path folder =
        fs::temp_directory_path() / ("emolens-bench-hubert-base-" + std::to_string(getpid()));
    if (!bench::writeRandomHubertBase(folder))
        return 1;

    std::vector<Case> cases = {{1, 10.0}, {8, 10.0}, {1, 30.0}};
    if (cuda)
        cases.push_back({64, 10.0});
    std::map<std::string, std::unique_ptr<SpeechEncoder>> encoders;
    for (const std::string &precision : precisions)
        encoders[precision] = loadOrExit(folder, deviceName, threads,
                                         precision == "bf16" ? EncoderPrecision::BFloat16
                                                             : EncoderPrecision::Float32);

    std::printf("machine: %s, %u hardware threads; LibTorch %s; device %s; %d threads "
                "(%d inter-op); oneDNN %s; OpenBLAS kernels %s\n",
                cpuModel().c_str(), std::thread::hardware_concurrency(), TORCH_VERSION,
                deviceName.c_str(), at::get_num_threads(), int(at::get_num_interop_threads()),
                at::hasMKLDNN() && at::globalContext().userEnabledMkldnn() ? "on" : "off",
                emolens::blasCoreName().empty() ? "(not OpenBLAS)"
                                                : emolens::blasCoreName().c_str());
    std::vector<at::Tensor> inputs;
    for (const Case &c : cases)
        inputs.push_back(at::randn({c.clips, static_cast<std::int64_t>(c.seconds * kSampleRate)}) *
                         0.1);
    std::map<std::string, Timing> timings;  // "PRECISION CASE"
    for (int run = -1; run < runs; ++run) { // run -1: warm-up (allocator, pools, kernels)
        for (const std::string &precision : precisions) {
            for (std::size_t i = 0; i < cases.size(); ++i) {
                Timing &timing = timings[precision + " " + cases[i].key()];
                timeOnce(*encoders[precision], inputs[i], timing);
                if (run < 0)
                    timing = Timing();
            }
        }
    }
    for (const std::string &precision : precisions) {
        std::printf("emolens %s:", precision.c_str());
        for (const Case &c : cases) {
            const Timing &t = timings[precision + " " + c.key()];
            std::printf("  %s s %.3f s (%ld page faults)", c.key().c_str(), t.bestSeconds,
                        t.faults);
        }
        std::printf(", best of %d\n", runs);
    }
    std::fflush(stdout);

    if (encoders.count("fp32") && encoders.count("bf16"))
        printDeviation("bf16 vs fp32 features", *encoders["fp32"], *encoders["bf16"], inputs[0]);
    if (cuda) {
        // The GPU's batched path against the CPU's per-clip path: the same features.
        const auto onCpu = loadOrExit(folder, "cpu", threads, EncoderPrecision::Float32);
        for (const std::string &precision : precisions)
            printDeviation(("cuda " + precision + " vs cpu fp32 features").c_str(), *onCpu,
                           *encoders[precision], inputs[0]);
    }

    if (profile) {
        for (const std::string &precision : precisions) {
            const auto *selfSupervised =
                dynamic_cast<const SelfSupervisedEncoder *>(encoders[precision].get());
            for (std::size_t i = 0; i < cases.size() && selfSupervised != nullptr; ++i)
                printProfile(*selfSupervised, inputs[i], cases[i].seconds, runs);
        }
        if (!cuda) {
            std::printf("\nplain at::mm in this run (GFLOP/s): 499x768x768 %.1f, "
                        "499x768x3072 %.1f, 499x3072x768 %.1f, 16000x1536x512 %.1f\n",
                        gemmGflops(499, 768, 768), gemmGflops(499, 768, 3072),
                        gemmGflops(499, 3072, 768), gemmGflops(16000, 1536, 512));
        }
        std::fflush(stdout);
    }
    encoders.clear(); // the reference gets the memory

    std::map<std::string, double> referenceSeconds;
    if (reference)
        referenceSeconds = runReference(deviceName, threads, runs, precisions, cases);
    if (reference && referenceSeconds.empty())
        std::printf("reference: not run (needs %s with torchaudio: Debian's python3-torchaudio, "
                    "or EMOLENS_REFERENCE_PYTHON)\n",
                    referencePython().c_str());

    std::printf("\n%-16s %-8s %8s %8s %9s %8s %9s %9s\n", "", "input", "s/run", "RTF", "audio-s/s",
                "vs ref", "30s/10s", "vs bound");
    for (const bool ours : {true, false}) {
        for (const std::string &precision : precisions) {
            const auto secondsOf = [&](const Case &c) {
                const std::string key = precision + " " + c.key();
                if (ours)
                    return timings[key].bestSeconds;
                const auto it = referenceSeconds.find(key);
                return it == referenceSeconds.end() ? -1.0 : it->second;
            };
            const double tenSecondRtf = secondsOf(cases[0]) / cases[0].seconds;
            for (const Case &c : cases) {
                const double seconds = secondsOf(c);
                if (seconds <= 0)
                    continue;
                const double audioSeconds = c.clips * c.seconds;
                const double rtf = seconds / audioSeconds;
                std::printf("%-16s %-8s %8.3f %8.4f %9.1f",
                            ((ours ? "emolens " : "torchaudio ") + precision).c_str(),
                            (c.key() + " s").c_str(), seconds, rtf, audioSeconds / seconds);
                const auto ref = referenceSeconds.find(precision + " " + c.key());
                if (ours && ref != referenceSeconds.end())
                    std::printf("  %7.2fx", ref->second / seconds);
                else
                    std::printf("  %8s", "-");
                if (c.clips == 1 && c.seconds > cases[0].seconds && tenSecondRtf > 0)
                    std::printf("  %8.2fx", rtf / tenSecondRtf);
                else
                    std::printf("  %8s", "-");
                std::printf("  %8.2fx\n", rtf / kBoundRealTimeFactor);
            }
        }
    }
    std::printf("bound: RTF %.2f (%.1f audio-s/s; fp32, 2 cores); \"vs bound\" is RTF / bound "
                "(1.00x is the fp32 arithmetic limit of 2 cores); 30s/10s: the 30 s clip's time "
                "per audio second over the 10 s clip's\n",
                kBoundRealTimeFactor, 1.0 / kBoundRealTimeFactor);
    std::fflush(stdout);
    if (memory)
        printMemory(folder, deviceName, threads, precisions, reference);
    fs::remove_all(folder);
    return 0;
}
