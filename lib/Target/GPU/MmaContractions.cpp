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
#include "mlir/IR/ImplicitLocOpBuilder.h"

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

/// Emits the kernel replacing `op`.
void buildMmaKernel(linalg::GenericOp op) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  Value a = op.getDpsInputs()[0], w = op.getDpsInputs()[1],
        c = op.getDpsInits()[0];
  // Batch dimensions fold into M (identity layouts are contiguous).
  auto toMatrix = [&](Value v) -> Value {
    int64_t rank = cast<MemRefType>(v.getType()).getRank();
    if (rank == 2)
      return v;
    ReassociationIndices rows;
    for (int64_t d = 0; d + 1 < rank; ++d)
      rows.push_back(d);
    return memref::CollapseShapeOp::create(
        b, v, SmallVector<ReassociationIndices>{rows, {rank - 1}});
  };
  a = toMatrix(a);
  c = toMatrix(c);
  auto cType = cast<MemRefType>(c.getType());
  int64_t kSize = cast<MemRefType>(w.getType()).getDimSize(0);
  int64_t nSize = cType.getDimSize(1);
  auto index = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, v);
  };
  Value mSize = memref::DimOp::create(b, c, 0);
  Value gridX = index((nSize + kTileN - 1) / kTileN);
  Value gridY = arith::CeilDivUIOp::create(b, mSize, index(kTileM));
  auto launch = gpu::LaunchOp::create(b, gridX, gridY, index(1),
                                      index(32 * kWarps), index(1), index(1));
  b.setInsertionPointToStart(&launch.getBody().front());

  Type f32 = b.getF32Type(), i32 = b.getI32Type(), bf16 = b.getBF16Type();
  Value zeroF = arith::ConstantOp::create(b, b.getF32FloatAttr(0));
  Value zeroB = arith::ConstantOp::create(b, b.getFloatAttr(bf16, 0));
  Value lane = arith::RemUIOp::create(b, launch.getThreadIds().x, index(32));
  Value warp = arith::DivUIOp::create(b, launch.getThreadIds().x, index(32));
  Value g = arith::DivUIOp::create(b, lane, index(4));
  Value t = arith::RemUIOp::create(b, lane, index(4));
  Value t2 = arith::MulIOp::create(b, t, index(2));
  Value m0 = arith::AddIOp::create(
      b, arith::MulIOp::create(b, launch.getBlockIds().y, index(kTileM)),
      arith::MulIOp::create(b, warp, index(16)));
  Value n0 = arith::MulIOp::create(b, launch.getBlockIds().x, index(kTileN));
  Value row0 = arith::AddIOp::create(b, m0, g);
  Value row1 = arith::AddIOp::create(b, row0, index(8));
  Value ok0 = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row0, mSize);
  Value ok1 = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row1, mSize);
  auto add = [&](Value x, int64_t y) -> Value {
    return arith::AddIOp::create(b, x, index(y));
  };

  // A load of `memref[i, j]` when `ok`, else `zero`.
  auto guardedLoad = [&](Value ok, Value memref, Value i, Value j,
                         Value zero) -> Value {
    auto branch = scf::IfOp::create(b, zero.getType(), ok, /*withElse=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(branch.thenBlock());
    scf::YieldOp::create(
        b, memref::LoadOp::create(b, memref, ValueRange{i, j}).getResult());
    b.setInsertionPointToStart(branch.elseBlock());
    scf::YieldOp::create(b, zero);
    return branch.getResult(0);
  };
  // Two bf16 values packed into the .b32 register mma.sync reads.
  auto pack = [&](Value lo, Value hi) -> Value {
    Value pair = vector::FromElementsOp::create(b, VectorType::get({2}, bf16),
                                                ValueRange{lo, hi});
    Value word = vector::BitCastOp::create(b, VectorType::get({1}, i32), pair);
    return vector::ExtractOp::create(b, word, ArrayRef<int64_t>{0});
  };

  // Accumulators: fragment j covers columns n0 + 8j .. n0 + 8j + 7; a
  // fragment past N (uniform over the warp) is skipped.
  SmallVector<Value> cols, colsNext, valid;
  SmallVector<Value> init;
  for (int64_t j = 0; j < kFragments; ++j) {
    Value col = arith::AddIOp::create(b, add(n0, 8 * j), t2);
    cols.push_back(col);
    colsNext.push_back(add(col, 1));
    valid.push_back(arith::CmpIOp::create(b, arith::CmpIPredicate::ult,
                                          add(n0, 8 * j), index(nSize)));
    Value v0 = arith::AndIOp::create(b, ok0, valid[j]);
    Value v1 = arith::AndIOp::create(b, ok1, valid[j]);
    init.push_back(guardedLoad(v0, c, row0, cols[j], zeroF));
    init.push_back(guardedLoad(v0, c, row0, colsNext[j], zeroF));
    init.push_back(guardedLoad(v1, c, row1, cols[j], zeroF));
    init.push_back(guardedLoad(v1, c, row1, colsNext[j], zeroF));
  }

  auto loop = scf::ForOp::create(b, index(0), index(kSize), index(16), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value k0 = loop.getInductionVar();
    Value ka = arith::AddIOp::create(b, k0, t2);
    Value kb = add(ka, 8);
    auto aReg = [&](Value ok, Value row, Value k) {
      return pack(guardedLoad(ok, a, row, k, zeroB),
                  guardedLoad(ok, a, row, add(k, 1), zeroB));
    };
    SmallVector<Value> aRegs = {aReg(ok0, row0, ka), aReg(ok1, row1, ka),
                                aReg(ok0, row0, kb), aReg(ok1, row1, kb)};
    auto accType = LLVM::LLVMStructType::getLiteral(b.getContext(),
                                                    SmallVector<Type>(4, f32));
    SmallVector<Value> next;
    for (int64_t j = 0; j < kFragments; ++j) {
      ValueRange acc = loop.getRegionIterArgs().slice(4 * j, 4);
      auto branch = scf::IfOp::create(b, TypeRange(SmallVector<Type>(4, f32)),
                                      valid[j], /*withElse=*/true);
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(branch.thenBlock());
        Value col = add(n0, 8 * j);
        Value n = arith::AddIOp::create(b, col, g);
        auto bReg = [&](Value k) {
          return pack(memref::LoadOp::create(b, w, ValueRange{k, n}),
                      memref::LoadOp::create(b, w, ValueRange{add(k, 1), n}));
        };
        SmallVector<Value> bRegs = {bReg(ka), bReg(kb)};
        Value d = NVVM::MmaOp::create(
            b, accType, aRegs, bRegs, acc, ArrayRef<int64_t>{16, 8, 16},
            std::nullopt, std::nullopt,
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
      }
      next.append(branch.getResults().begin(), branch.getResults().end());
    }
    scf::YieldOp::create(b, next);
  }

  // Stores of the rows below M.
  auto guardedStore = [&](Value ok, Value value, Value i, Value j) {
    auto branch = scf::IfOp::create(b, TypeRange(), ok, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(branch.thenBlock());
    memref::StoreOp::create(b, value, c, ValueRange{i, j});
  };
  for (int64_t j = 0; j < kFragments; ++j) {
    ValueRange d = loop.getResults().slice(4 * j, 4);
    Value v0 = arith::AndIOp::create(b, ok0, valid[j]);
    Value v1 = arith::AndIOp::create(b, ok1, valid[j]);
    guardedStore(v0, d[0], row0, cols[j]);
    guardedStore(v0, d[1], row0, colsNext[j]);
    guardedStore(v1, d[2], row1, cols[j]);
    guardedStore(v1, d[3], row1, colsNext[j]);
  }
  gpu::TerminatorOp::create(b);
  op.erase();
}

struct GpuMmaContractionsPass
    : vision::impl::GpuMmaContractionsBase<GpuMmaContractionsPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> ops;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (isMmaContraction(op))
        ops.push_back(op);
    });
    for (linalg::GenericOp op : ops)
      buildMmaKernel(op);
  }
};
} // namespace
