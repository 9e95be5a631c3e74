//===- MmaContractions.cpp - bf16 matmuls on tensor cores -----------------===//
//
// Builds a warp-level mma.sync kernel for the bf16 contractions the vision
// lowering produces for vision.linear.
//
// The fragment layout and the mma.sync helpers are in WarpMma.h.
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/GPU/Passes.h"

#include "WarpMma.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::vision {
#define GEN_PASS_DEF_GPUMMACONTRACTIONS
#include "fovea/Codegen/GPU/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

namespace {
constexpr int64_t kWarps = 4;     // warps per block, stacked along M
constexpr int64_t kFragments = 4; // m16n8 fragments per warp, along N
constexpr int64_t kTileM = 16 * kWarps, kTileN = 8 * kFragments;

/// Whether `op` is `C[..., m, n] += f32(A[..., m, k]) * f32(B[k, n])` on
/// bf16 A, B and f32 C with identity layouts, N % 8 == 0 and K % 16 == 0
/// static; leading (batch) loops index A and C alike and fold into M.
bool isMmaContraction(linalg::GenericOp op) {
  unsigned loops = op.getNumLoops();
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || loops < 3 || op.getNumReductionLoops() != 1)
    return false;
  auto iterators = op.getIteratorTypesArray();
  if (iterators[loops - 1] != utils::IteratorType::reduction)
    return false;
  MLIRContext *ctx = op.getContext();
  SmallVector<AffineExpr> batch;
  for (unsigned d = 0; d + 3 < loops; ++d)
    batch.push_back(getAffineDimExpr(d, ctx));
  AffineExpr m = getAffineDimExpr(loops - 3, ctx),
             n = getAffineDimExpr(loops - 2, ctx),
             k = getAffineDimExpr(loops - 1, ctx);
  auto is = [&](AffineMap map, ArrayRef<AffineExpr> lead, AffineExpr x,
                AffineExpr y) {
    SmallVector<AffineExpr> want(lead.begin(), lead.end());
    want.append({x, y});
    return map.getResults() == ArrayRef<AffineExpr>(want);
  };
  auto maps = op.getIndexingMapsArray();
  if (!is(maps[0], batch, m, k) || !is(maps[1], {}, k, n) ||
      !is(maps[2], batch, m, n))
    return false;
  auto type = [&](Value v) { return dyn_cast<MemRefType>(v.getType()); };
  MemRefType a = type(op.getDpsInputs()[0]), b = type(op.getDpsInputs()[1]),
             c = type(op.getDpsInits()[0]);
  if (!a || !b || !c || !a.getElementType().isBF16() ||
      !b.getElementType().isBF16() || !c.getElementType().isF32() ||
      !a.getLayout().isIdentity() || !b.getLayout().isIdentity() ||
      !c.getLayout().isIdentity())
    return false;
  int64_t kSize = b.getDimSize(0), nSize = b.getDimSize(1);
  if (ShapedType::isDynamic(kSize) || ShapedType::isDynamic(nSize) ||
      kSize % 16 || nSize % 8 || a.getShape().back() != kSize ||
      c.getShape().back() != nSize)
    return false;
  // Body: yield(addf(out, mulf(extf(a), extf(b)))), operands in any order.
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value acc = body.getArgument(2);
  Value product = add.getLhs() == acc ? add.getRhs() : add.getLhs();
  if ((add.getLhs() != acc && add.getRhs() != acc) || !product)
    return false;
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return false;
  auto fromArg = [&](Value v, unsigned arg) {
    auto ext = v.getDefiningOp<arith::ExtFOp>();
    return ext && ext.getIn() == body.getArgument(arg);
  };
  return ((fromArg(mul.getLhs(), 0) && fromArg(mul.getRhs(), 1)) ||
          (fromArg(mul.getLhs(), 1) && fromArg(mul.getRhs(), 0))) &&
         body.getOperations().size() == 5;
}

/// The elementwise consumer of the contraction's accumulator that the
/// kernel applies as its epilogue (bias, activation, residual, rounding to
/// bf16), and whether the accumulator starts from a zero fill it can skip.
struct Epilogue {
  linalg::GenericOp consumer;
  linalg::FillOp zeroFill;
};

/// Whether `value` is the constant 0.0.
bool isZero(Value value) {
  auto constant = value.getDefiningOp<arith::ConstantOp>();
  auto attr = constant ? dyn_cast<FloatAttr>(constant.getValue()) : nullptr;
  return attr && attr.getValue().isZero();
}

/// Finds the epilogue of contraction `op`: the accumulator C is a fresh
/// buffer whose only uses are a zero fill before `op`, `op`, one all-parallel
/// generic after it in the same block that reads C elementwise (identity
/// map) and writes another fresh buffer, and deallocations; nothing between
/// `op` and the consumer writes memory; the consumer's body is pure.
Epilogue findEpilogue(linalg::GenericOp op) {
  Epilogue found;
  Value c = op.getDpsInits()[0];
  if (!c.getDefiningOp<memref::AllocOp>())
    return {};
  for (Operation *user : c.getUsers()) {
    if (user == op || isa<memref::DeallocOp>(user))
      continue;
    if (auto fill = dyn_cast<linalg::FillOp>(user);
        fill && fill->getBlock() == op->getBlock() &&
        fill->isBeforeInBlock(op) && isZero(fill.getInputs()[0]) &&
        !found.zeroFill) {
      found.zeroFill = fill;
      continue;
    }
    auto generic = dyn_cast<linalg::GenericOp>(user);
    if (!generic || found.consumer)
      return {};
    found.consumer = generic;
  }
  linalg::GenericOp consumer = found.consumer;
  if (!consumer || consumer->getBlock() != op->getBlock() ||
      !op->isBeforeInBlock(consumer) || !consumer.hasPureBufferSemantics() ||
      consumer.getNumReductionLoops() != 0 || consumer.getNumDpsInits() != 1 ||
      consumer.getNumLoops() != cast<MemRefType>(c.getType()).getRank())
    return {};
  // The fill must be the accumulator's last write before `op`.
  if (found.zeroFill)
    for (Operation *it = found.zeroFill->getNextNode(); it != op;
         it = it->getNextNode())
      if (llvm::is_contained(it->getOperands(), c))
        found.zeroFill = nullptr;
  Value out = consumer.getDpsInits()[0];
  if (!out.getDefiningOp<memref::AllocOp>() || out == op.getDpsInputs()[0] ||
      out == op.getDpsInputs()[1])
    return {};
  int reads = 0;
  for (OpOperand *input : consumer.getDpsInputOperands()) {
    AffineMap map = consumer.getMatchingIndexingMap(input);
    if (!map.isProjectedPermutation())
      return {};
    if (input->get() == c) {
      if (!map.isIdentity())
        return {};
      ++reads;
    }
  }
  if (reads != 1 ||
      !consumer.getMatchingIndexingMap(consumer.getDpsInitOperand(0))
           .isProjectedPermutation())
    return {};
  for (Operation &inner : consumer.getRegion().front().without_terminator())
    if (inner.getNumRegions() || !isMemoryEffectFree(&inner))
      return {};
  for (Operation *it = op->getNextNode(); it != consumer;
       it = it->getNextNode()) {
    auto effects = dyn_cast<MemoryEffectOpInterface>(it);
    if (it->getNumRegions() || (!effects && !isMemoryEffectFree(it)) ||
        (effects && effects.hasEffect<MemoryEffects::Write>()))
      return {};
  }
  return found;
}

/// What one lane of a warp works on: the two rows of C it owns (row0 and
/// row0 + 8) and whether they are below M, and per fragment the pair of
/// columns it owns.
struct LaneFrame {
  Value n0, g, t2, row0, row1, ok0, ok1;
  SmallVector<Value> cols, colsNext;
};

/// Builds the tensor-core kernel replacing one matched contraction, either
/// as a gpu.launch (one lane per thread) or, for `emulateWarps`, as host
/// loops over blocks, warps and lanes with the warp-wide mma.sync emulated.
/// The per-lane code (positions, fragment loads and packing, stores) is the
/// same in both.
class MmaKernelBuilder {
public:
  /// Builds at the epilogue's consumer when there is one (its operands
  /// exist there), else at `op`.
  MmaKernelBuilder(linalg::GenericOp op, Epilogue epilogue)
      : op(op), epilogue(epilogue),
        b(op.getLoc(), epilogue.consumer ? epilogue.consumer.getOperation()
                                         : op.getOperation()) {
    a = toMatrix(op.getDpsInputs()[0]);
    w = op.getDpsInputs()[1];
    accumulator = op.getDpsInits()[0];
    c = toMatrix(accumulator);
    kSize = cast<MemRefType>(w.getType()).getDimSize(0);
    nSize = cast<MemRefType>(c.getType()).getDimSize(1);
    mSize = memref::DimOp::create(b, a, 0);
    gridX = index((nSize + kTileN - 1) / kTileN);
    gridY = arith::CeilDivUIOp::create(b, mSize, index(kTileM));
  }

  void buildGpuKernel();
  void buildEmulatedKernel();

private:
  Value index(int64_t v) { return wb.index(v); }
  Value add(Value x, int64_t y) { return wb.add(x, y); }
  Value mul(Value x, int64_t y) { return wb.mul(x, y); }
  Value div(Value x, int64_t y) { return wb.div(x, y); }
  Value rem(Value x, int64_t y) { return wb.rem(x, y); }
  Value less(Value x, Value y) { return wb.less(x, y); }

  /// Batch dimensions fold into M (identity layouts are contiguous).
  Value toMatrix(Value v) {
    int64_t rank = cast<MemRefType>(v.getType()).getRank();
    if (rank == 2)
      return v;
    ReassociationIndices rows;
    for (int64_t d = 0; d + 1 < rank; ++d)
      rows.push_back(d);
    return memref::CollapseShapeOp::create(
        b, v, SmallVector<ReassociationIndices>{rows, {rank - 1}});
  }

  /// Whether fragment j of the block's tile is inside N (uniform per warp).
  SmallVector<Value> fragmentsInside(Value blockX) {
    SmallVector<Value> valid;
    Value n0 = mul(blockX, kTileN);
    for (int64_t j = 0; j < kFragments; ++j)
      valid.push_back(less(add(n0, 8 * j), index(nSize)));
    return valid;
  }

  LaneFrame laneFrame(Value blockX, Value blockY, Value warp, Value lane) {
    LaneFrame f;
    f.g = div(lane, 4);
    f.t2 = mul(rem(lane, 4), 2);
    f.n0 = mul(blockX, kTileN);
    Value m0 = arith::AddIOp::create(b, mul(blockY, kTileM), mul(warp, 16));
    f.row0 = arith::AddIOp::create(b, m0, f.g);
    f.row1 = add(f.row0, 8);
    f.ok0 = less(f.row0, mSize);
    f.ok1 = less(f.row1, mSize);
    for (int64_t j = 0; j < kFragments; ++j) {
      f.cols.push_back(arith::AddIOp::create(b, add(f.n0, 8 * j), f.t2));
      f.colsNext.push_back(add(f.cols.back(), 1));
    }
    return f;
  }

  /// `memref[i, j]` when `ok`, else `zero`.
  Value guardedLoad(Value ok, Value memref, Value i, Value j, Value zero) {
    return wb.select(
        ok, [&] { return memref::LoadOp::create(b, memref, ValueRange{i, j}); },
        zero);
  }

  Value pack(Value lo, Value hi) { return wb.pack(lo, hi); }

  /// The lane's accumulator registers (c0..c3 of each fragment) from C.
  SmallVector<Value> loadAccumulators(const LaneFrame &f,
                                      ArrayRef<Value> valid) {
    Value zero = arith::ConstantOp::create(b, b.getF32FloatAttr(0));
    if (epilogue.zeroFill)
      return SmallVector<Value>(4 * kFragments, zero);
    SmallVector<Value> acc;
    for (int64_t j = 0; j < kFragments; ++j) {
      Value v0 = arith::AndIOp::create(b, f.ok0, valid[j]);
      Value v1 = arith::AndIOp::create(b, f.ok1, valid[j]);
      acc.push_back(guardedLoad(v0, c, f.row0, f.cols[j], zero));
      acc.push_back(guardedLoad(v0, c, f.row0, f.colsNext[j], zero));
      acc.push_back(guardedLoad(v1, c, f.row1, f.cols[j], zero));
      acc.push_back(guardedLoad(v1, c, f.row1, f.colsNext[j], zero));
    }
    return acc;
  }

  /// The lane's A registers a0..a3 for the k-step at `k0`.
  SmallVector<Value> loadA(const LaneFrame &f, Value k0) {
    Value zero =
        arith::ConstantOp::create(b, b.getFloatAttr(b.getBF16Type(), 0));
    Value ka = arith::AddIOp::create(b, k0, f.t2), kb = add(ka, 8);
    auto reg = [&](Value ok, Value row, Value k) {
      return pack(guardedLoad(ok, a, row, k, zero),
                  guardedLoad(ok, a, row, add(k, 1), zero));
    };
    return {reg(f.ok0, f.row0, ka), reg(f.ok1, f.row1, ka),
            reg(f.ok0, f.row0, kb), reg(f.ok1, f.row1, kb)};
  }

  /// The lane's B registers b0, b1 of fragment j for the k-step at `k0`.
  SmallVector<Value> loadB(const LaneFrame &f, Value k0, int64_t j) {
    Value n = arith::AddIOp::create(b, add(f.n0, 8 * j), f.g);
    Value ka = arith::AddIOp::create(b, k0, f.t2), kb = add(ka, 8);
    auto reg = [&](Value k) {
      return pack(memref::LoadOp::create(b, w, ValueRange{k, n}),
                  memref::LoadOp::create(b, w, ValueRange{add(k, 1), n}));
    };
    return {reg(ka), reg(kb)};
  }

  /// Stores the lane's results for the rows below M.
  void store(const LaneFrame &f, ArrayRef<Value> valid, ValueRange d) {
    auto guarded = [&](Value ok, Value value, Value i, Value j) {
      auto branch = scf::IfOp::create(b, TypeRange(), ok, /*withElse=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(branch.thenBlock());
      if (epilogue.consumer)
        applyEpilogue(value, i, j);
      else
        memref::StoreOp::create(b, value, c, ValueRange{i, j});
    };
    for (int64_t j = 0; j < kFragments; ++j) {
      Value v0 = arith::AndIOp::create(b, f.ok0, valid[j]);
      Value v1 = arith::AndIOp::create(b, f.ok1, valid[j]);
      guarded(v0, d[4 * j], f.row0, f.cols[j]);
      guarded(v0, d[4 * j + 1], f.row0, f.colsNext[j]);
      guarded(v1, d[4 * j + 2], f.row1, f.cols[j]);
      guarded(v1, d[4 * j + 3], f.row1, f.colsNext[j]);
    }
  }

  /// The consumer's body for C[row, col] = `value`: its loop indices are
  /// the accumulator's (batch dimensions recovered from the folded row),
  /// its other inputs are loaded through their indexing maps, and its
  /// result is stored to its output.
  void applyEpilogue(Value value, Value row, Value col) {
    linalg::GenericOp consumer = epilogue.consumer;
    int64_t rank = cast<MemRefType>(accumulator.getType()).getRank();
    SmallVector<Value> loops(rank);
    loops[rank - 1] = col;
    for (int64_t d = rank - 2; d >= 0; --d) {
      if (d == 0) {
        loops[0] = row;
        break;
      }
      // A[batch..., m, k] has the accumulator's leading sizes.
      Value size = memref::DimOp::create(b, op.getDpsInputs()[0], d);
      loops[d] = arith::RemUIOp::create(b, row, size);
      row = arith::DivUIOp::create(b, row, size);
    }
    auto indices = [&](AffineMap map) {
      SmallVector<Value> out;
      for (unsigned r = 0; r < map.getNumResults(); ++r)
        out.push_back(loops[map.getDimPosition(r)]);
      return out;
    };
    Block &body = consumer.getRegion().front();
    IRMapping mapping;
    for (OpOperand &operand : consumer->getOpOperands()) {
      BlockArgument arg = body.getArgument(operand.getOperandNumber());
      if (operand.get() == accumulator && consumer.isDpsInput(&operand))
        mapping.map(arg, value);
      else if (!arg.use_empty())
        mapping.map(arg,
                    memref::LoadOp::create(
                        b, operand.get(),
                        indices(consumer.getMatchingIndexingMap(&operand))));
    }
    for (Operation &inner : body.without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
        mapping.map(index.getResult(), loops[index.getDim()]);
        continue;
      }
      b.clone(inner, mapping);
    }
    OpOperand *out = consumer.getDpsInitOperand(0);
    memref::StoreOp::create(
        b, mapping.lookup(body.getTerminator()->getOperand(0)), out->get(),
        indices(consumer.getMatchingIndexingMap(out)));
  }

  void loop(Value upper, function_ref<void(Value)> body) {
    wb.loop(upper, body);
  }

  linalg::GenericOp op;
  Epilogue epilogue;
  ImplicitLocOpBuilder b;
  vision::gpu_mma::WarpBuilder wb{b};
  Value a, w, accumulator, c, mSize, gridX, gridY;
  int64_t kSize, nSize;
};

void MmaKernelBuilder::buildGpuKernel() {
  auto launch = gpu::LaunchOp::create(b, gridX, gridY, index(1),
                                      index(32 * kWarps), index(1), index(1));
  b.setInsertionPointToStart(&launch.getBody().front());
  Value thread = launch.getThreadIds().x;
  LaneFrame f = laneFrame(launch.getBlockIds().x, launch.getBlockIds().y,
                          div(thread, 32), rem(thread, 32));
  SmallVector<Value> valid = fragmentsInside(launch.getBlockIds().x);
  auto loop = scf::ForOp::create(b, index(0), index(kSize), index(16),
                                 loadAccumulators(f, valid));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> aRegs = loadA(f, loop.getInductionVar());
    Type f32 = b.getF32Type();
    SmallVector<Value> next;
    for (int64_t j = 0; j < kFragments; ++j) {
      ValueRange acc = loop.getRegionIterArgs().slice(4 * j, 4);
      // A fragment past N is skipped (uniform over the warp).
      auto branch = scf::IfOp::create(b, TypeRange(SmallVector<Type>(4, f32)),
                                      valid[j], /*withElse=*/true);
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(branch.thenBlock());
      SmallVector<Value> parts =
          wb.mma(aRegs, loadB(f, loop.getInductionVar(), j), acc);
      scf::YieldOp::create(b, parts);
      b.setInsertionPointToStart(branch.elseBlock());
      scf::YieldOp::create(b, acc);
      next.append(branch.getResults().begin(), branch.getResults().end());
    }
    scf::YieldOp::create(b, next);
  }
  store(f, valid, loop.getResults());
  gpu::TerminatorOp::create(b);
}

void MmaKernelBuilder::buildEmulatedKernel() {
  // The warp's registers, lane-major, live in host buffers between steps,
  // allocated once on entry to the function.
  auto buffer = [&](Type type, int64_t regs) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(
        &op->getParentOfType<FunctionOpInterface>().getFunctionBody().front());
    return memref::AllocaOp::create(b, MemRefType::get({32, regs}, type))
        .getResult();
  };
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  Value aRegs = buffer(i32, 4);
  SmallVector<Value> bRegs, acc;
  for (int64_t j = 0; j < kFragments; ++j) {
    bRegs.push_back(buffer(i32, 2));
    acc.push_back(buffer(f32, 4));
  }
  Value lanes = index(32);
  loop(gridY, [&](Value blockY) {
    loop(gridX, [&](Value blockX) {
      SmallVector<Value> valid = fragmentsInside(blockX);
      loop(index(kWarps), [&](Value warp) {
        loop(lanes, [&](Value lane) {
          LaneFrame f = laneFrame(blockX, blockY, warp, lane);
          SmallVector<Value> init = loadAccumulators(f, valid);
          for (int64_t r = 0; r < 4 * kFragments; ++r)
            memref::StoreOp::create(b, init[r], acc[r / 4],
                                    ValueRange{lane, index(r % 4)});
        });
        auto steps = scf::ForOp::create(b, index(0), index(kSize), index(16));
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(steps.getBody());
          Value k0 = steps.getInductionVar();
          loop(lanes, [&](Value lane) {
            LaneFrame f = laneFrame(blockX, blockY, warp, lane);
            SmallVector<Value> regs = loadA(f, k0);
            for (int64_t r = 0; r < 4; ++r)
              memref::StoreOp::create(b, regs[r], aRegs,
                                      ValueRange{lane, index(r)});
            for (int64_t j = 0; j < kFragments; ++j) {
              auto inside = scf::IfOp::create(b, TypeRange(), valid[j], false);
              OpBuilder::InsertionGuard inner(b);
              b.setInsertionPointToStart(inside.thenBlock());
              SmallVector<Value> breg = loadB(f, k0, j);
              for (int64_t r = 0; r < 2; ++r)
                memref::StoreOp::create(b, breg[r], bRegs[j],
                                        ValueRange{lane, index(r)});
            }
          });
          for (int64_t j = 0; j < kFragments; ++j) {
            auto inside = scf::IfOp::create(b, TypeRange(), valid[j], false);
            OpBuilder::InsertionGuard inner(b);
            b.setInsertionPointToStart(inside.thenBlock());
            wb.emulateMma(aRegs, 0, bRegs[j], 0, acc[j], 0);
          }
        }
        loop(lanes, [&](Value lane) {
          LaneFrame f = laneFrame(blockX, blockY, warp, lane);
          SmallVector<Value> d;
          for (int64_t r = 0; r < 4 * kFragments; ++r)
            d.push_back(memref::LoadOp::create(b, acc[r / 4],
                                               ValueRange{lane, index(r % 4)}));
          store(f, valid, d);
        });
      });
    });
  });
}

struct GpuMmaContractionsPass
    : vision::impl::GpuMmaContractionsBase<GpuMmaContractionsPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> ops;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (isMmaContraction(op))
        ops.push_back(op);
    });
    for (linalg::GenericOp op : ops) {
      Epilogue epilogue = fuseEpilogues ? findEpilogue(op) : Epilogue();
      Value accumulator = op.getDpsInits()[0];
      MmaKernelBuilder builder(op, epilogue);
      if (emulateWarps)
        builder.buildEmulatedKernel();
      else
        builder.buildGpuKernel();
      op.erase();
      if (!epilogue.consumer)
        continue;
      epilogue.consumer.erase();
      // A zero-filled accumulator nobody reads any more is not needed.
      if (!epilogue.zeroFill)
        continue;
      epilogue.zeroFill.erase();
      // Views the builder made and nothing uses, then the frees and the
      // allocation once only frees are left.
      for (Operation *user : llvm::make_early_inc_range(accumulator.getUsers()))
        if (isa<memref::CollapseShapeOp>(user) && user->use_empty())
          user->erase();
      if (llvm::all_of(accumulator.getUsers(), [](Operation *user) {
            return isa<memref::DeallocOp>(user);
          })) {
        for (Operation *user :
             llvm::make_early_inc_range(accumulator.getUsers()))
          user->erase();
        accumulator.getDefiningOp()->erase();
      }
    }
  }
};
} // namespace
