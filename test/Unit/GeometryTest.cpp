//===- GeometryTest.cpp - Tests of the token geometry ---------------------===//
//
// The worked values of the reference semantics (§1.4, §10.1, §10.2, §11)
// and values computed with the reference's Python expressions.
//
//===----------------------------------------------------------------------===//

#include "fovea/Support/TokenGeometry.h"

#include "gtest/gtest.h"
#include <ostream>

using namespace fovea;

namespace {

/// A test name for a width x height case (gtest prints parameters as bytes
/// otherwise).
std::string sizeName(int64_t width, int64_t height) {
  return "W" + std::to_string(width) + "xH" + std::to_string(height);
}

struct FrameCase {
  int64_t width, height;
  Size expected;
  int64_t tokens;
};

void PrintTo(const FrameCase &c, std::ostream *os) {
  *os << c.width << "x" << c.height << " -> " << c.expected.width << "x"
      << c.expected.height << ", " << c.tokens << " tokens";
}

class VideoFrameSizeTest : public ::testing::TestWithParam<FrameCase> {};

// §1.4 worked values, target 1024 patches, aspect preserved.
TEST_P(VideoFrameSizeTest, AspectPreserving) {
  const FrameCase &c = GetParam();
  Size size = videoFrameSize(c.width, c.height, 1024, true);
  EXPECT_EQ(size.width, c.expected.width);
  EXPECT_EQ(size.height, c.expected.height);
  EXPECT_EQ(tokensPerUnit(size.height, size.width), c.tokens);
}

INSTANTIATE_TEST_SUITE_P(
    Spec, VideoFrameSizeTest,
    ::testing::Values(FrameCase{1920, 1080, {672, 384}, 252},
                      FrameCase{1280, 720, {672, 384}, 252},
                      FrameCase{640, 480, {576, 448}, 252},
                      FrameCase{1080, 1920, {384, 672}, 252},
                      FrameCase{512, 512, {512, 512}, 256},
                      FrameCase{3840, 1080, {960, 256}, 240}),
    [](const ::testing::TestParamInfo<FrameCase> &info) {
      return sizeName(info.param.width, info.param.height);
    });

TEST(VideoFrameSize, Square) {
  EXPECT_EQ(videoFrameSize(1920, 1080, 1024, false), (Size{512, 512}));
  // int(sqrt(1000)) = 31 -> 30 patches.
  EXPECT_EQ(videoFrameSize(640, 480, 1000, false), (Size{480, 480}));
}

struct GridCase {
  int64_t width, height, budget, minPatches, rows, columns;
};

void PrintTo(const GridCase &c, std::ostream *os) {
  *os << c.width << "x" << c.height << ", budget " << c.budget << ", min "
      << c.minPatches << " -> " << c.rows << " x " << c.columns;
}

class DynamicResolutionTest : public ::testing::TestWithParam<GridCase> {};

TEST_P(DynamicResolutionTest, Spec) {
  const GridCase &c = GetParam();
  PatchGrid grid =
      dynamicResolutionGrid(c.width, c.height, c.budget, c.minPatches);
  EXPECT_EQ(grid.rows, c.rows);
  EXPECT_EQ(grid.columns, c.columns);
}

// §10.1 worked values with the Omni limits (min 1024, max 13312 patches);
// 200x200 with a budget of 169 is TRT-LLM's unit-test vector (14 columns,
// 12 rows).
INSTANTIATE_TEST_SUITE_P(
    Spec, DynamicResolutionTest,
    ::testing::Values(GridCase{1920, 1080, 13312, 1024, 68, 120},
                      GridCase{640, 480, 13312, 1024, 30, 40},
                      GridCase{4000, 3000, 13312, 1024, 100, 132},
                      GridCase{100, 60, 13312, 1024, 26, 44},
                      GridCase{200, 200, 169, 4, 12, 14}),
    [](const ::testing::TestParamInfo<GridCase> &info) {
      return sizeName(info.param.width, info.param.height) + "_budget" +
             std::to_string(info.param.budget);
    });

TEST(DynamicResolution, Tokens) {
  PatchGrid grid = dynamicResolutionGrid(1920, 1080, 13312, 1024);
  EXPECT_EQ(grid.rows * grid.columns / 4, 2040);
}

struct TileCase {
  int64_t width, height, columns, rows;
};

void PrintTo(const TileCase &c, std::ostream *os) {
  *os << c.width << "x" << c.height << " -> " << c.columns << " x " << c.rows;
}

class InternvlTilingTest : public ::testing::TestWithParam<TileCase> {};

// Values of the reference's Python (sorted set of candidates, max 12).
TEST_P(InternvlTilingTest, MatchesReference) {
  const TileCase &c = GetParam();
  TileGrid grid = internvlTiling(c.width, c.height);
  EXPECT_EQ(grid.columns, c.columns);
  EXPECT_EQ(grid.rows, c.rows);
  int64_t tiles = c.columns * c.rows;
  EXPECT_EQ(grid.tiles, tiles == 1 ? 1 : tiles + 1); // thumbnail
}

INSTANTIATE_TEST_SUITE_P(
    Reference, InternvlTilingTest,
    ::testing::Values(TileCase{1920, 1080, 4, 2}, TileCase{640, 480, 4, 3},
                      TileCase{512, 512, 1, 1}, TileCase{1000, 3000, 2, 6},
                      TileCase{2048, 512, 4, 1}, TileCase{800, 600, 4, 3},
                      TileCase{1250, 1000, 4, 3}, TileCase{300, 200, 3, 2},
                      TileCase{4000, 1000, 4, 1}),
    [](const ::testing::TestParamInfo<TileCase> &info) {
      return sizeName(info.param.width, info.param.height);
    });

TEST(InternvlTiling, NoThumbnailAndSmallerMaximum) {
  EXPECT_EQ(internvlTiling(1920, 1080, 12, false).tiles, 8);
  TileGrid one = internvlTiling(1920, 1080, 1);
  EXPECT_EQ(one.columns * one.rows, 1);
  EXPECT_EQ(one.tiles, 1);
}

TEST(Prompt, Image) { EXPECT_EQ(imagePrompt(2), "<img><image><image></img>"); }

TEST(Prompt, VideoTubelets) {
  // §11.2 example: T = 2, fps 2.
  std::optional<std::string> text = videoPrompt({0, 1, 2, 3}, 2.0, 2, {1, 2});
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "Frame 1 sampled at 0.00 seconds and frame 2 sampled at "
                   "0.50 seconds: <img><image></img>\n"
                   "Frame 3 sampled at 1.00 seconds and frame 4 sampled at "
                   "1.50 seconds: <img><image><image></img>");
}

TEST(Prompt, VideoOddFramesAndEvsCounts) {
  // 3 frames at T = 2: the last tubelet covers one frame; EVS kept 0 of
  // its tokens. fps 3: int(1000 / 3) = 333 ms per frame index.
  std::optional<std::string> text = videoPrompt({0, 3, 6}, 3.0, 2, {2, 0});
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "Frame 1 sampled at 0.00 seconds and frame 2 sampled at "
                   "1.00 seconds: <img><image><image></img>\n"
                   "Frame 3 sampled at 2.00 seconds: <img></img>");
}

TEST(Prompt, VideoSingleFrames) {
  std::optional<std::string> text = videoPrompt({0, 5}, 2.0, 1, {1, 1});
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "Frame 1 sampled at 0.00 seconds: <img><image></img>\n"
                   "Frame 2 sampled at 2.50 seconds: <img><image></img>");
  EXPECT_FALSE(videoPrompt({0, 1, 2}, 2.0, 2, {1}).has_value());
  // Without timing: "Frame g: " per tubelet.
  EXPECT_EQ(videoPrompt({0, 1, 2}, 0.0, 2, {1, 0}),
            "Frame 1: <img><image></img>\nFrame 2: <img></img>");
}

// Budgets of several images (§10.1 compute_params); expected values from the
// spec's pseudo-code run in CPython.
TEST(DynamicResolutionBudgets, OneImageHitsMaxPatches) {
  EXPECT_EQ(dynamicResolutionBudgets({{1920, 1080}}, 131072, 0, 1024, 13312),
            (std::vector<int64_t>{13312}));
}

TEST(DynamicResolutionBudgets, ShortContextShrinksEveryImage) {
  std::optional<std::vector<int64_t>> budgets = dynamicResolutionBudgets(
      std::vector<Size>(4, {1920, 1080}), 4096, 100, 1024, 13312);
  ASSERT_TRUE(budgets);
  EXPECT_EQ(*budgets, (std::vector<int64_t>(4, 3992)));
  PatchGrid grid = dynamicResolutionGrid(1920, 1080, 3992, 1024);
  EXPECT_EQ(grid.rows, 48);
  EXPECT_EQ(grid.columns, 82);
  EXPECT_EQ(dynamicResolutionBudgets(std::vector<Size>(3, {4000, 3000}), 2048,
                                     0, 1024, 13312),
            (std::vector<int64_t>(3, 2725)));
}

TEST(DynamicResolutionBudgets, MixedSizesWithinContext) {
  std::vector<Size> images = {{1920, 1080}, {640, 480}, {100, 60}};
  std::optional<std::vector<int64_t>> budgets =
      dynamicResolutionBudgets(images, 8192, 50, 1024, 13312);
  ASSERT_TRUE(budgets);
  EXPECT_EQ(*budgets, (std::vector<int64_t>(3, 13312)));
  PatchGrid small = dynamicResolutionGrid(100, 60, 13312, 1024);
  EXPECT_EQ(small.rows, 26);
  EXPECT_EQ(small.columns, 44);
}

TEST(DynamicResolutionBudgets, RejectsBadArguments) {
  EXPECT_FALSE(dynamicResolutionBudgets({}, 4096, 0, 1024, 13312));
  EXPECT_FALSE(dynamicResolutionBudgets({{0, 10}}, 4096, 0, 1024, 13312));
  EXPECT_FALSE(dynamicResolutionBudgets({{10, 10}}, 4096, 0, 0, 13312));
}

// Frame sampling of the video loader; expected values from numpy.linspace.
struct SampleCase {
  int64_t total;
  double sourceFps, fps;
  int64_t maxFrames;
  std::vector<int64_t> expected;
};

TEST(SampleFrameIndices, MatchesTheLoaderRecipe) {
  std::vector<SampleCase> cases = {
      {300, 30, 2, 128, {0,   15,  31,  47,  62,  78,  94,  110, 125, 141,
                         157, 173, 188, 204, 220, 236, 251, 267, 283, 299}},
      {10, 30, 2, 128, {0}},
      {7, 1, 2, 128, {0, 1, 2, 3, 4, 5, 6}},
      {97, 24, 2, 8, {0, 13, 27, 41, 54, 68, 82, 96}},
      {2, 30, 2, 128, {0}},
      {61, 29.97, 2, 128, {0, 20, 40, 60}},
      // No fps limit: every frame up to max.
      {5, 30, 0, 0, {0, 1, 2, 3, 4}},
  };
  for (const SampleCase &c : cases)
    EXPECT_EQ(sampleFrameIndices(c.total, c.sourceFps, c.fps, c.maxFrames),
              c.expected)
        << c.total << " frames at " << c.sourceFps;
  std::vector<int64_t> capped = sampleFrameIndices(1000, 25, 2, 128);
  ASSERT_EQ(capped.size(), 80u);
  EXPECT_EQ(capped[1], 12);
  EXPECT_EQ(capped[40], 505);
  EXPECT_EQ(capped.back(), 999);
  EXPECT_TRUE(sampleFrameIndices(0, 30, 2, 128).empty());
}

TEST(FrameDurationMs, TruncatesLikeTheReference) {
  EXPECT_EQ(frameDurationMs(2.0), 500);
  EXPECT_EQ(frameDurationMs(29.97), 33);
  EXPECT_EQ(frameDurationMs(3.0), 333);
  EXPECT_EQ(frameDurationMs(0.0), 0);
}

} // namespace
