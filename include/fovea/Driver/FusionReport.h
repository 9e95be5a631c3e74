//===- FusionReport.h - What each fusion group moves and costs --*- C++ -*-===//
//
// The fusion report of a model at the `fused` phase: per fusion group (and
// per op outside groups) its ops, FLOPs, bytes read and written, arithmetic
// intensity and roofline time on the target; per ViT block and per model the
// totals, the same with fusions off, and the lower bound on bytes.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_DRIVER_FUSIONREPORT_H
#define FOVEA_DRIVER_FUSIONREPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include <string>

namespace fovea {

struct CompileOptions;

/// The roofline a report is measured against: peak arithmetic rate and
/// memory bandwidth, and where each figure comes from.
struct Roofline {
  std::string device;
  double flopsPerSecond = 0, bytesPerSecond = 0;
  std::string flopsSource, bandwidthSource;
};

/// The roofline of the options' target: `--peak-tflops` / `--peak-gbps`
/// when given; else, for CUDA, the data-sheet figures of the architecture
/// (dense bf16 tensor-core or f32 rate by `--dtype`); for the CPU, the
/// host's single-core FMA peak from its vector width and clock and its
/// memory bandwidth measured with one thread.
Roofline rooflineFor(const CompileOptions &options);

/// Version of the JSON report's schema (docs/Fusion.md).
constexpr int kFusionReportVersion = 1;

/// The report of `module` (after the `fused` phase) as JSON.
llvm::json::Value fusionReport(mlir::ModuleOp module, const Roofline &roofline,
                               llvm::StringRef entry = "run");

/// The report as a table.
void printFusionReport(const llvm::json::Value &report, llvm::raw_ostream &os);

} // namespace fovea

#endif // FOVEA_DRIVER_FUSIONREPORT_H
