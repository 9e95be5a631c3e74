//===- fuzz-config.cpp - config.json through the driver -------------------===//

#include "fovea/Driver/Import.h"
#include "fovea/Driver/ModelConfig.h"

#include "mlir/IR/MLIRContext.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  llvm::Expected<fovea::ModelConfig> config =
      fovea::parseModelConfig(text, "fuzz.json");
  if (!config) {
    llvm::consumeError(config.takeError());
    return 0;
  }
  // A config that parses must import (or fail with an error) for every
  // input kind, without building absurd IR: small models only.
  if (config->depth > 2 || config->width > 256 || config->imageSize > 256 ||
      config->posEmbedSide > 64 || config->mlpHidden > 1024 ||
      config->projectorHidden > 1024 || config->llmHidden > 1024)
    return 0;
  for (fovea::InputKind kind :
       {fovea::InputKind::Image, fovea::InputKind::Video}) {
    mlir::MLIRContext context;
    fovea::ImportOptions options;
    options.inputKind = kind;
    auto module = fovea::importModel(context, *config, options);
    if (!module)
      llvm::consumeError(module.takeError());
  }
  return 0;
}
