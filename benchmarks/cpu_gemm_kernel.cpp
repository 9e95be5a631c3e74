//===- cpu_gemm_kernel.cpp - Times the CPU matmul microkernels ------------===//
//
// Built and run by cpu_gemm.py against the runtime library:
//
//   cpu_gemm_kernel peak                 register-only FMA / vdpbf16ps /
//                                        AMX tile dot-product peak
//   cpu_gemm_kernel f32|bf16 M N K ITERS [ISA]
//                                        GFLOP/s of fovea_matmul_* (median)
//                                        on ISA's kernels (default: the best)
//
// B is packed as the compiler packs weights at load; A and C are row-major.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Matmul.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <immintrin.h>
#include <iterator>
#include <string>
#include <vector>

namespace {
double seconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// 24 independent accumulators: the FMA (or dot) units' throughput, no
/// memory traffic.
__attribute__((target("avx512f"))) double peakF32(long iterations) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i)
    acc[i] = _mm512_set1_ps(1e-3f * i);
  __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  double start = seconds();
  for (long it = 0; it < iterations; ++it) {
    _Pragma("unroll") for (int i = 0; i < 24; ++i) acc[i] =
        _mm512_fmadd_ps(acc[i], b, c);
    __asm__ volatile("" : "+v"(acc[0]));
  }
  double elapsed = seconds() - start;
  float sink = 0;
  for (int i = 0; i < 24; ++i)
    sink += _mm512_reduce_add_ps(acc[i]);
  if (sink == 12345.0f)
    std::puts("");
  return iterations * 24.0 * 32.0 / elapsed / 1e9;
}

__attribute__((target("avx512f,avx512bw,avx512bf16"))) double
peakBf16(long iterations) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i)
    acc[i] = _mm512_set1_ps(1e-3f * i);
  __m512bh b = (__m512bh)_mm512_set1_epi32(0x3f803f80);
  double start = seconds();
  for (long it = 0; it < iterations; ++it) {
    _Pragma("unroll") for (int i = 0; i < 24; ++i) acc[i] =
        _mm512_dpbf16_ps(acc[i], b, b);
    __asm__ volatile("" : "+v"(acc[0]));
  }
  double elapsed = seconds() - start;
  float sink = 0;
  for (int i = 0; i < 24; ++i)
    sink += _mm512_reduce_add_ps(acc[i]);
  if (sink == 12345.0f)
    std::puts("");
  return iterations * 24.0 * 64.0 / elapsed / 1e9;
}

/// Four 16 x 16 f32 tiles accumulating tile dot products of operands held
/// in tiles: AMX's peak (the process must have the tile state: the runtime
/// asks for it when it finds the amx-bf16 family).
__attribute__((target("amx-tile,amx-bf16"))) double peakAmx(long iterations) {
  alignas(64) static uint16_t ones[16 * 32];
  std::fill(std::begin(ones), std::end(ones), 0x3f80);
  alignas(64) static float out[16 * 16];
  fovea::rt::configureAmxTiles();
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, ones, 64);
  _tile_loadd(5, ones, 64);
  _tile_loadd(6, ones, 64);
  _tile_loadd(7, ones, 64);
  double start = seconds();
  for (long it = 0; it < iterations; ++it) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  double elapsed = seconds() - start;
  _tile_stored(0, out, 64);
  _tile_release();
  if (out[0] == 12345.0f)
    std::puts("");
  return iterations * 4.0 * 16 * 16 * 32 * 2 / elapsed / 1e9;
}

/// The same with 12 ymm FMA chains (AVX2 CPUs: two FMA pipes of latency 4
/// to 5 need 8 to 10 in flight).
__attribute__((target("avx2,fma"))) double peakF32Avx2(long iterations) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm256_set1_ps(1e-3f * i);
  __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  double start = seconds();
  for (long it = 0; it < iterations; ++it) {
    _Pragma("unroll") for (int i = 0; i < 12; ++i) acc[i] =
        _mm256_fmadd_ps(acc[i], b, c);
    __asm__ volatile("" : "+v"(acc[0]));
  }
  double elapsed = seconds() - start;
  float lanes[8], sink = 0;
  for (int i = 0; i < 12; ++i) {
    _mm256_storeu_ps(lanes, acc[i]);
    for (float lane : lanes)
      sink += lane;
  }
  if (sink == 12345.0f)
    std::puts("");
  return iterations * 12.0 * 16.0 / elapsed / 1e9;
}
} // namespace

int main(int argc, char **argv) {
  if (argc == 2 && std::string(argv[1]) == "peak") {
    __builtin_cpu_init();
    double f32 = 0, bf16 = 0;
    bool dot = __builtin_cpu_supports("avx512bf16");
    std::vector<fovea::rt::CpuIsa> isas = fovea::rt::supportedCpuIsas();
    bool amx = std::find(isas.begin(), isas.end(),
                         fovea::rt::CpuIsa::AmxBf16) != isas.end();
    // The best of many short rounds: on a shared host the core's speed
    // changes from round to round (AMX by 2x on one such host), and the
    // peak is what the core does when it is not held back.
    for (int round = 0; round < 20; ++round) {
      if (__builtin_cpu_supports("avx512f"))
        f32 = std::max(f32, peakF32(4000000));
      else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        f32 = std::max(f32, peakF32Avx2(8000000));
      if (amx)
        bf16 = std::max(bf16, peakAmx(400000));
      else if (dot)
        bf16 = std::max(bf16, peakBf16(4000000));
    }
    // Without bf16 dot products bf16 is f32 FMA arithmetic: its limit is
    // the FMA peak.
    std::printf("peak f32 %.1f bf16 %.1f %s\n", f32, dot ? bf16 : f32,
                amx   ? "amx"
                : dot ? "vdpbf16ps"
                      : "fma");
    return 0;
  }
  if (argc != 6 && argc != 7) {
    std::fprintf(stderr, "usage: %s peak | f32|bf16 M N K ITERS [ISA]\n",
                 argv[0]);
    return 2;
  }
  if (argc == 7) {
    std::string error;
    std::optional<fovea::rt::CpuIsa> isa =
        fovea::rt::findCpuIsa(argv[6], error);
    if (!isa) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 2;
    }
    fovea::rt::setCpuIsa(*isa);
  }
  std::string dtype = argv[1];
  int64_t m = std::atoll(argv[2]), n = std::atoll(argv[3]),
          k = std::atoll(argv[4]);
  int iters = std::atoi(argv[5]);
  int64_t panels = (n + 31) / 32, pairs = (k + 1) / 2;
  std::vector<float> c(m * n, 0.0f);
  std::vector<double> times;
  if (dtype == "f32") {
    std::vector<float> a(m * k, 0.5f), b(panels * k * 32, 0.25f);
    fovea_matmul_f32(a.data(), k, b.data(), c.data(), n, m, n, k);
    for (int i = 0; i < iters; ++i) {
      double start = seconds();
      fovea_matmul_f32(a.data(), k, b.data(), c.data(), n, m, n, k);
      times.push_back(seconds() - start);
    }
  } else {
    std::vector<uint16_t> a(m * k, 0x3f00), b(panels * pairs * 64, 0x3e80);
    fovea_matmul_bf16(a.data(), k, b.data(), c.data(), n, m, n, k);
    for (int i = 0; i < iters; ++i) {
      double start = seconds();
      fovea_matmul_bf16(a.data(), k, b.data(), c.data(), n, m, n, k);
      times.push_back(seconds() - start);
    }
  }
  std::sort(times.begin(), times.end());
  std::printf("%.2f %s\n", 2.0 * m * n * k / times[times.size() / 2] / 1e9,
              fovea::rt::matmulKernelName(dtype == "bf16"));
  return 0;
}
