//===- Geometry.h - Token predictions of a compiled module ------*- C++ -*-===//
//
// What a module will return for a given input, computed before it runs from
// its metadata with the same functions the compiler used for its shapes.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_RUNTIME_GEOMETRY_H
#define FOVEA_RUNTIME_GEOMETRY_H

#include "fovea/Runtime/Json.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fovea::rt {

/// The `geometry` of a module's metadata.
/// One image of a packed module: its source size, its size in the encoder
/// and its tokens.
struct PackedImageGeometry {
  int64_t sourceHeight, sourceWidth, height, width, tokens;
};

struct ModuleGeometry {
  bool video = false;
  int64_t height = 0, width = 0, sourceHeight = 0, sourceWidth = 0;
  int64_t temporal = 1, tokensPerUnit = 0, unitsPerImage = 1;
  int64_t maxFrames = 0;
  double evsRate = 0;
  /// Packed images (one input each); empty for other modules.
  std::vector<PackedImageGeometry> packed;
};
/// Whether the module metadata carries this runtime's ABI version
/// (ModuleAbi.h); otherwise false with a one-line `error`.
bool checkAbiVersion(const JsonValue &metadata, std::string &error);

std::optional<ModuleGeometry> parseModuleGeometry(const JsonValue &metadata,
                                                  std::string &error);

/// What the module will return for `count` images, or for a video of
/// `count` frames taken at `frameIndices` (empty: 0, 1, ...) of a source at
/// `sourceFps` (<= 0: unknown, the prompt has no timestamps). With
/// `tubeletCounts` (the counts a run with EVS returned) the prompt uses
/// them; before the run EVS puts every retained token on the first tubelet
/// (§9.5). A JSON object; nullopt with `error` for a bad request.
std::optional<std::string>
geometryJson(const ModuleGeometry &g, int64_t count,
             const std::vector<int64_t> &frameIndices, double sourceFps,
             const std::vector<int64_t> *tubeletCounts, std::string &error);

} // namespace fovea::rt

#endif // FOVEA_RUNTIME_GEOMETRY_H
