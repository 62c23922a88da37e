//===- Validate.cpp - the semantic rules of a bundle ----------------------===//

#include "runtime/bundle/Validate.h"

#include "runtime/bundle/ElementType.h"
#include "runtime/bundle/Expr.h"
#include "runtime/bundle/Format.h"
#include "runtime/support/Text.h"

#include <set>
#include <string>
#include <string_view>
#include <vector>

using namespace lathe::rt;
namespace fb = lathe::bundle;

namespace {

/// "weights[3] 'model.norm.weight'": an entry as messages name it.
std::string entry(const char *table, uint32_t index,
                  const flatbuffers::String *name) {
  std::string text = std::string(table) + "[" + std::to_string(index) + "]";
  if (name && name->size() != 0)
    text += " '" + printable(name->string_view()) + "'";
  return text;
}

std::string shapeText(const flatbuffers::Vector<int64_t> *shape) {
  if (!shape)
    return "[]";
  return formatShape(std::vector<int64_t>(shape->begin(), shape->end()));
}

/// FlatBuffers' verifier checks a vector's 4-byte length for alignment,
/// not its 8-byte elements, which would then be read misaligned.
Status checkShapeAlignment(const flatbuffers::Vector<int64_t> *shape) {
  if (shape && reinterpret_cast<uintptr_t>(shape->Data()) % alignof(int64_t))
    return Status::error("shape is not 8-byte aligned (a malformed "
                         "FlatBuffer)");
  return Status::success();
}

template <typename T> uint32_t count(const flatbuffers::Vector<T> *vector) {
  return vector ? vector->size() : 0;
}

class Validator {
public:
  Validator(const fb::Bundle &root, const BundleExtent &extent)
      : root(root), extent(extent) {}

  Status run();

private:
  Status checkConfig();
  Status checkKVCache();
  Status checkWeightFiles();
  Status checkWeights();
  Status checkWeightTables();
  Status checkConstants();
  Status checkKernels();
  Status checkTargets();
  Status checkFunction(const fb::Function &function);
  Status checkParam(const fb::Param &param, bool isInput, size_t numSymbols);
  Status checkStep(const fb::Function &function, const fb::Step &step);
  Status checkBuffer(const fb::Function &function, const fb::BufferRef &ref);

  const fb::Bundle &root;
  const BundleExtent &extent;
  /// Byte sizes of each weight and constant, and of one KV-cache layer.
  std::vector<uint64_t> weightBytes, constantBytes;
  uint64_t kvLayerBytes = 0;
  uint32_t kvLayers = 0;
};

Status Validator::run() {
  if (Status status = checkConfig(); !status.ok())
    return status;
  if (Status status = checkKVCache(); !status.ok())
    return status;
  if (Status status = checkWeightFiles(); !status.ok())
    return status;
  if (Status status = checkWeights(); !status.ok())
    return status;
  if (Status status = checkWeightTables(); !status.ok())
    return status;
  if (Status status = checkConstants(); !status.ok())
    return status;
  if (Status status = checkKernels(); !status.ok())
    return status;
  if (Status status = checkTargets(); !status.ok())
    return status;

  std::set<std::string_view> names;
  const auto *functions = root.functions();
  for (uint32_t i = 0; i < count(functions); ++i) {
    const fb::Function *function = functions->Get(i);
    std::string where = entry("functions", i, function->name());
    if (!function->name() || function->name()->size() == 0)
      return makeError(where, ": the name is empty");
    if (!names.insert(function->name()->string_view()).second)
      return makeError(where, ": another function has the same name");
    if (Status status = checkFunction(*function); !status.ok())
      return status.withContext(where);
  }
  return Status::success();
}

Status Validator::checkConfig() {
  const fb::ModelConfig *config = root.config();
  if (!config)
    return Status::error("config is missing");
  struct Field {
    const char *name;
    int64_t value;
    int64_t least;
  };
  for (Field field :
       {Field{"vocab_size", config->vocab_size(), 0},
        Field{"hidden_size", config->hidden_size(), 0},
        Field{"num_layers", config->num_layers(), 0},
        Field{"max_position_embeddings", config->max_position_embeddings(), 0},
        Field{"max_batch", config->max_batch(), 1},
        Field{"max_seq_len", config->max_seq_len(), 1}})
    if (field.value < field.least)
      return makeError("config.", field.name, " is ", field.value,
                       "; it must be at least ", field.least);
  return Status::success();
}

Status Validator::checkKVCache() {
  const fb::KVCacheLayout *kv = root.kv_cache();
  if (!kv)
    return Status::success();
  std::optional<DType> dtype = toDType(kv->dtype());
  if (!dtype)
    return makeError("kv_cache.dtype: ", elementTypeName(kv->dtype()),
                     " is not an element type");
  const fb::ModelConfig *config = root.config();
  if (kv->max_batch() != config->max_batch() ||
      kv->max_seq_len() != config->max_seq_len())
    return makeError("kv_cache is [max_batch ", kv->max_batch(),
                     ", max_seq_len ", kv->max_seq_len(),
                     "] but config says [max_batch ", config->max_batch(),
                     ", max_seq_len ", config->max_seq_len(), "]");
  int64_t dims[] = {kv->max_batch(), kv->max_seq_len(), int64_t(kv->width())};
  Expected<uint64_t> layerBytes = tensorBytes(*dtype, dims, 3);
  if (!layerBytes)
    return layerBytes.status().withContext("kv_cache: a layer");
  uint64_t perToken = 0;
  if (__builtin_mul_overflow(uint64_t(kv->num_layers()) * kv->width(),
                             dtypeSize(*dtype), &perToken) ||
      perToken != kv->bytes_per_token())
    return makeError("kv_cache.bytes_per_token is ", kv->bytes_per_token(),
                     " but num_layers ", kv->num_layers(), " x width ",
                     kv->width(), " x ", dtypeSize(*dtype), " bytes of ",
                     elementTypeName(kv->dtype()), " is ", perToken);
  kvLayerBytes = *layerBytes;
  kvLayers = kv->num_layers();
  return Status::success();
}

Status Validator::checkWeightFiles() {
  const auto *files = root.weight_files();
  for (uint32_t i = 0; i < count(files); ++i) {
    const fb::WeightFile *file = files->Get(i);
    std::string where = "weight_files[" + std::to_string(i) + "]";
    if (!file->path())
      return makeError(where, ": path is missing");
    std::string_view path = file->path()->string_view();
    if (path.empty()) {
      if (!extent.hasBlob)
        return makeError(where, ": the embedded blob it names (empty path) "
                                "is absent: the trailer has no blob offset");
      if (file->size() != extent.blobSize)
        return makeError(where, ": the embedded blob is ", extent.blobSize,
                         " bytes but size says ", file->size());
      if (file->header_size() != 0)
        return makeError(where, ": the embedded blob has header_size ",
                         file->header_size(), "; it must be 0");
      continue;
    }
    where += " '" + printable(path) + "'";
    if (path.find('\0') != std::string_view::npos)
      return makeError(where, ": the path contains a NUL byte");
    if (path.front() == '/')
      return makeError(where, ": the path is absolute; it must be relative "
                              "to the bundle's directory");
    if (file->header_size() > file->size())
      return makeError(where, ": header_size ", file->header_size(),
                       " is larger than the file's size ", file->size());
  }
  return Status::success();
}

Status Validator::checkWeights() {
  const auto *weights = root.weights();
  const auto *files = root.weight_files();
  for (uint32_t i = 0; i < count(weights); ++i) {
    const fb::Weight *weight = weights->Get(i);
    std::string where = entry("weights", i, weight->name());
    if (!weight->name())
      return makeError(where, ": name is missing");
    if (weight->file() >= count(files))
      return makeError(where, ": file ", weight->file(),
                       " is out of range (the bundle has ", count(files),
                       " weight files)");
    std::optional<DType> dtype = toDType(weight->dtype());
    if (!dtype)
      return makeError(where, ": dtype ", elementTypeName(weight->dtype()),
                       " is not an element type");
    if (Status status = checkShapeAlignment(weight->shape()); !status.ok())
      return status.withContext(where);
    Expected<uint64_t> bytes = tensorBytes(*dtype, weight->shape());
    if (!bytes)
      return bytes.status().withContext(where + ": shape");
    const fb::WeightFile *file = files->Get(weight->file());
    uint64_t end = 0;
    if (__builtin_add_overflow(weight->offset(), *bytes, &end) ||
        end > file->size())
      return makeError(where, ": bytes [", weight->offset(), ", ",
                       weight->offset(), " + ", *bytes, ") lie outside ",
                       entry("weight_files", weight->file(), file->path()),
                       " (", file->size(), " bytes)");
    if (file->path()->size() == 0 && weight->offset() % kBlobAlignment != 0)
      return makeError(where, ": offset ", weight->offset(),
                       " in the embedded blob is not a multiple of ",
                       kBlobAlignment);
    weightBytes.push_back(*bytes);
  }
  return Status::success();
}

Status Validator::checkWeightTables() {
  const auto *tables = root.weight_tables();
  uint32_t numWeights = count(root.weights());
  for (uint32_t i = 0; i < count(tables); ++i) {
    const fb::WeightTable *table = tables->Get(i);
    const auto *members = table->weights();
    for (uint32_t j = 0; j < count(members); ++j)
      if (members->Get(j) >= numWeights)
        return makeError(entry("weight_tables", i, table->name()), ": weights[",
                         j, "] = ", members->Get(j),
                         " is out of range (the bundle has ", numWeights,
                         " weights)");
  }
  return Status::success();
}

Status Validator::checkConstants() {
  const auto *constants = root.constants();
  for (uint32_t i = 0; i < count(constants); ++i) {
    const fb::Constant *constant = constants->Get(i);
    std::string where = entry("constants", i, constant->name());
    std::optional<DType> dtype = toDType(constant->dtype());
    if (!dtype)
      return makeError(where, ": dtype ", elementTypeName(constant->dtype()),
                       " is not an element type");
    if (Status status = checkShapeAlignment(constant->shape()); !status.ok())
      return status.withContext(where);
    Expected<uint64_t> bytes = tensorBytes(*dtype, constant->shape());
    if (!bytes)
      return bytes.status().withContext(where + ": shape");
    uint64_t held = constant->data() ? constant->data()->size() : 0;
    if (held != *bytes)
      return makeError(where, ": data holds ", held, " bytes but shape ",
                       shapeText(constant->shape()), " of ",
                       elementTypeName(constant->dtype()), " needs ", *bytes);
    if (constant->data() && constant->data()->size() != 0 &&
        (constant->data()->data() - extent.base) % kBlobAlignment != 0)
      return makeError(where, ": data is not aligned to ", kBlobAlignment,
                       " bytes");
    constantBytes.push_back(*bytes);
  }
  return Status::success();
}

Status Validator::checkKernels() {
  std::set<std::string_view> names;
  const auto *kernels = root.kernels();
  for (uint32_t i = 0; i < count(kernels); ++i) {
    const fb::KernelInfo *kernel = kernels->Get(i);
    std::string where = entry("kernels", i, kernel->name());
    if (!kernel->name() || kernel->name()->size() == 0)
      return makeError(where, ": the name is empty");
    if (!names.insert(kernel->name()->string_view()).second)
      return makeError(where, ": another kernel has the same name");
    if (!kernel->family())
      return makeError(where, ": family is missing");
  }
  return Status::success();
}

Status Validator::checkTargets() {
  std::set<std::string_view> names;
  const auto *targets = root.targets();
  const auto *kernels = root.kernels();
  for (uint32_t t = 0; t < count(targets); ++t) {
    const fb::Target *target = targets->Get(t);
    std::string where = entry("targets", t, target->name());
    if (!target->name() || target->name()->size() == 0)
      return makeError(where, ": the name is empty");
    if (!names.insert(target->name()->string_view()).second)
      return makeError(where, ": another target has the same name");
    bool isCpu = target->name()->string_view() == "cpu";
    if (count(target->kernels()) != count(kernels))
      return makeError(where, ": has code for ", count(target->kernels()),
                       " kernels but the bundle has ", count(kernels));
    if (isCpu &&
        (!target->shared_object() || target->shared_object()->size() == 0))
      return makeError(where, ": shared_object is empty");
    const auto *features = target->cpu_features();
    for (uint32_t i = 0; i < count(features); ++i)
      if (features->Get(i)->size() == 0)
        return makeError(where, ": cpu_features[", i, "] is empty");
    for (uint32_t k = 0; k < count(kernels); ++k) {
      const fb::TargetKernel *code = target->kernels()->Get(k);
      std::string kernel = where + ": kernels[" + std::to_string(k) +
                           "] (for " +
                           entry("kernels", k, kernels->Get(k)->name()) + ")";
      if (!code->symbol() || code->symbol()->size() == 0)
        return makeError(kernel, ": symbol is empty");
      if (code->symbol()->string_view().find('\0') != std::string_view::npos)
        return makeError(kernel, ": symbol contains a NUL byte");
      if (count(code->grid()) != 3)
        return makeError(kernel, ": grid has ", count(code->grid()),
                         " expressions; it needs 3 (x, y, z)");
      uint32_t numScalars = kernels->Get(k)->num_scalars();
      for (uint32_t d = 0; d < 3; ++d)
        if (Status status = checkExpr(code->grid()->Get(d), numScalars);
            !status.ok())
          return status.withContext(kernel + ": grid[" + std::to_string(d) +
                                    "]");
    }
  }
  return Status::success();
}

/// The shape rank and dtype each role requires.
struct RoleRule {
  fb::ParamRole role;
  const char *name;
  bool input;
  fb::ElementType dtype;
};
constexpr RoleRule roleRules[] = {
    {fb::ParamRole::Tokens, "Tokens", true, fb::ElementType::I32},
    {fb::ParamRole::Positions, "Positions", true, fb::ElementType::I32},
    {fb::ParamRole::Logits, "Logits", false, fb::ElementType::F32},
};

Status Validator::checkParam(const fb::Param &param, bool isInput,
                             size_t numSymbols) {
  if (!param.name())
    return Status::error("name is missing");
  if (!toDType(param.dtype()))
    return makeError("dtype ", elementTypeName(param.dtype()),
                     " is not an element type");
  const auto *shape = param.shape();
  for (uint32_t d = 0; d < count(shape); ++d)
    if (Status status = checkExpr(shape->Get(d), numSymbols); !status.ok())
      return status.withContext("shape[" + std::to_string(d) + "]");
  if (param.role() == fb::ParamRole::Generic)
    return Status::success();
  for (const RoleRule &rule : roleRules) {
    if (rule.role != param.role())
      continue;
    if (rule.input != isInput)
      return makeError("role ", rule.name, " belongs to ",
                       rule.input ? "an input" : "an output");
    if (param.dtype() != rule.dtype || count(shape) != 2)
      return makeError("role ", rule.name, " needs a rank-2 ",
                       elementTypeName(rule.dtype), " parameter, not ",
                       elementTypeName(param.dtype()), " of rank ",
                       count(shape));
    return Status::success();
  }
  return makeError("role ", unsigned(param.role()), " is not a ParamRole");
}

Status Validator::checkFunction(const fb::Function &function) {
  const auto *symbols = function.symbols();
  const auto *inputs = function.inputs();
  const auto *outputs = function.outputs();
  size_t numSymbols = count(symbols);

  for (uint32_t i = 0; i < count(symbols); ++i) {
    const fb::FunctionSymbol *symbol = symbols->Get(i);
    std::string where = entry("symbols", i, symbol->name());
    if (!symbol->name())
      return makeError(where, ": name is missing");
    if (symbol->input() >= count(inputs))
      return makeError(where, ": input ", symbol->input(),
                       " is out of range (the function has ", count(inputs),
                       " inputs)");
    const fb::Param *input = inputs->Get(symbol->input());
    if (symbol->dim() >= count(input->shape()))
      return makeError(where, ": dim ", symbol->dim(), " of ",
                       entry("inputs", symbol->input(), input->name()),
                       " is out of range (rank ", count(input->shape()), ")");
    if (symbol->max() < 0)
      return makeError(where, ": max is negative (", symbol->max(), ")");
  }

  bool hasTokens = false;
  for (int side = 0; side < 2; ++side) {
    bool isInput = side == 0;
    const auto *params = isInput ? inputs : outputs;
    std::set<fb::ParamRole> roles;
    for (uint32_t i = 0; i < count(params); ++i) {
      const fb::Param *param = params->Get(i);
      std::string where =
          entry(isInput ? "inputs" : "outputs", i, param->name());
      if (Status status = checkParam(*param, isInput, numSymbols); !status.ok())
        return status.withContext(where);
      if (param->role() != fb::ParamRole::Generic &&
          !roles.insert(param->role()).second)
        return makeError(where, ": a second parameter with role ",
                         fb::EnumNameParamRole(param->role()));
      hasTokens |= param->role() == fb::ParamRole::Tokens;
    }
  }

  if (function.writes_kv_cache()) {
    if (!root.kv_cache())
      return Status::error("writes_kv_cache is set but the bundle has no "
                           "kv_cache");
    if (!hasTokens)
      return Status::error("writes_kv_cache is set but no input has role "
                           "Tokens (which says how many positions a call "
                           "adds)");
  }

  const auto *steps = function.steps();
  for (uint32_t i = 0; i < count(steps); ++i)
    if (Status status = checkStep(function, *steps->Get(i)); !status.ok())
      return status.withContext("steps[" + std::to_string(i) + "]");
  return Status::success();
}

Status Validator::checkStep(const fb::Function &function,
                            const fb::Step &step) {
  const auto *kernels = root.kernels();
  if (step.kernel() >= count(kernels))
    return makeError("kernel ", step.kernel(),
                     " is out of range (the bundle has ", count(kernels),
                     " kernels)");
  const fb::KernelInfo *kernel = kernels->Get(step.kernel());
  std::string name = entry("kernels", step.kernel(), kernel->name());
  if (count(step.buffers()) != kernel->num_buffers())
    return makeError("has ", count(step.buffers()), " buffers but ", name,
                     " takes ", kernel->num_buffers());
  if (count(step.scalars()) != kernel->num_scalars())
    return makeError("has ", count(step.scalars()), " scalars but ", name,
                     " takes ", kernel->num_scalars());
  for (uint32_t i = 0; i < count(step.scalars()); ++i)
    if (Status status =
            checkExpr(step.scalars()->Get(i), count(function.symbols()));
        !status.ok())
      return status.withContext("scalars[" + std::to_string(i) + "]");
  for (uint32_t i = 0; i < count(step.buffers()); ++i)
    if (Status status = checkBuffer(function, *step.buffers()->Get(i));
        !status.ok())
      return status.withContext("buffers[" + std::to_string(i) + "]");
  return Status::success();
}

Status Validator::checkBuffer(const fb::Function &function,
                              const fb::BufferRef &ref) {
  /// The table `index` must lie in, and the bytes `offset` may reach (none:
  /// known only at call time).
  uint64_t tableSize = 0;
  std::optional<uint64_t> bytes;
  const char *table = "";
  uint32_t index = ref.index();
  switch (ref.kind()) {
  case fb::BufferKind::Input:
    table = "inputs";
    tableSize = count(function.inputs());
    break;
  case fb::BufferKind::Output:
    table = "outputs";
    tableSize = count(function.outputs());
    break;
  case fb::BufferKind::Arena:
    if (index != 0)
      return makeError("Arena index ", index,
                       " is out of range (a function has one arena, 0)");
    table = "arenas";
    tableSize = 1;
    bytes = function.arena_bytes();
    break;
  case fb::BufferKind::Weight:
    table = "weights";
    tableSize = weightBytes.size();
    if (index < tableSize)
      bytes = weightBytes[index];
    break;
  case fb::BufferKind::WeightTable:
    table = "weight_tables";
    tableSize = count(root.weight_tables());
    if (index < tableSize)
      bytes = uint64_t(count(root.weight_tables()->Get(index)->weights())) *
              sizeof(void *);
    break;
  case fb::BufferKind::KVCache:
    table = "KV-cache layers";
    tableSize = kvLayers;
    bytes = kvLayerBytes;
    break;
  case fb::BufferKind::Constant:
    table = "constants";
    tableSize = constantBytes.size();
    if (index < tableSize)
      bytes = constantBytes[index];
    break;
  default:
    return makeError("kind ", unsigned(ref.kind()), " is not a BufferKind");
  }
  const char *kind = fb::EnumNameBufferKind(ref.kind());
  if (index >= tableSize)
    return makeError(kind, " index ", index, " is out of range (", tableSize,
                     " ", table, ")");
  if (bytes && ref.offset() > *bytes)
    return makeError(kind, " ", index, ": offset ", ref.offset(),
                     " is past its end (", *bytes, " bytes)");
  return Status::success();
}

} // namespace

Status lathe::rt::validateBundle(const fb::Bundle &root,
                                 const BundleExtent &extent) {
  return Validator(root, extent).run();
}
