// bench_encoder [cpu|cuda] [THREADS]: how fast the Transformer encoder runs at HuBERT-base size.
// Writes a HuBERT-base-shaped model (768 wide, 12 layers, 7-layer 512-channel extractor) with
// random weights to a temporary folder, loads it like any Hugging Face folder, and times
// 10 s of audio as one clip and as a batch of 8, after a warm-up, with THREADS (default 2)
// CPU threads. Prints the real-time factor (compute seconds per audio second; below 1 is
// faster than real time), then runs bench_encoder_reference.py, which times torchaudio's
// hubert_base on the same shapes and threads, so both figures come from the same machine.

#include "SafeTensorsWriter.h"
#include "SpeechEncoder.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

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

// HuBERT-base's shapes with random weights, under Hugging Face names.
bool writeHubertBase(const fs::path &folder)
{
    fs::create_directories(folder);
    std::ofstream(folder / "config.json") << R"({"model_type": "hubert",
  "conv_dim": [512, 512, 512, 512, 512, 512, 512], "conv_kernel": [10, 3, 3, 3, 3, 2, 2],
  "conv_stride": [5, 2, 2, 2, 2, 2, 2], "conv_bias": false, "feat_extract_norm": "group",
  "do_stable_layer_norm": false, "hidden_size": 768, "num_hidden_layers": 12,
  "num_attention_heads": 12, "intermediate_size": 3072, "hidden_act": "gelu",
  "num_conv_pos_embeddings": 128, "num_conv_pos_embedding_groups": 16, "layer_norm_eps": 1e-5})";
    at::manual_seed(0);
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    const auto add = [&tensors](const std::string &name, std::vector<std::int64_t> shape,
                                bool norm = false) {
        at::Tensor t = norm ? at::ones(shape) : at::randn(shape) * 0.02;
        tensors.emplace_back(name, t.contiguous());
    };
    std::int64_t in = 1;
    const int kernels[] = {10, 3, 3, 3, 3, 2, 2};
    for (int i = 0; i < 7; ++i) {
        add("feature_extractor.conv_layers." + std::to_string(i) + ".conv.weight",
            {512, in, kernels[i]});
        in = 512;
    }
    add("feature_extractor.conv_layers.0.layer_norm.weight", {512}, true);
    add("feature_extractor.conv_layers.0.layer_norm.bias", {512});
    add("feature_projection.layer_norm.weight", {512}, true);
    add("feature_projection.layer_norm.bias", {512});
    add("feature_projection.projection.weight", {768, 512});
    add("feature_projection.projection.bias", {768});
    add("encoder.pos_conv_embed.conv.weight_g", {1, 1, 128}, true);
    add("encoder.pos_conv_embed.conv.weight_v", {768, 48, 128});
    add("encoder.pos_conv_embed.conv.bias", {768});
    add("encoder.layer_norm.weight", {768}, true);
    add("encoder.layer_norm.bias", {768});
    for (int i = 0; i < 12; ++i) {
        const std::string base = "encoder.layers." + std::to_string(i) + ".";
        for (const char *proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
            add(base + "attention." + proj + ".weight", {768, 768});
            add(base + "attention." + proj + ".bias", {768});
        }
        add(base + "layer_norm.weight", {768}, true);
        add(base + "layer_norm.bias", {768});
        add(base + "feed_forward.intermediate_dense.weight", {3072, 768});
        add(base + "feed_forward.intermediate_dense.bias", {3072});
        add(base + "feed_forward.output_dense.weight", {768, 3072});
        add(base + "feed_forward.output_dense.bias", {768});
        add(base + "final_layer_norm.weight", {768}, true);
        add(base + "final_layer_norm.bias", {768});
    }
    SafeTensorsWriter writer;
    for (const auto &[name, t] : tensors) {
        if (!writer.add(name, TensorDtype::F32, t.sizes().vec(), t.data_ptr(),
                        static_cast<std::uint64_t>(t.numel()) * 4))
            return false;
    }
    const ModelStatus status = writer.write((folder / "model.safetensors").string());
    if (!status)
        std::fprintf(stderr, "%s\n", status.error().c_str());
    return status.ok();
}

double secondsPerRun(const SpeechEncoder &encoder, const at::Tensor &input, int runs)
{
    HiddenStates states;
    double total = 0.0;
    for (int i = 0; i < runs; ++i) {
        const auto start = std::chrono::steady_clock::now();
        const ModelStatus status = encoder.encode(input, {}, states);
        if (encoder.device().is_cuda())
            states.layers.sum().item<float>(); // waits for the GPU
        total += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (!status) {
            std::fprintf(stderr, "%s\n", status.error().c_str());
            std::exit(1);
        }
    }
    return total / runs;
}

} // namespace

int main(int argc, char **argv)
{
    const std::string deviceName = argc > 1 ? argv[1] : "cpu";
    const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
    const fs::path folder = fs::temp_directory_path() / "emolens-bench-hubert-base";
    if (!writeHubertBase(folder))
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

    std::printf("machine: %s, %u hardware threads; LibTorch %s; device %s; %d threads\n",
                cpuModel().c_str(), std::thread::hardware_concurrency(), TORCH_VERSION,
                deviceName.c_str(), at::get_num_threads());
    const auto samples = static_cast<std::int64_t>(kClipSeconds * kSampleRate);
    const at::Tensor one = at::randn({1, samples}) * 0.1;
    const at::Tensor eight = at::randn({8, samples}) * 0.1;
    secondsPerRun(*encoder, one, 1); // warm-up: allocator, thread pool, kernels
    const double single = secondsPerRun(*encoder, one, 3);
    const double batch = secondsPerRun(*encoder, eight, 2);
    std::printf("emolens  hubert-base 1 x %.0f s: %.3f s/run, RTF %.4f\n", kClipSeconds, single,
                single / kClipSeconds);
    std::printf("emolens  hubert-base 8 x %.0f s: %.3f s/run, RTF %.4f\n", kClipSeconds, batch,
                batch / (8 * kClipSeconds));
    std::fflush(stdout);

    // The torchaudio reference on the same machine, if Debian's python3-torchaudio is there.
    // Beside this source file (the build passes absolute source paths).
    const std::string script =
        (fs::path(__FILE__).parent_path() / "bench_encoder_reference.py").string();
    const std::string command =
        "/usr/bin/python3 " + script + " " + deviceName + " " + std::to_string(threads);
    if (std::system(command.c_str()) != 0)
        std::printf("reference: not run (needs Debian's python3-torchaudio)\n");
    return 0;
}
