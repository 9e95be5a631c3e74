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
  /// Tensor `name` in place: its bytes in the mapping when it is stored as
  /// `dtype` with `shape` at an address aligned for its elements (valid
  /// while the archive lives), else nullptr (read() copies and converts,
  /// or says what differs).
  const void *view(const std::string &name, DType dtype,
                   const std::vector<int64_t> &shape) const;

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

/// Gives the whole pages of [data, data + bytes) back to the kernel when
/// the range lies in the mapping of an open checkpoint: the process's
/// resident memory shrinks, and a later read faults the pages in again from
/// the file (the mappings are private and never written, so the bytes are
/// the same). Any other range is left alone.
void dropMappedPages(const void *data, size_t bytes);

} // namespace fovea::rt

#endif // FOVEA_RUNTIME_SAFETENSORS_H
