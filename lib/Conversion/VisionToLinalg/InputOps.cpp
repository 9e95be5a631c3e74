//===- InputOps.cpp - Lowering of normalize and resize --------------------===//
//
// Input conditioning to linalg on tensors. The antialiased bicubic resize
// precomputes its taps at compile time (they depend only on the sizes) with
// Pillow's algorithm; the u8 domain uses Pillow's 22-bit fixed point so the
// result is bit-identical to Pillow's BICUBIC resize.
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

/// Reinterprets a ui8 pixel as the signless i8 that arith works on, or
/// back. The cast disappears in the LLVM lowering, where both are i8.
static Value castScalar(OpBuilder &b, Location loc, Value scalar, Type type) {
  if (scalar.getType() == type)
    return scalar;
  return UnrealizedConversionCastOp::create(b, loc, type, scalar).getResult(0);
}

namespace {

/// normalize: `((x / 255) - mean[c]) / std[c]` in f32.
struct LowerNormalize : OpRewritePattern<NormalizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(NormalizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value input = op.getInput();
    bool pixels = op.getInput().getType().getElementType().isUnsignedInteger();
    Value mean = constantVector(rewriter, loc, op.getMean());
    Value std = constantVector(rewriter, loc, op.getStd());
    Value init = createEmpty(rewriter, loc, sizesOf(rewriter, loc, input),
                             rewriter.getF32Type());
    AffineMap identity = rewriter.getMultiDimIdentityMap(4);
    AffineMap channel = dimsMap(ctx, 4, {1});
    Value y =
        linalg::GenericOp::create(
            rewriter, loc, init.getType(), ValueRange{input, mean, std}, init,
            {identity, channel, channel, identity}, iterators(4),
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              Value x = pixels
                            ? arith::UIToFPOp::create(
                                  nb, nl, nb.getF32Type(),
                                  castScalar(nb, nl, args[0], nb.getI8Type()))
                                  .getResult()
                            : toF32(nb, nl, args[0]);
              Value scaled =
                  arith::DivFOp::create(nb, nl, x, f32Constant(nb, nl, 255.0));
              Value centered = arith::SubFOp::create(nb, nl, scaled, args[1]);
              linalg::YieldOp::create(
                  nb, nl,
                  arith::DivFOp::create(nb, nl, centered, args[2]).getResult());
            })
            .getResult(0);
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// The taps of one axis of the antialiased bicubic resize: output index `i`
/// reads inputs [start[i], start[i] + taps) with `weights[i * taps + k]`
/// (zero past the real support).
struct ResizeTaps {
  int64_t taps = 0;
  SmallVector<int64_t> start;
  SmallVector<double> weights;
};

/// Keys' cubic with a = -0.5 (Pillow's and PyTorch's antialiased bicubic).
static double bicubic(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0)
    return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

/// Computes the taps for resizing `in` samples to `out` (§1.3): double
/// precision, normalized to sum 1, as Pillow's precompute_coeffs.
static ResizeTaps computeTaps(int64_t in, int64_t out) {
  ResizeTaps taps;
  double scale = static_cast<double>(in) / static_cast<double>(out);
  double filterScale = std::max(scale, 1.0);
  double support = 2.0 * filterScale;
  taps.taps = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  taps.weights.assign(out * taps.taps, 0.0);
  for (int64_t i = 0; i < out; ++i) {
    double center = (static_cast<double>(i) + 0.5) * scale;
    auto xmin =
        std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    auto xmax =
        std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in);
    double total = 0.0;
    double *w = &taps.weights[i * taps.taps];
    for (int64_t x = xmin; x < xmax; ++x) {
      w[x - xmin] =
          bicubic((static_cast<double>(x) - center + 0.5) / filterScale);
      total += w[x - xmin];
    }
    if (total != 0.0)
      for (int64_t x = 0; x < xmax - xmin; ++x)
        w[x] /= total;
    taps.start.push_back(xmin);
  }
  return taps;
}

/// Pillow's fixed point for 8-bit images: 22 fractional bits.
constexpr int kPrecisionBits = 22;

/// One separable pass along dimension `axis` (2 = height, 3 = width) of an
/// NCHW tensor. `fixedPoint` selects the u8 domain (i8 storage, i32
/// accumulation, round and clamp); otherwise the pass is f32 without
/// clamping.
static Value resizeAxis(OpBuilder &b, Location loc, Value input, int axis,
                        int64_t outSize, bool fixedPoint) {
  Type element = cast<RankedTensorType>(input.getType()).getElementType();
  MLIRContext *ctx = b.getContext();
  auto type = cast<RankedTensorType>(input.getType());
  int64_t inSize = type.getDimSize(axis);
  if (inSize == outSize)
    return input;
  ResizeTaps taps = computeTaps(inSize, outSize);
  Value starts = constantVector(b, loc, taps.start, b.getIndexType());
  Value weights;
  if (fixedPoint) {
    SmallVector<int32_t> fixed;
    for (double w : taps.weights)
      fixed.push_back(
          static_cast<int32_t>(w < 0 ? -0.5 + w * (1 << kPrecisionBits)
                                     : 0.5 + w * (1 << kPrecisionBits)));
    weights = constantMatrix<int32_t>(b, loc, fixed, outSize, taps.taps);
  } else {
    SmallVector<float> single(taps.weights.begin(), taps.weights.end());
    weights = constantMatrix<float>(b, loc, single, outSize, taps.taps);
  }

  SmallVector<OpFoldResult> sizes = sizesOf(b, loc, input);
  sizes[axis] = b.getIndexAttr(outSize);
  TypedAttr zero =
      fixedPoint ? TypedAttr(b.getI32IntegerAttr(1 << (kPrecisionBits - 1)))
                 : TypedAttr(b.getF32FloatAttr(0.0f));
  Value acc = createFilled(b, loc, sizes, zero);
  // (n, c, h, w, k): the input is gathered at start[axis index] + k.
  Value inputTensor = input;
  acc = linalg::GenericOp::create(
            b, loc, acc.getType(), ValueRange{starts, weights}, acc,
            {dimsMap(ctx, 5, {static_cast<unsigned>(axis)}),
             dimsMap(ctx, 5, {static_cast<unsigned>(axis), 4}),
             dimsMap(ctx, 5, {0, 1, 2, 3})},
            iterators(5, {4}),
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              SmallVector<Value> indices;
              for (int d = 0; d < 4; ++d)
                indices.push_back(linalg::IndexOp::create(nb, nl, d));
              Value k = linalg::IndexOp::create(nb, nl, 4);
              Value pos = arith::AddIOp::create(nb, nl, args[0], k);
              // Taps past the support have weight zero; clamp their index so
              // the read stays in bounds.
              Value last = arith::ConstantIndexOp::create(nb, nl, inSize - 1);
              indices[axis] = arith::MinSIOp::create(nb, nl, pos, last);
              Value sample =
                  tensor::ExtractOp::create(nb, nl, inputTensor, indices);
              Value term;
              if (fixedPoint) {
                Value wide = arith::ExtUIOp::create(
                    nb, nl, nb.getI32Type(),
                    castScalar(nb, nl, sample, nb.getI8Type()));
                term = arith::MulIOp::create(nb, nl, wide, args[1]);
                linalg::YieldOp::create(
                    nb, nl,
                    arith::AddIOp::create(nb, nl, args[2], term).getResult());
              } else {
                term = arith::MulFOp::create(nb, nl, sample, args[1]);
                linalg::YieldOp::create(
                    nb, nl,
                    arith::AddFOp::create(nb, nl, args[2], term).getResult());
              }
            })
            .getResult(0);
  if (!fixedPoint)
    return acc;
  // Pillow's clip8: the integer part of the accumulator, clamped to
  // [0, 255].
  return mapElements(
      b, loc, acc, element, [&](OpBuilder &nb, Location nl, Value v) {
        Value shifted = arith::ShRSIOp::create(
            nb, nl, v,
            arith::ConstantIntOp::create(nb, nl, kPrecisionBits, 32));
        Value low = arith::MaxSIOp::create(
            nb, nl, shifted, arith::ConstantIntOp::create(nb, nl, 0, 32));
        Value clamped = arith::MinSIOp::create(
            nb, nl, low, arith::ConstantIntOp::create(nb, nl, 255, 32));
        Value byte = arith::TruncIOp::create(nb, nl, nb.getI8Type(), clamped);
        return castScalar(nb, nl, byte, element);
      });
}

/// resize: width pass, then height pass.
struct LowerResize : OpRewritePattern<ResizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ResizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    bool u8 = op.getDomain() == ResizeDomain::u8;
    ArrayRef<int64_t> size = op.getSize();
    Value x = op.getInput();
    x = resizeAxis(rewriter, loc, x, /*axis=*/3, size[1], u8);
    x = resizeAxis(rewriter, loc, x, /*axis=*/2, size[0], u8);
    if (!u8) {
      x = mapElements(rewriter, loc, x, rewriter.getF32Type(),
                      [&](OpBuilder &nb, Location nl, Value v) {
                        Value low = arith::MaximumFOp::create(
                            nb, nl, v, f32Constant(nb, nl, 0.0));
                        return arith::MinimumFOp::create(
                                   nb, nl, low, f32Constant(nb, nl, 255.0))
                            .getResult();
                      });
    }
    rewriter.replaceOp(op, x);
    return success();
  }
};

} // namespace

void vision::populateVisionInputToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerNormalize, LowerResize>(patterns.getContext());
}
