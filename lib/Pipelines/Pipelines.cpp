//===- Pipelines.cpp - The phased pipeline builder ------------------------===//
//
// The phases, the part both targets share (vision, fused, linalg), the
// dispatch of the target phases, and the registered pipelines of fovea-opt.
// The target phases are in CpuPipeline.cpp and GpuPipeline.cpp.
//
//===----------------------------------------------------------------------===//

#include "fovea/Pipelines/Pipelines.h"

#include "PipelineStages.h"
#include "fovea/Codegen/GPU/Passes.h"
#include "fovea/Conversion/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace fovea;

namespace {
/// A phase's name and what its IR is.
struct PhaseInfo {
  Phase phase;
  llvm::StringLiteral name, description;
};
} // namespace

static constexpr PhaseInfo kPhases[] = {
    {Phase::Vision, "vision", "the imported vision IR, canonicalized"},
    {Phase::Fused, "fused", "after the vision-level fusion passes"},
    {Phase::Linalg, "linalg",
     "after convert-vision-to-linalg (linalg, tensor, arith, math)"},
    {Phase::Bufferized, "bufferized",
     "weight-only work hoisted into @init, target shaping, bufferized loops "
     "(GPU: mapped to blocks and threads)"},
    {Phase::GPU, "gpu",
     "host functions launching outlined gpu.module kernels, before NVVM"},
    {Phase::LLVM, "llvm",
     "the LLVM dialect (GPU: kernels embedded as gpu.binary)"},
    {Phase::PTX, "ptx", "the PTX of every kernel module"},
    {Phase::LLVMIR, "llvm-ir", "LLVM IR text"},
};

static const PhaseInfo &info(Phase phase) {
  return kPhases[static_cast<size_t>(phase)];
}

llvm::StringRef fovea::phaseName(Phase phase) { return info(phase).name; }

llvm::StringRef fovea::phaseDescription(Phase phase) {
  return info(phase).description;
}

std::optional<Phase> fovea::parsePhase(llvm::StringRef name) {
  for (const PhaseInfo &phase : kPhases)
    if (phase.name == name)
      return phase.phase;
  return std::nullopt;
}

llvm::ArrayRef<Phase> fovea::phasesOf(Target target) {
  static constexpr Phase cpu[] = {Phase::Vision, Phase::Fused,
                                  Phase::Linalg, Phase::Bufferized,
                                  Phase::LLVM,   Phase::LLVMIR};
  static constexpr Phase gpu[] = {
      Phase::Vision, Phase::Fused, Phase::Linalg, Phase::Bufferized,
      Phase::GPU,    Phase::LLVM,  Phase::PTX,    Phase::LLVMIR};
  if (target == Target::CUDA)
    return gpu;
  return cpu;
}

/// `vision`: the imported IR canonicalized (folds of the vision ops).
static void addVisionPhase(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
}

/// `linalg`: vision ops to linalg on tensors. On the GPU with tensor cores,
/// attention first leaves vision IR as one flash kernel, before it would
/// become separate linalg contractions and softmax reductions.
static void addLinalgPhase(OpPassManager &pm, Target target,
                           const PipelineOptions &options) {
  if (target == Target::CUDA && options.tensorCores) {
    vision::GpuFlashAttentionOptions flash;
    flash.emulateWarps = options.emulateOnHost;
    pm.addNestedPass<func::FuncOp>(vision::createGpuFlashAttention(flash));
  }
  pm.addPass(vision::createConvertVisionToLinalg());
  // Elementwise arith on tensors (residual adds, casts) becomes linalg too.
  pm.addPass(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
}

void fovea::buildPipeline(OpPassManager &pm, Target target,
                          const PipelineOptions &options, Phase first,
                          Phase last) {
  for (Phase phase : phasesOf(target)) {
    if (phase < first || phase > last)
      continue;
    switch (phase) {
    case Phase::Vision:
      addVisionPhase(pm);
      break;
    case Phase::Fused:
      // The vision-level fusion passes come here.
      break;
    case Phase::Linalg:
      addLinalgPhase(pm, target, options);
      break;
    case Phase::Bufferized:
      if (target == Target::CUDA) {
        addGpuBufferizedPhase(pm, options);
        // Emulation ends with the host lowering of the mapped loops.
        if (options.emulateOnHost)
          return;
      } else {
        addCpuBufferizedPhase(pm, options);
      }
      break;
    case Phase::GPU:
      addGpuKernelsPhase(pm);
      break;
    case Phase::LLVM:
      if (target == Target::CUDA)
        addGpuLLVMPhase(pm, options);
      else
        addCpuLLVMPhase(pm, options);
      break;
    case Phase::PTX:
    case Phase::LLVMIR:
      // Translations of the LLVM dialect: no passes.
      break;
    }
  }
}

PipelineOptions CpuPipelineOptions::toPipelineOptions() const {
  PipelineOptions options;
#define FOVEA_PIPELINE_OPTION(SCOPE, FLAG, FIELD, TYPE, DEFAULT, VALUE_DESC,   \
                              HELP)                                            \
  FOVEA_SCOPE_CPU_##SCOPE(options.FIELD = FIELD;)
#define FOVEA_PIPELINE_LIST_OPTION(SCOPE, FLAG, FIELD, ELEMENT, VALUE_DESC,    \
                                   HELP)                                       \
  FOVEA_SCOPE_CPU_##SCOPE(options.FIELD.assign(FIELD.begin(), FIELD.end());)
#include "fovea/Pipelines/PipelineOptions.def"
  return options;
}

PipelineOptions GpuPipelineOptions::toPipelineOptions() const {
  PipelineOptions options;
#define FOVEA_PIPELINE_OPTION(SCOPE, FLAG, FIELD, TYPE, DEFAULT, VALUE_DESC,   \
                              HELP)                                            \
  FOVEA_SCOPE_GPU_##SCOPE(options.FIELD = FIELD;)
#define FOVEA_PIPELINE_LIST_OPTION(SCOPE, FLAG, FIELD, ELEMENT, VALUE_DESC,    \
                                   HELP)                                       \
  FOVEA_SCOPE_GPU_##SCOPE(options.FIELD.assign(FIELD.begin(), FIELD.end());)
#include "fovea/Pipelines/PipelineOptions.def"
  options.emulateOnHost = emulateOnHost;
  return options;
}

void fovea::registerFoveaPipelines() {
  PassPipelineRegistration<CpuPipelineOptions>(
      "fovea-cpu-pipeline",
      "Lowers vision IR on tensors to the LLVM dialect for the host CPU "
      "(phases fused to llvm)",
      [](OpPassManager &pm, const CpuPipelineOptions &options) {
        buildPipeline(pm, Target::CPU, options.toPipelineOptions(),
                      Phase::Fused,
                      options.lowerToLLVM ? Phase::LLVM : Phase::Bufferized);
      });
  PassPipelineRegistration<GpuPipelineOptions>(
      "fovea-gpu-pipeline",
      "Lowers vision IR on tensors to NVIDIA GPU kernels (NVVM, PTX) and the "
      "host code that launches them (phases fused to llvm)",
      [](OpPassManager &pm, const GpuPipelineOptions &options) {
        buildPipeline(pm, Target::CUDA, options.toPipelineOptions(),
                      Phase::Fused,
                      options.lowerToLLVM ? Phase::LLVM : Phase::GPU);
      });
}
