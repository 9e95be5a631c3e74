//===- FusionReport.cpp - What each fusion group moves and costs ----------===//
//
// The cost model: every fusion group, and every op outside groups, is one
// kernel that reads each tensor it takes from outside once and writes each
// tensor it returns once. Views (slices, reshapes, size queries) move
// nothing of their own; ops that depend only on weights run once in @init
// and are not counted. Dynamic dimensions count as 1: the figures are per
// image (or frame) of the batch.
//
//===----------------------------------------------------------------------===//

#include "fovea/Driver/FusionReport.h"

#include "fovea/Dialect/Vision/IR/VisionDialect.h"
#include "fovea/Dialect/Vision/IR/VisionOps.h"
#include "fovea/Dialect/Vision/Transforms/FusionGroups.h"
#include "fovea/Driver/Options.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/TargetParser/Host.h"
#include <chrono>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>

using namespace mlir;
using namespace fovea;

//===----------------------------------------------------------------------===//
// Rooflines
//===----------------------------------------------------------------------===//

namespace {
/// Data-sheet figures of the GPUs of each architecture Fovea targets.
struct GpuSheet {
  llvm::StringLiteral arch, device;
  double bf16Tflops, f32Tflops, gbps;
};
} // namespace

static constexpr GpuSheet kGpuSheets[] = {
    {"sm_90a", "H100 SXM", 989.4, 66.9, 3350},
    {"sm_90", "H100 SXM", 989.4, 66.9, 3350},
    {"sm_89", "L40S", 362.1, 91.6, 864},
    {"sm_86", "A10", 125.0, 31.2, 600},
    {"sm_80", "A100 SXM 80GB", 312.0, 19.5, 2039},
};

/// The highest clock /proc/cpuinfo reports, in GHz (0 when unknown).
static double hostGigahertz() {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> info =
      llvm::MemoryBuffer::getFileAsStream("/proc/cpuinfo");
  if (!info)
    return 0;
  double best = 0;
  llvm::SmallVector<llvm::StringRef> lines;
  (*info)->getBuffer().split(lines, '\n');
  for (llvm::StringRef line : lines) {
    if (!line.starts_with("cpu MHz"))
      continue;
    double mhz = 0;
    if (!line.split(':').second.trim().getAsDouble(mhz))
      best = std::max(best, mhz / 1000);
  }
  return best;
}

/// One thread's copy bandwidth (read + write), best of a few 64 MiB copies.
static double measuredCopyBandwidth() {
  constexpr size_t kBytes = 64u << 20;
  std::unique_ptr<char[]> from(new char[kBytes]), to(new char[kBytes]);
  std::memset(from.get(), 1, kBytes);
  std::memset(to.get(), 2, kBytes);
  double best = 0;
  for (int i = 0; i < 4; ++i) {
    auto start = std::chrono::steady_clock::now();
    std::memcpy(to.get(), from.get(), kBytes);
    std::chrono::duration<double> took =
        std::chrono::steady_clock::now() - start;
    best = std::max(best, 2.0 * kBytes / took.count());
  }
  // Keep the copies observable.
  volatile char sink = to[kBytes / 2];
  (void)sink;
  return best;
}

Roofline fovea::rooflineFor(const CompileOptions &options) {
  Roofline roofline;
  bool bf16 = options.elementType == ElementType::BF16;
  if (options.target == Target::CUDA) {
    for (const GpuSheet &sheet : kGpuSheets) {
      if (sheet.arch != options.pipeline.gpuArch)
        continue;
      roofline.device = (sheet.device + " (" + sheet.arch + ")").str();
      roofline.flopsPerSecond =
          (bf16 ? sheet.bf16Tflops : sheet.f32Tflops) * 1e12;
      roofline.bytesPerSecond = sheet.gbps * 1e9;
      roofline.flopsSource =
          bf16 ? "data sheet, dense bf16 tensor cores" : "data sheet, f32";
      roofline.bandwidthSource = "data sheet, HBM";
    }
  } else {
    llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
    int lanes = features.lookup("avx512f") ? 16
                : features.lookup("avx2")  ? 8
                                           : 4;
    int fma = features.lookup("fma") || features.lookup("avx512f") ? 2 : 1;
    double ghz = hostGigahertz();
    if (ghz <= 0)
      ghz = 2.0;
    roofline.device =
        ("host CPU (" + llvm::sys::getHostCPUName() + "), one thread").str();
    // Two vector FMA pipes per core; bf16 is computed in f32.
    roofline.flopsPerSecond = 2.0 * lanes * fma * ghz * 1e9;
    roofline.flopsSource = "estimated: 2 vector units x " +
                           std::to_string(lanes) + " f32 lanes x " +
                           (fma == 2 ? "FMA (2 flops)" : "1 flop") + " x " +
                           llvm::formatv("{0:F2}", ghz).str() + " GHz";
    if (options.peakGbps <= 0) {
      roofline.bytesPerSecond = measuredCopyBandwidth();
      roofline.bandwidthSource = "measured: memcpy of 64 MiB, one thread";
    }
  }
  if (options.peakTflops > 0) {
    roofline.flopsPerSecond = options.peakTflops * 1e12;
    roofline.flopsSource = "given (--peak-tflops)";
  }
  if (options.peakGbps > 0) {
    roofline.bytesPerSecond = options.peakGbps * 1e9;
    roofline.bandwidthSource = "given (--peak-gbps)";
  }
  return roofline;
}

//===----------------------------------------------------------------------===//
// The cost model
//===----------------------------------------------------------------------===//

/// Elements of a shaped type, dynamic dimensions counted as 1.
static int64_t elementsOf(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !shaped.hasRank())
    return 0;
  int64_t count = 1;
  for (int64_t size : shaped.getShape())
    count *= ShapedType::isDynamic(size) ? 1 : size;
  return count;
}

static int64_t bytesOf(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped)
    return 0;
  Type element = shaped.getElementType();
  int64_t bits = element.isIndex() ? 64 : element.getIntOrFloatBitWidth();
  return elementsOf(type) * std::max<int64_t>(1, bits / 8);
}

/// Ops that move no data of their own.
static bool isView(Operation *op) {
  return op->hasTrait<OpTrait::ConstantLike>() ||
         op->hasTrait<OpTrait::IsTerminator>() ||
         isa<tensor::DimOp, tensor::EmptyOp, tensor::CollapseShapeOp,
             tensor::ExpandShapeOp, tensor::ExtractSliceOp>(op);
}

/// Size `i` of `type`, a dynamic one counted as 1.
static double sizeOf(ShapedType type, int64_t i) {
  int64_t size = type.getDimSize(i);
  return ShapedType::isDynamic(size) ? 1.0 : double(size);
}

/// The value `value` is a view of (through slices and reshapes).
static Value viewSource(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (!isView(def) || def->getNumOperands() == 0)
      break;
    value = def->getOperand(0);
  }
  return value;
}

/// Arithmetic of one op, by the formulas of docs/Fusion.md.
static double flopsOf(Operation *op) {
  if (op->getNumResults() == 0)
    return 0;
  double out = elementsOf(op->getResult(0).getType());
  auto lastDim = [](Value v) {
    auto type = cast<ShapedType>(v.getType());
    return sizeOf(type, type.getRank() - 1);
  };
  if (auto linear = dyn_cast<vision::LinearOp>(op))
    return 2 * out * lastDim(linear.getInput()) + (linear.getBias() ? out : 0);
  if (auto attention = dyn_cast<vision::AttentionOp>(op)) {
    auto q = cast<ShapedType>(attention.getQ().getType());
    auto k = cast<ShapedType>(attention.getK().getType());
    double batch = sizeOf(q, 0), queries = sizeOf(q, 1), keys = sizeOf(k, 1),
           width = sizeOf(q, 2), heads = attention.getNumHeads();
    // QK^T and PV, then the softmax (max, exp, sum, divide, scale).
    return batch * (4 * queries * keys * width + 5 * heads * queries * keys);
  }
  if (isa<vision::PatchEmbedOp, vision::TubeletEmbedOp>(op))
    return 2 * out * lastDim(op->getOperand(1)) +
           (op->getNumOperands() > 2 ? out : 0);
  if (isa<vision::LayerNormOp>(op))
    return 8 * out;
  if (isa<vision::RmsNormOp>(op))
    return 5 * out;
  if (isa<vision::GeluOp>(op))
    return 10 * out;
  if (isa<vision::Relu2Op>(op))
    return 2 * out;
  if (isa<vision::NormalizeOp>(op))
    return 3 * out;
  if (isa<vision::ResizeOp>(op))
    return 16 * out;
  if (isa<vision::InterpPosEmbedOp>(op))
    return 32 * out;
  if (isa<vision::EvsPruneOp>(op))
    return 6 * double(elementsOf(op->getOperand(0).getType()));
  if (isa<arith::AddFOp, arith::SubFOp, arith::MulFOp, arith::DivFOp,
          arith::MaximumFOp>(op))
    return out;
  return 0;
}

/// Ops reading an operand many times (every output tile reads a whole row
/// or matrix of it): their operands must be in memory.
static bool isContraction(Operation *op) {
  return isa<vision::LinearOp, vision::AttentionOp, vision::PatchEmbedOp,
             vision::TubeletEmbedOp>(op);
}

namespace {
/// Weight-only values and the checkpoint names of weights.
class WeightValues {
public:
  explicit WeightValues(func::FuncOp entry) : entry(entry) {}

  bool isWeight(Value value) { return dependence.isWeightOnly(value); }

  /// The checkpoint name of the weight `value` is a view of, if any.
  std::optional<std::string> weightName(Value value) {
    auto arg = dyn_cast<BlockArgument>(viewSource(value));
    if (!arg || arg.getOwner()->getParentOp() != entry)
      return std::nullopt;
    if (auto name = entry.getArgAttrOfType<StringAttr>(
            arg.getArgNumber(),
            vision::VisionDialect::WeightAttrHelper::getNameStr()))
      return name.str();
    return std::nullopt;
  }

private:
  func::FuncOp entry;
  vision::WeightDependence dependence;
};

/// One kernel of the cost model.
struct Unit {
  std::string name, rule;
  SmallVector<Operation *> ops;
  std::optional<int64_t> block;
  double flops = 0;
  int64_t weightBytes = 0, activationBytes = 0, writtenBytes = 0;
  int64_t bytes() const { return weightBytes + activationBytes + writtenBytes; }
};
} // namespace

/// Whether `value` is read (directly or through views) by an op outside
/// `members`: then the kernel of `members` writes it to memory.
static bool escapes(Value value, const llvm::SetVector<Operation *> &members) {
  for (Operation *user : value.getUsers()) {
    if (members.contains(user) || isa<tensor::DimOp>(user))
      continue;
    if (isView(user) && !user->hasTrait<OpTrait::IsTerminator>()) {
      if (llvm::any_of(user->getResults(),
                       [&](Value view) { return escapes(view, members); }))
        return true;
      continue;
    }
    return true;
  }
  return false;
}

/// The kernels of `entry`: its fusion groups and its other ops, or with
/// `unfused` every op on its own.
static SmallVector<Unit> unitsOf(func::FuncOp entry, WeightValues &weights,
                                 bool unfused, int64_t &weightOnlyOps) {
  SmallVector<Unit> units;
  std::regex blockPattern(R"(blocks\.(\d+)\.)");
  unsigned anonymous = 0;
  auto addUnit = [&](std::string name, std::string rule,
                     SmallVector<Operation *> ops) {
    Unit unit{std::move(name), std::move(rule), std::move(ops)};
    llvm::SetVector<Operation *> members(unit.ops.begin(), unit.ops.end());
    llvm::SetVector<Value> reads, writes;
    for (Operation *op : unit.ops) {
      unit.flops += flopsOf(op);
      for (Value operand : op->getOperands()) {
        Operation *def = operand.getDefiningOp();
        if ((def && members.contains(def)) ||
            !isa<ShapedType>(operand.getType()) ||
            (def && isa<tensor::EmptyOp>(def)))
          continue;
        reads.insert(operand);
      }
      for (Value result : op->getResults())
        if (isa<ShapedType>(result.getType()) && escapes(result, members))
          writes.insert(result);
    }
    auto takeBlock = [&](const std::string &name) {
      std::smatch match;
      if (!unit.block && std::regex_search(name, match, blockPattern))
        unit.block = std::stoll(match[1]);
    };
    for (Value value : reads) {
      (weights.isWeight(value) ? unit.weightBytes : unit.activationBytes) +=
          bytesOf(value.getType());
      if (std::optional<std::string> name = weights.weightName(value))
        takeBlock(*name);
    }
    // Ops whose weights a fold replaced by computed ones keep their name.
    for (Operation *op : unit.ops)
      if (auto folded = op->getAttrOfType<StringAttr>(
              vision::VisionDialect::FoldedWeightAttrHelper::getNameStr()))
        takeBlock(folded.getValue().str());
    for (Value value : writes)
      unit.writtenBytes += bytesOf(value.getType());
    units.push_back(std::move(unit));
  };
  auto isCounted = [&](Operation *op) {
    if (isView(op))
      return false;
    if (llvm::all_of(op->getResults(),
                     [&](Value v) { return weights.isWeight(v); }) &&
        op->getNumResults()) {
      ++weightOnlyOps;
      return false;
    }
    return true;
  };
  auto opName = [&](Operation *op) {
    llvm::StringRef name = op->getName().getStringRef();
    name.consume_front("vision.");
    return (name + "_" + llvm::Twine(anonymous++)).str();
  };
  for (Operation &op : entry.getBody().front()) {
    auto group = dyn_cast<vision::FusionGroupOp>(op);
    if (group && !unfused) {
      SmallVector<Operation *> ops;
      for (Operation &inner : group.getBody().front().without_terminator())
        if (!isView(&inner))
          ops.push_back(&inner);
      addUnit(group.getName().str(),
              vision::stringifyFusionRule(group.getRule()).str(), ops);
      continue;
    }
    auto visit = [&](Operation *one) {
      if (isCounted(one))
        addUnit(opName(one), "", {one});
    };
    if (group) {
      for (Operation &inner : group.getBody().front().without_terminator())
        visit(&inner);
      continue;
    }
    visit(&op);
  }
  // Units that read no weights (attention, residual adds) belong to the
  // block of the unit before them.
  for (size_t i = 1; i < units.size(); ++i)
    if (!units[i].block && units[i].weightBytes == 0)
      units[i].block = units[i - 1].block;
  return units;
}

/// Whether `value` is computed from the model's inputs elementwise (the
/// input normalization): a contraction can then recompute it as it loads.
static bool isElementwiseOfInput(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (!isView(def) &&
        !isa<vision::NormalizeOp, arith::TruncFOp, arith::ExtFOp>(def))
      return false;
    if (def->getNumOperands() == 0)
      return false;
    value = def->getOperand(0);
  }
  return true;
}

/// Bytes that must cross memory at least once: the inputs, the outputs,
/// the weights read by @run, and every activation a contraction reads
/// (written once, read once) unless it is an elementwise function of the
/// inputs.
static int64_t lowerBoundBytes(func::FuncOp entry, WeightValues &weights,
                               ArrayRef<Unit> units, int64_t &weightBytes) {
  llvm::SetVector<Value> once, twice;
  for (BlockArgument arg : entry.getArguments())
    if (!weights.isWeight(arg) && isa<ShapedType>(arg.getType()))
      once.insert(arg);
  entry.walk([&](func::ReturnOp ret) {
    for (Value value : ret.getOperands())
      once.insert(viewSource(value));
  });
  for (const Unit &unit : units)
    for (Operation *op : unit.ops)
      for (Value operand : op->getOperands()) {
        if (!isa<ShapedType>(operand.getType()))
          continue;
        if (weights.isWeight(operand))
          once.insert(viewSource(operand));
        else if (isContraction(op) && !isElementwiseOfInput(operand))
          twice.insert(viewSource(operand));
      }
  int64_t bytes = 0;
  weightBytes = 0;
  for (Value value : once) {
    bytes += bytesOf(value.getType());
    if (weights.isWeight(value))
      weightBytes += bytesOf(value.getType());
  }
  for (Value value : twice)
    if (!once.contains(value))
      bytes += 2 * bytesOf(value.getType());
  return bytes;
}

//===----------------------------------------------------------------------===//
// The report
//===----------------------------------------------------------------------===//

static double rooflineSeconds(double flops, double bytes,
                              const Roofline &roofline) {
  double compute =
      roofline.flopsPerSecond > 0 ? flops / roofline.flopsPerSecond : 0;
  double memory =
      roofline.bytesPerSecond > 0 ? bytes / roofline.bytesPerSecond : 0;
  return std::max(compute, memory);
}

namespace {
/// Totals over units.
struct Totals {
  int64_t kernels = 0, bytes = 0, weightBytes = 0;
  double flops = 0, seconds = 0;
};
} // namespace

static Totals totalsOf(ArrayRef<Unit> units, const Roofline &roofline,
                       std::optional<int64_t> block = std::nullopt) {
  Totals totals;
  for (const Unit &unit : units) {
    if (block && unit.block != block)
      continue;
    ++totals.kernels;
    totals.bytes += unit.bytes();
    totals.weightBytes += unit.weightBytes;
    totals.flops += unit.flops;
    totals.seconds += rooflineSeconds(unit.flops, unit.bytes(), roofline);
  }
  return totals;
}

static llvm::json::Object totalsJson(const Totals &totals) {
  return llvm::json::Object{{"kernels", totals.kernels},
                            {"flops", totals.flops},
                            {"bytes", totals.bytes},
                            {"weight_bytes", totals.weightBytes},
                            {"roofline_seconds", totals.seconds}};
}

/// Per-block figures: the blocks' count, the totals of a typical block (the
/// first with the most common kernel count: the last block also holds what
/// follows it up to the next weight) and the range of kernel counts.
static llvm::json::Object blockJson(ArrayRef<Unit> units,
                                    const Roofline &roofline) {
  std::set<int64_t> blocks;
  for (const Unit &unit : units)
    if (unit.block)
      blocks.insert(*unit.block);
  std::map<int64_t, int64_t> counts;
  std::map<int64_t, Totals> firstWith;
  int64_t fewest = std::numeric_limits<int64_t>::max(), most = 0;
  for (int64_t block : blocks) {
    Totals totals = totalsOf(units, roofline, block);
    fewest = std::min(fewest, totals.kernels);
    most = std::max(most, totals.kernels);
    if (counts[totals.kernels]++ == 0)
      firstWith[totals.kernels] = totals;
  }
  Totals typical;
  int64_t best = 0;
  for (auto [kernels, count] : counts)
    if (count > best) {
      best = count;
      typical = firstWith[kernels];
    }
  llvm::json::Object object = totalsJson(typical);
  object["count"] = static_cast<int64_t>(blocks.size());
  object["fewest_kernels"] = blocks.empty() ? 0 : fewest;
  object["most_kernels"] = most;
  return object;
}

llvm::json::Value fovea::fusionReport(ModuleOp module, const Roofline &roofline,
                                      llvm::StringRef entryName) {
  auto entry = module.lookupSymbol<func::FuncOp>(entryName);
  if (!entry)
    return llvm::json::Object{
        {"error", "no entry function @" + entryName.str()}};
  WeightValues weights(entry);
  int64_t weightOnlyOps = 0, ignored = 0;
  SmallVector<Unit> units = unitsOf(entry, weights, false, weightOnlyOps);
  SmallVector<Unit> unfused = unitsOf(entry, weights, true, ignored);
  int64_t lowerBoundWeights = 0;
  int64_t lowerBound =
      lowerBoundBytes(entry, weights, unfused, lowerBoundWeights);
  int64_t lowerBoundActivations = lowerBound - lowerBoundWeights;
  auto activationRatio = [&](const Totals &totals) {
    return lowerBoundActivations ? double(totals.bytes - totals.weightBytes) /
                                       lowerBoundActivations
                                 : 0.0;
  };

  llvm::json::Array kernels;
  for (const Unit &unit : units) {
    llvm::json::Array ops;
    for (Operation *op : unit.ops)
      ops.push_back(op->getName().getStringRef().str());
    double seconds = rooflineSeconds(unit.flops, unit.bytes(), roofline);
    double intensity = unit.bytes() ? unit.flops / unit.bytes() : 0;
    bool computeBound = roofline.flopsPerSecond > 0 &&
                        roofline.bytesPerSecond > 0 &&
                        unit.flops / roofline.flopsPerSecond >
                            unit.bytes() / roofline.bytesPerSecond;
    llvm::json::Object kernel{
        {"name", unit.name},
        {"rule", unit.rule.empty() ? llvm::json::Value(nullptr)
                                   : llvm::json::Value(unit.rule)},
        {"ops", std::move(ops)},
        {"block", unit.block ? llvm::json::Value(*unit.block)
                             : llvm::json::Value(nullptr)},
        {"flops", unit.flops},
        {"bytes_read_weights", unit.weightBytes},
        {"bytes_read_activations", unit.activationBytes},
        {"bytes_written", unit.writtenBytes},
        {"arithmetic_intensity", intensity},
        {"roofline_seconds", seconds},
        {"bound", computeBound ? "compute" : "memory"}};
    kernels.push_back(std::move(kernel));
  }
  Totals model = totalsOf(units, roofline), off = totalsOf(unfused, roofline);
  llvm::json::Object modelJson = totalsJson(model);
  modelJson["lower_bound_bytes"] = lowerBound;
  modelJson["lower_bound_weight_bytes"] = lowerBoundWeights;
  modelJson["bytes_over_lower_bound"] =
      lowerBound ? double(model.bytes) / lowerBound : 0.0;
  modelJson["activation_bytes_over_lower_bound"] = activationRatio(model);
  llvm::json::Object offJson = totalsJson(off);
  offJson["bytes_over_lower_bound"] =
      lowerBound ? double(off.bytes) / lowerBound : 0.0;
  offJson["activation_bytes_over_lower_bound"] = activationRatio(off);
  offJson["block"] = blockJson(unfused, roofline);
  return llvm::json::Object{
      {"schema", "fovea-fusion-report"},
      {"version", kFusionReportVersion},
      {"entry", entryName.str()},
      {"dynamic_dimensions_as", 1},
      {"target",
       llvm::json::Object{{"device", roofline.device},
                          {"peak_flops_per_second", roofline.flopsPerSecond},
                          {"peak_bytes_per_second", roofline.bytesPerSecond},
                          {"flops_source", roofline.flopsSource},
                          {"bandwidth_source", roofline.bandwidthSource}}},
      {"kernels", std::move(kernels)},
      {"weight_only_ops", weightOnlyOps},
      {"block", blockJson(units, roofline)},
      {"model", std::move(modelJson)},
      {"unfused", std::move(offJson)}};
}

//===----------------------------------------------------------------------===//
// Text
//===----------------------------------------------------------------------===//

static double number(const llvm::json::Object &object, llvm::StringRef key) {
  if (std::optional<double> value = object.getNumber(key))
    return *value;
  return 0;
}

void fovea::printFusionReport(const llvm::json::Value &report,
                              llvm::raw_ostream &os) {
  const llvm::json::Object *root = report.getAsObject();
  if (!root)
    return;
  if (std::optional<llvm::StringRef> error = root->getString("error")) {
    os << "fusion report: " << *error << "\n";
    return;
  }
  const llvm::json::Object &target = *root->getObject("target");
  os << "Fusion report of @" << *root->getString("entry")
     << " (per image or frame: dynamic dimensions counted as 1)\n";
  os << llvm::format("target: %s: %.1f TFLOP/s (%s), %.0f GB/s (%s)\n",
                     target.getString("device")->str().c_str(),
                     number(target, "peak_flops_per_second") / 1e12,
                     target.getString("flops_source")->str().c_str(),
                     number(target, "peak_bytes_per_second") / 1e9,
                     target.getString("bandwidth_source")->str().c_str());
  os << llvm::format("%-28s %-16s %10s %10s %10s %10s %8s %10s  %s\n", "kernel",
                     "rule", "MFLOP", "weights kB", "act. in kB", "out kB",
                     "FLOP/B", "time us", "ops");
  for (const llvm::json::Value &value : *root->getArray("kernels")) {
    const llvm::json::Object &kernel = *value.getAsObject();
    std::string ops;
    for (const llvm::json::Value &op : *kernel.getArray("ops")) {
      llvm::StringRef name = *op.getAsString();
      name.consume_front("vision.");
      ops += (ops.empty() ? "" : ",") + name.str();
    }
    std::optional<llvm::StringRef> rule = kernel.getString("rule");
    os << llvm::format(
        "%-28s %-16s %10.2f %10.1f %10.1f %10.1f %8.1f %10.3f  %s%s\n",
        kernel.getString("name")->str().c_str(),
        rule ? rule->str().c_str() : "-", number(kernel, "flops") / 1e6,
        number(kernel, "bytes_read_weights") / 1e3,
        number(kernel, "bytes_read_activations") / 1e3,
        number(kernel, "bytes_written") / 1e3,
        number(kernel, "arithmetic_intensity"),
        number(kernel, "roofline_seconds") * 1e6, ops.c_str(),
        *kernel.getString("bound") == "compute" ? " [compute]" : "");
  }
  auto line = [&](llvm::StringRef label, const llvm::json::Object &totals) {
    os << llvm::format(
        "%-22s %6lld kernels %12.3f MB %12.3f GFLOP %12.1f us",
        label.str().c_str(), static_cast<long long>(number(totals, "kernels")),
        number(totals, "bytes") / 1e6, number(totals, "flops") / 1e9,
        number(totals, "roofline_seconds") * 1e6);
  };
  const llvm::json::Object &model = *root->getObject("model");
  const llvm::json::Object &off = *root->getObject("unfused");
  const llvm::json::Object &block = *root->getObject("block");
  const llvm::json::Object &offBlock = *off.getObject("block");
  if (number(block, "count") > 0) {
    line(llvm::formatv("per ViT block (x{0})",
                       static_cast<int64_t>(number(block, "count")))
             .str(),
         block);
    os << "\n";
    line("  fusions off", offBlock);
    os << "\n";
  }
  line("model", model);
  os << llvm::format("   %.2fx the lower bound (%.3f MB); activations "
                     "%.2fx theirs (%.3f MB)\n",
                     number(model, "bytes_over_lower_bound"),
                     number(model, "lower_bound_bytes") / 1e6,
                     number(model, "activation_bytes_over_lower_bound"),
                     (number(model, "lower_bound_bytes") -
                      number(model, "lower_bound_weight_bytes")) /
                         1e6);
  line("  fusions off", off);
  os << llvm::format("   %.2fx the lower bound; activations %.2fx theirs\n",
                     number(off, "bytes_over_lower_bound"),
                     number(off, "activation_bytes_over_lower_bound"));
  os << llvm::format("weight-only ops (computed once, in @init): %lld\n",
                     static_cast<long long>(number(*root, "weight_only_ops")));
}
