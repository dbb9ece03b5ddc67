#!/usr/bin/python3
"""The reference figures for bench_encoder: torchaudio's hubert_base (random weights) on the
same input shapes (10 s of 16 kHz audio, 1 clip and a batch of 8) and thread count, timed the
same way (one warm-up each, then the best of RUNS, single clip and batch interleaved). Run by
bench_encoder, which reads the "reference-seconds CLIPS SECONDS" lines; usage:
    /usr/bin/python3 bench_encoder_reference.py [cpu|cuda] [THREADS] [RUNS]"""

import sys
import time

import torch
import torchaudio

SAMPLE_RATE = 16000
CLIP_SECONDS = 10.0
BATCH_CLIPS = 8


def seconds_once(model, waveforms, device):
    start = time.perf_counter()
    model.extract_features(waveforms)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main():
    device = torch.device(sys.argv[1] if len(sys.argv) > 1 else "cpu")
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torchaudio.models.hubert_base().eval().to(device)
    samples = int(CLIP_SECONDS * SAMPLE_RATE)
    one = (torch.randn(1, samples) * 0.1).to(device)
    batch = (torch.randn(BATCH_CLIPS, samples) * 0.1).to(device)
    with torch.inference_mode():
        seconds_once(model, one, device)
        seconds_once(model, batch, device)
        single_best = batch_best = float("inf")
        for _ in range(runs):
            single_best = min(single_best, seconds_once(model, one, device))
            batch_best = min(batch_best, seconds_once(model, batch, device))
    print(f"torchaudio {torchaudio.__version__} (torch {torch.__version__}), "
          f"{torch.get_num_threads()} threads: 1 clip {single_best:.3f} s, "
          f"{BATCH_CLIPS} clips {batch_best:.3f} s, best of {runs}")
    print(f"reference-seconds 1 {single_best:.6f}")
    print(f"reference-seconds {BATCH_CLIPS} {batch_best:.6f}")


if __name__ == "__main__":
    main()
