// RUN: fovea-opt %s --fovea-cpu-fuse-elementwise | FileCheck %s

#x = affine_map<(m, k, n) -> (m, k)>
#p = affine_map<(m, k, n) -> (n floordiv 32, k, n mod 32)>
#acc = affine_map<(m, k, n) -> (m, n)>
#id = affine_map<(m, k) -> (m, k)>

// The negation feeding the marked matmul stays its own op (the
// microkernel reads x from memory); the one feeding the unmarked matmul is
// fused into it.
// CHECK-LABEL: func.func @producers
// CHECK: %[[NEG:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK: arith.negf
// CHECK: linalg.generic {{.*}} ins(%[[NEG]], %{{.*}} : tensor<4x64xf32>, tensor<1x64x32xf32>)
// CHECK-SAME: fovea.microkernel = "fovea_matmul_f32"
// CHECK-NOT: arith.negf
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<4x64xf32>, tensor<1x64x32xf32>)
// CHECK-NOT: fovea.microkernel
// CHECK: arith.negf
// CHECK: arith.mulf
func.func @producers(%a: tensor<4x64xf32>, %w: tensor<1x64x32xf32>,
                     %init: tensor<4x32xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>) {
  %e = tensor.empty() : tensor<4x64xf32>
  %neg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<4x64xf32>) outs(%e : tensor<4x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<4x64xf32>
  %0 = linalg.generic {indexing_maps = [#x, #p, #acc], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%neg, %w : tensor<4x64xf32>, tensor<1x64x32xf32>) outs(%init : tensor<4x32xf32>)
      attrs = {fovea.microkernel = "fovea_matmul_f32"} {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %m = arith.mulf %in, %in_1 : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x32xf32>
  %neg2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<4x64xf32>) outs(%e : tensor<4x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<4x64xf32>
  %1 = linalg.generic {indexing_maps = [#x, #p, #acc], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%neg2, %w : tensor<4x64xf32>, tensor<1x64x32xf32>) outs(%init : tensor<4x32xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %m = arith.mulf %in, %in_1 : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x32xf32>
  return %0, %1 : tensor<4x32xf32>, tensor<4x32xf32>
}

// A marked matmul is not fused into its elementwise consumer either.
// CHECK-LABEL: func.func @consumer
// CHECK: %[[MM:.*]] = linalg.generic {{.*}}fovea.microkernel
// CHECK: linalg.generic {{.*}} ins(%[[MM]] : tensor<4x32xf32>)
// CHECK: arith.truncf
func.func @consumer(%a: tensor<4x64xf32>, %w: tensor<1x64x32xf32>,
                    %init: tensor<4x32xf32>) -> tensor<4x32xbf16> {
  %0 = linalg.generic {indexing_maps = [#x, #p, #acc], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %w : tensor<4x64xf32>, tensor<1x64x32xf32>) outs(%init : tensor<4x32xf32>)
      attrs = {fovea.microkernel = "fovea_matmul_f32"} {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %m = arith.mulf %in, %in_1 : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x32xf32>
  %e = tensor.empty() : tensor<4x32xbf16>
  %t = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%0 : tensor<4x32xf32>) outs(%e : tensor<4x32xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %c = arith.truncf %in : f32 to bf16
    linalg.yield %c : bf16
  } -> tensor<4x32xbf16>
  return %t : tensor<4x32xbf16>
}
