//===- TokenOps.cpp - Lowering of pixel_shuffle and evs_prune -------------===//
//
// Token merging as reshapes and a transpose per image; EVS as dissimilarity
// reductions, a rank count equivalent to a stable descending sort, and a
// compaction that keeps the original order, as a gather (no loop on the
// host: the GPU runs all of EVS as kernels).
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

} // namespace

/// Builds norms[t, l] = max(round(sqrt(sum_d x^2)), round(1e-8)) in f32.
static Value buildTokenNorms(OpBuilder &b, Location loc, Value x,
                             OpFoldResult tubelets, int64_t perTubelet,
                             Type element) {
  MLIRContext *ctx = b.getContext();
  Value norms = createFilled(b, loc, {tubelets, b.getIndexAttr(perTubelet)},
                             b.getF32FloatAttr(0.0f));
  norms = linalg::GenericOp::create(
              b, loc, norms.getType(), x, norms,
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
  return mapElements(
      b, loc, norms, b.getF32Type(), [&](OpBuilder &nb, Location nl, Value v) {
        Value n = roundThroughStorage(nb, nl, math::SqrtOp::create(nb, nl, v),
                                      element);
        Value eps =
            roundThroughStorage(nb, nl, f32Constant(nb, nl, 1e-8), element);
        return arith::MaximumFOp::create(nb, nl, n, eps).getResult();
      });
}

/// Builds unit[t, l, d] = round(x / norm) in f32.
static Value buildUnitVectors(OpBuilder &b, Location loc, Value x, Value norms,
                              Type element) {
  MLIRContext *ctx = b.getContext();
  Value unit = createEmpty(b, loc, sizesOf(b, loc, x), b.getF32Type());
  return linalg::GenericOp::create(
             b, loc, unit.getType(), ValueRange{x, norms}, unit,
             {dimsMap(ctx, 3, {0, 1, 2}), dimsMap(ctx, 3, {0, 1}),
              dimsMap(ctx, 3, {0, 1, 2})},
             iterators(3),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value q = arith::DivFOp::create(nb, nl, toF32(nb, nl, args[0]),
                                               args[1]);
               linalg::YieldOp::create(nb, nl,
                                       roundThroughStorage(nb, nl, q, element));
             })
      .getResult(0);
}

/// Builds the flat [T * L] dissimilarities to the previous tubelet.
static Value buildDissimilarities(OpBuilder &b, Location loc, Value unit,
                                  OpFoldResult tubelets, int64_t perTubelet,
                                  Type element) {
  MLIRContext *ctx = b.getContext();
  auto round = [&](OpBuilder &nb, Location nl, Value v) {
    return roundThroughStorage(nb, nl, v, element);
  };

  // sim[t, l] = sum_d round(unit[t, l, d] * unit[t - 1, l, d]) (t >= 1;
  // row 0 is overwritten below).
  Value sims = createFilled(b, loc, {tubelets, b.getIndexAttr(perTubelet)},
                            b.getF32FloatAttr(0.0f));
  sims = linalg::GenericOp::create(
             b, loc, sims.getType(), unit, sims,
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
  Value dissim = createEmpty(b, loc, {tubelets, b.getIndexAttr(perTubelet)},
                             b.getF32Type());
  dissim = linalg::GenericOp::create(
               b, loc, dissim.getType(), sims, dissim,
               {dimsMap(ctx, 2, {0, 1}), dimsMap(ctx, 2, {0, 1})}, iterators(2),
               [&](OpBuilder &nb, Location nl, ValueRange args) {
                 Value d = round(nb, nl,
                                 arith::SubFOp::create(nb, nl,
                                                       f32Constant(nb, nl, 1.0),
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
  return tensor::CollapseShapeOp::create(
      b, loc, dissim, SmallVector<ReassociationIndices>{{0, 1}});
}

/// Builds the i64 number of kept tokens, from integers and the rate (§9.1).
static Value buildKeepCount(OpBuilder &b, Location loc,
                            RankedTensorType keptType, Value numTubelets,
                            int64_t perTubelet, double rate) {
  if (!keptType.isDynamicDim(0))
    return arith::ConstantIntOp::create(b, loc, keptType.getDimSize(0), 64);
  Type i64 = b.getI64Type();
  Value count = arith::IndexCastOp::create(b, loc, i64, numTubelets);
  Value total = arith::MulIOp::create(
      b, loc, count, arith::ConstantIntOp::create(b, loc, perTubelet, 64));
  Value scaled = arith::MulFOp::create(
      b, loc, arith::SIToFPOp::create(b, loc, b.getF64Type(), total),
      arith::ConstantOp::create(b, loc, b.getF64FloatAttr(1.0 - rate)));
  return arith::MaxSIOp::create(
      b, loc, arith::FPToSIOp::create(b, loc, i64, scaled),
      arith::ConstantIntOp::create(b, loc, perTubelet, 64));
}

/// Builds the i64 [T * L] flags, 1 for the tokens ranked below `keep`.
static Value buildKeptFlags(OpBuilder &b, Location loc, Value flat,
                            OpFoldResult total, Value keep) {
  MLIRContext *ctx = b.getContext();
  // rank[i] = #{j : d[j] > d[i]} + #{j < i : d[j] == d[i]}: the position of
  // i in a stable descending sort. i is kept when rank[i] < keep.
  Value ranks = createFilled(b, loc, {total}, b.getI64IntegerAttr(0));
  ranks =
      linalg::GenericOp::create(
          b, loc, ranks.getType(), ValueRange{flat, flat}, ranks,
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
                nb, nl, greater, arith::AndIOp::create(nb, nl, equal, before));
            linalg::YieldOp::create(
                nb, nl,
                arith::AddIOp::create(
                    nb, nl, args[2],
                    arith::ExtUIOp::create(nb, nl, nb.getI64Type(), ahead))
                    .getResult());
          })
          .getResult(0);
  return mapElements(
      b, loc, ranks, b.getI64Type(), [&](OpBuilder &nb, Location nl, Value r) {
        Value k =
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, r, keep);
        return arith::ExtUIOp::create(nb, nl, nb.getI64Type(), k).getResult();
      });
}

/// Builds counts[t] = sum_l kept[t, l].
static Value buildKeptCounts(OpBuilder &b, Location loc, Value kept,
                             int64_t staticTubelets, int64_t perTubelet,
                             OpFoldResult tubelets) {
  MLIRContext *ctx = b.getContext();
  auto grid =
      RankedTensorType::get({staticTubelets, perTubelet}, b.getI64Type());
  Value keptGrid = tensor::ExpandShapeOp::create(
      b, loc, grid, kept, SmallVector<ReassociationIndices>{{0, 1}});
  Value counts = createFilled(b, loc, {tubelets}, b.getI64IntegerAttr(0));
  return linalg::GenericOp::create(
             b, loc, counts.getType(), keptGrid, counts,
             {dimsMap(ctx, 2, {0, 1}), dimsMap(ctx, 2, {0})}, iterators(2, {1}),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(
                   nb, nl,
                   arith::AddIOp::create(nb, nl, args[1], args[0]).getResult());
             })
      .getResult(0);
}

/// Builds the [keep, D] rows of `x` flagged in `kept`, in original order,
/// as a gather: every step is a parallel linalg op (one kernel each on the
/// GPU, where the kept rows never visit the host).
///   before[i] = #{j <= i : kept[j]}   (row i is the before[i]-th kept row)
///   source[r] = #{i : before[i] <= r} (the index of the r-th kept row)
///   out[r, :] = x[source[r], :]
static Value compactKeptRows(OpBuilder &b, Location loc, Value x, Value kept,
                             Value keep, RankedTensorType keptType,
                             OpFoldResult total, Type element) {
  MLIRContext *ctx = b.getContext();
  Type i64 = b.getI64Type();
  int64_t width = cast<RankedTensorType>(x.getType()).getDimSize(2);
  Value rows = tensor::CollapseShapeOp::create(
      b, loc, x, SmallVector<ReassociationIndices>{{0, 1}, {2}});
  Value keepIndex = arith::IndexCastOp::create(b, loc, b.getIndexType(), keep);
  OpFoldResult keptRows =
      keptType.isDynamicDim(0)
          ? OpFoldResult(keepIndex)
          : OpFoldResult(b.getIndexAttr(keptType.getDimSize(0)));

  Value zeros = createFilled(b, loc, {total}, b.getI64IntegerAttr(0));
  Value before =
      linalg::GenericOp::create(
          b, loc, zeros.getType(), kept, zeros,
          {dimsMap(ctx, 2, {1}), dimsMap(ctx, 2, {0})}, iterators(2, {1}),
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value upTo =
                arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ule,
                                      linalg::IndexOp::create(nb, nl, 1),
                                      linalg::IndexOp::create(nb, nl, 0));
            Value counted = arith::SelectOp::create(
                nb, nl, upTo, args[0],
                arith::ConstantIntOp::create(nb, nl, 0, 64));
            linalg::YieldOp::create(
                nb, nl,
                arith::AddIOp::create(nb, nl, args[1], counted).getResult());
          })
          .getResult(0);

  Value counts = createFilled(b, loc, {keptRows}, b.getI64IntegerAttr(0));
  Value source =
      linalg::GenericOp::create(
          b, loc, counts.getType(), before, counts,
          {dimsMap(ctx, 2, {1}), dimsMap(ctx, 2, {0})}, iterators(2, {1}),
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value r = arith::IndexCastOp::create(
                nb, nl, i64, linalg::IndexOp::create(nb, nl, 0));
            Value earlier = arith::CmpIOp::create(
                nb, nl, arith::CmpIPredicate::sle, args[0], r);
            linalg::YieldOp::create(
                nb, nl,
                arith::AddIOp::create(
                    nb, nl, args[1],
                    arith::ExtUIOp::create(nb, nl, i64, earlier))
                    .getResult());
          })
          .getResult(0);

  Value out = createEmpty(b, loc, {keptRows, b.getIndexAttr(width)}, element);
  return linalg::GenericOp::create(
             b, loc, out.getType(), source, out,
             {dimsMap(ctx, 2, {0}), dimsMap(ctx, 2, {0, 1})}, iterators(2, {}),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value row = arith::IndexCastOp::create(nb, nl, nb.getIndexType(),
                                                      args[0]);
               Value value = tensor::ExtractOp::create(
                   nb, nl, rows,
                   ValueRange{row, linalg::IndexOp::create(nb, nl, 1)});
               linalg::YieldOp::create(nb, nl, value);
             })
      .getResult(0);
}

namespace {

/// evs_prune (§9.1, §9.2).
struct LowerEvsPrune : OpRewritePattern<EvsPruneOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EvsPruneOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inputType = op.getInput().getType();
    Type element = inputType.getElementType();
    int64_t perTubelet = inputType.getDimSize(1);
    Value x = op.getInput();
    OpFoldResult tubelets = sizesOf(rewriter, loc, x)[0];
    Value numTubelets =
        getValueOrCreateConstantIndexOp(rewriter, loc, tubelets);

    // Every step rounds to the element type, as PyTorch on that dtype.
    Value norms =
        buildTokenNorms(rewriter, loc, x, tubelets, perTubelet, element);
    Value unit = buildUnitVectors(rewriter, loc, x, norms, element);
    Value flat = buildDissimilarities(rewriter, loc, unit, tubelets, perTubelet,
                                      element);

    auto keptType = op.getKept().getType();
    Value keep = buildKeepCount(rewriter, loc, keptType, numTubelets,
                                perTubelet, op.getRate().convertToDouble());
    OpFoldResult total = sizesOf(rewriter, loc, flat)[0];
    Value kept = buildKeptFlags(rewriter, loc, flat, total, keep);
    Value counts = buildKeptCounts(rewriter, loc, kept, inputType.getDimSize(0),
                                   perTubelet, tubelets);
    Value rows =
        compactKeptRows(rewriter, loc, x, kept, keep, keptType, total, element);
    rewriter.replaceOp(op, {rows, counts});
    return success();
  }
};

} // namespace

void vision::populateVisionTokenToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerEvsPrune, LowerPixelShuffle>(patterns.getContext());
}
