//===- StandaloneMain.cpp - run a fuzz target without libFuzzer -----------===//
//
// Where no clang with libFuzzer is installed, the fuzz targets link this
// driver instead: it runs every corpus input, then random mutations of them
// until a time or run limit, under the sanitizers the target was built
// with. It takes libFuzzer's flag spelling so that the same command line
// works for both; flags it does not know are ignored. Without coverage
// feedback it finds less than libFuzzer does, but it keeps the targets
// building and their corpora exercised.
//
//   fuzz-TARGET [-max_total_time=S] [-runs=N] [-seed=N] [-timeout=S]
//               [-artifact_prefix=DIR/] CORPUS_DIR_OR_FILE...
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#if defined(__has_include)
#if __has_include(<sanitizer/common_interface_defs.h>)
#include <sanitizer/common_interface_defs.h>
#define LATHE_HAVE_SANITIZER_INTERFACE 1
#endif
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

using Input = std::vector<uint8_t>;

/// The input being run, saved if the run dies.
Input current;
std::string artifactPrefix = "./";

void saveCurrent(const char *kind) {
  std::string path = artifactPrefix + kind + "-input";
  FILE *out = std::fopen(path.c_str(), "wb");
  if (!out)
    return;
  if (!current.empty())
    std::fwrite(current.data(), 1, current.size(), out);
  std::fclose(out);
  std::fprintf(stderr, "standalone fuzzer: %s input (%zu bytes) saved to %s\n",
               kind, current.size(), path.c_str());
}

void onDeath() { saveCurrent("crash"); }

void onAbort(int signal) {
  saveCurrent("crash");
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

void onAlarm(int) {
  saveCurrent("timeout");
  _exit(70);
}

void addInputs(const std::string &path, std::vector<Input> &inputs) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    std::fprintf(stderr, "standalone fuzzer: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  if (S_ISDIR(info.st_mode)) {
    DIR *dir = ::opendir(path.c_str());
    if (!dir)
      return;
    std::vector<std::string> names;
    while (dirent *entry = ::readdir(dir))
      if (entry->d_name[0] != '.')
        names.push_back(entry->d_name);
    ::closedir(dir);
    for (const std::string &name : names)
      addInputs(path + "/" + name, inputs);
    return;
  }
  std::ifstream in(path, std::ios::binary);
  inputs.emplace_back(std::istreambuf_iterator<char>(in),
                      std::istreambuf_iterator<char>());
}

/// Bytes a structured format is made of; inserting them makes mutations
/// reach past the first syntax check more often.
const char *const tokens[] = {
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\u",
    "\\uD800",
    "null",
    "true",
    "false",
    "-",
    "0",
    "1e308",
    "-1",
    "4294967296",
    "9223372036854775807",
    "18446744073709551616",
    "0.5",
    "\"dtype\"",
    "\"shape\"",
    "\"data_offsets\"",
    "\"__metadata__\"",
    "\"BF16\"",
    "\"F8_E4M3\"",
    "\"weight_map\"",
    "\xC3\xA9",
    "\xED\xA0\x80",
    "\xF4\x90",
};

void mutate(Input &data, const std::vector<Input> &inputs,
            std::mt19937_64 &rng) {
  auto below = [&](size_t n) { return n ? size_t(rng() % n) : 0; };
  int count = 1 + int(below(4));
  for (int m = 0; m < count; ++m) {
    switch (below(7)) {
    case 0: // flip a bit
      if (!data.empty())
        data[below(data.size())] ^= uint8_t(1u << below(8));
      break;
    case 1: // set a byte
      if (!data.empty())
        data[below(data.size())] = uint8_t(rng());
      break;
    case 2: { // insert a byte
      data.insert(data.begin() + below(data.size() + 1), uint8_t(rng()));
      break;
    }
    case 3: { // erase a range
      if (data.empty())
        break;
      size_t at = below(data.size());
      size_t n = 1 + below(std::min<size_t>(16, data.size() - at));
      data.erase(data.begin() + at, data.begin() + at + n);
      break;
    }
    case 4: { // duplicate a range
      if (data.empty() || data.size() > (1u << 16))
        break;
      size_t at = below(data.size());
      size_t n = 1 + below(std::min<size_t>(64, data.size() - at));
      Input chunk(data.begin() + at, data.begin() + at + n);
      data.insert(data.begin() + below(data.size() + 1), chunk.begin(),
                  chunk.end());
      break;
    }
    case 5: { // insert a token
      const char *token = tokens[below(std::size(tokens))];
      data.insert(data.begin() + below(data.size() + 1), token,
                  token + std::strlen(token));
      break;
    }
    case 6: { // splice in part of another input
      const Input &other = inputs[below(inputs.size())];
      if (other.empty())
        break;
      size_t at = below(other.size());
      size_t n = 1 + below(other.size() - at);
      size_t cut = below(data.size() + 1);
      data.resize(cut);
      data.insert(data.end(), other.begin() + at, other.begin() + at + n);
      break;
    }
    }
  }
}

void run(const Input &input, unsigned timeoutSeconds) {
  current = input;
  if (timeoutSeconds)
    ::alarm(timeoutSeconds);
  // A copy of exactly the input's size, so that reads past it are caught.
  uint8_t *copy = new uint8_t[input.size() ? input.size() : 1];
  std::copy(input.begin(), input.end(), copy);
  LLVMFuzzerTestOneInput(copy, input.size());
  delete[] copy;
  if (timeoutSeconds)
    ::alarm(0);
}

} // namespace

// UBSan reports end in abort(), which onAbort sees, rather than in _exit().
extern "C" const char *__ubsan_default_options() {
  return "abort_on_error=1:print_stacktrace=1";
}

int main(int argc, char **argv) {
  double maxSeconds = 0;
  uint64_t maxRuns = 0;
  bool runsGiven = false;
  uint64_t seed = 1;
  unsigned timeoutSeconds = 0;
  std::vector<Input> inputs;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *name) -> const char * {
      size_t n = std::strlen(name);
      if (arg.compare(0, n, name) == 0 && arg.size() > n && arg[n] == '=')
        return argv[i] + n + 1;
      return nullptr;
    };
    if (const char *v = value("-max_total_time"))
      maxSeconds = std::atof(v);
    else if (const char *v = value("-runs"))
      maxRuns = std::strtoull(v, nullptr, 10), runsGiven = true;
    else if (const char *v = value("-seed"))
      seed = std::strtoull(v, nullptr, 10);
    else if (const char *v = value("-timeout"))
      timeoutSeconds = unsigned(std::atoi(v));
    else if (const char *v = value("-artifact_prefix"))
      artifactPrefix = v;
    else if (arg[0] == '-')
      continue; // a libFuzzer flag this driver does not need
    else
      addInputs(arg, inputs);
  }
  // With neither limit, a fixed number of runs.
  if (!runsGiven && maxSeconds <= 0) {
    maxRuns = 100000;
    runsGiven = true;
  }

#ifdef LATHE_HAVE_SANITIZER_INTERFACE
  __sanitizer_set_death_callback(onDeath);
#endif
  std::signal(SIGALRM, onAlarm);
  std::signal(SIGABRT, onAbort);

  for (const Input &input : inputs)
    run(input, timeoutSeconds);
  std::fprintf(stderr, "standalone fuzzer: ran %zu corpus inputs\n",
               inputs.size());
  if (inputs.empty())
    inputs.emplace_back();

  std::mt19937_64 rng(seed);
  auto start = std::chrono::steady_clock::now();
  uint64_t runs = 0;
  for (;; ++runs) {
    if (runsGiven && runs >= maxRuns)
      break;
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (maxSeconds > 0 && elapsed >= maxSeconds)
      break;
    Input data = inputs[rng() % inputs.size()];
    mutate(data, inputs, rng);
    if (data.size() > (1u << 20))
      data.resize(1u << 20);
    run(data, timeoutSeconds);
  }
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::fprintf(stderr,
               "standalone fuzzer: Done %llu runs in %.0f second(s), %.0f "
               "exec/s, seed %llu\n",
               (unsigned long long)runs, elapsed,
               elapsed > 0 ? double(runs) / elapsed : 0.0,
               (unsigned long long)seed);
  return 0;
}
