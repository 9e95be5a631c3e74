//===- MatmulTest.cpp - Tests of the CPU matmul microkernels --------------===//
//
// The kernels against a scalar model of their arithmetic (f32: one fma per
// k in order; bf16: per pair, the odd k then the even k), bit for bit, on
// shapes with partial row blocks, partial panels, odd K and K past one depth
// block, on every kernel family the CPU runs (portable, AVX2, AVX-512,
// AVX512_BF16, AMX); and the same bits for 1, 2 and 3 threads. AMX's tile
// dot product adds within a tile in an order of its own: there the bf16
// result is held to the error bound of a sequential f32 sum instead.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Matmul.h"
#include "fovea/Runtime/Tensor.h"
#include "fovea/Runtime/ThreadPool.h"

#include "CpuIsaScope.h"

#include "gtest/gtest.h"
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

using namespace fovea::rt;
using namespace fovea::test;

namespace {

struct Shape {
  int64_t m, n, k;
};

class MatmulTest : public ::testing::TestWithParam<std::tuple<Shape, CpuIsa>> {
protected:
  void SetUp() override {
    isa = std::make_unique<CpuIsaScope>(std::get<1>(GetParam()));
    if (!isa->supported)
      GTEST_SKIP() << "this CPU has no " << cpuIsaName(std::get<1>(GetParam()))
                   << " kernels";
    Shape s = shape();
    std::mt19937 rng(static_cast<unsigned>(s.m * 7919 + s.n * 131 + s.k));
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    // A with a row stride larger than K, as a slice of a wider tensor.
    lda = s.k + 3;
    a.resize(s.m * lda);
    aBf16.resize(s.m * lda);
    for (float &x : a)
      x = dist(rng);
    for (size_t i = 0; i < a.size(); ++i)
      aBf16[i] = floatToBf16(a[i]);
    b.resize(s.k * s.n);
    for (float &x : b)
      x = dist(rng);
    c0.resize(s.m * s.n);
    for (float &x : c0)
      x = dist(rng);
    // The packed layouts of Matmul.h, zero-padded.
    int64_t panels = (s.n + kMatmulPanel - 1) / kMatmulPanel;
    int64_t pairs = (s.k + 1) / 2;
    packed.assign(panels * s.k * kMatmulPanel, 0.0f);
    packedBf16.assign(panels * pairs * kMatmulPanel * 2, 0);
    for (int64_t k = 0; k < s.k; ++k)
      for (int64_t n = 0; n < s.n; ++n) {
        int64_t panel = n / kMatmulPanel, col = n % kMatmulPanel;
        packed[(panel * s.k + k) * kMatmulPanel + col] = b[k * s.n + n];
        packedBf16[((panel * pairs + k / 2) * kMatmulPanel + col) * 2 + k % 2] =
            floatToBf16(b[k * s.n + n]);
      }
  }

  Shape shape() const { return std::get<0>(GetParam()); }

  std::vector<float> runF32(int threads) {
    Shape s = shape();
    setNumThreads(threads);
    std::vector<float> c = c0;
    fovea_matmul_f32(a.data(), lda, packed.data(), c.data(), s.n, s.m, s.n,
                     s.k);
    return c;
  }

  std::vector<float> runBf16(int threads) {
    Shape s = shape();
    setNumThreads(threads);
    std::vector<float> c = c0;
    fovea_matmul_bf16(aBf16.data(), lda, packedBf16.data(), c.data(), s.n, s.m,
                      s.n, s.k);
    return c;
  }

  std::unique_ptr<CpuIsaScope> isa;
  int64_t lda = 0;
  std::vector<float> a, b, c0, packed;
  std::vector<uint16_t> aBf16, packedBf16;
};

TEST_P(MatmulTest, F32MatchesSequentialFma) {
  Shape s = shape();
  std::vector<float> c = runF32(1);
  for (int64_t m = 0; m < s.m; ++m)
    for (int64_t n = 0; n < s.n; ++n) {
      float acc = c0[m * s.n + n];
      for (int64_t k = 0; k < s.k; ++k)
        acc = std::fma(a[m * lda + k], b[k * s.n + n], acc);
      ASSERT_EQ(acc, c[m * s.n + n]) << "at " << m << ", " << n;
    }
}

TEST_P(MatmulTest, Bf16MatchesPairedFma) {
  Shape s = shape();
  std::vector<float> c = runBf16(1);
  if (std::get<1>(GetParam()) == CpuIsa::AmxBf16) {
    // |error| <= (additions + 1) * u * (|C0| + sum |A B|), u = 2^-24.
    for (int64_t m = 0; m < s.m; ++m)
      for (int64_t n = 0; n < s.n; ++n) {
        double exact = c0[m * s.n + n], size = std::fabs(exact);
        for (int64_t k = 0; k < s.k; ++k) {
          double p = static_cast<double>(bf16ToFloat(aBf16[m * lda + k])) *
                     bf16ToFloat(floatToBf16(b[k * s.n + n]));
          exact += p;
          size += std::fabs(p);
        }
        double bound = static_cast<double>(s.k + 1) * 0x1p-24 * size;
        ASSERT_LE(std::fabs(c[m * s.n + n] - exact), bound)
            << "at " << m << ", " << n;
      }
    return;
  }
  for (int64_t m = 0; m < s.m; ++m)
    for (int64_t n = 0; n < s.n; ++n) {
      float acc = c0[m * s.n + n];
      for (int64_t k = 0; k < s.k; k += 2) {
        if (k + 1 < s.k)
          acc = std::fma(bf16ToFloat(aBf16[m * lda + k + 1]),
                         bf16ToFloat(floatToBf16(b[(k + 1) * s.n + n])), acc);
        acc = std::fma(bf16ToFloat(aBf16[m * lda + k]),
                       bf16ToFloat(floatToBf16(b[k * s.n + n])), acc);
      }
      ASSERT_EQ(acc, c[m * s.n + n]) << "at " << m << ", " << n;
    }
}

TEST_P(MatmulTest, ThreadCountDoesNotChangeBits) {
  std::vector<float> f32 = runF32(1), bf16 = runBf16(1);
  for (int threads : {2, 3}) {
    EXPECT_EQ(f32, runF32(threads)) << threads << " threads";
    EXPECT_EQ(bf16, runBf16(threads)) << threads << " threads";
  }
  setNumThreads(availableCores());
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, MatmulTest,
    ::testing::Combine(::testing::Values(Shape{1, 1, 1}, Shape{13, 31, 2},
                                         Shape{14, 32, 7}, Shape{15, 33, 255},
                                         Shape{113, 70, 257},
                                         Shape{130, 600, 64}, Shape{64, 64, 96},
                                         Shape{29, 40, 513},
                                         Shape{40, 50, 1100},
                                         Shape{33, 40, 2100}),
                       ::testing::ValuesIn(kCpuIsas)),
    [](const ::testing::TestParamInfo<std::tuple<Shape, CpuIsa>> &info) {
      Shape s = std::get<0>(info.param);
      return std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
             std::to_string(s.k) + "_" +
             cpuIsaTestName(std::get<1>(info.param));
    });

TEST(ThreadPoolTest, RunsEveryIndexOnceAndNests) {
  setNumThreads(3);
  std::vector<std::atomic<int>> hits(1000);
  parallelFor(static_cast<int64_t>(hits.size()), [&](int64_t i) {
    // A parallel loop inside a task runs on the task's thread.
    std::atomic<int> inner{0};
    parallelFor(4, [&](int64_t) { ++inner; });
    hits[i] += inner.load() == 4 ? 1 : 100;
  });
  for (size_t i = 0; i < hits.size(); ++i)
    ASSERT_EQ(hits[i].load(), 1) << "index " << i;
  setNumThreads(availableCores());
}

TEST(MatmulTest, NamesTheKernelItRuns) {
  std::string f32 = matmulKernelName(false), bf16 = matmulKernelName(true);
  EXPECT_TRUE(f32 == "avx512" || f32 == "avx2" || f32 == "portable") << f32;
  EXPECT_TRUE(bf16 == "avx512" || bf16 == "avx512-bf16" || bf16 == "amx-bf16" ||
              bf16 == "avx2" || bf16 == "portable")
      << bf16;
  // The best family is chosen, and a family the CPU lacks is refused.
  std::vector<CpuIsa> isas = supportedCpuIsas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(cpuIsa(), isas.front());
  EXPECT_EQ(isas.back(), CpuIsa::Portable);
  for (CpuIsa isa : kCpuIsas)
    if (std::find(isas.begin(), isas.end(), isa) == isas.end())
      EXPECT_FALSE(setCpuIsa(isa)) << cpuIsaName(isa);
  EXPECT_EQ(cpuIsa(), isas.front());
}

TEST(MatmulTest, FindsFamiliesByName) {
  std::vector<CpuIsa> isas = supportedCpuIsas();
  std::string error;
  EXPECT_EQ(findCpuIsa("auto", error), isas.front());
  for (CpuIsa isa : kCpuIsas) {
    error.clear();
    std::optional<CpuIsa> found = findCpuIsa(cpuIsaName(isa), error);
    if (std::find(isas.begin(), isas.end(), isa) != isas.end()) {
      EXPECT_EQ(found, isa) << cpuIsaName(isa);
      EXPECT_TRUE(error.empty()) << error;
    } else {
      EXPECT_FALSE(found) << cpuIsaName(isa);
      EXPECT_EQ(error.find(std::string("this CPU does not run the ") +
                           cpuIsaName(isa) + " kernels (it runs "),
                0u)
          << error;
    }
  }
  for (const char *bad : {"", "AVX512", "amx", "avx512 "}) {
    error.clear();
    EXPECT_FALSE(findCpuIsa(bad, error)) << bad;
    EXPECT_EQ(error, "unknown CPU kernel family '" + std::string(bad) +
                         "' (expected auto, amx-bf16, avx512-bf16, avx512, "
                         "avx2, portable)");
  }
  // Finding selects nothing.
  EXPECT_EQ(cpuIsa(), isas.front());
}

} // namespace

namespace {
/// fovea_pack_copy against index arithmetic, for the views the packing of
/// linear weights passes (f32 [N, K] rows, bf16 pairs, [K, N] columns) and
/// odd ones (a contiguous source, size-1 dimensions, one task), on 1 and 3
/// threads.
struct PackCase {
  int64_t bytes;
  std::array<int64_t, 4> size, stride;
};

class PackCopyTest : public ::testing::TestWithParam<PackCase> {};

TEST_P(PackCopyTest, CopiesEveryElementOfTheView) {
  PackCase c = GetParam();
  int64_t span = 1, count = 1;
  for (int i = 0; i < 4; ++i) {
    span += (c.size[i] - 1) * c.stride[i];
    count *= c.size[i];
  }
  std::vector<uint8_t> src(span * c.bytes);
  for (size_t i = 0; i < src.size(); ++i)
    src[i] = static_cast<uint8_t>(i * 37 + i / 251);
  std::vector<uint8_t> expected(count * c.bytes);
  int64_t at = 0;
  for (int64_t i0 = 0; i0 < c.size[0]; ++i0)
    for (int64_t i1 = 0; i1 < c.size[1]; ++i1)
      for (int64_t i2 = 0; i2 < c.size[2]; ++i2)
        for (int64_t i3 = 0; i3 < c.size[3]; ++i3, ++at)
          std::memcpy(&expected[at * c.bytes],
                      &src[(i0 * c.stride[0] + i1 * c.stride[1] +
                            i2 * c.stride[2] + i3 * c.stride[3]) *
                           c.bytes],
                      c.bytes);
  for (int threads : {1, 3}) {
    setNumThreads(threads);
    std::vector<uint8_t> dst(count * c.bytes, 0xAB);
    fovea_pack_copy(src.data(), dst.data(), c.bytes, c.size[0], c.size[1],
                    c.size[2], c.size[3], c.stride[0], c.stride[1], c.stride[2],
                    c.stride[3]);
    EXPECT_EQ(dst, expected) << threads << " threads";
  }
  setNumThreads(0);
}

INSTANTIATE_TEST_SUITE_P(
    Views, PackCopyTest,
    ::testing::Values(
        // f32 [N = 96, K = 40] rows -> [3, 40, 32, 1] panels (row stride 44).
        PackCase{4, {3, 40, 32, 1}, {32 * 44, 1, 44, 0}},
        // bf16 [N = 64, K = 10] rows -> [2, 5, 32, 2].
        PackCase{2, {2, 5, 32, 2}, {32 * 10, 2, 10, 1}},
        // f32 [K = 7, N = 64] columns -> [2, 7, 32, 1]: whole 32-runs.
        PackCase{4, {2, 7, 32, 1}, {32, 64, 1, 0}},
        // bf16 [K = 6, N = 32] columns -> [1, 3, 32, 2].
        PackCase{2, {1, 3, 32, 2}, {32, 64, 1, 32}},
        // A contiguous source: one copy.
        PackCase{4, {2, 3, 4, 5}, {60, 20, 5, 1}},
        // Size-1 dimensions and 8-byte elements.
        PackCase{8, {1, 1, 9, 1}, {0, 0, 3, 0}}),
    [](const ::testing::TestParamInfo<PackCase> &info) {
      return "View" + std::to_string(info.index);
    });
} // namespace
