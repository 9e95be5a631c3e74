//===- Passes.h - GPU code generation passes --------------------*- C++ -*-===//

#ifndef FOVEA_CODEGEN_GPU_PASSES_H
#define FOVEA_CODEGEN_GPU_PASSES_H

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Pass/Pass.h"

namespace mlir::vision {

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "fovea/Codegen/GPU/Passes.h.inc"

/// Declares that nvvm.mma.sync touches no memory (it works on registers),
/// so buffer deallocation accepts kernels built before bufferization
/// (fovea-gpu-flash-attention).
void registerGpuOpInterfaceModels(DialectRegistry &registry);

} // namespace mlir::vision

#endif // FOVEA_CODEGEN_GPU_PASSES_H
