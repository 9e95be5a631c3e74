//===- ParallelLoops.cpp - scf.forall loops on the module's threads -------===//
//
// Outlines each outermost scf.forall of the bufferized host code into a task
// function the runtime's fovea_parallel_for calls over chunks of the
// iteration space; the values the body uses are passed in one stack struct.
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/CPU/Passes.h"

#include "Contractions.h"

#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::vision {
#define GEN_PASS_DEF_CPUPARALLELLOOPS
#include "fovea/Codegen/CPU/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

namespace {
/// What the task does with a value its body uses from above.
enum class Use { Clone, Pass };

/// The trip count of one dimension where its bounds are constants.
std::optional<int64_t> staticTripCount(OpFoldResult lb, OpFoldResult ub,
                                       OpFoldResult step) {
  std::optional<int64_t> l = getConstantIntValue(lb),
                         u = getConstantIntValue(ub),
                         s = getConstantIntValue(step);
  if (!l || !u || !s || *s <= 0)
    return std::nullopt;
  return std::max<int64_t>(0, (*u - *l + *s - 1) / *s);
}

struct CpuParallelLoopsPass
    : vision::impl::CpuParallelLoopsBase<CpuParallelLoopsPass> {
  using Base::Base;

  /// Outermost: no enclosing loop of any kind.
  static bool isOutermost(Operation *loop) {
    return !loop->getParentOfType<scf::ForallOp>() &&
           !loop->getParentOfType<scf::ForOp>() &&
           !loop->getParentOfType<scf::ParallelOp>() &&
           !loop->getParentOfType<scf::WhileOp>();
  }

  /// Clone (constants, globals, stack temporaries of the loop alone) or
  /// pass; nullopt where the loop cannot run in parallel.
  std::optional<Use> classify(Value value, Operation *loop,
                              LLVMTypeConverter &converter) {
    if (Operation *def = value.getDefiningOp()) {
      if (def->hasTrait<OpTrait::ConstantLike>() ||
          isa<memref::GetGlobalOp>(def))
        return Use::Clone;
      if (isa<memref::AllocaOp>(def)) {
        // Each thread needs its own slot: only one used by this loop alone.
        if (llvm::all_of(def->getUsers(), [&](Operation *user) {
              return loop->isProperAncestor(user);
            }))
          return Use::Clone;
        return std::nullopt;
      }
    }
    if (!converter.convertType(value.getType()))
      return std::nullopt;
    return Use::Pass;
  }

  /// An scf.forall or scf.parallel without results, as the outlining sees
  /// it.
  struct ParallelLoop {
    Operation *op;
    SmallVector<OpFoldResult> lowers, uppers, steps;
    SmallVector<Value> ivs;
    Block *body;
    /// scf.parallel: its innermost dimension, which stays an scf.parallel
    /// inside each iteration (so it vectorizes; no division per element).
    SmallVector<OpFoldResult> innerLower, innerUpper, innerStep;
    Value innerIv;
  };

  static std::optional<ParallelLoop> asParallelLoop(Operation *op) {
    if (auto forall = dyn_cast<scf::ForallOp>(op)) {
      if (!forall.getOutputs().empty() || forall.getMapping())
        return std::nullopt;
      return ParallelLoop{op,
                          forall.getMixedLowerBound(),
                          forall.getMixedUpperBound(),
                          forall.getMixedStep(),
                          SmallVector<Value>(forall.getInductionVars()),
                          forall.getBody(),
                          {},
                          {},
                          {},
                          Value()};
    }
    if (auto parallel = dyn_cast<scf::ParallelOp>(op)) {
      // A one-dimensional loop (a bias, a vector) is too small to spread.
      if (!parallel.getInitVals().empty() || parallel.getNumLoops() < 2)
        return std::nullopt;
      ParallelLoop loop{op,
                        getAsOpFoldResult(parallel.getLowerBound()),
                        getAsOpFoldResult(parallel.getUpperBound()),
                        getAsOpFoldResult(parallel.getStep()),
                        SmallVector<Value>(parallel.getInductionVars()),
                        parallel.getBody(),
                        {},
                        {},
                        {},
                        Value()};
      loop.innerLower.push_back(loop.lowers.pop_back_val());
      loop.innerUpper.push_back(loop.uppers.pop_back_val());
      loop.innerStep.push_back(loop.steps.pop_back_val());
      loop.innerIv = loop.ivs.pop_back_val();
      return loop;
    }
    return std::nullopt;
  }

  LogicalResult outline(const ParallelLoop &loop, LLVMTypeConverter &converter,
                        SymbolTable &symbols, unsigned &counter) {
    auto function = loop.op->getParentOfType<func::FuncOp>();
    if (!function)
      return failure();
    llvm::SetVector<Value> above;
    getUsedValuesDefinedAbove(loop.op->getRegion(0), above);
    SmallVector<Value> passed, cloned;
    // The inner dimension's bounds are used inside the task.
    for (ArrayRef<OpFoldResult> bounds :
         {loop.innerLower, loop.innerUpper, loop.innerStep})
      for (OpFoldResult bound : bounds)
        if (auto value = dyn_cast<Value>(bound))
          above.insert(value);
    for (Value value : above) {
      std::optional<Use> use = classify(value, loop.op, converter);
      if (!use)
        return failure();
      (*use == Use::Clone ? cloned : passed).push_back(value);
    }

    MLIRContext *ctx = &getContext();
    Location loc = loop.op->getLoc();
    OpBuilder b(loop.op);
    Type i64 = b.getI64Type(), index = b.getIndexType();
    auto ptr = LLVM::LLVMPointerType::get(ctx);

    // The forall's bounds, in the caller: per dimension its lower bound,
    // step and trip count (ceil((ub - lb) / step), at least 0); constants
    // are cloned into the task (its divisions by them stay cheap), the
    // others passed.
    SmallVector<Value> lowers, steps, counts;
    Value total = arith::ConstantIndexOp::create(b, loc, 1);
    for (auto [lb, ub, step] :
         llvm::zip(loop.lowers, loop.uppers, loop.steps)) {
      Value lower = getValueOrCreateConstantIndexOp(b, loc, lb);
      Value stride = getValueOrCreateConstantIndexOp(b, loc, step);
      Value count;
      if (std::optional<int64_t> trips = staticTripCount(lb, ub, step)) {
        count = arith::ConstantIndexOp::create(b, loc, *trips);
      } else {
        Value upper = getValueOrCreateConstantIndexOp(b, loc, ub);
        Value span = arith::SubIOp::create(b, loc, upper, lower);
        count = arith::MaxSIOp::create(
            b, loc, arith::CeilDivSIOp::create(b, loc, span, stride),
            arith::ConstantIndexOp::create(b, loc, 0));
      }
      lowers.push_back(lower);
      steps.push_back(stride);
      counts.push_back(count);
      total = arith::MulIOp::create(b, loc, total, count);
    }
    unsigned dims = counts.size();
    for (unsigned d = 0; d < dims; ++d)
      for (Value bound : {lowers[d], steps[d], counts[d]})
        (bound.getDefiningOp<arith::ConstantOp>() ? cloned : passed)
            .push_back(bound);

    SmallVector<Type> fields;
    for (Value value : passed)
      fields.push_back(converter.convertType(value.getType()));
    auto record = LLVM::LLVMStructType::getLiteral(ctx, fields);

    // The task: (ctx, lo, hi) -> ().
    auto taskType = b.getFunctionType({ptr, i64, i64}, {});
    OpBuilder moduleBuilder(function);
    moduleBuilder.setInsertionPointAfter(function);
    std::string name;
    do
      name = (function.getName() + "_loop" + Twine(counter++)).str();
    while (symbols.lookup(name));
    auto task = func::FuncOp::create(moduleBuilder, loc, name, taskType);
    task.setPrivate();
    symbols.insert(task);
    Block *entry = task.addEntryBlock();
    OpBuilder t = OpBuilder::atBlockBegin(entry);
    IRMapping mapping;
    for (auto [i, value] : llvm::enumerate(passed)) {
      Value field = LLVM::GEPOp::create(
          t, loc, ptr, record, entry->getArgument(0),
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
      Value loaded = LLVM::LoadOp::create(t, loc, fields[i], field);
      mapping.map(value, UnrealizedConversionCastOp::create(
                             t, loc, value.getType(), loaded)
                             .getResult(0));
    }
    for (Value value : cloned)
      mapping.map(value,
                  t.clone(*value.getDefiningOp(), mapping)
                      ->getResult(cast<OpResult>(value).getResultNumber()));
    Value lo = arith::IndexCastOp::create(t, loc, index, entry->getArgument(1));
    Value hi = arith::IndexCastOp::create(t, loc, index, entry->getArgument(2));
    Value one = arith::ConstantIndexOp::create(t, loc, 1);
    auto walk = scf::ForOp::create(t, loc, lo, hi, one);
    func::ReturnOp::create(t, loc);

    // The body: iteration i delinearized, last dimension fastest.
    OpBuilder inner = OpBuilder::atBlockBegin(walk.getBody());
    Value rest = walk.getInductionVar();
    SmallVector<Value> ivs(dims);
    for (int d = static_cast<int>(dims) - 1; d >= 0; --d) {
      Value count = mapping.lookup(counts[d]);
      Value position = rest;
      if (d > 0) {
        position = arith::RemUIOp::create(inner, loc, rest, count);
        rest = arith::DivUIOp::create(inner, loc, rest, count);
      }
      Value offset =
          arith::MulIOp::create(inner, loc, position, mapping.lookup(steps[d]));
      ivs[d] =
          arith::AddIOp::create(inner, loc, mapping.lookup(lowers[d]), offset);
    }
    for (unsigned d = 0; d < dims; ++d)
      mapping.map(loop.ivs[d], ivs[d]);
    if (loop.innerIv) {
      auto materialize = [&](OpFoldResult bound) -> Value {
        if (auto value = dyn_cast<Value>(bound))
          return mapping.lookup(value);
        return getValueOrCreateConstantIndexOp(inner, loc, bound);
      };
      auto nested = scf::ParallelOp::create(
          inner, loc, ValueRange{materialize(loop.innerLower[0])},
          ValueRange{materialize(loop.innerUpper[0])},
          ValueRange{materialize(loop.innerStep[0])});
      mapping.map(loop.innerIv, nested.getInductionVars()[0]);
      inner.setInsertionPoint(nested.getBody()->getTerminator());
    }
    for (Operation &op : loop.body->without_terminator())
      inner.clone(op, mapping);

    // The call site: the struct on the stack, then the runtime's loop.
    Value size = LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(1));
    Value slot = LLVM::AllocaOp::create(b, loc, ptr, record, size);
    for (auto [i, value] : llvm::enumerate(passed)) {
      Value descriptor =
          UnrealizedConversionCastOp::create(b, loc, fields[i], value)
              .getResult(0);
      Value field = LLVM::GEPOp::create(
          b, loc, ptr, record, slot,
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
      LLVM::StoreOp::create(b, loc, descriptor, field);
    }
    Value callee =
        func::ConstantOp::create(b, loc, taskType, SymbolRefAttr::get(task));
    Value count = arith::IndexCastOp::create(b, loc, i64, total);
    func::FuncOp runtime = vision::declareRuntimeFunction(
        b, function->getParentOfType<ModuleOp>(), "fovea_parallel_for",
        {i64, taskType, ptr});
    func::CallOp::create(b, loc, runtime, ValueRange{count, callee, slot});
    loop.op->erase();
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    LLVMTypeConverter converter(&getContext());
    SymbolTable symbols(module);
    std::vector<ParallelLoop> loops;
    module.walk([&](Operation *op) {
      if (!isa<scf::ForallOp, scf::ParallelOp>(op) || !isOutermost(op))
        return;
      std::optional<ParallelLoop> loop = asParallelLoop(op);
      // At most one iteration has nothing to spread.
      if (loop &&
          !llvm::all_of(llvm::zip(loop->lowers, loop->uppers, loop->steps),
                        [](auto bounds) {
                          auto [lb, ub, step] = bounds;
                          std::optional<int64_t> trips =
                              staticTripCount(lb, ub, step);
                          return trips && *trips <= 1;
                        }))
        loops.push_back(*loop);
    });
    unsigned counter = 0;
    for (const ParallelLoop &loop : loops)
      (void)outline(loop, converter, symbols, counter);
  }
};
} // namespace
