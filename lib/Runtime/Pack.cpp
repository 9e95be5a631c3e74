//===- Pack.cpp - Packing of matmul weights in CPU modules ----------------===//
//
// fovea_pack_copy writes a contiguous rank-4 buffer from a strided view of
// its source: the transposition that turns a weight into the microkernels'
// panels (fovea-cpu-pack-matmuls). Innermost dimensions that are contiguous
// in both are merged into one run copied at once; the outer dimensions are
// spread over the module's threads, each task writing its own part of dst.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Matmul.h"
#include "fovea/Runtime/Safetensors.h"
#include "fovea/Runtime/ThreadPool.h"

#include <algorithm>
#include <array>
#include <cstring>

using namespace fovea::rt;

namespace {
/// Copies `count` runs of `bytes` bytes, `stride` bytes apart in the
/// source, to consecutive places of the destination.
void gather(const char *src, char *dst, int64_t count, int64_t stride,
            int64_t bytes) {
  switch (bytes) {
  case 2:
    for (int64_t i = 0; i < count; ++i)
      std::memcpy(dst + i * 2, src + i * stride, 2);
    return;
  case 4:
    for (int64_t i = 0; i < count; ++i)
      std::memcpy(dst + i * 4, src + i * stride, 4);
    return;
  case 8:
    for (int64_t i = 0; i < count; ++i)
      std::memcpy(dst + i * 8, src + i * stride, 8);
    return;
  default:
    for (int64_t i = 0; i < count; ++i)
      std::memcpy(dst + i * bytes, src + i * stride, bytes);
  }
}
} // namespace

extern "C" void fovea_pack_copy(const void *src, void *dst,
                                int64_t elementBytes, int64_t d0, int64_t d1,
                                int64_t d2, int64_t d3, int64_t s0, int64_t s1,
                                int64_t s2, int64_t s3) {
  std::array<int64_t, 4> size = {d0, d1, d2, d3};
  std::array<int64_t, 4> stride = {s0, s1, s2, s3};
  for (int64_t d : size)
    if (d <= 0)
      return;
  for (int64_t &s : stride)
    s *= elementBytes;
  // Merge the innermost dimensions while the source is contiguous over
  // them: `run` bytes are copied at once.
  int64_t run = elementBytes;
  int inner = 4;
  while (inner > 0 && (size[inner - 1] == 1 || stride[inner - 1] == run)) {
    run *= size[inner - 1];
    --inner;
  }
  // Dimensions [0, inner) remain; the last of them is gathered, the others
  // are loops. The tasks split the outermost one or two.
  int64_t outer = 1, outerDims = 0;
  int threads = numThreads();
  while (outerDims < inner - 1 && outer < 8 * threads)
    outer *= size[outerDims++];
  const char *from = static_cast<const char *>(src);
  char *to = static_cast<char *>(dst);
  // Bytes of dst per index of the task dimensions.
  int64_t taskBytes = run;
  for (int i = outerDims; i < inner; ++i)
    taskBytes *= size[i];
  parallelFor(outer, [&](int64_t task) {
    std::array<int64_t, 4> index = {0, 0, 0, 0};
    int64_t rest = task;
    for (int64_t i = outerDims - 1; i >= 0; --i) {
      index[i] = rest % size[i];
      rest /= size[i];
    }
    const char *base = from;
    for (int64_t i = 0; i < outerDims; ++i)
      base += index[i] * stride[i];
    char *out = to + task * taskBytes;
    if (inner == 0 || inner == outerDims) {
      std::memcpy(out, base, taskBytes);
      return;
    }
    // Loops over [outerDims, inner - 1), a gather along inner - 1.
    int last = inner - 1;
    int64_t loops = 1;
    for (int i = outerDims; i < last; ++i)
      loops *= size[i];
    for (int64_t l = 0; l < loops; ++l) {
      const char *p = base;
      int64_t r = l;
      for (int i = last - 1; i >= outerDims; --i) {
        p += (r % size[i]) * stride[i];
        r /= size[i];
      }
      gather(p, out, size[last], stride[last], run);
      out += size[last] * run;
    }
  });
  // A weight read in place from the checkpoint is not read again once
  // packed: its pages go back to the kernel now, not when the checkpoint
  // is closed, so the originals and the packed copy are never all
  // resident together.
  int64_t extent = elementBytes;
  for (int i = 0; i < 4; ++i)
    extent += (size[i] - 1) * stride[i];
  dropMappedPages(src, static_cast<size_t>(extent));
}
