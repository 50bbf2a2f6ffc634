"""torchvision's `transform_input` (families/inception_net.py): a GoogLeNet built as its ImageNet
weights load it remaps each input channel, which no key records. From the keys the choice stays
off and the file says its forward is a guess; pinned (as --calibrate would), the output is the
reference's."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from codegen.patterns.blocks._vision_examples import modules as vision_modules
from tests.zoo_verdicts import generate_from_state_dict, layout_reference, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class Unit(nn.Module):  # torchvision's BasicConv2d
    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.conv(x)))


class RemappedGoogLeNet(nn.Module):  # googlenet(transform_input=True), two Inception stages
    def __init__(self) -> None:
        super().__init__()
        inception = vision_modules()["inception"]
        self.conv1 = Unit(3, 8, 7, 2)
        self.conv2 = Unit(8, 8, 1)
        self.conv3 = Unit(8, 8, 3)
        self.inception3a = inception(8)
        self.inception4a = inception(16)
        self.fc = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
        x = x * (std / 0.5)[:, None, None] + ((mean - 0.5) / 0.5)[:, None, None]
        pool = nn.functional.max_pool2d
        x = pool(self.conv1(x), 3, 2, ceil_mode=True)
        x = pool(self.conv3(self.conv2(x)), 3, 2, ceil_mode=True)
        x = pool(self.inception3a(x), 2, 2, ceil_mode=True)
        return self.fc(self.inception4a(x).mean((2, 3)))


def test_transform_input_is_a_choice_calibration_can_switch_on(tmp_path, capsys):
    reference = layout_reference(RemappedGoogLeNet)
    hints = tmp_path / "hints.toml"
    hints.write_text('["RecoveredModel"]\ntransform_input = "imagenet"\n')
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--hints", str(hints))
    x = torch.randn(2, 3, 37, 37, generator=torch.Generator().manual_seed(1))
    assert measured(reference, model, source, (x,))[0] == "exact"
    assert "transform_input" in source and "Forward trust: guessed" in source
