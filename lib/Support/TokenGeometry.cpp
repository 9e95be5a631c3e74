//===- TokenGeometry.cpp - Token counts shared by compiler and runtime ----===//
//
// Implements the integer token arithmetic declared in TokenGeometry.h.
//
//===----------------------------------------------------------------------===//

#include "fovea/Support/TokenGeometry.h"

#include <algorithm>
#include <cmath>
#include <limits>

std::optional<int64_t> fovea::evsRetainedTokenCount(int64_t tokensPerTubelet,
                                                    int64_t numTubelets,
                                                    double rate) {
  if (tokensPerTubelet <= 0 || numTubelets <= 0)
    return std::nullopt;
  // `!(rate >= 0)` also rejects NaN.
  if (!(rate >= 0.0) || !(rate < 1.0))
    return std::nullopt;
  if (tokensPerTubelet > std::numeric_limits<int64_t>::max() / numTubelets)
    return std::nullopt;
  int64_t total = tokensPerTubelet * numTubelets;
  // The reference multiplies a Python int by a float: the int is converted to
  // double (exact below 2^53), multiplied, and int() truncates toward zero.
  double scaled = static_cast<double>(total) * (1.0 - rate);
  auto kept = static_cast<int64_t>(std::trunc(scaled));
  return std::max(tokensPerTubelet, std::min(kept, total));
}
