#pragma once
// ContentHash: a fast 64-bit, non-cryptographic fingerprint of byte chunks, used to give an
// encoder an identity that changes when its weights or config change (the feature cache is
// keyed on it). Hashing a 1 GB checkpoint costs a fraction of a second at memory speed.
// Chunks are hashed in the order given; the same chunks in the same order give the same value
// on every machine (little-endian hosts). One thread at a time per object.

#include <cstddef>
#include <cstdint>
#include <string>

namespace emolens {

class ContentHash
{
public:
    void add(const void *data, std::size_t byteCount);
    void add(const std::string &text) { add(text.data(), text.size()); }
    std::uint64_t value() const { return m_state; }
    // 16 lowercase hex digits.
    std::string hex() const;

private:
    std::uint64_t m_state = 0x6a09e667f3bcc908ull;
};

} // namespace emolens
