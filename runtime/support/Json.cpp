//===- Json.cpp - a small strict JSON parser ------------------------------===//

#include "runtime/support/Json.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <unordered_set>

using namespace lathe::rt;
using namespace lathe::rt::json;

const char *json::kindName(Kind kind) {
  switch (kind) {
  case Kind::Null:
    return "null";
  case Kind::Bool:
    return "a boolean";
  case Kind::Int:
    return "an integer";
  case Kind::Double:
    return "a number";
  case Kind::String:
    return "a string";
  case Kind::Array:
    return "an array";
  case Kind::Object:
    return "an object";
  }
  return "an unknown kind";
}

//===----------------------------------------------------------------------===//
// Value
//===----------------------------------------------------------------------===//

Value::Value(std::string s)
    : k(Kind::String), str(std::make_unique<std::string>(std::move(s))) {}
Value::Value(Array a)
    : k(Kind::Array), arr(std::make_unique<Array>(std::move(a))) {}
Value::Value(Object o)
    : k(Kind::Object), obj(std::make_unique<Object>(std::move(o))) {}

Value::Value(const Value &other) : k(other.k), scalar(other.scalar) {
  if (other.str)
    str = std::make_unique<std::string>(*other.str);
  if (other.arr)
    arr = std::make_unique<Array>(*other.arr);
  if (other.obj)
    obj = std::make_unique<Object>(*other.obj);
}

Value &Value::operator=(const Value &other) {
  if (this != &other)
    *this = Value(other);
  return *this;
}

// The accessors assert; a release build that ignores the assertion gets a
// neutral value instead of a null dereference.
bool Value::asBool() const {
  assert(isBool());
  return isBool() && scalar.b;
}

int64_t Value::asInt() const {
  assert(isInt());
  return isInt() ? scalar.i : 0;
}

double Value::asDouble() const {
  assert(isNumber());
  if (k == Kind::Int)
    return double(scalar.i);
  return k == Kind::Double ? scalar.d : 0.0;
}

const std::string &Value::asString() const {
  assert(isString());
  static const std::string empty;
  return str ? *str : empty;
}

const Array &Value::asArray() const {
  assert(isArray());
  static const Array empty;
  return arr ? *arr : empty;
}

const Object &Value::asObject() const {
  assert(isObject());
  static const Object empty;
  return obj ? *obj : empty;
}

const Value *Value::find(std::string_view key) const {
  if (!obj)
    return nullptr;
  for (const auto &member : *obj)
    if (member.first == key)
      return &member.second;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Parser
//===----------------------------------------------------------------------===//

namespace {

/// Objects with more members than this check duplicate keys with a hash set
/// rather than a scan, so that a large hostile object stays linear.
constexpr size_t maxKeysScanned = 16;

constexpr char hexDigits[] = "0123456789ABCDEF";

/// "0xNN".
std::string hexByte(uint8_t c) {
  std::string s = "0x";
  s += hexDigits[c >> 4];
  s += hexDigits[c & 15];
  return s;
}

/// How a byte reads in a message: 'x' when printable, else 0xNN.
std::string describeByte(uint8_t c) {
  if (c >= 0x20 && c < 0x7f) {
    std::string s = "'";
    s += char(c);
    s += '\'';
    return s;
  }
  return "byte " + hexByte(c);
}

/// A string for a message: quoted, at most 64 bytes of it, with control
/// and non-ASCII bytes escaped so the message stays one printable line.
std::string quoteForMessage(std::string_view s) {
  constexpr size_t maxShown = 64;
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < maxShown; ++i) {
    uint8_t c = uint8_t(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += char(c);
    } else {
      out += "\\x";
      out += hexDigits[c >> 4];
      out += hexDigits[c & 15];
    }
  }
  if (s.size() > maxShown)
    out += "...";
  out += '\'';
  return out;
}

class Parser {
public:
  Parser(std::string_view text, const ParseOptions &options)
      : text(text), options(options) {}

  Expected<Value> parseDocument() {
    Value root;
    if (text.size() > options.maxBytes) {
      failAt(0, "input is " + std::to_string(text.size()) +
                    " bytes, more than the limit of " +
                    std::to_string(options.maxBytes));
    } else {
      skipWhitespace();
      if (parseValue(root, 0)) {
        skipWhitespace();
        if (pos == text.size())
          return root;
        fail("unexpected " + describeByte(peek()) + " after the JSON value");
      }
    }
    return Status::error(std::move(error));
  }

private:
  // Every parse function returns false after recording the error.

  bool parseValue(Value &out, unsigned depth) {
    if (++valueCount > options.maxValues)
      return fail("more than " + std::to_string(options.maxValues) + " values");
    if (pos >= text.size())
      return fail("expected a value, got the end of the input");
    switch (peek()) {
    case '{':
      return parseObject(out, depth + 1);
    case '[':
      return parseArray(out, depth + 1);
    case '"': {
      std::string s;
      if (!parseString(s))
        return false;
      out = Value(std::move(s));
      return true;
    }
    case 't':
      return parseLiteral("true", Value(true), out);
    case 'f':
      return parseLiteral("false", Value(false), out);
    case 'n':
      return parseLiteral("null", Value(), out);
    default:
      if (peek() == '-' || isDigit(peek()))
        return parseNumber(out);
      if (peek() == 0xEF && text.substr(pos, 3) == "\xEF\xBB\xBF")
        return fail("a byte order mark is not allowed");
      return fail("expected a value, got " + describeByte(peek()));
    }
  }

  bool checkDepth(unsigned depth) {
    if (depth > options.maxDepth)
      return fail("nested deeper than " + std::to_string(options.maxDepth) +
                  " levels");
    return true;
  }

  bool parseObject(Value &out, unsigned depth) {
    if (!checkDepth(depth))
      return false;
    ++pos; // '{'
    Object members;
    std::unordered_set<std::string> seen;
    skipWhitespace();
    if (consume('}')) {
      out = Value(std::move(members));
      return true;
    }
    while (true) {
      if (pos >= text.size())
        return fail("expected a string key, got the end of the input");
      if (peek() != '"')
        return fail(peek() == '}' && !members.empty()
                        ? std::string("trailing comma before '}'")
                        : "expected a string key, got " + describeByte(peek()));
      size_t keyPos = pos;
      std::string key;
      if (!parseString(key))
        return false;
      if (!options.allowDuplicateKeys && isDuplicate(members, seen, key))
        return failAt(keyPos, "duplicate key " + quoteForMessage(key));
      skipWhitespace();
      if (!consume(':'))
        return fail(pos >= text.size()
                        ? std::string("expected ':' after the key, got the "
                                      "end of the input")
                        : "expected ':' after the key, got " +
                              describeByte(peek()));
      skipWhitespace();
      Value value;
      if (!parseValue(value, depth))
        return false;
      members.emplace_back(std::move(key), std::move(value));
      skipWhitespace();
      if (consume('}'))
        break;
      if (!consume(','))
        return fail(pos >= text.size()
                        ? std::string("unterminated object")
                        : "expected ',' or '}' in an object, got " +
                              describeByte(peek()));
      skipWhitespace();
    }
    out = Value(std::move(members));
    return true;
  }

  /// Whether `key` repeats a key of `members`; `seen` takes over from the
  /// scan once the object is large.
  static bool isDuplicate(const Object &members,
                          std::unordered_set<std::string> &seen,
                          const std::string &key) {
    if (members.size() < maxKeysScanned) {
      for (const auto &member : members)
        if (member.first == key)
          return true;
      return false;
    }
    if (seen.empty())
      for (const auto &member : members)
        seen.insert(member.first);
    return !seen.insert(key).second;
  }

  bool parseArray(Value &out, unsigned depth) {
    if (!checkDepth(depth))
      return false;
    ++pos; // '['
    Array elements;
    skipWhitespace();
    if (consume(']')) {
      out = Value(std::move(elements));
      return true;
    }
    while (true) {
      if (pos < text.size() && peek() == ']' && !elements.empty())
        return fail("trailing comma before ']'");
      Value element;
      if (!parseValue(element, depth))
        return false;
      elements.push_back(std::move(element));
      skipWhitespace();
      if (consume(']'))
        break;
      if (!consume(','))
        return fail(pos >= text.size()
                        ? std::string("unterminated array")
                        : "expected ',' or ']' in an array, got " +
                              describeByte(peek()));
      skipWhitespace();
    }
    out = Value(std::move(elements));
    return true;
  }

  bool parseLiteral(std::string_view word, Value value, Value &out) {
    if (text.substr(pos, word.size()) != word)
      return fail("invalid literal, expected '" + std::string(word) + "'");
    pos += word.size();
    out = std::move(value);
    return true;
  }

  bool parseNumber(Value &out) {
    size_t start = pos;
    consume('-');
    if (pos >= text.size() || !isDigit(peek()))
      return fail("expected a digit after '-'");
    if (peek() == '0') {
      ++pos;
      if (pos < text.size() && isDigit(peek()))
        return failAt(start, "leading zeros are not allowed in a number");
    } else {
      skipDigits();
    }
    bool integral = true;
    if (consume('.')) {
      integral = false;
      if (pos >= text.size() || !isDigit(peek()))
        return fail("expected a digit after the decimal point");
      skipDigits();
    }
    if (pos < text.size() && (peek() == 'e' || peek() == 'E')) {
      integral = false;
      ++pos;
      if (!consume('+'))
        consume('-');
      if (pos >= text.size() || !isDigit(peek()))
        return fail("expected a digit in the exponent");
      skipDigits();
    }
    const char *first = text.data() + start;
    const char *last = text.data() + pos;
    if (integral) {
      int64_t i = 0;
      auto [end, ec] = std::from_chars(first, last, i);
      if (ec == std::errc() && end == last) {
        out = Value(i);
        return true;
      }
      // Too large for int64: read it as a double below.
    }
    double d = 0;
    auto [end, ec] = std::from_chars(first, last, d);
    // from_chars reports both overflow and underflow as out of range;
    // underflow rounds to zero, overflow has no double to give.
    if (ec == std::errc::result_out_of_range) {
      if (!isBelowOne(std::string_view(first, size_t(last - first))))
        return failAt(start, "number " +
                                 quoteForMessage(std::string_view(
                                     first, size_t(last - first))) +
                                 " is out of the range of a double");
      d = 0.0;
      if (*first == '-')
        d = -0.0;
    } else if (ec != std::errc() || end != last || !std::isfinite(d)) {
      return failAt(start, "invalid number");
    }
    out = Value(d);
    return true;
  }

  /// Whether the magnitude of a well-formed JSON number is below one, which
  /// tells an underflow (read as zero) from an overflow.
  static bool isBelowOne(std::string_view number) {
    size_t i = number[0] == '-' ? 1 : 0;
    // The decimal exponent of the leading non-zero digit, before the 'e'
    // part. JSON allows no leading zeros, so only "0.000ddd" starts with 0.
    int64_t leading;
    if (number[i] != '0') {
      size_t digits = 0;
      for (; i < number.size() && isDigit(uint8_t(number[i])); ++i)
        ++digits;
      leading = int64_t(digits) - 1;
    } else {
      int64_t zeros = 0;
      if (++i < number.size() && number[i] == '.')
        for (++i; i < number.size() && number[i] == '0'; ++i)
          ++zeros;
      if (i >= number.size() || !isDigit(uint8_t(number[i])))
        return true; // the number is zero
      leading = -zeros - 1;
    }
    size_t e = number.find_first_of("eE");
    int64_t exponent = 0;
    if (e != std::string_view::npos) {
      size_t j = e + 1;
      bool negative = number[j] == '-';
      if (number[j] == '-' || number[j] == '+')
        ++j;
      // Saturate: any exponent this large decides the answer alone.
      for (; j < number.size() && exponent < (int64_t(1) << 40); ++j)
        exponent = exponent * 10 + (number[j] - '0');
      if (negative)
        exponent = -exponent;
    }
    return leading + exponent < 0;
  }

  bool parseString(std::string &out) {
    ++pos; // '"'
    while (true) {
      // Copy the run of plain ASCII in one go.
      size_t runStart = pos;
      while (pos < text.size()) {
        uint8_t c = peek();
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
          break;
        ++pos;
      }
      out.append(text.data() + runStart, pos - runStart);
      if (pos >= text.size())
        return fail("unterminated string");
      uint8_t c = peek();
      if (c == '"') {
        ++pos;
        return true;
      }
      if (c == '\\') {
        if (!parseEscape(out))
          return false;
        continue;
      }
      if (c < 0x20)
        return fail("control character " + describeByte(c) +
                    " must be escaped in a string");
      if (!copyUtf8Sequence(out))
        return false;
    }
  }

  bool parseEscape(std::string &out) {
    size_t escapeStart = pos;
    ++pos; // '\\'
    if (pos >= text.size())
      return fail("unterminated string");
    char c = char(peek());
    ++pos;
    switch (c) {
    case '"':
    case '\\':
    case '/':
      out += c;
      return true;
    case 'b':
      out += '\b';
      return true;
    case 'f':
      out += '\f';
      return true;
    case 'n':
      out += '\n';
      return true;
    case 'r':
      out += '\r';
      return true;
    case 't':
      out += '\t';
      return true;
    case 'u':
      break;
    default:
      return failAt(escapeStart, "invalid escape '\\" +
                                     (uint8_t(c) >= 0x20 && uint8_t(c) < 0x7f
                                          ? std::string(1, c)
                                          : describeByte(uint8_t(c))) +
                                     "' in a string");
    }
    uint32_t code = 0;
    if (!readHex4(code))
      return false;
    if (code >= 0xDC00 && code <= 0xDFFF)
      return failAt(escapeStart,
                    "lone low surrogate \\u" + hex4(code) + " in a string");
    if (code >= 0xD800 && code <= 0xDBFF) {
      if (text.substr(pos, 2) != "\\u")
        return failAt(escapeStart, "high surrogate \\u" + hex4(code) +
                                       " is not followed by a low surrogate");
      size_t lowStart = pos;
      pos += 2;
      uint32_t low = 0;
      if (!readHex4(low))
        return false;
      if (low < 0xDC00 || low > 0xDFFF)
        return failAt(lowStart, "high surrogate \\u" + hex4(code) +
                                    " is followed by \\u" + hex4(low) +
                                    ", not a low surrogate");
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    appendUtf8(out, code);
    return true;
  }

  bool readHex4(uint32_t &code) {
    code = 0;
    for (int i = 0; i < 4; ++i, ++pos) {
      if (pos >= text.size())
        return fail("unterminated \\u escape");
      uint8_t c = peek();
      uint32_t digit;
      if (c >= '0' && c <= '9')
        digit = c - '0';
      else if (c >= 'a' && c <= 'f')
        digit = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        digit = c - 'A' + 10;
      else
        return fail("expected 4 hex digits after \\u, got " + describeByte(c));
      code = code * 16 + digit;
    }
    return true;
  }

  static std::string hex4(uint32_t code) {
    std::string s;
    for (int shift = 12; shift >= 0; shift -= 4)
      s += hexDigits[(code >> shift) & 15];
    return s;
  }

  static void appendUtf8(std::string &out, uint32_t code) {
    if (code < 0x80) {
      out += char(code);
    } else if (code < 0x800) {
      out += char(0xC0 | (code >> 6));
      out += char(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += char(0xE0 | (code >> 12));
      out += char(0x80 | ((code >> 6) & 0x3F));
      out += char(0x80 | (code & 0x3F));
    } else {
      out += char(0xF0 | (code >> 18));
      out += char(0x80 | ((code >> 12) & 0x3F));
      out += char(0x80 | ((code >> 6) & 0x3F));
      out += char(0x80 | (code & 0x3F));
    }
  }

  /// Validates one multi-byte UTF-8 sequence at `pos` (RFC 3629: no overlong
  /// forms, no surrogates, nothing above U+10FFFF) and appends it.
  bool copyUtf8Sequence(std::string &out) {
    uint8_t lead = peek();
    size_t length;
    uint8_t secondMin = 0x80, secondMax = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0)
        secondMin = 0xA0; // overlong below U+0800
      else if (lead == 0xED)
        secondMax = 0x9F; // U+D800..U+DFFF are surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0)
        secondMin = 0x90; // overlong below U+10000
      else if (lead == 0xF4)
        secondMax = 0x8F; // above U+10FFFF
    } else {
      return fail("invalid UTF-8: " + describeByte(lead) +
                  " cannot start a character");
    }
    if (text.size() - pos < length)
      return fail("invalid UTF-8: the input ends inside a character");
    for (size_t i = 1; i < length; ++i) {
      uint8_t c = uint8_t(text[pos + i]);
      uint8_t lo = i == 1 ? secondMin : 0x80;
      uint8_t hi = i == 1 ? secondMax : 0xBF;
      if (c < lo || c > hi)
        return failAt(pos + i, "invalid UTF-8: " + describeByte(c) +
                                   " cannot follow lead byte " + hexByte(lead));
    }
    out.append(text.data() + pos, length);
    pos += length;
    return true;
  }

  void skipWhitespace() {
    while (pos < text.size()) {
      char c = text[pos];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        return;
      ++pos;
    }
  }

  void skipDigits() {
    while (pos < text.size() && isDigit(peek()))
      ++pos;
  }

  bool consume(char c) {
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }

  uint8_t peek() const { return uint8_t(text[pos]); }
  static bool isDigit(uint8_t c) { return c >= '0' && c <= '9'; }

  bool fail(const std::string &what) { return failAt(pos, what); }

  /// Records the error; returns false for the callers to pass on.
  bool failAt(size_t at, const std::string &what) {
    error = "JSON at byte " + std::to_string(at) + ": " + what;
    return false;
  }

  std::string_view text;
  const ParseOptions &options;
  size_t pos = 0;
  size_t valueCount = 0;
  std::string error;
};

} // namespace

Expected<Value> json::parse(std::string_view text,
                            const ParseOptions &options) {
  return Parser(text, options).parseDocument();
}
