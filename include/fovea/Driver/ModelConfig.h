//===- ModelConfig.h - Vision model configuration ---------------*- C++ -*-===//
//
// The model facts the compiler needs, read tolerantly from a Hugging Face
// `config.json` of the Nemotron Nano VL / Omni family or taken from a preset.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_DRIVER_MODELCONFIG_H
#define FOVEA_DRIVER_MODELCONFIG_H

#include "fovea/Support/TokenGeometry.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include <array>
#include <optional>
#include <string>
#include <vector>

namespace fovea {

/// The vision side of a model: RADIO ViT, pixel shuffle, projector, video.
struct ModelConfig {
  std::string name;
  /// Input conditioning (§1.1).
  std::array<float, 3> normMean = {0.48145466f, 0.4578275f, 0.40821073f};
  std::array<float, 3> normStd = {0.26862954f, 0.26130258f, 0.27577711f};
  /// Tile size of the fixed-tile image path (`force_image_size`).
  int64_t imageSize = 512;
  int64_t patchSize = 16;
  /// ViT (§5.1).
  int64_t width = 1280;
  int64_t depth = 32;
  int64_t heads = 16;
  int64_t mlpHidden = 5120;
  double layerNormEps = 1e-6;
  /// A LayerNorm after the last block (§5.3): `args.model_norm`, or a
  /// checkpoint that has the norm's tensors.
  bool finalNorm = false;
  /// Whether the config stated `args.model_norm` (true or false).
  bool finalNormFromConfig = false;
  /// Prefix tokens (class tokens + registers, §4); the checkpoint's
  /// `cls_token.token` row count must agree.
  int64_t numPrefix = 8;
  /// Whether the config stated the prefix count (teachers, registers) or
  /// it is a default the checkpoint decides.
  bool numPrefixFromConfig = false;
  /// Side R of the position-embedding table (`cpe_max_size / patch_size`).
  int64_t posEmbedSide = 128;
  /// Pixel shuffle (§7).
  bool pixelShuffleV2 = true;
  /// Projector (§8).
  int64_t projectorHidden = 20480;
  int64_t llmHidden = 5120;
  double rmsNormEps = 1e-5;
  /// Video (§6).
  int64_t temporalPatchSize = 1;
  /// Whether the config stated T (else the checkpoint's video embedder
  /// decides).
  bool temporalFromConfig = false;
  bool separateVideoEmbedder = false;
  /// Video frame size (§1.4): `video_target_num_patches` (0: square frames
  /// of `imageSize`), aspect-preserving when `videoMaintainAspect`.
  int64_t videoTargetPatches = 0;
  bool videoMaintainAspect = false;
  /// The config's EVS rate (`video_pruning_rate`, §9.3): the default of
  /// video modules, which `--evs-rate` overrides; 0 = off.
  double videoPruningRate = 0.0;
  /// Images: InternVL tiles (§10.2) or, when `dynamicResolution`, one
  /// image sized for a patch budget (§10.1).
  int64_t maxNumTiles = 12;
  bool useThumbnail = true;
  bool dynamicResolution = false;
  int64_t minNumPatches = 0, maxNumPatches = 0;

  /// Tokens per tile/frame/tubelet after pixel shuffle for an H x W input.
  int64_t tokensFor(int64_t height, int64_t width) const {
    return tokensPerUnit(height, width, patchSize);
  }
};

/// Parses a Hugging Face `config.json` text. `text_config` and `llm_config`,
/// keys under `vision_config.args` and flat in `vision_config`, and
/// `video_temporal_patch_size` at the top level or in `vision_config` are all
/// accepted. Errors name the offending field (`config.vision_config.args.
/// cpe_max_size: expected an integer`).
llvm::Expected<ModelConfig> parseModelConfig(llvm::StringRef json,
                                             llvm::StringRef sourceName);

/// Reads and parses a `config.json` file (or a directory holding one).
llvm::Expected<ModelConfig> loadModelConfig(llvm::StringRef path);

/// Reconciles `config` with a checkpoint in `directory` (a safetensors file
/// or shard index there), when one exists: the checkpoint decides what the
/// config leaves open (prefix tokens = rows of `cls_token.token`, T from the
/// video embedder's width, whether the ViT has a final norm) and a
/// disagreement with what the config states (including the ViT width) is an
/// error naming both values. Either checkpoint layout is read
/// (fovea/Runtime/Checkpoint.h).
llvm::Error reconcileWithCheckpoint(ModelConfig &config,
                                    llvm::StringRef directory);

/// A built-in configuration: `nano-v2-vl`, `omni`, and the small test
/// presets `tiny` (T = 1) and `tiny-video` (T = 2).
llvm::Expected<ModelConfig> getPreset(llvm::StringRef name);

/// Names of the built-in presets.
std::vector<std::string> presetNames();

} // namespace fovea

#endif // FOVEA_DRIVER_MODELCONFIG_H
