//===- OptionsTest.cpp - Tests of the compile options model ---------------===//
//
// Values by type, the checks between options, and the importer's view.
//
//===----------------------------------------------------------------------===//

#include "fovea/Driver/Options.h"

#include "gtest/gtest.h"

using namespace fovea;

namespace {

/// The error text of `error` ("" on success).
std::string message(llvm::Error error) {
  return error ? llvm::toString(std::move(error)) : "";
}

TEST(Options, EveryOptionIsDeclaredOnce) {
  llvm::StringSet<> flags;
  for (const OptionInfo &info : CompileOptions::all()) {
    EXPECT_TRUE(flags.insert(info.flag).second) << info.flag.str();
    EXPECT_FALSE(info.help.empty()) << info.flag.str();
  }
  // The driver's and the pipeline's.
  EXPECT_TRUE(flags.contains("max-frames"));
  EXPECT_TRUE(flags.contains("tile-sizes"));
  EXPECT_TRUE(flags.contains("block-size"));
}

TEST(Options, DefaultsRoundTripThroughSet) {
  // Setting every option to its printed default changes nothing.
  CompileOptions options;
  for (const OptionInfo &info : CompileOptions::all())
    if (!info.defaultValue.empty())
      EXPECT_EQ(message(options.set(info.flag, info.defaultValue)), "")
          << info.flag.str();
  CompileOptions defaults;
  EXPECT_EQ(options.maxFrames, defaults.maxFrames);
  EXPECT_EQ(options.pipeline.blockSize, defaults.pipeline.blockSize);
  EXPECT_EQ(options.pipeline.gpuArch, defaults.pipeline.gpuArch);
  EXPECT_EQ(options.phase, defaults.phase);
}

TEST(Options, ValuesByType) {
  CompileOptions o;
  EXPECT_EQ(message(o.set("vectorize", "false")), "");
  EXPECT_FALSE(o.pipeline.vectorize);
  EXPECT_EQ(message(o.set("tile-sizes", "4,32,16")), "");
  EXPECT_EQ(o.pipeline.tileSizes, (std::vector<int64_t>{4, 32, 16}));
  EXPECT_EQ(message(o.set("source-size", "100x200,300x400")), "");
  ASSERT_EQ(o.sourceSizes.size(), 2u);
  EXPECT_EQ(o.sourceSizes[1].width, 400);
  EXPECT_EQ(message(o.set("evs-rate", "0.25")), "");
  EXPECT_EQ(o.evsRate, 0.25);
  EXPECT_EQ(message(o.set("compile-to", "bufferized")), "");
  EXPECT_EQ(o.phase, Phase::Bufferized);
  EXPECT_TRUE(o.isGiven("compile-to"));
  EXPECT_FALSE(o.isGiven("dtype"));

  EXPECT_EQ(message(o.set("vectorize", "maybe")),
            "--vectorize expects true or false, got 'maybe'");
  EXPECT_EQ(message(o.set("max-frames", "1.5")),
            "--max-frames expects an integer, got '1.5'");
  EXPECT_EQ(message(o.set("image-size", "0x64")),
            "--image-size expects HxW (e.g. 512x512), got '0x64'");
  EXPECT_EQ(message(o.set("target", "rocm")),
            "--target expects cpu or cuda, got 'rocm'");
  EXPECT_EQ(message(o.set("emit", "obj")),
            "--emit expects ir, module or exe, got 'obj'");
  EXPECT_EQ(message(o.set("block-sise", "64")),
            "unknown option '--block-sise' (did you mean '--block-size'?)");
  EXPECT_EQ(message(o.set("frobnicate", "1")), "unknown option '--frobnicate'");
}

TEST(Options, ChecksBetweenOptions) {
  auto validated =
      [](std::initializer_list<std::pair<const char *, const char *>> flags) {
        CompileOptions o;
        for (auto [flag, value] : flags)
          if (llvm::Error e = o.set(flag, value))
            return message(std::move(e));
        o.outputPath = "out.so";
        return message(o.validate());
      };
  EXPECT_EQ(validated({}), "");
  EXPECT_EQ(validated({{"block-size", "64"}}),
            "--block-size applies to --target cuda only");
  EXPECT_EQ(validated({{"target", "cuda"}, {"block-size", "64"}}), "");
  EXPECT_EQ(validated({{"target", "cuda"}, {"tile-sizes", "8,64,32"}}),
            "--tile-sizes applies to --target cpu only");
  EXPECT_EQ(validated({{"target", "cuda"}, {"gpu-arch", "sm_70"}}),
            "unsupported GPU architecture 'sm_70' (sm_90a, sm_90, sm_89, "
            "sm_86, sm_80)");
  EXPECT_EQ(validated({{"max-frames", "4"}}),
            "--max-frames applies to video input only");
  EXPECT_EQ(validated({{"input-kind", "video"}, {"max-frames", "4"}}), "");
  EXPECT_EQ(validated({{"compile-to", "gpu"}}),
            "phase 'gpu' needs --target cuda");
  EXPECT_EQ(validated({{"emit", "module"}, {"compile-to", "llvm"}}),
            "--emit and --compile-to exclude each other");
  EXPECT_EQ(validated({{"resize-domain", "u8"}}),
            "--resize-domain needs --source-size (without it the module "
            "takes pixels at the compiled size and does not resize)");
  EXPECT_EQ(validated({{"source-size", "64x64"}, {"max-model-len", "10"}}),
            "--max-model-len and --prompt-tokens set the budgets of packed "
            "images (a list of --source-size) only");
}

TEST(Options, ImportOptions) {
  CompileOptions o;
  ASSERT_EQ(message(o.set("source-size", "480x640")), "");
  ASSERT_EQ(message(o.set("image-size", "96x128")), "");
  ImportOptions single = o.importOptions(ModelConfig());
  EXPECT_EQ(single.sourceHeight, 480);
  EXPECT_EQ(single.sourceWidth, 640);
  EXPECT_EQ(single.height, 96);
  EXPECT_TRUE(single.packedSources.empty());
  ASSERT_EQ(message(o.set("source-size", "64x64,32x96")), "");
  ImportOptions packed = o.importOptions(ModelConfig());
  EXPECT_EQ(packed.sourceHeight, 0);
  ASSERT_EQ(packed.packedSources.size(), 2u);
  EXPECT_EQ(packed.packedSources[1], (std::pair<int64_t, int64_t>{32, 96}));
}

TEST(Options, EvsRateDefaultsToTheConfigsForVideo) {
  ModelConfig config;
  config.videoPruningRate = 0.7;
  CompileOptions image;
  EXPECT_EQ(image.importOptions(config).evsRate, 0.0);
  CompileOptions video;
  ASSERT_EQ(message(video.set("input-kind", "video")), "");
  EXPECT_EQ(video.importOptions(config).evsRate, 0.7);
  ASSERT_EQ(message(video.set("evs-rate", "0")), "");
  EXPECT_EQ(video.importOptions(config).evsRate, 0.0);
  ASSERT_EQ(message(video.set("evs-rate", "0.25")), "");
  EXPECT_EQ(video.importOptions(config).evsRate, 0.25);
}

} // namespace
