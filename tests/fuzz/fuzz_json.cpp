// Fuzz target: JsonValue::parse (models/Json). Any bytes must either parse or fail with a
// "line L, column C" message; a parsed document's strings must survive JsonValue::quote and
// a second parse unchanged (the safetensors writer relies on that round trip).

#include "Json.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void checkQuoteRoundTrip(const std::string &text)
{
    emolens::JsonValue reparsed;
    std::string error;
    if (!emolens::JsonValue::parse(emolens::JsonValue::quote(text), reparsed, error) ||
        !reparsed.isString() || reparsed.string() != text)
        std::abort();
}

void walk(const emolens::JsonValue &value)
{
    switch (value.type()) {
    case emolens::JsonValue::Type::String:
        checkQuoteRoundTrip(value.string());
        break;
    case emolens::JsonValue::Type::Array:
        for (const emolens::JsonValue &element : value.array())
            walk(element);
        break;
    case emolens::JsonValue::Type::Object:
        for (const emolens::JsonMember &member : value.members()) {
            checkQuoteRoundTrip(member.key);
            if (value.find(member.key) != &member.value)
                std::abort(); // keys are unique, so find() must return this member
            walk(member.value);
        }
        break;
    case emolens::JsonValue::Type::Number: {
        // Integers up to 2^53 are exact in both representations, so the two must agree.
        constexpr std::int64_t exactLimit = std::int64_t(1) << 53;
        if (value.isInteger() && value.integer() <= exactLimit && value.integer() >= -exactLimit &&
            static_cast<double>(value.integer()) != value.number())
            std::abort();
        break;
    }
    case emolens::JsonValue::Type::Null:
    case emolens::JsonValue::Type::Bool:
        break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    emolens::JsonValue value;
    std::string error;
    if (emolens::JsonValue::parse(text, value, error))
        walk(value);
    else if (error.rfind("line ", 0) != 0)
        std::abort(); // every failure says where it happened
    return 0;
}
