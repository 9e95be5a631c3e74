//===- Attention.cpp - Multi-head attention of CPU modules ----------------===//
//
// One task per (batch row, head), spread over the module's threads. A task
// holds that head's f32 scores [L, L] (one head at a time per thread, never
// [heads, L, L]):
//
//   S  = Q K^T             the matmul microkernel (bf16: vdpbf16ps; K^T is
//                          packed into panels per task)
//   P  = exp(S * scale - rowmax), rowsum
//   O  = P V               the f32 microkernel (V packed, widened to f32)
//   out = O / rowsum       rounded to the output type
//
// Each output element depends on its own row only, in a fixed order: the
// thread count does not change the bits.
//
//===----------------------------------------------------------------------===//

#include "fovea/Runtime/Attention.h"
#include "fovea/Runtime/Matmul.h"
#include "fovea/Runtime/Tensor.h"
#include "fovea/Runtime/ThreadPool.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

using namespace fovea::rt;

namespace {
constexpr int64_t kPanel = kMatmulPanel;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

float toF32(float x) { return x; }
float toF32(uint16_t x) { return bf16ToFloat(x); }

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

/// V of one head as the f32 B operand of O = P V: B[j, d] = V[j, d].
template <typename Element>
void packValues(const Element *v, int64_t tokenStride, int64_t elementStride,
                int64_t tokens, int64_t headDim, std::vector<float> &packed) {
  int64_t panels = ceilDiv(headDim, kPanel);
  packed.assign(panels * tokens * kPanel, 0.0f);
  for (int64_t j = 0; j < tokens; ++j)
    for (int64_t d = 0; d < headDim; ++d)
      packed[((d / kPanel) * tokens + j) * kPanel + d % kPanel] =
          toF32(v[j * tokenStride + d * elementStride]);
}

void scores(const float *q, int64_t lda, const std::vector<float> &keys,
            float *s, int64_t tokens, int64_t headDim) {
  fovea_matmul_f32(q, lda, keys.data(), s, tokens, tokens, tokens, headDim);
}

void scores(const uint16_t *q, int64_t lda, const std::vector<uint16_t> &keys,
            float *s, int64_t tokens, int64_t headDim) {
  fovea_matmul_bf16(q, lda, keys.data(), s, tokens, tokens, tokens, headDim);
}

void store(float *out, float value) { *out = value; }
void store(uint16_t *out, float value) { *out = floatToBf16(value); }

/// Per-thread buffers, kept between tasks.
template <typename Element> struct Scratch {
  std::vector<Element> queries, keys;
  std::vector<float> values, s, o, sums;
};

template <typename Element>
void runHead(const Problem<Element> &p, int64_t task) {
  static thread_local Scratch<Element> scratch;
  int64_t b = task / p.heads, h = task % p.heads;
  int64_t l = p.tokens, d = p.headDim;
  const AttentionStrides &st = p.strides;
  const Element *q = p.q + b * st.qBatch + h * d * st.qElement;
  const Element *k = p.k + b * st.kBatch + h * d * st.kElement;
  const Element *v = p.v + b * st.vBatch + h * d * st.vElement;

  // This head's queries, contiguous: the A operand of the scores.
  scratch.queries.resize(l * d);
  for (int64_t i = 0; i < l; ++i)
    for (int64_t c = 0; c < d; ++c)
      scratch.queries[i * d + c] = q[i * st.qToken + c * st.qElement];
  packKeys(k, st.kToken, st.kElement, l, d, scratch.keys);
  scratch.s.assign(l * l, 0.0f);
  scores(scratch.queries.data(), d, scratch.keys, scratch.s.data(), l, d);

  // Softmax numerators in place, and their row sums.
  float scale = static_cast<float>(p.scale);
  scratch.sums.resize(l);
  for (int64_t i = 0; i < l; ++i) {
    float *row = scratch.s.data() + i * l;
    float rowMax = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < l; ++j)
      rowMax = std::max(rowMax, row[j] * scale);
    float sum = 0.0f;
    for (int64_t j = 0; j < l; ++j) {
      row[j] = std::exp(row[j] * scale - rowMax);
      sum += row[j];
    }
    scratch.sums[i] = sum;
  }

  packValues(v, st.vToken, st.vElement, l, d, scratch.values);
  scratch.o.assign(l * d, 0.0f);
  fovea_matmul_f32(scratch.s.data(), l, scratch.values.data(), scratch.o.data(),
                   d, l, d, l);

  Element *out = p.out + b * l * p.heads * d + h * d;
  for (int64_t i = 0; i < l; ++i)
    for (int64_t c = 0; c < d; ++c)
      store(out + i * p.heads * d + c, scratch.o[i * d + c] / scratch.sums[i]);
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
