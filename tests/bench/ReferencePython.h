#pragma once

// The Python that runs a benchmark's reference script: Debian's /usr/bin/python3 (with
// python3-sklearn, python3-torchaudio), or the one EMOLENS_REFERENCE_PYTHON names, as on a GPU
// machine whose PyTorch and scikit-learn live in a virtual environment
// (tests/bench/gpu-benchmarks.sh sets it).

#include <cstdlib>
#include <string>

inline std::string referencePython()
{
    const char *chosen = std::getenv("EMOLENS_REFERENCE_PYTHON");
    return chosen != nullptr && *chosen != '\0' ? std::string(chosen) : "/usr/bin/python3";
}
