"""Self-test of the vision reference (``vision_reference.py``).

Run with Debian's interpreter from the repository root:

    /usr/bin/python3 test/python/reference/test_vision_reference.py

Each op is checked against an independent formulation where one exists
(Pillow, PyTorch functional ops, convolutions, closed-form index formulas,
explicit loops, numpy f32 arithmetic). The last line printed is
``N passed, M failed``; the exit status is non-zero on any failure.
"""

import os
import sys
import unittest

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vision_reference as vr  # noqa: E402

try:
    _PIL_BICUBIC = Image.Resampling.BICUBIC
except AttributeError:  # Pillow < 9.1
    _PIL_BICUBIC = Image.BICUBIC


def _gen(seed):
    return torch.Generator().manual_seed(seed)


class NormalizeTest(unittest.TestCase):
    def test_matches_numpy_f32_bit_exact(self):
        x = torch.randint(0, 256, (2, 3, 5, 7), dtype=torch.uint8, generator=_gen(0))
        y = vr.normalize(x, vr.CLIP_MEAN, vr.CLIP_STD)
        self.assertEqual(y.dtype, torch.float32)
        xn = x.numpy().astype(np.float32)
        mean = np.array(vr.CLIP_MEAN, dtype=np.float32).reshape(1, 3, 1, 1)
        std = np.array(vr.CLIP_STD, dtype=np.float32).reshape(1, 3, 1, 1)
        ref = ((xn / np.float32(255.0)) - mean) / std
        np.testing.assert_array_equal(y.numpy(), ref)

    def test_float_input_equals_u8_input(self):
        x = torch.randint(0, 256, (1, 3, 4, 4), dtype=torch.uint8, generator=_gen(1))
        self.assertTrue(torch.equal(vr.normalize(x, vr.CLIP_MEAN, vr.CLIP_STD),
                                    vr.normalize(x.float(), vr.CLIP_MEAN, vr.CLIP_STD)))

    def test_true_division_by_255(self):
        # x/255 and x*(1/255) differ in the last bit for some x; we divide.
        x = torch.arange(256, dtype=torch.float32).reshape(1, 1, 16, 16)
        y = vr.normalize(x, [0.0], [1.0])
        self.assertTrue(torch.equal(y, x / 255.0))
        self.assertFalse(torch.equal(y, x * (1.0 / 255.0)))


class ResizeTest(unittest.TestCase):
    # (H, W) -> (H', W'): up, down, mixed, non-square, one axis unchanged.
    SIZES = [
        ((37, 53), (64, 48)),
        ((100, 80), (33, 21)),
        ((16, 16), (45, 70)),
        ((300, 200), (48, 96)),
        ((64, 64), (64, 31)),
        ((50, 90), (120, 90)),
        ((135, 240), (48, 84)),
        ((7, 5), (13, 3)),
        ((1, 9), (4, 2)),
    ]

    def test_u8_matches_pillow_bit_exact(self):
        rng = np.random.default_rng(0)
        for (h, w), (oh, ow) in self.SIZES:
            for mode in ("RGB", "L"):
                c = 3 if mode == "RGB" else 1
                a = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
                img = Image.fromarray(a if c == 3 else a[..., 0], mode)
                ref = np.asarray(img.resize((ow, oh), _PIL_BICUBIC))
                ref = ref.reshape(oh, ow, c)
                x = torch.from_numpy(a).permute(2, 0, 1)[None].contiguous()
                y = vr.resize(x, (oh, ow), "u8")
                self.assertEqual(y.dtype, torch.uint8)
                self.assertEqual(tuple(y.shape), (1, c, oh, ow))
                np.testing.assert_array_equal(
                    y[0].permute(1, 2, 0).numpy(), ref,
                    err_msg="%s %dx%d -> %dx%d" % (mode, h, w, oh, ow))

    def test_u8_extreme_images_match_pillow(self):
        # Checkerboards of 0/255 maximise overshoot, exercising the clamp.
        for (h, w), (oh, ow) in self.SIZES[:4]:
            a = (((np.indices((h, w)).sum(0)) % 2) * 255).astype(np.uint8)
            ref = np.asarray(Image.fromarray(a, "L").resize((ow, oh), _PIL_BICUBIC))
            y = vr.resize(torch.from_numpy(a)[None, None], (oh, ow), "u8")
            np.testing.assert_array_equal(y[0, 0].numpy(), ref)

    def test_u8_same_size_is_identity(self):
        x = torch.randint(0, 256, (2, 3, 9, 11), dtype=torch.uint8, generator=_gen(2))
        self.assertTrue(torch.equal(vr.resize(x, (9, 11), "u8"), x))

    def test_f32_clamp_matches_torch_antialias(self):
        g = _gen(3)
        for (h, w), (oh, ow) in self.SIZES:
            x = torch.rand(2, 3, h, w, generator=g) * 255.0
            y = vr.resize(x, (oh, ow), "f32_clamp")
            ref = F.interpolate(x, size=(oh, ow), mode="bicubic",
                                align_corners=False, antialias=True).clamp(0, 255)
            self.assertEqual(y.dtype, torch.float32)
            self.assertLess((y - ref).abs().max().item(), 1e-3,
                            "%dx%d -> %dx%d" % (h, w, oh, ow))
            self.assertGreaterEqual(y.min().item(), 0.0)
            self.assertLessEqual(y.max().item(), 255.0)

    def test_f32_clamp_is_not_rounded(self):
        x = torch.rand(1, 1, 20, 20, generator=_gen(4)) * 255.0
        y = vr.resize(x, (7, 9), "f32_clamp")
        self.assertFalse(torch.equal(y, y.round()))

    def test_coefficients_sum_to_one(self):
        for n_in, n_out in [(10, 3), (3, 10), (1080, 384), (7, 7)]:
            for xmin, ws in vr.resize_coefficients(n_in, n_out):
                self.assertGreaterEqual(xmin, 0)
                self.assertLessEqual(xmin + len(ws), n_in)
                self.assertAlmostEqual(sum(ws), 1.0, places=12)


class PatchEmbedTest(unittest.TestCase):
    def test_im2patches_closed_form(self):
        n, c, p, hp, wp = 2, 3, 4, 2, 3
        x = torch.arange(n * c * hp * p * wp * p, dtype=torch.float32)
        x = x.reshape(n, c, hp * p, wp * p)
        patches = vr.im2patches(x, p)
        for b in range(n):
            for py in range(hp):
                for px in range(wp):
                    for ch in range(c):
                        for yy in range(p):
                            for xx in range(p):
                                self.assertEqual(
                                    patches[b, py * wp + px, ch * p * p + yy * p + xx].item(),
                                    x[b, ch, py * p + yy, px * p + xx].item())

    def test_matches_conv2d(self):
        g = _gen(5)
        n, c, p, d = 2, 3, 4, 10
        x = torch.randn(n, c, 12, 20, generator=g)
        w = torch.randn(d, c * p * p, generator=g)
        y = vr.patch_embed(x, w, p)
        ref = F.conv2d(x, w.reshape(d, c, p, p), stride=p)
        ref = ref.flatten(2).transpose(1, 2)
        self.assertEqual(tuple(y.shape), (n, 15, d))
        self.assertEqual(y.dtype, torch.float32)
        torch.testing.assert_close(y, ref, rtol=1e-5, atol=1e-4)

    def test_float64_option(self):
        g = _gen(6)
        x = torch.randn(1, 3, 8, 8, generator=g)
        w = torch.randn(5, 48, generator=g)
        y64 = vr.patch_embed(x, w, 4, compute_dtype=torch.float64)
        self.assertEqual(y64.dtype, torch.float32)
        torch.testing.assert_close(y64, vr.patch_embed(x, w, 4), rtol=1e-5, atol=1e-5)


class TubeletEmbedTest(unittest.TestCase):
    def test_t1_is_patch_embed_per_frame(self):
        g = _gen(7)
        frames = torch.randn(3, 3, 8, 12, generator=g)
        w = torch.randn(6, 48, generator=g)
        y = vr.tubelet_embed(frames, w, 4, 1)
        self.assertTrue(torch.equal(y, vr.patch_embed(frames, w, 4)))

    def test_matches_conv3d_with_last_frame_padding(self):
        g = _gen(8)
        f, c, p, t, d = 5, 3, 4, 2, 7
        frames = torch.randn(f, c, 8, 12, generator=g)
        w = torch.randn(d, t * c * p * p, generator=g)
        y = vr.tubelet_embed(frames, w, p, t)
        self.assertEqual(tuple(y.shape), (3, 6, d))
        padded = torch.cat([frames, frames[-1:]], 0)            # repeat last
        # Conv3d weight order is (c, t, yy, xx); the tubelet order is (t, c, ...).
        w3 = w.reshape(d, t, c, p, p).permute(0, 2, 1, 3, 4)
        ref = F.conv3d(padded.permute(1, 0, 2, 3)[None], w3, stride=(t, p, p))
        ref = ref[0].permute(1, 2, 3, 0).reshape(3, 6, d)
        torch.testing.assert_close(y, ref, rtol=1e-5, atol=1e-4)

    def test_odd_frame_count_repeats_last_frame(self):
        g = _gen(9)
        frames = torch.randn(3, 3, 4, 4, generator=g)
        w = torch.randn(4, 2 * 3 * 16, generator=g)
        y = vr.tubelet_embed(frames, w, 4, 2)
        explicit = torch.cat([frames, frames[2:3]], 0)
        self.assertTrue(torch.equal(y, vr.tubelet_embed(explicit, w, 4, 2)))
        # The padded tubelet of a duplicated frame = the frame through the
        # summed halves of the weight; never zeros.
        half = w[:, :48] + w[:, 48:]
        torch.testing.assert_close(y[1], vr.patch_embed(frames[2:3], half, 4)[0],
                                   rtol=1e-5, atol=1e-4)

    def test_vector_order_t_c_yy_xx(self):
        frames = torch.zeros(2, 2, 2, 2)
        frames[1, 1, 0, 1] = 1.0  # t=1, c=1, yy=0, xx=1 -> column 1*8 + 1*4 + 0*2 + 1
        w = torch.eye(16)
        y = vr.tubelet_embed(frames, w, 2, 2)
        self.assertEqual(y[0, 0].nonzero().flatten().tolist(), [13])


class InterpPosEmbedTest(unittest.TestCase):
    @staticmethod
    def _axis(n_in, n_out, align_corners):
        """Per-axis taps of §3.2 with torch 1.13 CPU's precisions (numpy)."""
        f32 = np.float32
        if align_corners:
            scale = float(f32(n_in - 1) / f32(n_out - 1)) if n_out > 1 else 0.0
        else:
            scale = float(f32(n_in) / f32(n_out))
        i0 = np.zeros(n_out, np.int64)
        i1 = np.zeros(n_out, np.int64)
        l0 = np.zeros(n_out, np.float32)
        l1 = np.zeros(n_out, np.float32)
        for o in range(n_out):
            if n_in == n_out:                      # same-size axis: a copy
                src = float(o)
            elif align_corners:
                src = scale * o                    # double
            else:
                src = max(scale * (o + 0.5) - 0.5, 0.0)
            a = int(src)
            i0[o], i1[o] = a, a + (1 if a < n_in - 1 else 0)
            l1[o] = f32(src - a)
            l0[o] = f32(1) - l1[o]
        return i0, i1, l0, l1

    @classmethod
    def _bilinear(cls, grid, out_h, out_w, align_corners, fma):
        """``h0*(w0*v00 + w1*v01) + h1*(w0*v10 + w1*v11)`` in f32, grid [C, R, R].

        With ``fma``: ``t = fma(w0, v00, w1*v01)``, ``out = fma(h0, t0, h1*t1)``
        (emulated in double), the contraction torch 1.13's CPU build uses.
        """
        y0, y1, h0, h1 = cls._axis(grid.shape[1], out_h, align_corners)
        x0, x1, w0, w1 = cls._axis(grid.shape[2], out_w, align_corners)
        g = grid.astype(np.float32)
        w0, w1 = w0[None, None, :], w1[None, None, :]
        h0, h1 = h0[None, :, None], h1[None, :, None]

        def fused(a, b, c):
            return (a.astype(np.float64) * b + c.astype(np.float64)).astype(np.float32)

        def row(ys):
            va, vb = g[:, ys][:, :, x0], g[:, ys][:, :, x1]
            return fused(w0, va, w1 * vb) if fma else w0 * va + w1 * vb

        t0, t1 = row(y0), row(y1)
        return fused(h0, t0, h1 * t1) if fma else h0 * t0 + h1 * t1

    def _check(self, r, c, h, w, align_corners, storage):
        table = torch.randn(1, r * r, c, generator=_gen(r * 100 + h + w)).to(storage)
        y = vr.interp_pos_embed(table, (h, w), align_corners, storage)
        self.assertEqual(y.dtype, storage)
        self.assertEqual(tuple(y.shape), (1, h * w, c))
        m = max(h, w)
        grid = table.float().reshape(r, r, c).permute(2, 0, 1).numpy()
        refs = [torch.from_numpy(self._bilinear(grid, m, m, align_corners, fma))
                .to(storage)[:, :h, :w].flatten(1).t()[None] for fma in (True, False)]
        # Bit-exact against the closed form (with or without fma contraction).
        self.assertTrue(torch.equal(y, refs[0]) or torch.equal(y, refs[1]),
                        "R=%d -> %dx%d align_corners=%s" % (r, h, w, align_corners))

    def test_downsample_non_square(self):
        self._check(16, 5, 6, 10, False, torch.float32)
        self._check(16, 5, 10, 6, False, torch.bfloat16)
        self._check(128, 4, 100, 36, False, torch.float32)

    def test_upsample_beyond_table(self):
        self._check(8, 4, 12, 6, False, torch.float32)
        self._check(8, 4, 3, 11, False, torch.bfloat16)
        self._check(128, 2, 132, 100, False, torch.float32)

    def test_align_corners_true(self):
        self._check(16, 3, 6, 10, True, torch.float32)
        self._check(8, 3, 12, 5, True, torch.float16)

    def test_matches_functional_interpolate(self):
        r, c, h, w = 16, 6, 7, 12
        table = torch.randn(1, r * r, c, generator=_gen(30))
        y = vr.interp_pos_embed(table, (h, w), False, torch.float32)
        g = table.reshape(1, r, r, c).permute(0, 3, 1, 2)
        for grid in (g, g.contiguous()):   # channels-last and NCHW kernels
            ref = F.interpolate(grid, size=(w, w), mode="bilinear", align_corners=False)
            torch.testing.assert_close(y, ref[0, :, :h, :w].flatten(1).t()[None],
                                       rtol=1e-6, atol=1e-6)

    def test_same_max_is_top_left_crop(self):
        # m == R: the square pass is an exact copy, so the result is the crop.
        r, c = 8, 3
        table = torch.randn(1, r * r, c, generator=_gen(10)).to(torch.bfloat16)
        y = vr.interp_pos_embed(table, (5, 8), False, torch.bfloat16)
        ref = table.reshape(r, r, c)[:5, :8].reshape(1, 40, c)
        self.assertTrue(torch.equal(y, ref))

    def test_early_return(self):
        table = torch.randn(1, 64, 3, generator=_gen(11)).to(torch.bfloat16)
        self.assertTrue(torch.equal(vr.interp_pos_embed(table, (8, 8), False,
                                                        torch.bfloat16), table))

    def test_rounds_before_crop(self):
        r, c, h, w = 16, 4, 6, 10
        table = torch.randn(1, r * r, c, generator=_gen(12))
        y = vr.interp_pos_embed(table, (h, w), False, torch.bfloat16)
        full = F.interpolate(table.reshape(1, r, r, c).permute(0, 3, 1, 2).contiguous(),
                             size=(w, w), mode="bilinear", align_corners=False)
        self.assertTrue(torch.equal(
            y, full.to(torch.bfloat16)[0, :, :h, :w].flatten(1).t()[None]))
        # ... which is NOT the same as resizing straight to (h, w).
        direct = F.interpolate(table.reshape(1, r, r, c).permute(0, 3, 1, 2),
                               size=(h, w), mode="bilinear", align_corners=False)
        self.assertFalse(torch.equal(
            y, direct.to(torch.bfloat16)[0].flatten(1).t()[None]))


class PrefixTest(unittest.TestCase):
    def test_prepend_and_strip(self):
        g = _gen(13)
        prefix = torch.randn(3, 4, generator=g)
        x = torch.randn(2, 5, 4, generator=g)
        y = vr.prepend_tokens(prefix, x)
        self.assertEqual(tuple(y.shape), (2, 8, 4))
        for b in range(2):
            self.assertTrue(torch.equal(y[b, :3], prefix))
            self.assertTrue(torch.equal(y[b, 3:], x[b]))
        self.assertTrue(torch.equal(vr.strip_prefix(y, 3), x))

    def test_segments(self):
        g = _gen(14)
        prefix = torch.randn(2, 4, generator=g)
        x = torch.randn(2, 7, 4, generator=g)
        y = vr.prepend_tokens(prefix, x, [3, 4])
        self.assertEqual(tuple(y.shape), (2, 11, 4))
        ref = torch.cat([prefix.expand(2, 2, 4), x[:, :3],
                         prefix.expand(2, 2, 4), x[:, 3:]], 1)
        self.assertTrue(torch.equal(y, ref))
        self.assertTrue(torch.equal(vr.strip_prefix(y, 2, [3, 4]), x))

    def test_empty_prefix(self):
        x = torch.randn(1, 4, 3, generator=_gen(15))
        self.assertTrue(torch.equal(vr.prepend_tokens(torch.zeros(0, 3), x), x))
        self.assertTrue(torch.equal(vr.strip_prefix(x, 0), x))


class NormTest(unittest.TestCase):
    def test_layer_norm_vs_functional(self):
        g = _gen(16)
        x = torch.randn(3, 5, 64, generator=g) * 3 + 1
        w = torch.randn(64, generator=g)
        b = torch.randn(64, generator=g)
        y = vr.layer_norm(x, w, b, 1e-6)
        torch.testing.assert_close(y, F.layer_norm(x, (64,), w, b, 1e-6),
                                   rtol=1e-5, atol=1e-5)
        yb = vr.layer_norm(x.to(torch.bfloat16), w.to(torch.bfloat16),
                           b.to(torch.bfloat16), 1e-6)
        self.assertEqual(yb.dtype, torch.float32)

    def test_rms_norm_orders_agree_in_f32(self):
        g = _gen(17)
        x = torch.randn(4, 256, generator=g)
        w = torch.randn(256, generator=g)
        a = vr.rms_norm(x, w, 1e-5, "cast_then_scale", torch.float32)
        b = vr.rms_norm(x, w, 1e-5, "scale_then_cast", torch.float32)
        self.assertTrue(torch.equal(a, b))
        xd = x.double()
        ref = xd / torch.sqrt((xd * xd).mean(-1, keepdim=True) + 1e-5) * w.double()
        torch.testing.assert_close(a.double(), ref, rtol=1e-5, atol=1e-6)

    def test_rms_norm_orders_differ_in_bf16(self):
        g = _gen(18)
        x = (torch.randn(16, 512, generator=g) * 4).to(torch.bfloat16)
        w = (torch.rand(512, generator=g) * 2 + 0.1).to(torch.bfloat16)
        a = vr.rms_norm(x, w, 1e-5, "cast_then_scale", torch.bfloat16)
        b = vr.rms_norm(x, w, 1e-5, "scale_then_cast", torch.bfloat16)
        self.assertEqual(a.dtype, torch.bfloat16)
        self.assertFalse(torch.equal(a, b))
        # Both are within a couple of bf16 ulps of the exact value.
        xd = x.double()
        ref = xd / torch.sqrt((xd * xd).mean(-1, keepdim=True) + 1e-5) * w.double()
        for y in (a, b):
            self.assertLessEqual(((y.double() - ref).abs()
                                  / ref.abs().clamp_min(1e-3)).max().item(), 2 ** -7)
        # scale_then_cast rounds once: it is exactly bf16 of the f32 product.
        f32 = vr.rms_norm(x, w, 1e-5, "scale_then_cast", torch.float32)
        self.assertTrue(torch.equal(b, f32.to(torch.bfloat16)))


class LinearActivationTest(unittest.TestCase):
    def test_linear_vs_functional(self):
        g = _gen(19)
        x = torch.randn(2, 5, 16, generator=g)
        w = torch.randn(8, 16, generator=g)
        b = torch.randn(8, generator=g)
        torch.testing.assert_close(vr.linear(x, w, b), F.linear(x, w, b))
        torch.testing.assert_close(vr.linear(x, w), F.linear(x, w))

    def test_gelu_vs_functional(self):
        x = torch.linspace(-8, 8, 4001)
        torch.testing.assert_close(vr.gelu(x, "none"), F.gelu(x),
                                   rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(vr.gelu(x, "tanh"), F.gelu(x, approximate="tanh"),
                                   rtol=1e-6, atol=1e-6)
        self.assertGreater((vr.gelu(x, "none") - vr.gelu(x, "tanh")).abs().max().item(), 1e-5)

    def test_relu2(self):
        x = torch.linspace(-3, 3, 13)
        self.assertTrue(torch.equal(vr.relu2(x), torch.relu(x) ** 2))


class AttentionTest(unittest.TestCase):
    @staticmethod
    def _loop(q, k, v, num_heads, scale):
        b, l, e = q.shape
        d = e // num_heads
        out = torch.zeros(b, l, e, dtype=torch.float64)
        for bi in range(b):
            for h in range(num_heads):
                cols = slice(h * d, (h + 1) * d)
                s = q[bi, :, cols].double() @ k[bi, :, cols].double().t() * scale
                p = torch.exp(s - s.max(dim=-1, keepdim=True).values)
                p = p / p.sum(dim=-1, keepdim=True)
                out[bi, :, cols] = p @ v[bi, :, cols].double()
        return out

    def test_vs_per_head_loop(self):
        g = _gen(20)
        q, k, v = (torch.randn(2, 9, 12, generator=g) for _ in range(3))
        y = vr.attention(q, k, v, 3, 4 ** -0.5)
        self.assertEqual(tuple(y.shape), (2, 9, 12))
        torch.testing.assert_close(y.double(), self._loop(q, k, v, 3, 4 ** -0.5),
                                   rtol=1e-5, atol=1e-5)

    def test_cu_seqlens_vs_mask(self):
        g = _gen(21)
        b, l, e, nh = 2, 10, 8, 2
        q, k, v = (torch.randn(b, l, e, generator=g) for _ in range(3))
        cu = [0, 3, 7, 10]
        y = vr.attention(q, k, v, nh, 0.5, cu_seqlens=torch.tensor(cu, dtype=torch.int32))
        seg = torch.zeros(l, dtype=torch.int64)
        for s, (lo, hi) in enumerate(zip(cu, cu[1:])):
            seg[lo:hi] = s
        allowed = seg[:, None] == seg[None, :]
        qh, kh, vh = (t.reshape(b, l, nh, e // nh).permute(0, 2, 1, 3) for t in (q, k, v))
        logits = (qh @ kh.transpose(-1, -2) * 0.5).masked_fill(~allowed, float("-inf"))
        ref = (torch.softmax(logits, -1) @ vh).permute(0, 2, 1, 3).reshape(b, l, e)
        torch.testing.assert_close(y, ref, rtol=1e-5, atol=1e-6)
        # Block-diagonal per segment == plain attention of each segment alone.
        for lo, hi in zip(cu, cu[1:]):
            torch.testing.assert_close(
                y[:, lo:hi], vr.attention(q[:, lo:hi], k[:, lo:hi], v[:, lo:hi], nh, 0.5),
                rtol=1e-6, atol=1e-6)
        # One segment == no cu_seqlens.
        torch.testing.assert_close(vr.attention(q, k, v, nh, 0.5, [0, l]),
                                   vr.attention(q, k, v, nh, 0.5))


class PixelShuffleTest(unittest.TestCase):
    @staticmethod
    def _closed_form(x, h, w, version):
        n, _, c = x.shape
        out = torch.empty(n, h * w // 4, 4 * c, dtype=x.dtype)
        for i in range(h // 2):
            for j in range(w // 2):
                tok = i * (w // 2) + j if version == "v2" else j * (h // 2) + i
                for a in range(2):
                    for b in range(2):
                        out[:, tok, a * 2 * c + b * c:a * 2 * c + b * c + c] = \
                            x[:, (2 * i + a) * w + (2 * j + b), :]
        return out

    def test_v1_v2_single_image(self):
        for h, w in [(4, 6), (6, 4), (2, 2), (8, 8)]:
            x = torch.arange(2 * h * w * 3, dtype=torch.float32).reshape(2, h * w, 3)
            for version in ("v1", "v2"):
                y = vr.pixel_shuffle(x, [h, w], version)
                self.assertEqual(tuple(y.shape), (2, h * w // 4, 12))
                self.assertTrue(torch.equal(y, self._closed_form(x, h, w, version)),
                                "%s %dx%d" % (version, h, w))

    def test_packed_images(self):
        grids = [(4, 6), (2, 8), (6, 2)]
        total = sum(h * w for h, w in grids)
        x = torch.arange(2 * total * 5, dtype=torch.int64).reshape(2, total, 5)
        flat = [v for hw in grids for v in hw]
        for version in ("v1", "v2"):
            y = vr.pixel_shuffle(x, flat, version)
            parts, off = [], 0
            for h, w in grids:
                parts.append(self._closed_form(x[:, off:off + h * w], h, w, version))
                off += h * w
            self.assertTrue(torch.equal(y, torch.cat(parts, 1)))

    def test_preserves_bf16(self):
        x = torch.randn(1, 16, 4, generator=_gen(22)).to(torch.bfloat16)
        y = vr.pixel_shuffle(x, [4, 4], "v2")
        self.assertEqual(y.dtype, torch.bfloat16)
        self.assertTrue(torch.equal(y.float(), self._closed_form(x.float(), 4, 4, "v2")))


class EvsTest(unittest.TestCase):
    def test_keep_count(self):
        self.assertEqual(1.0 - 0.9, 0.09999999999999998)
        self.assertEqual(vr.keep_count(5, 20, 0.9), 9)
        self.assertEqual(vr.keep_count(256, 8, 0.75), 512)
        self.assertEqual(vr.keep_count(256, 10, 0.7), 768)
        self.assertEqual(vr.keep_count(256, 1, 0.5), 256)   # at least one tubelet
        self.assertEqual(vr.keep_count(252, 3, 0.9), 252)   # int(75.6)=75 < L
        self.assertEqual(vr.keep_count(7, 3, 0.0), 21)

    def test_shapes_counts_first_tubelet(self):
        for dtype in (torch.float32, torch.bfloat16):
            x = torch.randn(6, 10, 16, generator=_gen(23)).to(dtype)
            kept, counts, mask = vr.evs_prune(x, 0.75)
            keep = vr.keep_count(10, 6, 0.75)
            self.assertEqual(tuple(kept.shape), (keep, 16))
            self.assertEqual(kept.dtype, dtype)
            self.assertEqual(counts.dtype, torch.int64)
            self.assertEqual(counts.sum().item(), keep)
            self.assertEqual(counts[0].item(), 10)
            self.assertTrue(mask[:10].all())
            self.assertEqual(mask.dtype, torch.bool)
            self.assertEqual(mask.numel(), 60)

    def test_kept_rows_in_original_order(self):
        x = torch.randn(5, 8, 4, generator=_gen(24))
        kept, _, mask = vr.evs_prune(x, 0.6)
        idx = mask.nonzero().flatten()
        self.assertTrue(torch.equal(kept, x.reshape(-1, 4)[idx]))
        self.assertTrue(bool((idx[1:] > idx[:-1]).all()))

    def test_ties_lower_index_first(self):
        # Tubelet 1 alternates two vectors: tokens 1, 3 are more dissimilar
        # to tubelet 0 than tokens 0, 2, 4 (all exact ties within each group).
        base = torch.tensor([1.0, 0.0, 0.0, 0.0])
        x = torch.zeros(2, 5, 4)
        x[0] = base
        x[1, 0::2] = torch.tensor([1.0, 1.0, 0.0, 0.0])   # cos ~ 0.707
        x[1, 1::2] = torch.tensor([0.0, 1.0, 0.0, 0.0])   # cos = 0
        for dtype in (torch.float32, torch.bfloat16):
            # keep = int(10 * 0.8) = 8: all of tubelet 0, tokens 1 and 3, then
            # the lowest-index token of the tie group {0, 2, 4}.
            kept, counts, mask = vr.evs_prune(x.to(dtype), 0.2)
            self.assertEqual(vr.keep_count(5, 2, 0.2), 8)
            self.assertEqual(mask.nonzero().flatten().tolist(),
                             [0, 1, 2, 3, 4, 5, 6, 8])
            self.assertEqual(counts.tolist(), [5, 3])
        # All-equal dissimilarities: the first ones in index order win.
        y = torch.ones(3, 4, 2)
        _, counts, mask = vr.evs_prune(y, 0.5)     # keep = 6
        self.assertEqual(mask.nonzero().flatten().tolist(), [0, 1, 2, 3, 4, 5])
        self.assertEqual(counts.tolist(), [4, 2, 0])

    def test_order_matches_torch_stable_descending_sort(self):
        # bf16 dissimilarities are heavily quantized: many ties.
        x = (torch.randn(8, 64, 6, generator=_gen(25)).round()).to(torch.bfloat16)
        d = vr.evs_dissimilarity(x).flatten()
        _, order = torch.sort(d.float(), descending=True, stable=True)
        self.assertGreater(d.numel() - torch.unique(d).numel(), 100)
        for rate in (0.3, 0.5, 0.8):
            keep = vr.keep_count(64, 8, rate)
            mask = torch.zeros(d.numel(), dtype=torch.bool)
            mask[order[:keep]] = True
            self.assertTrue(torch.equal(vr.evs_prune(x, rate)[2], mask))

    def test_dissimilarity_vs_float64_cosine(self):
        x = torch.randn(4, 12, 32, generator=_gen(26))
        d = vr.evs_dissimilarity(x)
        self.assertTrue(bool((d[0] == 255).all()))
        ref = 1 - F.cosine_similarity(x[1:].double(), x[:-1].double(), dim=-1)
        torch.testing.assert_close(d[1:].double(), ref, rtol=1e-5, atol=1e-6)
        db = vr.evs_dissimilarity(x.to(torch.bfloat16))
        self.assertEqual(db.dtype, torch.bfloat16)
        self.assertLess((db[1:].double() - ref).abs().max().item(), 0.05)

    def test_bf16_steps_round(self):
        # Per-step bf16 rounding, rebuilt from f32 ops + explicit rounding.
        x = torch.randn(3, 16, 24, generator=_gen(27)).to(torch.bfloat16)
        r = vr.bf16_round
        x1, x2 = x[1:].float(), x[:-1].float()
        n1 = r(torch.linalg.vector_norm(x1, dim=-1, keepdim=True))
        n2 = r(torch.linalg.vector_norm(x2, dim=-1, keepdim=True))
        p = r(r(x1 / n1) * r(x2 / n2))
        s = r(p.sum(-1))
        d = r(1 - s)
        got = vr.evs_dissimilarity(x)[1:].float()
        # Sums may differ in reduction order only: allow one bf16 ulp on s.
        self.assertLessEqual((got - d).abs().max().item(), 2 ** -7)
        self.assertGreater(float((got == d).float().mean()), 0.9)

    def test_rate_zero_keeps_all(self):
        x = torch.randn(3, 4, 5, generator=_gen(28))
        kept, counts, mask = vr.evs_prune(x, 0.0)
        self.assertTrue(torch.equal(kept, x.reshape(-1, 5)))
        self.assertEqual(counts.tolist(), [4, 4, 4])
        self.assertTrue(bool(mask.all()))


class Bf16Test(unittest.TestCase):
    @staticmethod
    def _rne_bits(a):
        bits = a.astype(np.float32).view(np.uint32).astype(np.uint64)
        rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
        return (rounded & 0xFFFFFFFF).astype(np.uint32).view(np.float32)

    def test_round_to_nearest_even(self):
        g = _gen(29)
        x = torch.randn(10000, generator=g) * 100
        ties = torch.tensor([1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8),
                             1 + 2 ** -8 + 2 ** -20, 65504.0, 3e38])
        for t in (x, ties):
            np.testing.assert_array_equal(vr.bf16_round(t).numpy(),
                                          self._rne_bits(t.numpy()))
            self.assertEqual(vr.to_bf16(t).dtype, torch.bfloat16)
            self.assertTrue(torch.equal(vr.to_bf16(t).float(), vr.bf16_round(t)))


def main():
    torch.set_num_threads(min(2, torch.get_num_threads()))
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
