//===- KernelHarness.cpp - build, compile, load and run CPU kernels -------===//

#include "KernelHarness.h"

#include "dialects/lathe/IR/LatheKernelOps.h"
#include "targets/cpu/CpuTarget.h"
#include "targets/cpu/HostCodegen.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <unistd.h>

using namespace mlir;
using namespace lathe;
using namespace lathe::cpu;
using namespace lathe::cpu::test;

std::array<int64_t, 3>
LoadedKernel::gridFor(const std::vector<int64_t> &scalars) const {
  SmallVector<AffineExpr> symbols;
  for (int64_t value : scalars)
    symbols.push_back(getAffineConstantExpr(value, grid.getContext()));
  std::array<int64_t, 3> counts{};
  for (unsigned i = 0; i < 3; ++i) {
    AffineExpr expr = simplifyAffineExpr(
        grid.getResult(i).replaceSymbols(symbols), 0, 0);
    auto constant = dyn_cast<AffineConstantExpr>(expr);
    EXPECT_TRUE(constant) << name << ": grid " << i << " is not constant";
    counts[i] = constant ? constant.getValue() : 0;
  }
  return counts;
}

void LoadedKernel::run(const std::vector<void *> &buffers,
                       const std::vector<int64_t> &scalars) const {
  LatheDispatch dispatch;
  dispatch.buffers = buffers.data();
  dispatch.scalars = scalars.data();
  std::array<int64_t, 3> counts = gridFor(scalars);
  for (unsigned i = 0; i < 3; ++i)
    dispatch.grid[i] = counts[i];
  for (int64_t z = 0; z < counts[2]; ++z)
    for (int64_t y = 0; y < counts[1]; ++y)
      for (int64_t x = 0; x < counts[0]; ++x)
        function(&dispatch, x, y, z);
}

KernelHarness::KernelHarness() : context(std::make_unique<MLIRContext>()) {
  DialectRegistry registry;
  registerCpuTargetDialects(registry);
  context->appendDialectRegistry(registry);
  context->loadAllAvailableDialects();
}

KernelHarness::~KernelHarness() = default;

Type KernelHarness::f32() { return Float32Type::get(context.get()); }
Type KernelHarness::f16() { return Float16Type::get(context.get()); }
Type KernelHarness::bf16() { return BFloat16Type::get(context.get()); }
Type KernelHarness::f8e4m3() { return Float8E4M3FNType::get(context.get()); }

std::vector<std::optional<CpuDescription>>
lathe::cpu::test::descriptionsToTest() {
  llvm::Expected<CodegenCpu> host = resolveCpu("native");
  EXPECT_TRUE(bool(host)) << llvm::toString(host.takeError());
  CpuDescription wide;
  wide.lanes = 16;
  wide.registers = 32;
  wide.hasF16C = host && CpuDescription::forFeatures(host->features).hasF16C;
  return {std::nullopt, wide};
}

std::string
lathe::cpu::test::describe(const std::optional<CpuDescription> &description) {
  if (!description)
    return "native";
  return "l" + std::to_string(description->lanes) + "r" +
         std::to_string(description->registers);
}

std::unique_ptr<LoadedKernel>
KernelHarness::load(const KernelSpec &spec, const std::string &name,
                    std::optional<CpuDescription> shapeFor) {
  Location loc = UnknownLoc::get(context.get());
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  CpuTargetOptions options;
  options.description = shapeFor;
  std::unique_ptr<KernelTarget> target = createCpuTarget(options);
  target->annotateModule(*module);
  OpBuilder builder(context.get());
  builder.setInsertionPointToEnd(module->getBody());
  FailureOr<func::FuncOp> func = target->buildKernel(builder, loc, name, spec);
  if (failed(func)) {
    ADD_FAILURE() << kernelSummary(spec) << ": the generator failed";
    return nullptr;
  }
  if (failed(mlir::verify(*module))) {
    std::string text;
    llvm::raw_string_ostream os(text);
    module->print(os);
    ADD_FAILURE() << kernelSummary(spec)
                  << ": the generator built invalid IR:\n"
                  << text;
    return nullptr;
  }
  // LATHE_KERNEL_TEST_DUMP=1 prints each kernel as generated, for running
  // it through lathe-opt by hand.
  if (std::getenv("LATHE_KERNEL_TEST_DUMP"))
    module->print(llvm::errs());
  AffineMap grid = getKernelAttr(*func).getGrid().getValue();
  llvm::Expected<CpuObject> object = compileCpuModule(*module);
  if (!object) {
    ADD_FAILURE() << kernelSummary(spec) << ": "
                  << llvm::toString(object.takeError());
    return nullptr;
  }

  llvm::SmallString<128> path;
  int fd;
  if (llvm::sys::fs::createTemporaryFile("lathe-kernel-test", "so", fd,
                                         path)) {
    ADD_FAILURE() << "cannot create a temporary file";
    return nullptr;
  }
  const std::vector<char> &bytes = object->sharedObject;
  bool written = ::write(fd, bytes.data(), bytes.size()) ==
                 static_cast<ssize_t>(bytes.size());
  ::close(fd);
  void *handle = written ? dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) : nullptr;
  std::string dlerrorText = handle ? "" : (dlerror() ? dlerror() : "write");
  ::unlink(path.c_str());
  if (!handle) {
    ADD_FAILURE() << kernelSummary(spec) << ": dlopen: " << dlerrorText;
    return nullptr;
  }
  std::shared_ptr<void> library(handle, [](void *h) { dlclose(h); });
  auto *version =
      static_cast<const uint32_t *>(dlsym(handle, "lathe_cpu_abi_version"));
  EXPECT_TRUE(version && *version == LATHE_CPU_ABI_VERSION)
      << "lathe_cpu_abi_version missing or wrong";
  auto function =
      reinterpret_cast<LatheKernelFn>(dlsym(handle, name.c_str()));
  if (!function) {
    ADD_FAILURE() << kernelSummary(spec) << ": no symbol " << name;
    return nullptr;
  }
  return std::make_unique<LoadedKernel>(std::move(library), function, grid,
                                        name);
}

//===----------------------------------------------------------------------===//
// Data
//===----------------------------------------------------------------------===//

uint16_t lathe::cpu::test::toBF16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if (std::isnan(value))
    return 0x7fc0;
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

float lathe::cpu::test::fromBF16(uint16_t bits) {
  uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &wide, 4);
  return value;
}

uint16_t lathe::cpu::test::toF16(float value) {
  _Float16 half = static_cast<_Float16>(value);
  uint16_t bits;
  std::memcpy(&bits, &half, 2);
  return bits;
}

float lathe::cpu::test::fromF16(uint16_t bits) {
  _Float16 half;
  std::memcpy(&half, &bits, 2);
  return static_cast<float>(half);
}

double lathe::cpu::test::fromE4M3(uint8_t code) {
  int sign = code & 0x80 ? -1 : 1;
  int exponent = (code >> 3) & 0xf, mantissa = code & 7;
  if (exponent == 15 && mantissa == 7)
    return std::nan("");
  if (exponent == 0)
    return sign * std::ldexp(mantissa, -9);
  return sign * std::ldexp(8 + mantissa, exponent - 10);
}

std::vector<float> lathe::cpu::test::randomFloats(std::mt19937 &rng,
                                                  size_t count, float low,
                                                  float high) {
  std::uniform_real_distribution<float> dist(low, high);
  std::vector<float> values(count);
  for (float &v : values)
    v = dist(rng);
  return values;
}

StoredMatrix lathe::cpu::test::randomMatrix(std::mt19937 &rng, StoredType type,
                                            int64_t rows, int64_t cols,
                                            int64_t blockRows,
                                            int64_t blockCols) {
  StoredMatrix m;
  m.rows = rows;
  m.cols = cols;
  const size_t count = rows * cols;
  m.values.resize(count);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  switch (type) {
  case StoredType::F32: {
    m.bytes.resize(count * 4);
    for (size_t i = 0; i < count; ++i) {
      float v = dist(rng);
      std::memcpy(&m.bytes[i * 4], &v, 4);
      m.values[i] = v;
    }
    break;
  }
  case StoredType::BF16:
  case StoredType::F16: {
    m.bytes.resize(count * 2);
    for (size_t i = 0; i < count; ++i) {
      float v = dist(rng);
      uint16_t bits = type == StoredType::BF16 ? toBF16(v) : toF16(v);
      std::memcpy(&m.bytes[i * 2], &bits, 2);
      m.values[i] = type == StoredType::BF16 ? fromBF16(bits) : fromF16(bits);
    }
    break;
  }
  case StoredType::F8E4M3: {
    const int64_t gridRows = (rows + blockRows - 1) / blockRows,
                  gridCols = (cols + blockCols - 1) / blockCols;
    std::uniform_real_distribution<float> scaleDist(1e-3f, 4e-3f);
    m.scales.resize(gridRows * gridCols);
    for (float &s : m.scales)
      s = scaleDist(rng);
    std::uniform_int_distribution<int> codeDist(0, 255);
    m.bytes.resize(count);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        uint8_t code;
        do
          code = static_cast<uint8_t>(codeDist(rng));
        while ((code & 0x7f) == 0x7f);
        m.bytes[r * cols + c] = code;
        m.values[r * cols + c] =
            fromE4M3(code) *
            m.scales[(r / blockRows) * gridCols + c / blockCols];
      }
    break;
  }
  }
  return m;
}

void lathe::cpu::test::expectClose(const std::vector<float> &got,
                                   const std::vector<double> &want,
                                   const std::vector<double> &scale,
                                   double rtol, double atol,
                                   const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  ASSERT_EQ(scale.size(), want.size()) << what;
  size_t worst = 0, bad = 0;
  double worstRatio = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double error = std::fabs(static_cast<double>(got[i]) - want[i]);
    double bound = rtol * std::fabs(scale[i]) + atol;
    double ratio = error / bound;
    if (!(error <= bound))
      ++bad;
    if (!(ratio <= worstRatio)) {
      worstRatio = ratio;
      worst = i;
    }
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << got.size()
                     << " elements off; worst at " << worst << ": got "
                     << got[worst] << ", want " << want[worst]
                     << " (error / bound = " << worstRatio << ")";
}

void lathe::cpu::test::expectClose(const std::vector<float> &got,
                                   const std::vector<double> &want,
                                   double rtol, double atol,
                                   const std::string &what) {
  std::vector<double> scale(want.size());
  for (size_t i = 0; i < want.size(); ++i)
    scale[i] = std::fabs(want[i]);
  expectClose(got, want, scale, rtol, atol, what);
}
