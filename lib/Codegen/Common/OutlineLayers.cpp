//===- OutlineLayers.cpp - One function for the identical layers ---------===//
//
// A layer is the range of the entry block between the first and the last
// operation with a region or a call whose location names it. Each range is
// cloned into a candidate function; the largest set of candidates with
// equal bodies (locations ignored) becomes one function called per layer.
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/Common/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Debug.h"
#include <map>
#include <optional>

namespace mlir::vision {
#define GEN_PASS_DEF_OUTLINELAYERS
#include "fovea/Codegen/Common/Passes.h.inc"
} // namespace mlir::vision

#define DEBUG_TYPE "fovea-outline-layers"

using namespace mlir;

namespace {

/// One layer's range of the entry block and what crosses its boundary.
struct Layer {
  int64_t index;
  unsigned begin, end; // positions in the entry block, inclusive
  SmallVector<Operation *> ops;
  llvm::SetVector<Value> liveIns;
  llvm::SetVector<Operation *> constants; // cloned, not passed
  llvm::SetVector<Value> liveOuts;
  func::FuncOp candidate;
};

struct OutlineLayersPass
    : public vision::impl::OutlineLayersBase<OutlineLayersPass> {
  using Base::Base;
  void runOnOperation() override;

  /// The layer index in `loc`'s names, if one is `<prefix><index>`.
  std::optional<int64_t> layerOf(Location loc) const;
  /// The layer of a top-level operation that counts as a layer's code (a
  /// region or a call), from its own location or its first nested one.
  std::optional<int64_t> layerOf(Operation *op) const;
};

} // namespace

std::optional<int64_t> OutlineLayersPass::layerOf(Location loc) const {
  std::optional<int64_t> result;
  loc->walk([&](Location l) {
    auto name = dyn_cast<NameLoc>(l);
    if (!name)
      return WalkResult::advance();
    StringRef text = name.getName().getValue();
    int64_t index;
    if (!text.consume_front(prefix) || text.getAsInteger(10, index))
      return WalkResult::advance();
    result = index;
    return WalkResult::interrupt();
  });
  return result;
}

std::optional<int64_t> OutlineLayersPass::layerOf(Operation *op) const {
  if (op->getNumRegions() == 0 && !isa<CallOpInterface>(op))
    return std::nullopt;
  std::optional<int64_t> result = layerOf(op->getLoc());
  if (!result)
    op->walk([&](Operation *nested) {
      result = layerOf(nested->getLoc());
      return result ? WalkResult::interrupt() : WalkResult::advance();
    });
  return result;
}

/// Whether `op` (nested anywhere in `body`) is outside `layer`'s range.
/// Operations the pass created (the calls) have no position: outside.
static bool outside(Operation *op, Block &body,
                    const DenseMap<Operation *, unsigned> &position,
                    const Layer &layer) {
  auto at = position.find(body.findAncestorOpInBlock(*op));
  return at == position.end() || at->second < layer.begin ||
         at->second > layer.end;
}

/// Whether `value`, used inside layer `layer`, is defined outside it.
static bool definedOutside(Value value, Block &body,
                           const DenseMap<Operation *, unsigned> &position,
                           const Layer &layer) {
  if (Operation *def = value.getDefiningOp())
    return outside(def, body, position, layer);
  return cast<BlockArgument>(value).getOwner() == &body;
}

void OutlineLayersPass::runOnOperation() {
  ModuleOp module = getOperation();
  auto func = module.lookupSymbol<func::FuncOp>(function);
  if (!func || func.isExternal() || !func.getBody().hasOneBlock())
    return;
  Block &body = func.getBody().front();

  DenseMap<Operation *, unsigned> position;
  std::map<int64_t, std::pair<unsigned, unsigned>> ranges;
  unsigned at = 0;
  for (Operation &op : body) {
    position[&op] = at;
    if (std::optional<int64_t> index = layerOf(&op)) {
      auto [it, inserted] = ranges.try_emplace(*index, at, at);
      if (!inserted)
        it->second.second = at;
    }
    ++at;
  }

  LLVM_DEBUG(for (auto &[index, range] : ranges) llvm::dbgs()
             << "layer " << index << ": ops " << range.first << ".."
             << range.second << "\n");
  // Layers whose ranges overlap share code (an operation fused across
  // them): neither can be outlined.
  std::vector<Layer> layers;
  for (auto &[index, range] : ranges)
    layers.push_back({index, range.first, range.second, {}, {}, {}, {}, {}});
  llvm::sort(layers,
             [](const Layer &a, const Layer &b) { return a.begin < b.begin; });
  SmallVector<bool> overlaps(layers.size(), false);
  for (size_t i = 1; i < layers.size(); ++i)
    if (layers[i].begin <= layers[i - 1].end)
      overlaps[i] = overlaps[i - 1] = true;
  std::vector<Layer> disjoint;
  for (size_t i = 0; i < layers.size(); ++i)
    if (!overlaps[i])
      disjoint.push_back(std::move(layers[i]));
  if (disjoint.size() < 2)
    return;

  SmallVector<Operation *> all = llvm::map_to_vector(
      body.without_terminator(), [](Operation &op) { return &op; });
  OpBuilder builder(module.getContext());
  builder.setInsertionPointToEnd(module.getBody());
  for (Layer &layer : disjoint) {
    layer.ops.assign(all.begin() + layer.begin, all.begin() + layer.end + 1);
    for (Operation *op : layer.ops) {
      op->walk<WalkOrder::PreOrder>([&](Operation *nested) {
        for (Value operand : nested->getOperands()) {
          if (!definedOutside(operand, body, position, layer))
            continue;
          Operation *def = operand.getDefiningOp();
          if (def && (def->hasTrait<OpTrait::ConstantLike>() ||
                      isa<memref::GetGlobalOp>(def)))
            layer.constants.insert(def);
          else
            layer.liveIns.insert(operand);
        }
      });
      for (Value result : op->getResults())
        if (llvm::any_of(result.getUsers(), [&](Operation *user) {
              return outside(user, body, position, layer);
            }))
          layer.liveOuts.insert(result);
    }
    auto type = builder.getFunctionType(
        ValueRange(layer.liveIns.getArrayRef()).getTypes(),
        ValueRange(layer.liveOuts.getArrayRef()).getTypes());
    layer.candidate = func::FuncOp::create(
        builder, func.getLoc(),
        (function + "_layer" + Twine(layer.index)).str(), type);
    layer.candidate.setPrivate();
    Block *entry = layer.candidate.addEntryBlock();
    IRMapping mapping;
    mapping.map(layer.liveIns.getArrayRef(), entry->getArguments());
    OpBuilder inner = OpBuilder::atBlockEnd(entry);
    for (Operation *constant : layer.constants)
      inner.clone(*constant, mapping);
    for (Operation *op : layer.ops)
      inner.clone(*op, mapping);
    SmallVector<Value> returned = llvm::map_to_vector(
        layer.liveOuts, [&](Value v) { return mapping.lookup(v); });
    func::ReturnOp::create(inner, func.getLoc(), returned);
  }

  // Classes of equal layers; the largest (first found on a tie) is kept.
  SmallVector<SmallVector<size_t>> classes;
  for (size_t i = 0; i < disjoint.size(); ++i) {
    func::FuncOp candidate = disjoint[i].candidate;
    auto equal = llvm::find_if(classes, [&](const SmallVector<size_t> &c) {
      func::FuncOp other = disjoint[c.front()].candidate;
      return other.getFunctionType() == candidate.getFunctionType() &&
             OperationEquivalence::isRegionEquivalentTo(
                 &other.getBody(), &candidate.getBody(),
                 OperationEquivalence::IgnoreLocations);
    });
    if (equal == classes.end())
      classes.push_back({i});
    else
      equal->push_back(i);
  }
  LLVM_DEBUG(for (const SmallVector<size_t> &c : classes) llvm::dbgs()
             << c.size() << " equal layers from layer "
             << disjoint[c.front()].index << "\n");
  SmallVector<size_t> *largest = nullptr;
  for (SmallVector<size_t> &c : classes)
    if (!largest || c.size() > largest->size())
      largest = &c;
  std::string name = function + "_layer";
  if (largest->size() >= 2 && module.lookupSymbol(name)) {
    for (Layer &layer : disjoint)
      layer.candidate.erase();
    func.emitError() << "cannot outline the layers of @" << function << ": @"
                     << name << " already exists";
    return signalPassFailure();
  }
  SmallVector<bool> outline(disjoint.size(), false);
  if (largest->size() >= 2)
    for (size_t i : *largest)
      outline[i] = true;

  ArrayAttr noinline =
      builder.getArrayAttr({builder.getStringAttr("noinline")});
  func::FuncOp callee;
  IRMapping replaced; // a replaced layer's results -> its call's
  for (size_t i = 0; i < disjoint.size(); ++i) {
    Layer &layer = disjoint[i];
    if (!outline[i] || callee) {
      layer.candidate.erase();
      if (!outline[i])
        continue;
    } else {
      callee = layer.candidate;
      callee.setSymName(name);
      callee->setAttr("passthrough", noinline);
    }
    OpBuilder at(layer.ops.front());
    SmallVector<Value> operands = llvm::map_to_vector(
        layer.liveIns, [&](Value v) { return replaced.lookupOrDefault(v); });
    auto call =
        func::CallOp::create(at, layer.ops.front()->getLoc(), callee, operands);
    replaced.map(layer.liveOuts.getArrayRef(), call.getResults());
    for (auto [liveOut, result] :
         llvm::zip_equal(layer.liveOuts, call.getResults())) {
      Value value = liveOut;
      value.replaceUsesWithIf(result, [&](OpOperand &use) {
        return use.getOwner() != call &&
               outside(use.getOwner(), body, position, layer);
      });
    }
    for (Operation *op : layer.ops)
      op->dropAllReferences();
    for (Operation *op : llvm::reverse(layer.ops))
      op->erase();
  }
}
