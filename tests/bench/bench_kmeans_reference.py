#!/usr/bin/python3
"""The reference figures for bench_kmeans: scikit-learn's KMeans (Lloyd, greedy k-means++ on
every row, one initialisation, at most ITERATIONS iterations with tol 0, so it stops only when
no row changes its centre) on the same float32 rows, with the same thread count, once per seed.
Run by bench_kmeans, which reads the "reference SEED SECONDS INERTIA ITERATIONS" lines; usage:
    /usr/bin/python3 bench_kmeans_reference.py ROWS.f32 ROWS DIMS CLUSTERS ITERATIONS THREADS SEEDS"""

import os
import sys
import time


def main():
    path, rows, dims, clusters, iterations, threads, seeds = sys.argv[1:8]
    os.environ["OMP_NUM_THREADS"] = threads
    os.environ["OPENBLAS_NUM_THREADS"] = threads
    import numpy as np
    import sklearn
    from sklearn.cluster import KMeans

    x = np.fromfile(path, dtype=np.float32).reshape(int(rows), int(dims))
    print(f"scikit-learn {sklearn.__version__}")
    for seed in range(1, int(seeds) + 1):
        model = KMeans(n_clusters=int(clusters), init="k-means++", n_init=1,
                       max_iter=int(iterations), tol=0.0, algorithm="lloyd", random_state=seed)
        start = time.perf_counter()
        model.fit(x)
        seconds = time.perf_counter() - start
        print(f"reference {seed} {seconds:.3f} {float(model.inertia_):.6e} {model.n_iter_}",
              flush=True)

if __name__ == "__main__":
    main()
