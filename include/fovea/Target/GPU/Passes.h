//===- Passes.h - GPU code generation passes --------------------*- C++ -*-===//

#ifndef FOVEA_TARGET_GPU_PASSES_H
#define FOVEA_TARGET_GPU_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Pass/Pass.h"

namespace mlir::vision {

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "fovea/Target/GPU/Passes.h.inc"

} // namespace mlir::vision

#endif // FOVEA_TARGET_GPU_PASSES_H
