// RUN: fovea-opt %s --pass-pipeline='builtin.module(func.func(vision-fold-norm-affine))' | FileCheck %s

// norm1 feeding qkv: the norm scales by 1 and shifts by 0; the linear takes
// W * g (g broadcast along W's rows) and c + W b (in f32, rounded once).
// CHECK-LABEL: func.func @into_linear
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x18x64xbf16>, %[[G:[a-z0-9]+]]: tensor<64xbf16>
// CHECK-SAME: %[[B:[a-z0-9]+]]: tensor<64xbf16>
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<192x64xbf16>
// CHECK-SAME: %[[C:[a-z0-9]+]]: tensor<192xbf16>
func.func @into_linear(%x: tensor<?x18x64xbf16>,
                       %g: tensor<64xbf16> {vision.weight = "g"},
                       %b: tensor<64xbf16> {vision.weight = "b"},
                       %w: tensor<192x64xbf16> {vision.weight = "w"},
                       %c: tensor<192xbf16> {vision.weight = "c"}) -> tensor<?x18x192xbf16> {
  // CHECK-DAG: %[[ONE:.*]] = arith.constant dense<1.000000e+00> : tensor<64xbf16>
  // CHECK-DAG: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : tensor<64xbf16>
  // CHECK: %[[N:.*]] = vision.layer_norm %[[X]], %[[ONE]], %[[ZERO]] {{.*}}vision.folded_weight = "g"
  // CHECK: %[[GB:.*]] = linalg.broadcast ins(%[[G]] : tensor<64xbf16>) outs(%{{.*}} : tensor<192x64xbf16>) dimensions = [0]
  // CHECK: %[[WG:.*]] = arith.mulf %[[W]], %[[GB]] : tensor<192x64xbf16>
  // CHECK-DAG: %[[WF:.*]] = arith.extf %[[W]] : tensor<192x64xbf16> to tensor<192x64xf32>
  // CHECK-DAG: %[[BF:.*]] = arith.extf %[[B]] : tensor<64xbf16> to tensor<64xf32>
  // CHECK-DAG: %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<192xf32>
  // The accumulator is a fresh zero tensor, never the bias argument.
  // CHECK: %[[MV:.*]] = linalg.matvec ins(%[[WF]], %[[BF]] : tensor<192x64xf32>, tensor<64xf32>) outs(%[[Z]] : tensor<192xf32>)
  // CHECK: %[[CF:.*]] = arith.extf %[[C]] : tensor<192xbf16> to tensor<192xf32>
  // CHECK: %[[S:.*]] = arith.addf %[[MV]], %[[CF]] : tensor<192xf32>
  // CHECK: %[[C2:.*]] = arith.truncf %[[S]] : tensor<192xf32> to tensor<192xbf16>
  // CHECK: vision.linear %[[N]], %[[WG]], %[[C2]] {vision.folded_weight = "w"}
  %n = vision.layer_norm %x, %g, %b {epsilon = 1.0e-06 : f64} : (tensor<?x18x64xbf16>, tensor<64xbf16>, tensor<64xbf16>) -> tensor<?x18x64xbf16>
  %q = vision.linear %n, %w, %c : (tensor<?x18x64xbf16>, tensor<192x64xbf16>, tensor<192xbf16>) -> tensor<?x18x192xbf16>
  return %q : tensor<?x18x192xbf16>
}

// f32, two linears and no bias: each gets its own folded weights; the
// shift alone becomes the bias (W b from zeros), no casts, and no op writes
// into an argument.
// CHECK-LABEL: func.func @two_linears
func.func @two_linears(%x: tensor<?x4x8xf32>,
                       %g: tensor<8xf32> {vision.weight = "g"},
                       %b: tensor<8xf32> {vision.weight = "b"},
                       %w1: tensor<16x8xf32> {vision.weight = "w1"},
                       %w2: tensor<4x8xf32> {vision.weight = "w2"}) -> (tensor<?x4x16xf32>, tensor<?x4x4xf32>) {
  // CHECK-NOT: arith.extf
  // CHECK: linalg.matvec ins(%{{.*}}, %{{.*}} : tensor<16x8xf32>, tensor<8xf32>)
  // CHECK: %[[L1:.*]] = vision.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x4x8xf32>, tensor<16x8xf32>, tensor<16xf32>)
  // CHECK: linalg.matvec ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8xf32>)
  // CHECK: %[[L2:.*]] = vision.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x4x8xf32>, tensor<4x8xf32>, tensor<4xf32>)
  %n = vision.layer_norm %x, %g, %b {epsilon = 1.0e-06 : f64} : (tensor<?x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x4x8xf32>
  %l1 = vision.linear %n, %w1 : (tensor<?x4x8xf32>, tensor<16x8xf32>) -> tensor<?x4x16xf32>
  %l2 = vision.linear %n, %w2 : (tensor<?x4x8xf32>, tensor<4x8xf32>) -> tensor<?x4x4xf32>
  return %l1, %l2 : tensor<?x4x16xf32>, tensor<?x4x4xf32>
}

// Left alone: a norm read by something other than a linear's input (the
// final norm), and a linear whose weight is not a weight.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: linalg.matvec
// CHECK: vision.layer_norm %{{.*}}, %arg1, %arg2
// CHECK: vision.layer_norm %{{.*}}, %arg1, %arg2
// CHECK-NOT: linalg.matvec
func.func @left_alone(%x: tensor<?x4x8xf32>,
                      %g: tensor<8xf32> {vision.weight = "g"},
                      %b: tensor<8xf32> {vision.weight = "b"},
                      %w: tensor<16x8xf32> {vision.weight = "w"},
                      %a: tensor<16x8xf32>) -> (tensor<?x4x8xf32>, tensor<?x4x16xf32>, tensor<?x4x16xf32>) {
  %n1 = vision.layer_norm %x, %g, %b {epsilon = 1.0e-06 : f64} : (tensor<?x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x4x8xf32>
  %l1 = vision.linear %n1, %w : (tensor<?x4x8xf32>, tensor<16x8xf32>) -> tensor<?x4x16xf32>
  %n2 = vision.layer_norm %x, %g, %b {epsilon = 1.0e-06 : f64} : (tensor<?x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x4x8xf32>
  %l2 = vision.linear %n2, %a : (tensor<?x4x8xf32>, tensor<16x8xf32>) -> tensor<?x4x16xf32>
  return %n1, %l1, %l2 : tensor<?x4x8xf32>, tensor<?x4x16xf32>, tensor<?x4x16xf32>
}
