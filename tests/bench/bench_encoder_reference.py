#!/usr/bin/python3
"""The reference figures for bench_encoder: torchaudio's hubert_base (random weights) on the
same input shapes (10 s of 16 kHz audio, 1 clip and a batch of 8) and thread count, timed the
same way (one warm-up, then the mean of 3 and 2 runs). Run by bench_encoder; usage:
    /usr/bin/python3 bench_encoder_reference.py [cpu|cuda] [THREADS]"""

import sys
import time

import torch
import torchaudio

SAMPLE_RATE = 16000
CLIP_SECONDS = 10.0


def seconds_per_run(model, waveforms, runs, device):
    total = 0.0
    for _ in range(runs):
        start = time.perf_counter()
        model.extract_features(waveforms)
        if device.type == "cuda":
            torch.cuda.synchronize()
        total += time.perf_counter() - start
    return total / runs


def main():
    device = torch.device(sys.argv[1] if len(sys.argv) > 1 else "cpu")
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torchaudio.models.hubert_base().eval().to(device)
    samples = int(CLIP_SECONDS * SAMPLE_RATE)
    one = (torch.randn(1, samples) * 0.1).to(device)
    eight = (torch.randn(8, samples) * 0.1).to(device)
    with torch.inference_mode():
        seconds_per_run(model, one, 1, device)
        single = seconds_per_run(model, one, 3, device)
        batch = seconds_per_run(model, eight, 2, device)
    print(f"torchaudio {torchaudio.__version__} (torch {torch.__version__}), "
          f"{torch.get_num_threads()} threads")
    print(f"reference hubert-base 1 x {CLIP_SECONDS:.0f} s: {single:.3f} s/run, "
          f"RTF {single / CLIP_SECONDS:.4f}")
    print(f"reference hubert-base 8 x {CLIP_SECONDS:.0f} s: {batch:.3f} s/run, "
          f"RTF {batch / (8 * CLIP_SECONDS):.4f}")


if __name__ == "__main__":
    main()
