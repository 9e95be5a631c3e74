// RUN: fovea-opt %s --vision-hoist-weight-only --split-input-file | FileCheck %s

// The position-embedding interpolation and the weight transpose depend on
// weights only: they move to @init, and @run receives the values it uses.
// The reshape after the interpolation computes nothing and stays in @run
// (as a value of @init it would be a view of another one).
// Both weights are read by @init only.
// CHECK: module attributes {vision.derived_types = [tensor<1x16x8xf32>, tensor<8x4xf32>], vision.init_only_weights = array<i64: 0, 1>}
// CHECK-LABEL: func.func @run(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x16x8xf32>,
// CHECK-SAME: %[[T:[a-z0-9]+]]: tensor<1x64x8xf32> {vision.weight = "pos_embed"},
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<4x8xf32> {vision.weight = "w"},
// CHECK-SAME: %[[POS:[a-z0-9]+]]: tensor<1x16x8xf32> {vision.derived = 0 : i64},
// CHECK-SAME: %[[WT:[a-z0-9]+]]: tensor<8x4xf32> {vision.derived = 1 : i64})
// CHECK-NOT: vision.interp_pos_embed
// CHECK-NOT: linalg.transpose
// CHECK: %[[P:.*]] = tensor.collapse_shape %[[POS]]
// CHECK: linalg.broadcast ins(%[[P]] :
// CHECK: linalg.matmul ins(%{{.*}}, %[[WT]] :
// CHECK-LABEL: func.func @init(
// CHECK-SAME: %[[IT:[a-z0-9]+]]: tensor<1x64x8xf32> {vision.weight = "pos_embed"}, %[[IW:[a-z0-9]+]]: tensor<4x8xf32> {vision.weight = "w"})
// CHECK-SAME: -> (tensor<1x16x8xf32>, tensor<8x4xf32>) attributes {llvm.emit_c_interface}
// CHECK: %[[I:.*]] = vision.interp_pos_embed %[[IT]]
// CHECK-NOT: tensor.collapse_shape
// CHECK: %[[TR:.*]] = linalg.transpose ins(%[[IW]]
// CHECK: return %[[I]], %[[TR]]
func.func @run(%x: tensor<?x16x8xf32>, %t: tensor<1x64x8xf32> {vision.weight = "pos_embed"},
               %w: tensor<4x8xf32> {vision.weight = "w"}) -> tensor<?x4xf32> {
  %pos = vision.interp_pos_embed %t {align_corners = false, grid = array<i64: 4, 4>} : tensor<1x64x8xf32> -> tensor<1x16x8xf32>
  %p2 = tensor.collapse_shape %pos [[0, 1], [2]] : tensor<1x16x8xf32> into tensor<16x8xf32>
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x16x8xf32>
  %e = tensor.empty(%n) : tensor<?x16x8xf32>
  %b = linalg.broadcast ins(%p2 : tensor<16x8xf32>) outs(%e : tensor<?x16x8xf32>) dimensions = [0]
  %s = arith.addf %x, %b : tensor<?x16x8xf32>
  %rows = tensor.collapse_shape %s [[0, 1], [2]] : tensor<?x16x8xf32> into tensor<?x8xf32>
  %wt0 = tensor.empty() : tensor<8x4xf32>
  %wt = linalg.transpose ins(%w : tensor<4x8xf32>) outs(%wt0 : tensor<8x4xf32>) permutation = [1, 0]
  %m = tensor.dim %rows, %c0 : tensor<?x8xf32>
  %acc0 = tensor.empty(%m) : tensor<?x4xf32>
  %zero = arith.constant 0.0 : f32
  %acc = linalg.fill ins(%zero : f32) outs(%acc0 : tensor<?x4xf32>) -> tensor<?x4xf32>
  %y = linalg.matmul ins(%rows, %wt : tensor<?x8xf32>, tensor<8x4xf32>) outs(%acc : tensor<?x4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// Nothing depends on weights only (constants do not count): unchanged.
// CHECK-NOT: vision.derived_types
// CHECK-LABEL: func.func @run(
// CHECK-NOT: vision.derived
// CHECK-NOT: func.func @init
func.func @run(%x: tensor<4x8xf32>, %w: tensor<8xf32> {vision.weight = "w"}) -> tensor<4x8xf32> {
  %c = arith.constant dense<1.0> : tensor<8xf32>
  %0 = vision.rms_norm %x, %w {epsilon = 1.0e-05 : f64, weight_order = #vision.weight_order<cast_then_scale>} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// Static shapes: the accumulator (an empty tensor and its zero fill) depends
// on constants only and stays in @run, where the matmul writes into it; as a
// value of @init it would be one buffer shared by every run. The transpose's
// empty destination is recomputed in @init and dropped from @run.
// CHECK: module attributes {vision.derived_types = [tensor<8x4xf32>]
// CHECK-LABEL: func.func @run(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8xf32>,
// CHECK-SAME: %[[WT:[a-z0-9]+]]: tensor<8x4xf32> {vision.derived = 0 : i64})
// CHECK-NEXT: %[[ACC0:.*]] = tensor.empty() : tensor<2x4xf32>
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.0
// CHECK-NEXT: %[[ACC:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[ACC0]]
// CHECK-NEXT: linalg.matmul ins(%[[X]], %[[WT]] : {{.*}}) outs(%[[ACC]] :
// CHECK-LABEL: func.func @init(
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<8x4xf32>
// CHECK-NEXT: %[[TR:.*]] = linalg.transpose ins(%{{.*}} : tensor<4x8xf32>) outs(%[[E]]
// CHECK-NEXT: return %[[TR]]
func.func @run(%x: tensor<2x8xf32>, %w: tensor<4x8xf32> {vision.weight = "w"}) -> tensor<2x4xf32> {
  %wt0 = tensor.empty() : tensor<8x4xf32>
  %wt = linalg.transpose ins(%w : tensor<4x8xf32>) outs(%wt0 : tensor<8x4xf32>) permutation = [1, 0]
  %acc0 = tensor.empty() : tensor<2x4xf32>
  %zero = arith.constant 0.0 : f32
  %acc = linalg.fill ins(%zero : f32) outs(%acc0 : tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = linalg.matmul ins(%x, %wt : tensor<2x8xf32>, tensor<8x4xf32>) outs(%acc : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// A reshape of a weight is not a value of @init (it would alias the weight,
// which the runtime owns): nothing to hoist.
// CHECK-NOT: vision.derived_types
// CHECK-LABEL: func.func @run(
// CHECK-NEXT: tensor.expand_shape
// CHECK-NOT: func.func @init
func.func @run(%x: tensor<?x4x8xf32>, %w: tensor<4x8xf32> {vision.weight = "w"}) -> tensor<?x4x8xf32> {
  %e = tensor.expand_shape %w [[0, 1], [2]] output_shape [1, 4, 8] : tensor<4x8xf32> into tensor<1x4x8xf32>
  %c = tensor.collapse_shape %e [[0, 1], [2]] : tensor<1x4x8xf32> into tensor<4x8xf32>
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x4x8xf32>
  %0 = tensor.empty(%n) : tensor<?x4x8xf32>
  %b = linalg.broadcast ins(%c : tensor<4x8xf32>) outs(%0 : tensor<?x4x8xf32>) dimensions = [0]
  %y = arith.addf %x, %b : tensor<?x4x8xf32>
  return %y : tensor<?x4x8xf32>
}
