//===- WeightStoreTest.cpp - weight files beside a bundle, and embedded ---===//

#include "runtime/bundle/WeightStore.h"

#include "tests/unit/runtime/TempDir.h"
#include "tests/unit/runtime/TestBundle.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

using namespace lathe::rt;
using namespace lathe::rt::testing;

namespace {

std::vector<float> floats(const void *data, size_t count) {
  std::vector<float> values(count);
  std::memcpy(values.data(), data, count * sizeof(float));
  return values;
}

/// Writes the toy bundle at `bundlePath` referencing `weightPath`
/// (relative to the bundle's directory), and the weights there.
void writeToy(TempDir &dir, const std::string &bundle,
              const std::string &weights, const std::string &reference) {
  writeBytes(dir.make(bundle), buildBundle(toyModel(reference)));
  writeBytes(dir.make(weights), toyWeightFile());
}

Expected<WeightStore> openStore(const std::string &path,
                                std::optional<Bundle> &holder) {
  Expected<Bundle> bundle = Bundle::open(path);
  if (!bundle)
    return bundle.status();
  holder.emplace(std::move(*bundle));
  return WeightStore::open(*holder);
}

TEST(WeightStore, FindsWeightFilesRelativeToTheBundle) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  writeToy(dir, "home/models/toy.lathe", "home/ckpt/weights.bin",
           "../ckpt/weights.bin");
  std::optional<Bundle> bundle;
  Expected<WeightStore> store =
      openStore(dir.path() + "/home/models/toy.lathe", bundle);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ(store->filePath(0),
            dir.path() + "/home/models/../ckpt/weights.bin");
  EXPECT_EQ(floats(store->weight(0), 4), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(floats(store->weight(2), 4),
            (std::vector<float>{100, 200, 300, 400}));
}

TEST(WeightStore, ABundleMovedWithItsWeightsStillLoads) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  writeToy(dir, "home/models/toy.lathe", "home/ckpt/weights.bin",
           "../ckpt/weights.bin");
  dir.make("elsewhere/deeper/x");
  std::string moved = dir.path() + "/elsewhere/deeper/home";
  ASSERT_EQ(std::rename((dir.path() + "/home").c_str(), moved.c_str()), 0);
  std::optional<Bundle> bundle;
  Expected<WeightStore> store = openStore(moved + "/models/toy.lathe", bundle);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ(floats(store->weight(1), 4), (std::vector<float>{10, 20, 30, 40}));

  // Moved without its weights: the error names the file it looked for.
  std::string alone = dir.make("alone/toy.lathe");
  ASSERT_EQ(std::rename((moved + "/models/toy.lathe").c_str(), alone.c_str()),
            0);
  store = openStore(alone, bundle);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().message(),
            alone + ": weight_files[0]: " + dir.path() +
                "/alone/../ckpt/weights.bin: cannot open: No such file or "
                "directory");
}

TEST(WeightStore, ABareBundleNameResolvesInTheWorkingDirectory) {
  EXPECT_EQ(directoryOf("toy.lathe"), ".");
  EXPECT_EQ(directoryOf("a/b/toy.lathe"), "a/b");
  EXPECT_EQ(directoryOf("/toy.lathe"), "/");
  EXPECT_EQ(joinPath(".", "w.bin"), "w.bin");
  EXPECT_EQ(joinPath("/", "w.bin"), "/w.bin");
  EXPECT_EQ(joinPath("a/b", "../w.bin"), "a/b/../w.bin");
}

TEST(WeightStore, RejectsAFileOfAnotherSize) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  writeToy(dir, "toy.lathe", "weights.bin", "weights.bin");
  std::vector<uint8_t> longer = toyWeightFile();
  longer.push_back(0);
  writeBytes(dir.path() + "/weights.bin", longer);
  std::optional<Bundle> bundle;
  Expected<WeightStore> store = openStore(dir.path() + "/toy.lathe", bundle);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().message(),
            dir.path() + "/toy.lathe: weight_files[0]: " + dir.path() +
                "/weights.bin: the file is 65 bytes but the bundle was "
                "compiled against one of 64 bytes (a different checkpoint?)");
}

TEST(WeightStore, RejectsAChangedHeader) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  writeToy(dir, "toy.lathe", "weights.bin", "weights.bin");
  std::vector<uint8_t> changed = toyWeightFile();
  changed[3] ^= 1;
  writeBytes(dir.path() + "/weights.bin", changed);
  std::optional<Bundle> bundle;
  Expected<WeightStore> store = openStore(dir.path() + "/toy.lathe", bundle);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(
                "weights.bin: the FNV-1a-64 of its first 16 bytes is 0x"),
            std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find("(the checkpoint changed since it "
                                          "was compiled)"),
            std::string::npos);

  // A change past the header is not looked at (the data is not hashed).
  changed = toyWeightFile();
  changed[40] ^= 1;
  writeBytes(dir.path() + "/weights.bin", changed);
  EXPECT_TRUE(openStore(dir.path() + "/toy.lathe", bundle).ok());
}

TEST(WeightStore, ReadsEmbeddedWeightsFromTheBlob) {
  std::vector<uint8_t> blob = toyWeightBlob();
  Expected<Bundle> bundle = Bundle::fromBytes(buildBundle(toyModel(""), &blob),
                                              "embedded.lathe", "/nonexistent");
  ASSERT_TRUE(bundle.ok()) << bundle.status().message();
  Expected<WeightStore> store = WeightStore::open(*bundle);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ(store->filePath(0), "");
  EXPECT_EQ(floats(store->weight(0), 4), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(floats(store->weight(2), 4),
            (std::vector<float>{100, 200, 300, 400}));
  EXPECT_EQ(static_cast<const uint8_t *>(store->weight(1)),
            bundle->blobData() + 64);
}

} // namespace
