#!/usr/bin/python3
"""bench_features_cli.py EMOLENS_CLI MODEL_DIR [--seconds S] [--runs N] [--precision P]:
one audio file through `emolens-cli features` end to end (a process that starts, loads the model
folder, decodes the file, encodes it and writes every hidden layer to a safetensors file), next
to the reference doing the same in the same run: a Python process that loads the same folder's
model.safetensors into torchaudio's hubert_base (Hugging Face names mapped to torchaudio's),
decodes the same file with torchaudio, runs extract_features and writes the same tensor.
MODEL_DIR is a HuBERT-base-shaped Hugging Face folder (bench_extract leaves a random one in
/tmp/emolens-bench-extract/hubert-base-random). The audio is real speech from espeak-ng, made
S seconds long (default 30) with sox. Best of N runs (default 3) of each, interleaved; the
reference runs with as many threads as this machine has cores, as emolens-cli does."""

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

REFERENCE = r'''
import json, struct, sys, time
import numpy as np
import torch, torchaudio
start = time.perf_counter()
wav, model_dir, out, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
torch.set_num_threads(threads)
with open(model_dir + "/model.safetensors", "rb") as f:
    size = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(size))
    data = f.read()
state = {}
for name, info in header.items():
    if name == "__metadata__":
        continue
    begin, end = info["data_offsets"]
    array = np.frombuffer(data, dtype=np.float32, count=(end - begin) // 4, offset=begin)
    tensor = torch.from_numpy(array.copy()).reshape(info["shape"])
    if name.startswith("feature_projection."):
        name = "encoder." + name
    elif name.startswith("encoder."):
        name = "encoder.transformer." + name[len("encoder."):]
    state[name] = tensor
model = torchaudio.models.hubert_base().eval()
model.load_state_dict(state, strict=True)
waveform, rate = torchaudio.load(wav)
waveform = waveform.mean(0, keepdim=True)
if rate != 16000:
    waveform = torchaudio.functional.resample(waveform, rate, 16000)
with torch.inference_mode():  # every hidden state, each computed once
    features, _ = model.feature_extractor(waveform, None)
    x, _ = model.encoder._preprocess(features, None)
    x = model.encoder.transformer._preprocess(x)
    states = [x]
    for layer in model.encoder.transformer.layers:
        x = layer(x)  # torchaudio 0.13: the layer returns its output alone
        states.append(x)
    hidden = torch.stack(states).squeeze(1).contiguous()
blob = hidden.numpy().tobytes()
text = json.dumps({"hidden_states": {"dtype": "F32", "shape": list(hidden.shape),
                                     "data_offsets": [0, len(blob)]}}).encode()
text += b" " * ((8 - len(text) % 8) % 8)
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + blob)
print(f"reference: {hidden.shape[0]} layers x {hidden.shape[1]} frames in "
      f"{time.perf_counter() - start:.2f} s inside Python", file=sys.stderr)
'''


def make_speech(path, seconds):
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "speech.wav")
        text = ("The quick brown fox jumps over the lazy dog while the annotators label "
                "every clip of the corpus. ") * 8
        subprocess.run(["espeak-ng", "-v", "en", "-s", "150", "-w", raw, text], check=True)
        subprocess.run(["sox", raw, "-r", "16000", "-c", "1", "-b", "16", path, "repeat", "20",
                        "trim", "0", str(seconds)], check=True)


def read_hidden(path):
    import numpy as np
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    info = header["hidden_states"]
    begin, end = info["data_offsets"]
    return np.frombuffer(data[begin:end], dtype=np.float32).reshape(info["shape"])


def timed(command):
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{command[0]} failed:\n{result.stdout}{result.stderr}")
    return seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("cli")
    parser.add_argument("model")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--precision", default="fp32")
    args = parser.parse_args()
    threads = os.cpu_count()
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "speech.wav")
        make_speech(wav, args.seconds)
        ours_out = os.path.join(tmp, "ours.safetensors")
        reference_out = os.path.join(tmp, "reference.safetensors")
        script = os.path.join(tmp, "reference.py")
        with open(script, "w") as f:
            f.write(REFERENCE)
        ours_command = [args.cli, "features", "--encoder", args.model, "--in", wav,
                        "--out", ours_out, "--device", "cpu", "--precision", args.precision]
        reference_command = [sys.executable, script, wav, args.model, reference_out,
                             str(threads)]
        ours = reference = float("inf")
        for _ in range(args.runs):
            ours = min(ours, timed(ours_command))
            reference = min(reference, timed(reference_command))
        a, b = read_hidden(ours_out), read_hidden(reference_out)
        import numpy as np
        deviation = float(np.abs(a - b).max()) if a.shape == b.shape else float("nan")
        magnitude = float(np.abs(b).max())
    print(f"bench_features_cli: one {args.seconds:.0f} s clip of speech, end to end, "
          f"{threads} threads, best of {args.runs}")
    print(f"  emolens-cli features ({args.precision}) {ours:8.2f} s  "
          f"(RTF {ours / args.seconds:.3f})")
    print(f"  torchaudio hubert_base  {reference:8.2f} s  (RTF {reference / args.seconds:.3f})")
    print(f"  speedup {reference / ours:.2f}x; same shape {a.shape == b.shape} {list(a.shape)}; "
          f"max abs difference {deviation:.2e} (reference magnitude {magnitude:.2f})")


if __name__ == "__main__":
    main()
