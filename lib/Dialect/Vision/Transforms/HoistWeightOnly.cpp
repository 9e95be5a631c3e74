//===- HoistWeightOnly.cpp - Move weight-only work into @init -------------===//
//
// Finds the ops of the entry function that depend only on weights and
// constants, clones them into @init, and passes their results to the entry
// function as arguments.
//
//===----------------------------------------------------------------------===//

#include "fovea/Dialect/Vision/Transforms/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include <functional>

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
    // ops whose inputs are weight-only or constant-only and include at least
    // one weight-only value. Constant-only values (constants, static
    // tensor.empty, fills of constants) are not hoisted: a hoisted empty
    // tensor would become one buffer shared by every run, which the
    // destination-passing ops of @run write into and return.
    DenseSet<Value> weightOnly, constantOnly;
    SmallVector<BlockArgument> weights;
    for (BlockArgument arg : func.getArguments())
      if (func.getArgAttr(arg.getArgNumber(), "fovea.weight")) {
        weightOnly.insert(arg);
        weights.push_back(arg);
      }
    auto inputsOf = [](Operation *op) {
      llvm::SetVector<Value> inputs(op->getOperands().begin(),
                                    op->getOperands().end());
      getUsedValuesDefinedAbove(op->getRegions(), inputs);
      return inputs;
    };
    llvm::SetVector<Operation *> hoisted;
    for (Operation &op : func.getBody().front().without_terminator()) {
      if (!isMemoryEffectFree(&op))
        continue;
      llvm::SetVector<Value> inputs = inputsOf(&op);
      if (!llvm::all_of(inputs, [&](Value v) {
            return weightOnly.count(v) || constantOnly.count(v);
          }))
        continue;
      bool fromWeights =
          llvm::any_of(inputs, [&](Value v) { return weightOnly.count(v); });
      if (fromWeights)
        hoisted.insert(&op);
      for (Value result : op.getResults())
        (fromWeights ? weightOnly : constantOnly).insert(result);
    }

    // The values the rest of the function needs from the hoisted ops.
    Block &entryBlock = func.getBody().front();
    auto neededOutside = [&](Value result) {
      return llvm::any_of(result.getUsers(), [&](Operation *user) {
        return !hoisted.contains(entryBlock.findAncestorOpInBlock(*user));
      });
    };
    // A reshape or cast computes nothing: as a value of @init it would be a
    // view of a weight (or of another value of @init), which the runtime
    // would own twice. Such ops stay in @run, reading what they read.
    for (bool changed = true; changed;) {
      changed = false;
      for (Operation *op : llvm::to_vector(hoisted))
        if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::CastOp>(
                op) &&
            llvm::any_of(op->getResults(), neededOutside)) {
          hoisted.remove(op);
          changed = true;
        }
    }
    SmallVector<Value> frontier;
    for (Operation *op : hoisted)
      for (Value result : op->getResults())
        if (neededOutside(result))
          frontier.push_back(result);
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
    // The constant-only values a hoisted op reads are recomputed in @init.
    SmallVector<Operation *> recomputed;
    std::function<void(Value)> materialize = [&](Value v) {
      if (mapping.contains(v) || !constantOnly.count(v))
        return;
      Operation *def = v.getDefiningOp();
      for (Value input : inputsOf(def))
        materialize(input);
      b.clone(*def, mapping);
      recomputed.push_back(def);
    };
    for (Operation *op : hoisted) {
      for (Value input : inputsOf(op))
        materialize(input);
      b.clone(*op, mapping);
    }
    SmallVector<Value> results;
    for (Value v : frontier)
      results.push_back(mapping.lookup(v));
    func::ReturnOp::create(b, func.getLoc(), results);

    // The entry function takes the derived values instead.
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
    for (Operation *op : llvm::reverse(recomputed))
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
