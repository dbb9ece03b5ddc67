#include "Json.h"

#include <charconv>
#include <cmath>
#include <unordered_set>

namespace emolens {

namespace {
constexpr int kMaxDepth = 64;
}

class JsonParser
{
public:
    explicit JsonParser(std::string_view text) : m_text(text) {}

    bool parseDocument(JsonValue &out, std::string &error)
    {
        skipWhitespace();
        bool parsed = parseValue(out, 0);
        if (parsed) {
            skipWhitespace();
            if (!atEnd())
                parsed = fail("unexpected text after the end of the JSON value");
        }
        if (!parsed)
            error = m_error;
        return parsed;
    }

private:
    bool fail(const std::string &problem)
    {
        if (!m_error.empty())
            return false;
        std::size_t line = 1;
        std::size_t column = 1;
        for (std::size_t i = 0; i < m_pos && i < m_text.size(); ++i) {
            if (m_text[i] == '\n') {
                ++line;
                column = 1;
            } else {
                ++column;
            }
        }
        m_error =
            "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + problem;
        return false;
    }

    bool atEnd() const { return m_pos >= m_text.size(); }
    char peek() const { return atEnd() ? '\0' : m_text[m_pos]; }

    void skipWhitespace()
    {
        while (!atEnd()) {
            const char c = m_text[m_pos];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                break;
            ++m_pos;
        }
    }

    bool expectLiteral(std::string_view word)
    {
        if (m_text.substr(m_pos, word.size()) != word)
            return fail("unknown word (expected a value)");
        m_pos += word.size();
        return true;
    }

    bool parseValue(JsonValue &out, int depth)
    {
        if (depth > kMaxDepth)
            return fail("nested more than " + std::to_string(kMaxDepth) + " levels deep");
        if (atEnd())
            return fail("unexpected end of text (expected a value)");
        const char c = peek();
        switch (c) {
        case '{':
            return parseObject(out, depth);
        case '[':
            return parseArray(out, depth);
        case '"':
            out.m_type = JsonValue::Type::String;
            return parseString(out.m_string);
        case 't':
            out.m_type = JsonValue::Type::Bool;
            out.m_bool = true;
            return expectLiteral("true");
        case 'f':
            out.m_type = JsonValue::Type::Bool;
            out.m_bool = false;
            return expectLiteral("false");
        case 'n':
            out.m_type = JsonValue::Type::Null;
            return expectLiteral("null");
        default:
            if (c == '-' || (c >= '0' && c <= '9'))
                return parseNumber(out);
            return fail(std::string("unexpected character '") + c + "' (expected a value)");
        }
    }

    bool parseObject(JsonValue &out, int depth)
    {
        out.m_type = JsonValue::Type::Object;
        ++m_pos; // '{'
        skipWhitespace();
        if (peek() == '}') {
            ++m_pos;
            return true;
        }
        std::unordered_set<std::string> keys;
        while (true) {
            skipWhitespace();
            if (peek() != '"')
                return fail("expected a quoted member name");
            JsonMember member;
            const std::size_t keyPos = m_pos;
            if (!parseString(member.key))
                return false;
            if (!keys.insert(member.key).second) {
                m_pos = keyPos;
                return fail("duplicate member name \"" + member.key + "\"");
            }
            skipWhitespace();
            if (peek() != ':')
                return fail("expected ':' after a member name");
            ++m_pos;
            skipWhitespace();
            if (!parseValue(member.value, depth + 1))
                return false;
            out.m_members.push_back(std::move(member));
            skipWhitespace();
            if (peek() == ',') {
                ++m_pos;
                continue;
            }
            if (peek() == '}') {
                ++m_pos;
                return true;
            }
            return fail("expected ',' or '}' in an object");
        }
    }

    bool parseArray(JsonValue &out, int depth)
    {
        out.m_type = JsonValue::Type::Array;
        ++m_pos; // '['
        skipWhitespace();
        if (peek() == ']') {
            ++m_pos;
            return true;
        }
        while (true) {
            skipWhitespace();
            JsonValue element;
            if (!parseValue(element, depth + 1))
                return false;
            out.m_array.push_back(std::move(element));
            skipWhitespace();
            if (peek() == ',') {
                ++m_pos;
                continue;
            }
            if (peek() == ']') {
                ++m_pos;
                return true;
            }
            return fail("expected ',' or ']' in an array");
        }
    }

    static void appendUtf8(std::string &out, std::uint32_t codePoint)
    {
        if (codePoint < 0x80) {
            out += static_cast<char>(codePoint);
        } else if (codePoint < 0x800) {
            out += static_cast<char>(0xC0 | (codePoint >> 6));
            out += static_cast<char>(0x80 | (codePoint & 0x3F));
        } else if (codePoint < 0x10000) {
            out += static_cast<char>(0xE0 | (codePoint >> 12));
            out += static_cast<char>(0x80 | ((codePoint >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (codePoint & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (codePoint >> 18));
            out += static_cast<char>(0x80 | ((codePoint >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((codePoint >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (codePoint & 0x3F));
        }
    }

    bool parseHex4(std::uint32_t &value)
    {
        if (m_pos + 4 > m_text.size())
            return fail("unfinished \\u escape");
        value = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = m_text[m_pos++];
            value <<= 4;
            if (c >= '0' && c <= '9')
                value |= static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f')
                value |= static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                value |= static_cast<std::uint32_t>(c - 'A' + 10);
            else
                return fail("bad hex digit in a \\u escape");
        }
        return true;
    }

    // Length of the valid UTF-8 sequence starting at m_pos, or 0.
    std::size_t utf8SequenceLength() const
    {
        const auto byte = [this](std::size_t i) {
            return static_cast<unsigned char>(m_text[m_pos + i]);
        };
        const unsigned char lead = byte(0);
        std::size_t length = 0;
        std::uint32_t codePoint = 0;
        if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;
            codePoint = lead & 0x1F;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            codePoint = lead & 0x0F;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            codePoint = lead & 0x07;
        } else {
            return 0;
        }
        if (m_pos + length > m_text.size())
            return 0;
        for (std::size_t i = 1; i < length; ++i) {
            if ((byte(i) & 0xC0) != 0x80)
                return 0;
            codePoint = (codePoint << 6) | (byte(i) & 0x3F);
        }
        const bool overlong =
            (length == 3 && codePoint < 0x800) || (length == 4 && codePoint < 0x10000);
        const bool surrogate = codePoint >= 0xD800 && codePoint <= 0xDFFF;
        if (overlong || surrogate || codePoint > 0x10FFFF)
            return 0;
        return length;
    }

    bool parseString(std::string &out)
    {
        ++m_pos; // opening quote
        out.clear();
        while (true) {
            if (atEnd())
                return fail("unterminated string");
            const char c = m_text[m_pos];
            const auto byte = static_cast<unsigned char>(c);
            if (c == '"') {
                ++m_pos;
                return true;
            }
            if (byte < 0x20)
                return fail("control character inside a string");
            if (byte >= 0x80) {
                const std::size_t length = utf8SequenceLength();
                if (length == 0)
                    return fail("invalid UTF-8 in a string");
                out.append(m_text.substr(m_pos, length));
                m_pos += length;
                continue;
            }
            if (c != '\\') {
                out += c;
                ++m_pos;
                continue;
            }
            ++m_pos;
            if (atEnd())
                return fail("unterminated escape");
            const char escape = m_text[m_pos++];
            switch (escape) {
            case '"':
                out += '"';
                break;
            case '\\':
                out += '\\';
                break;
            case '/':
                out += '/';
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'u': {
                std::uint32_t unit = 0;
                if (!parseHex4(unit))
                    return false;
                if (unit >= 0xDC00 && unit <= 0xDFFF)
                    return fail("lone low surrogate in a \\u escape");
                if (unit >= 0xD800 && unit <= 0xDBFF) {
                    std::uint32_t low = 0;
                    if (m_text.substr(m_pos, 2) != "\\u")
                        return fail("high surrogate without its low half");
                    m_pos += 2;
                    if (!parseHex4(low))
                        return false;
                    if (low < 0xDC00 || low > 0xDFFF)
                        return fail("high surrogate without its low half");
                    unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                }
                appendUtf8(out, unit);
                break;
            }
            default:
                --m_pos;
                return fail(std::string("unknown escape \\") + escape);
            }
        }
    }

    bool parseNumber(JsonValue &out)
    {
        const std::size_t start = m_pos;
        const auto digits = [this]() {
            std::size_t count = 0;
            while (!atEnd() && peek() >= '0' && peek() <= '9') {
                ++m_pos;
                ++count;
            }
            return count;
        };
        if (peek() == '-')
            ++m_pos;
        if (peek() == '0') {
            ++m_pos;
            if (peek() >= '0' && peek() <= '9')
                return fail("number with a leading zero");
        } else if (digits() == 0) {
            return fail("'-' without digits");
        }
        bool integral = true;
        if (peek() == '.') {
            ++m_pos;
            integral = false;
            if (digits() == 0)
                return fail("number with no digits after '.'");
        }
        if (peek() == 'e' || peek() == 'E') {
            ++m_pos;
            integral = false;
            if (peek() == '+' || peek() == '-')
                ++m_pos;
            if (digits() == 0)
                return fail("number with an empty exponent");
        }
        const char *first = m_text.data() + start;
        const char *last = m_text.data() + m_pos;
        out.m_type = JsonValue::Type::Number;
        // from_chars is locale-independent, unlike strtod under a German locale.
        const auto parsed = std::from_chars(first, last, out.m_number);
        if (parsed.ec == std::errc::result_out_of_range || !std::isfinite(out.m_number)) {
            m_pos = start;
            return fail("number out of range");
        }
        if (integral) {
            const auto exact = std::from_chars(first, last, out.m_integer);
            out.m_isInteger = exact.ec == std::errc() && exact.ptr == last;
        }
        return true;
    }

    std::string_view m_text;
    std::size_t m_pos = 0;
    std::string m_error;
};

bool JsonValue::parse(std::string_view text, JsonValue &out, std::string &error)
{
    out = JsonValue();
    JsonParser parser(text);
    return parser.parseDocument(out, error);
}

const JsonValue *JsonValue::find(std::string_view key) const
{
    for (const JsonMember &member : m_members) {
        if (member.key == key)
            return &member.value;
    }
    return nullptr;
}

const char *JsonValue::typeName(Type type)
{
    switch (type) {
    case Type::Null:
        return "null";
    case Type::Bool:
        return "a boolean";
    case Type::Number:
        return "a number";
    case Type::String:
        return "a string";
    case Type::Array:
        return "an array";
    case Type::Object:
        return "an object";
    }
    return "a value";
}

std::string JsonValue::quote(std::string_view text)
{
    static const char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20) {
            out += "\\u00";
            out += hex[byte >> 4];
            out += hex[byte & 0xF];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

} // namespace emolens
