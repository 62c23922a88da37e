//===- Session.cpp - a bundle ready to call -------------------------------===//

#include "runtime/exec/Session.h"

#include "runtime/bundle/ElementType.h"
#include "runtime/bundle/Expr.h"
#include "runtime/support/Text.h"

#include <chrono>
#include <cstring>
#include <limits>

using namespace lathe::rt;
namespace fb = lathe::bundle;

/// What one call computed before its first launch.
struct Session::Planned {
  struct Launch {
    uint32_t kernel;
    size_t scalars, buffers;
    int64_t grid[3];
  };
  std::vector<int64_t> symbols;
  /// Per input: the caller's index, or -1 for a Positions input to fill.
  std::vector<int> given;
  std::vector<std::vector<int64_t>> inputShapes, outputShapes;
  std::vector<uint64_t> inputBytes, outputBytes;
  std::vector<Launch> launches;
  std::vector<int64_t> scalars;
  std::vector<void *> buffers;
  /// Rows and positions the call appends to the KV cache.
  int64_t batch = 0, tokens = 0;
};

/// A function's memory, kept across calls.
struct Session::FunctionState {
  const fb::Function *function = nullptr;
  std::string context;
  MemoryRegion arena;
  std::vector<AlignedBuffer> inputs, outputs;
  int tokensInput = -1, positionsInput = -1;
  std::vector<std::string> symbolNames;
  Planned plan;
};

namespace {

template <typename T> uint32_t count(const flatbuffers::Vector<T> *vector) {
  return vector ? vector->size() : 0;
}

/// "input 1 'positions'".
std::string paramName(bool input, uint32_t index, const fb::Param *param) {
  return std::string(input ? "input " : "output ") + std::to_string(index) +
         " '" + printable(param->name()->string_view()) + "'";
}

/// A declared shape as text: "[batch, tokens]".
std::string declaredShape(const fb::Param &param,
                          const std::vector<std::string> &names) {
  std::string text = "[";
  for (uint32_t d = 0; d < count(param.shape()); ++d)
    text += (d ? ", " : "") + formatExpr(param.shape()->Get(d), names);
  return text + "]";
}

/// Evaluates a declared shape over `symbols`; dims must be >= 0.
Expected<std::vector<int64_t>>
evaluateShape(const fb::Param &param, const std::vector<int64_t> &symbols,
              const std::vector<std::string> &names) {
  std::vector<int64_t> dims;
  for (uint32_t d = 0; d < count(param.shape()); ++d) {
    const fb::Expr *expr = param.shape()->Get(d);
    Expected<int64_t> dim = evaluateExpr(*expr, symbols.data(), symbols.size());
    if (!dim)
      return dim.status().withContext("shape[" + std::to_string(d) +
                                      "] = " + formatExpr(expr, names));
    if (*dim < 0)
      return makeError("shape[", d, "] = ", formatExpr(expr, names),
                       " is negative (", *dim, ")");
    dims.push_back(*dim);
  }
  return dims;
}

} // namespace

Session::Session(Bundle bundle, WeightStore weights,
                 std::unique_ptr<Device> device, KVCache cache)
    : loaded(std::move(bundle)), weights(std::move(weights)),
      dev(std::move(device)), cache(std::move(cache)) {}

Session::~Session() = default;

Expected<std::unique_ptr<Session>>
Session::open(const std::string &path, const SessionOptions &options) {
  Expected<Bundle> bundle = Bundle::open(path);
  if (!bundle)
    return bundle.status();
  return create(std::move(*bundle), options);
}

Expected<std::unique_ptr<Session>>
Session::create(Bundle bundle, const SessionOptions &options) {
  const fb::Bundle &root = bundle.root();
  // The checkpoint is checked before any of the bundle's code is loaded.
  Expected<WeightStore> weights = WeightStore::open(bundle);
  if (!weights)
    return weights.status();
  Expected<KVCache> cache =
      KVCache::create(root.kv_cache(), root.config()->max_batch(),
                      root.config()->max_seq_len());
  if (!cache)
    return cache.status().withContext(bundle.name());
  Expected<std::unique_ptr<Device>> device =
      createDevice(bundle, options.device, options.threads);
  if (!device)
    return device.status();

  std::unique_ptr<Session> session(
      new Session(std::move(bundle), std::move(*weights), std::move(*device),
                  std::move(*cache)));
  const fb::Bundle &table = session->loaded.root();
  session->target = table.targets()->Get(
      uint32_t(session->loaded.findTarget(session->dev->targetName())));

  for (uint32_t t = 0; t < count(table.weight_tables()); ++t) {
    std::vector<const void *> pointers;
    const auto *members = table.weight_tables()->Get(t)->weights();
    for (uint32_t j = 0; j < count(members); ++j)
      pointers.push_back(session->weights.weight(members->Get(j)));
    session->weightTables.push_back(std::move(pointers));
  }

  for (uint32_t f = 0; f < count(table.functions()); ++f) {
    const fb::Function *function = table.functions()->Get(f);
    auto state = std::make_unique<FunctionState>();
    state->function = function;
    state->context = session->loaded.name() + ": function '" +
                     printable(function->name()->string_view()) + "'";
    Expected<MemoryRegion> arena =
        MemoryRegion::reserve(function->arena_bytes(), "arena");
    if (!arena)
      return arena.status().withContext(state->context);
    state->arena = std::move(*arena);
    state->inputs.resize(count(function->inputs()));
    state->outputs.resize(count(function->outputs()));
    for (uint32_t i = 0; i < count(function->inputs()); ++i) {
      fb::ParamRole role = function->inputs()->Get(i)->role();
      if (role == fb::ParamRole::Tokens)
        state->tokensInput = int(i);
      if (role == fb::ParamRole::Positions)
        state->positionsInput = int(i);
    }
    for (uint32_t s = 0; s < count(function->symbols()); ++s)
      state->symbolNames.push_back(function->symbols()->Get(s)->name()->str());
    session->functions.push_back(std::move(state));
  }
  return session;
}

Expected<uint32_t> Session::findFunction(std::string_view name) const {
  int64_t index = loaded.findFunction(name);
  if (index >= 0)
    return uint32_t(index);
  std::string names;
  for (const auto &state : functions)
    names += (names.empty() ? "'" : ", '") +
             printable(state->function->name()->string_view()) + "'";
  return makeError(loaded.name(), ": no function '", printable(name),
                   "' (the bundle has ", names.empty() ? "none" : names, ")");
}

Expected<std::vector<Tensor>>
Session::call(std::string_view function,
              const std::vector<TensorView> &inputs) {
  Expected<uint32_t> index = findFunction(function);
  if (!index)
    return index.status();
  return call(*index, inputs);
}

Status Session::bindInputs(FunctionState &state,
                           const std::vector<TensorView> &views) {
  Planned &plan = state.plan;
  const fb::Function &function = *state.function;
  const fb::Bundle &root = loaded.root();
  const auto *inputs = function.inputs();
  const auto *outputs = function.outputs();
  const uint32_t numInputs = count(inputs), numOutputs = count(outputs);
  const std::vector<std::string> &names = state.symbolNames;

  // Which inputs the caller gave.
  plan.given.assign(numInputs, -1);
  bool fillPositions =
      state.positionsInput >= 0 && views.size() + 1 == numInputs;
  if (views.size() != numInputs && !fillPositions) {
    std::string list;
    for (uint32_t i = 0; i < numInputs; ++i)
      list +=
          (i ? ", " : "") + printable(inputs->Get(i)->name()->string_view());
    return makeError(
        "takes ", numInputs, " inputs (", list, ")",
        state.positionsInput >= 0 ? ", or all but the Positions input" : "",
        ", but the call gave ", views.size());
  }
  for (uint32_t i = 0, next = 0; i < numInputs; ++i)
    if (!(fillPositions && int(i) == state.positionsInput))
      plan.given[i] = int(next++);

  for (uint32_t i = 0; i < numInputs; ++i) {
    if (plan.given[i] < 0)
      continue;
    const fb::Param *param = inputs->Get(i);
    const TensorView &view = views[size_t(plan.given[i])];
    DType want = *toDType(param->dtype());
    if (view.dtype != want)
      return makeError(paramName(true, i, param), ": is ",
                       dtypeName(view.dtype), " but the function takes ",
                       dtypeName(want));
    if (view.shape.size() != count(param->shape()))
      return makeError(paramName(true, i, param), ": has shape ",
                       formatShape(view.shape), " of rank ", view.shape.size(),
                       " but the function takes ", declaredShape(*param, names),
                       " of rank ", count(param->shape()));
    Expected<uint64_t> bytes =
        tensorBytes(view.dtype, view.shape.data(), view.shape.size());
    if (!bytes)
      return bytes.status().withContext(paramName(true, i, param));
    if (*bytes != view.bytes)
      return makeError(paramName(true, i, param), ": shape ",
                       formatShape(view.shape), " needs ", *bytes,
                       " bytes but the data has ", view.bytes);
  }

  // Symbols from the given shapes.
  plan.symbols.clear();
  for (uint32_t s = 0; s < count(function.symbols()); ++s) {
    const fb::FunctionSymbol *symbol = function.symbols()->Get(s);
    const fb::Param *param = inputs->Get(symbol->input());
    if (plan.given[symbol->input()] < 0)
      return makeError("symbol '", printable(names[s]), "' is dim ",
                       symbol->dim(), " of ",
                       paramName(true, symbol->input(), param),
                       ", which the call left to the runtime; pass it");
    int64_t value =
        views[size_t(plan.given[symbol->input()])].shape[symbol->dim()];
    if (value > symbol->max())
      return makeError("symbol '", printable(names[s]), "' (dim ",
                       symbol->dim(), " of ",
                       paramName(true, symbol->input(), param), ") is ", value,
                       ", more than its max ", symbol->max());
    plan.symbols.push_back(value);
  }

  // Every shape, given or not, as the symbols make it.
  plan.inputShapes.resize(numInputs);
  plan.inputBytes.resize(numInputs);
  for (uint32_t i = 0; i < numInputs; ++i) {
    const fb::Param *param = inputs->Get(i);
    Expected<std::vector<int64_t>> shape =
        evaluateShape(*param, plan.symbols, names);
    if (!shape)
      return shape.status().withContext(paramName(true, i, param));
    if (plan.given[i] >= 0 && views[size_t(plan.given[i])].shape != *shape) {
      std::string declared = declaredShape(*param, names);
      std::string evaluated = formatShape(*shape);
      return makeError(paramName(true, i, param), ": has shape ",
                       formatShape(views[size_t(plan.given[i])].shape),
                       " but the function takes ", declared,
                       declared == evaluated ? "" : " = " + evaluated);
    }
    Expected<uint64_t> bytes =
        tensorBytes(*toDType(param->dtype()), shape->data(), shape->size());
    if (!bytes)
      return bytes.status().withContext(paramName(true, i, param));
    plan.inputShapes[i] = std::move(*shape);
    plan.inputBytes[i] = *bytes;
  }
  plan.outputShapes.resize(numOutputs);
  plan.outputBytes.resize(numOutputs);
  for (uint32_t i = 0; i < numOutputs; ++i) {
    const fb::Param *param = outputs->Get(i);
    Expected<std::vector<int64_t>> shape =
        evaluateShape(*param, plan.symbols, names);
    if (!shape)
      return shape.status().withContext(paramName(false, i, param));
    Expected<uint64_t> bytes =
        tensorBytes(*toDType(param->dtype()), shape->data(), shape->size());
    if (!bytes)
      return bytes.status().withContext(paramName(false, i, param));
    plan.outputShapes[i] = std::move(*shape);
    plan.outputBytes[i] = *bytes;
  }

  // Token ids index the embedding table: out-of-range ids would read
  // outside it.
  int64_t vocab = root.config()->vocab_size();
  if (state.tokensInput >= 0 && vocab > 0) {
    const TensorView &view = views[size_t(plan.given[state.tokensInput])];
    const auto *ids = static_cast<const uint8_t *>(view.data);
    for (uint64_t e = 0; e < view.bytes / sizeof(int32_t); ++e) {
      int32_t id;
      std::memcpy(&id, ids + e * sizeof(int32_t), sizeof(id));
      if (id < 0 || id >= vocab)
        return makeError(paramName(true, uint32_t(state.tokensInput),
                                   inputs->Get(uint32_t(state.tokensInput))),
                         ": element ", e, " is token ", id,
                         ", outside the vocabulary [0, ", vocab, ")");
    }
  }

  // The KV cache: room for the new positions.
  plan.batch = plan.tokens = 0;
  if (function.writes_kv_cache()) {
    const std::vector<int64_t> &shape = plan.inputShapes[state.tokensInput];
    plan.batch = shape[0];
    plan.tokens = shape[1];
    if (Status status = cache.checkAppend(plan.batch, plan.tokens);
        !status.ok())
      return status.withContext("the KV cache");
  }
  if (fillPositions) {
    const std::vector<int64_t> &shape = plan.inputShapes[state.positionsInput];
    if (shape[0] > cache.maxBatch())
      return makeError("batch ", shape[0], " is more than max_batch ",
                       cache.maxBatch());
    for (int64_t b = 0; b < shape[0]; ++b)
      if (cache.length(b) + shape[1] - 1 > std::numeric_limits<int32_t>::max())
        return makeError("row ", b, ": positions from ", cache.length(b),
                         " do not fit in int32");
  }
  return Status::success();
}

Status Session::planSteps(FunctionState &state) {
  Planned &plan = state.plan;
  const fb::Function &function = *state.function;
  const fb::Bundle &root = loaded.root();
  const auto *inputs = function.inputs();
  const auto *outputs = function.outputs();
  const std::vector<std::string> &names = state.symbolNames;

  // The buffers the kernels will see, at this call's sizes.
  for (uint32_t i = 0; i < count(inputs); ++i)
    if (Status status = state.inputs[i].resize(plan.inputBytes[i]);
        !status.ok())
      return status.withContext(paramName(true, i, inputs->Get(i)));
  for (uint32_t i = 0; i < count(outputs); ++i)
    if (Status status = state.outputs[i].resize(plan.outputBytes[i]);
        !status.ok())
      return status.withContext(paramName(false, i, outputs->Get(i)));

  // Each step's scalars, grid and buffers.
  plan.launches.clear();
  plan.scalars.clear();
  plan.buffers.clear();
  for (uint32_t s = 0; s < count(function.steps()); ++s) {
    const fb::Step *step = function.steps()->Get(s);
    const fb::KernelInfo *kernel = root.kernels()->Get(step->kernel());
    // Built only for a message: a call plans every step each time.
    auto where = [&] {
      return "steps[" + std::to_string(s) + "] (kernel '" +
             printable(kernel->name()->string_view()) + "')";
    };
    Planned::Launch launch;
    launch.kernel = step->kernel();
    launch.scalars = plan.scalars.size();
    launch.buffers = plan.buffers.size();
    for (uint32_t i = 0; i < count(step->scalars()); ++i) {
      const fb::Expr *expr = step->scalars()->Get(i);
      Expected<int64_t> value =
          evaluateExpr(*expr, plan.symbols.data(), plan.symbols.size());
      if (!value)
        return value.status().withContext(where() + ": scalars[" +
                                          std::to_string(i) +
                                          "] = " + formatExpr(expr, names));
      plan.scalars.push_back(*value);
    }
    const fb::TargetKernel *code = target->kernels()->Get(step->kernel());
    const int64_t *scalars = plan.scalars.data() + launch.scalars;
    for (uint32_t d = 0; d < 3; ++d) {
      Expected<int64_t> value =
          evaluateExpr(*code->grid()->Get(d), scalars, count(step->scalars()));
      if (!value)
        return value.status().withContext(where() + ": grid[" +
                                          std::to_string(d) + "]");
      if (*value < 0)
        return makeError(where(), ": grid[", d, "] is negative (", *value, ")");
      launch.grid[d] = *value;
    }
    for (uint32_t i = 0; i < count(step->buffers()); ++i) {
      const fb::BufferRef *ref = step->buffers()->Get(i);
      uint8_t *base = nullptr;
      switch (ref->kind()) {
      case fb::BufferKind::Input:
      case fb::BufferKind::Output: {
        bool input = ref->kind() == fb::BufferKind::Input;
        uint64_t bytes = input ? plan.inputBytes[ref->index()]
                               : plan.outputBytes[ref->index()];
        if (ref->offset() > bytes)
          return makeError(
              where(), ": buffers[", i, "]: offset ", ref->offset(),
              " is past the end of ",
              paramName(input, ref->index(),
                        (input ? inputs : outputs)->Get(ref->index())),
              " (", bytes, " bytes in this call)");
        base = (input ? state.inputs : state.outputs)[ref->index()].data();
        break;
      }
      case fb::BufferKind::Arena:
        base = state.arena.data();
        break;
      case fb::BufferKind::Weight:
        base = static_cast<uint8_t *>(
            const_cast<void *>(weights.weight(ref->index())));
        break;
      case fb::BufferKind::WeightTable:
        base = reinterpret_cast<uint8_t *>(weightTables[ref->index()].data());
        break;
      case fb::BufferKind::KVCache:
        base = cache.layer(ref->index());
        break;
      case fb::BufferKind::Constant: {
        const auto *data = root.constants()->Get(ref->index())->data();
        base = data ? const_cast<uint8_t *>(data->data()) : nullptr;
        break;
      }
      }
      // The loader bounded every other offset by its buffer's size.
      plan.buffers.push_back(base ? base + ref->offset() : nullptr);
    }
    plan.launches.push_back(launch);
  }
  return Status::success();
}

void Session::stageInputs(FunctionState &state,
                          const std::vector<TensorView> &views) {
  const Planned &plan = state.plan;
  for (size_t i = 0; i < plan.given.size(); ++i) {
    AlignedBuffer &buffer = state.inputs[i];
    if (plan.given[i] >= 0) {
      const TensorView &view = views[size_t(plan.given[i])];
      if (view.bytes)
        std::memcpy(buffer.data(), view.data, size_t(view.bytes));
      continue;
    }
    // The Positions input the caller left out: cached[b] + t.
    const std::vector<int64_t> &shape = plan.inputShapes[i];
    auto *positions = reinterpret_cast<int32_t *>(buffer.data());
    for (int64_t b = 0; b < shape[0]; ++b)
      for (int64_t t = 0; t < shape[1]; ++t)
        positions[b * shape[1] + t] = int32_t(cache.length(b) + t);
  }
  for (size_t i = 0; i < plan.outputBytes.size(); ++i)
    std::memset(state.outputs[i].data(), 0, size_t(plan.outputBytes[i]));
}

void Session::setProfile(KernelProfile *newProfile) {
  profile = newProfile;
  if (!profile)
    return;
  size_t kernels = count(loaded.root().kernels());
  profile->seconds.assign(functions.size(), std::vector<double>(kernels, 0.0));
  profile->launches.assign(functions.size(), std::vector<uint64_t>(kernels, 0));
  profile->calls.assign(functions.size(), 0);
}

Expected<std::vector<Tensor>>
Session::call(uint32_t index, const std::vector<TensorView> &inputs) {
  if (index >= functions.size())
    return makeError(loaded.name(), ": function ", index, " is out of range (",
                     functions.size(), " functions)");
  FunctionState &state = *functions[index];
  const Planned &plan = state.plan;
  // Everything that can fail, before anything changes.
  if (Status status = bindInputs(state, inputs); !status.ok())
    return status.withContext(state.context);
  if (Status status = planSteps(state); !status.ok())
    return status.withContext(state.context);
  stageInputs(state, inputs);

  for (size_t s = 0; s < plan.launches.size(); ++s) {
    const Planned::Launch &launch = plan.launches[s];
    auto start = profile ? std::chrono::steady_clock::now()
                         : std::chrono::steady_clock::time_point();
    Status status =
        dev->launch(launch.kernel, plan.buffers.data() + launch.buffers,
                    plan.scalars.data() + launch.scalars, launch.grid);
    if (!status.ok())
      return status.withContext(state.context + ": steps[" + std::to_string(s) +
                                "]");
    if (profile) {
      profile->seconds[index][launch.kernel] +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
              .count();
      ++profile->launches[index][launch.kernel];
    }
  }
  if (profile)
    ++profile->calls[index];
  if (state.function->writes_kv_cache())
    cache.append(plan.batch, plan.tokens);

  std::vector<Tensor> results;
  for (size_t i = 0; i < plan.outputShapes.size(); ++i) {
    Tensor tensor;
    tensor.dtype = *toDType(state.function->outputs()->Get(i)->dtype());
    tensor.shape = plan.outputShapes[i];
    const uint8_t *data = state.outputs[i].data();
    tensor.data.assign(data, data + plan.outputBytes[i]);
    results.push_back(std::move(tensor));
  }
  return results;
}
