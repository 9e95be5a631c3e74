//===- fovea-compile.cpp - Fovea's model compiler -------------------------===//
//
// A model config (or preset) in, the IR of a compilation phase out. The work
// is in the FoveaDriver library; this file parses flags.
//
//===----------------------------------------------------------------------===//

#include "fovea/Driver/Compile.h"
#include "fovea/InitFovea.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

namespace cl = llvm::cl;
using namespace fovea;

static cl::OptionCategory category("fovea-compile options");

static cl::opt<std::string>
    configPath("config",
               cl::desc("Hugging Face config.json (or its directory)"),
               cl::value_desc("path"), cl::cat(category));
static cl::opt<std::string>
    preset("preset",
           cl::desc("Built-in model: nano-v2-vl, omni, tiny, tiny-video, "
                    "tiny-dynamic"),
           cl::value_desc("name"), cl::cat(category));
static cl::opt<Target> target(
    "target", cl::desc("Code generation target"),
    cl::values(clEnumValN(Target::CPU, "cpu", "the host CPU (default)"),
               clEnumValN(Target::CUDA, "cuda", "NVIDIA GPUs through NVPTX")),
    cl::init(Target::CPU), cl::cat(category));
static cl::opt<std::string>
    gpuArch("gpu-arch",
            cl::desc("CUDA: GPU architecture (sm_90a default, sm_90, sm_89, "
                     "sm_86, sm_80)"),
            cl::value_desc("sm_XX"), cl::init("sm_90a"), cl::cat(category));
static cl::opt<std::string> gpuBinary(
    "gpu-binary",
    cl::desc("CUDA: how kernels are embedded: ptx (default; JIT-compiled by "
             "the driver at load), cubin or fatbin (need ptxas)"),
    cl::value_desc("ptx|cubin|fatbin"), cl::init("ptx"), cl::cat(category));
static cl::opt<bool> tensorCores(
    "tensor-cores",
    cl::desc("CUDA, experimental: bf16 matmuls (with their epilogues) and "
             "attention (flash-style) as mma.sync tensor-core kernels; not "
             "yet run on a GPU"),
    cl::init(false), cl::cat(category));
static cl::opt<int64_t>
    maxFrames("max-frames",
              cl::desc("Video: the most frames one run accepts (default 128)"),
              cl::init(128), cl::cat(category));
static cl::opt<InputKind> inputKind(
    "input-kind", cl::desc("What the module consumes"),
    cl::values(clEnumValN(InputKind::Image, "image", "images (default)"),
               clEnumValN(InputKind::Video, "video",
                          "video frames, grouped into tubelets")),
    cl::init(InputKind::Image), cl::cat(category));
static cl::opt<std::string> imageSize(
    "image-size",
    cl::desc("Compiled resolution HxW (default: the config's tile size)"),
    cl::value_desc("HxW"), cl::cat(category));
static cl::opt<std::string> sourceSize(
    "source-size",
    cl::desc("Size HxW of the decoded images or frames the module takes; "
             "the graph resizes them (frames per the config's frame sizing, "
             "images to tiles or the dynamic-resolution size, or to "
             "--image-size when given). Dynamic-resolution models take a "
             "list HxW,HxW,...: one input per image, packed into one "
             "sequence"),
    cl::value_desc("HxW[,HxW...]"), cl::cat(category));
static cl::opt<int64_t> maxModelLen(
    "max-model-len",
    cl::desc("Packed images: the context length their patch budgets share "
             "(vLLM's --max-model-len; default: no limit, each image gets "
             "max_num_patches)"),
    cl::init(0), cl::cat(category));
static cl::opt<int64_t> promptTokens(
    "prompt-tokens",
    cl::desc("Packed images: the prompt's text tokens, taken from the "
             "context before the budgets (default 0)"),
    cl::init(0), cl::cat(category));
static cl::opt<ResizeDomain> resizeDomain(
    "resize-domain", cl::desc("Numeric domain of the in-graph resize"),
    cl::values(clEnumValN(ResizeDomain::U8, "u8",
                          "u8 passes, Pillow-compatible (default, vLLM)"),
               clEnumValN(ResizeDomain::F32Clamp, "f32_clamp",
                          "f32 passes, clamped once (TRT-LLM)")),
    cl::init(ResizeDomain::U8), cl::cat(category));
static cl::opt<ElementType> dtype(
    "dtype", cl::desc("Storage type of weights and activations"),
    cl::values(clEnumValN(ElementType::BF16, "bf16", "bfloat16 (default)"),
               clEnumValN(ElementType::F32, "f32", "float32")),
    cl::init(ElementType::BF16), cl::cat(category));
static cl::opt<double> evsRate("evs-rate",
                               cl::desc("EVS pruning rate for video, in [0, "
                                        "1); 0 disables EVS"),
                               cl::init(0.0), cl::cat(category));
static cl::opt<std::string>
    compileTo("compile-to",
              cl::desc("Stop after a phase and print its IR: vision, linalg, "
                       "gpu (cuda), llvm, llvm-ir (default), ptx (cuda)"),
              cl::value_desc("phase"), cl::init("llvm-ir"), cl::cat(category));
static cl::opt<Emit> emit(
    "emit", cl::desc("Build an artifact instead of printing IR"),
    cl::values(clEnumValN(Emit::Module, "module",
                          "a runtime module (.so exporting the C ABI)"),
               clEnumValN(Emit::Executable, "exe", "a standalone executable")),
    cl::init(Emit::IR), cl::cat(category));
static cl::opt<bool> hoistWeightOnly(
    "hoist-weight-only",
    cl::desc("Compute what depends only on the weights once, at load "
             "(@init); false keeps @run self-contained"),
    cl::init(true), cl::cat(category));
static cl::opt<std::string> outputPath("o", cl::desc("Output file"),
                                       cl::value_desc("path"), cl::init("-"),
                                       cl::cat(category));

/// Prints one error line and returns the exit code.
static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "fovea-compile") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Pass names resolve in --mlir-print-ir-after=<pass> and friends.
  mlir::vision::registerFoveaPasses();
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "Fovea model compiler\n");

  if (configPath.empty() == preset.empty())
    return fail("give exactly one of --config and --preset");
  llvm::Expected<ModelConfig> config =
      preset.empty() ? loadModelConfig(configPath) : getPreset(preset);
  if (!config)
    return fail(llvm::toString(config.takeError()));
  if (!configPath.empty()) {
    llvm::SmallString<256> dir(configPath);
    if (!llvm::sys::fs::is_directory(dir))
      llvm::sys::path::remove_filename(dir);
    if (dir.empty())
      dir = ".";
    if (llvm::Error e = reconcileWithCheckpoint(*config, dir))
      return fail(llvm::toString(std::move(e)));
  }
  for (const cl::Option *flag : {static_cast<const cl::Option *>(&gpuArch),
                                 static_cast<const cl::Option *>(&gpuBinary),
                                 static_cast<const cl::Option *>(&tensorCores)})
    if (flag->getNumOccurrences() && target != Target::CUDA)
      return fail("--" + flag->ArgStr + " applies to --target cuda only");
  std::optional<std::string> format =
      llvm::StringSwitch<std::optional<std::string>>(gpuBinary)
          .Case("ptx", "isa")
          .Case("cubin", "bin")
          .Case("fatbin", "fatbin")
          .Default(std::nullopt);
  if (!format)
    return fail("--gpu-binary expects ptx, cubin or fatbin, got '" + gpuBinary +
                "'");
  if (maxFrames.getNumOccurrences() && inputKind != InputKind::Video)
    return fail("--max-frames applies to video input only");
  if (maxFrames <= 0)
    return fail("--max-frames must be positive, got " +
                llvm::Twine(maxFrames.getValue()));

  CompileOptions options;
  std::optional<Phase> phase = parsePhase(compileTo);
  if (!phase)
    return fail("unknown phase '" + compileTo +
                "' for --compile-to (vision, linalg, gpu, llvm, llvm-ir, ptx)");
  options.phase = *phase;
  options.emit = emit;
  options.hoistWeightOnly = hoistWeightOnly;
  if (emit != Emit::IR) {
    if (compileTo.getNumOccurrences())
      return fail("--emit and --compile-to exclude each other");
    if (outputPath == "-")
      return fail("--emit " +
                  std::string(emit == Emit::Module ? "module" : "exe") +
                  " needs an output file (-o)");
    options.outputPath = outputPath;
  }
  options.target = target;
  options.gpuArch = gpuArch;
  options.gpuBinary = *format;
  options.gpuTensorCores = tensorCores;
  options.import.inputKind = inputKind;
  options.import.elementType = dtype;
  options.import.evsRate = evsRate;
  options.import.maxFrames = maxFrames;
  auto parseSize = [](llvm::StringRef text, int64_t &height, int64_t &width) {
    auto [h, w] = text.split('x');
    return !h.getAsInteger(10, height) && !w.getAsInteger(10, width) &&
           height > 0 && width > 0;
  };
  if (!imageSize.empty() &&
      !parseSize(imageSize, options.import.height, options.import.width))
    return fail("--image-size expects HxW (e.g. 512x512), got '" + imageSize +
                "'");
  if (!sourceSize.empty()) {
    llvm::SmallVector<llvm::StringRef> sizes;
    llvm::StringRef(sourceSize).split(sizes, ',');
    for (llvm::StringRef text : sizes) {
      int64_t height = 0, width = 0;
      if (!parseSize(text, height, width))
        return fail("--source-size expects HxW or a list HxW,HxW,... (e.g. "
                    "1080x1920), got '" +
                    sourceSize + "'");
      options.import.packedSources.push_back({height, width});
    }
    if (sizes.size() == 1) {
      std::tie(options.import.sourceHeight, options.import.sourceWidth) =
          options.import.packedSources.front();
      options.import.packedSources.clear();
    }
  }
  if ((maxModelLen.getNumOccurrences() || promptTokens.getNumOccurrences()) &&
      options.import.packedSources.empty())
    return fail("--max-model-len and --prompt-tokens set the budgets of packed "
                "images (a list of --source-size) only");
  options.import.maxModelLen = maxModelLen;
  options.import.promptTokens = promptTokens;
  if (resizeDomain.getNumOccurrences() && sourceSize.empty())
    return fail("--resize-domain needs --source-size (without it the module "
                "takes pixels at the compiled size and does not resize)");
  options.import.resizeDomain = resizeDomain;
  mlir::DefaultTimingManager timing;
  mlir::applyDefaultTimingManagerCLOptions(timing);
  mlir::TimingScope timingScope = timing.getRootScope();
  options.configurePassManager = [&](mlir::PassManager &pm) {
    pm.enableTiming(timingScope);
    return mlir::applyPassManagerCLOptions(pm);
  };

  if (emit != Emit::IR) {
    if (llvm::Error e = compileModel(*config, options, llvm::nulls()))
      return fail(llvm::toString(std::move(e)));
    return 0;
  }
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputPath, &error);
  if (!output)
    return fail(error);
  if (llvm::Error e = compileModel(*config, options, output->os()))
    return fail(llvm::toString(std::move(e)));
  output->keep();
  return 0;
}
