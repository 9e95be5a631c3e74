//===- CallAttention.cpp - vision.attention as a runtime call -------------===//
//
// Replaces f32 and bf16 vision.attention without cu_seqlens by a call to the
// runtime's multi-head attention (include/fovea/Runtime/Attention.h), which
// runs the scores and the weighted sum on the matmul microkernels one head
// at a time. q, k and v are read through bufferization.to_buffer (any
// strides: they are views of the fused qkv projection); the result is a
// fresh buffer wrapped by bufferization.to_tensor restrict.
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/CPU/Passes.h"

#include "Contractions.h"

#include "fovea/Dialect/Vision/IR/VisionOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::vision {
#define GEN_PASS_DEF_CPUCALLATTENTION
#include "fovea/Codegen/CPU/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;

namespace {
struct CpuCallAttentionPass
    : vision::impl::CpuCallAttentionBase<CpuCallAttentionPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    auto module = func->getParentOfType<ModuleOp>();
    if (!module)
      return;
    SmallVector<vision::AttentionOp> targets;
    func.walk([&](vision::AttentionOp op) {
      Type element = op.getType().getElementType();
      if (!op.getCuSeqlens() && (element.isF32() || element.isBF16()))
        targets.push_back(op);
    });
    OpBuilder b(&getContext());
    Type i64 = b.getI64Type();
    for (vision::AttentionOp op : targets) {
      Location loc = op.getLoc();
      b.setInsertionPoint(op);
      auto type = cast<RankedTensorType>(op.getType());
      Type element = type.getElementType();
      int64_t dynamic = ShapedType::kDynamic;
      auto view =
          MemRefType::get(type.getShape(), element,
                          StridedLayoutAttr::get(&getContext(), dynamic,
                                                 {dynamic, dynamic, dynamic}));
      SmallVector<Value> addresses, strides;
      for (Value input : {op.getQ(), op.getK(), op.getV()}) {
        Value buffer = bufferization::ToBufferOp::create(b, loc, view, input,
                                                         /*readOnly=*/true);
        SmallVector<Value> bufferStrides;
        addresses.push_back(
            vision::bufferAddress(b, loc, buffer, bufferStrides));
        strides.append(bufferStrides);
      }
      Value batch = tensor::DimOp::create(b, loc, op.getQ(), 0);
      SmallVector<Value> dynamicSizes;
      if (type.isDynamicDim(0))
        dynamicSizes.push_back(batch);
      Value out = memref::AllocOp::create(
          b, loc, MemRefType::get(type.getShape(), element), dynamicSizes);
      addresses.push_back(
          memref::ExtractAlignedPointerAsIndexOp::create(b, loc, out));
      // The nine strides go through a small stack array.
      Value stridesBuffer = memref::AllocaOp::create(
          b, loc, MemRefType::get({9}, b.getIndexType()));
      for (auto [i, stride] : llvm::enumerate(strides))
        memref::StoreOp::create(
            b, loc, stride, stridesBuffer,
            ValueRange{arith::ConstantIndexOp::create(b, loc, i)});
      int64_t heads = static_cast<int64_t>(op.getNumHeads());
      SmallVector<Value> args;
      for (Value address : addresses)
        args.push_back(arith::IndexCastOp::create(b, loc, i64, address));
      args.push_back(arith::IndexCastOp::create(b, loc, i64, batch));
      for (int64_t size :
           {type.getDimSize(1), heads, type.getDimSize(2) / heads})
        args.push_back(arith::ConstantIntOp::create(b, loc, size, 64));
      args.push_back(arith::IndexCastOp::create(
          b, loc, i64,
          memref::ExtractAlignedPointerAsIndexOp::create(b, loc,
                                                         stridesBuffer)));
      args.push_back(arith::ConstantOp::create(
          b, loc, b.getF64FloatAttr(op.getScale().convertToDouble())));
      SmallVector<Type> types(args.size() - 1, i64);
      types.push_back(b.getF64Type());
      func::FuncOp callee = vision::declareRuntimeFunction(
          b, module,
          element.isF32() ? "fovea_attention_f32" : "fovea_attention_bf16",
          types);
      func::CallOp::create(b, loc, callee, args);
      Value result = bufferization::ToTensorOp::create(
          b, loc, type, out, /*restrict=*/true, /*writable=*/true);
      op.getResult().replaceAllUsesWith(result);
      op.erase();
    }
  }
};
} // namespace
