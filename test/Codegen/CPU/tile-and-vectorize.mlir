// RUN: fovea-opt %s --convert-vision-to-linalg --fovea-cpu-tile-and-vectorize="tile-sizes=8,32,16" --canonicalize | FileCheck %s
// RUN: not fovea-opt %s --convert-vision-to-linalg --fovea-cpu-tile-and-vectorize="tile-sizes=8,32" 2>&1 | FileCheck %s --check-prefix=BAD

// The (m, k, n) contraction of vision.linear is tiled into 8 x 16 x 32
// blocks; full blocks become one vector.contract on an 8 x 32 accumulator.
// With a static M = 2 * 18 = 36 the peeled last row block is a static 4-row
// block and is vectorized too.
// CHECK-LABEL: func.func @linear
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK: scf.for
// CHECK: scf.for
// CHECK: %[[A:.*]] = vector.transfer_read {{.*}} : tensor<8x16xf32>, vector<8x16xf32>
// CHECK: %[[B:.*]] = vector.transfer_read {{.*}} : tensor<16x32xf32>, vector<16x32xf32>
// CHECK: %[[C:.*]] = vector.transfer_read {{.*}} : tensor<8x32xf32>, vector<8x32xf32>
// CHECK: vector.contract {{.*}}iterator_types = ["parallel", "reduction", "parallel"], kind = #vector.kind<add>} %[[A]], %[[B]], %[[C]] : vector<8x16xf32>, vector<16x32xf32> into vector<8x32xf32>
// CHECK: vector.transfer_write
// CHECK: vector.contract {{.*}} : vector<4x16xf32>, vector<16x32xf32> into vector<4x32xf32>
// CHECK-NOT: linalg.generic {{.*}}"reduction"
// CHECK: return
func.func @linear(%x: tensor<2x18x64xf32>, %w: tensor<96x64xf32>) -> tensor<2x18x96xf32> {
  %0 = vision.linear %x, %w : (tensor<2x18x64xf32>, tensor<96x64xf32>) -> tensor<2x18x96xf32>
  return %0 : tensor<2x18x96xf32>
}

// With a dynamic M the partial row block keeps a dynamic shape and stays a
// linalg.generic.
// CHECK-LABEL: func.func @linear_dynamic
// CHECK: vector.contract {{.*}} into vector<8x32xf32>
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel"]
// CHECK-SAME: tensor<?x16xf32>
func.func @linear_dynamic(%x: tensor<?x18x64xf32>, %w: tensor<96x64xf32>) -> tensor<?x18x96xf32> {
  %0 = vision.linear %x, %w : (tensor<?x18x64xf32>, tensor<96x64xf32>) -> tensor<?x18x96xf32>
  return %0 : tensor<?x18x96xf32>
}

// bf16 operands are extended to f32 vectors; the contraction accumulates in
// f32.
// CHECK-LABEL: func.func @linear_bf16
// CHECK: arith.extf %{{.*}} : vector<8x16xbf16> to vector<8x16xf32>
// CHECK: arith.extf %{{.*}} : vector<16x32xbf16> to vector<16x32xf32>
// CHECK: vector.contract {{.*}} : vector<8x16xf32>, vector<16x32xf32> into vector<8x32xf32>
func.func @linear_bf16(%x: tensor<16x64xbf16>, %w: tensor<32x64xbf16>) -> tensor<16x32xbf16> {
  %0 = vision.linear %x, %w : (tensor<16x64xbf16>, tensor<32x64xbf16>) -> tensor<16x32xbf16>
  return %0 : tensor<16x32xbf16>
}

// BAD: fovea-cpu-tile-and-vectorize expects three positive tile sizes m,n,k
