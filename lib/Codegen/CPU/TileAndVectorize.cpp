//===- TileAndVectorize.cpp - Register blocking of matmul-shaped ops ------===//
//
// Tiles the (m, k, n) contractions of the vision lowering into M x K x N
// blocks, peels partial blocks, and vectorizes the full blocks into
// vector.contract.
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/CPU/Passes.h"

#include "Contractions.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::vision {
#define GEN_PASS_DEF_CPUTILEANDVECTORIZE
#include "fovea/Codegen/CPU/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

/// Marks the blocks produced by tiling, so only they are vectorized.
static constexpr StringLiteral kBlockMarker = "fovea.cpu_block";

namespace {
struct CpuTileAndVectorizePass
    : vision::impl::CpuTileAndVectorizeBase<CpuTileAndVectorizePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<int64_t> sizes(tileSizes.begin(), tileSizes.end());
    if (sizes.empty())
      sizes = {8, 64, 32};
    if (sizes.size() != 3 ||
        llvm::any_of(sizes, [](int64_t s) { return s <= 0; })) {
      func.emitError() << "fovea-cpu-tile-and-vectorize expects three positive "
                          "tile sizes m,n,k";
      return signalPassFailure();
    }
    int64_t tileM = sizes[0], tileN = sizes[1], tileK = sizes[2];

    SmallVector<linalg::GenericOp> targets;
    func.walk([&](linalg::GenericOp op) {
      if (vision::isMatmulShaped(op))
        targets.push_back(op);
    });

    IRRewriter rewriter(ctx);
    for (linalg::GenericOp op : targets) {
      auto tileable = dyn_cast<TilingInterface>(op.getOperation());
      if (!tileable) {
        op.emitError() << "linalg ops are not tileable: the TilingInterface "
                          "models are not registered";
        return signalPassFailure();
      }
      op->setAttr(kBlockMarker, UnitAttr::get(ctx));
      rewriter.setInsertionPoint(op);
      scf::SCFTilingOptions options;
      // Loops (m, k, n).
      options.setTileSizes({rewriter.getIndexAttr(tileM),
                            rewriter.getIndexAttr(tileK),
                            rewriter.getIndexAttr(tileN)});
      FailureOr<scf::SCFTilingResult> tiled =
          scf::tileUsingSCF(rewriter, tileable, options);
      if (failed(tiled)) {
        op->removeAttr(kBlockMarker);
        continue;
      }
      rewriter.replaceOp(op, tiled->replacements);
      // Peel every loop so the main part has full, static blocks.
      for (LoopLikeOpInterface loop : tiled->loops) {
        auto forOp = dyn_cast<scf::ForOp>(loop.getOperation());
        if (!forOp)
          continue;
        scf::ForOp partial;
        (void)scf::peelForLoopAndSimplifyBounds(rewriter, forOp, partial);
      }
    }

    // Fold the now-constant slice sizes into static tensor types.
    RewritePatternSet patterns(ctx);
    for (Dialect *dialect : ctx->getLoadedDialects())
      dialect->getCanonicalizationPatterns(patterns);
    for (RegisteredOperationName name : ctx->getRegisteredOperations())
      name.getCanonicalizationPatterns(patterns, ctx);
    if (failed(applyPatternsGreedily(func, std::move(patterns))))
      return signalPassFailure();

    // Vectorize the full blocks; partial ones keep dynamic shapes and stay
    // scalar.
    SmallVector<linalg::GenericOp> blocks;
    func.walk([&](linalg::GenericOp op) {
      if (op->hasAttr(kBlockMarker)) {
        op->removeAttr(kBlockMarker);
        if (op.hasPureTensorSemantics() &&
            llvm::all_of(op->getOperandTypes(), [](Type t) {
              auto shaped = dyn_cast<ShapedType>(t);
              return !shaped || shaped.hasStaticShape();
            }))
          blocks.push_back(op);
      }
    });
    for (linalg::GenericOp op : blocks) {
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::VectorizationResult> result =
          linalg::vectorize(rewriter, op);
      if (succeeded(result))
        rewriter.replaceOp(op, result->replacements);
    }

    // broadcast + multiply + multi_reduction -> vector.contract, the form the
    // LLVM lowering turns into outer products. bf16/f16 operands are
    // extended to f32 vectors first (the outer-product lowering needs one
    // element type).
    RewritePatternSet contractPatterns(ctx);
    vector::populateVectorTransferPermutationMapLoweringPatterns(
        contractPatterns);
    vector::populateVectorReductionToContractPatterns(contractPatterns);
    // extf(broadcast(x)) -> broadcast(extf(x)), so the broadcasts reach the
    // contraction and fold into it.
    vector::populateSinkVectorOpsPatterns(contractPatterns);
    vector::TransferReadOp::getCanonicalizationPatterns(contractPatterns, ctx);
    vector::TransferWriteOp::getCanonicalizationPatterns(contractPatterns, ctx);
    if (failed(applyPatternsGreedily(func, std::move(contractPatterns))))
      return signalPassFailure();
  }
};
} // namespace
