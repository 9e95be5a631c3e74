//===- Compile.cpp - The compiler driver as a library ---------------------===//
//
// Imports a model, runs the phases up to the requested one, prints the IR.
//
//===----------------------------------------------------------------------===//

#include "fovea/Driver/Compile.h"

#include "fovea/Codegen/Common/Passes.h"
#include "fovea/Dialect/Vision/IR/VisionDialect.h"
#include "fovea/Driver/FusionReport.h"
#include "fovea/InitFovea.h"
#include "fovea/Pipelines/Pipelines.h"
#include "fovea/Runtime/ModuleAbi.h"
#include "fovea/Support/CpuFeatures.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Target/LLVMIR/LLVMTranslationInterface.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace fovea;
using namespace mlir;

llvm::Expected<ModelConfig> fovea::loadModel(llvm::StringRef configPath,
                                             llvm::StringRef preset) {
  if (configPath.empty() == preset.empty())
    return llvm::createStringError("give exactly one of --config and --preset");
  if (!preset.empty())
    return getPreset(preset);
  llvm::Expected<ModelConfig> config = loadModelConfig(configPath);
  if (!config)
    return config.takeError();
  // The checkpoint beside the config decides what only it knows.
  llvm::SmallString<256> dir(configPath);
  if (!llvm::sys::fs::is_directory(dir))
    llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  if (llvm::Error e = reconcileWithCheckpoint(*config, dir))
    return std::move(e);
  return config;
}

llvm::Expected<HostCpu> fovea::resolveHostCpu(const CompileOptions &options) {
  HostCpu cpu;
  cpu.march = !options.targetCpu.empty()       ? options.targetCpu
              : options.target == Target::CUDA ? "x86-64"
                                               : "native";
  llvm::StringMap<bool> enabled;
  if (cpu.march == "native") {
    cpu.name = llvm::sys::getHostCPUName().str();
    // The recorded names are x86's: another host records none.
    if (llvm::Triple(llvm::sys::getProcessTriple()).getArch() ==
        llvm::Triple::x86_64)
      enabled = llvm::sys::getHostCPUFeatures();
  } else {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86TargetMC();
    llvm::Triple triple("x86_64-unknown-linux-gnu");
    std::string error;
    const llvm::Target *target =
        llvm::TargetRegistry::lookupTarget(triple, error);
    std::unique_ptr<llvm::MCSubtargetInfo> info(
        target ? target->createMCSubtargetInfo(triple, "x86-64", "") : nullptr);
    if (!info)
      return llvm::createStringError("internal error: no x86-64 target: " +
                                     error);
    if (!info->isCPUStringValid(cpu.march))
      return llvm::createStringError(
          "unknown --target-cpu '" + cpu.march +
          "' (an x86-64 CPU name as clang's -march takes it: native, "
          "x86-64, x86-64-v2, x86-64-v3, x86-64-v4, znver4, "
          "sapphirerapids, ...)");
    info.reset(target->createMCSubtargetInfo(triple, cpu.march, ""));
    cpu.name = cpu.march;
#define FOVEA_CHECK(NAME) enabled[NAME] = info->checkFeatures("+" NAME);
    FOVEA_X86_FEATURES(FOVEA_CHECK)
#undef FOVEA_CHECK
  }
#define FOVEA_RECORD(NAME)                                                     \
  if (enabled.lookup(NAME))                                                    \
    cpu.features.push_back(NAME);
  FOVEA_X86_FEATURES(FOVEA_RECORD)
#undef FOVEA_RECORD
  return cpu;
}

/// The metadata's name of an element type.
static std::string dtypeName(Type element) {
  if (element.isUnsignedInteger(8))
    return "u8";
  if (element.isInteger(64))
    return "i64";
  if (element.isBF16())
    return "bf16";
  if (element.isF16())
    return "f16";
  return "f32";
}

/// A tensor of the metadata from a ranked tensor type.
static ModuleSignature::Tensor describe(std::string name, Type type) {
  auto tensor = cast<RankedTensorType>(type);
  std::vector<int64_t> shape;
  for (int64_t d : tensor.getShape())
    shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
  return {std::move(name), dtypeName(tensor.getElementType()),
          std::move(shape)};
}

/// Writes the fusion report of `module` (at `fused`) where the options say.
static llvm::Error writeFusionReport(ModuleOp module,
                                     const CompileOptions &options) {
  llvm::json::Value report = fusionReport(module, rooflineFor(options), "run");
  auto print = [&](llvm::raw_ostream &out) {
    if (options.fusionReport == "json")
      out << llvm::formatv("{0:2}", report) << "\n";
    else
      printFusionReport(report, out);
  };
  if (options.fusionReportFile == "-") {
    print(llvm::outs());
    llvm::outs().flush();
    return llvm::Error::success();
  }
  std::error_code error;
  llvm::raw_fd_ostream file(options.fusionReportFile, error);
  if (error)
    return llvm::createStringError("cannot write the fusion report to '" +
                                   options.fusionReportFile +
                                   "': " + error.message());
  print(file);
  return llvm::Error::success();
}

llvm::Expected<ModuleSignature>
fovea::readSignature(ModuleOp module, const ImportOptions &options) {
  auto run = module.lookupSymbol<func::FuncOp>("run");
  if (!run)
    return llvm::createStringError("internal error: no @run to describe");
  ModuleSignature signature;
  bool video = options.inputKind == InputKind::Video;
  bool packed = !options.packedSources.empty();
  for (auto [i, type] : llvm::enumerate(run.getArgumentTypes())) {
    if (auto name = run.getArgAttrOfType<StringAttr>(
            i, vision::VisionDialect::WeightAttrHelper::getNameStr())) {
      signature.weights.push_back(describe(name.str(), type));
      continue;
    }
    std::string name = packed  ? "image" + std::to_string(i)
                       : video ? "frames"
                               : "pixels";
    signature.inputs.push_back(describe(name, type));
  }
  // EVS returns the kept rows and their per-tubelet counts.
  ArrayRef<Type> results = run.getResultTypes();
  const char *names[] = {results.size() == 2 ? "kept" : "embeddings", "counts"};
  for (auto [i, type] : llvm::enumerate(results))
    signature.outputs.push_back(describe(names[std::min<size_t>(i, 1)], type));
  return signature;
}

std::string fovea::moduleMetadata(const ModelConfig &config,
                                  const ImportOptions &options, Target target,
                                  const PipelineOptions &pipeline,
                                  const ModuleSignature &signature,
                                  llvm::ArrayRef<Type> derivedTypes,
                                  llvm::ArrayRef<int64_t> initOnlyWeights,
                                  const HostCpu &cpu) {
  const char *dtype = options.elementType == ElementType::BF16 ? "bf16" : "f32";
  InputGeometry g = inputGeometry(config, options);
  bool video = g.video;
  // json::Value keeps StringRefs by reference: pass owned strings.
  auto tensor = [](std::string name, std::string type,
                   llvm::ArrayRef<int64_t> shape) {
    return llvm::json::Object{{"name", std::move(name)},
                              {"dtype", std::move(type)},
                              {"shape", llvm::json::Array(shape)}};
  };
  auto list = [&](const std::vector<ModuleSignature::Tensor> &tensors) {
    llvm::json::Array array;
    for (const ModuleSignature::Tensor &t : tensors)
      array.push_back(tensor(t.name, t.dtype, t.shape));
    return array;
  };
  llvm::json::Array inputs = list(signature.inputs),
                    outputs = list(signature.outputs),
                    weights = list(signature.weights);
  for (int64_t i : initOnlyWeights)
    if (i >= 0 && static_cast<size_t>(i) < weights.size())
      (*weights[i].getAsObject())["init_only"] = true;
  llvm::json::Array packed;
  for (const PackedImage &image : g.packed)
    packed.push_back(llvm::json::Object{
        {"source_height", image.sourceHeight},
        {"source_width", image.sourceWidth},
        {"height", image.height},
        {"width", image.width},
        {"tokens", config.tokensFor(image.height, image.width)}});
  std::vector<ModuleSignature::Tensor> derivedTensors;
  for (auto [i, type] : llvm::enumerate(derivedTypes))
    derivedTensors.push_back(describe("derived" + std::to_string(i), type));
  llvm::json::Array derived = list(derivedTensors);
  llvm::json::Object metadata{
      {fovea::abi::kVersionKey, fovea::abi::kVersion},
      {"model", config.name},
      {"entry", "run"},
      {"target", target == Target::CUDA ? "cuda" : "cpu"},
      {"input_kind", video ? "video" : "image"},
      {"dtype", dtype},
      {"inputs", std::move(inputs)},
      {"outputs", std::move(outputs)},
      {"weights", std::move(weights)},
      {"derived", std::move(derived)},
      // What the host code needs; the runtime refuses a host without it.
      {"cpu",
       llvm::json::Object{{"name", cpu.name},
                          {"features", llvm::json::Array(cpu.features)}}},
      // The input conditioning the graph applies (§1.1), so that callers
      // holding normalized pixels can map them back to bytes.
      {"normalization",
       llvm::json::Object{
           {"mean", llvm::json::Array(llvm::ArrayRef<float>(config.normMean))},
           {"std", llvm::json::Array(llvm::ArrayRef<float>(config.normStd))}}},
      {"encoder", llvm::json::Object{{"width", config.width},
                                     {"depth", config.depth},
                                     {"heads", config.heads}}},
      {"geometry",
       llvm::json::Object{
           {"height", g.height},
           {"width", g.width},
           {"source_height", g.sourceHeight},
           {"source_width", g.sourceWidth},
           {"resize", !g.resizes()                               ? "none"
                      : options.resizeDomain == ResizeDomain::U8 ? "u8"
                                                                 : "f32_clamp"},
           {"tile_columns", g.tileColumns},
           {"tile_rows", g.tileRows},
           {"thumbnail", g.thumbnail},
           {"units_per_image", g.unitsPerImage()},
           {"patch_size", config.patchSize},
           {"temporal_patch_size", g.temporal},
           {"tokens_per_unit", config.tokensFor(g.height, g.width)},
           {"num_prefix_tokens", config.numPrefix},
           {"llm_hidden", config.llmHidden},
           {"evs_rate", options.evsRate},
           {"packed_images", std::move(packed)}}}};
  if (video)
    metadata["max_frames"] = options.maxFrames;
  // How the kernels are embedded (ptx: JIT-compiled by the driver at load).
  if (target == Target::CUDA)
    metadata["gpu"] = llvm::json::Object{{"arch", pipeline.gpuArch},
                                         {"binary", pipeline.gpuBinary}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(metadata));
  return text;
}

/// Compiles LLVM IR text and links it with the runtime into `output`.
static llvm::Error linkArtifact(llvm::StringRef llvmIR, Emit emit,
                                llvm::StringRef output, const HostCpu &cpu) {
  llvm::SmallString<128> irPath;
  int fd;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("fovea", "ll", fd, irPath))
    return llvm::createStringError("cannot create a temporary file: " +
                                   ec.message());
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << llvmIR;
  }
  // Linked beside the output, then renamed (same file system).
  llvm::SmallString<256> partial(output);
  partial += ".partial";
  std::string clang = FOVEA_LLVM_TOOLS_DIR "/clang++";
  std::vector<std::string> args = {clang,
                                   "-O3",
                                   "-march=" + cpu.march,
                                   "-fPIC",
                                   "-Wno-override-module",
                                   irPath.str().str()};
  // A module exports the whole C ABI of the runtime; an executable pulls
  // in what its main uses.
  if (emit == Emit::Module)
    args.insert(args.end(),
                {"-shared", "-Wl,--whole-archive", FOVEA_RUNTIME_LIBRARY,
                 FOVEA_SUPPORT_LIBRARY, "-Wl,--no-whole-archive"});
  else {
    args.insert(args.end(), {FOVEA_RUNTIME_MAIN_LIBRARY, FOVEA_RUNTOOL_LIBRARY,
                             FOVEA_RUNTIME_LIBRARY, FOVEA_SUPPORT_LIBRARY});
    // The image decoders' static libraries (libpng, libjpeg-turbo, zlib).
    for (llvm::StringRef library :
         llvm::split(llvm::StringRef(FOVEA_IMAGE_LIBRARIES), ' '))
      if (!library.empty())
        args.push_back(library.str());
  }
  // The runtime provides what lowered code calls (memrefCopy, the
  // allocation functions): the artifact needs libc, libm, libstdc++ and
  // libgcc only, and loads FFmpeg (executables, for videos) and the CUDA
  // driver when it needs them.
  args.insert(args.end(),
              {"-o", partial.str().str(), "-lm", "-ldl", "-pthread"});
  // A sanitized build's runtime needs the sanitizers' runtimes.
  for (llvm::StringRef flag :
       llvm::split(llvm::StringRef(FOVEA_ARTIFACT_LINK_FLAGS), ' '))
    if (!flag.empty())
      args.push_back(flag.str());
  std::vector<llvm::StringRef> argRefs(args.begin(), args.end());
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(clang, argRefs, std::nullopt, {}, 0, 0,
                                     &message);
  llvm::sys::fs::remove(irPath);
  // The artifact appears under its name complete or not at all.
  if (rc != 0) {
    llvm::sys::fs::remove(partial);
    return llvm::createStringError(
        ("linking " + output + " failed (clang++ exit " + llvm::Twine(rc) +
         ")" + (message.empty() ? "" : ": " + message))
            .str());
  }
  if (std::error_code ec = llvm::sys::fs::rename(partial, output)) {
    llvm::sys::fs::remove(partial);
    return llvm::createStringError("cannot write '" + output +
                                   "': " + ec.message());
  }
  return llvm::Error::success();
}

namespace {
/// The vision dialect's argument attributes name the weights for the
/// runtime (which reads them from the module's metadata); LLVM IR has no
/// place for them.
struct VisionToLLVMIRTranslation : public LLVMTranslationDialectInterface {
  using LLVMTranslationDialectInterface::LLVMTranslationDialectInterface;
  LogicalResult
  convertParameterAttr(LLVM::LLVMFuncOp function, int argIdx,
                       NamedAttribute attribute,
                       LLVM::ModuleTranslation &translation) const override {
    return success();
  }
};
} // namespace

void fovea::registerVisionToLLVMIRTranslation(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *, vision::VisionDialect *dialect) {
    dialect->addInterfaces<VisionToLLVMIRTranslation>();
  });
}

/// Translates an LLVM-dialect module to LLVM IR and prints it.
static llvm::Error printLLVMIR(ModuleOp module, llvm::raw_ostream &os,
                               const std::string &diagnostics) {
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "fovea");
  if (!llvmModule)
    return llvm::createStringError(
        ("translation to LLVM IR failed: " + diagnostics).c_str());
  llvmModule->print(os, nullptr);
  return llvm::Error::success();
}

/// An artifact is linked into `path` at the end: its directory must exist
/// before the work starts.
static llvm::Error checkOutputDirectory(llvm::StringRef path) {
  llvm::StringRef dir = llvm::sys::path::parent_path(path);
  if (dir.empty() || llvm::sys::fs::is_directory(dir))
    return llvm::Error::success();
  return llvm::createStringError("cannot write '" + path + "': '" + dir +
                                 "' is not a directory");
}

/// Adds the entry points and the metadata to a module lowered to the LLVM
/// dialect, translates it and links the artifact of `options.emit`.
static llvm::Error emitArtifact(ModuleOp module, const ModelConfig &config,
                                const CompileOptions &options,
                                const ImportOptions &import,
                                const ModuleSignature &signature,
                                const HostCpu &cpu,
                                const std::string &diagnostics) {
  SmallVector<Type> derived;
  if (auto types = module->getAttrOfType<ArrayAttr>(
          vision::VisionDialect::DerivedTypesAttrHelper::getNameStr()))
    for (Attribute t : types)
      derived.push_back(cast<TypeAttr>(t).getValue());
  ArrayRef<int64_t> initOnly;
  if (auto indices = module->getAttrOfType<DenseI64ArrayAttr>(
          vision::VisionDialect::InitOnlyWeightsAttrHelper::getNameStr()))
    initOnly = indices.asArrayRef();
  module->setAttr(vision::VisionDialect::MetadataAttrHelper::getNameStr(),
                  StringAttr::get(module.getContext(),
                                  moduleMetadata(config, import, options.target,
                                                 options.pipeline, signature,
                                                 derived, initOnly, cpu)));
  PassManager pm(module.getContext());
  pm.addPass(vision::createAddEntryPoints());
  if (failed(pm.run(module)))
    return llvm::createStringError(("internal error: " + diagnostics).c_str());
  std::string text;
  llvm::raw_string_ostream textStream(text);
  if (options.progress)
    options.progress("translating to LLVM IR");
  if (llvm::Error e = printLLVMIR(module, textStream, diagnostics))
    return e;
  if (options.progress)
    options.progress("clang++ -O3 and link");
  return linkArtifact(text, options.emit, options.outputPath, cpu);
}

namespace {
/// Reports each top-level pass with its phase to `CompileOptions::progress`.
class ProgressInstrumentation : public PassInstrumentation {
public:
  ProgressInstrumentation(std::function<void(llvm::StringRef)> report,
                          llvm::DenseMap<Pass *, Phase> phases)
      : report(std::move(report)), phases(std::move(phases)) {}

  void runBeforePass(Pass *pass, Operation *op) override {
    // Nested passes run on other threads; the top level says enough.
    if (op->getParentOp())
      return;
    auto it = phases.find(pass);
    if (it != phases.end())
      phase = it->second;
    llvm::StringRef name = pass->getArgument();
    report((phaseName(phase) + (name.empty() ? "" : ": " + name)).str());
  }

private:
  std::function<void(llvm::StringRef)> report;
  llvm::DenseMap<Pass *, Phase> phases;
  Phase phase = Phase::Vision;
};
} // namespace

/// Adds the phases `first`..`last` of the target to `pm` and, with a
/// progress display, the instrumentation that names each pass's phase.
static void buildPhases(PassManager &pm, const CompileOptions &options,
                        Phase first, Phase last) {
  if (!options.progress || options.pipeline.emulateOnHost) {
    buildPipeline(pm, options.target, options.pipeline, first, last);
    return;
  }
  llvm::DenseMap<Pass *, Phase> phases;
  for (Phase phase : phasesOf(options.target)) {
    if (phase < first || phase > last)
      continue;
    size_t before = pm.size();
    buildPipeline(pm, options.target, options.pipeline, phase, phase);
    for (auto [i, pass] : llvm::enumerate(pm.getPasses()))
      if (i >= before)
        phases[&pass] = phase;
  }
  pm.addInstrumentation(std::make_unique<ProgressInstrumentation>(
      options.progress, std::move(phases)));
}

/// Prints the PTX of every kernel module, in module order.
static void printKernelAssembly(ModuleOp module, llvm::raw_ostream &os) {
  module->walk([&](gpu::BinaryOp binary) {
    for (Attribute attr : binary.getObjects()) {
      auto object = cast<gpu::ObjectAttr>(attr);
      if (object.getFormat() != gpu::CompilationTarget::Assembly)
        continue;
      os << "// kernel module @" << binary.getSymName() << "\n"
         << object.getObject().getValue() << "\n";
    }
  });
}

llvm::Error fovea::compileModel(const ModelConfig &config,
                                const CompileOptions &given,
                                llvm::raw_ostream &os) {
  if (llvm::Error e = given.validate())
    return e;
  // `--gpu-binary auto` decided once: the pipeline and the metadata agree,
  // and the PTX phase prints PTX.
  CompileOptions options = given;
  if (options.target == Target::CUDA)
    options.pipeline.gpuBinary =
        options.phase == Phase::PTX && options.emit == Emit::IR
            ? "ptx"
            : resolvedGpuBinary(options.pipeline);
  if (options.emit != Emit::IR)
    if (llvm::Error e = checkOutputDirectory(options.outputPath))
      return e;
  llvm::Expected<HostCpu> cpu = resolveHostCpu(options);
  if (!cpu)
    return cpu.takeError();
  DialectRegistry registry;
  registerFoveaDialects(registry);
  registerVisionToLLVMIRTranslation(registry);
  MLIRContext context(registry);

  // Diagnostics become one error message.
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (!diagnostics.empty())
      diagnostics += "; ";
    diagnostics += diag.str();
    return success();
  });

  if (options.progress)
    options.progress("import");
  ImportOptions import = options.importOptions(config);
  llvm::Expected<OwningOpRef<ModuleOp>> module =
      importModel(context, config, import);
  if (!module)
    return module.takeError();
  // The metadata describes @run as imported: its tensors do not change.
  llvm::Expected<ModuleSignature> signature = readSignature(**module, import);
  if (!signature)
    return signature.takeError();

  PassManager pm(&context);
  if (options.configurePassManager && failed(options.configurePassManager(pm)))
    return llvm::createStringError("invalid pass manager options");
  // Artifacts and the translation phases start from the LLVM dialect.
  Phase last = options.emit != Emit::IR || isTranslationPhase(options.phase)
                   ? Phase::LLVM
                   : options.phase;
  // With a fusion report, the pipeline stops at `fused` for the report and
  // goes on from there.
  bool report = !options.fusionReport.empty();
  buildPhases(pm, options, Phase::Vision, report ? Phase::Fused : last);
  if (failed(pm.run(**module)))
    return llvm::createStringError(
        ("compilation failed: " + diagnostics).c_str());
  if (report) {
    if (llvm::Error e = writeFusionReport(**module, options))
      return e;
    PassManager rest(&context);
    if (options.configurePassManager &&
        failed(options.configurePassManager(rest)))
      return llvm::createStringError("invalid pass manager options");
    buildPhases(rest, options, Phase::Linalg, last);
    if (failed(rest.run(**module)))
      return llvm::createStringError(
          ("compilation failed: " + diagnostics).c_str());
  }

  if (options.emit != Emit::IR)
    return emitArtifact(**module, config, options, import, *signature, *cpu,
                        diagnostics);
  if (options.phase == Phase::PTX) {
    printKernelAssembly(**module, os);
    return llvm::Error::success();
  }
  if (options.phase != Phase::LLVMIR) {
    (*module)->print(os);
    return llvm::Error::success();
  }
  return printLLVMIR(**module, os, diagnostics);
}
