//===- Contractions.cpp - The matmul shape of the CPU passes --------------===//

#include "Contractions.h"

using namespace mlir;

bool vision::isMatmulShaped(linalg::GenericOp op) {
  if (op.getNumLoops() != 3 || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !op.hasPureTensorSemantics())
    return false;
  auto types = op.getIteratorTypesArray();
  if (types[0] != utils::IteratorType::parallel ||
      types[1] != utils::IteratorType::reduction ||
      types[2] != utils::IteratorType::parallel)
    return false;
  MLIRContext *ctx = op.getContext();
  auto map = [&](unsigned a, unsigned b) {
    return AffineMap::get(
        3, 0, {getAffineDimExpr(a, ctx), getAffineDimExpr(b, ctx)}, ctx);
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  return maps[0] == map(0, 1) && maps[1] == map(1, 2) && maps[2] == map(0, 2) &&
         linalg::isaContractionOpInterface(op);
}
