// RUN: fovea-opt %s --fovea-cpu-call-microkernels --canonicalize | FileCheck %s

#x = affine_map<(m, k, n) -> (m, k)>
#p = affine_map<(m, k, n) -> (n floordiv 32, k, n mod 32)>
#q = affine_map<(m, k, n) -> (n floordiv 32, k floordiv 2, n mod 32, k mod 2)>
#acc = affine_map<(m, k, n) -> (m, n)>

// The kernel is declared once; x's offset (64 f32 = 256 bytes) is added to
// its base address and its row stride (192) passed as lda; ldc, M, N and K
// come from acc and x.
// CHECK-DAG: func.func private @fovea_matmul_f32(i64, i64, i64, i64, i64, i64, i64, i64)
// CHECK-DAG: func.func private @fovea_matmul_bf16(i64, i64, i64, i64, i64, i64, i64, i64)
// CHECK-LABEL: func.func @f32
// CHECK-DAG: %[[K:.*]] = arith.constant 64 : i64
// CHECK-DAG: %[[N:.*]] = arith.constant 40 : i64
// CHECK-DAG: %[[LDA:.*]] = arith.constant 192 : i64
// CHECK-DAG: %[[OFF:.*]] = arith.constant 256 : index
// CHECK: %[[ABASE:[^,]*]], {{.*}} = memref.extract_strided_metadata %arg0
// CHECK: %[[APTR:.*]] = memref.extract_aligned_pointer_as_index %[[ABASE]]
// CHECK: %[[AADDR:.*]] = arith.addi %[[APTR]], %[[OFF]]
// CHECK: %[[M:.*]] = memref.dim %arg2
// CHECK: %[[A:.*]] = arith.index_cast %[[AADDR]] : index to i64
// CHECK: %[[W:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[C:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[MI:.*]] = arith.index_cast %[[M]] : index to i64
// CHECK: call @fovea_matmul_f32(%[[A]], %[[LDA]], %[[W]], %[[C]], %[[N]], %[[MI]], %[[N]], %[[K]])
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @f32(%a: memref<?x64xf32, strided<[192, 1], offset: 64>>, %w: memref<2x64x32xf32>, %c: memref<?x40xf32>) {
  linalg.generic {indexing_maps = [#x, #p, #acc], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %w : memref<?x64xf32, strided<[192, 1], offset: 64>>, memref<2x64x32xf32>) outs(%c : memref<?x40xf32>)
      attrs = {fovea.microkernel = "fovea_matmul_f32"} {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %m = arith.mulf %in, %in_1 : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @bf16
// CHECK: call @fovea_matmul_bf16
// CHECK-NOT: linalg.generic
func.func @bf16(%a: memref<8x63xbf16>, %w: memref<1x32x32x2xbf16>, %c: memref<8x32xf32>) {
  linalg.generic {indexing_maps = [#x, #q, #acc], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %w : memref<8x63xbf16>, memref<1x32x32x2xbf16>) outs(%c : memref<8x32xf32>)
      attrs = {fovea.microkernel = "fovea_matmul_bf16"} {
  ^bb0(%in: bf16, %in_1: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.extf %in_1 : bf16 to f32
    %m = arith.mulf %0, %1 : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  }
  return
}

// x with a non-unit innermost stride: no call, the op stays (and becomes
// loops later).
// CHECK-LABEL: func.func @strided
// CHECK-NOT: call
// CHECK: linalg.generic
func.func @strided(%a: memref<8x64xf32, strided<[1, 8]>>, %w: memref<1x64x32xf32>, %c: memref<8x32xf32>) {
  linalg.generic {indexing_maps = [#x, #p, #acc], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %w : memref<8x64xf32, strided<[1, 8]>>, memref<1x64x32xf32>) outs(%c : memref<8x32xf32>)
      attrs = {fovea.microkernel = "fovea_matmul_f32"} {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %m = arith.mulf %in, %in_1 : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  }
  return
}

// A marked packing transposition becomes fovea_pack_copy(src, dst, element
// bytes, the destination's four sizes, the source's stride along each):
// bf16 [N = 64, K = 10] rows (row stride 16, offset 3 elements = 6 bytes)
// into [2, 5, 32, 2] panels.
// CHECK-LABEL: func.func @pack_rows_bf16
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : i64
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : i64
// CHECK-DAG: %[[S0:.*]] = arith.constant 512 : i64
// CHECK-DAG: %[[S2:.*]] = arith.constant 16 : i64
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[OFF:.*]] = arith.constant 6 : index
// CHECK: %[[VIEW:.*]] = memref.expand_shape %arg0
// CHECK: %[[SBASE:[^,]*]], {{.*}} = memref.extract_strided_metadata %[[VIEW]]
// CHECK: %[[SPTR:.*]] = memref.extract_aligned_pointer_as_index %[[SBASE]]
// CHECK: %[[SADDR:.*]] = arith.addi %[[SPTR]], %[[OFF]]
// CHECK: %[[S:.*]] = arith.index_cast %[[SADDR]] : index to i64
// CHECK: %[[D:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: call @fovea_pack_copy(%[[S]], %[[D]], %[[C2]], %[[C2]], %[[C5]], %[[C32]], %[[C2]], %[[S0]], %[[C2]], %[[S2]], %[[C1]])
// CHECK-NOT: linalg.transpose
// CHECK: return
func.func @pack_rows_bf16(%w: memref<64x10xbf16, strided<[16, 1], offset: 3>>, %p: memref<2x5x32x2xbf16>) {
  %e = memref.expand_shape %w [[0, 1], [2, 3]] output_shape [2, 32, 5, 2] : memref<64x10xbf16, strided<[16, 1], offset: 3>> into memref<2x32x5x2xbf16, strided<[512, 16, 2, 1], offset: 3>>
  linalg.transpose ins(%e : memref<2x32x5x2xbf16, strided<[512, 16, 2, 1], offset: 3>>) outs(%p : memref<2x5x32x2xbf16>) permutation = [0, 2, 1, 3] {fovea.microkernel = "fovea_pack_copy"}
  return
}

// An unmarked transposition stays.
// CHECK-LABEL: func.func @transpose_unmarked
// CHECK-NOT: call
// CHECK: linalg.transpose
func.func @transpose_unmarked(%a: memref<4x8xf32>, %b: memref<8x4xf32>) {
  linalg.transpose ins(%a : memref<4x8xf32>) outs(%b : memref<8x4xf32>) permutation = [1, 0]
  return
}
