//===- lathe-run.cpp - runs a compiled bundle -----------------------------===//
//
//   lathe-run BUNDLE generate --prompt-tokens=P.npy --max-new-tokens=N
//             [--greedy | --temperature=T --seed=S] [--output-tokens=T.npy]
//             [--output-logits=L.npy] [--device=auto|cpu|cuda]
//   lathe-run BUNDLE call FUNCTION --input=@x.npy ... --output=@y.npy ...
//
// The CLI contract of DESIGN.md; docs/runtime.md says the rest. Errors print
// "lathe-run: error: ..." and exit 1 (2 for a malformed command line).
//
//===----------------------------------------------------------------------===//

#include "runtime/exec/Generate.h"
#include "runtime/exec/Session.h"
#include "runtime/support/CommandLine.h"
#include "runtime/support/Npy.h"
#include "runtime/support/Text.h"
#include "runtime/support/ToolMain.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <string>
#include <unistd.h>
#include <vector>

using namespace lathe::rt;
namespace fb = lathe::bundle;

namespace {

constexpr const char *tool = "lathe-run";

const char *const helpText = R"(lathe-run: runs a compiled lathe bundle

usage:
  lathe-run BUNDLE generate --prompt-tokens=P.npy --max-new-tokens=N [options]
  lathe-run BUNDLE call FUNCTION [--input=@x.npy ...] [--output=@y.npy ...]
            [options]

generate: prefill on the prompt, then one decode per further token
  --prompt-tokens=P.npy   int32 or int64 token ids, [batch, prompt_len]
  --max-new-tokens=N      tokens to generate per row (0 or more); needs
                          prompt_len + N - 1 <= the bundle's max_seq_len
  --greedy                take the most likely token, the lowest id on ties
                          (the default)
  --temperature=T         sample from softmax(logits / T) instead (T > 0)
  --seed=S                the sampler's seed, 0 to 2^64-1 (default 0): the
                          same seed gives the same tokens on any machine
  --output-tokens=T.npy   write the tokens, int64 [batch, N]; without it
                          they are printed on stdout, one row per line
  --output-logits=L.npy   write float32 [N, batch, vocab]: entry i holds the
                          logits token i was chosen from (kept in memory
                          until the end)

call: runs one function of the bundle once, on an empty KV cache
  FUNCTION                its name (lathe-inspect lists them)
  --input=@x.npy          the next input, in the function's order; an input
                          with role Positions may be left out (the runtime
                          fills it); int32 and int64 files are converted to
                          the integer type the function takes
  --output=@y.npy         where the next output goes, in order; outputs
                          without a file are summarized on stdout

options:
  --device=auto|cpu|cuda  where to run (default auto). This version runs the
                          cpu target only; cuda explains what the bundle and
                          the machine have
  --threads=N             CPU threads, this one included (default: one per
                          physical core)
  --quiet                 print nothing on stderr but errors (no progress,
                          no summary)
  --help                  this text

Errors print "lathe-run: error: ..." and exit with status 1; a malformed
command line exits with status 2.
)";

const std::vector<FlagSpec> flags = {
    {"prompt-tokens", true}, {"max-new-tokens", true}, {"greedy", false},
    {"temperature", true},   {"seed", true},           {"output-tokens", true},
    {"output-logits", true}, {"input", true, true},    {"output", true, true},
    {"device", true},        {"threads", true},        {"quiet", false},
    {"help", false},
};

/// Which command each command-specific flag belongs to.
const std::pair<const char *, const char *> flagCommands[] = {
    {"prompt-tokens", "generate"},
    {"max-new-tokens", "generate"},
    {"greedy", "generate"},
    {"temperature", "generate"},
    {"seed", "generate"},
    {"output-tokens", "generate"},
    {"output-logits", "generate"},
    {"input", "call"},
    {"output", "call"},
};

int fail(const Status &status) { return reportError(tool, status); }

int usageError(const std::string &message) {
  return reportUsageError(tool, message);
}

/// The file of an "@FILE" argument of --input / --output.
Expected<std::string> atFile(const char *flag, const std::string &value) {
  if (value.size() < 2 || value[0] != '@')
    return makeError("--", flag, "=", printable(value), ": expected @FILE.npy");
  return value.substr(1);
}

/// Progress on stderr while generating, when it is a terminal.
class Progress {
public:
  Progress(bool enabled, int64_t rows)
      : enabled(enabled && ::isatty(2)), rows(rows) {}

  void update(int64_t done, int64_t total) {
    if (!enabled)
      return;
    auto now = std::chrono::steady_clock::now();
    double elapsed = std::chrono::duration<double>(now - start).count();
    if (done < total && now < nextUpdate)
      return;
    nextUpdate = now + std::chrono::milliseconds(250);
    std::fprintf(stderr, "\r%s: token %lld/%lld, %.1f tokens/s ", tool,
                 (long long)done, (long long)total,
                 elapsed > 0 ? double(done * rows) / elapsed : 0.0);
    shown = true;
  }
  void finish() {
    if (shown)
      std::fputc('\n', stderr);
  }

private:
  bool enabled;
  int64_t rows;
  bool shown = false;
  std::chrono::steady_clock::time_point start =
      std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point nextUpdate = start;
};

/// What generate was asked for; checked before the bundle is loaded.
struct GenerateArgs {
  std::string promptPath;
  std::optional<std::string> tokensPath, logitsPath;
  GenerateOptions options;
};

/// GenerateArgs from the flags, or a usage error message.
Expected<GenerateArgs> parseGenerateArgs(const CommandLine &line) {
  GenerateArgs args;
  std::optional<std::string> promptPath = line.value("prompt-tokens");
  std::optional<std::string> count = line.value("max-new-tokens");
  if (!promptPath)
    return Status::error("generate needs --prompt-tokens=P.npy");
  if (!count)
    return Status::error("generate needs --max-new-tokens=N");
  if (line.has("greedy") && line.has("temperature"))
    return Status::error("--greedy and --temperature exclude each other");
  if (line.has("seed") && !line.has("temperature"))
    return Status::error("--seed applies to --temperature sampling");
  args.promptPath = *promptPath;

  Expected<int64_t> n = parseInteger("max-new-tokens", *count, 0,
                                     std::numeric_limits<int32_t>::max());
  if (!n)
    return n.status();
  args.options.maxNewTokens = *n;
  if (std::optional<std::string> t = line.value("temperature")) {
    Expected<double> temperature = parseNumber("temperature", *t);
    if (!temperature)
      return temperature.status();
    if (*temperature <= 0)
      return Status::error("--temperature=" + printable(*t) +
                           ": must be positive (--greedy takes the argmax)");
    args.options.sampling.temperature = *temperature;
  }
  if (std::optional<std::string> s = line.value("seed")) {
    Expected<uint64_t> seed = parseUnsigned("seed", *s);
    if (!seed)
      return seed.status();
    args.options.sampling.seed = *seed;
  }
  args.tokensPath = line.value("output-tokens");
  args.logitsPath = line.value("output-logits");
  args.options.keepLogits = args.logitsPath.has_value();
  return args;
}

int runGenerate(Session &session, GenerateArgs args, bool quiet) {
  GenerateOptions &options = args.options;
  const std::string &promptPath = args.promptPath;
  const std::optional<std::string> &tokensPath = args.tokensPath;
  const std::optional<std::string> &logitsPath = args.logitsPath;

  Expected<NpyArray> promptArray = readNpy(promptPath);
  if (!promptArray)
    return fail(promptArray.status());
  if (promptArray->dtype != DType::I32 && promptArray->dtype != DType::I64)
    return fail(makeError(promptPath, ": token ids are ",
                          numpyTypeName(promptArray->dtype),
                          "; expected int32 or int64"));
  if (promptArray->shape.size() != 2)
    return fail(makeError(promptPath, ": shape ",
                          formatShape(promptArray->shape),
                          " is not [batch, prompt_len]"));
  Expected<std::vector<int64_t>> prompt = toInt64(*promptArray);
  if (!prompt)
    return fail(prompt.status().withContext(promptPath));

  options.promptName = promptPath;
  Progress progress(!quiet, promptArray->shape[0]);
  options.onStep = [&](int64_t done, int64_t total) {
    progress.update(done, total);
  };
  Expected<GenerateResult> result = generate(
      session, *prompt, promptArray->shape[0], promptArray->shape[1], options);
  progress.finish();
  if (!result)
    return fail(result.status());

  const int64_t batch = result->batch, newTokens = result->newTokens;
  if (tokensPath) {
    Expected<NpyArray> tokens =
        NpyArray::fromInt64s({batch, newTokens}, result->tokens);
    if (!tokens)
      return fail(tokens.status());
    if (Status status = writeNpy(*tokensPath, *tokens); !status.ok())
      return fail(status);
  } else {
    for (int64_t b = 0; b < batch; ++b) {
      std::string row;
      for (int64_t i = 0; i < newTokens; ++i)
        row +=
            (i ? " " : "") + std::to_string(result->tokens[b * newTokens + i]);
      std::printf("%s\n", row.c_str());
    }
  }
  if (logitsPath) {
    Expected<NpyArray> logits =
        NpyArray::fromFloats({newTokens, batch, result->vocab}, result->logits);
    if (!logits)
      return fail(logits.status());
    if (Status status = writeNpy(*logitsPath, *logits); !status.ok())
      return fail(status);
  }
  if (!quiet && newTokens > 0) {
    const int64_t prompted = batch * int64_t(promptArray->shape[1]);
    const int64_t decoded = batch * (newTokens - 1);
    std::fprintf(
        stderr, "%s: %s; prefill %lld tokens in %.3g s (%.1f tokens/s)", tool,
        session.device().describe().c_str(), (long long)prompted,
        result->prefillSeconds,
        result->prefillSeconds > 0 ? prompted / result->prefillSeconds : 0.0);
    if (decoded > 0)
      std::fprintf(stderr, ", decode %lld tokens in %.3g s (%.1f tokens/s)",
                   (long long)decoded, result->decodeSeconds,
                   result->decodeSeconds > 0 ? decoded / result->decodeSeconds
                                             : 0.0);
    std::fputc('\n', stderr);
  }
  return 0;
}

/// `array` as the function's integer type, when the two differ only there.
Expected<NpyArray> convertIntegers(NpyArray array, DType want,
                                   const std::string &path) {
  if (array.dtype == want ||
      !((array.dtype == DType::I32 || array.dtype == DType::I64) &&
        (want == DType::I32 || want == DType::I64)))
    return array;
  Expected<std::vector<int64_t>> values = toInt64(array);
  if (!values)
    return values.status().withContext(path);
  if (want == DType::I64)
    return NpyArray::fromInt64s(array.shape, *values);
  std::vector<int32_t> narrow;
  for (size_t i = 0; i < values->size(); ++i) {
    int64_t v = (*values)[i];
    if (v < std::numeric_limits<int32_t>::min() ||
        v > std::numeric_limits<int32_t>::max())
      return makeError(path, ": element ", i, " (", v,
                       ") does not fit in the int32 the function takes");
    narrow.push_back(int32_t(v));
  }
  return NpyArray::fromBytes(DType::I32, array.shape, narrow.data(),
                             narrow.size() * sizeof(int32_t));
}

/// "1.5 2 -3 ..." of the first elements of a numeric tensor; "" otherwise.
std::string preview(const Tensor &tensor) {
  constexpr size_t shown = 16;
  size_t size = dtypeSize(tensor.dtype);
  if (size == 0)
    return "";
  size_t count = tensor.data.size() / size;
  std::string text;
  for (size_t i = 0; i < count && i < shown; ++i) {
    const uint8_t *at = tensor.data.data() + i * size;
    char item[32];
    if (tensor.dtype == DType::F32) {
      float v;
      std::memcpy(&v, at, sizeof(v));
      std::snprintf(item, sizeof(item), "%g", double(v));
    } else if (tensor.dtype == DType::F64) {
      double v;
      std::memcpy(&v, at, sizeof(v));
      std::snprintf(item, sizeof(item), "%g", v);
    } else if (tensor.dtype == DType::I32) {
      int32_t v;
      std::memcpy(&v, at, sizeof(v));
      std::snprintf(item, sizeof(item), "%d", v);
    } else if (tensor.dtype == DType::I64) {
      int64_t v;
      std::memcpy(&v, at, sizeof(v));
      std::snprintf(item, sizeof(item), "%lld", (long long)v);
    } else {
      return "";
    }
    text += (i ? " " : "") + std::string(item);
  }
  if (count > shown)
    text += " ...";
  return text;
}

/// The files of --output=@FILE, or a usage error message.
Expected<std::vector<std::string>> parseOutputPaths(const CommandLine &line) {
  std::vector<std::string> paths;
  for (const std::string &value : line.values("output")) {
    Expected<std::string> path = atFile("output", value);
    if (!path)
      return path.status();
    paths.push_back(*path);
  }
  for (const std::string &value : line.values("input"))
    if (Expected<std::string> path = atFile("input", value); !path)
      return path.status();
  return paths;
}

int runCall(Session &session, const std::string &name,
            const std::vector<std::string> &outputPaths,
            const CommandLine &line) {
  Expected<uint32_t> index = session.findFunction(name);
  if (!index)
    return fail(index.status());
  const fb::Function *function =
      session.bundle().root().functions()->Get(*index);
  const auto *params = function->inputs();
  const auto *results = function->outputs();
  const uint32_t numInputs = params ? params->size() : 0;
  const uint32_t numOutputs = results ? results->size() : 0;
  if (outputPaths.size() > numOutputs)
    return usageError(std::to_string(outputPaths.size()) +
                      " --output files for function '" + printable(name) +
                      "', which has " + std::to_string(numOutputs) +
                      " outputs");

  // Inputs in order; the runtime fills a Positions input that is left out.
  std::vector<std::string> inputValues = line.values("input");
  bool skipPositions = false;
  for (uint32_t i = 0; i < numInputs; ++i)
    skipPositions |= params->Get(i)->role() == fb::ParamRole::Positions;
  skipPositions &= inputValues.size() + 1 == numInputs;
  std::vector<NpyArray> arrays;
  uint32_t param = 0;
  for (const std::string &value : inputValues) {
    std::string path = value.substr(1);
    if (skipPositions && param < numInputs &&
        params->Get(param)->role() == fb::ParamRole::Positions)
      ++param;
    Expected<NpyArray> array = readNpy(path);
    if (!array)
      return fail(array.status());
    if (param < numInputs) {
      std::optional<DType> want = [&]() -> std::optional<DType> {
        switch (params->Get(param)->dtype()) {
        case fb::ElementType::I32:
          return DType::I32;
        case fb::ElementType::I64:
          return DType::I64;
        default:
          return std::nullopt;
        }
      }();
      if (want) {
        Expected<NpyArray> converted =
            convertIntegers(std::move(*array), *want, path);
        if (!converted)
          return fail(converted.status());
        array = std::move(converted);
      }
    }
    arrays.push_back(std::move(*array));
    ++param;
  }
  std::vector<TensorView> views;
  for (const NpyArray &array : arrays)
    views.emplace_back(array.dtype, array.shape, array.data.data(),
                       array.data.size());

  Expected<std::vector<Tensor>> outputs = session.call(*index, views);
  if (!outputs)
    return fail(outputs.status());
  for (size_t i = 0; i < outputs->size(); ++i) {
    const Tensor &tensor = (*outputs)[i];
    std::string outputName = printable(results->Get(i)->name()->string_view());
    if (i < outputPaths.size()) {
      Expected<NpyArray> array = NpyArray::fromBytes(
          tensor.dtype, tensor.shape, tensor.data.data(), tensor.data.size());
      if (!array)
        return fail(array.status().withContext(outputPaths[i] + ": output '" +
                                               outputName + "'"));
      if (Status status = writeNpy(outputPaths[i], *array); !status.ok())
        return fail(status);
      continue;
    }
    std::string values = preview(tensor);
    std::printf("%s: %s %s%s%s\n", outputName.c_str(), dtypeName(tensor.dtype),
                formatShape(tensor.shape).c_str(), values.empty() ? "" : " = ",
                values.c_str());
  }
  return 0;
}

int run(int argc, char **argv) {
  Expected<CommandLine> parsed = CommandLine::parse(argc, argv, flags);
  if (!parsed)
    return usageError(parsed.status().message());
  const CommandLine &line = *parsed;
  if (line.has("help")) {
    std::fputs(helpText, stdout);
    return 0;
  }
  const std::vector<std::string> &args = line.positionals();
  if (args.size() < 2)
    return usageError("expected BUNDLE generate ... or BUNDLE call FUNCTION "
                      "...");
  const std::string &command = args[1];
  if (command != "generate" && command != "call")
    return usageError("unknown command '" + printable(command) +
                      "' (generate or call)");
  size_t wanted = command == "call" ? 3 : 2;
  if (command == "call" && args.size() < 3)
    return usageError("call needs the name of a function");
  if (args.size() > wanted)
    return usageError("unexpected argument '" + printable(args[wanted]) + "'");
  for (const std::string &flag : line.given())
    for (const auto &[name, owner] : flagCommands)
      if (flag == name && command != owner)
        return usageError("--" + flag + " is an option of '" + owner +
                          "', not of '" + command + "'");

  SessionOptions options;
  if (std::optional<std::string> device = line.value("device")) {
    std::optional<DeviceKind> kind = parseDeviceKind(*device);
    if (!kind)
      return usageError("--device=" + printable(*device) +
                        ": expected auto, cpu or cuda");
    options.device = *kind;
  }
  if (std::optional<std::string> threads = line.value("threads")) {
    Expected<int64_t> count = parseInteger("threads", *threads, 1, 4096);
    if (!count)
      return usageError(count.status().message());
    options.threads = unsigned(*count);
  }
  bool quiet = line.has("quiet");

  // Every flag is checked before the bundle is loaded.
  std::optional<GenerateArgs> generateArgs;
  std::vector<std::string> outputPaths;
  if (command == "generate") {
    Expected<GenerateArgs> parsedArgs = parseGenerateArgs(line);
    if (!parsedArgs)
      return usageError(parsedArgs.status().message());
    generateArgs = std::move(*parsedArgs);
  } else {
    Expected<std::vector<std::string>> paths = parseOutputPaths(line);
    if (!paths)
      return usageError(paths.status().message());
    outputPaths = std::move(*paths);
  }

  Expected<std::unique_ptr<Session>> session = Session::open(args[0], options);
  if (!session)
    return fail(session.status());
  if (generateArgs)
    return runGenerate(**session, std::move(*generateArgs), quiet);
  return runCall(**session, args[2], outputPaths, line);
}

} // namespace

int main(int argc, char **argv) { return runTool(tool, run, argc, argv); }
