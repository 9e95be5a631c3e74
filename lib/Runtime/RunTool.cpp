//===- RunTool.cpp - The command line of fovea-run and executables --------===//
//
// Loads weights, reads the input .npy, runs, writes and checks outputs, and
// times repeated runs.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/RunTool.h"

#include "fovea/Runtime/Geometry.h"
#include "fovea/Runtime/Json.h"
#include "fovea/Runtime/Media.h"
#include "fovea/Runtime/ModuleAbi.h"
#include "fovea/Runtime/Npy.h"
#include "fovea/Runtime/Tensor.h"
#include "fovea/Support/TokenGeometry.h"
#include "fovea/Support/Version.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace fovea::rt;

namespace {
struct Options {
  /// Empty: the module's target.
  std::string weights, device;
  std::vector<std::string> inputs, outputs, expected;
  double rtol = 1e-4, atol = 1e-5;
  int benchmark = 0, warmup = 0;
  bool printMetadata = false, geometry = false;
  /// Where to write the decoded (and sampled) input as .npy.
  std::string saveInput;
  /// Video sampling: target rate (0: every frame) and frame limit (0: the
  /// module's).
  double fps = 2.0;
  int64_t maxFrames = 0;
  /// CPU threads of the module's runs (0: every core).
  int threads = 0;
  /// CUDA modules: the most CUDA graphs kept (0: off; -1: the module's
  /// default).
  int cudaGraphs = -1;
  /// CPU modules: the kernel family (empty: FOVEA_CPU_KERNELS, else the
  /// best).
  std::string cpuKernels;
  /// Write bf16/f16 results as f32 (--output-dtype f32).
  bool outputF32 = false;
  /// The largest image decoded (--max-image-pixels).
  ImageLimits imageLimits;
};

/// The input of one run: pixels (one tensor per image for packed modules)
/// and, for videos, where the frames came from.
struct Input {
  Tensor pixels;
  std::vector<Tensor> packed;
  std::vector<int64_t> frameIndices;
  double sourceFps = 0;
};

std::string sizeText(int64_t height, int64_t width) {
  return std::to_string(height) + "x" + std::to_string(width);
}

/// Reads the inputs of a packed module: one image (or `.npy`) per input, in
/// order, each of the size compiled for its position.
std::optional<Input> loadPacked(const Options &o, const ModuleGeometry &module,
                                const std::vector<MediaKind> &kinds,
                                std::string &error) {
  size_t expected = module.packed.size();
  if (o.inputs.size() != expected) {
    error = "the module packs " + std::to_string(expected) +
            " images; give one --input per image, got " +
            std::to_string(o.inputs.size());
    return std::nullopt;
  }
  Input input;
  for (size_t i = 0; i < expected; ++i) {
    const std::string &path = o.inputs[i];
    const PackedImageGeometry &want = module.packed[i];
    std::optional<Tensor> image;
    if (kinds[i] == MediaKind::Image)
      image = decodeImage(path, error, o.imageLimits);
    else if (kinds[i] == MediaKind::Npy)
      image = readNpy(path, error);
    else
      error = "'" + path + "' is a video but the module takes images";
    if (!image)
      return std::nullopt;
    std::vector<int64_t> shape = image->shape();
    if (shape.size() != 4 || shape[0] != 1 || shape[1] != 3 ||
        shape[2] != want.sourceHeight || shape[3] != want.sourceWidth) {
      error = "'" + path + "' is " +
              (shape.size() == 4 && shape[0] == 1 && shape[1] == 3
                   ? sizeText(shape[2], shape[3]) + " (HxW)"
                   : formatShape(shape)) +
              " but the module's image " + std::to_string(i) + " is " +
              sizeText(want.sourceHeight, want.sourceWidth) +
              "; compile it with the sizes of the images, in order";
      return std::nullopt;
    }
    input.packed.push_back(std::move(*image));
  }
  return input;
}

/// Reads the --input files: one .npy, one video, or images of one size.
std::optional<Input> loadInput(const Options &o, const ModuleGeometry &module,
                               bool decode, std::string &error) {
  bool videoModule = module.video;
  std::vector<MediaKind> kinds;
  for (const std::string &path : o.inputs) {
    std::optional<MediaKind> kind = mediaKindOf(path, error);
    if (!kind)
      return std::nullopt;
    kinds.push_back(*kind);
  }
  bool single = kinds[0] == MediaKind::Npy || kinds[0] == MediaKind::Video;
  if (o.inputs.size() > 1 && module.packed.empty() &&
      (single || std::count(kinds.begin(), kinds.end(), MediaKind::Image) !=
                     static_cast<long>(kinds.size()))) {
    error = "several --input files must all be images (one .npy or one "
            "video per run)";
    return std::nullopt;
  }
  if (kinds[0] == MediaKind::Video && !videoModule) {
    error = "'" + o.inputs[0] +
            "' is a video but the module takes images (compile with "
            "--input-kind video)";
    return std::nullopt;
  }
  if (kinds[0] == MediaKind::Image && videoModule) {
    error = "'" + o.inputs[0] +
            "' is an image but the module takes video frames (compile with "
            "--input-kind image)";
    return std::nullopt;
  }
  Input input;
  if (!module.packed.empty())
    return loadPacked(o, module, kinds, error);
  if (kinds[0] == MediaKind::Npy) {
    std::optional<Tensor> t = readNpy(o.inputs[0], error);
    if (!t)
      return std::nullopt;
    input.pixels = std::move(*t);
    return input;
  }

  // Media: the decoded size must be the one the module was compiled for.
  int64_t wantH = module.sourceHeight, wantW = module.sourceWidth;
  auto checkSize = [&](const std::string &path, int64_t h, int64_t w) {
    if (h == wantH && w == wantW)
      return true;
    error = "'" + path + "' is " + sizeText(h, w) +
            " (HxW) but the module takes " + sizeText(wantH, wantW) +
            " input; compile it with --source-size " + sizeText(h, w);
    return false;
  };
  if (kinds[0] == MediaKind::Video) {
    int64_t moduleMax = module.maxFrames;
    if (o.maxFrames && moduleMax && o.maxFrames > moduleMax) {
      error = "--max-frames " + std::to_string(o.maxFrames) +
              " exceeds the module's limit of " + std::to_string(moduleMax) +
              " frames";
      return std::nullopt;
    }
    int64_t maxFrames = o.maxFrames ? o.maxFrames : moduleMax;
    if (!decode) {
      std::optional<VideoInfo> info = probeVideo(o.inputs[0], error);
      if (!info || !checkSize(o.inputs[0], info->height, info->width))
        return std::nullopt;
      input.frameIndices =
          fovea::sampleFrameIndices(info->frames, info->fps, o.fps, maxFrames);
      input.sourceFps = info->fps;
      return input;
    }
    std::optional<DecodedVideo> video =
        decodeVideo(o.inputs[0], o.fps, maxFrames, error);
    if (!video ||
        !checkSize(o.inputs[0], video->info.height, video->info.width))
      return std::nullopt;
    std::printf("input %s: %lld frames at %.3f fps (%s), sampled %zu:",
                o.inputs[0].c_str(), static_cast<long long>(video->info.frames),
                video->info.fps,
                sizeText(video->info.height, video->info.width).c_str(),
                video->indices.size());
    for (int64_t i : video->indices)
      std::printf(" %lld", static_cast<long long>(i));
    std::printf("\n");
    input.pixels = std::move(video->frames);
    input.frameIndices = std::move(video->indices);
    input.sourceFps = video->info.fps;
    return input;
  }
  std::vector<Tensor> images;
  for (const std::string &path : o.inputs) {
    std::optional<Tensor> image = decodeImage(path, error, o.imageLimits);
    if (!image || !checkSize(path, image->shape()[2], image->shape()[3]))
      return std::nullopt;
    images.push_back(std::move(*image));
  }
  int64_t h = images[0].shape()[2], w = images[0].shape()[3];
  input.pixels =
      Tensor(DType::U8, {static_cast<int64_t>(images.size()), 3, h, w});
  for (size_t i = 0; i < images.size(); ++i)
    std::memcpy(static_cast<uint8_t *>(input.pixels.data()) +
                    i * images[i].byteSize(),
                images[i].data(), images[i].byteSize());
  return input;
}

/// An owned view of a returned fovea_tensor as a Tensor.
Tensor toTensor(const fovea_tensor &t) {
  Tensor out(static_cast<DType>(t.dtype),
             std::vector<int64_t>(t.shape, t.shape + t.rank));
  std::memcpy(out.data(), t.data, out.byteSize());
  return out;
}

/// Values of a tensor as doubles (floats converted, integers exact).
std::vector<double> values(const Tensor &t) {
  std::vector<double> out(t.numElements());
  if (isFloat(t.dtype())) {
    std::vector<float> f(t.numElements());
    convertElements(t.data(), t.dtype(), f.data(), DType::F32, f.size());
    std::copy(f.begin(), f.end(), out.begin());
    return out;
  }
  for (size_t i = 0; i < out.size(); ++i) {
    switch (t.dtype()) {
    case DType::U8:
      out[i] = static_cast<const uint8_t *>(t.data())[i];
      break;
    case DType::I32:
      out[i] = static_cast<const int32_t *>(t.data())[i];
      break;
    default:
      out[i] = static_cast<double>(static_cast<const int64_t *>(t.data())[i]);
      break;
    }
  }
  return out;
}

/// Compares `actual` with `expected`; empty on success, else the reason.
std::string compare(const Tensor &actual, const Tensor &expected,
                    const Options &o) {
  if (actual.shape() != expected.shape())
    return "shape " + formatShape(actual.shape()) + " != expected " +
           formatShape(expected.shape());
  std::vector<double> a = values(actual), e = values(expected);
  bool exact = !isFloat(actual.dtype());
  size_t bad = 0, worst = 0;
  double worstExcess = -1;
  for (size_t i = 0; i < a.size(); ++i) {
    double bound = exact ? 0 : o.atol + o.rtol * std::fabs(e[i]);
    double excess = std::fabs(a[i] - e[i]) - bound;
    if (excess > 0 || std::isnan(a[i]) != std::isnan(e[i])) {
      ++bad;
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
  }
  if (!bad)
    return "";
  char buffer[200];
  std::snprintf(buffer, sizeof(buffer),
                "%zu of %zu elements differ (rtol %g, atol %g); worst at flat "
                "index %zu: %g vs %g",
                bad, a.size(), o.rtol, o.atol, worst, a[worst], e[worst]);
  return buffer;
}

int fail(const char *tool, const std::string &message) {
  std::fprintf(stderr, "%s: error: %s\n", tool, message.c_str());
  return 1;
}

/// Checks the outputs of a run against the predicted geometry and prints
/// the final one (with the per-tubelet counts EVS returned).
int checkGeometry(const char *tool, const ModuleApi &api, int64_t units,
                  const Input &input, const JsonValue &predicted,
                  const fovea_tensor *outs, int32_t count) {
  std::vector<int64_t> shape;
  if (const JsonValue *s = predicted.get("output_shape"))
    for (const JsonValue &d : s->array())
      shape.push_back(d.integer().value_or(-1));
  std::vector<int64_t> actual(outs[0].shape, outs[0].shape + outs[0].rank);
  actual.resize(std::min(actual.size(), shape.size()));
  if (actual != shape)
    return fail(tool, "the module returned " + formatShape(actual) +
                          " tokens; the geometry predicted " +
                          formatShape(shape));
  const JsonValue *evs = predicted.get("evs_rate");
  if (count < 2 || !evs || evs->number() <= 0)
    return 0;
  std::vector<int64_t> counts(static_cast<const int64_t *>(outs[1].data),
                              static_cast<const int64_t *>(outs[1].data) +
                                  outs[1].shape[0]);
  std::string error;
  std::optional<std::string> json = moduleGeometry(
      api, units, input.frameIndices, input.sourceFps, &counts, error);
  if (!json)
    return fail(tool, error);
  std::printf("geometry after EVS: %s\n", json->c_str());
  return 0;
}
} // namespace

namespace {
/// One flag of the run tools and its help line.
struct FlagHelp {
  const char *flag, *help;
};
constexpr FlagHelp kFlags[] = {
    {"--weights PATH",
     "safetensors checkpoint: a file, a shard index or a directory"},
    {"--input FILE", "a .npy tensor, an image or a video (repeat for several "
                     "images)"},
    {"--output FILE.npy", "write a result (repeat per result)"},
    {"--output-dtype native|f32",
     "the dtype of written results: the module's (default; bf16 .npy files "
     "have the descr 'bfloat16') or f32 (bf16/f16 widened exactly)"},
    {"--expected-output FILE.npy",
     "compare a result against a golden file (repeat per result)"},
    {"--rtol R", "relative tolerance of the comparison"},
    {"--atol A", "absolute tolerance of the comparison"},
    {"--fps F", "video: frames per second to sample (0: every frame)"},
    {"--max-image-pixels N",
     "images: the most pixels decoded, checked from the header before "
     "allocating (default 64 Mi)"},
    {"--max-frames N", "video: the most frames to sample"},
    {"--geometry", "print the predicted token geometry (no weights needed)"},
    {"--save-input FILE.npy", "write the decoded input and exit"},
    {"--benchmark N", "time N runs and print the median"},
    {"--warmup M", "runs before timing (with --benchmark)"},
    {"--device cpu|cuda", "where the module runs (its compiled target)"},
    {"--threads N", "CPU threads of the runs (default 0: FOVEA_NUM_THREADS, "
                    "else every core the process may run on)"},
    {"--cpu-kernels NAME",
     "CPU: the kernel family of matmuls and attention: auto (the best this "
     "CPU has; default, or FOVEA_CPU_KERNELS), amx-bf16, avx512-bf16, "
     "avx512, avx2, portable"},
    {"--cuda-graphs on|off|N",
     "CUDA: capture each input shape's first run as a CUDA graph and replay "
     "it (on: up to 8 graphs, N: up to N; default on)"},
    {"--print-metadata", "print the module's metadata JSON"},
    {"--version", "print the version"},
    {"--help", "print this help"},
};
} // namespace

void fovea::rt::printRunToolVersion(const char *tool) {
  std::printf("%s (Fovea %s, module ABI %lld)\n", tool, FOVEA_VERSION_STRING,
              static_cast<long long>(fovea::abi::kVersion));
}

void fovea::rt::printRunToolHelp(const char *tool, const char *module) {
  std::printf("USAGE: %s%s%s --weights PATH --input FILE... [options]\n\n"
              "OPTIONS:\n",
              tool, *module ? " " : "", module);
  for (const FlagHelp &flag : kFlags)
    std::printf("  %-28s - %s\n", flag.flag, flag.help);
}

namespace {
/// `text` as a whole decimal count in [lo, hi], or nullopt.
std::optional<long long> parseCount(const std::string &text, long long lo,
                                    long long hi) {
  char *end = nullptr;
  errno = 0;
  long long n = std::strtoll(text.c_str(), &end, 10);
  if (!end || *end || text.empty() || errno == ERANGE || n < lo || n > hi)
    return std::nullopt;
  return n;
}

/// Parses the flags after the module into `o`. Returns an exit code when the
/// tool is done already (a bad flag, or --help).
std::optional<int> parseFlags(const char *tool, int argc, char **argv,
                              int first, Options &o) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string &out) {
      if (i + 1 >= argc)
        return false;
      out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--weights" && value(o.weights)) {
    } else if (arg == "--input" && value(v)) {
      o.inputs.push_back(v);
    } else if (arg == "--fps" && value(v)) {
      char *end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (!end || *end || !(d >= 0) || !std::isfinite(d))
        return fail(tool, "--fps expects a non-negative number (0: every "
                          "frame), got '" +
                              v + "'");
      o.fps = d;
    } else if (arg == "--max-frames" && value(v)) {
      char *end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (!end || *end || n <= 0)
        return fail(tool,
                    "--max-frames expects a positive count, got '" + v + "'");
      o.maxFrames = n;
    } else if (arg == "--save-input" && value(o.saveInput)) {
    } else if (arg == "--geometry") {
      o.geometry = true;
    } else if (arg == "--device" && value(o.device)) {
    } else if (arg == "--threads" && value(v)) {
      constexpr long long kMaxThreads = 4096;
      std::optional<long long> n = parseCount(v, 0, kMaxThreads);
      if (!n)
        return fail(tool, "--threads expects a count from 0 (every core) to " +
                              std::to_string(kMaxThreads) + ", got '" + v +
                              "'");
      o.threads = static_cast<int>(*n);
    } else if (arg == "--cpu-kernels" && value(v)) {
      if (v.empty())
        return fail(tool, "--cpu-kernels expects a kernel family name");
      o.cpuKernels = v;
    } else if (arg == "--cuda-graphs" && value(v)) {
      constexpr long long kMaxGraphs = 1024;
      std::optional<long long> n = v == "on"    ? 8
                                   : v == "off" ? 0
                                                : parseCount(v, 0, kMaxGraphs);
      if (!n)
        return fail(tool, "--cuda-graphs expects on, off or a count up to " +
                              std::to_string(kMaxGraphs) + ", got '" + v + "'");
      o.cudaGraphs = static_cast<int>(*n);
    } else if (arg == "--output" && value(v)) {
      o.outputs.push_back(v);
    } else if (arg == "--max-image-pixels" && value(v)) {
      constexpr long long kMaxPixels = 1LL << 34;
      std::optional<long long> n = parseCount(v, 1, kMaxPixels);
      if (!n)
        return fail(tool, "--max-image-pixels expects a count from 1 to " +
                              std::to_string(kMaxPixels) + ", got '" + v + "'");
      o.imageLimits.maxPixels = *n;
    } else if (arg == "--output-dtype" && value(v)) {
      if (v != "native" && v != "f32")
        return fail(tool,
                    "--output-dtype expects native or f32, got '" + v + "'");
      o.outputF32 = v == "f32";
    } else if (arg == "--expected-output" && value(v)) {
      o.expected.push_back(v);
    } else if ((arg == "--rtol" || arg == "--atol") && value(v)) {
      char *end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (!end || *end || d < 0)
        return fail(tool,
                    arg + " expects a non-negative number, got '" + v + "'");
      (arg == "--rtol" ? o.rtol : o.atol) = d;
    } else if ((arg == "--benchmark" || arg == "--warmup") && value(v)) {
      // Counts are checked before they narrow to int.
      constexpr long long kMaxRuns = 1000000;
      std::optional<long long> n = parseCount(v, 0, LLONG_MAX);
      if (!n)
        return fail(tool,
                    arg + " expects a non-negative count, got '" + v + "'");
      if (*n > kMaxRuns)
        return fail(tool, arg + " expects at most " + std::to_string(kMaxRuns) +
                              " runs, got " + v);
      (arg == "--benchmark" ? o.benchmark : o.warmup) = static_cast<int>(*n);
    } else if (arg == "--print-metadata") {
      o.printMetadata = true;
    } else if (arg == "--help") {
      printRunToolHelp(tool, first > 1 ? "MODULE.so" : "");
      return 0;
    } else if (arg == "--version") {
      printRunToolVersion(tool);
      return 0;
    } else {
      return fail(tool, "unknown or incomplete option '" + arg + "'");
    }
  }
  return std::nullopt;
}

/// Checks the flags against each other: an error message, or empty.
std::string checkFlags(const Options &o) {
  if (o.inputs.empty())
    return "--input is required";
  if (o.weights.empty() && !o.geometry && o.saveInput.empty())
    return "--weights is required (or --geometry or --save-input alone to "
           "predict the tokens or decode the input)";
  if (o.warmup && !o.benchmark)
    return "--warmup needs --benchmark";
  return "";
}

/// The images, frames or packed images of one run.
int64_t unitsOf(const Input &input) {
  if (!input.packed.empty())
    return static_cast<int64_t>(input.packed.size());
  if (input.pixels.shape().empty())
    return static_cast<int64_t>(input.frameIndices.size());
  return input.pixels.shape()[0];
}

/// What the runs of one module returned and how long they took.
struct Runs {
  fovea_tensor outs[8];
  int32_t count = 0;
  /// Milliseconds of the module's creation and of each timed run.
  double loadMs = 0;
  std::vector<double> times;
};

/// Runs the module on `inputs`: the warm-up runs, then the timed ones; the
/// outputs of the last stay in `runs`.
bool runTimed(const ModuleApi &api, fovea_module *module,
              const std::vector<Tensor *> &inputs, const Options &o, Runs &runs,
              std::string &error) {
  std::vector<std::vector<int64_t>> shapes;
  std::vector<fovea_tensor> ins;
  for (Tensor *t : inputs)
    shapes.push_back(t->shape());
  for (size_t i = 0; i < inputs.size(); ++i)
    ins.push_back({static_cast<int32_t>(inputs[i]->dtype()),
                   static_cast<int32_t>(shapes[i].size()), shapes[i].data(),
                   inputs[i]->data()});
  auto runOnce = [&]() -> bool {
    for (int32_t k = 0; k < runs.count; ++k)
      api.release(&runs.outs[k]);
    runs.count = 0;
    char *cerror = nullptr;
    if (api.run(module, ins.data(), static_cast<int32_t>(ins.size()), runs.outs,
                8, &runs.count, &cerror) != 0) {
      error = cerror ? cerror : "run failed";
      api.freeError(cerror);
      return false;
    }
    return true;
  };
  for (int k = 0; k < o.warmup; ++k)
    if (!runOnce())
      return false;
  for (int k = 0, e = std::max(o.benchmark, 1); k < e; ++k) {
    auto t0 = std::chrono::steady_clock::now();
    if (!runOnce())
      return false;
    runs.times.push_back(std::chrono::duration<double, std::milli>(
                             std::chrono::steady_clock::now() - t0)
                             .count());
  }
  return true;
}

/// Prints the outputs, writes them and compares them with the expected
/// ones. Returns the exit code.
int reportOutputs(const char *tool, const Options &o, const Runs &runs) {
  std::string error;
  if (o.outputs.size() > static_cast<size_t>(runs.count) ||
      o.expected.size() > static_cast<size_t>(runs.count))
    return fail(tool, "the module returns " + std::to_string(runs.count) +
                          " outputs; more --output/--expected-output given");
  for (int32_t k = 0; k < runs.count; ++k) {
    Tensor result = toTensor(runs.outs[k]);
    std::printf("output %d: %s %s\n", k, dtypeName(result.dtype()),
                formatShape(result.shape()).c_str());
    if (static_cast<size_t>(k) < o.outputs.size()) {
      const Tensor *written = &result;
      Tensor wide;
      if (o.outputF32 &&
          (result.dtype() == DType::BF16 || result.dtype() == DType::F16)) {
        wide = Tensor(DType::F32, result.shape());
        convertElements(result.data(), result.dtype(), wide.data(), DType::F32,
                        result.numElements());
        written = &wide;
      }
      if (!writeNpy(o.outputs[k], *written, error))
        return fail(tool, error);
    }
    if (static_cast<size_t>(k) >= o.expected.size())
      continue;
    std::optional<Tensor> expected = readNpy(o.expected[k], error);
    if (!expected)
      return fail(tool, error);
    if (std::string why = compare(result, *expected, o); !why.empty())
      return fail(tool, "output " + std::to_string(k) + " vs " + o.expected[k] +
                            ": " + why);
    std::printf("output %d matches %s\n", k, o.expected[k].c_str());
  }
  return 0;
}
} // namespace

namespace {
/// Decodes the input as the module's geometry wants it, writes it with
/// --save-input and predicts its tokens with --geometry. Returns an exit
/// code when the tool is done (an error, or nothing to run).
std::optional<int> prepareInput(const char *tool, const ModuleApi &api,
                                const Options &o, const JsonValue &metadata,
                                std::optional<Input> &loaded, int64_t &units,
                                std::optional<JsonValue> &predicted) {
  std::string error;
  bool run = !o.weights.empty();
  std::optional<ModuleGeometry> geometry = parseModuleGeometry(metadata, error);
  if (!geometry)
    return fail(tool, error);
  loaded = loadInput(o, *geometry, run || !o.saveInput.empty(), error);
  if (!loaded)
    return fail(tool, error);
  if (!o.saveInput.empty() && !loaded->packed.empty())
    return fail(tool, "--save-input writes one .npy; this module takes one "
                      "input per packed image");
  if (!o.saveInput.empty() && !writeNpy(o.saveInput, loaded->pixels, error))
    return fail(tool, error);
  units = unitsOf(*loaded);
  if (o.geometry) {
    std::optional<std::string> json = moduleGeometry(
        api, units, loaded->frameIndices, loaded->sourceFps, nullptr, error);
    if (!json)
      return fail(tool, error);
    std::printf("geometry: %s\n", json->c_str());
    predicted = parseJson(*json, error);
  }
  if (!run)
    return 0;
  return std::nullopt;
}

/// Creates the module with its weights, runs it on `loaded`, reports and
/// checks the outputs. Returns the exit code.
int runModule(const char *tool, const ModuleApi &api, Options &o,
              const JsonValue &metadata, Input &loaded, int64_t units,
              const std::optional<JsonValue> &predicted) {
  std::vector<Tensor *> inputs;
  if (loaded.packed.empty())
    inputs.push_back(&loaded.pixels);
  for (Tensor &t : loaded.packed)
    inputs.push_back(&t);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i]->shape().empty())
      return fail(tool, "input '" + o.inputs[i] + "' holds no pixels");

  if (o.device.empty())
    o.device =
        metadata.get("target") ? metadata.get("target")->string() : "cpu";
  Runs runs;
  char *cerror = nullptr;
  auto start = std::chrono::steady_clock::now();
  fovea_module *module =
      api.create(o.weights.c_str(), o.device.c_str(), &cerror);
  runs.loadMs = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
  if (!module) {
    std::string message = cerror ? cerror : "cannot create the module";
    api.freeError(cerror);
    return fail(tool, message);
  }
  std::string error;
  // A setting the module refuses ends the tool with the module's message.
  auto refused = [&](const char *fallback) {
    std::string message = cerror ? cerror : fallback;
    api.freeError(cerror);
    api.destroy(module);
    return fail(tool, message);
  };
  if (api.setThreads(module, o.threads, &cerror) != 0)
    return refused("cannot set the threads");
  if (!o.cpuKernels.empty() &&
      api.setCpuKernels(module, o.cpuKernels.c_str(), &cerror) != 0)
    return refused("cannot set the CPU kernels");
  if (o.cudaGraphs >= 0 &&
      api.setCudaGraphs(module, o.cudaGraphs, &cerror) != 0)
    return refused("cannot set the CUDA graphs");
  int status = runTimed(api, module, inputs, o, runs, error)
                   ? reportOutputs(tool, o, runs)
                   : fail(tool, error);
  if (!status && predicted)
    status = checkGeometry(tool, api, units, loaded, *predicted, runs.outs,
                           runs.count);
  if (!status && o.benchmark) {
    std::sort(runs.times.begin(), runs.times.end());
    std::printf("load: %.1f ms; run: median %.3f ms, min %.3f ms over %zu "
                "runs (%d warm-up)",
                runs.loadMs, runs.times[runs.times.size() / 2],
                runs.times.front(), runs.times.size(), o.warmup);
    if (const char *family = api.cpuKernels(module); *family)
      std::printf("; CPU kernels %s", family);
    std::printf("\n");
  }
  for (int32_t k = 0; k < runs.count; ++k)
    api.release(&runs.outs[k]);
  api.destroy(module);
  return status;
}
} // namespace

int fovea::rt::runTool(const char *tool, int argc, char **argv, int first,
                       const ModuleApi &api) {
  Options o;
  if (std::optional<int> done = parseFlags(tool, argc, argv, first, o))
    return *done;
  if (o.printMetadata) {
    std::printf("%s\n", api.metadata());
    if (o.inputs.empty() && o.weights.empty())
      return 0;
  }
  if (std::string problem = checkFlags(o); !problem.empty())
    return fail(tool, problem);
  std::string error;
  std::optional<JsonValue> metadata = parseJson(api.metadata(), error);
  if (!metadata)
    return fail(tool, "module metadata: " + error);
  std::optional<Input> loaded;
  int64_t units = 0;
  std::optional<JsonValue> predicted;
  if (std::optional<int> done =
          prepareInput(tool, api, o, *metadata, loaded, units, predicted))
    return *done;
  return runModule(tool, api, o, *metadata, *loaded, units, predicted);
}
