"""Swin Transformer: transformers' SwinModel / SwinForImageClassification from a saved folder
(config.json + safetensors) and a Swin written the way the official code and timm write it, each
compared output for output with the reference forward (atol 1e-5), and scripted."""

from __future__ import annotations

import logging

import re

import pytest
import torch

from codegen.generate import generate_source
from codegen.load import open_checkpoint
from codegen.patterns.blocks._swin_examples import modules as zoo
from tests.redraw import unit_scale
from tests.generated_module import cli_generate, load_module

ATOL = 1e-5


def _load(path, name: str):
    module = load_module(path)
    return module


def _generate(folder, tmp_path, name: str, hints: str = ""):
    """(the written file, its module, the generate's analysis)."""
    out = tmp_path / f"{name}.py"
    args = [folder, "-o", out]
    if hints:
        (tmp_path / "hints.toml").write_text(hints)
        args += ["--hints", tmp_path / "hints.toml"]
    report = cli_generate(*args)
    return out, _load(out, name), report.ir


# ----------------------------------------------------------------------------- transformers

transformers = pytest.importorskip("transformers")
logging.getLogger("transformers").setLevel(logging.ERROR)

BASE = dict(
    image_size=32,
    patch_size=4,
    embed_dim=16,
    depths=[2, 2],
    num_heads=[2, 4],
    window_size=4,
    num_labels=5,
)
CONFIGS = {
    # two blocks a stage: the second shifts its windows and masks them
    "tiny": dict(BASE),
    # 44 x 42 pixels, patch 2, window 3, three stages: neither the patch grid (22 x 21) nor the
    # stages (11 x 11, 6 x 6) are whole windows or even: padded windows and patch merging
    "padded": dict(
        BASE, image_size=44, patch_size=2, window_size=3, depths=[2, 2, 2], num_heads=[1, 2, 4]
    ),
    # a position table; the last stage's map (2 x 2) is one window, unshifted
    "absolute": dict(
        BASE, use_absolute_embeddings=True, window_size=2, depths=[2, 1, 3], num_heads=[2, 2, 4]
    ),
    "one_block": dict(BASE, depths=[1, 1]),
}
PIXELS = {"padded": (44, 42)}


@pytest.mark.parametrize("head", ["classifier", "model"])
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_transformers_swin_exact(name, head, tmp_path):
    from safetensors.torch import load_file

    config = transformers.SwinConfig(**CONFIGS[name])
    cls = (
        transformers.SwinForImageClassification if head == "classifier" else transformers.SwinModel
    )
    reference = unit_scale(cls(config))
    folder = tmp_path / "hf"
    reference.save_pretrained(folder)
    path, module, ir = _generate(folder, tmp_path, f"{name}_{head}")
    source = path.read_text()
    assert "guessed" not in source and "NotImplementedError" not in source
    model = module.RecoveredModel().eval()
    model.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    x = torch.randn(2, 3, *PIXELS.get(name, (32, 32)))
    with torch.no_grad():
        out = reference(pixel_values=x)
        want = out.logits if head == "classifier" else out.last_hidden_state
        got = model(x)
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, atol=ATOL, rtol=1e-4)
        torch.testing.assert_close(torch.jit.script(model)(x), want, atol=ATOL, rtol=1e-4)
    # the config values the file depends on are cited, none left unused
    assert not [w for w in ir.warnings if "does not use" in w]
    assert {c.forward.trust for c in ir.classes} == {"inferred"}


# ------------------------------------------------------------------- the official code / timm

LAYOUTS = {"official": dict(late_merge=True), "timm": dict(late_merge=False, persistent=False)}
LAYER_NORM = '["patch_embed.norm"]\nmodule_type = "nn.LayerNorm"\n'


def _zoo_checkpoint(layout: str, tmp_path):
    torch.manual_seed(0)
    reference = zoo()["SwinTransformer"](**LAYOUTS[layout]).eval()
    ckpt = tmp_path / "swin.pt"
    # a trainer's config beside the weights: the MLP's activation is not in them
    torch.save({"state_dict": reference.state_dict(), "config": {"hidden_act": "gelu"}}, ckpt)
    return reference, ckpt


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_zoo_swin_without_hints_is_flagged(layout, tmp_path):
    """The patch embedding's norm could be a GroupNorm as far as the keys go: right after a patchify
    conv it is read as a LayerNorm over the channels (vis11), and the file still says the patch
    embedding's forward is guessed."""
    reference, ckpt = _zoo_checkpoint(layout, tmp_path)
    path, module, _ = _generate(ckpt, tmp_path, f"zoo_{layout}")
    source = path.read_text()
    assert "patch_embed.norm" in source
    assert re.search(r"class PatchEmbed\(nn.Module\):\n    \"\"\"Forward trust: guessed", source)
    model = module.RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=ATOL, rtol=1e-4)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_zoo_swin_with_the_norm_pinned(layout, tmp_path):
    """With the patch norm pinned both layouts are exact: the official one (merging after each
    stage's blocks) and timm's (merging before them, the head a class holding `fc`)."""
    reference, ckpt = _zoo_checkpoint(layout, tmp_path)
    path, module, ir = _generate(ckpt, tmp_path, f"zoo_{layout}", LAYER_NORM)
    model = module.RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 30, 34)
    with torch.no_grad():
        want = reference(x)
        got = model(x)
        torch.testing.assert_close(got, want, atol=ATOL, rtol=1e-4)
        torch.testing.assert_close(torch.jit.script(model)(x), want, atol=ATOL, rtol=1e-4)
    # The top class calls the patch embedding's conv and norm and the head's Linear itself: the
    # forwards of PatchEmbed and Head (width chains, guessed) are not used.
    assert ir.top.forward.trust == "inferred"
    unused = {"PatchEmbed", "Head"}
    assert {c.forward.trust for c in ir.classes if c.name not in unused} == {"inferred"}


def test_window_attention_recomputes_the_index_without_the_buffer(tmp_path):
    """The relative position index is a function of the window: a checkpoint without the buffer
    (timm, transformers save it non-persistent) gets it recomputed, with the same outputs."""
    torch.manual_seed(0)
    reference = zoo()["WindowAttention"](16, 2, 4, False).eval()
    ckpt = tmp_path / "attn.pt"
    torch.save(reference.state_dict(), ckpt)
    source, ir = generate_source(open_checkpoint(ckpt).table)
    assert "relative_position_index" not in reference.state_dict()
    path = tmp_path / "attn.py"
    path.write_text(source)
    model = _load(path, "attn").RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(6, 16, 16)
    region = torch.tensor([0.0, 0.0, 1.0, 1.0]).repeat_interleave(4)
    mask = (region[None, :] != region[:, None]).float() * -100.0
    mask = torch.stack([torch.zeros(16, 16), mask, torch.zeros(16, 16)])  # 3 windows an image
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=ATOL, rtol=1e-4)
        torch.testing.assert_close(model(x, mask), reference(x, mask), atol=ATOL, rtol=1e-4)


def test_transformers_swin_state_dict_in_memory_exact(tmp_path):
    """transformers 5 holds Swin as `attention.q_proj`, `attention.relative_position_bias.*` and
    `mlp.fc1` in memory (save_pretrained writes the older names): a torch.save of that state dict,
    with a trainer's config naming the activation, is exact too."""
    config = transformers.SwinConfig(**CONFIGS["tiny"])
    reference = unit_scale(transformers.SwinForImageClassification(config))
    state = reference.state_dict()
    assert any(".relative_position_bias.relative_position_bias_table" in k for k in state)
    ckpt = tmp_path / "swin.pt"
    torch.save({"state_dict": state, "config": {"hidden_act": "gelu"}}, ckpt)
    _, module, _ = _generate(ckpt, tmp_path, "in_memory")
    model = module.RecoveredModel().eval()
    model.load_state_dict(state, strict=True)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        want = reference(pixel_values=x).logits
        torch.testing.assert_close(model(x), want, atol=ATOL, rtol=1e-4)
        torch.testing.assert_close(torch.jit.script(model)(x), want, atol=ATOL, rtol=1e-4)


def test_transformers_swin_v2_classifier_exact(tmp_path):
    """Swin v2 (cosine attention scaled by logit_scale, a position bias from an MLP over log-spaced
    offsets, post-norm blocks; blocks/cosine_window_attention.py, vis11) with its classifier head,
    exact from the folder (tests/test_vision_11.py compares the bare model in two configs)."""
    config = transformers.Swinv2Config(**{k: v for k, v in CONFIGS["tiny"].items()})
    reference = unit_scale(transformers.Swinv2ForImageClassification(config)).eval()
    folder = tmp_path / "hf"
    reference.save_pretrained(folder)
    path, module, _ = _generate(folder, tmp_path, "v2")
    assert "logit_scale" in path.read_text()
    model = module.RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, config.image_size, config.image_size)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x).logits, atol=ATOL, rtol=1e-4)
