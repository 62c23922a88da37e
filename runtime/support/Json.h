//===- Json.h - a small strict JSON parser ----------------------*- C++ -*-===//
//
// For untrusted input (safetensors headers, config.json, index files): RFC
// 8259 only (no comments, no trailing commas, no NaN), UTF-8 checked, nesting
// depth, input size and value count bounded, and every error gives the byte
// offset where parsing stopped. Numbers without fraction or exponent that fit
// in int64 are integers; all others are doubles.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_SUPPORT_JSON_H
#define LATHE_RUNTIME_SUPPORT_JSON_H

#include "runtime/support/Status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lathe::rt::json {

class Value;
using Array = std::vector<Value>;
/// Members in document order; keys are unique unless the parse allowed
/// duplicates.
using Object = std::vector<std::pair<std::string, Value>>;

enum class Kind : uint8_t { Null, Bool, Int, Double, String, Array, Object };

/// The name of a kind as a message would say it ("an object", "a string").
const char *kindName(Kind kind);

class Value {
public:
  Value() = default;
  Value(std::nullptr_t) {}
  explicit Value(bool b) : k(Kind::Bool) { scalar.b = b; }
  explicit Value(int64_t i) : k(Kind::Int) { scalar.i = i; }
  explicit Value(double d) : k(Kind::Double) { scalar.d = d; }
  explicit Value(std::string s);
  explicit Value(Array a);
  explicit Value(Object o);

  Value(const Value &other);
  Value &operator=(const Value &other);
  Value(Value &&other) noexcept = default;
  Value &operator=(Value &&other) noexcept = default;
  ~Value() = default;

  Kind kind() const { return k; }
  bool isNull() const { return k == Kind::Null; }
  bool isBool() const { return k == Kind::Bool; }
  bool isInt() const { return k == Kind::Int; }
  /// Int or Double.
  bool isNumber() const { return k == Kind::Int || k == Kind::Double; }
  bool isString() const { return k == Kind::String; }
  bool isArray() const { return k == Kind::Array; }
  bool isObject() const { return k == Kind::Object; }

  // The accessors assert the kind; check it first.
  bool asBool() const;
  int64_t asInt() const;
  /// The number as a double (integers converted).
  double asDouble() const;
  const std::string &asString() const;
  const Array &asArray() const;
  const Object &asObject() const;

  /// The member named `key` of an object (the first one), or null when this
  /// is not an object or has no such member. Linear in the member count.
  const Value *find(std::string_view key) const;

private:
  Kind k = Kind::Null;
  union {
    bool b;
    int64_t i;
    double d;
  } scalar{};
  // One of these is set for String, Array and Object.
  std::unique_ptr<std::string> str;
  std::unique_ptr<Array> arr;
  std::unique_ptr<Object> obj;
};

struct ParseOptions {
  /// Arrays and objects nested deeper than this are an error.
  unsigned maxDepth = 64;
  /// Longer input is an error before any parsing.
  size_t maxBytes = 100u << 20;
  /// Bounds the memory a small hostile input can make the parser allocate.
  size_t maxValues = 1u << 22;
  /// When false, an object with a repeated key is an error.
  bool allowDuplicateKeys = false;
};

/// Parses one JSON value; whitespace may surround it, nothing else may.
/// Errors read "JSON at byte N: what was wrong".
Expected<Value> parse(std::string_view text, const ParseOptions &options = {});

} // namespace lathe::rt::json

#endif // LATHE_RUNTIME_SUPPORT_JSON_H
