//===- VisionFolds.cpp - Folds and canonicalizations of vision ops --------===//
//
// Identity folds (resizes and interpolations to the input's own size, empty
// prefixes, prefix insertion followed by its removal) and the rewrite of EVS
// at rate 0 into a reshape.
//
//===----------------------------------------------------------------------===//

#include "fovea/Dialect/Vision/IR/VisionOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::vision;

OpFoldResult ResizeOp::fold(FoldAdaptor) {
  // Every engine skips the resize when the size already matches (§1.3); the
  // kernel is then the identity in both domains.
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

OpFoldResult InterpPosEmbedOp::fold(FoldAdaptor) {
  // An R x R grid is the table itself (§3.2, the early return of the
  // reference).
  // The row count alone does not decide: a 16 x 64 grid has as many rows as a
  // 32 x 32 table but is a real interpolation.
  int64_t rows = getTable().getType().getDimSize(1);
  ArrayRef<int64_t> grid = getGrid();
  if (grid.size() == 2 && grid[0] == grid[1] && grid[0] * grid[1] == rows &&
      getTable().getType() == getType())
    return getTable();
  return {};
}

OpFoldResult PrependTokensOp::fold(FoldAdaptor) {
  if (getPrefix().getType().getDimSize(0) == 0)
    return getInput();
  return {};
}

OpFoldResult StripPrefixOp::fold(FoldAdaptor) {
  if (getNumPrefix() == 0)
    return getInput();
  // strip_prefix(prepend_tokens(p, x)) = x when the same number of rows is
  // removed from the same segments.
  auto prepend = getInput().getDefiningOp<PrependTokensOp>();
  if (prepend &&
      prepend.getPrefix().getType().getDimSize(0) ==
          static_cast<int64_t>(getNumPrefix()) &&
      prepend.getSegmentSizes() == getSegmentSizes() &&
      prepend.getInput().getType() == getType())
    return prepend.getInput();
  return {};
}

namespace {
/// Rewrites `vision.evs_prune` at rate 0, which keeps every token in order,
/// into a reshape of the input and per-tubelet counts of L.
struct KeepAllEvsPrune : OpRewritePattern<EvsPruneOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(EvsPruneOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getRate().isZero())
      return rewriter.notifyMatchFailure(op, "rate is not 0");
    Location loc = op.getLoc();
    auto inputType = op.getInput().getType();
    Value kept = tensor::CollapseShapeOp::create(
        rewriter, loc, op.getKept().getType(), op.getInput(),
        ArrayRef<ReassociationIndices>{{0, 1}, {2}});
    auto countsType = op.getCounts().getType();
    Value counts;
    if (!countsType.isDynamicDim(0)) {
      counts = arith::ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(
              countsType, rewriter.getI64IntegerAttr(inputType.getDimSize(1))));
    } else {
      Value tokens =
          arith::ConstantIntOp::create(rewriter, loc, inputType.getDimSize(1),
                                       /*width=*/64);
      Value numTubelets =
          tensor::DimOp::create(rewriter, loc, op.getInput(), 0);
      counts = tensor::SplatOp::create(rewriter, loc, countsType, tokens,
                                       ValueRange{numTubelets});
    }
    rewriter.replaceOp(op, {kept, counts});
    return success();
  }
};
} // namespace

void EvsPruneOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                             MLIRContext *context) {
  results.add<KeepAllEvsPrune>(context);
}
