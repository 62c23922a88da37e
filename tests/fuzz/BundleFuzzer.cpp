//===- BundleFuzzer.cpp - fuzz the bundle loader --------------------------===//
//
// The input is read twice: as a whole bundle file (trailer, checksum,
// verifier, semantic rules), and as the FlatBuffer of one, behind a valid
// trailer with the right checksum, so that mutations reach FlatBuffers'
// verifier and validateBundle instead of stopping at the checksum. What the
// loader accepts is then used the way the runtime uses it, without running
// code: embedded weights are opened and read, every Expr is evaluated and
// printed, every index the loader vouched for is followed, so that
// AddressSanitizer sees any read it let through. Weight files are looked
// for under a directory that does not exist.
//
//===----------------------------------------------------------------------===//

#include "runtime/bundle/Bundle.h"
#include "runtime/bundle/ElementType.h"
#include "runtime/bundle/Expr.h"
#include "runtime/bundle/Format.h"
#include "runtime/bundle/WeightStore.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

using namespace lathe::rt;
namespace fb = lathe::bundle;

namespace {

[[noreturn]] void violated(const char *what) {
  std::fprintf(stderr, "fuzz-bundle: broken guarantee: %s\n", what);
  std::abort();
}

void check(bool condition, const char *what) {
  if (!condition)
    violated(what);
}

template <typename T> uint32_t count(const flatbuffers::Vector<T> *vector) {
  return vector ? vector->size() : 0;
}

volatile uint64_t sink;

void readBytes(const void *data, uint64_t size) {
  const auto *bytes = static_cast<const uint8_t *>(data);
  uint64_t sum = 0;
  for (uint64_t i = 0; i < size; ++i)
    sum += bytes[i];
  sink = sum;
}

/// Evaluates and prints `expr` over a few symbol values. A kernel may
/// claim billions of scalars; the symbols past the first 64 are left out
/// (evaluation then fails on them, cleanly).
void exercise(const fb::Expr *expr, size_t numSymbols) {
  check(checkExpr(expr, numSymbols).ok(), "an accepted Expr checks");
  const size_t given = std::min<size_t>(numSymbols, 64);
  std::vector<std::string> names(given, "s");
  sink = formatExpr(expr, names).size();
  for (int64_t value : {int64_t(0), int64_t(1), int64_t(7),
                        std::numeric_limits<int64_t>::max()}) {
    std::vector<int64_t> symbols(given, value);
    Expected<int64_t> result = evaluateExpr(*expr, symbols.data(), given);
    if (!result)
      check(!result.status().message().empty(), "errors have a message");
  }
}

void checkBundle(const Bundle &bundle) {
  const fb::Bundle &root = bundle.root();
  check(root.version() == kBundleVersion, "version");
  check(root.config() != nullptr, "config");

  const uint32_t numWeights = count(root.weights());
  std::vector<uint64_t> weightBytes;
  for (uint32_t i = 0; i < numWeights; ++i) {
    const fb::Weight *weight = root.weights()->Get(i);
    check(weight->file() < count(root.weight_files()), "weight file index");
    Expected<uint64_t> bytes =
        tensorBytes(*toDType(weight->dtype()), weight->shape());
    check(bytes.ok(), "weight size");
    check(weight->offset() + *bytes <=
              root.weight_files()->Get(weight->file())->size(),
          "weight inside its file");
    weightBytes.push_back(*bytes);
  }
  for (uint32_t t = 0; t < count(root.weight_tables()); ++t) {
    const auto *members = root.weight_tables()->Get(t)->weights();
    for (uint32_t j = 0; j < count(members); ++j)
      check(members->Get(j) < numWeights, "table index");
  }
  for (uint32_t c = 0; c < count(root.constants()); ++c) {
    const fb::Constant *constant = root.constants()->Get(c);
    if (constant->data())
      readBytes(constant->data()->data(), constant->data()->size());
  }

  // Embedded weights are opened and read; files are looked for where none
  // can be.
  Expected<WeightStore> store = WeightStore::open(bundle);
  if (store.ok())
    for (uint32_t i = 0; i < numWeights; ++i)
      if (store->weight(i))
        readBytes(store->weight(i), weightBytes[i]);

  const uint32_t numKernels = count(root.kernels());
  for (uint32_t t = 0; t < count(root.targets()); ++t) {
    const fb::Target *target = root.targets()->Get(t);
    check(count(target->kernels()) == numKernels, "kernel count");
    for (uint32_t k = 0; k < numKernels; ++k) {
      const fb::TargetKernel *code = target->kernels()->Get(k);
      check(count(code->grid()) == 3, "grid of 3");
      for (const fb::Expr *expr : *code->grid())
        exercise(expr, root.kernels()->Get(k)->num_scalars());
    }
  }
  for (uint32_t f = 0; f < count(root.functions()); ++f) {
    const fb::Function *function = root.functions()->Get(f);
    check(bundle.findFunction(function->name()->string_view()) == f,
          "function names are unique");
    size_t numSymbols = count(function->symbols());
    for (const auto *params : {function->inputs(), function->outputs()})
      for (uint32_t i = 0; i < count(params); ++i)
        for (uint32_t d = 0; d < count(params->Get(i)->shape()); ++d)
          exercise(params->Get(i)->shape()->Get(d), numSymbols);
    for (uint32_t s = 0; s < count(function->steps()); ++s) {
      const fb::Step *step = function->steps()->Get(s);
      check(step->kernel() < numKernels, "step kernel");
      const fb::KernelInfo *kernel = root.kernels()->Get(step->kernel());
      check(count(step->buffers()) == kernel->num_buffers(), "buffers");
      check(count(step->scalars()) == kernel->num_scalars(), "scalars");
      for (uint32_t i = 0; i < count(step->scalars()); ++i)
        exercise(step->scalars()->Get(i), numSymbols);
      for (uint32_t i = 0; i < count(step->buffers()); ++i) {
        const fb::BufferRef *ref = step->buffers()->Get(i);
        if (ref->kind() == fb::BufferKind::Weight) {
          check(ref->index() < numWeights, "weight buffer");
          check(ref->offset() <= weightBytes[ref->index()], "weight offset");
        } else if (ref->kind() == fb::BufferKind::Constant) {
          check(ref->index() < count(root.constants()), "constant buffer");
        } else if (ref->kind() == fb::BufferKind::Arena) {
          check(ref->index() == 0 && ref->offset() <= function->arena_bytes(),
                "arena buffer");
        }
      }
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string nowhere = "/nonexistent-lathe-fuzz-dir";
  Expected<Bundle> bundle = Bundle::fromBytes(
      std::vector<uint8_t>(data, data + size), "fuzz.lathe", nowhere);
  if (bundle.ok())
    checkBundle(*bundle);
  else
    check(!bundle.status().message().empty(), "errors have a message");

  // The input as the FlatBuffer, behind a valid trailer.
  std::vector<uint8_t> file(data, data + size);
  BundleTrailer trailer;
  trailer.flatbufferSize = size;
  trailer.checksum = fnv1a64(data, size);
  std::memcpy(trailer.magic, kTrailerMagic, sizeof(trailer.magic));
  const auto *bytes = reinterpret_cast<const uint8_t *>(&trailer);
  file.insert(file.end(), bytes, bytes + sizeof(trailer));
  bundle = Bundle::fromBytes(std::move(file), "fuzz.lathe", nowhere);
  if (bundle.ok())
    checkBundle(*bundle);
  else
    check(!bundle.status().message().empty(), "errors have a message");
  return 0;
}
