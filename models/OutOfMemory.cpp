#include "OutOfMemory.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <exception>
#include <mutex>
#include <new>

namespace emolens {

namespace {

// Forwards to LibTorch's CPU allocator; an exception from it can only mean the allocation
// failed, so it becomes std::bad_alloc, a type every layer recognises.
class GuardedCpuAllocator final : public c10::Allocator
{
public:
    explicit GuardedCpuAllocator(c10::Allocator *inner) : m_inner(inner) {}

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
    c10::DataPtr allocate(size_t bytes) override
    {
        return guarded(bytes);
    }
    void copy_data(void *dest, const void *src, std::size_t count) const override
    {
        m_inner->copy_data(dest, src, count);
    }
#else
    c10::DataPtr allocate(size_t bytes) const override
    {
        return guarded(bytes);
    }
#endif
    c10::DeleterFnPtr raw_deleter() const override
    {
        return m_inner->raw_deleter();
    }

private:
    c10::DataPtr guarded(size_t bytes) const
    {
        try {
            return m_inner->allocate(bytes);
        } catch (const c10::Error &) {
            throw std::bad_alloc();
        }
    }

    c10::Allocator *m_inner;
};

} // namespace

CaughtException describeCurrentException()
{
    CaughtException out;
    try {
        throw;
    } catch (const std::bad_alloc &error) {
        out.outOfMemory = true;
        out.message = std::string("out of memory (") + error.what() + ")";
    } catch (const c10::OutOfMemoryError &error) {
        out.outOfMemory = true;
        out.message = error.what_without_backtrace();
    } catch (const c10::Error &error) {
        out.message = error.what_without_backtrace();
    } catch (const std::exception &error) {
        out.message = error.what();
    } catch (...) {
        out.message = "an exception of an unknown type";
    }
    return out;
}

ModelStatus statusFromCurrentException(const std::string &context)
{
    const CaughtException caught = describeCurrentException();
    const std::string message = context + caught.message;
    return caught.outOfMemory ? ModelStatus::outOfMemory(message) : ModelStatus::failure(message);
}

void guardCpuAllocations()
{
    static std::once_flag once;
    std::call_once(once, [] {
        static GuardedCpuAllocator guarded(c10::GetCPUAllocator());
        // The highest priority, so a later default registration cannot undo it.
        c10::SetCPUAllocator(&guarded, /*priority=*/UINT8_MAX);
    });
}

} // namespace emolens
