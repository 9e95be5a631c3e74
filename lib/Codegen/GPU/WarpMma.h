//===- WarpMma.h - Warp-level mma.sync building blocks ----------*- C++ -*-===//
//
// Pieces shared by the tensor-core kernels: index arithmetic, bf16 register
// packing, the m16n8k16 mma.sync, and its emulation on the host for the
// emulate-warps mode, where a warp's registers live in [32 x n] buffers (row
// = lane).
//
// Fragment layout of mma.sync.m16n8k16 with bf16 inputs (PTX ISA, "Matrix
// fragments for mma.m16n8k16"), with g = lane / 4 and t = lane % 4:
//   A (row-major 16 x 16), four .b32 registers of two bf16 each:
//     a0 = A[g][2t, 2t+1]      a1 = A[g+8][2t, 2t+1]
//     a2 = A[g][2t+8, 2t+9]    a3 = A[g+8][2t+8, 2t+9]
//   B (16 x 8, "col"), two registers:
//     b0 = B[2t, 2t+1][g]      b1 = B[2t+8, 2t+9][g]
//   C/D (16 x 8 f32), four registers:
//     c0, c1 = C[g][2t, 2t+1]  c2, c3 = C[g+8][2t, 2t+1]
// The lower-indexed element of a pair is in the low half of its register.
//
//===----------------------------------------------------------------------===//

#ifndef FOVEA_LIB_TARGET_GPU_WARPMMA_H
#define FOVEA_LIB_TARGET_GPU_WARPMMA_H

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::vision::gpu_mma {

/// Helpers over an ImplicitLocOpBuilder; index arithmetic is unsigned.
struct WarpBuilder {
  ImplicitLocOpBuilder &b;

  Value index(int64_t v);
  Value add(Value x, int64_t y);
  Value add(Value x, Value y);
  Value mul(Value x, int64_t y);
  Value div(Value x, int64_t y);
  Value rem(Value x, int64_t y);
  Value less(Value x, Value y);
  Value f32(double v);

  /// `for (iv = 0; iv < upper; ++iv) body(iv)`; the builder continues
  /// after the loop.
  void loop(Value upper, function_ref<void(Value)> body);
  void loop(int64_t upper, function_ref<void(Value)> body) {
    loop(index(upper), body);
  }
  /// `if (cond) body()`.
  void when(Value cond, function_ref<void()> body);
  /// `cond ? then() : zero`, with `then` built only on that branch.
  Value select(Value cond, function_ref<Value()> then, Value zero);

  /// Two bf16 values in one .b32 register, `lo` in the low half.
  Value pack(Value lo, Value hi);
  /// Two f32 values rounded to bf16 and packed.
  Value packF32(Value lo, Value hi);
  /// The bf16 in half `half` (0 low, 1 high) of i32 `word`, as f32.
  Value unpack(Value word, Value half);

  /// mma.sync.m16n8k16.row.col.f32.bf16.bf16.f32 on one lane's registers:
  /// four A, two B, four C; returns the four D.
  SmallVector<Value> mma(ValueRange a, ValueRange b, ValueRange c);

  /// The same for a whole warp on the host: registers are [32 x n] buffers
  /// indexed [lane, reg]; A at regs aAt..aAt+3, B at bAt..bAt+1, C (updated
  /// in place) at cAt..cAt+3. Reads the 32 lanes' registers through the
  /// inverse of the fragment tables: A[i][k] is in lane 4 (i % 8) +
  /// (k % 8) / 2, register i / 8 + 2 (k / 8), half k % 2; B[k][j] in lane
  /// 4 j + (k % 8) / 2, register k / 8, half k % 2; C[i][j] in lane
  /// 4 (i % 8) + j / 2, register 2 (i / 8) + j % 2.
  void emulateMma(Value aRegs, int64_t aAt, Value bRegs, int64_t bAt,
                  Value cRegs, int64_t cAt);
};

} // namespace mlir::vision::gpu_mma

#endif // FOVEA_LIB_TARGET_GPU_WARPMMA_H
