//===- JsonTest.cpp - the strict JSON parser ------------------------------===//

#include "runtime/support/Json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace lathe::rt;
using namespace lathe::rt::json;

namespace {

Value parseOk(std::string_view text, const ParseOptions &options = {}) {
  Expected<Value> value = parse(text, options);
  EXPECT_TRUE(value.ok()) << "input: " << text << "\n"
                          << value.status().message();
  return value.ok() ? std::move(*value) : Value();
}

std::string parseError(std::string_view text,
                       const ParseOptions &options = {}) {
  Expected<Value> value = parse(text, options);
  EXPECT_FALSE(value.ok()) << "input was accepted: " << text;
  return value.status().message();
}

TEST(Json, Literals) {
  EXPECT_TRUE(parseOk("null").isNull());
  EXPECT_TRUE(parseOk("true").asBool());
  EXPECT_FALSE(parseOk("false").asBool());
  EXPECT_TRUE(parseOk(" \t\r\n true \n").isBool());
}

TEST(Json, Integers) {
  EXPECT_EQ(parseOk("0").asInt(), 0);
  EXPECT_EQ(parseOk("-0").kind(), Kind::Int);
  EXPECT_EQ(parseOk("42").asInt(), 42);
  EXPECT_EQ(parseOk("-17").asInt(), -17);
  EXPECT_EQ(parseOk("9223372036854775807").asInt(),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parseOk("-9223372036854775808").asInt(),
            std::numeric_limits<int64_t>::min());
  EXPECT_DOUBLE_EQ(parseOk("7").asDouble(), 7.0);
}

TEST(Json, IntegersBeyondInt64BecomeDoubles) {
  Value big = parseOk("9223372036854775808");
  ASSERT_EQ(big.kind(), Kind::Double);
  EXPECT_DOUBLE_EQ(big.asDouble(), 9223372036854775808.0);
  Value small = parseOk("-9223372036854775809");
  ASSERT_EQ(small.kind(), Kind::Double);
  EXPECT_DOUBLE_EQ(small.asDouble(), -9223372036854775808.0);
  Value huge = parseOk("123456789012345678901234567890");
  ASSERT_EQ(huge.kind(), Kind::Double);
  EXPECT_DOUBLE_EQ(huge.asDouble(), 1.2345678901234568e29);
}

TEST(Json, Doubles) {
  Value half = parseOk("0.5");
  EXPECT_EQ(half.kind(), Kind::Double);
  EXPECT_TRUE(half.isNumber());
  EXPECT_DOUBLE_EQ(half.asDouble(), 0.5);
  EXPECT_DOUBLE_EQ(parseOk("-1.25e3").asDouble(), -1250.0);
  EXPECT_DOUBLE_EQ(parseOk("1E+2").asDouble(), 100.0);
  EXPECT_DOUBLE_EQ(parseOk("1e-6").asDouble(), 1e-6);
  // An exponent makes a double even when the value is whole.
  EXPECT_EQ(parseOk("1e2").kind(), Kind::Double);
  EXPECT_EQ(parseOk("1.0").kind(), Kind::Double);
}

TEST(Json, UnderflowIsZeroOverflowIsAnError) {
  EXPECT_EQ(parseOk("1e-400").asDouble(), 0.0);
  EXPECT_EQ(parseOk("0.00000000000000000000000000000000000000000000001e-300")
                .asDouble(),
            0.0);
  Value negative = parseOk("-1e-400");
  EXPECT_EQ(negative.asDouble(), 0.0);
  EXPECT_TRUE(std::signbit(negative.asDouble()));
  EXPECT_EQ(parseOk("0e999999999999999999999").asDouble(), 0.0);
  EXPECT_EQ(parseError("[1e400]"),
            "JSON at byte 1: number '1e400' is out of the range of a double");
  EXPECT_EQ(parseError("-1e99999999999999999999"),
            "JSON at byte 0: number '-1e99999999999999999999' is out of the "
            "range of a double");
  EXPECT_EQ(parseError(std::string(400, '9')).substr(0, 24),
            "JSON at byte 0: number '");
}

TEST(Json, MalformedNumbers) {
  EXPECT_EQ(parseError("01"),
            "JSON at byte 0: leading zeros are not allowed in a number");
  EXPECT_EQ(parseError("-"), "JSON at byte 1: expected a digit after '-'");
  EXPECT_EQ(parseError("-a"), "JSON at byte 1: expected a digit after '-'");
  EXPECT_EQ(parseError("1."),
            "JSON at byte 2: expected a digit after the decimal point");
  EXPECT_EQ(parseError("1.e5"),
            "JSON at byte 2: expected a digit after the decimal point");
  EXPECT_EQ(parseError("1e"),
            "JSON at byte 2: expected a digit in the exponent");
  EXPECT_EQ(parseError("1e+"),
            "JSON at byte 3: expected a digit in the exponent");
  EXPECT_EQ(parseError(".5"), "JSON at byte 0: expected a value, got '.'");
  EXPECT_EQ(parseError("+1"), "JSON at byte 0: expected a value, got '+'");
  EXPECT_EQ(parseError("NaN"), "JSON at byte 0: expected a value, got 'N'");
  EXPECT_EQ(parseError("Infinity"),
            "JSON at byte 0: expected a value, got 'I'");
  EXPECT_EQ(parseError("-Infinity"),
            "JSON at byte 1: expected a digit after '-'");
  EXPECT_EQ(parseError("0x10"),
            "JSON at byte 1: unexpected 'x' after the JSON value");
}

TEST(Json, BadLiterals) {
  EXPECT_EQ(parseError("tru"),
            "JSON at byte 0: invalid literal, expected 'true'");
  EXPECT_EQ(parseError("nul"),
            "JSON at byte 0: invalid literal, expected 'null'");
  EXPECT_EQ(parseError("False"), "JSON at byte 0: expected a value, got 'F'");
  EXPECT_EQ(parseError("[fals]"),
            "JSON at byte 1: invalid literal, expected 'false'");
}

TEST(Json, Strings) {
  EXPECT_EQ(parseOk("\"\"").asString(), "");
  EXPECT_EQ(parseOk("\"plain\"").asString(), "plain");
  EXPECT_EQ(parseOk(R"("a\"b\\c\/d\be\ff\ng\rh\ti")").asString(),
            "a\"b\\c/d\be\ff\ng\rh\ti");
  EXPECT_EQ(parseOk(R"("\u0041\u00e9\u20AC")").asString(),
            "A\xC3\xA9\xE2\x82\xAC");
  // A surrogate pair is one code point, U+1F600.
  EXPECT_EQ(parseOk(R"("\uD83D\uDE00")").asString(), "\xF0\x9F\x98\x80");
  // NUL is allowed once escaped.
  EXPECT_EQ(parseOk(R"("a\u0000b")").asString(), std::string("a\0b", 3));
  // Raw UTF-8 of every length passes through.
  EXPECT_EQ(parseOk("\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\"")
                .asString(),
            "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF");
}

TEST(Json, BadStrings) {
  EXPECT_EQ(parseError("\"abc"), "JSON at byte 4: unterminated string");
  EXPECT_EQ(parseError("\"abc\\"), "JSON at byte 5: unterminated string");
  EXPECT_EQ(parseError("\"a\nb\""), "JSON at byte 2: control character byte "
                                    "0x0A must be escaped in a string");
  EXPECT_EQ(parseError(std::string("\"a\0b\"", 5)),
            "JSON at byte 2: control character byte 0x00 must be escaped in "
            "a string");
  EXPECT_EQ(parseError(R"("a\qb")"),
            "JSON at byte 2: invalid escape '\\q' in a string");
  EXPECT_EQ(parseError("\"\\\x01\""),
            "JSON at byte 1: invalid escape '\\byte 0x01' in a string");
  EXPECT_EQ(parseError(R"("\u12G4")"),
            "JSON at byte 5: expected 4 hex digits after \\u, got 'G'");
  EXPECT_EQ(parseError(R"("\u12)"), "JSON at byte 5: unterminated \\u escape");
  EXPECT_EQ(parseError("'single'"),
            "JSON at byte 0: expected a value, got '''");
}

TEST(Json, BadSurrogates) {
  EXPECT_EQ(parseError(R"("x\uDE00")"),
            "JSON at byte 2: lone low surrogate \\uDE00 in a string");
  EXPECT_EQ(parseError(R"("\uD83D")"),
            "JSON at byte 1: high surrogate \\uD83D is not followed by a low "
            "surrogate");
  EXPECT_EQ(parseError(R"("\uD83Dx")"),
            "JSON at byte 1: high surrogate \\uD83D is not followed by a low "
            "surrogate");
  EXPECT_EQ(parseError(R"("\uD83D\u0041")"),
            "JSON at byte 7: high surrogate \\uD83D is followed by \\u0041, "
            "not a low surrogate");
  EXPECT_EQ(parseError(R"("\uD83D\uD83D")"),
            "JSON at byte 7: high surrogate \\uD83D is followed by \\uD83D, "
            "not a low surrogate");
}

TEST(Json, BadUtf8) {
  // A continuation byte cannot lead.
  EXPECT_EQ(
      parseError("\"\x80\""),
      "JSON at byte 1: invalid UTF-8: byte 0x80 cannot start a character");
  // C0 and C1 only start overlong forms of ASCII.
  EXPECT_EQ(
      parseError("\"\xC0\xAF\""),
      "JSON at byte 1: invalid UTF-8: byte 0xC0 cannot start a character");
  EXPECT_EQ(
      parseError("\"\xC1\xBF\""),
      "JSON at byte 1: invalid UTF-8: byte 0xC1 cannot start a character");
  // Overlong three- and four-byte forms.
  EXPECT_EQ(parseError("\"\xE0\x80\xAF\""),
            "JSON at byte 2: invalid UTF-8: byte 0x80 cannot follow lead byte "
            "0xE0");
  EXPECT_EQ(parseError("\"\xF0\x8F\xBF\xBF\""),
            "JSON at byte 2: invalid UTF-8: byte 0x8F cannot follow lead byte "
            "0xF0");
  // Encoded surrogate U+D800.
  EXPECT_EQ(parseError("\"\xED\xA0\x80\""),
            "JSON at byte 2: invalid UTF-8: byte 0xA0 cannot follow lead byte "
            "0xED");
  // Above U+10FFFF.
  EXPECT_EQ(parseError("\"\xF4\x90\x80\x80\""),
            "JSON at byte 2: invalid UTF-8: byte 0x90 cannot follow lead byte "
            "0xF4");
  EXPECT_EQ(
      parseError("\"\xF5\x80\x80\x80\""),
      "JSON at byte 1: invalid UTF-8: byte 0xF5 cannot start a character");
  EXPECT_EQ(
      parseError("\"\xFF\""),
      "JSON at byte 1: invalid UTF-8: byte 0xFF cannot start a character");
  // A missing continuation byte.
  EXPECT_EQ(parseError("\"\xE2\x82\""),
            "JSON at byte 3: invalid UTF-8: '\"' cannot follow lead byte 0xE2");
  EXPECT_EQ(parseError("\"\xE2\x82"),
            "JSON at byte 1: invalid UTF-8: the input ends inside a character");
  // Outside strings only ASCII structure is allowed.
  EXPECT_EQ(parseError("\xC3\xA9"),
            "JSON at byte 0: expected a value, got byte 0xC3");
  EXPECT_EQ(parseError("\xEF\xBB\xBF{}"),
            "JSON at byte 0: a byte order mark is not allowed");
}

TEST(Json, ArraysAndObjects) {
  Value doc =
      parseOk(R"({"b": [1, 2.5, "x", null, true, {}], "a": {"c": []}})");
  ASSERT_TRUE(doc.isObject());
  const Object &members = doc.asObject();
  ASSERT_EQ(members.size(), 2u);
  // Document order, not sorted.
  EXPECT_EQ(members[0].first, "b");
  EXPECT_EQ(members[1].first, "a");
  const Array &b = doc.find("b")->asArray();
  ASSERT_EQ(b.size(), 6u);
  EXPECT_EQ(b[0].asInt(), 1);
  EXPECT_DOUBLE_EQ(b[1].asDouble(), 2.5);
  EXPECT_EQ(b[2].asString(), "x");
  EXPECT_TRUE(b[3].isNull());
  EXPECT_TRUE(b[4].asBool());
  EXPECT_TRUE(b[5].isObject());
  EXPECT_TRUE(b[5].asObject().empty());
  EXPECT_TRUE(doc.find("a")->find("c")->asArray().empty());
  EXPECT_EQ(doc.find("missing"), nullptr);
  EXPECT_EQ(b[0].find("b"), nullptr);
  EXPECT_TRUE(parseOk("[]").asArray().empty());
  EXPECT_TRUE(parseOk(" [ ] ").isArray());
  EXPECT_TRUE(parseOk("{ }").isObject());
}

TEST(Json, StructuralErrors) {
  EXPECT_EQ(parseError(""), "JSON at byte 0: expected a value, got the end of "
                            "the input");
  EXPECT_EQ(parseError("   "), "JSON at byte 3: expected a value, got the end "
                               "of the input");
  EXPECT_EQ(parseError("[1,]"), "JSON at byte 3: trailing comma before ']'");
  EXPECT_EQ(parseError(R"({"a":1,})"),
            "JSON at byte 7: trailing comma before '}'");
  EXPECT_EQ(parseError("[,1]"), "JSON at byte 1: expected a value, got ','");
  EXPECT_EQ(parseError("[1 2]"),
            "JSON at byte 3: expected ',' or ']' in an array, got '2'");
  EXPECT_EQ(parseError("[1"), "JSON at byte 2: unterminated array");
  EXPECT_EQ(parseError("[1,"),
            "JSON at byte 3: expected a value, got the end of the input");
  EXPECT_EQ(parseError(R"({"a" 1})"),
            "JSON at byte 5: expected ':' after the key, got '1'");
  EXPECT_EQ(parseError(R"({"a")"),
            "JSON at byte 4: expected ':' after the key, got the end of the "
            "input");
  EXPECT_EQ(parseError(R"({"a":1 "b":2})"),
            "JSON at byte 7: expected ',' or '}' in an object, got '\"'");
  EXPECT_EQ(parseError(R"({"a":1)"), "JSON at byte 6: unterminated object");
  EXPECT_EQ(parseError("{"),
            "JSON at byte 1: expected a string key, got the end of the input");
  EXPECT_EQ(parseError("{1:2}"),
            "JSON at byte 1: expected a string key, got '1'");
  EXPECT_EQ(parseError("{a:2}"),
            "JSON at byte 1: expected a string key, got 'a'");
  EXPECT_EQ(parseError(R"({"a":})"),
            "JSON at byte 5: expected a value, got '}'");
  EXPECT_EQ(parseError("]"), "JSON at byte 0: expected a value, got ']'");
}

TEST(Json, NothingMayFollowTheValue) {
  EXPECT_EQ(parseError("{} {}"),
            "JSON at byte 3: unexpected '{' after the JSON value");
  EXPECT_EQ(parseError("1 2"), "JSON at byte 2: unexpected '2' after the JSON "
                               "value");
  EXPECT_EQ(parseError("[]]"),
            "JSON at byte 2: unexpected ']' after the JSON value");
  EXPECT_EQ(parseError(std::string("{}\0", 3)),
            "JSON at byte 2: unexpected byte 0x00 after the JSON value");
  EXPECT_EQ(parseError("{} // comment"),
            "JSON at byte 3: unexpected '/' after the JSON value");
  EXPECT_EQ(parseError("/* c */ {}"),
            "JSON at byte 0: expected a value, got '/'");
}

TEST(Json, DepthBound) {
  std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_TRUE(parseOk(ok).isArray());
  std::string deep = std::string(65, '[') + std::string(65, ']');
  EXPECT_EQ(parseError(deep), "JSON at byte 64: nested deeper than 64 levels");
  // Far deeper input fails at the bound, without exhausting the stack.
  std::string hostile(1 << 20, '[');
  EXPECT_EQ(parseError(hostile),
            "JSON at byte 64: nested deeper than 64 levels");
  std::string objects;
  for (int i = 0; i < 65; ++i)
    objects += "{\"a\":";
  EXPECT_EQ(parseError(objects),
            "JSON at byte 320: nested deeper than 64 levels");

  ParseOptions shallow;
  shallow.maxDepth = 2;
  EXPECT_TRUE(parseOk("[[1]]", shallow).isArray());
  EXPECT_EQ(parseError("[{\"a\":[]}]", shallow),
            "JSON at byte 6: nested deeper than 2 levels");
}

TEST(Json, SizeBound) {
  ParseOptions options;
  options.maxBytes = 8;
  EXPECT_TRUE(parseOk("[1,2,3]", options).isArray());
  EXPECT_EQ(parseError("[1,2,3,4]", options),
            "JSON at byte 0: input is 9 bytes, more than the limit of 8");
}

TEST(Json, ValueCountBound) {
  ParseOptions options;
  options.maxValues = 4;
  // The array itself and three elements.
  EXPECT_EQ(parseOk("[1,2,3]", options).asArray().size(), 3u);
  EXPECT_EQ(parseError("[1,2,3,4]", options),
            "JSON at byte 7: more than 4 values");
  EXPECT_TRUE(parseOk(R"({"a":[1],"b":2})", options).isObject());
  options.maxValues = 3;
  EXPECT_EQ(parseError(R"({"a":[1],"b":2})", options),
            "JSON at byte 13: more than 3 values");
}

TEST(Json, DuplicateKeys) {
  EXPECT_EQ(parseError(R"({"a":1,"b":2,"a":3})"),
            "JSON at byte 13: duplicate key 'a'");
  // Keys compare after unescaping.
  EXPECT_EQ(parseError(R"({"a":1,"\u0061":2})"),
            "JSON at byte 7: duplicate key 'a'");
  EXPECT_EQ(parseError(R"({"x":{"k":1,"k":2}})"),
            "JSON at byte 12: duplicate key 'k'");
  // The same key in sibling objects is fine.
  EXPECT_TRUE(parseOk(R"([{"k":1},{"k":2}])").isArray());

  ParseOptions allow;
  allow.allowDuplicateKeys = true;
  Value doc = parseOk(R"({"a":1,"a":2})", allow);
  ASSERT_EQ(doc.asObject().size(), 2u);
  EXPECT_EQ(doc.find("a")->asInt(), 1);
}

TEST(Json, DuplicateKeysInLargeObjects) {
  std::string text = "{";
  for (int i = 0; i < 100; ++i)
    text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  std::string unique = text + "\"last\":0}";
  Value doc = parseOk(unique);
  ASSERT_EQ(doc.asObject().size(), 101u);
  EXPECT_EQ(doc.find("k57")->asInt(), 57);
  std::string repeated = text + "\"k3\":0}";
  std::string message = parseError(repeated);
  EXPECT_EQ(message, "JSON at byte " + std::to_string(text.size()) +
                         ": duplicate key 'k3'");
}

TEST(Json, MessagesEscapeOddKeys) {
  EXPECT_EQ(parseError("{\"\\n\\u00e9\":1,\"\\n\\u00e9\":2}"),
            "JSON at byte 14: duplicate key '\\x0A\\xC3\\xA9'");
  std::string longKey(100, 'k');
  EXPECT_EQ(parseError("{\"" + longKey + "\":1,\"" + longKey + "\":2}"),
            "JSON at byte 106: duplicate key '" + std::string(64, 'k') +
                "...'");
}

TEST(Json, ValuesCopyDeeply) {
  Value original = parseOk(R"({"list": [1, {"s": "text"}]})");
  Value copy = original;
  Value assigned;
  assigned = copy;
  original = Value(int64_t(5));
  EXPECT_EQ(original.asInt(), 5);
  EXPECT_EQ(copy.find("list")->asArray()[1].find("s")->asString(), "text");
  EXPECT_EQ(assigned.find("list")->asArray()[0].asInt(), 1);
  Value moved = std::move(copy);
  EXPECT_EQ(moved.find("list")->asArray().size(), 2u);
}

TEST(Json, KindNames) {
  EXPECT_STREQ(kindName(Kind::Null), "null");
  EXPECT_STREQ(kindName(Kind::Bool), "a boolean");
  EXPECT_STREQ(kindName(Kind::Int), "an integer");
  EXPECT_STREQ(kindName(Kind::Double), "a number");
  EXPECT_STREQ(kindName(Kind::String), "a string");
  EXPECT_STREQ(kindName(Kind::Array), "an array");
  EXPECT_STREQ(kindName(Kind::Object), "an object");
}

} // namespace
