//===- lathe-inspect.cpp - what a bundle holds ----------------------------===//
//
//   lathe-inspect BUNDLE [--json] [--extract-kernels=DIR]
//
// Loads and checks a bundle (not its weight files, not its code) and prints
// its version, producer, model config, targets, kernels, functions, weights
// and KV cache, as text or as one JSON object (keys in docs/runtime.md).
// --extract-kernels writes each target's code to DIR/<target>.so.
//
//===----------------------------------------------------------------------===//

#include "runtime/bundle/Bundle.h"
#include "runtime/bundle/ElementType.h"
#include "runtime/bundle/Expr.h"
#include "runtime/support/CommandLine.h"
#include "runtime/support/JsonWriter.h"
#include "runtime/support/Text.h"
#include "runtime/support/ToolMain.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <new>
#include <sys/stat.h>

using namespace lathe::rt;
namespace fb = lathe::bundle;

namespace {

constexpr const char *tool = "lathe-inspect";

const char *const helpText = R"(lathe-inspect: what a lathe bundle holds

usage: lathe-inspect BUNDLE [--json] [--extract-kernels=DIR]

Checks the bundle as lathe-run loads it (its weight files and its code are
not opened) and prints its version, producer, model config and limits, KV
cache, targets, kernels, functions and weights.

  --json                  print the same as one JSON object (keys in
                          docs/runtime.md)
  --extract-kernels=DIR   also write each target's code to DIR/<target>.so
                          (the cpu target: DIR/cpu.so); DIR is created if
                          missing
  --help                  this text

Errors print "lathe-inspect: error: ..." and exit with status 1; a
malformed command line exits with status 2.
)";

template <typename T> uint32_t count(const flatbuffers::Vector<T> *vector) {
  return vector ? vector->size() : 0;
}

std::string text(const flatbuffers::String *string) {
  return string ? printable(string->string_view()) : "";
}

/// Raw bytes of a name, for JSON (the writer escapes them).
std::string_view raw(const flatbuffers::String *string) {
  return string ? string->string_view() : std::string_view();
}

const char *roleName(fb::ParamRole role) {
  const char *name = fb::EnumNameParamRole(role);
  return name && *name ? name : "?";
}

/// What the report derives from the bundle.
struct Summary {
  uint64_t weightBytes = 0;
  std::vector<uint64_t> fileWeights, fileBytes;
  uint64_t constantBytes = 0;
  std::map<std::string, int> families;
};

Summary summarize(const fb::Bundle &root) {
  Summary summary;
  summary.fileWeights.assign(count(root.weight_files()), 0);
  summary.fileBytes.assign(count(root.weight_files()), 0);
  for (uint32_t i = 0; i < count(root.weights()); ++i) {
    const fb::Weight *weight = root.weights()->Get(i);
    // The loader checked every size.
    uint64_t bytes = *tensorBytes(*toDType(weight->dtype()), weight->shape());
    summary.weightBytes += bytes;
    summary.fileWeights[weight->file()] += 1;
    summary.fileBytes[weight->file()] += bytes;
  }
  for (uint32_t i = 0; i < count(root.constants()); ++i)
    summary.constantBytes += root.constants()->Get(i)->data()
                                 ? root.constants()->Get(i)->data()->size()
                                 : 0;
  for (uint32_t k = 0; k < count(root.kernels()); ++k)
    summary.families[root.kernels()->Get(k)->family()->str()] += 1;
  return summary;
}

std::vector<std::string> symbolNames(const fb::Function &function) {
  std::vector<std::string> names;
  for (uint32_t s = 0; s < count(function.symbols()); ++s)
    names.push_back(text(function.symbols()->Get(s)->name()));
  return names;
}

std::vector<std::string> shapeTexts(const fb::Param &param,
                                    const std::vector<std::string> &names) {
  std::vector<std::string> dims;
  for (uint32_t d = 0; d < count(param.shape()); ++d)
    dims.push_back(formatExpr(param.shape()->Get(d), names));
  return dims;
}

uint64_t kvBytes(const fb::KVCacheLayout &kv) {
  int64_t dims[] = {kv.max_batch(), kv.max_seq_len(), int64_t(kv.width())};
  uint64_t layer = *tensorBytes(*toDType(kv.dtype()), dims, 3);
  return layer * kv.num_layers();
}

/// "s0, s1 ceildiv 4, 1": a kernel's workgroup counts over its scalars.
std::string gridText(const fb::TargetKernel &kernel) {
  std::string out;
  for (uint32_t d = 0; d < count(kernel.grid()); ++d)
    out += (d ? ", " : "") + formatExpr(kernel.grid()->Get(d), {});
  return out;
}

void printText(const Bundle &bundle) {
  const fb::Bundle &root = bundle.root();
  const fb::ModelConfig &config = *root.config();
  Summary summary = summarize(root);
  std::printf("%s: lathe bundle version %u, %llu bytes (FlatBuffer %llu",
              bundle.name().c_str(), root.version(),
              (unsigned long long)bundle.fileSize(),
              (unsigned long long)bundle.trailer().flatbufferSize);
  if (bundle.blobSize() || bundle.trailer().blobOffset)
    std::printf(", embedded weights %llu",
                (unsigned long long)bundle.blobSize());
  std::printf(")\n");
  std::printf("producer: %s\n", text(root.producer()).c_str());
  std::printf("model: %s, vocab %lld, hidden %lld, %lld layers, "
              "max_position_embeddings %lld\n",
              text(config.model_type()).c_str(), (long long)config.vocab_size(),
              (long long)config.hidden_size(), (long long)config.num_layers(),
              (long long)config.max_position_embeddings());
  std::printf("limits: max_batch %lld, max_seq_len %lld\n",
              (long long)config.max_batch(), (long long)config.max_seq_len());
  if (const fb::KVCacheLayout *kv = root.kv_cache())
    std::printf("kv_cache: %u layers of [%lld, %lld, %u] %s, %llu bytes per "
                "token, %llu bytes in all\n",
                kv->num_layers(), (long long)kv->max_batch(),
                (long long)kv->max_seq_len(), kv->width(),
                elementTypeName(kv->dtype()).c_str(),
                (unsigned long long)kv->bytes_per_token(),
                (unsigned long long)kvBytes(*kv));
  else
    std::printf("kv_cache: none\n");

  std::printf("targets: %u\n", count(root.targets()));
  for (uint32_t t = 0; t < count(root.targets()); ++t) {
    const fb::Target *target = root.targets()->Get(t);
    std::string features;
    for (uint32_t i = 0; i < count(target->cpu_features()); ++i)
      features += (i ? " " : "") + text(target->cpu_features()->Get(i));
    std::printf("  %s: cpu %s, features [%s], %u bytes of code\n",
                text(target->name()).c_str(),
                target->cpu() ? text(target->cpu()).c_str() : "-",
                features.c_str(), count(target->shared_object()));
    // Each kernel's launch shape over its scalars s0, s1, ..., and the
    // resources a GPU kernel reports (0 on the CPU).
    for (uint32_t k = 0; k < count(target->kernels()); ++k) {
      const fb::TargetKernel *kernel = target->kernels()->Get(k);
      std::printf("    %u %s: grid (%s), %u registers, %u bytes shared, %u "
                  "bytes spilled\n",
                  k, text(kernel->symbol()).c_str(), gridText(*kernel).c_str(),
                  kernel->registers(), kernel->shared_bytes(),
                  kernel->spill_bytes());
    }
  }

  std::string families;
  for (const auto &[family, n] : summary.families)
    families += (families.empty() ? "" : ", ") + printable(family) + " " +
                std::to_string(n);
  std::printf("kernels: %u (%s)\n", count(root.kernels()), families.c_str());
  for (uint32_t k = 0; k < count(root.kernels()); ++k) {
    const fb::KernelInfo *kernel = root.kernels()->Get(k);
    std::printf("  %u %s: family %s, %u buffers, %u scalars\n", k,
                text(kernel->name()).c_str(), text(kernel->family()).c_str(),
                kernel->num_buffers(), kernel->num_scalars());
  }

  std::printf("functions: %u\n", count(root.functions()));
  for (uint32_t f = 0; f < count(root.functions()); ++f) {
    const fb::Function &function = *root.functions()->Get(f);
    std::vector<std::string> names = symbolNames(function);
    auto params =
        [&](const flatbuffers::Vector<flatbuffers::Offset<fb::Param>> *list) {
          std::string out;
          for (uint32_t i = 0; i < count(list); ++i) {
            const fb::Param &param = *list->Get(i);
            std::string shape;
            for (const std::string &dim : shapeTexts(param, names))
              shape += (shape.empty() ? "" : ", ") + dim;
            out += (i ? ", " : "") + text(param.name()) + ": " +
                   elementTypeName(param.dtype()) + " [" + shape + "]";
            if (param.role() != fb::ParamRole::Generic)
              out += std::string(" ") + roleName(param.role());
          }
          return out;
        };
    std::printf("  %s(%s) -> (%s)\n", text(function.name()).c_str(),
                params(function.inputs()).c_str(),
                params(function.outputs()).c_str());
    std::string symbols;
    for (uint32_t s = 0; s < count(function.symbols()); ++s) {
      const fb::FunctionSymbol *symbol = function.symbols()->Get(s);
      symbols += (s ? ", " : "") + names[s] +
                 " <= " + std::to_string(symbol->max()) + " (input " +
                 std::to_string(symbol->input()) + " dim " +
                 std::to_string(symbol->dim()) + ")";
    }
    std::printf("    symbols: %s\n",
                symbols.empty() ? "none" : symbols.c_str());
    std::printf("    %u steps, arena %llu bytes%s\n", count(function.steps()),
                (unsigned long long)function.arena_bytes(),
                function.writes_kv_cache() ? ", writes the KV cache" : "");
  }

  std::printf("weights: %u tensors, %llu bytes in %u files, %u tables\n",
              count(root.weights()), (unsigned long long)summary.weightBytes,
              count(root.weight_files()), count(root.weight_tables()));
  for (uint32_t i = 0; i < count(root.weight_files()); ++i) {
    const fb::WeightFile *file = root.weight_files()->Get(i);
    std::printf("  %s: %llu bytes, %llu tensors of %llu bytes\n",
                file->path()->size() ? text(file->path()).c_str()
                                     : "(embedded)",
                (unsigned long long)file->size(),
                (unsigned long long)summary.fileWeights[i],
                (unsigned long long)summary.fileBytes[i]);
  }
  std::printf("constants: %u, %llu bytes\n", count(root.constants()),
              (unsigned long long)summary.constantBytes);
}

void printJson(const Bundle &bundle) {
  const fb::Bundle &root = bundle.root();
  const fb::ModelConfig &config = *root.config();
  Summary summary = summarize(root);
  JsonWriter json(std::cout);
  json.beginObject();
  json.member("file", bundle.name());
  json.member("file_bytes", bundle.fileSize());
  json.member("flatbuffer_bytes", bundle.trailer().flatbufferSize);
  json.member("embedded_weights_bytes", bundle.blobSize());
  json.member("version", root.version());
  json.member("producer", raw(root.producer()));

  json.key("config");
  json.beginObject();
  json.member("model_type", raw(config.model_type()));
  json.member("vocab_size", config.vocab_size());
  json.member("hidden_size", config.hidden_size());
  json.member("num_layers", config.num_layers());
  json.member("max_position_embeddings", config.max_position_embeddings());
  json.member("max_batch", config.max_batch());
  json.member("max_seq_len", config.max_seq_len());
  json.endObject();

  json.key("kv_cache");
  if (const fb::KVCacheLayout *kv = root.kv_cache()) {
    json.beginObject();
    json.member("num_layers", kv->num_layers());
    json.member("width", kv->width());
    json.member("dtype", elementTypeName(kv->dtype()));
    json.member("max_batch", kv->max_batch());
    json.member("max_seq_len", kv->max_seq_len());
    json.member("bytes_per_token", kv->bytes_per_token());
    json.member("bytes", kvBytes(*kv));
    json.endObject();
  } else {
    json.null();
  }
  json.member("kv_cache_bytes_per_token",
              root.kv_cache() ? root.kv_cache()->bytes_per_token() : 0);

  json.key("targets");
  json.beginArray();
  for (uint32_t t = 0; t < count(root.targets()); ++t) {
    const fb::Target *target = root.targets()->Get(t);
    json.beginObject();
    json.member("name", raw(target->name()));
    json.member("cpu", raw(target->cpu()));
    json.key("features");
    json.beginArray();
    for (uint32_t i = 0; i < count(target->cpu_features()); ++i)
      json.value(raw(target->cpu_features()->Get(i)));
    json.endArray();
    json.member("code_bytes", count(target->shared_object()));
    json.key("kernels");
    json.beginArray();
    for (uint32_t k = 0; k < count(target->kernels()); ++k) {
      const fb::TargetKernel *kernel = target->kernels()->Get(k);
      json.beginObject();
      json.member("symbol", raw(kernel->symbol()));
      json.member("grid", gridText(*kernel));
      json.member("registers", kernel->registers());
      json.member("shared_bytes", kernel->shared_bytes());
      json.member("spill_bytes", kernel->spill_bytes());
      json.endObject();
    }
    json.endArray();
    json.endObject();
  }
  json.endArray();

  json.key("kernels");
  json.beginArray();
  for (uint32_t k = 0; k < count(root.kernels()); ++k) {
    const fb::KernelInfo *kernel = root.kernels()->Get(k);
    json.beginObject();
    json.member("name", raw(kernel->name()));
    json.member("family", raw(kernel->family()));
    json.member("buffers", kernel->num_buffers());
    json.member("scalars", kernel->num_scalars());
    json.endObject();
  }
  json.endArray();
  json.key("kernel_families");
  json.beginObject();
  for (const auto &[family, n] : summary.families)
    json.member(family, n);
  json.endObject();

  json.key("functions");
  json.beginArray();
  for (uint32_t f = 0; f < count(root.functions()); ++f) {
    const fb::Function &function = *root.functions()->Get(f);
    std::vector<std::string> names = symbolNames(function);
    json.beginObject();
    json.member("name", raw(function.name()));
    json.key("symbols");
    json.beginArray();
    for (uint32_t s = 0; s < count(function.symbols()); ++s) {
      const fb::FunctionSymbol *symbol = function.symbols()->Get(s);
      json.beginObject();
      json.member("name", raw(symbol->name()));
      json.member("input", symbol->input());
      json.member("dim", symbol->dim());
      json.member("max", symbol->max());
      json.endObject();
    }
    json.endArray();
    for (bool inputs : {true, false}) {
      const auto *list = inputs ? function.inputs() : function.outputs();
      json.key(inputs ? "inputs" : "outputs");
      json.beginArray();
      for (uint32_t i = 0; i < count(list); ++i) {
        const fb::Param &param = *list->Get(i);
        json.beginObject();
        json.member("name", raw(param.name()));
        json.member("role", roleName(param.role()));
        json.member("dtype", elementTypeName(param.dtype()));
        json.key("shape");
        json.beginArray();
        for (const std::string &dim : shapeTexts(param, names))
          json.value(dim);
        json.endArray();
        json.endObject();
      }
      json.endArray();
    }
    json.member("steps", count(function.steps()));
    json.member("arena_bytes", function.arena_bytes());
    json.member("writes_kv_cache", function.writes_kv_cache());
    json.endObject();
  }
  json.endArray();

  json.key("weights");
  json.beginObject();
  json.member("count", count(root.weights()));
  json.member("bytes", summary.weightBytes);
  json.member("tables", count(root.weight_tables()));
  json.key("files");
  json.beginArray();
  for (uint32_t i = 0; i < count(root.weight_files()); ++i) {
    const fb::WeightFile *file = root.weight_files()->Get(i);
    json.beginObject();
    json.member("path", raw(file->path()));
    json.member("embedded", file->path()->size() == 0);
    json.member("size", file->size());
    json.member("weights", summary.fileWeights[i]);
    json.member("weight_bytes", summary.fileBytes[i]);
    json.endObject();
  }
  json.endArray();
  json.endObject();

  json.key("constants");
  json.beginObject();
  json.member("count", count(root.constants()));
  json.member("bytes", summary.constantBytes);
  json.endObject();
  json.endObject();
}

/// Whether `name` can be a file name as it is: no path, no hidden file.
bool plainFileName(std::string_view name) {
  if (name.empty() || name[0] == '.')
    return false;
  for (char c : name)
    if (!(std::isalnum(uint8_t(c)) || c == '_' || c == '-' || c == '.'))
      return false;
  return true;
}

Status extractKernels(const Bundle &bundle, const std::string &dir) {
  if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST)
    return makeError(dir,
                     ": cannot create the directory: ", std::strerror(errno));
  const auto *targets = bundle.root().targets();
  for (uint32_t t = 0; t < count(targets); ++t) {
    const fb::Target *target = targets->Get(t);
    if (count(target->shared_object()) == 0)
      continue;
    std::string_view name = raw(target->name());
    if (!plainFileName(name))
      return makeError(bundle.name(), ": targets[", t, "] '",
                       text(target->name()),
                       "': the name cannot be a file name");
    std::string path = joinPath(dir, std::string(name) + ".so");
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char *>(target->shared_object()->data()),
              std::streamsize(target->shared_object()->size()));
    out.close();
    if (!out)
      return makeError(path, ": cannot write: ", std::strerror(errno));
    std::fprintf(stderr, "%s: wrote %s (%u bytes)\n", tool, path.c_str(),
                 target->shared_object()->size());
  }
  return Status::success();
}

int usageError(const std::string &message) {
  return reportUsageError(tool, message);
}

int run(int argc, char **argv) {
  Expected<CommandLine> line = CommandLine::parse(
      argc, argv,
      {{"json", false}, {"extract-kernels", true}, {"help", false}});
  if (!line)
    return usageError(line.status().message());
  if (line->has("help")) {
    std::fputs(helpText, stdout);
    return 0;
  }
  if (line->positionals().size() != 1)
    return usageError(line->positionals().empty()
                          ? "expected a bundle file"
                          : "expected one bundle file, not " +
                                std::to_string(line->positionals().size()));
  Expected<Bundle> bundle = Bundle::open(line->positionals()[0]);
  if (!bundle)
    return reportError(tool, bundle.status());
  if (line->has("json"))
    printJson(*bundle);
  else
    printText(*bundle);
  std::fflush(stdout);
  if (std::optional<std::string> dir = line->value("extract-kernels")) {
    if (Status status = extractKernels(*bundle, *dir); !status.ok())
      return reportError(tool, status);
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) { return runTool(tool, run, argc, argv); }
