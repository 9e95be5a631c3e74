//===- Passes.h - Code generation passes of every target -------*- C++ -*-===//
//
// Declares the passes both pipelines run and their registration.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_CODEGEN_COMMON_PASSES_H
#define FOVEA_CODEGEN_COMMON_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::vision {

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "fovea/Codegen/Common/Passes.h.inc"

} // namespace mlir::vision

#endif // FOVEA_CODEGEN_COMMON_PASSES_H
