//===- Matmul.cpp - Matmul microkernels of CPU modules --------------------===//
//
// Blocking (the loops of one task, from the outside in), sized per kernel
// family (KernelSet: AVX-512 and portable 14-row micro-panels, 112-row
// blocks, K blocks of 512 (the bf16 dot kernel: 1024, and K up to 2048 in
// one block); AVX2 6-row micro-panels, 96-row blocks, K blocks of 256):
//
//   task   = blockRows rows x all panels of C (or kTaskPanels when there
//            are too few row blocks for the threads)
//   kb     : K in blocks of `depth` elements; A's block packed into
//            micro-panels of `rows` rows, k-major
//   panel  : the task's panels of 32 columns (B's slice: depth x 32, L1)
//   half   : AVX2 only: the panel's two halves of 16 columns
//   ir     : micro-panels of A (the block stays in L2)
//   kernel : rows x width accumulators in registers over the k-slice
//            (AVX-512: 14 x 32 in 28 zmm; AVX2: 6 x 16 in 12 ymm)
//
// bf16 on a CPU whose kernels take f32 only (AVX2) widens both operands to
// f32 as it packs them (A's block, and each panel's slice into a
// per-thread buffer), with the two elements of each pair swapped so the
// f32 kernel adds the odd k before the even k as the bf16 kernels do.
//
// AMX (bf16): 32-row micro-panels packed as tiles, 32 x 32 blocks of C in
// four tiles, K blocks of 1024 (K up to 2048 in one), 128-row blocks. Tiles are
// not renamed, so each call drains the tile pipeline (C's tiles stored, the
// next call's loaded): K blocks four times those of the vector kernels amortize
// that. The operands are in L2 at that depth; the kernel prefetches each step's
// tiles two steps ahead.
//
// Tasks are independent and each element's k order is fixed by kb and k,
// so the thread count does not change the results; every family but AMX
// adds the same products in the same order, so neither does the CPU
// (except vdpbf16ps' denormal flushing and AMX's own order, Matmul.h).
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Matmul.h"
#include "fovea/Runtime/Tensor.h"
#include "fovea/Runtime/ThreadPool.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <immintrin.h>
#include <optional>
#include <sys/syscall.h>
#include <type_traits>
#include <unistd.h>
#include <utility>
#include <vector>

using namespace fovea::rt;

namespace {
constexpr int64_t kPanel = kMatmulPanel;
constexpr int64_t kHalf = kPanel / 2;
constexpr int kMaxRows = 32;
constexpr int64_t kTaskPanels = 16;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// One call: C[rows, columns] += A's micro-panel * B's slice over `depth`
/// (bf16: pairs, `depth` even). A's micro-panel is k-major with MR rows:
/// f32 ap[k * MR + i]; bf16 ap[((k / 2) * MR + i) * 2 + k % 2]. B's slice
/// has a row of kPanel elements (bf16: pairs) per k.
template <typename Element>
using KernelFn = void (*)(const Element *ap, const Element *bp, float *c,
                          int64_t ldc, int64_t depth, int64_t columns);

/// A family of kernels and the blocking they are sized for.
template <typename Element> struct KernelSet {
  /// The kernel for `valid` rows of a micro-panel at [valid - 1].
  std::array<KernelFn<Element>, kMaxRows> byRows;
  /// Rows of a micro-panel (MR), columns of C per call (kPanel or half of
  /// it), K block, rows of a task.
  int rows;
  int64_t width, depth, blockRows;
  /// Called on the task's thread before its first kernel call and after
  /// its last (AMX: the tile configuration), where a family needs it.
  void (*begin)() = nullptr;
  void (*end)() = nullptr;
  /// A K up to this is one block (0: none), for kernels whose calls cost
  /// most at their ends (AMX: C's tiles loaded and stored).
  int64_t wholeDepth = 0;

  /// The K block of a matmul of depth `k`.
  int64_t blockDepth(int64_t k) const { return k <= wholeDepth ? k : depth; }
};

template <typename Element, int MR, template <int, int> class Kernel, int... R>
constexpr std::array<KernelFn<Element>, kMaxRows>
rowTable(std::integer_sequence<int, R...>) {
  return {&Kernel<MR, R + 1>::run...};
}

template <typename Element, int MR, template <int, int> class Kernel>
constexpr KernelSet<Element>
kernelSet(int64_t width, int64_t depth, int64_t blockRows,
          void (*begin)() = nullptr, void (*end)() = nullptr,
          int64_t wholeDepth = 0) {
  return {rowTable<Element, MR, Kernel>(std::make_integer_sequence<int, MR>()),
          MR,
          width,
          depth,
          blockRows,
          begin,
          end,
          wholeDepth};
}

//===----------------------------------------------------------------------===//
// Portable kernels (any x86-64; the compiler vectorizes for the baseline).
//===----------------------------------------------------------------------===//

template <int MR, int R> struct PortableF32 {
  static void run(const float *ap, const float *bp, float *c, int64_t ldc,
                  int64_t depth, int64_t columns) {
    float acc[R][kPanel];
    for (int i = 0; i < R; ++i)
      for (int64_t j = 0; j < kPanel; ++j)
        acc[i][j] = j < columns ? c[i * ldc + j] : 0.0f;
    for (int64_t k = 0; k < depth; ++k)
      for (int i = 0; i < R; ++i)
        for (int64_t j = 0; j < kPanel; ++j)
          acc[i][j] =
              __builtin_fmaf(ap[k * MR + i], bp[k * kPanel + j], acc[i][j]);
    for (int i = 0; i < R; ++i)
      for (int64_t j = 0; j < columns; ++j)
        c[i * ldc + j] = acc[i][j];
  }
};

template <int MR, int R> struct PortableBf16 {
  static void run(const uint16_t *ap, const uint16_t *bp, float *c, int64_t ldc,
                  int64_t depth, int64_t columns) {
    float acc[R][kPanel];
    for (int i = 0; i < R; ++i)
      for (int64_t j = 0; j < kPanel; ++j)
        acc[i][j] = j < columns ? c[i * ldc + j] : 0.0f;
    for (int64_t kk = 0; kk < depth / 2; ++kk)
      for (int i = 0; i < R; ++i) {
        float even = bf16ToFloat(ap[(kk * MR + i) * 2]);
        float odd = bf16ToFloat(ap[(kk * MR + i) * 2 + 1]);
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
};

//===----------------------------------------------------------------------===//
// AVX-512 kernels: 14 x 32 accumulators (28 zmm), B's two vectors per k,
// A broadcast from the packed micro-panel.
//===----------------------------------------------------------------------===//

#define FOVEA_AVX2 __attribute__((target("avx2,fma")))
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

template <int MR, int R> struct Avx512F32 {
  FOVEA_AVX512 static void run(const float *ap, const float *bp, float *c,
                               int64_t ldc, int64_t depth, int64_t columns) {
    CTile<R> tile;
    tile.load(c, ldc, columns);
    __m512 *acc0 = tile.lo, *acc1 = tile.hi;
    for (int64_t k = 0; k < depth; ++k) {
      __m512 b0 = _mm512_loadu_ps(bp + k * kPanel);
      __m512 b1 = _mm512_loadu_ps(bp + k * kPanel + 16);
      _Pragma("unroll") for (int i = 0; i < R; ++i) {
        __m512 a = _mm512_set1_ps(ap[k * MR + i]);
        acc0[i] = _mm512_fmadd_ps(a, b0, acc0[i]);
        acc1[i] = _mm512_fmadd_ps(a, b1, acc1[i]);
      }
    }
    tile.store(c, ldc);
  }
};

/// bf16 without AVX512_BF16: each pair widened, odd k then even k.
template <int MR, int R> struct Avx512Bf16Widen {
  FOVEA_AVX512 static void run(const uint16_t *ap, const uint16_t *bp, float *c,
                               int64_t ldc, int64_t depth, int64_t columns) {
    CTile<R> tile;
    tile.load(c, ldc, columns);
    __m512 *acc0 = tile.lo, *acc1 = tile.hi;
    const __m512i high = _mm512_set1_epi32(static_cast<int>(0xffff0000u));
    const uint32_t *pairs = reinterpret_cast<const uint32_t *>(ap);
    for (int64_t kk = 0; kk < depth / 2; ++kk) {
      __m512i raw0 = _mm512_loadu_si512(bp + kk * kPanel * 2);
      __m512i raw1 = _mm512_loadu_si512(bp + kk * kPanel * 2 + 32);
      __m512 even0 = _mm512_castsi512_ps(_mm512_slli_epi32(raw0, 16));
      __m512 odd0 = _mm512_castsi512_ps(_mm512_and_si512(raw0, high));
      __m512 even1 = _mm512_castsi512_ps(_mm512_slli_epi32(raw1, 16));
      __m512 odd1 = _mm512_castsi512_ps(_mm512_and_si512(raw1, high));
      _Pragma("unroll") for (int i = 0; i < R; ++i) {
        uint32_t pair = pairs[kk * MR + i];
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
};

template <int MR, int R> struct Avx512Bf16Dot {
  FOVEA_AVX512_BF16 static void run(const uint16_t *ap, const uint16_t *bp,
                                    float *c, int64_t ldc, int64_t depth,
                                    int64_t columns) {
    CTile<R> tile;
    tile.load(c, ldc, columns);
    __m512 *acc0 = tile.lo, *acc1 = tile.hi;
    const int *pairs = reinterpret_cast<const int *>(ap);
    for (int64_t kk = 0; kk < depth / 2; ++kk) {
      __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp + kk * kPanel * 2);
      __m512bh b1 = (__m512bh)_mm512_loadu_si512(bp + kk * kPanel * 2 + 32);
      _Pragma("unroll") for (int i = 0; i < R; ++i) {
        __m512bh a = (__m512bh)_mm512_set1_epi32(pairs[kk * MR + i]);
        acc0[i] = _mm512_dpbf16_ps(acc0[i], a, b0);
        acc1[i] = _mm512_dpbf16_ps(acc1[i], a, b1);
      }
    }
    tile.store(c, ldc);
  }
};

//===----------------------------------------------------------------------===//
// AVX2 kernel: 6 x 16 accumulators (12 ymm) over half a panel, B's two
// vectors per k, A broadcast from memory: 15 of the 16 ymm registers.
//===----------------------------------------------------------------------===//

/// Lanes [0, count) of 8 set.
FOVEA_AVX2 FOVEA_INLINE __m256i laneMask(int64_t count) {
  int clamped = static_cast<int>(std::clamp<int64_t>(count, 0, 8));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(clamped),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

template <int MR, int R> struct Avx2F32 {
  FOVEA_AVX2 static void run(const float *ap, const float *bp, float *c,
                             int64_t ldc, int64_t depth, int64_t columns) {
    __m256 lo[R], hi[R];
    __m256i m0 = laneMask(columns), m1 = laneMask(columns - 8);
    bool whole = columns >= 16;
    _Pragma("unroll") for (int i = 0; i < R; ++i) {
      lo[i] = whole ? _mm256_loadu_ps(c + i * ldc)
                    : _mm256_maskload_ps(c + i * ldc, m0);
      hi[i] = whole ? _mm256_loadu_ps(c + i * ldc + 8)
                    : _mm256_maskload_ps(c + i * ldc + 8, m1);
    }
    // The next call's block of C (the next micro-panel's rows) is on its
    // way from L2 or L3 while this one computes.
    _Pragma("unroll") for (int i = 0; i < R; ++i) {
      _mm_prefetch(reinterpret_cast<const char *>(c + (MR + i) * ldc),
                   _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char *>(c + (MR + i) * ldc + 15),
                   _MM_HINT_T0);
    }
    for (int64_t k = 0; k < depth; ++k) {
      __m256 b0 = _mm256_loadu_ps(bp + k * kHalf);
      __m256 b1 = _mm256_loadu_ps(bp + k * kHalf + 8);
      _Pragma("unroll") for (int i = 0; i < R; ++i) {
        __m256 a = _mm256_broadcast_ss(ap + k * MR + i);
        lo[i] = _mm256_fmadd_ps(a, b0, lo[i]);
        hi[i] = _mm256_fmadd_ps(a, b1, hi[i]);
      }
    }
    _Pragma("unroll") for (int i = 0; i < R; ++i) {
      if (whole) {
        _mm256_storeu_ps(c + i * ldc, lo[i]);
        _mm256_storeu_ps(c + i * ldc + 8, hi[i]);
      } else {
        _mm256_maskstore_ps(c + i * ldc, m0, lo[i]);
        _mm256_maskstore_ps(c + i * ldc + 8, m1, hi[i]);
      }
    }
  }
};

//===----------------------------------------------------------------------===//
// AMX kernel (bf16): a 32 x 32 block of C in four 16 x 16 f32 tiles, two
// tiles of A (16 rows x 32 k each) and two of B (16 pairs x 16 columns) per
// 32 k. A's micro-panels are packed as whole tiles (packATiles); B's tiles
// are read in place from the packed panel, whose pair rows are 128 bytes
// apart. Each pair of tile dot products covers one panel.
//===----------------------------------------------------------------------===//

#define FOVEA_AMX                                                              \
  __attribute__((target("avx512f,avx512bw,avx512bf16,amx-tile,amx-bf16")))

/// The k elements of one AMX tile row (64 bytes of bf16).
constexpr int64_t kAmxDepth = 32;

/// How many 32-k steps ahead the AMX kernel prefetches its operands. Its
/// A micro-panel and B slice (64 KB each at K blocks of 1024) are in L2,
/// not L1, and a tile load from L2 stalls the tile dot products behind it;
/// the prefetches bring them to L1 first (the six ViT-H shapes of
/// cpu_gemm.py: 1.10-1.27x the GFLOP/s without on one thread, 1.20-1.36x on
/// two, medians of paired runs).
constexpr int64_t kAmxPrefetchSteps = 2;

/// Prefetches into L1 the two tiles (2 KB) of one step's operand that
/// start `ahead` elements after `p`. The last steps of a call reach past
/// the operand's buffer: the address is computed as an integer, and a
/// prefetch of an unmapped line does nothing.
FOVEA_INLINE void prefetchTiles(const uint16_t *p, int64_t ahead) {
  uintptr_t line = reinterpret_cast<uintptr_t>(p) + ahead * sizeof(uint16_t);
  for (int i = 0; i < 32; ++i)
    _mm_prefetch(reinterpret_cast<const char *>(line + i * 64), _MM_HINT_T0);
}

/// Tiles 0-3: C (rows 0-15 and 16-31, columns 0-15 and 16-31), 4-5: A's
/// two row halves, 6-7: B's two column halves; all 16 rows of 64 bytes.
FOVEA_AMX void amxBegin() { fovea::rt::configureAmxTiles(); }

FOVEA_AMX void amxEnd() { _tile_release(); }

template <int MR, int R> struct AmxBf16 {
  static_assert(MR == 32, "one AMX micro-panel is two tiles of 16 rows");
  /// `depth` is a multiple of kAmxDepth (packATiles pads A with zeros, and
  /// the task loop B where its slice ends early).
  FOVEA_AMX static void run(const uint16_t *ap, const uint16_t *bp, float *c,
                            int64_t ldc, int64_t depth, int64_t columns) {
    constexpr bool lower = R > 16;
    // A partial block goes through a zero-padded copy of C.
    alignas(64) float part[MR * kPanel];
    bool whole = R == MR && columns == kPanel;
    float *cc = c;
    int64_t stride = ldc;
    if (!whole) {
      std::memset(part, 0, sizeof(part));
      for (int i = 0; i < R; ++i)
        std::memcpy(part + i * kPanel, c + i * ldc, columns * sizeof(float));
      cc = part;
      stride = kPanel;
    }
    int64_t bytes = stride * static_cast<int64_t>(sizeof(float));
    _tile_loadd(0, cc, bytes);
    _tile_loadd(1, cc + kHalf, bytes);
    if constexpr (lower) {
      _tile_loadd(2, cc + 16 * stride, bytes);
      _tile_loadd(3, cc + 16 * stride + kHalf, bytes);
    }
    for (int64_t kc = 0; kc < depth / kAmxDepth; ++kc) {
      const uint16_t *a = ap + kc * MR * kAmxDepth;
      const uint16_t *b = bp + kc * kAmxDepth * kPanel;
      prefetchTiles(a, kAmxPrefetchSteps * MR * kAmxDepth);
      prefetchTiles(b, kAmxPrefetchSteps * kAmxDepth * kPanel);
      _tile_loadd(6, b, kPanel * 4);
      _tile_loadd(7, b + kPanel, kPanel * 4);
      _tile_loadd(4, a, kAmxDepth * 2);
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      if constexpr (lower) {
        _tile_loadd(5, a + 16 * kAmxDepth, kAmxDepth * 2);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
      }
    }
    _tile_stored(0, cc, bytes);
    _tile_stored(1, cc + kHalf, bytes);
    if constexpr (lower) {
      _tile_stored(2, cc + 16 * stride, bytes);
      _tile_stored(3, cc + 16 * stride + kHalf, bytes);
    }
    if (!whole)
      for (int i = 0; i < R; ++i)
        std::memcpy(c + i * ldc, part + i * kPanel, columns * sizeof(float));
  }
};

// Columns per call are a whole panel except for AVX2's half panels.
constexpr KernelSet<float> kPortableF32 =
    kernelSet<float, 14, PortableF32>(kPanel, 512, 112);
constexpr KernelSet<uint16_t> kPortableBf16 =
    kernelSet<uint16_t, 14, PortableBf16>(kPanel, 512, 112);
constexpr KernelSet<float> kAvx512F32 =
    kernelSet<float, 14, Avx512F32>(kPanel, 512, 112);
constexpr KernelSet<uint16_t> kAvx512Bf16Widen =
    kernelSet<uint16_t, 14, Avx512Bf16Widen>(kPanel, 512, 112);
/// The bf16 dot kernel's B slice is half the bytes of the f32 kernel's per
/// k, so it takes twice the K block (and K = 1280 in one): fewer passes of
/// C through the cache and fewer packs of A. Measured on Zen 4, one thread:
/// fc1 (1032 x 5120 x 1280) 176 -> 207 GFLOP/s, mlp1.1 180 -> 192, mlp1.3
/// 180 -> 190, fc2 196 -> 202 (medians of 5). The k order of each element
/// is unchanged, so are the results.
constexpr KernelSet<uint16_t> kAvx512Bf16Dot =
    kernelSet<uint16_t, 14, Avx512Bf16Dot>(kPanel, 1024, 112, nullptr, nullptr,
                                           /*wholeDepth=*/2048);
constexpr KernelSet<float> kAvx2F32 =
    kernelSet<float, 6, Avx2F32>(kPanel / 2, 256, 96);
/// AMX: K blocks of 1024, but K up to 2048 in one block: for K = 1280 one
/// call per block of C instead of two gives 1.19x the GFLOP/s (qkv, one
/// core, median of 20 paired runs); for K = 5120 blocks of 1280, 2560 or
/// 5120 measured the same as 1024.
constexpr KernelSet<uint16_t> kAmxBf16 = kernelSet<uint16_t, 32, AmxBf16>(
    kPanel, 1024, 128, amxBegin, amxEnd, /*wholeDepth=*/2048);

//===----------------------------------------------------------------------===//
// The instruction set the kernels use.
//===----------------------------------------------------------------------===//

bool avx512Bf16() {
  return __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512bf16");
}

/// Linux hands out the AMX tile state only to processes that ask for it
/// (arch_prctl ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA); asked once.
bool amxPermitted() {
#if defined(__linux__) && defined(SYS_arch_prctl)
  static const bool permitted = [] {
    constexpr long kReqXcompPerm = 0x1023, kXtileData = 18;
    return syscall(SYS_arch_prctl, kReqXcompPerm, kXtileData) == 0;
  }();
  return permitted;
#else
  return false;
#endif
}

bool hostSupports(CpuIsa isa) {
  __builtin_cpu_init();
  switch (isa) {
  case CpuIsa::Portable:
    return true;
  case CpuIsa::Avx2:
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  case CpuIsa::Avx512:
    return __builtin_cpu_supports("avx512f");
  case CpuIsa::Avx512Bf16:
    return avx512Bf16();
  case CpuIsa::AmxBf16:
    return avx512Bf16() && __builtin_cpu_supports("amx-tile") &&
           __builtin_cpu_supports("amx-bf16") && amxPermitted();
  }
  return false;
}

constexpr CpuIsa kAllIsas[] = {CpuIsa::AmxBf16, CpuIsa::Avx512Bf16,
                               CpuIsa::Avx512, CpuIsa::Avx2, CpuIsa::Portable};

CpuIsa bestIsa() {
  for (CpuIsa isa : kAllIsas)
    if (hostSupports(isa))
      return isa;
  return CpuIsa::Portable;
}

/// The family `name` names ("auto": the best), or nullopt.
std::optional<CpuIsa> parseIsa(std::string_view name) {
  if (name == "auto")
    return bestIsa();
  for (CpuIsa isa : kAllIsas)
    if (name == cpuIsaName(isa))
      return isa;
  return std::nullopt;
}

/// FOVEA_CPU_KERNELS when it names a family this CPU runs, else the best.
CpuIsa initialIsa() {
  const char *name = std::getenv(kCpuKernelsVariable);
  std::optional<CpuIsa> isa = name ? parseIsa(name) : std::nullopt;
  return isa && hostSupports(*isa) ? *isa : bestIsa();
}

std::atomic<CpuIsa> &selectedIsa() {
  static std::atomic<CpuIsa> isa{initialIsa()};
  return isa;
}

//===----------------------------------------------------------------------===//
// Packing of A and B's slices.
//===----------------------------------------------------------------------===//

/// Packs rows [0, rows) and columns [k0, k0 + depth) of A into micro-panels
/// of `mr` rows (rows past `rows` are zero).
void packA(const float *a, int64_t lda, int64_t rows, int64_t k0, int64_t depth,
           int mr, float *ap) {
  for (int64_t p = 0; p < ceilDiv(rows, mr); ++p) {
    float *panel = ap + p * depth * mr;
    int64_t valid = std::min<int64_t>(mr, rows - p * mr);
    const float *first = a + p * mr * lda + k0;
    if (valid == mr) {
      // Contiguous writes, mr read streams.
      for (int64_t k = 0; k < depth; ++k)
        for (int i = 0; i < mr; ++i)
          panel[k * mr + i] = first[i * lda + k];
      continue;
    }
    for (int64_t k = 0; k < depth; ++k)
      for (int i = 0; i < mr; ++i)
        panel[k * mr + i] = i < valid ? first[i * lda + k] : 0.0f;
  }
}

/// The same for bf16 pairs; `kEnd` is K (the element past it reads as 0).
void packA(const uint16_t *a, int64_t lda, int64_t rows, int64_t k0,
           int64_t depth, int64_t kEnd, int mr, uint16_t *ap) {
  int64_t pairs = ceilDiv(depth, 2);
  for (int64_t p = 0; p < ceilDiv(rows, mr); ++p) {
    uint16_t *panel = ap + p * pairs * mr * 2;
    for (int i = 0; i < mr; ++i) {
      int64_t r = p * mr + i;
      const uint16_t *row = a + r * lda;
      uint16_t *slot = panel + i * 2;
      if (r >= rows) {
        for (int64_t kk = 0; kk < pairs; ++kk)
          std::memset(slot + kk * mr * 2, 0, 2 * sizeof(uint16_t));
        continue;
      }
      // Whole pairs, then the lone last element of an odd K.
      int64_t whole = std::min(pairs, (kEnd - k0) / 2);
      for (int64_t kk = 0; kk < whole; ++kk)
        std::memcpy(slot + kk * mr * 2, row + k0 + 2 * kk,
                    2 * sizeof(uint16_t));
      for (int64_t kk = whole; kk < pairs; ++kk) {
        slot[kk * mr * 2] = row[k0 + 2 * kk];
        slot[kk * mr * 2 + 1] = 0;
      }
    }
  }
}

/// bf16 A widened into f32 micro-panels, each pair's elements swapped:
/// ap[(2 kk) * mr + i] = A[i, k0 + 2 kk + 1] (0 at K), ap[(2 kk + 1) * mr
/// + i] = A[i, k0 + 2 kk].
void packAWidened(const uint16_t *a, int64_t lda, int64_t rows, int64_t k0,
                  int64_t depth, int64_t kEnd, int mr, float *ap) {
  int64_t pairs = ceilDiv(depth, 2);
  for (int64_t p = 0; p < ceilDiv(rows, mr); ++p) {
    float *panel = ap + p * pairs * 2 * mr;
    for (int i = 0; i < mr; ++i) {
      int64_t r = p * mr + i;
      const uint16_t *row = a + r * lda;
      for (int64_t kk = 0; kk < pairs; ++kk) {
        int64_t even = k0 + 2 * kk;
        bool inside = r < rows;
        panel[(2 * kk) * mr + i] =
            inside && even + 1 < kEnd ? bf16ToFloat(row[even + 1]) : 0.0f;
        panel[(2 * kk + 1) * mr + i] = inside ? bf16ToFloat(row[even]) : 0.0f;
      }
    }
  }
}

/// bf16 A as AMX tiles: micro-panels of 32 rows, each a sequence of
/// chunks of kAmxDepth k holding two 16 x kAmxDepth tiles (rows 0-15, then
/// 16-31), row-major: ap[((p * chunks + kc) * 32 + i) * kAmxDepth + j] =
/// A[p * 32 + i, k0 + kc * kAmxDepth + j], 0 past `rows` and past `kEnd`.
/// Returns the padded depth, chunks * kAmxDepth.
int64_t packATiles(const uint16_t *a, int64_t lda, int64_t rows, int64_t k0,
                   int64_t depth, int64_t kEnd, uint16_t *ap) {
  constexpr int mr = 32;
  int64_t chunks = ceilDiv(depth, kAmxDepth);
  int64_t valid = std::min(depth, kEnd - k0);
  for (int64_t p = 0; p < ceilDiv(rows, mr); ++p)
    for (int i = 0; i < mr; ++i) {
      int64_t r = p * mr + i;
      for (int64_t kc = 0; kc < chunks; ++kc) {
        uint16_t *dst = ap + ((p * chunks + kc) * mr + i) * kAmxDepth;
        int64_t n = 0;
        if (r < rows) {
          n = std::clamp<int64_t>(valid - kc * kAmxDepth, 0, kAmxDepth);
          std::memcpy(dst, a + r * lda + k0 + kc * kAmxDepth,
                      n * sizeof(uint16_t));
        }
        std::memset(dst + n, 0, (kAmxDepth - n) * sizeof(uint16_t));
      }
    }
  return chunks * kAmxDepth;
}

/// The slices of the half-panel kernels: each half of one panel's slice
/// contiguous, out[(h * depth + k) * kHalf + j] = B[k, h * kHalf + j]. In
/// the panel's own layout a half's rows are 128 bytes apart and fill every
/// way of half of L1's sets; contiguous, they take half of each set.
FOVEA_AVX2 void splitSlice(const float *bp, int64_t depth, float *out) {
  for (int64_t k = 0; k < depth; ++k)
    for (int64_t h = 0; h < 2; ++h)
      std::memcpy(out + (h * depth + k) * kHalf, bp + k * kPanel + h * kHalf,
                  kHalf * sizeof(float));
}

/// The same for one panel's slice of packed bf16 B (`pairs` rows of kPanel
/// pairs), widened to f32 with each pair's odd element first: row 2 kk of a
/// half holds the high halves of the pairs (kk, j), row 2 kk + 1 the low
/// halves.
FOVEA_AVX2 void widenSlice(const uint16_t *bp, int64_t pairs, float *out) {
  int64_t depth = 2 * pairs;
  for (int64_t kk = 0; kk < pairs; ++kk)
    for (int64_t j = 0; j < kPanel; ++j) {
      uint32_t pair;
      std::memcpy(&pair, bp + (kk * kPanel + j) * 2, sizeof(pair));
      uint32_t odd = pair & 0xffff0000u, even = pair << 16;
      float *half = out + (j / kHalf) * depth * kHalf + j % kHalf;
      std::memcpy(half + (2 * kk) * kHalf, &odd, sizeof(odd));
      std::memcpy(half + (2 * kk + 1) * kHalf, &even, sizeof(even));
    }
}

//===----------------------------------------------------------------------===//
// The task loop.
//===----------------------------------------------------------------------===//

template <typename Element> struct Problem {
  const Element *a;
  int64_t lda;
  const Element *b;
  float *c;
  int64_t ldc, m, n, k;
  /// The kernels on the packed element type; for bf16 on a CPU with f32
  /// kernels only, `widened` instead (both operands widened as packed).
  const KernelSet<Element> *kernels = nullptr;
  const KernelSet<float> *widened = nullptr;
  /// Panels of C per task.
  int64_t taskPanels = kTaskPanels;

  int64_t blockRows() const {
    return widened ? widened->blockRows : kernels->blockRows;
  }
};

/// One task's rows [row0, row0 + rows) and panels [panel0, panelEnd) of C:
/// `packBlock(k0, depth, ap)` packs A's block and returns the packed
/// micro-panels' depth; `slice(panel, k0, depth)` returns B's slice.
template <typename Packed, typename PackBlock, typename Slice>
void blockLoops(const KernelSet<Packed> &ks, float *c, int64_t ldc, int64_t n,
                int64_t k, int64_t rows, int64_t panel0, int64_t panelEnd,
                const PackBlock &packBlock, const Slice &slice) {
  // The packed block of A, with room for the depth AMX pads to whole tiles
  // (at most 512 KB, AMX's 128 rows x 2048 k: per thread, not on the
  // stack).
  int64_t blockDepth = ks.blockDepth(k);
  static thread_local std::vector<Packed> block;
  block.resize(ks.blockRows * ceilDiv(blockDepth, kAmxDepth) * kAmxDepth);
  Packed *ap = block.data();
  if (ks.begin)
    ks.begin();
  for (int64_t k0 = 0; k0 < k; k0 += blockDepth) {
    int64_t depth = std::min(blockDepth, k - k0);
    int64_t panelDepth = packBlock(k0, depth, ap);
    for (int64_t panel = panel0; panel < panelEnd; ++panel) {
      const Packed *bp = slice(panel, k0, depth);
      int64_t columns = std::min(kPanel, n - panel * kPanel);
      // Sets narrower than a panel take slices laid out as
      // [kPanel / width][panelDepth][width] (splitSlice, widenSlice).
      for (int64_t h = 0; h < columns; h += ks.width)
        for (int64_t r = 0; r < rows; r += ks.rows) {
          int64_t valid = std::min<int64_t>(ks.rows, rows - r);
          ks.byRows[valid - 1](ap + r * panelDepth, bp + h * panelDepth,
                               c + r * ldc + panel * kPanel + h, ldc,
                               panelDepth, std::min(ks.width, columns - h));
        }
    }
  }
  if (ks.end)
    ks.end();
}

template <typename Element> void runTask(const Problem<Element> &p, int64_t t) {
  int64_t blockRows = p.blockRows();
  int64_t mBlocks = ceilDiv(p.m, blockRows);
  int64_t row0 = (t % mBlocks) * blockRows;
  int64_t panel0 = (t / mBlocks) * p.taskPanels;
  int64_t rows = std::min(blockRows, p.m - row0);
  int64_t panelEnd = std::min(panel0 + p.taskPanels, ceilDiv(p.n, kPanel));
  const Element *a = p.a + row0 * p.lda;
  float *c = p.c + row0 * p.ldc;
  static thread_local std::vector<float> splitB;
  if constexpr (std::is_same_v<Element, float>) {
    const KernelSet<float> &ks = *p.kernels;
    bool split = ks.width < kPanel;
    if (split)
      splitB.resize(ks.depth * kPanel);
    blockLoops(
        ks, c, p.ldc, p.n, p.k, rows, panel0, panelEnd,
        [&](int64_t k0, int64_t depth, float *ap) {
          packA(a, p.lda, rows, k0, depth, ks.rows, ap);
          return depth;
        },
        [&](int64_t panel, int64_t k0, int64_t depth) {
          const float *slice = p.b + (panel * p.k + k0) * kPanel;
          if (!split)
            return slice;
          splitSlice(slice, depth, splitB.data());
          return static_cast<const float *>(splitB.data());
        });
  } else {
    // B's panel stride: ceil(K / 2) pairs; k0 is even.
    int64_t panelStride = ceilDiv(p.k, 2) * 2 * kPanel;
    auto source = [&](int64_t panel, int64_t k0) {
      return p.b + panel * panelStride + k0 * kPanel;
    };
    if (p.widened) {
      const KernelSet<float> &ks = *p.widened;
      splitB.resize(ks.depth * kPanel);
      blockLoops(
          ks, c, p.ldc, p.n, p.k, rows, panel0, panelEnd,
          [&](int64_t k0, int64_t depth, float *ap) {
            packAWidened(a, p.lda, rows, k0, depth, p.k, ks.rows, ap);
            return ceilDiv(depth, 2) * 2;
          },
          [&](int64_t panel, int64_t k0, int64_t depth) {
            widenSlice(source(panel, k0), ceilDiv(depth, 2), splitB.data());
            return static_cast<const float *>(splitB.data());
          });
      return;
    }
    const KernelSet<uint16_t> &ks = *p.kernels;
    if (&ks == &kAmxBf16) {
      // AMX: depths padded to whole tiles. A K block that ends inside a
      // tile (the last, when K is not a multiple of kAmxDepth) reads its
      // slice from a copy padded with zero pairs: the panel ends there.
      static thread_local std::vector<uint16_t> tail;
      blockLoops(
          ks, c, p.ldc, p.n, p.k, rows, panel0, panelEnd,
          [&](int64_t k0, int64_t depth, uint16_t *ap) {
            return packATiles(a, p.lda, rows, k0, depth, p.k, ap);
          },
          [&](int64_t panel, int64_t k0, int64_t depth) {
            const uint16_t *slice = source(panel, k0);
            if (depth % kAmxDepth == 0)
              return slice;
            int64_t have = ceilDiv(depth, 2) * 2 * kPanel;
            tail.assign(ceilDiv(depth, kAmxDepth) * kAmxDepth * kPanel, 0);
            std::memcpy(tail.data(), slice, have * sizeof(uint16_t));
            return static_cast<const uint16_t *>(tail.data());
          });
      return;
    }
    blockLoops(
        ks, c, p.ldc, p.n, p.k, rows, panel0, panelEnd,
        [&](int64_t k0, int64_t depth, uint16_t *ap) {
          packA(a, p.lda, rows, k0, depth, p.k, ks.rows, ap);
          return ceilDiv(depth, 2) * 2;
        },
        [&](int64_t panel, int64_t k0, int64_t) { return source(panel, k0); });
  }
}

template <typename Element> void run(Problem<Element> p) {
  if (p.m <= 0 || p.n <= 0 || p.k <= 0)
    return;
  // Row blocks alone when there are enough of them for the threads (A is
  // then packed once per block); otherwise the panels are split too.
  int64_t mBlocks = ceilDiv(p.m, p.blockRows()), panels = ceilDiv(p.n, kPanel);
  p.taskPanels =
      mBlocks >= 4 * numThreads() ? panels : std::min(panels, kTaskPanels);
  int64_t tasks = mBlocks * ceilDiv(panels, p.taskPanels);
  parallelFor(tasks, [&](int64_t t) { runTask(p, t); });
}
} // namespace

FOVEA_AMX void fovea::rt::configureAmxTiles() {
  struct alignas(64) {
    uint8_t palette = 1, startRow = 0;
    uint8_t reserved[14] = {};
    uint16_t bytesPerRow[16] = {};
    uint8_t rows[16] = {};
  } config;
  for (int t = 0; t < 8; ++t) {
    config.bytesPerRow[t] = 64;
    config.rows[t] = 16;
  }
  _tile_loadconfig(&config);
}

CpuIsa fovea::rt::cpuIsa() { return selectedIsa().load(); }

const char *fovea::rt::cpuIsaName(CpuIsa isa) {
  switch (isa) {
  case CpuIsa::Portable:
    return "portable";
  case CpuIsa::Avx2:
    return "avx2";
  case CpuIsa::Avx512:
    return "avx512";
  case CpuIsa::Avx512Bf16:
    return "avx512-bf16";
  case CpuIsa::AmxBf16:
    return "amx-bf16";
  }
  return "portable";
}

std::vector<CpuIsa> fovea::rt::supportedCpuIsas() {
  std::vector<CpuIsa> isas;
  for (CpuIsa isa : kAllIsas)
    if (hostSupports(isa))
      isas.push_back(isa);
  return isas;
}

bool fovea::rt::setCpuIsa(CpuIsa isa) {
  if (!hostSupports(isa))
    return false;
  selectedIsa().store(isa);
  return true;
}

std::optional<CpuIsa> fovea::rt::findCpuIsa(std::string_view name,
                                            std::string &error) {
  auto list = [](const std::vector<CpuIsa> &isas) {
    std::string text;
    for (CpuIsa isa : isas)
      text += std::string(text.empty() ? "" : ", ") + cpuIsaName(isa);
    return text;
  };
  std::optional<CpuIsa> isa = parseIsa(name);
  if (!isa) {
    error = "unknown CPU kernel family '" + std::string(name) +
            "' (expected auto, " +
            list({std::begin(kAllIsas), std::end(kAllIsas)}) + ")";
    return std::nullopt;
  }
  if (!hostSupports(*isa)) {
    error = "this CPU does not run the " + std::string(name) +
            " kernels (it runs " + list(supportedCpuIsas()) + ")";
    return std::nullopt;
  }
  return isa;
}

const char *fovea::rt::matmulKernelName(bool bf16) {
  CpuIsa isa = cpuIsa();
  // f32 runs the plain AVX-512 kernels on the bf16 families.
  if ((isa == CpuIsa::Avx512Bf16 || isa == CpuIsa::AmxBf16) && !bf16)
    isa = CpuIsa::Avx512;
  return cpuIsaName(isa);
}

extern "C" void fovea_matmul_f32(const float *a, int64_t lda, const float *b,
                                 float *c, int64_t ldc, int64_t m, int64_t n,
                                 int64_t k) {
  Problem<float> p{a, lda, b, c, ldc, m, n, k};
  switch (cpuIsa()) {
  case CpuIsa::Portable:
    p.kernels = &kPortableF32;
    break;
  case CpuIsa::Avx2:
    p.kernels = &kAvx2F32;
    break;
  case CpuIsa::Avx512:
  case CpuIsa::Avx512Bf16:
  case CpuIsa::AmxBf16:
    p.kernels = &kAvx512F32;
    break;
  }
  run(p);
}

extern "C" void fovea_matmul_bf16(const uint16_t *a, int64_t lda,
                                  const uint16_t *b, float *c, int64_t ldc,
                                  int64_t m, int64_t n, int64_t k) {
  Problem<uint16_t> p{a, lda, b, c, ldc, m, n, k};
  switch (cpuIsa()) {
  case CpuIsa::Portable:
    p.kernels = &kPortableBf16;
    break;
  case CpuIsa::Avx2:
    p.widened = &kAvx2F32;
    break;
  case CpuIsa::Avx512:
    p.kernels = &kAvx512Bf16Widen;
    break;
  case CpuIsa::Avx512Bf16:
    p.kernels = &kAvx512Bf16Dot;
    break;
  case CpuIsa::AmxBf16:
    p.kernels = &kAmxBf16;
    break;
  }
  run(p);
}
