//===- Matmul.h - Matmul microkernels of CPU modules ------------*- C++ -*-===//
//
// The CPU code generator calls these for the matmuls of linear layers:
// C[m, n] += sum_k A[m, k] * B[k, n] for m < M, n < N, with B packed once
// (in @init for weights) into panels of kMatmulPanel columns:
//
//   f32:  B[k, n] at  b[((n / 32) * K + k) * 32 + n % 32]
//   bf16: B[k, n] at  b[(((n / 32) * ceil(K / 2) + k / 2) * 32 + n % 32) * 2
//                        + k % 2]
//
// (columns n >= N and, for bf16, the row k = K when K is odd are zero). A is
// row-major with row stride lda, C row-major f32 with row stride ldc.
//
// Every element of C is accumulated over k in the same order whatever the
// thread count, the CPU or the block it falls in: results are bit-identical
// across thread counts. bf16 adds the products of each pair (k odd, then k
// even) as vdpbf16ps does (each product exact in f32, each sum rounded to
// nearest even); where the CPU has AVX512_BF16 that instruction also
// flushes denormal inputs and results to zero. On AMX (the amx-bf16
// family) a tile dot product adds its 32 products per element and the
// accumulator in an order the hardware fixes and the SDM does not specify
// (no sequential fma order reproduces it): bf16 results there differ from
// the other families in the last bits, within the error bound of an f32
// sum, and are still the same for every thread count.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_RUNTIME_MATMUL_H
#define FOVEA_RUNTIME_MATMUL_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

extern "C" {
void fovea_matmul_f32(const float *a, int64_t lda, const float *b, float *c,
                      int64_t ldc, int64_t m, int64_t n, int64_t k);
void fovea_matmul_bf16(const uint16_t *a, int64_t lda, const uint16_t *b,
                       float *c, int64_t ldc, int64_t m, int64_t n, int64_t k);

/// Packs B (in @init): the contiguous [d0, d1, d2, d3] buffer `dst` gets
/// dst[i0, i1, i2, i3] = src[i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3]
/// (strides in elements of `elementBytes` bytes), on the module's threads.
/// A permutation of a strided view: every element is a copy, so the result
/// does not depend on the thread count.
void fovea_pack_copy(const void *src, void *dst, int64_t elementBytes,
                     int64_t d0, int64_t d1, int64_t d2, int64_t d3, int64_t s0,
                     int64_t s1, int64_t s2, int64_t s3);
}

namespace fovea::rt {
/// The columns of one packed panel of B.
constexpr int64_t kMatmulPanel = 32;

/// The instruction sets the CPU kernels (matmul, attention) are built for.
/// Avx2 means AVX2 with FMA; bf16 then widens to f32 as it packs. AmxBf16
/// runs bf16 matmuls on AMX tiles (and everything else as Avx512Bf16).
enum class CpuIsa { Portable, Avx2, Avx512, Avx512Bf16, AmxBf16 };

/// The family the kernels use: the best this CPU has unless setCpuIsa
/// chose another.
CpuIsa cpuIsa();

/// "portable", "avx2", "avx512", "avx512-bf16", "amx-bf16".
const char *cpuIsaName(CpuIsa isa);

/// The families this CPU runs, best first (the last is Portable).
std::vector<CpuIsa> supportedCpuIsas();

/// Makes the kernels use `isa` (tests, benchmarks); false, and nothing
/// changes, when the CPU lacks it.
bool setCpuIsa(CpuIsa isa);

/// The environment variable naming the family the kernels start with
/// (cpuIsaName's names, or "auto"); unset, empty or not one this CPU runs:
/// the best (fovea_module_create refuses the last two with findCpuIsa's
/// error).
inline constexpr const char kCpuKernelsVariable[] = "FOVEA_CPU_KERNELS";

/// The family named `name` (cpuIsaName's names, or "auto" for the best this
/// CPU has); nullopt, with one line in `error`, for an unknown name or a
/// family this CPU does not run.
std::optional<CpuIsa> findCpuIsa(std::string_view name, std::string &error);

/// Configures the calling thread's AMX tiles as the amx-bf16 kernels use
/// them: eight tiles of 16 rows x 64 bytes. Only where supportedCpuIsas()
/// lists AmxBf16 (the runtime has then asked Linux for the tile state);
/// _tile_release() ends it.
void configureAmxTiles();

/// Which implementation the matmul kernels run: "avx512", "avx512-bf16"
/// (bf16 with vdpbf16ps), "amx-bf16" (bf16 on AMX tiles), "avx2" or
/// "portable".
const char *matmulKernelName(bool bf16);
} // namespace fovea::rt

#endif // FOVEA_RUNTIME_MATMUL_H
