//===- WarpMma.cpp - Warp-level mma.sync building blocks ------------------===//

#include "WarpMma.h"

#include "fovea/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;
using namespace mlir::vision::gpu_mma;

Value WarpBuilder::index(int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}
Value WarpBuilder::add(Value x, int64_t y) { return add(x, index(y)); }
Value WarpBuilder::add(Value x, Value y) {
  return arith::AddIOp::create(b, x, y);
}
Value WarpBuilder::mul(Value x, int64_t y) {
  return arith::MulIOp::create(b, x, index(y));
}
Value WarpBuilder::div(Value x, int64_t y) {
  return arith::DivUIOp::create(b, x, index(y));
}
Value WarpBuilder::rem(Value x, int64_t y) {
  return arith::RemUIOp::create(b, x, index(y));
}
Value WarpBuilder::less(Value x, Value y) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, x, y);
}
Value WarpBuilder::f32(double v) {
  return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
}

void WarpBuilder::loop(Value upper, function_ref<void(Value)> body) {
  auto forOp = scf::ForOp::create(b, index(0), upper, index(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forOp.getBody());
  body(forOp.getInductionVar());
}

void WarpBuilder::when(Value cond, function_ref<void()> body) {
  auto branch = scf::IfOp::create(b, TypeRange(), cond, /*withElse=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(branch.thenBlock());
  body();
}

Value WarpBuilder::select(Value cond, function_ref<Value()> then, Value zero) {
  auto branch = scf::IfOp::create(b, zero.getType(), cond, /*withElse=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(branch.thenBlock());
  scf::YieldOp::create(b, then());
  b.setInsertionPointToStart(branch.elseBlock());
  scf::YieldOp::create(b, zero);
  return branch.getResult(0);
}

Value WarpBuilder::pack(Value lo, Value hi) {
  Value pair = vector::FromElementsOp::create(
      b, VectorType::get({2}, b.getBF16Type()), ValueRange{lo, hi});
  Value word =
      vector::BitCastOp::create(b, VectorType::get({1}, b.getI32Type()), pair);
  return vector::ExtractOp::create(b, word, ArrayRef<int64_t>{0});
}

Value WarpBuilder::packF32(Value lo, Value hi) {
  Type bf16 = b.getBF16Type();
  return pack(arith::TruncFOp::create(b, bf16, lo),
              arith::TruncFOp::create(b, bf16, hi));
}

Value WarpBuilder::unpack(Value word, Value half) {
  Type i32 = b.getI32Type();
  Value shift = arith::IndexCastOp::create(b, i32, mul(half, 16));
  Value bits = arith::ShRUIOp::create(b, word, shift);
  Value low = arith::AndIOp::create(
      b, bits, arith::ConstantOp::create(b, b.getI32IntegerAttr(0xffff)));
  Value wide = arith::ShLIOp::create(
      b, low, arith::ConstantOp::create(b, b.getI32IntegerAttr(16)));
  return arith::BitcastOp::create(b, b.getF32Type(), wide);
}

SmallVector<Value> WarpBuilder::mma(ValueRange a, ValueRange bRegs,
                                    ValueRange c) {
  Type f32 = b.getF32Type();
  auto accType = LLVM::LLVMStructType::getLiteral(b.getContext(),
                                                  SmallVector<Type>(4, f32));
  Value d = NVVM::MmaOp::create(
      b, accType, a, bRegs, c, ArrayRef<int64_t>{16, 8, 16}, std::nullopt,
      std::nullopt,
      std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16, NVVM::MMATypes::bf16},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value> parts;
  for (int64_t e = 0; e < 4; ++e)
    parts.push_back(LLVM::ExtractValueOp::create(b, d, e));
  return parts;
}

void WarpBuilder::emulateMma(Value aRegs, int64_t aAt, Value bRegs, int64_t bAt,
                             Value cRegs, int64_t cAt) {
  auto load = [&](Value regs, Value lane, Value reg) -> Value {
    return memref::LoadOp::create(b, regs, ValueRange{lane, reg});
  };
  loop(16, [&](Value i) {
    loop(8, [&](Value j) {
      Value lane = add(mul(rem(i, 8), 4), div(j, 2));
      Value reg = add(add(mul(div(i, 8), 2), rem(j, 2)), cAt);
      auto sum = scf::ForOp::create(b, index(0), index(16), index(1),
                                    ValueRange{load(cRegs, lane, reg)});
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(sum.getBody());
        Value k = sum.getInductionVar();
        Value pairInK = div(rem(k, 8), 2), half = rem(k, 2);
        Value x = unpack(load(aRegs, add(mul(rem(i, 8), 4), pairInK),
                              add(add(div(i, 8), mul(div(k, 8), 2)), aAt)),
                         half);
        Value y = unpack(
            load(bRegs, add(mul(j, 4), pairInK), add(div(k, 8), bAt)), half);
        scf::YieldOp::create(
            b, arith::AddFOp::create(b, sum.getRegionIterArgs()[0],
                                     arith::MulFOp::create(b, x, y))
                   .getResult());
      }
      memref::StoreOp::create(b, sum.getResult(0), cRegs,
                              ValueRange{lane, reg});
    });
  });
}

namespace {
struct MmaHasNoMemoryEffects
    : MemoryEffectOpInterface::ExternalModel<MmaHasNoMemoryEffects,
                                             NVVM::MmaOp> {
  void
  getEffects(Operation *,
             SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
                 &) const {}
};
} // namespace

void mlir::vision::registerGpuOpInterfaceModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, NVVM::NVVMDialect *) {
    NVVM::MmaOp::attachInterface<MmaHasNoMemoryEffects>(*ctx);
  });
}
