//===- Options.cpp - The options model of a model compilation -------------===//
//
// Parsing and printing of option values by type, the table of every option
// (expanded from Options.def and PipelineOptions.def), the checks between
// options, and the command-line binding.
//
//===----------------------------------------------------------------------===//

#include "fovea/Driver/Options.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"
#include <cmath>
#include <cstdlib>
#include <deque>
#include <iterator>
#include <limits>

using namespace fovea;

//===----------------------------------------------------------------------===//
// Values by type
//===----------------------------------------------------------------------===//

namespace {
/// `a`, `a or b`, `a, b or c`: the choices of an error message.
template <typename Range, typename Name>
std::string orList(const Range &items, Name name) {
  std::string text;
  size_t count = std::size(items);
  for (auto [i, item] : llvm::enumerate(items))
    text += (i == 0 ? "" : i + 1 == count ? " or " : ", ") + name(item);
  return text;
}

template <typename E> struct EnumName {
  llvm::StringLiteral name;
  E value;
};

/// How values of type T are parsed and printed: `parse` returns false on a
/// malformed value, `expects` says what a value looks like.
template <typename T> struct ValueTraits;

/// Enums are parsed by name.
template <typename E, size_t N> struct EnumTraits {
  using Names = EnumName<E>[N];
  static bool parse(const Names &names, llvm::StringRef text, E &value) {
    for (const EnumName<E> &name : names)
      if (name.name == text) {
        value = name.value;
        return true;
      }
    return false;
  }
  static std::string print(const Names &names, E value) {
    for (const EnumName<E> &name : names)
      if (name.value == value)
        return name.name.str();
    return "";
  }
  static std::string expects(const Names &names) {
    return orList(names, [](const EnumName<E> &n) { return n.name.str(); });
  }
};

#define FOVEA_ENUM_TRAITS(TYPE, ...)                                           \
  template <> struct ValueTraits<TYPE> {                                       \
    static constexpr EnumName<TYPE> names[] = {__VA_ARGS__};                   \
    using Base = EnumTraits<TYPE, std::size(names)>;                           \
    static bool parse(llvm::StringRef text, TYPE &value) {                     \
      return Base::parse(names, text, value);                                  \
    }                                                                          \
    static std::string print(TYPE value) { return Base::print(names, value); } \
    static std::string expects() { return Base::expects(names); }              \
  };

FOVEA_ENUM_TRAITS(Target, {"cpu", Target::CPU}, {"cuda", Target::CUDA})
FOVEA_ENUM_TRAITS(InputKind, {"image", InputKind::Image},
                  {"video", InputKind::Video})
FOVEA_ENUM_TRAITS(ElementType, {"bf16", ElementType::BF16},
                  {"f32", ElementType::F32})
FOVEA_ENUM_TRAITS(ResizeDomain, {"u8", ResizeDomain::U8},
                  {"f32_clamp", ResizeDomain::F32Clamp})
FOVEA_ENUM_TRAITS(Emit, {"ir", Emit::IR}, {"module", Emit::Module},
                  {"exe", Emit::Executable})
#undef FOVEA_ENUM_TRAITS

template <> struct ValueTraits<Phase> {
  static bool parse(llvm::StringRef text, Phase &value) {
    std::optional<Phase> phase = parsePhase(text);
    if (phase)
      value = *phase;
    return phase.has_value();
  }
  static std::string print(Phase value) { return phaseName(value).str(); }
  static std::string expects() {
    return "a phase (" +
           orList(phasesOf(Target::CUDA),
                  [](Phase phase) { return phaseName(phase).str(); }) +
           ")";
  }
};

template <> struct ValueTraits<bool> {
  static bool parse(llvm::StringRef text, bool &value) {
    if (text == "true" || text == "1") {
      value = true;
      return true;
    }
    if (text == "false" || text == "0") {
      value = false;
      return true;
    }
    return false;
  }
  static std::string print(bool value) { return value ? "true" : "false"; }
  static std::string expects() { return "true or false"; }
};

template <> struct ValueTraits<int64_t> {
  static bool parse(llvm::StringRef text, int64_t &value) {
    return !text.getAsInteger(10, value);
  }
  static std::string print(int64_t value) { return std::to_string(value); }
  static std::string expects() { return "an integer"; }
};

template <> struct ValueTraits<double> {
  static bool parse(llvm::StringRef text, double &value) {
    return !text.getAsDouble(value);
  }
  static std::string print(double value) {
    std::string text;
    llvm::raw_string_ostream(text) << llvm::format("%g", value);
    return text;
  }
  static std::string expects() { return "a number"; }
};

template <> struct ValueTraits<std::string> {
  static bool parse(llvm::StringRef text, std::string &value) {
    value = text.str();
    return true;
  }
  static std::string print(const std::string &value) { return value; }
  static std::string expects() { return "a string"; }
};

template <> struct ValueTraits<std::vector<int64_t>> {
  static bool parse(llvm::StringRef text, std::vector<int64_t> &value) {
    value.clear();
    if (text.empty())
      return true;
    llvm::SmallVector<llvm::StringRef> items;
    text.split(items, ',');
    for (llvm::StringRef item : items)
      if (item.trim().getAsInteger(10, value.emplace_back()))
        return false;
    return true;
  }
  static std::string print(const std::vector<int64_t> &value) {
    return llvm::join(
        llvm::map_range(value, [](int64_t v) { return std::to_string(v); }),
        ",");
  }
  static std::string expects() { return "a list of integers (e.g. 8,64,32)"; }
};

template <> struct ValueTraits<Size2D> {
  static bool parse(llvm::StringRef text, Size2D &value) {
    auto [h, w] = text.split('x');
    return !h.getAsInteger(10, value.height) &&
           !w.getAsInteger(10, value.width) && value.height > 0 &&
           value.width > 0;
  }
  static std::string print(const Size2D &value) {
    return value.empty() ? ""
                         : std::to_string(value.height) + "x" +
                               std::to_string(value.width);
  }
  static std::string expects() { return "HxW (e.g. 512x512)"; }
};

template <> struct ValueTraits<SizeList> {
  static bool parse(llvm::StringRef text, SizeList &value) {
    value.clear();
    llvm::SmallVector<llvm::StringRef> items;
    text.split(items, ',');
    for (llvm::StringRef item : items)
      if (!ValueTraits<Size2D>::parse(item, value.emplace_back()))
        return false;
    return true;
  }
  static std::string print(const SizeList &value) {
    return llvm::join(llvm::map_range(value, ValueTraits<Size2D>::print), ",");
  }
  static std::string expects() {
    return "HxW or a list HxW,HxW,... (e.g. 1080x1920)";
  }
};

/// Parses `value` into `field`, or the one-line error naming `flag`.
template <typename T>
llvm::Error parseInto(llvm::StringRef flag, llvm::StringRef value, T &field) {
  if (ValueTraits<T>::parse(value, field))
    return llvm::Error::success();
  return llvm::createStringError("--" + flag + " expects " +
                                 ValueTraits<T>::expects() + ", got '" + value +
                                 "'");
}
} // namespace

//===----------------------------------------------------------------------===//
// The table of options
//===----------------------------------------------------------------------===//

llvm::ArrayRef<OptionInfo> CompileOptions::all() {
  static const std::vector<OptionInfo> infos = [] {
    std::vector<OptionInfo> infos;
#define FOVEA_DRIVER_OPTION(FLAG, FIELD, TYPE, DEFAULT, VALUE_DESC, HELP)      \
  infos.push_back({FLAG, VALUE_DESC, HELP, OptionScope::Driver,                \
                   std::is_same_v<TYPE, bool>,                                 \
                   ValueTraits<TYPE>::print(DEFAULT)});
#include "fovea/Driver/Options.def"
#define FOVEA_PIPELINE_OPTION(SCOPE, FLAG, FIELD, TYPE, DEFAULT, VALUE_DESC,   \
                              HELP)                                            \
  infos.push_back({FLAG, VALUE_DESC, HELP, OptionScope::SCOPE,                 \
                   std::is_same_v<TYPE, bool>,                                 \
                   ValueTraits<TYPE>::print(DEFAULT)});
#define FOVEA_PIPELINE_LIST_OPTION(SCOPE, FLAG, FIELD, ELEMENT, VALUE_DESC,    \
                                   HELP)                                       \
  infos.push_back({FLAG, VALUE_DESC, HELP, OptionScope::SCOPE, false, ""});
#include "fovea/Pipelines/PipelineOptions.def"
    return infos;
  }();
  return infos;
}

llvm::Error fovea::unknownOptionError(llvm::StringRef flag) {
  std::string message = "unknown option '--" + flag.str() + "'";
  unsigned best = 3;
  llvm::StringRef suggestion;
  for (const OptionInfo &info : CompileOptions::all()) {
    unsigned distance = info.flag.edit_distance(flag, true, best);
    if (distance < best) {
      best = distance;
      suggestion = info.flag;
    }
  }
  if (!suggestion.empty())
    message += " (did you mean '--" + suggestion.str() + "'?)";
  return llvm::createStringError(message);
}

llvm::Error CompileOptions::set(llvm::StringRef flag, llvm::StringRef value) {
  llvm::Error error = llvm::Error::success();
  bool known = false;
#define FOVEA_DRIVER_OPTION(FLAG, FIELD, TYPE, DEFAULT, VALUE_DESC, HELP)      \
  if (!known && flag == FLAG) {                                                \
    known = true;                                                              \
    error = parseInto(FLAG, value, FIELD);                                     \
  }
#include "fovea/Driver/Options.def"
#define FOVEA_PIPELINE_OPTION(SCOPE, FLAG, FIELD, TYPE, DEFAULT, VALUE_DESC,   \
                              HELP)                                            \
  if (!known && flag == FLAG) {                                                \
    known = true;                                                              \
    error = parseInto(FLAG, value, pipeline.FIELD);                            \
  }
#define FOVEA_PIPELINE_LIST_OPTION(SCOPE, FLAG, FIELD, ELEMENT, VALUE_DESC,    \
                                   HELP)                                       \
  FOVEA_PIPELINE_OPTION(SCOPE, FLAG, FIELD, , , VALUE_DESC, HELP)
#include "fovea/Pipelines/PipelineOptions.def"
  if (!known) {
    llvm::consumeError(std::move(error));
    return unknownOptionError(flag);
  }
  if (!error)
    given.insert(flag);
  return error;
}

llvm::ArrayRef<llvm::StringLiteral> fovea::supportedGpuArchs() {
  static constexpr llvm::StringLiteral archs[] = {"sm_90a", "sm_90", "sm_89",
                                                  "sm_86", "sm_80"};
  return archs;
}

//===----------------------------------------------------------------------===//
// Checks between options
//===----------------------------------------------------------------------===//

/// An error when the option `flag` was given and `condition` holds.
static llvm::Error checkNotGiven(const CompileOptions &options,
                                 llvm::StringRef flag, bool condition,
                                 const llvm::Twine &why) {
  if (options.isGiven(flag) && condition)
    return llvm::createStringError(("--" + flag + " " + why).str());
  return llvm::Error::success();
}

llvm::Error CompileOptions::validate() const {
  bool cuda = target == Target::CUDA;
  // Options of the other target.
  for (const OptionInfo &info : all()) {
    if (info.scope == OptionScope::GPU)
      if (llvm::Error e = checkNotGiven(*this, info.flag, !cuda,
                                        "applies to --target cuda only"))
        return e;
    if (info.scope == OptionScope::CPU)
      if (llvm::Error e = checkNotGiven(*this, info.flag, cuda,
                                        "applies to --target cpu only"))
        return e;
  }
  if (!llvm::is_contained({"auto", "ptx", "cubin", "fatbin"},
                          pipeline.gpuBinary))
    return llvm::createStringError(
        "--gpu-binary expects auto, ptx, cubin or fatbin, got '" +
        pipeline.gpuBinary + "'");
  if (cuda && !llvm::is_contained(supportedGpuArchs(), pipeline.gpuArch))
    return llvm::createStringError("unsupported GPU architecture '" +
                                   pipeline.gpuArch + "' (" +
                                   llvm::join(supportedGpuArchs(), ", ") + ")");
  if (pipeline.blockSize < 32 || pipeline.blockSize > 1024)
    return llvm::createStringError("--block-size must be in [32, 1024], got " +
                                   std::to_string(pipeline.blockSize));
  if (pipeline.gpuOptLevel < 0 || pipeline.gpuOptLevel > 3)
    return llvm::createStringError("--gpu-opt-level must be in [0, 3], got " +
                                   std::to_string(pipeline.gpuOptLevel));
  if (!fusionReport.empty() && fusionReport != "text" && fusionReport != "json")
    return llvm::createStringError("--fusion-report must be text or json, "
                                   "got '" +
                                   fusionReport + "'");
  if (llvm::Error e =
          checkNotGiven(*this, "fusion-report-file", fusionReport.empty(),
                        "needs --fusion-report"))
    return e;
  if (!fusionReport.empty() && emit == Emit::IR && phase < Phase::Fused)
    return llvm::createStringError(
        "--fusion-report describes the fused IR: it needs --compile-to fused "
        "or a later phase");
  if (peakTflops < 0 || peakGbps < 0 || !std::isfinite(peakTflops) ||
      !std::isfinite(peakGbps))
    return llvm::createStringError(
        "--peak-tflops and --peak-gbps must be positive");
  if (llvm::Expected<std::vector<std::string>> fusions =
          selectedFusionPasses(pipeline);
      !fusions)
    return fusions.takeError();
  if (!pipeline.tileSizes.empty() &&
      (pipeline.tileSizes.size() != 3 ||
       llvm::any_of(pipeline.tileSizes, [](int64_t s) { return s <= 0; })))
    return llvm::createStringError(
        "--tile-sizes expects three positive sizes m,n,k, got '" +
        ValueTraits<std::vector<int64_t>>::print(pipeline.tileSizes) + "'");

  // Sizes a typo could make absurd: the compiler would build (and the
  // module allocate) for them.
  constexpr int64_t kMaxSide = 16384, kMaxImages = 64, kMaxFrames = 65536;
  for (const Size2D &size : sourceSizes)
    if (size.height > kMaxSide || size.width > kMaxSide)
      return llvm::createStringError(
          "--source-size " + ValueTraits<Size2D>::print(size) +
          " is over the limit of " + std::to_string(kMaxSide) +
          " pixels per side");
  if (imageSize.height > kMaxSide || imageSize.width > kMaxSide)
    return llvm::createStringError(
        "--image-size " + ValueTraits<Size2D>::print(imageSize) +
        " is over the limit of " + std::to_string(kMaxSide) +
        " pixels per side");
  if (static_cast<int64_t>(sourceSizes.size()) > kMaxImages)
    return llvm::createStringError(
        "--source-size lists " + std::to_string(sourceSizes.size()) +
        " images, over the limit of " + std::to_string(kMaxImages));
  if (maxFrames > kMaxFrames)
    return llvm::createStringError("--max-frames " + std::to_string(maxFrames) +
                                   " is over the limit of " +
                                   std::to_string(kMaxFrames));

  // What the module takes.
  if (llvm::Error e =
          checkNotGiven(*this, "max-frames", inputKind != InputKind::Video,
                        "applies to video input only"))
    return e;
  if (maxFrames <= 0)
    return llvm::createStringError("--max-frames must be positive, got " +
                                   std::to_string(maxFrames));
  if ((isGiven("max-model-len") || isGiven("prompt-tokens")) &&
      sourceSizes.size() < 2)
    return llvm::createStringError(
        "--max-model-len and --prompt-tokens set the budgets of packed "
        "images (a list of --source-size) only");
  if (maxModelLen < 0 || promptTokens < 0)
    return llvm::createStringError(
        "--max-model-len and --prompt-tokens must not be negative");
  if (llvm::Error e = checkNotGiven(
          *this, "resize-domain", sourceSizes.empty(),
          "needs --source-size (without it the module takes pixels at the "
          "compiled size and does not resize)"))
    return e;

  // The phase and the artifact.
  if (!llvm::is_contained(phasesOf(target), phase))
    return llvm::createStringError("phase '" + phaseName(phase) +
                                   "' needs --target cuda");
  if (cuda && phase == Phase::PTX && pipeline.gpuBinary != "ptx" &&
      pipeline.gpuBinary != "auto")
    return llvm::createStringError("--compile-to ptx needs --gpu-binary ptx");
  if (emit != Emit::IR) {
    if (isGiven("compile-to"))
      return llvm::createStringError("--emit and --compile-to exclude each "
                                     "other");
    if (outputPath.empty() || outputPath == "-")
      return llvm::createStringError("--emit " +
                                     ValueTraits<Emit>::print(emit) +
                                     " needs an output file (-o)");
  }
  return llvm::Error::success();
}

ImportOptions CompileOptions::importOptions(const ModelConfig &config) const {
  ImportOptions import;
  import.inputKind = inputKind;
  import.height = imageSize.height;
  import.width = imageSize.width;
  import.elementType = elementType;
  import.evsRate = isGiven("evs-rate") || inputKind != InputKind::Video
                       ? evsRate
                       : config.videoPruningRate;
  import.maxFrames = maxFrames;
  // One source size, or several images packed into one sequence.
  if (sourceSizes.size() == 1) {
    import.sourceHeight = sourceSizes.front().height;
    import.sourceWidth = sourceSizes.front().width;
  } else {
    for (const Size2D &size : sourceSizes)
      import.packedSources.push_back({size.height, size.width});
  }
  import.resizeDomain = resizeDomain;
  import.maxModelLen = maxModelLen;
  import.promptTokens = promptTokens;
  return import;
}

//===----------------------------------------------------------------------===//
// The command line
//===----------------------------------------------------------------------===//

struct CompileCLOptions::Flags {
  /// One flag per option of the model, in the order of `all()`.
  std::vector<std::unique_ptr<llvm::cl::Option>> options;
  /// Their help lines (the flags keep references).
  std::deque<std::string> helps;
  /// Arguments the parser did not recognize.
  llvm::cl::list<std::string> unknown{llvm::cl::Sink, llvm::cl::Hidden};
};

/// The help line of an option: its text, target and default.
static std::string helpLine(const OptionInfo &info) {
  std::string help = info.help.str();
  if (info.scope == OptionScope::CPU)
    help = "CPU: " + help;
  if (info.scope == OptionScope::GPU)
    help = "CUDA: " + help;
  // A boolean flag given alone means true: only a true default is news.
  if (!info.defaultValue.empty() &&
      (!info.isBool || info.defaultValue == "true"))
    help += " (default " + info.defaultValue + ")";
  return help;
}

CompileCLOptions::CompileCLOptions(llvm::cl::OptionCategory &category)
    : flags(std::make_unique<Flags>()) {
  for (const OptionInfo &info : CompileOptions::all()) {
    llvm::StringRef help = flags->helps.emplace_back(helpLine(info));
    if (info.isBool) {
      flags->options.push_back(std::make_unique<llvm::cl::opt<bool>>(
          info.flag, llvm::cl::desc(help), llvm::cl::cat(category)));
      continue;
    }
    flags->options.push_back(std::make_unique<llvm::cl::opt<std::string>>(
        info.flag, llvm::cl::desc(help), llvm::cl::value_desc(info.valueDesc),
        llvm::cl::cat(category)));
  }
}

CompileCLOptions::~CompileCLOptions() = default;

llvm::Error CompileCLOptions::apply(CompileOptions &options) const {
  for (llvm::StringRef argument : flags->unknown) {
    if (!argument.starts_with("-"))
      return llvm::createStringError("unexpected argument '" + argument + "'");
    return unknownOptionError(
        argument.split('=').first.drop_while([](char c) { return c == '-'; }));
  }
  for (auto [info, flag] :
       llvm::zip_equal(CompileOptions::all(), flags->options)) {
    if (!flag->getNumOccurrences())
      continue;
    std::string value =
        info.isBool
            ? (static_cast<llvm::cl::opt<bool> &>(*flag) ? "true" : "false")
            : static_cast<llvm::cl::opt<std::string> &>(*flag).getValue();
    if (llvm::Error e = options.set(info.flag, value))
      return e;
  }
  return llvm::Error::success();
}
