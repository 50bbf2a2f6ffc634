"""Super-resolution layouts of session 14 (issue 16): the parameter-free steps their families'
code takes (SRGAN's `(tanh + 1) / 2`, PAN's bilinear input residual) are conventions the file
flags; a net of the same layout that skips them is flagged, never silently wrong, and a hint
(as calibration would) makes it exact."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from tests import generative_zoo_11_models as zoo11
from tests import generative_zoo_13_models as zoo13
from tests.generative_zoo_check import flagged_then_exact

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class RawSrgan(zoo11.SrganGenerator):
    """leftthomas's numbered layout, x2, returning the last conv's output unsquashed."""

    def __init__(self) -> None:
        super().__init__(scale_factor=2, ch=8, n_res=5)

    def forward(self, x):
        block1 = self.block1(x)
        h = block1
        for i in range(self.n_res):
            h = getattr(self, f"block{i + 2}")(h)
        return self.block8(block1 + self.block7(h))


class PanWithoutResidual(zoo13.Pan):
    """PAN's layout, its output without the bilinear-upsampled input."""

    def forward(self, x):
        fea = self.conv_first(x)
        fea = fea + self.trunk_conv(self.SCPA_trunk(fea))
        fea = self.upconv1(nn.functional.interpolate(fea, scale_factor=2, mode="nearest"))
        fea = self.lrelu(self.att1(fea))
        fea = self.lrelu(self.HRconv1(fea))
        return self.conv_last(fea)


def _check(reference, tmp_path, hint: str) -> None:
    torch.manual_seed(0)
    for p in reference.parameters():
        p.data.normal_(0, 1 / math.sqrt(max(p[0].numel(), 1)) if p.dim() > 1 else 0.1)
    reference.eval()
    inputs = (torch.randn(2, 3, 6, 6),)
    flagged_then_exact(reference, inputs, tmp_path, hint)


def test_srgan_layout_without_squashing(tmp_path):
    _check(RawSrgan(), tmp_path, '["RecoveredModel.block8"]\noutput_activation = "identity"\n')


def test_pan_layout_without_input_residual(tmp_path):
    hint = '["RecoveredModel.conv_last"]\ninput_residual = "none"\n'
    _check(PanWithoutResidual(), tmp_path, hint)
