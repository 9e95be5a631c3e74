//===- TokenGeometry.h - Token counts of compiler and runtime --*- C++ -*-===//
//
// Integer token arithmetic that both the compiler (result shapes) and the
// runtime (predictions for the serving side) use, so the two agree by
// construction. No MLIR dependency.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_SUPPORT_TOKENGEOMETRY_H
#define FOVEA_SUPPORT_TOKENGEOMETRY_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fovea {

/// Number of tokens EVS keeps for a video of `numTubelets` tubelets of
/// `tokensPerTubelet` tokens at pruning rate `rate` (reference semantics
/// §9.1): `max(tokensPerTubelet, trunc(double(total) * (1.0 - rate)))`,
/// evaluated in double precision exactly as the reference does (so, e.g.,
/// rate 0.7 uses 1 - 0.7 = 0.30000000000000004). Returns std::nullopt when an
/// argument is out of range (non-positive counts, `rate` outside [0, 1)) or
/// the total overflows.
std::optional<int64_t> evsRetainedTokenCount(int64_t tokensPerTubelet,
                                             int64_t numTubelets, double rate);

/// The pixel shuffle merges `kPixelShuffle x kPixelShuffle` patches into one
/// token (§7).
inline constexpr int64_t kPixelShuffle = 2;

/// Tokens of `patches` patches (an even grid) after the pixel shuffle.
inline int64_t tokensOfPatches(int64_t patches) {
  return patches / (kPixelShuffle * kPixelShuffle);
}

/// Tokens of an H x W tile, frame or tubelet after the 2x2 pixel shuffle:
/// `(H / P / 2) * (W / P / 2)` (§7).
int64_t tokensPerUnit(int64_t height, int64_t width, int64_t patchSize = 16);

struct Size {
  int64_t width, height;
  bool operator==(const Size &o) const {
    return width == o.width && height == o.height;
  }
};

/// Frame size of video input (§1.4): aspect-preserving for
/// `maintainAspectRatio` (rounded patch counts, both even, the largest that
/// stays within `targetPatches`), else square with
/// `side = max(2, (int(sqrt(target)) / 2) * 2)` patches. Sizes in pixels.
Size videoFrameSize(int64_t width, int64_t height, int64_t targetPatches,
                    bool maintainAspectRatio, int64_t patchSize = 16);

/// InternVL tiling of one image (§10.2): the tile grid (columns, rows) from
/// the candidates with `columns * rows <= maxTiles` in the reference's fixed
/// order, and the number of tiles including the thumbnail.
struct TileGrid {
  int64_t columns, rows, tiles;
};
TileGrid internvlTiling(int64_t width, int64_t height, int64_t maxTiles = 12,
                        bool useThumbnail = true, int64_t tileSize = 512);

/// Dynamic-resolution patch grid of one image for a patch `budget` (§10.1):
/// rows x columns of patches, both even; tokens = rows * columns / 4.
struct PatchGrid {
  int64_t rows, columns;
};
PatchGrid dynamicResolutionGrid(int64_t width, int64_t height, int64_t budget,
                                int64_t minPatches, int64_t patchSize = 16);

/// Per-image patch budgets of a request of several images (§10.1,
/// `compute_params`): `available = maxModelLen - textPromptLen - 4` tokens,
/// `n = max(4 * available, minPatches * k)` patches, every image starting at
/// `clamp(n, minPatches, maxPatches)` (`maxPatches <= 0`: no cap); while the
/// grids exceed `n`, budgets shrink by `n / sum` (at most 10 rounds). Sizes
/// are (width, height) pixels. Returns nullopt when the budgets do not
/// converge (the reference raises) or an argument is out of range.
std::optional<std::vector<int64_t>>
dynamicResolutionBudgets(const std::vector<Size> &images, int64_t maxModelLen,
                         int64_t textPromptLen, int64_t minPatches,
                         int64_t maxPatches, int64_t patchSize = 16);

/// The frames a video decoder samples (vLLM's recipe): of `totalFrames` at
/// `sourceFps`, `n = min(totalFrames, maxFrames, floor(duration * fps))`
/// frames (a limit <= 0 is no limit; at least 1), all of them when
/// `n == totalFrames`, else `linspace(0, totalFrames - 1, n)` truncated to
/// integers. Empty when `totalFrames <= 0`.
std::vector<int64_t> sampleFrameIndices(int64_t totalFrames, double sourceFps,
                                        double fps, int64_t maxFrames);

/// `int(1000 / fps)`: the integer frame duration in ms the prompt's
/// timestamps use (§11.1); 0 when `fps <= 0`.
int64_t frameDurationMs(double fps);

/// The prompt text of an image: `<img>` + `<image>` x tokens + `</img>`.
std::string imagePrompt(int64_t tokens);

/// The prompt text of a video (§11): one `<img>…</img>` block per tubelet
/// with `tokensPerTubelet[g]` placeholders (after EVS, the kept counts),
/// preceded by frame separators with timestamps
/// (`int(frameIndices[k]) * int(1000 / fps) / 1000` seconds, two decimals):
/// for T > 1 "Frame a sampled at x seconds and frame b sampled at y
/// seconds: ", for T = 1 "Frame a sampled at x seconds: "; every block after
/// the first starts on a new line (current vLLM). Returns nullopt when the
/// tubelet count does not match `ceil(frames / T)`.
std::optional<std::string>
videoPrompt(const std::vector<int64_t> &frameIndices, double fps,
            int64_t temporalPatchSize,
            const std::vector<int64_t> &tokensPerTubelet);

} // namespace fovea

#endif // FOVEA_SUPPORT_TOKENGEOMETRY_H
