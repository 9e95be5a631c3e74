//===- Passes.h - Vision dialect transformations ----------------*- C++ -*-===//
//
// Declares the vision dialect's passes and their registration.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_DIALECT_VISION_TRANSFORMS_PASSES_H
#define FOVEA_DIALECT_VISION_TRANSFORMS_PASSES_H

#include "fovea/Dialect/Vision/IR/VisionDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::vision {

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "fovea/Dialect/Vision/Transforms/Passes.h.inc"

} // namespace mlir::vision

#endif // FOVEA_DIALECT_VISION_TRANSFORMS_PASSES_H
