// RUN: fovea-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(fovea-gpu-flash-attention))" | FileCheck %s
// RUN: fovea-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(fovea-gpu-flash-attention{emulate-warps=true}))" | FileCheck %s --check-prefix=EMU

// bf16 attention with head dim 80 becomes one tensor-core kernel: 64 query
// rows (4 warps of 16) per block, one block per (row block, head, batch row).
// CHECK-LABEL: func.func @radio
// CHECK-SAME: (%[[Q:.*]]: tensor<2x40x160xbf16>, %[[K:.*]]: tensor<2x40x160xbf16>, %[[V:.*]]: tensor<2x40x160xbf16>)
// CHECK-NOT: vision.attention
// CHECK-DAG: bufferization.to_buffer %[[Q]]
// CHECK-DAG: bufferization.to_buffer %[[K]]
// CHECK-DAG: bufferization.to_buffer %[[V]]
// CHECK: gpu.launch
// CHECK: nvvm.mma.sync
// CHECK: gpu.shuffle
// CHECK: nvvm.mma.sync
// CHECK: gpu.terminator
// CHECK: bufferization.to_tensor {{.*}}restrict
// CHECK-NOT: vision.attention
// The emulation builds the same kernel as host loops: no launch, no mma.sync.
// EMU-LABEL: func.func @radio
// EMU-NOT: gpu.launch
// EMU-NOT: nvvm.mma.sync
// EMU: scf.for
// EMU-NOT: vision.attention
// EMU: return
func.func @radio(%q: tensor<2x40x160xbf16>, %k: tensor<2x40x160xbf16>, %v: tensor<2x40x160xbf16>) -> tensor<2x40x160xbf16> {
  %0 = vision.attention %q, %k, %v {num_heads = 2 : i64, scale = 0.11180339887498948 : f64} : (tensor<2x40x160xbf16>, tensor<2x40x160xbf16>, tensor<2x40x160xbf16>) -> tensor<2x40x160xbf16>
  return %0 : tensor<2x40x160xbf16>
}

// -----

// f32 attention, and packed (cu_seqlens) attention, stay for the loop
// kernels.
// CHECK-LABEL: func.func @f32
// CHECK: vision.attention
// CHECK-NOT: gpu.launch
func.func @f32(%q: tensor<1x40x160xf32>) -> tensor<1x40x160xf32> {
  %0 = vision.attention %q, %q, %q {num_heads = 2 : i64, scale = 0.11180339887498948 : f64} : (tensor<1x40x160xf32>, tensor<1x40x160xf32>, tensor<1x40x160xf32>) -> tensor<1x40x160xf32>
  return %0 : tensor<1x40x160xf32>
}

// CHECK-LABEL: func.func @packed
// CHECK: vision.attention {{.*}} cu_seqlens
// CHECK-NOT: gpu.launch
func.func @packed(%q: tensor<1x40x160xbf16>, %cu: tensor<3xi32>) -> tensor<1x40x160xbf16> {
  %0 = vision.attention %q, %q, %q cu_seqlens(%cu) {num_heads = 2 : i64, scale = 0.11180339887498948 : f64} : (tensor<1x40x160xbf16>, tensor<1x40x160xbf16>, tensor<1x40x160xbf16>, tensor<3xi32>) -> tensor<1x40x160xbf16>
  return %0 : tensor<1x40x160xbf16>
}
