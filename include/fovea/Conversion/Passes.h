//===- Passes.h - Fovea conversion passes -----------------------*- C++ -*-===//
//
// Declares the conversion passes of Fovea and their registration.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_CONVERSION_PASSES_H
#define FOVEA_CONVERSION_PASSES_H

#include "fovea/Conversion/VisionToLinalg/VisionToLinalg.h"
#include "mlir/Pass/Pass.h"

namespace mlir::vision {

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "fovea/Conversion/Passes.h.inc"

} // namespace mlir::vision

#endif // FOVEA_CONVERSION_PASSES_H
