//===- Pipelines.h - Fovea's compilation pipeline ---------------*- C++ -*-===//
//
// One pipeline builder with named phases, shared by fovea-opt (as the
// registered fovea-cpu-pipeline and fovea-gpu-pipeline), the driver and the
// Python package. `buildPipeline(pm, target, options, first, last)` adds the
// passes of phases `first`..`last`; `--compile-to` stops after any phase.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_PIPELINES_PIPELINES_H
#define FOVEA_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include <optional>
#include <string>
#include <vector>

#ifndef FOVEA_CUDA_PATH
#define FOVEA_CUDA_PATH ""
#endif

namespace fovea {

/// What code is generated for.
enum class Target { CPU, CUDA };

/// The named phases of the pipeline, in order. Each phase's IR can be
/// printed (`fovea-compile --compile-to <name>`).
enum class Phase {
  /// The imported vision IR, canonicalized.
  Vision,
  /// After the vision-level fusion passes (fusion groups).
  Fused,
  /// After convert-vision-to-linalg (linalg/tensor/arith/math/scf).
  Linalg,
  /// After weight-only hoisting, target shaping of the linalg ops and
  /// bufferization: loops on memrefs (CPU), loops mapped to blocks and
  /// threads (GPU).
  Bufferized,
  /// GPU target: after kernel outlining (host functions launching
  /// gpu.module kernels, before NVVM).
  GPU,
  /// The LLVM dialect (for GPUs with the kernels embedded as gpu.binary).
  LLVM,
  /// GPU target: the PTX of every kernel module (translated from `LLVM`).
  PTX,
  /// LLVM IR text (translated from `LLVM`).
  LLVMIR,
};

/// The name of a phase (`vision`, `fused`, ..., `llvm-ir`).
llvm::StringRef phaseName(Phase phase);
/// One line on what a phase's IR is.
llvm::StringRef phaseDescription(Phase phase);
/// Parses a phase name.
std::optional<Phase> parsePhase(llvm::StringRef name);
/// The phases of `target`, in pipeline order.
llvm::ArrayRef<Phase> phasesOf(Target target);
/// The phases that are translations of the LLVM dialect rather than pass
/// pipelines (`ptx`, `llvm-ir`).
inline bool isTranslationPhase(Phase phase) {
  return phase == Phase::PTX || phase == Phase::LLVMIR;
}

/// The options of the pipeline: one field per entry of PipelineOptions.def.
struct PipelineOptions {
#define FOVEA_PIPELINE_OPTION(SCOPE, FLAG, FIELD, TYPE, DEFAULT, VALUE_DESC,   \
                              HELP)                                            \
  TYPE FIELD = DEFAULT;
#define FOVEA_PIPELINE_LIST_OPTION(SCOPE, FLAG, FIELD, ELEMENT, VALUE_DESC,    \
                                   HELP)                                       \
  std::vector<ELEMENT> FIELD;
#include "fovea/Pipelines/PipelineOptions.def"
  /// GPU, for tests: lower the loop nests mapped to blocks and threads (and
  /// the emulated tensor-core kernels) for the host CPU instead of the GPU.
  bool emulateOnHost = false;
};

/// Adds the passes of phases `first` to `last` (both included) for
/// `target`. Translation phases add no passes (they print `LLVM`).
void buildPipeline(mlir::OpPassManager &pm, Target target,
                   const PipelineOptions &options, Phase first, Phase last);

/// How the kernels are embedded: `gpu-binary` as given, or for `auto`
/// cubin when the toolkit at `cuda-path` has an executable bin/ptxas, else
/// ptx.
std::string resolvedGpuBinary(const PipelineOptions &options);

/// The vision-level fusion passes `options` selects (`fusion`,
/// `fusion-enable`, `fusion-disable`), by flag, in pipeline order; an
/// unknown name or --fusion value is an error naming it.
llvm::Expected<std::vector<std::string>>
selectedFusionPasses(const PipelineOptions &options);

/// One-shot bufferization (identity layouts at function boundaries) with
/// buffer deallocation, then bufferization ops to memref.
void buildBufferizationPipeline(mlir::OpPassManager &pm);

/// Bufferized loops, vectors, memrefs and arith/math to the LLVM dialect for
/// the host (the tail of the CPU pipeline). `runtimeAllocation`: buffers
/// come from the runtime's caching pool (`_mlir_memref_to_llvm_alloc` and
/// friends, lib/Runtime/HostMemory.cpp) instead of malloc.
void buildHostLoweringPipeline(mlir::OpPassManager &pm, bool expandBf16,
                               bool runtimeAllocation);

// Option declarations of the registered pipelines: an entry of
// PipelineOptions.def becomes an option of `fovea-<TARGET>-pipeline` when its
// scope is Common or TARGET.
#define FOVEA_SCOPE_CPU_Common(...) __VA_ARGS__
#define FOVEA_SCOPE_CPU_CPU(...) __VA_ARGS__
#define FOVEA_SCOPE_CPU_GPU(...)
#define FOVEA_SCOPE_GPU_Common(...) __VA_ARGS__
#define FOVEA_SCOPE_GPU_CPU(...)
#define FOVEA_SCOPE_GPU_GPU(...) __VA_ARGS__
#define FOVEA_REGISTERED_OPTION(TARGET, SCOPE, FLAG, FIELD, TYPE, DEFAULT,     \
                                HELP)                                          \
  FOVEA_SCOPE_##TARGET##_##SCOPE(Option<TYPE> FIELD{                           \
      *this, FLAG, llvm::cl::desc(HELP), llvm::cl::init(DEFAULT)};)
#define FOVEA_REGISTERED_LIST_OPTION(TARGET, SCOPE, FLAG, FIELD, ELEMENT,      \
                                     HELP)                                     \
  FOVEA_SCOPE_##TARGET##_##SCOPE(                                              \
      ListOption<ELEMENT> FIELD{*this, FLAG, llvm::cl::desc(HELP)};)

/// The textual options of `fovea-cpu-pipeline`.
struct CpuPipelineOptions : mlir::PassPipelineOptions<CpuPipelineOptions> {
  Option<bool> lowerToLLVM{
      *this, "lower-to-llvm",
      llvm::cl::desc("Lower to the LLVM dialect (false stops after the "
                     "`bufferized` phase, for inspection)"),
      llvm::cl::init(true)};
#define FOVEA_PIPELINE_OPTION(SCOPE, FLAG, FIELD, TYPE, DEFAULT, VALUE_DESC,   \
                              HELP)                                            \
  FOVEA_REGISTERED_OPTION(CPU, SCOPE, FLAG, FIELD, TYPE, DEFAULT, HELP)
#define FOVEA_PIPELINE_LIST_OPTION(SCOPE, FLAG, FIELD, ELEMENT, VALUE_DESC,    \
                                   HELP)                                       \
  FOVEA_REGISTERED_LIST_OPTION(CPU, SCOPE, FLAG, FIELD, ELEMENT, HELP)
#include "fovea/Pipelines/PipelineOptions.def"

  /// The values as the builder takes them (the other fields default).
  PipelineOptions toPipelineOptions() const;
};

/// The textual options of `fovea-gpu-pipeline`.
struct GpuPipelineOptions : mlir::PassPipelineOptions<GpuPipelineOptions> {
  Option<bool> lowerToLLVM{
      *this, "lower-to-llvm",
      llvm::cl::desc("Lower to NVVM/PTX and the host's LLVM dialect (false "
                     "stops after the `gpu` phase, for inspection)"),
      llvm::cl::init(true)};
  Option<bool> emulateOnHost{
      *this, "emulate-on-host",
      llvm::cl::desc("For tests: stop after mapping the loop nests to blocks "
                     "and threads and lower them for the host CPU instead of "
                     "the GPU: runs the GPU loop structure on the CPU"),
      llvm::cl::init(false)};
#define FOVEA_PIPELINE_OPTION(SCOPE, FLAG, FIELD, TYPE, DEFAULT, VALUE_DESC,   \
                              HELP)                                            \
  FOVEA_REGISTERED_OPTION(GPU, SCOPE, FLAG, FIELD, TYPE, DEFAULT, HELP)
#define FOVEA_PIPELINE_LIST_OPTION(SCOPE, FLAG, FIELD, ELEMENT, VALUE_DESC,    \
                                   HELP)                                       \
  FOVEA_REGISTERED_LIST_OPTION(GPU, SCOPE, FLAG, FIELD, ELEMENT, HELP)
#include "fovea/Pipelines/PipelineOptions.def"

  /// The values as the builder takes them (the other fields default).
  PipelineOptions toPipelineOptions() const;
};

/// Registers `fovea-cpu-pipeline` and `fovea-gpu-pipeline` (phases `fused`
/// to `llvm`) with the pass registry.
void registerFoveaPipelines();

} // namespace fovea

#endif // FOVEA_PIPELINES_PIPELINES_H
