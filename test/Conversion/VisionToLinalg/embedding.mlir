// RUN: fovea-opt %s --convert-vision-to-linalg --split-input-file | FileCheck %s

// patch_embed reads the patches in place: a contraction over (t, c, yy, xx)
// whose input map is (n, t, c, py*16 + yy, px*16 + xx), with an f32
// accumulator and one rounding.
// CHECK-DAG: #[[$FRAMES:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d4, d5, d1 * 16 + d6, d2 * 16 + d7)>
// CHECK-DAG: #[[$WEIGHT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d3, d4, d5, d6, d7)>
// CHECK-LABEL: func.func @patch_embed
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x32x48xbf16>, %[[W:.*]]: tensor<8x768xbf16>)
// CHECK: %[[F:.*]] = tensor.expand_shape %[[X]] {{\[}}[0, 1], [2], [3], [4]] output_shape [2, 1, 3, 32, 48]
// CHECK: %[[W5:.*]] = tensor.expand_shape %[[W]] {{\[}}[0], [1, 2, 3, 4]] output_shape [8, 1, 3, 16, 16]
// CHECK: linalg.generic {indexing_maps = [#[[$FRAMES]], #[[$WEIGHT]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "reduction"]}
// CHECK-SAME: ins(%[[F]], %[[W5]] : {{.*}}) outs(%{{.*}} : tensor<2x2x3x8xf32>)
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2], [3]] : tensor<2x2x3x8xbf16> into tensor<2x6x8xbf16>
func.func @patch_embed(%x: tensor<2x3x32x48xbf16>, %w: tensor<8x768xbf16>) -> tensor<2x6x8xbf16> {
  %0 = vision.patch_embed %x, %w {patch_size = 16 : i64} : (tensor<2x3x32x48xbf16>, tensor<8x768xbf16>) -> tensor<2x6x8xbf16>
  return %0 : tensor<2x6x8xbf16>
}

// -----

// A bias is added to the f32 accumulator before the one rounding.
// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$COL:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-LABEL: func.func @patch_embed_bias
// CHECK-SAME: %[[B:[a-z0-9]+]]: tensor<8xbf16>
// CHECK: %[[ACC:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x2x3x8xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[$ID]], #[[$COL]], #[[$ID]]]{{.*}} ins(%[[ACC]], %[[B]] : tensor<2x2x3x8xf32>, tensor<8xbf16>) outs(%{{.*}} : tensor<2x2x3x8xbf16>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[C:.*]]: bf16, %{{.*}}: bf16):
// CHECK-NEXT: %[[CF:.*]] = arith.extf %[[C]] : bf16 to f32
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[A]], %[[CF]] : f32
// CHECK-NEXT: arith.truncf %[[S]] : f32 to bf16
func.func @patch_embed_bias(%x: tensor<2x3x32x48xbf16>, %w: tensor<8x768xbf16>, %b: tensor<8xbf16>) -> tensor<2x6x8xbf16> {
  %0 = vision.patch_embed %x, %w, %b {patch_size = 16 : i64} : (tensor<2x3x32x48xbf16>, tensor<8x768xbf16>, tensor<8xbf16>) -> tensor<2x6x8xbf16>
  return %0 : tensor<2x6x8xbf16>
}

// -----

// A dynamic frame count is padded to ceil(F/T)*T frames by repeating the
// last one (index min(f, F - 1)), then grouped into tubelets.
// CHECK-LABEL: func.func @tubelet_dynamic
// CHECK-SAME: (%[[F:.*]]: tensor<?x3x32x32xbf16>, %[[W:.*]]: tensor<8x1536xbf16>)
// CHECK: %[[N:.*]] = tensor.dim %[[F]], %{{.*}} : tensor<?x3x32x32xbf16>
// CHECK: %[[T:.*]] = arith.constant 2 : index
// CHECK: %[[NT:.*]] = arith.ceildivui %[[N]], %[[T]] : index
// CHECK: %[[PADDED:.*]] = arith.muli %[[NT]], %[[T]] : index
// CHECK: %[[E:.*]] = tensor.empty(%[[PADDED]]) : tensor<?x3x32x32xbf16>
// CHECK: %[[LAST:.*]] = arith.subi %[[N]], %{{.*}} : index
// CHECK: %[[G:.*]] = linalg.generic {{.*}} outs(%[[E]] : tensor<?x3x32x32xbf16>)
// CHECK: %[[SRC:.*]] = arith.minui %{{.*}}, %[[LAST]] : index
// CHECK: tensor.extract %[[F]][%[[SRC]], %{{.*}}, %{{.*}}, %{{.*}}]
// CHECK: tensor.expand_shape %[[G]] {{\[}}[0, 1], [2], [3], [4]] output_shape [%{{.*}}, 2, 3, 32, 32]
// CHECK: tensor.expand_shape %[[W]] {{\[}}[0], [1, 2, 3, 4]] output_shape [8, 2, 3, 16, 16]
// CHECK: linalg.generic
// CHECK: tensor.collapse_shape %{{.*}} : tensor<?x2x2x8xbf16> into tensor<?x4x8xbf16>
func.func @tubelet_dynamic(%f: tensor<?x3x32x32xbf16>, %w: tensor<8x1536xbf16>) -> tensor<?x4x8xbf16> {
  %0 = vision.tubelet_embed %f, %w {patch_size = 16 : i64, temporal_patch_size = 2 : i64} : (tensor<?x3x32x32xbf16>, tensor<8x1536xbf16>) -> tensor<?x4x8xbf16>
  return %0 : tensor<?x4x8xbf16>
}

// -----

// A static frame count that T divides needs no padding.
// CHECK-LABEL: func.func @tubelet_aligned
// CHECK-NOT: tensor.extract
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2], [3], [4]] output_shape [2, 2, 3, 32, 32]
func.func @tubelet_aligned(%f: tensor<4x3x32x32xf32>, %w: tensor<8x1536xf32>) -> tensor<2x4x8xf32> {
  %0 = vision.tubelet_embed %f, %w {patch_size = 16 : i64, temporal_patch_size = 2 : i64} : (tensor<4x3x32x32xf32>, tensor<8x1536xf32>) -> tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

// interp_pos_embed 4x4 -> 2x3: both axes resample to the square 3x3 (f32
// weights of PyTorch's bilinear, align_corners = false) and only the kept
// top-left 2x3 window is computed, rounded to the table's type.
// CHECK-LABEL: func.func @interp_pos_embed
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2]] output_shape [4, 4, 8] : tensor<16x8xbf16> into tensor<4x4x8xbf16>
// CHECK-DAG: arith.constant dense<[0, 1]> : tensor<2xindex>
// CHECK-DAG: arith.constant dense<[1, 2]> : tensor<2xindex>
// CHECK-DAG: arith.constant dense<[0.833333313, 5.000000e-01]> : tensor<2xf32>
// CHECK-DAG: arith.constant dense<[0, 1, 2]> : tensor<3xindex>
// CHECK-DAG: arith.constant dense<[1, 2, 3]> : tensor<3xindex>
// CHECK-DAG: arith.constant dense<[0.166666687, 5.000000e-01, 0.833333492]> : tensor<3xf32>
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<2x3x8xbf16>)
// CHECK-COUNT-4: tensor.extract
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2]] output_shape [1, 6, 8] : tensor<6x8xbf16> into tensor<1x6x8xbf16>
func.func @interp_pos_embed(%t: tensor<1x16x8xbf16>) -> tensor<1x6x8xbf16> {
  %0 = vision.interp_pos_embed %t {align_corners = false, grid = array<i64: 2, 3>} : tensor<1x16x8xbf16> -> tensor<1x6x8xbf16>
  return %0 : tensor<1x6x8xbf16>
}

// -----

// align_corners = true samples the corners exactly: 4 -> 3 reads rows 0,
// 1.5 and 3.
// CHECK-LABEL: func.func @interp_pos_embed_corners
// CHECK-DAG: arith.constant dense<[0, 1, 3]> : tensor<3xindex>
// CHECK-DAG: arith.constant dense<[1, 2, 3]> : tensor<3xindex>
// CHECK-DAG: arith.constant dense<[0.000000e+00, 5.000000e-01, 0.000000e+00]> : tensor<3xf32>
func.func @interp_pos_embed_corners(%t: tensor<1x16x8xf32>) -> tensor<1x9x8xf32> {
  %0 = vision.interp_pos_embed %t {align_corners = true, grid = array<i64: 3, 3>} : tensor<1x16x8xf32> -> tensor<1x9x8xf32>
  return %0 : tensor<1x9x8xf32>
}

// -----

// prepend_tokens with packed segments: the broadcast prefix goes before each
// segment.
// CHECK-LABEL: func.func @prepend_packed
// CHECK-SAME: (%[[P:.*]]: tensor<2x8xf32>, %[[X:.*]]: tensor<?x10x8xf32>)
// CHECK: %[[PB:.*]] = linalg.broadcast ins(%[[P]] : tensor<2x8xf32>) outs(%{{.*}} : tensor<?x2x8xf32>) dimensions = [0]
// CHECK: %[[R0:.*]] = tensor.empty(%{{.*}}) : tensor<?x14x8xf32>
// CHECK: %[[R1:.*]] = tensor.insert_slice %[[PB]] into %[[R0]][0, 0, 0] [%{{.*}}, 2, 8] [1, 1, 1]
// CHECK: %[[S0:.*]] = tensor.extract_slice %[[X]][0, 0, 0] [%{{.*}}, 4, 8] [1, 1, 1]
// CHECK: %[[R2:.*]] = tensor.insert_slice %[[S0]] into %[[R1]][0, 2, 0] [%{{.*}}, 4, 8] [1, 1, 1]
// CHECK: %[[R3:.*]] = tensor.insert_slice %[[PB]] into %[[R2]][0, 6, 0] [%{{.*}}, 2, 8] [1, 1, 1]
// CHECK: %[[S1:.*]] = tensor.extract_slice %[[X]][0, 4, 0] [%{{.*}}, 6, 8] [1, 1, 1]
// CHECK: %[[R4:.*]] = tensor.insert_slice %[[S1]] into %[[R3]][0, 8, 0] [%{{.*}}, 6, 8] [1, 1, 1]
// CHECK: return %[[R4]]
func.func @prepend_packed(%p: tensor<2x8xf32>, %x: tensor<?x10x8xf32>) -> tensor<?x14x8xf32> {
  %0 = vision.prepend_tokens %p, %x {segment_sizes = array<i64: 4, 6>} : (tensor<2x8xf32>, tensor<?x10x8xf32>) -> tensor<?x14x8xf32>
  return %0 : tensor<?x14x8xf32>
}

// -----

// strip_prefix of one sequence is a single slice.
// CHECK-LABEL: func.func @strip
// CHECK-SAME: (%[[X:.*]]: tensor<?x12x8xf32>)
// CHECK: %[[S:.*]] = tensor.extract_slice %[[X]][0, 2, 0] [%{{.*}}, 10, 8] [1, 1, 1] : tensor<?x12x8xf32> to tensor<?x10x8xf32>
// CHECK: return %[[S]]
func.func @strip(%x: tensor<?x12x8xf32>) -> tensor<?x10x8xf32> {
  %0 = vision.strip_prefix %x {num_prefix = 2 : i64} : tensor<?x12x8xf32> -> tensor<?x10x8xf32>
  return %0 : tensor<?x10x8xf32>
}

// -----

// CHECK-LABEL: func.func @strip_packed
// CHECK-SAME: (%[[X:.*]]: tensor<1x14x8xf32>)
// CHECK: %[[S0:.*]] = tensor.extract_slice %[[X]][0, 2, 0] [1, 4, 8] [1, 1, 1]
// CHECK: %[[R0:.*]] = tensor.insert_slice %[[S0]] into %{{.*}}[0, 0, 0] [1, 4, 8] [1, 1, 1]
// CHECK: %[[S1:.*]] = tensor.extract_slice %[[X]][0, 8, 0] [1, 6, 8] [1, 1, 1]
// CHECK: tensor.insert_slice %[[S1]] into %[[R0]][0, 4, 0] [1, 6, 8] [1, 1, 1]
func.func @strip_packed(%x: tensor<1x14x8xf32>) -> tensor<1x10x8xf32> {
  %0 = vision.strip_prefix %x {num_prefix = 2 : i64, segment_sizes = array<i64: 4, 6>} : tensor<1x14x8xf32> -> tensor<1x10x8xf32>
  return %0 : tensor<1x10x8xf32>
}
