// RUN: fovea-opt %s --fovea-outline-layers --split-input-file --verify-diagnostics | FileCheck %s

// Three equal layers: one callee, three calls. A layer's range runs from its
// first to its last loop or call, so the buffers allocated before it and
// freed after it stay in @run and are passed in. Live-ins become arguments
// in the order of first use; constants are cloned into the callee.
// CHECK-LABEL: func.func @run(
// CHECK-SAME: %[[X:[^:]+]]: memref<8xf32>, %[[W0:[^:]+]]: memref<8xf32>, %[[W1:[^:]+]]: memref<8xf32>, %[[W2:[^:]+]]: memref<8xf32>
// CHECK: %[[A:.*]] = memref.alloc() : memref<8xf32>
// CHECK: memref.copy %[[X]], %[[A]]
// CHECK-NEXT: %[[B:.*]] = memref.alloc()
// CHECK-NEXT: call @run_layer(%[[A]], %[[W0]], %[[B]]) : (memref<8xf32>, memref<8xf32>, memref<8xf32>) -> ()
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK-NEXT: %[[C:.*]] = memref.alloc()
// CHECK-NEXT: call @run_layer(%[[B]], %[[W1]], %[[C]])
// CHECK-NEXT: memref.dealloc %[[B]]
// CHECK-NEXT: %[[D:.*]] = memref.alloc()
// CHECK-NEXT: call @run_layer(%[[C]], %[[W2]], %[[D]])
// CHECK-NEXT: memref.dealloc %[[C]]
// CHECK-NEXT: return %[[D]]
// CHECK: func.func private @run_layer(%[[IN:[^:]+]]: memref<8xf32>, %[[W:[^:]+]]: memref<8xf32>, %[[OUT:[^:]+]]: memref<8xf32>) attributes {passthrough = ["noinline"]}
// CHECK-DAG: arith.constant 0 : index
// CHECK-DAG: arith.constant 8 : index
// CHECK-DAG: arith.constant 1 : index
// CHECK: scf.for
// CHECK: memref.load %[[IN]]
// CHECK: memref.load %[[W]]
// CHECK: memref.store {{.*}}, %[[OUT]]
// CHECK: return
// CHECK-NOT: func.func
#in = loc("model":0:0)
func.func @run(%x: memref<8xf32>, %w0: memref<8xf32>, %w1: memref<8xf32>, %w2: memref<8xf32>) -> memref<8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %a = memref.alloc() : memref<8xf32>
  memref.copy %x, %a : memref<8xf32> to memref<8xf32>
  %b = memref.alloc() : memref<8xf32> loc("blocks.0"(#in))
  scf.for %i = %c0 to %c8 step %c1 {
    %u = memref.load %a[%i] : memref<8xf32>
    %v = memref.load %w0[%i] : memref<8xf32>
    %s = arith.addf %u, %v : f32
    memref.store %s, %b[%i] : memref<8xf32>
  } loc("blocks.0"(#in))
  memref.dealloc %a : memref<8xf32> loc("blocks.0"(#in))
  %c = memref.alloc() : memref<8xf32> loc("blocks.1"(#in))
  scf.for %i = %c0 to %c8 step %c1 {
    %u = memref.load %b[%i] : memref<8xf32>
    %v = memref.load %w1[%i] : memref<8xf32>
    %s = arith.addf %u, %v : f32
    memref.store %s, %c[%i] : memref<8xf32>
  } loc("blocks.1"(#in))
  memref.dealloc %b : memref<8xf32> loc("blocks.1"(#in))
  %d = memref.alloc() : memref<8xf32> loc("blocks.2"(#in))
  scf.for %i = %c0 to %c8 step %c1 {
    %u = memref.load %c[%i] : memref<8xf32>
    %v = memref.load %w2[%i] : memref<8xf32>
    %s = arith.addf %u, %v : f32
    memref.store %s, %d[%i] : memref<8xf32>
  } loc("blocks.2"(#in))
  memref.dealloc %c : memref<8xf32> loc("blocks.2"(#in))
  return %d : memref<8xf32>
}

// -----

// Layer 1 multiplies where layers 0 and 2 add: 0 and 2 become the callee,
// 1 stays inline. A value computed in a layer and used after it is
// returned.
// CHECK-LABEL: func.func @run(
// CHECK: %[[S0:.*]] = call @run_layer(
// CHECK: scf.for
// CHECK: arith.mulf
// CHECK: %[[S2:.*]] = call @run_layer(
// CHECK: arith.addi %[[S0]], %[[S2]]
// CHECK: func.func private @run_layer({{.*}}) -> index
// CHECK: arith.addf
// CHECK: memref.dim
// CHECK: return
#in = loc("model":0:0)
func.func @run(%x: memref<8xf32>, %y: memref<8xf32>, %z: memref<8xf32>) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c8 step %c1 {
    %u = memref.load %x[%i] : memref<8xf32>
    %s = arith.addf %u, %u : f32
    memref.store %s, %y[%i] : memref<8xf32>
  } loc("blocks.0"(#in))
  %n0 = memref.dim %y, %c0 : memref<8xf32> loc("blocks.0"(#in))
  call @sink(%n0) : (index) -> () loc("blocks.0"(#in))
  scf.for %i = %c0 to %c8 step %c1 {
    %u = memref.load %y[%i] : memref<8xf32>
    %s = arith.mulf %u, %u : f32
    memref.store %s, %z[%i] : memref<8xf32>
  } loc("blocks.1"(#in))
  scf.for %i = %c0 to %c8 step %c1 {
    %u = memref.load %z[%i] : memref<8xf32>
    %s = arith.addf %u, %u : f32
    memref.store %s, %x[%i] : memref<8xf32>
  } loc("blocks.2"(#in))
  %n2 = memref.dim %x, %c0 : memref<8xf32> loc("blocks.2"(#in))
  call @sink(%n2) : (index) -> () loc("blocks.2"(#in))
  %r = arith.addi %n0, %n2 : index
  return %r : index
}
func.func private @sink(index)

// -----

// The two layers' ranges overlap (a loop of layer 0 after one of layer 1):
// nothing is outlined.
// CHECK-LABEL: func.func @run(
// CHECK-NOT: call @run_layer
// CHECK: return
#in = loc("model":0:0)
func.func @run(%x: memref<8xf32>, %y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c8 step %c1 {
    %u = memref.load %x[%i] : memref<8xf32>
    memref.store %u, %y[%i] : memref<8xf32>
  } loc("blocks.0"(#in))
  scf.for %i = %c0 to %c8 step %c1 {
    %u = memref.load %y[%i] : memref<8xf32>
    memref.store %u, %x[%i] : memref<8xf32>
  } loc("blocks.1"(#in))
  scf.for %i = %c0 to %c8 step %c1 {
    %u = memref.load %x[%i] : memref<8xf32>
    memref.store %u, %y[%i] : memref<8xf32>
  } loc("blocks.0"(#in))
  scf.for %i = %c0 to %c8 step %c1 {
    %u = memref.load %y[%i] : memref<8xf32>
    memref.store %u, %x[%i] : memref<8xf32>
  } loc("blocks.1"(#in))
  return
}

// -----

// The callee's name is taken: an error, and the module is left as it was.
#in = loc("model":0:0)
// expected-error @+1 {{cannot outline the layers of @run: @run_layer already exists}}
func.func @run(%x: memref<8xf32>, %y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c8 step %c1 {
    %u = memref.load %x[%i] : memref<8xf32>
    memref.store %u, %y[%i] : memref<8xf32>
  } loc("blocks.0"(#in))
  scf.for %i = %c0 to %c8 step %c1 {
    %u = memref.load %y[%i] : memref<8xf32>
    memref.store %u, %x[%i] : memref<8xf32>
  } loc("blocks.1"(#in))
  return
}
func.func private @run_layer()
