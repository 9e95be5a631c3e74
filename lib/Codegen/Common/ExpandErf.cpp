//===- ExpandErf.cpp - Polynomial erf for vectorizable GELU ---------------===//
//
// Applies MLIR's polynomial approximation of math.erf.
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/Common/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::vision {
#define GEN_PASS_DEF_EXPANDERF
#include "fovea/Codegen/Common/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

namespace {
struct ExpandErfPass : vision::impl::ExpandErfBase<ExpandErfPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populatePolynomialApproximateErfPattern(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
