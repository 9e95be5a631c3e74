//===- FusionGroups.h - Forming and dissolving fusion groups ----*- C++ -*-===//
//
// The utilities the vision fusion passes share: forming a
// `vision.fusion_group` from ops of one block, inlining one, naming one,
// and the fusion passes by name (for the pipeline's switches).
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_DIALECT_VISION_TRANSFORMS_FUSIONGROUPS_H
#define FOVEA_DIALECT_VISION_TRANSFORMS_FUSIONGROUPS_H

#include "fovea/Dialect/Vision/IR/VisionOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/ArrayRef.h"

namespace mlir::vision {

/// Moves `ops` (of one block; existing groups among them are dissolved
/// first) into a new fusion group placed where the last of them was. The
/// group returns the values of `ops` used after it. Ops between the first
/// and the last of `ops` that read their results are pulled into the group
/// when the group needs them (they must then be free of memory effects) and
/// moved after it otherwise. Fails when the ops are in different blocks
/// (changing nothing) or an op to pull in has memory effects or regions
/// (the groups among `ops` are then already dissolved).
FailureOr<FusionGroupOp> formFusionGroup(RewriterBase &rewriter,
                                         ArrayRef<Operation *> ops,
                                         StringRef name, FusionRule rule);

/// Replaces `group` by its body; returns the ops that were in it.
SmallVector<Operation *> inlineFusionGroup(RewriterBase &rewriter,
                                           FusionGroupOp group);

/// The checkpoint name of `op`'s operand `weightOperand` when that is a
/// weight argument, else null.
StringAttr weightName(Operation *op, std::optional<unsigned> weightOperand);

/// A name for the group around `anchor`: the checkpoint name of its weight
/// (`blocks.3.mlp.fc1` for `...model.blocks.3.mlp.fc1.weight`) when its
/// operand `weightOperand` is a weight argument (or, after a fold replaced
/// it, `anchor`'s `vision.folded_weight`), else `<rule>_<n>`; made unique
/// within the function of `anchor`.
std::string fusionGroupName(Operation *anchor, FusionRule rule,
                            std::optional<unsigned> weightOperand);

/// Classifies the values of a function by what they depend on: values
/// computed from weights (arguments carrying `vision.weight`) and constants
/// only are computed once, in @init, and must not be fused into per-run
/// loops or counted as per-run work.
class WeightDependence {
public:
  /// Whether `value` depends on weights and constants only, and on at
  /// least one weight.
  bool isWeightOnly(Value value) { return classify(value) == Weights; }

private:
  enum Kind { Constants, Weights, Activations };
  Kind classify(Value value);
  DenseMap<Value, Kind> known;
};

/// The vision-level fusion passes, in the order the pipeline runs them:
/// each one's flag (`vision-fuse-...`, or `vision-fold-...` for the
/// algebraic folds), the rule of the groups it forms (none for a fold), and
/// whether `--fusion=default` enables it.
struct FusionPassInfo {
  llvm::StringLiteral flag;
  std::optional<FusionRule> rule;
  bool inDefault;
  std::unique_ptr<Pass> (*create)();
};
ArrayRef<FusionPassInfo> fusionPasses();

} // namespace mlir::vision

#endif // FOVEA_DIALECT_VISION_TRANSFORMS_FUSIONGROUPS_H
