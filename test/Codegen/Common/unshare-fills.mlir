// RUN: fovea-opt %s --pass-pipeline='builtin.module(func.func(fovea-unshare-fills))' | FileCheck %s

// Each reader of a shared fill of a fresh tensor gets its own fill.
// CHECK-LABEL: func.func @shared
func.func @shared(%a: tensor<?x64xf32>, %b: tensor<?x64xf32>, %n: index) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %cst = arith.constant 0.0 : f32
  // CHECK: %[[E0:.*]] = tensor.empty(%{{.*}})
  // CHECK-NEXT: %[[E1:.*]] = tensor.empty(%{{.*}})
  // CHECK: %[[F0:.*]] = linalg.fill ins(%{{.*}}) outs(%[[E0]]
  // CHECK: linalg.add ins(%{{.*}}, %[[F0]]
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

// A slice of a fresh tensor filled in a loop (a row's statistic, read by
// two reductions): the fresh tensor is cloned where it was, outside the
// loop, the slice and the fill inside it.
// CHECK-LABEL: func.func @in_loop
// CHECK: %[[E0:.*]] = tensor.empty(%{{.*}}) : tensor<?xf32>
// CHECK-NEXT: %[[E1:.*]] = tensor.empty(%{{.*}}) : tensor<?xf32>
// CHECK: scf.forall
// CHECK: tensor.extract_slice %[[E0]]
// CHECK: linalg.fill
// CHECK: linalg.add
// CHECK: tensor.extract_slice %[[E1]]
// CHECK: linalg.fill
// CHECK: linalg.mul
func.func @in_loop(%x: tensor<?xf32>, %n: index) -> tensor<?xf32> {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty(%n) : tensor<?xf32>
  %out = tensor.empty(%n) : tensor<?xf32>
  %r = scf.forall (%i) in (%n) shared_outs(%o = %out) -> tensor<?xf32> {
    %s = tensor.extract_slice %e[%i] [1] [1] : tensor<?xf32> to tensor<1xf32>
    %z = linalg.fill ins(%cst : f32) outs(%s : tensor<1xf32>) -> tensor<1xf32>
    %xs = tensor.extract_slice %x[%i] [1] [1] : tensor<?xf32> to tensor<1xf32>
    %a = linalg.add ins(%xs, %z : tensor<1xf32>, tensor<1xf32>) outs(%xs : tensor<1xf32>) -> tensor<1xf32>
    %m = linalg.mul ins(%a, %z : tensor<1xf32>, tensor<1xf32>) outs(%a : tensor<1xf32>) -> tensor<1xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %m into %o[%i] [1] [1] : tensor<1xf32> into tensor<?xf32>
    }
  }
  return %r : tensor<?xf32>
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
