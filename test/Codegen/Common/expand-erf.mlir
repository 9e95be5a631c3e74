// RUN: fovea-opt %s --pass-pipeline="builtin.module(func.func(fovea-expand-erf))" | FileCheck %s

// f32 erf, scalar and vector, becomes a polynomial: no math.erf (and so no
// libm or libdevice call) is left.
// CHECK-LABEL: func.func @scalar
// CHECK-NOT: math.erf
// CHECK: arith.constant 1.12837911 : f32
// CHECK-NOT: math.erf
// CHECK: return
func.func @scalar(%x: f32) -> f32 {
  %y = math.erf %x : f32
  return %y : f32
}

// CHECK-LABEL: func.func @vector
// CHECK-NOT: math.erf
// CHECK: arith.constant dense<1.12837911> : vector<16xf32>
// CHECK-NOT: math.erf
// CHECK: return
func.func @vector(%x: vector<16xf32>) -> vector<16xf32> {
  %y = math.erf %x : vector<16xf32>
  return %y : vector<16xf32>
}
