// RUN: fovea-opt %s --convert-vision-to-linalg --split-input-file | FileCheck %s

// normalize: per-channel constants indexed by the channel loop; a true
// division by 255, then (x - mean) / std.
// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$CH:.*]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func.func @normalize
// CHECK-SAME: (%[[X:.*]]: tensor<?x3x4x6xui8>)
// CHECK-DAG: %[[MEAN:.*]] = arith.constant dense<[5.000000e-01, 2.500000e-01, 1.250000e-01]> : tensor<3xf32>
// CHECK-DAG: %[[STD:.*]] = arith.constant dense<[2.000000e+00, 4.000000e+00, 8.000000e+00]> : tensor<3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$ID]], #[[$CH]], #[[$CH]], #[[$ID]]]
// CHECK-SAME: ins(%[[X]], %[[MEAN]], %[[STD]] :
// CHECK: ^bb0(%[[IN:.*]]: ui8, %[[M:.*]]: f32, %[[S:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[SL:.*]] = builtin.unrealized_conversion_cast %[[IN]] : ui8 to i8
// CHECK: %[[F:.*]] = arith.uitofp %[[SL]] : i8 to f32
// CHECK: %[[D:.*]] = arith.divf %[[F]], %{{.*}} : f32
// CHECK: %[[C:.*]] = arith.subf %[[D]], %[[M]] : f32
// CHECK: arith.divf %[[C]], %[[S]] : f32
func.func @normalize(%x: tensor<?x3x4x6xui8>) -> tensor<?x3x4x6xf32> {
  %0 = vision.normalize %x {mean = array<f32: 0.5, 0.25, 0.125>, std = array<f32: 2.0, 4.0, 8.0>} : tensor<?x3x4x6xui8> -> tensor<?x3x4x6xf32>
  return %0 : tensor<?x3x4x6xf32>
}

// -----

// resize u8: the width pass first, then the height pass; each gathers its
// taps with Pillow's 22-bit fixed-point weights (rows sum to 2^22), starts
// from the rounding bias 2^21 and clamps the integer part to [0, 255].
// CHECK-LABEL: func.func @resize_u8
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x8x12xui8>)
// CHECK: %[[STARTS:.*]] = arith.constant dense<[0, 0, 1, 3, 5, 7]> : tensor<6xindex>
// CHECK: %[[W:.*]] = arith.constant dense<{{\[\[}}1947982, 1947982, 508932, -157945, -52648, 0, 0, 0, 0], {{.*}}]> : tensor<6x9xi32>
// CHECK: %[[BIAS:.*]] = arith.constant 2097152 : i32
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[BIAS]] : i32) outs(%{{.*}} : tensor<1x3x8x6xi32>)
// CHECK: %[[ACC:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]{{.*}} ins(%[[STARTS]], %[[W]] : tensor<6xindex>, tensor<6x9xi32>) outs(%[[INIT]] : tensor<1x3x8x6xi32>)
// CHECK: %[[POS:.*]] = arith.addi
// CHECK: %[[LAST:.*]] = arith.constant 11 : index
// CHECK: %[[IDX:.*]] = arith.minsi %[[POS]], %[[LAST]] : index
// CHECK: tensor.extract %[[X]][%{{.*}}, %{{.*}}, %{{.*}}, %[[IDX]]] : tensor<1x3x8x12xui8>
// CHECK: arith.extui
// CHECK: arith.muli
// CHECK: %[[ROW:.*]] = linalg.generic {{.*}} ins(%[[ACC]] : tensor<1x3x8x6xi32>) outs(%{{.*}} : tensor<1x3x8x6xui8>)
// CHECK: arith.shrsi %{{.*}}, %{{.*}} : i32
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: arith.trunci
// CHECK: arith.constant dense<[0, 0, 1, 3]> : tensor<4xindex>
// CHECK: linalg.generic
// CHECK: tensor.extract %[[ROW]][%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : tensor<1x3x8x6xui8>
// CHECK: return %{{.*}} : tensor<1x3x4x6xui8>
func.func @resize_u8(%x: tensor<1x3x8x12xui8>) -> tensor<1x3x4x6xui8> {
  %0 = vision.resize %x {domain = #vision.resize_domain<u8>, size = array<i64: 4, 6>} : tensor<1x3x8x12xui8> -> tensor<1x3x4x6xui8>
  return %0 : tensor<1x3x4x6xui8>
}

// -----

// resize f32_clamp: f32 weights and accumulation, no rounding between the
// passes, one clamp to [0, 255] at the end. An axis that keeps its size has
// no pass.
// CHECK-LABEL: func.func @resize_f32_clamp
// CHECK: arith.constant dense<{{.*}}> : tensor<4x9xf32>
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x3x4x12xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: arith.shrsi
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x3x4x12xf32>)
// CHECK: %[[LO:.*]] = arith.maximumf %{{.*}}, %{{.*}} : f32
// CHECK: arith.minimumf %[[LO]], %{{.*}} : f32
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @resize_f32_clamp(%x: tensor<1x3x8x12xf32>) -> tensor<1x3x4x12xf32> {
  %0 = vision.resize %x {domain = #vision.resize_domain<f32_clamp>, size = array<i64: 4, 12>} : tensor<1x3x8x12xf32> -> tensor<1x3x4x12xf32>
  return %0 : tensor<1x3x4x12xf32>
}
