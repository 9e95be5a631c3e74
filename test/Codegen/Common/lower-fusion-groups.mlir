// RUN: fovea-opt %s --convert-vision-to-linalg --convert-elementwise-to-linalg --canonicalize --fovea-lower-fusion-groups | FileCheck %s
// RUN: fovea-opt %s --convert-vision-to-linalg --convert-elementwise-to-linalg --canonicalize --fovea-lower-fusion-groups=fuse-contractions=true | FileCheck %s --check-prefix=SCALAR
// RUN: fovea-opt %s --convert-vision-to-linalg --convert-elementwise-to-linalg --canonicalize --fovea-lower-fusion-groups=row-loops=false | FileCheck %s --check-prefix=NOROWS
// RUN: fovea-opt %s --convert-vision-to-linalg --convert-elementwise-to-linalg --canonicalize --fovea-lower-fusion-groups=fuse-patch-embed=false | FileCheck %s --check-prefix=NOPATCH

// A norm's group becomes one loop over rows: both statistics and the
// normalization of a row inside it.
// CHECK-LABEL: func.func @norm
// CHECK-NOT: vision.fusion_group
// CHECK: scf.forall (%{{.*}}) in (%{{.*}}) shared_outs
// CHECK-COUNT-3: linalg.generic
// CHECK: scf.forall.in_parallel
// CHECK-NOT: linalg.generic
// CHECK: return
// NOROWS-LABEL: func.func @norm
// NOROWS-NOT: scf.forall
// NOROWS-COUNT-3: linalg.generic
func.func @norm(%x: tensor<?x18x64xbf16>, %g: tensor<64xbf16>, %b: tensor<64xbf16>) -> tensor<?x18x64xbf16> {
  %0 = vision.fusion_group "norm" rule = <residual_norm> -> tensor<?x18x64xbf16> {
    %1 = vision.layer_norm %x, %g, %b {epsilon = 1.0e-06 : f64} : (tensor<?x18x64xbf16>, tensor<64xbf16>, tensor<64xbf16>) -> tensor<?x18x64xbf16>
    vision.yield %1 : tensor<?x18x64xbf16>
  }
  return %0 : tensor<?x18x64xbf16>
}

// A matmul's epilogue (bias, GELU, residual add, each rounded to bf16)
// becomes one generic after the contraction, through the reshapes; the
// weight's transpose stays a separate op (weight-only, for @init).
// CHECK-LABEL: func.func @epilogue
// CHECK-NOT: vision.fusion_group
// CHECK: linalg.transpose
// CHECK: %[[MM:.*]] = linalg.generic {{.*}}["parallel", "reduction", "parallel"]
// CHECK: linalg.generic {{.*}}["parallel", "parallel"]{{.*}} ins(%{{.*}}, %[[MM]], %{{.*}} :
// CHECK: arith.truncf
// CHECK: math.erf
// CHECK: arith.truncf
// CHECK: arith.addf {{.*}} : bf16
// CHECK-NOT: linalg.generic
// CHECK: return
// The GPU's scalar kernels: the contraction computed per output element
// inside the epilogue's loop.
// SCALAR-LABEL: func.func @epilogue
// SCALAR: linalg.transpose
// SCALAR: scf.forall (%{{.*}}, %{{.*}}) in
// SCALAR: linalg.fill
// SCALAR: linalg.generic {{.*}}["parallel", "reduction", "parallel"]
// SCALAR: linalg.generic {{.*}}["parallel", "parallel"]
// SCALAR: scf.forall.in_parallel
func.func @epilogue(%x: tensor<?x18x64xbf16>, %w: tensor<64x64xbf16> {vision.weight = "w"}, %b: tensor<64xbf16>) -> tensor<?x18x64xbf16> {
  %0 = vision.fusion_group "proj" rule = <matmul_epilogue> -> tensor<?x18x64xbf16> {
    %1 = vision.linear %x, %w, %b : (tensor<?x18x64xbf16>, tensor<64x64xbf16>, tensor<64xbf16>) -> tensor<?x18x64xbf16>
    %2 = vision.gelu %1 {approximation = #vision.gelu_approximation<none>} : tensor<?x18x64xbf16>
    %3 = arith.addf %x, %2 : tensor<?x18x64xbf16>
    vision.yield %3 : tensor<?x18x64xbf16>
  }
  return %0 : tensor<?x18x64xbf16>
}

// Ops outside groups are not fused.
// CHECK-LABEL: func.func @outside
// CHECK-COUNT-2: linalg.generic {{.*}}["parallel", "parallel"]
func.func @outside(%x: tensor<8x64xf32>) -> tensor<8x64xf32> {
  %0 = vision.relu2 %x : tensor<8x64xf32>
  %1 = arith.addf %0, %x : tensor<8x64xf32>
  return %1 : tensor<8x64xf32>
}

// A patch_embed group's elementwise chain fuses; without fuse-patch-embed
// the group is dissolved as it is.
// CHECK-LABEL: func.func @patch_chain
// CHECK-COUNT-1: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return
// NOPATCH-LABEL: func.func @patch_chain
// NOPATCH-NOT: vision.fusion_group
// NOPATCH-COUNT-2: linalg.generic
func.func @patch_chain(%x: tensor<8x64xf32>, %p: tensor<8x64xf32>) -> tensor<8x64xbf16> {
  %0 = vision.fusion_group "patch_embed" rule = <patch_embed> -> tensor<8x64xbf16> {
    %1 = arith.addf %x, %p : tensor<8x64xf32>
    %2 = arith.truncf %1 : tensor<8x64xf32> to tensor<8x64xbf16>
    vision.yield %2 : tensor<8x64xbf16>
  }
  return %0 : tensor<8x64xbf16>
}
