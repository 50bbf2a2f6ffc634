"""Generative families (issue 16): diffusers' UNet2DModel and AutoencoderKL from tiny configs,
generated from the folder diffusers' save_pretrained writes (config.json as evidence) and compared
output for output with the library's forward, also under TorchScript; super-resolution nets written
the way the common repositories write them (ESRGAN's RRDBNet, a pixel-shuffle tail, DnCNN's global
residual): exact from the catalogue's defaults, or after --calibrate, and flagged until then."""

from __future__ import annotations

import logging

import pytest
import torch

from codegen.patterns.blocks._sr_examples import modules as sr_zoo
from tests.generated_module import cli_generate, load_module

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _load(path, name: str):
    module = load_module(path)
    return module


def _generate(ckpt, tmp_path, capsys, *extra: str):
    """(the written model.py, the generate's report: its analysis too)."""
    out = tmp_path / "model.py"
    report = cli_generate(ckpt, "-o", out, *extra)
    assert "internal error" not in capsys.readouterr().err
    return out, report


# --------------------------------------------------------------------------- diffusers

diffusers = pytest.importorskip("diffusers")
logging.getLogger("diffusers").setLevel(logging.ERROR)
TINY = dict(block_out_channels=(16, 32), layers_per_block=1, norm_num_groups=8, sample_size=16)


def unet(**kw):
    return diffusers.UNet2DModel(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownBlock2D", "AttnDownBlock2D"),
        up_block_types=("AttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=8,
        **{**TINY, **kw},
    )


def vae():
    return diffusers.AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        **TINY,
    )


def _from_folder(reference, tmp_path, capsys):
    from safetensors.torch import load_file

    folder = tmp_path / "hf"
    reference.save_pretrained(folder)
    out, report = _generate(folder, tmp_path, capsys)
    ir = report.ir
    model = _load(out, folder.name).RecoveredModel().eval()
    model.load_state_dict(load_file(folder / "diffusion_pytorch_model.safetensors"), strict=True)
    return model, out.read_text(), ir


@pytest.mark.parametrize(
    "config",
    [{}, {"flip_sin_to_cos": False, "freq_shift": 1, "layers_per_block": 2}],
    ids=["default", "shifted_two_layers"],
)
def test_unet2d_exact_from_the_folder(config, tmp_path, capsys):
    torch.manual_seed(0)
    reference = unet(**config).eval()
    model, source, ir = _from_folder(reference, tmp_path, capsys)
    assert [c.name for c in ir.classes if c.forward.trust != "inferred"] == []
    assert "config.json flip_sin_to_cos" in source and "config.json attention_head_dim" in source
    torch.manual_seed(1)
    sample, t = torch.randn(2, 3, 16, 16), torch.tensor([3, 700])
    with torch.no_grad():
        expected = reference(sample, t).sample
        torch.testing.assert_close(model(sample, t), expected, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(
            torch.jit.script(model)(sample, t), expected, atol=1e-5, rtol=1e-5
        )
        scalar = reference(sample, 42).sample  # one timestep for the whole batch
        torch.testing.assert_close(model(sample, torch.tensor(42)), scalar, atol=1e-5, rtol=1e-5)


# center_input_sample and mid_block_scale_factor: computed now, tests/test_config_readings.py


def test_autoencoder_kl_exact_from_the_folder(tmp_path, capsys):
    torch.manual_seed(0)
    reference = vae().eval()
    model, source, ir = _from_folder(reference, tmp_path, capsys)
    assert [c.name for c in ir.classes if c.forward.trust != "inferred"] == []
    assert "F.pad(" in source  # the encoder's downsamplers pad (0, 1, 0, 1)
    torch.manual_seed(1)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        expected = reference(x, sample_posterior=False).sample
        torch.testing.assert_close(model(x), expected, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(model)(x), expected, atol=1e-5, rtol=1e-5)


# ----------------------------------------------------------------------- super-resolution


def _recorded(name: str, tmp_path, channels: int = 3):
    reference = sr_zoo()[name]()
    torch.save(reference.state_dict(), tmp_path / "weights.pt")
    torch.manual_seed(3)
    x = torch.randn(4, channels, 8, 8)
    with torch.no_grad():
        torch.save({"inputs": x, "outputs": reference(x)}, tmp_path / "data.pt")
    return reference, x


@pytest.mark.parametrize("name", ["rrdbnet", "pixel_shuffle"])
def test_super_resolution_exact(name, tmp_path, capsys):
    reference, x = _recorded(name, tmp_path)
    out, _ = _generate(tmp_path / "weights.pt", tmp_path, capsys)
    model = _load(out, name).RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(model)(x), reference(x), atol=1e-5, rtol=1e-5)
    text = out.read_text()
    assert "upsample" in text or "pixel_shuffle" in text


def test_dncnn_global_residual_flagged_then_calibrated(tmp_path, capsys):
    """`x - f(x)` leaves no key: the file says its forward is a guess with the residual a choice,
    and --calibrate finds it."""
    reference, x = _recorded("dncnn", tmp_path, channels=1)
    out, _ = _generate(tmp_path / "weights.pt", tmp_path, capsys)
    text = out.read_text()
    assert "guessed" in text and "residual" in text and "global residual" not in text
    out, _ = _generate(
        tmp_path / "weights.pt",
        tmp_path,
        capsys,
        "--force",
        "--calibrate",
        str(tmp_path / "data.pt"),
    )
    model = _load(out, "dncnn").RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
    assert "global residual" in out.read_text()
