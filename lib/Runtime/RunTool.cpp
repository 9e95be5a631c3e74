//===- RunTool.cpp - The command line of fovea-run and executables --------===//
//
// Loads weights, reads the input .npy, runs, writes and checks outputs, and
// times repeated runs.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/RunTool.h"

#include "fovea/Runtime/Npy.h"
#include "fovea/Runtime/Tensor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace fovea::rt;

namespace {
struct Options {
  std::string weights, input, device = "cpu";
  std::vector<std::string> outputs, expected;
  double rtol = 1e-4, atol = 1e-5;
  int benchmark = 0, warmup = 0;
  bool printMetadata = false;
};

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
} // namespace

int fovea::rt::runTool(const char *tool, int argc, char **argv, int first,
                       const ModuleApi &api) {
  Options o;
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
    } else if (arg == "--input" && value(o.input)) {
    } else if (arg == "--device" && value(o.device)) {
    } else if (arg == "--output" && value(v)) {
      o.outputs.push_back(v);
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
      char *end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (!end || *end || n < 0)
        return fail(tool,
                    arg + " expects a non-negative count, got '" + v + "'");
      (arg == "--benchmark" ? o.benchmark : o.warmup) = static_cast<int>(n);
    } else if (arg == "--print-metadata") {
      o.printMetadata = true;
    } else {
      return fail(tool, "unknown or incomplete option '" + arg + "'");
    }
  }
  if (o.printMetadata) {
    std::printf("%s\n", api.metadata());
    if (o.input.empty() && o.weights.empty())
      return 0;
  }
  if (o.weights.empty() || o.input.empty())
    return fail(tool, "--weights and --input are required");
  if (o.warmup && !o.benchmark)
    return fail(tool, "--warmup needs --benchmark");

  std::string error;
  std::optional<Tensor> input = readNpy(o.input, error);
  if (!input)
    return fail(tool, error);

  char *cerror = nullptr;
  auto start = std::chrono::steady_clock::now();
  fovea_module *module =
      api.create(o.weights.c_str(), o.device.c_str(), &cerror);
  double loadMs = std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  if (!module) {
    std::string message = cerror ? cerror : "cannot create the module";
    api.freeError(cerror);
    return fail(tool, message);
  }

  std::vector<int64_t> shape = input->shape();
  fovea_tensor in{static_cast<int32_t>(input->dtype()),
                  static_cast<int32_t>(shape.size()), shape.data(),
                  input->data()};
  fovea_tensor outs[8];
  int32_t count = 0;
  auto runOnce = [&]() -> bool {
    for (int32_t k = 0; k < count; ++k)
      api.release(&outs[k]);
    count = 0;
    if (api.run(module, &in, outs, 8, &count, &cerror) != 0) {
      error = cerror ? cerror : "run failed";
      api.freeError(cerror);
      return false;
    }
    return true;
  };
  for (int k = 0; k < o.warmup; ++k)
    if (!runOnce())
      return api.destroy(module), fail(tool, error);
  std::vector<double> times;
  int runs = std::max(o.benchmark, 1);
  for (int k = 0; k < runs; ++k) {
    auto t0 = std::chrono::steady_clock::now();
    if (!runOnce())
      return api.destroy(module), fail(tool, error);
    times.push_back(std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - t0)
                        .count());
  }

  int status = 0;
  if (o.outputs.size() > static_cast<size_t>(count) ||
      o.expected.size() > static_cast<size_t>(count)) {
    status = fail(tool, "the module returns " + std::to_string(count) +
                            " outputs; more --output/--expected-output given");
  }
  for (int32_t k = 0; !status && k < count; ++k) {
    Tensor result = toTensor(outs[k]);
    std::printf("output %d: %s %s\n", k, dtypeName(result.dtype()),
                formatShape(result.shape()).c_str());
    if (static_cast<size_t>(k) < o.outputs.size() &&
        !writeNpy(o.outputs[k], result, error))
      status = fail(tool, error);
    if (!status && static_cast<size_t>(k) < o.expected.size()) {
      std::optional<Tensor> expected = readNpy(o.expected[k], error);
      if (!expected) {
        status = fail(tool, error);
      } else if (std::string why = compare(result, *expected, o);
                 !why.empty()) {
        status = fail(tool, "output " + std::to_string(k) + " vs " +
                                o.expected[k] + ": " + why);
      } else {
        std::printf("output %d matches %s\n", k, o.expected[k].c_str());
      }
    }
  }
  if (!status && o.benchmark) {
    std::sort(times.begin(), times.end());
    std::printf("load: %.1f ms; run: median %.3f ms, min %.3f ms over %d "
                "runs (%d warm-up)\n",
                loadMs, times[times.size() / 2], times.front(), runs, o.warmup);
  }
  for (int32_t k = 0; k < count; ++k)
    api.release(&outs[k]);
  api.destroy(module);
  return status;
}
