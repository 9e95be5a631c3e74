// RUN: fovea-opt %s --pass-pipeline='builtin.module(func.func(vision-fuse-data-movement))' | FileCheck %s

// strip_prefix and pixel_shuffle join the group of the norm that reads
// them; the group keeps its name and rule.
// CHECK-LABEL: func.func @into_group
func.func @into_group(%x: tensor<?x18x64xbf16>, %w: tensor<256xbf16>) -> tensor<?x4x256xbf16> {
  // CHECK: %[[G:.*]] = vision.fusion_group "mlp1.0" rule = <residual_norm> -> tensor<?x4x256xbf16> {
  // CHECK-NEXT: vision.strip_prefix
  // CHECK-NEXT: vision.pixel_shuffle
  // CHECK-NEXT: vision.rms_norm
  // CHECK-NEXT: vision.yield
  // CHECK: return %[[G]]
  %s = vision.strip_prefix %x {num_prefix = 2 : i64} : tensor<?x18x64xbf16> -> tensor<?x16x64xbf16>
  %p = vision.pixel_shuffle %s {grid = array<i64: 4, 4>, version = #vision.pixel_shuffle_version<v2>} : tensor<?x16x64xbf16> -> tensor<?x4x256xbf16>
  %n = vision.fusion_group "mlp1.0" rule = <residual_norm> -> tensor<?x4x256xbf16> {
    %m = vision.rms_norm %p, %w {epsilon = 1.0e-05 : f64, weight_order = #vision.weight_order<cast_then_scale>} : (tensor<?x4x256xbf16>, tensor<256xbf16>) -> tensor<?x4x256xbf16>
    vision.yield %m : tensor<?x4x256xbf16>
  }
  return %n : tensor<?x4x256xbf16>
}

// With an ungrouped consumer the reordering forms a data_movement group
// with it; a reordering read twice, or returned, stays alone.
// CHECK-LABEL: func.func @new_group
func.func @new_group(%x: tensor<?x18x64xbf16>, %w: tensor<256xbf16>) -> (tensor<?x4x256xbf16>, tensor<?x16x64xbf16>) {
  // CHECK: %[[S:.*]] = vision.strip_prefix
  // CHECK: vision.fusion_group "data_movement" rule = <data_movement> -> tensor<?x4x256xbf16> {
  // CHECK-NEXT: vision.pixel_shuffle %[[S]]
  // CHECK-NEXT: vision.rms_norm
  // CHECK-NEXT: vision.yield
  %s = vision.strip_prefix %x {num_prefix = 2 : i64} : tensor<?x18x64xbf16> -> tensor<?x16x64xbf16>
  %p = vision.pixel_shuffle %s {grid = array<i64: 4, 4>, version = #vision.pixel_shuffle_version<v2>} : tensor<?x16x64xbf16> -> tensor<?x4x256xbf16>
  %m = vision.rms_norm %p, %w {epsilon = 1.0e-05 : f64, weight_order = #vision.weight_order<cast_then_scale>} : (tensor<?x4x256xbf16>, tensor<256xbf16>) -> tensor<?x4x256xbf16>
  return %m, %s : tensor<?x4x256xbf16>, tensor<?x16x64xbf16>
}
