// RUN: fovea-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(fovea-gpu-tile-parallel-loops{block-size=128}))" | FileCheck %s
// RUN: not fovea-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(fovea-gpu-tile-parallel-loops{block-size=2048}))" 2>&1 | FileCheck %s --check-prefix=SIZE

// A 2-D elementwise nest: blocks over (innermost / 128, rows), 128 threads
// along the contiguous dimension, a guard for the tail.
// CHECK-LABEL: func.func @add(
// CHECK-SAME: %[[A:[a-z0-9]+]]: memref<6x300xf32>, %[[B:[a-z0-9]+]]: memref<6x300xf32>, %[[C:[a-z0-9]+]]: memref<6x300xf32>
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C6:.*]] = arith.constant 6 : index
// CHECK-DAG: %[[C300:.*]] = arith.constant 300 : index
// CHECK-DAG: %[[T:.*]] = arith.constant 128 : index
// CHECK: %[[BLOCKS:.*]] = arith.ceildivsi %{{.*}}, %[[T]] : index
// CHECK: scf.parallel (%[[BLK:.*]], %[[I:.*]]) = (%{{.*}}, %[[C0]]) to (%[[BLOCKS]], %[[C6]])
// CHECK: scf.parallel (%[[TID:.*]]) = (%{{.*}}) to (%[[T]])
// CHECK: %[[BASE:.*]] = arith.muli %[[BLK]], %[[T]] : index
// CHECK: %[[LINEAR:.*]] = arith.addi %[[BASE]], %[[TID]] : index
// CHECK: %[[J:.*]] = arith.addi %[[C0]], %{{.*}} : index
// CHECK: %[[IN:.*]] = arith.cmpi slt, %[[J]], %[[C300]] : index
// CHECK: scf.if %[[IN]] {
// CHECK: memref.load %[[A]][%[[I]], %[[J]]]
// CHECK: memref.store %{{.*}}, %[[C]][%[[I]], %[[J]]]
// CHECK: } {mapping = [#gpu.loop_dim_map<processor = thread_x
// CHECK: } {mapping = [#gpu.loop_dim_map<processor = block_x, {{.*}}>, #gpu.loop_dim_map<processor = block_y, {{.*}}>]}
func.func @add(%a: memref<6x300xf32>, %b: memref<6x300xf32>, %c: memref<6x300xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c6 = arith.constant 6 : index
  %c300 = arith.constant 300 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c6, %c300) step (%c1, %c1) {
    %x = memref.load %a[%i, %j] : memref<6x300xf32>
    %y = memref.load %b[%i, %j] : memref<6x300xf32>
    %z = arith.addf %x, %y : f32
    memref.store %z, %c[%i, %j] : memref<6x300xf32>
    scf.reduce
  }
  return
}

// -----

// A nest with a reduction is not a kernel of this pass: it is left alone.
// CHECK-LABEL: func.func @sum
// CHECK: scf.parallel
// CHECK-NOT: mapping
// CHECK: return
func.func @sum(%a: memref<300xf32>, %init: f32) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c300 = arith.constant 300 : index
  %r = scf.parallel (%i) = (%c0) to (%c300) step (%c1) init (%init) -> f32 {
    %x = memref.load %a[%i] : memref<300xf32>
    scf.reduce(%x : f32) {
    ^bb0(%l: f32, %r2: f32):
      %s = arith.addf %l, %r2 : f32
      scf.reduce.return %s : f32
    }
  }
  return %r : f32
}

// SIZE: error: block-size must be in [1, 1024], got 2048
