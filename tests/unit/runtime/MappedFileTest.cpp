//===- MappedFileTest.cpp - read-only mapped files ------------------------===//

#include "runtime/support/MappedFile.h"

#include "tests/unit/runtime/TempDir.h"

#include <gtest/gtest.h>

#include <cstring>
#include <sys/stat.h>

using namespace lathe::rt;
using lathe::rt::testing::TempDir;

namespace {

TEST(MappedFile, MapsContents) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string contents("hello\0world", 11);
  std::string path = dir.write("data.bin", contents);
  Expected<MappedFile> file = MappedFile::open(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  EXPECT_EQ(file->path(), path);
  ASSERT_EQ(file->size(), 11u);
  ASSERT_NE(file->data(), nullptr);
  EXPECT_EQ(std::memcmp(file->data(), contents.data(), 11), 0);
}

TEST(MappedFile, EmptyFileHasNoData) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Expected<MappedFile> file = MappedFile::open(dir.write("empty", ""));
  ASSERT_TRUE(file.ok()) << file.status().message();
  EXPECT_EQ(file->size(), 0u);
  EXPECT_EQ(file->data(), nullptr);
}

TEST(MappedFile, MissingFile) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string path = dir.path() + "/absent.safetensors";
  Expected<MappedFile> file = MappedFile::open(path);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(),
            path + ": cannot open: No such file or directory");
}

TEST(MappedFile, DirectoryIsAnError) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Expected<MappedFile> file = MappedFile::open(dir.path());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(),
            dir.path() + ": is a directory, not a file");
}

TEST(MappedFile, FifoIsRejectedWithoutBlocking) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string path = dir.track("fifo");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  Expected<MappedFile> file = MappedFile::open(path);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(), path + ": is not a regular file");
}

TEST(MappedFile, MoveTransfersTheMapping) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Expected<MappedFile> file = MappedFile::open(dir.write("a", "abcd"));
  ASSERT_TRUE(file.ok()) << file.status().message();
  const uint8_t *data = file->data();
  MappedFile moved(std::move(*file));
  EXPECT_EQ(moved.data(), data);
  EXPECT_EQ(moved.size(), 4u);
  EXPECT_EQ(file->data(), nullptr);
  EXPECT_EQ(file->size(), 0u);

  Expected<MappedFile> other = MappedFile::open(dir.write("b", "xy"));
  ASSERT_TRUE(other.ok()) << other.status().message();
  moved = std::move(*other);
  EXPECT_EQ(moved.size(), 2u);
  EXPECT_EQ(std::memcmp(moved.data(), "xy", 2), 0);
  EXPECT_EQ(moved.path(), dir.path() + "/b");
}

} // namespace
