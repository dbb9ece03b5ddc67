#pragma once
// BlasKernels: makes sure OpenBLAS runs well on this machine. Two choices OpenBLAS makes when it
// is loaded, which the program can only change by starting itself again:
//
// - Its kernels. OpenBLAS picks them from the CPU model; on virtual machines that report a
//   generic "Intel Xeon Processor" it falls back to its oldest x86-64 kernels ("Prescott",
//   SSE3) even though the CPU has AVX-512 - measured here: a 3-fold wap-sap evaluation on the
//   demo corpus takes 24 s with Prescott kernels, 14 s with SkylakeX ones, with identical
//   results. The OPENBLAS_CORETYPE variable chooses.
// - Its threads. Debian's default OpenBLAS (libopenblas0-pthread) keeps a thread pool of its
//   own beside ATen's OpenMP workers; between calls both pools' threads spin, and on a small
//   machine they take the cores from each other. The OpenMP build (libopenblas0-openmp) shares
//   ATen's pool. Measured on a 2-core machine: one epoch of wap-sap on 2,016 fbank clips takes
//   83 s with the pthread build (46 s of it in the kernel, 1.6 million sched_yield calls a
//   minute), 45 s with the OpenMP build; the HuBERT-base encoder runs as fast or slightly faster.
//   When the process loaded the pthread build from Debian's openblas-pthread folder and the
//   OpenMP build is installed beside it, the program puts that folder first on
//   LD_LIBRARY_PATH.
//
// Call useFastBlasKernels(argv) first thing in main(), before any thread or window exists. It
// starts the program again at most once (EMOLENS_BLAS_CHOSEN marks the second start), and
// changes nothing the user chose: OPENBLAS_CORETYPE set, or an openblas folder already on
// LD_LIBRARY_PATH.

#include <string>

namespace emolens {

// The kernels OpenBLAS uses now ("SkylakeX", "Prescott"), or empty when the process's BLAS is
// not OpenBLAS.
std::string blasCoreName();
// The OpenBLAS kernels this CPU can run best: "SkylakeX" with AVX-512 (F, BW, DQ, VL),
// "Haswell" with AVX2 and FMA, else empty.
std::string bestBlasCoreForThisCpu();
// How the loaded OpenBLAS runs its threads: "pthread", "openmp", "sequential", or empty when
// the process's BLAS is not OpenBLAS.
std::string blasThreading();
// The folder of Debian's OpenMP build of OpenBLAS when the process loaded the pthread build
// from its sibling folder (.../openblas-pthread) and the OpenMP one is installed; else empty.
std::string openmpBlasFolder();
// See above. Returns only when no restart is needed or the restart failed.
void useFastBlasKernels(char **argv);

} // namespace emolens
