#pragma once
// JsonValue: a strict JSON (RFC 8259) reader for the two JSON texts models/ meets: a model's
// config.json and a safetensors header. Written here rather than pulled in as a dependency
// because both texts are small, the only need is reading, and a strict parser of our own lets
// a malformed weight file fail with a line/column message instead of a library's exception.
// Strict means: no comments, no trailing commas, no NaN/Infinity, no duplicate object keys,
// valid UTF-8 only, nesting limited to 64 levels (a hostile header cannot exhaust the stack).
// A JsonValue is an immutable tree; any thread may read it once built.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace emolens {

struct JsonMember;

class JsonValue
{
public:
    enum class Type { Null, Bool, Number, String, Array, Object };

    // Parses `text`; on failure returns false and sets `error` to "line L, column C: problem".
    static bool parse(std::string_view text, JsonValue &out, std::string &error);

    Type type() const { return m_type; }
    bool isNull() const { return m_type == Type::Null; }
    bool isBool() const { return m_type == Type::Bool; }
    bool isNumber() const { return m_type == Type::Number; }
    bool isString() const { return m_type == Type::String; }
    bool isArray() const { return m_type == Type::Array; }
    bool isObject() const { return m_type == Type::Object; }

    bool boolean() const { return m_bool; }
    double number() const { return m_number; }
    // True for a number written without fraction or exponent that fits in int64 exactly
    // (safetensors offsets must not go through a double).
    bool isInteger() const { return m_type == Type::Number && m_isInteger; }
    std::int64_t integer() const { return m_integer; }
    const std::string &string() const { return m_string; }
    const std::vector<JsonValue> &array() const { return m_array; }
    // Members in document order.
    const std::vector<JsonMember> &members() const { return m_members; }
    // The member called `key`, or nullptr (also when this is not an object).
    const JsonValue *find(std::string_view key) const;

    // A short name of the type for messages: "a string", "an array", ...
    static const char *typeName(Type type);
    // `text` as a JSON string literal, quotes included (for writers of JSON headers).
    static std::string quote(std::string_view text);

private:
    friend class JsonParser;
    Type m_type = Type::Null;
    bool m_bool = false;
    bool m_isInteger = false;
    double m_number = 0.0;
    std::int64_t m_integer = 0;
    std::string m_string;
    std::vector<JsonValue> m_array;
    std::vector<JsonMember> m_members;
};

struct JsonMember
{
    std::string key;
    JsonValue value;
};

} // namespace emolens
