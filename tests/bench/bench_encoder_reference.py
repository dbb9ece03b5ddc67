#!/usr/bin/python3
"""The reference figures for bench_encoder: torchaudio's hubert_base (random weights) on the
same input shapes and thread count, timed the same way (one warm-up each, then the best of RUNS,
the cases interleaved); bf16 runs a bfloat16 copy of the model on bfloat16 input, as ours casts
its weights (torch 1.13's CPU autocast fails in hubert_base's group norm). Run by bench_encoder, which reads the
"reference-seconds PRECISION CASE SECONDS" lines; usage:
    /usr/bin/python3 bench_encoder_reference.py DEVICE THREADS RUNS fp32,bf16 1x10 8x10 1x30
    /usr/bin/python3 bench_encoder_reference.py --memory DEVICE THREADS PRECISION SECONDS
(the second loads the model, encodes one clip of SECONDS, 0 for none, and exits: the caller
reads its peak resident memory)."""

import sys
import time

import torch
import torchaudio

SAMPLE_RATE = 16000


def build(precision):
    torch.manual_seed(0)  # the same random weights for each precision
    model = torchaudio.models.hubert_base().eval()
    return model.to(torch.bfloat16) if precision == "bf16" else model


def seconds_once(model, waveforms, device):
    start = time.perf_counter()
    model.extract_features(waveforms)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def memory_main(args):
    device = torch.device(args[0])
    torch.set_num_threads(int(args[1]))
    precision, seconds = args[2], float(args[3])
    model = build(precision).to(device)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    if seconds > 0:
        clip = (torch.randn(1, int(seconds * SAMPLE_RATE)) * 0.1).to(device, dtype)
        with torch.inference_mode():
            model.extract_features(clip)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--memory":
        memory_main(sys.argv[2:])
        return
    device = torch.device(sys.argv[1] if len(sys.argv) > 1 else "cpu")
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    precisions = (sys.argv[4] if len(sys.argv) > 4 else "fp32").split(",")
    cases = sys.argv[5:] or ["1x10", "8x10"]
    torch.set_num_threads(threads)
    models = {p: build(p).to(device) for p in precisions}
    inputs = {}
    for case in cases:
        clips, seconds = case.split("x")
        inputs[case] = torch.randn(int(clips), int(float(seconds) * SAMPLE_RATE)) * 0.1
    inputs = {(p, c): inputs[c].to(device, torch.bfloat16 if p == "bf16" else torch.float32)
              for p in precisions for c in cases}
    best = {}
    with torch.inference_mode():
        for run in range(-1, runs):
            for precision in precisions:
                for case in cases:
                    seconds = seconds_once(models[precision], inputs[(precision, case)], device)
                    key = (precision, case)
                    if run >= 0:
                        best[key] = min(best.get(key, float("inf")), seconds)
    print(f"torchaudio {torchaudio.__version__} (torch {torch.__version__}), "
          f"{torch.get_num_threads()} threads, best of {runs}: " +
          ", ".join(f"{p} {c} s {s:.3f} s" for (p, c), s in best.items()))
    for (precision, case), seconds in best.items():
        print(f"reference-seconds {precision} {case} {seconds:.6f}")


if __name__ == "__main__":
    main()
