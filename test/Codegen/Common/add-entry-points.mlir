// RUN: fovea-opt %s --split-input-file --verify-diagnostics --fovea-add-entry-points | FileCheck %s

// The packed entry points unpack the descriptor array (results first) into
// the C interfaces of @run and @init; the metadata becomes a NUL-terminated
// constant behind its accessor, and the attribute is gone.
// CHECK-LABEL: module {
// CHECK-NOT: vision.metadata
// CHECK-LABEL: llvm.func @fovea_entry(
// CHECK-SAME: %[[ARRAY:.*]]: !llvm.ptr)
// CHECK: %[[S0:.*]] = llvm.getelementptr %[[ARRAY]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[D0:.*]] = llvm.load %[[S0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[S1:.*]] = llvm.getelementptr %[[ARRAY]][1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[D1:.*]] = llvm.load %[[S1]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[S2:.*]] = llvm.getelementptr %[[ARRAY]][2]
// CHECK: %[[D2:.*]] = llvm.load %[[S2]]
// CHECK: llvm.call @_mlir_ciface_run(%[[D0]], %[[D1]], %[[D2]])
// CHECK: llvm.return
// CHECK-LABEL: llvm.func @fovea_init_entry(
// CHECK: llvm.call @_mlir_ciface_init(
// CHECK: llvm.mlir.global internal constant @fovea_metadata("{\22fovea_module\22: 2}\00")
// CHECK-LABEL: llvm.func @fovea_module_metadata_json() -> !llvm.ptr
// CHECK: %[[ADDRESS:.*]] = llvm.mlir.addressof @fovea_metadata : !llvm.ptr
// CHECK: llvm.return %[[ADDRESS]] : !llvm.ptr
module attributes {vision.metadata = "{\22fovea_module\22: 2}"} {
  llvm.func @_mlir_ciface_run(!llvm.ptr, !llvm.ptr, !llvm.ptr)
  llvm.func @_mlir_ciface_init(!llvm.ptr, !llvm.ptr)
}

// -----

// The C interfaces only unpack descriptors into a call of the function: they
// are compiled without optimization (a model's @run has thousands of
// arguments) and do not absorb it.
// CHECK-LABEL: llvm.func @_mlir_ciface_run(
// CHECK-SAME: passthrough = ["noinline", "optnone"]
// CHECK-LABEL: llvm.func @_mlir_ciface_init(
// CHECK-SAME: passthrough = ["noinline", "optnone"]
// CHECK-LABEL: llvm.func @fovea_entry(
// CHECK-LABEL: llvm.func @fovea_init_entry(
// CHECK-NEXT: llvm.getelementptr
// CHECK: llvm.call @_mlir_ciface_init(
module attributes {vision.metadata = "{}"} {
  llvm.func @run(!llvm.ptr)
  llvm.func @_mlir_ciface_run(%arg0: !llvm.ptr) {
    llvm.call @run(%arg0) : (!llvm.ptr) -> ()
    llvm.return
  }
  llvm.func @init(!llvm.ptr)
  llvm.func @_mlir_ciface_init(%arg0: !llvm.ptr) attributes {passthrough = ["noinline"]} {
    llvm.call @init(%arg0) : (!llvm.ptr) -> ()
    llvm.return
  }
}

// -----

// Without @init, the init entry does nothing.
// CHECK-LABEL: llvm.func @fovea_init_entry(
// CHECK-NEXT: llvm.return
module attributes {vision.metadata = "{}"} {
  llvm.func @_mlir_ciface_run(!llvm.ptr)
}

// -----

// expected-error @+1 {{expects the C interface of @run ('_mlir_ciface_run'): lower to the LLVM dialect first}}
module attributes {vision.metadata = "{}"} {
}

// -----

// expected-error @+1 {{expects the metadata JSON in the module attribute 'vision.metadata'}}
module {
  llvm.func @_mlir_ciface_run(!llvm.ptr)
}

// -----

// expected-error @+1 {{already defines 'fovea_entry'}}
module attributes {vision.metadata = "{}"} {
  llvm.func @_mlir_ciface_run(!llvm.ptr)
  llvm.func @fovea_entry(!llvm.ptr)
}
