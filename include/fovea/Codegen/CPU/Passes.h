//===- Passes.h - CPU code generation passes --------------------*- C++ -*-===//
//
// Declares the CPU code generation passes and their registration.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_CODEGEN_CPU_PASSES_H
#define FOVEA_CODEGEN_CPU_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::vision {

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "fovea/Codegen/CPU/Passes.h.inc"

} // namespace mlir::vision

#endif // FOVEA_CODEGEN_CPU_PASSES_H
