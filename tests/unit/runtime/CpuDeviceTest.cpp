//===- CpuDeviceTest.cpp - loading a CPU target's code --------------------===//

#include "runtime/cpu/CpuDevice.h"
#include "runtime/cpu/HostCpu.h"
#include "runtime/cpu/KernelLibrary.h"

#include "tests/unit/runtime/TestBundle.h"

#include <gtest/gtest.h>

using namespace lathe::rt;
using namespace lathe::rt::testing;

namespace {

Expected<std::unique_ptr<CpuDevice>> deviceFor(const BundleSpec &spec,
                                               std::optional<Bundle> &holder) {
  Expected<Bundle> bundle =
      Bundle::fromBytes(buildBundle(spec), "t.lathe", ".");
  if (!bundle)
    return bundle.status();
  holder.emplace(std::move(*bundle));
  return CpuDevice::create(*holder, 0, 2);
}

std::string errorOf(const BundleSpec &spec) {
  std::optional<Bundle> holder;
  Expected<std::unique_ptr<CpuDevice>> device = deviceFor(spec, holder);
  EXPECT_FALSE(device.ok());
  return device.ok() ? "" : device.status().message();
}

TEST(CpuDevice, LoadsTheTestKernels) {
  std::optional<Bundle> holder;
  Expected<std::unique_ptr<CpuDevice>> device = deviceFor(toyModel(), holder);
  ASSERT_TRUE(device.ok()) << device.status().message();
  EXPECT_EQ((*device)->targetName(), "cpu");
  EXPECT_EQ((*device)->threads(), 2u);

  // Kernel 3 counts its workgroups.
  std::vector<int32_t> counters(2 * 3 * 4, 0);
  void *buffers[] = {counters.data()};
  int64_t scalars[] = {4, 3, 2};
  int64_t grid[] = {4, 3, 2};
  ASSERT_TRUE((*device)->launch(3, buffers, scalars, grid).ok());
  EXPECT_EQ(counters, std::vector<int32_t>(24, 1));

  int64_t negative[] = {4, -1, 2};
  EXPECT_EQ((*device)->launch(3, buffers, scalars, negative).message(),
            "kernel 'count': grid[1] is negative (-1)");
}

TEST(CpuDevice, RefusesACpuWithoutAFeatureTheCodeUses) {
  BundleSpec spec = toyModel();
  spec.targets[0].features = {"sse2", "lathe-bogus-feature"};
  EXPECT_EQ(errorOf(spec).find("t.lathe: targets[0] 'cpu': the code uses CPU "
                               "features this machine"),
            0u);
  EXPECT_NE(errorOf(spec).find("lacks: lathe-bogus-feature (unknown feature)"),
            std::string::npos);

#if defined(__x86_64__)
  // What this machine has passes; a real feature it lacks is listed by name.
  spec.targets[0].features = {"sse2"};
  std::optional<Bundle> holder;
  EXPECT_TRUE(deviceFor(spec, holder).ok());
  for (const char *feature : {"avx512f", "avx512bf16", "avx2", "fma4"})
    if (!hostHasFeature(feature).value_or(true)) {
      spec.targets[0].features = {"sse2", feature};
      EXPECT_NE(errorOf(spec).find(std::string("lacks: ") + feature),
                std::string::npos);
    }
#endif
}

TEST(CpuDevice, FeatureQueries) {
  EXPECT_FALSE(hostHasFeature("lathe-bogus-feature").has_value());
  EXPECT_EQ(missingHostFeatures({"lathe-bogus-feature"}),
            std::vector<std::string>{"lathe-bogus-feature (unknown feature)"});
#if defined(__x86_64__)
  // Every x86-64 CPU has SSE2.
  EXPECT_EQ(hostHasFeature("sse2"), std::optional<bool>(true));
  EXPECT_TRUE(missingHostFeatures({"sse", "sse2"}).empty());
  std::vector<std::string> present = hostFeatures();
  EXPECT_NE(std::find(present.begin(), present.end(), "sse2"), present.end());
#endif
  EXPECT_GE(hostPhysicalCores(), 1u);
}

TEST(CpuDevice, RefusesAMissingSymbol) {
  BundleSpec spec = toyModel();
  spec.targets[0].symbolOverrides = {{2, "lt_missing"}};
  EXPECT_EQ(errorOf(spec), "t.lathe: targets[0] 'cpu': kernels[2] 'scale2d': "
                           "the code does not export symbol 'lt_missing'");
}

TEST(CpuDevice, RefusesASymbolOnlyALinkedLibraryDefines) {
  BundleSpec spec = toyModel();
  spec.targets[0].symbolOverrides = {{0, "memcpy"}};
  EXPECT_EQ(errorOf(spec), "t.lathe: targets[0] 'cpu': kernels[0] 'add': the "
                           "code does not define symbol 'memcpy' (a library "
                           "it links does)");
}

TEST(CpuDevice, RefusesAnotherAbiVersion) {
  BundleSpec spec = toyModel();
  spec.targets[0].code = testKernelsAbi99();
  EXPECT_EQ(errorOf(spec), "t.lathe: targets[0] 'cpu': shared_object: the code "
                           "speaks CPU kernel ABI version 99; this runtime "
                           "speaks version 1");
}

TEST(CpuDevice, RefusesCodeThatIsNotASharedObject) {
  BundleSpec spec = toyModel();
  spec.targets[0].code = {'n', 'o', 't', ' ', 'E', 'L', 'F'};
  EXPECT_EQ(errorOf(spec), "t.lathe: targets[0] 'cpu': shared_object: the code "
                           "is not an ELF file");
  // An ELF header that claims to be an executable.
  spec.targets[0].code = testKernels();
  spec.targets[0].code[16] = 2; // e_type = ET_EXEC
  EXPECT_NE(errorOf(spec).find("not a shared object (ET_DYN)"),
            std::string::npos);
  // A valid header over garbage: dlopen's own message.
  spec.targets[0].code = testKernels();
  spec.targets[0].code.resize(200);
  EXPECT_NE(errorOf(spec).find("shared_object: dlopen failed: "),
            std::string::npos);
}

TEST(KernelLibrary, TwoLoadsOfOneCodeAreIndependent) {
  Expected<KernelLibrary> first =
      KernelLibrary::load(testKernels().data(), testKernels().size());
  Expected<KernelLibrary> second =
      KernelLibrary::load(testKernels().data(), testKernels().size());
  ASSERT_TRUE(first.ok() && second.ok());
  Expected<void *> a = first->symbol("lt_add"), b = second->symbol("lt_add");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

} // namespace
