// RUN: fovea-opt %s --fovea-cpu-call-attention --canonicalize | FileCheck %s

// q, k and v are read as buffers of any strides; their nine strides go
// through a stack array; the call gets the addresses, batch, tokens (18),
// heads (2), head dim (32), the strides' address and the scale; the result
// is the fresh buffer as a tensor.
// CHECK: func.func private @fovea_attention_bf16(i64, i64, i64, i64, i64, i64, i64, i64, i64, f64)
// CHECK-LABEL: func.func @bf16
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 0.17677669529663687 : f64
// CHECK-DAG: %[[L:.*]] = arith.constant 18 : i64
// CHECK-DAG: %[[H:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[D:.*]] = arith.constant 32 : i64
// CHECK: %[[Q:.*]] = bufferization.to_buffer %arg0 read_only : tensor<?x18x64xbf16> to memref<?x18x64xbf16, strided<[?, ?, ?], offset: ?>>
// CHECK: bufferization.to_buffer %arg1 read_only
// CHECK: bufferization.to_buffer %arg2 read_only
// CHECK: %[[OUT:.*]] = memref.alloc(%{{.*}}) : memref<?x18x64xbf16>
// CHECK: %[[STRIDES:.*]] = memref.alloca() : memref<9xindex>
// CHECK-COUNT-9: memref.store %{{.*}}, %[[STRIDES]]
// CHECK: call @fovea_attention_bf16(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[L]], %[[H]], %[[D]], %{{.*}}, %[[SCALE]])
// CHECK: %[[R:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: return %[[R]]
func.func @bf16(%q: tensor<?x18x64xbf16>, %k: tensor<?x18x64xbf16>, %v: tensor<?x18x64xbf16>) -> tensor<?x18x64xbf16> {
  %0 = vision.attention %q, %k, %v {num_heads = 2 : i64, scale = 0.17677669529663687 : f64} : (tensor<?x18x64xbf16>, tensor<?x18x64xbf16>, tensor<?x18x64xbf16>) -> tensor<?x18x64xbf16>
  return %0 : tensor<?x18x64xbf16>
}

// CHECK-LABEL: func.func @f32
// CHECK: call @fovea_attention_f32
func.func @f32(%q: tensor<2x18x64xf32>) -> tensor<2x18x64xf32> {
  %0 = vision.attention %q, %q, %q {num_heads = 2 : i64, scale = 0.125 : f64} : (tensor<2x18x64xf32>, tensor<2x18x64xf32>, tensor<2x18x64xf32>) -> tensor<2x18x64xf32>
  return %0 : tensor<2x18x64xf32>
}

// Packed images (cu_seqlens) and f16 keep the linalg lowering.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: call
// CHECK: vision.attention {{.*}} cu_seqlens
// CHECK: vision.attention
// CHECK-SAME: tensor<1x18x64xf16>
func.func @kept(%q: tensor<1x18x64xf32>, %cu: tensor<3xi32>, %h: tensor<1x18x64xf16>) -> (tensor<1x18x64xf32>, tensor<1x18x64xf16>) {
  %0 = vision.attention %q, %q, %q cu_seqlens(%cu) {num_heads = 2 : i64, scale = 0.125 : f64} : (tensor<1x18x64xf32>, tensor<1x18x64xf32>, tensor<1x18x64xf32>, tensor<3xi32>) -> tensor<1x18x64xf32>
  %1 = vision.attention %h, %h, %h {num_heads = 2 : i64, scale = 0.125 : f64} : (tensor<1x18x64xf16>, tensor<1x18x64xf16>, tensor<1x18x64xf16>) -> tensor<1x18x64xf16>
  return %0, %1 : tensor<1x18x64xf32>, tensor<1x18x64xf16>
}
