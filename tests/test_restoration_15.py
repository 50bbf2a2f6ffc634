"""Restoration layouts of session 15 (issue 16): what DRRN's shared unit does leaves no key (how
many times it runs, its activations and residuals), so a net of the same keys that does otherwise
is flagged, never silently wrong, and hints (as calibration would) make it exact."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests import generative_zoo_14_models as zoo14
from tests.generative_zoo_check import flagged_then_exact

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
    flagged_then_exact(reference, inputs, tmp_path, hint)


def test_drrn_layout_with_another_recursion_count(tmp_path):
    hint = '["RecoveredModel.conv1"]\nrecursions = 9\nresidual_source = "raw"\n'
    _check(NineRecursions(), 1, tmp_path, hint)


def test_plain_chain_read_as_a_recursive_unit_is_flagged(tmp_path):
    hint = (
        '["RecoveredModel.mid1"]\nrecursions = 1\nactivation_order = "post"\n'
        'unit_residual = "none"\n["RecoveredModel.conv_out"]\nresidual = "none"\n'
    )
    _check(PlainChain(), 3, tmp_path, hint)


class ConvolutionalBlock(nn.Module):  # sgrvinod/a-PyTorch-Tutorial-to-Super-Resolution
    def __init__(self, c_in: int, c_out: int, k: int, batch_norm=False, activation=None) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, k, padding=k // 2)]
        if batch_norm:
            layers.append(nn.BatchNorm2d(c_out))
        if activation == "prelu":
            layers.append(nn.PReLU())
        elif activation == "tanh":
            layers.append(nn.Tanh())
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return self.conv_block(x)


class SubPixelConvolutionalBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c, c * 4, 3, padding=1)
        self.pixel_shuffle = nn.PixelShuffle(2)
        self.prelu = nn.PReLU()

    def forward(self, x):
        return self.prelu(self.pixel_shuffle(self.conv(x)))


class ResidualBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv_block1 = ConvolutionalBlock(c, c, 3, batch_norm=True, activation="prelu")
        self.conv_block2 = ConvolutionalBlock(c, c, 3, batch_norm=True)

    def forward(self, x):
        return self.conv_block2(self.conv_block1(x)) + x


class SgrvinodSRResNet(nn.Module):
    """The parts as classes holding a Sequential, the blocks and the upsampler Sequentials."""

    def __init__(self, c: int = 8) -> None:
        super().__init__()
        self.conv_block1 = ConvolutionalBlock(3, c, 9, activation="prelu")
        self.residual_blocks = nn.Sequential(*[ResidualBlock(c) for _ in range(2)])
        self.conv_block2 = ConvolutionalBlock(c, c, 3, batch_norm=True)
        self.subpixel_convolutional_blocks = nn.Sequential(
            *[SubPixelConvolutionalBlock(c) for _ in range(2)]
        )
        self.conv_block3 = ConvolutionalBlock(c, 3, 9, activation="tanh")

    def forward(self, x):
        output = self.conv_block1(x)
        residual = output
        output = self.conv_block2(self.residual_blocks(output)) + residual
        return self.conv_block3(self.subpixel_convolutional_blocks(output))


def test_srresnet_parts_as_classes_read_from_structure(tmp_path):
    """sgrvinod's layout: no key shows its blocks' residual, the conv-BN part's empty activation
    or the closing Tanh; flagged, and exact once they are given."""
    hint = (
        '["ResidualBlock"]\nresidual = "add"\n'
        '["conv_block2.conv_block.2"]\nmodule_type = "nn.Identity()"\n'
        '["residual_blocks.0.conv_block2.conv_block.2"]\nmodule_type = "nn.Identity()"\n'
        '["ConvBlock3"]\nactivation = "tanh"\n'  # the slot after its Sequential's lone conv
    )
    _check(SgrvinodSRResNet(), 3, tmp_path, hint)
