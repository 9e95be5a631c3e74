//===- LowerFusionGroups.cpp - One kernel or loop nest per fusion group ---===//
//
// Fuses the linalg ops of each vision.fusion_group (reshape folding,
// elementwise fusion, and tile-and-fuse into one loop for row reductions or
// contractions), then replaces the group by its body.
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/Common/Passes.h"

#include "fovea/Dialect/Vision/IR/VisionDialect.h"
#include "fovea/Dialect/Vision/Transforms/FusionGroups.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/ValueBoundsOpInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::vision {
#define GEN_PASS_DEF_LOWERFUSIONGROUPS
#include "fovea/Codegen/Common/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

namespace {
/// linalg.broadcast as a generic, so elementwise fusion folds it into the
/// indexing map of its consumer.
struct GeneralizeBroadcast : OpRewritePattern<linalg::BroadcastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::BroadcastOp op,
                                PatternRewriter &rewriter) const override {
    return linalg::generalizeNamedOp(rewriter, op);
  }
};

/// `tensor.dim` of an expand_shape result: the output size the op states.
/// (Size queries the lowering leaves on reshapes would otherwise keep the
/// reshaped producer alive after it has been fused.)
struct FoldDimOfExpandShape : OpRewritePattern<tensor::DimOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::DimOp op,
                                PatternRewriter &rewriter) const override {
    auto expand = op.getSource().getDefiningOp<tensor::ExpandShapeOp>();
    std::optional<int64_t> index = op.getConstantIndex();
    if (!expand || !index || *index < 0 ||
        *index >= expand.getResultType().getRank())
      return failure();
    OpFoldResult size = expand.getMixedOutputShape()[*index];
    rewriter.replaceOp(
        op, getValueOrCreateConstantIndexOp(rewriter, op.getLoc(), size));
    return success();
  }
};

/// A slice that takes all of its source (zero offsets, unit strides, sizes
/// provably the source's): the source itself. Such slices (the patch tokens
/// of `prepend_tokens`) would otherwise stand between an op and the
/// insert_slice that places its result, and cost a copy.
struct FoldWholeSlice : OpRewritePattern<tensor::ExtractSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::ExtractSliceOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getSourceType() != op.getResultType() ||
        !llvm::all_of(op.getMixedOffsets(), isZeroInteger) ||
        !llvm::all_of(op.getMixedStrides(), isOneInteger))
      return failure();
    for (auto [i, size] : llvm::enumerate(op.getMixedSizes())) {
      if (!op.getSourceType().isDynamicDim(i))
        continue;
      FailureOr<bool> equal = ValueBoundsConstraintSet::areEqual(
          ValueBoundsConstraintSet::Variable(size),
          ValueBoundsConstraintSet::Variable(op.getSource(), i));
      if (failed(equal) || !*equal)
        return failure();
    }
    rewriter.replaceOp(op, op.getSource());
    return success();
  }
};

struct LowerFusionGroupsPass
    : vision::impl::LowerFusionGroupsBase<LowerFusionGroupsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<vision::FusionGroupOp> groups;
    getOperation().walk(
        [&](vision::FusionGroupOp group) { groups.push_back(group); });
    IRRewriter rewriter(&getContext());
    for (vision::FusionGroupOp group : groups) {
      if (!fusePatchEmbed &&
          group.getRule() == vision::FusionRule::patch_embed) {
        vision::inlineFusionGroup(rewriter, group);
        continue;
      }
      if (failed(fuseWithin(group)))
        return signalPassFailure();
      if (failed(tileAndFuse(rewriter, group)))
        return signalPassFailure();
      vision::inlineFusionGroup(rewriter, group);
    }
  }

  /// Steps 1 and 2: reshapes folded, elementwise producers fused, inside
  /// `group` only.
  LogicalResult fuseWithin(vision::FusionGroupOp group) {
    MLIRContext *ctx = &getContext();
    auto inGroup = [group](Operation *op) {
      return op && group->isProperAncestor(op);
    };
    linalg::ControlFusionFn reshapes = [&, inGroup](OpOperand *operand) {
      return inGroup(operand->get().getDefiningOp()) &&
             inGroup(operand->getOwner()) && !isWeightOnly(operand->get());
    };
    // Producers read by one consumer (size queries aside, which resolve to
    // the producer's operands): fusing them computes nothing twice.
    linalg::ControlFusionFn producers = [&, inGroup](OpOperand *operand) {
      Value value = operand->get();
      unsigned readers = llvm::count_if(value.getUsers(), [](Operation *user) {
        return !isa<tensor::DimOp>(user) &&
               !(isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(user) &&
                 llvm::all_of(user->getUsers(), llvm::IsaPred<tensor::DimOp>));
      });
      // Weight-only producers (a weight's transpose, the interpolated
      // position embedding) are computed once in @init; only pure data
      // movement of them (the broadcast of the position embedding over the
      // batch) becomes an index map of its consumer.
      bool hoistable = isWeightOnly(value) && !isIndexMapOnly(value);
      return inGroup(value.getDefiningOp()) && inGroup(operand->getOwner()) &&
             readers == 1 && !hoistable;
    };
    RewritePatternSet patterns(ctx);
    linalg::populateFoldReshapeOpsByCollapsingPatterns(patterns, reshapes);
    linalg::populateElementwiseOpsFusionPatterns(patterns, producers);
    patterns.add<GeneralizeBroadcast, FoldDimOfExpandShape, FoldWholeSlice>(
        ctx);
    memref::populateResolveRankedShapedTypeResultDimsPatterns(patterns);
    tensor::populateFoldTensorEmptyPatterns(patterns);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::DimOp::getCanonicalizationPatterns(patterns, ctx);
    GreedyRewriteConfig config;
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    return applyPatternsGreedily(group.getBody(), std::move(patterns), config);
  }

  /// The linalg op computing `value`, through reshapes.
  static linalg::LinalgOp computedBy(Value value) {
    while (Operation *def = value.getDefiningOp()) {
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(def))
        return linalgOp;
      if (!isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(def))
        return {};
      value = def->getOperand(0);
    }
    return {};
  }

  /// Steps 3 and 4: one loop for the group, tiled at its last op.
  LogicalResult tileAndFuse(RewriterBase &rewriter,
                            vision::FusionGroupOp group) {
    bool rows = false, contraction = false;
    group.getBody().walk([&](linalg::LinalgOp op) {
      if (op.getNumReductionLoops() == 0)
        return;
      if (linalg::isaContractionOpInterface(op) ||
          op.getNumDpsInputs() > 1 && op.getNumLoops() > 3)
        contraction = true;
      else
        rows = true;
    });
    // The op computing the group's last result is the loop's root.
    vision::YieldOp yield = group.getYield();
    if (yield.getValues().empty())
      return success();
    linalg::LinalgOp root = computedBy(yield.getValues().back());
    if (!root || !root.hasPureTensorSemantics() ||
        root.getNumReductionLoops() != 0)
      return success();
    unsigned loops = root.getNumLoops();
    SmallVector<OpFoldResult> sizes;
    if (contraction && fuseContractions) {
      sizes.assign(loops, rewriter.getIndexAttr(1));
    } else if (rows && !contraction && rowLoops && loops >= 2) {
      sizes.assign(loops - 1, rewriter.getIndexAttr(1));
      sizes.push_back(rewriter.getIndexAttr(0));
    } else {
      return success();
    }

    scf::SCFTileAndFuseOptions options;
    scf::SCFTilingOptions tiling;
    tiling.setTileSizes(sizes);
    tiling.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
    options.setTilingOptions(tiling);
    auto inGroup = [group](Operation *op) {
      return op && group->isProperAncestor(op);
    };
    options.setFusionControlFn(
        [&, inGroup](tensor::ExtractSliceOp slice, OpResult producer,
                     bool isDestination)
            -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
          Operation *op = producer.getOwner();
          if (!inGroup(op) || isWeightOnly(producer))
            return std::nullopt;
          // A contraction's operands are not recomputed per output element.
          for (OpOperand &use : slice->getUses())
            if (auto consumer = dyn_cast<linalg::LinalgOp>(use.getOwner());
                consumer && consumer.getNumReductionLoops() != 0 &&
                contraction && consumer.isDpsInput(&use))
              return std::nullopt;
          scf::SCFTileAndFuseOptions::ControlFnResult result;
          // Values used other than by the ops fused into the loop are
          // returned by it.
          // Reductions (a row's statistics, a dot product) are returned
          // too, so they accumulate in place in the loop's outputs instead of
          // in a temporary buffer per iteration.
          auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
          result.yieldProducerReplacement =
              (linalgOp && linalgOp.getNumReductionLoops() != 0) ||
              llvm::any_of(producer.getUsers(), [&](Operation *user) {
                return !inGroup(user) ||
                       !isa<linalg::LinalgOp, tensor::ExtractSliceOp,
                            tensor::DimOp>(user);
              });
          return result;
        });
    rewriter.setInsertionPoint(root);
    FailureOr<scf::SCFTileAndFuseResult> fused =
        scf::tileConsumerAndFuseProducersUsingSCF(
            rewriter, cast<TilingInterface>(root.getOperation()), options);
    if (failed(fused))
      return group.emitError("fovea-lower-fusion-groups: cannot tile group '")
             << group.getName() << "' into one loop";
    for (OpResult result : root->getResults())
      rewriter.replaceAllUsesWith(result, fused->replacements.lookup(result));
    rewriter.eraseOp(root);
    // Uses after the loop read what it yields; the untiled producers die.
    Operation *loop = fused->loops.front();
    for (Operation *producer : fused->fusedProducers)
      for (OpResult result : producer->getResults())
        if (Value replacement = fused->replacements.lookup(result))
          rewriter.replaceUsesWithIf(result, replacement, [&](OpOperand &use) {
            Operation *owner = use.getOwner();
            return !loop->isAncestor(owner) &&
                   !fused->fusedProducers.contains(owner) &&
                   loop->isBeforeInBlock(
                       loop->getBlock()->findAncestorOpInBlock(*owner));
          });
    SmallVector<Operation *> dead(fused->fusedProducers.begin(),
                                  fused->fusedProducers.end());
    llvm::sort(
        dead, [](Operation *a, Operation *b) { return b->isBeforeInBlock(a); });
    for (Operation *op : dead)
      if (op->use_empty())
        rewriter.eraseOp(op);
    return success();
  }

  /// Whether `value` is computed by a generic that only moves data: its
  /// body yields one of its inputs.
  static bool isIndexMapOnly(Value value) {
    auto generic = value.getDefiningOp<linalg::GenericOp>();
    if (!generic || generic.getNumResults() != 1)
      return false;
    Block &body = generic.getRegion().front();
    auto yield = cast<linalg::YieldOp>(body.getTerminator());
    auto arg = dyn_cast<BlockArgument>(yield.getValues()[0]);
    return body.getOperations().size() == 1 && arg &&
           arg.getArgNumber() < generic.getNumDpsInputs();
  }

  /// Asked afresh each time: the groups' values change as they are fused.
  static bool isWeightOnly(Value value) {
    return vision::WeightDependence().isWeightOnly(value);
  }
};
} // namespace
