//===- HoistWeightOnly.cpp - Move weight-only work into @init -------------===//
//
// Finds the ops of the entry function that depend only on weights and
// constants, clones them into @init, and passes their results to the entry
// function as arguments.
//
//===----------------------------------------------------------------------===//

#include "fovea/Dialect/Vision/Transforms/Passes.h"

#include "fovea/Dialect/Vision/IR/VisionDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::vision {
#define GEN_PASS_DEF_VISIONHOISTWEIGHTONLY
#include "fovea/Dialect/Vision/Transforms/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

namespace {
/// What the pass moves into @init, and what it needs to get there.
struct Hoisting {
  // Weight arguments of the entry function, in order.
  SmallVector<BlockArgument> weights;
  DenseSet<Value> weightOnly, constantOnly;
  llvm::SetVector<Operation *> hoisted;
  // The hoisted results the rest of the entry function reads.
  SmallVector<Value> frontier;
  // Constant-only ops cloned into @init, erased from @run once unused.
  SmallVector<Operation *> recomputed;
};
} // namespace

/// The operands of `op` and the values its regions use from above.
static llvm::SetVector<Value> inputsOf(Operation *op) {
  llvm::SetVector<Value> inputs(op->getOperands().begin(),
                                op->getOperands().end());
  getUsedValuesDefinedAbove(op->getRegions(), inputs);
  return inputs;
}

/// Whether an op of the entry block outside `hoisted` reads `result`.
static bool isNeededOutside(Value result, Block &entryBlock,
                            const llvm::SetVector<Operation *> &hoisted) {
  return llvm::any_of(result.getUsers(), [&](Operation *user) {
    return !hoisted.contains(entryBlock.findAncestorOpInBlock(*user));
  });
}

/// Classifies the values of the entry function and picks the ops to hoist.
static void findWeightOnlyOps(func::FuncOp func, Hoisting &h) {
  // Weight-only values: weight arguments, then results of side-effect-free
  // ops whose inputs are weight-only or constant-only and include at least
  // one weight-only value. Constant-only values (constants, static
  // tensor.empty, fills of constants) are not hoisted: a hoisted empty
  // tensor would become one buffer shared by every run, which the
  // destination-passing ops of @run write into and return.
  for (BlockArgument arg : func.getArguments())
    if (func.getArgAttr(
            arg.getArgNumber(),
            vision::VisionDialect::WeightAttrHelper::getNameStr())) {
      h.weightOnly.insert(arg);
      h.weights.push_back(arg);
    }
  for (Operation &op : func.getBody().front().without_terminator()) {
    if (!isMemoryEffectFree(&op))
      continue;
    llvm::SetVector<Value> inputs = inputsOf(&op);
    if (!llvm::all_of(inputs, [&](Value v) {
          return h.weightOnly.count(v) || h.constantOnly.count(v);
        }))
      continue;
    bool fromWeights =
        llvm::any_of(inputs, [&](Value v) { return h.weightOnly.count(v); });
    if (fromWeights)
      h.hoisted.insert(&op);
    for (Value result : op.getResults())
      (fromWeights ? h.weightOnly : h.constantOnly).insert(result);
  }
}

/// Keeps in @run the reshapes and casts whose results @run reads.
static void keepViewsInRun(Block &entryBlock, Hoisting &h) {
  // A reshape or cast computes nothing: as a value of @init it would be a
  // view of a weight (or of another value of @init), which the runtime
  // would own twice. Such ops stay in @run, reading what they read.
  auto neededOutside = [&](Value result) {
    return isNeededOutside(result, entryBlock, h.hoisted);
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (Operation *op : llvm::to_vector(h.hoisted))
      if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::CastOp>(
              op) &&
          llvm::any_of(op->getResults(), neededOutside)) {
        h.hoisted.remove(op);
        changed = true;
      }
  }
}

/// Collects the hoisted results that the rest of the entry function reads.
static void findFrontier(Block &entryBlock, Hoisting &h) {
  for (Operation *op : h.hoisted)
    for (Value result : op->getResults())
      if (isNeededOutside(result, entryBlock, h.hoisted))
        h.frontier.push_back(result);
}

/// Clones into @init the constant-only op defining `v`, after those it reads.
static void materialize(OpBuilder &b, Value v, IRMapping &mapping,
                        Hoisting &h) {
  if (mapping.contains(v) || !h.constantOnly.count(v))
    return;
  Operation *def = v.getDefiningOp();
  for (Value input : inputsOf(def))
    materialize(b, input, mapping, h);
  b.clone(*def, mapping);
  h.recomputed.push_back(def);
}

/// Builds @init(weights...) -> (frontier...) after `func`.
static func::FuncOp buildInit(OpBuilder &b, func::FuncOp func, Hoisting &h) {
  b.setInsertionPointAfter(func);
  SmallVector<Type> weightTypes, derivedTypes;
  for (BlockArgument w : h.weights)
    weightTypes.push_back(w.getType());
  for (Value v : h.frontier)
    derivedTypes.push_back(v.getType());
  auto init = func::FuncOp::create(
      b, func.getLoc(), "init", b.getFunctionType(weightTypes, derivedTypes));
  init->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  Block *body = init.addEntryBlock();
  IRMapping mapping;
  for (auto [i, w] : llvm::enumerate(h.weights)) {
    mapping.map(w, body->getArgument(i));
    init.setArgAttr(
        i, vision::VisionDialect::WeightAttrHelper::getNameStr(),
        func.getArgAttr(w.getArgNumber(),
                        vision::VisionDialect::WeightAttrHelper::getNameStr()));
  }
  b.setInsertionPointToStart(body);
  // The constant-only values a hoisted op reads are recomputed in @init.
  for (Operation *op : h.hoisted) {
    for (Value input : inputsOf(op))
      materialize(b, input, mapping, h);
    b.clone(*op, mapping);
  }
  SmallVector<Value> results;
  for (Value v : h.frontier)
    results.push_back(mapping.lookup(v));
  func::ReturnOp::create(b, func.getLoc(), results);
  return init;
}

/// Makes the entry function take the frontier values as new arguments.
static LogicalResult passDerivedValues(OpBuilder &b, func::FuncOp func,
                                       Hoisting &h) {
  Block &entryBlock = func.getBody().front();
  for (auto [i, v] : llvm::enumerate(h.frontier)) {
    unsigned index = func.getNumArguments();
    if (failed(func.insertArgument(
            index, v.getType(),
            b.getDictionaryAttr(b.getNamedAttr(
                vision::VisionDialect::DerivedAttrHelper::getNameStr(),
                b.getI64IntegerAttr(i))),
            v.getLoc())))
      return failure();
    Value arg = entryBlock.getArgument(index);
    v.replaceUsesWithIf(arg, [&](OpOperand &use) {
      return !h.hoisted.contains(
          entryBlock.findAncestorOpInBlock(*use.getOwner()));
    });
  }
  return success();
}

/// Erases the hoisted and recomputed ops that @run no longer uses.
static void eraseUnused(Hoisting &h) {
  for (Operation *op : llvm::reverse(h.hoisted))
    if (op->use_empty())
      op->erase();
  for (Operation *op : llvm::reverse(h.recomputed))
    if (op->use_empty())
      op->erase();
}

/// Records the derived types and the weights only @init reads on `module`.
static void annotateModule(OpBuilder &b, ModuleOp module,
                           TypeRange derivedTypes, const Hoisting &h) {
  module->setAttr(vision::VisionDialect::DerivedTypesAttrHelper::getNameStr(),
                  b.getTypeArrayAttr(derivedTypes));
  // Weights only @init reads: the runtime can release them after @init.
  SmallVector<int64_t> initOnly;
  for (auto [i, w] : llvm::enumerate(h.weights))
    if (w.use_empty())
      initOnly.push_back(static_cast<int64_t>(i));
  module->setAttr(
      vision::VisionDialect::InitOnlyWeightsAttrHelper::getNameStr(),
      b.getDenseI64ArrayAttr(initOnly));
}

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

    Hoisting h;
    Block &entryBlock = func.getBody().front();
    findWeightOnlyOps(func, h);
    keepViewsInRun(entryBlock, h);
    findFrontier(entryBlock, h);
    if (h.frontier.empty())
      return;

    OpBuilder b(module.getContext());
    func::FuncOp init = buildInit(b, func, h);
    if (failed(passDerivedValues(b, func, h)))
      return signalPassFailure();
    eraseUnused(h);
    // The frontier's ops may be erased by now; @init keeps their types.
    annotateModule(b, module, init.getResultTypes(), h);
  }
};
} // namespace
