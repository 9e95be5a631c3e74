// RUN: fovea-opt %s --fovea-gpu-copy-kernels | FileCheck %s

// Host-side copies become linalg copies (strided views included); copies
// inside kernels are left alone.

// CHECK-LABEL: func.func @copies(
// CHECK-SAME: %[[A:.*]]: memref<?x64xf32>, %[[B:.*]]: memref<?x128xf32>
func.func @copies(%a: memref<?x64xf32>, %b: memref<?x128xf32>) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %a, %c0 : memref<?x64xf32>
  // CHECK: %[[S:.*]] = memref.subview %[[B]]
  %s = memref.subview %b[0, 64] [%n, 64] [1, 1] : memref<?x128xf32> to memref<?x64xf32, strided<[128, 1], offset: 64>>
  // CHECK-NEXT: linalg.copy ins(%[[A]] : memref<?x64xf32>) outs(%[[S]] : memref<?x64xf32, strided<[128, 1], offset: 64>>)
  // CHECK-NOT: memref.copy
  memref.copy %a, %s : memref<?x64xf32> to memref<?x64xf32, strided<[128, 1], offset: 64>>
  %c1 = arith.constant 1 : index
  // CHECK: gpu.launch
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %t = memref.alloca() : memref<4xf32>
    %r = memref.alloca() : memref<4xf32>
    // CHECK: memref.copy
    memref.copy %t, %r : memref<4xf32> to memref<4xf32>
    gpu.terminator
  }
  return
}
