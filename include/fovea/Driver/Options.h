//===- Options.h - The options model of a model compilation -----*- C++ -*-===//
//
// One model of every compile option, driver and pipeline: each is declared
// once (Options.def, PipelineOptions.def) with its flag, type, default and
// help; `set` parses a value given by name, `validate` checks the options
// against each other. fovea-compile binds its command line to it
// (CompileCLOptions) and the Python package its keyword arguments, so both
// accept the same options and give the same one-line errors.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_DRIVER_OPTIONS_H
#define FOVEA_DRIVER_OPTIONS_H

#include "fovea/Driver/Import.h"
#include "fovea/Pipelines/Pipelines.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fovea {

/// What `compileModel` writes.
enum class Emit {
  /// The IR of `phase`, as text.
  IR,
  /// A runtime module (a shared object exporting the C ABI of
  /// fovea_runtime.h, with its metadata).
  Module,
  /// A standalone executable (the module linked with a command-line main).
  Executable,
};

/// A height x width; 0 x 0 when not given.
struct Size2D {
  int64_t height = 0, width = 0;
  bool empty() const { return height == 0 && width == 0; }
};
using SizeList = std::vector<Size2D>;

/// Which target an option applies to.
enum class OptionScope { Driver, Common, CPU, GPU };

/// What the options model knows of one option, for help texts and
/// front ends.
struct OptionInfo {
  /// The flag without dashes (`max-frames`); Python's keyword is the same
  /// with underscores (`max_frames`).
  llvm::StringRef flag;
  llvm::StringRef valueDesc;
  llvm::StringRef help;
  OptionScope scope;
  bool isBool;
  /// The default, as `set` accepts it.
  std::string defaultValue;
};

/// The GPU architectures the CUDA target generates code for.
llvm::ArrayRef<llvm::StringLiteral> supportedGpuArchs();

struct CompileOptions {
#define FOVEA_DRIVER_OPTION(FLAG, FIELD, TYPE, DEFAULT, VALUE_DESC, HELP)      \
  TYPE FIELD = DEFAULT;
#include "fovea/Driver/Options.def"
  /// The options of the pipeline (PipelineOptions.def).
  PipelineOptions pipeline;

  /// Where a module or executable is written (IR goes to the stream).
  std::string outputPath;
  /// Applied to every pass manager the driver runs (MLIR's command-line
  /// instrumentation: --mlir-print-ir-after-all, --mlir-timing, ...).
  std::function<mlir::LogicalResult(mlir::PassManager &)> configurePassManager;
  /// Told the stage the compilation enters (`linalg: fovea-cpu-pack-matmuls`,
  /// `LLVM IR`, `clang++ -O3 and link`), for a progress display.
  std::function<void(llvm::StringRef)> progress;

  /// Every option of the model, driver options first.
  static llvm::ArrayRef<OptionInfo> all();

  /// Sets the option `flag` (no dashes) from its textual value: `true` or
  /// `false` for booleans, a number, `HxW`, a comma-separated list, a name.
  /// Unknown options and malformed values are one-line errors naming the
  /// option as `--flag`.
  llvm::Error set(llvm::StringRef flag, llvm::StringRef value);

  /// Checks the options against each other (an option given for the other
  /// target or input kind, ranges, the phase and the emitted artifact).
  llvm::Error validate() const;

  /// Whether `flag` was given (set) rather than left at its default.
  bool isGiven(llvm::StringRef flag) const { return given.contains(flag); }

  /// The importer's view of the options for `config`: a video module takes
  /// the config's `video_pruning_rate` as its EVS rate unless --evs-rate is
  /// given.
  ImportOptions importOptions(const ModelConfig &config) const;

private:
  llvm::StringSet<> given;
};

/// The error for an option the model does not know, with the closest known
/// flag as a suggestion.
llvm::Error unknownOptionError(llvm::StringRef flag);

/// The command-line flags of the options model, one per option, registered
/// in `category` while this object lives (CIRCT's registerFirtoolCLOptions
/// made an object). Unknown flags are collected rather than rejected by the
/// command-line parser, so they get the model's error.
class CompileCLOptions {
public:
  explicit CompileCLOptions(llvm::cl::OptionCategory &category);
  ~CompileCLOptions();

  /// Sets the options given on the command line in `options`.
  llvm::Error apply(CompileOptions &options) const;

private:
  struct Flags;
  std::unique_ptr<Flags> flags;
};

} // namespace fovea

#endif // FOVEA_DRIVER_OPTIONS_H
