"""Checkpoints in the layouts real checkpoints use, made from weights with
the remote-code names modules declare: the transformers-native RADIO layout
(embeddings / encoder.layer, q/k/v split, attention.output.dense), the
projector's named layout (vision_projector.mlp1.{norm,linear1,linear2}),
convolution-shaped patch embedders and the projector-side final norm."""

import re

TOWER = "vision_model.radio_model.model."
GEN = TOWER + "patch_generator."

_EMBEDDINGS = {
    GEN + "embedder.weight": "vision_model.embeddings.patch_projection.weight",
    GEN + "video_embedder.weight": "vision_model.embeddings.video_patch_projection.weight",
    GEN + "pos_embed": "vision_model.embeddings.position_embedding",
    GEN + "cls_token.token": "vision_model.embeddings.cls_register_token",
}
_PROJECTOR = {"mlp1.0.": "vision_projector.mlp1.norm.",
              "mlp1.1.": "vision_projector.mlp1.linear1.",
              "mlp1.3.": "vision_projector.mlp1.linear2."}


def conv_embedders(weights, patch_size, video_conv3d=True):
    """The patch embedders as convolution kernels: the image embedder
    [C, 3P^2] as Conv2d [C, 3, P, P]; the video embedder [C, 3TP^2] (vector
    order t, c, y, x) as Conv3d [C, 3, T, P, P], or with `video_conv3d`
    False as Conv2d over 3T frame-major channels [C, 3T, P, P]."""
    out = dict(weights)
    p = patch_size
    if GEN + "embedder.weight" in out:
        w = out[GEN + "embedder.weight"]
        out[GEN + "embedder.weight"] = w.reshape(w.shape[0], 3, p, p).contiguous()
    if GEN + "video_embedder.weight" in out:
        w = out[GEN + "video_embedder.weight"]
        t = w.shape[1] // (3 * p * p)
        w = w.reshape(w.shape[0], t, 3, p, p)
        out[GEN + "video_embedder.weight"] = (
            w.permute(0, 2, 1, 3, 4).contiguous() if video_conv3d
            else w.reshape(w.shape[0], 3 * t, p, p).contiguous())
    return out


def transformers_tower(weights):
    """The tower renamed to the transformers-native layout, qkv split into
    query, key and value; other tensors (the projector) unchanged."""
    out = {}
    block = re.compile(re.escape(TOWER) + r"blocks\.(\d+)\.(.*)")
    for name, tensor in weights.items():
        if name in _EMBEDDINGS:
            out[_EMBEDDINGS[name]] = tensor
            continue
        if name == TOWER + "norm.weight" or name == TOWER + "norm.bias":
            out["vision_projector.vision_final_layernorm." + name.split(".")[-1]] = tensor
            continue
        m = block.fullmatch(name)
        if not m:
            out[name] = tensor
            continue
        layer, inner = f"vision_model.encoder.layer.{m.group(1)}.", m.group(2)
        if inner.startswith("attn.qkv."):
            suffix = inner[len("attn.qkv."):]
            for part, chunk in zip(("query", "key", "value"), tensor.chunk(3, dim=0)):
                out[f"{layer}attention.attention.{part}.{suffix}"] = chunk.contiguous()
        elif inner.startswith("attn.proj."):
            out[layer + "attention.output.dense." + inner[len("attn.proj."):]] = tensor
        else:
            out[layer + inner] = tensor
    return out


def named_projector(weights):
    """mlp1.{0,1,3} renamed to vision_projector.mlp1.{norm,linear1,linear2}."""
    out = {}
    for name, tensor in weights.items():
        for old, new in _PROJECTOR.items():
            if name.startswith(old):
                name = new + name[len(old):]
                break
        out[name] = tensor
    return out


def transformers_checkpoint(weights, patch_size):
    """Everything a transformers-native checkpoint changes: tower names,
    split q/k/v, a Conv3d video embedder and the named projector."""
    return named_projector(transformers_tower(conv_embedders(weights, patch_size)))
