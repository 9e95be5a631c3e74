# RUN: %python %s
"""Checkpoint layouts end to end: one module, its weights written in the
remote-code layout and in the transformers-native one (split q/k/v,
convolution-shaped embedders, the named projector, mixed tower/projector
layouts), the same bits out of each and the PyTorch reference's values;
the optional final norm from the config or the checkpoint; one-line errors
for checkpoints that match no layout, mix two, or lack a part."""

import json
import os

import torch

import pipeline_reference as pipe
from fovea_testing.checks import Cases
from fovea_testing.compiled import _SRC_ROOT
from fovea_testing.files import config_dir, read_npy, write_npy, write_safetensors
from fovea_testing.layouts import (TOWER, conv_embedders, named_projector,
                                   transformers_checkpoint, transformers_tower)
from fovea_testing.tools import (BIN, WORK, build, expect_error, sh,
                                 video_frames, weights_for)

TINY = dict(patch_size=16, depth=2, heads=2, num_prefix=2)


def run_module(module, checkpoint, x, name):
    """fovea-run `module` on `x` with `checkpoint`; returns the raw output
    bytes and the output tensor."""
    write_npy(f"{WORK}/{name}_x.npy", x)
    out = f"{WORK}/{name}_y.npy"
    sh(f"{BIN}/fovea-run", module, "--weights", checkpoint, "--input",
       f"{WORK}/{name}_x.npy", "--output", out)
    with open(out, "rb") as f:
        return f.read(), read_npy(out)


def save(tensors, name):
    path = f"{WORK}/{name}.safetensors"
    write_safetensors(path, tensors)
    return path


def check_against_reference(y, expected):
    err = (y.float() - expected).abs().max().item()
    assert torch.allclose(y.float(), expected, rtol=1e-3, atol=1e-4), err


def run_image_layouts():
    module = build("layouts_image", "--preset", "tiny", "--dtype", "f32")
    weights = weights_for(module, "f32", seed=3)
    x = video_frames(2, seed=4)
    expected = pipe.vision_pipeline(x, weights, **TINY)
    remote_bytes, y = run_module(module, save(weights, "remote"), x, "remote")
    check_against_reference(y, expected)
    variants = {
        "transformers": transformers_checkpoint(weights, 16),
        "transformers tower, Sequential projector": transformers_tower(weights),
        "remote-code tower, named projector": named_projector(weights),
        "Conv2d-shaped embedder": conv_embedders(weights, 16),
    }
    for i, (what, tensors) in enumerate(variants.items()):
        got, _ = run_module(module, save(tensors, f"variant{i}"), x, f"variant{i}")
        assert got == remote_bytes, f"{what}: the output differs from the remote-code layout's"


def run_video_layouts():
    module = build("layouts_video", "--preset", "tiny-video", "--input-kind", "video",
                   "--dtype", "f32")
    weights = weights_for(module, "f32", seed=5)
    x = video_frames(4, seed=6)
    expected = pipe.vision_pipeline(x, weights, temporal=2, **TINY)
    remote_bytes, y = run_module(module, save(weights, "vremote"), x, "vremote")
    check_against_reference(y, expected)
    conv3d = transformers_checkpoint(weights, 16)
    assert conv3d["vision_model.embeddings.video_patch_projection.weight"].shape == (64, 3, 2, 16, 16)
    for i, tensors in enumerate([conv3d, conv_embedders(weights, 16, video_conv3d=False)]):
        got, _ = run_module(module, save(tensors, f"vconv{i}"), x, f"vconv{i}")
        assert got == remote_bytes, f"video variant {i}: the output differs"


def run_layout_errors():
    module = build("layouts_errors", "--preset", "tiny", "--dtype", "f32")
    weights = weights_for(module, "f32")
    write_npy(f"{WORK}/layout_x.npy", video_frames(1))
    run = [f"{BIN}/fovea-run", module, "--input", f"{WORK}/layout_x.npy", "--weights"]
    projector_only = save({k: v for k, v in weights.items() if k.startswith("mlp1.")}, "noTower")
    expect_error(run + [projector_only],
                 "no vision tower in the checkpoint: looked for "
                 "'vision_model.radio_model.model.patch_generator.pos_embed' (remote-code layout) "
                 "and 'vision_model.embeddings.position_embedding' (transformers layout)")
    native = transformers_checkpoint(weights, 16)
    mixed = dict(native)
    mixed[TOWER + "blocks.0.norm1.weight"] = weights[TOWER + "blocks.0.norm1.weight"]
    expect_error(run + [save(mixed, "mixed")],
                 "the checkpoint mixes two layouts of the vision tower: "
                 "'vision_model.radio_model.model.blocks.0.norm1.weight' (remote-code) and "
                 "'vision_model.embeddings.cls_register_token' (transformers)")
    no_key = dict(native)
    del no_key["vision_model.encoder.layer.1.attention.attention.key.weight"]
    expect_error(run + [save(no_key, "noKey")],
                 "missing tensor 'vision_model.encoder.layer.1.attention.attention.key.weight' "
                 "(the module's 'vision_model.radio_model.model.blocks.1.attn.qkv.weight', "
                 "transformers layout)")
    bad_part = dict(native)
    bad_part["vision_model.encoder.layer.0.attention.attention.value.bias"] = torch.zeros(65)
    expect_error(run + [save(bad_part, "badPart")],
                 "tensor 'vision_model.encoder.layer.0.attention.attention.value.bias' has shape "
                 "[65], the module expects [64]")
    bad_conv = dict(native)
    bad_conv["vision_model.embeddings.patch_projection.weight"] = torch.zeros(64, 3, 8, 8)
    expect_error(run + [save(bad_conv, "badConv")],
                 "tensor 'vision_model.embeddings.patch_projection.weight' has shape "
                 "[64, 3, 8, 8], the module expects [64, 768]")


def model_dir(name, config, tensors):
    return config_dir(os.path.join(WORK, name), config, tensors)


def run_final_norm():
    """The final norm: from the checkpoint (either name) or args.model_norm,
    and the errors when the two disagree."""
    base = json.load(open(os.path.join(_SRC_ROOT, "test", "Driver", "Inputs",
                                       "tiny_omni_config.json")))
    plain = model_dir("norm_plain", base, None)
    module = build("norm_weights", "--config", plain, "--dtype", "f32")
    weights = weights_for(module, "f32", seed=7)
    g = torch.Generator().manual_seed(8)
    weights[TOWER + "norm.weight"] = 1 + 0.1 * torch.randn(64, generator=g)
    weights[TOWER + "norm.bias"] = 0.02 * torch.randn(64, generator=g)
    kwargs = dict(patch_size=16, depth=1, heads=2, num_prefix=4)
    x = video_frames(2, seed=9)
    expected = pipe.vision_pipeline(x, weights, **kwargs)

    # RADIO's model.norm in a remote-code checkpoint.
    remote = model_dir("norm_remote", base, weights)
    module = build("norm_remote", "--config", remote, "--dtype", "f32")
    meta = json.loads(sh(f"{BIN}/fovea-run", module, "--print-metadata").stdout)
    assert TOWER + "norm.weight" in [w["name"] for w in meta["weights"]]
    remote_bytes, y = run_module(module, remote, x, "norm_remote")
    check_against_reference(y, expected)
    # A module compiled without the norm refuses a checkpoint that has it.
    without_norm = build("norm_weights", "--config", plain, "--dtype", "f32")
    write_npy(f"{WORK}/norm_x.npy", x)
    expect_error([f"{BIN}/fovea-run", without_norm, "--weights", remote, "--input",
                  f"{WORK}/norm_x.npy"],
                 "the checkpoint has the ViT's final norm "
                 "('vision_model.radio_model.model.norm.weight'), which this module was "
                 "compiled without")
    # The projector-side vision_final_layernorm of a transformers checkpoint.
    native = model_dir("norm_native", base, transformers_checkpoint(weights, 16))
    assert "vision_projector.vision_final_layernorm.weight" in transformers_checkpoint(weights, 16)
    module = build("norm_native", "--config", native, "--dtype", "f32")
    got, _ = run_module(module, native, x, "norm_native")
    assert got == remote_bytes
    # args.model_norm alone adds it; the checkpoint must then have it.
    stated = json.loads(json.dumps(base))
    stated["vision_config"]["args"]["model_norm"] = True
    without = {k: v for k, v in weights.items() if not k.startswith(TOWER + "norm.")}
    missing = model_dir("norm_missing", stated, without)
    expect_error([f"{BIN}/fovea-compile", "--config", missing, "--compile-to", "vision"],
                 "the config's vision_config.args.model_norm is true but the checkpoint has "
                 "no final norm")
    # model_norm false with RADIO's model.norm present.
    stated["vision_config"]["args"]["model_norm"] = False
    extra = model_dir("norm_extra", stated, weights)
    expect_error([f"{BIN}/fovea-compile", "--config", extra, "--compile-to", "vision"],
                 "the config's vision_config.args.model_norm is false but the checkpoint has "
                 "the final norm 'vision_model.radio_model.model.norm.weight'")


def run_reconcile_transformers():
    """What the checkpoint decides at compile time comes from either layout:
    prefix tokens from cls_register_token, T from a Conv3d video embedder."""
    base = json.load(open(os.path.join(_SRC_ROOT, "test", "Driver", "Inputs",
                                       "tiny_omni_config.json")))
    open_config = json.loads(json.dumps(base))
    for key in ("cls_token_per_teacher", "register_multiple", "teachers"):
        del open_config["vision_config"]["args"][key]
    del open_config["video_temporal_patch_size"]
    del open_config["vision_config"]["video_temporal_patch_size"]
    tensors = {"vision_model.embeddings.cls_register_token": torch.zeros(6, 64),
               "vision_model.embeddings.video_patch_projection.weight": torch.zeros(64, 3, 3, 16, 16)}
    d = model_dir("reconcile_native", open_config, tensors)
    ir = sh(f"{BIN}/fovea-compile", "--config", d, "--input-kind", "video",
            "--compile-to", "vision").stdout
    assert "tensor<6x64xbf16> {vision.weight = \"" + TOWER + "patch_generator.cls_token.token" in ir
    assert "tensor<64x2304xbf16> {vision.weight = \"" + TOWER + "patch_generator.video_embedder" in ir
    wide = model_dir("reconcile_wide", base,
                      {"vision_model.embeddings.patch_projection.weight": torch.zeros(32, 3, 16, 16)})
    expect_error([f"{BIN}/fovea-compile", "--config", wide, "--compile-to", "vision"],
                 "the config implies the ViT width = 64 but the checkpoint's "
                 "'vision_model.embeddings.patch_projection.weight' implies 32")


cases = Cases()
cases.run("image: every layout gives the same bits", run_image_layouts)
cases.run("video: Conv3d and Conv2d video embedders", run_video_layouts)
cases.run("layout errors", run_layout_errors)
cases.run("final norm", run_final_norm)
cases.run("compile-time reconciliation from a transformers checkpoint", run_reconcile_transformers)
cases.finish()
