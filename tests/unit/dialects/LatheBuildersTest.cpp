//===- LatheBuildersTest.cpp - the lathe ops built from C++ ---------------===//
//
// Frontends and passes build lathe IR through these builders: results must
// get the inferred types, and the verifiers must accept what is consistent and
// reject what is not, naming the offending tensor.
//
//===----------------------------------------------------------------------===//

#include "dialects/lathe/IR/LatheOps.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <gtest/gtest.h>

using namespace mlir;
using namespace lathe;

namespace {

class LatheBuilders : public ::testing::Test {
protected:
  LatheBuilders() : builder(&context) {
    context.loadDialect<LatheDialect, func::FuncDialect>();
    module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
    // Collect diagnostics instead of printing them.
    handler.emplace(&context, [this](Diagnostic &diag) {
      diagnostics.push_back(diag.str());
      return success();
    });
  }

  RankedTensorType tensor(ArrayRef<int64_t> shape, Type element) {
    return RankedTensorType::get(shape, element);
  }

  Value weight(StringRef name, ArrayRef<int64_t> shape, Type element) {
    return WeightOp::create(builder, builder.getUnknownLoc(),
                                    tensor(shape, element), name,
                                    "model.safetensors", /*offset=*/0);
  }

  /// A block argument of type `[?, ?, features]` f32 activations.
  Value activation(int64_t features) {
    Block *block = new Block();
    module->getBodyRegion().push_back(block);
    Value arg = block->addArgument(
        tensor({ShapedType::kDynamic, ShapedType::kDynamic, features},
               builder.getF32Type()),
        builder.getUnknownLoc());
    return arg;
  }

  bool verifies(Operation *op) { return succeeded(mlir::verify(op)); }

  MLIRContext context;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
  std::optional<ScopedDiagnosticHandler> handler;
  std::vector<std::string> diagnostics;
};

TEST_F(LatheBuilders, EmbeddingInfersF32ActivationsFromTokens) {
  Value table = weight("model.embed_tokens.weight", {1000, 64},
                       builder.getBF16Type());
  auto func = func::FuncOp::create(
      builder, builder.getUnknownLoc(), "f",
      builder.getFunctionType(
          {tensor({ShapedType::kDynamic, 7}, builder.getI32Type())}, {}));
  OpBuilder inner = OpBuilder::atBlockBegin(func.addEntryBlock());
  auto embedding = EmbeddingOp::create(inner, builder.getUnknownLoc(), func.getArgument(0), table);
  EXPECT_EQ(embedding.getType(),
            tensor({ShapedType::kDynamic, 7, 64}, builder.getF32Type()));
  EXPECT_TRUE(verifies(embedding));
}

TEST_F(LatheBuilders, LinearInfersOutFeaturesAndVerifies) {
  Value x = activation(64);
  Value w = weight("w", {128, 64}, builder.getBF16Type());
  auto linear = LinearOp::create(builder, builder.getUnknownLoc(), x, w);
  EXPECT_EQ(linear.getType(),
            tensor({ShapedType::kDynamic, ShapedType::kDynamic, 128},
                   builder.getF32Type()));
  EXPECT_TRUE(verifies(linear));
}

TEST_F(LatheBuilders, LinearRejectsMismatchedInFeaturesNamingTheTensor) {
  Value x = activation(32);
  Value w = weight("model.layers.0.mlp.up_proj.weight", {128, 64},
                   builder.getBF16Type());
  auto linear = LinearOp::create(builder, builder.getUnknownLoc(), x, w);
  EXPECT_FALSE(verifies(linear));
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_NE(diagnostics[0].find("'model.layers.0.mlp.up_proj.weight'"),
            std::string::npos)
      << diagnostics[0];
  EXPECT_NE(diagnostics[0].find("takes 64"), std::string::npos)
      << diagnostics[0];
}

TEST_F(LatheBuilders, FP8LinearNeedsItsBlockScale) {
  Value x = activation(300);
  Value w = weight("q", {200, 300}, builder.getType<Float8E4M3FNType>());
  Type resultType = LinearOp::inferResultType(x, w);

  auto unscaled = LinearOp::create(builder, builder.getUnknownLoc(), x, w);
  EXPECT_FALSE(verifies(unscaled));

  // ceil(200/128) x ceil(300/128) = 2 x 3 blocks.
  Value scale = weight("q_scale_inv", {2, 3}, builder.getF32Type());
  auto scaled = LinearOp::create(builder, builder.getUnknownLoc(), resultType, x, w, ValueRange{scale},
      builder.getDenseI64ArrayAttr({128, 128}));
  EXPECT_TRUE(verifies(scaled));

  Value wrongScale = weight("bad_scale_inv", {2, 2}, builder.getF32Type());
  auto wrong = LinearOp::create(builder, builder.getUnknownLoc(), resultType, x, w, ValueRange{wrongScale},
      builder.getDenseI64ArrayAttr({128, 128}));
  EXPECT_FALSE(verifies(wrong));
  EXPECT_NE(diagnostics.back().find("needs [2, 3]"), std::string::npos)
      << diagnostics.back();
}

TEST_F(LatheBuilders, LMHeadGivesF32Logits) {
  Value x = activation(64);
  Value w = weight("lm_head.weight", {1000, 64}, builder.getBF16Type());
  auto head = LMHeadOp::create(builder, builder.getUnknownLoc(), x, w);
  EXPECT_EQ(head.getType(),
            tensor({ShapedType::kDynamic, ShapedType::kDynamic, 1000},
                   builder.getF32Type()));
  EXPECT_TRUE(verifies(head));
}

TEST_F(LatheBuilders, RopeAndYarnAttributes) {
  auto yarn = YarnAttr::get(&context, /*factor=*/40.0, 4096, 32.0, 1.0, 1.0,
                            1.0);
  auto rope = RopeAttr::get(&context, 10000.0, yarn);
  EXPECT_EQ(rope.getYarn(), yarn);
  EXPECT_DOUBLE_EQ(rope.getTheta().convertToDouble(), 10000.0);
  // m = 0.1 * mscale_all_dim * ln(40) + 1
  EXPECT_NEAR(yarn.getSoftmaxScaleFactor(), 0.1 * std::log(40.0) + 1.0,
              1e-15);
  auto noYarn = RopeAttr::get(&context, 10000.0);
  EXPECT_FALSE(noYarn.getYarn());
}

TEST_F(LatheBuilders, WeightBytesFollowDtype) {
  auto bf16 = weight("a", {3, 5}, builder.getBF16Type())
                  .getDefiningOp<WeightOp>();
  auto fp8 = weight("b", {3, 5}, builder.getType<Float8E4M3FNType>())
                 .getDefiningOp<WeightOp>();
  EXPECT_EQ(bf16.getNumBytes(), 30);
  EXPECT_EQ(fp8.getNumBytes(), 15);
}

TEST_F(LatheBuilders, MoERejectsTopKBeyondKeptGroups) {
  Value x = activation(16);
  Value router = weight("router", {8, 16}, builder.getF32Type());
  SmallVector<Value> gates, ups, downs;
  for (int e = 0; e < 8; ++e) {
    gates.push_back(weight("g", {4, 16}, builder.getBF16Type()));
    ups.push_back(weight("u", {4, 16}, builder.getBF16Type()));
    downs.push_back(weight("d", {16, 4}, builder.getBF16Type()));
  }
  auto build = [&](uint64_t topK) {
    return MoEOp::create(builder, builder.getUnknownLoc(), x.getType(), x, router, /*bias=*/Value(),
        gates, ups, downs, Value(), Value(), Value(), ScoringFunc::softmax,
        topK, /*n_group=*/4, /*topk_group=*/2, /*norm_topk_prob=*/false,
        /*routed_scaling_factor=*/APFloat(1.0), ValueRange(), nullptr);
  };
  EXPECT_TRUE(verifies(build(4)));  // 2 kept groups of 2 experts.
  EXPECT_FALSE(verifies(build(5)));
  EXPECT_NE(diagnostics.back().find("top_k = 5 exceeds the 4 experts"),
            std::string::npos)
      << diagnostics.back();
}

TEST_F(LatheBuilders, WeightRejectsNegativeOffset) {
  // The builder takes the offset as uint64_t; the verifier reads its sign.
  auto op = weight("w", {4}, builder.getBF16Type()).getDefiningOp<WeightOp>();
  op.setOffset(static_cast<uint64_t>(-8));
  EXPECT_FALSE(verifies(op));
  ASSERT_FALSE(diagnostics.empty());
  EXPECT_NE(diagnostics.back().find("'w' has negative offset -8"),
            std::string::npos)
      << diagnostics.back();
}

TEST_F(LatheBuilders, LinearRejectsDynamicWeightFromABlockArgument) {
  Value x = activation(64);
  Block *block = x.getParentBlock();
  Value w = block->addArgument(
      tensor({ShapedType::kDynamic, 64}, builder.getBF16Type()),
      builder.getUnknownLoc());
  auto linear =
      LinearOp::create(builder, builder.getUnknownLoc(),
                       tensor({ShapedType::kDynamic, ShapedType::kDynamic, 128},
                              builder.getF32Type()),
                       x, w, ValueRange(), nullptr);
  EXPECT_FALSE(verifies(linear));
  ASSERT_FALSE(diagnostics.empty());
  EXPECT_NE(diagnostics.back().find("weight must have a static shape, got "
                                    "[?, 64]"),
            std::string::npos)
      << diagnostics.back();
}

TEST_F(LatheBuilders, MoEWithBiasNeedsTwoExpertsPerGroup) {
  Value x = activation(16);
  Value router = weight("router", {4, 16}, builder.getF32Type());
  Value bias = weight("bias", {4}, builder.getF32Type());
  SmallVector<Value> gates, ups, downs;
  for (int e = 0; e < 4; ++e) {
    gates.push_back(weight("g", {8, 16}, builder.getBF16Type()));
    ups.push_back(weight("u", {8, 16}, builder.getBF16Type()));
    downs.push_back(weight("d", {16, 8}, builder.getBF16Type()));
  }
  auto build = [&](Value correctionBias, uint64_t nGroup) {
    return MoEOp::create(
        builder, builder.getUnknownLoc(), x.getType(), x, router,
        correctionBias, gates, ups, downs, Value(), Value(), Value(),
        ScoringFunc::sigmoid, /*top_k=*/2, nGroup, /*topk_group=*/2,
        /*norm_topk_prob=*/true, /*routed_scaling_factor=*/APFloat(2.5),
        ValueRange(), nullptr);
  };
  EXPECT_TRUE(verifies(build(bias, 2)));    // 2 groups of 2.
  EXPECT_TRUE(verifies(build(Value(), 4))); // No bias: a group's max.
  EXPECT_FALSE(verifies(build(bias, 4)));
  ASSERT_FALSE(diagnostics.empty());
  EXPECT_NE(diagnostics.back().find("n_group = 4 leaves 1 expert per group"),
            std::string::npos)
      << diagnostics.back();
}

TEST_F(LatheBuilders, YarnRejectsNonFiniteParameters) {
  auto emitError = [&] { return mlir::emitError(builder.getUnknownLoc()); };
  double inf = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(YarnAttr::getChecked(emitError, &context, APFloat(inf),
                                    int64_t{4096}, APFloat(32.0), APFloat(1.0),
                                    APFloat(1.0), APFloat(1.0)));
  EXPECT_FALSE(YarnAttr::getChecked(emitError, &context, APFloat(40.0),
                                    int64_t{4096}, APFloat(inf), APFloat(1.0),
                                    APFloat(1.0), APFloat(1.0)));
  EXPECT_TRUE(YarnAttr::getChecked(emitError, &context, APFloat(40.0),
                                   int64_t{4096}, APFloat(32.0), APFloat(1.0),
                                   APFloat(1.0), APFloat(1.0)));
}

TEST_F(LatheBuilders, YarnScaleFactorIsOneWithoutExtension) {
  // DeepSeek's yarn_get_mscale: no correction for factor <= 1.
  auto yarn = YarnAttr::get(&context, /*factor=*/1.0, 4096, 32.0, 1.0, 1.0,
                            /*mscaleAllDim=*/0.707);
  EXPECT_EQ(yarn.getSoftmaxScaleFactor(), 1.0);
  auto extended = YarnAttr::get(&context, 4.0, 4096, 32.0, 1.0, 1.0, 0.707);
  EXPECT_NEAR(extended.getSoftmaxScaleFactor(), 0.1 * 0.707 * std::log(4.0) + 1,
              1e-15);
}

/// Prints `attr` as lathe-opt would.
static std::string print(Attribute attr) {
  std::string text;
  llvm::raw_string_ostream os(text);
  attr.print(os);
  return text;
}

TEST_F(LatheBuilders, DoublesPrintShortestAndParseBackExactly) {
  EXPECT_EQ(print(RopeAttr::get(&context, 10000.0)),
            "#lathe.rope<theta = 10000.0>");
  EXPECT_EQ(print(RopeAttr::get(&context, 1e20)),
            "#lathe.rope<theta = 1.0E+20>");
  auto yarn =
      YarnAttr::get(&context, 0.1, 4096, 1.0 + 0x1p-52, 1.0, 0.707, -1.25e-5);
  EXPECT_EQ(print(yarn), "#lathe.yarn<factor = 0.1, "
                         "original_max_position_embeddings = 4096, "
                         "beta_fast = 1.0000000000000002, beta_slow = 1.0, "
                         "mscale = 0.707, mscale_all_dim = -0.0000125>");

  // Random finite doubles of every magnitude survive print -> parse exactly.
  std::mt19937_64 random(20261122);
  for (int i = 0; i < 2000; ++i) {
    uint64_t bits = random();
    double value;
    std::memcpy(&value, &bits, sizeof(value));
    if (!std::isfinite(value))
      continue;
    auto attr = YarnAttr::get(&context, 40.0, 4096, 32.0, 1.0, value, value);
    std::string text = print(attr);
    Attribute parsed = parseAttribute(text, &context);
    ASSERT_EQ(parsed, attr) << text;
  }
}

} // namespace
