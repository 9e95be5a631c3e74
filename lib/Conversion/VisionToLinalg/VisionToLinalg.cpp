//===- VisionToLinalg.cpp - The convert-vision-to-linalg pass -------------===//
//
// Collects the per-family lowering patterns and applies them as a partial
// conversion in which every `vision` op is illegal, so an op without a
// lowering is an error rather than a silent leftover.
//
//===----------------------------------------------------------------------===//

#include "fovea/Conversion/Passes.h"

#include "fovea/Dialect/Vision/IR/VisionDialect.h"
#include "fovea/Dialect/Vision/IR/VisionOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::vision {
#define GEN_PASS_DEF_CONVERTVISIONTOLINALG
#include "fovea/Conversion/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;
using namespace mlir::vision;

void vision::populateVisionToLinalgPatterns(RewritePatternSet &patterns) {
  populateVisionInputToLinalgPatterns(patterns);
  populateVisionEmbeddingToLinalgPatterns(patterns);
  populateVisionEncoderToLinalgPatterns(patterns);
  populateVisionTokenToLinalgPatterns(patterns);
}

namespace {
struct ConvertVisionToLinalgPass
    : vision::impl::ConvertVisionToLinalgBase<ConvertVisionToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<VisionDialect>();
    // Fusion groups stay: fovea-lower-fusion-groups fuses and dissolves them.
    target.addLegalOp<vision::FusionGroupOp, vision::YieldOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(ctx);
    populateVisionToLinalgPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
