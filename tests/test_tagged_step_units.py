"""Residual blocks whose steps are conv-norm units named by their number and their kernel (issue
16, zoo 18's timm GERNet): timm's byobnet writes `conv1_kxk`, `conv2_kxk` (BasicBlock) and
`conv1_1x1`, `conv2_kxk`, `conv3_1x1` (BottleneckBlock) beside a projecting `shortcut`. The
reading: a step's name is its number then a kernel tag (`_1x1`, `_kxk`, `_3x3`, `_dw`, `_pw`), so
the units order by number as `conv1`, `conv2` do, and the block is the residual block their widths
and the shortcut's show (the shortcut reads the block's input and gives the last unit's width),
never a multi-path wiring the solver would guess (a unit reading the shortcut's output).

Three layouts with no name in common but the tags: timm byobnet's BasicBlock stage (a projecting
`shortcut` on the first block, an identity on the second), its BottleneckBlock, and a
structurally distant one: a 1-d residual block of Sequential units tagged `_3x3`, with an
identity shortcut only (a keyword-spotting net's)."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
import torch.nn as nn

from tests.zoo_verdicts import class_trust, generated_layout, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class ConvNormAct(nn.Module):  # timm.layers.ConvNormAct: `conv`, `bn` (its act holds no keys)
    def __init__(self, c_in: int, c_out: int, k: int = 1, act: bool = True, s: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = nn.ReLU() if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class ByobBasic(nn.Module):  # timm byobnet.BasicBlock
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.shortcut = ConvNormAct(c_in, c_out, 1, act=False) if c_in != c_out else nn.Identity()
        self.conv1_kxk = ConvNormAct(c_in, c_out, 3)
        self.conv2_kxk = ConvNormAct(c_out, c_out, 3, act=False)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv2_kxk(self.conv1_kxk(x)) + self.shortcut(x))


class ByobBottle(nn.Module):  # timm byobnet.BottleneckBlock
    def __init__(self, c_in: int, c_out: int, mid: int) -> None:
        super().__init__()
        self.shortcut = ConvNormAct(c_in, c_out, 1, act=False) if c_in != c_out else nn.Identity()
        self.conv1_1x1 = ConvNormAct(c_in, mid, 1)
        self.conv2_kxk = ConvNormAct(mid, mid, 3)
        self.conv3_1x1 = ConvNormAct(mid, c_out, 1, act=False)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv3_1x1(self.conv2_kxk(self.conv1_1x1(x)))
        return self.act(out + self.shortcut(x))


class ByobNet(nn.Module):
    def __init__(self, bottleneck: bool) -> None:
        super().__init__()
        self.stem = ConvNormAct(3, 8, 3, s=2)  # byobnet's stem: a strided 3x3
        if bottleneck:
            blocks = [ByobBottle(8, 16, 4), ByobBottle(16, 16, 4)]
        else:
            blocks = [ByobBasic(8, 12), ByobBasic(12, 12)]
        self.stages = nn.Sequential(nn.Sequential(*blocks))
        self.head = nn.Linear(16 if bottleneck else 12, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)).mean((2, 3)))


def unit_1d(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        OrderedDict(
            [
                ("conv", nn.Conv1d(c_in, c_out, 3, padding=1, bias=False)),
                ("bn", nn.BatchNorm1d(c_out)),
            ]
        )
    )


class TaggedResBlock1d(nn.Module):
    """A keyword-spotting residual block: two 3-tap units tagged `_3x3`, the input added back."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1_3x3 = unit_1d(c, c)
        self.conv2_3x3 = unit_1d(c, c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.conv1_3x3(x))
        return torch.relu(self.conv2_3x3(out) + x)


class KeywordNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.front = nn.Conv1d(20, 16, 3, padding=1)
        self.blocks = nn.Sequential(TaggedResBlock1d(16), TaggedResBlock1d(16))
        self.classifier = nn.Linear(16, 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.blocks(self.front(x)).mean(-1))


LAYOUTS = {
    "byob_basic": (lambda: ByobNet(False), (2, 3, 16, 16)),
    "byob_bottleneck": (lambda: ByobNet(True), (2, 3, 16, 16)),
    "keyword_1d": (KeywordNet, (2, 20, 12)),
}


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def generated(request, tmp_path_factory):
    """(name, reference, generated model, source, input): one generate per layout."""
    return generated_layout(LAYOUTS, request.param, tmp_path_factory)


def test_tagged_steps_compute_the_reference(generated):
    _, reference, model, source, x = generated
    assert measured(reference, model, source, (x,))[0] == "exact"


def test_tagged_steps_are_a_residual_block_never_a_guessed_wiring(generated):
    _, _, _, source, _ = generated
    trust = class_trust(source)
    assert not any("MultiPath" in c for c in trust)
    assert any("Block" in c or "Bottleneck" in c for c in trust)
    assert "missing" not in trust.values()
