//===- TokenGeometry.h - Token counts of compiler and runtime --*- C++ -*-===//
//
// Integer token arithmetic that both the compiler (result shapes) and the
// runtime (predictions for the serving side) use, so the two agree by
// construction. No MLIR dependency.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_SUPPORT_TOKENGEOMETRY_H
#define FOVEA_SUPPORT_TOKENGEOMETRY_H

#include <cstdint>
#include <optional>

namespace fovea {

/// Number of tokens EVS keeps for a video of `numTubelets` tubelets of
/// `tokensPerTubelet` tokens at pruning rate `rate` (reference semantics
/// §9.1): `max(tokensPerTubelet, trunc(double(total) * (1.0 - rate)))`,
/// evaluated in double precision exactly as the reference does (so, e.g.,
/// rate 0.7 uses 1 - 0.7 = 0.30000000000000004). Returns std::nullopt when an
/// argument is out of range (non-positive counts, `rate` outside [0, 1)) or
/// the total overflows.
std::optional<int64_t> evsRetainedTokenCount(int64_t tokensPerTubelet,
                                             int64_t numTubelets, double rate);

} // namespace fovea

#endif // FOVEA_SUPPORT_TOKENGEOMETRY_H
