//===- FoldInputNormalization.cpp - Pixel normalization into patch weights ===//
//
// embed((x / 255 - m) / s, W) = embed(x / 255, W'), W'[d, k] = W[d, k] / s[c]
// plus the bias c[d] = -sum_k W[d, k] m[c] / s[c], c the channel of column
// k, all in f32: the folded weights and the bias depend on weights only, so
// the hoisting computes them once in @init. Changes rounding (off by
// default): the embedding runs in f32 and rounds once.
//
//===----------------------------------------------------------------------===//

#include "fovea/Dialect/Vision/Transforms/Passes.h"

#include "FusionPassUtils.h"
#include "fovea/Dialect/Vision/IR/VisionDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::vision {
#define GEN_PASS_DEF_VISIONFOLDINPUTNORMALIZATION
#include "fovea/Dialect/Vision/Transforms/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;
using namespace mlir::vision;

namespace {
/// A normalization whose only reader is an embedding's input, directly or
/// through one cast to the storage type.
struct Fold {
  NormalizeOp norm;
  Operation *embed;
};
} // namespace

static std::optional<Fold> matchFold(Operation *embed,
                                     WeightDependence &weights) {
  if (isGrouped(embed) || !weights.isWeightOnly(embed->getOperand(1)) ||
      (embed->getNumOperands() > 2 &&
       !weights.isWeightOnly(embed->getOperand(2))))
    return std::nullopt;
  Value pixels = embed->getOperand(0);
  Operation *def = pixels.getDefiningOp();
  if (isa_and_nonnull<arith::TruncFOp, arith::ExtFOp>(def)) {
    if (!pixels.hasOneUse() || isGrouped(def))
      return std::nullopt;
    pixels = def->getOperand(0);
  }
  auto norm = pixels.getDefiningOp<NormalizeOp>();
  if (!norm || !pixels.hasOneUse() || isGrouped(norm))
    return std::nullopt;
  return Fold{norm, embed};
}

/// A constant f32 vector over the embedding's K = T*C*P*P columns (vector
/// order (t, c, yy, xx)) holding `perChannel[c]` at every column of channel c.
static Value columnConstant(OpBuilder &b, Location loc, int64_t columns,
                            int64_t patchArea, ArrayRef<double> perChannel) {
  auto channels = static_cast<int64_t>(perChannel.size());
  SmallVector<float> values;
  values.reserve(columns);
  for (int64_t k = 0; k < columns; ++k)
    values.push_back(
        static_cast<float>(perChannel[(k / patchArea) % channels]));
  auto type = RankedTensorType::get({columns}, b.getF32Type());
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, ArrayRef<float>(values)));
}

/// Rewrites one fold: the normalization keeps only its division by 255; the
/// embedding becomes an f32 embedding of those pixels (no cast to the
/// storage type before it) with the weight's columns divided by their
/// channel's std (in f32) and the f32 bias -W (m / s) (plus the embedding's
/// own bias); its f32 result is rounded once to the storage type.
static void rewriteFold(OpBuilder &b, const Fold &fold) {
  NormalizeOp norm = fold.norm;
  Operation *embed = fold.embed;
  MLIRContext *ctx = b.getContext();
  Location loc = embed->getLoc();
  // The weight-only ops go before the normalization where the weights are
  // defined there (they are arguments in the driver's IR), so that nothing
  // stands between the ops the patch-embed group takes.
  auto definedBefore = [&](Value value) {
    Operation *def = value.getDefiningOp();
    return !def ||
           (def->getBlock() == norm->getBlock() && def->isBeforeInBlock(norm));
  };
  if (llvm::all_of(llvm::drop_begin(embed->getOperands()), definedBefore))
    b.setInsertionPoint(norm);
  else
    b.setInsertionPoint(embed);

  Value weight = embed->getOperand(1);
  auto weightType = cast<RankedTensorType>(weight.getType());
  int64_t width = weightType.getDimSize(0), columns = weightType.getDimSize(1);
  int64_t patch = cast<IntegerAttr>(embed->getAttr("patch_size")).getInt();
  SmallVector<double> inverseStd, shift;
  for (auto [mean, std] : llvm::zip(norm.getMean(), norm.getStd())) {
    inverseStd.push_back(1.0 / double(std));
    shift.push_back(-double(mean) / double(std));
  }

  // W' = W * (1 / s) along the columns, in f32.
  Value wide = widenToF32(b, loc, weight);
  auto wideType = cast<RankedTensorType>(wide.getType());
  Value scaleInit = tensor::EmptyOp::create(b, loc, wideType.getShape(),
                                            wideType.getElementType());
  Value scale =
      linalg::BroadcastOp::create(
          b, loc, columnConstant(b, loc, columns, patch * patch, inverseStd),
          scaleInit, ArrayRef<int64_t>{0})
          .getResult()[0];
  Value scaled = arith::MulFOp::create(b, loc, wide, scale);

  // c = W (-m / s) in f32 (+ the embedding's bias).
  auto biasType = RankedTensorType::get({width}, b.getF32Type());
  Value zero = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(biasType,
                             ArrayRef<Attribute>{b.getF32FloatAttr(0.0f)}));
  Value bias = linalg::MatvecOp::create(
                   b, loc, TypeRange{biasType},
                   ValueRange{wide, columnConstant(b, loc, columns,
                                                   patch * patch, shift)},
                   ValueRange{zero})
                   .getResult(0);
  if (embed->getNumOperands() > 2)
    bias = arith::AddFOp::create(b, loc, bias,
                                 widenToF32(b, loc, embed->getOperand(2)));

  // The f32 embedding of x / 255 and its one rounding to the storage type.
  b.setInsertionPoint(embed);
  auto resultType = cast<RankedTensorType>(embed->getResult(0).getType());
  OperationState state(loc, embed->getName());
  state.addOperands({norm.getResult(), scaled, bias});
  state.addAttributes(embed->getAttrs());
  state.addTypes(resultType.clone(b.getF32Type()));
  Operation *folded = b.create(state);
  if (StringAttr name = weightName(embed, /*weightOperand=*/1))
    VisionDialect::FoldedWeightAttrHelper(ctx).setAttr(folded, name);
  Value result = folded->getResult(0);
  if (!resultType.getElementType().isF32())
    result = arith::TruncFOp::create(b, loc, resultType, result);
  Operation *cast = embed->getOperand(0).getDefiningOp();
  embed->getResult(0).replaceAllUsesWith(result);
  embed->erase();
  if (cast != norm.getOperation())
    cast->erase();

  // The normalization keeps x / 255 (the reference's first step, exact to
  // the bit): mean 0, std 1.
  auto channels = static_cast<int64_t>(norm.getMean().size());
  norm.setMean(SmallVector<float>(channels, 0.0f));
  norm.setStd(SmallVector<float>(channels, 1.0f));
}

namespace {
struct VisionFoldInputNormalizationPass
    : vision::impl::VisionFoldInputNormalizationBase<
          VisionFoldInputNormalizationPass> {
  void runOnOperation() override {
    WeightDependence weights;
    SmallVector<Fold> folds;
    getOperation().walk([&](Operation *op) {
      if (isa<PatchEmbedOp, TubeletEmbedOp>(op))
        if (std::optional<Fold> fold = matchFold(op, weights))
          folds.push_back(*fold);
    });
    OpBuilder b(&getContext());
    for (const Fold &fold : folds)
      rewriteFold(b, fold);
  }
};
} // namespace
