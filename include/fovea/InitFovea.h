//===- InitFovea.h - Registration of Fovea's dialects and passes *- C++ -*-===//
//
// One place that lists what Fovea's tools load: the vision dialect, the
// upstream dialects its pipelines produce (with the interface models the
// pipelines need, e.g. bufferization), and its passes and pipelines.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_INITFOVEA_H
#define FOVEA_INITFOVEA_H

#include "mlir/IR/DialectRegistry.h"

namespace fovea {

/// Inserts the dialects and external interface models Fovea uses.
void registerFoveaDialects(mlir::DialectRegistry &registry);

/// Registers Fovea's passes and pipelines, and the upstream passes a user
/// combines with them in fovea-opt.
void registerFoveaPasses();

} // namespace fovea

#endif // FOVEA_INITFOVEA_H
