//===- Attention.h - Multi-head attention of CPU modules --------*- C++ -*-===//
//
// The CPU code generator calls these for `vision.attention` without
// cu_seqlens: q, k, v are [B, L, H * D] with any strides (views of the fused
// qkv projection), out is a contiguous [B, L, H * D]:
//
//   out[b, i, h*D + c] = sum_j exp(s_ij - m_i) v[b, j, h*D + c] / sum_j
//                        exp(s_ij - m_i),
//   s_ij = scale * q[b, i, h*D :] . k[b, j, h*D :],  m_i = max_j s_ij
//
// in f32 (bf16 inputs widened exactly; the dot products with vdpbf16ps
// where the CPU has it, see Matmul.h; bf16 rounds the probabilities
// exp(s_ij - m) to bf16 for the weighted sum, m the running maximum of the
// online softmax, while the denominator adds them in f32, as flash
// attention does), normalized once per row after the weighted sum, rounded
// to bf16 at the end for bf16. Threads
// split the (batch, head) pairs; the bits do not depend on their count.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_RUNTIME_ATTENTION_H
#define FOVEA_RUNTIME_ATTENTION_H

#include <cstdint>

extern "C" {
/// `strides`: nine element strides, (batch, token, element) of q, k, v.
void fovea_attention_f32(const float *q, const float *k, const float *v,
                         float *out, int64_t batch, int64_t tokens,
                         int64_t heads, int64_t headDim, const int64_t *strides,
                         double scale);
void fovea_attention_bf16(const uint16_t *q, const uint16_t *k,
                          const uint16_t *v, uint16_t *out, int64_t batch,
                          int64_t tokens, int64_t heads, int64_t headDim,
                          const int64_t *strides, double scale);
}

#endif // FOVEA_RUNTIME_ATTENTION_H
