//===- FlashAttention.cpp - vision.attention on tensor cores --------------===//
//
// Replaces bf16 vision.attention (no cu_seqlens, head_dim % 16 == 0) by a
// flash-style kernel: a block of 4 warps owns 64 query rows of one head of
// one batch row; each warp keeps its 16 rows of Q as mma.sync A fragments,
// walks the keys 32 at a time (S = Q K^T on tensor cores, online softmax
// with f32 running max and sum, P rounded to bf16 as the A operand of
// O += P V) and writes O / sum once. The head dimension is used as is
// (80 = five k-steps of 16 for Q K^T, ten n8 fragments for P V): nothing is
// padded to 96 or 128. Keys past L are masked to -inf and their V rows read
// as zeros; query rows past L are not stored.
//
// Per-lane state lives in register arrays indexed by constants (a private
// memref on the GPU, which LLVM promotes to registers). With
// emulate-warps, the arrays gain a leading lane dimension, each per-lane
// phase runs in a loop over the 32 lanes, mma.sync is emulated
// (WarpMma.h) and the quad shuffles of the row reductions read the other
// lanes' arrays, so the kernel's layout runs on the host.
//
// The kernel is built before bufferization: q, k and v are read through
// bufferization.to_buffer and the result is a fresh buffer wrapped by
// bufferization.to_tensor restrict.
//
//===----------------------------------------------------------------------===//

#include "fovea/Codegen/GPU/Passes.h"

#include "WarpMma.h"

#include "fovea/Dialect/Vision/IR/VisionOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

#include <limits>

namespace mlir::vision {
#define GEN_PASS_DEF_GPUFLASHATTENTION
#include "fovea/Codegen/GPU/Passes.h.inc"
} // namespace mlir::vision

using namespace mlir;
using namespace mlir::vision;

namespace {
constexpr int64_t kWarps = 4; // warps per block, 16 query rows each
constexpr int64_t kKeys = 32; // keys per step: four n8 fragments
constexpr int64_t kRows = 16 * kWarps;

/// Register arrays of one lane: on the GPU memref<n x T> (private), with
/// emulation memref<32 x n x T> (row = lane).
struct Registers {
  Value buffer;
};

class FlashKernelBuilder {
public:
  FlashKernelBuilder(AttentionOp op, bool emulate)
      : op(op), emulate(emulate), b(op.getLoc(), op.getOperation()) {
    auto type = cast<RankedTensorType>(op.getQ().getType());
    length = type.getDimSize(1);
    heads = op.getNumHeads();
    headDim = type.getDimSize(2) / heads;
    scale = op.getScale().convertToDouble();
  }

  /// Builds the kernel and replaces the op.
  void build();

private:
  Value index(int64_t v) { return wb.index(v); }

  Registers registers(Type type, int64_t count) {
    OpBuilder::InsertionGuard guard(b);
    SmallVector<int64_t> shape = {count};
    if (emulate) {
      shape.insert(shape.begin(), 32);
      // Once, on entry to the function.
      b.setInsertionPointToStart(&op->getParentOfType<FunctionOpInterface>()
                                      .getFunctionBody()
                                      .front());
    } else {
      b.setInsertionPointToStart(registerBlock);
    }
    return {memref::AllocaOp::create(b, MemRefType::get(shape, type))};
  }
  Value get(Registers r, int64_t i) {
    if (emulate)
      return memref::LoadOp::create(b, r.buffer, ValueRange{lane, index(i)});
    return memref::LoadOp::create(b, r.buffer, ValueRange{index(i)});
  }
  void set(Registers r, int64_t i, Value v) {
    if (emulate)
      memref::StoreOp::create(b, v, r.buffer, ValueRange{lane, index(i)});
    else
      memref::StoreOp::create(b, v, r.buffer, ValueRange{index(i)});
  }

  /// Runs `body` for every lane of the warp (`lane` is set inside).
  void lanes(function_ref<void()> body) {
    if (!emulate)
      return body();
    wb.loop(32, [&](Value l) {
      lane = l;
      body();
    });
  }

  /// Positions of the current lane: query rows row0 = first + g and
  /// row0 + 8, key/column offset t2 = 2 (lane % 4).
  void frame() {
    g = wb.div(lane, 4);
    t2 = wb.mul(wb.rem(lane, 4), 2);
    row[0] = wb.add(firstRow, g);
    row[1] = wb.add(row[0], 8);
    rowOk[0] = wb.less(row[0], index(length));
    rowOk[1] = wb.less(row[1], index(length));
  }

  /// `x[batch, token, column]` as bf16, zero when `ok` is false.
  Value load(Value x, Value ok, Value token, Value column) {
    return wb.select(
        ok,
        [&] {
          return memref::LoadOp::create(b, x, ValueRange{batch, token, column});
        },
        zeroBf16);
  }

  /// mma.sync of A registers a[aAt..], B registers bRegs[bAt..] into c[cAt..]
  /// for the warp.
  void mma(Registers a, int64_t aAt, Registers bRegs, int64_t bAt, Registers c,
           int64_t cAt) {
    if (emulate)
      return wb.emulateMma(a.buffer, aAt, bRegs.buffer, bAt, c.buffer, cAt);
    SmallVector<Value> av, bv, cv;
    for (int64_t i = 0; i < 4; ++i)
      av.push_back(get(a, aAt + i));
    for (int64_t i = 0; i < 2; ++i)
      bv.push_back(get(bRegs, bAt + i));
    for (int64_t i = 0; i < 4; ++i)
      cv.push_back(get(c, cAt + i));
    SmallVector<Value> d = wb.mma(av, bv, cv);
    for (int64_t i = 0; i < 4; ++i)
      set(c, cAt + i, d[i]);
  }

  /// r[i] = combine of r[i] over the four lanes of each quad (the lanes
  /// sharing g, hence a row): two xor shuffles on the GPU.
  void quadReduce(Registers r, int64_t i, bool isMax) {
    auto combine = [&](Value x, Value y) -> Value {
      if (isMax)
        return arith::MaximumFOp::create(b, x, y);
      return arith::AddFOp::create(b, x, y);
    };
    if (!emulate) {
      Value v = get(r, i);
      for (int64_t offset : {1, 2}) {
        Value other =
            gpu::ShuffleOp::create(b, v, offset, 32, gpu::ShuffleMode::XOR)
                .getShuffleResult();
        v = combine(v, other);
      }
      return set(r, i, v);
    }
    // Each lane's result from the quad's registers, then written back.
    lanes([&] {
      Value quad = wb.mul(wb.div(lane, 4), 4);
      Value v = memref::LoadOp::create(b, r.buffer, ValueRange{quad, index(i)});
      for (int64_t t = 1; t < 4; ++t)
        v = combine(v, memref::LoadOp::create(
                           b, r.buffer, ValueRange{wb.add(quad, t), index(i)}));
      set(scratch, 0, v);
    });
    lanes([&] { set(r, i, get(scratch, 0)); });
  }

  /// Builds one warp's walk over the keys, from loading Q to storing O.
  void buildWarp();
  /// Allocates the warp's register arrays and its f32 constants.
  void allocateRegisters();
  /// Loads the lane's rows of Q as A fragments (needs the lane's frame).
  void loadQueries();
  /// Clears O and sets the running maxima to -inf and the sums to zero.
  void resetState();
  /// S = Q K^T for the keys key0.. key0 + 31.
  void computeScores(Value key0);
  /// Scales S, masks keys past L and reduces the row maxima into `part`.
  void maskScores(Value key0);
  /// Online softmax step: rescales O and the sums, turns S into P.
  void updateSoftmax();
  /// Moves the running maxima to `newMax` and rescales O and the sums.
  void rescaleRows(Value newMax[2]);
  /// P = exp(S - newMax), with the lane's row sums into `part`.
  void exponentiateScores(Value newMax[2]);
  /// Repacks P's C fragments as the A fragments of O += P V.
  void packProbabilities();
  /// O += P V for the keys key0.. key0 + 31.
  void accumulateValues(Value key0);
  /// Writes O / sum, rounded once to bf16, for the rows below L.
  void storeOutput();

  AttentionOp op;
  bool emulate;
  ImplicitLocOpBuilder b;
  vision::gpu_mma::WarpBuilder wb{b};
  int64_t length, heads, headDim;
  double scale;

  Value q, k, v, out, zeroBf16;
  Block *registerBlock = nullptr;
  // The warp's position: batch row, head's first column, first query row.
  Value batch, column0, firstRow;
  // The current lane and its frame.
  Value lane, g, t2, row[2], rowOk[2];
  Registers scratch;
  // The warp's register arrays, set by allocateRegisters.
  int64_t kSteps = 0, dFragments = 0;
  Registers qa, acc, stats, s, part, kb, pa, vb;
  Value negInf, zero;
};

void FlashKernelBuilder::allocateRegisters() {
  kSteps = headDim / 16;
  dFragments = headDim / 8;
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  qa = registers(i32, 4 * kSteps);      // Q as A fragments
  acc = registers(f32, 4 * dFragments); // O, 16 x headDim
  stats = registers(f32, 4);            // max0, max1, sum0, sum1
  s = registers(f32, 16);               // S/P, 16 x 32
  part = registers(f32, 2);             // per-row partials
  kb = registers(i32, 8);               // K^T as B fragments
  pa = registers(i32, 8);               // P as A fragments
  vb = registers(i32, 2 * dFragments);  // V as B fragments
  if (emulate)
    scratch = registers(f32, 1); // quadReduce's results before write-back
  negInf = wb.f32(-std::numeric_limits<double>::infinity());
  zero = wb.f32(0);
}

void FlashKernelBuilder::loadQueries() {
  for (int64_t ks = 0; ks < kSteps; ++ks) {
    Value col = wb.add(wb.add(column0, 16 * ks), t2);
    for (int64_t r = 0; r < 4; ++r) {
      // a0: row g, cols 2t..; a1: row g + 8; a2, a3: cols + 8.
      Value c = wb.add(col, 8 * (r / 2));
      set(qa, 4 * ks + r,
          wb.pack(load(q, rowOk[r % 2], row[r % 2], c),
                  load(q, rowOk[r % 2], row[r % 2], wb.add(c, 1))));
    }
  }
}

void FlashKernelBuilder::resetState() {
  for (int64_t i = 0; i < 4 * dFragments; ++i)
    set(acc, i, zero);
  set(stats, 0, negInf);
  set(stats, 1, negInf);
  set(stats, 2, zero);
  set(stats, 3, zero);
}

void FlashKernelBuilder::computeScores(Value key0) {
  lanes([&] {
    for (int64_t i = 0; i < 16; ++i)
      set(s, i, zero);
  });
  // B[k][n] = K[key0 + 8j + n][column0 + 16 ks + k].
  for (int64_t ks = 0; ks < kSteps; ++ks) {
    lanes([&] {
      frame();
      Value col = wb.add(wb.add(column0, 16 * ks), t2);
      for (int64_t j = 0; j < 4; ++j) {
        Value key = wb.add(wb.add(key0, 8 * j), g);
        Value ok = wb.less(key, index(length));
        for (int64_t r = 0; r < 2; ++r) {
          Value c = wb.add(col, 8 * r);
          set(kb, 2 * j + r,
              wb.pack(load(k, ok, key, c), load(k, ok, key, wb.add(c, 1))));
        }
      }
    });
    for (int64_t j = 0; j < 4; ++j)
      mma(qa, 4 * ks, kb, 2 * j, s, 4 * j);
  }
}

void FlashKernelBuilder::maskScores(Value key0) {
  lanes([&] {
    frame();
    Value rowMax[2] = {negInf, negInf};
    for (int64_t j = 0; j < 4; ++j)
      for (int64_t e = 0; e < 4; ++e) {
        Value key = wb.add(wb.add(wb.add(key0, 8 * j), t2), e % 2);
        Value x = arith::MulFOp::create(b, get(s, 4 * j + e), wb.f32(scale));
        x = arith::SelectOp::create(b, wb.less(key, index(length)), x, negInf);
        set(s, 4 * j + e, x);
        rowMax[e / 2] = arith::MaximumFOp::create(b, rowMax[e / 2], x);
      }
    set(part, 0, rowMax[0]);
    set(part, 1, rowMax[1]);
  });
  quadReduce(part, 0, /*isMax=*/true);
  quadReduce(part, 1, /*isMax=*/true);
}

void FlashKernelBuilder::updateSoftmax() {
  lanes([&] {
    Value newMax[2];
    rescaleRows(newMax);
    exponentiateScores(newMax);
    packProbabilities();
  });
  quadReduce(part, 0, /*isMax=*/false);
  quadReduce(part, 1, /*isMax=*/false);
  lanes([&] {
    for (int64_t r = 0; r < 2; ++r)
      set(stats, 2 + r,
          arith::AddFOp::create(b, get(stats, 2 + r), get(part, r)));
  });
}

void FlashKernelBuilder::rescaleRows(Value newMax[2]) {
  // exp(old max - new max) keeps O and the sums relative to the new max.
  for (int64_t r = 0; r < 2; ++r) {
    newMax[r] = arith::MaximumFOp::create(b, get(stats, r), get(part, r));
    Value alpha = math::ExpOp::create(
        b, arith::SubFOp::create(b, get(stats, r), newMax[r]));
    set(stats, r, newMax[r]);
    set(stats, 2 + r, arith::MulFOp::create(b, get(stats, 2 + r), alpha));
    for (int64_t n = 0; n < dFragments; ++n)
      for (int64_t e = 0; e < 2; ++e) {
        int64_t i = 4 * n + 2 * r + e;
        set(acc, i, arith::MulFOp::create(b, get(acc, i), alpha));
      }
  }
}

void FlashKernelBuilder::exponentiateScores(Value newMax[2]) {
  Value rowSum[2] = {zero, zero};
  for (int64_t j = 0; j < 4; ++j)
    for (int64_t e = 0; e < 4; ++e) {
      Value p = math::ExpOp::create(
          b, arith::SubFOp::create(b, get(s, 4 * j + e), newMax[e / 2]));
      set(s, 4 * j + e, p);
      rowSum[e / 2] = arith::AddFOp::create(b, rowSum[e / 2], p);
    }
  set(part, 0, rowSum[0]);
  set(part, 1, rowSum[1]);
}

void FlashKernelBuilder::packProbabilities() {
  // P's C fragments are A fragments of the next mma: keys 16 kk.. are
  // fragments 2 kk (a0, a1) and 2 kk + 1 (a2, a3).
  for (int64_t kk = 0; kk < 2; ++kk)
    for (int64_t r = 0; r < 4; ++r) {
      int64_t from = 4 * (2 * kk + r / 2) + 2 * (r % 2);
      set(pa, 4 * kk + r, wb.packF32(get(s, from), get(s, from + 1)));
    }
}

void FlashKernelBuilder::accumulateValues(Value key0) {
  // B[k][n] = V[key0 + 16 kk + k][column0 + 8 n + n'].
  for (int64_t kk = 0; kk < 2; ++kk) {
    lanes([&] {
      frame();
      Value keyA = wb.add(wb.add(key0, 16 * kk), t2);
      for (int64_t n = 0; n < dFragments; ++n) {
        Value col = wb.add(wb.add(column0, 8 * n), g);
        for (int64_t r = 0; r < 2; ++r) {
          Value key = wb.add(keyA, 8 * r);
          Value next = wb.add(key, 1);
          set(vb, 2 * n + r,
              wb.pack(load(v, wb.less(key, index(length)), key, col),
                      load(v, wb.less(next, index(length)), next, col)));
        }
      }
    });
    for (int64_t n = 0; n < dFragments; ++n)
      mma(pa, 4 * kk, vb, 2 * n, acc, 4 * n);
  }
}

void FlashKernelBuilder::storeOutput() {
  lanes([&] {
    frame();
    for (int64_t r = 0; r < 2; ++r) {
      Value sum = get(stats, 2 + r);
      Value rowIndex = row[r];
      wb.when(rowOk[r], [&] {
        for (int64_t n = 0; n < dFragments; ++n)
          for (int64_t e = 0; e < 2; ++e) {
            Value o =
                arith::DivFOp::create(b, get(acc, 4 * n + 2 * r + e), sum);
            Value col = wb.add(wb.add(wb.add(column0, 8 * n), t2), e);
            memref::StoreOp::create(
                b, arith::TruncFOp::create(b, b.getBF16Type(), o), out,
                ValueRange{batch, rowIndex, col});
          }
      });
    }
  });
}

void FlashKernelBuilder::buildWarp() {
  allocateRegisters();
  lanes([&] {
    frame();
    loadQueries();
    resetState();
  });
  int64_t steps = (length + kKeys - 1) / kKeys;
  wb.loop(steps, [&](Value step) {
    Value key0 = wb.mul(step, kKeys);
    computeScores(key0);
    maskScores(key0);
    updateSoftmax();
    accumulateValues(key0);
  });
  storeOutput();
}

void FlashKernelBuilder::build() {
  auto tensorType = cast<RankedTensorType>(op.getType());
  // Any strides: q, k and v may be views of the fused qkv projection.
  int64_t dynamic = ShapedType::kDynamic;
  auto view =
      MemRefType::get(tensorType.getShape(), tensorType.getElementType(),
                      StridedLayoutAttr::get(b.getContext(), dynamic,
                                             {dynamic, dynamic, dynamic}));
  q = bufferization::ToBufferOp::create(b, view, op.getQ(), /*readOnly=*/true);
  k = bufferization::ToBufferOp::create(b, view, op.getK(), /*readOnly=*/true);
  v = bufferization::ToBufferOp::create(b, view, op.getV(), /*readOnly=*/true);
  Value batches = memref::DimOp::create(b, q, 0);
  // The batch is the only dimension that may be dynamic.
  SmallVector<Value> dynamicSizes;
  if (tensorType.isDynamicDim(0))
    dynamicSizes.push_back(batches);
  out = memref::AllocOp::create(
      b, MemRefType::get(tensorType.getShape(), tensorType.getElementType()),
      dynamicSizes);
  zeroBf16 = arith::ConstantOp::create(b, b.getFloatAttr(b.getBF16Type(), 0));
  int64_t rowBlocks = (length + kRows - 1) / kRows;

  if (emulate) {
    wb.loop(batches, [&](Value bIndex) {
      wb.loop(heads, [&](Value head) {
        wb.loop(rowBlocks, [&](Value block) {
          wb.loop(kWarps, [&](Value warp) {
            batch = bIndex;
            column0 = wb.mul(head, headDim);
            firstRow = wb.add(wb.mul(block, kRows), wb.mul(warp, 16));
            buildWarp();
          });
        });
      });
    });
  } else {
    auto launch =
        gpu::LaunchOp::create(b, index(rowBlocks), index(heads), batches,
                              index(32 * kWarps), index(1), index(1));
    registerBlock = &launch.getBody().front();
    b.setInsertionPointToStart(registerBlock);
    Value thread = launch.getThreadIds().x;
    lane = wb.rem(thread, 32);
    batch = launch.getBlockIds().z;
    column0 = wb.mul(launch.getBlockIds().y, headDim);
    firstRow = wb.add(wb.mul(launch.getBlockIds().x, kRows),
                      wb.mul(wb.div(thread, 32), 16));
    buildWarp();
    gpu::TerminatorOp::create(b);
    b.setInsertionPointAfter(launch);
  }
  Value result = bufferization::ToTensorOp::create(
      b, tensorType, out, /*restrict=*/true, /*writable=*/true);
  op.getResult().replaceAllUsesWith(result);
  op.erase();
}

/// bf16 attention without cu_seqlens whose head dimension is a multiple of
/// 16 (one mma k-step).
bool isFlashAttention(AttentionOp op) {
  auto type = cast<RankedTensorType>(op.getQ().getType());
  if (op.getCuSeqlens() || !type.getElementType().isBF16())
    return false;
  int64_t headDim = type.getDimSize(2) / op.getNumHeads();
  return headDim % 16 == 0 && headDim <= 256;
}

struct GpuFlashAttentionPass
    : vision::impl::GpuFlashAttentionBase<GpuFlashAttentionPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<AttentionOp> ops;
    getOperation()->walk([&](AttentionOp op) {
      if (isFlashAttention(op))
        ops.push_back(op);
    });
    for (AttentionOp op : ops)
      FlashKernelBuilder(op, emulateWarps).build();
  }
};
} // namespace
