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
};

/// The checkpoint name of every weight the pipeline reads, in argument order.
std::vector<std::string> weightNames(const ModelConfig &config,
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
