#pragma once
// ModelStatus: the result of a models/ operation that can fail, with a message a user can read
// (it names the file and, where there is one, the tensor). models/ has no Qt, so this is the
// std::string twin of core's Status; core turns it into a Status at the layer boundary.
// No exception leaves models/: Torch errors are caught and returned as a ModelStatus, which
// says whether the cause was running out of memory (told by the exception's type, see
// OutOfMemory.h) so that a caller can retry with less.

#include <string>
#include <utility>

namespace emolens {

class ModelStatus
{
public:
    ModelStatus() = default;
    static ModelStatus success() { return ModelStatus(); }
    static ModelStatus failure(std::string message) { return ModelStatus(std::move(message)); }
    static ModelStatus outOfMemory(std::string message)
    {
        ModelStatus st(std::move(message));
        st.m_outOfMemory = true;
        return st;
    }

    bool ok() const { return m_error.empty(); }
    explicit operator bool() const { return ok(); }
    const std::string &error() const { return m_error; }
    bool isOutOfMemory() const { return m_outOfMemory; }

private:
    explicit ModelStatus(std::string message) : m_error(std::move(message))
    {
        if (m_error.empty())
            m_error = "unknown error";
    }
    std::string m_error;
    bool m_outOfMemory = false;
};

} // namespace emolens
