//===- kernels.cpp - lathe-kernel-bench: speed of the CPU kernels ---------===//
//
// Builds kernels with the CPU target exactly as lathe-compile does
// (createCpuTarget -> compileCpuModule), loads the shared object and times
// whole grids on one thread:
//
//   - decode GEMV: one row through a bf16 (or FP8) weight [n, k]; weight
//     bytes read per second, with the weights rotated through copies that
//     together exceed the caches, so the number is a DRAM bandwidth;
//   - prefill GEMM: M rows through a bf16 weight; GFLOP/s (2 M n k / t),
//     weights hot in the caches as in a real prefill; grouped (MoE)
//     GEMMs of 128 tokens routed to 6 of 64 experts, and the shared
//     expert beside them (dense GEMMs) or inside (a 65th expert every
//     token picks) -- the measurement behind lathe-fuse-moe-routing's
//     choice;
//   - MLA prefill attention: one row of T new tokens, GFLOP/s of the
//     up-projected form's multiply-adds (what bench_cpu.py's bound counts);
//   - a few row kernels and MLA decode attention, for scale.
//
//   lathe-kernel-bench [--filter=SUBSTRING] [--min-time=SECONDS] [--cpu=CPU]
//                      [--clock=wall|thread]
//
// --clock=thread times by the thread's CPU time, which other processes on a
// shared machine do not inflate (their cache traffic still can).
//
// It prints a table and never fails on a number: benchmarks measure, tests
// assert (bench/README.md).
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/KernelABI.h"
#include "targets/KernelSpecs.h"
#include "targets/cpu/CpuTarget.h"

#include "dialects/lathe/IR/LatheKernelOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <dlfcn.h>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

using namespace mlir;
using namespace lathe;

namespace {

struct Options {
  std::string filter;
  double minTime = 0.5;
  std::string cpu = "native";
  /// Time by this thread's CPU time instead of the wall clock: on a shared
  /// machine other processes' time slices then do not count.
  bool threadClock = false;
};

double now(bool threadClock) {
  timespec ts;
  clock_gettime(threadClock ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/// A compiled kernel and its grid.
struct Kernel {
  LatheKernelFn function = nullptr;
  AffineMap grid;
  void *library = nullptr;

  std::array<int64_t, 3> counts(const std::vector<int64_t> &scalars) const {
    SmallVector<AffineExpr> symbols;
    for (int64_t value : scalars)
      symbols.push_back(getAffineConstantExpr(value, grid.getContext()));
    std::array<int64_t, 3> result{};
    for (unsigned i = 0; i < 3; ++i)
      result[i] = cast<AffineConstantExpr>(
                      simplifyAffineExpr(
                          grid.getResult(i).replaceSymbols(symbols), 0, 0))
                      .getValue();
    return result;
  }

  void run(void *const *buffers, const std::vector<int64_t> &scalars,
           const std::array<int64_t, 3> &grid3) const {
    LatheDispatch dispatch{buffers, scalars.data(),
                           {grid3[0], grid3[1], grid3[2]}};
    for (int64_t z = 0; z < grid3[2]; ++z)
      for (int64_t y = 0; y < grid3[1]; ++y)
        for (int64_t x = 0; x < grid3[0]; ++x)
          function(&dispatch, x, y, z);
  }
};

bool compile(MLIRContext &context, const KernelSpec &spec,
             const Options &options, Kernel &kernel, double &compileSeconds) {
  auto start = std::chrono::steady_clock::now();
  Location loc = UnknownLoc::get(&context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  std::unique_ptr<KernelTarget> target = cpu::createCpuTarget({options.cpu});
  target->annotateModule(*module);
  OpBuilder builder(&context);
  builder.setInsertionPointToEnd(module->getBody());
  FailureOr<func::FuncOp> func =
      target->buildKernel(builder, loc, "kernel", spec);
  if (failed(func))
    return false;
  kernel.grid = getKernelAttr(*func).getGrid().getValue();
  llvm::Expected<cpu::CpuObject> object = cpu::compileCpuModule(*module);
  if (!object) {
    llvm::errs() << "lathe-kernel-bench: " << kernelSummary(spec) << ": "
                 << llvm::toString(object.takeError()) << "\n";
    return false;
  }
  llvm::SmallString<128> path;
  int fd;
  if (llvm::sys::fs::createTemporaryFile("lathe-kernel-bench", "so", fd, path))
    return false;
  const std::vector<char> &bytes = object->sharedObject;
  bool written = ::write(fd, bytes.data(), bytes.size()) ==
                 static_cast<ssize_t>(bytes.size());
  ::close(fd);
  kernel.library = written ? dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) : nullptr;
  ::unlink(path.c_str());
  if (!kernel.library) {
    llvm::errs() << "lathe-kernel-bench: dlopen failed\n";
    return false;
  }
  kernel.function =
      reinterpret_cast<LatheKernelFn>(dlsym(kernel.library, "kernel"));
  compileSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return kernel.function != nullptr;
}

/// Seconds per call of `call(i)`, i counting calls: the median of 5 rounds
/// of at least minTime / 5 each, after a warm-up round.
double timePerCall(const std::function<void(int64_t)> &call, double minTime,
                   bool threadClock) {
  int64_t calls = 0;
  auto round = [&](double seconds) {
    double start = now(threadClock);
    int64_t n = 0;
    double elapsed = 0;
    do {
      call(calls++);
      ++n;
      elapsed = now(threadClock) - start;
    } while (elapsed < seconds);
    return elapsed / n;
  };
  round(minTime / 5);
  std::vector<double> rounds;
  for (int i = 0; i < 5; ++i)
    rounds.push_back(round(minTime / 5));
  std::sort(rounds.begin(), rounds.end());
  return rounds[2];
}

std::vector<uint8_t> randomBytes(std::mt19937 &rng, size_t count, bool fp8) {
  std::vector<uint8_t> bytes(count);
  std::uniform_int_distribution<int> byte(0, 255);
  for (size_t i = 0; i < count; ++i) {
    // bf16 with a sign, an exponent near 1 and a random mantissa; FP8
    // codes that are not NaN.
    bytes[i] = static_cast<uint8_t>(byte(rng));
    if (fp8 && (bytes[i] & 0x7f) == 0x7f)
      bytes[i] = 0x3f;
    if (!fp8 && i % 2 == 1)
      bytes[i] = (bytes[i] & 0x80) | 0x3f;
  }
  return bytes;
}

std::vector<float> randomFloats(std::mt19937 &rng, size_t count) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> values(count);
  for (float &v : values)
    v = dist(rng);
  return values;
}

struct Row {
  std::string name, shape;
  double seconds = 0, compileSeconds = 0, gbPerSecond = 0, gflops = 0;
};

void print(const Row &row) {
  std::printf("%-26s %-24s %12.1f %9.2f %10.1f %9.2f\n", row.name.c_str(),
              row.shape.c_str(), row.seconds * 1e6,
              row.gbPerSecond, row.gflops, row.compileSeconds);
  std::fflush(stdout);
}

class Bench {
public:
  Bench(MLIRContext &context, const Options &options)
      : context(context), options(options) {}

  /// Whether --filter's substring is in `name` (a row's name, or its name
  /// and shape).
  bool wanted(const std::string &name) const {
    return options.filter.empty() ||
           name.find(options.filter) != std::string::npos;
  }

  /// One row of x through W [n, k]: GB/s of weight bytes, weights rotated
  /// through copies totalling >= 256 MiB so that they come from DRAM.
  void gemv(int64_t n, int64_t k, bool fp8, bool hot = false) {
    std::string name = fp8 ? "decode gemv fp8" : "decode gemv bf16";
    if (hot)
      name += " (hot)";
    if (!wanted(name))
      return;
    Builder b(&context);
    GemmSpec spec{n, k,
                  fp8 ? WeightFormat{b.getType<Float8E4M3FNType>(),
                                     std::array<int64_t, 2>{128, 128}}
                      : WeightFormat{b.getBF16Type(), std::nullopt}};
    Row row{name, std::to_string(n) + "x" + std::to_string(k)};
    Kernel kernel;
    if (!compile(context, spec, options, kernel, row.compileSeconds))
      return;
    std::mt19937 rng(1);
    const size_t weightBytes = n * k * (fp8 ? 1 : 2);
    const size_t copies =
        hot ? 1 : std::max<size_t>(2, (256u << 20) / weightBytes + 1);
    std::vector<std::vector<uint8_t>> weights;
    std::vector<std::vector<float>> scales;
    for (size_t i = 0; i < copies; ++i) {
      weights.push_back(randomBytes(rng, weightBytes, fp8));
      scales.push_back(randomFloats(rng, ((n + 127) / 128) * ((k + 127) / 128)));
    }
    std::vector<float> x = randomFloats(rng, k), y(n);
    std::vector<int64_t> scalars = {1};
    std::array<int64_t, 3> grid = kernel.counts(scalars);
    row.seconds = timePerCall(
        [&](int64_t i) {
          size_t c = i % copies;
          std::vector<void *> buffers = {x.data(), weights[c].data()};
          if (fp8)
            buffers.push_back(scales[c].data());
          buffers.push_back(y.data());
          kernel.run(buffers.data(), scalars, grid);
        },
        options.minTime, options.threadClock);
    row.gbPerSecond = weightBytes / row.seconds * 1e-9;
    row.gflops = 2.0 * n * k / row.seconds * 1e-9;
    print(row);
  }

  /// M rows through a bf16 W [n, k]: GFLOP/s.
  void gemm(int64_t m, int64_t n, int64_t k, bool swiglu = false) {
    Row row{swiglu ? "prefill gemm swiglu bf16" : "prefill gemm bf16",
            std::to_string(m) + "x" + std::to_string(n) + "x" +
                std::to_string(k)};
    if (!wanted(row.name + " " + row.shape))
      return;
    Builder b(&context);
    GemmSpec spec{n, k, WeightFormat{b.getBF16Type(), std::nullopt}};
    spec.swiglu = swiglu;
    Kernel kernel;
    if (!compile(context, spec, options, kernel, row.compileSeconds))
      return;
    std::mt19937 rng(2);
    const int64_t numWeights = swiglu ? 2 : 1;
    std::vector<uint8_t> w = randomBytes(rng, n * k * 2, false),
                         u = randomBytes(rng, n * k * 2, false);
    std::vector<float> x = randomFloats(rng, m * k), y(m * n);
    std::vector<int64_t> scalars = {m};
    std::array<int64_t, 3> grid = kernel.counts(scalars);
    std::vector<void *> buffers = {x.data(), w.data()};
    if (swiglu)
      buffers.push_back(u.data());
    buffers.push_back(y.data());
    row.seconds = timePerCall(
        [&](int64_t) { kernel.run(buffers.data(), scalars, grid); },
        options.minTime, options.threadClock);
    row.gbPerSecond = numWeights * n * k * 2 / row.seconds * 1e-9;
    row.gflops = 2.0 * numWeights * m * n * k / row.seconds * 1e-9;
    print(row);
  }

  /// MoE experts: `tokens` rows of x, each routed to `topk` of `experts`
  /// distinct random experts, through the grouped GEMM (SwiGLU of width n
  /// from k, or the down projection k -> n with row weights): GFLOP/s of
  /// the pairs' products. The permutation is sorted by expert, as
  /// moe_permute leaves it. With `sharedInside`, one more expert that every
  /// token picks: a shared expert run inside the grouped GEMM, which
  /// lathe-fuse-moe-routing measured against running it beside (a dense
  /// GEMM of `tokens` rows) before choosing.
  void groupedGemm(int64_t tokens, int64_t experts, int64_t topk, int64_t n,
                   int64_t k, bool swiglu, bool sharedInside = false) {
    std::string name = swiglu ? "grouped swiglu bf16" : "grouped down bf16";
    if (sharedInside)
      name += " +shared";
    if (!wanted(name))
      return;
    if (sharedInside) {
      ++experts;
      ++topk;
    }
    Builder b(&context);
    GemmSpec spec{n, k, WeightFormat{b.getBF16Type(), std::nullopt}};
    spec.swiglu = swiglu;
    spec.grouped = true;
    spec.experts = experts;
    spec.xRowDiv = swiglu ? topk : 1;
    spec.rowScale = !swiglu;
    Row row{name, std::to_string(tokens) + "x" + std::to_string(topk) + " e" +
                      std::to_string(experts) + " " + std::to_string(n) + "x" +
                      std::to_string(k)};
    Kernel kernel;
    if (!compile(context, spec, options, kernel, row.compileSeconds))
      return;
    std::mt19937 rng(6);
    const int64_t pairs = tokens * topk, xRows = swiglu ? tokens : pairs;
    const int64_t routed = sharedInside ? experts - 1 : experts;
    std::vector<int32_t> ids;
    for (int64_t t = 0; t < tokens; ++t) {
      std::vector<int32_t> all(routed);
      std::iota(all.begin(), all.end(), 0);
      std::shuffle(all.begin(), all.end(), rng);
      ids.insert(ids.end(), all.begin(),
                 all.begin() + (sharedInside ? topk - 1 : topk));
      if (sharedInside)
        ids.push_back(static_cast<int32_t>(routed));
    }
    std::vector<int32_t> offsets(experts + 1, 0), order(pairs);
    for (int32_t e : ids)
      ++offsets[e + 1];
    for (int64_t e = 0; e < experts; ++e)
      offsets[e + 1] += offsets[e];
    std::vector<int32_t> fill(offsets.begin(), offsets.end() - 1);
    for (int64_t p = 0; p < pairs; ++p)
      order[fill[ids[p]]++] = static_cast<int32_t>(p);
    const int64_t numWeights = swiglu ? 2 : 1;
    std::vector<std::vector<uint8_t>> w;
    std::vector<void *> tables[2];
    for (int64_t wi = 0; wi < numWeights; ++wi)
      for (int64_t e = 0; e < experts; ++e) {
        w.push_back(randomBytes(rng, n * k * 2, false));
        tables[wi].push_back(nullptr);
      }
    for (int64_t wi = 0; wi < numWeights; ++wi)
      for (int64_t e = 0; e < experts; ++e)
        tables[wi][e] = w[wi * experts + e].data();
    std::vector<float> x = randomFloats(rng, xRows * k), y(pairs * n),
                       rowWeights = randomFloats(rng, pairs);
    std::vector<void *> buffers = {x.data()};
    for (int64_t wi = 0; wi < numWeights; ++wi)
      buffers.push_back(tables[wi].data());
    buffers.push_back(offsets.data());
    buffers.push_back(order.data());
    if (!swiglu)
      buffers.push_back(rowWeights.data());
    buffers.push_back(y.data());
    std::vector<int64_t> scalars = {xRows, pairs};
    std::array<int64_t, 3> grid = kernel.counts(scalars);
    row.seconds =
        timePerCall([&](int64_t) { kernel.run(buffers.data(), scalars, grid); },
                    options.minTime, options.threadClock);
    row.gflops = 2.0 * numWeights * pairs * n * k / row.seconds * 1e-9;
    print(row);
  }

  /// RMS norm of M rows of `dim`: GB/s of activations read and written.
  void rmsNorm(int64_t m, int64_t dim) {
    if (!wanted("rms_norm"))
      return;
    Builder b(&context);
    RmsNormSpec spec{dim, dim, 0, b.getBF16Type(), 1e-6};
    Row row{"rms_norm", std::to_string(m) + "x" + std::to_string(dim)};
    Kernel kernel;
    if (!compile(context, spec, options, kernel, row.compileSeconds))
      return;
    std::mt19937 rng(3);
    std::vector<float> in = randomFloats(rng, m * dim), out(m * dim);
    std::vector<uint8_t> weight = randomBytes(rng, dim * 2, false);
    std::vector<int64_t> scalars = {m};
    std::array<int64_t, 3> grid = kernel.counts(scalars);
    void *buffers[] = {in.data(), weight.data(), out.data()};
    row.seconds =
        timePerCall([&](int64_t) { kernel.run(buffers, scalars, grid); },
                    options.minTime, options.threadClock);
    row.gbPerSecond = 2.0 * m * dim * 4 / row.seconds * 1e-9;
    print(row);
  }

  /// MLA decode attention of one token per row over `context` cached
  /// positions: GB/s of cache read (each head rereads the cache).
  void mlaDecode(int64_t rows, int64_t positions) {
    if (!wanted("mla decode"))
      return;
    Builder b(&context);
    const int64_t heads = 16, nope = 128, rope = 64, v = 128, rank = 512,
                  maxSeqLen = positions;
    MLAAttentionSpec spec{heads, nope,      rope,
                          v,     rank,      rows,
                          maxSeqLen, WeightFormat{b.getBF16Type(), std::nullopt},
                          1.0 / std::sqrt(double(nope + rope))};
    Row row{"mla decode", std::to_string(rows) + "x" +
                              std::to_string(positions) + " h16 r512"};
    Kernel kernel;
    if (!compile(context, spec, options, kernel, row.compileSeconds))
      return;
    std::mt19937 rng(4);
    std::vector<float> q = randomFloats(rng, rows * heads * (nope + rope));
    std::vector<uint8_t> kvB =
        randomBytes(rng, heads * (nope + v) * rank * 2, false);
    std::vector<int32_t> pos(rows, static_cast<int32_t>(positions - 1));
    std::vector<float> cache =
        randomFloats(rng, rows * maxSeqLen * (rank + rope));
    std::vector<float> out(rows * heads * v);
    std::vector<int64_t> scalars = {rows, 1};
    std::array<int64_t, 3> grid = kernel.counts(scalars);
    void *buffers[] = {q.data(), kvB.data(), pos.data(), cache.data(),
                       out.data()};
    row.seconds =
        timePerCall([&](int64_t) { kernel.run(buffers, scalars, grid); },
                    options.minTime, options.threadClock);
    row.gbPerSecond =
        (rows * positions * (rank + rope) * 4.0 + kvB.size()) / row.seconds *
        1e-9;
    print(row);
  }

  /// MLA prefill attention of one row of `tokens` new tokens at positions
  /// [0, tokens): GFLOP/s of the up-projected form's multiply-adds (each
  /// token's kv_b_proj rows as in a GEMM, plus nope + rope + v per causal
  /// (token, position) pair and head), the count bench_cpu.py's bound uses.
  void mlaPrefill(int64_t tokens) {
    Row row{"mla prefill", std::to_string(tokens) + " tokens h16 r512"};
    if (!wanted(row.name + " " + row.shape))
      return;
    Builder b(&context);
    const int64_t heads = 16, nope = 128, rope = 64, v = 128, rank = 512,
                  maxSeqLen = tokens;
    MLAAttentionSpec spec{heads,
                          nope,
                          rope,
                          v,
                          rank,
                          1,
                          maxSeqLen,
                          WeightFormat{b.getBF16Type(), std::nullopt},
                          1.0 / std::sqrt(double(nope + rope))};
    Kernel kernel;
    if (!compile(context, spec, options, kernel, row.compileSeconds))
      return;
    std::mt19937 rng(5);
    std::vector<float> q = randomFloats(rng, tokens * heads * (nope + rope));
    std::vector<uint8_t> kvB =
        randomBytes(rng, heads * (nope + v) * rank * 2, false);
    std::vector<int32_t> pos(tokens);
    for (int64_t t = 0; t < tokens; ++t)
      pos[t] = static_cast<int32_t>(t);
    std::vector<float> cache = randomFloats(rng, maxSeqLen * (rank + rope));
    std::vector<float> out(tokens * heads * v);
    std::vector<int64_t> scalars = {tokens, tokens};
    std::array<int64_t, 3> grid = kernel.counts(scalars);
    void *buffers[] = {q.data(), kvB.data(), pos.data(), cache.data(),
                       out.data()};
    row.seconds =
        timePerCall([&](int64_t) { kernel.run(buffers, scalars, grid); },
                    options.minTime, options.threadClock);
    const double macs =
        tokens * double(heads) * (nope + v) * rank +
        heads * double(nope + rope + v) * tokens * (tokens + 1) / 2;
    row.gflops = 2 * macs / row.seconds * 1e-9;
    print(row);
  }

private:
  MLIRContext &context;
  const Options &options;
};

bool parse(int argc, char **argv, Options &options) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *flag) -> const char * {
      size_t length = std::strlen(flag);
      return arg.compare(0, length, flag) == 0 ? argv[i] + length : nullptr;
    };
    if (const char *v = value("--filter="))
      options.filter = v;
    else if (const char *v = value("--min-time="))
      options.minTime = std::atof(v);
    else if (const char *v = value("--cpu="))
      options.cpu = v;
    else if (const char *v = value("--clock="))
      options.threadClock = std::string(v) == "thread";
    else {
      std::fprintf(stderr,
                   "lathe-kernel-bench: unknown argument '%s'\nusage: "
                   "lathe-kernel-bench [--filter=SUBSTRING] "
                   "[--min-time=SECONDS] [--cpu=CPU] [--clock=wall|thread]\n",
                   argv[i]);
      return false;
    }
  }
  return options.minTime > 0;
}

} // namespace

int main(int argc, char **argv) {
  Options options;
  if (!parse(argc, argv, options))
    return 2;
  DialectRegistry registry;
  cpu::registerCpuTargetDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  std::printf(
      "# one thread; time per call of the whole grid (median of 5, %s)\n",
      options.threadClock ? "thread CPU time" : "wall clock");
  std::printf("%-26s %-24s %12s %9s %10s %9s\n", "kernel", "shape", "us/call",
              "GB/s", "GFLOP/s", "compile s");
  Bench bench(context, options);
  for (auto [n, k] : {std::pair<int64_t, int64_t>{1024, 1024},
                      {6144, 1024},
                      {16384, 1024}})
    bench.gemv(n, k, /*fp8=*/false);
  bench.gemv(1024, 1024, /*fp8=*/false, /*hot=*/true);
  for (auto [n, k] : {std::pair<int64_t, int64_t>{6144, 1024},
                      {16384, 1024}})
    bench.gemv(n, k, /*fp8=*/true);
  for (int64_t m : {128, 512})
    bench.gemm(m, 1024, 1024);
  // bench-0.3b's prefill shapes: o_proj (k = 2048), q_b_proj (k = 256), and
  // the routed experts of 128 tokens.
  bench.gemm(128, 1024, 2048);
  bench.gemm(128, 3072, 256);
  // The shared expert beside the routed ones (a dense GEMM of 128 rows
  // plus the grouped one) or inside (one more expert every token picks).
  bench.gemm(128, 160, 1024, /*swiglu=*/true);
  bench.gemm(128, 1024, 160);
  for (bool sharedInside : {false, true}) {
    bench.groupedGemm(128, 64, 6, 160, 1024, /*swiglu=*/true, sharedInside);
    bench.groupedGemm(128, 64, 6, 1024, 160, /*swiglu=*/false, sharedInside);
  }
  bench.rmsNorm(128, 1024);
  bench.mlaDecode(1, 1024);
  for (int64_t tokens : {128, 512})
    bench.mlaPrefill(tokens);
  return 0;
}
