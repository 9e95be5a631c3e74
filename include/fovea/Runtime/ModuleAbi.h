//===- ModuleAbi.h - The contract of compiled modules -----------*- C++ -*-===//
//
// What the compiler generates in every module and the runtime calls: the
// symbol names, their calling convention and the ABI version the metadata
// carries. The compiler (the fovea-add-entry-points pass) and the runtime
// (Module.cpp, the module loader) both take the names from here.
//
// Calling convention of the entry points: one argument, an array of
// pointers to memref descriptors (allocated pointer, aligned pointer,
// offset, sizes, strides; 8 bytes each), the descriptors of the results
// first (filled by the callee, in result order), then the arguments in
// argument order. `FOVEA_ABI_RUN_ENTRY` calls `@run`, `FOVEA_ABI_INIT_ENTRY`
// calls `@init` (an empty function in modules without one).
// `FOVEA_ABI_METADATA` returns the metadata JSON (NUL-terminated, owned by
// the module); its key `kVersionKey` holds `kVersion`.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_RUNTIME_MODULEABI_H
#define FOVEA_RUNTIME_MODULEABI_H

#include <cstdint>

#define FOVEA_ABI_RUN_ENTRY fovea_entry
#define FOVEA_ABI_INIT_ENTRY fovea_init_entry
#define FOVEA_ABI_METADATA fovea_module_metadata_json

#define FOVEA_ABI_STRINGIFY_(name) #name
#define FOVEA_ABI_STRINGIFY(name) FOVEA_ABI_STRINGIFY_(name)

namespace fovea::abi {

/// The version of this contract. Bump it whenever a symbol, the calling
/// convention or the meaning of a metadata key changes: a runtime refuses
/// modules of another version.
inline constexpr int64_t kVersion = 5;
/// The metadata key holding the version.
inline constexpr const char kVersionKey[] = "fovea_module";

/// The packed entry point of `@run`.
inline constexpr const char kRunEntry[] =
    FOVEA_ABI_STRINGIFY(FOVEA_ABI_RUN_ENTRY);
/// The packed entry point of `@init`.
inline constexpr const char kInitEntry[] =
    FOVEA_ABI_STRINGIFY(FOVEA_ABI_INIT_ENTRY);
/// The accessor of the metadata JSON.
inline constexpr const char kMetadataAccessor[] =
    FOVEA_ABI_STRINGIFY(FOVEA_ABI_METADATA);
/// The global holding the metadata text.
inline constexpr const char kMetadataGlobal[] = "fovea_metadata";

/// The functions the entry points call: the C interfaces MLIR's
/// `llvm.emit_c_interface` generates for `@run` and `@init`.
inline constexpr const char kRunFunction[] = "_mlir_ciface_run";
inline constexpr const char kInitFunction[] = "_mlir_ciface_init";

} // namespace fovea::abi

/// The symbols of the compiled code, as the runtime links against them.
extern "C" {
void FOVEA_ABI_RUN_ENTRY(void **descriptors);
void FOVEA_ABI_INIT_ENTRY(void **descriptors);
const char *FOVEA_ABI_METADATA(void);
}

#endif // FOVEA_RUNTIME_MODULEABI_H
