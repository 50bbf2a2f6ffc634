"""Deep layer aggregation as ucbdrive/dla's dla.py writes it (the paper authors' code; timm's is
tests/vision_zoo_7_models.py's DLA): a 7x7 `base_layer` of stride 1 with no pool, conv levels
(`level0` keeps the width, `level1` widens and strides 2), one-level trees whose root holds a
`conv`/`bn` over the concatenated children, and a head that average-pools the whole map before its
1x1 conv `fc`. Generated from the keys alone, the file must compute what the reference does
(chain.py's dla_stem_pins, blocks/aggregation_tree.py), its conventions pinned, not hard-coded: a
hint still moves them."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from codegen.patterns.blocks._split_examples import modules as split_examples
from tests.redraw import reference_and_input
from tests.zoo_verdicts import generate_from_state_dict, verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _tree(c_in: int, c_out: int, stride: int, level_root: bool) -> nn.Module:
    """dla.py's Tree with levels=1 (BasicBlock children, a Root over their concatenation)."""
    return split_examples()["dla_tree"](c_in, c_out, stride, level_root)


def _conv_level(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:  # _make_conv_level
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class DLA(nn.Module):  # dla.py DLA (dla34's layout, two tree levels, narrowed)
    def __init__(self, channels=(6, 12, 16, 24), num_classes: int = 7, pool_size: int = 4):
        super().__init__()
        self.base_layer = nn.Sequential(
            nn.Conv2d(3, channels[0], 7, 1, 3, bias=False),
            nn.BatchNorm2d(channels[0]),
            nn.ReLU(inplace=True),
        )
        self.level0 = _conv_level(channels[0], channels[0])
        self.level1 = _conv_level(channels[0], channels[1], 2)
        self.level2 = _tree(channels[1], channels[2], 2, level_root=False)
        self.level3 = _tree(channels[2], channels[3], 2, level_root=True)
        self.avgpool = nn.AvgPool2d(pool_size)
        self.fc = nn.Conv2d(channels[-1], num_classes, 1, 1, 0, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.base_layer(x)
        for i in range(4):
            x = getattr(self, f"level{i}")(x)
        x = self.fc(self.avgpool(x))
        return x.view(x.size(0), -1)


def test_ucbdrive_dla_is_exact_from_the_keys(tmp_path, capsys):
    reference, x = reference_and_input(DLA, (2, 3, 32, 32))  # 32 / 8 = the pool's 4
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    assert verdict(reference, model, source, x) == "exact"
    assert "kernel_size=7, stride=1" in source  # the base layer's stride, pinned


def test_a_hint_still_moves_the_base_layer_stride(tmp_path, capsys):
    reference, _ = reference_and_input(DLA, (2, 3, 32, 32))
    hints = tmp_path / "hints.toml"
    hints.write_text('["base_layer.0"]\nstride = 2\n')
    _, source = generate_from_state_dict(reference, tmp_path, capsys, "--hints", str(hints))
    assert "kernel_size=7, stride=2" in source
