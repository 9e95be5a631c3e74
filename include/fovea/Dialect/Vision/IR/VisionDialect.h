//===- VisionDialect.h - Vision dialect declaration -------------*- C++ -*-===//
//
// Declares the `vision` dialect and its enum attributes.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_DIALECT_VISION_IR_VISIONDIALECT_H
#define FOVEA_DIALECT_VISION_IR_VISIONDIALECT_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"

#include "fovea/Dialect/Vision/IR/VisionOpsDialect.h.inc"

#include "fovea/Dialect/Vision/IR/VisionEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "fovea/Dialect/Vision/IR/VisionAttrs.h.inc"

#endif // FOVEA_DIALECT_VISION_IR_VISIONDIALECT_H
