//===- CompileModuleTest.cpp - compileCpuModule as lathe-compile uses it --===//
//
// The shared object's contract (every kernel exported by name with the
// ABI, lathe_cpu_abi_version), the CPU and features it records, and the
// errors a bad module gets.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include "dialects/lathe/IR/LatheKernelOps.h"
#include "targets/cpu/CpuTarget.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <unistd.h>

using namespace mlir;
using namespace lathe;
using namespace lathe::cpu;
using namespace lathe::cpu::test;

namespace {

class CompileModuleTest : public ::testing::Test {
protected:
  /// A cpu target module holding kernels of `specs`, named k0, k1, ...
  OwningOpRef<ModuleOp> build(const std::vector<KernelSpec> &specs,
                              const std::string &cpu = "native") {
    MLIRContext &context = harness.getContext();
    Location loc = UnknownLoc::get(&context);
    OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
    createCpuTarget({cpu})->annotateModule(*module);
    OpBuilder builder(&context);
    builder.setInsertionPointToEnd(module->getBody());
    for (size_t i = 0; i < specs.size(); ++i)
      EXPECT_TRUE(succeeded(createCpuTarget({cpu})->buildKernel(
          builder, loc, "k" + std::to_string(i), specs[i])));
    return module;
  }

  std::string errorOf(ModuleOp module) {
    llvm::Expected<CpuObject> object = compileCpuModule(module);
    if (object)
      return "";
    return llvm::toString(object.takeError());
  }

  KernelHarness harness;
};

TEST_F(CompileModuleTest, ExportsEveryKernelAndTheABIVersion) {
  OwningOpRef<ModuleOp> module =
      build({AddSpec{40}, GatherLastSpec{40}, MoEPermuteSpec{4}});
  llvm::Expected<CpuObject> object = compileCpuModule(*module);
  ASSERT_TRUE(bool(object)) << llvm::toString(object.takeError());
  const std::vector<char> &bytes = object->sharedObject;
  ASSERT_GT(bytes.size(), 4u);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 4), "\x7f"
                                                           "ELF");

  llvm::SmallString<128> path;
  int fd;
  ASSERT_FALSE(
      llvm::sys::fs::createTemporaryFile("lathe-compile-test", "so", fd, path));
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()),
            static_cast<ssize_t>(bytes.size()));
  ::close(fd);
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  ::unlink(path.c_str());
  ASSERT_TRUE(handle) << dlerror();
  auto *version =
      static_cast<const uint32_t *>(dlsym(handle, "lathe_cpu_abi_version"));
  ASSERT_TRUE(version);
  EXPECT_EQ(*version, static_cast<uint32_t>(LATHE_CPU_ABI_VERSION));
  for (const char *name : {"k0", "k1", "k2"})
    EXPECT_TRUE(dlsym(handle, name)) << name;

  // k0 adds rows; the dispatch reaches it through the ABI.
  auto add = reinterpret_cast<LatheKernelFn>(dlsym(handle, "k0"));
  std::vector<float> a(80, 1.5f), b(80, 2.0f), out(80, 0.0f);
  void *buffers[] = {a.data(), b.data(), out.data()};
  int64_t scalars[] = {2};
  LatheDispatch dispatch{buffers, scalars, {2, 1, 1}};
  add(&dispatch, 1, 0, 0);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[40], 3.5f);
  EXPECT_EQ(out[79], 3.5f);
  dlclose(handle);
}

TEST_F(CompileModuleTest, RecordsTheResolvedCpuAndFeatures) {
  OwningOpRef<ModuleOp> module = build({AddSpec{16}});
  llvm::Expected<CpuObject> object = compileCpuModule(*module);
  ASSERT_TRUE(bool(object)) << llvm::toString(object.takeError());
  EXPECT_NE(object->cpu, "native");
  EXPECT_FALSE(object->cpu.empty());
  auto cpu = (*module)->getAttrOfType<StringAttr>(kCpuAttrName);
  ASSERT_TRUE(cpu);
  EXPECT_EQ(cpu.getValue(), object->cpu);
  auto features = (*module)->getAttrOfType<ArrayAttr>(kCpuFeaturesAttrName);
  ASSERT_TRUE(features);
  std::vector<std::string> recorded;
  for (Attribute feature : features)
    recorded.push_back(cast<StringAttr>(feature).str());
  EXPECT_EQ(recorded, object->features);
  // The module now holds the LLVM dialect.
  EXPECT_TRUE((*module).lookupSymbol("k0"));
  EXPECT_FALSE((*module).lookupSymbol<func::FuncOp>("k0"));
}

// A named CPU gives its own features, whatever the host has; features
// without a GCC name (xsave, cx16, ...) are not among them.
TEST_F(CompileModuleTest, NamedCpus) {
  auto featuresOf = [&](const std::string &cpu) {
    OwningOpRef<ModuleOp> module = build({AddSpec{16}}, cpu);
    llvm::Expected<CpuObject> object = compileCpuModule(*module);
    EXPECT_TRUE(bool(object)) << cpu << ": "
                              << llvm::toString(object.takeError());
    return object ? object->features : std::vector<std::string>{};
  };
  auto has = [](const std::vector<std::string> &features, const char *name) {
    return std::find(features.begin(), features.end(), name) != features.end();
  };
  std::vector<std::string> v3 = featuresOf("x86-64-v3");
  EXPECT_TRUE(has(v3, "avx2") && has(v3, "fma") && has(v3, "f16c"))
      << llvm::join(v3, ",");
  EXPECT_FALSE(has(v3, "avx512f") || has(v3, "xsave") || has(v3, "cx16"));
  std::vector<std::string> zen4 = featuresOf("znver4");
  for (const char *name :
       {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512bf16"})
    EXPECT_TRUE(has(zen4, name)) << name << " in " << llvm::join(zen4, ",");
}

TEST_F(CompileModuleTest, RejectsAnUnknownCpu) {
  OwningOpRef<ModuleOp> module = build({AddSpec{16}}, "pentium-9000");
  EXPECT_EQ(errorOf(*module),
            "unknown CPU 'pentium-9000': expected an LLVM x86-64 CPU name "
            "(znver4, sapphirerapids, x86-64-v3, ...) or 'native'");
}

TEST_F(CompileModuleTest, RejectsAModuleThatIsNotACpuTarget) {
  OwningOpRef<ModuleOp> module = build({AddSpec{16}});
  (*module)->setAttr(kTargetAttrName,
                     StringAttr::get(&harness.getContext(), "sm_90a"));
  EXPECT_EQ(errorOf(*module),
            "cpu target: expected a module with lathe.target = \"cpu\"");
}

TEST_F(CompileModuleTest, NamesAFunctionThatIsNotAKernel) {
  OwningOpRef<ModuleOp> module = build({AddSpec{16}});
  OpBuilder builder(&harness.getContext());
  builder.setInsertionPointToEnd(module->getBody());
  auto helper = func::FuncOp::create(builder, builder.getUnknownLoc(),
                                     "helper", builder.getFunctionType({}, {}));
  builder.setInsertionPointToStart(helper.addEntryBlock());
  func::ReturnOp::create(builder, builder.getUnknownLoc());
  std::string error = errorOf(*module);
  EXPECT_NE(error.find("function @helper in a cpu target module is not a "
                       "kernel (no lathe.kernel)"),
            std::string::npos)
      << error;
}

} // namespace
