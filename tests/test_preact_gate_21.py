"""Pre-activation bottlenecks with a squeeze-excitation member of its own class (timm's RegNet
PreBottleneck, blocks/preact_residual.py), on a layout other than zoo 20's timm_regnetv: the gate
follows the last spatial conv giving its width (a guess where several give it, which says so), and
what the identity adds is the choice identity_input (the raw input by default, He et al. 2016;
timm's RegNet adds the pre-activated one).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.zoo_verdicts import layout_reference, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class ChannelGate(nn.Module):
    def __init__(self, c: int, r: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(c, r, 1)
        self.expand = nn.Conv2d(r, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.expand(F.relu(self.reduce(x.mean((2, 3), keepdim=True))))
        return x * torch.sigmoid(s)


class GatedPreActUnit(nn.Module):
    def __init__(self, c: int, mid: int, adds_preactivated: bool) -> None:
        super().__init__()
        self.adds_preactivated = adds_preactivated
        self.bn1 = nn.BatchNorm2d(c)
        self.conv1 = nn.Conv2d(c, mid, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, 1, 1, groups=2, bias=False)
        self.excite = ChannelGate(mid, 4)
        self.bn3 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, c, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = F.relu(self.bn1(x))
        out = self.excite(self.conv2(F.relu(self.bn2(self.conv1(pre)))))
        out = self.conv3(F.relu(self.bn3(out)))
        return out + (pre if self.adds_preactivated else x)


class GatedPreActNet(nn.Module):
    def __init__(self, adds_preactivated: bool = False) -> None:
        super().__init__()
        self.entry = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.units = nn.Sequential(*(GatedPreActUnit(16, 8, adds_preactivated) for _ in range(2)))
        self.logits = nn.Linear(16, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(self.units(self.entry(x)).mean((2, 3)))


def _generate(tmp_path, capsys, adds_preactivated: bool, *extra: str):
    from tests.zoo_verdicts import generate_from_state_dict

    tmp_path.mkdir(parents=True, exist_ok=True)
    reference = layout_reference(lambda: GatedPreActNet(adds_preactivated))
    model, source = generate_from_state_dict(reference, tmp_path, capsys, *extra)
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    return measured(reference, model, source, (x,)), source


def test_the_gate_member_follows_the_grouped_conv(tmp_path, capsys):
    (found, _), source = _generate(tmp_path, capsys, False)
    assert found == "exact"
    assert "self.excite(out)" in source
    said = " ".join(source.split())
    assert "could follow conv1 or conv2" in said  # both give its width: a guess that says so
    assert "pin identity_input" in said  # and what the identity adds, at its default


def test_what_the_identity_adds_is_a_choice(tmp_path, capsys):
    """Pinned (as --calibrate would), the pre-activated input timm's RegNet adds."""
    hints = tmp_path / "hints.toml"
    hints.write_text('["*"]\nidentity_input = "preactivated"\n')
    (found, _), source = _generate(tmp_path, capsys, True, "--hints", str(hints))
    assert found == "exact"
    assert "identity_input" in source and "pin identity_input" not in " ".join(source.split())
