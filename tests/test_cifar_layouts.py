"""CIFAR residual networks as their repositories write them, and the conventions that make them
exact from the keys: a body Sequential of bare conv, norm and activation slots beside a shortcut
Sequential (pytorch-cifar100's ResNet), the first stage after a 3x3 stem keeping the resolution
even where it widens, and a trunk's last norm numbered like the stem conv (`conv1` ... `bn1`)
read after the stages."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests import vision_zoo_8_models as zoo8
from tests import vision_zoo_9_models as zoo9
from tests.redraw import reference_and_input
from tests.zoo_verdicts import generate_from_state_dict, verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class WideResNet16x2(zoo8.WideResNet):
    """Zagoruyko and Komodakis' WRN with widen factor 2 (16 -> 32, 64, 128), halved: the first
    stage doubles the width at stride 1 beside its `convShortcut`, the others at stride 2."""

    def __init__(self, classes: int = 5) -> None:
        super().__init__(classes)
        self.block1 = zoo8.NetworkBlock(1, 8, 16, 1)
        self.block2 = zoo8.NetworkBlock(1, 16, 32, 2)
        self.block3 = zoo8.NetworkBlock(2, 32, 64, 2)
        self.bn1 = nn.BatchNorm2d(64)
        self.fc = nn.Linear(64, classes)


class Cifar100Bottleneck(nn.Module):  # pytorch-cifar100 models/resnet.py BottleNeck
    def __init__(self, c_in: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.residual_function = nn.Sequential(
            nn.Conv2d(c_in, planes, 1, bias=False),
            nn.BatchNorm2d(planes),
            nn.ReLU(inplace=True),
            nn.Conv2d(planes, planes, 3, stride, 1, bias=False),
            nn.BatchNorm2d(planes),
            nn.ReLU(inplace=True),
            nn.Conv2d(planes, planes * 4, 1, bias=False),
            nn.BatchNorm2d(planes * 4),
        )
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != planes * 4:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.residual_function(x) + self.shortcut(x))


class Cifar100ResNet50(zoo9.Cifar100ResNet):  # the same net with bottlenecks, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__(classes)
        self.conv2_x = nn.Sequential(Cifar100Bottleneck(8, 4), Cifar100Bottleneck(16, 4))
        self.conv3_x = nn.Sequential(Cifar100Bottleneck(16, 8, 2))
        self.conv4_x = nn.Sequential(Cifar100Bottleneck(32, 16, 2))
        self.fc = nn.Linear(64, classes)


def test_cifar_bottleneck_resnet_is_exact_from_the_keys(tmp_path, capsys):
    reference, x = reference_and_input(Cifar100ResNet50, (2, 3, 32, 32))
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    assert verdict(reference, model, source, x) == "exact"


def test_a_widening_first_stage_after_a_cifar_stem_keeps_the_resolution(tmp_path, capsys):
    """The wide ResNet's first block doubles the width beside its `convShortcut` at stride 1.
    (Its later blocks' strides stay a choice: diffusers' `conv_shortcut` widens at stride 1 too.)"""
    reference, x = reference_and_input(WideResNet16x2, (2, 3, 32, 32))
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    assert model.block1.layer[0].conv1.stride == (1, 1)
    assert verdict(reference, model, source, x) != "WRONG"
