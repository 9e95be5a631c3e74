//===- TokenGeometryTest.cpp - Tests of the shared token arithmetic -------===//
//
// Table-driven checks of the EVS retained-token count against values computed
// with the reference's Python expression.
//
//===----------------------------------------------------------------------===//

#include "fovea/Support/TokenGeometry.h"

#include <cmath>
#include <ostream>
#include <string>

#include "gtest/gtest.h"

namespace {

struct EvsCase {
  int64_t tokensPerTubelet;
  int64_t numTubelets;
  double rate;
  int64_t expected;
};

void PrintTo(const EvsCase &c, std::ostream *os) {
  *os << "{tpf " << c.tokensPerTubelet << ", nt " << c.numTubelets << ", q "
      << c.rate << " -> " << c.expected << "}";
}

class EvsRetainedTokenCountTest : public ::testing::TestWithParam<EvsCase> {};

TEST_P(EvsRetainedTokenCountTest, MatchesReference) {
  const EvsCase &c = GetParam();
  std::optional<int64_t> kept =
      fovea::evsRetainedTokenCount(c.tokensPerTubelet, c.numTubelets, c.rate);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(*kept, c.expected);
}

// Expected values are `max(tpf, int(tpf * nt * (1 - q)))` evaluated by
// CPython.
INSTANTIATE_TEST_SUITE_P(
    Reference, EvsRetainedTokenCountTest,
    ::testing::Values(
        // 16 frames of 512x512 at T=2, q = 0.75 (the Nano v2 VL recipe rate).
        EvsCase{256, 8, 0.75, 512},
        // Omni 1920x1080 tubelets at the serving rate 0.5.
        EvsCase{252, 5, 0.5, 630},
        // q = 0 keeps everything.
        EvsCase{252, 3, 0.0, 756},
        // 1 - 0.9 = 0.09999999999999998 in double: 100 * that truncates to
        // 9, where exact arithmetic would give 10.
        EvsCase{5, 20, 0.9, 9},
        // 1 - 0.7 = 0.30000000000000004: 1000 * that is just above 300.
        EvsCase{10, 100, 0.7, 300},
        // The first tubelet is always kept: floor at tokens per tubelet.
        EvsCase{252, 7, 0.9, 252},
        // A single tubelet is kept whole at any rate.
        EvsCase{256, 1, 0.99, 256}),
    [](const ::testing::TestParamInfo<EvsCase> &info) {
      const EvsCase &c = info.param;
      return "L" + std::to_string(c.tokensPerTubelet) + "_nt" +
             std::to_string(c.numTubelets) + "_q" +
             std::to_string(static_cast<int>(c.rate * 100 + 0.5));
    });

TEST(EvsRetainedTokenCount, RejectsOutOfRangeArguments) {
  EXPECT_FALSE(fovea::evsRetainedTokenCount(256, 8, 1.0).has_value());
  EXPECT_FALSE(fovea::evsRetainedTokenCount(256, 8, -0.1).has_value());
  EXPECT_FALSE(fovea::evsRetainedTokenCount(256, 8, std::nan("")).has_value());
  EXPECT_FALSE(fovea::evsRetainedTokenCount(0, 8, 0.5).has_value());
  EXPECT_FALSE(fovea::evsRetainedTokenCount(256, 0, 0.5).has_value());
  EXPECT_FALSE(
      fovea::evsRetainedTokenCount(int64_t{1} << 40, int64_t{1} << 40, 0.5)
          .has_value());
}

} // namespace
