// RUN: fovea-opt %s -canonicalize -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @resize_same_size
// CHECK-SAME: (%[[X:.*]]: tensor<?x3x512x512xui8>)
// CHECK-NOT: vision.resize
// CHECK: return %[[X]]
func.func @resize_same_size(%x: tensor<?x3x512x512xui8>) -> tensor<?x3x512x512xui8> {
  %0 = vision.resize %x {domain = #vision.resize_domain<u8>, size = array<i64: 512, 512>}
      : tensor<?x3x512x512xui8> -> tensor<?x3x512x512xui8>
  return %0 : tensor<?x3x512x512xui8>
}

// -----

// A resize to another size stays.
// CHECK-LABEL: func.func @resize_other_size
// CHECK: vision.resize
func.func @resize_other_size(%x: tensor<1x3x480x640xf32>) -> tensor<1x3x448x576xf32> {
  %0 = vision.resize %x {domain = #vision.resize_domain<f32_clamp>, size = array<i64: 448, 576>}
      : tensor<1x3x480x640xf32> -> tensor<1x3x448x576xf32>
  return %0 : tensor<1x3x448x576xf32>
}

// -----

// Interpolating the R x R table to R x R is the table.
// CHECK-LABEL: func.func @interp_pos_embed_equal_size
// CHECK-SAME: (%[[T:.*]]: tensor<1x1024x64xbf16>)
// CHECK-NOT: vision.interp_pos_embed
// CHECK: return %[[T]]
func.func @interp_pos_embed_equal_size(%t: tensor<1x1024x64xbf16>) -> tensor<1x1024x64xbf16> {
  %0 = vision.interp_pos_embed %t {align_corners = false, grid = array<i64: 32, 32>}
      : tensor<1x1024x64xbf16> -> tensor<1x1024x64xbf16>
  return %0 : tensor<1x1024x64xbf16>
}

// -----

// A 16x64 grid has R*R rows too but is not the identity.
// CHECK-LABEL: func.func @interp_pos_embed_same_count
// CHECK: vision.interp_pos_embed
func.func @interp_pos_embed_same_count(%t: tensor<1x1024x64xbf16>) -> tensor<1x1024x64xbf16> {
  %0 = vision.interp_pos_embed %t {align_corners = false, grid = array<i64: 16, 64>}
      : tensor<1x1024x64xbf16> -> tensor<1x1024x64xbf16>
  return %0 : tensor<1x1024x64xbf16>
}

// -----

// CHECK-LABEL: func.func @empty_prefix
// CHECK-SAME: (%{{.*}}: tensor<0x64xf32>, %[[X:.*]]: tensor<?x16x64xf32>)
// CHECK-NOT: vision.prepend_tokens
// CHECK-NOT: vision.strip_prefix
// CHECK: return %[[X]], %[[X]]
func.func @empty_prefix(%p: tensor<0x64xf32>, %x: tensor<?x16x64xf32>)
    -> (tensor<?x16x64xf32>, tensor<?x16x64xf32>) {
  %0 = vision.prepend_tokens %p, %x : (tensor<0x64xf32>, tensor<?x16x64xf32>) -> tensor<?x16x64xf32>
  %1 = vision.strip_prefix %x {num_prefix = 0 : i64} : tensor<?x16x64xf32> -> tensor<?x16x64xf32>
  return %0, %1 : tensor<?x16x64xf32>, tensor<?x16x64xf32>
}

// -----

// Stripping what was prepended gives the input back, also for packed segments.
// CHECK-LABEL: func.func @strip_prepended
// CHECK-SAME: (%{{.*}}: tensor<10x64xf32>, %[[X:.*]]: tensor<?x16x64xf32>, %[[Y:.*]]: tensor<1x24x64xf32>)
// CHECK-NOT: vision.
// CHECK: return %[[X]], %[[Y]]
func.func @strip_prepended(%p: tensor<10x64xf32>, %x: tensor<?x16x64xf32>, %y: tensor<1x24x64xf32>)
    -> (tensor<?x16x64xf32>, tensor<1x24x64xf32>) {
  %0 = vision.prepend_tokens %p, %x : (tensor<10x64xf32>, tensor<?x16x64xf32>) -> tensor<?x26x64xf32>
  %1 = vision.strip_prefix %0 {num_prefix = 10 : i64} : tensor<?x26x64xf32> -> tensor<?x16x64xf32>
  %2 = vision.prepend_tokens %p, %y {segment_sizes = array<i64: 16, 8>}
      : (tensor<10x64xf32>, tensor<1x24x64xf32>) -> tensor<1x44x64xf32>
  %3 = vision.strip_prefix %2 {num_prefix = 10 : i64, segment_sizes = array<i64: 16, 8>}
      : tensor<1x44x64xf32> -> tensor<1x24x64xf32>
  return %1, %3 : tensor<?x16x64xf32>, tensor<1x24x64xf32>
}

// -----

// Different segmentations do not cancel.
// CHECK-LABEL: func.func @strip_other_segments
// CHECK: vision.prepend_tokens
// CHECK: vision.strip_prefix
func.func @strip_other_segments(%p: tensor<10x64xf32>, %y: tensor<1x24x64xf32>) -> tensor<1x24x64xf32> {
  %0 = vision.prepend_tokens %p, %y {segment_sizes = array<i64: 16, 8>}
      : (tensor<10x64xf32>, tensor<1x24x64xf32>) -> tensor<1x44x64xf32>
  %1 = vision.strip_prefix %0 {num_prefix = 10 : i64, segment_sizes = array<i64: 8, 16>}
      : tensor<1x44x64xf32> -> tensor<1x24x64xf32>
  return %1 : tensor<1x24x64xf32>
}

// -----

// EVS at rate 0 keeps every token in order.
// CHECK-LABEL: func.func @evs_keep_all
// CHECK-SAME: (%[[X:.*]]: tensor<4x16x64xbf16>)
// CHECK-DAG: %[[COUNTS:.*]] = arith.constant dense<16> : tensor<4xi64>
// CHECK-DAG: %[[KEPT:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<4x16x64xbf16> into tensor<64x64xbf16>
// CHECK-NOT: vision.evs_prune
// CHECK: return %[[KEPT]], %[[COUNTS]]
func.func @evs_keep_all(%x: tensor<4x16x64xbf16>) -> (tensor<64x64xbf16>, tensor<4xi64>) {
  %k, %c = vision.evs_prune %x {rate = 0.0 : f64} : tensor<4x16x64xbf16> -> tensor<64x64xbf16>, tensor<4xi64>
  return %k, %c : tensor<64x64xbf16>, tensor<4xi64>
}

// -----

// CHECK-LABEL: func.func @evs_keep_all_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x16x64xf32>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[L:.*]] = arith.constant 16 : i64
// CHECK-DAG: %[[KEPT:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<?x16x64xf32> into tensor<?x64xf32>
// CHECK-DAG: %[[NT:.*]] = tensor.dim %[[X]], %[[C0]]
// CHECK: %[[COUNTS:.*]] = tensor.splat %[[L]][%[[NT]]] : tensor<?xi64>
// CHECK: return %[[KEPT]], %[[COUNTS]]
func.func @evs_keep_all_dynamic(%x: tensor<?x16x64xf32>) -> (tensor<?x64xf32>, tensor<?xi64>) {
  %k, %c = vision.evs_prune %x {rate = 0.0 : f64} : tensor<?x16x64xf32> -> tensor<?x64xf32>, tensor<?xi64>
  return %k, %c : tensor<?x64xf32>, tensor<?xi64>
}

// -----

// A non-zero rate stays.
// CHECK-LABEL: func.func @evs_prunes
// CHECK: vision.evs_prune
func.func @evs_prunes(%x: tensor<4x16x64xbf16>) -> (tensor<32x64xbf16>, tensor<4xi64>) {
  %k, %c = vision.evs_prune %x {rate = 0.5 : f64} : tensor<4x16x64xbf16> -> tensor<32x64xbf16>, tensor<4xi64>
  return %k, %c : tensor<32x64xbf16>, tensor<4xi64>
}
