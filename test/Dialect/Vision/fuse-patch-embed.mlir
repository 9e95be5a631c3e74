// RUN: fovea-opt %s --pass-pipeline='builtin.module(func.func(vision-fuse-patch-embed))' | FileCheck %s

// Normalization, cast, projection, position add (with its broadcast) and
// the prefix tokens form one group; the size query between them is pulled in
// and returned, the weight-only interpolation stays outside.
// CHECK-LABEL: func.func @patch_embed
func.func @patch_embed(%px: tensor<?x3x64x64xui8>, %w: tensor<64x768xbf16>, %pos: tensor<1x64x64xbf16>,
                       %cls: tensor<2x64xbf16>) -> (tensor<?x18x64xbf16>, index) {
  %c0 = arith.constant 0 : index
  // CHECK: vision.interp_pos_embed
  // CHECK: %[[G:.*]]:2 = vision.fusion_group "patch_embed" rule = <patch_embed> -> index, tensor<?x18x64xbf16> {
  // CHECK-NEXT: vision.normalize
  // CHECK-NEXT: arith.truncf
  // CHECK-NEXT: vision.patch_embed
  // CHECK-NEXT: tensor.dim
  // CHECK-NEXT: tensor.empty
  // CHECK-NEXT: linalg.broadcast
  // CHECK-NEXT: arith.addf
  // CHECK-NEXT: vision.prepend_tokens
  // CHECK-NEXT: vision.yield
  // CHECK: return %[[G]]#1, %[[G]]#0
  %n = vision.normalize %px {mean = array<f32: 0.5, 0.5, 0.5>, std = array<f32: 0.5, 0.5, 0.5>} : tensor<?x3x64x64xui8> -> tensor<?x3x64x64xf32>
  %t = arith.truncf %n : tensor<?x3x64x64xf32> to tensor<?x3x64x64xbf16>
  %e = vision.patch_embed %t, %w {patch_size = 16 : i64} : (tensor<?x3x64x64xbf16>, tensor<64x768xbf16>) -> tensor<?x16x64xbf16>
  %d = tensor.dim %e, %c0 : tensor<?x16x64xbf16>
  %i = vision.interp_pos_embed %pos {align_corners = false, grid = array<i64: 4, 4>} : tensor<1x64x64xbf16> -> tensor<1x16x64xbf16>
  %c = tensor.collapse_shape %i [[0, 1], [2]] : tensor<1x16x64xbf16> into tensor<16x64xbf16>
  %init = tensor.empty(%d) : tensor<?x16x64xbf16>
  %b = linalg.broadcast ins(%c : tensor<16x64xbf16>) outs(%init : tensor<?x16x64xbf16>) dimensions = [0]
  %s = arith.addf %e, %b : tensor<?x16x64xbf16>
  %p = vision.prepend_tokens %cls, %s : (tensor<2x64xbf16>, tensor<?x16x64xbf16>) -> tensor<?x18x64xbf16>
  return %p, %d : tensor<?x18x64xbf16>, index
}
