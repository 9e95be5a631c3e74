"""The model a Fovea image module computes, written the way a PyTorch user
would: bf16 weights on the device, F.linear, F.layer_norm,
F.scaled_dot_product_attention, F.gelu (exact erf), the RMSNorm and ReLU^2
projector. The peer of the GPU check kit's timings (eager and
torch.compile) and, on the CPU, a check that it is the same model as the
module (its output against the module's). Weight-only work (the position
embedding's resampling) happens at construction, as in the module's
@init."""

import torch
import torch.nn.functional as F

import vision_reference as ref

TOWER = "vision_model.radio_model.model."


def _attention(q, k, v):
    """softmax(q k^T / sqrt(d)) v: PyTorch's fused kernel where it has one
    (2.0 and later), else the same in three ops."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v)
    scores = torch.matmul(q, k.transpose(-1, -2)) * q.shape[-1] ** -0.5
    return torch.matmul(torch.softmax(scores.float(), dim=-1).to(q.dtype), v)


class VisionPeer(torch.nn.Module):
    def __init__(self, weights, metadata, device, dtype=torch.bfloat16):
        super().__init__()
        g, e = metadata["geometry"], metadata["encoder"]
        self.patch = g["patch_size"]
        self.heads = e["heads"]
        self.prefix = g["num_prefix_tokens"]
        self.rows, self.cols = g["height"] // self.patch, g["width"] // self.patch
        norm = metadata["normalization"]
        self.register_buffer("mean", torch.tensor(norm["mean"]).reshape(1, 3, 1, 1).to(device))
        self.register_buffer("std", torch.tensor(norm["std"]).reshape(1, 3, 1, 1).to(device))
        w = {k: v.to(device=device, dtype=dtype) for k, v in weights.items()}
        gen = TOWER + "patch_generator."
        self.embedder = w[gen + "embedder.weight"]
        self.pos = ref.interp_pos_embed(weights[gen + "pos_embed"].float(),
                                        (self.rows, self.cols), False).to(device, dtype)
        self.cls = w[gen + "cls_token.token"]
        self.blocks = []
        for i in range(e["depth"]):
            b = f"{TOWER}blocks.{i}."
            self.blocks.append({k: w[b + k] for k in (
                "norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias",
                "attn.proj.weight", "attn.proj.bias", "norm2.weight", "norm2.bias",
                "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias")})
        self.final = (w[TOWER + "norm.weight"], w[TOWER + "norm.bias"]) \
            if TOWER + "norm.weight" in w else None
        self.mlp1 = (w["mlp1.0.weight"], w["mlp1.1.weight"], w["mlp1.3.weight"])
        self.dtype = dtype

    def forward(self, pixels):
        x = ((pixels.float() / 255.0 - self.mean) / self.std).to(self.dtype)
        n = x.shape[0]
        x = F.linear(ref.im2patches(x, self.patch), self.embedder) + self.pos
        x = torch.cat([self.cls.unsqueeze(0).expand(n, -1, -1), x], dim=1)
        width, tokens = x.shape[-1], x.shape[1]
        head = width // self.heads
        for b in self.blocks:
            h = F.layer_norm(x, (width,), b["norm1.weight"], b["norm1.bias"], 1e-6)
            qkv = F.linear(h, b["attn.qkv.weight"], b["attn.qkv.bias"])
            q, k, v = qkv.view(n, tokens, 3, self.heads, head).permute(2, 0, 3, 1, 4)
            a = _attention(q, k, v)
            a = a.transpose(1, 2).reshape(n, tokens, width)
            x = x + F.linear(a, b["attn.proj.weight"], b["attn.proj.bias"])
            h = F.layer_norm(x, (width,), b["norm2.weight"], b["norm2.bias"], 1e-6)
            f = F.gelu(F.linear(h, b["mlp.fc1.weight"], b["mlp.fc1.bias"]))
            x = x + F.linear(f, b["mlp.fc2.weight"], b["mlp.fc2.bias"])
        if self.final is not None:
            x = F.layer_norm(x, (width,), self.final[0], self.final[1], 1e-6)
        x = ref.pixel_shuffle(x[:, self.prefix:], [self.rows, self.cols], "v2")
        xf = x.float()
        x = (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5)).to(self.dtype)
        x = x * self.mlp1[0]
        x = torch.relu(F.linear(x, self.mlp1[1])).pow(2)
        return F.linear(x, self.mlp1[2])

    @staticmethod
    def flops_of(metadata, batch):
        """2 x the multiply-adds of one forward at `batch` images (matmuls
        and attention; elementwise work is not counted)."""
        shapes = {w["name"]: w["shape"] for w in metadata["weights"]}
        g, e = metadata["geometry"], metadata["encoder"]
        rows, cols = g["height"] // g["patch_size"], g["width"] // g["patch_size"]
        width, patch_k = shapes[TOWER + "patch_generator.embedder.weight"]
        tokens = rows * cols + g["num_prefix_tokens"]
        hidden = shapes[TOWER + "blocks.0.mlp.fc1.weight"][0]
        block = 2 * tokens * width * 4 * width + 4 * tokens * width * hidden \
            + 4 * tokens * tokens * width
        embed = 2 * rows * cols * width * patch_k
        merged = rows * cols // 4
        n1, k1 = shapes["mlp1.1.weight"]
        n3, k3 = shapes["mlp1.3.weight"]
        proj = 2 * merged * (n1 * k1 + n3 * k3)
        return batch * (e["depth"] * block + embed + proj)
