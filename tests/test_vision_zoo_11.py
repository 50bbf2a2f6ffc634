"""Ten CNN classifiers as other popular repositories write them (tests/vision_zoo_11_models.py:
osmr/imgclsmob's ResNet, Cadene's SE-ResNet and Xception, gen-efficientnet's MobileNetV3, d2l's
ResNet and DenseNet, huyvnphan's CIFAR ResNet-18, tonylins' MobileNetV2, pycls' RegNetY,
ProxylessNAS). Each loads strictly and generates without an internal error; its output is the
reference's, or the file flags a class as guessed or missing (never silently wrong); every
depthwise and grouped conv keeps the reference's `groups`.

And the mechanisms written in session 11 for CNN classifiers, each on more than the model that
motivated it: He et al.'s option A shortcut (zero channels) in basic blocks that double the width
with no shortcut member.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests import vision_zoo_11_models as zoo
from tests.redraw import unit_scale
from tests.zoo_verdicts import assert_convs_keep_groups, generate_from_state_dict, verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _generate(reference: nn.Module, tmp_path, capsys, hints: str = "") -> tuple[nn.Module, str]:
    extra = ["--force"]
    if hints:
        (tmp_path / "hints.toml").write_text(hints)
        extra += ["--hints", str(tmp_path / "hints.toml")]
    return generate_from_state_dict(reference, tmp_path, capsys, *extra)


# From the keys alone (no config, no calibration). Measured when this zoo was written (session 11,
# branch cnn11 at 2499835, before any change made for it; `python benchmarks/bench_vision_zoo.py
# 11`): 1 exact (huy_cifar_resnet18), 9 flagged, 0 WRONG, 0 crash.
EXACT_FROM_KEYS = {"huy_cifar_resnet18"}


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_exact_or_flagged_from_the_keys(name, tmp_path, capsys):
    reference, x = zoo.build(name)
    model, source = _generate(reference, tmp_path, capsys)
    found = verdict(reference, model, source, x)
    assert found != "WRONG", f"{name}: differs and nothing says so"
    assert (found == "exact") == (name in EXACT_FROM_KEYS), f"{name}: {found}"


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_depthwise_and_grouped_convs_keep_their_groups(name, tmp_path, capsys):
    reference, _ = zoo.build(name)
    model, _ = _generate(reference, tmp_path, capsys)
    assert_convs_keep_groups(reference, model, grouped_only=True)


# ------------------------------------------------------------------ option A (zero channels)


class OptionA(nn.Module):
    """A CIFAR ResNet basic block with no shortcut member: where it widens, the input is
    subsampled and padded with zero channels, on both sides (akamaster) or after (fb.resnet.torch,
    `torch.cat` of the input and zeros)."""

    def __init__(self, c_in: int, c_out: int, stride: int, after: bool) -> None:
        super().__init__()
        self.after = after
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if out.shape != x.shape:
            x = x[:, :, ::2, ::2]
            zeros = torch.zeros_like(x)
            if self.after:
                x = torch.cat([x, zeros], 1)
            else:
                half = zeros[:, : zeros.size(1) // 2]
                x = torch.cat([half, x, half], 1)
        return F.relu(out + x)


class OptionANet(nn.Module):  # three stages of 32, 16, 8 pixels, as He et al. 2016 section 4.2
    def __init__(self, after: bool, widths=(4, 8, 16)) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        stages, c_in = [], widths[0]
        for i, c in enumerate(widths):
            stages.append(nn.Sequential(OptionA(c_in, c, 1 if i == 0 else 2, after)))
            c_in = c
        self.layer1, self.layer2, self.layer3 = stages
        self.fc = nn.Linear(widths[-1], 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean((2, 3)))


@pytest.mark.parametrize("after", [False, True])
def test_option_a_shortcut_is_exact_or_flagged_and_its_choice_reaches_both(after, tmp_path, capsys):
    torch.manual_seed(0)
    reference = unit_scale(OptionANet(after, widths=(6, 12, 24))).eval()
    x = torch.randn(2, 3, 16, 16)
    model, source = _generate(reference, tmp_path, capsys)
    assert "zero_padded_shortcut" in source and "zero channels" in source
    assert verdict(reference, model, source, x) == ("flagged" if after else "exact")
    hints = '["Layer2BasicBlock.conv1"]\nzero_channels = "after"\n' if after else ""
    if hints:
        model, source = _generate(reference, tmp_path, capsys, hints)
        assert verdict(reference, model, source, x) == "exact"
