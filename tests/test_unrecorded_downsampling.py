"""A residual block that halves the resolution leaves no key saying how: a strided conv
(torchvision's ResNets) and a stride-1 conv followed by a fixed binomial blur (Zhang 2019,
"Making convolutional networks shift-invariant again": timm's `aa_layer`, whose BlurPool2d holds
its filter in a non-persistent buffer) give the same keys and shapes. From the keys alone the
block's class says guessed (patterns/blocks/residual.py: unrecorded_downsampling), never
inferred, and the file is never silently wrong; a block that never strides keeps its trust.

Three layouts: timm's resnetblur BasicBlock (blur after act1), timm's resnetblur Bottleneck (blur
after the 3x3's activation), and kuangliu's pytorch-cifar BasicBlock naming (a `shortcut`
Sequential) with the blur a buffer the block convolves with in its own forward.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import unit_scale
from tests.vision_zoo_17_models import BlurPool2d as BlurPool  # timm.layers.BlurPool2d
from tests.zoo_verdicts import class_trust, generate_from_state_dict, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _projection(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))


class TimmBlurBasic(nn.Module):  # timm resnet.BasicBlock(aa_layer=BlurPool2d)
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.aa = BlurPool(c_out) if stride == 2 else nn.Identity()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = _projection(c_in, c_out, stride) if c_in != c_out else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.aa(F.relu(self.bn1(self.conv1(x))))))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(out + shortcut)


class TimmBlurBottleneck(nn.Module):  # timm resnet.Bottleneck(aa_layer=BlurPool2d), resnetblur50
    def __init__(self, c_in: int, width: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.aa = BlurPool(width) if stride == 2 else nn.Identity()
        self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.downsample = _projection(c_in, c_out, stride) if c_in != c_out else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.aa(F.relu(self.bn2(self.conv2(out))))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(out + shortcut)


class CifarBlurBlock(nn.Module):  # kuangliu pytorch-cifar BasicBlock naming, blur in the forward
    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.stride = stride
        self.conv1 = nn.Conv2d(in_planes, planes, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = _projection(in_planes, planes, stride)
        taps = torch.tensor([1.0, 2.0, 1.0])
        kernel = (taps[:, None] * taps[None, :]) / 16.0
        self.register_buffer("blur", kernel[None, None].repeat(planes, 1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        if self.stride == 2:
            out = F.conv2d(
                F.pad(out, (1, 1, 1, 1), mode="reflect"), self.blur, stride=2, groups=out.shape[1]
            )
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class Net(nn.Module):  # a stem, the blocks, a pooled linear head
    def __init__(self, blocks: list[nn.Module], width: int, head: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = nn.Sequential(*blocks)
        self.fc = nn.Linear(head, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer1(F.relu(self.bn1(self.conv1(x))))
        return self.fc(x.mean((2, 3)))


LAYOUTS = {
    "timm_blur_basic": lambda: Net([TimmBlurBasic(8, 8, 1), TimmBlurBasic(8, 16, 2)], 8, 16),
    "timm_blur_bottleneck": lambda: Net(
        [TimmBlurBottleneck(8, 4, 16, 2), TimmBlurBottleneck(16, 4, 16, 1)], 8, 16
    ),
    "cifar_blur_block": lambda: Net([CifarBlurBlock(8, 8), CifarBlurBlock(8, 16, 2)], 8, 16),
}


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def generated(request, tmp_path_factory):
    """(reference, generated model, source) for one layout, generated once."""
    reference = unit_scale(LAYOUTS[request.param]())
    capsys = _NoCapture()
    model, source = generate_from_state_dict(reference, tmp_path_factory.mktemp("m"), capsys)
    return reference, model, source


class _NoCapture:  # generate_from_state_dict reads capsys.readouterr().err
    def readouterr(self):
        return type("Captured", (), {"err": ""})()


def test_a_blurred_downsampling_block_says_guessed(generated):
    reference, model, source = generated
    strided = type(model.layer1[[i for i, b in enumerate(reference.layer1) if _strides(b)][0]])
    assert class_trust(source)[strided.__name__] == "guessed"
    assert "blur-pools" in source
    verdict, _ = measured(reference, model, source, (torch.randn(2, 3, 16, 16),))
    assert verdict == "flagged"  # never WRONG: the blur is not in the file


def _strides(block: nn.Module) -> bool:
    return any(isinstance(m, BlurPool) for m in block.modules()) or getattr(block, "stride", 1) == 2


def test_a_block_that_never_strides_keeps_its_trust(tmp_path, capsys):
    reference = unit_scale(
        Net([TimmBlurBottleneck(8, 4, 8, 1), TimmBlurBottleneck(8, 4, 8, 1)], 8, 8)
    )
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    assert class_trust(source)[type(model.layer1[0]).__name__] == "inferred"
    assert "blur-pools" not in source
