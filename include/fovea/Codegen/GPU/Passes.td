//===- Passes.td - GPU code generation passes ---------------*- tablegen -*-===//
//
// Passes that map the loops of bufferized linalg onto NVIDIA GPUs.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_CODEGEN_GPU_PASSES_TD
#define FOVEA_CODEGEN_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def GpuTileParallelLoops : Pass<"fovea-gpu-tile-parallel-loops", "func::FuncOp"> {
  let summary = "Splits outermost scf.parallel nests into GPU blocks and threads";
  let description = [{
    Rewrites every outermost `scf.parallel` without reductions, over
    `(i0, ..., i{r-1})`, into a loop over blocks and a loop of `block-size`
    threads along the innermost (contiguous) dimension: the block loop runs
    over `(b, i0, ..., i{r-2})` with `b` the block index of the innermost
    dimension, the thread loop over `t` in `[0, block-size)`, and the body
    runs for `i{r-1} = lb + (b * block-size + t) * step` when it is below the
    upper bound. Both loops carry `gpu.loop_dim_map` mappings: `b` to
    `block_x`, `i{r-2}` to `block_y`, `i{r-3}` to `block_z`, outer dimensions
    sequential inside the kernel, `t` to `thread_x`, so
    `convert-parallel-loops-to-gpu` turns each nest into one `gpu.launch`
    with coalesced accesses along the innermost dimension. Loops nested in
    the body (reductions lowered to `scf.for`) stay sequential per thread.

    Example (block-size 256):
    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%m, %n) step (%c1, %c1) { ... }
    // becomes
    scf.parallel (%b, %i) = (%c0, %c0) to (%nb, %m) step (%c1, %c1) {
      scf.parallel (%t) = (%c0) to (%c256) step (%c1) {
        %j = ... (%b * 256 + %t)
        scf.if %j < %n { ... }
      } {mapping = [#gpu.loop_dim_map<processor = thread_x, ...>]}
    } {mapping = [#gpu.loop_dim_map<processor = block_x, ...>,
                  #gpu.loop_dim_map<processor = block_y, ...>]}
    ```
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block along the innermost dimension">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::scf::SCFDialect",
  ];
}

def GpuParallelDimsFirst : Pass<"fovea-gpu-parallel-dims-first", "func::FuncOp"> {
  let summary = "Reorders linalg loops so parallel dimensions come before reductions";
  let description = [{
    Interchanges every `linalg.generic` (named ops with reductions are
    generalized first) so its parallel dimensions, in their order, precede
    its reduction dimensions. `convert-linalg-to-parallel-loops` then makes
    all parallel dimensions one `scf.parallel` nest with the reductions as
    sequential loops inside: on the GPU, one thread per output element
    accumulating over the reduction, threads along the innermost output
    dimension. The CPU lowering's contraction order `(m, k, n)` would
    otherwise give only `m` parallel iterations and run `k` and `n`
    sequentially in each.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def GpuMmaContractions : Pass<"fovea-gpu-mma-contractions", "func::FuncOp"> {
  let summary = "Runs bf16 matmuls on tensor cores (mma.sync m16n8k16)";
  let description = [{
    Replaces each bufferized `linalg.generic` that computes
    `C[m, n] += f32(A[m, k]) * f32(B[k, n])` with bf16 `A` and `B`, an f32
    `C`, identity layouts, loops `(m, n, k)` (after
    `fovea-gpu-parallel-dims-first`), static `N % 8 == 0` and
    `K % 16 == 0` by a `gpu.launch` of tensor-core code: blocks of 4 warps
    own 64 x 32 tiles of `C`; each warp keeps a 16 x 32 accumulator in
    registers (four m16n8 fragments) and steps through `K` 16 at a time with
    `nvvm.mma.sync` (bf16 inputs, f32 accumulation), loading its fragments
    from global memory in the PTX ISA's fragment layout; rows past `M` load
    zeros and are not stored. Other contractions are left to the loop
    kernels.

    Epilogues: when the accumulator is a fresh buffer read by exactly one
    all-parallel generic (elementwise, identity map; other inputs such as a
    bias or a residual through any projected permutation), that generic's
    body runs on each result in the kernel and writes its output directly;
    a zero fill of the accumulator becomes zero-initialized registers, and
    the f32 accumulator buffer disappears.

    With `emulate-warps`, the same kernel is built for the host instead:
    blocks and warps become loops, each per-lane step (index arithmetic,
    fragment loads and packing, stores) runs once per lane of the warp, and
    and every `mma.sync` becomes scalar loops that read the 32 lanes'
    registers through the inverse of the PTX fragment tables (which lane,
    register and half holds `A[i][k]`, `B[k][j]`, `C[i][j]`) and multiply.
    Run on the CPU, this checks the kernel's tiling, guards and fragment
    layout against a reference without a GPU.

    Experimental: the generated PTX assembles, but the kernels have not run
    on a GPU yet, so the pipeline leaves this off unless `tensor-cores` is
    set.
  }];
  let options = [
    Option<"fuseEpilogues", "fuse-epilogues", "bool", /*default=*/"true",
           "Apply the elementwise consumer of the accumulator (bias, "
           "activation, residual, bf16 rounding) in the kernel's stores">,
    Option<"emulateWarps", "emulate-warps", "bool", /*default=*/"false",
           "Build the kernel as host loops over blocks, warps and lanes with "
           "mma.sync emulated in scalar code">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def GpuFlashAttention : Pass<"fovea-gpu-flash-attention", "func::FuncOp"> {
  let summary = "Runs bf16 vision.attention as a flash-style tensor-core kernel";
  let description = [{
    Replaces each `vision.attention` on bf16 without `cu_seqlens` whose head
    dimension is a multiple of 16 (80 for RADIO: no padding to 96 or 128)
    by a kernel built before bufferization (q, k, v read through
    `bufferization.to_buffer`, the result a fresh buffer returned by
    `bufferization.to_tensor restrict`). A block of 4 warps owns 64 query
    rows of one head of one batch row; each warp holds its 16 rows of Q as
    `mma.sync` m16n8k16 A fragments and walks the keys 32 at a time:
    `S = Q K^T` on tensor cores (f32), scaled, keys past L masked; an online
    softmax with f32 running row maxima and sums (quad shuffles for the row
    reductions); P rounded to bf16 as the A operand of `O += P V`; at the
    end `O / sum`, rounded once to bf16. The probabilities in bf16 are what
    flash-attention kernels do, and the CPU runtime's bf16 attention too.

    With `emulate-warps`, the same kernel is built for the host as in
    `fovea-gpu-mma-contractions`: lanes become loops, register arrays gain
    a lane dimension, `mma.sync` and the shuffles are emulated.

    Experimental, behind the pipeline's `tensor-cores` option: the kernel
    has not run on a GPU.
  }];
  let options = [
    Option<"emulateWarps", "emulate-warps", "bool", /*default=*/"false",
           "Build the kernel as host loops with mma.sync and shuffles "
           "emulated">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def GpuCopyKernels : Pass<"fovea-gpu-copy-kernels", "func::FuncOp"> {
  let summary = "Makes the buffer copies of bufferization linalg copies, so they become kernels";
  let description = [{
    Bufferization leaves `memref.copy` where a value moves into a slice of
    a larger buffer (tensor.insert_slice into a concatenation, the
    tiles of a resize). On the GPU every buffer is device memory, which the
    host must not touch: each copy becomes a `linalg.copy`, which the
    linalg-to-loops lowering maps to one kernel like any other linalg op
    (strided views included, which a single memcpy could not copy).

    Example:
    ```mlir
    memref.copy %a, %b : memref<?x64xf32> to memref<?x64xf32, strided<[128, 1]>>
    // becomes
    linalg.copy ins(%a : memref<?x64xf32>)
                outs(%b : memref<?x64xf32, strided<[128, 1]>>)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def GpuDeviceMemory : Pass<"fovea-gpu-device-memory", "ModuleOp"> {
  let summary = "Places the host functions' buffers in device memory and checks the host never touches them";
  let description = [{
    Runs on `gpu.launch` kernels, before outlining. Every buffer a host
    function allocates becomes device memory: `memref.alloc` becomes
    `gpu.alloc` and `memref.dealloc` `gpu.dealloc` (made asynchronous on the
    run's stream by `gpu-async-region`). A constant `memref.get_global` (a
    table the lowering computed at compile time) is fetched inside each
    kernel that reads it, so kernel outlining copies the global into the
    kernel's module and the host never uploads it.

    Then no host operation may read or write a buffer's contents: a
    `memref.load`, `memref.store`, `memref.copy`, vector transfer or call
    taking a buffer outside the kernels is an error. Buffer descriptors
    (views, reshapes, `memref.dim`) stay on the host. A run is therefore
    launches, allocations and frees on one stream that the host never waits
    for in between.

    Example:
    ```mlir
    %t = memref.get_global @table : memref<4xf32>
    %b = memref.alloc(%n) : memref<?xf32>
    gpu.launch blocks(...) threads(...) {
      %v = memref.load %t[%i] : memref<4xf32>
      memref.store %v, %b[%i] : memref<?xf32>
      gpu.terminator
    }
    memref.dealloc %b : memref<?xf32>
    // becomes
    %b = gpu.alloc (%n) : memref<?xf32>
    gpu.launch blocks(...) threads(...) {
      %t = memref.get_global @table : memref<4xf32>
      %v = memref.load %t[%i] : memref<4xf32>
      memref.store %v, %b[%i] : memref<?xf32>
      gpu.terminator
    }
    gpu.dealloc %b : memref<?xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

#endif // FOVEA_CODEGEN_GPU_PASSES_TD
