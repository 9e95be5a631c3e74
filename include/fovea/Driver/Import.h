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

struct ImportOptions {
  InputKind inputKind = InputKind::Image;
  /// Compiled resolution; 0 means the config's tile size.
  int64_t height = 0, width = 0;
  ElementType elementType = ElementType::BF16;
  /// EVS pruning rate for video (0 = off).
  double evsRate = 0.0;
  /// Video: the most frames one run accepts (checked by the runtime).
  int64_t maxFrames = 128;
};

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
