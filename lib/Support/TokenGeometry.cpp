//===- TokenGeometry.cpp - Token counts shared by compiler and runtime ----===//
//
// Implements the integer token arithmetic declared in TokenGeometry.h.
//
//===----------------------------------------------------------------------===//

#include "fovea/Support/TokenGeometry.h"

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <cstdio>
#include <limits>

std::optional<int64_t> fovea::evsRetainedTokenCount(int64_t tokensPerTubelet,
                                                    int64_t numTubelets,
                                                    double rate) {
  if (tokensPerTubelet <= 0 || numTubelets <= 0)
    return std::nullopt;
  // `!(rate >= 0)` also rejects NaN.
  if (!(rate >= 0.0) || !(rate < 1.0))
    return std::nullopt;
  if (tokensPerTubelet > std::numeric_limits<int64_t>::max() / numTubelets)
    return std::nullopt;
  int64_t total = tokensPerTubelet * numTubelets;
  // The reference multiplies a Python int by a float: the int is converted to
  // double (exact below 2^53), multiplied, and int() truncates toward zero.
  double scaled = static_cast<double>(total) * (1.0 - rate);
  auto kept = static_cast<int64_t>(std::trunc(scaled));
  return std::max(tokensPerTubelet, std::min(kept, total));
}

int64_t fovea::tokensPerUnit(int64_t height, int64_t width, int64_t patchSize) {
  return (height / patchSize / kPixelShuffle) *
         (width / patchSize / kPixelShuffle);
}

/// Python's round(): to nearest, ties to even.
static int64_t pythonRound(double x) {
  return static_cast<int64_t>(std::nearbyint(x));
}

fovea::Size fovea::videoFrameSize(int64_t width, int64_t height,
                                  int64_t targetPatches,
                                  bool maintainAspectRatio, int64_t patchSize) {
  constexpr int64_t d = 2; // round(1 / downsample_ratio)
  if (!maintainAspectRatio) {
    int64_t side =
        static_cast<int64_t>(std::sqrt(static_cast<double>(targetPatches)));
    side = std::max(d, (side / d) * d);
    return {side * patchSize, side * patchSize};
  }
  double aspect = static_cast<double>(width) /
                  static_cast<double>(std::max<int64_t>(height, 1));
  double target = static_cast<double>(targetPatches);
  int64_t ph = std::max<int64_t>(pythonRound(std::sqrt(target / aspect)), 1);
  int64_t pw = std::max<int64_t>(pythonRound(std::sqrt(target * aspect)), 1);
  int64_t phUp = ph + (ph % d ? d - ph % d : 0), phDown = ph - ph % d;
  int64_t pwUp = pw + (pw % d ? d - pw % d : 0), pwDown = pw - pw % d;
  if (phUp * pwUp <= targetPatches) {
    ph = phUp;
    pw = pwUp;
  } else {
    ph = std::max(d, phDown);
    pw = std::max(d, pwDown);
  }
  return {pw * patchSize, ph * patchSize};
}

fovea::TileGrid fovea::internvlTiling(int64_t width, int64_t height,
                                      int64_t maxTiles, bool useThumbnail,
                                      int64_t tileSize) {
  // The reference builds the candidates as a Python set sorted by product;
  // the order among equal products is CPython's set order for max 12,
  // which decides ties (§10.2).
  static const int64_t order[][2] = {
      {1, 1},  {1, 2},  {2, 1}, {3, 1}, {1, 3},  {2, 2},  {4, 1},
      {1, 4},  {5, 1},  {1, 5}, {1, 6}, {6, 1},  {3, 2},  {2, 3},
      {7, 1},  {1, 7},  {4, 2}, {2, 4}, {1, 8},  {8, 1},  {1, 9},
      {3, 3},  {9, 1},  {2, 5}, {5, 2}, {10, 1}, {1, 10}, {11, 1},
      {1, 11}, {12, 1}, {3, 4}, {4, 3}, {1, 12}, {6, 2},  {2, 6}};
  double aspect = static_cast<double>(width) / static_cast<double>(height);
  double best = std::numeric_limits<double>::infinity();
  int64_t columns = 1, rows = 1;
  double area = static_cast<double>(width) * static_cast<double>(height);
  for (const auto &candidate : order) {
    int64_t i = candidate[0], j = candidate[1];
    if (i * j > maxTiles)
      continue;
    double diff = std::fabs(aspect - static_cast<double>(i) / j);
    if (diff < best) {
      best = diff;
      columns = i;
      rows = j;
    } else if (diff == best &&
               area > 0.5 * tileSize * tileSize * static_cast<double>(i * j)) {
      columns = i;
      rows = j;
    }
  }
  int64_t tiles = columns * rows;
  if (useThumbnail && tiles != 1)
    ++tiles;
  return {columns, rows, tiles};
}

fovea::PatchGrid fovea::dynamicResolutionGrid(int64_t width, int64_t height,
                                              int64_t budget,
                                              int64_t minPatches,
                                              int64_t patchSize) {
  double p = static_cast<double>(patchSize);
  int64_t ch = pythonRound(static_cast<double>(height) / p + 0.5);
  int64_t cw = pythonRound(static_cast<double>(width) / p + 0.5);
  double f = std::min(
      std::sqrt(static_cast<double>(budget) / static_cast<double>(ch * cw)),
      1.0);
  auto th = static_cast<int64_t>(std::floor(f * static_cast<double>(ch)));
  auto tw = static_cast<int64_t>(std::floor(f * static_cast<double>(cw)));
  if (budget > minPatches && th * tw < minPatches) {
    double u = std::sqrt(static_cast<double>(minPatches) /
                         static_cast<double>(th * tw));
    th = static_cast<int64_t>(std::ceil(u * static_cast<double>(th)));
    tw = static_cast<int64_t>(std::ceil(u * static_cast<double>(tw)));
  }
  if (th % 2)
    th = (th + 1) * tw <= budget ? th + 1 : std::max<int64_t>(2, th - 1);
  if (tw % 2)
    tw = th * (tw + 1) <= budget ? tw + 1 : std::max<int64_t>(2, tw - 1);
  return {th, tw};
}

std::optional<std::vector<int64_t>> fovea::dynamicResolutionBudgets(
    const std::vector<Size> &images, int64_t maxModelLen, int64_t textPromptLen,
    int64_t minPatches, int64_t maxPatches, int64_t patchSize) {
  auto k = static_cast<int64_t>(images.size());
  if (k == 0 || minPatches <= 0 || patchSize <= 0)
    return std::nullopt;
  for (const Size &s : images)
    if (s.width <= 0 || s.height <= 0)
      return std::nullopt;
  int64_t available = maxModelLen - textPromptLen - 4;
  int64_t n = std::max(available * 4, minPatches * k);
  int64_t start = std::max(n, minPatches);
  if (maxPatches > 0)
    start = std::min(start, maxPatches);
  std::vector<int64_t> budgets(images.size(), start);
  for (int round = 0; round < 10; ++round) {
    std::vector<int64_t> counts;
    int64_t sum = 0;
    for (size_t i = 0; i < images.size(); ++i) {
      PatchGrid g = dynamicResolutionGrid(images[i].width, images[i].height,
                                          budgets[i], minPatches, patchSize);
      counts.push_back(g.rows * g.columns);
      sum += counts.back();
    }
    if (sum <= n)
      return budgets;
    double scale = static_cast<double>(n) / static_cast<double>(sum);
    std::vector<int64_t> next;
    bool smaller = false;
    for (size_t i = 0; i < images.size(); ++i) {
      next.push_back(std::max(
          minPatches,
          static_cast<int64_t>(static_cast<double>(counts[i]) * scale)));
      smaller |= next.back() < budgets[i];
    }
    budgets = smaller ? next : std::vector<int64_t>(images.size(), minPatches);
  }
  return std::nullopt;
}

std::vector<int64_t> fovea::sampleFrameIndices(int64_t totalFrames,
                                               double sourceFps, double fps,
                                               int64_t maxFrames) {
  if (totalFrames <= 0)
    return {};
  int64_t n = totalFrames;
  if (maxFrames > 0)
    n = std::min(n, maxFrames);
  if (fps > 0) {
    double duration =
        sourceFps > 0 ? static_cast<double>(totalFrames) / sourceFps : 0.0;
    n = std::min(n, static_cast<int64_t>(std::floor(duration * fps)));
  }
  n = std::max<int64_t>(n, 1);
  std::vector<int64_t> indices(static_cast<size_t>(n));
  if (n == totalFrames) {
    for (int64_t i = 0; i < n; ++i)
      indices[i] = i;
    return indices;
  }
  // numpy.linspace(0, total - 1, n, dtype=int): i * step in double, the
  // last sample exactly the stop, truncated toward zero.
  double step =
      n > 1 ? static_cast<double>(totalFrames - 1) / static_cast<double>(n - 1)
            : 0.0;
  for (int64_t i = 0; i < n; ++i)
    indices[i] = static_cast<int64_t>(static_cast<double>(i) * step);
  if (n > 1)
    indices[n - 1] = totalFrames - 1;
  return indices;
}

int64_t fovea::frameDurationMs(double fps) {
  return fps > 0 ? static_cast<int64_t>(1000.0 / fps) : 0;
}

std::string fovea::imagePrompt(int64_t tokens) {
  std::string text = "<img>";
  for (int64_t i = 0; i < tokens; ++i)
    text += "<image>";
  return text + "</img>";
}

std::optional<std::string>
fovea::videoPrompt(const std::vector<int64_t> &frameIndices, double fps,
                   int64_t temporalPatchSize,
                   const std::vector<int64_t> &tokensPerTubelet) {
  int64_t frames = static_cast<int64_t>(frameIndices.size());
  int64_t t = std::max<int64_t>(temporalPatchSize, 1);
  int64_t groups = (frames + t - 1) / t;
  if (groups != static_cast<int64_t>(tokensPerTubelet.size()))
    return std::nullopt;
  if (fps <= 0) {
    // No timing metadata: "Frame g: " per tubelet (vLLM's fallback).
    std::string text;
    for (int64_t g = 0; g < groups; ++g)
      text += (g > 0 ? "\nFrame " : "Frame ") + std::to_string(g + 1) + ": " +
              imagePrompt(tokensPerTubelet[g]);
    return text;
  }
  // Integer milliseconds per frame, to avoid fps drift.
  auto durationMs = static_cast<int64_t>(1000.0 / fps);
  auto stamp = [&](int64_t k) {
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "%.2f",
                  static_cast<double>(frameIndices[k] * durationMs) / 1000.0);
    return std::string(buffer);
  };
  std::string text;
  for (int64_t g = 0; g < groups; ++g) {
    if (g > 0)
      text += "\n";
    for (int64_t k = g * t; k < std::min(frames, (g + 1) * t); ++k) {
      if (k > g * t)
        text += " and ";
      text += (k == g * t ? "Frame " : "frame ") + std::to_string(k + 1) +
              " sampled at " + stamp(k) + " seconds";
    }
    text += ": " + imagePrompt(tokensPerTubelet[g]);
  }
  return text;
}
