//===- TokenOps.cpp - Lowering of pixel_shuffle and evs_prune -------------===//
//
// Token merging as reshapes and a transpose per image; EVS as dissimilarity
// reductions, a rank count equivalent to a stable descending sort, and a
// compaction loop that keeps the original order.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "fovea/Conversion/VisionToLinalg/VisionToLinalg.h"
#include "fovea/Dialect/Vision/IR/VisionOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::vision;
using namespace mlir::vision::lowering;

namespace {

/// pixel_shuffle: per image, [N, h*w, C] -> [N, h/2, 2, w/2, 2, C], transpose
/// to (i, j, a, b, c) for v2 or (j, i, a, b, c) for v1, and flatten to
/// [N, h*w/4, 4C].
struct LowerPixelShuffle : OpRewritePattern<PixelShuffleOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PixelShuffleOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inputType = op.getInput().getType();
    auto type = op.getType();
    Type element = type.getElementType();
    int64_t batch = inputType.getDimSize(0);
    int64_t channels = inputType.getDimSize(2);
    OpFoldResult batchSize = sizesOf(rewriter, loc, op.getInput())[0];
    auto idx = [&](int64_t v) { return rewriter.getIndexAttr(v); };
    bool v2 = op.getVersion() == PixelShuffleVersion::v2;
    ArrayRef<int64_t> grid = op.getGrid();
    bool single = grid.size() == 2;

    Value result;
    if (!single)
      result = createEmpty(
          rewriter, loc,
          {batchSize, idx(type.getDimSize(1)), idx(type.getDimSize(2))},
          element);
    int64_t in = 0, out = 0;
    for (size_t g = 0; g < grid.size(); g += 2) {
      int64_t h = grid[g], w = grid[g + 1];
      Value image = single
                        ? op.getInput()
                        : sliceTokens(rewriter, loc, op.getInput(), in, h * w);
      auto blocks =
          RankedTensorType::get({batch, h / 2, 2, w / 2, 2, channels}, element);
      Value expanded = tensor::ExpandShapeOp::create(
          rewriter, loc, blocks, image,
          SmallVector<ReassociationIndices>{{0}, {1, 2, 3, 4}, {5}});
      SmallVector<int64_t> perm = v2 ? SmallVector<int64_t>{0, 1, 3, 2, 4, 5}
                                     : SmallVector<int64_t>{0, 3, 1, 2, 4, 5};
      SmallVector<OpFoldResult> permuted;
      SmallVector<OpFoldResult> blockSizes = sizesOf(rewriter, loc, expanded);
      for (int64_t p : perm)
        permuted.push_back(blockSizes[p]);
      Value init = createEmpty(rewriter, loc, permuted, element);
      Value transposed =
          linalg::TransposeOp::create(rewriter, loc, expanded, init, perm)
              .getResult()[0];
      Value merged = tensor::CollapseShapeOp::create(
          rewriter, loc, transposed,
          SmallVector<ReassociationIndices>{{0}, {1, 2}, {3, 4, 5}});
      if (single) {
        result = merged;
        break;
      }
      result = insertTokens(rewriter, loc, merged, result, out);
      in += h * w;
      out += h * w / 4;
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// evs_prune (§9.1, §9.2).
struct LowerEvsPrune : OpRewritePattern<EvsPruneOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EvsPruneOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto inputType = op.getInput().getType();
    Type element = inputType.getElementType();
    int64_t perTubelet = inputType.getDimSize(1);
    int64_t width = inputType.getDimSize(2);
    double rate = op.getRate().convertToDouble();
    Value x = op.getInput();
    auto idx = [&](int64_t v) { return rewriter.getIndexAttr(v); };
    OpFoldResult tubelets = sizesOf(rewriter, loc, x)[0];
    Value numTubelets =
        getValueOrCreateConstantIndexOp(rewriter, loc, tubelets);

    // Every step rounds to the element type, as PyTorch on that dtype.
    auto round = [&](OpBuilder &nb, Location nl, Value v) {
      return roundThroughStorage(nb, nl, v, element);
    };

    // norms[t, l] = max(round(sqrt(sum_d x^2)), round(1e-8)).
    Value norms = createFilled(rewriter, loc, {tubelets, idx(perTubelet)},
                               rewriter.getF32FloatAttr(0.0f));
    norms = linalg::GenericOp::create(
                rewriter, loc, norms.getType(), x, norms,
                {dimsMap(ctx, 3, {0, 1, 2}), dimsMap(ctx, 3, {0, 1})},
                iterators(3, {2}),
                [&](OpBuilder &nb, Location nl, ValueRange args) {
                  Value v = toF32(nb, nl, args[0]);
                  linalg::YieldOp::create(
                      nb, nl,
                      arith::AddFOp::create(nb, nl, args[1],
                                            arith::MulFOp::create(nb, nl, v, v))
                          .getResult());
                })
                .getResult(0);
    norms = mapElements(
        rewriter, loc, norms, rewriter.getF32Type(),
        [&](OpBuilder &nb, Location nl, Value v) {
          Value n = round(nb, nl, math::SqrtOp::create(nb, nl, v));
          Value eps = round(nb, nl, f32Constant(nb, nl, 1e-8));
          return arith::MaximumFOp::create(nb, nl, n, eps).getResult();
        });

    // unit[t, l, d] = round(x / norm).
    Value unit = createEmpty(rewriter, loc, sizesOf(rewriter, loc, x),
                             rewriter.getF32Type());
    unit = linalg::GenericOp::create(
               rewriter, loc, unit.getType(), ValueRange{x, norms}, unit,
               {dimsMap(ctx, 3, {0, 1, 2}), dimsMap(ctx, 3, {0, 1}),
                dimsMap(ctx, 3, {0, 1, 2})},
               iterators(3),
               [&](OpBuilder &nb, Location nl, ValueRange args) {
                 Value q = arith::DivFOp::create(nb, nl, toF32(nb, nl, args[0]),
                                                 args[1]);
                 linalg::YieldOp::create(nb, nl, round(nb, nl, q));
               })
               .getResult(0);

    // sim[t, l] = sum_d round(unit[t, l, d] * unit[t - 1, l, d]) (t >= 1;
    // row 0 is overwritten below).
    Value sims = createFilled(rewriter, loc, {tubelets, idx(perTubelet)},
                              rewriter.getF32FloatAttr(0.0f));
    sims = linalg::GenericOp::create(
               rewriter, loc, sims.getType(), unit, sims,
               {dimsMap(ctx, 3, {0, 1, 2}), dimsMap(ctx, 3, {0, 1})},
               iterators(3, {2}),
               [&](OpBuilder &nb, Location nl, ValueRange args) {
                 Value t = linalg::IndexOp::create(nb, nl, 0);
                 Value one = arith::ConstantIndexOp::create(nb, nl, 1);
                 Value prev = arith::SubIOp::create(
                     nb, nl, arith::MaxUIOp::create(nb, nl, t, one), one);
                 Value previous = tensor::ExtractOp::create(
                     nb, nl, unit,
                     ValueRange{prev, linalg::IndexOp::create(nb, nl, 1),
                                linalg::IndexOp::create(nb, nl, 2)});
                 Value prod = round(
                     nb, nl, arith::MulFOp::create(nb, nl, args[0], previous));
                 linalg::YieldOp::create(
                     nb, nl,
                     arith::AddFOp::create(nb, nl, args[1], prod).getResult());
               })
               .getResult(0);
    // dissimilarity = round(1 - round(sim)), 255 for the first tubelet.
    Value dissim = createEmpty(rewriter, loc, {tubelets, idx(perTubelet)},
                               rewriter.getF32Type());
    dissim =
        linalg::GenericOp::create(
            rewriter, loc, dissim.getType(), sims, dissim,
            {dimsMap(ctx, 2, {0, 1}), dimsMap(ctx, 2, {0, 1})}, iterators(2),
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              Value d =
                  round(nb, nl,
                        arith::SubFOp::create(nb, nl, f32Constant(nb, nl, 1.0),
                                              round(nb, nl, args[0])));
              Value first = arith::CmpIOp::create(
                  nb, nl, arith::CmpIPredicate::eq,
                  linalg::IndexOp::create(nb, nl, 0),
                  arith::ConstantIndexOp::create(nb, nl, 0));
              linalg::YieldOp::create(
                  nb, nl,
                  arith::SelectOp::create(nb, nl, first,
                                          f32Constant(nb, nl, 255.0), d)
                      .getResult());
            })
            .getResult(0);
    Value flat = tensor::CollapseShapeOp::create(
        rewriter, loc, dissim, SmallVector<ReassociationIndices>{{0, 1}});

    // The kept count, from integers and the rate (§9.1).
    Type i64 = rewriter.getI64Type();
    Value keep;
    auto keptType = op.getKept().getType();
    if (!keptType.isDynamicDim(0)) {
      keep = arith::ConstantIntOp::create(rewriter, loc, keptType.getDimSize(0),
                                          64);
    } else {
      Value count = arith::IndexCastOp::create(rewriter, loc, i64, numTubelets);
      Value total = arith::MulIOp::create(
          rewriter, loc, count,
          arith::ConstantIntOp::create(rewriter, loc, perTubelet, 64));
      Value scaled = arith::MulFOp::create(
          rewriter, loc,
          arith::SIToFPOp::create(rewriter, loc, rewriter.getF64Type(), total),
          arith::ConstantOp::create(rewriter, loc,
                                    rewriter.getF64FloatAttr(1.0 - rate)));
      keep = arith::MaxSIOp::create(
          rewriter, loc, arith::FPToSIOp::create(rewriter, loc, i64, scaled),
          arith::ConstantIntOp::create(rewriter, loc, perTubelet, 64));
    }

    // rank[i] = #{j : d[j] > d[i]} + #{j < i : d[j] == d[i]}: the position of
    // i in a stable descending sort. i is kept when rank[i] < keep.
    OpFoldResult total = sizesOf(rewriter, loc, flat)[0];
    Value ranks =
        createFilled(rewriter, loc, {total}, rewriter.getI64IntegerAttr(0));
    ranks =
        linalg::GenericOp::create(
            rewriter, loc, ranks.getType(), ValueRange{flat, flat}, ranks,
            {dimsMap(ctx, 2, {0}), dimsMap(ctx, 2, {1}), dimsMap(ctx, 2, {0})},
            iterators(2, {1}),
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              Value greater = arith::CmpFOp::create(
                  nb, nl, arith::CmpFPredicate::OGT, args[1], args[0]);
              Value equal = arith::CmpFOp::create(
                  nb, nl, arith::CmpFPredicate::OEQ, args[1], args[0]);
              Value before =
                  arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ult,
                                        linalg::IndexOp::create(nb, nl, 1),
                                        linalg::IndexOp::create(nb, nl, 0));
              Value ahead = arith::OrIOp::create(
                  nb, nl, greater,
                  arith::AndIOp::create(nb, nl, equal, before));
              linalg::YieldOp::create(
                  nb, nl,
                  arith::AddIOp::create(
                      nb, nl, args[2],
                      arith::ExtUIOp::create(nb, nl, nb.getI64Type(), ahead))
                      .getResult());
            })
            .getResult(0);
    Value kept1 = mapElements(
        rewriter, loc, ranks, rewriter.getI64Type(),
        [&](OpBuilder &nb, Location nl, Value r) {
          Value k =
              arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, r, keep);
          return arith::ExtUIOp::create(nb, nl, nb.getI64Type(), k).getResult();
        });

    // counts[t] = sum_l kept[t, l].
    auto grid = RankedTensorType::get({inputType.getDimSize(0), perTubelet},
                                      rewriter.getI64Type());
    Value keptGrid = tensor::ExpandShapeOp::create(
        rewriter, loc, grid, kept1, SmallVector<ReassociationIndices>{{0, 1}});
    Value counts =
        createFilled(rewriter, loc, {tubelets}, rewriter.getI64IntegerAttr(0));
    counts =
        linalg::GenericOp::create(
            rewriter, loc, counts.getType(), keptGrid, counts,
            {dimsMap(ctx, 2, {0, 1}), dimsMap(ctx, 2, {0})}, iterators(2, {1}),
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              linalg::YieldOp::create(
                  nb, nl,
                  arith::AddIOp::create(nb, nl, args[1], args[0]).getResult());
            })
            .getResult(0);

    // Compaction in original order.
    Value rows = tensor::CollapseShapeOp::create(
        rewriter, loc, x, SmallVector<ReassociationIndices>{{0, 1}, {2}});
    Value keepIndex = arith::IndexCastOp::create(rewriter, loc,
                                                 rewriter.getIndexType(), keep);
    SmallVector<OpFoldResult> keptSizes = {
        keptType.isDynamicDim(0) ? OpFoldResult(keepIndex)
                                 : OpFoldResult(idx(keptType.getDimSize(0))),
        idx(width)};
    Value out = createEmpty(rewriter, loc, keptSizes, element);
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value end = getValueOrCreateConstantIndexOp(rewriter, loc, total);
    auto loop = scf::ForOp::create(
        rewriter, loc, zero, end, one, ValueRange{out, zero},
        [&](OpBuilder &nb, Location nl, Value i, ValueRange iter) {
          Value flag = tensor::ExtractOp::create(nb, nl, kept1, i);
          Value isKept = arith::CmpIOp::create(
              nb, nl, arith::CmpIPredicate::ne, flag,
              arith::ConstantIntOp::create(nb, nl, 0, 64));
          auto branch = scf::IfOp::create(
              nb, nl, isKept,
              [&](OpBuilder &tb, Location tl) {
                SmallVector<OpFoldResult> strides = {tb.getIndexAttr(1),
                                                     tb.getIndexAttr(1)};
                SmallVector<OpFoldResult> rowSize = {tb.getIndexAttr(1),
                                                     tb.getIndexAttr(width)};
                Value row = tensor::ExtractSliceOp::create(
                    tb, tl, rows, {OpFoldResult(i), tb.getIndexAttr(0)},
                    rowSize, strides);
                Value updated = tensor::InsertSliceOp::create(
                    tb, tl, row, iter[0],
                    {OpFoldResult(iter[1]), tb.getIndexAttr(0)}, rowSize,
                    strides);
                Value next = arith::AddIOp::create(tb, tl, iter[1], one);
                scf::YieldOp::create(tb, tl, ValueRange{updated, next});
              },
              [&](OpBuilder &eb, Location el) {
                scf::YieldOp::create(eb, el, ValueRange{iter[0], iter[1]});
              });
          scf::YieldOp::create(nb, nl, branch.getResults());
        });
    rewriter.replaceOp(op, {loop.getResult(0), counts});
    return success();
  }
};

} // namespace

void vision::populateVisionTokenToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerEvsPrune, LowerPixelShuffle>(patterns.getContext());
}
