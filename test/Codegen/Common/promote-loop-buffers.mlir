// RUN: fovea-opt %s --pass-pipeline='builtin.module(func.func(fovea-promote-loop-buffers))' | FileCheck %s
// RUN: fovea-opt %s --pass-pipeline='builtin.module(func.func(fovea-promote-loop-buffers{hoist=true}))' | FileCheck %s --check-prefix=HOIST

// A row's statistics in a parallel loop: private to the iteration.
// CHECK-LABEL: func.func @rows
// CHECK: scf.parallel
// CHECK-NEXT: %[[S:.*]] = memref.alloca() {alignment = 64 : i64} : memref<1xf32>
// CHECK-NOT: memref.dealloc
// HOIST-LABEL: func.func @rows
// HOIST-NEXT: memref.alloca() {alignment = 64 : i64} : memref<1xf32>
// HOIST: scf.parallel
// HOIST-NOT: memref.alloc
func.func @rows(%x: memref<?x64xf32>, %out: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%r) = (%c0) to (%n) step (%c1) {
    %s = memref.alloc() {alignment = 64 : i64} : memref<1xf32>
    memref.store %zero, %s[%c0] : memref<1xf32>
    %v = memref.load %s[%c0] : memref<1xf32>
    memref.store %v, %out[%r] : memref<?xf32>
    memref.dealloc %s : memref<1xf32>
    scf.reduce
  }
  return
}

// Large, dynamic or escaping buffers, and buffers outside loops, stay on
// the heap.
// CHECK-LABEL: func.func @kept
// HOIST-LABEL: func.func @kept
// CHECK-COUNT-3: memref.alloc(
// CHECK-NOT: memref.alloca
func.func @kept(%n: index) -> memref<8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = memref.alloc() : memref<8xf32>
  scf.for %i = %c0 to %n step %c1 {
    %big = memref.alloc() : memref<4096xf32>
    memref.dealloc %big : memref<4096xf32>
    %dyn = memref.alloc(%n) : memref<?xf32>
    memref.dealloc %dyn : memref<?xf32>
  }
  return %a : memref<8xf32>
}

// After linalg-to-loops the statistics are read and written in the loops
// nested in the row's body: promoted too. A buffer a call reads, even from
// a nested loop, stays on the heap.
// CHECK-LABEL: func.func @nested
// CHECK: scf.for
// CHECK-NEXT: memref.alloca() : memref<1xf32>
// CHECK: memref.alloc() : memref<2xf32>
// CHECK: call @consume
// CHECK: memref.dealloc
// CHECK-NOT: memref.dealloc
// HOIST-LABEL: func.func @nested
// HOIST-NEXT: memref.alloca() : memref<1xf32>
// HOIST-NEXT: arith.constant
// HOIST: memref.alloc() : memref<2xf32>
func.func private @consume(memref<2xf32>)
func.func @nested(%x: memref<?x4xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  scf.for %r = %c0 to %n step %c1 {
    %s = memref.alloc() : memref<1xf32>
    %p = memref.alloc() : memref<2xf32>
    memref.store %zero, %s[%c0] : memref<1xf32>
    scf.for %k = %c0 to %c4 step %c1 {
      %v = memref.load %x[%r, %k] : memref<?x4xf32>
      %a = memref.load %s[%c0] : memref<1xf32>
      %b = arith.addf %a, %v : f32
      memref.store %b, %s[%c0] : memref<1xf32>
      func.call @consume(%p) : (memref<2xf32>) -> ()
    }
    memref.dealloc %p : memref<2xf32>
    memref.dealloc %s : memref<1xf32>
  }
  return
}
