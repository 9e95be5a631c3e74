//===- Module.cpp - The C ABI of runtime modules --------------------------===//
//
// Implements fovea_module_* on top of the symbols the compiler generates in
// every module (fovea/Runtime/ModuleAbi.h): the metadata string and the
// packed entry points of @run and @init.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/fovea_runtime.h"

#include "fovea/Runtime/Checkpoint.h"
#include "fovea/Runtime/Cuda.h"
#include "fovea/Runtime/Geometry.h"
#include "fovea/Runtime/HostMemory.h"
#include "fovea/Runtime/Json.h"
#include "fovea/Runtime/Matmul.h"
#include "fovea/Runtime/ModuleAbi.h"
#include "fovea/Runtime/Tensor.h"
#include "fovea/Runtime/ThreadPool.h"
#include "fovea/Support/CpuFeatures.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

using namespace fovea::rt;

namespace {
struct TensorSpec {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape; // -1 for dynamic
  /// A weight only @init reads.
  bool initOnly = false;
};

/// A memref descriptor laid out as the compiled code expects: allocated and
/// aligned pointers, offset, sizes, strides (all 8 bytes).
std::vector<int64_t> descriptorFor(void *data,
                                   const std::vector<int64_t> &shape) {
  std::vector<int64_t> d = {reinterpret_cast<int64_t>(data),
                            reinterpret_cast<int64_t>(data), 0};
  d.insert(d.end(), shape.begin(), shape.end());
  std::vector<int64_t> strides(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  d.insert(d.end(), strides.begin(), strides.end());
  return d;
}

bool parseSpecs(const JsonValue *list, std::vector<TensorSpec> &out,
                std::string &error) {
  if (!list || !list->isArray())
    return error = "module metadata: malformed tensor list", false;
  for (const JsonValue &item : list->array()) {
    const JsonValue *name = item.get("name");
    const JsonValue *dtype = item.get("dtype");
    const JsonValue *shape = item.get("shape");
    std::optional<DType> type = dtype && dtype->isString()
                                    ? parseDTypeName(dtype->string())
                                    : std::nullopt;
    if (!name || !name->isString() || !type || !shape || !shape->isArray())
      return error = "module metadata: malformed tensor entry", false;
    const JsonValue *initOnly = item.get("init_only");
    TensorSpec spec{name->string(),
                    *type,
                    {},
                    initOnly && initOnly->kind() == JsonValue::Kind::Bool &&
                        initOnly->boolean()};
    for (const JsonValue &d : shape->array())
      spec.shape.push_back(d.integer().value_or(-1));
    out.push_back(std::move(spec));
  }
  return true;
}

/// Whether the host has `feature` (a name of FOVEA_X86_FEATURES; false for
/// any other).
bool hostHasFeature(const std::string &feature) {
#if defined(__x86_64__)
  __builtin_cpu_init();
#define FOVEA_TEST(NAME)                                                       \
  if (feature == NAME)                                                         \
    return __builtin_cpu_supports(NAME);
  FOVEA_X86_FEATURES(FOVEA_TEST)
#undef FOVEA_TEST
#endif
  return false;
}

/// Empty when the host has every CPU feature the module's host code was
/// built for, else the message refusing it.
std::string checkHostCpu(const JsonValue &metadata) {
  const JsonValue *cpu = metadata.get("cpu");
  const JsonValue *features = cpu ? cpu->get("features") : nullptr;
  if (!features || !features->isArray())
    return "";
  std::string missing;
  for (const JsonValue &feature : features->array())
    if (!feature.isString() || !hostHasFeature(feature.string()))
      missing += (missing.empty() ? "" : ", ") +
                 (feature.isString() ? feature.string() : std::string("?"));
  if (missing.empty())
    return "";
  const JsonValue *name = cpu->get("name");
  return "this module was built for the CPU '" +
         (name && name->isString() ? name->string() : std::string("?")) +
         "' and needs " + missing +
         ", which this host lacks (compile it with --target-cpu native on "
         "this host, or a CPU such as x86-64-v3 that it has)";
}

/// The index of the first element of `p[0, n)` whose exponent bits
/// (`mask`) are all set (NaN or infinity), or -1. Blocks without one are
/// passed by a branch-free scan the compiler vectorizes.
template <typename Bits>
int64_t firstWithExponent(const Bits *p, size_t n, Bits mask) {
  constexpr size_t kBlock = 4096;
  for (size_t start = 0; start < n; start += kBlock) {
    size_t end = std::min(n, start + kBlock);
    bool any = false;
    for (size_t i = start; i < end; ++i)
      any |= (p[i] & mask) == mask;
    if (!any)
      continue;
    for (size_t i = start; i < end; ++i)
      if ((p[i] & mask) == mask)
        return static_cast<int64_t>(i);
  }
  return -1;
}

/// The index of the first NaN or infinity of `n` elements of float type
/// `type` at `data`, or -1.
int64_t firstNonFinite(DType type, const void *data, size_t n) {
  if (type == DType::F32)
    return firstWithExponent(static_cast<const uint32_t *>(data), n,
                             uint32_t(0x7f800000u));
  if (type == DType::BF16 || type == DType::F16)
    return firstWithExponent(static_cast<const uint16_t *>(data), n,
                             uint16_t(type == DType::BF16 ? 0x7f80 : 0x7c00));
  return -1;
}

char *copyError(const std::string &message) {
  char *copy = static_cast<char *>(std::malloc(message.size() + 1));
  std::memcpy(copy, message.c_str(), message.size() + 1);
  return copy;
}

/// A C ABI function's failure: `message` to *error (when asked for), 1.
int reportError(char **error, const std::string &message) {
  if (error)
    *error = copyError(message);
  return 1;
}
} // namespace

/// Calls a packed entry point: descriptors of `results` (filled by the
/// callee, in order) first, then `args`. Returns the filled result
/// descriptors.
static std::vector<int64_t>
callPacked(void (*entry)(void **), const std::vector<TensorSpec> &results,
           std::vector<std::vector<int64_t>> &args) {
  size_t words = 0;
  for (const TensorSpec &r : results)
    words += 3 + 2 * r.shape.size();
  std::vector<int64_t> packed(std::max<size_t>(words, 1), 0);
  std::vector<void *> pointers = {packed.data()};
  for (auto &a : args)
    pointers.push_back(a.data());
  entry(pointers.data());
  return packed;
}

struct fovea_module {
  /// Compiled for CUDA: buffers are device memory (weights uploaded at
  /// create, inputs and outputs copied through pinned staging buffers per
  /// run, results and @init values allocated by the compiled code from the
  /// stream-ordered pool) and the run checks the device's errors.
  bool cuda = false;
  /// The caller's CUDA stream for runs (nullptr: the runtime's own).
  void *stream = nullptr;
  /// CUDA graphs, one per input shape: the first run of a shape is captured
  /// and launched, later runs of it launch the graph again. Its inputs live
  /// in device buffers the graph owns; `results` are the descriptors @run
  /// returned while it was captured (graph allocations keep their
  /// addresses). At most `maxGraphs` are kept (0: no graphs), the least
  /// recently used goes first; shapes whose capture failed run eagerly.
  struct CapturedRun {
    std::vector<std::vector<int64_t>> shapes;
    void *graph;
    std::vector<void *> inputs;
    std::vector<int64_t> results;
    uint64_t lastUse;
  };
  int32_t maxGraphs = 8;
  std::vector<CapturedRun> graphs;
  std::vector<std::vector<std::vector<int64_t>>> uncapturable;
  uint64_t runCount = 0;

  void dropGraph(size_t i) {
    fovea::rt::cuda::destroyGraph(graphs[i].graph);
    for (void *p : graphs[i].inputs)
      fovea::rt::cuda::freeDevice(p);
    graphs.erase(graphs.begin() + static_cast<std::ptrdiff_t>(i));
  }
  /// The weights in device memory (CUDA), freed at destroy.
  std::vector<void *> deviceWeights;
  /// The most frames (leading input dimension) of one video run; 0 = any.
  int64_t maxFrames = 0;
  std::vector<TensorSpec> inputs, outputs, weightSpecs, derivedSpecs;
  std::vector<Tensor> weights;
  /// Weights only @init reads, read in place from the checkpoint's mapping
  /// (nullptr: in `weights`); valid during fovea_module_create only.
  std::vector<const void *> mappedWeights;
  /// Results of @init: base pointers (owned, freed at destroy) and the
  /// descriptors passed to every run.
  std::vector<void *> derivedBuffers;
  std::vector<std::vector<int64_t>> derivedDescriptors;

  /// Where weight `i` lives for the compiled code.
  void *weightData(size_t i) {
    if (cuda)
      return deviceWeights[i];
    if (i < mappedWeights.size() && mappedWeights[i])
      return const_cast<void *>(mappedWeights[i]);
    return weights[i].data();
  }

  ~fovea_module() {
    if (cuda)
      fovea::rt::cuda::setRunStream(stream);
    while (!graphs.empty())
      dropGraph(graphs.size() - 1);
    for (void *p : derivedBuffers)
      release(p);
    for (void *p : deviceWeights)
      fovea::rt::cuda::freeDevice(p);
    if (cuda) {
      std::string ignored;
      fovea::rt::cuda::finish(ignored);
    }
  }

  /// Frees a buffer the compiled code allocated.
  void release(void *p) const {
    if (cuda)
      fovea::rt::cuda::freeAsync(p);
    else
      fovea::rt::hostFree(p);
  }
};

extern "C" const char *fovea_module_metadata(void) {
  return FOVEA_ABI_METADATA();
}

extern "C" fovea_module *fovea_module_create(const char *weightsPath,
                                             const char *device, char **error) {
  auto fail = [&](const std::string &message) -> fovea_module * {
    if (error)
      *error = copyError(message);
    return nullptr;
  };
  std::string message;
  std::optional<JsonValue> metadata = parseJson(FOVEA_ABI_METADATA(), message);
  if (!metadata)
    return fail("module metadata: " + message);
  if (!checkAbiVersion(*metadata, message))
    return fail(message);
  if (std::string refusal = checkHostCpu(*metadata); !refusal.empty())
    return fail(refusal);
  const JsonValue *targetEntry = metadata->get("target");
  std::string target = targetEntry ? targetEntry->string() : "cpu";
  std::string requested = device ? device : "";
  if (requested != target)
    return fail("device '" + requested +
                "' is not supported by this module (compiled for " + target +
                "; use --device " + target + ")");
  // A kernel family asked for in the environment that is misspelled or
  // that this CPU lacks is refused, not replaced by the best silently.
  if (const char *family = std::getenv(fovea::rt::kCpuKernelsVariable);
      target == "cpu" && family && *family &&
      !fovea::rt::findCpuIsa(family, message))
    return fail(std::string(fovea::rt::kCpuKernelsVariable) + ": " + message);
  auto module = std::make_unique<fovea_module>();
  module->cuda = target == "cuda";
  if (module->cuda && !fovea::rt::cuda::open(message))
    return fail(message);
  if (!parseSpecs(metadata->get("inputs"), module->inputs, message) ||
      !parseSpecs(metadata->get("outputs"), module->outputs, message) ||
      !parseSpecs(metadata->get("weights"), module->weightSpecs, message) ||
      !parseSpecs(metadata->get("derived"), module->derivedSpecs, message))
    return fail(message);
  if (const JsonValue *m = metadata->get("max_frames"))
    module->maxFrames = m->integer().value_or(0);
  if (!weightsPath)
    return fail("no weights path given");
  std::unique_ptr<Checkpoint> checkpoint =
      Checkpoint::open(weightsPath, message);
  if (!checkpoint)
    return fail(message);
  // A checkpoint with the ViT's final norm for a module compiled without
  // it would give embeddings without the norm, silently.
  if (checkpoint->hasFinalNorm() &&
      std::none_of(module->weightSpecs.begin(), module->weightSpecs.end(),
                   [](const TensorSpec &spec) {
                     return spec.name == fovea::rt::kFinalNormWeight;
                   }))
    return fail("the checkpoint has the ViT's final norm ('" +
                checkpoint->storedName(fovea::rt::kFinalNormWeight) +
                "'), which this module was compiled without: compile it "
                "from the checkpoint's directory (fovea-compile --config DIR)");
  // Read (and converted) on the module's threads: page faults and copies
  // of a few GB spread over the cores. The first failing weight in order
  // is reported.
  //
  // A weight only @init reads (a matmul's, which @init packs) that is
  // stored as the module wants it is not copied: @init reads it in the
  // mapping, and its pages are dropped after the check below and again
  // once packed (fovea_pack_copy), so the resident memory holds the packed
  // copies and the weights in flight, not every original as well.
  size_t count = module->weightSpecs.size();
  std::vector<Tensor> read(count);
  module->mappedWeights.assign(count, nullptr);
  std::vector<std::string> errors(count);
  fovea::rt::parallelFor(static_cast<int64_t>(count), [&](int64_t i) {
    const TensorSpec &spec = module->weightSpecs[i];
    const void *&mapped = module->mappedWeights[i];
    if (spec.initOnly && !module->cuda)
      mapped = checkpoint->view(spec.name, spec.dtype, spec.shape);
    if (!mapped) {
      read[i] = Tensor(spec.dtype, spec.shape);
      if (!checkpoint->read(spec.name, read[i], errors[i]))
        return;
    }
    const void *data = mapped ? mapped : read[i].data();
    size_t elements = 1;
    for (int64_t d : spec.shape)
      elements *= static_cast<size_t>(d);
    // A NaN or infinity in a weight is a damaged checkpoint: refused here
    // rather than turned into NaN embeddings without a word.
    if (int64_t at = firstNonFinite(spec.dtype, data, elements); at >= 0)
      errors[i] = "checkpoint: weight '" + spec.name +
                  "' has a non-finite value (NaN or infinity) at element " +
                  std::to_string(at);
    if (mapped)
      fovea::rt::dropMappedPages(mapped, elements * dtypeSize(spec.dtype));
  });
  for (const std::string &error : errors)
    if (!error.empty())
      return fail(error);
  if (module->cuda)
    fovea::rt::cuda::setRunStream(nullptr);
  for (Tensor &tensor : read) {
    if (module->cuda) {
      // Kernels read the weights: upload them to device memory once.
      void *device = fovea::rt::cuda::allocDevice(tensor.byteSize(), message);
      if (!device)
        return fail(message);
      module->deviceWeights.push_back(device);
      if (!fovea::rt::cuda::upload(device, tensor.data(), tensor.byteSize(),
                                   message))
        return fail(message);
      tensor = Tensor();
    }
    module->weights.push_back(std::move(tensor));
  }
  // Weight-only work (@init), once.
  if (!module->derivedSpecs.empty()) {
    std::vector<std::vector<int64_t>> args;
    for (size_t i = 0; i < module->weights.size(); ++i)
      args.push_back(
          descriptorFor(module->weightData(i), module->weightSpecs[i].shape));
    std::vector<int64_t> results =
        callPacked(FOVEA_ABI_INIT_ENTRY, module->derivedSpecs, args);
    size_t offset = 0;
    for (const TensorSpec &spec : module->derivedSpecs) {
      size_t rank = spec.shape.size();
      const int64_t *d = results.data() + offset;
      offset += 3 + 2 * rank;
      // Values of @init may share an allocation; each is freed once.
      auto *base = reinterpret_cast<void *>(d[0]);
      if (std::find(module->derivedBuffers.begin(),
                    module->derivedBuffers.end(),
                    base) == module->derivedBuffers.end())
        module->derivedBuffers.push_back(base);
      module->derivedDescriptors.emplace_back(d, d + 3 + 2 * rank);
    }
    // @run does not read these any more: give their memory back.
    for (size_t i = 0; i < module->weights.size(); ++i)
      if (module->weightSpecs[i].initOnly) {
        module->weights[i] = Tensor();
        if (module->cuda) {
          fovea::rt::cuda::freeDevice(module->deviceWeights[i]);
          module->deviceWeights[i] = nullptr;
        }
      }
  }
  // The checkpoint closes with this function.
  module->mappedWeights.clear();
  // The weights' upload and @init: one wait.
  if (module->cuda && !fovea::rt::cuda::finish(message))
    return fail("loading the weights and @init: " + message);
  return module.release();
}

/// A run. `onDevice` (CUDA modules): the inputs are in device memory and
/// the outputs stay there, handed to the caller (fovea_module_run_device).
static int runModule(fovea_module *module, const fovea_tensor *inputs,
                     int32_t numInputs, fovea_tensor *outputs,
                     int32_t maxOutputs, int32_t *numOutputs, char **error,
                     bool onDevice) {
  auto fail = [&](const std::string &message) {
    return reportError(error, message);
  };
  if (!module || !inputs)
    return fail("fovea_module_run: null module or input");
  if (onDevice && !module->cuda)
    return fail("fovea_module_run_device: the module is compiled for the "
                "CPU; its inputs and outputs are in host memory "
                "(fovea_module_run_inputs)");
  if (numInputs != static_cast<int32_t>(module->inputs.size()))
    return fail("fovea_module_run: the module takes " +
                std::to_string(module->inputs.size()) +
                " inputs (fovea_module_run_inputs), got " +
                std::to_string(numInputs));
  std::vector<std::vector<int64_t>> shapes;
  for (int32_t n = 0; n < numInputs; ++n) {
    const fovea_tensor *input = &inputs[n];
    const TensorSpec &spec = module->inputs[n];
    std::vector<int64_t> shape(input->shape, input->shape + input->rank);
    bool matches = input->rank == static_cast<int32_t>(spec.shape.size()) &&
                   input->dtype == static_cast<int32_t>(spec.dtype);
    for (size_t i = 0; matches && i < shape.size(); ++i)
      matches = spec.shape[i] < 0 ? shape[i] > 0 : shape[i] == spec.shape[i];
    if (!matches)
      return fail("input '" + spec.name + "': expected " +
                  dtypeName(spec.dtype) + " " + formatShape(spec.shape) +
                  " (-1 = any), got " +
                  (input->dtype >= 0 && input->dtype <= 5
                       ? dtypeName(static_cast<DType>(input->dtype))
                       : "?") +
                  " " + formatShape(shape));
    if (module->maxFrames && !shape.empty() && shape[0] > module->maxFrames)
      return fail("input '" + spec.name + "': " + std::to_string(shape[0]) +
                  " frames, the module accepts at most " +
                  std::to_string(module->maxFrames) + " (--max-frames)");
    shapes.push_back(std::move(shape));
  }
  if (static_cast<int32_t>(module->outputs.size()) > maxOutputs)
    return fail("fovea_module_run: room for " + std::to_string(maxOutputs) +
                " outputs, the module returns " +
                std::to_string(module->outputs.size()));

  // CUDA: the run's work goes to one stream; the inputs reach the device
  // through the pinned input buffer, into the buffers of this shape's graph
  // when it has one.
  std::vector<void *> deviceInputs;
  std::string deviceError;
  fovea_module::CapturedRun *replay = nullptr;
  bool capture = false, graphOwnsInputs = false;
  if (module->cuda) {
    fovea::rt::cuda::setRunStream(module->stream);
    ++module->runCount;
    for (fovea_module::CapturedRun &g : module->graphs)
      if (g.shapes == shapes)
        replay = &g;
    // Device runs hand their results to the caller: no graph, whose
    // results the next launch would overwrite.
    if (onDevice)
      replay = nullptr;
    capture =
        !onDevice && !replay && module->maxGraphs > 0 &&
        std::find(module->uncapturable.begin(), module->uncapturable.end(),
                  shapes) == module->uncapturable.end();
    std::vector<size_t> sizes;
    size_t total = 0;
    for (int32_t n = 0; n < numInputs; ++n) {
      size_t bytes = dtypeSize(module->inputs[n].dtype);
      for (int64_t d : shapes[n])
        bytes *= static_cast<size_t>(d);
      sizes.push_back(bytes);
      total += bytes;
    }
    if (onDevice)
      for (int32_t n = 0; n < numInputs; ++n)
        deviceInputs.push_back(inputs[n].data);
    else if (!fovea::rt::cuda::reserveStaging(total, 0, deviceError))
      return fail(deviceError);
    if (replay) {
      replay->lastUse = module->runCount;
      deviceInputs = replay->inputs;
    }
    size_t at = 0;
    for (int32_t n = 0; n < numInputs && deviceError.empty() && !onDevice;
         ++n) {
      if (!replay) {
        // A captured graph keeps reading its inputs' buffers: those are
        // not from the stream-ordered pool.
        void *device = capture
                           ? fovea::rt::cuda::allocDevice(sizes[n], deviceError)
                           : fovea::rt::cuda::allocAsync(sizes[n], deviceError);
        if (!device)
          break;
        deviceInputs.push_back(device);
      }
      fovea::rt::cuda::stageInput(deviceInputs[n], inputs[n].data, at,
                                  sizes[n]);
      at += sizes[n];
    }
    if (!deviceError.empty()) {
      for (void *device : deviceInputs)
        capture ? fovea::rt::cuda::freeDevice(device)
                : fovea::rt::cuda::freeAsync(device);
      std::string ignored;
      fovea::rt::cuda::finish(ignored);
      return fail(deviceError);
    }
  }

  // Result descriptors first (written by the callee), then the inputs, the
  // weights and the values @init derived from them.
  std::vector<std::vector<int64_t>> args;
  for (int32_t n = 0; n < numInputs; ++n)
    args.push_back(descriptorFor(
        module->cuda ? deviceInputs[n] : inputs[n].data, shapes[n]));
  // Released (init-only) weights pass a null buffer of their shape; @run
  // does not read them.
  for (size_t i = 0; i < module->weights.size(); ++i)
    args.push_back(
        descriptorFor(module->weightData(i), module->weightSpecs[i].shape));
  for (const std::vector<int64_t> &d : module->derivedDescriptors)
    args.push_back(d);
  std::vector<int64_t> packedResults;
  if (replay) {
    fovea::rt::cuda::launchGraph(replay->graph);
    packedResults = replay->results;
  } else if (capture) {
    // The first run of this shape: captured (nothing runs while @run
    // enqueues), then launched. A shape whose capture fails runs eagerly
    // from now on.
    std::string why;
    void *graph = nullptr;
    if (fovea::rt::cuda::beginCapture()) {
      packedResults = callPacked(FOVEA_ABI_RUN_ENTRY, module->outputs, args);
      graph = fovea::rt::cuda::endCapture(why);
    } else {
      why = fovea::rt::cuda::takeError();
    }
    if (graph) {
      // A failing launch is the run's error (the device's, not the
      // capture's): it is reported, not retried without the graph.
      fovea::rt::cuda::launchGraph(graph);
      if (module->graphs.size() >= static_cast<size_t>(module->maxGraphs)) {
        size_t oldest = 0;
        for (size_t i = 1; i < module->graphs.size(); ++i)
          if (module->graphs[i].lastUse < module->graphs[oldest].lastUse)
            oldest = i;
        module->dropGraph(oldest);
      }
      module->graphs.push_back(
          {shapes, graph, deviceInputs, packedResults, module->runCount});
      graphOwnsInputs = true;
    } else {
      module->uncapturable.push_back(shapes);
      packedResults = callPacked(FOVEA_ABI_RUN_ENTRY, module->outputs, args);
    }
  } else {
    packedResults = callPacked(FOVEA_ABI_RUN_ENTRY, module->outputs, args);
  }

  // The results' shapes and where they start.
  struct Result {
    void *allocation;
    const uint8_t *data;
    size_t bytes;
    size_t staged;
  };
  std::vector<Result> results;
  size_t offset = 0, stagedBytes = 0;
  for (size_t i = 0; i < module->outputs.size(); ++i) {
    const TensorSpec &out = module->outputs[i];
    size_t rank = out.shape.size();
    const int64_t *d = packedResults.data() + offset;
    offset += 3 + 2 * rank;
    fovea_tensor &t = outputs[i];
    t.dtype = static_cast<int32_t>(out.dtype);
    t.rank = static_cast<int32_t>(rank);
    t.shape =
        static_cast<int64_t *>(std::malloc(8 * std::max<size_t>(rank, 1)));
    size_t elements = 1;
    for (size_t k = 0; k < rank; ++k) {
      t.shape[k] = d[3 + k];
      elements *= static_cast<size_t>(d[3 + k]);
    }
    size_t bytes = elements * dtypeSize(out.dtype);
    t.data = onDevice ? nullptr : std::malloc(std::max<size_t>(bytes, 1));
    // Results are dense and row-major (identity layouts at the boundary).
    results.push_back(
        {reinterpret_cast<void *>(d[0]),
         reinterpret_cast<const uint8_t *>(d[1]) + d[2] * dtypeSize(out.dtype),
         bytes, stagedBytes});
    stagedBytes += bytes;
  }
  // Each allocation is freed once, after its results are copied out.
  std::vector<void *> allocations;
  for (const Result &r : results)
    if (std::find(allocations.begin(), allocations.end(), r.allocation) ==
        allocations.end())
      allocations.push_back(r.allocation);
  if (onDevice) {
    // A result that is a whole allocation of its own goes to the caller as
    // it is; others (views, shared allocations) are copied into one.
    deviceError = fovea::rt::cuda::takeError();
    std::vector<void *> kept;
    for (size_t i = 0; i < results.size() && deviceError.empty(); ++i) {
      const Result &r = results[i];
      bool whole =
          r.data == r.allocation &&
          std::count_if(results.begin(), results.end(), [&](const Result &o) {
            return o.allocation == r.allocation;
          }) == 1;
      if (whole) {
        outputs[i].data = r.allocation;
        kept.push_back(r.allocation);
        continue;
      }
      outputs[i].data = fovea::rt::cuda::allocAsync(r.bytes, deviceError);
      if (outputs[i].data)
        fovea::rt::cuda::copyDevice(outputs[i].data, r.data, r.bytes);
    }
    for (void *a : allocations)
      if (std::find(kept.begin(), kept.end(), a) == kept.end())
        module->release(a);
    std::string late;
    if (!fovea::rt::cuda::finish(late) && deviceError.empty())
      deviceError = late;
    if (!deviceError.empty()) {
      for (size_t i = 0; i < module->outputs.size(); ++i)
        fovea_tensor_release_device(&outputs[i]);
      std::string ignored;
      fovea::rt::cuda::finish(ignored);
      return fail("run: " + deviceError);
    }
    if (numOutputs)
      *numOutputs = static_cast<int32_t>(module->outputs.size());
    return 0;
  }
  if (module->cuda) {
    // The results come back through the pinned output buffer, then the
    // host waits for the stream, once.
    deviceError = fovea::rt::cuda::takeError();
    if (deviceError.empty() &&
        fovea::rt::cuda::reserveStaging(0, stagedBytes, deviceError))
      for (const Result &r : results)
        fovea::rt::cuda::stageOutput(r.data, r.staged, r.bytes);
    // Also a graph's results: freed after each launch, so it can run again.
    for (void *a : allocations)
      module->release(a);
    if (!replay && !graphOwnsInputs && !capture)
      for (void *device : deviceInputs)
        fovea::rt::cuda::freeAsync(device);
    std::string late;
    if (!fovea::rt::cuda::finish(late) && deviceError.empty())
      deviceError = late;
    // A failed capture's inputs, from cuMemAlloc.
    if (capture && !graphOwnsInputs)
      for (void *device : deviceInputs)
        fovea::rt::cuda::freeDevice(device);
  }
  for (size_t i = 0; i < results.size() && deviceError.empty(); ++i)
    std::memcpy(outputs[i].data,
                module->cuda ? fovea::rt::cuda::stagedOutput(results[i].staged)
                             : results[i].data,
                results[i].bytes);
  if (!module->cuda)
    for (void *a : allocations)
      module->release(a);
  if (!deviceError.empty()) {
    for (size_t i = 0; i < module->outputs.size(); ++i)
      fovea_tensor_release(&outputs[i]);
    return fail("run: " + deviceError);
  }
  if (numOutputs)
    *numOutputs = static_cast<int32_t>(module->outputs.size());
  return 0;
}

extern "C" int fovea_module_run_inputs(fovea_module *module,
                                       const fovea_tensor *inputs,
                                       int32_t numInputs, fovea_tensor *outputs,
                                       int32_t maxOutputs, int32_t *numOutputs,
                                       char **error) {
  return runModule(module, inputs, numInputs, outputs, maxOutputs, numOutputs,
                   error, /*onDevice=*/false);
}

extern "C" int fovea_module_run_device(fovea_module *module,
                                       const fovea_tensor *inputs,
                                       int32_t numInputs, fovea_tensor *outputs,
                                       int32_t maxOutputs, int32_t *numOutputs,
                                       char **error) {
  return runModule(module, inputs, numInputs, outputs, maxOutputs, numOutputs,
                   error, /*onDevice=*/true);
}

extern "C" void fovea_tensor_release_device(fovea_tensor *tensor) {
  if (!tensor)
    return;
  std::free(tensor->shape);
  fovea::rt::cuda::freeAsync(tensor->data);
  tensor->shape = nullptr;
  tensor->data = nullptr;
}

extern "C" int fovea_module_run(fovea_module *module, const fovea_tensor *input,
                                fovea_tensor *outputs, int32_t maxOutputs,
                                int32_t *numOutputs, char **error) {
  return fovea_module_run_inputs(module, input, 1, outputs, maxOutputs,
                                 numOutputs, error);
}

extern "C" int fovea_module_set_stream(fovea_module *module, void *stream,
                                       char **error) {
  std::string message;
  if (!module)
    message = "fovea_module_set_stream: no module";
  else if (!module->cuda)
    message = "fovea_module_set_stream: the module is compiled for the CPU; "
              "only CUDA modules run on a stream";
  if (!message.empty())
    return reportError(error, message);
  module->stream = stream;
  return 0;
}

extern "C" int fovea_module_set_cuda_graphs(fovea_module *module,
                                            int32_t maxGraphs, char **error) {
  std::string message;
  if (!module)
    message = "fovea_module_set_cuda_graphs: no module";
  else if (!module->cuda)
    message = "fovea_module_set_cuda_graphs: the module is compiled for the "
              "CPU; CUDA graphs are for CUDA modules";
  else if (maxGraphs < 0)
    message = "the number of CUDA graphs must be >= 0 (0: off), got " +
              std::to_string(maxGraphs);
  if (!message.empty())
    return reportError(error, message);
  module->maxGraphs = maxGraphs;
  fovea::rt::cuda::setRunStream(module->stream);
  while (module->graphs.size() > static_cast<size_t>(maxGraphs))
    module->dropGraph(0);
  return 0;
}

extern "C" int fovea_module_set_threads(fovea_module *module, int32_t threads,
                                        char **error) {
  std::string message;
  if (!module)
    message = "fovea_module_set_threads: no module";
  else if (threads < 0)
    message = "threads must be >= 1, or 0 for every core, got " +
              std::to_string(threads);
  if (!message.empty())
    return reportError(error, message);
  fovea::rt::setNumThreads(threads);
  return 0;
}

extern "C" int fovea_module_set_cpu_kernels(fovea_module *module,
                                            const char *family, char **error) {
  std::string message;
  std::optional<fovea::rt::CpuIsa> isa;
  if (!module)
    message = "fovea_module_set_cpu_kernels: no module";
  else if (module->cuda)
    message = "the module is compiled for CUDA; CPU kernel families are for "
              "CPU modules";
  else
    isa = fovea::rt::findCpuIsa(family ? family : "auto", message);
  if (!isa)
    return reportError(error, message);
  fovea::rt::setCpuIsa(*isa);
  return 0;
}

extern "C" const char *fovea_module_cpu_kernels(const fovea_module *module) {
  if (!module || module->cuda)
    return "";
  return fovea::rt::cpuIsaName(fovea::rt::cpuIsa());
}

extern "C" void fovea_module_destroy(fovea_module *module) {
  bool cuda = module && module->cuda;
  delete module;
  // Cached memory goes back with the last use of it.
  if (cuda)
    fovea::rt::cuda::trim();
  else
    fovea::rt::hostTrim();
}

extern "C" void fovea_tensor_release(fovea_tensor *tensor) {
  if (!tensor)
    return;
  std::free(tensor->shape);
  std::free(tensor->data);
  tensor->shape = nullptr;
  tensor->data = nullptr;
}

extern "C" int fovea_module_geometry(int64_t count, const int64_t *frameIndices,
                                     double sourceFps,
                                     const int64_t *tubeletCounts,
                                     int64_t numTubeletCounts, char **json,
                                     char **error) {
  std::string message;
  auto fail = [&]() {
    if (error)
      *error = copyError(message);
    return 1;
  };
  std::optional<JsonValue> metadata = parseJson(FOVEA_ABI_METADATA(), message);
  if (!metadata)
    return fail();
  std::optional<ModuleGeometry> geometry =
      parseModuleGeometry(*metadata, message);
  if (!geometry)
    return fail();
  std::vector<int64_t> indices;
  if (frameIndices && count > 0)
    indices.assign(frameIndices, frameIndices + count);
  std::vector<int64_t> counts;
  if (tubeletCounts && numTubeletCounts > 0)
    counts.assign(tubeletCounts, tubeletCounts + numTubeletCounts);
  std::optional<std::string> text =
      geometryJson(*geometry, count, indices, sourceFps,
                   tubeletCounts ? &counts : nullptr, message);
  if (!text)
    return fail();
  if (json)
    *json = copyError(*text);
  return 0;
}

extern "C" void fovea_free_error(char *error) { std::free(error); }
extern "C" void fovea_free_string(char *text) { std::free(text); }
