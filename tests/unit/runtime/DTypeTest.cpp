//===- DTypeTest.cpp - safetensors element types --------------------------===//

#include "runtime/support/DType.h"

#include <gtest/gtest.h>

#include <string>

using namespace lathe::rt;

namespace {

struct Expectation {
  DType dtype;
  const char *name;
  size_t size;
};

const Expectation allDTypes[] = {
    {DType::Bool, "BOOL", 1},      {DType::U8, "U8", 1},
    {DType::I8, "I8", 1},          {DType::U16, "U16", 2},
    {DType::I16, "I16", 2},        {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2},      {DType::U32, "U32", 4},
    {DType::I32, "I32", 4},        {DType::F32, "F32", 4},
    {DType::U64, "U64", 8},        {DType::I64, "I64", 8},
    {DType::F64, "F64", 8},        {DType::F8E4M3, "F8_E4M3", 1},
    {DType::F8E5M2, "F8_E5M2", 1},
};

TEST(DType, NamesAndSizes) {
  for (const Expectation &e : allDTypes) {
    SCOPED_TRACE(e.name);
    EXPECT_STREQ(dtypeName(e.dtype), e.name);
    EXPECT_EQ(dtypeSize(e.dtype), e.size);
    std::optional<DType> parsed = parseDType(e.name);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, e.dtype);
  }
}

TEST(DType, RejectsOtherSpellings) {
  for (const char *name :
       {"", "bf16", "F8_E4M3FN", "FP8", "F8E4M3", "BF16 ", "F128", "C64"}) {
    SCOPED_TRACE(name);
    EXPECT_FALSE(parseDType(name).has_value());
  }
  EXPECT_FALSE(parseDType(std::string_view("BF16\0", 5)).has_value());
}

} // namespace
