"""PyramidNet's units (blocks/pyramidal_residual.py) and MobileNeXt's sandglass blocks
(blocks/sand_glass.py) under names other than zoo 20's (dyhan_pyramidnet, zhoudaquan_mobilenext).

A PyramidNet of bottleneck units (three convs, four norms, the 3x3 conv strided where a later
stage begins) is exact from its keys; the same net with option A's shortcut (every second pixel,
zeros on both sides) differs and says guessed, and its choices reproduce it. A sandglass net
adding its input to the leading half of the channels (MobileNeXt's identity tensor multiplier
0.5) is flagged from its keys, exact once identity_channels is pinned.
Before (main at 3f9e045): both blocks were width-chained guesses with no residual.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.zoo_verdicts import class_trust, layout_reference, measured
from tests.zoo_verdicts import generate_from_state_dict


class Unit(nn.Module):  # PyramidNet's Bottleneck (outchannel_ratio 4), other names
    def __init__(self, c_in: int, mid: int, stride: int, option_a: bool = False) -> None:
        super().__init__()
        self.n1 = nn.BatchNorm2d(c_in)
        self.c1 = nn.Conv2d(c_in, mid, 1, bias=False)
        self.n2 = nn.BatchNorm2d(mid)
        self.c2 = nn.Conv2d(mid, mid, 3, stride, 1, bias=False)
        self.n3 = nn.BatchNorm2d(mid)
        self.c3 = nn.Conv2d(mid, mid * 4, 1, bias=False)
        self.n4 = nn.BatchNorm2d(mid * 4)
        self.stride, self.option_a = stride, option_a

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.n2(self.c1(self.n1(x))))
        out = self.n4(self.c3(F.relu(self.n3(self.c2(out)))))
        if self.stride != 1:
            x = x[:, :, ::2, ::2] if self.option_a else F.avg_pool2d(x, 2, 2, ceil_mode=True)
        extra = out.size(1) - x.size(1)
        before = extra // 2 if self.option_a else 0
        return out + F.pad(x, [0, 0, 0, 0, before, extra - before])


class PyramidBottleneckNet(nn.Module):
    def __init__(self, option_a: bool = False) -> None:
        super().__init__()
        self.first = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.first_norm = nn.BatchNorm2d(8)
        self.group1 = nn.Sequential(Unit(8, 3, 1, option_a), Unit(12, 4, 1, option_a))
        self.group2 = nn.Sequential(Unit(16, 5, 2, option_a), Unit(20, 6, 1, option_a))
        self.last_norm = nn.BatchNorm2d(24)
        self.out = nn.Linear(24, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.group2(self.group1(self.first_norm(self.first(x))))
        return self.out(F.relu(self.last_norm(x)).mean((2, 3)))


class Hourglass(nn.Module):  # MobileNeXt's SandGlass, identity tensor multiplier 0.5
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        mid = c_in // 2
        self.layers = nn.Sequential(
            nn.Conv2d(c_in, c_in, 3, 1, 1, groups=c_in, bias=False),
            nn.BatchNorm2d(c_in),
            nn.ReLU6(),
            nn.Conv2d(c_in, mid, 1, bias=False),
            nn.BatchNorm2d(mid),
            nn.Conv2d(mid, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU6(),
            nn.Conv2d(c_out, c_out, 3, stride, 1, groups=c_out, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.keep = c_in // 2 if stride == 1 and c_in == c_out else 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(x)
        if not self.keep:
            return out
        return torch.cat([x[:, : self.keep] + out[:, : self.keep], out[:, self.keep :]], 1)


class HourglassNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.Sequential(Hourglass(8, 12, 1), Hourglass(12, 12, 1))
        self.fc = nn.Linear(12, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.blocks(x).mean((2, 3)))


def _verdict(make, shape, tmp_path, capsys, *extra):
    reference = layout_reference(make)
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--force", *extra)
    found, diff = measured(reference, model, source, (torch.randn(*shape),))
    return found, diff, class_trust(source)


def test_pyramidal_bottleneck_units_exact_from_the_keys(tmp_path, capsys):
    found, diff, trust = _verdict(PyramidBottleneckNet, (2, 3, 8, 8), tmp_path, capsys)
    assert found == "exact", diff
    assert any(t == "guessed" for c, t in trust.items() if "Pyramidal" in c), trust


def test_option_a_shortcut_is_flagged_and_its_choices_reproduce_it(tmp_path, capsys):
    make = lambda: PyramidBottleneckNet(option_a=True)  # noqa: E731
    found, diff, _ = _verdict(make, (2, 3, 8, 8), tmp_path, capsys)
    assert found == "flagged", diff
    hints = tmp_path / "hints.toml"
    hints.write_text(
        "".join(
            f'["{c}.c1"]\nshortcut_downsample = "subsample"\nzero_channels = "both_sides"\n'
            for c in ("PyramidalBlock", "Group2PyramidalBlock")
        )
    )
    found, diff, _ = _verdict(make, (2, 3, 8, 8), tmp_path, capsys, "--hints", str(hints))
    assert found == "exact", diff


@pytest.mark.parametrize("pinned", [False, True])
def test_sandglass_half_identity_flagged_until_pinned(pinned, tmp_path, capsys):
    extra = ()
    if pinned:
        hints = tmp_path / "hints.toml"
        hints.write_text('["SandGlass.layers"]\nidentity_channels = "half"\n')
        extra = ("--hints", str(hints))
    found, diff, trust = _verdict(HourglassNet, (2, 8, 6, 6), tmp_path, capsys, *extra)
    assert found == ("exact" if pinned else "flagged"), diff
    assert trust.get("SandGlass") == "guessed", trust  # (the activation stays a default)
