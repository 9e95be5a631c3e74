// RUN: fovea-opt %s --fovea-gpu-pipeline="lower-to-llvm=false" | FileCheck %s
// RUN: fovea-opt %s --fovea-gpu-pipeline | FileCheck %s --check-prefix=LLVM

// One normalize + one linear: each loop nest becomes a kernel of
// 256-thread blocks along the innermost dimension, buffers the host touches
// are managed memory, and the kernels end up as PTX for sm_90a.

// CHECK-LABEL: func.func @run(
// CHECK: %[[N:.*]] = memref.dim %arg0
// CHECK: %[[X:.*]] = gpu.alloc host_shared (%[[N]]) : memref<?x3x4x8xf32>
// normalize: 8 columns in one block of 256 threads; rows, channels on y, z.
// CHECK: gpu.launch_func @run_kernel::@run_kernel blocks in (%c1, %c4, %c3) threads in (%c256, %c1, %c1)
// CHECK: gpu.alloc host_shared ({{.*}}) : memref<?x64xf32>
// CHECK: gpu.launch_func
// The matmul: one thread per output element, threads along the 64 output
// columns, rows on block_y, the reduction sequential in each thread.
// CHECK: gpu.launch_func @run_kernel_2::@run_kernel blocks in (%c1, %[[M:.*]], %c1) threads in (%c256, %c1, %c1)
// The temporary is freed on a stream, then waited for.
// CHECK: %[[T:.*]] = gpu.wait async
// CHECK: %[[D:.*]] = gpu.dealloc async [%[[T]]] %[[X]]
// CHECK: gpu.wait [%[[D]]]
// CHECK: return

// CHECK: gpu.module @run_kernel
// CHECK: gpu.func @run_kernel({{.*}}) kernel
// CHECK-DAG: gpu.block_id x
// CHECK-DAG: gpu.thread_id x
// CHECK: scf.if
// CHECK: unrealized_conversion_cast {{.*}} : ui8 to i8

// LLVM: llvm.func @run(
// LLVM: gpu.launch_func @run_kernel::@run_kernel
// LLVM: gpu.binary @run_kernel [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">, {{.*}}assembly = "{{.*}}.target sm_90a

func.func @run(%pixels: tensor<?x3x4x8xui8>, %w: tensor<64x96xf32>) -> tensor<?x64xf32> {
  %x = vision.normalize %pixels {mean = array<f32: 0.5, 0.5, 0.5>, std = array<f32: 0.25, 0.25, 0.25>}
      : tensor<?x3x4x8xui8> -> tensor<?x3x4x8xf32>
  %rows = tensor.collapse_shape %x [[0], [1, 2, 3]] : tensor<?x3x4x8xf32> into tensor<?x96xf32>
  %y = vision.linear %rows, %w : (tensor<?x96xf32>, tensor<64x96xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}
