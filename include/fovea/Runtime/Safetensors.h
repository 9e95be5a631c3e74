//===- Safetensors.h - Memory-mapped safetensors checkpoints ----*- C++ -*-===//
//
// Reads Hugging Face safetensors checkpoints: one file, or shards listed by
// `model.safetensors.index.json`. Files are memory-mapped and only the
// tensors asked for are touched; headers, dtypes, shapes and offsets are
// checked, and errors name the file and the tensor.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_RUNTIME_SAFETENSORS_H
#define FOVEA_RUNTIME_SAFETENSORS_H

#include "fovea/Runtime/Tensor.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fovea::rt {

class SafetensorsArchive {
public:
  struct Entry {
    std::string file;
    DType dtype;
    std::vector<int64_t> shape;
    const uint8_t *data;
    size_t size;
  };

  /// Opens `path`: a `.safetensors` file, a `model.safetensors.index.json`,
  /// or a directory holding either (the index wins, then
  /// `model.safetensors`, then a single `*.safetensors` file).
  static std::unique_ptr<SafetensorsArchive> open(const std::string &path,
                                                  std::string &error);
  ~SafetensorsArchive();

  const Entry *find(const std::string &name) const;
  /// The first tensor name (in sorted order) that starts with `prefix`.
  const std::string *firstWithPrefix(const std::string &prefix) const;

  /// Copies tensor `name` into `out`, converting float types to
  /// `out.dtype()`; its shape must equal `out.shape()`.
  bool read(const std::string &name, Tensor &out, std::string &error) const;

  size_t size() const { return entries.size(); }

private:
  SafetensorsArchive() = default;
  bool addFile(const std::string &file, std::string &error);

  struct Mapping {
    void *base;
    size_t size;
  };
  std::vector<Mapping> mappings;
  std::map<std::string, Entry> entries;
};

} // namespace fovea::rt

#endif // FOVEA_RUNTIME_SAFETENSORS_H
