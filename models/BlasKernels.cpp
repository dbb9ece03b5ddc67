#include "BlasKernels.h"

#include <climits>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

namespace emolens {

namespace {

bool isFile(const std::string &path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Kernels worse than the best this CPU runs (empty: keep them).
std::string betterCore()
{
    const std::string current = blasCoreName();
    const std::string best = bestBlasCoreForThisCpu();
    if (current.empty() || best.empty())
        return std::string();
    // Kernels at least as good as the best we would name: keep them.
    for (const char *good : {"SkylakeX", "Cooperlake", "SapphireRapids", "Zen"})
        if (strcasecmp(current.c_str(), good) == 0)
            return std::string();
    if (best == "Haswell" && strcasecmp(current.c_str(), "Haswell") == 0)
        return std::string();
    return best;
}

} // namespace

std::string blasCoreName()
{
    using CoreName = char *(*)();
    const auto coreName = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    const char *name = coreName ? coreName() : nullptr;
    return name ? std::string(name) : std::string();
}

std::string bestBlasCoreForThisCpu()
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return "Haswell";
#endif
    return std::string();
}

std::string blasThreading()
{
    using Parallel = int (*)();
    const auto parallel = reinterpret_cast<Parallel>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
    if (parallel == nullptr)
        return std::string();
    switch (parallel()) {
    case 0:
        return "sequential";
    case 1:
        return "pthread";
    case 2:
        return "openmp";
    default:
        return std::string();
    }
}

std::string openmpBlasFolder()
{
    if (blasThreading() != "pthread")
        return std::string();
    void *symbol = dlsym(RTLD_DEFAULT, "openblas_get_parallel");
    Dl_info info;
    if (symbol == nullptr || dladdr(symbol, &info) == 0 || info.dli_fname == nullptr)
        return std::string();
    char resolved[PATH_MAX];
    if (realpath(info.dli_fname, resolved) == nullptr)
        return std::string();
    // Debian: /usr/lib/<triplet>/openblas-pthread/libopenblas.so.0 (through alternatives).
    const std::string library(resolved);
    const auto slash = library.rfind('/');
    if (slash == std::string::npos)
        return std::string();
    const std::string folder = library.substr(0, slash);
    const std::string pthreadName = "/openblas-pthread";
    if (folder.size() <= pthreadName.size() ||
        folder.compare(folder.size() - pthreadName.size(), pthreadName.size(), pthreadName) != 0)
        return std::string();
    const std::string openmp =
        folder.substr(0, folder.size() - pthreadName.size()) + "/openblas-openmp";
    // Every library the process takes from the folder must be there, or it would mix builds.
    for (const char *name : {"libopenblas.so.0", "libblas.so.3", "liblapack.so.3"})
        if (!isFile(openmp + "/" + name))
            return std::string();
    return openmp;
}

void useFastBlasKernels(char **argv)
{
    if (argv == nullptr || argv[0] == nullptr || std::getenv("EMOLENS_BLAS_CHOSEN") != nullptr)
        return;
    const char *userCore = std::getenv("OPENBLAS_CORETYPE");
    const char *userPath = std::getenv("LD_LIBRARY_PATH");
    const std::string core = userCore != nullptr ? std::string() : betterCore();
    const bool userChoseBlas = userPath != nullptr && std::strstr(userPath, "openblas") != nullptr;
    const std::string openmp = userChoseBlas ? std::string() : openmpBlasFolder();
    if (core.empty() && openmp.empty())
        return;
    const std::string oldPath = userPath != nullptr ? userPath : "";
    if (!core.empty())
        setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
    if (!openmp.empty())
        setenv("LD_LIBRARY_PATH", (oldPath.empty() ? openmp : openmp + ":" + oldPath).c_str(), 1);
    setenv("EMOLENS_BLAS_CHOSEN", "1", 1);
    execv("/proc/self/exe", argv);
    // Could not start again: go on with the BLAS there is (slower, same results).
    if (!core.empty())
        unsetenv("OPENBLAS_CORETYPE");
    if (!openmp.empty()) {
        if (userPath != nullptr)
            setenv("LD_LIBRARY_PATH", oldPath.c_str(), 1);
        else
            unsetenv("LD_LIBRARY_PATH");
    }
    unsetenv("EMOLENS_BLAS_CHOSEN");
}

} // namespace emolens
