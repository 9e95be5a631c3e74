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
    is an error.

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

#endif // FOVEA_CODEGEN_COMMON_PASSES_TD
