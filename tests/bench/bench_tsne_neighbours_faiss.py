#!/usr/bin/python3
"""The faiss figures beside bench_tsne's neighbour search: Debian's faiss (python3-faiss, over
libfaiss) finding each row's 91 nearest rows (itself and its 90 neighbours, what the map's
perplexity 30 needs) among N rows of 50 dimensions - the rows the map searches after PCA -
drawn as bench_tsne's blobs are (20 centres of spread 3 per dimension, unit noise), exactly
(IndexFlatL2) and approximately (HNSW, M 32, efSearch 128, with its recall against the exact
search on a sample of rows). Compare with bench_tsne's "neighbours" figure at the same N; usage:
    /usr/bin/python3 bench_tsne_neighbours_faiss.py [THREADS] [N ...]"""

import sys
import time

import faiss
import numpy as np

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
sizes = [int(a) for a in sys.argv[2:]] or [10000, 100000]
faiss.omp_set_num_threads(threads)
dims, k = 50, 91
for n in sizes:
    rng = np.random.default_rng(1)
    centres = rng.normal(0, 3, (20, dims)).astype(np.float32)
    rows = (centres[np.arange(n) % 20] + rng.normal(0, 1, (n, dims))).astype(np.float32)
    start = time.time()
    flat = faiss.IndexFlatL2(dims)
    flat.add(rows)
    _, exact = flat.search(rows, k)
    flat_seconds = time.time() - start
    start = time.time()
    hnsw = faiss.IndexHNSWFlat(dims, 32)
    hnsw.hnsw.efConstruction = 100
    hnsw.add(rows)
    hnsw.hnsw.efSearch = 128
    _, approximate = hnsw.search(rows, k)
    hnsw_seconds = time.time() - start
    sample = range(0, n, max(1, n // 2000))
    recall = np.mean([len(set(exact[i]) & set(approximate[i])) / k for i in sample])
    print(f"faiss {faiss.__version__}, {threads} threads, {n} x {dims}, {k} nearest: exact "
          f"(IndexFlatL2) {flat_seconds:.2f} s; HNSW (M 32, efSearch 128) {hnsw_seconds:.2f} s, "
          f"recall {recall:.3f}")
