//===- RunnerUtils.cpp - The C helpers lowered code calls -----------------===//
//
// The one function of MLIR's C runner utilities that Fovea's lowered code
// calls (`memrefCopy`, from memref.copy of non-contiguous or dynamic
// memrefs), provided by the runtime so that artifacts depend on libc and
// libstdc++ only, not on libmlir_c_runner_utils and through it on libMLIR
// and libLLVM. The ABI is MLIR's: the element size and two unranked memref
// descriptors {rank, pointer to {allocated, aligned, offset, sizes[rank],
// strides[rank]}}.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstring>
#include <vector>

namespace {
struct UnrankedMemRef {
  int64_t rank;
  void *descriptor;
};

/// The aligned pointer, offset, sizes and strides of a ranked descriptor.
struct View {
  char *data;
  int64_t offset;
  const int64_t *sizes;
  const int64_t *strides;

  explicit View(const UnrankedMemRef &m) {
    auto *pointers = static_cast<char **>(m.descriptor);
    data = pointers[1];
    auto *words = reinterpret_cast<const int64_t *>(pointers + 2);
    offset = words[0];
    sizes = words + 1;
    strides = words + 1 + m.rank;
  }
};
} // namespace

extern "C" void memrefCopy(int64_t elementSize, UnrankedMemRef *source,
                           UnrankedMemRef *target) {
  int64_t rank = source->rank;
  View src(*source), dst(*target);
  char *from = src.data + src.offset * elementSize;
  char *to = dst.data + dst.offset * elementSize;
  if (rank == 0) {
    std::memcpy(to, from, elementSize);
    return;
  }
  for (int64_t d = 0; d < rank; ++d)
    if (src.sizes[d] == 0)
      return;
  // The longest row-major contiguous tail both sides share moves in one
  // memcpy per position of the outer dimensions.
  int64_t inner = rank, run = 1;
  while (inner > 0 && src.strides[inner - 1] == run &&
         dst.strides[inner - 1] == run) {
    --inner;
    run *= src.sizes[inner];
  }
  size_t bytes = static_cast<size_t>(run * elementSize);
  if (inner == 0) {
    std::memcpy(to, from, bytes);
    return;
  }
  std::vector<int64_t> index(inner, 0);
  int64_t srcOffset = 0, dstOffset = 0;
  while (true) {
    std::memcpy(to + dstOffset * elementSize, from + srcOffset * elementSize,
                bytes);
    // Odometer increment of the outer index.
    int64_t d = inner - 1;
    for (; d >= 0; --d) {
      srcOffset += src.strides[d];
      dstOffset += dst.strides[d];
      if (++index[d] < src.sizes[d])
        break;
      srcOffset -= src.strides[d] * src.sizes[d];
      dstOffset -= dst.strides[d] * dst.sizes[d];
      index[d] = 0;
    }
    if (d < 0)
      return;
  }
}

// f32 -> bf16 rounding as a library call: what LLVM emits for fptrunc to
// bfloat when the target CPU has no AVX512_BF16 (--target-cpu x86-64), and
// which older compiler runtimes (libgcc before GCC 13) lack. Round to
// nearest even; NaNs stay quiet NaNs.
extern "C" __bf16 __truncsfbf2(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  uint16_t out;
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    out = static_cast<uint16_t>((bits >> 16) | 0x40);
  else
    out = static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1)) >> 16);
  __bf16 result;
  std::memcpy(&result, &out, sizeof(result));
  return result;
}
