// RUN: fovea-opt %s --convert-vision-to-linalg --fovea-cpu-pack-matmuls --canonicalize | FileCheck %s

// f32: vision.linear's B is the transpose of the [N, K] weight, so the
// panels are cut from the weight's rows (one transposition, not two): N = 40
// is padded to two panels of 32, packed [panel, k, column]; the matmul reads
// the panel layout and is marked for the f32 microkernel.
// CHECK-DAG: #[[$F32MAP:.*]] = affine_map<(d0, d1, d2) -> (d2 floordiv 32, d1, d2 mod 32)>
// CHECK-DAG: #[[$BF16MAP:.*]] = affine_map<(d0, d1, d2) -> (d2 floordiv 32, d1 floordiv 2, d2 mod 32, d1 mod 2)>
// CHECK-LABEL: func.func @linear_f32
// CHECK-NOT: linalg.transpose
// CHECK: %[[PAD:.*]] = tensor.pad %arg1 low[0, 0] high[24, 0]
// CHECK: } : tensor<40x64xf32> to tensor<64x64xf32>
// CHECK: %[[EXP:.*]] = tensor.expand_shape %[[PAD]] {{\[}}[0, 1], [2]] output_shape [2, 32, 64]
// CHECK: %[[PACKED:.*]] = linalg.transpose ins(%[[EXP]] : tensor<2x32x64xf32>) outs(%{{.*}} : tensor<2x64x32xf32>) permutation = [0, 2, 1]
// CHECK-SAME: {fovea.microkernel = "fovea_pack_copy"}
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$F32MAP]], #{{.*}}], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK-SAME: ins(%{{.*}}, %[[PACKED]] : tensor<?x64xf32>, tensor<2x64x32xf32>)
// CHECK-SAME: fovea.microkernel = "fovea_matmul_f32"
func.func @linear_f32(%x: tensor<?x18x64xf32>, %w: tensor<40x64xf32>) -> tensor<?x18x40xf32> {
  %0 = vision.linear %x, %w : (tensor<?x18x64xf32>, tensor<40x64xf32>) -> tensor<?x18x40xf32>
  return %0 : tensor<?x18x40xf32>
}

// bf16: an odd K = 63 gets a zero column so k pairs up; the panels are
// [panel, k / 2, column, k % 2], the layout of vdpbf16ps's operands.
// CHECK-LABEL: func.func @linear_bf16
// CHECK: tensor.pad %arg1 low[0, 0] high[0, 1]
// CHECK: } : tensor<64x63xbf16> to tensor<64x64xbf16>
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2, 3]] output_shape [2, 32, 32, 2]
// CHECK: %[[PACKED:.*]] = linalg.transpose ins(%{{.*}} : tensor<2x32x32x2xbf16>) outs(%{{.*}} : tensor<2x32x32x2xbf16>) permutation = [0, 2, 1, 3]
// CHECK-SAME: {fovea.microkernel = "fovea_pack_copy"}
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$BF16MAP]], #{{.*}}]
// CHECK-SAME: ins(%{{.*}}, %[[PACKED]] : tensor<?x63xbf16>, tensor<2x32x32x2xbf16>)
// CHECK-SAME: fovea.microkernel = "fovea_matmul_bf16"
func.func @linear_bf16(%x: tensor<?x18x63xbf16>, %w: tensor<64x63xbf16>) -> tensor<?x18x64xbf16> {
  %0 = vision.linear %x, %w : (tensor<?x18x63xbf16>, tensor<64x63xbf16>) -> tensor<?x18x64xbf16>
  return %0 : tensor<?x18x64xbf16>
}

// A [K, N] operand that is no transpose is packed from its columns:
// [K, N] -> [K / 2, 2, panels, 32] -> [panels, K / 2, 32, 2].
// CHECK-LABEL: func.func @columns_bf16
// CHECK: tensor.pad %arg1 low[0, 0] high[1, 24]
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2, 3]] output_shape [32, 2, 2, 32]
// CHECK: linalg.transpose ins(%{{.*}} : tensor<32x2x2x32xbf16>) outs(%{{.*}} : tensor<2x32x32x2xbf16>) permutation = [2, 0, 3, 1]
// CHECK: fovea.microkernel = "fovea_matmul_bf16"
#mx = affine_map<(m, k, n) -> (m, k)>
#mw = affine_map<(m, k, n) -> (k, n)>
#macc = affine_map<(m, k, n) -> (m, n)>
func.func @columns_bf16(%x: tensor<4x63xbf16>, %w: tensor<63x40xbf16>, %init: tensor<4x40xf32>) -> tensor<4x40xf32> {
  %0 = linalg.generic {indexing_maps = [#mx, #mw, #macc], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : tensor<4x63xbf16>, tensor<63x40xbf16>) outs(%init : tensor<4x40xf32>) {
  ^bb0(%a: bf16, %b: bf16, %c: f32):
    %ea = arith.extf %a : bf16 to f32
    %eb = arith.extf %b : bf16 to f32
    %p = arith.mulf %ea, %eb : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x40xf32>
  return %0 : tensor<4x40xf32>
}

// f16 has no microkernel, and a weight of dynamic shape cannot be packed
// ahead: both stay plain matmul-shaped generics.
// CHECK-LABEL: func.func @not_packed
// CHECK-NOT: tensor.pad
// CHECK-NOT: fovea.microkernel
// CHECK: return
#x = affine_map<(m, k, n) -> (m, k)>
#w = affine_map<(m, k, n) -> (k, n)>
#acc = affine_map<(m, k, n) -> (m, n)>
func.func @not_packed(%x: tensor<4x64xf16>, %w: tensor<32x64xf16>,
                      %y: tensor<4x64xf32>, %v: tensor<64x?xf32>,
                      %init: tensor<4x?xf32>) -> (tensor<4x32xf16>, tensor<4x?xf32>) {
  %0 = vision.linear %x, %w : (tensor<4x64xf16>, tensor<32x64xf16>) -> tensor<4x32xf16>
  %1 = linalg.generic {indexing_maps = [#x, #w, #acc], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%y, %v : tensor<4x64xf32>, tensor<64x?xf32>) outs(%init : tensor<4x?xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x?xf32>
  return %0, %1 : tensor<4x32xf16>, tensor<4x?xf32>
}

// A patch contraction (vision.patch_embed: loops n, row, col, o over c, y,
// x of 16x16 patches) becomes im2col + a packed matmul: the patches are
// copied into [n * rows * cols, 3 * 16 * 16], the [O, 3, 16, 16] weight is
// collapsed to its [O, K] rows and packed, and the [M, O] result is
// expanded back.
// CHECK-LABEL: func.func @patch_embed
// CHECK: %[[PATCHES:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]
// CHECK-SAME: outs(%{{.*}} : tensor<2x2x3x1x3x16x16xbf16>)
// CHECK: %[[X:.*]] = tensor.collapse_shape %[[PATCHES]] {{\[}}[0, 1, 2], [3, 4, 5, 6]] : tensor<2x2x3x1x3x16x16xbf16> into tensor<12x768xbf16>
// CHECK: linalg.transpose {{.*}} {fovea.microkernel = "fovea_pack_copy"}
// CHECK: %[[ACC:.*]] = linalg.generic
// CHECK-SAME: ins(%[[X]], %{{.*}} : tensor<12x768xbf16>, tensor<1x384x32x2xbf16>)
// CHECK-SAME: fovea.microkernel = "fovea_matmul_bf16"
// CHECK: tensor.expand_shape %[[ACC]] {{\[}}[0, 1, 2], [3]] output_shape [2, 2, 3, 8] : tensor<12x8xf32> into tensor<2x2x3x8xf32>
func.func @patch_embed(%x: tensor<2x3x32x48xbf16>, %w: tensor<8x768xbf16>) -> tensor<2x6x8xbf16> {
  %0 = vision.patch_embed %x, %w {patch_size = 16 : i64} : (tensor<2x3x32x48xbf16>, tensor<8x768xbf16>) -> tensor<2x6x8xbf16>
  return %0 : tensor<2x6x8xbf16>
}

// A contraction whose input depends on the output channel is no patch
// contraction: it stays as it is.
// CHECK-LABEL: func.func @not_a_patch_contraction
// CHECK-NOT: fovea.microkernel
// CHECK: return
#in = affine_map<(n, o, k) -> (n, o + k)>
#wk = affine_map<(n, o, k) -> (o, k)>
#out = affine_map<(n, o, k) -> (n, o)>
func.func @not_a_patch_contraction(%x: tensor<4x40xf32>, %w: tensor<8x32xf32>, %init: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = linalg.generic {indexing_maps = [#in, #wk, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<4x40xf32>, tensor<8x32xf32>) outs(%init : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}
