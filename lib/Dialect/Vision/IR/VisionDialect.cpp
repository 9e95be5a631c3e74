//===- VisionDialect.cpp - Vision dialect registration --------------------===//
//
// Registers the ops and attributes of the `vision` dialect and verifies its
// discardable attributes.
//
//===----------------------------------------------------------------------===//

#include "fovea/Dialect/Vision/IR/VisionDialect.h"

#include "fovea/Dialect/Vision/IR/VisionOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
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

LogicalResult VisionDialect::verifyRegionArgAttribute(Operation *op,
                                                      unsigned regionIndex,
                                                      unsigned argIndex,
                                                      NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == DerivedAttrHelper::getNameStr()) {
    auto index = dyn_cast<IntegerAttr>(attr.getValue());
    if (!index || index.getInt() < 0)
      return op->emitError() << "expects '" << name
                             << "' to be the index of a value @init returns "
                                "(a non-negative integer), got "
                             << attr.getValue();
  } else if (name != WeightAttrHelper::getNameStr()) {
    return op->emitError() << "unknown argument attribute '" << name
                           << "' of the vision dialect";
  }
  if (!isa<FunctionOpInterface>(op))
    return op->emitError() << "expects '" << name
                           << "' on a function argument only";
  if (name == DerivedAttrHelper::getNameStr())
    return success();
  auto weight = dyn_cast<StringAttr>(attr.getValue());
  if (!weight || weight.getValue().empty())
    return op->emitError() << "expects '" << name
                           << "' to name a checkpoint tensor (a non-empty "
                              "string), got "
                           << attr.getValue();
  return success();
}

/// Checks `vision.derived_types`: ranked tensor types.
static LogicalResult verifyDerivedTypes(Operation *op, StringRef name,
                                        Attribute value) {
  auto types = dyn_cast<ArrayAttr>(value);
  if (!types || !llvm::all_of(types, [](Attribute type) {
        auto typeAttr = dyn_cast<TypeAttr>(type);
        return typeAttr && isa<RankedTensorType>(typeAttr.getValue());
      }))
    return op->emitError() << "expects '" << name
                           << "' to be an array of ranked tensor types, got "
                           << value;
  return success();
}

/// Checks `vision.init_only_weights`: increasing non-negative positions.
static LogicalResult verifyInitOnlyWeights(Operation *op, StringRef name,
                                           Attribute value) {
  auto positions = dyn_cast<DenseI64ArrayAttr>(value);
  bool increasing = positions && llvm::all_of(positions.asArrayRef(),
                                              [](int64_t p) { return p >= 0; });
  for (int64_t i = 1; increasing && i < positions.size(); ++i)
    increasing = positions[i - 1] < positions[i];
  if (!increasing)
    return op->emitError() << "expects '" << name
                           << "' to be increasing non-negative weight "
                              "positions (array<i64: ...>), got "
                           << value;
  return success();
}

LogicalResult VisionDialect::verifyOperationAttribute(Operation *op,
                                                      NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == WeightAttrHelper::getNameStr() ||
      name == DerivedAttrHelper::getNameStr())
    return op->emitError() << "expects '" << name
                           << "' on a function argument only";
  if (name == FoldedWeightAttrHelper::getNameStr()) {
    auto text = dyn_cast<StringAttr>(attr.getValue());
    if (!text || text.getValue().empty())
      return op->emitError()
             << "expects '" << name
             << "' to name a checkpoint tensor (a non-empty string), got "
             << attr.getValue();
    if (isa<ModuleOp>(op))
      return op->emitError() << "expects '" << name << "' on an operation";
    return success();
  }
  bool known = name == DerivedTypesAttrHelper::getNameStr() ||
               name == InitOnlyWeightsAttrHelper::getNameStr() ||
               name == MetadataAttrHelper::getNameStr();
  if (!known)
    return op->emitError() << "unknown attribute '" << name
                           << "' of the vision dialect";
  if (!isa<ModuleOp>(op))
    return op->emitError() << "expects '" << name << "' on a module only";
  if (name == DerivedTypesAttrHelper::getNameStr())
    return verifyDerivedTypes(op, name, attr.getValue());
  if (name == InitOnlyWeightsAttrHelper::getNameStr())
    return verifyInitOnlyWeights(op, name, attr.getValue());
  if (!isa<StringAttr>(attr.getValue()))
    return op->emitError() << "expects '" << name
                           << "' to be a string (the metadata JSON), got "
                           << attr.getValue();
  return success();
}
