//===- VisionDialect.cpp - Vision dialect registration --------------------===//
//
// Registers the ops and attributes of the `vision` dialect.
//
//===----------------------------------------------------------------------===//

#include "fovea/Dialect/Vision/IR/VisionDialect.h"

#include "fovea/Dialect/Vision/IR/VisionOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::vision;

#include "fovea/Dialect/Vision/IR/VisionOpsDialect.cpp.inc"

#include "fovea/Dialect/Vision/IR/VisionEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "fovea/Dialect/Vision/IR/VisionAttrs.cpp.inc"

void VisionDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "fovea/Dialect/Vision/IR/VisionOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "fovea/Dialect/Vision/IR/VisionAttrs.cpp.inc"
      >();
}
