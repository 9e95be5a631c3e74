//===- Contractions.cpp - The matmul shape of the CPU passes --------------===//

#include "Contractions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;

bool vision::isMatmulShaped(linalg::GenericOp op) {
  if (op.getNumLoops() != 3 || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !op.hasPureTensorSemantics())
    return false;
  auto types = op.getIteratorTypesArray();
  if (types[0] != utils::IteratorType::parallel ||
      types[1] != utils::IteratorType::reduction ||
      types[2] != utils::IteratorType::parallel)
    return false;
  MLIRContext *ctx = op.getContext();
  auto map = [&](unsigned a, unsigned b) {
    return AffineMap::get(
        3, 0, {getAffineDimExpr(a, ctx), getAffineDimExpr(b, ctx)}, ctx);
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  return maps[0] == map(0, 1) && maps[1] == map(1, 2) && maps[2] == map(0, 2) &&
         linalg::isaContractionOpInterface(op);
}

Value vision::bufferAddress(OpBuilder &b, Location loc, Value buffer,
                            SmallVectorImpl<Value> &strides) {
  auto type = cast<MemRefType>(buffer.getType());
  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, buffer);
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(
      b, loc, metadata.getBaseBuffer());
  Value elementBytes =
      arith::ConstantIndexOp::create(b, loc, type.getElementTypeBitWidth() / 8);
  Value offsetBytes =
      arith::MulIOp::create(b, loc, metadata.getOffset(), elementBytes);
  strides.assign(metadata.getStrides().begin(), metadata.getStrides().end());
  return arith::AddIOp::create(b, loc, base, offsetBytes);
}

func::FuncOp vision::declareRuntimeFunction(OpBuilder &b, ModuleOp module,
                                            StringRef name, TypeRange types) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  auto callee = func::FuncOp::create(b, module.getLoc(), name,
                                     b.getFunctionType(types, {}));
  callee.setPrivate();
  return callee;
}
