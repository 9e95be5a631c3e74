//===- CompileMain.cpp - fovea-compile's command line ---------------------===//
//
// The whole of fovea-compile: MLIR's instrumentation flags, the model
// source (--config or --preset), the flags of the options model, and the
// output. tools/fovea-compile only calls `compileMain`.
//
//===----------------------------------------------------------------------===//

#include "fovea/Driver/Compile.h"
#include "fovea/Driver/Progress.h"
#include "fovea/InitFovea.h"
#include "fovea/Runtime/ModuleAbi.h"
#include "fovea/Support/Version.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

namespace cl = llvm::cl;
using namespace fovea;

namespace {
/// The flags of fovea-compile that are not compile options.
struct ToolFlags {
  cl::OptionCategory &category;
  cl::opt<std::string> configPath{
      "config", cl::desc("Hugging Face config.json (or its directory)"),
      cl::value_desc("path"), cl::cat(category)};
  cl::opt<std::string> preset{
      "preset",
      cl::desc("Built-in model: nano-v2-vl, omni, tiny, tiny-video, "
               "tiny-dynamic"),
      cl::value_desc("name"), cl::cat(category)};
  cl::opt<std::string> outputPath{"o", cl::desc("Output file"),
                                  cl::value_desc("path"), cl::init("-"),
                                  cl::cat(category)};
  cl::opt<bool> quiet{
      "quiet",
      cl::desc("No progress line (shown on a terminal: the phase, the pass "
               "and the elapsed time)"),
      cl::init(false), cl::cat(category)};
  cl::opt<bool> listPhases{
      "list-phases",
      cl::desc("Print the phases of --target for --compile-to and exit"),
      cl::init(false), cl::cat(category)};
};
} // namespace

/// Prints one error line and returns the exit code.
static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "fovea-compile") << message << "\n";
  return 1;
}

/// Prints the phases of the target, one per line: name and description.
static void printPhases(Target target) {
  for (Phase phase : phasesOf(target))
    llvm::outs() << llvm::left_justify(phaseName(phase), 12)
                 << phaseDescription(phase) << "\n";
}

/// Writes the IR of the phase to `path` ("-": stdout), only on success.
static int compileToFile(const ModelConfig &config,
                         const CompileOptions &options, llvm::StringRef path,
                         ProgressLine &progress) {
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(path, &error);
  if (!output) {
    progress.finish();
    return fail(error);
  }
  llvm::Error e = compileModel(config, options, output->os());
  progress.finish();
  if (e)
    return fail(llvm::toString(std::move(e)));
  output->keep();
  return 0;
}

int fovea::compileMain(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Pass names resolve in --mlir-print-ir-after=<pass> and friends.
  registerFoveaPasses();
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "fovea-compile (Fovea " FOVEA_VERSION_STRING ", LLVM "
       << LLVM_VERSION_STRING << ", module ABI " << abi::kVersion << ")\n";
  });
  cl::OptionCategory category("fovea-compile options");
  ToolFlags tool{category};
  CompileCLOptions compileFlags(category);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "Fovea model compiler\n");

  CompileOptions options;
  if (llvm::Error e = compileFlags.apply(options))
    return fail(llvm::toString(std::move(e)));
  if (tool.listPhases) {
    printPhases(options.target);
    return 0;
  }
  // Options are checked before anything is read or written.
  if (options.emit != Emit::IR)
    options.outputPath = tool.outputPath;
  if (llvm::Error e = options.validate())
    return fail(llvm::toString(std::move(e)));
  llvm::Expected<ModelConfig> config = loadModel(tool.configPath, tool.preset);
  if (!config)
    return fail(llvm::toString(config.takeError()));

  mlir::DefaultTimingManager timing;
  mlir::applyDefaultTimingManagerCLOptions(timing);
  mlir::TimingScope timingScope = timing.getRootScope();
  options.configurePassManager = [&](mlir::PassManager &pm) {
    pm.enableTiming(timingScope);
    return mlir::applyPassManagerCLOptions(pm);
  };
  // The progress line goes away before anything else is printed on stderr;
  // it stays off when the terminal also shows what goes to stdout (IR or
  // the fusion report printed there).
  bool toStdout =
      (options.emit == Emit::IR && tool.outputPath == "-") ||
      (!options.fusionReport.empty() && options.fusionReportFile == "-");
  ProgressLine progress(llvm::errs(), "fovea-compile",
                        !tool.quiet &&
                            !(toStdout && llvm::outs().is_displayed()));
  if (progress.active())
    options.progress = [&](llvm::StringRef stage) { progress.setStage(stage); };
  if (options.emit == Emit::IR) {
    int rc = compileToFile(*config, options, tool.outputPath, progress);
    return rc;
  }
  llvm::Error e = compileModel(*config, options, llvm::nulls());
  progress.finish();
  if (e)
    return fail(llvm::toString(std::move(e)));
  return 0;
}
