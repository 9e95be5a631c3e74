//===- FusionPassUtils.h - Matching helpers of the fusion passes -*- C++
//-*-===//

#ifndef FOVEA_LIB_DIALECT_VISION_TRANSFORMS_FUSIONPASSUTILS_H
#define FOVEA_LIB_DIALECT_VISION_TRANSFORMS_FUSIONPASSUTILS_H

#include "fovea/Dialect/Vision/Transforms/FusionGroups.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mlir::vision {

/// Whether `op` is in a fusion group already.
inline bool isGrouped(Operation *op) {
  return op->getParentOfType<FusionGroupOp>() != nullptr;
}

/// The only user of `value` that computes with it (size queries,
/// `tensor.dim`, aside), when it is in the block of `value`'s definition and
/// not in a group; else null.
inline Operation *soleUngroupedUser(Value value) {
  Operation *user = nullptr;
  for (Operation *candidate : value.getUsers()) {
    if (isa<tensor::DimOp>(candidate))
      continue;
    if (user)
      return nullptr;
    user = candidate;
  }
  if (!user)
    return nullptr;
  Operation *def = value.getDefiningOp();
  if (isGrouped(user) || (def && user->getBlock() != def->getBlock()))
    return nullptr;
  return user;
}

/// An elementwise add of two tensors (the residual adds of the ViT).
inline bool isTensorAdd(Operation *op) {
  auto add = dyn_cast_or_null<arith::AddFOp>(op);
  return add && isa<RankedTensorType>(add.getType());
}

/// `value` as an f32 tensor: itself when it is one, else its `arith.extf`
/// (the folds compute their weight-only values in f32).
inline Value widenToF32(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getElementType().isF32())
    return value;
  return arith::ExtFOp::create(b, loc, type.clone(b.getF32Type()), value);
}

/// Forms the group of `ops` around `anchor`, named after the weight at
/// operand `weightOperand` of `anchor`. Ops that cannot be grouped are left
/// alone.
inline void groupAround(RewriterBase &rewriter, Operation *anchor,
                        ArrayRef<Operation *> ops, FusionRule rule,
                        std::optional<unsigned> weightOperand) {
  std::string name = fusionGroupName(anchor, rule, weightOperand);
  (void)formFusionGroup(rewriter, ops, name, rule);
}

} // namespace mlir::vision

#endif // FOVEA_LIB_DIALECT_VISION_TRANSFORMS_FUSIONPASSUTILS_H
