//===- HostSharedMemory.cpp - Managed memory for host-side buffers --------===//
//
// Moves the buffers of host functions into memory that both the host and
// the kernels can access (CUDA managed memory through gpu.alloc
// host_shared).
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/GPU/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::vision {
#define GEN_PASS_DEF_GPUHOSTSHAREDMEMORY
#include "fovea/Codegen/GPU/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

namespace {
struct GpuHostSharedMemoryPass
    : vision::impl::GpuHostSharedMemoryBase<GpuHostSharedMemoryPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (op->getParentOfType<gpu::GPUModuleOp>() ||
          op->getParentOfType<gpu::LaunchOp>())
        return;
      if (isa<memref::AllocOp, memref::DeallocOp, memref::GetGlobalOp>(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      Location loc = op->getLoc();
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        auto shared = gpu::AllocOp::create(
            rewriter, loc, alloc.getType(), /*asyncToken=*/Type(),
            /*asyncDependencies=*/ValueRange(), alloc.getDynamicSizes(),
            alloc.getSymbolOperands(), /*hostShared=*/true);
        rewriter.replaceOp(alloc, shared.getMemref());
        continue;
      }
      if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
        freeShared(rewriter, loc, dealloc.getMemref());
        rewriter.eraseOp(dealloc);
        continue;
      }
      auto global = cast<memref::GetGlobalOp>(op);
      auto type = cast<MemRefType>(global.getType());
      rewriter.setInsertionPointAfter(global);
      auto shared =
          gpu::AllocOp::create(rewriter, loc, type, Type(), ValueRange(),
                               ValueRange(), ValueRange(), /*hostShared=*/true);
      memref::CopyOp::create(rewriter, loc, global.getResult(),
                             shared.getMemref());
      rewriter.replaceAllUsesExcept(global.getResult(), shared.getMemref(),
                                    shared.getOperation()->getNextNode());
      // The copy lives until the end of its block, unless it escapes
      // through the terminator.
      Block *block = global->getBlock();
      bool escapes =
          llvm::any_of(shared.getMemref().getUsers(), [&](Operation *user) {
            return user->hasTrait<OpTrait::IsTerminator>();
          });
      if (!escapes) {
        rewriter.setInsertionPoint(block->getTerminator());
        freeShared(rewriter, loc, shared.getMemref());
      }
    }
  }

  /// gpu.dealloc lowers only in its asynchronous form: free on a stream,
  /// then wait for it.
  static void freeShared(RewriterBase &rewriter, Location loc, Value memref) {
    Type token = gpu::AsyncTokenType::get(rewriter.getContext());
    Value start =
        gpu::WaitOp::create(rewriter, loc, token, ValueRange()).getAsyncToken();
    Value done =
        gpu::DeallocOp::create(rewriter, loc, token, ValueRange{start}, memref)
            .getAsyncToken();
    gpu::WaitOp::create(rewriter, loc, Type(), ValueRange{done});
  }
};
} // namespace
