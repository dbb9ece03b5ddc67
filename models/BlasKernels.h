#pragma once
// BlasKernels: makes sure OpenBLAS runs the kernels this CPU has. OpenBLAS picks its kernels
// from the CPU model once, when it is loaded; on virtual machines that report a generic
// "Intel Xeon Processor" it falls back to its oldest x86-64 kernels ("Prescott", SSE3) even
// though the CPU has AVX-512 - measured here: a 3-fold wap-sap evaluation on the demo corpus
// takes 24 s with Prescott kernels, 14 s with SkylakeX ones, with identical results. The only
// way to choose is the OPENBLAS_CORETYPE variable, read at load time, so the program sets it
// and starts itself again.
//
// Call useFastBlasKernels(argv) first thing in main(), before any thread or window exists.
// It does nothing when the BLAS is not OpenBLAS, when OPENBLAS_CORETYPE is already set (the
// user's choice, or the second start), or when OpenBLAS already chose well.

#include <string>

namespace emolens {

// The kernels OpenBLAS uses now ("SkylakeX", "Prescott"), or empty when the process's BLAS is
// not OpenBLAS.
std::string blasCoreName();
// The OpenBLAS kernels this CPU can run best: "SkylakeX" with AVX-512 (F, BW, DQ, VL),
// "Haswell" with AVX2 and FMA, else empty.
std::string bestBlasCoreForThisCpu();
// See above. Returns only when no restart is needed or the restart failed.
void useFastBlasKernels(char **argv);

} // namespace emolens
