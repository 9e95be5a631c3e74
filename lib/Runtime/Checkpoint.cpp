//===- Checkpoint.cpp - Checkpoint layouts of the vision tower ------------===//
//
// The transformers-native names follow the conversion mapping the RADIO
// checkpoints register for transformers (`register_radio_conversion_mapping`
// in their modeling_radio.py), which renames
//   radio_model.model.patch_generator.{embedder, video_embedder, pos_embed,
//       cls_token.token}
//     -> embeddings.{patch_projection, video_patch_projection,
//        position_embedding, cls_register_token}
//   radio_model.model.blocks.{i} -> encoder.layer.{i}
//   attn.proj -> attention.output.dense
// and splits attn.qkv into attention.attention.{query,key,value} (rows in
// q, k, v order); the projector's nn.Sequential `mlp1.{0,1,3}` becomes
// `vision_projector.mlp1.{norm,linear1,linear2}`.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Checkpoint.h"

#include <cstring>
#include <string_view>

using namespace fovea::rt;

namespace {
constexpr std::string_view kRemoteTower = "vision_model.radio_model.model.";
constexpr std::string_view kGenerator =
    "vision_model.radio_model.model.patch_generator.";
constexpr std::string_view kBlocks = "vision_model.radio_model.model.blocks.";
constexpr std::string_view kFinalLayerNorm =
    "vision_projector.vision_final_layernorm.";

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

/// `name` with `prefix` replaced by `replacement`, if it starts with it.
std::optional<std::string> renamed(const std::string &name,
                                   std::string_view prefix,
                                   std::string_view replacement) {
  if (!startsWith(name, prefix))
    return std::nullopt;
  return std::string(replacement) + name.substr(prefix.size());
}

int64_t product(const std::vector<int64_t> &shape, size_t from) {
  int64_t n = 1;
  for (size_t i = from; i < shape.size(); ++i)
    n *= shape[i];
  return n;
}
} // namespace

std::unique_ptr<Checkpoint> Checkpoint::open(const std::string &path,
                                             std::string &error) {
  std::unique_ptr<SafetensorsArchive> archive =
      SafetensorsArchive::open(path, error);
  if (!archive)
    return nullptr;
  const std::string *remote =
      archive->firstWithPrefix(std::string(kRemoteTower));
  const std::string *native =
      archive->firstWithPrefix("vision_model.embeddings.");
  if (!native)
    native = archive->firstWithPrefix("vision_model.encoder.");
  if (remote && native) {
    error = path + ": the checkpoint mixes two layouts of the vision tower: '" +
            *remote + "' (remote-code) and '" + *native + "' (transformers)";
    return nullptr;
  }
  if (!remote && !native) {
    error = path + ": no vision tower in the checkpoint: looked for "
                   "'vision_model.radio_model.model.patch_generator.pos_embed' "
                   "(remote-code layout) and 'vision_model.embeddings."
                   "position_embedding' (transformers layout)";
    return nullptr;
  }
  std::unique_ptr<Checkpoint> checkpoint(new Checkpoint);
  checkpoint->towerLayout =
      remote ? TowerLayout::RemoteCode : TowerLayout::Transformers;
  checkpoint->projectorLayout =
      !archive->firstWithPrefix("mlp1.") &&
              archive->firstWithPrefix("vision_projector.mlp1.")
          ? ProjectorLayout::Named
          : ProjectorLayout::Sequential;
  checkpoint->tensors = std::move(archive);
  return checkpoint;
}

const char *Checkpoint::towerName() const {
  return towerLayout == TowerLayout::RemoteCode ? "remote-code"
                                                : "transformers";
}

Checkpoint::Source Checkpoint::sourceOf(const std::string &name) const {
  using Kind = Source::Kind;
  // The final norm: RADIO's model.norm, or the projector-side
  // vision_final_layernorm some checkpoints carry instead.
  if (name == kFinalNormWeight || name == kFinalNormBias) {
    std::string other = std::string(kFinalLayerNorm) +
                        (name == kFinalNormWeight ? "weight" : "bias");
    if (towerLayout == TowerLayout::RemoteCode && tensors->find(name))
      return {Kind::Plain, {name}};
    return {Kind::Plain, {other}};
  }
  if (startsWith(name, "mlp1.")) {
    if (projectorLayout == ProjectorLayout::Sequential)
      return {Kind::Plain, {name}};
    for (auto [from, to] : {std::pair<std::string_view, std::string_view>{
                                "mlp1.0.", "vision_projector.mlp1.norm."},
                            {"mlp1.1.", "vision_projector.mlp1.linear1."},
                            {"mlp1.3.", "vision_projector.mlp1.linear2."}})
      if (std::optional<std::string> n = renamed(name, from, to))
        return {Kind::Plain, {*n}};
    return {Kind::Plain, {name}};
  }
  bool embedder = name == std::string(kGenerator) + "embedder.weight" ||
                  name == std::string(kGenerator) + "video_embedder.weight";
  if (towerLayout == TowerLayout::RemoteCode)
    return {embedder ? Kind::Embedder : Kind::Plain, {name}};

  if (startsWith(name, kGenerator)) {
    std::string_view rest = std::string_view(name).substr(kGenerator.size());
    const char *native = rest == "embedder.weight" ? "patch_projection.weight"
                         : rest == "video_embedder.weight"
                             ? "video_patch_projection.weight"
                         : rest == "pos_embed"       ? "position_embedding"
                         : rest == "cls_token.token" ? "cls_register_token"
                                                     : nullptr;
    if (native)
      return {embedder ? Kind::Embedder : Kind::Plain,
              {std::string("vision_model.embeddings.") + native}};
    return {Kind::Plain, {name}};
  }
  if (startsWith(name, kBlocks)) {
    std::string_view rest = std::string_view(name).substr(kBlocks.size());
    size_t dot = rest.find('.');
    if (dot == std::string_view::npos)
      return {Kind::Plain, {name}};
    std::string layer =
        "vision_model.encoder.layer." + std::string(rest.substr(0, dot + 1));
    std::string inner(rest.substr(dot + 1));
    if (startsWith(inner, "attn.qkv.")) {
      std::string suffix = inner.substr(std::strlen("attn.qkv."));
      Source s{Kind::Concat, {}};
      for (const char *part : {"query.", "key.", "value."})
        s.names.push_back(layer + "attention.attention." + part + suffix);
      return s;
    }
    if (std::optional<std::string> n =
            renamed(inner, "attn.proj.", "attention.output.dense."))
      return {Kind::Plain, {layer + *n}};
    return {Kind::Plain, {layer + inner}};
  }
  return {Kind::Plain, {name}};
}

std::string Checkpoint::storedName(const std::string &name) const {
  return sourceOf(name).names.front();
}

std::optional<std::vector<int64_t>>
Checkpoint::shapeOf(const std::string &name) const {
  Source source = sourceOf(name);
  std::vector<int64_t> shape;
  for (const std::string &part : source.names) {
    const SafetensorsArchive::Entry *entry = tensors->find(part);
    if (!entry)
      return std::nullopt;
    if (shape.empty()) {
      shape = entry->shape;
    } else {
      if (entry->shape.size() != shape.size() || shape.empty())
        return std::nullopt;
      shape[0] += entry->shape[0];
    }
  }
  if (source.kind == Source::Kind::Embedder && shape.size() > 2)
    shape = {shape[0], product(shape, 1)};
  return shape;
}

const void *Checkpoint::view(const std::string &name, DType dtype,
                             const std::vector<int64_t> &shape) const {
  Source source = sourceOf(name);
  if (source.kind != Source::Kind::Plain)
    return nullptr;
  return tensors->view(source.names.front(), dtype, shape);
}

bool Checkpoint::read(const std::string &name, Tensor &out,
                      std::string &error) const {
  Source source = sourceOf(name);
  auto fail = [&]() {
    if (source.names.size() > 1 || source.names.front() != name)
      error += " (the module's '" + name + "', " + towerName() + " layout)";
    return false;
  };
  const std::vector<int64_t> &shape = out.shape();
  switch (source.kind) {
  case Source::Kind::Plain:
    if (!tensors->read(source.names.front(), out, error))
      return fail();
    return true;
  case Source::Kind::Concat: {
    // Equal parts, one after the other along the rows.
    int64_t parts = static_cast<int64_t>(source.names.size());
    std::vector<int64_t> partShape = shape;
    if (partShape.empty() || partShape[0] % parts != 0) {
      error = "module weight '" + name + "' cannot be split into " +
              std::to_string(parts) + " parts";
      return false;
    }
    partShape[0] /= parts;
    auto *dst = static_cast<uint8_t *>(out.data());
    for (const std::string &part : source.names) {
      Tensor piece(out.dtype(), partShape);
      if (!tensors->read(part, piece, error))
        return fail();
      std::memcpy(dst, piece.data(), piece.byteSize());
      dst += piece.byteSize();
    }
    return true;
  }
  case Source::Kind::Embedder: {
    const std::string &stored = source.names.front();
    const SafetensorsArchive::Entry *entry = tensors->find(stored);
    if (!entry || entry->shape.size() <= 2 || shape.size() != 2 ||
        entry->shape[0] != shape[0] || product(entry->shape, 1) != shape[1]) {
      // Not a convolution kernel of the right size: the plain read reports
      // what is wrong.
      if (!tensors->read(stored, out, error))
        return fail();
      return true;
    }
    Tensor kernel(out.dtype(), entry->shape);
    if (!tensors->read(stored, kernel, error))
      return fail();
    const std::vector<int64_t> &k = entry->shape;
    if (k.size() != 5) {
      // [C, k, P, P] (a Conv2d over k = 3 or 3T channels, frame-major) is
      // already in (t, c, y, x) order.
      std::memcpy(out.data(), kernel.data(), out.byteSize());
      return true;
    }
    // A Conv3d kernel [C, 3, T, P, P] -> [C, T, 3, P, P].
    int64_t channels = k[1], frames = k[2], plane = k[3] * k[4];
    size_t element = dtypeSize(out.dtype());
    auto *dst = static_cast<uint8_t *>(out.data());
    const auto *src = static_cast<const uint8_t *>(kernel.data());
    for (int64_t o = 0; o < k[0]; ++o)
      for (int64_t t = 0; t < frames; ++t)
        for (int64_t c = 0; c < channels; ++c) {
          const uint8_t *from =
              src + (((o * channels + c) * frames + t) * plane) * element;
          std::memcpy(dst, from, plane * element);
          dst += plane * element;
        }
    return true;
  }
  }
  return false;
}
