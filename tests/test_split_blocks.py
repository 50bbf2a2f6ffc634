"""Blocks that split their channels and concatenate them again, each on a layout other than the zoo
row that motivated it (tests/vision_zoo_*_models.py): Res2Net's cascade of groups as Gao et al.'s
res2net_v1b.py writes a whole network (a deep stem, average-pool shortcuts)."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from codegen.patterns.blocks._split_examples import modules as split_modules
from tests.redraw import unit_scale
from tests.zoo_verdicts import generate_from_state_dict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class Res2NetV1b(nn.Module):  # Res2Net/res2net_v1b.py (Gao et al.), narrowed: deep stem, avg-down
    def __init__(self, classes: int = 4) -> None:
        super().__init__()
        block = split_modules()["bottle2neck"]
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.Conv2d(8, 8, 3, 1, 1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.Conv2d(8, 16, 3, 1, 1, bias=False),
        )
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = nn.Sequential(
            block(16, 8, 1, self._down(16, 32, 1), stype="stage"), block(32, 8)
        )
        self.layer2 = nn.Sequential(
            block(32, 16, 2, self._down(32, 64, 2), scale=4, stype="stage"), block(64, 16)
        )
        self.fc = nn.Linear(64, classes)

    @staticmethod
    def _down(c_in: int, c_out: int, stride: int) -> nn.Sequential:
        return nn.Sequential(
            nn.AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False),
            nn.Conv2d(c_in, c_out, 1, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(x.mean((2, 3)))


def test_res2net_v1b_from_the_keys(tmp_path, capsys):
    """Its blocks are the Bottle2neck pattern's; the strides and the stage blocks' pooling follow
    from the shortcuts (a stage's first block projects), so the file is the reference."""
    torch.manual_seed(0)
    reference = unit_scale(Res2NetV1b()).eval()
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    assert "chunk(" in source and "F.avg_pool2d(" in source
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(model)(x), reference(x), atol=1e-5, rtol=1e-5)
