#pragma once
// IEEE 754 binary16 <-> binary32 conversion for the feature cache, which stores frame features
// as float16 to halve its size (features are normalised activations: float16's 11-bit
// significand keeps them to about 3 decimal digits, far below the models' own noise).
// Round to nearest, ties to even; overflow goes to infinity, NaN stays NaN. No Torch here, so
// code that only reads the cache does not need it.

#include <cstdint>
#include <cstring>

namespace emolens {

inline float halfToFloat(std::uint16_t h)
{
    const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
    const std::uint32_t exponent = (h >> 10) & 0x1fu;
    std::uint32_t mantissa = h & 0x3ffu;
    std::uint32_t bits;
    if (exponent == 0x1f) { // infinity or NaN
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else if (exponent != 0) { // normal
        bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    } else if (mantissa == 0) { // signed zero
        bits = sign;
    } else { // subnormal half: renormalise into a normal float
        int shift = 0;
        while ((mantissa & 0x400u) == 0) {
            mantissa <<= 1;
            ++shift;
        }
        mantissa &= 0x3ffu;
        bits = sign | (std::uint32_t(113 - shift) << 23) | (mantissa << 13);
    }
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

inline std::uint16_t floatToHalf(float f)
{
    std::uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    const std::uint16_t sign = std::uint16_t((bits >> 16) & 0x8000u);
    const std::uint32_t exponent = (bits >> 23) & 0xffu;
    const std::uint32_t mantissa = bits & 0x7fffffu;
    if (exponent == 0xff) // infinity or NaN (keep NaN a NaN)
        return std::uint16_t(sign | 0x7c00u | (mantissa ? 0x200u : 0u));
    const int halfExponent = int(exponent) - 127 + 15;
    if (halfExponent >= 0x1f) // too large: infinity
        return std::uint16_t(sign | 0x7c00u);
    if (halfExponent <= 0) { // subnormal half, or zero
        if (halfExponent < -10)
            return sign;
        const std::uint32_t full = mantissa | 0x800000u; // with the implicit bit
        const int shift = 14 - halfExponent;
        std::uint32_t value = full >> shift;
        const std::uint32_t rest = full & ((1u << shift) - 1);
        const std::uint32_t half = 1u << (shift - 1);
        if (rest > half || (rest == half && (value & 1u)))
            ++value;
        return std::uint16_t(sign | value);
    }
    std::uint32_t value = (std::uint32_t(halfExponent) << 10) | (mantissa >> 13);
    const std::uint32_t rest = mantissa & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (value & 1u)))
        ++value; // may carry into the exponent, which is the right result (up to infinity)
    return std::uint16_t(sign | value);
}

} // namespace emolens
