// RUN: fovea-opt %s --pass-pipeline='builtin.module(func.func(vision-fold-input-normalization))' | FileCheck %s

// bf16: the normalization keeps x / 255 (mean 0, std 1) and is no longer
// rounded to bf16; the weight's columns are scaled by 1 / std of their
// channel (columns 0..3 channel 0, 4..7 channel 1, 8..11 channel 2) in f32;
// the f32 bias W (-mean / std) becomes the embedding's bias; the embedding
// runs in f32 and its result is rounded once to bf16.
// CHECK-LABEL: func.func @patch_bf16
// CHECK-SAME: %[[PX:[a-z0-9]+]]: tensor<?x3x4x4xui8>, %[[W:[a-z0-9]+]]: tensor<8x12xbf16>
// CHECK: %[[WF:.*]] = arith.extf %[[W]] : tensor<8x12xbf16> to tensor<8x12xf32>
// CHECK: %[[INV:.*]] = arith.constant dense<[4.000000e+00, 4.000000e+00, 4.000000e+00, 4.000000e+00, 2.000000e+00, 2.000000e+00, 2.000000e+00, 2.000000e+00, 5.000000e-01, 5.000000e-01, 5.000000e-01, 5.000000e-01]> : tensor<12xf32>
// CHECK: %[[SB:.*]] = linalg.broadcast ins(%[[INV]] : tensor<12xf32>) outs(%{{.*}} : tensor<8x12xf32>) dimensions = [0]
// CHECK: %[[W2:.*]] = arith.mulf %[[WF]], %[[SB]] : tensor<8x12xf32>
// CHECK-DAG: %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<8xf32>
// CHECK-DAG: %[[SH:.*]] = arith.constant dense<[-2.000000e+00, -2.000000e+00, -2.000000e+00, -2.000000e+00, -5.000000e-01, -5.000000e-01, -5.000000e-01, -5.000000e-01, -5.000000e-01, -5.000000e-01, -5.000000e-01, -5.000000e-01]> : tensor<12xf32>
// CHECK: %[[C:.*]] = linalg.matvec ins(%[[WF]], %[[SH]] : tensor<8x12xf32>, tensor<12xf32>) outs(%[[Z]] : tensor<8xf32>)
// CHECK: %[[N:.*]] = vision.normalize %[[PX]] {mean = array<f32: 0.000000e+00, 0.000000e+00, 0.000000e+00>, std = array<f32: 1.000000e+00, 1.000000e+00, 1.000000e+00>}
// CHECK-NEXT: %[[E:.*]] = vision.patch_embed %[[N]], %[[W2]], %[[C]] {patch_size = 2 : i64, vision.folded_weight = "embedder.weight"} : (tensor<?x3x4x4xf32>, tensor<8x12xf32>, tensor<8xf32>) -> tensor<?x4x8xf32>
// CHECK-NEXT: %[[R:.*]] = arith.truncf %[[E]] : tensor<?x4x8xf32> to tensor<?x4x8xbf16>
// CHECK-NEXT: return %[[R]]
func.func @patch_bf16(%px: tensor<?x3x4x4xui8>,
                      %w: tensor<8x12xbf16> {vision.weight = "embedder.weight"}) -> tensor<?x4x8xbf16> {
  %n = vision.normalize %px {mean = array<f32: 0.5, 0.25, 1.0>, std = array<f32: 0.25, 0.5, 2.0>} : tensor<?x3x4x4xui8> -> tensor<?x3x4x4xf32>
  %t = arith.truncf %n : tensor<?x3x4x4xf32> to tensor<?x3x4x4xbf16>
  %e = vision.patch_embed %t, %w {patch_size = 2 : i64} : (tensor<?x3x4x4xbf16>, tensor<8x12xbf16>) -> tensor<?x4x8xbf16>
  return %e : tensor<?x4x8xbf16>
}

// f32 tubelets with a bias of their own: no casts, and the bias is added
// to W (-mean / std). Tubelet columns run (t, c, yy, xx): the channel
// pattern repeats for each of the T = 2 frames.
// CHECK-LABEL: func.func @tubelet_f32_bias
// CHECK-SAME: %[[B:[a-z0-9]+]]: tensor<8xf32>
// CHECK-NOT: arith.extf
// CHECK-NOT: arith.truncf
// CHECK: %[[INV:.*]] = arith.constant dense<[4.000000e+00, 4.000000e+00, 4.000000e+00, 4.000000e+00, 2.000000e+00, 2.000000e+00, 2.000000e+00, 2.000000e+00, 5.000000e-01, 5.000000e-01, 5.000000e-01, 5.000000e-01, 4.000000e+00, 4.000000e+00, 4.000000e+00, 4.000000e+00, 2.000000e+00, 2.000000e+00, 2.000000e+00, 2.000000e+00, 5.000000e-01, 5.000000e-01, 5.000000e-01, 5.000000e-01]> : tensor<24xf32>
// CHECK: %[[MV:.*]] = linalg.matvec
// CHECK: %[[C:.*]] = arith.addf %[[MV]], %[[B]] : tensor<8xf32>
// CHECK: vision.tubelet_embed %{{.*}}, %{{.*}}, %[[C]] {patch_size = 2 : i64, temporal_patch_size = 2 : i64, vision.folded_weight = "w"}
func.func @tubelet_f32_bias(%px: tensor<?x3x4x4xf32>,
                            %w: tensor<8x24xf32> {vision.weight = "w"},
                            %b: tensor<8xf32> {vision.weight = "b"}) -> tensor<?x4x8xf32> {
  %n = vision.normalize %px {mean = array<f32: 0.5, 0.25, 1.0>, std = array<f32: 0.25, 0.5, 2.0>} : tensor<?x3x4x4xf32> -> tensor<?x3x4x4xf32>
  %e = vision.tubelet_embed %n, %w, %b {patch_size = 2 : i64, temporal_patch_size = 2 : i64} : (tensor<?x3x4x4xf32>, tensor<8x24xf32>, tensor<8xf32>) -> tensor<?x4x8xf32>
  return %e : tensor<?x4x8xf32>
}

// Left alone: a normalization read by something besides the embedding, and
// an embedding whose weight is not a weight.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: linalg.matvec
// CHECK: vision.normalize %{{.*}} {mean = array<f32: 5.000000e-01
// CHECK: vision.patch_embed %{{.*}}, %arg1 {patch_size
// CHECK: vision.normalize %{{.*}} {mean = array<f32: 5.000000e-01
// CHECK: vision.patch_embed %{{.*}}, %arg2 {patch_size
func.func @left_alone(%px: tensor<?x3x4x4xui8>,
                      %w: tensor<8x12xf32> {vision.weight = "w"},
                      %a: tensor<8x12xf32>) -> (tensor<?x3x4x4xf32>, tensor<?x4x8xf32>, tensor<?x4x8xf32>) {
  %n1 = vision.normalize %px {mean = array<f32: 0.5, 0.5, 0.5>, std = array<f32: 0.5, 0.5, 0.5>} : tensor<?x3x4x4xui8> -> tensor<?x3x4x4xf32>
  %e1 = vision.patch_embed %n1, %w {patch_size = 2 : i64} : (tensor<?x3x4x4xf32>, tensor<8x12xf32>) -> tensor<?x4x8xf32>
  %n2 = vision.normalize %px {mean = array<f32: 0.5, 0.5, 0.5>, std = array<f32: 0.5, 0.5, 0.5>} : tensor<?x3x4x4xui8> -> tensor<?x3x4x4xf32>
  %e2 = vision.patch_embed %n2, %a {patch_size = 2 : i64} : (tensor<?x3x4x4xf32>, tensor<8x12xf32>) -> tensor<?x4x8xf32>
  return %n1, %e1, %e2 : tensor<?x3x4x4xf32>, tensor<?x4x8xf32>, tensor<?x4x8xf32>
}
