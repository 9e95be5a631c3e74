//===- Attention.cpp - Multi-head attention of CPU modules ----------------===//
//
// Flash-style: one task per (batch row, head), spread over the module's
// threads. A task packs that head's K^T and V once, then walks its queries
// in blocks of kQueryRows and, for each, the keys in blocks of kKeyBlock
// with an online softmax, so the scores it holds are one [kQueryRows,
// kKeyBlock] f32 block (64 KiB: in L2), never [L, L]:
//
//   S   = Q_blk K_blk^T                   the matmul microkernel (bf16:
//                                         vdpbf16ps)
//   m'  = max(m, rowmax(S) * scale)
//   P   = exp(S * scale - m'),  a = exp(m - m')
//   l   = a * l + rowsum(P),    O = a * O + P V_blk  (f32: the f32
//                                         microkernel; bf16: P rounded to
//                                         bf16, vdpbf16ps, as flash
//                                         attention and the GPU kernel do)
//   out = O / l                           rounded to the output type
//
// l sums the f32 probabilities (before any rounding), as on the GPU.
//
// exp is a polynomial (Cephes' expf: relative error below 2 ulp) in loops
// the compiler vectorizes, built for AVX-512, AVX2 and any x86-64 and chosen
// at run time with the matmul kernels (cpuIsa()). Each output element depends
// on its own row only, in a fixed order: the thread count does not change the
// bits.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Attention.h"
#include "fovea/Runtime/Matmul.h"
#include "fovea/Runtime/Tensor.h"
#include "fovea/Runtime/ThreadPool.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

using namespace fovea::rt;

namespace {
constexpr int64_t kPanel = kMatmulPanel;
/// Queries of one block (4.6 of the AVX-512 kernel's 14-row tiles, 10.7 of
/// AVX2's 6) and keys of one block (a multiple of 32: whole panels of K^T).
constexpr int64_t kQueryRows = 64;
constexpr int64_t kKeyBlock = 256;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Element strides of q, k and v between batch rows, tokens and elements.
struct AttentionStrides {
  int64_t qBatch, qToken, qElement, kBatch, kToken, kElement, vBatch, vToken,
      vElement;
};

template <typename Element> struct Problem {
  const Element *q, *k, *v;
  Element *out;
  int64_t batch, tokens, heads, headDim;
  AttentionStrides strides;
  double scale;
};

/// K^T of one head as the B operand of S = Q K^T: B[d, j] = K[j, d].
void packKeys(const float *k, int64_t tokenStride, int64_t elementStride,
              int64_t tokens, int64_t headDim, std::vector<float> &packed) {
  int64_t panels = ceilDiv(tokens, kPanel);
  packed.assign(panels * headDim * kPanel, 0.0f);
  for (int64_t j = 0; j < tokens; ++j)
    for (int64_t d = 0; d < headDim; ++d)
      packed[((j / kPanel) * headDim + d) * kPanel + j % kPanel] =
          k[j * tokenStride + d * elementStride];
}

void packKeys(const uint16_t *k, int64_t tokenStride, int64_t elementStride,
              int64_t tokens, int64_t headDim, std::vector<uint16_t> &packed) {
  int64_t panels = ceilDiv(tokens, kPanel), pairs = ceilDiv(headDim, 2);
  packed.assign(panels * pairs * kPanel * 2, 0);
  for (int64_t j = 0; j < tokens; ++j)
    for (int64_t d = 0; d < headDim; ++d)
      packed[(((j / kPanel) * pairs + d / 2) * kPanel + j % kPanel) * 2 +
             d % 2] = k[j * tokenStride + d * elementStride];
}

/// V of one head as the B operands of O += P V_blk, one per key block
/// (block `kb` at kb * panels * kKeyBlock * 32 elements; kKeyBlock is even):
/// B[j', c] = V[j0 + j', c] with K = the block's length, in the matmul's
/// f32 or bf16 layout (bf16: pairs of keys, a zero after an odd last key).
void packValues(const float *v, int64_t tokenStride, int64_t elementStride,
                int64_t tokens, int64_t headDim, std::vector<float> &packed) {
  int64_t panels = ceilDiv(headDim, kPanel);
  packed.assign(ceilDiv(tokens, kKeyBlock) * panels * kKeyBlock * kPanel, 0.0f);
  for (int64_t j = 0; j < tokens; ++j) {
    int64_t block = j / kKeyBlock, j0 = block * kKeyBlock;
    int64_t length = std::min(kKeyBlock, tokens - j0);
    float *base = packed.data() + block * panels * kKeyBlock * kPanel;
    for (int64_t d = 0; d < headDim; ++d)
      base[((d / kPanel) * length + (j - j0)) * kPanel + d % kPanel] =
          v[j * tokenStride + d * elementStride];
  }
}

void packValues(const uint16_t *v, int64_t tokenStride, int64_t elementStride,
                int64_t tokens, int64_t headDim,
                std::vector<uint16_t> &packed) {
  int64_t panels = ceilDiv(headDim, kPanel);
  packed.assign(ceilDiv(tokens, kKeyBlock) * panels * kKeyBlock * kPanel, 0);
  for (int64_t j = 0; j < tokens; ++j) {
    int64_t block = j / kKeyBlock, j0 = block * kKeyBlock;
    int64_t pairs = ceilDiv(std::min(kKeyBlock, tokens - j0), 2);
    int64_t jj = j - j0;
    uint16_t *base = packed.data() + block * panels * kKeyBlock * kPanel;
    for (int64_t d = 0; d < headDim; ++d)
      base[(((d / kPanel) * pairs + jj / 2) * kPanel + d % kPanel) * 2 +
           jj % 2] = v[j * tokenStride + d * elementStride];
  }
}

/// S[rows, keys] += Q_blk K^T[:, j0 : j0 + keys] (j0 a multiple of 32).
void scores(const float *q, int64_t headDim, const std::vector<float> &keys,
            int64_t j0, float *s, int64_t rows, int64_t count) {
  fovea_matmul_f32(q, headDim, keys.data() + (j0 / kPanel) * headDim * kPanel,
                   s, kKeyBlock, rows, count, headDim);
}

void scores(const uint16_t *q, int64_t headDim,
            const std::vector<uint16_t> &keys, int64_t j0, float *s,
            int64_t rows, int64_t count) {
  int64_t pairs = ceilDiv(headDim, 2);
  fovea_matmul_bf16(q, headDim,
                    keys.data() + (j0 / kPanel) * pairs * kPanel * 2, s,
                    kKeyBlock, rows, count, headDim);
}

/// O[rows, headDim] += P V_blk, P the f32 probabilities (row stride
/// kKeyBlock) of `count` keys; bf16 rounds them first into `rounded`.
void weightedSum(const float *p, std::vector<float> &, const float *values,
                 float *o, int64_t rows, int64_t headDim, int64_t count) {
  fovea_matmul_f32(p, kKeyBlock, values, o, headDim, rows, headDim, count);
}

void weightedSum(const float *p, std::vector<uint16_t> &rounded,
                 const uint16_t *values, float *o, int64_t rows,
                 int64_t headDim, int64_t count) {
  rounded.resize(kQueryRows * kKeyBlock);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < count; ++j)
      rounded[i * kKeyBlock + j] = floatToBf16(p[i * kKeyBlock + j]);
  fovea_matmul_bf16(rounded.data(), kKeyBlock, values, o, headDim, rows,
                    headDim, count);
}

void store(float *out, float value) { *out = value; }
void store(uint16_t *out, float value) { *out = floatToBf16(value); }

//===----------------------------------------------------------------------===//
// The online softmax of one block of scores, for AVX-512 and portable x86-64
//===----------------------------------------------------------------------===//

#define FOVEA_INLINE __attribute__((always_inline)) inline

/// exp(x) for finite x <= 0 (Cephes' expf; 0 below -87.3, where the result
/// would be denormal): x = n ln2 + r, |r| <= ln2 / 2, exp(r) by a degree-7
/// polynomial, times 2^n from the exponent bits.
FOVEA_INLINE float expNonPositive(float x) {
  float n = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scaleBits;
  std::memcpy(&scaleBits, &bits, sizeof(scaleBits));
  return x < -87.3f ? 0.0f : p * scaleBits;
}

/// Lanes of the max and sum reductions: independent accumulators the
/// compiler keeps in one vector (the max is exact in any order; the sum's
/// order is fixed by the lanes).
constexpr int kLanes = 16;

/// One block: for each of `rows` rows of `s` (row stride kKeyBlock,
/// `count` scores), updates the running max m and sum l, replaces the
/// scores by P and scales the row of O (`headDim` wide) by a.
#define FOVEA_SOFTMAX_BLOCK(NAME, ATTRIBUTES)                                  \
  ATTRIBUTES void NAME(float *s, int64_t rows, int64_t count, float scale,     \
                       float *m, float *l, float *o, int64_t headDim) {        \
    int64_t full = count / kLanes * kLanes;                                    \
    for (int64_t i = 0; i < rows; ++i) {                                       \
      float *row = s + i * kKeyBlock;                                          \
      float lanes[kLanes];                                                     \
      for (int t = 0; t < kLanes; ++t)                                         \
        lanes[t] = -std::numeric_limits<float>::infinity();                    \
      for (int64_t j = 0; j < full; j += kLanes)                               \
        for (int t = 0; t < kLanes; ++t)                                       \
          lanes[t] = std::max(lanes[t], row[j + t]);                           \
      float rowMax = -std::numeric_limits<float>::infinity();                  \
      for (int t = 0; t < kLanes; ++t)                                         \
        rowMax = std::max(rowMax, lanes[t]);                                   \
      for (int64_t j = full; j < count; ++j)                                   \
        rowMax = std::max(rowMax, row[j]);                                     \
      float next = std::max(m[i], rowMax * scale);                             \
      float alpha = m[i] == -std::numeric_limits<float>::infinity()            \
                        ? 0.0f                                                 \
                        : expNonPositive(m[i] - next);                         \
      for (int t = 0; t < kLanes; ++t)                                         \
        lanes[t] = 0.0f;                                                       \
      for (int64_t j = 0; j < full; j += kLanes)                               \
        for (int t = 0; t < kLanes; ++t) {                                     \
          float p = expNonPositive(row[j + t] * scale - next);                 \
          row[j + t] = p;                                                      \
          lanes[t] += p;                                                       \
        }                                                                      \
      float sum = 0.0f;                                                        \
      for (int t = 0; t < kLanes; ++t)                                         \
        sum += lanes[t];                                                       \
      for (int64_t j = full; j < count; ++j) {                                 \
        row[j] = expNonPositive(row[j] * scale - next);                        \
        sum += row[j];                                                         \
      }                                                                        \
      l[i] = l[i] * alpha + sum;                                               \
      m[i] = next;                                                             \
      float *oRow = o + i * headDim;                                           \
      for (int64_t c = 0; c < headDim; ++c)                                    \
        oRow[c] *= alpha;                                                      \
    }                                                                          \
  }

FOVEA_SOFTMAX_BLOCK(softmaxBlockAvx512, __attribute__((target("avx512f"))))
FOVEA_SOFTMAX_BLOCK(softmaxBlockAvx2, __attribute__((target("avx2,fma"))))
FOVEA_SOFTMAX_BLOCK(softmaxBlockPortable, )
#undef FOVEA_SOFTMAX_BLOCK

using SoftmaxBlock = void (*)(float *, int64_t, int64_t, float, float *,
                              float *, float *, int64_t);

SoftmaxBlock softmaxBlock() {
  switch (cpuIsa()) {
  case CpuIsa::Avx512:
  case CpuIsa::Avx512Bf16:
  case CpuIsa::AmxBf16:
    return softmaxBlockAvx512;
  case CpuIsa::Avx2:
    return softmaxBlockAvx2;
  case CpuIsa::Portable:
    break;
  }
  return softmaxBlockPortable;
}

/// Per-thread buffers, kept between tasks.
template <typename Element> struct Scratch {
  std::vector<Element> queries, keys, values, probabilities;
  std::vector<float> s, o, m, l;
};

template <typename Element>
void runHead(const Problem<Element> &p, int64_t task) {
  static thread_local Scratch<Element> scratch;
  int64_t b = task / p.heads, h = task % p.heads;
  int64_t tokens = p.tokens, d = p.headDim;
  const AttentionStrides &st = p.strides;
  const Element *q = p.q + b * st.qBatch + h * d * st.qElement;
  const Element *k = p.k + b * st.kBatch + h * d * st.kElement;
  const Element *v = p.v + b * st.vBatch + h * d * st.vElement;

  // This head's queries, contiguous: the A operand of the scores.
  scratch.queries.resize(tokens * d);
  for (int64_t i = 0; i < tokens; ++i)
    for (int64_t c = 0; c < d; ++c)
      scratch.queries[i * d + c] = q[i * st.qToken + c * st.qElement];
  packKeys(k, st.kToken, st.kElement, tokens, d, scratch.keys);
  packValues(v, st.vToken, st.vElement, tokens, d, scratch.values);
  scratch.s.resize(kQueryRows * kKeyBlock);
  scratch.o.resize(kQueryRows * d);
  scratch.m.resize(kQueryRows);
  scratch.l.resize(kQueryRows);
  float scale = static_cast<float>(p.scale);
  int64_t panels = ceilDiv(d, kPanel);
  SoftmaxBlock softmax = softmaxBlock();
  Element *out = p.out + b * tokens * p.heads * d + h * d;

  for (int64_t i0 = 0; i0 < tokens; i0 += kQueryRows) {
    int64_t rows = std::min(kQueryRows, tokens - i0);
    std::fill(scratch.o.begin(), scratch.o.end(), 0.0f);
    std::fill(scratch.m.begin(), scratch.m.end(),
              -std::numeric_limits<float>::infinity());
    std::fill(scratch.l.begin(), scratch.l.end(), 0.0f);
    for (int64_t j0 = 0; j0 < tokens; j0 += kKeyBlock) {
      int64_t count = std::min(kKeyBlock, tokens - j0);
      std::fill(scratch.s.begin(), scratch.s.end(), 0.0f);
      scores(scratch.queries.data() + i0 * d, d, scratch.keys, j0,
             scratch.s.data(), rows, count);
      softmax(scratch.s.data(), rows, count, scale, scratch.m.data(),
              scratch.l.data(), scratch.o.data(), d);
      weightedSum(scratch.s.data(), scratch.probabilities,
                  scratch.values.data() +
                      (j0 / kKeyBlock) * panels * kKeyBlock * kPanel,
                  scratch.o.data(), rows, d, count);
    }
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t c = 0; c < d; ++c)
        store(out + (i0 + i) * p.heads * d + c,
              scratch.o[i * d + c] / scratch.l[i]);
  }
}

template <typename Element> void run(const Problem<Element> &p) {
  if (p.batch <= 0 || p.tokens <= 0 || p.heads <= 0 || p.headDim <= 0)
    return;
  parallelFor(p.batch * p.heads, [&](int64_t t) { runHead(p, t); });
}
} // namespace

extern "C" void fovea_attention_f32(const float *q, const float *k,
                                    const float *v, float *out, int64_t batch,
                                    int64_t tokens, int64_t heads,
                                    int64_t headDim, const int64_t *strides,
                                    double scale) {
  AttentionStrides st{strides[0], strides[1], strides[2],
                      strides[3], strides[4], strides[5],
                      strides[6], strides[7], strides[8]};
  run(Problem<float>{q, k, v, out, batch, tokens, heads, headDim, st, scale});
}

extern "C" void fovea_attention_bf16(const uint16_t *q, const uint16_t *k,
                                     const uint16_t *v, uint16_t *out,
                                     int64_t batch, int64_t tokens,
                                     int64_t heads, int64_t headDim,
                                     const int64_t *strides, double scale) {
  AttentionStrides st{strides[0], strides[1], strides[2],
                      strides[3], strides[4], strides[5],
                      strides[6], strides[7], strides[8]};
  run(Problem<uint16_t>{q, k, v, out, batch, tokens, heads, headDim, st,
                        scale});
}
