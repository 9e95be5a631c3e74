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

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

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

/// A constant [rows, cols] tensor.
Value constantMatrix(OpBuilder &b, Location loc, ArrayRef<int32_t> values,
                     int64_t rows, int64_t cols);
Value constantMatrix(OpBuilder &b, Location loc, ArrayRef<float> values,
                     int64_t rows, int64_t cols);

} // namespace mlir::vision::lowering

#endif // FOVEA_LIB_CONVERSION_VISIONTOLINALG_LOWERINGUTILS_H
