//===- Passes.td - Code generation passes of every target ---*- tablegen -*-===//
//
// Passes that the CPU and the GPU pipelines both run.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_CODEGEN_COMMON_PASSES_TD
#define FOVEA_CODEGEN_COMMON_PASSES_TD

include "mlir/Pass/PassBase.td"

def ExpandErf : Pass<"fovea-expand-erf", "func::FuncOp"> {
  let summary = "Replaces math.erf by a polynomial approximation";
  let description = [{
    Rewrites `math.erf` on f32 (scalars and vectors) into MLIR's rational
    polynomial approximation, so exact GELU loops vectorize instead of
    calling libm's `erff` per element on the CPU, and GPU kernels need no
    libdevice call. Both pipelines run it. The approximation stays within the
    f32 tolerance of the exact GELU (checked by the GELU integration test
    against PyTorch's erf).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def AddEntryPoints : Pass<"fovea-add-entry-points", "ModuleOp"> {
  let summary = "Adds the symbols of the module ABI the runtime calls";
  let description = [{
    Runs on a module lowered to the LLVM dialect and adds what
    `fovea/Runtime/ModuleAbi.h` names: `fovea_entry(void **)` and
    `fovea_init_entry(void **)`, which unpack an array of memref descriptor
    pointers (results first) into calls of the C interfaces of `@run` and
    `@init` (`_mlir_ciface_run`, `_mlir_ciface_init`; the init entry is
    empty when there is no `@init`), and `fovea_module_metadata_json()`,
    which returns the module attribute `vision.metadata` (the metadata JSON
    the driver derived) as a NUL-terminated constant. The attribute is
    removed. A module without `_mlir_ciface_run` or without `vision.metadata`
    is an error. The C interfaces themselves get `passthrough = ["noinline",
    "optnone"]`: they only unpack descriptors into a call, and for a model's
    `@run` that is one block of thousands of loads and a call with
    thousands of arguments, which instruction selection at -O3 spends half
    a minute on.

    Example:
    ```mlir
    module attributes {vision.metadata = "{...}"} {
      llvm.func @_mlir_ciface_run(%arg0: !llvm.ptr, %arg1: !llvm.ptr)
    }
    // becomes (besides @_mlir_ciface_run)
    llvm.func @fovea_entry(%arg0: !llvm.ptr) {
      %0 = llvm.getelementptr %arg0[0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
      %1 = llvm.load %0 : !llvm.ptr -> !llvm.ptr
      %2 = llvm.getelementptr %arg0[1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
      %3 = llvm.load %2 : !llvm.ptr -> !llvm.ptr
      llvm.call @_mlir_ciface_run(%1, %3) : (!llvm.ptr, !llvm.ptr) -> ()
      llvm.return
    }
    llvm.func @fovea_init_entry(%arg0: !llvm.ptr) { llvm.return }
    llvm.mlir.global internal constant @fovea_metadata("{...}\00")
    llvm.func @fovea_module_metadata_json() -> !llvm.ptr
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def LowerFusionGroups : Pass<"fovea-lower-fusion-groups", "func::FuncOp"> {
  let summary = "Fuses the linalg ops of each fusion group, then dissolves the groups";
  let description = [{
    Runs after convert-vision-to-linalg, on tensors. Within each
    `vision.fusion_group` (and nowhere else):

    1. reshapes are folded into the generics by collapsing their loops, and
       `linalg.broadcast` becomes a generic, so chains of elementwise ops
       meet;
    2. elementwise producers with one use fuse into their consumer
       (`linalg` elementwise fusion), except values that depend on weights
       only, which stay outside to be computed once in `@init`;
    3. with `row-loops`, a group with row reductions (the norms) becomes one
       `scf.forall` over rows: its last op is tiled by one row and the
       group's other ops fuse into the loop (values the group returns are
       yielded by the loop), so a row is read once;
    4. with `fuse-contractions`, a group holding a contraction whose
       epilogue is its last op becomes one `scf.forall` over the output
       elements with the contraction fused in (the GPU's scalar kernels:
       one thread computes the dot product and applies the epilogue);
       without it, the contraction and its single fused epilogue stay two
       ops for the backend's matmul code (the tensor-core kernel applies
       the epilogue itself).

    Then the group's body replaces the group. Ops outside groups are not
    touched. Without `fuse-patch-embed`, `patch_embed` groups are dissolved
    without fusing (the CPU: fused, the patch projection measured slower).

    Before (a layer norm's group after convert-vision-to-linalg):
    ```mlir
    %y = vision.fusion_group "blocks.0.norm1" rule = <residual_norm> -> tensor<?x64xbf16> {
      %s = linalg.generic {reduction over columns} ins(%x) outs(%fill0)
      %v = linalg.generic {reduction over columns} ins(%x, %s) outs(%fill1)
      %n = linalg.generic {parallel} ins(%x, %s, %v, %g, %b) outs(%e)
      vision.yield %n : tensor<?x64xbf16>
    }
    ```
    After (`row-loops`):
    ```mlir
    %y = scf.forall (%r) in (%rows) shared_outs(%o = %e) -> tensor<?x64xbf16> {
      %xr = tensor.extract_slice %x[%r, 0] [1, 64] [1, 1]
      %s = linalg.generic ... ins(%xr) ...
      %v = linalg.generic ... ins(%xr, %s) ...
      %n = linalg.generic ... ins(%xr, %s, %v, %g, %b) ...
      scf.forall.in_parallel { tensor.parallel_insert_slice %n into %o[%r, 0] [1, 64] [1, 1] }
    }
    ```
  }];
  let options = [
    Option<"rowLoops", "row-loops", "bool", "true",
           "Lower groups with row reductions to one loop over rows">,
    Option<"fuseContractions", "fuse-contractions", "bool", "false",
           "Fuse contractions into a loop over their epilogue's elements">,
    Option<"fusePatchEmbed", "fuse-patch-embed", "bool", "true",
           "Fuse the patch_embed groups (false: dissolve them unfused)">,
  ];
  let dependentDialects = ["::mlir::affine::AffineDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def UnshareFills : Pass<"fovea-unshare-fills", "func::FuncOp"> {
  let summary = "Gives each reader of a linalg.fill on tensors its own fill";
  let description = [{
    CSE merges identical `linalg.fill`s of identically shaped
    `tensor.empty`s, such as the zero accumulators of two matmuls of the
    same shape in different ViT blocks. One-shot bufferization must then
    copy the filled buffer for every reader after the first (a full
    `memref.copy`, on the GPU a host-side copy of device memory), and the
    matmul kernels no longer see a fresh zero-filled accumulator they can
    initialize in registers. This pass, run right before bufferization,
    clones the fill (and its `tensor.empty`) for every use after the first.
    Fills into anything other than a `tensor.empty` are left alone.

    Before:
    ```mlir
    %e = tensor.empty(%n) : tensor<?x64xf32>
    %z = linalg.fill ins(%cst : f32) outs(%e : tensor<?x64xf32>) -> tensor<?x64xf32>
    %a = linalg.matmul ins(%x, %w : ...) outs(%z : tensor<?x64xf32>) -> tensor<?x64xf32>
    %b = linalg.matmul ins(%y, %v : ...) outs(%z : tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
    After:
    ```mlir
    %e = tensor.empty(%n) : tensor<?x64xf32>
    %z = linalg.fill ins(%cst : f32) outs(%e : tensor<?x64xf32>) -> tensor<?x64xf32>
    %a = linalg.matmul ins(%x, %w : ...) outs(%z : tensor<?x64xf32>) -> tensor<?x64xf32>
    %e1 = tensor.empty(%n) : tensor<?x64xf32>
    %z1 = linalg.fill ins(%cst : f32) outs(%e1 : tensor<?x64xf32>) -> tensor<?x64xf32>
    %b = linalg.matmul ins(%y, %v : ...) outs(%z1 : tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
  }];
}

def PromoteLoopBuffers : Pass<"fovea-promote-loop-buffers", "func::FuncOp"> {
  let summary = "Puts the small temporaries of loop iterations on the stack";
  let description = [{
    Bufferizing the loop of a fusion group gives each iteration its own
    small buffers (the statistics of one row: `memref<1xf32>`), as
    `memref.alloc` + `memref.dealloc` in the loop body: a `malloc` per row
    on the CPU and a device-side `malloc` per thread in a GPU kernel. This
    pass turns each such buffer (static shape, at most `max-bytes`, in the
    body of an `scf.parallel` or `scf.for`, used only by memory accesses and
    its deallocation, there or in loops nested in the body; never by a call,
    a `return` or a `yield`) into a `memref.alloca` and drops the
    deallocation.
    With `hoist` (sequential loops: the CPU) the alloca moves to the start
    of the function, so the loop reuses one stack slot; without it (the
    GPU's mapped loops) it stays in the body: private to each thread.

    Before:
    ```mlir
    scf.parallel (%r) = (%c0) to (%n) step (%c1) {
      %s = memref.alloc() {alignment = 64 : i64} : memref<1xf32>
      linalg.fill ins(%zero : f32) outs(%s : memref<1xf32>)
      ...
      memref.dealloc %s : memref<1xf32>
    }
    ```
    After:
    ```mlir
    scf.parallel (%r) = (%c0) to (%n) step (%c1) {
      %s = memref.alloca() {alignment = 64 : i64} : memref<1xf32>
      linalg.fill ins(%zero : f32) outs(%s : memref<1xf32>)
      ...
    }
    ```
  }];
  let options = [
    Option<"hoist", "hoist", "bool", "false",
           "Move the allocas to the function's entry (sequential loops)">,
    Option<"maxBytes", "max-bytes", "int64_t", "4096",
           "Largest buffer put on the stack, in bytes">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def ShrinkBufferLifetimes : Pass<"fovea-shrink-buffer-lifetimes", "func::FuncOp"> {
  let summary = "Allocates each buffer at its first use and frees it after its last";
  let description = [{
    The buffer deallocation pipeline frees every buffer of a block at the
    end of that block, and bufferization allocates a buffer where its
    `tensor.empty` was, which CSE and `fovea-unshare-fills` may have put at
    the top of the function. In a model's `@run` both ends stretch a buffer
    over the whole function: the accumulators of all 32 ViT blocks are
    allocated before the first block runs and freed after the projector, and
    the runtime's caching pool cannot hand one block's buffers to the next.
    For each `memref.alloc` of the function's entry block whose
    `memref.dealloc` is in that block too, this pass moves the allocation to
    right before the first operation of the block that uses the buffer, and
    the deallocation to right after the last operation of the block that
    uses it or anything derived from it: its views, the base buffer of its
    metadata, the pointer taken from that and the integers computed from the
    pointer (what the runtime calls of the CPU code receive), memory such a
    value is stored into, and the results of any operation (and the
    arguments of any region) that sees one. An operation with a region counts
    as a use when anything inside it uses the buffer. Sizes (`memref.dim`)
    and floats loaded from the buffer do not carry it further. Buffers that
    leave the function, and allocations or deallocations in nested regions,
    are left where they are.

    Before:
    ```mlir
    %a = memref.alloc(%n) : memref<?x64xf32>
    %b = memref.alloc(%n) : memref<?x64xf32>
    linalg.fill ins(%zero : f32) outs(%a : memref<?x64xf32>)
    %p = memref.extract_aligned_pointer_as_index %a : memref<?x64xf32> -> index
    %i = arith.index_cast %p : index to i64
    call @kernel(%i) : (i64) -> ()
    linalg.fill ins(%zero : f32) outs(%b : memref<?x64xf32>)
    ...
    memref.dealloc %a : memref<?x64xf32>
    memref.dealloc %b : memref<?x64xf32>
    ```
    After:
    ```mlir
    %a = memref.alloc(%n) : memref<?x64xf32>
    linalg.fill ins(%zero : f32) outs(%a : memref<?x64xf32>)
    %p = memref.extract_aligned_pointer_as_index %a : memref<?x64xf32> -> index
    %i = arith.index_cast %p : index to i64
    call @kernel(%i) : (i64) -> ()
    memref.dealloc %a : memref<?x64xf32>
    %b = memref.alloc(%n) : memref<?x64xf32>
    linalg.fill ins(%zero : f32) outs(%b : memref<?x64xf32>)
    ...
    memref.dealloc %b : memref<?x64xf32>
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def OutlineLayers : Pass<"fovea-outline-layers", "ModuleOp"> {
  let summary = "Compiles the identical layers of a function once";
  let description = [{
    The importer gives the operations of ViT block `i` the location
    `"blocks.<i>"(...)`, and the passes keep an operation's location on what
    they lower it to. This pass finds, in the entry block of `function`, the
    range of each layer: from its first to its last operation with a region
    or a call (the loops and the runtime calls) tagged with that layer,
    with everything in between. It extracts each range into a candidate
    function (its live-in values become arguments in the order of first use,
    constants and globals are cloned in, the values used after the range are
    returned), compares the candidates' bodies ignoring locations, and keeps
    the largest set of equal layers (at least two) as one private function,
    `@<function>_layer`, marked `noinline`, called once per layer. Layers
    whose ranges overlap (a fused operation shared by two layers) or whose
    code differs stay inline. It runs after bufferization and buffer
    deallocation, so a layer frees in the callee what it freed in line, and
    LLVM compiles one layer instead of every one.

    Before:
    ```mlir
    func.func @run(%x: memref<8xf32>, %w0: memref<8xf32>, %w1: memref<8xf32>) -> memref<8xf32> {
      %a = memref.alloc() : memref<8xf32>
      scf.for ... { ... %x, %w0 -> %a ... } loc("blocks.0"(...))
      %b = memref.alloc() : memref<8xf32>
      scf.for ... { ... %a, %w1 -> %b ... } loc("blocks.1"(...))
      memref.dealloc %a : memref<8xf32>
      return %b : memref<8xf32>
    }
    ```
    After:
    ```mlir
    func.func @run(...) -> memref<8xf32> {
      %a = memref.alloc() : memref<8xf32>
      call @run_layer(%x, %w0, %a) : (...) -> ()
      %b = memref.alloc() : memref<8xf32>
      call @run_layer(%a, %w1, %b) : (...) -> ()
      memref.dealloc %a : memref<8xf32>
      return %b : memref<8xf32>
    }
    func.func private @run_layer(%x: memref<8xf32>, %w: memref<8xf32>, %out: memref<8xf32>)
        attributes {passthrough = ["noinline"]} { ... }
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", "\"run\"",
           "The function whose layers are outlined">,
    Option<"prefix", "prefix", "std::string", "\"blocks.\"",
           "The location name that tags a layer's operations, before its "
           "index">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

#endif // FOVEA_CODEGEN_COMMON_PASSES_TD
