// RUN: fovea-opt %s --pass-pipeline='builtin.module(func.func(fovea-unshare-fills))' | FileCheck %s

// Each reader of a shared fill of a fresh tensor gets its own fill.
// CHECK-LABEL: func.func @shared
func.func @shared(%a: tensor<?x64xf32>, %b: tensor<?x64xf32>, %n: index) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %cst = arith.constant 0.0 : f32
  // CHECK: %[[E0:.*]] = tensor.empty(%{{.*}})
  // CHECK: %[[F0:.*]] = linalg.fill ins(%{{.*}}) outs(%[[E0]]
  // CHECK: linalg.add ins(%{{.*}}, %[[F0]]
  // CHECK: %[[E1:.*]] = tensor.empty(%{{.*}})
  // CHECK: %[[F1:.*]] = linalg.fill ins(%{{.*}}) outs(%[[E1]]
  // CHECK: linalg.add ins(%{{.*}}, %[[F1]]
  %e = tensor.empty(%n) : tensor<?x64xf32>
  %z = linalg.fill ins(%cst : f32) outs(%e : tensor<?x64xf32>) -> tensor<?x64xf32>
  %e1 = tensor.empty(%n) : tensor<?x64xf32>
  %e2 = tensor.empty(%n) : tensor<?x64xf32>
  %0 = linalg.add ins(%a, %z : tensor<?x64xf32>, tensor<?x64xf32>) outs(%e1 : tensor<?x64xf32>) -> tensor<?x64xf32>
  %1 = linalg.add ins(%b, %z : tensor<?x64xf32>, tensor<?x64xf32>) outs(%e2 : tensor<?x64xf32>) -> tensor<?x64xf32>
  return %0, %1 : tensor<?x64xf32>, tensor<?x64xf32>
}

// A fill of a buffer that holds data is left alone.
// CHECK-LABEL: func.func @not_fresh
// CHECK-COUNT-1: linalg.fill
// CHECK-NOT: linalg.fill
func.func @not_fresh(%a: tensor<8xf32>, %b: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %cst = arith.constant 1.0 : f32
  %z = linalg.fill ins(%cst : f32) outs(%a : tensor<8xf32>) -> tensor<8xf32>
  %0 = linalg.add ins(%b, %z : tensor<8xf32>, tensor<8xf32>) outs(%b : tensor<8xf32>) -> tensor<8xf32>
  %1 = linalg.mul ins(%b, %z : tensor<8xf32>, tensor<8xf32>) outs(%b : tensor<8xf32>) -> tensor<8xf32>
  return %0, %1 : tensor<8xf32>, tensor<8xf32>
}
