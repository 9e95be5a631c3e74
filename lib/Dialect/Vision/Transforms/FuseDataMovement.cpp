//===- FuseDataMovement.cpp - token reorderings read through index maps ---===//
//
// Moves strip_prefix and pixel_shuffle into the fusion group of their only
// consumer, so the consumer reads through the reordering.
//
//===----------------------------------------------------------------------===//

#include "fovea/Dialect/Vision/Transforms/Passes.h"

#include "FusionPassUtils.h"

namespace mlir::vision {
#define GEN_PASS_DEF_VISIONFUSEDATAMOVEMENT
#include "fovea/Dialect/Vision/Transforms/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;
using namespace mlir::vision;

namespace {
struct VisionFuseDataMovementPass
    : vision::impl::VisionFuseDataMovementBase<VisionFuseDataMovementPass> {
  void runOnOperation() override {
    SmallVector<Operation *> moves;
    getOperation().walk([&](Operation *op) {
      if (isa<StripPrefixOp, PixelShuffleOp>(op) && !isGrouped(op))
        moves.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    // Consumers first: a pixel shuffle joins the norm's group, then the
    // strip_prefix before it joins the same group.
    for (Operation *op : llvm::reverse(moves)) {
      Value result = op->getResult(0);
      if (!result.hasOneUse())
        continue;
      Operation *user = *result.getUsers().begin();
      if (auto group = user->getParentOfType<FusionGroupOp>()) {
        if (group->getBlock() != op->getBlock())
          continue;
        std::string name = group.getName().str();
        (void)formFusionGroup(rewriter, {op, group}, name, group.getRule());
        continue;
      }
      if (user->getBlock() != op->getBlock() || isa<func::ReturnOp>(user))
        continue;
      groupAround(rewriter, op, {op, user}, FusionRule::data_movement,
                  std::nullopt);
    }
  }
};
} // namespace
