//===- Pipelines.cpp - The phased pipeline builder ------------------------===//
//
// The phases, the part both targets share (vision, fused, linalg), the
// dispatch of the target phases, and the registered pipelines of fovea-opt.
// The target phases are in CpuPipeline.cpp and GpuPipeline.cpp.
//
//===----------------------------------------------------------------------===//

#include "fovea/Pipelines/Pipelines.h"

#include "PipelineStages.h"
#include "fovea/Codegen/CPU/Passes.h"
#include "fovea/Codegen/Common/Passes.h"
#include "fovea/Codegen/GPU/Passes.h"
#include "fovea/Conversion/Passes.h"
#include "fovea/Dialect/Vision/Transforms/FusionGroups.h"
#include "fovea/Dialect/Vision/Transforms/Passes.h"
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

llvm::Expected<std::vector<std::string>>
fovea::selectedFusionPasses(const PipelineOptions &options) {
  auto passes = vision::fusionPasses();
  llvm::StringRef set = options.fusion;
  if (set != "none" && set != "default" && set != "all")
    return llvm::createStringError("--fusion must be none, default or all, "
                                   "got '" +
                                   set.str() + "'");
  // A name given as the flag or without its `vision-fuse-` (`vision-`)
  // prefix.
  auto resolve =
      [&](llvm::StringRef list, llvm::StringRef option,
          llvm::SmallVectorImpl<llvm::StringRef> &names) -> llvm::Error {
    llvm::SmallVector<llvm::StringRef> items;
    list.split(items, ',', -1, /*KeepEmpty=*/false);
    for (llvm::StringRef item : items) {
      item = item.trim();
      const vision::FusionPassInfo *found =
          llvm::find_if(passes, [&](const vision::FusionPassInfo &pass) {
            return pass.flag == item ||
                   pass.flag == ("vision-fuse-" + item).str() ||
                   pass.flag == ("vision-" + item).str();
          });
      if (found == passes.end()) {
        std::string known;
        for (const vision::FusionPassInfo &pass : passes)
          known += (known.empty() ? "" : ", ") + pass.flag.str();
        return llvm::createStringError("--" + option.str() +
                                       ": unknown fusion pass '" + item.str() +
                                       "' (known: " + known + ")");
      }
      names.push_back(found->flag);
    }
    return llvm::Error::success();
  };
  llvm::SmallVector<llvm::StringRef> enabled, disabled;
  if (llvm::Error e = resolve(options.fusionEnable, "fusion-enable", enabled))
    return std::move(e);
  if (llvm::Error e =
          resolve(options.fusionDisable, "fusion-disable", disabled))
    return std::move(e);
  std::vector<std::string> selected;
  for (const vision::FusionPassInfo &pass : passes) {
    bool on = set == "all" || (set == "default" && pass.inDefault) ||
              llvm::is_contained(enabled, pass.flag);
    if (on && !llvm::is_contained(disabled, pass.flag))
      selected.push_back(pass.flag.str());
  }
  return selected;
}

/// `fused`: the selected fusion passes, in pipeline order.
static void addFusedPhase(OpPassManager &pm, const PipelineOptions &options) {
  llvm::Expected<std::vector<std::string>> passes =
      selectedFusionPasses(options);
  // The options model validated the selection before the pipeline is built.
  if (!passes) {
    llvm::consumeError(passes.takeError());
    return;
  }
  for (const vision::FusionPassInfo &pass : vision::fusionPasses())
    if (llvm::is_contained(*passes, pass.flag))
      pm.addNestedPass<func::FuncOp>(pass.create());
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
  // On the CPU attention becomes a call of the runtime's, whose contractions
  // run on the matmul microkernels.
  if (target == Target::CPU && options.microkernels)
    pm.addNestedPass<func::FuncOp>(vision::createCpuCallAttention());
  pm.addPass(vision::createConvertVisionToLinalg());
  // Elementwise arith on tensors (residual adds, casts) becomes linalg too.
  pm.addPass(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  // Each fusion group becomes one kernel / loop nest. The GPU's scalar
  // kernels fuse a contraction into its epilogue's loop; the tensor-core
  // kernel and the CPU's vectorized matmuls apply the epilogue themselves.
  vision::LowerFusionGroupsOptions groups;
  groups.fuseContractions = target == Target::CUDA && !options.tensorCores;
  // On the CPU the fused patch embedding ran 1.5x slower on `tiny`
  // (benchmarks/fusion_ablation.py): its group is kept for the report and
  // the GPU only.
  groups.fusePatchEmbed = target == Target::CUDA;
  pm.addNestedPass<func::FuncOp>(vision::createLowerFusionGroups(groups));
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
      addFusedPhase(pm, options);
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

/// Registers `fovea-<target>-pipeline`: the phases from `fused` on, with
/// the options checked first (an unknown fusion pass is an error, not a
/// pipeline that silently runs without it).
template <typename Options>
static void registerPipeline(llvm::StringRef arg, llvm::StringRef description,
                             Target target, Phase lastWithLLVM,
                             Phase lastWithoutLLVM) {
  registerPassPipeline(
      arg, description,
      [=](OpPassManager &pm, llvm::StringRef text,
          llvm::function_ref<LogicalResult(const llvm::Twine &)> error) {
        Options options;
        if (failed(options.parseFromString(text)))
          return failure();
        PipelineOptions pipeline = options.toPipelineOptions();
        if (llvm::Expected<std::vector<std::string>> fusions =
                selectedFusionPasses(pipeline);
            !fusions)
          return error(llvm::toString(fusions.takeError()));
        buildPipeline(pm, target, pipeline, Phase::Fused,
                      options.lowerToLLVM ? lastWithLLVM : lastWithoutLLVM);
        return success();
      },
      [](llvm::function_ref<void(const detail::PassOptions &)> handler) {
        handler(Options());
      });
}

void fovea::registerFoveaPipelines() {
  registerPipeline<CpuPipelineOptions>(
      "fovea-cpu-pipeline",
      "Lowers vision IR on tensors to the LLVM dialect for the host CPU "
      "(phases fused to llvm)",
      Target::CPU, Phase::LLVM, Phase::Bufferized);
  registerPipeline<GpuPipelineOptions>(
      "fovea-gpu-pipeline",
      "Lowers vision IR on tensors to NVIDIA GPU kernels (NVVM, PTX) and the "
      "host code that launches them (phases fused to llvm)",
      Target::CUDA, Phase::LLVM, Phase::GPU);
}
