#!/usr/bin/python3
"""The reference figures for bench_tsne: scikit-learn's TSNE (Barnes-Hut, angle 0.5, its
defaults for 1.2: perplexity 30, 1,000 iterations, early exaggeration 12, learning rate
"auto", PCA initialisation) on the same float32 rows, with the same thread count. Writes the
layout as float32 [n x 2] to OUT and prints "reference SECONDS PEAK_RSS_MB"; usage:
    /usr/bin/python3 bench_tsne_reference.py ROWS.f32 ROWS DIMS PERPLEXITY THREADS SEED OUT.f32"""

import os
import resource
import sys
import time


def main():
    path, rows, dims, perplexity, threads, seed, out = sys.argv[1:8]
    os.environ["OMP_NUM_THREADS"] = threads
    os.environ["OPENBLAS_NUM_THREADS"] = threads
    import numpy as np
    import sklearn
    from sklearn.manifold import TSNE

    x = np.fromfile(path, dtype=np.float32).reshape(int(rows), int(dims))
    print(f"scikit-learn {sklearn.__version__}", flush=True)
    model = TSNE(n_components=2, perplexity=float(perplexity), learning_rate="auto",
                 init="pca", method="barnes_hut", angle=0.5, n_jobs=int(threads),
                 random_state=int(seed))
    start = time.perf_counter()
    layout = model.fit_transform(x)
    seconds = time.perf_counter() - start
    layout.astype(np.float32).tofile(out)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"reference {seconds:.3f} {peak:.0f}", flush=True)


if __name__ == "__main__":
    main()
