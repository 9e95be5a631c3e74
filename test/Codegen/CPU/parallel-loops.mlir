// RUN: fovea-opt --fovea-cpu-parallel-loops --split-input-file %s | FileCheck %s
// RUN: fovea-opt --pass-pipeline='builtin.module(fovea-cpu-parallel-loops,func.func(fovea-promote-loop-buffers{hoist=true}))' --split-input-file %s | FileCheck %s --check-prefix=PROMOTE

// A row loop over a dynamic batch: the memrefs and the batch size go
// through the stack struct, constants and the row's statistics slot are
// cloned into the task, which walks [lo, hi) delinearized over (b, t).
// The row's heap buffer moves into the task as it is; promoting it after
// the outlining gives each task (each thread) its own stack slot.

// CHECK-LABEL: func.func @rows(
// CHECK-SAME:      %[[X:.*]]: memref<?x8x4xf32>, %[[Y:.*]]: memref<?x8x4xf32>)
// CHECK-NOT:     scf.forall
// CHECK:         %[[B:.*]] = memref.dim %[[X]]
// CHECK:         %[[SLOT:.*]] = llvm.alloca %{{.*}} x !llvm.struct<(struct<(ptr, ptr, i64, array<3 x i64>, array<3 x i64>)>, struct<(ptr, ptr, i64, array<3 x i64>, array<3 x i64>)>, i64)>
// CHECK:         %[[XD:.*]] = builtin.unrealized_conversion_cast %[[X]] : memref<?x8x4xf32> to !llvm.struct
// CHECK:         llvm.store %[[XD]]
// CHECK:         %[[YD:.*]] = builtin.unrealized_conversion_cast %[[Y]] : memref<?x8x4xf32> to !llvm.struct
// CHECK:         llvm.store %[[YD]]
// CHECK:         llvm.store %{{.*}} : i64, !llvm.ptr
// CHECK:         %[[TASK:.*]] = constant @rows_loop0 : (!llvm.ptr, i64, i64) -> ()
// CHECK:         %[[N:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK:         call @fovea_parallel_for(%[[N]], %[[TASK]], %[[SLOT]]) : (i64, (!llvm.ptr, i64, i64) -> (), !llvm.ptr) -> ()
// CHECK-NEXT:    memref.dealloc

// CHECK-LABEL: func.func private @rows_loop0(
// CHECK-SAME:      %[[CTX:.*]]: !llvm.ptr, %[[LO:.*]]: i64, %[[HI:.*]]: i64)
// CHECK:         %[[F0:.*]] = llvm.getelementptr %[[CTX]][0, 0]
// CHECK:         %[[L0:.*]] = llvm.load %[[F0]]
// CHECK:         builtin.unrealized_conversion_cast %[[L0]] : !llvm.struct<(ptr, ptr, i64, array<3 x i64>, array<3 x i64>)> to memref<?x8x4xf32>
// CHECK:         %[[C8:.*]] = arith.constant 8 : index
// CHECK:         scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step
// CHECK:           %[[T:.*]] = arith.remui %[[I]], %[[C8]]
// CHECK:           arith.divui %[[I]], %[[C8]]
// CHECK:           memref.subview
// CHECK:           %[[S:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1xf32>
// CHECK:           memref.dealloc %[[S]]
// CHECK:           memref.store
// CHECK:         return

// PROMOTE-LABEL: func.func private @rows_loop0(
// PROMOTE-NEXT:    memref.alloca() {alignment = 64 : i64} : memref<1xf32>
// PROMOTE-NOT:     memref.alloc(
// PROMOTE-NOT:     memref.dealloc
// PROMOTE:         return

func.func @rows(%x: memref<?x8x4xf32>, %y: memref<?x8x4xf32>) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %b = memref.dim %x, %c0 : memref<?x8x4xf32>
  %tmp = memref.alloc(%b) : memref<?x8x4xf32>
  scf.forall (%i, %j) in (%b, 8) {
    %row = memref.subview %x[%i, %j, 0] [1, 1, 4] [1, 1, 1] : memref<?x8x4xf32> to memref<4xf32, strided<[1], offset: ?>>
    %out = memref.subview %y[%i, %j, 0] [1, 1, 4] [1, 1, 1] : memref<?x8x4xf32> to memref<4xf32, strided<[1], offset: ?>>
    %sum = memref.alloc() {alignment = 64 : i64} : memref<1xf32>
    memref.store %zero, %sum[%c0] : memref<1xf32>
    scf.for %k = %c0 to %c4 step %c1 {
      %v = memref.load %row[%k] : memref<4xf32, strided<[1], offset: ?>>
      %s = memref.load %sum[%c0] : memref<1xf32>
      %n = arith.addf %s, %v : f32
      memref.store %n, %sum[%c0] : memref<1xf32>
    }
    %total = memref.load %sum[%c0] : memref<1xf32>
    memref.dealloc %sum : memref<1xf32>
    scf.for %k = %c0 to %c4 step %c1 {
      memref.store %total, %out[%k] : memref<4xf32, strided<[1], offset: ?>>
    }
  }
  memref.dealloc %tmp : memref<?x8x4xf32>
  return
}

// -----

// A stack slot the loop shares with code after it stays one slot: the loop
// stays sequential. Loops inside another loop and foralls with shared
// outputs are left alone too.

// CHECK-LABEL: func.func @shared_slot(
// CHECK:         scf.forall
// CHECK-NOT:     call @fovea_parallel_for
// CHECK:         return
func.func @shared_slot(%y: memref<8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %slot = memref.alloca() : memref<1xf32>
  scf.forall (%i) in (8) {
    %v = memref.load %y[%i] : memref<8xf32>
    memref.store %v, %slot[%c0] : memref<1xf32>
  }
  %r = memref.load %slot[%c0] : memref<1xf32>
  return %r : f32
}

// CHECK-LABEL: func.func @nested(
// CHECK:         scf.for
// CHECK:           scf.forall
// CHECK-NOT:     call @fovea_parallel_for
func.func @nested(%y: memref<4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %one = arith.constant 1.0 : f32
  scf.for %r = %c0 to %c4 step %c1 {
    scf.forall (%i) in (8) {
      memref.store %one, %y[%r, %i] : memref<4x8xf32>
    }
  }
  return
}

// -----

// An scf.parallel (an op outside the fusion groups' loops, after
// convert-linalg-to-parallel-loops): its outer dimensions are spread, its
// innermost stays an scf.parallel inside each iteration. A one-dimensional
// one stays as it is.

// CHECK-LABEL: func.func @elementwise(
// CHECK:         call @fovea_parallel_for
// CHECK:         scf.parallel
// CHECK:         return
// CHECK-LABEL: func.func private @elementwise_loop0(
// CHECK:         %[[C1032:.*]] = arith.constant 1032 : index
// CHECK:         scf.for %[[I:.*]] =
// CHECK:           arith.remui %[[I]], %[[C1032]]
// CHECK:           scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step
// CHECK:             memref.load
// CHECK:             memref.store
func.func @elementwise(%x: memref<?x1032x16xf32>, %y: memref<?x1032x16xf32>, %v: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c1032 = arith.constant 1032 : index
  %zero = arith.constant 0.0 : f32
  %b = memref.dim %x, %c0 : memref<?x1032x16xf32>
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%b, %c1032, %c16) step (%c1, %c1, %c1) {
    %e = memref.load %x[%i, %j, %k] : memref<?x1032x16xf32>
    memref.store %e, %y[%i, %j, %k] : memref<?x1032x16xf32>
  }
  scf.parallel (%k) = (%c0) to (%c16) step (%c1) {
    memref.store %zero, %v[%k] : memref<16xf32>
  }
  return
}
