// RUN: fovea-opt %s --split-input-file --verify-diagnostics | FileCheck %s

// The discardable attributes of the vision dialect, in their places.
// CHECK-LABEL: module attributes {vision.derived_types = [tensor<4x64xf32>], vision.init_only_weights = array<i64: 0, 2>, vision.metadata = "{}"}
// CHECK: func.func @run(%{{.*}}: tensor<4x64xf32> {vision.weight = "blocks.0.norm1.weight"}, %{{.*}}: tensor<4x64xf32> {vision.derived = 0 : i64})
module attributes {vision.derived_types = [tensor<4x64xf32>], vision.init_only_weights = array<i64: 0, 2>, vision.metadata = "{}"} {
  func.func @run(%w: tensor<4x64xf32> {vision.weight = "blocks.0.norm1.weight"}, %d: tensor<4x64xf32> {vision.derived = 0 : i64}) -> tensor<4x64xf32> {
    return %w : tensor<4x64xf32>
  }
}

// -----

// expected-error @+1 {{expects 'vision.weight' to name a checkpoint tensor (a non-empty string), got 3 : i64}}
func.func @weight_not_a_string(%w: tensor<4xf32> {vision.weight = 3}) {
  return
}

// -----

// expected-error @+1 {{expects 'vision.weight' to name a checkpoint tensor (a non-empty string), got ""}}
func.func @weight_empty(%w: tensor<4xf32> {vision.weight = ""}) {
  return
}

// -----

// expected-error @+1 {{unknown argument attribute 'vision.wieght' of the vision dialect}}
func.func @weight_misspelled(%w: tensor<4xf32> {vision.wieght = "x"}) {
  return
}

// -----

// expected-error @+1 {{expects 'vision.weight' on a function argument only}}
module attributes {vision.weight = "x"} {
}

// -----

// expected-error @+1 {{expects 'vision.derived_types' to be an array of ranked tensor types, got [f32]}}
module attributes {vision.derived_types = [f32]} {
}

// -----

// expected-error @+1 {{expects 'vision.init_only_weights' to be increasing non-negative weight positions (array<i64: ...>), got array<i64: 2, 1>}}
module attributes {vision.init_only_weights = array<i64: 2, 1>} {
}

// -----

// expected-error @+1 {{expects 'vision.metadata' to be a string (the metadata JSON), got 1 : i64}}
module attributes {vision.metadata = 1} {
}

// -----

module {
  // expected-error @+1 {{expects 'vision.metadata' on a module only}}
  func.func @f() attributes {vision.metadata = "{}"} {
    return
  }
}

// -----

// expected-error @+1 {{unknown attribute 'vision.fused' of the vision dialect}}
module attributes {vision.fused} {
}

// -----

// expected-error @+1 {{expects 'vision.derived' to be the index of a value @init returns (a non-negative integer), got -1 : i64}}
func.func @derived_negative(%d: tensor<4xf32> {vision.derived = -1 : i64}) {
  return
}

// -----

// expected-error @+1 {{expects 'vision.folded_weight' to name a checkpoint tensor (a non-empty string), got 1 : i64}}
func.func @folded_weight_not_a_string() attributes {vision.folded_weight = 1} {
  return
}

// -----

// expected-error @+1 {{expects 'vision.folded_weight' on an operation}}
module attributes {vision.folded_weight = "blocks.0.norm1.weight"} {
}
