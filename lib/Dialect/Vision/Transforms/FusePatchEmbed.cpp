//===- FusePatchEmbed.cpp - normalize + patch projection + position add --===//
//
// Groups the patch (or tubelet) embedding with the input normalization
// before it and the position-embedding add and prefix tokens after it.
//
//===----------------------------------------------------------------------===//

#include "fovea/Dialect/Vision/Transforms/Passes.h"

#include "FusionPassUtils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::vision {
#define GEN_PASS_DEF_VISIONFUSEPATCHEMBED
#include "fovea/Dialect/Vision/Transforms/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;
using namespace mlir::vision;

/// The embedding, the normalization (and cast) producing its pixels, the
/// rounding of its result (where it is f32 in a bf16 model), the position add
/// consuming it (with the broadcast of the embedding) and the
/// prefix tokens put before it.
static SmallVector<Operation *> patchEmbedGroup(Operation *embed) {
  SmallVector<Operation *> ops = {embed};
  Operation *pixels = embed->getOperand(0).getDefiningOp();
  if (isa_and_nonnull<arith::TruncFOp>(pixels) &&
      pixels->getResult(0).hasOneUse() && !isGrouped(pixels)) {
    ops.push_back(pixels);
    pixels = pixels->getOperand(0).getDefiningOp();
  }
  if (isa_and_nonnull<NormalizeOp>(pixels) &&
      pixels->getResult(0).hasOneUse() && !isGrouped(pixels))
    ops.push_back(pixels);
  Value value = embed->getResult(0);
  // The rounding of an f32 embedding (vision-fold-input-normalization).
  if (auto round =
          dyn_cast_or_null<arith::TruncFOp>(soleUngroupedUser(value))) {
    ops.push_back(round);
    value = round.getResult();
  }
  Operation *add = soleUngroupedUser(value);
  if (!isTensorAdd(add))
    return ops;
  ops.push_back(add);
  Value other = add->getOperand(add->getOperand(0) == value ? 1 : 0);
  if (auto broadcast = other.getDefiningOp<linalg::BroadcastOp>();
      broadcast && other.hasOneUse() && !isGrouped(broadcast))
    ops.push_back(broadcast);
  value = add->getResult(0);
  if (Operation *prepend = soleUngroupedUser(value);
      isa_and_nonnull<PrependTokensOp>(prepend))
    ops.push_back(prepend);
  return ops;
}

namespace {
struct VisionFusePatchEmbedPass
    : vision::impl::VisionFusePatchEmbedBase<VisionFusePatchEmbedPass> {
  void runOnOperation() override {
    SmallVector<Operation *> embeds;
    getOperation().walk([&](Operation *op) {
      if (isa<PatchEmbedOp, TubeletEmbedOp>(op) && !isGrouped(op))
        embeds.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *embed : embeds)
      groupAround(rewriter, embed, patchEmbedGroup(embed),
                  FusionRule::patch_embed, std::nullopt);
  }
};
} // namespace
