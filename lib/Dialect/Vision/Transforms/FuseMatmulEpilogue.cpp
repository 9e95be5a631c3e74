//===- FuseMatmulEpilogue.cpp - linear + activation + residual + cast -----===//
//
// Groups each vision.linear with the chain of single-use elementwise ops
// its kernel applies before storing: activation, residual add, downcast.
//
//===----------------------------------------------------------------------===//

#include "fovea/Dialect/Vision/Transforms/Passes.h"

#include "FusionPassUtils.h"

namespace mlir::vision {
#define GEN_PASS_DEF_VISIONFUSEMATMULEPILOGUE
#include "fovea/Dialect/Vision/Transforms/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;
using namespace mlir::vision;

/// The linear and its epilogue: at most one activation, then at most one
/// residual add, then at most one cast, each the only user of the previous.
static SmallVector<Operation *> epilogueChain(LinearOp linear) {
  SmallVector<Operation *> chain = {linear};
  Value value = linear.getResult();
  auto take = [&](auto predicate) {
    Operation *user = soleUngroupedUser(value);
    if (!user || !predicate(user))
      return;
    chain.push_back(user);
    value = user->getResult(0);
  };
  take([](Operation *op) { return isa<GeluOp, Relu2Op>(op); });
  take([&](Operation *op) {
    // A residual: the other operand is not the value itself.
    return isTensorAdd(op) && op->getOperand(0) != op->getOperand(1);
  });
  take([](Operation *op) {
    return isa<arith::TruncFOp, arith::ExtFOp>(op) &&
           isa<RankedTensorType>(op->getResult(0).getType());
  });
  return chain;
}

namespace {
struct VisionFuseMatmulEpiloguePass
    : vision::impl::VisionFuseMatmulEpilogueBase<VisionFuseMatmulEpiloguePass> {
  void runOnOperation() override {
    SmallVector<LinearOp> linears;
    getOperation().walk([&](LinearOp op) {
      if (!isGrouped(op))
        linears.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (LinearOp linear : linears)
      groupAround(rewriter, linear, epilogueChain(linear),
                  FusionRule::matmul_epilogue, /*weightOperand=*/1);
  }
};
} // namespace
