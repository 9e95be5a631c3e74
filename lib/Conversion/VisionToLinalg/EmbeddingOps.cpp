//===- EmbeddingOps.cpp - Lowering of the embedding ops -------------------===//
//
// patch_embed, tubelet_embed, interp_pos_embed, prepend_tokens and
// strip_prefix to linalg and tensor ops. The embeddings are contractions
// that read the patches in place (no im2col copy) into an f32 accumulator.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "fovea/Conversion/VisionToLinalg/VisionToLinalg.h"
#include "fovea/Dialect/Vision/IR/VisionOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::vision;
using namespace mlir::vision::lowering;

/// Projects the patches of `frames` ([nt, T, C, H, W]) with `weight`
/// ([D, T*C*P*P], vector order (t, c, yy, xx)) into [nt, Hp*Wp, D] of
/// `resultType`: an f32 accumulation over (t, c, yy, xx), plus `bias` ([D],
/// null for none) in f32, one rounding.
static Value embedPatches(OpBuilder &b, Location loc, Value frames,
                          Value weight, Value bias, int64_t patch,
                          RankedTensorType resultType) {
  MLIRContext *ctx = b.getContext();
  auto framesType = cast<RankedTensorType>(frames.getType());
  int64_t temporal = framesType.getDimSize(1);
  int64_t channels = framesType.getDimSize(2);
  int64_t rows = framesType.getDimSize(3) / patch;
  int64_t cols = framesType.getDimSize(4) / patch;
  int64_t width = resultType.getDimSize(2);
  Type element = resultType.getElementType();

  auto weightType =
      RankedTensorType::get({width, temporal, channels, patch, patch}, element);
  Value w = tensor::ExpandShapeOp::create(
      b, loc, weightType, weight,
      SmallVector<ReassociationIndices>{{0}, {1, 2, 3, 4}});

  // Loops (n, py, px, d, t, c, yy, xx).
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  AffineMap framesMap = AffineMap::get(
      8, 0, {d(0), d(4), d(5), d(1) * patch + d(6), d(2) * patch + d(7)}, ctx);
  OpFoldResult units = sizesOf(b, loc, frames)[0];
  Value acc = createFilled(b, loc,
                           {units, b.getIndexAttr(rows), b.getIndexAttr(cols),
                            b.getIndexAttr(width)},
                           b.getF32FloatAttr(0.0f));
  acc = linalg::GenericOp::create(b, loc, acc.getType(), ValueRange{frames, w},
                                  acc,
                                  {framesMap, dimsMap(ctx, 8, {3, 4, 5, 6, 7}),
                                   dimsMap(ctx, 8, {0, 1, 2, 3})},
                                  iterators(8, {4, 5, 6, 7}), yieldMulAdd)
            .getResult(0);
  Value rounded;
  if (!bias) {
    rounded = mapElements(b, loc, acc, element,
                          [&](OpBuilder &nb, Location nl, Value v) {
                            return fromF32(nb, nl, v, element);
                          });
  } else {
    Value init = createEmpty(b, loc, sizesOf(b, loc, acc), element);
    rounded =
        linalg::GenericOp::create(
            b, loc, init.getType(), ValueRange{acc, bias}, init,
            {b.getMultiDimIdentityMap(4), dimsMap(ctx, 4, {3}),
             b.getMultiDimIdentityMap(4)},
            iterators(4),
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              Value v = arith::AddFOp::create(nb, nl, args[0],
                                              toF32(nb, nl, args[1]));
              linalg::YieldOp::create(nb, nl, fromF32(nb, nl, v, element));
            })
            .getResult(0);
  }
  return tensor::CollapseShapeOp::create(
      b, loc, resultType, rounded,
      SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}});
}

namespace {

/// patch_embed: a tubelet embedding with T = 1.
struct LowerPatchEmbed : OpRewritePattern<PatchEmbedOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PatchEmbedOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getInput().getType();
    SmallVector<int64_t> shape(type.getShape());
    shape.insert(shape.begin() + 1, 1);
    Value frames = tensor::ExpandShapeOp::create(
        rewriter, loc, type.clone(shape), op.getInput(),
        SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});
    rewriter.replaceOp(op, embedPatches(rewriter, loc, frames, op.getWeight(),
                                        op.getBias(),
                                        static_cast<int64_t>(op.getPatchSize()),
                                        op.getType()));
    return success();
  }
};

/// tubelet_embed: pad the frames to a multiple of T by repeating the last
/// one (a gather), group them into tubelets and embed.
struct LowerTubeletEmbed : OpRewritePattern<TubeletEmbedOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TubeletEmbedOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getFrames().getType();
    auto temporal = static_cast<int64_t>(op.getTemporalPatchSize());
    Value frames = op.getFrames();
    int64_t numFrames = type.getDimSize(0);
    bool aligned =
        !ShapedType::isDynamic(numFrames) && numFrames % temporal == 0;
    if (!aligned) {
      // padded[f] = frames[min(f, F - 1)] for f < ceil(F / T) * T.
      Value count = tensor::DimOp::create(rewriter, loc, frames, 0);
      SmallVector<OpFoldResult> sizes = sizesOf(rewriter, loc, frames);
      int64_t tubeletCount = op.getType().getDimSize(0);
      if (ShapedType::isDynamic(tubeletCount)) {
        Value t = arith::ConstantIndexOp::create(rewriter, loc, temporal);
        Value tubelets = arith::CeilDivUIOp::create(rewriter, loc, count, t);
        sizes[0] =
            arith::MulIOp::create(rewriter, loc, tubelets, t).getResult();
      } else {
        sizes[0] = rewriter.getIndexAttr(tubeletCount * temporal);
      }
      Value init = createEmpty(rewriter, loc, sizes, type.getElementType());
      Value last = arith::SubIOp::create(
          rewriter, loc, count,
          arith::ConstantIndexOp::create(rewriter, loc, 1));
      frames = linalg::GenericOp::create(
                   rewriter, loc, init.getType(), ValueRange{}, init,
                   {rewriter.getMultiDimIdentityMap(4)}, iterators(4),
                   [&](OpBuilder &nb, Location nl, ValueRange) {
                     SmallVector<Value> idx;
                     for (int i = 0; i < 4; ++i)
                       idx.push_back(linalg::IndexOp::create(nb, nl, i));
                     idx[0] = arith::MinUIOp::create(nb, nl, idx[0], last);
                     linalg::YieldOp::create(
                         nb, nl,
                         tensor::ExtractOp::create(nb, nl, op.getFrames(), idx)
                             .getResult());
                   })
                   .getResult(0);
    }
    auto framesType = cast<RankedTensorType>(frames.getType());
    int64_t tubeletCount = op.getType().getDimSize(0);
    auto grouped =
        RankedTensorType::get({tubeletCount, temporal, type.getDimSize(1),
                               type.getDimSize(2), type.getDimSize(3)},
                              framesType.getElementType());
    Value tubelets = tensor::ExpandShapeOp::create(
        rewriter, loc, grouped, frames,
        SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});
    rewriter.replaceOp(op, embedPatches(rewriter, loc, tubelets, op.getWeight(),
                                        op.getBias(),
                                        static_cast<int64_t>(op.getPatchSize()),
                                        op.getType()));
    return success();
  }
};

/// Source indices and weights of one axis of PyTorch's bilinear resize
/// (align_corners as given, no antialiasing), computed in f32 as PyTorch's
/// CPU kernel does.
struct BilinearAxis {
  SmallVector<int64_t> index0, index1;
  SmallVector<float> lambda0, lambda1;
};

static BilinearAxis bilinearAxis(int64_t in, int64_t out, int64_t keep,
                                 bool alignCorners) {
  BilinearAxis axis;
  float scale =
      alignCorners
          ? (out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1)
                     : 0.0f)
          : static_cast<float>(in) / static_cast<float>(out);
  for (int64_t i = 0; i < keep; ++i) {
    if (in == out) {
      axis.index0.push_back(i);
      axis.index1.push_back(i);
      axis.lambda0.push_back(1.0f);
      axis.lambda1.push_back(0.0f);
      continue;
    }
    float src = alignCorners ? scale * static_cast<float>(i)
                             : scale * (static_cast<float>(i) + 0.5f) - 0.5f;
    if (!alignCorners && src < 0.0f)
      src = 0.0f;
    int64_t i0 = std::min(static_cast<int64_t>(std::floor(src)), in - 1);
    float l1 = std::min(std::max(src - static_cast<float>(i0), 0.0f), 1.0f);
    axis.index0.push_back(i0);
    axis.index1.push_back(i0 + (i0 < in - 1 ? 1 : 0));
    axis.lambda1.push_back(l1);
    axis.lambda0.push_back(1.0f - l1);
  }
  return axis;
}

/// interp_pos_embed: gathers the four neighbours of every kept position from
/// the R x R grid, interpolates in f32 (height outer, width inner, as
/// PyTorch) and rounds to the table's type.
struct LowerInterpPosEmbed : OpRewritePattern<InterpPosEmbedOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(InterpPosEmbedOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto tableType = op.getTable().getType();
    Type element = tableType.getElementType();
    int64_t rowsTotal = tableType.getDimSize(1);
    auto side = static_cast<int64_t>(std::llround(std::sqrt(rowsTotal)));
    int64_t channels = tableType.getDimSize(2);
    int64_t h = op.getGrid()[0], w = op.getGrid()[1];
    int64_t square = std::max(h, w);
    bool alignCorners = op.getAlignCorners();
    BilinearAxis rows = bilinearAxis(side, square, h, alignCorners);
    BilinearAxis cols = bilinearAxis(side, square, w, alignCorners);

    auto grid = RankedTensorType::get({side, side, channels}, element);
    Value table = tensor::CollapseShapeOp::create(
        rewriter, loc, op.getTable(),
        SmallVector<ReassociationIndices>{{0, 1}, {2}});
    table = tensor::ExpandShapeOp::create(
        rewriter, loc, grid, table,
        SmallVector<ReassociationIndices>{{0, 1}, {2}});

    Type index = rewriter.getIndexType();
    SmallVector<Value> inputs = {
        constantVector(rewriter, loc, rows.index0, index),
        constantVector(rewriter, loc, rows.index1, index),
        constantVector(rewriter, loc, rows.lambda0),
        constantVector(rewriter, loc, rows.lambda1),
        constantVector(rewriter, loc, cols.index0, index),
        constantVector(rewriter, loc, cols.index1, index),
        constantVector(rewriter, loc, cols.lambda0),
        constantVector(rewriter, loc, cols.lambda1)};
    SmallVector<AffineMap> maps(4, dimsMap(ctx, 3, {0}));
    maps.append(4, dimsMap(ctx, 3, {1}));
    maps.push_back(dimsMap(ctx, 3, {0, 1, 2}));
    Value init =
        createEmpty(rewriter, loc,
                    {rewriter.getIndexAttr(h), rewriter.getIndexAttr(w),
                     rewriter.getIndexAttr(channels)},
                    element);
    Value out =
        linalg::GenericOp::create(
            rewriter, loc, init.getType(), inputs, init, maps, iterators(3),
            [&](OpBuilder &nb, Location nl, ValueRange a) {
              Value c = linalg::IndexOp::create(nb, nl, 2);
              auto at = [&](Value r, Value col) {
                return toF32(nb, nl,
                             tensor::ExtractOp::create(nb, nl, table,
                                                       ValueRange{r, col, c}));
              };
              auto lerp = [&](Value v0, Value l0, Value v1, Value l1) {
                return arith::AddFOp::create(
                           nb, nl, arith::MulFOp::create(nb, nl, v0, l0),
                           arith::MulFOp::create(nb, nl, v1, l1))
                    .getResult();
              };
              Value top = lerp(at(a[0], a[4]), a[6], at(a[0], a[5]), a[7]);
              Value bottom = lerp(at(a[1], a[4]), a[6], at(a[1], a[5]), a[7]);
              Value v = lerp(top, a[2], bottom, a[3]);
              linalg::YieldOp::create(nb, nl, fromF32(nb, nl, v, element));
            })
            .getResult(0);
    Value flat = tensor::CollapseShapeOp::create(
        rewriter, loc, out, SmallVector<ReassociationIndices>{{0, 1}, {2}});
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
        op, op.getType(), flat, SmallVector<ReassociationIndices>{{0, 1}, {2}});
    return success();
  }
};

/// The segment sizes of a prefix op, or the whole token axis.
static SmallVector<int64_t> segmentsOf(std::optional<ArrayRef<int64_t>> sizes,
                                       int64_t tokens) {
  if (sizes)
    return SmallVector<int64_t>(*sizes);
  return {tokens};
}

/// prepend_tokens: the prefix, broadcast over the batch, and every segment
/// inserted at their offsets.
struct LowerPrependTokens : OpRewritePattern<PrependTokensOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PrependTokensOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    auto inputType = op.getInput().getType();
    int64_t prefixRows = op.getPrefix().getType().getDimSize(0);
    int64_t channels = type.getDimSize(2);
    OpFoldResult batch = sizesOf(rewriter, loc, op.getInput())[0];
    auto idx = [&](int64_t v) { return rewriter.getIndexAttr(v); };

    Value prefix =
        createEmpty(rewriter, loc, {batch, idx(prefixRows), idx(channels)},
                    type.getElementType());
    prefix = linalg::BroadcastOp::create(rewriter, loc, op.getPrefix(), prefix,
                                         ArrayRef<int64_t>{0})
                 .getResult()[0];
    Value result = createEmpty(rewriter, loc,
                               {batch, idx(type.getDimSize(1)), idx(channels)},
                               type.getElementType());
    int64_t in = 0, out = 0;
    for (int64_t size :
         segmentsOf(op.getSegmentSizes(), inputType.getDimSize(1))) {
      result = insertTokens(rewriter, loc, prefix, result, out);
      out += prefixRows;
      Value segment = sliceTokens(rewriter, loc, op.getInput(), in, size);
      result = insertTokens(rewriter, loc, segment, result, out);
      in += size;
      out += size;
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// strip_prefix: the tokens of every segment after its prefix.
struct LowerStripPrefix : OpRewritePattern<StripPrefixOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(StripPrefixOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    auto numPrefix = static_cast<int64_t>(op.getNumPrefix());
    int64_t channels = type.getDimSize(2);
    OpFoldResult batch = sizesOf(rewriter, loc, op.getInput())[0];
    auto idx = [&](int64_t v) { return rewriter.getIndexAttr(v); };
    SmallVector<int64_t> segments =
        segmentsOf(op.getSegmentSizes(), type.getDimSize(1));
    if (segments.size() == 1) {
      rewriter.replaceOp(op, sliceTokens(rewriter, loc, op.getInput(),
                                         numPrefix, segments[0]));
      return success();
    }
    Value result = createEmpty(rewriter, loc,
                               {batch, idx(type.getDimSize(1)), idx(channels)},
                               type.getElementType());
    int64_t in = 0, out = 0;
    for (int64_t size : segments) {
      in += numPrefix;
      Value segment = sliceTokens(rewriter, loc, op.getInput(), in, size);
      result = insertTokens(rewriter, loc, segment, result, out);
      in += size;
      out += size;
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void vision::populateVisionEmbeddingToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<LowerInterpPosEmbed, LowerPatchEmbed, LowerPrependTokens,
               LowerStripPrefix, LowerTubeletEmbed>(patterns.getContext());
}
