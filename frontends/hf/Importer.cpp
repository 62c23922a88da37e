//===- Importer.cpp - DeepSeek-family HF checkpoints into lathe IR --------===//
//
// Walks the model the way DeepSeek's reference code does (embedding, layers
// of MLA + dense MLP or MoE, final norm, LM head), checking every tensor's
// dtype and shape against config.json before it enters the IR, so that a
// user hears about `model.layers.7.self_attn.kv_b_proj.weight` rather than
// about an operand of an op.
//
//===----------------------------------------------------------------------===//

#include "frontends/hf/Importer.h"

#include "dialects/lathe/IR/LatheOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InterleavedRange.h"

using namespace mlir;
using namespace lathe;
using namespace lathe::hf;
using llvm::Error;
using llvm::Expected;
using llvm::formatv;

namespace {

Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string shapeString(ArrayRef<int64_t> shape) {
  return formatv("[{0}]", llvm::interleaved(shape, ", ")).str();
}

/// A projection weight and, when it is FP8, its block scale.
struct Projection {
  Value weight;
  Value scale;
};

class Importer {
public:
  Importer(MLIRContext &context, const DeepSeekConfig &config,
           const TensorCatalog &tensors)
      : context(context), builder(&context), config(config), tensors(tensors) {}

  Expected<OwningOpRef<ModuleOp>> run();

private:
  Expected<Value> floatWeight(StringRef name, ArrayRef<int64_t> shape,
                              StringRef why);
  Expected<Projection> projection(StringRef name, ArrayRef<int64_t> shape,
                                  StringRef why);
  Expected<Value> weightOp(StringRef name, const TensorInfo &info, Type type);
  Expected<const TensorInfo *> lookup(StringRef name, ArrayRef<int64_t> shape,
                                      StringRef why);

  Expected<Value> attention(StringRef prefix, Value x, Value positions);
  Expected<Value> denseMLP(StringRef prefix, Value x);
  Expected<Value> moe(StringRef prefix, Value x);

  /// Ops built next get the checkpoint module path as their location.
  void setLoc(StringRef name) { loc = NameLoc::get(builder.getStringAttr(name)); }
  DenseI64ArrayAttr blockSizeAttr(bool anyScale) {
    if (!anyScale)
      return nullptr;
    return builder.getDenseI64ArrayAttr(config.fp8->blockSize);
  }

  MLIRContext &context;
  OpBuilder builder;
  Location loc = UnknownLoc::get(&context);
  const DeepSeekConfig &config;
  const TensorCatalog &tensors;
};

Expected<const TensorInfo *> Importer::lookup(StringRef name,
                                              ArrayRef<int64_t> shape,
                                              StringRef why) {
  auto it = tensors.find(name);
  if (it == tensors.end())
    return makeError(formatv("tensor '{0}' is missing from the checkpoint", name));
  const TensorInfo &info = it->second;
  if (ArrayRef<int64_t>(info.shape) != shape)
    return makeError(formatv("tensor '{0}' in {1} has shape {2} but config.json "
                             "({3}) needs {4}",
                             name, info.file, shapeString(info.shape), why,
                             shapeString(shape)));
  return &info;
}

Expected<Value> Importer::weightOp(StringRef name, const TensorInfo &info,
                                   Type elementType) {
  auto type = RankedTensorType::get(info.shape, elementType);
  return WeightOp::create(builder, loc, type, name, info.file, info.offset)
      .getResult();
}

/// Norms, embeddings, the router gate and the LM head: never FP8.
Expected<Value> Importer::floatWeight(StringRef name, ArrayRef<int64_t> shape,
                                      StringRef why) {
  Expected<const TensorInfo *> info = lookup(name, shape, why);
  if (!info)
    return info.takeError();
  Type type;
  StringRef dtype = (*info)->dtype;
  if (dtype == "BF16")
    type = builder.getBF16Type();
  else if (dtype == "F16")
    type = builder.getF16Type();
  else if (dtype == "F32")
    type = builder.getF32Type();
  else
    return makeError(formatv("tensor '{0}' in {1} has dtype {2}; norms, "
                             "embeddings, the router and lm_head must be "
                             "BF16, F16 or F32",
                             name, (*info)->file, dtype));
  return weightOp(name, **info, type);
}

/// A linear layer's weight: BF16/F16/F32, or F8_E4M3 with its
/// `<name>_scale_inv` block scales.
Expected<Projection> Importer::projection(StringRef name,
                                          ArrayRef<int64_t> shape,
                                          StringRef why) {
  Expected<const TensorInfo *> info = lookup(name, shape, why);
  if (!info)
    return info.takeError();
  StringRef dtype = (*info)->dtype;
  if (dtype != "F8_E4M3") {
    Expected<Value> weight = floatWeight(name, shape, why);
    if (!weight)
      return weight.takeError();
    return Projection{*weight, Value()};
  }
  if (!config.fp8)
    return makeError(formatv("tensor '{0}' in {1} is F8_E4M3 but config.json "
                             "has no quantization_config",
                             name, (*info)->file));
  auto [blockRows, blockCols] = config.fp8->blockSize;
  SmallVector<int64_t> scaleShape = {llvm::divideCeilSigned(shape[0], blockRows),
                                     llvm::divideCeilSigned(shape[1], blockCols)};
  std::string scaleName = (name + "_scale_inv").str();
  std::string scaleWhy =
      formatv("one scale per {0}x{1} block of {2}", blockRows, blockCols,
              shapeString(shape))
          .str();
  Expected<const TensorInfo *> scaleInfo = lookup(scaleName, scaleShape, scaleWhy);
  if (!scaleInfo)
    return scaleInfo.takeError();
  if ((*scaleInfo)->dtype != "F32")
    return makeError(formatv("tensor '{0}' in {1} has dtype {2}; block scales "
                             "must be F32",
                             scaleName, (*scaleInfo)->file, (*scaleInfo)->dtype));
  Expected<Value> weight =
      weightOp(name, **info, builder.getType<Float8E4M3FNType>());
  Expected<Value> scale = weightOp(scaleName, **scaleInfo, builder.getF32Type());
  if (!weight || !scale)
    return llvm::joinErrors(weight.takeError(), scale.takeError());
  return Projection{*weight, *scale};
}

Expected<Value> Importer::attention(StringRef prefix, Value x, Value positions) {
  const int64_t hidden = config.hiddenSize, heads = config.numHeads,
                kvRank = config.kvLoraRank, nope = config.qkNopeHeadDim,
                rope = config.qkRopeHeadDim, v = config.vHeadDim;
  std::string p = (prefix + ".self_attn.").str();
  setLoc(p.substr(0, p.size() - 1));
  SmallVector<Value> scales;
  auto addScale = [&](const Projection &proj) {
    if (proj.scale)
      scales.push_back(proj.scale);
  };

  std::optional<Projection> q, qa, qb;
  Value qaNorm;
  if (config.qLoraRank) {
    int64_t qRank = *config.qLoraRank;
    auto a = projection(p + "q_a_proj.weight", {qRank, hidden},
                        "q_lora_rank, hidden_size");
    if (!a)
      return a.takeError();
    qa = *a;
    auto norm = floatWeight(p + "q_a_layernorm.weight", {qRank}, "q_lora_rank");
    if (!norm)
      return norm.takeError();
    qaNorm = *norm;
    auto b = projection(p + "q_b_proj.weight", {heads * (nope + rope), qRank},
                        "num_attention_heads * (qk_nope_head_dim + "
                        "qk_rope_head_dim), q_lora_rank");
    if (!b)
      return b.takeError();
    qb = *b;
    addScale(*qa);
    addScale(*qb);
  } else {
    auto proj = projection(p + "q_proj.weight", {heads * (nope + rope), hidden},
                           "num_attention_heads * (qk_nope_head_dim + "
                           "qk_rope_head_dim), hidden_size");
    if (!proj)
      return proj.takeError();
    q = *proj;
    addScale(*q);
  }
  auto kvA = projection(p + "kv_a_proj_with_mqa.weight", {kvRank + rope, hidden},
                        "kv_lora_rank + qk_rope_head_dim, hidden_size");
  if (!kvA)
    return kvA.takeError();
  auto kvNorm = floatWeight(p + "kv_a_layernorm.weight", {kvRank}, "kv_lora_rank");
  if (!kvNorm)
    return kvNorm.takeError();
  auto kvB = projection(p + "kv_b_proj.weight", {heads * (nope + v), kvRank},
                        "num_attention_heads * (qk_nope_head_dim + v_head_dim), "
                        "kv_lora_rank");
  if (!kvB)
    return kvB.takeError();
  auto out = projection(p + "o_proj.weight", {hidden, heads * v},
                        "hidden_size, num_attention_heads * v_head_dim");
  if (!out)
    return out.takeError();
  addScale(*kvA);
  addScale(*kvB);
  addScale(*out);

  YarnAttr yarn;
  if (config.yarn)
    yarn = YarnAttr::get(&context, config.yarn->factor,
                         config.yarn->originalMaxPositionEmbeddings,
                         config.yarn->betaFast, config.yarn->betaSlow,
                         config.yarn->mscale, config.yarn->mscaleAllDim);
  auto mla = MLAOp::create(
      builder, loc, x.getType(), x, positions, q ? q->weight : Value(),
      qa ? qa->weight : Value(), qaNorm, qb ? qb->weight : Value(),
      kvA->weight, *kvNorm, kvB->weight, out->weight, heads,
      config.qLoraRank ? builder.getI64IntegerAttr(*config.qLoraRank)
                       : IntegerAttr(),
      kvRank, nope, rope, v, APFloat(config.softmaxScale()),
      APFloat(config.rmsNormEps), RopeAttr::get(&context, config.ropeTheta, yarn),
      /*kv_cache_layer=*/IntegerAttr(), scales, blockSizeAttr(!scales.empty()));
  return mla.getResult();
}

Expected<Value> Importer::denseMLP(StringRef prefix, Value x) {
  std::string p = (prefix + ".mlp.").str();
  setLoc(p.substr(0, p.size() - 1));
  const int64_t hidden = config.hiddenSize, inter = config.intermediateSize;
  auto gate = projection(p + "gate_proj.weight", {inter, hidden},
                         "intermediate_size, hidden_size");
  if (!gate)
    return gate.takeError();
  auto up = projection(p + "up_proj.weight", {inter, hidden},
                       "intermediate_size, hidden_size");
  if (!up)
    return up.takeError();
  auto down = projection(p + "down_proj.weight", {hidden, inter},
                         "hidden_size, intermediate_size");
  if (!down)
    return down.takeError();
  SmallVector<Value> scales;
  for (const Projection *proj : {&*gate, &*up, &*down})
    if (proj->scale)
      scales.push_back(proj->scale);
  return MLPOp::create(builder, loc, x.getType(), x, gate->weight, up->weight,
                       down->weight, scales, blockSizeAttr(!scales.empty()))
      .getResult();
}

Expected<Value> Importer::moe(StringRef prefix, Value x) {
  const MoEConfig &moeConfig = *config.moe;
  std::string p = (prefix + ".mlp.").str();
  setLoc(p.substr(0, p.size() - 1));
  const int64_t hidden = config.hiddenSize, experts = moeConfig.numRoutedExperts,
                inter = moeConfig.intermediateSize;
  auto router = floatWeight(p + "gate.weight", {experts, hidden},
                            "n_routed_experts, hidden_size");
  if (!router)
    return router.takeError();
  Value bias;
  if (moeConfig.topkMethod == TopkMethod::NoauxTc) {
    auto b = floatWeight(p + "gate.e_score_correction_bias", {experts},
                         "n_routed_experts, for topk_method noaux_tc");
    if (!b)
      return b.takeError();
    bias = *b;
  }

  // Operand order of lathe.moe: every gate, every up, every down, shared.
  SmallVector<Value> gates, ups, downs;
  SmallVector<Value> gateScales, upScales, downScales;
  auto add = [&](const std::string &name, ArrayRef<int64_t> shape,
                 StringRef why, SmallVector<Value> &weights,
                 SmallVector<Value> &scales) -> Error {
    auto proj = projection(name, shape, why);
    if (!proj)
      return proj.takeError();
    weights.push_back(proj->weight);
    if (proj->scale)
      scales.push_back(proj->scale);
    return Error::success();
  };
  for (int64_t e = 0; e < experts; ++e) {
    std::string ep = formatv("{0}experts.{1}.", p, e).str();
    if (Error err = add(ep + "gate_proj.weight", {inter, hidden},
                        "moe_intermediate_size, hidden_size", gates, gateScales))
      return std::move(err);
    if (Error err = add(ep + "up_proj.weight", {inter, hidden},
                        "moe_intermediate_size, hidden_size", ups, upScales))
      return std::move(err);
    if (Error err = add(ep + "down_proj.weight", {hidden, inter},
                        "hidden_size, moe_intermediate_size", downs, downScales))
      return std::move(err);
  }
  SmallVector<Value> scales;
  llvm::append_range(scales, gateScales);
  llvm::append_range(scales, upScales);
  llvm::append_range(scales, downScales);

  Value sharedGate, sharedUp, sharedDown;
  if (moeConfig.numSharedExperts > 0) {
    const int64_t sharedInter = moeConfig.numSharedExperts * inter;
    std::string sp = p + "shared_experts.";
    SmallVector<Value> shared, sharedScales;
    const char *why = "n_shared_experts * moe_intermediate_size, hidden_size";
    if (Error err = add(sp + "gate_proj.weight", {sharedInter, hidden}, why,
                        shared, sharedScales))
      return std::move(err);
    if (Error err = add(sp + "up_proj.weight", {sharedInter, hidden}, why,
                        shared, sharedScales))
      return std::move(err);
    if (Error err = add(sp + "down_proj.weight", {hidden, sharedInter},
                        "hidden_size, n_shared_experts * moe_intermediate_size",
                        shared, sharedScales))
      return std::move(err);
    sharedGate = shared[0];
    sharedUp = shared[1];
    sharedDown = shared[2];
    llvm::append_range(scales, sharedScales);
  }

  // DeepSeek's modeling code renormalizes only when it picks more than one
  // expert, and DeepSeek-V2's applies routed_scaling_factor only when it does
  // not renormalize (V3 always applies it). lathe.moe states the result.
  bool renormalize = moeConfig.normTopkProb && moeConfig.numExpertsPerTok > 1;
  double scaling = moeConfig.routedScalingFactor;
  if (config.modelType == "deepseek_v2" && renormalize)
    scaling = 1.0;
  auto op = MoEOp::create(
      builder, loc, x.getType(), x, *router, bias, gates, ups, downs,
      sharedGate, sharedUp, sharedDown,
      moeConfig.sigmoidScoring ? ScoringFunc::sigmoid : ScoringFunc::softmax,
      moeConfig.numExpertsPerTok, moeConfig.numGroups, moeConfig.topkGroup,
      renormalize, APFloat(scaling), scales, blockSizeAttr(!scales.empty()));
  return op.getResult();
}

Expected<OwningOpRef<ModuleOp>> Importer::run() {
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  const int64_t hidden = config.hiddenSize, vocab = config.vocabSize;
  module->getOperation()->setAttr("lathe.model_type",
                                  builder.getStringAttr(config.modelType));
  NamedAttrList summary;
  summary.append("vocab_size", builder.getI64IntegerAttr(vocab));
  summary.append("hidden_size", builder.getI64IntegerAttr(hidden));
  summary.append("num_hidden_layers", builder.getI64IntegerAttr(config.numLayers));
  summary.append("max_position_embeddings",
                 builder.getI64IntegerAttr(config.maxPositionEmbeddings));
  module->getOperation()->setAttr("lathe.config",
                                  summary.getDictionary(&context));

  auto dyn = ShapedType::kDynamic;
  auto tokensType = RankedTensorType::get({dyn, dyn}, builder.getI32Type());
  auto logitsType = RankedTensorType::get({dyn, dyn, vocab}, builder.getF32Type());
  builder.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(
      builder, loc, "forward",
      builder.getFunctionType({tokensType, tokensType}, {logitsType}));
  func.setArgAttr(0, "lathe.name", builder.getStringAttr("tokens"));
  func.setArgAttr(1, "lathe.name", builder.getStringAttr("positions"));
  builder.setInsertionPointToStart(func.addEntryBlock());
  Value tokens = func.getArgument(0), positions = func.getArgument(1);

  setLoc("model.embed_tokens");
  auto embed = floatWeight("model.embed_tokens.weight", {vocab, hidden},
                           "vocab_size, hidden_size");
  if (!embed)
    return embed.takeError();
  Value h = EmbeddingOp::create(builder, loc, tokens, *embed);

  for (int64_t layer = 0; layer < config.numLayers; ++layer) {
    std::string prefix = formatv("model.layers.{0}", layer).str();
    setLoc(prefix);
    auto inNorm = floatWeight(prefix + ".input_layernorm.weight", {hidden},
                              "hidden_size");
    if (!inNorm)
      return inNorm.takeError();
    Value x = RMSNormOp::create(builder, loc, h, *inNorm,
                                APFloat(config.rmsNormEps));
    auto attn = attention(prefix, x, positions);
    if (!attn)
      return attn.takeError();
    setLoc(prefix);
    h = AddOp::create(builder, loc, h, *attn);
    auto postNorm = floatWeight(prefix + ".post_attention_layernorm.weight",
                                {hidden}, "hidden_size");
    if (!postNorm)
      return postNorm.takeError();
    Value y = RMSNormOp::create(builder, loc, h, *postNorm,
                                APFloat(config.rmsNormEps));
    auto ffn = config.isMoELayer(layer) ? moe(prefix, y) : denseMLP(prefix, y);
    if (!ffn)
      return ffn.takeError();
    setLoc(prefix);
    h = AddOp::create(builder, loc, h, *ffn);
  }

  setLoc("model.norm");
  auto norm = floatWeight("model.norm.weight", {hidden}, "hidden_size");
  if (!norm)
    return norm.takeError();
  Value out = RMSNormOp::create(builder, loc, h, *norm, APFloat(config.rmsNormEps));
  setLoc("lm_head");
  Value head;
  if (!tensors.count("lm_head.weight") && config.tieWordEmbeddings) {
    head = *embed;
  } else {
    auto w = floatWeight("lm_head.weight", {vocab, hidden},
                         "vocab_size, hidden_size");
    if (!w)
      return w.takeError();
    head = *w;
  }
  Value logits = LMHeadOp::create(builder, loc, out, head);
  func::ReturnOp::create(builder, loc, logits);

  // The importer checked every tensor; a verifier failure here is a bug in
  // the importer, reported as such rather than as a user error.
  std::string diagnostics;
  {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      diagnostics += diag.str() + "\n";
      return success();
    });
    if (failed(verify(*module)))
      return makeError("internal error: imported IR does not verify: " +
                       diagnostics);
  }
  return module;
}

} // namespace

Expected<OwningOpRef<ModuleOp>>
lathe::hf::importModel(MLIRContext &context, const DeepSeekConfig &config,
                       const TensorCatalog &tensors,
                       const std::function<void(const std::string &)> &note) {
  context.loadDialect<LatheDialect, func::FuncDialect>();
  if (config.numNextnPredictLayers > 0) {
    int64_t first = config.numLayers;
    int64_t last = config.numLayers + config.numNextnPredictLayers - 1;
    note(first == last
             ? formatv("skipping the multi-token-prediction layer "
                       "model.layers.{0}.*",
                       first)
                   .str()
             : formatv("skipping the {0} multi-token-prediction layers "
                       "model.layers.{1}.* to model.layers.{2}.*",
                       config.numNextnPredictLayers, first, last)
                   .str());
  }
  return Importer(context, config, tensors).run();
}

Expected<OwningOpRef<ModuleOp>>
lathe::hf::importCheckpoint(MLIRContext &context, StringRef dir,
                            const std::function<void(const std::string &)> &note) {
  Expected<DeepSeekConfig> config = readConfig(dir);
  if (!config)
    return config.takeError();
  Expected<TensorCatalog> tensors = readTensorCatalog(dir);
  if (!tensors)
    return tensors.takeError();
  // The importer names tensors and their files; the directory says which
  // checkpoint they belong to.
  auto module = importModel(context, *config, *tensors, note);
  if (!module)
    return makeError(dir + ": " + toString(module.takeError()));
  return module;
}
