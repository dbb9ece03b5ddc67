#include "ContentHash.h"

#include <cstring>

namespace emolens {

namespace {

constexpr std::uint64_t kPrime1 = 0x9e3779b185ebca87ull;
constexpr std::uint64_t kPrime2 = 0xc2b2ae3d27d4eb4full;
constexpr std::uint64_t kPrime3 = 0x165667b19e3779f9ull;

inline std::uint64_t rotateLeft(std::uint64_t x, int bits)
{
    return (x << bits) | (x >> (64 - bits));
}

inline std::uint64_t load64(const unsigned char *p)
{
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);
    return word;
}

inline std::uint64_t absorb(std::uint64_t lane, std::uint64_t word)
{
    return rotateLeft(lane ^ (word * kPrime2), 31) * kPrime1;
}

// The finaliser of splitmix64: every input bit affects every output bit.
inline std::uint64_t avalanche(std::uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

} // namespace

void ContentHash::add(const void *data, std::size_t byteCount)
{
    const auto *bytes = static_cast<const unsigned char *>(data);
    // Four independent lanes keep the multiplier pipelines busy.
    std::uint64_t lanes[4] = {m_state + kPrime1, m_state ^ kPrime2, m_state + kPrime3,
                              m_state ^ kPrime1};
    std::size_t i = 0;
    for (; i + 32 <= byteCount; i += 32) {
        for (int lane = 0; lane < 4; ++lane)
            lanes[lane] = absorb(lanes[lane], load64(bytes + i + 8 * lane));
    }
    for (; i + 8 <= byteCount; i += 8)
        lanes[0] = absorb(lanes[0], load64(bytes + i));
    std::uint64_t tail = 0;
    for (std::size_t shift = 0; i < byteCount; ++i, shift += 8)
        tail |= static_cast<std::uint64_t>(bytes[i]) << shift;
    lanes[1] = absorb(lanes[1], tail);
    std::uint64_t folded = byteCount * kPrime3;
    for (const std::uint64_t lane : lanes)
        folded = rotateLeft(folded ^ avalanche(lane), 27) * kPrime1 + kPrime2;
    m_state = avalanche(folded ^ m_state);
}

std::string ContentHash::hex() const
{
    static const char digits[] = "0123456789abcdef";
    std::string text(16, '0');
    for (int i = 0; i < 16; ++i)
        text[15 - i] = digits[(m_state >> (4 * i)) & 0xF];
    return text;
}

} // namespace emolens
