//===- ModelConfigTest.cpp - Tests of config.json parsing -----------------===//
//
// The tolerant reading of Nano VL / Omni configs (llm_config vs text_config,
// args vs flat keys, T at either level) and one-line errors naming the field.
//
//===----------------------------------------------------------------------===//

#include "fovea/Driver/ModelConfig.h"

#include "gtest/gtest.h"
#include <ostream>

using namespace fovea;

namespace {

/// An Omni-style config: llm_config, keys under vision_config.args, 4 unique
/// teachers with a class token each plus registers to a multiple of 10.
constexpr const char *kOmni = R"({
  "architectures": ["NemotronH_Nano_Omni_Reasoning_V3"],
  "force_image_size": 512, "patch_size": 16, "downsample_ratio": 0.5,
  "ps_version": "v2", "projector_hidden_size": 20480, "vit_hidden_size": 1280,
  "norm_mean": [0.48145466, 0.4578275, 0.40821073],
  "norm_std": [0.26862954, 0.26130258, 0.27577711],
  "llm_config": {"hidden_size": 2688},
  "vision_config": {
    "video_temporal_patch_size": 2, "separate_video_embedder": true,
    "video_target_num_patches": 1024, "video_maintain_aspect_ratio": true,
    "args": {"model": "vit_huge_patch16_224", "cpe_max_size": 2048,
             "min_num_patches": 1024, "max_num_patches": 13312,
             "cls_token_per_teacher": true, "register_multiple": 10,
             "teachers": [{"name": "clip"}, {"name": "siglip"},
                          {"name": "dino_v2"}, {"name": "sam"},
                          {"name": "clip"}]}}
})";

TEST(ModelConfig, OmniStyle) {
  llvm::Expected<ModelConfig> c = parseModelConfig(kOmni, "omni.json");
  ASSERT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
  EXPECT_EQ(c->width, 1280);
  EXPECT_EQ(c->depth, 32);
  EXPECT_EQ(c->heads, 16);
  EXPECT_EQ(c->mlpHidden, 5120);
  EXPECT_EQ(c->numPrefix, 10); // 4 unique teachers + 6 registers.
  EXPECT_EQ(c->posEmbedSide, 128);
  EXPECT_EQ(c->llmHidden, 2688);
  EXPECT_EQ(c->temporalPatchSize, 2);
  EXPECT_TRUE(c->pixelShuffleV2);
  EXPECT_EQ(c->tokensFor(384, 672), 252);
  // Frame sizing (§1.4) and dynamic-resolution images (§10.1).
  EXPECT_EQ(c->videoTargetPatches, 1024);
  EXPECT_TRUE(c->videoMaintainAspect);
  EXPECT_TRUE(c->dynamicResolution);
  EXPECT_EQ(c->minNumPatches, 1024);
  EXPECT_EQ(c->maxNumPatches, 13312);
}

/// An older layout: text_config, HF-native flat ViT keys, T at the top
/// level, no norm statistics (CLIP defaults).
constexpr const char *kFlat = R"({
  "force_image_size": 64, "downsample_ratio": 0.5, "ps_version": "v1",
  "projector_hidden_size": 128, "video_temporal_patch_size": 2,
  "text_config": {"hidden_size": 96},
  "vision_config": {"patch_size": 16, "hidden_size": 64,
                    "num_hidden_layers": 2, "num_attention_heads": 2,
                    "intermediate_size": 256, "cpe_max_size": 128,
                    "args": {"cpe_num_registers": 3}}
})";

TEST(ModelConfig, FlatKeysAndTextConfig) {
  llvm::Expected<ModelConfig> c = parseModelConfig(kFlat, "flat.json");
  ASSERT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
  EXPECT_EQ(c->width, 64);
  EXPECT_EQ(c->depth, 2);
  EXPECT_EQ(c->mlpHidden, 256);
  EXPECT_EQ(c->numPrefix, 4); // 1 class token + 3 registers.
  EXPECT_EQ(c->posEmbedSide, 8);
  EXPECT_EQ(c->llmHidden, 96);
  EXPECT_EQ(c->temporalPatchSize, 2);
  EXPECT_TRUE(c->separateVideoEmbedder);
  EXPECT_FALSE(c->pixelShuffleV2);
  EXPECT_FLOAT_EQ(c->normMean[0], 0.48145466f);
}

struct BadConfig {
  const char *name;
  std::string json;
  const char *message;
};

std::string replace(std::string text, const std::string &from,
                    const std::string &to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

void PrintTo(const BadConfig &bad, std::ostream *os) { *os << bad.name; }

class ModelConfigErrors : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ModelConfigErrors, NameTheField) {
  const BadConfig &bad = GetParam();
  llvm::Expected<ModelConfig> c = parseModelConfig(bad.json, "bad.json");
  ASSERT_FALSE(static_cast<bool>(c));
  std::string message = llvm::toString(c.takeError());
  EXPECT_EQ(message, bad.message);
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ModelConfigErrors,
    ::testing::Values(
        BadConfig{"Malformed", "{\"force_image_size\": ",
                  "bad.json: malformed JSON: [1:21, byte=21]: Unexpected EOF"},
        BadConfig{"WrongType",
                  replace(kOmni, "\"cpe_max_size\": 2048",
                          "\"cpe_max_size\": \"2048\""),
                  "bad.json: expected an integer at "
                  "config.vision_config.args.cpe_max_size"},
        BadConfig{"TemporalDisagrees",
                  replace(kOmni, "\"ps_version\"",
                          "\"video_temporal_patch_size\": 4, \"ps_version\""),
                  "bad.json: disagrees with "
                  "vision_config.video_temporal_patch_size at "
                  "config.video_temporal_patch_size"},
        BadConfig{"MissingLlmWidth",
                  replace(kOmni, "{\"hidden_size\": 2688}", "{}"),
                  "bad.json: missing at config.llm_config.hidden_size"},
        BadConfig{"HalfNormalization",
                  replace(kOmni, "\"norm_std\"", "\"norm_stdev\""),
                  "bad.json: norm_mean and norm_std must be given together "
                  "at config.norm_std"},
        BadConfig{"UnknownModel",
                  replace(kOmni, "vit_huge_patch16_224", "vit_giant"),
                  "bad.json: unknown ViT model name at "
                  "config.vision_config.args.model"},
        BadConfig{"Ratio",
                  replace(kOmni, "\"downsample_ratio\": 0.5",
                          "\"downsample_ratio\": 0.25"),
                  "bad.json: only 0.5 (2x2 pixel shuffle) is supported at "
                  "config.downsample_ratio"},
        // Values that crashed or ran away before.
        BadConfig{"RegisterMultipleZero",
                  replace(kOmni, "\"register_multiple\": 10",
                          "\"register_multiple\": 0"),
                  "bad.json: must be positive at "
                  "config.vision_config.args.register_multiple"},
        BadConfig{"HiddenSizeZero",
                  replace(kFlat, "\"hidden_size\": 64", "\"hidden_size\": 0"),
                  "bad.json: must be positive at "
                  "config.vision_config.hidden_size"},
        BadConfig{"LayersZero",
                  replace(kFlat, "\"num_hidden_layers\": 2",
                          "\"num_hidden_layers\": 0"),
                  "bad.json: must be positive at "
                  "config.vision_config.num_hidden_layers"},
        BadConfig{"LayersNegative",
                  replace(kFlat, "\"num_hidden_layers\": 2",
                          "\"num_hidden_layers\": -1"),
                  "bad.json: must be positive at "
                  "config.vision_config.num_hidden_layers"},
        BadConfig{"LayersTooMany",
                  replace(kFlat, "\"num_hidden_layers\": 2",
                          "\"num_hidden_layers\": 100000"),
                  "bad.json: must be at most 1024 at "
                  "config.vision_config.num_hidden_layers"},
        BadConfig{"IntermediateZero",
                  replace(kFlat, "\"intermediate_size\": 256",
                          "\"intermediate_size\": 0"),
                  "bad.json: must be positive at "
                  "config.vision_config.intermediate_size"},
        BadConfig{"HiddenSizeHuge",
                  replace(kFlat, "\"hidden_size\": 64",
                          "\"hidden_size\": 4611686018427387904"),
                  "bad.json: must be at most 65536 at "
                  "config.vision_config.hidden_size"},
        BadConfig{"ImageSizeHugeDouble",
                  replace(kFlat, "\"force_image_size\": 64",
                          "\"force_image_size\": 1e300"),
                  "bad.json: expected an integer at config.force_image_size"},
        BadConfig{
            "NormStdZero",
            replace(kOmni, "\"norm_std\": [0.26862954", "\"norm_std\": [0.0"),
            "bad.json: entries must be non-zero at config.norm_std"},
        // 1e39 overflows f32: infinity would reach the normalize op.
        BadConfig{
            "NormStdOverflowsF32",
            replace(kOmni, "\"norm_std\": [0.26862954", "\"norm_std\": [1e39"),
            "bad.json: expected a finite number within the range of "
            "f32 at config.norm_std[0]"},
        BadConfig{"NormMeanOverflowsF32",
                  replace(kOmni, "\"norm_mean\": [0.48145466",
                          "\"norm_mean\": [-1e39"),
                  "bad.json: expected a finite number within the range of "
                  "f32 at config.norm_mean[0]"}),
    [](const ::testing::TestParamInfo<BadConfig> &info) {
      return std::string(info.param.name);
    });

TEST(ModelConfig, VideoTargetImageSizeAndTiles) {
  // Nano v2 VL style: no frame target (square 512 frames), InternVL tiles.
  llvm::Expected<ModelConfig> flat = parseModelConfig(kFlat, "flat.json");
  ASSERT_TRUE(static_cast<bool>(flat)) << llvm::toString(flat.takeError());
  EXPECT_EQ(flat->videoTargetPatches, 0);
  EXPECT_FALSE(flat->dynamicResolution);
  EXPECT_EQ(flat->maxNumTiles, 12);
  EXPECT_TRUE(flat->useThumbnail);
  // video_target_img_size 500 -> ceil(500 / 16)^2 = 32^2 patches.
  std::string text = kFlat;
  std::string key = "\"vision_config\": {";
  text.replace(text.find(key), key.size(),
               "\"max_dynamic_patch\": 6, \"use_thumbnail\": false, "
               "\"vision_config\": {\"video_target_img_size\": 500, ");
  llvm::Expected<ModelConfig> c = parseModelConfig(text, "sized.json");
  ASSERT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
  EXPECT_EQ(c->videoTargetPatches, 32 * 32);
  EXPECT_EQ(c->maxNumTiles, 6);
  EXPECT_FALSE(c->useThumbnail);
}

TEST(ModelConfig, Presets) {
  for (const std::string &name : presetNames())
    EXPECT_TRUE(static_cast<bool>(getPreset(name))) << name;
  llvm::Expected<ModelConfig> omni = getPreset("omni");
  ASSERT_TRUE(static_cast<bool>(omni));
  EXPECT_EQ(omni->numPrefix, 10);
  EXPECT_EQ(omni->temporalPatchSize, 2);
  llvm::Expected<ModelConfig> dynamic = getPreset("tiny-dynamic");
  ASSERT_TRUE(static_cast<bool>(dynamic));
  EXPECT_TRUE(dynamic->dynamicResolution);
  EXPECT_EQ(dynamic->minNumPatches, 16);
  EXPECT_EQ(dynamic->maxNumPatches, 64);
  llvm::Expected<ModelConfig> unknown = getPreset("huge");
  ASSERT_FALSE(static_cast<bool>(unknown));
  EXPECT_EQ(llvm::toString(unknown.takeError()),
            "unknown preset 'huge' (known: nano-v2-vl, omni, tiny, "
            "tiny-video, tiny-dynamic)");
}

} // namespace
