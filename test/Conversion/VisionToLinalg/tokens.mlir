// RUN: fovea-opt %s --convert-vision-to-linalg --split-input-file | FileCheck %s

// pixel_shuffle v2: [N, h*w, C] -> [N, h/2, 2, w/2, 2, C], transposed to
// (i, j, a, b, c) and flattened to [N, h*w/4, 4C].
// CHECK-LABEL: func.func @pixel_shuffle_v2
// CHECK-SAME: (%[[X:.*]]: tensor<?x24x8xf32>)
// CHECK: %[[B:.*]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2, 3, 4], [5]] output_shape [%{{.*}}, 2, 2, 3, 2, 8] : tensor<?x24x8xf32> into tensor<?x2x2x3x2x8xf32>
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[B]] : tensor<?x2x2x3x2x8xf32>) outs(%{{.*}} : tensor<?x2x3x2x2x8xf32>) permutation = [0, 1, 3, 2, 4, 5]
// CHECK: %[[M:.*]] = tensor.collapse_shape %[[T]] {{\[}}[0], [1, 2], [3, 4, 5]] : tensor<?x2x3x2x2x8xf32> into tensor<?x6x32xf32>
// CHECK: return %[[M]]
func.func @pixel_shuffle_v2(%x: tensor<?x24x8xf32>) -> tensor<?x6x32xf32> {
  %0 = vision.pixel_shuffle %x {grid = array<i64: 4, 6>, version = #vision.pixel_shuffle_version<v2>} : tensor<?x24x8xf32> -> tensor<?x6x32xf32>
  return %0 : tensor<?x6x32xf32>
}

// -----

// v1 transposes the token grid: (j, i, a, b, c).
// CHECK-LABEL: func.func @pixel_shuffle_v1
// CHECK: linalg.transpose ins(%{{.*}} : tensor<?x2x2x3x2x8xf32>) outs(%{{.*}} : tensor<?x3x2x2x2x8xf32>) permutation = [0, 3, 1, 2, 4, 5]
func.func @pixel_shuffle_v1(%x: tensor<?x24x8xf32>) -> tensor<?x6x32xf32> {
  %0 = vision.pixel_shuffle %x {grid = array<i64: 4, 6>, version = #vision.pixel_shuffle_version<v1>} : tensor<?x24x8xf32> -> tensor<?x6x32xf32>
  return %0 : tensor<?x6x32xf32>
}

// -----

// Packed images are shuffled one by one and concatenated.
// CHECK-LABEL: func.func @pixel_shuffle_packed
// CHECK-SAME: (%[[X:.*]]: tensor<1x40x8xf32>)
// CHECK: %[[I0:.*]] = tensor.extract_slice %[[X]][0, 0, 0] [1, 24, 8] [1, 1, 1]
// CHECK: linalg.transpose
// CHECK: %[[R0:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0] [1, 6, 32] [1, 1, 1]
// CHECK: %[[I1:.*]] = tensor.extract_slice %[[X]][0, 24, 0] [1, 16, 8] [1, 1, 1]
// CHECK: tensor.expand_shape %[[I1]] {{\[}}[0], [1, 2, 3, 4], [5]] output_shape [1, 1, 2, 4, 2, 8]
// CHECK: linalg.transpose
// CHECK: tensor.insert_slice %{{.*}} into %[[R0]][0, 6, 0] [1, 4, 32] [1, 1, 1]
func.func @pixel_shuffle_packed(%x: tensor<1x40x8xf32>) -> tensor<1x10x32xf32> {
  %0 = vision.pixel_shuffle %x {grid = array<i64: 4, 6, 2, 8>, version = #vision.pixel_shuffle_version<v2>} : tensor<1x40x8xf32> -> tensor<1x10x32xf32>
  return %0 : tensor<1x10x32xf32>
}

// -----

// evs_prune: norms, unit vectors and similarities with every step rounded
// to the element type; 255 for the first tubelet; a rank count (a stable
// descending sort); per-tubelet counts; a compaction in original order into
// a result of the static kept count, as parallel linalg ops (a gather; no
// loop, so the GPU runs it as kernels).
// CHECK-LABEL: func.func @evs_prune
// CHECK-SAME: (%[[X:.*]]: tensor<4x16x8xbf16>)
// CHECK: %[[NORMS:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<4x16x8xbf16>) outs(%{{.*}} : tensor<4x16xf32>)
// CHECK: math.sqrt
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: arith.maximumf
// CHECK: arith.divf
// CHECK: arith.truncf
// CHECK: %[[SIM:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: arith.maxui
// CHECK: tensor.extract
// CHECK: %[[D:.*]] = linalg.generic {{.*}} ins(%[[SIM]] : tensor<4x16xf32>)
// CHECK: %[[SENTINEL:.*]] = arith.constant 2.550000e+02 : f32
// CHECK: arith.select %{{.*}}, %[[SENTINEL]], %{{.*}} : f32
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[D]] {{\[}}[0, 1]] : tensor<4x16xf32> into tensor<64xf32>
// CHECK: %[[KEEP:.*]] = arith.constant 32 : i64
// CHECK: %[[RANK:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%[[FLAT]], %[[FLAT]] : tensor<64xf32>, tensor<64xf32>) outs(%{{.*}} : tensor<64xi64>)
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf oeq
// CHECK: arith.cmpi ult
// CHECK: %[[KEPT:.*]] = linalg.generic {{.*}} ins(%[[RANK]] : tensor<64xi64>)
// CHECK: arith.cmpi slt, %{{.*}}, %[[KEEP]] : i64
// CHECK: %[[COUNTS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<4xi64>)
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<4x16x8xbf16> into tensor<64x8xbf16>
// The compaction is a gather: before[i] = #{j <= i : kept[j]} ...
// CHECK: %[[BEFORE:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%[[KEPT]] : tensor<64xi64>) outs(%{{.*}} : tensor<64xi64>)
// CHECK: arith.cmpi ule
// CHECK: arith.select
// ... source[r] = #{i : before[i] <= r} ...
// CHECK: %[[SOURCE:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%[[BEFORE]] : tensor<64xi64>) outs(%{{.*}} : tensor<32xi64>)
// CHECK: arith.cmpi sle
// ... out[r, :] = rows[source[r], :].
// CHECK: %[[OUT:.*]] = tensor.empty() : tensor<32x8xbf16>
// CHECK: %[[KEPTROWS:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]{{.*}} ins(%[[SOURCE]] : tensor<32xi64>) outs(%[[OUT]] : tensor<32x8xbf16>)
// CHECK: %[[R:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: tensor.extract %[[ROWS]][%[[R]], %{{.*}}] : tensor<64x8xbf16>
// CHECK-NOT: scf.for
// CHECK: return %[[KEPTROWS]], %[[COUNTS]] : tensor<32x8xbf16>, tensor<4xi64>
func.func @evs_prune(%x: tensor<4x16x8xbf16>) -> (tensor<32x8xbf16>, tensor<4xi64>) {
  %k, %c = vision.evs_prune %x {rate = 5.000000e-01 : f64} : tensor<4x16x8xbf16> -> tensor<32x8xbf16>, tensor<4xi64>
  return %k, %c : tensor<32x8xbf16>, tensor<4xi64>
}

// -----

// With a dynamic tubelet count the kept count is computed at run time from
// integers and (1 - rate) in double precision.
// CHECK-LABEL: func.func @evs_prune_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x16x8xf32>)
// CHECK: %[[NT:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x16x8xf32>
// CHECK: %[[NT64:.*]] = arith.index_cast %[[NT]] : index to i64
// CHECK: %[[TOTAL:.*]] = arith.muli %[[NT64]], %{{.*}} : i64
// CHECK: %[[TF:.*]] = arith.sitofp %[[TOTAL]] : i64 to f64
// CHECK: %[[Q:.*]] = arith.constant 0.099999999999999978 : f64
// CHECK: %[[S:.*]] = arith.mulf %[[TF]], %[[Q]] : f64
// CHECK: %[[T:.*]] = arith.fptosi %[[S]] : f64 to i64
// CHECK: %[[KEEP:.*]] = arith.maxsi %[[T]], %{{.*}} : i64
// CHECK: %[[KI:.*]] = arith.index_cast %[[KEEP]] : i64 to index
// CHECK: tensor.empty(%[[KI]]) : tensor<?x8xf32>
func.func @evs_prune_dynamic(%x: tensor<?x16x8xf32>) -> (tensor<?x8xf32>, tensor<?xi64>) {
  %k, %c = vision.evs_prune %x {rate = 9.000000e-01 : f64} : tensor<?x16x8xf32> -> tensor<?x8xf32>, tensor<?xi64>
  return %k, %c : tensor<?x8xf32>, tensor<?xi64>
}
