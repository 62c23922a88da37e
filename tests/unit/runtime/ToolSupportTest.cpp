//===- ToolSupportTest.cpp - the runtime tools' flags and JSON ------------===//

#include "runtime/support/CommandLine.h"
#include "runtime/support/JsonWriter.h"

#include <gtest/gtest.h>

#include <limits>

#include <sstream>

using namespace lathe::rt;

namespace {

Expected<CommandLine> parse(std::vector<const char *> args) {
  args.insert(args.begin(), "tool");
  return CommandLine::parse(int(args.size()), args.data(),
                            {{"json", false},
                             {"threads", true},
                             {"input", true, true},
                             {"help", false}});
}

TEST(CommandLine, SplitsFlagsAndPositionals) {
  Expected<CommandLine> line =
      parse({"m.lathe", "--threads=4", "call", "f", "--input", "@a.npy",
             "--input=@b.npy", "--json", "--", "--not-a-flag"});
  ASSERT_TRUE(line.ok()) << line.status().message();
  EXPECT_EQ(line->positionals(),
            (std::vector<std::string>{"m.lathe", "call", "f", "--not-a-flag"}));
  EXPECT_EQ(line->value("threads"), std::optional<std::string>("4"));
  EXPECT_EQ(line->values("input"),
            (std::vector<std::string>{"@a.npy", "@b.npy"}));
  EXPECT_TRUE(line->has("json"));
  EXPECT_FALSE(line->has("help"));
  EXPECT_TRUE(parse({"-h"})->has("help"));
}

TEST(CommandLine, NamesEveryMistake) {
  EXPECT_EQ(parse({"--thread=4"}).status().message(),
            "unknown option '--thread'");
  EXPECT_EQ(parse({"-x"}).status().message(),
            "unknown option '-x' (options are spelled --name)");
  EXPECT_EQ(parse({"--threads"}).status().message(),
            "--threads needs a value: --threads=VALUE");
  EXPECT_EQ(parse({"--json=yes"}).status().message(), "--json takes no value");
  EXPECT_EQ(parse({"--threads=1", "--threads=2"}).status().message(),
            "--threads is given more than once");
}

TEST(CommandLine, ParsesNumbers) {
  EXPECT_EQ(*parseInteger("n", "12", 0, 100), 12);
  EXPECT_EQ(parseInteger("n", "12x", 0, 100).status().message(),
            "--n=12x: not an integer");
  EXPECT_EQ(parseInteger("n", "", 0, 100).status().message(),
            "--n=: not an integer");
  EXPECT_EQ(parseInteger("n", "101", 0, 100).status().message(),
            "--n=101: must be in [0, 100]");
  EXPECT_EQ(
      parseInteger("n", "99999999999999999999", 0, 100).status().message(),
      "--n=99999999999999999999: must be in [0, 100]");
  EXPECT_EQ(*parseUnsigned("seed", "18446744073709551615"),
            18446744073709551615ull);
  EXPECT_EQ(parseUnsigned("seed", "-1").status().message(),
            "--seed=-1: not an unsigned integer");
  EXPECT_EQ(parseUnsigned("seed", "18446744073709551616").status().message(),
            "--seed=18446744073709551616: does not fit in 64 bits");
  EXPECT_EQ(*parseNumber("t", "0.75"), 0.75);
  EXPECT_EQ(parseNumber("t", "inf").status().message(),
            "--t=inf: not a finite number");
  EXPECT_EQ(parseNumber("t", "warm").status().message(),
            "--t=warm: not a number");
}

TEST(JsonWriter, WritesNestedValues) {
  std::ostringstream out;
  JsonWriter json(out, /*pretty=*/false);
  json.beginObject();
  json.member("name", "cpu");
  json.member("count", 3);
  json.member("big", uint64_t(18446744073709551615ull));
  json.member("rate", 2.5);
  json.member("nan", std::numeric_limits<double>::quiet_NaN());
  json.member("ok", true);
  json.key("list");
  json.beginArray();
  json.value(int64_t(-1));
  json.beginObject();
  json.endObject();
  json.beginArray();
  json.endArray();
  json.endArray();
  json.endObject();
  EXPECT_EQ(out.str(), "{\"name\":\"cpu\",\"count\":3,\"big\":"
                       "18446744073709551615,\"rate\":2.5,\"nan\":null,"
                       "\"ok\":true,\"list\":[-1,{},[]]}");
}

TEST(JsonWriter, EscapesStringsIntoValidJson) {
  std::ostringstream out;
  JsonWriter json(out, false);
  json.value(std::string_view("a\"b\\c\n\x01 \xc3\xa9 \xff \xe2\x82", 15));
  EXPECT_EQ(out.str(),
            "\"a\\\"b\\\\c\\u000a\\u0001 \xc3\xa9 \\ufffd \\ufffd\\ufffd\"");
}

TEST(JsonWriter, IndentsWhenPretty) {
  std::ostringstream out;
  JsonWriter json(out);
  json.beginObject();
  json.key("a");
  json.beginArray();
  json.value(1);
  json.endArray();
  json.endObject();
  EXPECT_EQ(out.str(), "{\n  \"a\": [\n    1\n  ]\n}\n");
}

} // namespace
