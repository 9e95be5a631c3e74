//===- EncoderOps.cpp - Lowering of the ViT block and projector ops -------===//
//
// layer_norm, rms_norm, linear, gelu, relu2 and attention to linalg on
// tensors. Arithmetic is f32 whatever the storage type; every op rounds its
// result once (RMSNorm cast_then_scale twice, as specified).
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "fovea/Conversion/VisionToLinalg/VisionToLinalg.h"
#include "fovea/Dialect/Vision/IR/VisionOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::vision;
using namespace mlir::vision::lowering;

/// Sums `fn(row, column)` over the columns of each row of an [M, D] matrix
/// into an f32 [M] vector. `extra` are [M] vectors passed to `fn` per row.
static Value
rowReduce(OpBuilder &b, Location loc, Value matrix, ValueRange extra,
          function_ref<Value(OpBuilder &, Location, Value, ValueRange)> fn) {
  MLIRContext *ctx = b.getContext();
  SmallVector<OpFoldResult> rows = {sizesOf(b, loc, matrix)[0]};
  Value init = createFilled(b, loc, rows, b.getF32FloatAttr(0.0f));
  SmallVector<Value> inputs = {matrix};
  SmallVector<AffineMap> maps = {dimsMap(ctx, 2, {0, 1})};
  for (Value v : extra) {
    inputs.push_back(v);
    maps.push_back(dimsMap(ctx, 2, {0}));
  }
  maps.push_back(dimsMap(ctx, 2, {0}));
  return linalg::GenericOp::create(
             b, loc, init.getType(), inputs, init, maps, iterators(2, {1}),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value term = fn(nb, nl, toF32(nb, nl, args[0]),
                               args.drop_front().drop_back());
               linalg::YieldOp::create(
                   nb, nl,
                   arith::AddFOp::create(nb, nl, args.back(), term)
                       .getResult());
             })
      .getResult(0);
}

/// Maps every element of an [M, D] matrix with per-row [M] vectors `rowArgs`
/// and per-column [D] vectors `colArgs` to a new [M, D] matrix of
/// `elementType`. `fn` receives the f32 element, the row and column values.
static Value mapRows(
    OpBuilder &b, Location loc, Value matrix, ValueRange rowArgs,
    ValueRange colArgs, Type elementType,
    function_ref<Value(OpBuilder &, Location, Value, ValueRange, ValueRange)>
        fn) {
  MLIRContext *ctx = b.getContext();
  Value init = createEmpty(b, loc, sizesOf(b, loc, matrix), elementType);
  SmallVector<Value> inputs = {matrix};
  SmallVector<AffineMap> maps = {dimsMap(ctx, 2, {0, 1})};
  for (Value v : rowArgs) {
    inputs.push_back(v);
    maps.push_back(dimsMap(ctx, 2, {0}));
  }
  for (Value v : colArgs) {
    inputs.push_back(v);
    maps.push_back(dimsMap(ctx, 2, {1}));
  }
  maps.push_back(dimsMap(ctx, 2, {0, 1}));
  size_t numRow = rowArgs.size();
  return linalg::GenericOp::create(
             b, loc, init.getType(), inputs, init, maps, iterators(2),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               ValueRange rows = args.slice(1, numRow);
               ValueRange cols = args.slice(1 + numRow, colArgs.size());
               linalg::YieldOp::create(
                   nb, nl, fn(nb, nl, toF32(nb, nl, args[0]), rows, cols));
             })
      .getResult(0);
}

namespace {

/// LayerNorm: f32 mean and biased variance (two passes), eps inside the
/// square root, affine, one rounding.
struct LowerLayerNorm : OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    int64_t width = type.getShape().back();
    Value x = collapseToMatrix(rewriter, loc, op.getInput());
    Value sum =
        rowReduce(rewriter, loc, x, {},
                  [](OpBuilder &, Location, Value v, ValueRange) { return v; });
    Value widthF = f32Constant(rewriter, loc, static_cast<double>(width));
    Value squares = rowReduce(
        rewriter, loc, x, sum,
        [&](OpBuilder &nb, Location nl, Value v, ValueRange row) {
          Value mean = arith::DivFOp::create(nb, nl, row[0], widthF);
          Value diff = arith::SubFOp::create(nb, nl, v, mean);
          return arith::MulFOp::create(nb, nl, diff, diff).getResult();
        });
    Value eps = f32Constant(rewriter, loc, op.getEpsilon().convertToDouble());
    Value one = f32Constant(rewriter, loc, 1.0);
    Type element = type.getElementType();
    Value y = mapRows(
        rewriter, loc, x, {sum, squares}, {op.getWeight(), op.getBias()},
        element,
        [&](OpBuilder &nb, Location nl, Value v, ValueRange row,
            ValueRange col) {
          Value mean = arith::DivFOp::create(nb, nl, row[0], widthF);
          Value var = arith::DivFOp::create(nb, nl, row[1], widthF);
          Value denom = math::SqrtOp::create(
              nb, nl, arith::AddFOp::create(nb, nl, var, eps));
          Value rstd = arith::DivFOp::create(nb, nl, one, denom);
          Value norm = arith::MulFOp::create(
              nb, nl, arith::SubFOp::create(nb, nl, v, mean), rstd);
          Value scaled =
              arith::MulFOp::create(nb, nl, norm, toF32(nb, nl, col[0]));
          Value shifted =
              arith::AddFOp::create(nb, nl, scaled, toF32(nb, nl, col[1]));
          return fromF32(nb, nl, shifted, element);
        });
    rewriter.replaceOp(op, expandFromMatrix(rewriter, loc, y, type));
    return success();
  }
};

/// RMSNorm: f32 `x * rsqrt(mean(x^2) + eps)`, then the weight, rounded as
/// `weight_order` says.
struct LowerRmsNorm : OpRewritePattern<RmsNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RmsNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    Type element = type.getElementType();
    int64_t width = type.getShape().back();
    Value x = collapseToMatrix(rewriter, loc, op.getInput());
    Value squares =
        rowReduce(rewriter, loc, x, {},
                  [](OpBuilder &nb, Location nl, Value v, ValueRange) {
                    return arith::MulFOp::create(nb, nl, v, v).getResult();
                  });
    Value widthF = f32Constant(rewriter, loc, static_cast<double>(width));
    Value eps = f32Constant(rewriter, loc, op.getEpsilon().convertToDouble());
    bool castFirst = op.getWeightOrder() == RmsNormWeightOrder::cast_then_scale;
    Value y =
        mapRows(rewriter, loc, x, squares, op.getWeight(), element,
                [&](OpBuilder &nb, Location nl, Value v, ValueRange row,
                    ValueRange col) {
                  Value meanSq = arith::DivFOp::create(nb, nl, row[0], widthF);
                  Value rs = math::RsqrtOp::create(
                      nb, nl, arith::AddFOp::create(nb, nl, meanSq, eps));
                  Value norm = arith::MulFOp::create(nb, nl, v, rs);
                  if (castFirst)
                    norm = roundThroughStorage(nb, nl, norm, element);
                  Value scaled = arith::MulFOp::create(nb, nl, norm,
                                                       toF32(nb, nl, col[0]));
                  return fromF32(nb, nl, scaled, element);
                });
    rewriter.replaceOp(op, expandFromMatrix(rewriter, loc, y, type));
    return success();
  }
};

/// Linear: a transposed-B matmul into an f32 accumulator, then the bias and
/// one rounding.
struct LowerLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto type = op.getType();
    Type element = type.getElementType();
    Value x = collapseToMatrix(rewriter, loc, op.getInput());
    SmallVector<OpFoldResult> accSizes = {
        sizesOf(rewriter, loc, x)[0],
        rewriter.getIndexAttr(op.getWeight().getType().getDimSize(0))};
    Value acc =
        createFilled(rewriter, loc, accSizes, rewriter.getF32FloatAttr(0.0f));
    // The weight is read as [K, N] (a transpose that depends on the weight
    // only), so the loops (m, k, n) end in a unit-stride loop over the
    // outputs n: vectorizable without reassociating the f32 sums.
    auto weightType = op.getWeight().getType();
    Value weightT =
        createEmpty(rewriter, loc,
                    {rewriter.getIndexAttr(weightType.getDimSize(1)),
                     rewriter.getIndexAttr(weightType.getDimSize(0))},
                    weightType.getElementType());
    weightT = linalg::TransposeOp::create(rewriter, loc, op.getWeight(),
                                          weightT, ArrayRef<int64_t>{1, 0})
                  .getResult()[0];
    // (m, k, n): x[m, k] * wT[k, n] -> acc[m, n].
    acc = linalg::GenericOp::create(
              rewriter, loc, acc.getType(), ValueRange{x, weightT}, acc,
              {dimsMap(ctx, 3, {0, 1}), dimsMap(ctx, 3, {1, 2}),
               dimsMap(ctx, 3, {0, 2})},
              iterators(3, {1}), yieldMulAdd)
              .getResult(0);
    SmallVector<Value> bias;
    if (op.getBias())
      bias.push_back(op.getBias());
    Value y = mapRows(
        rewriter, loc, acc, {}, bias, element,
        [&](OpBuilder &nb, Location nl, Value v, ValueRange, ValueRange col) {
          if (!col.empty())
            v = arith::AddFOp::create(nb, nl, v, toF32(nb, nl, col[0]));
          return fromF32(nb, nl, v, element);
        });
    rewriter.replaceOp(op, expandFromMatrix(rewriter, loc, y, type));
    return success();
  }
};

/// GELU in f32, exact (erf) or tanh form.
struct LowerGelu : OpRewritePattern<GeluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GeluOp op,
                                PatternRewriter &rewriter) const override {
    Type element = op.getType().getElementType();
    bool exact = op.getApproximation() == GeluApproximation::none;
    Value y = mapElements(
        rewriter, op.getLoc(), op.getInput(), element,
        [&](OpBuilder &nb, Location nl, Value in) {
          Value x = toF32(nb, nl, in);
          Value half = f32Constant(nb, nl, 0.5);
          Value one = f32Constant(nb, nl, 1.0);
          Value inner;
          if (exact) {
            Value scaled = arith::MulFOp::create(
                nb, nl, x, f32Constant(nb, nl, M_SQRT1_2));
            inner = math::ErfOp::create(nb, nl, scaled);
          } else {
            Value cube = arith::MulFOp::create(
                nb, nl, x, arith::MulFOp::create(nb, nl, x, x));
            Value poly = arith::AddFOp::create(
                nb, nl, x,
                arith::MulFOp::create(nb, nl, f32Constant(nb, nl, 0.044715),
                                      cube));
            Value arg = arith::MulFOp::create(
                nb, nl, f32Constant(nb, nl, std::sqrt(2.0 / M_PI)), poly);
            inner = math::TanhOp::create(nb, nl, arg);
          }
          Value factor = arith::AddFOp::create(nb, nl, one, inner);
          Value y = arith::MulFOp::create(
              nb, nl, arith::MulFOp::create(nb, nl, half, x), factor);
          return fromF32(nb, nl, y, element);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// Squared ReLU in f32.
struct LowerRelu2 : OpRewritePattern<Relu2Op> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(Relu2Op op,
                                PatternRewriter &rewriter) const override {
    Type element = op.getType().getElementType();
    Value y = mapElements(
        rewriter, op.getLoc(), op.getInput(), element,
        [&](OpBuilder &nb, Location nl, Value in) {
          Value x = toF32(nb, nl, in);
          Value r =
              arith::MaximumFOp::create(nb, nl, x, f32Constant(nb, nl, 0));
          return fromF32(nb, nl, arith::MulFOp::create(nb, nl, r, r), element);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

} // namespace

/// The logit of one (b, h, i, j) from a generic body's leading arguments.
using LogitFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// Builds the [B, L, H, d] view of a [B, L, E] tensor of `type`.
static Value splitHeads(OpBuilder &b, Location loc, Value v,
                        RankedTensorType type, int64_t heads) {
  auto splitType =
      RankedTensorType::get({type.getDimSize(0), type.getDimSize(1), heads,
                             type.getDimSize(2) / heads},
                            type.getElementType());
  return tensor::ExpandShapeOp::create(
      b, loc, splitType, v,
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
}

/// Builds the f32 scores[b, h, i, j] = sum_c q[b, i, h, c] * k[b, j, h, c].
static Value buildScores(OpBuilder &b, Location loc, Value q, Value k,
                         OpFoldResult batch, int64_t heads, int64_t tokens,
                         Type element) {
  MLIRContext *ctx = b.getContext();
  // k is transposed to [B, H, d, L] so the loops (b, h, i, c, j) end in a
  // unit-stride loop over j.
  SmallVector<OpFoldResult> kSizes = sizesOf(b, loc, k);
  Value kT = createEmpty(b, loc, {kSizes[0], kSizes[2], kSizes[3], kSizes[1]},
                         element);
  kT = linalg::TransposeOp::create(b, loc, k, kT, ArrayRef<int64_t>{0, 2, 3, 1})
           .getResult()[0];
  Value scores = createFilled(b, loc,
                              {batch, b.getIndexAttr(heads),
                               b.getIndexAttr(tokens), b.getIndexAttr(tokens)},
                              b.getF32FloatAttr(0.0f));
  return linalg::GenericOp::create(
             b, loc, scores.getType(), ValueRange{q, kT}, scores,
             {dimsMap(ctx, 5, {0, 2, 1, 3}), dimsMap(ctx, 5, {0, 1, 3, 4}),
              dimsMap(ctx, 5, {0, 1, 2, 4})},
             iterators(5, {3}), yieldMulAdd)
      .getResult(0);
}

/// Builds the i32 [L] segment id of every token from the boundaries `cu`.
static Value buildSegmentIds(OpBuilder &b, Location loc, Value cu,
                             int64_t tokens) {
  MLIRContext *ctx = b.getContext();
  Value init =
      createFilled(b, loc, {b.getIndexAttr(tokens)}, b.getI32IntegerAttr(0));
  return linalg::GenericOp::create(
             b, loc, init.getType(), cu, init,
             {dimsMap(ctx, 2, {1}), dimsMap(ctx, 2, {0})}, iterators(2, {1}),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value token = arith::IndexCastOp::create(
                   nb, nl, nb.getI32Type(), linalg::IndexOp::create(nb, nl, 0));
               Value starts = arith::CmpIOp::create(
                   nb, nl, arith::CmpIPredicate::sle, args[0], token);
               Value inc =
                   arith::ExtUIOp::create(nb, nl, nb.getI32Type(), starts);
               linalg::YieldOp::create(
                   nb, nl,
                   arith::AddIOp::create(nb, nl, args[1], inc).getResult());
             })
      .getResult(0);
}

/// Builds the f32 [B, H, L] row maximum of the logits.
static Value buildRowMax(OpBuilder &b, Location loc, ValueRange logitInputs,
                         ArrayRef<AffineMap> logitMaps,
                         ArrayRef<OpFoldResult> rowSizes, LogitFn logitOf) {
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps(logitMaps);
  maps.push_back(dimsMap(ctx, 4, {0, 1, 2}));
  Value rowMax =
      createFilled(b, loc, rowSizes,
                   b.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
  return linalg::GenericOp::create(
             b, loc, rowMax.getType(), logitInputs, rowMax, maps,
             iterators(4, {3}),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(
                   nb, nl,
                   arith::MaximumFOp::create(nb, nl, args.back(),
                                             logitOf(nb, nl, args))
                       .getResult());
             })
      .getResult(0);
}

/// Builds the f32 [B, H, L, L] exp(logit - max) of every score.
static Value buildExpLogits(OpBuilder &b, Location loc, Value scores,
                            ValueRange logitInputs,
                            ArrayRef<AffineMap> logitMaps, Value rowMax,
                            LogitFn logitOf) {
  MLIRContext *ctx = b.getContext();
  SmallVector<Value> probInputs(logitInputs);
  probInputs.push_back(rowMax);
  SmallVector<AffineMap> probMaps(logitMaps);
  probMaps.push_back(dimsMap(ctx, 4, {0, 1, 2}));
  probMaps.push_back(dimsMap(ctx, 4, {0, 1, 2, 3}));
  Value probs = createEmpty(b, loc, sizesOf(b, loc, scores), b.getF32Type());
  return linalg::GenericOp::create(
             b, loc, probs.getType(), probInputs, probs, probMaps, iterators(4),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value shifted = arith::SubFOp::create(
                   nb, nl, logitOf(nb, nl, args), args[args.size() - 2]);
               linalg::YieldOp::create(
                   nb, nl, math::ExpOp::create(nb, nl, shifted).getResult());
             })
      .getResult(0);
}

/// Builds the f32 [B, H, L] row sums of the [B, H, L, L] `probs`.
static Value buildRowSums(OpBuilder &b, Location loc, Value probs,
                          ArrayRef<OpFoldResult> rowSizes) {
  MLIRContext *ctx = b.getContext();
  Value rowSum = createFilled(b, loc, rowSizes, b.getF32FloatAttr(0.0f));
  return linalg::GenericOp::create(
             b, loc, rowSum.getType(), probs, rowSum,
             {dimsMap(ctx, 4, {0, 1, 2, 3}), dimsMap(ctx, 4, {0, 1, 2})},
             iterators(4, {3}),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(
                   nb, nl,
                   arith::AddFOp::create(nb, nl, args[1], args[0]).getResult());
             })
      .getResult(0);
}

/// Builds the unnormalized softmax and its row sums (divided in the v sum).
static std::pair<Value, Value>
buildSoftmaxTerms(OpBuilder &b, Location loc, Value scores, Value segments,
                  double scaleFactor, ArrayRef<OpFoldResult> rowSizes) {
  MLIRContext *ctx = b.getContext();
  Value scale = f32Constant(b, loc, scaleFactor);
  Value negInf = f32Constant(b, loc, -std::numeric_limits<double>::infinity());
  // The scaled, masked logit of (i, j) from the generic's arguments.
  auto logit = [&](OpBuilder &nb, Location nl, Value score, Value segI,
                   Value segJ) -> Value {
    Value scaled = arith::MulFOp::create(nb, nl, score, scale);
    if (!segI)
      return scaled;
    Value same =
        arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, segI, segJ);
    return arith::SelectOp::create(nb, nl, same, scaled, negInf);
  };
  SmallVector<Value> logitInputs = {scores};
  SmallVector<AffineMap> logitMaps = {dimsMap(ctx, 4, {0, 1, 2, 3})};
  if (segments) {
    logitInputs.append({segments, segments});
    logitMaps.append({dimsMap(ctx, 4, {2}), dimsMap(ctx, 4, {3})});
  }
  auto logitOf = [&](OpBuilder &nb, Location nl, ValueRange args) {
    return logit(nb, nl, args[0], segments ? args[1] : Value(),
                 segments ? args[2] : Value());
  };

  Value rowMax = buildRowMax(b, loc, logitInputs, logitMaps, rowSizes, logitOf);
  Value probs =
      buildExpLogits(b, loc, scores, logitInputs, logitMaps, rowMax, logitOf);
  Value rowSum = buildRowSums(b, loc, probs, rowSizes);
  return {probs, rowSum};
}

/// Builds the [B, L, H, d] softmax-weighted sum of v, rounded to `element`.
static Value buildWeightedValues(OpBuilder &b, Location loc, Value probs,
                                 Value rowSum, Value v, OpFoldResult batch,
                                 int64_t tokens, int64_t heads, int64_t headDim,
                                 Type element) {
  MLIRContext *ctx = b.getContext();
  // out[b, i, h, c] = sum_j p[b, h, i, j] / sum[b, h, i] * v[b, j, h, c];
  // loops (b, i, h, j, c) end in a unit-stride loop over c.
  Value acc = createFilled(b, loc,
                           {batch, b.getIndexAttr(tokens),
                            b.getIndexAttr(heads), b.getIndexAttr(headDim)},
                           b.getF32FloatAttr(0.0f));
  acc = linalg::GenericOp::create(
            b, loc, acc.getType(), ValueRange{probs, rowSum, v}, acc,
            {dimsMap(ctx, 5, {0, 2, 1, 3}), dimsMap(ctx, 5, {0, 2, 1}),
             dimsMap(ctx, 5, {0, 3, 2, 4}), dimsMap(ctx, 5, {0, 1, 2, 4})},
            iterators(5, {3}),
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              Value p = arith::DivFOp::create(nb, nl, args[0], args[1]);
              Value prod =
                  arith::MulFOp::create(nb, nl, p, toF32(nb, nl, args[2]));
              linalg::YieldOp::create(
                  nb, nl,
                  arith::AddFOp::create(nb, nl, args[3], prod).getResult());
            })
            .getResult(0);
  return mapElements(b, loc, acc, element,
                     [&](OpBuilder &nb, Location nl, Value in) {
                       return fromF32(nb, nl, in, element);
                     });
}

namespace {

/// Attention: f32 scores, max-subtracted softmax, f32 weighted sum of v; a
/// segment id per token from `cu_seqlens` masks scores across segments.
struct LowerAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    Type element = type.getElementType();
    int64_t heads = static_cast<int64_t>(op.getNumHeads());
    int64_t tokens = type.getDimSize(1);
    int64_t headDim = type.getDimSize(2) / heads;

    Value q = splitHeads(rewriter, loc, op.getQ(), type, heads),
          k = splitHeads(rewriter, loc, op.getK(), type, heads),
          v = splitHeads(rewriter, loc, op.getV(), type, heads);
    OpFoldResult batch = sizesOf(rewriter, loc, q)[0];
    Value scores =
        buildScores(rewriter, loc, q, k, batch, heads, tokens, element);
    Value segments;
    if (Value cu = op.getCuSeqlens())
      segments = buildSegmentIds(rewriter, loc, cu, tokens);

    SmallVector<OpFoldResult> rowSizes = {batch, rewriter.getIndexAttr(heads),
                                          rewriter.getIndexAttr(tokens)};
    auto [probs, rowSum] =
        buildSoftmaxTerms(rewriter, loc, scores, segments,
                          op.getScale().convertToDouble(), rowSizes);
    Value rounded = buildWeightedValues(rewriter, loc, probs, rowSum, v, batch,
                                        tokens, heads, headDim, element);
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        op, type, rounded, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
    return success();
  }
};

} // namespace

void vision::populateVisionEncoderToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<LowerAttention, LowerGelu, LowerLayerNorm, LowerLinear,
               LowerRelu2, LowerRmsNorm>(patterns.getContext());
}
