//===- HoistWeightOnly.cpp - Move weight-only work into @init -------------===//
//
// Finds the ops of the entry function that depend only on weights and
// constants, clones them into @init, and passes their results to the entry
// function as arguments.
//
//===----------------------------------------------------------------------===//

#include "fovea/Dialect/Vision/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::vision {
#define GEN_PASS_DEF_VISIONHOISTWEIGHTONLY
#include "fovea/Dialect/Vision/Transforms/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

namespace {
struct VisionHoistWeightOnlyPass
    : vision::impl::VisionHoistWeightOnlyBase<VisionHoistWeightOnlyPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(entry);
    if (!func || func.isExternal())
      return;
    if (module.lookupSymbol("init")) {
      module.emitError("vision-hoist-weight-only: the module already has an "
                       "@init symbol");
      return signalPassFailure();
    }

    // Weight-only values: weight arguments, then results of side-effect-free
    // ops all of whose inputs are weight-only (constants have none).
    DenseSet<Value> weightOnly;
    SmallVector<BlockArgument> weights;
    for (BlockArgument arg : func.getArguments())
      if (func.getArgAttr(arg.getArgNumber(), "fovea.weight")) {
        weightOnly.insert(arg);
        weights.push_back(arg);
      }
    llvm::SetVector<Operation *> hoisted;
    for (Operation &op : func.getBody().front().without_terminator()) {
      if (!isMemoryEffectFree(&op))
        continue;
      llvm::SetVector<Value> inputs(op.getOperands().begin(),
                                    op.getOperands().end());
      getUsedValuesDefinedAbove(op.getRegions(), inputs);
      if (!llvm::all_of(inputs, [&](Value v) { return weightOnly.count(v); }))
        continue;
      hoisted.insert(&op);
      for (Value result : op.getResults())
        weightOnly.insert(result);
    }

    // The values the rest of the function needs from the hoisted ops.
    // Constants stay where they are (they cost nothing).
    SmallVector<Value> frontier;
    for (Operation *op : hoisted) {
      if (matchPattern(op, m_Constant()))
        continue;
      for (Value result : op->getResults())
        if (llvm::any_of(result.getUsers(), [&](Operation *user) {
              return !hoisted.contains(
                  func.getBody().front().findAncestorOpInBlock(*user));
            }))
          frontier.push_back(result);
    }
    if (frontier.empty())
      return;

    // @init(weights...) -> (frontier...).
    OpBuilder b(module.getContext());
    b.setInsertionPointAfter(func);
    SmallVector<Type> weightTypes, derivedTypes;
    for (BlockArgument w : weights)
      weightTypes.push_back(w.getType());
    for (Value v : frontier)
      derivedTypes.push_back(v.getType());
    auto init = func::FuncOp::create(
        b, func.getLoc(), "init", b.getFunctionType(weightTypes, derivedTypes));
    init->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    Block *body = init.addEntryBlock();
    IRMapping mapping;
    for (auto [i, w] : llvm::enumerate(weights)) {
      mapping.map(w, body->getArgument(i));
      init.setArgAttr(i, "fovea.weight",
                      func.getArgAttr(w.getArgNumber(), "fovea.weight"));
    }
    b.setInsertionPointToStart(body);
    for (Operation *op : hoisted)
      b.clone(*op, mapping);
    SmallVector<Value> results;
    for (Value v : frontier)
      results.push_back(mapping.lookup(v));
    func::ReturnOp::create(b, func.getLoc(), results);

    // The entry function takes the derived values instead.
    Block &entryBlock = func.getBody().front();
    for (auto [i, v] : llvm::enumerate(frontier)) {
      unsigned index = func.getNumArguments();
      if (failed(
              func.insertArgument(index, v.getType(),
                                  b.getDictionaryAttr(b.getNamedAttr(
                                      "fovea.derived", b.getI64IntegerAttr(i))),
                                  v.getLoc())))
        return signalPassFailure();
      Value arg = entryBlock.getArgument(index);
      v.replaceUsesWithIf(arg, [&](OpOperand &use) {
        return !hoisted.contains(
            entryBlock.findAncestorOpInBlock(*use.getOwner()));
      });
    }
    for (Operation *op : llvm::reverse(hoisted))
      if (op->use_empty())
        op->erase();
    module->setAttr("fovea.derived_types", b.getTypeArrayAttr(derivedTypes));
    // Weights only @init reads: the runtime can release them after @init.
    SmallVector<int64_t> initOnly;
    for (auto [i, w] : llvm::enumerate(weights))
      if (w.use_empty())
        initOnly.push_back(static_cast<int64_t>(i));
    module->setAttr("fovea.init_only_weights",
                    b.getDenseI64ArrayAttr(initOnly));
  }
};
} // namespace
