//===- LoweringUtils.cpp - Helpers of the vision-to-linalg lowering -------===//
//
// Implements the builders declared in LoweringUtils.h.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mlir::vision::lowering;

AffineMap vision::lowering::dimsMap(MLIRContext *ctx, unsigned numDims,
                                    ArrayRef<unsigned> dims) {
  SmallVector<AffineExpr> exprs;
  for (unsigned dim : dims)
    exprs.push_back(getAffineDimExpr(dim, ctx));
  return AffineMap::get(numDims, 0, exprs, ctx);
}

SmallVector<utils::IteratorType>
vision::lowering::iterators(unsigned numDims, ArrayRef<unsigned> reductions) {
  SmallVector<utils::IteratorType> types(numDims,
                                         utils::IteratorType::parallel);
  for (unsigned dim : reductions)
    types[dim] = utils::IteratorType::reduction;
  return types;
}

SmallVector<OpFoldResult> vision::lowering::sizesOf(OpBuilder &b, Location loc,
                                                    Value tensor) {
  return tensor::getMixedSizes(b, loc, tensor);
}

Value vision::lowering::createEmpty(OpBuilder &b, Location loc,
                                    ArrayRef<OpFoldResult> sizes,
                                    Type elementType) {
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

Value vision::lowering::createFilled(OpBuilder &b, Location loc,
                                     ArrayRef<OpFoldResult> sizes,
                                     TypedAttr value) {
  Value empty = createEmpty(b, loc, sizes, value.getType());
  Value scalar = arith::ConstantOp::create(b, loc, value);
  return linalg::FillOp::create(b, loc, scalar, empty).getResult(0);
}

Value vision::lowering::toF32(OpBuilder &b, Location loc, Value scalar) {
  if (scalar.getType().isF32())
    return scalar;
  return arith::ExtFOp::create(b, loc, b.getF32Type(), scalar);
}

void vision::lowering::yieldMulAdd(OpBuilder &b, Location loc,
                                   ValueRange args) {
  Value prod = arith::MulFOp::create(b, loc, toF32(b, loc, args[0]),
                                     toF32(b, loc, args[1]));
  linalg::YieldOp::create(
      b, loc, arith::AddFOp::create(b, loc, args[2], prod).getResult());
}

Value vision::lowering::fromF32(OpBuilder &b, Location loc, Value scalar,
                                Type elementType) {
  if (elementType.isF32())
    return scalar;
  return arith::TruncFOp::create(b, loc, elementType, scalar);
}

Value vision::lowering::roundThroughStorage(OpBuilder &b, Location loc,
                                            Value scalar, Type elementType) {
  return toF32(b, loc, fromF32(b, loc, scalar, elementType));
}

Value vision::lowering::f32Constant(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(
      b, loc, b.getF32FloatAttr(static_cast<float>(value)));
}

Value vision::lowering::mapElements(
    OpBuilder &b, Location loc, Value input, Type resultElementType,
    function_ref<Value(OpBuilder &, Location, Value)> fn) {
  auto type = cast<RankedTensorType>(input.getType());
  unsigned rank = type.getRank();
  Value init = createEmpty(b, loc, sizesOf(b, loc, input), resultElementType);
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  return linalg::GenericOp::create(
             b, loc, init.getType(), input, init, {identity, identity},
             iterators(rank),
             [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
               linalg::YieldOp::create(nested, nestedLoc,
                                       fn(nested, nestedLoc, args[0]));
             })
      .getResult(0);
}

Value vision::lowering::collapseToMatrix(OpBuilder &b, Location loc,
                                         Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (type.getRank() == 2)
    return tensor;
  ReassociationIndices leading;
  for (int64_t i = 0; i + 1 < type.getRank(); ++i)
    leading.push_back(i);
  return tensor::CollapseShapeOp::create(
      b, loc, tensor,
      SmallVector<ReassociationIndices>{leading, {type.getRank() - 1}});
}

Value vision::lowering::expandFromMatrix(OpBuilder &b, Location loc,
                                         Value matrix, RankedTensorType type) {
  if (type.getRank() == 2)
    return matrix;
  ReassociationIndices leading;
  for (int64_t i = 0; i + 1 < type.getRank(); ++i)
    leading.push_back(i);
  return tensor::ExpandShapeOp::create(
      b, loc, type, matrix,
      SmallVector<ReassociationIndices>{leading, {type.getRank() - 1}});
}

Value vision::lowering::constantVector(OpBuilder &b, Location loc,
                                       ArrayRef<int64_t> values,
                                       Type elementType) {
  auto type =
      RankedTensorType::get({static_cast<int64_t>(values.size())}, elementType);
  SmallVector<Attribute> attrs;
  for (int64_t v : values)
    attrs.push_back(b.getIntegerAttr(elementType, v));
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, attrs));
}

Value vision::lowering::constantVector(OpBuilder &b, Location loc,
                                       ArrayRef<float> values) {
  auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                    b.getF32Type());
  return arith::ConstantOp::create(b, loc,
                                   DenseElementsAttr::get(type, values));
}

/// Offsets, sizes and strides of tokens [offset, offset + count) of a
/// [B, L, C] tensor.
static void tokenWindow(OpBuilder &b, Location loc, Value tensor,
                        int64_t offset, int64_t count,
                        SmallVectorImpl<OpFoldResult> &offsets,
                        SmallVectorImpl<OpFoldResult> &sizes,
                        SmallVectorImpl<OpFoldResult> &strides) {
  SmallVector<OpFoldResult> all = sizesOf(b, loc, tensor);
  offsets.assign(
      {b.getIndexAttr(0), b.getIndexAttr(offset), b.getIndexAttr(0)});
  sizes.assign({all[0], b.getIndexAttr(count), all[2]});
  strides.assign(3, b.getIndexAttr(1));
}

Value vision::lowering::sliceTokens(OpBuilder &b, Location loc, Value tensor,
                                    int64_t offset, int64_t count) {
  SmallVector<OpFoldResult> offsets, sizes, strides;
  tokenWindow(b, loc, tensor, offset, count, offsets, sizes, strides);
  return tensor::ExtractSliceOp::create(b, loc, tensor, offsets, sizes,
                                        strides);
}

Value vision::lowering::insertTokens(OpBuilder &b, Location loc, Value tokens,
                                     Value into, int64_t offset) {
  auto type = cast<RankedTensorType>(tokens.getType());
  SmallVector<OpFoldResult> offsets, sizes, strides;
  tokenWindow(b, loc, tokens, offset, type.getDimSize(1), offsets, sizes,
              strides);
  return tensor::InsertSliceOp::create(b, loc, tokens, into, offsets, sizes,
                                       strides);
}
