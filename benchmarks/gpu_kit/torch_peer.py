"""The model a Fovea image module computes, written the way an inference
engine writes it in PyTorch: F.linear, F.layer_norm,
F.scaled_dot_product_attention, F.gelu (exact erf), the RMSNorm and ReLU^2
projector, in bf16 (or f32) on any device. The peer of Fovea's GPU timings
(the GPU check kit, benchmarks/gpu_pipeline.py: eager and torch.compile);
test/Integration/CPU/torch_baseline.py checks it against the reference
pipeline on the CPU, and the kit's --cpu-only half against Fovea's CPU
output. Weight-only work (the position embedding's resampling) happens at
construction, as in the module's @init."""

import torch
import torch.nn.functional as F

import vision_reference as ref

TOWER = "vision_model.radio_model.model."


def attention(q, k, v, scale):
    """F.scaled_dot_product_attention where PyTorch has it (the GPU
    machine's 2.x); written out for older versions (the CPU check)."""
    sdpa = getattr(F, "scaled_dot_product_attention", None)
    if sdpa is not None:
        return sdpa(q, k, v, scale=scale)
    s = (q.float() @ k.float().transpose(-1, -2)) * scale
    return (torch.softmax(s, dim=-1) @ v.float()).to(q.dtype)


class TorchPipeline(torch.nn.Module):
    """normalize -> patch embedding -> position embedding -> prefix tokens ->
    pre-norm ViT blocks -> strip prefix -> pixel shuffle (v2) -> RMSNorm ->
    linear -> relu^2 -> linear, in `dtype` on `device`, the way an inference
    engine writes it. The position table is interpolated once (a weight-only
    computation, like Fovea's @init)."""

    def __init__(self, weights, geometry, heads, dtype, device, mean=None, std=None):
        super().__init__()
        self.patch = geometry["patch_size"]
        self.prefix = geometry["num_prefix_tokens"]
        self.grid = (geometry["height"] // self.patch, geometry["width"] // self.patch)
        self.heads = heads
        self.dtype = dtype
        gen = TOWER + "patch_generator."
        pos = ref.interp_pos_embed(weights[gen + "pos_embed"].float(), self.grid, False)
        w = {k: v.to(device=device, dtype=dtype) for k, v in weights.items()}
        self.w = w
        self.pos = pos.to(device=device, dtype=dtype)
        self.depth = sum(1 for n in weights if n.endswith("attn.qkv.weight"))
        self.mean = torch.tensor(mean or ref.CLIP_MEAN, device=device).reshape(1, 3, 1, 1)
        self.std = torch.tensor(std or ref.CLIP_STD, device=device).reshape(1, 3, 1, 1)

    def forward(self, pixels):
        w, p, gen = self.w, self.patch, TOWER + "patch_generator."
        n, c, h, wd = pixels.shape
        x = ((pixels.float() / 255 - self.mean) / self.std).to(self.dtype)
        x = (x.reshape(n, c, h // p, p, wd // p, p).permute(0, 2, 4, 1, 3, 5)
             .reshape(n, (h // p) * (wd // p), c * p * p))
        x = F.linear(x, w[gen + "embedder.weight"]) + self.pos
        prefix = w[gen + "cls_token.token"]
        x = torch.cat([prefix.unsqueeze(0).expand(n, *prefix.shape), x], dim=1)
        width = x.shape[-1]
        d = width // self.heads
        for i in range(self.depth):
            b = f"{TOWER}blocks.{i}."
            y = F.layer_norm(x, (width,), w[b + "norm1.weight"], w[b + "norm1.bias"], 1e-6)
            qkv = F.linear(y, w[b + "attn.qkv.weight"], w[b + "attn.qkv.bias"])
            q, k, v = (t.reshape(n, -1, self.heads, d).transpose(1, 2)
                       for t in qkv.split(width, dim=-1))
            a = attention(q, k, v, d ** -0.5)
            a = a.transpose(1, 2).reshape(n, -1, width)
            x = x + F.linear(a, w[b + "attn.proj.weight"], w[b + "attn.proj.bias"])
            y = F.layer_norm(x, (width,), w[b + "norm2.weight"], w[b + "norm2.bias"], 1e-6)
            y = F.gelu(F.linear(y, w[b + "mlp.fc1.weight"], w[b + "mlp.fc1.bias"]))
            x = x + F.linear(y, w[b + "mlp.fc2.weight"], w[b + "mlp.fc2.bias"])
        x = x[:, self.prefix:]
        rows, cols = self.grid
        x = (x.reshape(n, rows, cols // 2, 2 * width).permute(0, 2, 1, 3)
             .reshape(n, cols // 2, rows // 2, 4 * width).permute(0, 2, 1, 3)
             .reshape(n, (rows // 2) * (cols // 2), 4 * width))
        xf = x.float()
        normed = xf * torch.rsqrt((xf * xf).mean(-1, keepdim=True) + 1e-5)
        x = (normed.to(self.dtype).float() * w["mlp1.0.weight"].float()).to(self.dtype)
        x = F.relu(F.linear(x, w["mlp1.1.weight"])) ** 2
        return F.linear(x, w["mlp1.3.weight"])


def matmul_flops(shape, geometry, tiles):
    """Multiply-adds x 2 of the matmuls and of attention for `tiles` tiles;
    `shape`: weight name -> shape."""
    p = geometry["patch_size"]
    patches = (geometry["height"] // p) * (geometry["width"] // p)
    tokens = patches + geometry["num_prefix_tokens"]
    gen = TOWER + "patch_generator."
    width, depth_in = shape[gen + "embedder.weight"]
    total = patches * width * depth_in
    for name, s in shape.items():
        if name.startswith(TOWER + "blocks.") and name.endswith(".weight") and len(s) == 2:
            total += tokens * s[0] * s[1]
    depth = sum(1 for n in shape if n.endswith("attn.qkv.weight"))
    total += depth * 2 * tokens * tokens * width  # q k^T and p v
    merged = patches // 4
    total += merged * (shape["mlp1.1.weight"][0] * shape["mlp1.1.weight"][1]
                       + shape["mlp1.3.weight"][0] * shape["mlp1.3.weight"][1])
    return 2 * total * tiles




def from_metadata(weights, metadata, dtype, device):
    """The peer of a module: its geometry, heads and normalization from the
    module's metadata."""
    return TorchPipeline(weights, metadata["geometry"], metadata["encoder"]["heads"], dtype,
                         device, metadata["normalization"]["mean"],
                         metadata["normalization"]["std"])


def metadata_flops(metadata, tiles):
    """matmul_flops of a module, from the weight shapes its metadata lists."""
    return matmul_flops({w["name"]: tuple(w["shape"]) for w in metadata["weights"]},
                        metadata["geometry"], tiles)
