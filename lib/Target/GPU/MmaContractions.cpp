//===- MmaContractions.cpp - bf16 matmuls on tensor cores -----------------===//
//
// Builds a warp-level mma.sync kernel for the bf16 contractions the vision
// lowering produces for vision.linear.
//
// Fragment layout of mma.sync.m16n8k16 with bf16 inputs (PTX ISA, "Matrix
// fragments for mma.m16n8k16"), with g = lane / 4 and t = lane % 4:
//   A (row-major 16 x 16), four .b32 registers of two bf16 each:
//     a0 = A[g][2t, 2t+1]      a1 = A[g+8][2t, 2t+1]
//     a2 = A[g][2t+8, 2t+9]    a3 = A[g+8][2t+8, 2t+9]
//   B (16 x 8, "col"), two registers: b0 = B[2t, 2t+1][g], b1 = B[2t+8,
//   2t+9][g] C/D (16 x 8 f32): c0, c1 = C[g][2t, 2t+1]; c2, c3 = C[g+8][2t,
//   2t+1]
//
//===----------------------------------------------------------------------===//

#include "fovea/Target/GPU/Passes.h"

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
#include "fovea/Target/GPU/Passes.h.inc"
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
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value add(Value x, int64_t y) {
    return arith::AddIOp::create(b, x, index(y));
  }
  Value mul(Value x, int64_t y) {
    return arith::MulIOp::create(b, x, index(y));
  }
  Value div(Value x, int64_t y) {
    return arith::DivUIOp::create(b, x, index(y));
  }
  Value rem(Value x, int64_t y) {
    return arith::RemUIOp::create(b, x, index(y));
  }
  Value less(Value x, Value y) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, x, y);
  }

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
    auto branch = scf::IfOp::create(b, zero.getType(), ok, /*withElse=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(branch.thenBlock());
    scf::YieldOp::create(
        b, memref::LoadOp::create(b, memref, ValueRange{i, j}).getResult());
    b.setInsertionPointToStart(branch.elseBlock());
    scf::YieldOp::create(b, zero);
    return branch.getResult(0);
  }

  /// Two bf16 values packed into the .b32 register mma.sync reads (the
  /// first in the low half).
  Value pack(Value lo, Value hi) {
    Type bf16 = b.getBF16Type();
    Value pair = vector::FromElementsOp::create(b, VectorType::get({2}, bf16),
                                                ValueRange{lo, hi});
    Value word = vector::BitCastOp::create(
        b, VectorType::get({1}, b.getI32Type()), pair);
    return vector::ExtractOp::create(b, word, ArrayRef<int64_t>{0});
  }

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

  /// `for (iv = 0; iv < upper; ++iv) body(iv)`; the builder ends after it.
  void loop(Value upper, function_ref<void(Value)> body) {
    auto forOp = scf::ForOp::create(b, index(0), upper, index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    body(forOp.getInductionVar());
  }

  /// The bf16 value in half `half` of register `reg` of `lane`, as f32.
  Value unpack(Value registers, Value lane, Value reg, Value half) {
    Type i32 = b.getI32Type();
    Value word = memref::LoadOp::create(b, registers, ValueRange{lane, reg});
    Value shift = arith::IndexCastOp::create(b, i32, mul(half, 16));
    Value bits = arith::ShRUIOp::create(b, word, shift);
    Value low = arith::AndIOp::create(
        b, bits, arith::ConstantOp::create(b, b.getI32IntegerAttr(0xffff)));
    Value wide = arith::ShLIOp::create(
        b, low, arith::ConstantOp::create(b, b.getI32IntegerAttr(16)));
    return arith::BitcastOp::create(b, b.getF32Type(), wide);
  }

  /// D = A * B + C for one warp, on the registers of its 32 lanes: `aRegs`
  /// (32 x 4 i32), `bRegs` (32 x 2 i32), `acc` (32 x 4 f32, updated).
  /// Written from the PTX fragment tables read the other way round: the
  /// lane, register and half holding A[i][k] are 4 (i % 8) + (k % 8) / 2,
  /// i / 8 + 2 (k / 8) and k % 2; for B[k][j] they are 4 j + (k % 8) / 2,
  /// k / 8 and k % 2; C[i][j] is register 2 (i / 8) + j % 2 of lane
  /// 4 (i % 8) + j / 2.
  void emulateMma(Value aRegs, Value bRegs, Value acc) {
    loop(index(16), [&](Value i) {
      loop(index(8), [&](Value j) {
        Value lane = arith::AddIOp::create(b, mul(rem(i, 8), 4), div(j, 2));
        Value reg = arith::AddIOp::create(b, mul(div(i, 8), 2), rem(j, 2));
        Value init = memref::LoadOp::create(b, acc, ValueRange{lane, reg});
        auto sum = scf::ForOp::create(b, index(0), index(16), index(1),
                                      ValueRange{init});
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(sum.getBody());
          Value k = sum.getInductionVar();
          Value pairInK = div(rem(k, 8), 2), half = rem(k, 2);
          Value x = unpack(
              aRegs, arith::AddIOp::create(b, mul(rem(i, 8), 4), pairInK),
              arith::AddIOp::create(b, div(i, 8), mul(div(k, 8), 2)), half);
          Value y = unpack(bRegs, arith::AddIOp::create(b, mul(j, 4), pairInK),
                           div(k, 8), half);
          Value next = arith::AddFOp::create(b, sum.getRegionIterArgs()[0],
                                             arith::MulFOp::create(b, x, y));
          scf::YieldOp::create(b, next);
        }
        memref::StoreOp::create(b, sum.getResult(0), acc,
                                ValueRange{lane, reg});
      });
    });
  }

  linalg::GenericOp op;
  Epilogue epilogue;
  ImplicitLocOpBuilder b;
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
    auto accType = LLVM::LLVMStructType::getLiteral(b.getContext(),
                                                    SmallVector<Type>(4, f32));
    SmallVector<Value> next;
    for (int64_t j = 0; j < kFragments; ++j) {
      ValueRange acc = loop.getRegionIterArgs().slice(4 * j, 4);
      // A fragment past N is skipped (uniform over the warp).
      auto branch = scf::IfOp::create(b, TypeRange(SmallVector<Type>(4, f32)),
                                      valid[j], /*withElse=*/true);
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(branch.thenBlock());
      Value d = NVVM::MmaOp::create(
          b, accType, aRegs, loadB(f, loop.getInductionVar(), j), acc,
          ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
          std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                        NVVM::MMATypes::bf16},
          std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                         NVVM::MMALayout::col});
      SmallVector<Value> parts;
      for (int64_t e = 0; e < 4; ++e)
        parts.push_back(LLVM::ExtractValueOp::create(b, d, e));
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
            emulateMma(aRegs, bRegs[j], acc[j]);
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
      Operation *alloc = accumulator.getDefiningOp();
      if (llvm::all_of(accumulator.getUsers(), [](Operation *user) {
            return isa<memref::DeallocOp>(user) ||
                   isa<memref::CollapseShapeOp>(user);
          })) {
        for (Operation *user :
             llvm::make_early_inc_range(accumulator.getUsers()))
          if (user->use_empty() || isa<memref::DeallocOp>(user))
            user->erase();
        if (accumulator.use_empty())
          alloc->erase();
      }
    }
  }
};
} // namespace
