//===- Geometry.cpp - Token predictions of a compiled module --------------===//

#include "fovea/Runtime/Geometry.h"

#include "fovea/Runtime/ModuleAbi.h"
#include "fovea/Support/TokenGeometry.h"

#include <cstdio>

using namespace fovea;
using namespace fovea::rt;

bool fovea::rt::checkAbiVersion(const JsonValue &metadata, std::string &error) {
  const JsonValue *version = metadata.get(abi::kVersionKey);
  std::optional<int64_t> found = version ? version->integer() : std::nullopt;
  if (found == abi::kVersion)
    return true;
  error = "module ABI version " +
          (found ? std::to_string(*found) : std::string("unknown")) +
          ", this runtime reads version " + std::to_string(abi::kVersion) +
          ": recompile the module with this Fovea";
  return false;
}

std::optional<ModuleGeometry>
fovea::rt::parseModuleGeometry(const JsonValue &metadata, std::string &error) {
  const JsonValue *g = metadata.get("geometry");
  if (!g || !g->isObject()) {
    error = "module metadata has no geometry";
    return std::nullopt;
  }
  auto integer = [&](const char *key, int64_t fallback) {
    const JsonValue *v = g->get(key);
    return v ? v->integer().value_or(fallback) : fallback;
  };
  ModuleGeometry out;
  const JsonValue *kind = metadata.get("input_kind");
  out.video = kind && kind->string() == "video";
  out.height = integer("height", 0);
  out.width = integer("width", 0);
  out.sourceHeight = integer("source_height", out.height);
  out.sourceWidth = integer("source_width", out.width);
  out.temporal = integer("temporal_patch_size", 1);
  out.tokensPerUnit = integer("tokens_per_unit", 0);
  out.unitsPerImage = integer("units_per_image", 1);
  if (const JsonValue *m = metadata.get("max_frames"))
    out.maxFrames = m->integer().value_or(0);
  if (const JsonValue *q = g->get("evs_rate"))
    out.evsRate = q->number();
  if (const JsonValue *packed = g->get("packed_images"))
    for (const JsonValue &image : packed->array()) {
      auto field = [&](const char *key) {
        const JsonValue *v = image.get(key);
        return v ? v->integer().value_or(0) : 0;
      };
      out.packed.push_back({field("source_height"), field("source_width"),
                            field("height"), field("width"), field("tokens")});
      if (out.packed.back().tokens <= 0) {
        error = "module metadata: incomplete packed image geometry";
        return std::nullopt;
      }
    }
  if (out.tokensPerUnit <= 0 || out.temporal <= 0 || out.unitsPerImage <= 0) {
    error = "module metadata: incomplete geometry";
    return std::nullopt;
  }
  return out;
}

static std::string integers(const std::vector<int64_t> &values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i)
    text += (i ? "," : "") + std::to_string(values[i]);
  return text + "]";
}

static std::string number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

std::optional<std::string> fovea::rt::geometryJson(
    const ModuleGeometry &g, int64_t count,
    const std::vector<int64_t> &frameIndices, double sourceFps,
    const std::vector<int64_t> *tubeletCounts, std::string &error) {
  if (count <= 0) {
    error = "geometry: the count of images or frames must be positive, got " +
            std::to_string(count);
    return std::nullopt;
  }
  std::string size = "{\"height\":" + std::to_string(g.height) +
                     ",\"width\":" + std::to_string(g.width) + "}";
  std::string source = "{\"height\":" + std::to_string(g.sourceHeight) +
                       ",\"width\":" + std::to_string(g.sourceWidth) + "}";
  if (!g.video && tubeletCounts) {
    error = "geometry: per-tubelet counts apply to video modules only";
    return std::nullopt;
  }
  if (!g.packed.empty()) {
    if (count != static_cast<int64_t>(g.packed.size())) {
      error = "geometry: the module packs " + std::to_string(g.packed.size()) +
              " images, got a count of " + std::to_string(count);
      return std::nullopt;
    }
    std::string images, prompts;
    std::vector<int64_t> tokens;
    int64_t total = 0;
    for (const PackedImageGeometry &image : g.packed) {
      images +=
          std::string(images.empty() ? "" : ",") +
          "{\"source_size\":{\"height\":" + std::to_string(image.sourceHeight) +
          ",\"width\":" + std::to_string(image.sourceWidth) +
          "},\"size\":{\"height\":" + std::to_string(image.height) +
          ",\"width\":" + std::to_string(image.width) +
          "},\"tokens\":" + std::to_string(image.tokens) + "}";
      prompts += std::string(prompts.empty() ? "" : ",") +
                 jsonQuote(fovea::imagePrompt(image.tokens));
      tokens.push_back(image.tokens);
      total += image.tokens;
    }
    return "{\"kind\":\"image\",\"packed\":true,\"images\":" +
           std::to_string(count) + ",\"per_image\":[" + images +
           "],\"tokens_per_image\":" + integers(tokens) +
           ",\"output_shape\":" + integers({total}) +
           ",\"total_tokens\":" + std::to_string(total) +
           ",\"prompt_per_image\":[" + prompts + "]}";
  }
  if (!g.video) {
    int64_t perImage = g.unitsPerImage * g.tokensPerUnit;
    return "{\"kind\":\"image\",\"images\":" + std::to_string(count) +
           ",\"source_size\":" + source + ",\"tile_size\":" + size +
           ",\"units_per_image\":" + std::to_string(g.unitsPerImage) +
           ",\"tokens_per_unit\":" + std::to_string(g.tokensPerUnit) +
           ",\"tokens_per_image\":" + std::to_string(perImage) +
           ",\"output_shape\":" +
           integers({count * g.unitsPerImage, g.tokensPerUnit}) +
           ",\"total_tokens\":" + std::to_string(count * perImage) +
           ",\"prompt_per_image\":" + jsonQuote(fovea::imagePrompt(perImage)) +
           "}";
  }

  std::vector<int64_t> indices = frameIndices;
  if (indices.empty())
    for (int64_t i = 0; i < count; ++i)
      indices.push_back(i);
  if (static_cast<int64_t>(indices.size()) != count) {
    error = "geometry: " + std::to_string(indices.size()) +
            " frame indices for " + std::to_string(count) + " frames";
    return std::nullopt;
  }
  if (g.maxFrames && count > g.maxFrames) {
    error = "geometry: " + std::to_string(count) +
            " frames, the module accepts at most " +
            std::to_string(g.maxFrames) + " (--max-frames)";
    return std::nullopt;
  }
  int64_t tubelets = (count + g.temporal - 1) / g.temporal;
  int64_t total = tubelets * g.tokensPerUnit;
  if (g.evsRate > 0) {
    std::optional<int64_t> kept =
        fovea::evsRetainedTokenCount(g.tokensPerUnit, tubelets, g.evsRate);
    if (!kept) {
      error = "geometry: EVS count out of range";
      return std::nullopt;
    }
    total = *kept;
  }
  std::vector<int64_t> perTubelet(static_cast<size_t>(tubelets),
                                  g.tokensPerUnit);
  bool measured = false;
  if (tubeletCounts) {
    int64_t sum = 0;
    for (int64_t c : *tubeletCounts)
      sum += c;
    if (static_cast<int64_t>(tubeletCounts->size()) != tubelets ||
        sum != total) {
      error = "geometry: the module returned " +
              std::to_string(tubeletCounts->size()) + " tubelet counts (" +
              std::to_string(sum) + " tokens); predicted " +
              std::to_string(tubelets) + " tubelets (" + std::to_string(total) +
              " tokens)";
      return std::nullopt;
    }
    perTubelet = *tubeletCounts;
    measured = true;
  } else if (g.evsRate > 0) {
    // Before the encoder the split is unknown: all on the first tubelet.
    std::fill(perTubelet.begin(), perTubelet.end(), 0);
    perTubelet[0] = total;
  }
  std::optional<std::string> prompt =
      fovea::videoPrompt(indices, sourceFps, g.temporal, perTubelet);
  if (!prompt) {
    error = "geometry: cannot lay out the prompt";
    return std::nullopt;
  }
  std::string text =
      "{\"kind\":\"video\",\"frames\":" + std::to_string(count) +
      ",\"frame_indices\":" + integers(indices) +
      ",\"source_fps\":" + number(sourceFps > 0 ? sourceFps : 0) +
      ",\"frame_duration_ms\":" +
      std::to_string(fovea::frameDurationMs(sourceFps)) +
      ",\"source_size\":" + source + ",\"frame_size\":" + size +
      ",\"temporal_patch_size\":" + std::to_string(g.temporal) +
      ",\"tubelets\":" + std::to_string(tubelets) +
      ",\"tokens_per_tubelet\":" + std::to_string(g.tokensPerUnit) +
      ",\"evs_rate\":" + number(g.evsRate) +
      ",\"total_tokens\":" + std::to_string(total) + ",\"output_shape\":" +
      (g.evsRate > 0 ? integers({total})
                     : integers({tubelets, g.tokensPerUnit})) +
      ",\"tokens_per_tubelet_in_prompt\":" + integers(perTubelet) +
      ",\"split_measured\":" + (measured ? "true" : "false") +
      ",\"prompt\":" + jsonQuote(*prompt) + "}";
  return text;
}
