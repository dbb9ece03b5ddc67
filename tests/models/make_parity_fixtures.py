#!/usr/bin/python3
"""Writes the encoder parity fixtures in tests/models/fixtures/.

Each fixture is a tiny speech encoder built with torchaudio's reference implementation
(Debian's python3-torchaudio 0.13, with python3-torch 1.13), given random weights at a fixed
seed, and saved as a Hugging Face model folder: config.json + model.safetensors with Hugging
Face parameter names. Next to it, reference.safetensors holds every hidden state torchaudio
computes for a short real utterance (fixtures/utterance.safetensors: espeak-ng + sox, 16 kHz,
one second) and for its first SHORT_SAMPLES samples alone (the padded-batch case), so the C++
encoder can be checked layer by layer without Python in CI.

Run it with Debian's interpreter (a pyenv or venv python does not see python3-torch):
    /usr/bin/python3 tests/models/make_parity_fixtures.py
The fixtures are committed; CI never runs this script.

Hidden-state mapping (Hugging Face's output_hidden_states, which the C++ encoder follows):
  hidden_states[0]  = the Transformer's input after the positional convolution:
                      post-LN models: layer_norm(x + pos_conv(x)); pre-LN: x + pos_conv(x),
                      where x = feature_projection(conv features). In torchaudio this is
                      encoder.transformer._preprocess(x) (torchaudio's Transformer calls the
                      post-LN case "layer_norm_first", inverted from the encoder's flag).
  hidden_states[i]  = output of Transformer layer i (torchaudio's get_intermediate_outputs),
                      except that for pre-LN models the last one also has the encoder's final
                      layer_norm applied, as Hugging Face does (torchaudio applies it only in
                      forward(); the script checks that the two agree).
"""

import json
import os
import struct
import subprocess
import tempfile

import torch
import torchaudio

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
SAMPLE_RATE = 16000
SHORT_SAMPLES = 11000  # the padded-batch case: a prefix whose length is not a frame multiple

# The real 7-layer convolutional extractor of the base/large models, with few channels.
CONV_DIM = [32] * 7
CONV_KERNEL = [10, 3, 3, 3, 3, 2, 2]
CONV_STRIDE = [5, 2, 2, 2, 2, 2, 2]
HIDDEN = 32
LAYERS = 2
HEADS = 2
INTERMEDIATE = 64
POS_KERNEL = 16
POS_GROUPS = 4

FIXTURE_SPECS = [
    # name, model_type, group-norm extractor, pre-LN, conv bias, name prefix, weight-norm spelling
    ("wav2vec2-tiny-base", "wav2vec2", True, False, False, "wav2vec2.", "weight_g"),
    ("wav2vec2-tiny-large", "wav2vec2", False, True, True, "", "parametrizations"),
    ("hubert-tiny-base", "hubert", True, False, False, "", "weight_g"),
]

DTYPE_NAMES = {torch.float32: "F32", torch.float16: "F16", torch.int64: "I64"}


def write_safetensors(path, tensors, metadata=None):
    """The safetensors format by hand (Debian has no python3-safetensors): an 8-byte
    little-endian header length, a JSON header padded with spaces to 8 bytes, then the raw
    little-endian tensor bytes back to back in header order."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[name] = {
            "dtype": DTYPE_NAMES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def make_utterance():
    """About one second of real speech: espeak-ng's voice, resampled to 16 kHz mono by sox."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "speech.wav")
        out = os.path.join(tmp, "speech16k.wav")
        subprocess.run(["espeak-ng", "-v", "en", "-s", "170", "-w", raw, "Happy to see you"],
                       check=True)
        subprocess.run(["sox", raw, "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", out,
                        "trim", "0", "1.0"], check=True)
        waveform, rate = torchaudio.load(out)
    assert rate == SAMPLE_RATE and waveform.shape[0] == 1
    return waveform.to(torch.float32)


def randomise(model, generator):
    """Random weights everywhere, norms included, so every parameter is exercised."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layer_norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=generator))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=generator))
            elif name.endswith("weight_g"):
                p.mul_(1.0 + 0.1 * torch.randn(p.shape, generator=generator))
            else:
                fan_in = max(1, p[0].numel()) if p.dim() > 1 else 1
                p.copy_(torch.randn(p.shape, generator=generator) / fan_in ** 0.5)


def huggingface_name(name, prefix, weight_norm):
    if name.startswith("encoder.transformer."):
        name = "encoder." + name[len("encoder.transformer."):]
    elif name.startswith("encoder.feature_projection."):
        name = name[len("encoder."):]
    if weight_norm == "parametrizations":
        name = name.replace("conv.weight_g", "conv.parametrizations.weight.original0")
        name = name.replace("conv.weight_v", "conv.parametrizations.weight.original1")
    return prefix + name


def hidden_states(model, waveform, pre_ln):
    with torch.no_grad():
        features, _ = model.feature_extractor(waveform, None)
        x, _ = model.encoder._preprocess(features, None)
        transformer = model.encoder.transformer
        states = [transformer._preprocess(x)]
        states += transformer.get_intermediate_outputs(x)
        if pre_ln:
            states[-1] = transformer.layer_norm(states[-1])
        full, _ = model(waveform)
        assert torch.allclose(full, states[-1], atol=1e-6), "last hidden state mapping is off"
        return torch.stack(states)


def config_json(model_type, group_norm, pre_ln, conv_bias):
    config = {
        "model_type": model_type,
        "architectures": ["HubertModel" if model_type == "hubert" else "Wav2Vec2ForPreTraining"],
        "conv_dim": CONV_DIM,
        "conv_kernel": CONV_KERNEL,
        "conv_stride": CONV_STRIDE,
        "conv_bias": conv_bias,
        "feat_extract_norm": "group" if group_norm else "layer",
        "feat_extract_activation": "gelu",
        "do_stable_layer_norm": pre_ln,
        "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "intermediate_size": INTERMEDIATE,
        "hidden_act": "gelu",
        "num_conv_pos_embeddings": POS_KERNEL,
        "num_conv_pos_embedding_groups": POS_GROUPS,
        "layer_norm_eps": 1e-05,
        "hidden_dropout": 0.1,
        "attention_dropout": 0.1,
        "torch_dtype": "float32",
    }
    if model_type == "hubert":
        config["feat_proj_layer_norm"] = True
    return config


def main():
    torch.manual_seed(20240601)
    waveform = make_utterance()
    short = waveform[:, :SHORT_SAMPLES].clone()
    # One utterance for every fixture; "hidden_states_short" is for its first SHORT_SAMPLES.
    os.makedirs(FIXTURES, exist_ok=True)
    write_safetensors(os.path.join(FIXTURES, "utterance.safetensors"), {"waveform": waveform},
                      {"text": "Happy to see you", "sample_rate": str(SAMPLE_RATE),
                       "short_samples": str(SHORT_SAMPLES)})
    for index, (name, model_type, group_norm, pre_ln, conv_bias, prefix, weight_norm) in \
            enumerate(FIXTURE_SPECS):
        generator = torch.Generator().manual_seed(1000 + index)
        model = torchaudio.models.wav2vec2_model(
            extractor_mode="group_norm" if group_norm else "layer_norm",
            extractor_conv_layer_config=list(zip(CONV_DIM, CONV_KERNEL, CONV_STRIDE)),
            extractor_conv_bias=conv_bias,
            encoder_embed_dim=HIDDEN,
            encoder_projection_dropout=0.0,
            encoder_pos_conv_kernel=POS_KERNEL,
            encoder_pos_conv_groups=POS_GROUPS,
            encoder_num_layers=LAYERS,
            encoder_num_heads=HEADS,
            encoder_attention_dropout=0.0,
            encoder_ff_interm_features=INTERMEDIATE,
            encoder_ff_interm_dropout=0.0,
            encoder_dropout=0.0,
            encoder_layer_norm_first=pre_ln,
            encoder_layer_drop=0.0,
            aux_num_out=None,
        )
        randomise(model, generator)
        model.eval()

        folder = os.path.join(FIXTURES, name)
        os.makedirs(folder, exist_ok=True)
        weights = {huggingface_name(k, prefix, weight_norm): v
                   for k, v in model.state_dict().items()}
        if prefix:
            # What a pre-training checkpoint also carries; the encoder must ignore them.
            weights["quantizer.codevectors"] = torch.randn(1, 8, 4, generator=generator)
            weights["project_q.weight"] = torch.randn(4, 4, generator=generator)
            weights[prefix + "masked_spec_embed"] = torch.randn(HIDDEN, generator=generator)
        write_safetensors(os.path.join(folder, "model.safetensors"), weights,
                          {"format": "pt"})
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config_json(model_type, group_norm, pre_ln, conv_bias), f, indent=2)
            f.write("\n")

        reference = {
            "hidden_states": hidden_states(model, waveform, pre_ln),
            "hidden_states_short": hidden_states(model, short, pre_ln),
        }
        write_safetensors(os.path.join(folder, "reference.safetensors"), reference,
                          {"torchaudio": torchaudio.__version__, "torch": torch.__version__,
                           "short_samples": str(SHORT_SAMPLES)})
        print(name, "hidden states", tuple(reference["hidden_states"].shape),
              "short", tuple(reference["hidden_states_short"].shape))


if __name__ == "__main__":
    main()
