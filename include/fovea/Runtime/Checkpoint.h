//===- Checkpoint.h - Checkpoint layouts of the vision tower ----*- C++ -*-===//
//
// A safetensors checkpoint seen through the names modules use. Modules name
// their weights as the remote-code checkpoints do
// (`vision_model.radio_model.model.blocks.{i}.attn.qkv.weight`,
// `mlp1.1.weight`); checkpoints written by the transformers-native RADIO model
// name the tower `vision_model.embeddings.*` /
// `vision_model.encoder.layer.{i}.*` with q, k and v stored apart, and the
// projector `vision_projector.mlp1.{norm,linear1, linear2}`. The layout of the
// tower and of the projector is detected from the tensor names (independently:
// released checkpoints mix them), and reading a module weight renames,
// concatenates and reshapes as needed.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_RUNTIME_CHECKPOINT_H
#define FOVEA_RUNTIME_CHECKPOINT_H

#include "fovea/Runtime/Safetensors.h"

#include <optional>
#include <string>
#include <vector>

namespace fovea::rt {

/// Where a checkpoint keeps the vision tower's tensors.
enum class TowerLayout {
  /// `vision_model.radio_model.model.{patch_generator,blocks}.*`, fused qkv.
  RemoteCode,
  /// `vision_model.{embeddings,encoder.layer}.*`, split q/k/v.
  Transformers,
};

/// Where a checkpoint keeps the projector's tensors.
enum class ProjectorLayout {
  /// `mlp1.{0,1,3}.weight` (the remote code's nn.Sequential).
  Sequential,
  /// `vision_projector.mlp1.{norm,linear1,linear2}.weight`.
  Named,
};

/// The names of the optional final LayerNorm of the ViT (after the last
/// block, before the prefix is stripped): RADIO's `model.norm` when
/// `args.model_norm` is set, which is also the module's name for it.
inline constexpr const char *kFinalNormWeight =
    "vision_model.radio_model.model.norm.weight";
inline constexpr const char *kFinalNormBias =
    "vision_model.radio_model.model.norm.bias";

class Checkpoint {
public:
  /// Opens `path` (as SafetensorsArchive::open) and detects its layout. A
  /// checkpoint with neither layout's tower names, or with both, is an error
  /// naming the tensors looked for.
  static std::unique_ptr<Checkpoint> open(const std::string &path,
                                          std::string &error);

  TowerLayout tower() const { return towerLayout; }
  ProjectorLayout projector() const { return projectorLayout; }
  /// "remote-code" or "transformers" (tower), for messages.
  const char *towerName() const;

  /// The shape module weight `name` has once read (a convolution-shaped
  /// embedder flattened, q/k/v concatenated), or nullopt when the checkpoint
  /// lacks it (or one of its parts).
  std::optional<std::vector<int64_t>> shapeOf(const std::string &name) const;
  /// The first checkpoint tensor module weight `name` is read from.
  std::string storedName(const std::string &name) const;
  /// Whether the checkpoint has the ViT's final LayerNorm (under either
  /// name it is stored with).
  bool hasFinalNorm() const { return shapeOf(kFinalNormWeight).has_value(); }

  /// Reads module weight `name` into `out` (its shape and dtype), converting
  /// float types; errors name the checkpoint tensor and the module weight.
  bool read(const std::string &name, Tensor &out, std::string &error) const;
  /// Module weight `name` in place in the checkpoint's mapping, when it is
  /// stored under one name as `dtype` with `shape` (no conversion, no
  /// reordering): valid while the checkpoint lives. nullptr otherwise.
  const void *view(const std::string &name, DType dtype,
                   const std::vector<int64_t> &shape) const;

  const SafetensorsArchive &archive() const { return *tensors; }

private:
  Checkpoint() = default;
  /// How a module weight is stored.
  struct Source {
    enum class Kind {
      /// One tensor of the module's shape.
      Plain,
      /// The rows of several tensors one after the other (q, k, v).
      Concat,
      /// A patch embedder, possibly a convolution kernel: `[C, K]` as
      /// `[C, K]`, `[C, k, P, P]` (flattened in place) or, for the video
      /// embedder, `[C, 3, T, P, P]` (to the (t, c, y, x) order).
      Embedder,
    } kind = Kind::Plain;
    std::vector<std::string> names;
  };
  Source sourceOf(const std::string &name) const;

  std::unique_ptr<SafetensorsArchive> tensors;
  TowerLayout towerLayout = TowerLayout::RemoteCode;
  ProjectorLayout projectorLayout = ProjectorLayout::Sequential;
};

} // namespace fovea::rt

#endif // FOVEA_RUNTIME_CHECKPOINT_H
