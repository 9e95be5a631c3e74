//===- Import.h - Building vision IR from a model config --------*- C++ -*-===//
//
// Builds the whole vision pipeline of a model as a `vision`-dialect function
// on tensors: pixels and named weights in, LLM-space embeddings out.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_DRIVER_IMPORT_H
#define FOVEA_DRIVER_IMPORT_H

#include "fovea/Driver/ModelConfig.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"
#include <utility>
#include <vector>

namespace fovea {

enum class InputKind { Image, Video };
enum class ElementType { F32, BF16 };
/// The numeric domain of the in-graph resize (spec §1.3).
enum class ResizeDomain { U8, F32Clamp };

struct ImportOptions {
  InputKind inputKind = InputKind::Image;
  /// Compiled resolution; 0 means the config's tile size.
  int64_t height = 0, width = 0;
  ElementType elementType = ElementType::BF16;
  /// EVS pruning rate for video (0 = off).
  double evsRate = 0.0;
  /// Video: the most frames one run accepts (checked by the runtime).
  int64_t maxFrames = 128;
  /// Size of the decoded media the module takes (0: the compiled
  /// resolution, no resize). With a source size the graph resizes it: video
  /// frames to the frame size of §1.4, images to InternVL tiles (§10.2) or
  /// the dynamic-resolution size (§10.1), or to `height x width` when given.
  int64_t sourceHeight = 0, sourceWidth = 0;
  ResizeDomain resizeDomain = ResizeDomain::U8;
  /// Several images of different sizes in one packed sequence (dynamic
  /// resolution, §3.5, §10.1): the source size of each, in input order.
  /// Empty: the single-size module above.
  std::vector<std::pair<int64_t, int64_t>> packedSources;
  /// The per-image budgets of a packed module (§10.1 `compute_params`): the
  /// context length and the prompt's text tokens. 0: no context limit (each
  /// image gets `max_num_patches`).
  int64_t maxModelLen = 0, promptTokens = 0;
};

/// One image of a packed module: its source size and what the encoder sees.
struct PackedImage {
  int64_t sourceHeight, sourceWidth, height, width;
};

/// Where the pixels of one compilation come from and what the encoder sees.
struct InputGeometry {
  /// What the encoder sees per image/tile/frame.
  int64_t height, width;
  /// The module's input per image/frame (== height x width without resize).
  int64_t sourceHeight, sourceWidth;
  /// InternVL tile grid (columns x rows; 0 x 0 without tiling) and whether
  /// a thumbnail follows the tiles.
  int64_t tileColumns = 0, tileRows = 0;
  bool thumbnail = false;
  bool video;
  int64_t temporal;
  /// A packed module's images (empty otherwise; `height x width` is then the
  /// first image's).
  std::vector<PackedImage> packed;
  /// Encoder rows per input image (tiles + thumbnail), 1 for video frames.
  int64_t unitsPerImage() const {
    return tileColumns * tileRows ? tileColumns * tileRows + (thumbnail ? 1 : 0)
                                  : 1;
  }
  bool resizes() const {
    for (const PackedImage &image : packed)
      if (image.sourceHeight != image.height ||
          image.sourceWidth != image.width)
        return true;
    return sourceHeight != height || sourceWidth != width || tileColumns;
  }
};
/// The geometry of a compilation. When the budgets of packed images do not
/// converge (the reference raises) their sizes are 0 x 0, which
/// `importModel` reports.
InputGeometry inputGeometry(const ModelConfig &config,
                            const ImportOptions &options);

/// Builds `func.func @run` in a new module. Image: pixels
/// `[N, 3, H, W] x ui8` -> embeddings `[N, tokens, llm]`; packed: one
/// `[1, 3, H_i, W_i] x ui8` argument per image -> `[sum tokens_i, llm]`,
/// each image's tokens in order. Video: frames
/// `[F, 3, H, W] x ui8` (F dynamic) -> `[ceil(F/T), tokens, llm]`, or with
/// EVS the kept embeddings `[keep, llm]` and per-tubelet counts `[nt] x i64`.
/// Weights follow the pixels as arguments named by `vision.weight`.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importModel(mlir::MLIRContext &context, const ModelConfig &config,
            const ImportOptions &options);

} // namespace fovea

#endif // FOVEA_DRIVER_IMPORT_H
