//===- Contractions.h - Helpers of the CPU passes that call the runtime -*- C++
//-*-===//

#ifndef FOVEA_LIB_CODEGEN_CPU_CONTRACTIONS_H
#define FOVEA_LIB_CODEGEN_CPU_CONTRACTIONS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::vision {

/// True for the (m, k, n) matmul shape the vision lowering gives
/// `vision.linear`: three loops [parallel, reduction, parallel], maps
/// x(m, k), w(k, n), acc(m, n), one result, a contraction body.
bool isMatmulShaped(linalg::GenericOp op);

/// The attribute naming the microkernel a packed matmul calls
/// (fovea-cpu-pack-matmuls sets it, fovea-cpu-call-microkernels reads it).
constexpr llvm::StringLiteral kMicrokernelAttr = "fovea.microkernel";

/// The address of `buffer`'s first element (aligned base pointer plus the
/// offset in bytes) as an index, and its strides in elements in `strides`.
Value bufferAddress(OpBuilder &b, Location loc, Value buffer,
                    SmallVectorImpl<Value> &strides);

/// Declares `void name(types...)` in `module` if it is not.
func::FuncOp declareRuntimeFunction(OpBuilder &b, ModuleOp module,
                                    StringRef name, TypeRange types);

} // namespace mlir::vision

#endif // FOVEA_LIB_CODEGEN_CPU_CONTRACTIONS_H
