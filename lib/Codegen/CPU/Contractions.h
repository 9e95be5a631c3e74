//===- Contractions.h - The matmul shape of the CPU passes ------*- C++ -*-===//

#ifndef FOVEA_LIB_CODEGEN_CPU_CONTRACTIONS_H
#define FOVEA_LIB_CODEGEN_CPU_CONTRACTIONS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::vision {

/// True for the (m, k, n) matmul shape the vision lowering gives
/// `vision.linear`: three loops [parallel, reduction, parallel], maps
/// x(m, k), w(k, n), acc(m, n), one result, a contraction body.
bool isMatmulShaped(linalg::GenericOp op);

/// The attribute naming the microkernel a packed matmul calls
/// (fovea-cpu-pack-matmuls sets it, fovea-cpu-call-microkernels reads it).
constexpr llvm::StringLiteral kMicrokernelAttr = "fovea.microkernel";

} // namespace mlir::vision

#endif // FOVEA_LIB_CODEGEN_CPU_CONTRACTIONS_H
