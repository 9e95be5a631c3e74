"""The whole vision pipeline of a Nano VL / Omni model in PyTorch, composed
from the per-op reference (vision_reference.py): normalize -> patch or
tubelet embedding -> + position embedding -> prefix tokens -> pre-norm ViT
blocks -> strip prefix -> pixel shuffle -> projector -> optional EVS
(spec §0.4). Computes in f32 from the given (possibly bf16-rounded) weights.
"""

import torch

import vision_reference as ref

TOWER = "vision_model.radio_model.model."


def _vit_blocks(x, w, depth, heads, cu_seqlens=None):
    """`depth` pre-norm ViT blocks (§5.2) on [B, L, C]; with `cu_seqlens`
    attention is block-diagonal (§5.4)."""
    width = x.shape[-1]
    for i in range(depth):
        b = f"{TOWER}blocks.{i}."
        h = ref.layer_norm(x, w[b + "norm1.weight"], w[b + "norm1.bias"], 1e-6)
        qkv = ref.linear(h, w[b + "attn.qkv.weight"], w[b + "attn.qkv.bias"])
        q, k, v = qkv.split(width, dim=-1)
        a = ref.attention(q, k, v, heads, (width // heads) ** -0.5, cu_seqlens=cu_seqlens)
        x = x + ref.linear(a, w[b + "attn.proj.weight"], w[b + "attn.proj.bias"])
        h = ref.layer_norm(x, w[b + "norm2.weight"], w[b + "norm2.bias"], 1e-6)
        f = ref.gelu(ref.linear(h, w[b + "mlp.fc1.weight"], w[b + "mlp.fc1.bias"]), "none")
        x = x + ref.linear(f, w[b + "mlp.fc2.weight"], w[b + "mlp.fc2.bias"])
    return x


def _final_norm(x, w):
    """The ViT's optional final LayerNorm (§5.3), when the weights have it."""
    if TOWER + "norm.weight" not in w:
        return x
    return ref.layer_norm(x, w[TOWER + "norm.weight"], w[TOWER + "norm.bias"], 1e-6)


def _projector(x, w):
    """The projector mlp1 (§8): RMSNorm, linear, ReLU², linear."""
    x = ref.rms_norm(x, w["mlp1.0.weight"], 1e-5, "cast_then_scale", torch.float32)
    x = ref.relu2(ref.linear(x, w["mlp1.1.weight"]))
    return ref.linear(x, w["mlp1.3.weight"])


def vision_pipeline(pixels, weights, *, patch_size, depth, heads, num_prefix,
                    temporal=1, evs_rate=0.0, ps_version="v2", mean=None,
                    std=None):
    """pixels: uint8 [N or F, 3, H, W]; weights: checkpoint name -> tensor.
    Returns the embeddings [N or ceil(F/T), tokens, llm], or with EVS
    (kept [keep, llm], counts [nt])."""
    w = {k: v.float() for k, v in weights.items()}
    gen = TOWER + "patch_generator."
    x = ref.normalize(pixels, mean or ref.CLIP_MEAN, std or ref.CLIP_STD)
    if temporal > 1:
        x = ref.tubelet_embed(x, w[gen + "video_embedder.weight"], patch_size, temporal)
    else:
        x = ref.patch_embed(x, w[gen + "embedder.weight"], patch_size)
    rows, cols = pixels.shape[2] // patch_size, pixels.shape[3] // patch_size
    x = x + ref.interp_pos_embed(w[gen + "pos_embed"], (rows, cols), False).float()
    x = ref.prepend_tokens(w[gen + "cls_token.token"], x)
    x = _vit_blocks(x, w, depth, heads)
    x = _final_norm(x, w)
    x = ref.strip_prefix(x, num_prefix)
    x = ref.pixel_shuffle(x, [rows, cols], ps_version)
    x = _projector(x, w)
    if evs_rate > 0:
        kept, counts, _ = ref.evs_prune(x, evs_rate)
        return kept, counts
    return x


def packed_vision_pipeline(images, weights, *, patch_size, depth, heads,
                           num_prefix, ps_version="v2"):
    """The dynamic-resolution path (§3.5, §5.4, §7): images uint8
    [1, 3, H_i, W_i] (already at their §10.1 sizes) packed into one sequence:
    per-image patch and position embedding, the prefix before each image,
    block-diagonal attention (cu_seqlens), per-image pixel shuffle. Returns
    [sum tokens_i, llm], the images' tokens in order."""
    w = {k: v.float() for k, v in weights.items()}
    gen = TOWER + "patch_generator."
    parts, grids = [], []
    for pixels in images:
        x = ref.normalize(pixels, ref.CLIP_MEAN, ref.CLIP_STD)
        x = ref.patch_embed(x, w[gen + "embedder.weight"], patch_size)
        grid = (pixels.shape[2] // patch_size, pixels.shape[3] // patch_size)
        parts.append(x + ref.interp_pos_embed(w[gen + "pos_embed"], grid, False).float())
        grids.append(grid)
    sizes = [r * c for r, c in grids]
    x = ref.prepend_tokens(w[gen + "cls_token.token"], torch.cat(parts, dim=1), sizes)
    bounds = [0]
    for n in sizes:
        bounds.append(bounds[-1] + n + num_prefix)
    x = _vit_blocks(x, w, depth, heads, bounds)
    x = _final_norm(x, w)
    x = ref.strip_prefix(x, num_prefix, sizes)
    x = ref.pixel_shuffle(x, [d for g in grids for d in g], ps_version)
    return _projector(x, w)[0]


def preprocess(pixels, size, *, tiles=None, thumbnail=False, domain="u8"):
    """Decoded uint8 images/frames [N, 3, Hs, Ws] -> what the encoder sees.

    Without ``tiles``: each resized to ``size`` = (H, W) (§1.3, §1.4, §10.1).
    With ``tiles`` = (columns, rows) (InternVL, §10.2): each image resized to
    (rows * S, columns * S) with S = size[0], cut into row-major S x S tiles,
    then (``thumbnail``) the original resized to S x S appended; the result is
    [N * units, 3, S, S], the units of each image together. ``domain`` "u8"
    keeps uint8; "f32_clamp" returns f32 in [0, 255]."""
    x = pixels if domain == "u8" else pixels.float()
    if tiles is None:
        return ref.resize(x, size, domain)
    cols, rows = tiles
    s = size[0]
    full = ref.resize(x, (rows * s, cols * s), domain)
    out = []
    for n in range(pixels.shape[0]):
        for k in range(cols * rows):
            r, c = k // cols, k % cols
            out.append(full[n, :, r * s:(r + 1) * s, c * s:(c + 1) * s])
        if thumbnail:
            out.append(ref.resize(x[n:n + 1], (s, s), domain)[0])
    return torch.stack(out)


def random_weights(names, shapes, seed=0):
    """Random weights with checkpoint names, scaled like a trained ViT
    (LayerNorm/RMSNorm weights near 1, small biases and projections)."""
    g = torch.Generator().manual_seed(seed)
    weights = {}
    for name, shape in zip(names, shapes):
        t = torch.randn(shape, generator=g)
        if name.endswith(("norm1.weight", "norm2.weight", "norm.weight", "mlp1.0.weight")):
            t = 1.0 + 0.1 * t
        elif name.endswith("bias"):
            t = 0.02 * t
        elif name.endswith(("pos_embed", "cls_token.token")):
            t = 0.5 * t
        else:
            t = t / shape[-1] ** 0.5
        weights[name] = t
    return weights
