//===- Matmul.cpp - Matmul microkernels of CPU modules --------------------===//
//
// Blocking (the loops of one task, from the outside in):
//
//   task   = kBlockRows rows x all panels of C (or kTaskPanels when there
//            are too few row blocks for the threads)
//   kb     : K in blocks of kDepth (f32) / kDepthBf16 (bf16) elements
//            A's block packed into micro-panels of kRows rows, k-major
//   panel  : the task's panels of 32 columns (B's slice: kDepth x 32, L1)
//   ir     : micro-panels of A (the block stays in L2)
//   kernel : kRows x 32 accumulators in 28 zmm registers over the k-slice
//
// Tasks are independent and each element's k order is fixed by kb and k,
// so the thread count does not change the results.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Matmul.h"
#include "fovea/Runtime/Tensor.h"
#include "fovea/Runtime/ThreadPool.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <immintrin.h>
#include <utility>
#include <vector>

using namespace fovea::rt;

namespace {
constexpr int kRows = 14;
constexpr int64_t kPanel = kMatmulPanel;
constexpr int64_t kBlockRows = kRows * 8;
constexpr int64_t kTaskPanels = 16;
constexpr int64_t kDepth = 512;
constexpr int64_t kDepthBf16 = 512;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// One micro-panel of packed A: `rows` (<= kRows) valid rows, k-major.
/// f32: ap[k * kRows + i]; bf16: pairs, ap[(k / 2) * kRows + i] holding
/// (A[i, k], A[i, k + 1]) in the low and high halves.
template <typename Element> struct Kernel {
  using Fn = void (*)(const Element *ap, const Element *bp, float *c,
                      int64_t ldc, int64_t depth, int64_t columns);
};

//===----------------------------------------------------------------------===//
// Portable kernels (any x86-64; the compiler vectorizes for the baseline).
//===----------------------------------------------------------------------===//

template <int R>
void portableF32(const float *ap, const float *bp, float *c, int64_t ldc,
                 int64_t depth, int64_t columns) {
  float acc[R][kPanel];
  for (int i = 0; i < R; ++i)
    for (int64_t j = 0; j < kPanel; ++j)
      acc[i][j] = j < columns ? c[i * ldc + j] : 0.0f;
  for (int64_t k = 0; k < depth; ++k)
    for (int i = 0; i < R; ++i)
      for (int64_t j = 0; j < kPanel; ++j)
        acc[i][j] =
            __builtin_fmaf(ap[k * kRows + i], bp[k * kPanel + j], acc[i][j]);
  for (int i = 0; i < R; ++i)
    for (int64_t j = 0; j < columns; ++j)
      c[i * ldc + j] = acc[i][j];
}

template <int R>
void portableBf16(const uint16_t *ap, const uint16_t *bp, float *c, int64_t ldc,
                  int64_t depth, int64_t columns) {
  float acc[R][kPanel];
  for (int i = 0; i < R; ++i)
    for (int64_t j = 0; j < kPanel; ++j)
      acc[i][j] = j < columns ? c[i * ldc + j] : 0.0f;
  for (int64_t kk = 0; kk < ceilDiv(depth, 2); ++kk)
    for (int i = 0; i < R; ++i) {
      float even = bf16ToFloat(ap[(kk * kRows + i) * 2]);
      float odd = bf16ToFloat(ap[(kk * kRows + i) * 2 + 1]);
      for (int64_t j = 0; j < kPanel; ++j) {
        const uint16_t *pair = bp + (kk * kPanel + j) * 2;
        acc[i][j] = __builtin_fmaf(odd, bf16ToFloat(pair[1]), acc[i][j]);
        acc[i][j] = __builtin_fmaf(even, bf16ToFloat(pair[0]), acc[i][j]);
      }
    }
  for (int i = 0; i < R; ++i)
    for (int64_t j = 0; j < columns; ++j)
      c[i * ldc + j] = acc[i][j];
}

//===----------------------------------------------------------------------===//
// AVX-512 kernels: kRows x 32 accumulators (28 zmm), B's two vectors per k,
// A broadcast from the packed micro-panel.
//===----------------------------------------------------------------------===//

#define FOVEA_AVX512 __attribute__((target("avx512f")))
#define FOVEA_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512bf16")))
#define FOVEA_INLINE __attribute__((always_inline)) inline

inline __mmask16 lowMask(int64_t count) {
  if (count >= 16)
    return 0xffff;
  return count <= 0 ? 0 : static_cast<__mmask16>((1u << count) - 1);
}

/// The kernel's block of C in registers: R rows of 32 columns as two
/// vectors each, the columns past `columns` masked off in loads and stores.
template <int R> struct CTile {
  __m512 lo[R], hi[R];
  __mmask16 m0, m1;

  FOVEA_AVX512 FOVEA_INLINE void load(const float *c, int64_t ldc,
                                      int64_t columns) {
    m0 = lowMask(columns);
    m1 = lowMask(columns - 16);
    _Pragma("unroll") for (int i = 0; i < R; ++i) {
      lo[i] = _mm512_maskz_loadu_ps(m0, c + i * ldc);
      hi[i] = _mm512_maskz_loadu_ps(m1, c + i * ldc + 16);
    }
  }

  FOVEA_AVX512 FOVEA_INLINE void store(float *c, int64_t ldc) const {
    _Pragma("unroll") for (int i = 0; i < R; ++i) {
      _mm512_mask_storeu_ps(c + i * ldc, m0, lo[i]);
      _mm512_mask_storeu_ps(c + i * ldc + 16, m1, hi[i]);
    }
  }
};

template <int R>
FOVEA_AVX512 void avx512F32(const float *ap, const float *bp, float *c,
                            int64_t ldc, int64_t depth, int64_t columns) {
  CTile<R> tile;
  tile.load(c, ldc, columns);
  __m512 *acc0 = tile.lo, *acc1 = tile.hi;
  for (int64_t k = 0; k < depth; ++k) {
    __m512 b0 = _mm512_loadu_ps(bp + k * kPanel);
    __m512 b1 = _mm512_loadu_ps(bp + k * kPanel + 16);
    _Pragma("unroll") for (int i = 0; i < R; ++i) {
      __m512 a = _mm512_set1_ps(ap[k * kRows + i]);
      acc0[i] = _mm512_fmadd_ps(a, b0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(a, b1, acc1[i]);
    }
  }
  tile.store(c, ldc);
}

/// bf16 without AVX512_BF16: each pair widened, odd k then even k.
template <int R>
FOVEA_AVX512 void avx512Bf16Widen(const uint16_t *ap, const uint16_t *bp,
                                  float *c, int64_t ldc, int64_t depth,
                                  int64_t columns) {
  CTile<R> tile;
  tile.load(c, ldc, columns);
  __m512 *acc0 = tile.lo, *acc1 = tile.hi;
  const __m512i high = _mm512_set1_epi32(static_cast<int>(0xffff0000u));
  const uint32_t *pairs = reinterpret_cast<const uint32_t *>(ap);
  for (int64_t kk = 0; kk < ceilDiv(depth, 2); ++kk) {
    __m512i raw0 = _mm512_loadu_si512(bp + kk * kPanel * 2);
    __m512i raw1 = _mm512_loadu_si512(bp + kk * kPanel * 2 + 32);
    __m512 even0 = _mm512_castsi512_ps(_mm512_slli_epi32(raw0, 16));
    __m512 odd0 = _mm512_castsi512_ps(_mm512_and_si512(raw0, high));
    __m512 even1 = _mm512_castsi512_ps(_mm512_slli_epi32(raw1, 16));
    __m512 odd1 = _mm512_castsi512_ps(_mm512_and_si512(raw1, high));
    _Pragma("unroll") for (int i = 0; i < R; ++i) {
      uint32_t pair = pairs[kk * kRows + i];
      __m512 aEven = _mm512_set1_ps(bf16ToFloat(static_cast<uint16_t>(pair)));
      __m512 aOdd =
          _mm512_set1_ps(bf16ToFloat(static_cast<uint16_t>(pair >> 16)));
      acc0[i] =
          _mm512_fmadd_ps(aEven, even0, _mm512_fmadd_ps(aOdd, odd0, acc0[i]));
      acc1[i] =
          _mm512_fmadd_ps(aEven, even1, _mm512_fmadd_ps(aOdd, odd1, acc1[i]));
    }
  }
  tile.store(c, ldc);
}

template <int R>
FOVEA_AVX512_BF16 void avx512Bf16Dot(const uint16_t *ap, const uint16_t *bp,
                                     float *c, int64_t ldc, int64_t depth,
                                     int64_t columns) {
  CTile<R> tile;
  tile.load(c, ldc, columns);
  __m512 *acc0 = tile.lo, *acc1 = tile.hi;
  const int *pairs = reinterpret_cast<const int *>(ap);
  for (int64_t kk = 0; kk < ceilDiv(depth, 2); ++kk) {
    __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp + kk * kPanel * 2);
    __m512bh b1 = (__m512bh)_mm512_loadu_si512(bp + kk * kPanel * 2 + 32);
    _Pragma("unroll") for (int i = 0; i < R; ++i) {
      __m512bh a = (__m512bh)_mm512_set1_epi32(pairs[kk * kRows + i]);
      acc0[i] = _mm512_dpbf16_ps(acc0[i], a, b0);
      acc1[i] = _mm512_dpbf16_ps(acc1[i], a, b1);
    }
  }
  tile.store(c, ldc);
}

/// The kernels for 1..kRows valid rows.
template <typename Element, template <int> class Family, int... R>
constexpr std::array<typename Kernel<Element>::Fn, kRows>
rowTable(std::integer_sequence<int, R...>) {
  return {Family<R + 1>::fn...};
}

#define FOVEA_KERNEL_FAMILY(NAME, FN)                                          \
  template <int R> struct NAME {                                               \
    static constexpr auto fn = &FN<R>;                                         \
  };
FOVEA_KERNEL_FAMILY(PortableF32, portableF32)
FOVEA_KERNEL_FAMILY(PortableBf16, portableBf16)
FOVEA_KERNEL_FAMILY(Avx512F32, avx512F32)
FOVEA_KERNEL_FAMILY(Avx512Bf16Widen, avx512Bf16Widen)
FOVEA_KERNEL_FAMILY(Avx512Bf16Dot, avx512Bf16Dot)
#undef FOVEA_KERNEL_FAMILY

template <typename Element, template <int> class Family>
const std::array<typename Kernel<Element>::Fn, kRows> &table() {
  static constexpr auto kernels =
      rowTable<Element, Family>(std::make_integer_sequence<int, kRows>());
  return kernels;
}

enum class Isa { Portable, Avx512, Avx512Bf16 };

Isa hostIsa() {
  static const Isa isa = [] {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f"))
      return Isa::Portable;
    if (__builtin_cpu_supports("avx512bf16") &&
        __builtin_cpu_supports("avx512bw"))
      return Isa::Avx512Bf16;
    return Isa::Avx512;
  }();
  return isa;
}

//===----------------------------------------------------------------------===//
// Packing of A and the task loop.
//===----------------------------------------------------------------------===//

/// Packs rows [0, rows) and columns [k0, k0 + depth) of A into micro-panels
/// (rows past `rows` are zero).
void packA(const float *a, int64_t lda, int64_t rows, int64_t k0, int64_t depth,
           float *ap) {
  for (int64_t p = 0; p < ceilDiv(rows, kRows); ++p) {
    float *panel = ap + p * depth * kRows;
    int64_t valid = std::min<int64_t>(kRows, rows - p * kRows);
    const float *first = a + p * kRows * lda + k0;
    if (valid == kRows) {
      // Contiguous writes, kRows read streams.
      for (int64_t k = 0; k < depth; ++k)
        for (int i = 0; i < kRows; ++i)
          panel[k * kRows + i] = first[i * lda + k];
      continue;
    }
    for (int64_t k = 0; k < depth; ++k)
      for (int i = 0; i < kRows; ++i)
        panel[k * kRows + i] = i < valid ? first[i * lda + k] : 0.0f;
  }
}

/// The same for bf16 pairs; `kEnd` is K (the element past it reads as 0).
void packA(const uint16_t *a, int64_t lda, int64_t rows, int64_t k0,
           int64_t depth, int64_t kEnd, uint16_t *ap) {
  int64_t pairs = ceilDiv(depth, 2);
  for (int64_t p = 0; p < ceilDiv(rows, kRows); ++p) {
    uint16_t *panel = ap + p * pairs * kRows * 2;
    for (int i = 0; i < kRows; ++i) {
      int64_t r = p * kRows + i;
      const uint16_t *row = a + r * lda;
      uint16_t *slot = panel + i * 2;
      if (r >= rows) {
        for (int64_t kk = 0; kk < pairs; ++kk)
          std::memset(slot + kk * kRows * 2, 0, 2 * sizeof(uint16_t));
        continue;
      }
      // Whole pairs, then the lone last element of an odd K.
      int64_t whole = std::min(pairs, (kEnd - k0) / 2);
      for (int64_t kk = 0; kk < whole; ++kk)
        std::memcpy(slot + kk * kRows * 2, row + k0 + 2 * kk,
                    2 * sizeof(uint16_t));
      for (int64_t kk = whole; kk < pairs; ++kk) {
        slot[kk * kRows * 2] = row[k0 + 2 * kk];
        slot[kk * kRows * 2 + 1] = 0;
      }
    }
  }
}

template <typename Element> struct Problem {
  const Element *a;
  int64_t lda;
  const Element *b;
  float *c;
  int64_t ldc, m, n, k;
  const std::array<typename Kernel<Element>::Fn, kRows> *kernels;
  /// Panels of C per task.
  int64_t taskPanels = kTaskPanels;
};

template <typename Element> void runTask(const Problem<Element> &p, int64_t t) {
  constexpr bool isBf16 = sizeof(Element) == 2;
  constexpr int64_t depthStep = isBf16 ? kDepthBf16 : kDepth;
  int64_t mBlocks = ceilDiv(p.m, kBlockRows);
  int64_t row0 = (t % mBlocks) * kBlockRows;
  int64_t panel0 = (t / mBlocks) * p.taskPanels;
  int64_t rows = std::min(kBlockRows, p.m - row0);
  int64_t panelEnd = std::min(panel0 + p.taskPanels, ceilDiv(p.n, kPanel));
  // B's panel stride: K rows (f32), ceil(K / 2) pairs (bf16).
  int64_t panelStride = (isBf16 ? ceilDiv(p.k, 2) * 2 : p.k) * kPanel;
  // The packed block of A (230 KB: per thread, not on the caller's stack).
  static thread_local std::vector<Element> block(kBlockRows * depthStep);
  Element *ap = block.data();
  for (int64_t k0 = 0; k0 < p.k; k0 += depthStep) {
    int64_t depth = std::min(depthStep, p.k - k0);
    if constexpr (isBf16)
      packA(p.a + row0 * p.lda, p.lda, rows, k0, depth, p.k, ap);
    else
      packA(p.a + row0 * p.lda, p.lda, rows, k0, depth, ap);
    int64_t panelDepth = isBf16 ? ceilDiv(depth, 2) * 2 : depth;
    for (int64_t panel = panel0; panel < panelEnd; ++panel) {
      const Element *bp = p.b + panel * panelStride + k0 * kPanel;
      int64_t columns = std::min(kPanel, p.n - panel * kPanel);
      for (int64_t r = 0; r < rows; r += kRows) {
        int64_t valid = std::min<int64_t>(kRows, rows - r);
        float *c = p.c + (row0 + r) * p.ldc + panel * kPanel;
        (*p.kernels)[valid - 1](ap + r * panelDepth, bp, c, p.ldc, depth,
                                columns);
      }
    }
  }
}

template <typename Element> void run(const Problem<Element> &p) {
  if (p.m <= 0 || p.n <= 0 || p.k <= 0)
    return;
  // Row blocks alone when there are enough of them for the threads (A is
  // then packed once per block); otherwise the panels are split too.
  int64_t mBlocks = ceilDiv(p.m, kBlockRows), panels = ceilDiv(p.n, kPanel);
  Problem<Element> split = p;
  split.taskPanels =
      mBlocks >= 4 * numThreads() ? panels : std::min(panels, kTaskPanels);
  int64_t tasks = mBlocks * ceilDiv(panels, split.taskPanels);
  parallelFor(tasks, [&](int64_t t) { runTask(split, t); });
}
} // namespace

const char *fovea::rt::matmulKernelName(bool bf16) {
  switch (hostIsa()) {
  case Isa::Portable:
    return "portable";
  case Isa::Avx512:
    return "avx512";
  case Isa::Avx512Bf16:
    return bf16 ? "avx512-bf16" : "avx512";
  }
  return "portable";
}

extern "C" void fovea_matmul_f32(const float *a, int64_t lda, const float *b,
                                 float *c, int64_t ldc, int64_t m, int64_t n,
                                 int64_t k) {
  Problem<float> p{a, lda, b, c, ldc, m, n, k, nullptr};
  p.kernels = hostIsa() == Isa::Portable ? &table<float, PortableF32>()
                                         : &table<float, Avx512F32>();
  run(p);
}

extern "C" void fovea_matmul_bf16(const uint16_t *a, int64_t lda,
                                  const uint16_t *b, float *c, int64_t ldc,
                                  int64_t m, int64_t n, int64_t k) {
  Problem<uint16_t> p{a, lda, b, c, ldc, m, n, k, nullptr};
  switch (hostIsa()) {
  case Isa::Portable:
    p.kernels = &table<uint16_t, PortableBf16>();
    break;
  case Isa::Avx512:
    p.kernels = &table<uint16_t, Avx512Bf16Widen>();
    break;
  case Isa::Avx512Bf16:
    p.kernels = &table<uint16_t, Avx512Bf16Dot>();
    break;
  }
  run(p);
}
