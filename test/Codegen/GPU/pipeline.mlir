// RUN: fovea-opt %s --fovea-gpu-pipeline="lower-to-llvm=false" | FileCheck %s
// RUN: fovea-opt %s --fovea-gpu-pipeline="gpu-binary=ptx" | FileCheck %s --check-prefix=LLVM

// One normalize + one linear: each loop nest becomes a kernel of
// 256-thread blocks along the innermost dimension, buffers are device
// memory, the run is one asynchronous chain (one stream, one wait at the
// end), and the kernels end up as PTX for sm_90a.

// The host keeps no copy of the normalization's constant tables.
// CHECK-NOT: memref.global
// CHECK-LABEL: func.func @run(
// CHECK: %[[N:.*]] = memref.dim %arg0
// CHECK: %[[S:.*]] = gpu.wait async
// CHECK-NOT: gpu.wait
// CHECK: %[[X:.*]], %[[T0:.*]] = gpu.alloc async [%[[S]]] (%[[N]]) : memref<?x3x4x8xf32>
// normalize: 8 columns in one block of 256 threads; rows, channels on y, z.
// CHECK: %[[T1:.*]] = gpu.launch_func async [%[[T0]]] @run_kernel::@run_kernel blocks in (%c1, %c4, %c3) threads in (%c256, %c1, %c1)
// CHECK: gpu.alloc async [%[[T1]]] ({{.*}}) : memref<?x64xf32>
// CHECK: gpu.launch_func async
// The matmul: one thread per output element, threads along the 64 output
// columns, rows on block_y, the reduction sequential in each thread.
// CHECK: %[[TM:.*]] = gpu.launch_func async [%{{.*}}] @run_kernel_2::@run_kernel blocks in (%c1, %[[M:.*]], %c1) threads in (%c256, %c1, %c1)
// The temporaries are freed on the stream; the host waits once.
// CHECK: %[[D:.*]] = gpu.dealloc async [%[[TM]]] %[[X]]
// CHECK: %[[D2:.*]] = gpu.dealloc async [%[[D]]]
// CHECK-NEXT: gpu.wait [%[[D2]]]
// CHECK-NEXT: return

// CHECK: gpu.module @run_kernel
// CHECK: gpu.func @run_kernel({{.*}}) kernel
// CHECK-DAG: gpu.block_id x
// CHECK-DAG: gpu.thread_id x
// CHECK: scf.if
// CHECK: unrealized_conversion_cast {{.*}} : ui8 to i8
// The kernel's module holds the constant tables it reads.
// CHECK: memref.global "private" constant @__constant_3xf32_0

// LLVM: llvm.func @run(
// LLVM: gpu.launch_func <%{{.*}} : !llvm.ptr> @run_kernel::@run_kernel
// LLVM: gpu.binary @run_kernel [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">, {{.*}}assembly = "{{.*}}.target sm_90a

func.func @run(%pixels: tensor<?x3x4x8xui8>, %w: tensor<64x96xf32>) -> tensor<?x64xf32> {
  %x = vision.normalize %pixels {mean = array<f32: 0.5, 0.5, 0.5>, std = array<f32: 0.25, 0.25, 0.25>}
      : tensor<?x3x4x8xui8> -> tensor<?x3x4x8xf32>
  %rows = tensor.collapse_shape %x [[0], [1, 2, 3]] : tensor<?x3x4x8xf32> into tensor<?x96xf32>
  %y = vision.linear %rows, %w : (tensor<?x96xf32>, tensor<64x96xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}
