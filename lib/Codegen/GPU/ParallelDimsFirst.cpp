//===- ParallelDimsFirst.cpp - Parallel loops before reductions -----------===//
//
// Interchanges linalg ops so their parallel dimensions are outermost.
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::vision {
#define GEN_PASS_DEF_GPUPARALLELDIMSFIRST
#include "fovea/Codegen/GPU/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

/// The permutation putting parallel dimensions first; empty when they
/// already are.
static SmallVector<unsigned> parallelFirst(linalg::LinalgOp op) {
  SmallVector<unsigned> parallel, reduction;
  for (auto [i, type] : llvm::enumerate(op.getIteratorTypesArray()))
    (type == utils::IteratorType::parallel ? parallel : reduction)
        .push_back(static_cast<unsigned>(i));
  SmallVector<unsigned> order = parallel;
  order.append(reduction.begin(), reduction.end());
  for (unsigned i = 0; i < order.size(); ++i)
    if (order[i] != i)
      return order;
  return {};
}

namespace {
struct GpuParallelDimsFirstPass
    : vision::impl::GpuParallelDimsFirstBase<GpuParallelDimsFirstPass> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (!parallelFirst(op).empty())
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops) {
      rewriter.setInsertionPoint(op);
      auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
      if (!generic) {
        FailureOr<linalg::GenericOp> generalized =
            linalg::generalizeNamedOp(rewriter, op);
        if (failed(generalized))
          continue; // No region builder: left as it is.
        generic = *generalized;
      }
      if (failed(linalg::interchangeGenericOp(
              rewriter, generic,
              parallelFirst(cast<linalg::LinalgOp>(generic.getOperation()))))) {
        generic.emitError("cannot interchange the loops of this op");
        return signalPassFailure();
      }
    }
  }
};
} // namespace
