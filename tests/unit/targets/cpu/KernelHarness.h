//===- KernelHarness.h - build, compile, load and run CPU kernels -*- C++ -*-===//
//
// What every CPU kernel test does: build a kernel of a spec with the CPU
// target into its own target module, compile it with compileCpuModule,
// dlopen the shared object and run the kernel's whole grid, as the runtime
// would; plus the data helpers (seeded random values, bf16/f16/FP8
// encodings and their exact values) the float64 references need.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_TESTS_UNIT_TARGETS_CPU_KERNELHARNESS_H
#define LATHE_TESTS_UNIT_TARGETS_CPU_KERNELHARNESS_H

#include "runtime/cpu/KernelABI.h"
#include "targets/KernelSpecs.h"
#include "targets/cpu/CpuDescription.h"

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/MLIRContext.h"

#include <cstdint>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace lathe::cpu {
/// Names a description in gtest's messages.
inline void PrintTo(const CpuDescription &description, std::ostream *os) {
  *os << description.lanes << " lanes, " << description.registers
      << " registers";
}
} // namespace lathe::cpu

namespace lathe::cpu::test {

/// A loaded kernel: its entry point and grid.
class LoadedKernel {
public:
  LoadedKernel(std::shared_ptr<void> library, LatheKernelFn function,
               mlir::AffineMap grid, std::string name)
      : library(std::move(library)), function(function), grid(grid),
        name(std::move(name)) {}

  /// The grid's workgroup counts for these scalars.
  std::array<int64_t, 3> gridFor(const std::vector<int64_t> &scalars) const;
  /// Runs every workgroup of the grid, in order.
  void run(const std::vector<void *> &buffers,
           const std::vector<int64_t> &scalars) const;
  LatheKernelFn entry() const { return function; }

private:
  std::shared_ptr<void> library;
  LatheKernelFn function;
  mlir::AffineMap grid;
  std::string name;
};

/// Owns the MLIR context the specs' types live in.
class KernelHarness {
public:
  KernelHarness();
  ~KernelHarness();

  mlir::MLIRContext &getContext() { return *context; }
  mlir::Type f32();
  mlir::Type f16();
  mlir::Type bf16();
  mlir::Type f8e4m3();

  /// Builds, compiles and loads `spec` as kernel `name` (shaped for
  /// `shapeFor`, by default this CPU); records a gtest failure (and returns
  /// null) on any error.
  std::unique_ptr<LoadedKernel>
  load(const KernelSpec &spec, const std::string &name = "kernel",
       std::optional<CpuDescription> shapeFor = std::nullopt);

private:
  std::unique_ptr<mlir::MLIRContext> context;
};

/// The descriptions the generator tests run under: this CPU's, and an
/// AVX-512 one (16 lanes, 32 registers), whose blocking runs here too with
/// wide vectors split by LLVM.
std::vector<std::optional<CpuDescription>> descriptionsToTest();
/// "native" or "l16r32" for test names.
std::string describe(const std::optional<CpuDescription> &description);

//===----------------------------------------------------------------------===//
// Data
//===----------------------------------------------------------------------===//

/// Weights as stored (the bytes a kernel reads) and their exact values.
struct StoredMatrix {
  std::vector<uint8_t> bytes;
  std::vector<double> values; // row-major, dequantized for FP8
  std::vector<float> scales;  // FP8 block scales, row-major
  int64_t rows = 0, cols = 0;
};

enum class StoredType { F32, F16, BF16, F8E4M3 };

uint16_t toBF16(float value); // round to nearest even
float fromBF16(uint16_t bits);
uint16_t toF16(float value); // round to nearest even
float fromF16(uint16_t bits);
double fromE4M3(uint8_t code); // exact; NaN for 0x7f/0xff

/// `rows x cols` random values in [-1, 1) stored as `type`; FP8 codes are
/// random finite e4m3 with one random positive scale per `block` (partial
/// blocks at the edges).
StoredMatrix randomMatrix(std::mt19937 &rng, StoredType type, int64_t rows,
                          int64_t cols, int64_t blockRows = 128,
                          int64_t blockCols = 128);

std::vector<float> randomFloats(std::mt19937 &rng, size_t count,
                                float low = -1.0f, float high = 1.0f);

/// Checks |got - want| <= rtol * scale + atol elementwise and reports the
/// worst element.
void expectClose(const std::vector<float> &got, const std::vector<double> &want,
                 const std::vector<double> &scale, double rtol,
                 double atol = 1e-30, const std::string &what = "");
/// The same with scale = |want|.
void expectClose(const std::vector<float> &got, const std::vector<double> &want,
                 double rtol, double atol = 1e-30, const std::string &what = "");

} // namespace lathe::cpu::test

#endif // LATHE_TESTS_UNIT_TARGETS_CPU_KERNELHARNESS_H
