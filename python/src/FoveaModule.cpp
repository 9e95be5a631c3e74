//===- FoveaModule.cpp - The _fovea Python extension ----------------------===//
//
// pybind11 bindings over Fovea's C++ API: the driver (compile), runtime
// modules (load and run through their C ABI), and the token geometry. This
// is the one place where C++ exceptions are used: errors of the
// exception-free libraries become Python exceptions here, carrying their
// diagnostics text.
//
//===----------------------------------------------------------------------===//

#include "fovea/Driver/Compile.h"
#include "fovea/Runtime/RunTool.h"
#include "fovea/Runtime/Tensor.h"
#include "fovea/Runtime/fovea_runtime.h"
#include "fovea/Support/TokenGeometry.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Path.h"

#include <cstring>
#include <dlfcn.h>
#include <dlpack/dlpack.h>
#include <memory>
#include <optional>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <tuple>

namespace py = pybind11;
using namespace fovea;

namespace {

/// Raised for every Fovea error; the message is the diagnostic.
class FoveaError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Compiles with the options model: `options` are (flag, value) pairs as
/// fovea-compile's command line gives them. Returns the IR text, or `output`
/// for an artifact.
std::string
compile(const std::string &configOrPreset, const std::string &output,
        const std::vector<std::pair<std::string, std::string>> &flags) {
  CompileOptions options;
  for (const auto &[flag, value] : flags)
    if (llvm::Error e = options.set(flag, value))
      throw FoveaError(llvm::toString(std::move(e)));
  options.outputPath = output;
  if (llvm::Error e = options.validate())
    throw FoveaError(llvm::toString(std::move(e)));
  bool isPath = llvm::StringRef(configOrPreset).ends_with(".json") ||
                configOrPreset.find('/') != std::string::npos;
  llvm::Expected<ModelConfig> config =
      isPath ? loadModel(configOrPreset, "") : loadModel("", configOrPreset);
  if (!config)
    throw FoveaError(llvm::toString(config.takeError()));
  std::string text;
  llvm::raw_string_ostream os(text);
  if (llvm::Error e = compileModel(*config, options, os))
    throw FoveaError(llvm::toString(std::move(e)));
  return options.emit == Emit::IR ? text : output;
}

/// Every option of the model: (flag, default, help).
std::vector<std::tuple<std::string, std::string, std::string>>
compileOptions() {
  std::vector<std::tuple<std::string, std::string, std::string>> options;
  for (const OptionInfo &info : CompileOptions::all())
    options.emplace_back(info.flag.str(), info.defaultValue, info.help.str());
  return options;
}

/// Opens the module at `path`; throws FoveaError on failure.
void *openModule(const std::string &path, rt::ModuleApi &api) {
  std::string error;
  void *handle = rt::openModuleApi(path, api, error);
  if (!handle)
    throw FoveaError(error);
  return handle;
}

/// The metadata JSON of the module at `path`, without loading weights.
std::string readMetadata(const std::string &path) {
  rt::ModuleApi api{};
  void *handle = openModule(path, api);
  std::string text = api.metadata();
  dlclose(handle);
  return text;
}

/// A loaded module: the dlopen handle, its C ABI and the module. Shared by
/// the Python object and every result still lent out through DLPack (their
/// buffers belong to the module's allocator).
struct LoadedModule {
  void *handle = nullptr;
  fovea_module *module = nullptr;
  rt::ModuleApi api{};
  ~LoadedModule() {
    if (module)
      api.destroy(module);
    if (handle)
      dlclose(handle);
  }
};

/// What a result lent out through DLPack keeps alive: the module and the
/// buffer (the module's, or a converted copy).
struct LentResult {
  std::shared_ptr<LoadedModule> owner;
  fovea_tensor tensor{};
  /// The buffer is CUDA device memory (a device run's result).
  bool device = false;
  std::vector<int64_t> shape;
  std::vector<float> converted;
  DLManagedTensor managed{};
  ~LentResult() {
    if (tensor.data)
      device ? owner->api.releaseDevice(&tensor) : owner->api.release(&tensor);
  }
};

DLDataType dlpackType(int32_t dtype) {
  switch (dtype) {
  case FOVEA_F32:
    return {kDLFloat, 32, 1};
  case FOVEA_F16:
    return {kDLFloat, 16, 1};
  case FOVEA_BF16:
    return {kDLBfloat, 16, 1};
  case FOVEA_U8:
    return {kDLUInt, 8, 1};
  case FOVEA_I32:
    return {kDLInt, 32, 1};
  default:
    return {kDLInt, 64, 1};
  }
}

/// A consumed input capsule: its DLManagedTensor is deleted once the run is
/// over (the consumer's duty under the DLPack protocol).
struct ConsumedInput {
  DLManagedTensor *managed = nullptr;
  ~ConsumedInput() {
    if (managed && managed->deleter)
      managed->deleter(managed);
  }
};

void deleteUnconsumedCapsule(PyObject *capsule) {
  // A capsule nobody consumed still owns its tensor.
  if (PyCapsule_IsValid(capsule, "dltensor")) {
    auto *managed = static_cast<DLManagedTensor *>(
        PyCapsule_GetPointer(capsule, "dltensor"));
    if (managed && managed->deleter)
      managed->deleter(managed);
  }
}

/// The f32 values of a bf16 or f16 result, or an empty vector for other
/// types.
std::vector<float> widened(const fovea_tensor &t, size_t count) {
  std::vector<float> out;
  if (t.dtype != FOVEA_BF16 && t.dtype != FOVEA_F16)
    return out;
  out.resize(count);
  rt::convertElements(t.data, static_cast<rt::DType>(t.dtype), out.data(),
                      rt::DType::F32, count);
  return out;
}

/// The results of a run, released at destruction unless taken (so that an
/// exception while wrapping them leaks none).
struct RunResults {
  const rt::ModuleApi &api;
  std::vector<fovea_tensor> tensors;
  bool device = false;
  size_t taken = 0;
  ~RunResults() {
    for (size_t i = taken; i < tensors.size(); ++i)
      device ? api.releaseDevice(&tensors[i]) : api.release(&tensors[i]);
  }
};

size_t elementCount(const fovea_tensor &t) {
  size_t n = 1;
  for (int32_t i = 0; i < t.rank; ++i)
    n *= static_cast<size_t>(t.shape[i]);
  return n;
}

/// A loaded runtime module.
class Module {
public:
  Module(const std::string &path, const std::string &weights,
         const std::string &device, int threads, const std::string &cpuKernels)
      : state(std::make_shared<LoadedModule>()) {
    state->handle = openModule(path, state->api);
    char *error = nullptr;
    state->module = state->api.create(weights.c_str(), device.c_str(), &error);
    if (state->module &&
        (state->api.setThreads(state->module, threads, &error) != 0 ||
         (!cpuKernels.empty() &&
          state->api.setCpuKernels(state->module, cpuKernels.c_str(), &error) !=
              0))) {
      state->api.destroy(state->module);
      state->module = nullptr;
    }
    if (!state->module) {
      std::string message = error ? error : "cannot create the module";
      state->api.freeError(error);
      throw FoveaError(message);
    }
  }

  std::string metadata() const { return state->api.metadata(); }

  /// Throws the module's message (or `fallback`) for a non-zero `status`.
  /// `error` is taken by reference: it is read after the call that sets it,
  /// whatever the order the arguments are evaluated in.
  void check(int status, char *&error, const char *fallback) const {
    if (status == 0)
      return;
    std::string message = error ? error : fallback;
    state->api.freeError(error);
    throw FoveaError(message);
  }

  /// CPU modules: the kernel family of the runs ("auto": the best).
  void setCpuKernels(const std::string &family) {
    char *error = nullptr;
    check(state->api.setCpuKernels(state->module, family.c_str(), &error),
          error, "cannot set the CPU kernels");
  }

  std::string cpuKernels() const {
    return state->api.cpuKernels(state->module);
  }

  /// CUDA modules: the most CUDA graphs kept (0: off).
  void setCudaGraphs(int32_t maxGraphs) {
    char *error = nullptr;
    check(state->api.setCudaGraphs(state->module, maxGraphs, &error), error,
          "cannot set the CUDA graphs");
  }

  /// CUDA modules: the CUstream (an address) the runs go to; 0 for the
  /// runtime's own.
  void setStream(uintptr_t stream) {
    char *error = nullptr;
    check(state->api.setStream(state->module, reinterpret_cast<void *>(stream),
                               &error),
          error, "cannot set the stream");
  }

  std::string geometry(int64_t count, const std::vector<int64_t> &indices,
                       double sourceFps,
                       std::optional<std::vector<int64_t>> counts) const {
    std::string error;
    std::optional<std::string> json =
        rt::moduleGeometry(state->api, count, indices, sourceFps,
                           counts ? &*counts : nullptr, error);
    if (!json)
      throw FoveaError(error);
    return *json;
  }

  /// numpy in, numpy out (copied; bf16 as uint16 bit patterns unless
  /// `outputDtype` is "f32").
  py::list run(const std::vector<py::array> &inputs,
               const std::string &outputDtype) {
    bool widen = checkOutputDtype(outputDtype);
    std::vector<fovea_tensor> ins(inputs.size());
    std::vector<std::vector<int64_t>> shapes;
    std::vector<py::array> contiguous;
    shapes.reserve(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const py::array &input = inputs[i];
      shapes.emplace_back(input.shape(), input.shape() + input.ndim());
      py::dtype dt = input.dtype();
      if (dt.is(py::dtype::of<uint8_t>()))
        ins[i].dtype = FOVEA_U8;
      else if (dt.is(py::dtype::of<float>()))
        ins[i].dtype = FOVEA_F32;
      else
        throw FoveaError("input must be a uint8 or float32 array, got " +
                         std::string(py::str(dt)));
      contiguous.push_back(
          py::array::ensure(input, py::array::c_style | py::array::forcecast));
      ins[i].rank = static_cast<int32_t>(shapes.back().size());
      ins[i].shape = shapes.back().data();
      ins[i].data = const_cast<void *>(contiguous.back().data());
    }
    RunResults outs{state->api, call(ins)};
    py::list results;
    for (; outs.taken < outs.tensors.size(); ++outs.taken) {
      fovea_tensor &out = outs.tensors[outs.taken];
      std::vector<py::ssize_t> dims(out.shape, out.shape + out.rank);
      std::vector<float> wide =
          widen ? widened(out, elementCount(out)) : std::vector<float>();
      py::array array;
      if (out.dtype == FOVEA_F32 || !wide.empty())
        array = py::array_t<float>(dims);
      else if (out.dtype == FOVEA_I64)
        array = py::array_t<int64_t>(dims);
      else // bf16 and f16 travel as their uint16 bit patterns
        array = py::array_t<uint16_t>(dims);
      std::memcpy(array.mutable_data(),
                  wide.empty() ? out.data : static_cast<void *>(wide.data()),
                  array.nbytes());
      results.append(array);
      // Copied: the module's buffer goes back now (the guard skips it).
      state->api.release(&out);
    }
    return results;
  }

  /// DLPack capsules in, DLPack capsules out, without copies: the inputs'
  /// buffers go to the module as they are, and the results are the module's
  /// buffers, released when their consumer deletes them (unless "f32" asks
  /// for bf16/f16 results widened, which copies).
  py::list runDlpack(const std::vector<py::capsule> &capsules,
                     const std::string &outputDtype) {
    bool widen = checkOutputDtype(outputDtype);
    std::vector<ConsumedInput> consumed(capsules.size());
    std::vector<fovea_tensor> ins(capsules.size());
    std::vector<std::vector<int64_t>> shapes(capsules.size());
    // All inputs in host memory, or all in CUDA device memory (device 0):
    // then the run keeps everything on the device (no copy through the
    // host) and its results are CUDA tensors.
    bool onDevice = false;
    for (size_t i = 0; i < capsules.size(); ++i) {
      PyObject *capsule = capsules[i].ptr();
      if (!PyCapsule_IsValid(capsule, "dltensor"))
        throw FoveaError("input " + std::to_string(i) +
                         ": not an unconsumed DLPack capsule");
      auto *managed = static_cast<DLManagedTensor *>(
          PyCapsule_GetPointer(capsule, "dltensor"));
      PyCapsule_SetName(capsule, "used_dltensor");
      consumed[i].managed = managed;
      const DLTensor &t = managed->dl_tensor;
      std::string what = "input " + std::to_string(i) + ": ";
      bool cuda = t.device.device_type == kDLCUDA;
      if (t.device.device_type != kDLCPU && !cuda)
        throw FoveaError(what +
                         "the tensor is neither in host memory nor on a "
                         "CUDA device (DLPack device type " +
                         std::to_string(t.device.device_type) + ")");
      if (i == 0)
        onDevice = cuda;
      else if (cuda != onDevice)
        throw FoveaError(what + "inputs must all be in host memory or all "
                                "on the CUDA device");
      if (cuda && t.device.device_id != 0)
        throw FoveaError(what + "the tensor is on CUDA device " +
                         std::to_string(t.device.device_id) +
                         "; Fovea runs on device 0");
      if (cuda && widen)
        throw FoveaError("output_dtype='f32' widens host results; convert "
                         "CUDA results in the framework");
      if (t.dtype.lanes != 1 ||
          !((t.dtype.code == kDLUInt && t.dtype.bits == 8) ||
            (t.dtype.code == kDLFloat && t.dtype.bits == 32)))
        throw FoveaError(what + "expected uint8 or float32 elements");
      shapes[i].assign(t.shape, t.shape + t.ndim);
      if (t.strides) {
        int64_t expected = 1;
        for (int d = t.ndim - 1; d >= 0; --d) {
          if (t.shape[d] != 1 && t.strides[d] != expected)
            throw FoveaError(what + "the tensor is not contiguous");
          expected *= t.shape[d];
        }
      }
      ins[i].dtype = t.dtype.code == kDLUInt ? FOVEA_U8 : FOVEA_F32;
      ins[i].rank = t.ndim;
      ins[i].shape = shapes[i].data();
      ins[i].data = static_cast<char *>(t.data) + t.byte_offset;
    }
    RunResults outs{state->api, call(ins, onDevice), onDevice};
    py::list results;
    for (; outs.taken < outs.tensors.size();) {
      // From here the LentResult owns the buffer.
      auto lent = std::make_unique<LentResult>();
      lent->owner = state;
      lent->device = onDevice;
      lent->tensor = outs.tensors[outs.taken++];
      const fovea_tensor &out = lent->tensor;
      lent->shape.assign(out.shape, out.shape + out.rank);
      DLTensor &t = lent->managed.dl_tensor;
      t.data = out.data;
      t.dtype = dlpackType(out.dtype);
      if (widen) {
        lent->converted = widened(out, elementCount(out));
        if (!lent->converted.empty()) {
          state->api.release(&lent->tensor);
          lent->tensor.data = nullptr;
          t.data = lent->converted.data();
          t.dtype = dlpackType(FOVEA_F32);
        }
      }
      t.device = {onDevice ? kDLCUDA : kDLCPU, 0};
      t.ndim = static_cast<int32_t>(lent->shape.size());
      t.shape = lent->shape.data();
      t.strides = nullptr;
      t.byte_offset = 0;
      lent->managed.manager_ctx = lent.get();
      lent->managed.deleter = [](DLManagedTensor *self) {
        delete static_cast<LentResult *>(self->manager_ctx);
      };
      PyObject *capsule =
          PyCapsule_New(&lent->managed, "dltensor", deleteUnconsumedCapsule);
      if (!capsule)
        throw py::error_already_set();
      lent.release(); // the capsule (or its consumer) deletes it
      results.append(py::reinterpret_steal<py::object>(capsule));
    }
    return results;
  }

  /// The data pointers of the last run's inputs and results as the C ABI
  /// saw them (to check that DLPack runs copy nothing).
  py::tuple lastDataPointers() const {
    return py::make_tuple(lastInputs, lastOutputs);
  }

private:
  static bool checkOutputDtype(const std::string &dtype) {
    if (dtype != "native" && dtype != "f32")
      throw FoveaError("output_dtype must be 'native' or 'f32', got '" + dtype +
                       "'");
    return dtype == "f32";
  }

  /// Runs the module without the GIL; the results are the module's.
  std::vector<fovea_tensor> call(std::vector<fovea_tensor> &ins,
                                 bool onDevice = false) {
    fovea_tensor outs[8];
    int32_t count = 0;
    char *error = nullptr;
    int status;
    {
      py::gil_scoped_release release;
      status = (onDevice ? state->api.runDevice : state->api.run)(
          state->module, ins.data(), static_cast<int32_t>(ins.size()), outs, 8,
          &count, &error);
    }
    if (status != 0) {
      std::string message = error ? error : "run failed";
      state->api.freeError(error);
      throw FoveaError(message);
    }
    lastInputs.clear();
    lastOutputs.clear();
    for (const fovea_tensor &in : ins)
      lastInputs.push_back(reinterpret_cast<uintptr_t>(in.data));
    for (int32_t i = 0; i < count; ++i)
      lastOutputs.push_back(reinterpret_cast<uintptr_t>(outs[i].data));
    return std::vector<fovea_tensor>(outs, outs + count);
  }

  std::shared_ptr<LoadedModule> state;
  std::vector<uintptr_t> lastInputs, lastOutputs;
};

} // namespace

PYBIND11_MODULE(_fovea, m) {
  m.doc() = "Fovea's C++ API (compile, load, run, geometry)";
  py::register_exception<FoveaError>(m, "FoveaError", PyExc_RuntimeError);
  m.def("compile", &compile, py::arg("config_or_preset"), py::arg("output"),
        py::arg("flags"));
  m.def("compile_options", &compileOptions);
  m.def("read_metadata", &readMetadata, py::arg("path"));
  py::class_<Module>(m, "Module")
      .def(py::init<const std::string &, const std::string &,
                    const std::string &, int, const std::string &>(),
           py::arg("path"), py::arg("weights"), py::arg("device"),
           py::arg("threads"), py::arg("cpu_kernels"))
      .def("metadata", &Module::metadata)
      .def("set_stream", &Module::setStream, py::arg("stream"))
      .def("set_cuda_graphs", &Module::setCudaGraphs, py::arg("max_graphs"))
      .def("set_cpu_kernels", &Module::setCpuKernels, py::arg("family"))
      .def("cpu_kernels", &Module::cpuKernels)
      .def("run", &Module::run, py::arg("inputs"), py::arg("output_dtype"))
      .def("run_dlpack", &Module::runDlpack, py::arg("capsules"),
           py::arg("output_dtype"))
      .def("last_data_pointers", &Module::lastDataPointers)
      .def("geometry", &Module::geometry, py::arg("count"),
           py::arg("frame_indices"), py::arg("source_fps"),
           py::arg("tubelet_counts"));
  m.def(
      "sample_frame_indices",
      [](int64_t total, double sourceFps, double fps, int64_t maxFrames) {
        if (total <= 0)
          throw FoveaError("sample_frame_indices: the frame count must be "
                           "positive");
        return sampleFrameIndices(total, sourceFps, fps, maxFrames);
      },
      py::arg("total_frames"), py::arg("source_fps"), py::arg("fps"),
      py::arg("max_frames"));
  m.def(
      "dynamic_resolution_budgets",
      [](const std::vector<std::pair<int64_t, int64_t>> &sizes,
         int64_t maxModelLen, int64_t textPromptLen, int64_t minPatches,
         int64_t maxPatches) {
        std::vector<Size> images;
        for (auto [w, h] : sizes)
          images.push_back({w, h});
        std::optional<std::vector<int64_t>> budgets = dynamicResolutionBudgets(
            images, maxModelLen, textPromptLen, minPatches, maxPatches);
        if (!budgets)
          throw FoveaError("dynamic_resolution_budgets: bad arguments, or "
                           "the budgets do not converge");
        return *budgets;
      },
      py::arg("sizes"), py::arg("max_model_len"), py::arg("text_prompt_len"),
      py::arg("min_patches"), py::arg("max_patches"));
  m.def(
      "evs_retained_tokens",
      [](int64_t tokensPerTubelet, int64_t numTubelets, double rate) {
        std::optional<int64_t> kept =
            evsRetainedTokenCount(tokensPerTubelet, numTubelets, rate);
        if (!kept)
          throw FoveaError("evs_retained_tokens: counts must be positive and "
                           "the rate in [0, 1)");
        return *kept;
      },
      py::arg("tokens_per_tubelet"), py::arg("num_tubelets"), py::arg("rate"));
  m.def(
      "tokens_per_unit",
      [](int64_t height, int64_t width, int64_t patchSize) {
        if (patchSize <= 0 || height % (2 * patchSize) ||
            width % (2 * patchSize))
          throw FoveaError("tokens_per_unit: the size must be a multiple of "
                           "twice the patch size");
        return (height / patchSize / 2) * (width / patchSize / 2);
      },
      py::arg("height"), py::arg("width"), py::arg("patch_size") = 16);
  m.def(
      "video_frame_size",
      [](int64_t width, int64_t height, int64_t targetPatches,
         bool maintainAspectRatio, int64_t patchSize) {
        if (width <= 0 || height <= 0 || targetPatches <= 0)
          throw FoveaError("video_frame_size: sizes and the target must be "
                           "positive");
        Size size = videoFrameSize(width, height, targetPatches,
                                   maintainAspectRatio, patchSize);
        return py::make_tuple(size.width, size.height);
      },
      py::arg("width"), py::arg("height"), py::arg("target_patches"),
      py::arg("maintain_aspect_ratio"), py::arg("patch_size"));
  m.def(
      "internvl_tiling",
      [](int64_t width, int64_t height, int64_t maxTiles, bool useThumbnail) {
        if (width <= 0 || height <= 0 || maxTiles < 1 || maxTiles > 12)
          throw FoveaError("internvl_tiling: positive sizes and max_tiles in "
                           "[1, 12]");
        TileGrid grid = internvlTiling(width, height, maxTiles, useThumbnail);
        return py::make_tuple(grid.columns, grid.rows, grid.tiles);
      },
      py::arg("width"), py::arg("height"), py::arg("max_tiles"),
      py::arg("use_thumbnail"));
  m.def(
      "dynamic_resolution_grid",
      [](int64_t width, int64_t height, int64_t budget, int64_t minPatches) {
        if (width <= 0 || height <= 0 || budget <= 0 || minPatches <= 0)
          throw FoveaError("dynamic_resolution_grid: arguments must be "
                           "positive");
        PatchGrid grid =
            dynamicResolutionGrid(width, height, budget, minPatches);
        return py::make_tuple(grid.rows, grid.columns);
      },
      py::arg("width"), py::arg("height"), py::arg("budget"),
      py::arg("min_patches"));
  m.def("image_prompt", &imagePrompt, py::arg("tokens"));
  m.def(
      "video_prompt",
      [](const std::vector<int64_t> &frameIndices, double fps,
         int64_t temporalPatchSize,
         const std::vector<int64_t> &tokensPerTubelet) {
        std::optional<std::string> text =
            videoPrompt(frameIndices, fps, temporalPatchSize, tokensPerTubelet);
        if (!text)
          throw FoveaError(
              "video_prompt: expected ceil(frames / T) = " +
              std::to_string((frameIndices.size() +
                              std::max<int64_t>(temporalPatchSize, 1) - 1) /
                             std::max<int64_t>(temporalPatchSize, 1)) +
              " token counts and a positive fps");
        return *text;
      },
      py::arg("frame_indices"), py::arg("fps"), py::arg("temporal_patch_size"),
      py::arg("tokens_per_tubelet"));
}
