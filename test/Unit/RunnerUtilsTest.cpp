//===- RunnerUtilsTest.cpp - The C helpers lowered code calls -------------===//

#include "fovea/Runtime/Tensor.h"

#include <cstdint>
#include <cstring>
#include <gtest/gtest.h>
#include <vector>

namespace {
struct Unranked {
  int64_t rank;
  void *descriptor;
};
/// A ranked descriptor as lowered code lays it out.
template <int N> struct Strided {
  float *allocated, *aligned;
  int64_t offset, sizes[N], strides[N];
};
} // namespace

extern "C" void memrefCopy(int64_t, Unranked *, Unranked *);
extern "C" __bf16 __truncsfbf2(float);

TEST(RunnerUtils, MemrefCopyStridedToContiguous) {
  // Source: a [2, 3, 4] view with strides [1, 2, 6] (a transposed buffer)
  // at offset 5; target: contiguous.
  std::vector<float> source(5 + 24), target(24, -1.0f);
  for (size_t i = 0; i < source.size(); ++i)
    source[i] = static_cast<float>(i);
  Strided<3> src{source.data(), source.data(), 5, {2, 3, 4}, {1, 2, 6}};
  Strided<3> dst{target.data(), target.data(), 0, {2, 3, 4}, {12, 4, 1}};
  Unranked s{3, &src}, d{3, &dst};
  memrefCopy(sizeof(float), &s, &d);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k)
        EXPECT_EQ(target[i * 12 + j * 4 + k], source[5 + i + 2 * j + 6 * k]);
}

TEST(RunnerUtils, MemrefCopyRowsOfALargerBuffer) {
  // A [3, 2] window (row stride 5) into a [3, 2] window of another buffer
  // (row stride 4): contiguous rows, strided outer dimension.
  std::vector<float> source(15), target(12, 0.0f);
  for (size_t i = 0; i < source.size(); ++i)
    source[i] = static_cast<float>(i + 1);
  Strided<2> src{source.data(), source.data(), 1, {3, 2}, {5, 1}};
  Strided<2> dst{target.data(), target.data(), 2, {3, 2}, {4, 1}};
  Unranked s{2, &src}, d{2, &dst};
  memrefCopy(sizeof(float), &s, &d);
  std::vector<float> expected = {0, 0, 2, 3, 0, 0, 7, 8, 0, 0, 12, 13};
  EXPECT_EQ(target, expected);
}

TEST(RunnerUtils, MemrefCopyEmptyAndScalar) {
  float a = 3.0f, b = 0.0f;
  Strided<1> src{&a, &a, 0, {0}, {1}}, dst{&b, &b, 0, {0}, {1}};
  Unranked s{1, &src}, d{1, &dst};
  memrefCopy(sizeof(float), &s, &d);
  EXPECT_EQ(b, 0.0f);
  struct Scalar {
    float *allocated, *aligned;
    int64_t offset;
  } s0{&a, &a, 0}, d0{&b, &b, 0};
  Unranked s1{0, &s0}, d1{0, &d0};
  memrefCopy(sizeof(float), &s1, &d1);
  EXPECT_EQ(b, 3.0f);
}

TEST(RunnerUtils, TruncSfBf2RoundsToNearestEven) {
  std::vector<uint32_t> patterns = {
      0x3f800000u, 0x3f808000u, 0x3f818000u, 0x3f808001u, 0xbf80ffffu,
      0x7f7fffffu, 0x7f800000u, 0xff800000u, 0x7fc00001u, 0x7f800001u,
      0x00000001u, 0x80008000u, 0x00000000u, 0x80000000u};
  for (uint32_t pattern : patterns) {
    float value;
    std::memcpy(&value, &pattern, sizeof(value));
    __bf16 rounded = __truncsfbf2(value);
    uint16_t bits;
    std::memcpy(&bits, &rounded, sizeof(bits));
    EXPECT_EQ(bits, fovea::rt::floatToBf16(value)) << std::hex << pattern;
  }
}
