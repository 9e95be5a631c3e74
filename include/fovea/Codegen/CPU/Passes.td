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

def CpuPackMatmuls : Pass<"fovea-cpu-pack-matmuls", "func::FuncOp"> {
  let summary = "Packs the weights of matmul-shaped linalg ops into the panels of the runtime's microkernels";
  let description = [{
    Finds the contractions of `vision.linear` (the shape
    `fovea-cpu-tile-and-vectorize` takes: loops (m, k, n), `x[m, k]`,
    `w[k, n]`, `acc[m, n]`) whose body is `acc + x * w` in f32, or with
    `x` and `w` in bf16 extended to f32, and whose `w` has a static shape.
    `w` is packed into panels of 32 columns, the layout the runtime's
    microkernels stream (`include/fovea/Runtime/Matmul.h`): f32
    `[ceil(N/32), K, 32]`, bf16 `[ceil(N/32), ceil(K/2), 32, 2]` (pairs of
    k next to each other, for `vdpbf16ps`), zero-padded. The packing is
    `tensor.pad` + `tensor.expand_shape` + `linalg.transpose` of the
    weight: `vision-hoist-weight-only`, after this pass, moves it to
    `@init`, so it runs once at load. The matmul becomes a `linalg.generic`
    over the packed operand (same semantics, maps with `floordiv`/`mod`)
    marked `fovea.microkernel = "fovea_matmul_f32"` or
    `"fovea_matmul_bf16"`, which `fovea-cpu-call-microkernels` replaces by
    the call after bufferization. Patch contractions (`vision.patch_embed`
    and `vision.tubelet_embed` lowered: parallel loops, then reductions; the
    weight indexed by the output channel and the reductions, the input by
    patch coordinates) are first rewritten as im2col (the patches copied
    into `[M, K]`) + such a matmul over the weight's `[O, K]` rows, whose
    result is expanded back. Precondition: linalg on tensors.

    Before:
    ```mlir
    %acc = linalg.generic {indexing_maps = [(m, k, n) -> (m, k), (m, k, n) -> (k, n), (m, k, n) -> (m, n)],
                           iterator_types = ["parallel", "reduction", "parallel"]}
        ins(%x, %wT : tensor<?x768xf32>, tensor<768x2304xf32>) outs(%init : tensor<?x2304xf32>) {...}
    ```
    After:
    ```mlir
    %e = tensor.expand_shape %wT [[0], [1, 2]] ... : tensor<768x2304xf32> into tensor<768x72x32xf32>
    %p = linalg.transpose ins(%e : tensor<768x72x32xf32>) outs(%empty : tensor<72x768x32xf32>) permutation = [1, 0, 2]
    %acc = linalg.generic {indexing_maps = [(m, k, n) -> (m, k), (m, k, n) -> (n floordiv 32, k, n mod 32), (m, k, n) -> (m, n)], ...}
        ins(%x, %p : ...) outs(%init : ...) attrs = {fovea.microkernel = "fovea_matmul_f32"} {...}
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def CpuFuseElementwise : Pass<"fovea-cpu-fuse-elementwise"> {
  let summary = "Fuses elementwise linalg ops, except into the matmuls that call microkernels";
  let description = [{
    The patterns of upstream `linalg-fuse-elementwise-ops` (producer into
    consumer when the producer has one use, reshapes folded by expansion,
    constant folding), with one difference: an op marked
    `fovea.microkernel` (`fovea-cpu-pack-matmuls`) neither takes a producer
    in nor is fused into a consumer, so it reaches
    `fovea-cpu-call-microkernels` in the form that pass replaces. Its
    operands stay materialized (the microkernel reads them from memory).
    Precondition: linalg on tensors.

    Before:
    ```mlir
    %x = linalg.generic {...} ins(%h : tensor<?x768xbf16>) ... // e.g. a GELU
    %acc = linalg.generic {...} ins(%x, %p ...) attrs = {fovea.microkernel = "fovea_matmul_bf16"}
    ```
    After: unchanged (an unmarked consumer would have taken `%x`'s body in).
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def CpuCallMicrokernels : Pass<"fovea-cpu-call-microkernels", "ModuleOp"> {
  let summary = "Replaces the matmuls marked fovea.microkernel by calls to the runtime's kernels";
  let description = [{
    After bufferization, each `linalg.generic` marked `fovea.microkernel`
    (`fovea-cpu-pack-matmuls`) becomes a call of the runtime function it
    names (declared in the module if it is not):

      fovea_matmul_{f32,bf16}(a, lda, b_packed, c, ldc, M, N, K)

    with the addresses of the first elements and the row strides of `x` and
    `acc` (from `memref.extract_strided_metadata`), all as i64. The kernel
    accumulates into `acc` (its fill stays before the call), spreads the
    work over the module's threads, and gives the same bits for every
    thread count. An op whose `x` or `acc` has a non-unit innermost stride,
    or whose packed operand is not a whole identity-layout buffer, is left
    as it is and lowered to loops. Precondition: buffers.

    Before:
    ```mlir
    linalg.generic {...} ins(%x, %p : memref<?x768xf32>, memref<72x768x32xf32>)
        outs(%acc : memref<?x2304xf32>) attrs = {fovea.microkernel = "fovea_matmul_f32"} {...}
    ```
    After:
    ```mlir
    func.func private @fovea_matmul_f32(i64, i64, i64, i64, i64, i64, i64, i64)
    ...
    call @fovea_matmul_f32(%a, %lda, %b, %c, %ldc, %m, %n, %k) : (i64, ...) -> ()
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

def CpuCallAttention : Pass<"fovea-cpu-call-attention", "func::FuncOp"> {
  let summary = "Replaces f32/bf16 vision.attention by a call to the runtime's multi-head attention";
  let description = [{
    Each `vision.attention` without `cu_seqlens` whose element type is f32
    or bf16 becomes a call of `fovea_attention_f32` / `fovea_attention_bf16`
    (`include/fovea/Runtime/Attention.h`): one task per (batch row, head)
    on the module's threads, the scores `Q K^T` and the weighted sum `P V`
    on the matmul microkernels, f32 softmax (bf16: the probabilities
    rounded to bf16 for `P V`, as flash attention does), one normalization
    per row after the sum. Only one head's `[L, L]` scores exist per thread at a
    time. q, k and v are read through `bufferization.to_buffer` with any
    strides (they are views of the fused qkv projection; their nine
    strides go to the call through a stack array), the result is a fresh
    buffer wrapped by `bufferization.to_tensor restrict`. Attention with
    `cu_seqlens` (packed images) keeps the linalg lowering. Precondition:
    vision IR on tensors, before `convert-vision-to-linalg`.

    Before:
    ```mlir
    %a = vision.attention %q, %k, %v {num_heads = 16 : i64, scale = 0.1118 : f64}
        : (tensor<?x1032x1280xbf16>, tensor<?x1032x1280xbf16>, tensor<?x1032x1280xbf16>) -> tensor<?x1032x1280xbf16>
    ```
    After:
    ```mlir
    %qb = bufferization.to_buffer %q read_only : ... to memref<?x1032x1280xbf16, strided<[?, ?, ?], offset: ?>>
    ...
    %out = memref.alloc(%batch) : memref<?x1032x1280xbf16>
    call @fovea_attention_bf16(%qa, %ka, %va, %oa, %b, %c1032, %c16, %c80, %strides, %scale) : (i64, ..., f64) -> ()
    %a = bufferization.to_tensor %out restrict writable : memref<?x1032x1280xbf16> to tensor<?x1032x1280xbf16>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def CpuParallelLoops : Pass<"fovea-cpu-parallel-loops", "ModuleOp"> {
  let summary = "Runs the fusion groups' scf.forall loops on the module's threads";
  let description = [{
    Each outermost `scf.forall` of the bufferized host code (the row loop
    of a fusion group: a LayerNorm with its residual add, a GELU epilogue,
    a pixel shuffle into an RMSNorm; no shared outputs, no mapping) becomes
    a call of the runtime's `fovea_parallel_for`
    (`include/fovea/Runtime/ThreadPool.h`), which splits its iterations
    into chunks over the module's threads. The loop body moves into a task
    function `@<function>_loop<N>(ctx, lo, hi)` that walks iterations
    [lo, hi) (delinearized over the forall's dimensions); the values the
    body uses from above are stored in one stack struct whose address is
    `ctx` (memrefs as their LLVM descriptors, through
    `builtin.unrealized_conversion_cast`, which the LLVM lowering folds).
    Constants and `memref.get_global` are cloned into the task, and so are
    stack temporaries (`memref.alloca`) used only inside the loop, so each
    thread has its own. A loop that uses a stack slot also used outside it,
    or a value the LLVM type converter cannot convert, stays sequential.
    The heap buffers of one iteration (a row's statistics) move into the
    task as they are; `fovea-promote-loop-buffers`, run again after this
    pass, makes them stack slots at the task's entry (one per thread).
    The iterations of a forall are independent: the results do not depend
    on the thread count. Runs after the deallocations are placed
    (`fovea-shrink-buffer-lifetimes`): the task's buffers stay alive across
    the call.

    Before:
    ```mlir
    scf.forall (%b, %t) in (%batch, 1032) {
      %row = memref.subview %x[%b, %t, 0] [1, 1, 1280] [1, 1, 1] : ...
      ...
    }
    ```
    After:
    ```mlir
    %ctx = llvm.alloca %c1 x !llvm.struct<(struct<(ptr, ptr, i64, array<3 x i64>, array<3 x i64>)>, ...)>
    llvm.store %xDescriptor, %field0 : ...
    %task = constant @run_loop0 : (!llvm.ptr, i64, i64) -> ()
    call @fovea_parallel_for(%count, %task, %ctx) : (i64, (!llvm.ptr, i64, i64) -> (), !llvm.ptr) -> ()
    func.func private @run_loop0(%ctx: !llvm.ptr, %lo: i64, %hi: i64) {
      // loads of the captured values, then scf.for %i = %lo to %hi { body }
    }
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
  ];
}

#endif // FOVEA_CODEGEN_CPU_PASSES_TD
