#include "BlasKernels.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <unistd.h>

namespace emolens {

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

void useFastBlasKernels(char **argv)
{
    if (std::getenv("OPENBLAS_CORETYPE") != nullptr || argv == nullptr || argv[0] == nullptr)
        return;
    const std::string current = blasCoreName();
    const std::string best = bestBlasCoreForThisCpu();
    if (current.empty() || best.empty())
        return;
    // Kernels at least as good as the best we would name: keep them.
    for (const char *good : {"SkylakeX", "Cooperlake", "SapphireRapids", "Zen"})
        if (strcasecmp(current.c_str(), good) == 0)
            return;
    if (best == "Haswell" && strcasecmp(current.c_str(), "Haswell") == 0)
        return;
    if (setenv("OPENBLAS_CORETYPE", best.c_str(), 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    // Could not start again: go on with the kernels there are (slower, same results).
    unsetenv("OPENBLAS_CORETYPE");
}

} // namespace emolens
