//===- FusionGroups.cpp - Forming and dissolving fusion groups ------------===//
//
// See FusionGroups.h.
//
//===----------------------------------------------------------------------===//

#include "fovea/Dialect/Vision/Transforms/FusionGroups.h"

#include "fovea/Dialect/Vision/IR/VisionDialect.h"
#include "fovea/Dialect/Vision/Transforms/Passes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::vision;

ArrayRef<FusionPassInfo> vision::fusionPasses() {
  static const FusionPassInfo passes[] = {
      // Off by default: it changes rounding.
      {"vision-fold-norm-affine", std::nullopt, false,
       createVisionFoldNormAffine},
      {"vision-fold-input-normalization", std::nullopt, false,
       createVisionFoldInputNormalization},
      {"vision-fuse-patch-embed", FusionRule::patch_embed, true,
       createVisionFusePatchEmbed},
      {"vision-fuse-matmul-epilogue", FusionRule::matmul_epilogue, true,
       createVisionFuseMatmulEpilogue},
      {"vision-fuse-residual-norm", FusionRule::residual_norm, true,
       createVisionFuseResidualNorm},
      {"vision-fuse-data-movement", FusionRule::data_movement, true,
       createVisionFuseDataMovement},
  };
  return passes;
}

SmallVector<Operation *> vision::inlineFusionGroup(RewriterBase &rewriter,
                                                   FusionGroupOp group) {
  SmallVector<Operation *> ops;
  for (Operation &op : group.getBody().front().without_terminator())
    ops.push_back(&op);
  YieldOp yield = group.getYield();
  SmallVector<Value> values(yield.getValues());
  rewriter.eraseOp(yield);
  rewriter.inlineBlockBefore(&group.getBody().front(), group);
  rewriter.replaceOp(group, values);
  return ops;
}

FailureOr<FusionGroupOp> vision::formFusionGroup(RewriterBase &rewriter,
                                                 ArrayRef<Operation *> ops,
                                                 StringRef name,
                                                 FusionRule rule) {
  if (ops.empty())
    return failure();
  Block *block = ops.front()->getBlock();
  if (llvm::any_of(ops, [&](Operation *op) { return op->getBlock() != block; }))
    return failure();

  // The members, in block order, existing groups dissolved.
  llvm::SetVector<Operation *> members;
  SmallVector<Operation *> sorted(ops.begin(), ops.end());
  llvm::sort(sorted,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  for (Operation *op : sorted) {
    if (auto group = dyn_cast<FusionGroupOp>(op)) {
      for (Operation *inner : inlineFusionGroup(rewriter, group))
        members.insert(inner);
      continue;
    }
    members.insert(op);
  }
  Operation *first = members.front(), *last = members.back();
  for (Operation *op : members)
    if (op->isBeforeInBlock(first))
      first = op;
    else if (last->isBeforeInBlock(op))
      last = op;

  // Ops between first and last: those reading member results either feed
  // a later member (pulled in) or not (moved after the group).
  SmallVector<Operation *> between;
  for (Operation *op = first; op != last; op = op->getNextNode())
    if (!members.contains(op))
      between.push_back(op);
  llvm::SmallPtrSet<Operation *, 8> feeds;
  for (Operation *op : llvm::reverse(between))
    for (Operation *user : op->getUsers()) {
      Operation *inBlock = block->findAncestorOpInBlock(*user);
      if (inBlock && (members.contains(inBlock) || feeds.contains(inBlock)))
        feeds.insert(op);
    }
  llvm::SmallPtrSet<Operation *, 8> dependent;
  SmallVector<Operation *> pulled, moved;
  for (Operation *op : between) {
    bool reads = llvm::any_of(op->getOperands(), [&](Value v) {
      Operation *def = v.getDefiningOp();
      return def && (members.contains(def) || dependent.contains(def));
    });
    if (!reads)
      continue;
    dependent.insert(op);
    if (!feeds.contains(op)) {
      moved.push_back(op);
      continue;
    }
    if (!isMemoryEffectFree(op) || op->getNumRegions())
      return failure();
    pulled.push_back(op);
  }
  for (Operation *op : pulled)
    members.insert(op);
  SmallVector<Operation *> ordered(members.begin(), members.end());
  llvm::sort(ordered,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });

  // The results: member values used outside the members.
  llvm::SetVector<Operation *> memberSet(ordered.begin(), ordered.end());
  SmallVector<Value> yielded;
  for (Operation *op : ordered)
    for (Value result : op->getResults())
      if (llvm::any_of(result.getUsers(), [&](Operation *user) {
            Operation *inBlock = block->findAncestorOpInBlock(*user);
            return !inBlock || !memberSet.contains(inBlock);
          }))
        yielded.push_back(result);

  rewriter.setInsertionPointAfter(last);
  auto group = FusionGroupOp::create(
      rewriter, last->getLoc(), ValueRange(yielded).getTypes(), name, rule);
  Block &body = group.getBody().front();
  for (Operation *op : ordered)
    rewriter.moveOpBefore(op, &body, body.end());
  rewriter.setInsertionPointToEnd(&body);
  YieldOp::create(rewriter, group.getLoc(), yielded);
  for (auto [value, result] : llvm::zip(yielded, group.getResults()))
    rewriter.replaceUsesWithIf(value, result, [&](OpOperand &use) {
      return !group->isAncestor(use.getOwner());
    });
  Operation *after = group;
  for (Operation *op : moved) {
    rewriter.moveOpAfter(op, after);
    after = op;
  }
  return group;
}

StringAttr vision::weightName(Operation *op,
                              std::optional<unsigned> weightOperand) {
  if (!weightOperand || *weightOperand >= op->getNumOperands())
    return {};
  auto arg = dyn_cast<BlockArgument>(op->getOperand(*weightOperand));
  if (!arg)
    return {};
  auto func = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp());
  if (!func)
    return {};
  return func.getArgAttrOfType<StringAttr>(
      arg.getArgNumber(), VisionDialect::WeightAttrHelper::getNameStr());
}

std::string vision::fusionGroupName(Operation *anchor, FusionRule rule,
                                    std::optional<unsigned> weightOperand) {
  std::string base;
  StringAttr weight = weightName(anchor, weightOperand);
  if (!weight && weightOperand)
    weight = anchor->getAttrOfType<StringAttr>(
        VisionDialect::FoldedWeightAttrHelper::getNameStr());
  if (weight) {
    StringRef text = weight.getValue();
    text.consume_back(".weight");
    // The module path inside the encoder: what follows `model.`.
    size_t model = text.rfind("model.");
    if (model != StringRef::npos)
      text = text.drop_front(model + 6);
    base = text.str();
  }
  if (base.empty())
    base = stringifyFusionRule(rule).str();
  llvm::StringSet<> taken;
  if (auto func = anchor->getParentOfType<FunctionOpInterface>())
    func->walk([&](FusionGroupOp group) { taken.insert(group.getName()); });
  if (!taken.contains(base))
    return base;
  for (unsigned i = 0;; ++i) {
    std::string candidate = base + "_" + std::to_string(i);
    if (!taken.contains(candidate))
      return candidate;
  }
}

WeightDependence::Kind WeightDependence::classify(Value value) {
  if (auto it = known.find(value); it != known.end())
    return it->second;
  Kind kind = Activations;
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    auto func = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp());
    if (func && func.getArgAttr(arg.getArgNumber(),
                                VisionDialect::WeightAttrHelper::getNameStr()))
      kind = Weights;
  } else if (Operation *def = value.getDefiningOp()) {
    if (def->hasTrait<OpTrait::ConstantLike>() || isa<tensor::EmptyOp>(def)) {
      kind = Constants;
    } else if (!isa<FusionGroupOp>(def) && def->getNumOperands() != 0) {
      kind = Constants;
      for (Value operand : def->getOperands()) {
        kind = std::max(kind, classify(operand));
        if (kind == Activations)
          break;
      }
    }
  }
  known[value] = kind;
  return kind;
}
