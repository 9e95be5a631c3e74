//===- SafetensorsTest.cpp - In-place views of checkpoint tensors ---------===//
//
// SafetensorsArchive::view hands out the mapping's bytes only for a tensor
// stored as asked (dtype, shape, element alignment), and dropMappedPages
// releases pages of open mappings only: the bytes read afterwards are the
// file's, and memory outside every mapping is never touched.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Safetensors.h"

#include "gtest/gtest.h"
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

using namespace fovea::rt;

namespace {
/// Writes a checkpoint with `w` (f32 [512, 64], 128 KiB: whole pages) and
/// `odd` (bf16 [3], at an odd offset after a 1-byte u8 tensor `pad`).
std::string writeCheckpoint(std::vector<float> &w) {
  w.resize(512 * 64);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = static_cast<float>(i) * 0.5f - 7.0f;
  size_t wBytes = w.size() * sizeof(float);
  std::string header =
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[512,64],\"data_offsets\":[0," +
      std::to_string(wBytes) +
      "]},\"pad\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[" +
      std::to_string(wBytes) + "," + std::to_string(wBytes + 1) +
      "]},\"odd\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[" +
      std::to_string(wBytes + 1) + "," + std::to_string(wBytes + 7) + "]}}";
  // The data starts 8-byte aligned, as writers pad the header to.
  while ((8 + header.size()) % 8 != 0)
    header += ' ';
  char name[] = "/tmp/fovea-safetensors-test-XXXXXX";
  int fd = ::mkstemp(name);
  ::close(fd);
  std::ofstream out(name, std::ios::binary);
  uint64_t size = header.size();
  for (int i = 0; i < 8; ++i)
    out.put(static_cast<char>((size >> (8 * i)) & 0xff));
  out << header;
  out.write(reinterpret_cast<const char *>(w.data()),
            static_cast<std::streamsize>(wBytes));
  const unsigned char tail[7] = {1, 0x80, 0x3f, 0x00, 0x40, 0x40, 0x40};
  out.write(reinterpret_cast<const char *>(tail), sizeof(tail));
  return name;
}

/// The checkpoint of writeCheckpoint, open, with `w`'s in-place view.
class SafetensorsViewTest : public ::testing::Test {
protected:
  void SetUp() override {
    path = writeCheckpoint(w);
    std::string error;
    archive = SafetensorsArchive::open(path, error);
    ASSERT_TRUE(archive) << error;
    view = archive->view("w", DType::F32, {512, 64});
    ASSERT_NE(view, nullptr);
  }
  void TearDown() override { std::remove(path.c_str()); }

  std::vector<float> w;
  std::string path;
  std::unique_ptr<SafetensorsArchive> archive;
  const void *view = nullptr;
};

TEST_F(SafetensorsViewTest, OnlyTensorsStoredAsAsked) {
  EXPECT_EQ(std::memcmp(view, w.data(), w.size() * sizeof(float)), 0);
  EXPECT_EQ(archive->view("w", DType::BF16, {512, 64}), nullptr);
  EXPECT_EQ(archive->view("w", DType::F32, {64, 512}), nullptr);
  EXPECT_EQ(archive->view("missing", DType::F32, {1}), nullptr);
  // bf16 at an odd address: copied by read(), never viewed.
  EXPECT_EQ(archive->view("odd", DType::BF16, {3}), nullptr);
}

TEST_F(SafetensorsViewTest, DroppedPagesReadBackFromTheFile) {
  dropMappedPages(view, w.size() * sizeof(float));
  EXPECT_EQ(std::memcmp(view, w.data(), w.size() * sizeof(float)), 0);
}

TEST(SafetensorsView, MemoryOutsideMappingsIsLeftAlone) {
  // Page-aligned heap memory with data: a drop must not zero it.
  long page = ::sysconf(_SC_PAGESIZE);
  size_t bytes = static_cast<size_t>(page) * 4;
  void *block = std::aligned_alloc(static_cast<size_t>(page), bytes);
  ASSERT_NE(block, nullptr);
  std::memset(block, 0x5a, bytes);
  dropMappedPages(block, bytes);
  std::vector<unsigned char> expected(bytes, 0x5a);
  EXPECT_EQ(std::memcmp(block, expected.data(), bytes), 0);
  std::free(block);
}
} // namespace
