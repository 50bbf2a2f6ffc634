"""NAFNet's block (a simple gate: the widened map split along the channels, halves multiplied;
LayerNorm2d; beta/gamma residual scales) as other repositories write it (issue 16, session 16):
the zoo's megvii-research NAFBlock (tests/generative_zoo_14_models.py) is the fourth layout,
checked here alone behind a first conv (the zoo row's U-shaped net is not recognised yet).

- BasicSR-style with a wider FFN (FFN_Expand 4, so the halves' widths prove the pairing), the
  norm a LayerNorm over permuted channels, the gate a module method;
- convs named by role (`expand`, `dwconv`, `project`, `ffn_in`, `ffn_out`), the channel attention
  a `Sequential(AdaptiveAvgPool2d, Conv2d)` named `attn`, scales `beta`/`gamma` as [1, C, 1, 1];
- no channel attention (a gated block without SCA), DW_Expand 2, FFN_Expand 2.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests import generative_zoo_14_models as zoo14
from tests.zoo_verdicts import measured_layout

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class PermutedNorm(nn.LayerNorm):  # a LayerNorm over the channels of a map
    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def _gate(x):
    a, b = x.chunk(2, dim=1)
    return a * b


class WideFfnBlock(nn.Module):  # FFN_Expand 4: the halves' widths differ
    def __init__(self, c: int) -> None:
        super().__init__()
        self.norm1, self.norm2 = PermutedNorm(c, eps=1e-6), PermutedNorm(c, eps=1e-6)
        self.conv1 = nn.Conv2d(c, 2 * c, 1)
        self.conv2 = nn.Conv2d(2 * c, 2 * c, 3, padding=1, groups=2 * c)
        self.sca = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, c, 1))
        self.conv3 = nn.Conv2d(c, c, 1)
        self.conv4 = nn.Conv2d(c, 4 * c, 1)
        self.conv5 = nn.Conv2d(2 * c, c, 1)
        self.beta = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, c, 1, 1))

    def forward(self, inp):
        x = _gate(self.conv2(self.conv1(self.norm1(inp))))
        y = inp + self.conv3(x * self.sca(x)) * self.beta
        return y + self.conv5(_gate(self.conv4(self.norm2(y)))) * self.gamma


class RoleNamedBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.ln_1, self.ln_2 = PermutedNorm(c, eps=1e-6), PermutedNorm(c, eps=1e-6)
        self.expand = nn.Conv2d(c, 2 * c, 1)
        self.dwconv = nn.Conv2d(2 * c, 2 * c, 5, padding=2, groups=2 * c)
        self.attn = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, c, 1))
        self.project = nn.Conv2d(c, c, 1)
        self.ffn_in = nn.Conv2d(c, 6 * c, 1)
        self.ffn_out = nn.Conv2d(3 * c, c, 1)
        self.beta = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, c, 1, 1))

    def forward(self, inp):
        x = _gate(self.dwconv(self.expand(self.ln_1(inp))))
        y = inp + self.project(x * self.attn(x)) * self.beta
        return y + self.ffn_out(_gate(self.ffn_in(self.ln_2(y)))) * self.gamma


class NoAttentionBlock(nn.Module):  # the same block without its channel attention
    def __init__(self, c: int) -> None:
        super().__init__()
        self.norm1, self.norm2 = PermutedNorm(c, eps=1e-6), PermutedNorm(c, eps=1e-6)
        self.conv1 = nn.Conv2d(c, 2 * c, 1)
        self.conv2 = nn.Conv2d(2 * c, 2 * c, 3, padding=1, groups=2 * c)
        self.conv3 = nn.Conv2d(c, c, 1)
        self.conv4 = nn.Conv2d(c, 2 * c, 1)
        self.conv5 = nn.Conv2d(c, c, 1)
        self.beta = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, c, 1, 1))

    def forward(self, inp):
        y = inp + self.conv3(_gate(self.conv2(self.conv1(self.norm1(inp))))) * self.beta
        return y + self.conv5(_gate(self.conv4(self.norm2(y)))) * self.gamma


class Body(nn.Module):
    def __init__(self, block, c: int = 8, n: int = 2) -> None:
        super().__init__()
        self.intro = nn.Conv2d(3, c, 3, padding=1)
        self.body = nn.Sequential(*(block(c) for _ in range(n)))

    def forward(self, x):
        return self.body(self.intro(x))


LAYOUTS = {
    "wide_ffn": lambda: Body(WideFfnBlock),
    "role_named": lambda: Body(RoleNamedBlock),
    "no_attention": lambda: Body(NoAttentionBlock),
    "nafnet_block": lambda: Body(zoo14.NAFBlock),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_simple_gate_layout_exact(name, tmp_path, capsys):
    found, diff = measured_layout(LAYOUTS[name], (2, 3, 16, 16), tmp_path, capsys)
    assert found == "exact", f"{found}: {diff:.3g}"
