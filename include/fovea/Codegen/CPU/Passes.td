//===- Passes.td - CPU code generation passes ---------------*- tablegen -*-===//
//
// Passes that shape linalg on tensors for the host CPU.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_CODEGEN_CPU_PASSES_TD
#define FOVEA_CODEGEN_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def CpuTileAndVectorize : Pass<"fovea-cpu-tile-and-vectorize", "func::FuncOp"> {
  let summary = "Tiles matmul-shaped linalg ops into register blocks and vectorizes them";
  let description = [{
    Finds the contractions the vision lowering produces for `vision.linear`
    (loops (m, k, n), maps `x[m, k]`, `w[k, n]`, `acc[m, n]`, an f32
    multiply-accumulate body, possibly with extensions from bf16/f16), tiles
    them into M x K x N blocks (`tile-sizes`, in that order: m, n, k), peels
    the partial blocks off, and vectorizes the full blocks with the linalg
    vectorizer into `vector.contract` on an M x N accumulator (the default
    8 x 64 f32 block is 32 AVX-512 registers' worth, which LLVM splits into
    outer products of one broadcast row element by 64 columns). Partial
    blocks with static sizes are vectorized too; dynamic ones stay loops. Precondition: linalg on tensors (run before
    bufferization).

    Before:
    ```mlir
    %acc = linalg.generic {iterator_types = ["parallel", "reduction", "parallel"]}
        ins(%x, %wT : tensor<?x768xf32>, tensor<768x2304xf32>) outs(%init : tensor<?x2304xf32>) {...}
    ```
    After (schematically):
    ```mlir
    scf.for %m = ... step %c8 {          // full blocks
      scf.for %k = ... step %c64 {
        scf.for %n = ... step %c32 {
          %a = vector.transfer_read ... : vector<8x64xf32>
          %b = vector.transfer_read ... : vector<64x32xf32>
          %c = vector.contract ... : vector<8x32xf32>
          ...
    }}}
    scf.for %m = ... { ... }             // the partial block, scalar
    ```
  }];
  let options = [
    ListOption<"tileSizes", "tile-sizes", "int64_t",
               "Block sizes m,n,k of the matmul-shaped ops (default 8,64,32)">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

#endif // FOVEA_CODEGEN_CPU_PASSES_TD
