//===- ModelConfig.cpp - Vision model configuration -----------------------===//
//
// Tolerant parsing of Hugging Face `config.json` files of the Nemotron Nano
// VL / Omni family and the built-in presets.
//
//===----------------------------------------------------------------------===//

#include "fovea/Driver/ModelConfig.h"

#include "fovea/Runtime/Checkpoint.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include <cmath>
#include <cstdint>
#include <set>

using namespace fovea;
namespace rt = fovea::rt;
using llvm::json::Object;
using llvm::json::Path;
using llvm::json::Value;

namespace {

/// ViT sizes of the timm model names RADIO configs use (`args.model`).
struct VitSize {
  int64_t width, depth, heads;
};
const llvm::StringMap<VitSize> &vitSizes() {
  static const llvm::StringMap<VitSize> sizes = {
      {"vit_small_patch16_224", {384, 12, 6}},
      {"vit_base_patch16_224", {768, 12, 12}},
      {"vit_large_patch16_224", {1024, 24, 16}},
      {"vit_huge_patch16_224", {1280, 32, 16}},
  };
  return sizes;
}

/// Reads config fields, reporting the first problem on the JSON path.
class Reader {
public:
  /// `object[key]` as an integer, if present.
  std::optional<int64_t> integer(const Object *object, llvm::StringRef key,
                                 Path path) {
    const Value *v = object ? object->get(key) : nullptr;
    if (!v || failed)
      return std::nullopt;
    std::optional<int64_t> i = v->getAsInteger();
    if (!i) {
      // Integral doubles (e.g. 512.0) are accepted where exact, |d| <= 2^53
      // (beyond int64's range the conversion is undefined).
      std::optional<double> d = v->getAsNumber();
      if (d && std::floor(*d) == *d && std::fabs(*d) <= 9007199254740992.0)
        return static_cast<int64_t>(*d);
      return fail(path.field(key), "expected an integer"), std::nullopt;
    }
    return i;
  }

  std::optional<double> number(const Object *object, llvm::StringRef key,
                               Path path) {
    const Value *v = object ? object->get(key) : nullptr;
    if (!v || failed)
      return std::nullopt;
    std::optional<double> d = v->getAsNumber();
    if (!d)
      return fail(path.field(key), "expected a number"), std::nullopt;
    return d;
  }

  std::optional<bool> boolean(const Object *object, llvm::StringRef key,
                              Path path) {
    const Value *v = object ? object->get(key) : nullptr;
    if (!v || failed)
      return std::nullopt;
    std::optional<bool> b = v->getAsBoolean();
    if (!b)
      return fail(path.field(key), "expected true or false"), std::nullopt;
    return b;
  }

  std::optional<llvm::StringRef> string(const Object *object,
                                        llvm::StringRef key, Path path) {
    const Value *v = object ? object->get(key) : nullptr;
    if (!v || failed)
      return std::nullopt;
    std::optional<llvm::StringRef> s = v->getAsString();
    if (!s)
      return fail(path.field(key), "expected a string"), std::nullopt;
    return s;
  }

  const Object *object(const Object *parent, llvm::StringRef key, Path path) {
    const Value *v = parent ? parent->get(key) : nullptr;
    if (!v || failed)
      return nullptr;
    const Object *o = v->getAsObject();
    if (!o)
      fail(path.field(key), "expected an object");
    return o;
  }

  /// Three numbers (`norm_mean`, `norm_std`).
  std::optional<std::array<float, 3>> triple(const Object *object,
                                             llvm::StringRef key, Path path) {
    const Value *v = object ? object->get(key) : nullptr;
    if (!v || failed)
      return std::nullopt;
    const llvm::json::Array *a = v->getAsArray();
    if (!a || a->size() != 3)
      return fail(path.field(key), "expected a list of 3 numbers"),
             std::nullopt;
    std::array<float, 3> out;
    for (size_t i = 0; i < 3; ++i) {
      std::optional<double> d = (*a)[i].getAsNumber();
      if (!d)
        return fail(path.field(key).index(i), "expected a number"),
               std::nullopt;
      // The model computes in f32: a value that overflows it (1e39) or
      // is not a number is refused here, not turned into infinity.
      out[i] = static_cast<float>(*d);
      if (!std::isfinite(out[i]))
        return fail(path.field(key).index(i),
                    "expected a finite number within the range of f32"),
               std::nullopt;
    }
    return out;
  }

  void fail(Path path, llvm::StringLiteral message) {
    if (failed)
      return;
    failed = true;
    path.report(message);
  }

  bool failed = false;
};

} // namespace

/// The first of `candidates` that is present.
template <typename T>
static std::optional<T> firstOf(std::initializer_list<std::optional<T>> list) {
  for (const std::optional<T> &v : list)
    if (v)
      return v;
  return std::nullopt;
}

namespace {
/// The sections of a config (absent ones are null), their paths for error
/// messages, and the reader that records the first error.
struct ConfigSections {
  ConfigSections(const Object *top, Path::Root &root)
      : path(root), top(top), vision(r.object(top, "vision_config", path)),
        visionPath(path.field("vision_config")),
        args(r.object(vision, "args", visionPath)),
        argsPath(visionPath.field("args")),
        // The LLM section is `llm_config` in newer checkpoints,
        // `text_config` in older ones.
        llmKey(top->get("llm_config") ? "llm_config" : "text_config"),
        llm(r.object(top, llmKey, path)), llmPath(path.field(llmKey)) {}

  /// `v`, or 0 after recording `what` at `p`.
  int64_t require(std::optional<int64_t> v, Path p, llvm::StringLiteral what) {
    if (!v) {
      r.fail(p, what);
      return 0;
    }
    return *v;
  }

  /// The stages of parseModelConfig, in order (see each definition).
  void readImageKeys(ModelConfig &c);
  void readVitSize(ModelConfig &c);
  void readPrefixTokens(ModelConfig &c);
  void readWidths(ModelConfig &c);
  void readVideoKeys(ModelConfig &c);
  void readImageTiling(ModelConfig &c);
  void checkRanges(ModelConfig &c);

  Reader r;
  Path path;
  const Object *top, *vision;
  Path visionPath;
  const Object *args;
  Path argsPath;
  const char *llmKey;
  const Object *llm;
  Path llmPath;
};
} // namespace

/// Tile size, patch size, pixel shuffle and input normalization.
void ConfigSections::readImageKeys(ModelConfig &c) {
  if (!vision)
    r.fail(path.field("vision_config"), "missing (the vision tower's "
                                        "configuration)");
  c.imageSize = require(r.integer(top, "force_image_size", path),
                        path.field("force_image_size"), "missing");
  c.patchSize =
      require(firstOf<int64_t>({r.integer(top, "patch_size", path),
                                r.integer(vision, "patch_size", visionPath)}),
              path.field("patch_size"), "missing");
  if (std::optional<double> ratio = r.number(top, "downsample_ratio", path)) {
    if (*ratio != 0.5)
      r.fail(path.field("downsample_ratio"),
             "only 0.5 (2x2 pixel shuffle) is supported");
  } else {
    r.fail(path.field("downsample_ratio"), "missing");
  }
  if (std::optional<llvm::StringRef> v = r.string(top, "ps_version", path)) {
    if (*v != "v1" && *v != "v2")
      r.fail(path.field("ps_version"), "expected \"v1\" or \"v2\"");
    c.pixelShuffleV2 = *v == "v2";
  }
  std::optional<std::array<float, 3>> mean = r.triple(top, "norm_mean", path);
  std::optional<std::array<float, 3>> std = r.triple(top, "norm_std", path);
  if (mean.has_value() != std.has_value())
    r.fail(path.field(mean ? "norm_std" : "norm_mean"),
           "norm_mean and norm_std must be given together");
  if (mean && std) {
    c.normMean = *mean;
    c.normStd = *std;
  }
}

/// The ViT size: a timm model name in args, or HF-native flat keys.
void ConfigSections::readVitSize(ModelConfig &c) {
  if (std::optional<llvm::StringRef> model =
          r.string(args, "model", argsPath)) {
    auto it = vitSizes().find(*model);
    if (it == vitSizes().end()) {
      r.fail(argsPath.field("model"), "unknown ViT model name");
    } else {
      c.width = it->second.width;
      c.depth = it->second.depth;
      c.heads = it->second.heads;
      c.mlpHidden = 4 * c.width;
    }
  } else if (!r.failed) {
    c.width = require(r.integer(vision, "hidden_size", visionPath),
                      visionPath.field("args").field("model"),
                      "missing (or hidden_size, num_hidden_layers, "
                      "num_attention_heads in vision_config)");
    c.depth = require(r.integer(vision, "num_hidden_layers", visionPath),
                      visionPath.field("num_hidden_layers"), "missing");
    c.heads = require(r.integer(vision, "num_attention_heads", visionPath),
                      visionPath.field("num_attention_heads"), "missing");
    c.mlpHidden =
        firstOf<int64_t>({r.integer(vision, "intermediate_size", visionPath),
                          std::optional<int64_t>(
                              c.width <= INT64_MAX / 4 ? 4 * c.width : 0)})
            .value();
  }
  if (std::optional<int64_t> vit = r.integer(top, "vit_hidden_size", path))
    if (*vit != c.width && !r.failed)
      r.fail(path.field("vit_hidden_size"),
             "disagrees with the ViT width of vision_config");
}

/// Prefix tokens (§4): cls tokens per teacher plus registers.
void ConfigSections::readPrefixTokens(ModelConfig &c) {
  int64_t numCls = 1;
  c.numPrefixFromConfig = (args && (args->get("cls_token_per_teacher") ||
                                    args->get("cpe_num_registers") ||
                                    args->get("register_multiple"))) ||
                          (vision && vision->get("num_prefix_tokens"));
  if (r.boolean(args, "cls_token_per_teacher", argsPath).value_or(false)) {
    const Value *teachers = args ? args->get("teachers") : nullptr;
    const llvm::json::Array *list = teachers ? teachers->getAsArray() : nullptr;
    if (!list) {
      r.fail(argsPath.field("teachers"),
             "expected a list (cls_token_per_teacher is set)");
    } else {
      std::set<std::string> names;
      for (size_t i = 0; i < list->size(); ++i) {
        const Object *t = (*list)[i].getAsObject();
        std::optional<llvm::StringRef> name =
            t ? t->getString("name") : std::nullopt;
        if (!name) {
          r.fail(argsPath.field("teachers").index(i),
                 "expected an object with a \"name\"");
          break;
        }
        names.insert(name->str());
      }
      numCls = static_cast<int64_t>(names.size());
    }
  }
  int64_t registers = 0;
  if (std::optional<int64_t> n = r.integer(args, "cpe_num_registers", argsPath))
    registers = *n;
  else if (std::optional<int64_t> m =
               r.integer(args, "register_multiple", argsPath)) {
    if (*m <= 0)
      r.fail(argsPath.field("register_multiple"), "must be positive");
    else
      registers = *m - (numCls % *m);
  }
  c.numPrefix =
      firstOf<int64_t>({r.integer(vision, "num_prefix_tokens", visionPath),
                        std::optional<int64_t>(numCls + registers)})
          .value();
}

/// The position-embedding table, the projector and the LLM width.
void ConfigSections::readWidths(ModelConfig &c) {
  std::optional<int64_t> cpe =
      firstOf<int64_t>({r.integer(args, "cpe_max_size", argsPath),
                        r.integer(vision, "cpe_max_size", visionPath)});
  c.posEmbedSide = require(cpe, argsPath.field("cpe_max_size"), "missing");
  if (c.patchSize > 0)
    c.posEmbedSide = static_cast<int64_t>(
        std::llround(static_cast<double>(c.posEmbedSide) / c.patchSize));

  c.projectorHidden = require(r.integer(top, "projector_hidden_size", path),
                              path.field("projector_hidden_size"), "missing");
  if (!llm)
    r.fail(path.field("llm_config"), "missing (or text_config)");
  c.llmHidden = require(r.integer(llm, "hidden_size", llmPath),
                        llmPath.field("hidden_size"), "missing");
}

/// Video: the tubelet size T (top level or vision_config; both must agree) and
/// the frame sizing of §1.4 (a patch target or a pixel side, not both).
void ConfigSections::readVideoKeys(ModelConfig &c) {
  std::optional<int64_t> tTop =
      r.integer(top, "video_temporal_patch_size", path);
  std::optional<int64_t> tVision =
      r.integer(vision, "video_temporal_patch_size", visionPath);
  if (tTop && tVision && *tTop != *tVision)
    r.fail(path.field("video_temporal_patch_size"),
           "disagrees with vision_config.video_temporal_patch_size");
  c.temporalPatchSize = firstOf<int64_t>({tVision, tTop}).value_or(1);
  c.temporalFromConfig = tVision || tTop;
  c.separateVideoEmbedder =
      r.boolean(vision, "separate_video_embedder", visionPath)
          .value_or(c.temporalPatchSize > 1);
  if (c.temporalPatchSize > 1 && !c.separateVideoEmbedder)
    r.fail(visionPath.field("separate_video_embedder"),
           "must be true when video_temporal_patch_size > 1 (a shared "
           "image/video embedder is not supported)");

  // Video frame sizing (§1.4): a patch target or a pixel side, not both.
  std::optional<int64_t> targetPatches =
      r.integer(vision, "video_target_num_patches", visionPath);
  std::optional<int64_t> targetSide =
      r.integer(vision, "video_target_img_size", visionPath);
  if (targetPatches && targetSide)
    r.fail(visionPath.field("video_target_img_size"),
           "excludes video_target_num_patches; give one of them");
  if (targetPatches)
    c.videoTargetPatches = *targetPatches;
  else if (targetSide && c.patchSize > 0)
    c.videoTargetPatches = ((*targetSide + c.patchSize - 1) / c.patchSize) *
                           ((*targetSide + c.patchSize - 1) / c.patchSize);
  c.videoMaintainAspect =
      r.boolean(vision, "video_maintain_aspect_ratio", visionPath)
          .value_or(false);
}

/// Images: dynamic resolution iff min_num_patches is given (§10.1), else
/// InternVL tiles (§10.2). The patch budgets sit in vision_config.args
/// (vLLM, TRT-LLM) or flat in vision_config (SGLang); where both give one,
/// they must agree.
void ConfigSections::readImageTiling(ModelConfig &c) {
  auto budget =
      [&](llvm::StringRef key,
          llvm::StringLiteral disagreement) -> std::optional<int64_t> {
    std::optional<int64_t> inArgs = r.integer(args, key, argsPath);
    std::optional<int64_t> flat = r.integer(vision, key, visionPath);
    if (inArgs && flat && *inArgs != *flat)
      r.fail(visionPath.field(key), disagreement);
    return firstOf<int64_t>({inArgs, flat});
  };
  std::optional<int64_t> minPatches = budget(
      "min_num_patches", "disagrees with vision_config.args.min_num_patches");
  std::optional<int64_t> maxPatches = budget(
      "max_num_patches", "disagrees with vision_config.args.max_num_patches");
  if (minPatches) {
    c.dynamicResolution = true;
    c.minNumPatches = *minPatches;
    c.maxNumPatches = maxPatches.value_or(0);
    if (*minPatches <= 0 && !r.failed)
      r.fail(argsPath.field("min_num_patches"), "must be positive");
  } else if (maxPatches && !r.failed) {
    r.fail(argsPath.field("max_num_patches"),
           "needs min_num_patches (dynamic resolution)");
  }
  c.useThumbnail = r.boolean(top, "use_thumbnail", path).value_or(true);
  c.maxNumTiles = r.integer(top, "max_dynamic_patch", path).value_or(12);
  // The final norm (§5.3) and the default EVS rate (§9.3).
  if (std::optional<bool> norm = r.boolean(args, "model_norm", argsPath)) {
    c.finalNorm = *norm;
    c.finalNormFromConfig = true;
  }
  if (std::optional<double> rate = r.number(top, "video_pruning_rate", path)) {
    if (!(*rate >= 0.0 && *rate < 1.0))
      r.fail(path.field("video_pruning_rate"), "must be in [0, 1)");
    else
      c.videoPruningRate = *rate;
  }
}

/// Sanity of what was read: sizes positive, heads dividing the width.
void ConfigSections::checkRanges(ModelConfig &c) {
  auto positive = [&](int64_t v, Path p) {
    if (v <= 0)
      r.fail(p, "must be positive");
  };
  // Upper bounds far above any released model, so that a typo cannot make
  // the compiler build (and the runtime allocate) a model of absurd size;
  // first, as values beyond them also break the derived sizes.
  auto atMost = [&](int64_t v, int64_t limit, Path p,
                    llvm::StringLiteral message) {
    if (!r.failed && v > limit)
      r.fail(p, message);
  };
  atMost(c.depth, 1024, visionPath.field("num_hidden_layers"),
         "must be at most 1024");
  atMost(c.width, 65536, visionPath.field("hidden_size"),
         "must be at most 65536");
  atMost(c.mlpHidden, 262144, visionPath.field("intermediate_size"),
         "must be at most 262144");
  atMost(c.imageSize, 16384, path.field("force_image_size"),
         "must be at most 16384");
  atMost(c.patchSize, 1024, path.field("patch_size"), "must be at most 1024");
  atMost(c.posEmbedSide, 16384, argsPath.field("cpe_max_size"),
         "must be at most 16384 patches per side");
  atMost(c.numPrefix, 4096, visionPath.field("num_prefix_tokens"),
         "must be at most 4096");
  atMost(c.projectorHidden, 262144, path.field("projector_hidden_size"),
         "must be at most 262144");
  atMost(c.llmHidden, 262144, llmPath.field("hidden_size"),
         "must be at most 262144");
  atMost(c.temporalPatchSize, 64, path.field("video_temporal_patch_size"),
         "must be at most 64");
  if (!r.failed) {
    positive(c.width, visionPath.field("hidden_size"));
    positive(c.depth, visionPath.field("num_hidden_layers"));
    positive(c.mlpHidden, visionPath.field("intermediate_size"));
    if (c.numPrefix < 0)
      r.fail(visionPath.field("num_prefix_tokens"), "must not be negative");
    for (float s : c.normStd)
      if (!(s != 0.0f) && !r.failed)
        r.fail(path.field("norm_std"), "entries must be non-zero");
    positive(c.imageSize, path.field("force_image_size"));
    positive(c.patchSize, path.field("patch_size"));
    positive(c.posEmbedSide, argsPath.field("cpe_max_size"));
    positive(c.projectorHidden, path.field("projector_hidden_size"));
    positive(c.llmHidden, llmPath.field("hidden_size"));
    positive(c.temporalPatchSize, path.field("video_temporal_patch_size"));
    positive(c.maxNumTiles, path.field("max_dynamic_patch"));
    if (c.videoTargetPatches < 0)
      r.fail(visionPath.field("video_target_num_patches"), "must be positive");
    if (c.heads <= 0 || c.width % c.heads != 0)
      r.fail(visionPath.field("num_attention_heads"),
             "must be positive and divide the ViT width");
  }
}

llvm::Expected<ModelConfig> fovea::parseModelConfig(llvm::StringRef text,
                                                    llvm::StringRef source) {
  llvm::Expected<Value> parsed = llvm::json::parse(text);
  if (!parsed)
    return llvm::createStringError("%s: malformed JSON: %s",
                                   source.str().c_str(),
                                   llvm::toString(parsed.takeError()).c_str());
  const Object *top = parsed->getAsObject();
  if (!top)
    return llvm::createStringError("%s: expected a JSON object at the top",
                                   source.str().c_str());

  Path::Root root("config");
  ConfigSections sections(top, root);
  ModelConfig c;
  c.name = source.str();
  sections.readImageKeys(c);
  sections.readVitSize(c);
  sections.readPrefixTokens(c);
  sections.readWidths(c);
  sections.readVideoKeys(c);
  sections.readImageTiling(c);
  sections.checkRanges(c);
  if (sections.r.failed)
    return llvm::createStringError("%s: %s", source.str().c_str(),
                                   llvm::toString(root.getError()).c_str());
  return c;
}

llvm::Expected<ModelConfig> fovea::loadModelConfig(llvm::StringRef path) {
  llvm::SmallString<256> file(path);
  if (llvm::sys::fs::is_directory(file))
    llvm::sys::path::append(file, "config.json");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(file);
  if (!buffer)
    return llvm::createStringError("%s: cannot read the config: %s",
                                   file.c_str(),
                                   buffer.getError().message().c_str());
  return parseModelConfig((*buffer)->getBuffer(), file);
}

llvm::Error fovea::reconcileWithCheckpoint(ModelConfig &config,
                                           llvm::StringRef directory) {
  llvm::SmallString<256> index(directory), single(directory);
  llvm::sys::path::append(index, "model.safetensors.index.json");
  llvm::sys::path::append(single, "model.safetensors");
  std::string path;
  if (llvm::sys::fs::exists(index))
    path = index.str().str();
  else if (llvm::sys::fs::exists(single))
    path = single.str().str();
  else
    return llvm::Error::success(); // a config without a checkpoint
  std::string error;
  std::unique_ptr<rt::Checkpoint> checkpoint =
      rt::Checkpoint::open(path, error);
  if (!checkpoint)
    return llvm::createStringError(error.c_str());
  std::string gen = "vision_model.radio_model.model.patch_generator.";
  // Messages name the tensor as the checkpoint stores it.
  auto mismatch = [&](const std::string &what, int64_t fromConfig,
                      const std::string &tensor, int64_t fromCheckpoint) {
    return llvm::createStringError(
        "%s: the config implies %s = %lld but the checkpoint's '%s' implies "
        "%lld",
        path.c_str(), what.c_str(), static_cast<long long>(fromConfig),
        checkpoint->storedName(tensor).c_str(),
        static_cast<long long>(fromCheckpoint));
  };
  using Shape = std::optional<std::vector<int64_t>>;
  if (Shape cls = checkpoint->shapeOf(gen + "cls_token.token")) {
    if (cls->size() == 2) {
      if (config.numPrefixFromConfig && (*cls)[0] != config.numPrefix)
        return mismatch("prefix tokens", config.numPrefix,
                        gen + "cls_token.token", (*cls)[0]);
      config.numPrefix = (*cls)[0];
    }
  }
  if (Shape embed = checkpoint->shapeOf(gen + "embedder.weight"))
    if (embed->size() == 2 && (*embed)[0] != config.width)
      return mismatch("the ViT width", config.width, gen + "embedder.weight",
                      (*embed)[0]);
  if (Shape video = checkpoint->shapeOf(gen + "video_embedder.weight")) {
    int64_t perFrame = 3 * config.patchSize * config.patchSize;
    if (video->size() == 2 && (*video)[1] % perFrame == 0) {
      int64_t t = (*video)[1] / perFrame;
      if (config.temporalFromConfig && t != config.temporalPatchSize)
        return mismatch("video_temporal_patch_size", config.temporalPatchSize,
                        gen + "video_embedder.weight", t);
      config.temporalPatchSize = t;
      config.separateVideoEmbedder = true;
    }
  }
  // The final norm (§5.3): stated by args.model_norm, or present in the
  // checkpoint (RADIO's model.norm, or the projector-side
  // vision_final_layernorm some checkpoints carry).
  std::string norm = rt::kFinalNormWeight;
  if (checkpoint->hasFinalNorm()) {
    std::string stored = checkpoint->storedName(norm);
    if (config.finalNormFromConfig && !config.finalNorm &&
        stored == rt::kFinalNormWeight)
      return llvm::createStringError(
          "%s: the config's vision_config.args.model_norm is false but the "
          "checkpoint has the final norm '%s'",
          path.c_str(), stored.c_str());
    config.finalNorm = true;
  } else if (config.finalNorm) {
    return llvm::createStringError(
        "%s: the config's vision_config.args.model_norm is true but the "
        "checkpoint has no final norm (neither '%s' nor "
        "'vision_projector.vision_final_layernorm.weight')",
        path.c_str(), rt::kFinalNormWeight);
  }
  return llvm::Error::success();
}

std::vector<std::string> fovea::presetNames() {
  return {"nano-v2-vl", "omni", "tiny", "tiny-video", "tiny-dynamic"};
}

llvm::Expected<ModelConfig> fovea::getPreset(llvm::StringRef name) {
  ModelConfig c;
  c.name = name.str();
  if (name == "nano-v2-vl") {
    // C-RADIOv2-H, 512 tiles, T = 1, LLM width 5120 (§0.1, §4: num_skip 8,
    // the checkpoint decides).
    return c;
  }
  if (name == "omni") {
    c.numPrefix = 10;
    c.llmHidden = 2688;
    c.temporalPatchSize = 2;
    c.separateVideoEmbedder = true;
    c.videoTargetPatches = 1024;
    c.videoMaintainAspect = true;
    c.dynamicResolution = true;
    c.minNumPatches = 1024;
    c.maxNumPatches = 13312;
    return c;
  }
  if (name == "tiny" || name == "tiny-video" || name == "tiny-dynamic") {
    // Same structure, small: 64 x 64 images of 4 x 4 patches, 2 blocks of
    // width 64 with 2 heads, 2 prefix tokens, an 8 x 8 position table.
    c.imageSize = 64;
    c.width = 64;
    c.depth = 2;
    c.heads = 2;
    c.mlpHidden = 256;
    c.numPrefix = 2;
    c.posEmbedSide = 8;
    c.projectorHidden = 128;
    c.llmHidden = 96;
    // Images from a source size: at most 4 tiles (and a thumbnail).
    c.maxNumTiles = 4;
    if (name == "tiny-video") {
      // Frames from a source size: aspect-preserving, within 32 patches
      // (1920x1080 -> 128x64).
      c.temporalPatchSize = 2;
      c.separateVideoEmbedder = true;
      c.videoTargetPatches = 32;
      c.videoMaintainAspect = true;
    }
    if (name == "tiny-dynamic") {
      // Images at their dynamic-resolution size (§10.1), between 16 and 64
      // patches (64x64 to 128x128 pixels when square).
      c.dynamicResolution = true;
      c.minNumPatches = 16;
      c.maxNumPatches = 64;
    }
    return c;
  }
  std::string known;
  for (const std::string &n : presetNames())
    known += (known.empty() ? "" : ", ") + n;
  return llvm::createStringError("unknown preset '%s' (known: %s)",
                                 name.str().c_str(), known.c_str());
}
