//===- DeviceMemory.cpp - Host functions' buffers in device memory --------===//
//
// Places every buffer a host function allocates in device memory and moves
// the compile-time constant tables into the kernels that read them, then
// checks that the host code left outside the kernels never dereferences a
// buffer: a run is launches, allocations and frees, nothing the host must
// wait for.
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/GPU/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::vision {
#define GEN_PASS_DEF_GPUDEVICEMEMORY
#include "fovea/Codegen/GPU/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

namespace {

/// Whether `op` is host code: outside every kernel, launched or outlined.
bool isHostOp(Operation *op) {
  return !op->getParentOfType<gpu::GPUModuleOp>() &&
         !op->getParentOfType<gpu::LaunchOp>() && !isa<gpu::LaunchOp>(op);
}

/// Whether `op` reads or writes the contents of a buffer (not only its
/// descriptor: views, reshapes and `memref.dim` have no memory effects).
/// Ops without the side-effect interface count when they take a buffer.
bool touchesBufferContents(Operation *op) {
  auto isBuffer = [](Value v) { return v && isa<BaseMemRefType>(v.getType()); };
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects) {
    if (op->hasTrait<OpTrait::IsTerminator>() || op->getNumRegions())
      return false; // Returns and structured control flow pass buffers on.
    return llvm::any_of(op->getOperands(), isBuffer);
  }
  SmallVector<MemoryEffects::EffectInstance> instances;
  effects.getEffects(instances);
  return llvm::any_of(instances, [&](MemoryEffects::EffectInstance &e) {
    return (isa<MemoryEffects::Read, MemoryEffects::Write>(e.getEffect())) &&
           (!e.getValue() || isBuffer(e.getValue()));
  });
}

struct GpuDeviceMemoryPass
    : vision::impl::GpuDeviceMemoryBase<GpuDeviceMemoryPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isHostOp(op) &&
          isa<memref::AllocOp, memref::DeallocOp, memref::GetGlobalOp>(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      Location loc = op->getLoc();
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        auto device = gpu::AllocOp::create(
            rewriter, loc, alloc.getType(), /*asyncToken=*/Type(),
            /*asyncDependencies=*/ValueRange(), alloc.getDynamicSizes(),
            alloc.getSymbolOperands(), /*hostShared=*/false);
        rewriter.replaceOp(alloc, device.getMemref());
        continue;
      }
      if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
        gpu::DeallocOp::create(rewriter, loc, /*asyncToken=*/Type(),
                               /*asyncDependencies=*/ValueRange(),
                               dealloc.getMemref());
        rewriter.eraseOp(dealloc);
        continue;
      }
      if (failed(sinkIntoKernels(rewriter, cast<memref::GetGlobalOp>(op))))
        return signalPassFailure();
    }

    WalkResult checked = getOperation()->walk([&](Operation *op) {
      if (!isHostOp(op) || !touchesBufferContents(op))
        return WalkResult::advance();
      op->emitOpError("reads or writes a buffer in host code; on the GPU every "
                      "buffer is device memory, so this must run in a kernel");
      return WalkResult::interrupt();
    });
    if (checked.wasInterrupted())
      signalPassFailure();
  }

  /// A constant table the host fetched: each kernel that reads it fetches it
  /// itself (kernel outlining then copies the global into the kernel's
  /// module, where it becomes device memory initialized at load).
  static LogicalResult sinkIntoKernels(RewriterBase &rewriter,
                                       memref::GetGlobalOp global) {
    for (OpOperand &use : llvm::make_early_inc_range(global->getUses())) {
      auto launch = use.getOwner()->getParentOfType<gpu::LaunchOp>();
      if (!launch)
        return use.getOwner()->emitOpError()
               << "uses the constant @" << global.getName()
               << " in host code; on the GPU it must be read by a kernel";
      rewriter.setInsertionPointToStart(&launch.getBody().front());
      Operation *copy = rewriter.clone(*global);
      rewriter.modifyOpInPlace(use.getOwner(),
                               [&] { use.set(copy->getResult(0)); });
    }
    rewriter.eraseOp(global);
    return success();
  }
};
} // namespace
