"""PyTorch (CPU) numerical reference of the ``vision`` dialect ops.

This module is the numerical oracle of Fovea. It is written from the reference
semantics (``shared/spec/reference-semantics.md``, cited below as "spec §N")
and from the op descriptions in
``include/fovea/Dialect/Vision/IR/VisionOps.td``; no engine's code was copied.
There is one function per op, taking and returning torch tensors, plus a few
helpers (bf16 rounding, the EVS keep count, the EVS dissimilarity).

Dtype conventions:

* Arithmetic ops (``normalize``, ``resize`` in ``f32_clamp``, ``patch_embed``,
  ``tubelet_embed``, ``layer_norm``, ``linear``, ``gelu``, ``relu2``,
  ``attention``) compute in f32 and return f32 whatever the input dtype; the
  single rounding to the storage type that the op performs (e.g. bf16) is left
  to the caller (``to_bf16`` / ``bf16_round``), so one oracle serves every
  element type.
* Ops whose rounding points are part of their semantics take or preserve the
  storage type: ``interp_pos_embed`` and ``rms_norm`` (``storage_dtype``),
  ``evs_prune`` (every step in ``x``'s dtype), ``resize`` in ``u8``.
* Pure data-movement ops (``prepend_tokens``, ``strip_prefix``,
  ``pixel_shuffle``) preserve the dtype and values exactly.

Runs with Debian's ``/usr/bin/python3`` (torch 1.13, numpy; Pillow only in
the self-test).
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "normalize", "resize", "patch_embed", "tubelet_embed", "interp_pos_embed",
    "prepend_tokens", "strip_prefix", "layer_norm", "rms_norm", "linear",
    "gelu", "relu2", "attention", "pixel_shuffle", "evs_prune",
    "evs_dissimilarity", "keep_count", "to_bf16", "bf16_round",
    "resize_coefficients", "im2patches", "CLIP_MEAN", "CLIP_STD",
]

# Spec §1.1: OpenAI-CLIP statistics, used unrounded.
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def to_bf16(t):
    """Rounds ``t`` to bfloat16 (round to nearest, ties to even); spec §0.2."""
    return t.to(torch.bfloat16)


def bf16_round(t):
    """Rounds f32 ``t`` to bf16 and back to f32 (RNE), i.e. ``bf16(x)``."""
    return t.to(torch.float32).to(torch.bfloat16).to(torch.float32)


def keep_count(L, nt, rate):
    """Number of tokens EVS keeps (spec §9.1, §9.4).

    ``max(L, int(L * nt * (1 - rate)))`` with Python floats (double): ``1 -
    rate`` is evaluated in double and ``int`` truncates toward zero, e.g.
    ``keep_count(5, 20, 0.9) == 9`` since ``1 - 0.9 == 0.09999999999999998``.
    """
    total = int(L) * int(nt)
    return max(int(L), int(total * (1.0 - float(rate))))


# ---------------------------------------------------------------------------
# Input conditioning (spec §1)
# ---------------------------------------------------------------------------

def normalize(x, mean, std):
    """``vision.normalize`` (spec §1.1-§1.2).

    ``x``: NCHW uint8 or float pixels in [0, 255]; ``mean``/``std``: Python
    float lists with one entry per channel, converted with
    ``torch.tensor(list)`` (f32). Returns f32 ``((x / 255) - mean_c) / std_c``
    with a true f32 division by 255 (not a multiplication by 1/255), then an
    f32 subtraction and an f32 division.
    """
    assert x.dim() == 4, "normalize expects NCHW"
    c = x.shape[1]
    mean_t = torch.tensor(list(mean)).to(torch.float32).reshape(1, c, 1, 1)
    std_t = torch.tensor(list(std)).to(torch.float32).reshape(1, c, 1, 1)
    xf = x.to(torch.float32) / 255.0
    return (xf - mean_t) / std_t


def _keys_cubic(x):
    """Keys' cubic convolution kernel with a = -0.5 (spec §1.3), in double.

    Evaluated in the Horner forms ``((a+2)|x| - (a+3))|x|^2 + 1`` and
    ``(((|x| - 5)|x| + 8)|x| - 4) a``; these are the spec's polynomials, and
    this evaluation order is the one Pillow's ``bicubic_filter`` uses, which
    matters for the last bit of the 22-bit fixed-point weights.
    """
    a = -0.5
    x = abs(x)
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    if x < 2.0:
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return 0.0


def resize_coefficients(in_size, out_size):
    """Per-output taps and normalized double weights of one resize axis.

    Spec §1.3 (the kernel shared by Pillow's ``precompute_coeffs`` and
    PyTorch's antialiased mode), all in double::

        scale   = in / out
        support = 2 * max(scale, 1)
        center  = scale * (i + 0.5)
        xmin    = max(trunc(center - support + 0.5), 0)
        xmax    = min(trunc(center + support + 0.5), in)
        w_j     = K((j - center + 0.5) / max(scale, 1)),  j in [xmin, xmax)
        w_j    /= sum(w)

    Returns a list of ``(xmin, [w_xmin, ..., w_(xmax-1)])`` per output index.
    """
    scale = float(in_size) / float(out_size)
    filterscale = max(scale, 1.0)
    support = 2.0 * filterscale
    invs = 1.0 / filterscale
    coeffs = []
    for i in range(out_size):
        center = scale * (i + 0.5)
        xmin = max(int(center - support + 0.5), 0)  # int() truncates like C
        xmax = min(int(center + support + 0.5), in_size)
        ws = [_keys_cubic((j - center + 0.5) * invs) for j in range(xmin, xmax)]
        total = sum(ws)  # left-to-right, as Pillow's loop
        if total != 0.0:
            ws = [w / total for w in ws]
        coeffs.append((xmin, ws))
    return coeffs


# Pillow's fixed-point precision for 8-bit images (Resample.c: 32 - 8 - 2).
_PRECISION_BITS = 22


def _tap_tables(in_size, out_size, fixed_point):
    """Gather indices [out, K] and weights [out, K] of one axis (zero-padded)."""
    coeffs = resize_coefficients(in_size, out_size)
    k = max(len(ws) for _, ws in coeffs)
    idx = torch.zeros(out_size, k, dtype=torch.int64)
    if fixed_point:
        wt = torch.zeros(out_size, k, dtype=torch.int64)
    else:
        wt = torch.zeros(out_size, k, dtype=torch.float32)
    one = float(1 << _PRECISION_BITS)
    for i, (xmin, ws) in enumerate(coeffs):
        for t, w in enumerate(ws):
            idx[i, t] = xmin + t
            if fixed_point:
                # Round half away from zero of w * 2^22: C's (int)(w*2^22 +- 0.5).
                wt[i, t] = int(w * one + 0.5) if w >= 0 else int(w * one - 0.5)
            else:
                wt[i, t] = w  # double -> f32
        for t in range(len(ws), k):
            idx[i, t] = xmin  # any valid index; its weight is 0
    return idx, wt


def _resample_axis_u8(x, dim, out_size):
    """One Pillow 8-bit pass along ``dim``: int accumulation, >> 22, clip."""
    x = x.movedim(dim, -1).to(torch.int64)
    idx, wt = _tap_tables(x.shape[-1], out_size, fixed_point=True)
    acc = torch.full(x.shape[:-1] + (out_size,), 1 << (_PRECISION_BITS - 1),
                     dtype=torch.int64)
    for t in range(idx.shape[1]):                 # taps in ascending order
        acc += x[..., idx[:, t]] * wt[:, t]
    acc = torch.div(acc, 1 << _PRECISION_BITS, rounding_mode="floor")  # >> 22
    return acc.clamp(0, 255).to(torch.uint8).movedim(-1, dim)


def _resample_axis_f32(x, dim, out_size):
    """One f32 pass along ``dim``: f32 weights, taps summed left to right.

    ``acc = w_0 x_0; acc = acc + w_t x_t`` for t = 1, 2, ... with each f32
    product and sum rounded (no fma); zero-padded taps add exact zeros.
    """
    x = x.movedim(dim, -1).to(torch.float32)
    idx, wt = _tap_tables(x.shape[-1], out_size, fixed_point=False)
    acc = x[..., idx[:, 0]] * wt[:, 0]
    for t in range(1, idx.shape[1]):
        acc = acc + x[..., idx[:, t]] * wt[:, t]
    return acc.movedim(-1, dim)


def resize(x, size, domain):
    """``vision.resize`` (spec §1.3): separable antialiased bicubic, NCHW.

    ``size`` = (H', W'). Keys' cubic a = -0.5, align_corners=False, kernel
    from ``resize_coefficients``. The WIDTH pass runs first, then the HEIGHT
    pass; a pass whose axis keeps its size is skipped (it would be the
    identity: the taps are K(-1), K(0), K(1), K(2) = 0, 1, 0, 0), and a resize
    to the input's own size returns the input (all engines skip it).

    ``domain``:

    * ``"u8"`` (current vLLM uint8 kernel, designed to reproduce Pillow):
      ``x`` uint8. Each pass is Pillow 9.4's 8-bit ``ImagingResample``
      (``Resample.c``: ``precompute_coeffs`` -> ``normalize_coeffs_8bpc`` ->
      ``ImagingResampleHorizontal_8bpc`` / ``Vertical_8bpc``): the normalized
      double weights become int32 ``(int)(w * 2^22 +- 0.5)`` (round half away
      from zero, PRECISION_BITS = 22), each output accumulates
      ``(1 << 21) + sum(pixel * w_int)`` in integers, then ``>> 22`` and clamps
      to [0, 255] (``clip8``); the intermediate after the width pass is uint8.
      The self-test checks this is bit-identical to Pillow's
      ``Image.resize((W', H'), BICUBIC)``.
    * ``"f32_clamp"`` (TRT-LLM): ``x`` f32 in [0, 255]. Both passes in f32
      (double-normalized weights rounded to f32, products summed left to right
      in f32), no intermediate rounding to integers; the result is clamped to
      [0, 255], not rounded. PyTorch's own fp32 kernel computes its weights in
      f32 and sums in its own order, so it agrees to ~1e-4 on small images
      and a few 1e-3 (out of 255) on strong downscales such as 1080p -> 384.
    """
    assert x.dim() == 4, "resize expects NCHW"
    out_h, out_w = int(size[0]), int(size[1])
    in_h, in_w = x.shape[2], x.shape[3]
    if domain == "u8":
        assert x.dtype == torch.uint8, "resize u8 takes uint8 pixels"
        y = x
        if out_w != in_w:
            y = _resample_axis_u8(y, 3, out_w)
        if out_h != in_h:
            y = _resample_axis_u8(y, 2, out_h)
        return y.clone() if y is x else y
    if domain == "f32_clamp":
        assert x.dtype == torch.float32, "resize f32_clamp takes f32 pixels"
        if (out_h, out_w) == (in_h, in_w):
            return x.clone()
        y = x
        if out_w != in_w:
            y = _resample_axis_f32(y, 3, out_w)
        if out_h != in_h:
            y = _resample_axis_f32(y, 2, out_h)
        return y.clamp(0.0, 255.0)
    raise ValueError("unknown resize domain %r" % (domain,))


# ---------------------------------------------------------------------------
# Embedding (spec §2, §3, §6)
# ---------------------------------------------------------------------------

def im2patches(x, patch_size):
    """Im2Patches (spec §2): [N, C, H, W] -> [N, (H/P)(W/P), C*P*P].

    ``patch[n, py*Wp + px, c*P*P + yy*P + xx] = x[n, c, py*P + yy, px*P + xx]``
    (vector order (c, yy, xx); patches row-major). Pure data movement.
    """
    n, c, h, w = x.shape
    p = int(patch_size)
    assert h % p == 0 and w % p == 0, "patch_size must divide H and W"
    hp, wp = h // p, w // p
    return (x.reshape(n, c, hp, p, wp, p)
             .permute(0, 2, 4, 1, 3, 5)
             .reshape(n, hp * wp, c * p * p))


def patch_embed(x, weight, patch_size, compute_dtype=torch.float32):
    """``vision.patch_embed`` (spec §2): Im2Patches then ``patch @ weight^T``.

    ``x`` [N, C, H, W], ``weight`` [D, C*P*P] (checkpoint layout, no bias).
    Result [N, (H/P)*(W/P), D], computed in ``compute_dtype`` (f32 by default,
    float64 optional) and returned as f32.
    """
    patches = im2patches(x, patch_size).to(compute_dtype)
    return torch.matmul(patches, weight.to(compute_dtype).t()).to(torch.float32)


def tubelet_embed(frames, weight, patch_size, T, compute_dtype=torch.float32):
    """``vision.tubelet_embed`` (spec §6.2): temporal patch embedding.

    ``frames`` [F, C, H, W]; the frame axis is padded to ``ceil(F/T)*T`` by
    repeating the LAST frame (never zeros); tubelet ``tau`` concatenates the
    patch vectors of frames ``tau*T ... tau*T+T-1`` (vector order
    (t, c, yy, xx)) and is projected with ``weight`` [D, T*C*P*P].
    Result [ceil(F/T), L, D] as f32 (computed in ``compute_dtype``).
    """
    t_size = int(T)
    nf = frames.shape[0]
    assert nf > 0 and t_size > 0
    pad = (-nf) % t_size
    if pad:
        frames = torch.cat([frames, frames[-1:].expand(pad, *frames.shape[1:])], 0)
    patches = im2patches(frames, patch_size)                  # [nt*T, L, CPP]
    nt = frames.shape[0] // t_size
    _, l, cpp = patches.shape
    tub = (patches.reshape(nt, t_size, l, cpp)
                  .permute(0, 2, 1, 3)
                  .reshape(nt, l, t_size * cpp))
    tub = tub.to(compute_dtype)
    return torch.matmul(tub, weight.to(compute_dtype).t()).to(torch.float32)


def interp_pos_embed(table, grid, align_corners, storage_dtype=None):
    """``vision.interp_pos_embed`` (spec §3.2): CPE position embeddings.

    ``table`` [1, R*R, C] is a row-major R x R grid. For ``grid`` = (h, w),
    ``m = max(h, w)``: bilinear resample (``F.interpolate`` mode "bilinear",
    no antialias, ``align_corners`` as given) in f32 to m x m, rounded to
    ``storage_dtype`` (default: the table's dtype) BEFORE the top-left h x w
    window is kept. Result [1, h*w, C] in ``storage_dtype``. When
    (h, w) == (R, R) the table is returned as is (the engines' early return).

    The grid is made NCHW-contiguous before ``F.interpolate``: PyTorch's CPU
    kernel takes a different path for a channels-last tensor (what the
    engines' ``permute`` produces), which sums four pre-multiplied weights
    h_a*w_b and differs from the NCHW path in the last f32 bit in about half
    of the elements. The NCHW path of torch 1.13 computes, per axis,
    ``scale = f32(in) / f32(out)`` (``f32(in-1) / f32(out-1)`` with
    align_corners), the source index ``scale*(dst+0.5) - 0.5`` (clamped at 0;
    ``scale*dst`` with align_corners) in double, ``l1 = f32(src - i0)``,
    ``l0 = 1 - l1`` in f32, and (a same-size axis is an exact copy)
    ``out = h0*(w0*v00 + w1*v01) + h1*(w0*v10 + w1*v11)`` in f32, where this
    build contracts ``t = fma(w0, v00, w1*v01)`` and
    ``out = fma(h0, t0, h1*t1)``. The self-test checks these closed forms
    bit-exactly (with or without the fma contraction). Other kernels (CUDA,
    channels-last) agree to about one f32 ulp, so the bf16-rounded result
    can differ in rare last-bit cases.
    """
    if storage_dtype is None:
        storage_dtype = table.dtype
    h, w = int(grid[0]), int(grid[1])
    _, rr, c = table.shape
    r = math.isqrt(rr)
    assert r * r == rr, "table rows must form a square grid"
    if (h, w) == (r, r):
        return table.to(storage_dtype)
    g = table.reshape(1, r, r, c).permute(0, 3, 1, 2).to(torch.float32)
    g = g.contiguous()  # pin the NCHW kernel path (see above)
    m = max(h, w)
    g = F.interpolate(g, size=(m, m), mode="bilinear",
                      align_corners=bool(align_corners))
    g = g.to(storage_dtype)
    g = g[:, :, :h, :w]
    return g.flatten(2).permute(0, 2, 1).contiguous()


# ---------------------------------------------------------------------------
# Prefix tokens (spec §4, §3.5)
# ---------------------------------------------------------------------------

def prepend_tokens(prefix, x, segment_sizes=None):
    """``vision.prepend_tokens`` (spec §4): insert the S prefix rows.

    ``prefix`` [S, C], ``x`` [B, L, C]. Without ``segment_sizes``: result
    ``[B, S+L, C]`` = ``concat(prefix, x[b])``. With ``segment_sizes`` =
    [L0, L1, ...] (summing to L), each row packs k sequences and the prefix
    goes before each: ``concat(prefix, seg0, prefix, seg1, ...)``.
    """
    b = x.shape[0]
    pre = prefix.to(x.dtype).unsqueeze(0).expand(b, *prefix.shape)
    if segment_sizes is None:
        return torch.cat([pre, x], dim=1)
    sizes = [int(s) for s in segment_sizes]
    assert sum(sizes) == x.shape[1], "segment sizes must sum to L"
    parts = []
    for seg in torch.split(x, sizes, dim=1):
        parts += [pre, seg]
    return torch.cat(parts, dim=1)


def strip_prefix(x, num_prefix, segment_sizes=None):
    """``vision.strip_prefix`` (spec §4): inverse of ``prepend_tokens``.

    Drops the first ``num_prefix`` tokens of each sequence. ``segment_sizes``
    are the sizes WITHOUT prefix; each row then packs sequences of
    ``num_prefix + L_i`` tokens and their last L_i tokens are concatenated.
    """
    s = int(num_prefix)
    if segment_sizes is None:
        assert x.shape[1] >= s
        return x[:, s:].clone()
    sizes = [int(v) for v in segment_sizes]
    assert sum(sizes) + len(sizes) * s == x.shape[1]
    parts = []
    for seg in torch.split(x, [v + s for v in sizes], dim=1):
        parts.append(seg[:, s:])
    return torch.cat(parts, dim=1)


# ---------------------------------------------------------------------------
# Normalization, linear layers, activations (spec §5.2, §8)
# ---------------------------------------------------------------------------

def layer_norm(x, weight, bias, eps):
    """``vision.layer_norm`` (spec §5.2): over the last dim, in f32.

    ``mu = mean(x)``, ``var = mean((x - mu)^2)`` (biased),
    ``y = (x - mu) / sqrt(var + eps) * weight + bias``. Returns f32.
    """
    xf = x.to(torch.float32)
    mu = xf.mean(dim=-1, keepdim=True)
    xc = xf - mu
    var = (xc * xc).mean(dim=-1, keepdim=True)
    return xc / torch.sqrt(var + eps) * weight.to(torch.float32) \
        + bias.to(torch.float32)


def rms_norm(x, weight, eps, weight_order, storage_dtype=torch.float32):
    """``vision.rms_norm`` (spec §8): RMSNorm over the last dim.

    In f32: ``n = x * rsqrt(mean(x^2) + eps)``. ``weight_order``:

    * ``"cast_then_scale"`` (vLLM):
      ``to(storage)(to(storage)(n).float() * weight.float())``;
    * ``"scale_then_cast"`` (HF, AutoModel): ``to(storage)(n * weight.float())``.

    The two agree for f32 storage. Returns ``storage_dtype``.
    """
    xf = x.to(torch.float32)
    var = (xf * xf).mean(dim=-1, keepdim=True)
    n = xf * torch.rsqrt(var + eps)
    wf = weight.to(torch.float32)
    if weight_order == "cast_then_scale":
        return (n.to(storage_dtype).to(torch.float32) * wf).to(storage_dtype)
    if weight_order == "scale_then_cast":
        return (n * wf).to(storage_dtype)
    raise ValueError("unknown weight_order %r" % (weight_order,))


def linear(x, weight, bias=None, compute_dtype=torch.float32):
    """``vision.linear`` (spec §5.2, §8): ``x @ weight^T (+ bias)``.

    ``weight`` [N, K] (checkpoint layout), ``bias`` [N] added to the
    accumulator. Computed in ``compute_dtype`` (f32), returned as f32.
    """
    y = torch.matmul(x.to(compute_dtype), weight.to(compute_dtype).t())
    if bias is not None:
        y = y + bias.to(compute_dtype)
    return y.to(torch.float32)


def gelu(x, approximation):
    """``vision.gelu`` (spec §5.2), in f32.

    ``"none"``: ``0.5 x (1 + erf(x / sqrt(2)))`` (inference engines);
    ``"tanh"``: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``
    (Megatron training).
    """
    xf = x.to(torch.float32)
    if approximation == "none":
        return 0.5 * xf * (1.0 + torch.erf(xf * (1.0 / math.sqrt(2.0))))
    if approximation == "tanh":
        k = math.sqrt(2.0 / math.pi)
        return 0.5 * xf * (1.0 + torch.tanh(k * (xf + 0.044715 * xf * xf * xf)))
    raise ValueError("unknown gelu approximation %r" % (approximation,))


def relu2(x):
    """``vision.relu2`` (spec §8): ``relu(x)^2`` in f32."""
    r = torch.relu(x.to(torch.float32))
    return r * r


# ---------------------------------------------------------------------------
# Attention (spec §5.2, §5.4)
# ---------------------------------------------------------------------------

def _sdpa_heads(q, k, v, scale):
    """softmax(q k^T * scale) v on [..., L, d] tensors (max-subtracted)."""
    logits = torch.matmul(q, k.transpose(-1, -2)) * scale
    return torch.matmul(torch.softmax(logits, dim=-1), v)


def attention(q, k, v, num_heads, scale, cu_seqlens=None,
              compute_dtype=torch.float32):
    """``vision.attention`` (spec §5.2, §5.4): multi-head attention, no mask.

    ``q``, ``k``, ``v`` [B, L, E], E = num_heads * d, head h owning columns
    [h*d, (h+1)*d). Per batch row and head ``softmax(q k^T * scale) v`` in
    ``compute_dtype`` (f32); heads re-concatenated in order; result
    [B, L, E] f32. With ``cu_seqlens`` (ints [k+1], 0 = c0 < ... < ck = L) the
    token axis packs k sequences and attention is block-diagonal: each
    ``[c_s, c_(s+1))`` block is attended independently.
    """
    b, l, e = q.shape
    h = int(num_heads)
    assert e % h == 0
    d = e // h

    def heads(t):
        return t.to(compute_dtype).reshape(b, l, h, d).permute(0, 2, 1, 3)

    qh, kh, vh = heads(q), heads(k), heads(v)
    if cu_seqlens is None:
        o = _sdpa_heads(qh, kh, vh, scale)
    else:
        bounds = [int(c) for c in (cu_seqlens.tolist()
                                   if torch.is_tensor(cu_seqlens) else cu_seqlens)]
        assert bounds[0] == 0 and bounds[-1] == l
        assert all(x < y for x, y in zip(bounds, bounds[1:]))
        o = torch.empty_like(qh)
        for lo, hi in zip(bounds, bounds[1:]):
            o[:, :, lo:hi] = _sdpa_heads(qh[:, :, lo:hi], kh[:, :, lo:hi],
                                         vh[:, :, lo:hi], scale)
    return o.permute(0, 2, 1, 3).reshape(b, l, e).to(torch.float32)


# ---------------------------------------------------------------------------
# Token merging and pruning (spec §7, §9)
# ---------------------------------------------------------------------------

def _pixel_shuffle_one(x, h, w, version):
    """Spec §7 steps 1-5 on one image's tokens [N, h*w, C]."""
    n, _, c = x.shape
    y = x.reshape(n, h, w, c)
    y = y.reshape(n, h, w // 2, 2 * c)                 # 1. view
    y = y.permute(0, 2, 1, 3).contiguous()             # 2. -> [N, w/2, h, 2C]
    y = y.reshape(n, w // 2, h // 2, 4 * c)            # 3. view
    if version == "v2":
        y = y.permute(0, 2, 1, 3).contiguous()         # 4. -> [N, h/2, w/2, 4C]
    elif version != "v1":
        raise ValueError("unknown pixel_shuffle version %r" % (version,))
    return y.reshape(n, (h // 2) * (w // 2), 4 * c)    # 5. flatten the grid


def pixel_shuffle(x, grid, version):
    """``vision.pixel_shuffle`` (spec §7): 2x2 token merging.

    ``x`` [N, L, C]; ``grid`` = [h0, w0, h1, w1, ...] the patch grids of the
    images packed along the token axis (sum h_i*w_i = L, all even). Each
    image's tokens are read row-major as [h, w, C] and go through the five
    view/permute steps of §7 (v1 skips step 4). Result [N, L/4, 4C], images
    concatenated in order. Closed forms (4C vector order (a, b, c)):
    v2 ``out[n, i*(w/2)+j, a*2C+b*C+c] = x[n, 2i+a, 2j+b, c]``;
    v1 ``out[n, j*(h/2)+i, ...]`` (token grid transposed).
    """
    grid = [int(g) for g in grid]
    assert grid and len(grid) % 2 == 0
    pairs = list(zip(grid[0::2], grid[1::2]))
    assert all(h % 2 == 0 and w % 2 == 0 for h, w in pairs)
    sizes = [h * w for h, w in pairs]
    assert sum(sizes) == x.shape[1], "grid does not cover the token axis"
    outs = [_pixel_shuffle_one(seg, h, w, version)
            for seg, (h, w) in zip(torch.split(x, sizes, dim=1), pairs)]
    return torch.cat(outs, dim=1)


def evs_dissimilarity(x):
    """EVS dissimilarity d [nt, L] in ``x``'s dtype (spec §9.2).

    For t >= 1: ``d[t, l] = 1 - cos(x[t, l], x[t-1, l])`` with PyTorch 2.x's
    cosine similarity ``sum((x1 / clamp_min(norm(x1), 1e-8)) *
    (x2 / clamp_min(norm(x2), 1e-8)))``; every step (norm, clamp, both
    divides, product, sum, ``1 - s``) is a separate tensor op in x's dtype, so
    with bf16 each step rounds to bf16. ``d[0, :] = 255``. (Deliberately not
    ``F.cosine_similarity``: torch 1.13 implements the older
    ``sum(x1 x2) / sqrt(max(|x1|^2 |x2|^2, eps^2))`` formula.)
    """
    assert x.dim() == 3
    nt, l, _ = x.shape
    d = torch.full((nt, l), 255.0, dtype=x.dtype)
    if nt > 1:
        x1, x2 = x[1:], x[:-1]
        n1 = torch.linalg.vector_norm(x1, dim=-1, keepdim=True).clamp_min(1e-8)
        n2 = torch.linalg.vector_norm(x2, dim=-1, keepdim=True).clamp_min(1e-8)
        s = ((x1 / n1) * (x2 / n2)).sum(dim=-1)
        d[1:] = 1 - s
    return d


def evs_prune(x, rate):
    """``vision.evs_prune`` (spec §9.1-§9.2, §9.4): EVS over tubelets.

    ``x`` [nt, L, D] (f32 or bf16). ``keep = keep_count(L, nt, rate)``;
    ``d = evs_dissimilarity(x)`` (first tubelet 255); tokens are ranked by a
    stable descending sort of ``d.flatten()`` (ties: lower flat index first,
    implemented explicitly with ``numpy.lexsort`` on (-d, index)) and the
    first ``keep`` are kept.

    Returns ``(kept, counts, mask)``: ``kept`` [keep, D] the kept rows of
    ``x.reshape(-1, D)`` in their ORIGINAL (t, l) order, ``counts`` int64
    [nt] kept tokens per tubelet, ``mask`` bool [nt*L].
    """
    nt, l, dim = x.shape
    keep = keep_count(l, nt, rate)
    d = evs_dissimilarity(x).flatten().to(torch.float64).numpy()
    order = np.lexsort((np.arange(d.size), -d))  # last key is the primary
    mask = torch.zeros(nt * l, dtype=torch.bool)
    mask[torch.from_numpy(order[:keep].copy())] = True
    kept = x.reshape(-1, dim)[mask]
    counts = mask.reshape(nt, l).sum(dim=1).to(torch.int64)
    return kept, counts, mask
