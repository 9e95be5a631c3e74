// RUN: fovea-opt %s --pass-pipeline='builtin.module(func.func(vision-fuse-residual-norm))' | FileCheck %s

// An ungrouped residual add joins its norm; the group returns both the sum
// (the residual stream) and the normalized rows.
// CHECK-LABEL: func.func @residual_norm
func.func @residual_norm(%x: tensor<?x18x64xbf16>, %o: tensor<?x18x64xbf16>,
                         %g: tensor<64xbf16> {vision.weight = "vision_model.radio_model.model.blocks.0.norm2.weight"},
                         %b: tensor<64xbf16>) -> (tensor<?x18x64xbf16>, tensor<?x18x64xbf16>) {
  // CHECK: %[[G:.*]]:2 = vision.fusion_group "blocks.0.norm2" rule = <residual_norm> -> tensor<?x18x64xbf16>, tensor<?x18x64xbf16> {
  // CHECK-NEXT: %[[S:.*]] = arith.addf
  // CHECK-NEXT: %[[N:.*]] = vision.layer_norm %[[S]]
  // CHECK-NEXT: vision.yield %[[S]], %[[N]]
  // CHECK: return %[[G]]#0, %[[G]]#1
  %s = arith.addf %x, %o : tensor<?x18x64xbf16>
  %n = vision.layer_norm %s, %g, %b {epsilon = 1.0e-06 : f64} : (tensor<?x18x64xbf16>, tensor<64xbf16>, tensor<64xbf16>) -> tensor<?x18x64xbf16>
  return %s, %n : tensor<?x18x64xbf16>, tensor<?x18x64xbf16>
}

// A norm whose input comes from a matmul epilogue group is grouped alone;
// the RMSNorm of the projector too.
// CHECK-LABEL: func.func @alone
func.func @alone(%x: tensor<?x18x64xbf16>, %g: tensor<64xbf16>, %w: tensor<64x64xbf16>,
                 %r: tensor<64xbf16> {vision.weight = "mlp1.0.weight"}) -> (tensor<?x18x64xbf16>, tensor<?x18x64xbf16>) {
  %e = vision.fusion_group "proj" rule = <matmul_epilogue> -> tensor<?x18x64xbf16> {
    %l = vision.linear %x, %w : (tensor<?x18x64xbf16>, tensor<64x64xbf16>) -> tensor<?x18x64xbf16>
    %s = arith.addf %x, %l : tensor<?x18x64xbf16>
    vision.yield %s : tensor<?x18x64xbf16>
  }
  // CHECK: vision.fusion_group "residual_norm" rule = <residual_norm> -> tensor<?x18x64xbf16> {
  // CHECK-NEXT: vision.layer_norm
  // CHECK-NEXT: vision.yield
  // CHECK: vision.fusion_group "mlp1.0" rule = <residual_norm> -> tensor<?x18x64xbf16> {
  // CHECK-NEXT: vision.rms_norm
  // CHECK-NEXT: vision.yield
  %n = vision.layer_norm %e, %g, %g {epsilon = 1.0e-06 : f64} : (tensor<?x18x64xbf16>, tensor<64xbf16>, tensor<64xbf16>) -> tensor<?x18x64xbf16>
  %m = vision.rms_norm %e, %r {epsilon = 1.0e-05 : f64, weight_order = #vision.weight_order<cast_then_scale>} : (tensor<?x18x64xbf16>, tensor<64xbf16>) -> tensor<?x18x64xbf16>
  return %n, %m : tensor<?x18x64xbf16>, tensor<?x18x64xbf16>
}
