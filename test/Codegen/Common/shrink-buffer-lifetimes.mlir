// RUN: fovea-opt %s --fovea-shrink-buffer-lifetimes --split-input-file | FileCheck %s

// A view's readers are the buffer's readers: %a is freed after the loop
// that reads it through its expand_shape, not after the expand_shape.
// CHECK-LABEL: func.func @through_a_view
// CHECK: %[[A:.*]] = memref.alloc
// CHECK: %[[V:.*]] = memref.expand_shape %[[A]]
// CHECK: %[[B:.*]] = memref.alloc
// CHECK: scf.for
// CHECK: memref.load %[[V]]
// CHECK: }
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK: call @sink
// CHECK: memref.dealloc %[[B]]
// CHECK-NEXT: return
func.func private @sink(memref<4x2xf32>)
func.func @through_a_view(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %a = memref.alloc() : memref<8xf32>
  %v = memref.expand_shape %a [[0, 1]] output_shape [4, 2] : memref<8xf32> into memref<4x2xf32>
  %b = memref.alloc() : memref<4x2xf32>
  scf.for %i = %c0 to %c1 step %c1 {
    %x = memref.load %v[%i, %i] : memref<4x2xf32>
    memref.store %x, %b[%i, %i] : memref<4x2xf32>
  }
  call @sink(%b) : (memref<4x2xf32>) -> ()
  memref.dealloc %a : memref<8xf32>
  memref.dealloc %b : memref<4x2xf32>
  return
}

// -----

// The address a runtime call takes (metadata, pointer, offset, cast) and
// an address stored into memory the call reads both keep the buffer alive
// until the call; a size taken from it (memref.dim) is a use, but what is
// computed from the size (%c) is not.
// CHECK-LABEL: func.func @through_addresses
// CHECK: %[[A:.*]] = memref.alloc(%arg0)
// CHECK: call @kernel
// CHECK: %[[B:.*]] = memref.alloc(%arg0)
// CHECK: call @table
// CHECK-NEXT: memref.dealloc %[[B]]
// CHECK-NEXT: %[[D:.*]] = memref.dim %[[A]]
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK-NEXT: %[[C:.*]] = memref.alloc(%[[D]])
// CHECK-NEXT: memref.dealloc %[[C]]
// CHECK: return
func.func private @kernel(i64)
func.func private @table(i64)
func.func @through_addresses(%n: index) {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %a = memref.alloc(%n) : memref<?x16xf32>
  %b = memref.alloc(%n) : memref<?x16xf32>
  %base, %offset, %sizes:2, %strides:2 = memref.extract_strided_metadata %a : memref<?x16xf32> -> memref<f32>, index, index, index, index, index
  %p = memref.extract_aligned_pointer_as_index %base : memref<f32> -> index
  %q = arith.addi %p, %c64 : index
  %i = arith.index_cast %q : index to i64
  call @kernel(%i) : (i64) -> ()
  %slots = memref.alloca() : memref<1xindex>
  %pb = memref.extract_aligned_pointer_as_index %b : memref<?x16xf32> -> index
  memref.store %pb, %slots[%c0] : memref<1xindex>
  %ps = memref.extract_aligned_pointer_as_index %slots : memref<1xindex> -> index
  %is = arith.index_cast %ps : index to i64
  call @table(%is) : (i64) -> ()
  %d = memref.dim %a, %c0 : memref<?x16xf32>
  %c = memref.alloc(%d) : memref<?x16xf32>
  memref.dealloc %a : memref<?x16xf32>
  memref.dealloc %b : memref<?x16xf32>
  memref.dealloc %c : memref<?x16xf32>
  return
}

// -----

// A buffer that leaves the function (returned through a view) keeps its
// deallocation where it is, as does one freed inside a loop; floats loaded
// from a buffer do not extend it.
// CHECK-LABEL: func.func @left_alone
// CHECK: %[[A:.*]] = memref.alloc
// CHECK: %[[B:.*]] = memref.alloc
// CHECK: %[[X:.*]] = memref.load %[[B]]
// CHECK-NEXT: memref.dealloc %[[B]]
// CHECK: scf.for
// CHECK: memref.alloc
// CHECK: memref.dealloc
// CHECK: }
// CHECK: memref.dealloc %[[A]]
// CHECK-NEXT: return
func.func @left_alone(%n: index) -> (memref<4xf32>, f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = memref.alloc() : memref<8xf32>
  %b = memref.alloc() : memref<8xf32>
  %x = memref.load %b[%c0] : memref<8xf32>
  %y = arith.addf %x, %x : f32
  scf.for %i = %c0 to %n step %c1 {
    %t = memref.alloc() : memref<8xf32>
    memref.store %y, %t[%i] : memref<8xf32>
    memref.dealloc %t : memref<8xf32>
  }
  %v = memref.subview %a[0] [4] [1] : memref<8xf32> to memref<4xf32>
  %r = memref.cast %v : memref<4xf32> to memref<4xf32>
  memref.dealloc %b : memref<8xf32>
  memref.dealloc %a : memref<8xf32>
  return %r, %y : memref<4xf32>, f32
}

// -----

// Allocations made early (CSE'd empties at the top of a function) move down
// to their first use: %b is allocated after %a is freed.
// CHECK-LABEL: func.func @allocated_at_first_use
// CHECK: %[[A:.*]] = memref.alloc(%arg0)
// CHECK-NEXT: linalg.fill {{.*}} outs(%[[A]]
// CHECK-NEXT: call @use(%[[A]])
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK-NEXT: %[[B:.*]] = memref.alloc(%arg0)
// CHECK-NEXT: linalg.fill {{.*}} outs(%[[B]]
// CHECK-NEXT: call @use(%[[B]])
// CHECK-NEXT: memref.dealloc %[[B]]
// CHECK-NEXT: return
func.func private @use(memref<?xf32>)
func.func @allocated_at_first_use(%n: index) {
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc(%n) : memref<?xf32>
  %b = memref.alloc(%n) : memref<?xf32>
  linalg.fill ins(%zero : f32) outs(%a : memref<?xf32>)
  call @use(%a) : (memref<?xf32>) -> ()
  linalg.fill ins(%zero : f32) outs(%b : memref<?xf32>)
  call @use(%b) : (memref<?xf32>) -> ()
  memref.dealloc %a : memref<?xf32>
  memref.dealloc %b : memref<?xf32>
  return
}
