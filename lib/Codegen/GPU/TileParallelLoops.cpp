//===- TileParallelLoops.cpp - Blocks and threads for scf.parallel --------===//
//
// Splits the innermost dimension of each outermost parallel loop nest into
// blocks of threads and records the processor mapping for
// convert-parallel-loops-to-gpu.
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::vision {
#define GEN_PASS_DEF_GPUTILEPARALLELLOOPS
#include "fovea/Codegen/GPU/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

/// The mapping of one loop dimension to `processor`, identity map and bound.
static gpu::ParallelLoopDimMappingAttr mapTo(MLIRContext *ctx,
                                             gpu::Processor processor) {
  AffineMap identity = AffineMap::getMultiDimIdentityMap(1, ctx);
  return gpu::ParallelLoopDimMappingAttr::get(ctx, processor, identity,
                                              identity);
}

/// Rewrites `loop` into a block loop and a thread loop (see Passes.td).
static LogicalResult splitIntoBlocks(scf::ParallelOp loop, int64_t blockSize) {
  MLIRContext *ctx = loop.getContext();
  Location loc = loop.getLoc();
  OpBuilder b(loop);
  unsigned rank = loop.getNumLoops();
  Value lastLb = loop.getLowerBound().back();
  Value lastUb = loop.getUpperBound().back();
  Value lastStep = loop.getStep().back();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value threads = arith::ConstantIndexOp::create(b, loc, blockSize);

  // Iterations of the innermost dimension, then the number of blocks.
  Value span = arith::SubIOp::create(b, loc, lastUb, lastLb);
  Value trips = arith::CeilDivSIOp::create(b, loc, span, lastStep);
  Value blocks = arith::CeilDivSIOp::create(b, loc, trips, threads);

  SmallVector<Value> lbs = {zero}, ubs = {blocks}, steps = {one};
  for (unsigned d = 0; d + 1 < rank; ++d) {
    lbs.push_back(loop.getLowerBound()[d]);
    ubs.push_back(loop.getUpperBound()[d]);
    steps.push_back(loop.getStep()[d]);
  }
  auto outer = scf::ParallelOp::create(b, loc, lbs, ubs, steps);
  b.setInsertionPointToStart(outer.getBody());
  auto inner = scf::ParallelOp::create(b, loc, ValueRange{zero},
                                       ValueRange{threads}, ValueRange{one});
  b.setInsertionPointToStart(inner.getBody());
  // i_last = lb + (b * blockSize + t) * step, when below the upper bound.
  Value block = outer.getInductionVars()[0];
  Value thread = inner.getInductionVars()[0];
  Value linear = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, block, threads), thread);
  Value index = arith::AddIOp::create(
      b, loc, lastLb, arith::MulIOp::create(b, loc, linear, lastStep));
  Value inBounds =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, index, lastUb);
  auto guard = scf::IfOp::create(b, loc, inBounds, /*withElse=*/false);

  IRMapping mapping;
  for (unsigned d = 0; d + 1 < rank; ++d)
    mapping.map(loop.getInductionVars()[d], outer.getInductionVars()[d + 1]);
  mapping.map(loop.getInductionVars().back(), index);
  b.setInsertionPointToStart(guard.thenBlock());
  for (Operation &op : loop.getBody()->without_terminator())
    b.clone(op, mapping);

  // Processors: b -> block_x, i{r-2} -> block_y, i{r-3} -> block_z, the rest
  // sequential; t -> thread_x.
  SmallVector<Attribute> outerMap(rank, mapTo(ctx, gpu::Processor::Sequential));
  outerMap[0] = mapTo(ctx, gpu::Processor::BlockX);
  if (rank >= 2)
    outerMap[rank - 1] = mapTo(ctx, gpu::Processor::BlockY);
  if (rank >= 3)
    outerMap[rank - 2] = mapTo(ctx, gpu::Processor::BlockZ);
  outer->setAttr(gpu::getMappingAttrName(), ArrayAttr::get(ctx, outerMap));
  inner->setAttr(gpu::getMappingAttrName(),
                 ArrayAttr::get(ctx, {mapTo(ctx, gpu::Processor::ThreadX)}));
  loop.erase();
  return success();
}

namespace {
struct GpuTileParallelLoopsPass
    : vision::impl::GpuTileParallelLoopsBase<GpuTileParallelLoopsPass> {
  using Base::Base;
  void runOnOperation() override {
    if (blockSize <= 0 || blockSize > 1024) {
      getOperation()->emitError("block-size must be in [1, 1024], got ")
          << static_cast<int64_t>(blockSize);
      return signalPassFailure();
    }
    SmallVector<scf::ParallelOp> loops;
    getOperation()->walk([&](scf::ParallelOp loop) {
      // Outermost nests without reductions; loops already mapped are left
      // alone.
      if (!loop->getParentOfType<scf::ParallelOp>() &&
          loop.getNumReductions() == 0 &&
          !loop->hasAttr(gpu::getMappingAttrName()))
        loops.push_back(loop);
    });
    for (scf::ParallelOp loop : loops)
      if (failed(splitIntoBlocks(loop, blockSize)))
        return signalPassFailure();
  }
};
} // namespace
