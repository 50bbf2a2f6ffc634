"""Normalizer-free ResNets (layers/scaled_std_conv.py, blocks/norm_free_block.py) on layouts
other than zoo 13's row: timm's NormFreeNet with other depths. beta (1 / sqrt of the variance
expected where a block sits) is read from each block's place; one class shares one value, so it
is exact where a class's blocks sit alike (nf_resnet26's two blocks a stage) and a guess the file
names where they do not (three blocks or more a stage)."""

from __future__ import annotations

import pytest
import torch

from tests.redraw import reference_and_input
from tests.vision_zoo_13_models import TimmNfResNet
from tests.zoo_verdicts import generate_from_state_dict, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _generated(depths, tmp_path, capsys):
    def build():
        return TimmNfResNet(depths=depths, channels=(16, 32, 48), classes=3)

    reference, x = reference_and_input(build, (2, 3, 64, 64))
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--force")
    return reference, model, source, x


def test_nf_resnet_two_blocks_a_stage_exact(tmp_path, capsys):
    reference, model, source, x = _generated((2, 2, 2), tmp_path, capsys)
    assert "class ScaledStdConv2d(nn.Conv2d)" in source and "avg_pool_to(" in source
    assert measured(reference, model, source, (x,))[0] == "exact"


def test_nf_resnet_deeper_stage_says_beta_is_a_guess(tmp_path, capsys):
    reference, model, source, x = _generated((1, 3, 2), tmp_path, capsys)
    assert "beta (the input's scale) depends on where each block sits" in source
    assert measured(reference, model, source, (x,))[0] == "flagged"
