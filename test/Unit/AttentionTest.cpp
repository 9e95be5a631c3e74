//===- AttentionTest.cpp - Tests of the CPU multi-head attention ----------===//
//
// fovea_attention_* against a double-precision softmax(q k^T * scale) v on
// strided views of a fused qkv buffer, with token counts that are not
// multiples of the panel width, of the query block (64) or of the key block
// (256: the online softmax over several key blocks), odd head dimensions
// and ViT-H's 80, on every kernel family the CPU runs; and the same bits for
// 1 and 3 threads.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Attention.h"
#include "fovea/Runtime/Tensor.h"
#include "fovea/Runtime/ThreadPool.h"

#include "CpuIsaScope.h"

#include "gtest/gtest.h"
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

using namespace fovea::rt;
using namespace fovea::test;

namespace {

struct Case {
  int64_t batch, tokens, heads, headDim;
  int64_t width() const { return heads * headDim; }
  double scale() const { return 1.0 / std::sqrt(double(headDim)); }
};

/// qkv as [B, L, 3W]; q, k, v are its three column slices.
std::vector<float> fusedQkv(const Case &c) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<float> qkv(c.batch * c.tokens * 3 * c.width());
  for (float &x : qkv)
    x = bf16ToFloat(floatToBf16(dist(rng)));
  return qkv;
}

std::vector<double> reference(const Case &c, const std::vector<float> &qkv) {
  int64_t w = c.width(), row = 3 * w;
  std::vector<double> out(c.batch * c.tokens * w);
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t h = 0; h < c.heads; ++h)
      for (int64_t i = 0; i < c.tokens; ++i) {
        std::vector<double> s(c.tokens);
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j < c.tokens; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < c.headDim; ++d)
            dot += double(qkv[(b * c.tokens + i) * row + h * c.headDim + d]) *
                   qkv[(b * c.tokens + j) * row + w + h * c.headDim + d];
          s[j] = dot * c.scale();
          mx = std::max(mx, s[j]);
        }
        for (double &x : s)
          sum += (x = std::exp(x - mx));
        for (int64_t d = 0; d < c.headDim; ++d) {
          double acc = 0;
          for (int64_t j = 0; j < c.tokens; ++j)
            acc += s[j] *
                   qkv[(b * c.tokens + j) * row + 2 * w + h * c.headDim + d];
          out[(b * c.tokens + i) * w + h * c.headDim + d] = acc / sum;
        }
      }
  return out;
}

class AttentionTest
    : public ::testing::TestWithParam<std::tuple<Case, CpuIsa>> {
protected:
  void SetUp() override {
    isa = std::make_unique<CpuIsaScope>(std::get<1>(GetParam()));
    if (!isa->supported)
      GTEST_SKIP() << "this CPU has no " << cpuIsaName(std::get<1>(GetParam()))
                   << " kernels";
  }

  std::unique_ptr<CpuIsaScope> isa;
};

TEST_P(AttentionTest, F32MatchesReferenceOnStridedViews) {
  Case c = std::get<0>(GetParam());
  std::vector<float> qkv = fusedQkv(c);
  std::vector<double> expected = reference(c, qkv);
  int64_t w = c.width(), row = 3 * w;
  int64_t strides[9] = {c.tokens * row, row, 1, c.tokens * row, row, 1,
                        c.tokens * row, row, 1};
  std::vector<float> out(c.batch * c.tokens * w);
  std::vector<float> first;
  for (int threads : {1, 3}) {
    setNumThreads(threads);
    fovea_attention_f32(qkv.data(), qkv.data() + w, qkv.data() + 2 * w,
                        out.data(), c.batch, c.tokens, c.heads, c.headDim,
                        strides, c.scale());
    for (size_t i = 0; i < out.size(); ++i)
      ASSERT_NEAR(out[i], expected[i], 1e-5 * (1 + std::fabs(expected[i])))
          << "element " << i;
    if (first.empty())
      first = out;
    else
      EXPECT_EQ(first, out) << threads << " threads";
  }
  setNumThreads(0);
}

TEST_P(AttentionTest, Bf16MatchesReferenceToBf16Rounding) {
  Case c = std::get<0>(GetParam());
  std::vector<float> qkv = fusedQkv(c);
  std::vector<double> expected = reference(c, qkv);
  int64_t w = c.width(), row = 3 * w;
  // A transposed element stride for v: [B, 3W, L] storage read as [B, L, W].
  std::vector<uint16_t> q(qkv.size()), vT(c.batch * w * c.tokens);
  for (size_t i = 0; i < qkv.size(); ++i)
    q[i] = floatToBf16(qkv[i]);
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t t = 0; t < c.tokens; ++t)
      for (int64_t e = 0; e < w; ++e)
        vT[(b * w + e) * c.tokens + t] =
            q[(b * c.tokens + t) * row + 2 * w + e];
  int64_t strides[9] = {c.tokens * row, row, 1,       c.tokens * row, row, 1,
                        w * c.tokens,   1,   c.tokens};
  std::vector<uint16_t> out(c.batch * c.tokens * w);
  fovea_attention_bf16(q.data(), q.data() + w, vT.data(), out.data(), c.batch,
                       c.tokens, c.heads, c.headDim, strides, c.scale());
  for (size_t i = 0; i < out.size(); ++i)
    ASSERT_NEAR(bf16ToFloat(out[i]), expected[i],
                1e-2 * (1 + std::fabs(expected[i])))
        << "element " << i;
}

// The bf16 kernel rounds the probabilities to bf16 before P V (as flash
// attention does): one query, keys 0 and -1 and scale -ln(x) give P = [1, x]
// with x = 0.75 + a quarter of bf16's ulp there, far from a rounding
// boundary, so bf16(x) = 0.75 exactly; v = [-0.75, 1] then sums to exactly 0
// (products exact, f32 sums), where f32 probabilities give (x - 0.75) /
// (1 + x), about 5.6e-4, as a bf16 about 2^-11.
TEST_P(AttentionTest, Bf16RoundsProbabilitiesBeforeTheWeightedSum) {
  const double x = 0.75 + 0.25 * 0x1p-8;
  // [2 tokens, q k v] with one head of dimension 1; token 1's query is 0.
  std::vector<uint16_t> qkv = {floatToBf16(1.0f),   floatToBf16(0.0f),
                               floatToBf16(-0.75f), floatToBf16(0.0f),
                               floatToBf16(-1.0f),  floatToBf16(1.0f)};
  int64_t strides[9] = {6, 3, 1, 6, 3, 1, 6, 3, 1};
  std::vector<uint16_t> out(2);
  fovea_attention_bf16(qkv.data(), qkv.data() + 1, qkv.data() + 2, out.data(),
                       1, 2, 1, 1, strides, -std::log(x));
  EXPECT_EQ(bf16ToFloat(out[0]), 0.0f);
  EXPECT_EQ(bf16ToFloat(out[1]), 0.125f); // (-0.75 + 1) / 2
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionTest,
    ::testing::Combine(::testing::Values(Case{2, 37, 3, 13},
                                         Case{1, 300, 2, 13},
                                         Case{1, 600, 2, 80}),
                       ::testing::ValuesIn(kCpuIsas)),
    [](const ::testing::TestParamInfo<std::tuple<Case, CpuIsa>> &info) {
      const Case &c = std::get<0>(info.param);
      return "L" + std::to_string(c.tokens) + "D" + std::to_string(c.headDim) +
             "_" + cpuIsaTestName(std::get<1>(info.param));
    });

} // namespace
