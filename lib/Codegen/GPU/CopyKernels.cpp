//===- CopyKernels.cpp - Buffer copies as linalg copies -------------------===//
//
// On the GPU the host never touches a buffer, so the copies bufferization
// leaves become linalg copies, lowered to kernels like every linalg op.
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/GPU/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::vision {
#define GEN_PASS_DEF_GPUCOPYKERNELS
#include "fovea/Codegen/GPU/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

namespace {
struct GpuCopyKernelsPass
    : vision::impl::GpuCopyKernelsBase<GpuCopyKernelsPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation()->walk([&](memref::CopyOp copy) {
      if (!copy->getParentOfType<gpu::LaunchOp>())
        copies.push_back(copy);
    });
    IRRewriter rewriter(&getContext());
    for (memref::CopyOp copy : copies) {
      rewriter.setInsertionPoint(copy);
      linalg::CopyOp::create(rewriter, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      rewriter.eraseOp(copy);
    }
  }
};
} // namespace
