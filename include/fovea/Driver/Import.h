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
  /// Encoder rows per input image (tiles + thumbnail), 1 for video frames.
  int64_t unitsPerImage() const {
    return tileColumns * tileRows ? tileColumns * tileRows + (thumbnail ? 1 : 0)
                                  : 1;
  }
  bool resizes() const {
    return sourceHeight != height || sourceWidth != width || tileColumns;
  }
};
InputGeometry inputGeometry(const ModelConfig &config,
                            const ImportOptions &options);

/// A weight the pipeline reads: its checkpoint name and shape.
struct WeightInfo {
  std::string name;
  std::vector<int64_t> shape;
};

/// Every weight the pipeline reads, in argument order.
std::vector<WeightInfo> weightInfos(const ModelConfig &config,
                                    const ImportOptions &options);

/// The result of `@run`: its name, shape (-1 dynamic) and whether it is the
/// i64 per-tubelet counts of EVS.
struct ResultInfo {
  std::string name;
  std::vector<int64_t> shape;
  bool counts;
};
std::vector<ResultInfo> resultInfos(const ModelConfig &config,
                                    const ImportOptions &options);

/// Builds `func.func @run` in a new module. Image: pixels
/// `[N, 3, H, W] x ui8` -> embeddings `[N, tokens, llm]`. Video: frames
/// `[F, 3, H, W] x ui8` (F dynamic) -> `[ceil(F/T), tokens, llm]`, or with
/// EVS the kept embeddings `[keep, llm]` and per-tubelet counts `[nt] x i64`.
/// Weights follow the pixels as arguments named by `fovea.weight`.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importModel(mlir::MLIRContext &context, const ModelConfig &config,
            const ImportOptions &options);

} // namespace fovea

#endif // FOVEA_DRIVER_IMPORT_H
