//===- LoweringUtils.h - Helpers of the vision-to-linalg lowering -*- C++
//-*-===//
//
// Small builders shared by the per-family lowering files: affine maps from
// dimension lists, empty and filled tensors, f32 casts of scalars, and
// reshapes that keep a dynamic leading dimension.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_LIB_CONVERSION_VISIONTOLINALG_LOWERINGUTILS_H
#define FOVEA_LIB_CONVERSION_VISIONTOLINALG_LOWERINGUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include <type_traits>

namespace mlir::vision::lowering {

/// The map (d0, ..., d{numDims-1}) -> (d{dims[0]}, d{dims[1]}, ...).
AffineMap dimsMap(MLIRContext *ctx, unsigned numDims, ArrayRef<unsigned> dims);

/// `numDims` iterators, parallel except those listed in `reductions`.
SmallVector<utils::IteratorType> iterators(unsigned numDims,
                                           ArrayRef<unsigned> reductions = {});

/// The sizes of `tensor` (static ones as attributes).
SmallVector<OpFoldResult> sizesOf(OpBuilder &b, Location loc, Value tensor);

/// `tensor.empty` of `sizes` and `elementType`.
Value createEmpty(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                  Type elementType);

/// A tensor of `sizes` filled with `value` (`linalg.fill`).
Value createFilled(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                   TypedAttr value);

/// Extends a bf16/f16 scalar to f32 (f32 passes through).
Value toF32(OpBuilder &b, Location loc, Value scalar);

/// The body of a contraction accumulating in f32: yields
/// `args[2] + f32(args[0]) * f32(args[1])`.
void yieldMulAdd(OpBuilder &b, Location loc, ValueRange args);

/// Rounds an f32 scalar to `elementType` (f32 passes through).
Value fromF32(OpBuilder &b, Location loc, Value scalar, Type elementType);

/// `round(x)` to `elementType` and back to f32: one storage rounding of an
/// f32 intermediate.
Value roundThroughStorage(OpBuilder &b, Location loc, Value scalar,
                          Type elementType);

/// An f32 constant.
Value f32Constant(OpBuilder &b, Location loc, double value);

/// Applies `fn` to every element of `input`, producing a tensor of the same
/// shape and element type `resultElementType`.
Value mapElements(OpBuilder &b, Location loc, Value input,
                  Type resultElementType,
                  function_ref<Value(OpBuilder &, Location, Value)> fn);

/// Collapses all dimensions but the last into one: [d0, ..., dn, K] ->
/// [d0*...*dn, K]. Rank-2 tensors are returned as they are.
Value collapseToMatrix(OpBuilder &b, Location loc, Value tensor);

/// Reshapes a [M, N] matrix back to `type` (the inverse of
/// collapseToMatrix for a tensor of that type with its last dimension
/// replaced).
Value expandFromMatrix(OpBuilder &b, Location loc, Value matrix,
                       RankedTensorType type);

/// A constant 1-D tensor of `values` with element type `elementType`
/// (index, i32 or f32).
Value constantVector(OpBuilder &b, Location loc, ArrayRef<int64_t> values,
                     Type elementType);
Value constantVector(OpBuilder &b, Location loc, ArrayRef<float> values);

/// A constant [rows, cols] tensor of `values` (int32_t as i32, float as
/// f32).
template <typename T>
Value constantMatrix(OpBuilder &b, Location loc, ArrayRef<T> values,
                     int64_t rows, int64_t cols) {
  static_assert(std::is_same_v<T, int32_t> || std::is_same_v<T, float>);
  Type element =
      std::is_same_v<T, float> ? Type(b.getF32Type()) : Type(b.getI32Type());
  auto type = RankedTensorType::get({rows, cols}, element);
  return arith::ConstantOp::create(b, loc,
                                   DenseElementsAttr::get(type, values));
}

/// The tokens [offset, offset + count) of a [B, L, C] tensor.
Value sliceTokens(OpBuilder &b, Location loc, Value tensor, int64_t offset,
                  int64_t count);

/// Inserts the [B, n, C] `tokens` into the [B, L, C] `into` at token
/// `offset`.
Value insertTokens(OpBuilder &b, Location loc, Value tokens, Value into,
                   int64_t offset);

} // namespace mlir::vision::lowering

#endif // FOVEA_LIB_CONVERSION_VISIONTOLINALG_LOWERINGUTILS_H
