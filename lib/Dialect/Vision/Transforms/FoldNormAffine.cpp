//===- FoldNormAffine.cpp - LayerNorm scale and shift into the next linear ===//
//
// linear(layer_norm(x, g, b), W, c) = linear(layer_norm(x, 1, 0), W', c')
// with W'[n, k] = W[n, k] * g[k] and c'[n] = c[n] + sum_k W[n, k] b[k]: the
// folded weights depend on weights only, so the hoisting computes them once
// in @init. Changes rounding (off by default).
//
//===----------------------------------------------------------------------===//

#include "fovea/Dialect/Vision/Transforms/Passes.h"

#include "FusionPassUtils.h"
#include "fovea/Dialect/Vision/IR/VisionDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::vision {
#define GEN_PASS_DEF_VISIONFOLDNORMAFFINE
#include "fovea/Dialect/Vision/Transforms/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;
using namespace mlir::vision;

/// The linears reading `norm`'s result as their input, or nothing when any
/// other op reads it (or one of them has an activation-dependent weight).
static SmallVector<LinearOp> foldableLinears(LayerNormOp norm,
                                             WeightDependence &weights) {
  SmallVector<LinearOp> linears;
  for (OpOperand &use : norm.getResult().getUses()) {
    auto linear = dyn_cast<LinearOp>(use.getOwner());
    if (!linear || use.getOperandNumber() != 0 || isGrouped(linear) ||
        !weights.isWeightOnly(linear.getWeight()) ||
        (linear.getBias() && !weights.isWeightOnly(linear.getBias())))
      return {};
    linears.push_back(linear);
  }
  return linears;
}

static Value splat(OpBuilder &b, Location loc, RankedTensorType type,
                   double value) {
  Attribute element = b.getFloatAttr(type.getElementType(), value);
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, ArrayRef<Attribute>{element}));
}

/// W * g along W's columns, rounded once to W's element type.
static Value scaleColumns(OpBuilder &b, Location loc, Value weight,
                          Value gamma) {
  auto type = cast<RankedTensorType>(weight.getType());
  Value init =
      tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  Value broadcast =
      linalg::BroadcastOp::create(b, loc, gamma, init, ArrayRef<int64_t>{0})
          .getResult()[0];
  return arith::MulFOp::create(b, loc, weight, broadcast);
}

/// W b accumulated in f32, plus c (without a bias: nothing), rounded once to
/// the element type.
static Value shiftedBias(OpBuilder &b, Location loc, Value weight, Value beta,
                         Value bias) {
  auto type = cast<RankedTensorType>(weight.getType());
  Type element = type.getElementType();
  FloatType f32 = b.getF32Type();
  auto biasType = RankedTensorType::get({type.getDimSize(0)}, f32);
  // A fresh accumulator: the bias itself (a weight argument) must not be
  // the matvec's destination, which bufferization would update in place.
  Value zero = splat(b, loc, biasType, 0.0);
  Value sum = linalg::MatvecOp::create(b, loc, TypeRange{biasType},
                                       ValueRange{widenToF32(b, loc, weight),
                                                  widenToF32(b, loc, beta)},
                                       ValueRange{zero})
                  .getResult(0);
  if (bias)
    sum = arith::AddFOp::create(b, loc, sum, widenToF32(b, loc, bias));
  if (element == f32)
    return sum;
  return arith::TruncFOp::create(b, loc, biasType.clone(element), sum);
}

namespace {
struct VisionFoldNormAffinePass
    : vision::impl::VisionFoldNormAffineBase<VisionFoldNormAffinePass> {
  void runOnOperation() override {
    WeightDependence weights;
    SmallVector<std::pair<LayerNormOp, SmallVector<LinearOp>>> folds;
    getOperation().walk([&](LayerNormOp norm) {
      if (isGrouped(norm) || !weights.isWeightOnly(norm.getWeight()) ||
          !weights.isWeightOnly(norm.getBias()))
        return;
      SmallVector<LinearOp> linears = foldableLinears(norm, weights);
      if (!linears.empty())
        folds.emplace_back(norm, std::move(linears));
    });
    OpBuilder b(&getContext());
    for (auto &[norm, linears] : folds) {
      Location loc = norm.getLoc();
      Value gamma = norm.getWeight(), beta = norm.getBias();
      for (LinearOp linear : linears) {
        b.setInsertionPoint(linear);
        Value weight = linear.getWeight();
        if (StringAttr name = weightName(linear, /*weightOperand=*/1))
          VisionDialect::FoldedWeightAttrHelper(&getContext())
              .setAttr(linear, name);
        Value scaled = scaleColumns(b, loc, weight, gamma);
        Value bias = shiftedBias(b, loc, weight, beta, linear.getBias());
        linear->setOperand(1, scaled);
        if (linear.getBias())
          linear.getBiasMutable().assign(bias);
        else
          linear.getBiasMutable().append(bias);
      }
      // The norm's group keeps the name of the weight it no longer reads.
      if (StringAttr name = weightName(norm, /*weightOperand=*/1))
        VisionDialect::FoldedWeightAttrHelper(&getContext())
            .setAttr(norm, name);
      b.setInsertionPoint(norm);
      auto affine = cast<RankedTensorType>(gamma.getType());
      norm.getWeightMutable().assign(splat(b, loc, affine, 1.0));
      norm.getBiasMutable().assign(splat(b, loc, affine, 0.0));
    }
  }
};
} // namespace
