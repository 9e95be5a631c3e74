// The CPU pipeline lowers vision IR on tensors to the LLVM dialect only.
// RUN: fovea-opt %s --fovea-cpu-pipeline | FileCheck %s
// approximate-erf=false calls libm's erff instead of the polynomial.
// RUN: fovea-opt %s --fovea-cpu-pipeline="approximate-erf=false" | FileCheck %s --check-prefix=LIBM
// expand-bf16=false leaves the bf16 conversions to LLVM.
// RUN: fovea-opt %s --fovea-cpu-pipeline="expand-bf16=false" | FileCheck %s --check-prefix=NATIVE
// With lower-to-llvm=false it stops at bufferized loops.
// RUN: fovea-opt %s --fovea-cpu-pipeline="lower-to-llvm=false" | FileCheck %s --check-prefix=LOOPS

// CHECK-NOT: @erff
// CHECK-LABEL: llvm.func @block
// CHECK-NOT: vision.
// CHECK-NOT: linalg.
// CHECK-NOT: tensor.
// CHECK-NOT: memref.
// CHECK-NOT: scf.
// bf16 conversions are expanded to integer arithmetic.
// CHECK-NOT: fptrunc {{.*}} to bf16
// CHECK: llvm.func @_mlir_ciface_block

// LIBM: llvm.func @erff(f32) -> f32
// LIBM: llvm.call @erff

// NATIVE: llvm.fptrunc %{{.*}} : {{.*}}f32{{.*}} to {{.*}}bf16

// LOOPS-LABEL: func.func @block
// LOOPS-SAME: memref<?x8x32xbf16>
// LOOPS-NOT: linalg.
// LOOPS: memref.alloc
// The loops run on the module's threads (fovea-cpu-parallel-loops).
// LOOPS: call @fovea_parallel_for
// LOOPS: func.func private @block_loop
// LOOPS: scf.for
func.func @block(%x: tensor<?x8x32xbf16>, %w: tensor<32x32xbf16>, %b: tensor<32xbf16>) -> tensor<?x8x32xbf16>
    attributes {llvm.emit_c_interface} {
  %0 = vision.linear %x, %w, %b : (tensor<?x8x32xbf16>, tensor<32x32xbf16>, tensor<32xbf16>) -> tensor<?x8x32xbf16>
  %1 = vision.gelu %0 {approximation = #vision.gelu_approximation<none>} : tensor<?x8x32xbf16>
  %2 = arith.addf %x, %1 : tensor<?x8x32xbf16>
  return %2 : tensor<?x8x32xbf16>
}
