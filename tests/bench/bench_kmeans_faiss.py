#!/usr/bin/python3
"""The faiss figures for bench_kmeans: Debian's faiss (python3-faiss, over libfaiss) k-means on
the same float32 rows, with the same thread count and iterations, once per seed. faiss seeds
with random rows (it has no k-means++) and by default trains on a sample of 256 rows per
centre; here it trains on every row (max_points_per_centroid raised), as ours and
scikit-learn's do, and runs exactly ITERATIONS Lloyd passes. The inertia is that of the final
centres over every row, as bench_kmeans computes its own. Run by bench_kmeans, which reads the
"faiss SEED SECONDS INERTIA ITERATIONS" lines; usage:
    /usr/bin/python3 bench_kmeans_faiss.py ROWS.f32 ROWS DIMS CLUSTERS ITERATIONS THREADS SEEDS"""

import sys
import time


def main():
    path, rows, dims, clusters, iterations, threads, seeds = sys.argv[1:8]
    import faiss
    import numpy as np

    faiss.omp_set_num_threads(int(threads))
    x = np.fromfile(path, dtype=np.float32).reshape(int(rows), int(dims))
    print(f"faiss {faiss.__version__}")
    for seed in range(1, int(seeds) + 1):
        kmeans = faiss.Kmeans(int(dims), int(clusters), niter=int(iterations), seed=seed,
                              max_points_per_centroid=int(rows), verbose=False)
        start = time.perf_counter()
        kmeans.train(x)
        seconds = time.perf_counter() - start
        distances, _ = kmeans.index.search(x, 1)
        inertia = float(distances.astype(np.float64).sum())
        print(f"faiss {seed} {seconds:.3f} {inertia:.6e} {int(iterations)}", flush=True)


if __name__ == "__main__":
    main()
