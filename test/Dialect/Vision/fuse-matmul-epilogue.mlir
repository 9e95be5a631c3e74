// RUN: fovea-opt %s --pass-pipeline='builtin.module(func.func(vision-fuse-matmul-epilogue))' | FileCheck %s

// A ViT MLP: fc1 takes its GELU, fc2 its residual add; each group is named
// after the linear's weight.
// CHECK-LABEL: func.func @mlp
func.func @mlp(%x: tensor<?x18x64xbf16>, %y: tensor<?x18x64xbf16>,
               %w1: tensor<256x64xbf16> {vision.weight = "vision_model.radio_model.model.blocks.0.mlp.fc1.weight"},
               %b1: tensor<256xbf16>,
               %w2: tensor<64x256xbf16> {vision.weight = "vision_model.radio_model.model.blocks.0.mlp.fc2.weight"},
               %b2: tensor<64xbf16>) -> tensor<?x18x64xbf16> {
  // CHECK: %[[G:.*]] = vision.fusion_group "blocks.0.mlp.fc1" rule = <matmul_epilogue> -> tensor<?x18x256xbf16> {
  // CHECK-NEXT: %[[H:.*]] = vision.linear
  // CHECK-NEXT: %[[A:.*]] = vision.gelu %[[H]]
  // CHECK-NEXT: vision.yield %[[A]]
  // CHECK: %[[R:.*]] = vision.fusion_group "blocks.0.mlp.fc2" rule = <matmul_epilogue> -> tensor<?x18x64xbf16> {
  // CHECK-NEXT: %[[O:.*]] = vision.linear %[[G]]
  // CHECK-NEXT: %[[S:.*]] = arith.addf %{{.*}}, %[[O]]
  // CHECK-NEXT: vision.yield %[[S]]
  // CHECK: return %[[R]]
  %h = vision.linear %y, %w1, %b1 : (tensor<?x18x64xbf16>, tensor<256x64xbf16>, tensor<256xbf16>) -> tensor<?x18x256xbf16>
  %g = vision.gelu %h {approximation = #vision.gelu_approximation<none>} : tensor<?x18x256xbf16>
  %o = vision.linear %g, %w2, %b2 : (tensor<?x18x256xbf16>, tensor<64x256xbf16>, tensor<64xbf16>) -> tensor<?x18x64xbf16>
  %r = arith.addf %x, %o : tensor<?x18x64xbf16>
  return %r : tensor<?x18x64xbf16>
}

// The projector: relu2, then a downcast; a linear without a weight name is
// named after the rule.
// CHECK-LABEL: func.func @projector
func.func @projector(%x: tensor<?x4x256xf32>, %w1: tensor<128x256xf32>, %w2: tensor<96x128xf32>) -> tensor<?x4x96xbf16> {
  // CHECK: vision.fusion_group "matmul_epilogue" rule = <matmul_epilogue>
  // CHECK-NEXT: vision.linear
  // CHECK-NEXT: vision.relu2
  // CHECK-NEXT: vision.yield
  // CHECK: vision.fusion_group "matmul_epilogue_0" rule = <matmul_epilogue>
  // CHECK-NEXT: vision.linear
  // CHECK-NEXT: arith.truncf
  // CHECK-NEXT: vision.yield
  %h = vision.linear %x, %w1 : (tensor<?x4x256xf32>, tensor<128x256xf32>) -> tensor<?x4x128xf32>
  %a = vision.relu2 %h : tensor<?x4x128xf32>
  %o = vision.linear %a, %w2 : (tensor<?x4x128xf32>, tensor<96x128xf32>) -> tensor<?x4x96xf32>
  %t = arith.truncf %o : tensor<?x4x96xf32> to tensor<?x4x96xbf16>
  return %t : tensor<?x4x96xbf16>
}

// An activation read twice stays outside: fusing it would compute the
// linear's epilogue for one reader and store the linear for the other.
// CHECK-LABEL: func.func @shared
func.func @shared(%x: tensor<8x64xf32>, %w: tensor<64x64xf32>) -> (tensor<8x64xf32>, tensor<8x64xf32>) {
  // CHECK: %[[L:.*]] = vision.fusion_group "matmul_epilogue" rule = <matmul_epilogue> -> tensor<8x64xf32> {
  // CHECK-NEXT: vision.linear
  // CHECK-NEXT: vision.yield
  // CHECK: vision.gelu %[[L]]
  // CHECK: vision.relu2 %[[L]]
  %l = vision.linear %x, %w : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32>
  %g = vision.gelu %l {approximation = #vision.gelu_approximation<tanh>} : tensor<8x64xf32>
  %r = vision.relu2 %l : tensor<8x64xf32>
  return %g, %r : tensor<8x64xf32>, tensor<8x64xf32>
}
