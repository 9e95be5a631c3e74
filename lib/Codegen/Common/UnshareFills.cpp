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

namespace {
struct UnshareFillsPass : vision::impl::UnshareFillsBase<UnshareFillsPass> {
  void runOnOperation() override {
    SmallVector<linalg::FillOp> shared;
    getOperation().walk([&](linalg::FillOp fill) {
      if (fill.hasPureTensorSemantics() &&
          fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>() &&
          !fill->getResult(0).hasOneUse() && !fill->getResult(0).use_empty())
        shared.push_back(fill);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::FillOp fill : shared) {
      auto empty = fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>();
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
        Operation *newEmpty = rewriter.clone(*empty);
        IRMapping mapping;
        mapping.map(empty.getResult(), newEmpty->getResult(0));
        Operation *newFill = rewriter.clone(*fill, mapping);
        rewriter.modifyOpInPlace(use->getOwner(),
                                 [&] { use->set(newFill->getResult(0)); });
      }
    }
  }
};
} // namespace
