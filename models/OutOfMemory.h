#pragma once
// Out of memory, told by the type of what was thrown rather than by its text.
//
// - std::bad_alloc: the C++ runtime, and every failure of LibTorch's CPU allocator once
//   guardCpuAllocations() has run (LibTorch raises a plain c10::Error there, told apart from
//   other errors only by its message; the guard wraps the allocator so that an allocation
//   failure surfaces as std::bad_alloc wherever it happens).
// - c10::OutOfMemoryError: the CUDA caching allocator.
//
// Torch-free header: core/ calls these without seeing Torch.
// Threads: describeCurrentException() is safe anywhere; call guardCpuAllocations() once, early,
// on the main thread, before any tensor work (LibTorch's SetAllocator is not thread-safe).
// It is idempotent.

#include "ModelStatus.h"

#include <string>

namespace emolens {

struct CaughtException
{
    bool outOfMemory = false;
    std::string message; // what() of the exception, or a description of a non-standard one
};

// Call inside a catch block (catch (...)): describes the exception being handled.
CaughtException describeCurrentException();

// Call inside a catch block: the exception as a ModelStatus whose message starts with context
// ("encoding failed: ..."), marked out-of-memory when it was.
ModelStatus statusFromCurrentException(const std::string &context);

// Makes every CPU allocation failure inside LibTorch throw std::bad_alloc.
void guardCpuAllocations();

} // namespace emolens
