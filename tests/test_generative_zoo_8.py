"""Generative nets as other repositories write them (issue 16, tests/generative_zoo_8_models.py):
latent diffusion's and taming's autoencoders, the DDPM port, openai's improved/guided-diffusion
U-Nets, EDSR, basicsr's MSRResNet, Real-ESRGAN's compact net, pix2pix's U-Net generator. Each is
generated from its state dict alone (no config): it loads strictly, generates without an internal
error, and computes the reference's output, or its file says which class is guessed or missing.
Never silently wrong."""

from __future__ import annotations


import pytest
import torch

from codegen.cli.main import main
from tests import generative_zoo_8_models as zoo
from tests.generated_module import load_module
from tests.generative_zoo_check import verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

# Exact from the keys alone: latent diffusion's layout is read from its names (`down.N.block.M`,
# `mid.block_1`/`attn_1`, 1x1-conv attention, `up` run last level first, cited conventions for
# its downsampler's padding and its group norms' eps), the DDPM port's too (`temb.dense` and its
# sin-first time features); the compact SR net's shuffle from widths (its residual is a choice,
# so its file says guessed while computing the right thing).
EXACT = {
    "ldm_autoencoder_kl",
    "ldm_autoencoder_kl_flat",
    "taming_vq_no_quantizer",
    "ddpm_pesser",
    "srvgg_compact",
    "pix2pix_unet",  # session 12: blocks/unet_skip_block.py reads its nested levels
}


def _generate(name: str, tmp_path, capsys, *extra: str):
    reference, inputs = zoo.build(name)
    ckpt, out = tmp_path / "weights.pt", tmp_path / "model.py"
    torch.save(reference.state_dict(), ckpt)
    assert main(["generate", str(ckpt), "-o", str(out), *extra]) in (0, 1)
    assert "internal error" not in capsys.readouterr().err
    model = load_module(out).RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    return reference, inputs, model, out.read_text()


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_zoo_model_exact_or_flagged(name, tmp_path, capsys):
    found, diff = verdict(*_generate(name, tmp_path, capsys))
    assert found != "WRONG", f"{name}: differs by {diff:.3g} and nothing says so"
    if name in EXACT:
        assert found == "exact", f"{name}: max abs diff {diff:.3g}"
    else:
        assert found == "flagged", f"{name} is now exact: add it to EXACT"


def test_conventions_are_cited(tmp_path, capsys):
    """What no key records in latent diffusion's autoencoder is said in the file, with why."""
    *_, source = _generate("ldm_autoencoder_kl", tmp_path, capsys)
    assert "latent diffusion's Downsample" in source
    assert "GroupNorm eps 1e-6" in source


def test_compact_sr_residual_is_a_guess_until_settled(tmp_path, capsys):
    """The compact net's upsampled-input residual leaves no tensor: guessed, and a hint (as
    calibration would) that says `none` makes an ESPCN-like forward, no longer guessed."""
    *_, source = _generate("srvgg_compact", tmp_path, capsys)
    assert "Forward trust: guessed" in source and "input_residual" in source
    hints = tmp_path / "hints.toml"
    hints.write_text('["RecoveredModel.body"]\ninput_residual = "none"\n')
    *_, source = _generate("srvgg_compact", tmp_path, capsys, "--hints", str(hints), "--force")
    assert "Forward trust: guessed" not in source and "F.interpolate" not in source


def test_msrresnet_exact_after_calibrate(tmp_path, capsys):
    """basicsr's MSRResNet: the activation after the first conv (leaky ReLU 0.1), no long skip,
    the bilinear-upsampled input added and the residual blocks' skips leave no tensors; --calibrate
    on recorded outputs finds them."""
    reference, (x,) = zoo.build("msrresnet")
    data = tmp_path / "data.pt"
    torch.manual_seed(5)
    sample = torch.randn(4, *x.shape[1:])
    with torch.no_grad():
        torch.save({"inputs": sample, "outputs": reference(sample)}, data)
    extra = ("--calibrate", str(data), "--quiet", "--candidates", "600")
    reference, inputs, model, source = _generate("msrresnet", tmp_path, capsys, *extra)
    found, diff = verdict(reference, inputs, model, source)
    assert found == "exact", f"max abs diff {diff:.3g}"


def _recorded(name: str, tmp_path):
    reference, inputs = zoo.build(name)
    torch.manual_seed(5)
    sample = torch.randn(4, *inputs[0].shape[1:])
    with torch.no_grad():
        if len(inputs) == 1:
            record = {"inputs": sample, "outputs": reference(sample)}
        else:
            t = torch.tensor([1, 90, 400, 999])
            record = {"sample": sample, "timestep": t, "outputs": reference(sample, t)}
    torch.save(record, tmp_path / "data.pt")
    return str(tmp_path / "data.pt")


def test_improved_diffusion_exact_after_calibrate(tmp_path, capsys):
    """openai's U-Net: blocks run in turn with one kept map each, its ResBlock's Sequentials, the
    fused-QKV attention; only the head count leaves no tensor (flagged), and --calibrate on
    recorded (sample, timestep) -> output finds it."""
    data = _recorded("improved_diffusion", tmp_path)
    extra = ("--calibrate", data, "--inputs", "sample,timestep", "--target", "outputs")
    extra += ("--quiet", "--candidates", "600")
    found, diff = verdict(*_generate("improved_diffusion", tmp_path, capsys, *extra))
    assert found == "exact", f"max abs diff {diff:.3g}"


def test_guided_diffusion_exact_with_heads_pinned(tmp_path, capsys):
    """guided-diffusion's new QKV order with 4 heads and scale-shift norms: exact once the head
    count and the order (what --list-choices offers) are pinned."""
    hints = tmp_path / "hints.toml"
    classes = ("SpatialAttention", "MiddleBlockSpatialAttention", "OutputBlocksSpatialAttention")
    hints.write_text("".join(f'["{c}.qkv"]\nnhead = 4\nqkv_order = "qkv_first"\n' for c in classes))
    generated = _generate("guided_diffusion", tmp_path, capsys, "--hints", str(hints))
    assert "Forward trust: guessed" not in generated[3]
    found, diff = verdict(*generated)
    assert found == "exact", f"max abs diff {diff:.3g}"
