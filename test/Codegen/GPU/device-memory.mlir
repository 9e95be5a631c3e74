// RUN: fovea-opt %s --split-input-file --verify-diagnostics --fovea-gpu-device-memory | FileCheck %s

// Host buffers become device memory, frees device frees (made asynchronous
// by gpu-async-region later), and a constant table is fetched inside the
// kernel that reads it. Kernel code is unchanged.
module attributes {gpu.container_module} {
  memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>

  // CHECK-LABEL: func.func @host(
  // CHECK-SAME: %[[N:.*]]: index
  func.func @host(%n: index) -> memref<4xf32> {
    // CHECK-NOT: memref.get_global
    // CHECK: %[[BUF:.*]] = gpu.alloc  (%[[N]]) : memref<?xf32>
    %buf = memref.alloc(%n) : memref<?xf32>
    %t = memref.get_global @table : memref<4xf32>
    // CHECK: %[[OUT:.*]] = gpu.alloc  () : memref<4xf32>
    %out = memref.alloc() : memref<4xf32>
    %c1 = arith.constant 1 : index
    // CHECK: gpu.launch
    gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
               threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
      // CHECK: %[[T:.*]] = memref.get_global @table : memref<4xf32>
      // CHECK: memref.load %[[T]]
      %e = memref.load %t[%tx] : memref<4xf32>
      // CHECK: memref.store {{.*}}, %[[OUT]]
      memref.store %e, %out[%tx] : memref<4xf32>
      // Kernel-private buffers stay as they are.
      // CHECK: memref.alloca
      %tmp = memref.alloca() : memref<4xf32>
      gpu.terminator
    }
    // CHECK: gpu.dealloc  %[[BUF]] : memref<?xf32>
    // CHECK-NOT: memref.dealloc
    memref.dealloc %buf : memref<?xf32>
    // Views of device buffers are fine on the host.
    // CHECK: memref.subview %[[BUF]]
    %view = memref.subview %buf[0] [2] [1] : memref<?xf32> to memref<2xf32, strided<[1]>>
    // CHECK: return %[[OUT]]
    return %out : memref<4xf32>
  }
}

// -----

// The host must not read or write a buffer.
func.func @host_load(%n: index) -> f32 {
  %buf = memref.alloc(%n) : memref<?xf32>
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{'memref.load' op reads or writes a buffer in host code; on the GPU every buffer is device memory, so this must run in a kernel}}
  %v = memref.load %buf[%c0] : memref<?xf32>
  return %v : f32
}

// -----

func.func @host_copy(%a: memref<4xf32>, %b: memref<4xf32>) {
  // expected-error @+1 {{'memref.copy' op reads or writes a buffer in host code}}
  memref.copy %a, %b : memref<4xf32> to memref<4xf32>
  return
}

// -----

memref.global "private" constant @table : memref<4xf32> = dense<1.0>

// A constant table the host itself reads.
func.func @host_table() -> memref<4xf32> {
  %t = memref.get_global @table : memref<4xf32>
  // expected-error @+1 {{'func.return' op uses the constant @table in host code; on the GPU it must be read by a kernel}}
  return %t : memref<4xf32>
}
