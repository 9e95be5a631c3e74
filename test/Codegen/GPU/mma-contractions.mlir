// RUN: fovea-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(fovea-gpu-mma-contractions))" | FileCheck %s
// RUN: fovea-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(fovea-gpu-mma-contractions{emulate-warps=true}))" | FileCheck %s --check-prefix=EMU

#x = affine_map<(b, m, n, k) -> (b, m, k)>
#w = affine_map<(b, m, n, k) -> (k, n)>
#acc = affine_map<(b, m, n, k) -> (b, m, n)>

// A batched bf16 contraction (x[b, m, k] * w[k, n] into f32): the batch
// folds into M, blocks of 4 warps own 64 x 32 tiles, K steps by 16 with
// mma.sync m16n8k16 (bf16 row x col, f32 accumulators).
// CHECK-LABEL: func.func @linear
// CHECK-DAG: %[[A:.*]] = memref.collapse_shape %arg0 {{\[}}[0, 1], [2]] : memref<?x18x64xbf16> into memref<?x64xbf16>
// CHECK-DAG: %[[C:.*]] = memref.collapse_shape %arg2 {{\[}}[0, 1], [2]] : memref<?x18x192xf32> into memref<?x192xf32>
// CHECK: %[[M:.*]] = memref.dim %[[A]], %c0
// CHECK: %[[GY:.*]] = arith.ceildivui %[[M]], %c64
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c6, {{.*}} = %[[GY]], {{.*}} = %c1{{[_0-9]*}}) threads({{.*}}) in ({{.*}} = %c128, {{.*}} = %c1{{[_0-9]*}}, {{.*}} = %c1{{[_0-9]*}})
// CHECK: scf.for %{{.*}} = %c0{{[_0-9]*}} to %c64{{[_0-9]*}} step %c16{{[_0-9]*}} iter_args(
// CHECK-COUNT-4: vector.bitcast {{.*}} : vector<2xbf16> to vector<1xi32>
// CHECK: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// CHECK-COUNT-3: nvvm.mma.sync
// Rows past M are not stored.
// CHECK: memref.store {{.*}}, %[[C]]
// CHECK: gpu.terminator
// CHECK-NOT: linalg.generic
func.func @linear(%x: memref<?x18x64xbf16>, %w: memref<64x192xbf16>, %out: memref<?x18x192xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #acc],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x18x64xbf16>, memref<64x192xbf16>) outs(%out : memref<?x18x192xf32>) {
  ^bb0(%a: bf16, %b: bf16, %c: f32):
    %ea = arith.extf %a : bf16 to f32
    %eb = arith.extf %b : bf16 to f32
    %p = arith.mulf %ea, %eb : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Left to the loop kernels: f32 inputs, K not a multiple of 16, a fused
// producer in the body.
// CHECK-LABEL: func.func @not_matched
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: nvvm.mma.sync
func.func @not_matched(%xf: memref<?x64xf32>, %wf: memref<64x192xf32>, %outf: memref<?x192xf32>,
                       %x: memref<?x24xbf16>, %w: memref<24x192xbf16>, %out: memref<?x192xf32>,
                       %x2: memref<?x64xbf16>, %w2: memref<64x192xbf16>) {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%xf, %wf : memref<?x64xf32>, memref<64x192xf32>) outs(%outf : memref<?x192xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x24xbf16>, memref<24x192xbf16>) outs(%out : memref<?x192xf32>) {
  ^bb0(%a: bf16, %b: bf16, %c: f32):
    %ea = arith.extf %a : bf16 to f32
    %eb = arith.extf %b : bf16 to f32
    %p = arith.mulf %ea, %eb : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x2, %w2 : memref<?x64xbf16>, memref<64x192xbf16>) outs(%out : memref<?x192xf32>) {
  ^bb0(%a: bf16, %b: bf16, %c: f32):
    %ea = arith.extf %a : bf16 to f32
    %sq = arith.mulf %ea, %ea : f32
    %eb = arith.extf %b : bf16 to f32
    %p = arith.mulf %sq, %eb : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#id = affine_map<(m, n) -> (m, n)>
#col = affine_map<(m, n) -> (n)>

// The epilogue (bias, rounding to bf16) runs in the kernel's stores; the
// zero-filled f32 accumulator becomes zero registers and disappears.
// CHECK-LABEL: func.func @epilogue
// CHECK-NOT: memref.alloc({{.*}}) : memref<?x64xf32>
// CHECK-NOT: linalg.fill
// CHECK: %[[OUT:.*]] = memref.alloc(%{{.*}}) : memref<?x64xbf16>
// CHECK: gpu.launch
// CHECK-COUNT-4: nvvm.mma.sync
// CHECK: memref.load %arg2[%{{.*}}] : memref<64xbf16>
// CHECK: arith.truncf
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK: gpu.terminator
// CHECK-NOT: linalg.generic
// CHECK: return %[[OUT]]
// EMU-LABEL: func.func @epilogue
// EMU-COUNT-4: memref.alloca() : memref<32x4xf32>
// EMU-NOT: gpu.launch
// EMU-NOT: nvvm.mma.sync
// EMU: arith.shrui
// EMU: memref.store %{{.*}}, %{{.*}} : memref<?x64xbf16>
func.func @epilogue(%x: memref<?x32xbf16>, %w: memref<32x64xbf16>, %bias: memref<64xbf16>) -> memref<?x64xbf16> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %m = memref.dim %x, %c0 : memref<?x32xbf16>
  %acc = memref.alloc(%m) : memref<?x64xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<?x64xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x32xbf16>, memref<32x64xbf16>) outs(%acc : memref<?x64xf32>) {
  ^bb0(%a: bf16, %b: bf16, %c: f32):
    %ea = arith.extf %a : bf16 to f32
    %eb = arith.extf %b : bf16 to f32
    %p = arith.mulf %ea, %eb : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }
  %out = memref.alloc(%m) : memref<?x64xbf16>
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%acc, %bias : memref<?x64xf32>, memref<64xbf16>) outs(%out : memref<?x64xbf16>) {
  ^bb0(%v: f32, %bv: bf16, %o: bf16):
    %e = arith.extf %bv : bf16 to f32
    %s = arith.addf %v, %e : f32
    %t = arith.truncf %s : f32 to bf16
    linalg.yield %t : bf16
  }
  memref.dealloc %acc : memref<?x64xf32>
  return %out : memref<?x64xbf16>
}

// -----

#id = affine_map<(m, n) -> (m, n)>

// Two readers of the accumulator: no epilogue, the kernel stores C and the
// consumers stay loop kernels.
// CHECK-LABEL: func.func @two_consumers
// CHECK: linalg.fill
// CHECK: gpu.launch
// CHECK: memref.store %{{.*}}, %{{.*}} : memref<?x64xf32>
// CHECK: gpu.terminator
// CHECK-COUNT-2: linalg.generic
func.func @two_consumers(%x: memref<?x32xbf16>, %w: memref<32x64xbf16>, %o1: memref<?x64xbf16>, %o2: memref<?x64xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %m = memref.dim %x, %c0 : memref<?x32xbf16>
  %acc = memref.alloc(%m) : memref<?x64xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<?x64xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x32xbf16>, memref<32x64xbf16>) outs(%acc : memref<?x64xf32>) {
  ^bb0(%a: bf16, %b: bf16, %c: f32):
    %ea = arith.extf %a : bf16 to f32
    %eb = arith.extf %b : bf16 to f32
    %p = arith.mulf %ea, %eb : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%acc : memref<?x64xf32>) outs(%o1 : memref<?x64xbf16>) {
  ^bb0(%v: f32, %o: bf16):
    %t = arith.truncf %v : f32 to bf16
    linalg.yield %t : bf16
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%acc : memref<?x64xf32>) outs(%o2 : memref<?x64xf32>) {
  ^bb0(%v: f32, %o: f32):
    %t = math.exp %v : f32
    linalg.yield %t : f32
  }
  memref.dealloc %acc : memref<?x64xf32>
  return
}
