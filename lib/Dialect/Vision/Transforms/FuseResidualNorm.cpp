//===- FuseResidualNorm.cpp - residual add + layer_norm / rms_norm --------===//
//
// Groups each norm, with the residual add producing its input when that add
// is not grouped yet, so the rows are read once.
//
//===----------------------------------------------------------------------===//

#include "fovea/Dialect/Vision/Transforms/Passes.h"

#include "FusionPassUtils.h"

namespace mlir::vision {
#define GEN_PASS_DEF_VISIONFUSERESIDUALNORM
#include "fovea/Dialect/Vision/Transforms/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;
using namespace mlir::vision;

namespace {
struct VisionFuseResidualNormPass
    : vision::impl::VisionFuseResidualNormBase<VisionFuseResidualNormPass> {
  void runOnOperation() override {
    SmallVector<Operation *> norms;
    getOperation().walk([&](Operation *op) {
      if (isa<LayerNormOp, RmsNormOp>(op) && !isGrouped(op))
        norms.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *norm : norms) {
      SmallVector<Operation *> ops = {norm};
      Operation *input = norm->getOperand(0).getDefiningOp();
      if (isTensorAdd(input) && !isGrouped(input) &&
          input->getBlock() == norm->getBlock())
        ops.insert(ops.begin(), input);
      groupAround(rewriter, norm, ops, FusionRule::residual_norm,
                  /*weightOperand=*/1);
    }
  }
};
} // namespace
