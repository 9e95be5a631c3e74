//===- Tensor.h - Host tensors of the runtime -------------------*- C++ -*-===//
//
// Element types, an owning host tensor with aligned storage, and element
// conversions between the float storage types.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_RUNTIME_TENSOR_H
#define FOVEA_RUNTIME_TENSOR_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fovea::rt {

enum class DType { F32, F16, BF16, U8, I32, I64 };

size_t dtypeSize(DType type);
/// "f32", "f16", "bf16", "u8", "i32", "i64".
const char *dtypeName(DType type);
std::optional<DType> parseDTypeName(std::string_view name);
bool isFloat(DType type);

/// `shape` as "[2, 3, 4]".
std::string formatShape(const std::vector<int64_t> &shape);

/// bf16 bits widened to f32 (exact).
inline float bf16ToFloat(uint16_t bits) {
  uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &wide, sizeof(f));
  return f;
}

/// f32 rounded to the nearest bf16, ties to even; NaN stays a quiet NaN.
inline uint16_t floatToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((bits >> 16) | 0x40);
  uint32_t rounding = 0x7FFF + ((bits >> 16) & 1);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

/// An owning tensor in host memory, 64-byte aligned, row-major.
class Tensor {
public:
  Tensor() = default;
  Tensor(DType type, std::vector<int64_t> shape);

  DType dtype() const { return type; }
  const std::vector<int64_t> &shape() const { return dims; }
  size_t numElements() const;
  size_t byteSize() const { return numElements() * dtypeSize(type); }
  void *data() { return storage.get(); }
  const void *data() const { return storage.get(); }

private:
  struct Free {
    void operator()(void *p) const { std::free(p); }
  };
  DType type = DType::F32;
  std::vector<int64_t> dims;
  std::unique_ptr<void, Free> storage;
};

/// Converts `count` float elements (f32, f16, bf16) from `from` to `to`,
/// rounding to nearest even when narrowing. Returns false for non-float
/// types unless `from == to` (a copy).
bool convertElements(const void *src, DType from, void *dst, DType to,
                     size_t count);

} // namespace fovea::rt

#endif // FOVEA_RUNTIME_TENSOR_H
