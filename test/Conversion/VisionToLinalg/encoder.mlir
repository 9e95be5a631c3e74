// RUN: fovea-opt %s --convert-vision-to-linalg --split-input-file | FileCheck %s

// Linear: the weight is read transposed ([K, N], a weight-only transpose)
// so the loops (m, k, n) end in a unit-stride loop over outputs; f32
// accumulation of bf16 products; the bias is added before the single
// rounding; leading dimensions are collapsed and restored.
// CHECK-DAG: #[[$LHS:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$RHS:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$ACC:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.*]]: tensor<?x18x64xbf16>, %[[W:.*]]: tensor<192x64xbf16>, %[[B:.*]]: tensor<192xbf16>)
// CHECK: %[[X2:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<?x18x64xbf16> into tensor<?x64xbf16>
// CHECK: %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<?x192xf32>)
// CHECK: %[[WT:.*]] = linalg.transpose ins(%[[W]] : tensor<192x64xbf16>) outs(%{{.*}} : tensor<64x192xbf16>) permutation = [1, 0]
// CHECK: %[[MM:.*]] = linalg.generic {indexing_maps = [#[[$LHS]], #[[$RHS]], #[[$ACC]]], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK-SAME: ins(%[[X2]], %[[WT]] : tensor<?x64xbf16>, tensor<64x192xbf16>) outs(%[[ZERO]] : tensor<?x192xf32>)
// CHECK: arith.extf
// CHECK: arith.extf
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[MM]], %[[B]] : tensor<?x192xf32>, tensor<192xbf16>)
// CHECK: %[[BF:.*]] = arith.extf %{{.*}} : bf16 to f32
// CHECK: %[[SUM:.*]] = arith.addf %{{.*}}, %[[BF]] : f32
// CHECK: arith.truncf %[[SUM]] : f32 to bf16
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2]] output_shape [%{{.*}}, 18, 192] : tensor<?x192xbf16> into tensor<?x18x192xbf16>
func.func @linear(%x: tensor<?x18x64xbf16>, %w: tensor<192x64xbf16>, %b: tensor<192xbf16>) -> tensor<?x18x192xbf16> {
  %0 = vision.linear %x, %w, %b : (tensor<?x18x64xbf16>, tensor<192x64xbf16>, tensor<192xbf16>) -> tensor<?x18x192xbf16>
  return %0 : tensor<?x18x192xbf16>
}

// -----

// LayerNorm: two row reductions (sum, squared deviations) then one
// elementwise pass with eps inside the square root.
// CHECK-LABEL: func.func @layer_norm
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: %[[SQ:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK-SAME: ins(%{{.*}}, %[[SUM]] :
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK-SAME: ins(%{{.*}}, %[[SUM]], %[[SQ]], %{{.*}}, %{{.*}} :
// CHECK: arith.divf
// CHECK: %[[VAR:.*]] = arith.divf
// CHECK: %[[VE:.*]] = arith.addf %[[VAR]], %{{.*}} : f32
// CHECK: math.sqrt %[[VE]]
func.func @layer_norm(%x: tensor<4x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<4x64xf32> {
  %0 = vision.layer_norm %x, %g, %b {epsilon = 1.0e-06 : f64} : (tensor<4x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

// -----

// RMSNorm cast_then_scale rounds the normalized value before the weight.
// CHECK-LABEL: func.func @rms_cast_then_scale
// CHECK: math.rsqrt
// CHECK: %[[N:.*]] = arith.mulf
// CHECK: %[[R:.*]] = arith.truncf %[[N]] : f32 to bf16
// CHECK: %[[E:.*]] = arith.extf %[[R]] : bf16 to f32
// CHECK: %[[S:.*]] = arith.mulf %[[E]], %{{.*}} : f32
// CHECK: arith.truncf %[[S]] : f32 to bf16
func.func @rms_cast_then_scale(%x: tensor<4x64xbf16>, %w: tensor<64xbf16>) -> tensor<4x64xbf16> {
  %0 = vision.rms_norm %x, %w {epsilon = 1.0e-05 : f64, weight_order = #vision.weight_order<cast_then_scale>} : (tensor<4x64xbf16>, tensor<64xbf16>) -> tensor<4x64xbf16>
  return %0 : tensor<4x64xbf16>
}

// -----

// scale_then_cast rounds once.
// CHECK-LABEL: func.func @rms_scale_then_cast
// CHECK: math.rsqrt
// CHECK: %[[N:.*]] = arith.mulf
// CHECK-NOT: arith.truncf
// CHECK: %[[S:.*]] = arith.mulf %[[N]], %{{.*}} : f32
// CHECK: arith.truncf %[[S]] : f32 to bf16
func.func @rms_scale_then_cast(%x: tensor<4x64xbf16>, %w: tensor<64xbf16>) -> tensor<4x64xbf16> {
  %0 = vision.rms_norm %x, %w {epsilon = 1.0e-05 : f64, weight_order = #vision.weight_order<scale_then_cast>} : (tensor<4x64xbf16>, tensor<64xbf16>) -> tensor<4x64xbf16>
  return %0 : tensor<4x64xbf16>
}

// -----

// CHECK-LABEL: func.func @gelu_exact
// CHECK: %[[X:.*]] = arith.extf
// CHECK: %[[S:.*]] = arith.mulf %[[X]], %{{.*}} : f32
// CHECK: math.erf %[[S]]
// CHECK: arith.truncf
func.func @gelu_exact(%x: tensor<4x64xbf16>) -> tensor<4x64xbf16> {
  %0 = vision.gelu %x {approximation = #vision.gelu_approximation<none>} : tensor<4x64xbf16>
  return %0 : tensor<4x64xbf16>
}

// -----

// CHECK-LABEL: func.func @gelu_tanh
// CHECK-NOT: math.erf
// CHECK: math.tanh
func.func @gelu_tanh(%x: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %0 = vision.gelu %x {approximation = #vision.gelu_approximation<tanh>} : tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

// -----

// CHECK-LABEL: func.func @relu2
// CHECK: linalg.generic
// CHECK: %[[R:.*]] = arith.maximumf %{{.*}}, %{{.*}} : f32
// CHECK: arith.mulf %[[R]], %[[R]] : f32
func.func @relu2(%x: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %0 = vision.relu2 %x : tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

// -----

// Attention: heads split off the last dimension; k transposed so the score
// loops end over keys; scores, row max,
// probabilities, row sums, and the weighted sum of v; cu_seqlens give a
// segment id per token that masks the scores.
// CHECK-LABEL: func.func @attention_packed
// CHECK-SAME: (%[[Q:.*]]: tensor<2x6x32xf32>, %[[CU:.*]]: tensor<3xi32>)
// CHECK: tensor.expand_shape %[[Q]] {{\[}}[0], [1], [2, 3]] output_shape [2, 6, 2, 16]
// CHECK: %[[KT:.*]] = linalg.transpose ins(%{{.*}} : tensor<2x6x2x16xf32>) outs(%{{.*}} : tensor<2x2x16x6xf32>) permutation = [0, 2, 3, 1]
// CHECK: %[[SCORES:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]{{.*}} ins(%{{.*}}, %[[KT]] : {{.*}}) outs(%{{.*}} : tensor<2x2x6x6xf32>)
// CHECK: %[[SEG:.*]] = linalg.generic {{.*}} ins(%[[CU]] : tensor<3xi32>) outs(%{{.*}} : tensor<6xi32>)
// CHECK: arith.cmpi sle
// CHECK: %[[MAX:.*]] = linalg.generic {{.*}} ins(%[[SCORES]], %[[SEG]], %[[SEG]] : {{.*}}) outs(%{{.*}} : tensor<2x2x6xf32>)
// CHECK: arith.cmpi eq
// CHECK: arith.select
// CHECK: arith.maximumf
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%[[SCORES]], %[[SEG]], %[[SEG]], %[[MAX]] : {{.*}}) outs(%{{.*}} : tensor<2x2x6x6xf32>)
// CHECK: math.exp
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[P]] : tensor<2x2x6x6xf32>) outs(%{{.*}} : tensor<2x2x6xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[P]], %[[SUM]], %{{.*}} : {{.*}}) outs(%{{.*}} : tensor<2x6x2x16xf32>)
// CHECK: arith.divf
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3]] : tensor<2x6x2x16xf32> into tensor<2x6x32xf32>
func.func @attention_packed(%q: tensor<2x6x32xf32>, %cu: tensor<3xi32>) -> tensor<2x6x32xf32> {
  %0 = vision.attention %q, %q, %q cu_seqlens(%cu) {num_heads = 2 : i64, scale = 0.25 : f64} : (tensor<2x6x32xf32>, tensor<2x6x32xf32>, tensor<2x6x32xf32>, tensor<3xi32>) -> tensor<2x6x32xf32>
  return %0 : tensor<2x6x32xf32>
}

// -----

// Without cu_seqlens there is no mask.
// CHECK-LABEL: func.func @attention_plain
// CHECK-NOT: arith.select
// CHECK: return
func.func @attention_plain(%q: tensor<2x6x32xf32>) -> tensor<2x6x32xf32> {
  %0 = vision.attention %q, %q, %q {num_heads = 2 : i64, scale = 0.25 : f64} : (tensor<2x6x32xf32>, tensor<2x6x32xf32>, tensor<2x6x32xf32>) -> tensor<2x6x32xf32>
  return %0 : tensor<2x6x32xf32>
}
