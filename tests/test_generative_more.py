"""Diffusion U-Nets and autoencoders beyond the basic configs (issue 16): diffusers' UNet2DModel
with scale-shift time conditioning, class labels, Fourier time features, no middle attention,
other head sizes and group counts; built from tiny configs, saved as diffusers saves them
(config.json + safetensors), generated from the folder and compared output for output with the
library's forward, also under TorchScript. What is not computed exactly is named in the file."""

from __future__ import annotations

import importlib.util
import logging

import pytest
import torch

from codegen.cli.main import main

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
diffusers = pytest.importorskip("diffusers")
logging.getLogger("diffusers").setLevel(logging.ERROR)

UNET = dict(
    sample_size=16,
    in_channels=3,
    out_channels=3,
    block_out_channels=(16, 32),
    layers_per_block=1,
    norm_num_groups=8,
    down_block_types=("DownBlock2D", "AttnDownBlock2D"),
    up_block_types=("AttnUpBlock2D", "UpBlock2D"),
)


def _redrawn(model: torch.nn.Module) -> torch.nn.Module:
    """Weights at unit scale (libraries start some at zero, which hides a wrong term)."""
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, p[0].numel() ** -0.5)
            elif name.endswith("bias"):
                p.normal_(0, 0.1)
            else:
                p.normal_(1, 0.2)
    return model.eval()


def _generated(reference, tmp_path, capsys):
    """Save as the library does, generate from the folder, strict-load: (model, source)."""
    from safetensors.torch import load_file

    folder = tmp_path / "hf"
    reference.save_pretrained(folder)
    out = tmp_path / "model.py"
    assert main(["generate", str(folder), "-o", str(out)]) == 0
    assert "internal error" not in capsys.readouterr().err
    spec = importlib.util.spec_from_file_location(f"gen_{id(out)}", out)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.RecoveredModel().eval()
    weights = next(folder.glob("*.safetensors"))
    model.load_state_dict(load_file(weights), strict=True)
    return model, out.read_text()


def _assert_exact(model, source, expected, *inputs):
    assert "Forward trust: guessed" not in source and "Forward trust: missing" not in source
    with torch.no_grad():
        torch.testing.assert_close(model(*inputs), expected, atol=1e-5, rtol=1e-5)
        scripted = torch.jit.script(model)
        torch.testing.assert_close(scripted(*inputs), expected, atol=1e-5, rtol=1e-5)


UNET_VARIANTS = {
    "scale_shift": dict(resnet_time_scale_shift="scale_shift"),
    "no_mid_attention_4_groups": dict(add_attention=False, norm_num_groups=4),
    "attention_everywhere_head_4": dict(
        down_block_types=("AttnDownBlock2D",) * 2,
        up_block_types=("AttnUpBlock2D",) * 2,
        attention_head_dim=4,
        layers_per_block=2,
    ),
    "class_labels": dict(num_class_embeds=5),
    "fourier": dict(time_embedding_type="fourier", flip_sin_to_cos=False),
    "learned_time": dict(time_embedding_type="learned", num_train_timesteps=1000),
}


@pytest.mark.parametrize("variant", list(UNET_VARIANTS))
def test_unet2d_variant_exact_from_the_folder(variant, tmp_path, capsys):
    reference = _redrawn(diffusers.UNet2DModel(**{**UNET, **UNET_VARIANTS[variant]}))
    model, source = _generated(reference, tmp_path, capsys)
    torch.manual_seed(1)
    inputs = [torch.randn(2, 3, 16, 16), torch.tensor([3, 700])]
    if reference.config.num_class_embeds:
        inputs.append(torch.tensor([1, 4]))
    with torch.no_grad():
        expected = reference(*inputs).sample
    _assert_exact(model, source, expected, *inputs)


def test_vq_model_exact_from_the_folder(tmp_path, capsys):
    reference = diffusers.VQModel(
        in_channels=3,
        out_channels=3,
        block_out_channels=(16, 32),
        layers_per_block=1,
        norm_num_groups=8,
        latent_channels=4,
        num_vq_embeddings=32,
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
    )
    reference = _redrawn(reference)
    model, source = _generated(reference, tmp_path, capsys)
    assert "torch.cdist(" in source  # the nearest codebook row, per pixel
    torch.manual_seed(1)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        expected = reference(x).sample
    _assert_exact(model, source, expected, x)


CONDITIONAL = dict(
    sample_size=16,
    in_channels=4,
    out_channels=4,
    block_out_channels=(16, 32),
    layers_per_block=1,
    norm_num_groups=8,
    cross_attention_dim=24,
    attention_head_dim=4,  # in this class: the number of heads
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
)


@pytest.mark.parametrize(
    "config",
    [{}, {"use_linear_projection": True, "cross_attention_dim": 16, "attention_head_dim": 2}],
    ids=["conv_projections", "linear_projections_same_width"],
)
def test_unet2d_condition_exact_from_the_folder(config, tmp_path, capsys):
    reference = _redrawn(diffusers.UNet2DConditionModel(**{**CONDITIONAL, **config}))
    model, source = _generated(reference, tmp_path, capsys)
    torch.manual_seed(1)
    width = reference.config.cross_attention_dim
    inputs = (torch.randn(2, 4, 16, 16), torch.tensor([3, 700]), torch.randn(2, 7, width))
    with torch.no_grad():
        expected = reference(*inputs).sample
    _assert_exact(model, source, expected, *inputs)
