//===- VisionOps.h - Vision dialect operations ------------------*- C++ -*-===//
//
// Declares the ops of the `vision` dialect (generated from VisionOps.td).
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_DIALECT_VISION_IR_VISIONOPS_H
#define FOVEA_DIALECT_VISION_IR_VISIONOPS_H

#include "fovea/Dialect/Vision/IR/VisionDialect.h"
#include "fovea/Dialect/Vision/IR/VisionShapeInference.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "fovea/Dialect/Vision/IR/VisionOps.h.inc"

#endif // FOVEA_DIALECT_VISION_IR_VISIONOPS_H
