"""Generative nets as other repositories write them, third zoo (issue 16, session 10,
tests/generative_zoo_10_models.py): EDSR-PyTorch's x4 and x8 upsamplers (EDSR, RCAN), a
SwinIR-style tail, DCGAN at 64x64, guided-diffusion's four-head attention. Each is generated from
its state dict alone: exact, or its file says which class is guessed or missing; never silently
wrong. Measured before and after in benchmarks/README.md (bench_generative_zoo.py).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests import generative_zoo_10_models as zoo
from tests.generative_zoo_check import check_listed, generate, recorded, run, verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

# Exact from the keys alone: the upsampler's second (and third) conv follows a shuffle's slot,
# read from widths (the conv before gives r*r times what it reads; the one after reads that
# again), so it is no longer taken for a conv grouped over the widened output.
# dcgan_64: as zoo 9's DCGAN, exact from the keys (the latent as a 1x1 map, the tanh).
EXACT = {"edsr_x4", "edsr_x8", "rcan_x4", "dcgan_64"}


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_zoo_model_exact_or_flagged(name, tmp_path, capsys):
    (found, diff), _ = run(zoo, name, tmp_path, capsys)
    check_listed(name, found, diff, EXACT)


def test_x4_tail_shuffles_between_convs(tmp_path, capsys):
    """Both upsampling convs of the x4 tail read n channels, ungrouped, each followed by a
    shuffle in the forward."""
    _, source = run(zoo, "edsr_x4", tmp_path, capsys)
    assert "groups=" not in source
    assert source.count("F.pixel_shuffle(") == 2


def test_grouped_conv_after_activation_stays_grouped(tmp_path, capsys):
    """The same slot between two convs where the first does not widen by r*r (a grouped conv
    behind a ReLU, no norm): still grouped, and exact."""

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 32, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(32, 32, 3, padding=1, groups=4),
                nn.ReLU(),
                nn.Conv2d(32, 3, 1),
            )

        def forward(self, x):
            return self.features(x)

    torch.manual_seed(0)
    reference, inputs = Net().eval(), (torch.randn(2, 3, 8, 8),)
    model, source = generate(reference, tmp_path)
    assert "groups=4" in source and "PixelShuffle" not in source
    assert verdict(reference, inputs, model, source)[0] == "exact"


def _calibrated(name: str, tmp_path, *extra: str):
    reference, inputs = zoo.build(name)
    args = recorded(reference, inputs, tmp_path / "data.pt") + ["--budget", "60", *extra]
    model, source = generate(reference, tmp_path, *args)
    return verdict(reference, inputs, model, source), source


def test_dcgan_first_layer_found_by_calibration(tmp_path, capsys):
    """DCGAN's first transposed conv maps the 1x1 latent to 4x4 (stride 1, no padding); the
    others double. Both that and the trailing Tanh are structure defaults now (the model's first
    layer; a generator's image); calibration keeps them."""
    (found, diff), source = _calibrated("dcgan_64", tmp_path, "--quiet")
    assert found == "exact", f"max abs diff {diff:.3g}"
    assert "torch.tanh(" in source or "nn.Tanh()" in source


def test_head_count_opens_channel_order(tmp_path, capsys):
    """With one head the fused channels' order is no choice (both orders compute the same); a
    head count above one opens it, and calibration scores each count with its best order."""
    (found, _), source = run(zoo, "four_head_attention", tmp_path, capsys)
    assert found == "flagged" and "qkv_order" not in source
    (found, diff), source = _calibrated("four_head_attention", tmp_path)
    assert found == "exact", f"max abs diff {diff:.3g}"
    log = capsys.readouterr().out
    assert "(with nhead = 4) qkv_order = 'qkv_first'" in log
