#pragma once
// Model folders with the real shapes and random weights, for benchmarks: speed and memory
// depend on the shapes, not on the values. No Qt, so the models-only build can use it too.

#include "SafeTensorsWriter.h"

#include <ATen/ATen.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace emolens::bench {

// HuBERT-base (768 wide, 12 layers, 7-layer 512-channel extractor) under Hugging Face names:
// config.json + model.safetensors (about 380 MB) in `folder`.
inline bool writeRandomHubertBase(const std::filesystem::path &folder)
{
    std::filesystem::create_directories(folder);
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

} // namespace emolens::bench
