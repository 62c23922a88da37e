//===- lathe-bench.cpp - prefill and decode throughput of a bundle --------===//
//
//   lathe-bench BUNDLE --batch=B --prompt-len=P --decode-tokens=N --repeat=R
//               [--threads=T] [--seed=S] [--device=auto|cpu|cuda] [--json]
//               [--profile]
//
// Random prompt tokens (seeded), one untimed warm-up, then R runs of: empty
// cache, prefill of [B, P], N greedy decode steps. Reports the median of
// each run's prefill tokens/s (B*P / prefill seconds) and decode tokens/s
// (B*N / decode seconds). bench/cpu/bench_cpu.py reads --json's
// prefill.tokens_per_s and decode.tokens_per_s.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/HostCpu.h"
#include "runtime/exec/Generate.h"
#include "runtime/exec/Random.h"
#include "runtime/exec/Session.h"
#include "runtime/support/CommandLine.h"
#include "runtime/support/JsonWriter.h"
#include "runtime/support/Text.h"
#include "runtime/support/ToolMain.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>
#include <limits>
#include <new>
#include <vector>

using namespace lathe::rt;

namespace {

constexpr const char *tool = "lathe-bench";

const char *const helpText =
    R"(lathe-bench: prefill and decode throughput of a lathe bundle

usage: lathe-bench BUNDLE [--batch=B] [--prompt-len=P] [--decode-tokens=N]
                          [--repeat=R] [options]

Generates random prompt tokens [B, P] (seeded), runs once untimed to warm
up, then R times: empty KV cache, prefill of the prompt, N greedy decode
steps. Prints the median over the runs of prefill tokens/s (B*P / prefill
seconds) and decode tokens/s (B*N / decode seconds). Needs P + N <= the
bundle's max_seq_len and B <= its max_batch.

  --batch=B             rows (default 1)
  --prompt-len=P        prompt tokens per row (default 128)
  --decode-tokens=N     decode steps (default 32)
  --repeat=R            timed runs (default 5)
  --seed=S              the prompt's seed (default 0)
  --threads=T           CPU threads, this one included (default: one per
                        physical core)
  --device=auto|cpu|cuda  where to run (default auto; this version runs the
                        cpu target only)
  --profile             after the timed runs, one more run timing every
                        launch: each function's kernels by time (with
                        --json, under "profile")
  --json                print one JSON object on stdout:
                        {"prefill": {"tokens_per_s": x, ...},
                         "decode": {"tokens_per_s": y, ...}, ...}
                        (keys in docs/runtime.md)
  --quiet               no progress on stderr
  --help                this text

Errors print "lathe-bench: error: ..." and exit with status 1; a malformed
command line exits with status 2.
)";

int usageError(const std::string &message) {
  return reportUsageError(tool, message);
}

int fail(const Status &status) { return reportError(tool, status); }

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

struct Phase {
  int64_t tokens = 0;
  std::vector<double> seconds, rates;
};

void printPhase(JsonWriter &json, const char *name, const Phase &phase) {
  json.key(name);
  json.beginObject();
  json.member("tokens_per_s", median(phase.rates));
  json.member("tokens", phase.tokens);
  json.member("seconds_median", median(phase.seconds));
  json.key("seconds");
  json.beginArray();
  for (double s : phase.seconds)
    json.value(s);
  json.endArray();
  json.key("tokens_per_s_runs");
  json.beginArray();
  for (double r : phase.rates)
    json.value(r);
  json.endArray();
  json.endObject();
}

/// One kernel's share of a function's time in a profiled run.
struct ProfileRow {
  std::string kernel, family;
  double seconds = 0;
  uint64_t launches = 0;
};

/// Each function's kernels, most time first.
std::vector<std::pair<std::string, std::vector<ProfileRow>>>
profileRows(const Session &session, const KernelProfile &profile) {
  const auto &root = session.bundle().root();
  std::vector<std::pair<std::string, std::vector<ProfileRow>>> functions;
  for (size_t f = 0; f < profile.seconds.size(); ++f) {
    std::vector<ProfileRow> rows;
    for (size_t k = 0; k < profile.seconds[f].size(); ++k) {
      if (!profile.launches[f][k])
        continue;
      const auto *kernel = root.kernels()->Get(uint32_t(k));
      rows.push_back({kernel->name()->str(), kernel->family()->str(),
                      profile.seconds[f][k], profile.launches[f][k]});
    }
    std::sort(rows.begin(), rows.end(),
              [](const ProfileRow &a, const ProfileRow &b) {
                return a.seconds > b.seconds;
              });
    functions.push_back(
        {root.functions()->Get(uint32_t(f))->name()->str(), std::move(rows)});
  }
  return functions;
}

int run(int argc, char **argv) {
  Expected<CommandLine> line = CommandLine::parse(argc, argv,
                                                  {{"batch", true},
                                                   {"prompt-len", true},
                                                   {"decode-tokens", true},
                                                   {"repeat", true},
                                                   {"seed", true},
                                                   {"threads", true},
                                                   {"device", true},
                                                   {"json", false},
                                                   {"profile", false},
                                                   {"quiet", false},
                                                   {"help", false}});
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
  const int64_t intMax = std::numeric_limits<int32_t>::max();
  struct Setting {
    const char *flag;
    int64_t value, min;
  } settings[] = {{"batch", 1, 1},
                  {"prompt-len", 128, 1},
                  {"decode-tokens", 32, 1},
                  {"repeat", 5, 1},
                  {"threads", 0, 1}};
  for (Setting &setting : settings)
    if (std::optional<std::string> text = line->value(setting.flag)) {
      Expected<int64_t> value =
          parseInteger(setting.flag, *text, setting.min,
                       setting.flag == std::string("threads") ? 4096 : intMax);
      if (!value)
        return usageError(value.status().message());
      setting.value = *value;
    }
  const int64_t batch = settings[0].value, promptLen = settings[1].value,
                decodeTokens = settings[2].value, repeat = settings[3].value;
  uint64_t seed = 0;
  if (std::optional<std::string> text = line->value("seed")) {
    Expected<uint64_t> value = parseUnsigned("seed", *text);
    if (!value)
      return usageError(value.status().message());
    seed = *value;
  }
  SessionOptions options;
  options.threads = unsigned(settings[4].value);
  if (std::optional<std::string> device = line->value("device")) {
    std::optional<DeviceKind> kind = parseDeviceKind(*device);
    if (!kind)
      return usageError("--device=" + printable(*device) +
                        ": expected auto, cpu or cuda");
    options.device = *kind;
  }
  const bool json = line->has("json"), quiet = line->has("quiet");
  const std::string &path = line->positionals()[0];

  Expected<std::unique_ptr<Session>> opened = Session::open(path, options);
  if (!opened)
    return fail(opened.status());
  Session &session = **opened;
  const auto &config = *session.bundle().root().config();
  if (batch > config.max_batch())
    return fail(makeError(path, ": --batch=", batch, " is more than the ",
                          config.max_batch(),
                          " rows the bundle was compiled for"));
  if (promptLen > config.max_seq_len() - decodeTokens)
    return fail(makeError(path, ": --prompt-len=", promptLen,
                          " plus --decode-tokens=", decodeTokens,
                          " positions are more than the bundle's max_seq_len ",
                          config.max_seq_len()));
  const int64_t vocab = config.vocab_size();
  if (vocab <= 0)
    return fail(makeError(path, ": config.vocab_size is ", vocab,
                          "; the bundle cannot generate"));

  Pcg32 random = Pcg32::fromSeed(seed);
  std::vector<int64_t> prompt(size_t(batch * promptLen));
  for (int64_t &id : prompt)
    id = int64_t((uint64_t(random.next()) * uint64_t(vocab)) >> 32);

  // Prefill, then N decode steps: generation of N + 1 tokens.
  GenerateOptions generation;
  generation.maxNewTokens = decodeTokens + 1;
  generation.promptName = "the random prompt";
  Phase prefill, decode;
  prefill.tokens = batch * promptLen;
  decode.tokens = batch * decodeTokens;
  for (int64_t r = 0; r <= repeat; ++r) {
    Expected<GenerateResult> result =
        generate(session, prompt, batch, promptLen, generation);
    if (!result)
      return fail(result.status());
    if (r == 0) {
      if (!quiet)
        std::fprintf(stderr, "%s: %s, warm-up done\n", tool,
                     session.device().describe().c_str());
      continue;
    }
    prefill.seconds.push_back(result->prefillSeconds);
    prefill.rates.push_back(prefill.tokens / result->prefillSeconds);
    decode.seconds.push_back(result->decodeSeconds);
    decode.rates.push_back(decode.tokens / result->decodeSeconds);
    if (!quiet)
      std::fprintf(stderr,
                   "%s: run %lld/%lld: prefill %.1f tokens/s, decode %.1f "
                   "tokens/s\n",
                   tool, (long long)r, (long long)repeat, prefill.rates.back(),
                   decode.rates.back());
  }

  KernelProfile profile;
  const bool profiling = line->has("profile");
  if (profiling) {
    session.setProfile(&profile);
    Expected<GenerateResult> result =
        generate(session, prompt, batch, promptLen, generation);
    session.setProfile(nullptr);
    if (!result)
      return fail(result.status());
  }
  auto profiled = profileRows(session, profile);

  if (json) {
    JsonWriter out(std::cout);
    out.beginObject();
    out.member("bundle", path);
    out.member("device", session.device().describe());
    out.member("threads",
               options.threads ? options.threads : hostPhysicalCores());
    out.member("batch", batch);
    out.member("prompt_len", promptLen);
    out.member("decode_tokens", decodeTokens);
    out.member("repeat", repeat);
    out.member("seed", seed);
    printPhase(out, "prefill", prefill);
    printPhase(out, "decode", decode);
    if (profiling) {
      out.key("profile");
      out.beginObject();
      for (const auto &[function, rows] : profiled) {
        out.key(function);
        out.beginArray();
        for (const ProfileRow &row : rows) {
          out.beginObject();
          out.member("kernel", row.kernel);
          out.member("family", row.family);
          out.member("seconds", row.seconds);
          out.member("launches", int64_t(row.launches));
          out.endObject();
        }
        out.endArray();
      }
      out.endObject();
    }
    out.endObject();
    return 0;
  }
  std::printf("%s: %s\n", path.c_str(), session.device().describe().c_str());
  std::printf("batch %lld, prompt %lld, %lld decode steps, median of %lld "
              "runs\n",
              (long long)batch, (long long)promptLen, (long long)decodeTokens,
              (long long)repeat);
  std::printf("prefill: %10.1f tokens/s  (%.4g s per run)\n",
              median(prefill.rates), median(prefill.seconds));
  std::printf("decode:  %10.1f tokens/s  (%.4g s per run)\n",
              median(decode.rates), median(decode.seconds));
  for (const auto &[function, rows] : profiled) {
    double total = 0;
    for (const ProfileRow &row : rows)
      total += row.seconds;
    std::printf("\nprofile of %s: %.4g s in kernels\n", function.c_str(),
                total);
    std::printf("  %6s %10s %9s  %-14s %s\n", "share", "ms", "launches",
                "family", "kernel");
    for (const ProfileRow &row : rows)
      std::printf("  %5.1f%% %10.3f %9llu  %-14s %s\n",
                  total > 0 ? 100 * row.seconds / total : 0.0,
                  1e3 * row.seconds, (unsigned long long)row.launches,
                  row.family.c_str(), row.kernel.c_str());
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) { return runTool(tool, run, argc, argv); }
