// bench_kmeans [--rows N] [--dims D] [--clusters K] [--iterations I] [--threads T]
//              [--device cpu|cuda] [--chunk ROWS] [--reference on|off] [--seeds S]:
// k-means at the size issue 11 names (200,000 x 768, k = 100, 20 iterations) against
// scikit-learn's KMeans and Debian's faiss (python3-faiss; bench_kmeans_faiss.py) on the same
// rows in the same run.
//
// The rows: K Gaussian blobs in D dimensions (centres of spread 1, unit noise), float32,
// written once to $TMPDIR/emolens-bench-kmeans for the reference to read. Ours: greedy
// k-means++ seeding on a sample, then I Lloyd passes streaming the rows in chunks (on a GPU,
// from device memory once they fit KMeansOptions::deviceResidentBytes), then the inertia of
// the returned centres over every row; also mini-batches for comparison. The reference:
// bench_kmeans_reference.py (scikit-learn, Lloyd, greedy k-means++ on every row, one
// initialisation, at most I iterations, tol 0), the same threads. Both stop early only when
// no row changes its centre. Each runs S seeds, 3 by default (k-means ends in another local
// optimum from each start); prints every run's seconds, iterations and inertia, the means,
// and the peak RSS of this process.

#include "BenchMachine.h"
#include "BlasKernels.h"
#include "KMeans.h"
#include "ReferencePython.h"

#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <vector>

using namespace emolens;
namespace fs = std::filesystem;

int main(int argc, char **argv)
{
    useFastBlasKernels(argv);
    std::int64_t rows = 200000;
    int dims = 768, clusters = 100, iterations = 20;
    int threads = int(std::max(1u, std::thread::hardware_concurrency()));
    std::string device = "cpu";
    std::int64_t chunk = KMeansOptions().chunkRows;
    bool reference = true;
    int seeds = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string arg = argv[i];
        if (arg == "--rows")
            rows = std::atoll(argv[i + 1]);
        else if (arg == "--dims")
            dims = std::atoi(argv[i + 1]);
        else if (arg == "--clusters")
            clusters = std::atoi(argv[i + 1]);
        else if (arg == "--iterations")
            iterations = std::atoi(argv[i + 1]);
        else if (arg == "--threads")
            threads = std::atoi(argv[i + 1]);
        else if (arg == "--device")
            device = argv[i + 1];
        else if (arg == "--chunk")
            chunk = std::atoll(argv[i + 1]);
        else if (arg == "--reference")
            reference = std::string(argv[i + 1]) != "off";
        else if (arg == "--seeds")
            seeds = std::max(1, std::atoi(argv[i + 1]));
    }
    at::set_num_threads(threads);
    std::printf("machine: %u hardware threads; %d threads; OpenBLAS kernels %s; device %s\n",
                std::thread::hardware_concurrency(), threads,
                blasCoreName().empty() ? "(not OpenBLAS)" : blasCoreName().c_str(), device.c_str());
    std::printf("data: %lld rows x %d dims (%.0f MB float32), %d Gaussian blobs; k = %d, %d "
                "iterations\n",
                static_cast<long long>(rows), dims, double(rows) * dims * 4 / 1e6, clusters,
                clusters, iterations);

    // The rows, made once and kept for the reference.
    const fs::path work = fs::temp_directory_path() / "emolens-bench-kmeans";
    fs::create_directories(work);
    const fs::path file = work / ("blobs-" + std::to_string(rows) + "x" + std::to_string(dims) +
                                  "-" + std::to_string(clusters) + ".f32");
    std::vector<float> values(std::size_t(rows) * dims);
    {
        std::mt19937 random(3);
        std::normal_distribution<float> normal;
        std::vector<float> centres(std::size_t(clusters) * dims);
        for (float &c : centres)
            c = normal(random);
        for (std::int64_t r = 0; r < rows; ++r) {
            const std::size_t k = std::size_t(random() % unsigned(clusters));
            for (int d = 0; d < dims; ++d)
                values[std::size_t(r) * dims + d] = centres[k * dims + d] + normal(random);
        }
        if (!fs::exists(file)) {
            std::ofstream out(file, std::ios::binary);
            out.write(reinterpret_cast<const char *>(values.data()),
                      std::streamsize(values.size() * 4));
        }
    }
    const MatrixRows matrix(values.data(), rows, dims);

    auto run = [&](const char *name, KMeansOptions o) {
        o.clusters = clusters;
        o.threads = threads;
        o.device = device;
        o.chunkRows = chunk;
        KMeansResult result;
        const auto start = std::chrono::steady_clock::now();
        if (const ModelStatus st = runKMeans(matrix, o, &result); !st) {
            std::fprintf(stderr, "%s: %s\n", name, st.error().c_str());
            std::exit(1);
        }
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("%-28s %8.2f s (seeding %.2f, %d iterations %.2f)  inertia %.6e\n", name,
                    seconds, result.seedSeconds, result.iterations, result.iterateSeconds,
                    result.inertia);
        std::fflush(stdout);
        return std::make_pair(seconds, result.inertia);
    };
    // Several seeds: k-means ends in a different local optimum from each start, for
    // scikit-learn as for us, so single runs do not compare.
    double oursSeconds = 0, oursInertia = 0;
    for (int s = 1; s <= seeds; ++s) {
        KMeansOptions lloyd;
        lloyd.iterations = iterations;
        lloyd.seed = std::uint64_t(s);
        const auto r = run(("ours, Lloyd, seed " + std::to_string(s)).c_str(), lloyd);
        oursSeconds += r.first / seeds;
        oursInertia += r.second / seeds;
    }
    KMeansOptions mini;
    mini.batchRows = 10000;
    mini.iterations = 10 * iterations;
    run("ours, mini-batch 10,000", mini);

    // The references, same rows, same threads, the same number of seeds: scikit-learn, and
    // Debian's faiss (python3-faiss), the library issue 11 names. Each script prints
    // "TAG SEED SECONDS INERTIA ITERATIONS" per seed; the rest of its output is passed on.
    const auto runReference = [&](const char *scriptName, const char *tag, const char *name,
                                  const char *needs) {
        const std::string script = (fs::path(__FILE__).parent_path() / scriptName).string();
        const std::string command = referencePython() + " " + script + " " + file.string() + " " +
                                    std::to_string(rows) + " " + std::to_string(dims) + " " +
                                    std::to_string(clusters) + " " + std::to_string(iterations) +
                                    " " + std::to_string(threads) + " " + std::to_string(seeds) +
                                    " 2>&1";
        FILE *pipe = reference ? popen(command.c_str(), "r") : nullptr;
        double meanSeconds = 0, meanInertia = 0;
        int runs = 0;
        const std::string pattern = std::string(tag) + " %d %lf %lf %d";
        if (pipe) {
            char line[512];
            while (std::fgets(line, sizeof line, pipe)) {
                int seed = 0, n = 0;
                double sec = 0, inertia = 0;
                if (std::sscanf(line, pattern.c_str(), &seed, &sec, &inertia, &n) == 4) {
                    std::printf("%-28s %8.2f s (%d iterations)                inertia %.6e\n",
                                (std::string(name) + ", seed " + std::to_string(seed)).c_str(), sec,
                                n, inertia);
                    meanSeconds += sec;
                    meanInertia += inertia;
                    ++runs;
                    continue;
                }
                std::printf("  %s", line);
            }
            pclose(pipe);
        }
        if (runs == 0) {
            if (reference)
                std::printf("%s: not run (needs %s with %s; EMOLENS_REFERENCE_PYTHON names "
                            "another)\n",
                            name, referencePython().c_str(), needs);
            return;
        }
        meanSeconds /= runs;
        meanInertia /= runs;
        std::printf("mean of %d seeds: ours %.2f s, inertia %.6e; %s %.2f s, inertia %.6e\n", runs,
                    oursSeconds, oursInertia, name, meanSeconds, meanInertia);
        std::printf("ours vs %s: %.1fx faster; inertia ratio %.4f (below 1: lower)\n", name,
                    meanSeconds / oursSeconds, oursInertia / meanInertia);
    };
    runReference("bench_kmeans_reference.py", "reference", "scikit-learn", "scikit-learn");
    runReference("bench_kmeans_faiss.py", "faiss", "faiss", "python3-faiss");
    std::printf("peak RSS: %.0f MB (the rows are %.0f MB of it)\n", peakRssMb(),
                double(rows) * dims * 4 / 1e6);
    return 0;
}
