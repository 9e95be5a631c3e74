//===- Tensor.cpp - Host tensors of the runtime ---------------------------===//
//
// Element sizes and names, aligned storage, and float conversions.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Tensor.h"

#include <cmath>
#include <cstring>

using namespace fovea::rt;

size_t fovea::rt::dtypeSize(DType type) {
  switch (type) {
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::U8:
    return 1;
  case DType::I64:
    return 8;
  }
  return 0;
}

const char *fovea::rt::dtypeName(DType type) {
  switch (type) {
  case DType::F32:
    return "f32";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::U8:
    return "u8";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  }
  return "?";
}

std::optional<DType> fovea::rt::parseDTypeName(std::string_view name) {
  for (DType t :
       {DType::F32, DType::F16, DType::BF16, DType::U8, DType::I32, DType::I64})
    if (name == dtypeName(t))
      return t;
  return std::nullopt;
}

bool fovea::rt::isFloat(DType type) {
  return type == DType::F32 || type == DType::F16 || type == DType::BF16;
}

std::string fovea::rt::formatShape(const std::vector<int64_t> &shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

Tensor::Tensor(DType type, std::vector<int64_t> shape)
    : type(type), dims(std::move(shape)) {
  size_t bytes = std::max<size_t>(byteSize(), 1);
  size_t rounded = (bytes + 63) / 64 * 64;
  storage.reset(std::aligned_alloc(64, rounded));
}

size_t Tensor::numElements() const {
  size_t n = 1;
  for (int64_t d : dims)
    n *= static_cast<size_t>(d);
  return n;
}

static float f16ToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1F;
  uint32_t mantissa = h & 0x3FF;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else { // subnormal: normalize
      exponent = 127 - 15 + 1;
      while (!(mantissa & 0x400)) {
        mantissa <<= 1;
        --exponent;
      }
      mantissa &= 0x3FF;
      bits = sign | (exponent << 23) | (mantissa << 13);
    }
  } else if (exponent == 31) {
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

static uint16_t floatToF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint32_t sign = (bits >> 16) & 0x8000u;
  if (std::isnan(f))
    return static_cast<uint16_t>(sign | 0x7E00);
  float a = std::fabs(f);
  if (a >= 65520.0f)
    return static_cast<uint16_t>(sign | 0x7C00);
  if (a < 6.103515625e-05f) // subnormal range: round to a multiple of 2^-24
    return static_cast<uint16_t>(
        sign | static_cast<uint32_t>(std::nearbyint(a * 16777216.0f)));
  uint32_t exponent = ((bits >> 23) & 0xFF) - 127 + 15;
  uint32_t mantissa = bits & 0x7FFFFF;
  uint32_t half = (exponent << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1FFF;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half;
  return static_cast<uint16_t>(sign | half);
}

bool fovea::rt::convertElements(const void *src, DType from, void *dst,
                                DType to, size_t count) {
  if (from == to) {
    std::memcpy(dst, src, count * dtypeSize(from));
    return true;
  }
  if (!isFloat(from) || !isFloat(to))
    return false;
  // `src` may be a checkpoint's bytes at any offset: loads go through
  // memcpy, which has no alignment requirement (and compiles to a plain
  // load where the target allows unaligned ones).
  const auto *bytes = static_cast<const unsigned char *>(src);
  auto load = [&](size_t i) -> float {
    if (from == DType::F32) {
      float f;
      std::memcpy(&f, bytes + 4 * i, 4);
      return f;
    }
    uint16_t half;
    std::memcpy(&half, bytes + 2 * i, 2);
    return from == DType::BF16 ? bf16ToFloat(half) : f16ToFloat(half);
  };
  for (size_t i = 0; i < count; ++i) {
    float v = load(i);
    switch (to) {
    case DType::F32:
      static_cast<float *>(dst)[i] = v;
      break;
    case DType::BF16:
      static_cast<uint16_t *>(dst)[i] = floatToBf16(v);
      break;
    default:
      static_cast<uint16_t *>(dst)[i] = floatToF16(v);
      break;
    }
  }
  return true;
}
