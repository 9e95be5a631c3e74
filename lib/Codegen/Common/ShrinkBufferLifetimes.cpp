//===- ShrinkBufferLifetimes.cpp - Buffers live from first to last use ---===//
//
// What derives from a buffer is found by a forward walk over the SSA
// values (and the memory they are stored into); the deallocation moves
// after the last operation of the entry block that reaches any of them, the
// allocation before the first operation that uses the buffer.
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/Common/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mlir::vision {
#define GEN_PASS_DEF_SHRINKBUFFERLIFETIMES
#include "fovea/Codegen/Common/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

/// Whether a value of `type` can hold a buffer or its address: not a
/// float or a vector of floats (the data read from a buffer).
static bool mayHoldAddress(Type type) {
  if (auto vector = dyn_cast<VectorType>(type))
    type = vector.getElementType();
  return !isa<FloatType>(type);
}

/// The results of `user` that carry what its operand `value` addresses:
/// none for a size or a loaded element, only the base buffer of the
/// metadata, every result otherwise.
static SmallVector<Value> derivedResults(Operation *user, Value value) {
  if (isa<memref::DimOp, memref::RankOp>(user))
    return {};
  if (auto metadata = dyn_cast<memref::ExtractStridedMetadataOp>(user))
    return {metadata.getBaseBuffer()};
  if (auto load = dyn_cast<memref::LoadOp>(user);
      load && !mayHoldAddress(load.getType()))
    return {};
  return SmallVector<Value>(user->getResults());
}

/// The last operation of `block` (an ancestor of a user) that uses
/// `buffer` or anything derived from it, other than `dealloc`; nullptr if
/// something derived from it leaves the function or the walk cannot follow
/// it.
static Operation *lastUse(Value buffer, Block &block,
                          memref::DeallocOp dealloc) {
  SmallVector<Value> worklist = {buffer};
  llvm::DenseSet<Value> seen = {buffer};
  auto reach = [&](Value v) {
    if (mayHoldAddress(v.getType()) && seen.insert(v).second)
      worklist.push_back(v);
  };
  Operation *last = nullptr;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (user == dealloc)
        continue;
      Operation *top = block.findAncestorOpInBlock(*user);
      if (!top)
        return nullptr;
      if (!last || last->isBeforeInBlock(top))
        last = top;
      if (isa<func::ReturnOp>(user))
        return nullptr;
      for (Value result : derivedResults(user, value))
        reach(result);
      // Stored into memory: that memory holds the buffer's address.
      if (auto store = dyn_cast<memref::StoreOp>(user);
          store && store.getValueToStore() == value)
        reach(store.getMemRef());
      // A terminator passes it on to its parent's results and to the
      // arguments of the parent's regions (a loop's next iteration).
      if (user->hasTrait<OpTrait::IsTerminator>()) {
        Operation *parent = user->getParentOp();
        for (Value result : parent->getResults())
          reach(result);
        for (Region &region : parent->getRegions())
          for (Block &b : region)
            for (BlockArgument arg : b.getArguments())
              reach(arg);
      }
      // An operand of an op with regions may become any of their arguments.
      for (Region &region : user->getRegions())
        for (Block &b : region)
          for (BlockArgument arg : b.getArguments())
            reach(arg);
    }
  }
  return last;
}

namespace {
struct ShrinkBufferLifetimesPass
    : vision::impl::ShrinkBufferLifetimesBase<ShrinkBufferLifetimesPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    Block &entry = func.getBody().front();
    SmallVector<memref::DeallocOp> deallocs;
    for (Operation &op : entry)
      if (auto dealloc = dyn_cast<memref::DeallocOp>(op))
        if (auto alloc = dealloc.getMemref().getDefiningOp<memref::AllocOp>();
            alloc && alloc->getBlock() == &entry)
          deallocs.push_back(dealloc);
    for (memref::DeallocOp dealloc : deallocs) {
      Value buffer = dealloc.getMemref();
      Operation *alloc = buffer.getDefiningOp();
      Operation *last = lastUse(buffer, entry, dealloc);
      if (!last)
        continue;
      // The first user in the block: the allocation's sizes are defined
      // before the allocation, so they dominate any later point.
      Operation *first = nullptr;
      for (Operation *user : buffer.getUsers()) {
        if (user == dealloc.getOperation())
          continue;
        Operation *top = entry.findAncestorOpInBlock(*user);
        if (!first || top->isBeforeInBlock(first))
          first = top;
      }
      if (first && alloc->isBeforeInBlock(first))
        alloc->moveBefore(first);
      // Never earlier than the allocation itself (an unused buffer).
      if (last->isBeforeInBlock(alloc))
        last = alloc;
      if (last->isBeforeInBlock(dealloc))
        dealloc->moveAfter(last);
    }
  }
};
} // namespace
