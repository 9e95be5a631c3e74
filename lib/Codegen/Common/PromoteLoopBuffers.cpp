//===- PromoteLoopBuffers.cpp - Loop temporaries on the stack -------------===//
//
// Turns small per-iteration heap buffers of loop bodies into allocas.
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/Common/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::vision {
#define GEN_PASS_DEF_PROMOTELOOPBUFFERS
#include "fovea/Codegen/Common/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

namespace {
struct PromoteLoopBuffersPass
    : vision::impl::PromoteLoopBuffersBase<PromoteLoopBuffersPass> {
  using Base::Base;

  /// Whether `alloc` is a small static temporary of a loop body.
  bool isLoopTemporary(memref::AllocOp alloc) {
    MemRefType type = alloc.getType();
    if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
        !alloc.getDynamicSizes().empty() || !alloc.getSymbolOperands().empty())
      return false;
    int64_t bits = type.getNumElements() * type.getElementTypeBitWidth();
    if (bits > maxBytes * 8)
      return false;
    Operation *parent = alloc->getParentOp();
    if (!isa<scf::ParallelOp, scf::ForOp>(parent))
      return false;
    // Only accessed, in the body or in loops nested in it (after
    // linalg-to-loops), never passed on or returned.
    return llvm::all_of(alloc->getUsers(), [&](Operation *user) {
      return parent->isProperAncestor(user) &&
             !isa<func::ReturnOp, scf::YieldOp, func::CallOp>(user);
    });
  }

  void runOnOperation() override {
    SmallVector<memref::AllocOp> temporaries;
    getOperation().walk([&](memref::AllocOp alloc) {
      if (isLoopTemporary(alloc))
        temporaries.push_back(alloc);
    });
    IRRewriter rewriter(&getContext());
    Block &entry = getOperation().getBody().front();
    for (memref::AllocOp alloc : temporaries) {
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
        if (isa<memref::DeallocOp>(user))
          rewriter.eraseOp(user);
      if (hoist)
        rewriter.setInsertionPointToStart(&entry);
      else
        rewriter.setInsertionPoint(alloc);
      rewriter.replaceOpWithNewOp<memref::AllocaOp>(alloc, alloc.getType(),
                                                    alloc.getAlignmentAttr());
    }
  }
};
} // namespace
