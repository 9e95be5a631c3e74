//===- UnshareFills.cpp - One linalg.fill per reader ----------------------===//
//
// Clones shared fills of fresh tensors so bufferization needs no copies.
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/Common/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::vision {
#define GEN_PASS_DEF_UNSHAREFILLS
#include "fovea/Codegen/Common/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

/// The fresh tensor a fill writes: a `tensor.empty`, or a slice of one (the
/// per-row statistics of a fusion group's loop).
static bool fillsFreshTensor(linalg::FillOp fill) {
  Value init = fill.getOutputs()[0];
  if (auto slice = init.getDefiningOp<tensor::ExtractSliceOp>())
    init = slice.getSource();
  return init.getDefiningOp<tensor::EmptyOp>() != nullptr;
}

/// Clones `value`'s definition (a fill, slice or empty) and what it is
/// computed from, at the builder's insertion point. The copies take the
/// location of their reader (`loc`): they are its code now, the layer it
/// belongs to included (fovea-outline-layers).
static Value cloneFresh(RewriterBase &rewriter, Value value, Location loc) {
  Operation *def = value.getDefiningOp();
  if (isa<tensor::EmptyOp>(def)) {
    // Next to the original: outside the loop a slice of it may be in.
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointAfter(def);
    Operation *copy = rewriter.clone(*def);
    copy->setLoc(loc);
    return copy->getResult(0);
  }
  IRMapping mapping;
  Value source = def->getOperand(isa<linalg::FillOp>(def) ? 1 : 0);
  mapping.map(source, cloneFresh(rewriter, source, loc));
  Operation *copy = rewriter.clone(*def, mapping);
  copy->setLoc(loc);
  return copy->getResult(0);
}

namespace {
struct UnshareFillsPass : vision::impl::UnshareFillsBase<UnshareFillsPass> {
  void runOnOperation() override {
    SmallVector<linalg::FillOp> shared;
    getOperation().walk([&](linalg::FillOp fill) {
      if (fill.hasPureTensorSemantics() && fillsFreshTensor(fill) &&
          !fill->getResult(0).hasOneUse() && !fill->getResult(0).use_empty())
        shared.push_back(fill);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::FillOp fill : shared) {
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : fill->getResult(0).getUses())
        uses.push_back(&use);
      // In program order (the use list is not).
      llvm::sort(uses, [](OpOperand *a, OpOperand *b) {
        Operation *x = a->getOwner(), *y = b->getOwner();
        if (x == y)
          return a->getOperandNumber() < b->getOperandNumber();
        if (x->getBlock() == y->getBlock())
          return x->isBeforeInBlock(y);
        return x->getBlock() < y->getBlock();
      });
      // The first reader keeps the original; each other one gets a copy
      // right before it.
      for (OpOperand *use : llvm::drop_begin(uses)) {
        rewriter.setInsertionPoint(use->getOwner());
        Value copy =
            cloneFresh(rewriter, fill->getResult(0), use->getOwner()->getLoc());
        rewriter.modifyOpInPlace(use->getOwner(), [&] { use->set(copy); });
      }
    }
  }
};
} // namespace
