//===- fuzz-safetensors.cpp - Checkpoints: one file or a shard index ------===//
//
// The first byte chooses: even, the input is one .safetensors file; odd,
// the rest is a model.safetensors.index.json beside a fixed, valid shard.
// Every tensor found is read through the checkpoint layer (both layouts'
// names), as a module's weights are.
//
//===----------------------------------------------------------------------===//

#include "FuzzInput.h"
#include "fovea/Runtime/Checkpoint.h"

#include <cstring>
#include <sys/stat.h>

namespace {
/// Writes a valid shard with one F32 tensor
/// "vision_model.radio_model.model.a" [2] into `dir`.
void writeShard(const std::string &dir) {
  std::string header =
      R"({"vision_model.radio_model.model.a":{"dtype":"F32","shape":[2],)"
      R"("data_offsets":[0,8]}})";
  std::string file(8, '\0');
  uint64_t n = header.size();
  std::memcpy(file.data(), &n, 8);
  file += header;
  file.append(8, '\0');
  fovea::fuzz::writeFile(dir + "/shard.safetensors", file.data(), file.size());
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  std::string path;
  if (data[0] % 2 == 0) {
    path = fovea::fuzz::writeInput(data + 1, size - 1, "st", ".safetensors");
  } else {
    static std::string dir = [] {
      std::string d = "/tmp/fovea-fuzz-" + std::to_string(getpid()) + "-dir";
      mkdir(d.c_str(), 0700);
      writeShard(d);
      return d;
    }();
    path = dir + "/model.safetensors.index.json";
    fovea::fuzz::writeFile(path, data + 1, size - 1);
  }
  std::string error;
  std::unique_ptr<fovea::rt::Checkpoint> checkpoint =
      fovea::rt::Checkpoint::open(path, error);
  if (!checkpoint)
    return 0;
  for (const char *name :
       {"vision_model.radio_model.model.a",
        "vision_model.radio_model.model.patch_generator.embedder.weight",
        "vision_model.radio_model.model.blocks.0.attn.qkv.weight",
        "mlp1.0.weight"}) {
    std::optional<std::vector<int64_t>> shape = checkpoint->shapeOf(name);
    if (!shape || shape->size() > 4)
      continue;
    int64_t elements = 1;
    for (int64_t d : *shape)
      elements =
          d > 0 && elements <= (int64_t(1) << 24) / d ? elements * d : -1;
    if (elements < 0)
      continue;
    fovea::rt::Tensor out(fovea::rt::DType::F32, *shape);
    (void)checkpoint->read(name, out, error);
  }
  return 0;
}
