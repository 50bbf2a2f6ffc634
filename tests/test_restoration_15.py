"""Restoration layouts of session 15 (issue 16): what DRRN's shared unit does leaves no key (how
many times it runs, its activations and residuals), so a net of the same keys that does otherwise
is flagged, never silently wrong, and hints (as calibration would) make it exact."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests import generative_zoo_14_models as zoo14
from tests.generative_zoo_check import generate, verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class NineRecursions(zoo14.Drrn):
    """DRRN's keys, its unit run 9 times (DRRN_B1U9), without in-place ReLUs."""

    def forward(self, x):
        inputs = self.input(torch.relu(x))
        out = inputs
        for _ in range(9):
            out = self.conv2(torch.relu(self.conv1(torch.relu(out)))) + inputs
        return self.output(torch.relu(out)) + x


class PlainChain(nn.Module):
    """The same keys under other names as a plain conv-ReLU chain: no recursion, no residual."""

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(3, width, 3, padding=1)
        self.mid1 = nn.Conv2d(width, width, 3, padding=1)
        self.mid2 = nn.Conv2d(width, width, 3, padding=1)
        self.conv_out = nn.Conv2d(width, 3, 3, padding=1)

    def forward(self, x):
        x = torch.relu(self.conv_in(x))
        x = torch.relu(self.mid2(torch.relu(self.mid1(x))))
        return self.conv_out(x)


def _check(reference, channels: int, tmp_path, hint: str) -> None:
    torch.manual_seed(0)
    for p in reference.parameters():
        p.data.normal_(0, 0.2)
    reference.eval()
    inputs = (torch.randn(2, channels, 6, 6),)
    model, source = generate(reference, tmp_path, "--quiet")
    found, diff = verdict(reference, inputs, model, source)
    assert found == "flagged", f"{found}: {diff:.3g}"
    hints = tmp_path / "hints.toml"
    hints.write_text(hint)
    model, source = generate(reference, tmp_path, "--quiet", "--hints", str(hints))
    found, diff = verdict(reference, inputs, model, source)
    assert found == "exact", f"max abs diff {diff:.3g}"


def test_drrn_layout_with_another_recursion_count(tmp_path):
    hint = '["RecoveredModel.conv1"]\nrecursions = 9\nresidual_source = "raw"\n'
    _check(NineRecursions(), 1, tmp_path, hint)


def test_plain_chain_read_as_a_recursive_unit_is_flagged(tmp_path):
    hint = (
        '["RecoveredModel.mid1"]\nrecursions = 1\nactivation_order = "post"\n'
        'unit_residual = "none"\n["RecoveredModel.conv_out"]\nresidual = "none"\n'
    )
    _check(PlainChain(), 3, tmp_path, hint)
