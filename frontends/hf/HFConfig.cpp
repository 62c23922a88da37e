//===- HFConfig.cpp - a DeepSeek-family config.json -----------------------===//

#include "frontends/hf/HFConfig.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cmath>

using namespace llvm;
using namespace lathe::hf;

namespace {

/// Reads typed fields of one JSON object, remembering the first error so
/// that callers read every field and check once.
class FieldReader {
public:
  FieldReader(const json::Object &object, StringRef path, StringRef prefix = "")
      : object(object), path(path), prefix(prefix) {}

  /// Every integer of a config fits in 32 bits; bounding them here keeps the
  /// shape arithmetic of the importer far from overflow.
  std::optional<int64_t> optionalInt(StringRef key) {
    const json::Value *value = object.get(key);
    if (!value || value->kind() == json::Value::Null)
      return std::nullopt;
    std::optional<int64_t> v = value->getAsInteger();
    if (!v) {
      fail(key, "must be an integer");
      return std::nullopt;
    }
    if (*v > kMaxInt || *v < -kMaxInt) {
      fail(key, formatv("= {0} is out of range (at most {1} in magnitude)", *v,
                        kMaxInt)
                    .str());
      return std::nullopt;
    }
    return v;
  }

  int64_t requiredInt(StringRef key) {
    if (!object.get(key)) {
      fail(key, "is missing");
      return 0;
    }
    return optionalInt(key).value_or(0);
  }

  /// A model dimension: positive, and at most `max` (2^20 unless said
  /// otherwise: products of two dimensions must fit in int64).
  int64_t positiveInt(StringRef key, int64_t max = kMaxDim) {
    int64_t v = requiredInt(key);
    if (!error && v <= 0)
      fail(key, formatv("must be positive, got {0}", v).str());
    else if (!error && v > max)
      fail(key, formatv("= {0} is out of range (at most {1})", v, max).str());
    return v;
  }

  static constexpr int64_t kMaxInt = (int64_t(1) << 31) - 1;
  static constexpr int64_t kMaxDim = int64_t(1) << 20;

  std::optional<double> optionalNumber(StringRef key) {
    const json::Value *value = object.get(key);
    if (!value || value->kind() == json::Value::Null)
      return std::nullopt;
    if (std::optional<double> v = value->getAsNumber()) {
      if (std::isfinite(*v))
        return v;
    }
    fail(key, "must be a finite number");
    return std::nullopt;
  }

  double number(StringRef key, double fallback) {
    return optionalNumber(key).value_or(fallback);
  }

  std::optional<std::string> optionalString(StringRef key) {
    const json::Value *value = object.get(key);
    if (!value || value->kind() == json::Value::Null)
      return std::nullopt;
    if (std::optional<StringRef> v = value->getAsString())
      return v->str();
    fail(key, "must be a string");
    return std::nullopt;
  }

  bool boolean(StringRef key, bool fallback) {
    const json::Value *value = object.get(key);
    if (!value || value->kind() == json::Value::Null)
      return fallback;
    if (std::optional<bool> v = value->getAsBoolean())
      return *v;
    fail(key, "must be true or false");
    return fallback;
  }

  const json::Object *optionalObject(StringRef key) {
    const json::Value *value = object.get(key);
    if (!value || value->kind() == json::Value::Null)
      return nullptr;
    if (const json::Object *v = value->getAsObject())
      return v;
    fail(key, "must be an object");
    return nullptr;
  }

  /// Records an error about `key` unless one is recorded already.
  void fail(StringRef key, const Twine &what) {
    if (!error)
      error = formatv("{0}: field '{1}{2}' {3}", path, prefix, key, what.str())
                  .str();
  }

  /// Takes over the error of a reader of a nested object, whose messages
  /// already carry the path and the `parent.` prefix.
  void adopt(FieldReader &nested) {
    if (!error && nested.error)
      error = nested.error;
  }

  Error takeError() {
    if (!error)
      return Error::success();
    return createStringError(inconvertibleErrorCode(), *error);
  }

  bool failed() const { return error.has_value(); }

private:
  const json::Object &object;
  StringRef path;
  std::string prefix;
  std::optional<std::string> error;
};

/// A number as config.json would have it ("0.5", "40", "1e-06").
std::string showNumber(double value) {
  return formatv("{0}", llvm::format("%g", value)).str();
}

std::optional<YarnConfig> readYarn(FieldReader &top, StringRef path) {
  const json::Object *scaling = top.optionalObject("rope_scaling");
  if (!scaling)
    return std::nullopt;
  FieldReader fields(*scaling, path, "rope_scaling.");
  std::optional<std::string> type = fields.optionalString("type");
  if (!type)
    type = fields.optionalString("rope_type");
  if (fields.failed()) {
    top.adopt(fields);
    return std::nullopt;
  }
  if (!type) {
    top.fail("rope_scaling", "has no 'type'");
    return std::nullopt;
  }
  if (*type != "yarn") {
    top.fail("rope_scaling.type",
             formatv("'{0}' is not supported (only 'yarn')", *type).str());
    return std::nullopt;
  }
  YarnConfig yarn;
  yarn.factor = fields.number("factor", 1.0);
  yarn.originalMaxPositionEmbeddings =
      fields.positiveInt("original_max_position_embeddings", FieldReader::kMaxInt);
  yarn.betaFast = fields.number("beta_fast", 32.0);
  yarn.betaSlow = fields.number("beta_slow", 1.0);
  yarn.mscale = fields.number("mscale", 1.0);
  yarn.mscaleAllDim = fields.number("mscale_all_dim", 0.0);
  if (!fields.failed() && !(yarn.factor > 0.0))
    fields.fail("factor", "must be positive, got " + showNumber(yarn.factor));
  if (!fields.failed() && !(yarn.betaFast > yarn.betaSlow && yarn.betaSlow > 0))
    fields.fail("beta_fast",
                "must exceed beta_slow > 0, got " + showNumber(yarn.betaFast) +
                    " and " + showNumber(yarn.betaSlow));
  if (fields.failed()) {
    top.adopt(fields);
    return std::nullopt;
  }
  return yarn;
}

std::optional<MoEConfig> readMoE(FieldReader &fields, int64_t numLayers) {
  std::optional<int64_t> routed = fields.optionalInt("n_routed_experts");
  if (!routed || fields.failed())
    return std::nullopt;
  MoEConfig moe;
  moe.numRoutedExperts = *routed;
  if (moe.numRoutedExperts <= 0) {
    fields.fail("n_routed_experts",
                formatv("must be positive, got {0}", *routed).str());
    return std::nullopt;
  }
  moe.numSharedExperts = fields.optionalInt("n_shared_experts").value_or(0);
  moe.numExpertsPerTok = fields.positiveInt("num_experts_per_tok");
  moe.intermediateSize = fields.positiveInt("moe_intermediate_size");
  moe.firstKDenseReplace =
      fields.optionalInt("first_k_dense_replace").value_or(0);
  moe.layerFreq = fields.optionalInt("moe_layer_freq").value_or(1);
  moe.numGroups = fields.optionalInt("n_group").value_or(1);
  moe.topkGroup = fields.optionalInt("topk_group").value_or(1);
  moe.normTopkProb = fields.boolean("norm_topk_prob", false);
  moe.routedScalingFactor = fields.number("routed_scaling_factor", 1.0);
  std::string scoring = fields.optionalString("scoring_func").value_or("softmax");
  std::string method = fields.optionalString("topk_method").value_or("greedy");
  if (fields.failed())
    return std::nullopt;

  if (scoring == "sigmoid")
    moe.sigmoidScoring = true;
  else if (scoring != "softmax")
    fields.fail("scoring_func",
                formatv("'{0}' is not supported (softmax or sigmoid)", scoring)
                    .str());
  if (method == "greedy")
    moe.topkMethod = TopkMethod::Greedy;
  else if (method == "group_limited_greedy")
    moe.topkMethod = TopkMethod::GroupLimitedGreedy;
  else if (method == "noaux_tc")
    moe.topkMethod = TopkMethod::NoauxTc;
  else
    fields.fail("topk_method",
                formatv("'{0}' is not supported (greedy, group_limited_greedy "
                        "or noaux_tc)",
                        method)
                    .str());
  // Plain greedy routing ignores groups.
  if (moe.topkMethod == TopkMethod::Greedy) {
    moe.numGroups = 1;
    moe.topkGroup = 1;
  }
  if (moe.numSharedExperts < 0)
    fields.fail("n_shared_experts", "must not be negative");
  if (moe.layerFreq <= 0)
    fields.fail("moe_layer_freq",
                formatv("must be positive, got {0}", moe.layerFreq).str());
  if (moe.firstKDenseReplace < 0 || moe.firstKDenseReplace > numLayers)
    fields.fail("first_k_dense_replace",
                formatv("must be in [0, num_hidden_layers = {0}], got {1}",
                        numLayers, moe.firstKDenseReplace)
                    .str());
  if (moe.numGroups <= 0 || moe.numRoutedExperts % moe.numGroups != 0)
    fields.fail("n_group",
                formatv("must divide n_routed_experts = {0}, got {1}",
                        moe.numRoutedExperts, moe.numGroups)
                    .str());
  else if (moe.topkGroup <= 0 || moe.topkGroup > moe.numGroups)
    fields.fail("topk_group", formatv("must be in [1, n_group = {0}], got {1}",
                                      moe.numGroups, moe.topkGroup)
                                  .str());
  else if (moe.numExpertsPerTok >
           moe.topkGroup * (moe.numRoutedExperts / moe.numGroups))
    fields.fail("num_experts_per_tok",
                formatv("= {0} exceeds the {1} experts of the topk_group kept "
                        "groups",
                        moe.numExpertsPerTok,
                        moe.topkGroup * (moe.numRoutedExperts / moe.numGroups))
                    .str());
  // With a correction bias a group scores by its top two experts.
  if (!fields.failed() && moe.topkMethod == TopkMethod::NoauxTc &&
      moe.numGroups > 1 && moe.numRoutedExperts / moe.numGroups < 2)
    fields.fail("n_group",
                formatv("= {0} leaves fewer than 2 of the {1} experts per "
                        "group; noaux_tc scores a group by its top 2",
                        moe.numGroups, moe.numRoutedExperts)
                    .str());
  if (!(moe.routedScalingFactor > 0.0))
    fields.fail("routed_scaling_factor", "must be positive");
  return moe;
}

std::optional<FP8Config> readQuantization(FieldReader &top, StringRef path) {
  const json::Object *quant = top.optionalObject("quantization_config");
  if (!quant)
    return std::nullopt;
  FieldReader fields(*quant, path, "quantization_config.");
  std::string method = fields.optionalString("quant_method").value_or("");
  std::string fmt = fields.optionalString("fmt").value_or("e4m3");
  if (method != "fp8")
    fields.fail("quant_method",
                formatv("'{0}' is not supported (only 'fp8')", method).str());
  else if (fmt != "e4m3")
    fields.fail("fmt", formatv("'{0}' is not supported (only 'e4m3')", fmt).str());
  FP8Config fp8;
  if (const json::Value *block = quant->get("weight_block_size")) {
    const json::Array *array = block->getAsArray();
    std::optional<int64_t> rows, cols;
    if (array && array->size() == 2) {
      rows = (*array)[0].getAsInteger();
      cols = (*array)[1].getAsInteger();
    }
    if (!rows || !cols || *rows <= 0 || *cols <= 0)
      fields.fail("weight_block_size", "must be two positive integers");
    else
      fp8.blockSize = {*rows, *cols};
  }
  if (fields.failed()) {
    top.adopt(fields);
    return std::nullopt;
  }
  return fp8;
}

/// llvm::json::parse recurses once per nesting level, so hostile input could
/// exhaust the stack; a config.json is shallow and small.
Error checkShape(StringRef text, StringRef path) {
  constexpr size_t maxBytes = 16u << 20;
  constexpr int maxDepth = 64;
  if (text.size() > maxBytes)
    return createStringError(inconvertibleErrorCode(),
                             formatv("{0}: {1} bytes is too large for a "
                                     "config.json (at most {2})",
                                     path, text.size(), maxBytes));
  int depth = 0;
  bool inString = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"')
      inString = true;
    else if ((c == '[' || c == '{') && ++depth > maxDepth)
      return createStringError(inconvertibleErrorCode(),
                               formatv("{0}: not valid JSON: nested deeper "
                                       "than {1} levels at byte {2}",
                                       path, maxDepth, i));
    else if (c == ']' || c == '}')
      --depth;
  }
  return Error::success();
}

} // namespace

double DeepSeekConfig::softmaxScale() const {
  double scale = 1.0 / std::sqrt(double(qkNopeHeadDim) + double(qkRopeHeadDim));
  if (yarn && yarn->mscaleAllDim != 0.0 && yarn->factor > 1.0) {
    double m = 0.1 * yarn->mscaleAllDim * std::log(yarn->factor) + 1.0;
    scale *= m * m;
  }
  return scale;
}

Expected<DeepSeekConfig> lathe::hf::parseConfig(StringRef text, StringRef path) {
  if (Error err = checkShape(text, path))
    return std::move(err);
  Expected<json::Value> parsed = json::parse(text);
  if (!parsed)
    return createStringError(inconvertibleErrorCode(),
                             formatv("{0}: not valid JSON: {1}", path,
                                     toString(parsed.takeError())));
  const json::Object *object = parsed->getAsObject();
  if (!object)
    return createStringError(inconvertibleErrorCode(),
                             formatv("{0}: must hold a JSON object", path));

  FieldReader fields(*object, path);
  DeepSeekConfig config;
  config.modelType = fields.optionalString("model_type").value_or("");
  if (!fields.failed() && config.modelType != "deepseek_v2" &&
      config.modelType != "deepseek_v3")
    fields.fail("model_type",
                formatv("'{0}' is not supported (deepseek_v2 or deepseek_v3)",
                        config.modelType)
                    .str());
  config.vocabSize = fields.positiveInt("vocab_size", FieldReader::kMaxInt);
  config.hiddenSize = fields.positiveInt("hidden_size");
  config.numLayers = fields.positiveInt("num_hidden_layers");
  config.numHeads = fields.positiveInt("num_attention_heads");
  config.qLoraRank = fields.optionalInt("q_lora_rank");
  config.kvLoraRank = fields.positiveInt("kv_lora_rank");
  config.qkNopeHeadDim = fields.positiveInt("qk_nope_head_dim");
  config.qkRopeHeadDim = fields.positiveInt("qk_rope_head_dim");
  config.vHeadDim = fields.positiveInt("v_head_dim");
  config.maxPositionEmbeddings = fields.positiveInt("max_position_embeddings", FieldReader::kMaxInt);
  config.rmsNormEps = fields.number("rms_norm_eps", 1e-6);
  config.ropeTheta = fields.number("rope_theta", 10000.0);
  config.tieWordEmbeddings = fields.boolean("tie_word_embeddings", false);
  config.numNextnPredictLayers =
      fields.optionalInt("num_nextn_predict_layers").value_or(0);
  config.yarn = readYarn(fields, path);
  config.moe = readMoE(fields, config.numLayers);
  config.fp8 = readQuantization(fields, path);
  if (fields.failed())
    return fields.takeError();

  if (config.qLoraRank && *config.qLoraRank <= 0)
    fields.fail("q_lora_rank",
                formatv("must be positive or null, got {0}", *config.qLoraRank)
                    .str());
  if (config.qkRopeHeadDim % 2 != 0)
    fields.fail("qk_rope_head_dim",
                formatv("must be even (RoPE rotates pairs), got {0}",
                        config.qkRopeHeadDim)
                    .str());
  if (!(config.rmsNormEps > 0.0))
    fields.fail("rms_norm_eps", "must be positive");
  if (!(config.ropeTheta > 1.0))
    fields.fail("rope_theta", "must be above 1");
  if (config.numNextnPredictLayers < 0)
    fields.fail("num_nextn_predict_layers", "must not be negative");
  // Some layer is dense (see isMoELayer) when layer 0 is below
  // first_k_dense_replace, or layer 1 is skipped by moe_layer_freq.
  bool anyDense = !config.moe || config.moe->firstKDenseReplace > 0 ||
                  (config.moe->layerFreq > 1 && config.numLayers > 1);
  if (anyDense)
    config.intermediateSize = fields.positiveInt("intermediate_size");
  if (config.moe && config.moe->numExpertsPerTok > config.moe->numRoutedExperts)
    fields.fail("num_experts_per_tok",
                formatv("= {0} exceeds n_routed_experts = {1}",
                        config.moe->numExpertsPerTok,
                        config.moe->numRoutedExperts)
                    .str());
  if (fields.failed())
    return fields.takeError();
  return config;
}

Expected<DeepSeekConfig> lathe::hf::readConfig(StringRef dir) {
  SmallString<256> path(dir);
  sys::path::append(path, "config.json");
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return createStringError(buffer.getError(),
                             formatv("{0}: cannot read: {1}", path,
                                     buffer.getError().message()));
  return parseConfig((*buffer)->getBuffer(), path);
}
