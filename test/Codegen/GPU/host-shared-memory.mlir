// RUN: fovea-opt %s --fovea-gpu-host-shared-memory | FileCheck %s

// Host buffers become managed memory the kernels can reach: allocations,
// frees (asynchronous, waited for) and constant tables (copied once into a
// managed buffer, freed at the end of the block). Kernel code is unchanged.
module attributes {gpu.container_module} {
  memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>

  // CHECK-LABEL: func.func @host(
  // CHECK-SAME: %[[N:.*]]: index
  func.func @host(%n: index) -> memref<4xf32> {
    // CHECK: %[[BUF:.*]] = gpu.alloc  host_shared (%[[N]]) : memref<?xf32>
    %buf = memref.alloc(%n) : memref<?xf32>
    // CHECK: %[[TABLE:.*]] = memref.get_global @table : memref<4xf32>
    // CHECK: %[[SHARED:.*]] = gpu.alloc  host_shared () : memref<4xf32>
    // CHECK: memref.copy %[[TABLE]], %[[SHARED]]
    %t = memref.get_global @table : memref<4xf32>
    // CHECK: %[[OUT:.*]] = gpu.alloc  host_shared () : memref<4xf32>
    %out = memref.alloc() : memref<4xf32>
    %c1 = arith.constant 1 : index
    // CHECK: gpu.launch_func @kernels::@k {{.*}} args(%[[SHARED]] : memref<4xf32>, %[[OUT]] : memref<4xf32>)
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%t : memref<4xf32>, %out : memref<4xf32>)
    // CHECK: %[[T0:.*]] = gpu.wait async
    // CHECK: %[[T1:.*]] = gpu.dealloc async [%[[T0]]] %[[BUF]]
    // CHECK: gpu.wait [%[[T1]]]
    // CHECK-NOT: memref.dealloc
    memref.dealloc %buf : memref<?xf32>
    // The table's copy is freed before the return; the result is not.
    // CHECK: gpu.dealloc async [%{{.*}}] %[[SHARED]]
    // CHECK-NOT: gpu.dealloc
    // CHECK: return %[[OUT]]
    return %out : memref<4xf32>
  }

  // CHECK: gpu.module @kernels
  // CHECK: memref.alloc() : memref<4xf32>
  // CHECK-NOT: gpu.alloc
  gpu.module @kernels {
    gpu.func @k(%a: memref<4xf32>, %b: memref<4xf32>) kernel {
      %tmp = memref.alloc() : memref<4xf32>
      gpu.return
    }
  }
}
