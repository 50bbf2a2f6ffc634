"""ResNets as other repositories write them, second layouts of the mechanisms session 13 added for
vision zoo rows (issue 16): a conv that holds its norm as a child (Detectron2's `layers.Conv2d`,
here its BasicBlock ResNet-18 with torch's own BatchNorm2d, and a class no pattern knows that holds
one: missing, never silently wrong); later residual stages that stride however much they widen
(a torchvision-style CIFAR ResNet whose widths do not double); a Keras applications port with
flat layer names (three stages; ResNetV2's pre-activation names are not read as it).
"""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import unit_scale
from tests.zoo_verdicts import generate_from_state_dict, verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _trusts(source: str) -> dict[str, str]:
    return dict(re.findall(r"^class (\w+)\(.*?\n    \"\"\"Forward trust: (\w+)", source, re.M))


# ------------------------------------------------------------ Detectron2, BasicBlock ResNet-18


class D2Conv(nn.Conv2d):  # detectron2.layers.Conv2d(norm=get_norm("BN", c_out))
    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1, padding: int = 0) -> None:
        super().__init__(c_in, c_out, k, stride, padding, bias=False)
        self.norm = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(super().forward(x))


class D2BasicBlock(nn.Module):  # detectron2.modeling.backbone.resnet.BasicBlock
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.shortcut = D2Conv(c_in, c_out, 1, stride) if c_in != c_out else None
        self.conv1 = D2Conv(c_in, c_out, 3, stride, 1)
        self.conv2 = D2Conv(c_out, c_out, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(F.relu_(self.conv1(x)))
        out = out + (x if self.shortcut is None else self.shortcut(x))
        return F.relu_(out)


class D2Stem(nn.Module):  # detectron2 BasicStem
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = D2Conv(3, 8, 7, 2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(F.relu_(self.conv1(x)), 3, 2, 1)


class D2ResNet18(nn.Module):  # ResNet(stem, stages, num_classes): res2..res4, `linear`
    def __init__(self) -> None:
        super().__init__()
        self.stem = D2Stem()
        self.res2 = nn.Sequential(D2BasicBlock(8, 8, 1), D2BasicBlock(8, 8, 1))
        self.res3 = nn.Sequential(D2BasicBlock(8, 16, 2), D2BasicBlock(16, 16, 1))
        self.res4 = nn.Sequential(D2BasicBlock(16, 32, 2), D2BasicBlock(32, 32, 1))
        self.linear = nn.Linear(32, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.res4(self.res3(self.res2(self.stem(x))))
        return self.linear(x.mean((2, 3)))


def test_detectron2_basic_block_resnet(tmp_path, capsys):
    """Each conv holds its norm: the file builds the torch.nn conv and attaches the norm to it,
    the blocks call the norm after the conv, the stride sits on the first 3x3 of a widening block
    and the stem pools once."""
    torch.manual_seed(0)
    reference = unit_scale(D2ResNet18()).eval()
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--force")
    assert "self.conv1.norm = nn.BatchNorm2d(" in source
    assert source.count("max_pool2d") == 1
    assert verdict(reference, model, source, torch.randn(2, 3, 64, 64)) == "exact"


class HeadWithNormedConv(nn.Module):  # a head no pattern reads as conv-norm units
    def __init__(self) -> None:
        super().__init__()
        self.conv = D2Conv(8, 8, 3, 1, 1)
        self.gate = nn.Conv2d(8, 1, 1)
        self.fc = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv(x))
        x = x * torch.sigmoid(self.gate(x))
        return self.fc(x.mean((2, 3)))


def test_a_held_norm_no_pattern_calls_is_missing(tmp_path, capsys):
    """Where the pattern that fits calls the conv but not the norm it holds, the forward says it
    is missing rather than computing the conv alone."""
    torch.manual_seed(0)
    reference = unit_scale(HeadWithNormedConv()).eval()
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--force")
    assert verdict(reference, model, source, torch.randn(2, 8, 6, 6)) == "flagged"
    assert _trusts(source)["RecoveredModel"] == "missing"
    assert "where conv.norm (a layer's own child) applies" in " ".join(source.split())


# --------------------------------------------- later stages stride, however much they widen


class TvBasicBlock(nn.Module):  # torchvision's BasicBlock, `downsample` = [conv, bn]
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class NarrowedCifarResNet(nn.Module):
    """A CIFAR ResNet narrowed to widths that do not double (12, 20, 28): the first stage widens
    at full resolution, the later ones halve it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(TvBasicBlock(8, 12, 1), TvBasicBlock(12, 12, 1))
        self.layer2 = nn.Sequential(TvBasicBlock(12, 20, 2), TvBasicBlock(20, 20, 1))
        self.layer3 = nn.Sequential(TvBasicBlock(20, 28, 2))
        self.fc = nn.Linear(28, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean((2, 3)))


def test_later_stages_stride_however_much_they_widen(tmp_path, capsys):
    torch.manual_seed(0)
    reference = unit_scale(NarrowedCifarResNet()).eval()
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--force")
    assert verdict(reference, model, source, torch.randn(2, 3, 32, 32)) == "exact"


# ------------------------------------------------------- Keras applications ports, flat names


class KerasPort(nn.Module):
    """A keras.applications ResNet ported with one attribute per Keras layer name: three stages
    (ResNet101's layout narrowed), the first block of each with its `_0` projection. With
    `preact`, ResNet50V2's names (`_preact_bn`, `post_bn`): another family, not read as this."""

    def __init__(self, preact: bool = False) -> None:
        super().__init__()
        self.preact = preact
        self.conv1_conv = nn.Conv2d(3, 8, 7, 2)
        self.conv1_bn = nn.BatchNorm2d(8, eps=1.001e-5)
        self.blocks = []
        c_in = 8
        for stage, (mid, c_out, count) in enumerate(((4, 16, 1), (8, 24, 3), (8, 32, 2)), 2):
            for b in range(1, count + 1):
                name, stride = f"conv{stage}_block{b}", 2 if b == 1 and stage > 2 else 1
                if preact:
                    self.add_module(f"{name}_preact_bn", nn.BatchNorm2d(c_in, eps=1.001e-5))
                if b == 1:
                    self._unit(f"{name}_0", c_in, c_out, 1, stride)
                self._unit(f"{name}_1", c_in, mid, 1, stride)
                self._unit(f"{name}_2", mid, mid, 3, 1)
                self._unit(f"{name}_3", mid, c_out, 1, 1)
                self.blocks.append((name, b == 1))
                c_in = c_out
        if preact:
            self.post_bn = nn.BatchNorm2d(c_in, eps=1.001e-5)
        self.predictions = nn.Linear(c_in, 4)

    def _unit(self, name: str, c_in: int, c_out: int, k: int, stride: int) -> None:
        self.add_module(f"{name}_conv", nn.Conv2d(c_in, c_out, k, stride, k // 2))
        self.add_module(f"{name}_bn", nn.BatchNorm2d(c_out, eps=1.001e-5))

    def _step(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return getattr(self, f"{name}_bn")(getattr(self, f"{name}_conv")(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1_bn(self.conv1_conv(F.pad(x, (3, 3, 3, 3)))))
        x = F.max_pool2d(F.pad(x, (1, 1, 1, 1)), 3, 2)
        for name, projects in self.blocks:
            if self.preact:
                x = F.relu(getattr(self, f"{name}_preact_bn")(x))
            short = self._step(x, f"{name}_0") if projects else x
            out = F.relu(self._step(x, f"{name}_1"))
            out = F.relu(self._step(out, f"{name}_2"))
            x = F.relu(short + self._step(out, f"{name}_3"))
        if self.preact:
            x = F.relu(self.post_bn(x))
        return self.predictions(x.mean((2, 3)))


def test_a_keras_port_of_three_stages(tmp_path, capsys):
    """The names say what no key does: the later stages' first 1x1 convs stride, eps 1.001e-5."""
    torch.manual_seed(0)
    reference = unit_scale(KerasPort()).eval()
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--force")
    assert "keras.applications.resnet" in source
    assert verdict(reference, model, source, torch.randn(2, 3, 64, 64)) == "exact"


def test_a_keras_resnet_v2_port_is_no_v1(tmp_path, capsys):
    torch.manual_seed(0)
    reference = unit_scale(KerasPort(preact=True)).eval()
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--force")
    assert "KerasResNet" not in source
    assert verdict(reference, model, source, torch.randn(2, 3, 64, 64)) == "flagged"


# ------------------------------------------- weight-standardised convs: timm's ResNetV2 (BiT)


class TimmStdConv2d(nn.Conv2d):  # timm.layers.StdConv2d (eps 1e-8 in the BiT models)
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = F.batch_norm(
            self.weight.reshape(1, self.out_channels, -1), None, None, training=True, eps=1e-8
        ).reshape_as(self.weight)
        return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)


class DownsampleConv(nn.Module):  # timm resnetv2.DownsampleConv(preact=True): no norm
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv = TimmStdConv2d(c_in, c_out, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class TimmPreActBottleneck(nn.Module):  # timm resnetv2.PreActBottleneck with GroupNormAct(32)
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        mid = c_out // 4
        self.downsample = DownsampleConv(c_in, c_out, stride) if c_in != c_out else None
        self.norm1 = nn.GroupNorm(32, c_in)
        self.conv1 = TimmStdConv2d(c_in, mid, 1, bias=False)
        self.norm2 = nn.GroupNorm(32, mid)
        self.conv2 = TimmStdConv2d(mid, mid, 3, stride, 1, bias=False)
        self.norm3 = nn.GroupNorm(32, mid)
        self.conv3 = TimmStdConv2d(mid, c_out, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = F.relu(self.norm1(x))
        shortcut = x if self.downsample is None else self.downsample(pre)
        out = self.conv1(pre)
        out = self.conv2(F.relu(self.norm2(out)))
        return self.conv3(F.relu(self.norm3(out))) + shortcut


class TimmStage(nn.Module):  # timm ResNetStage: `blocks`
    def __init__(self, c_in: int, c_out: int, stride: int, depth: int) -> None:
        super().__init__()
        self.blocks = nn.Sequential(
            *(
                TimmPreActBottleneck(c_in if i == 0 else c_out, c_out, stride if i == 0 else 1)
                for i in range(depth)
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


class TimmBitTrunk(nn.Module):
    """timm's resnetv2_50x1_bit stages, narrowed: `stages.N.blocks.M` (its stem and head, and the
    trunk's final GroupNormAct, are left out: the blocks are the layout under test)."""

    def __init__(self) -> None:
        super().__init__()
        self.stages = nn.Sequential(TimmStage(32, 128, 1, 2), TimmStage(128, 256, 2, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(x)


def test_timm_resnetv2_bit_standardises_its_convs(tmp_path, capsys):
    """GroupNorm pre-activation blocks make every bias-free conv weight-standardised (a choice
    on each conv), the projection inside its own class (`downsample.conv`) too."""
    torch.manual_seed(0)
    reference = unit_scale(TimmBitTrunk()).eval()
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--force")
    assert "weight_standardized_conv2d(" in source
    assert "weight_standardization" in source
    x = torch.randn(2, 32, 16, 16)
    with torch.no_grad():  # timm's BiT epsilon (1e-8) is not the default (BiT's own, 1e-10)
        torch.testing.assert_close(model(x), reference(x), atol=1e-3, rtol=1e-3)
    torch.jit.script(model)


def test_weight_standardisation_is_a_choice(tmp_path, capsys):
    """Pinned off for one conv (as --hints or --calibrate would), that conv is plain and the file
    differs from the standardised reference: the choice reaches the conv it names."""
    torch.manual_seed(0)
    reference = unit_scale(TimmBitTrunk()).eval()
    pin = '["stages.0.blocks.0.conv2"]\nweight_standardization = false\n'
    (tmp_path / "hints.toml").write_text(pin)
    model, source = generate_from_state_dict(
        reference, tmp_path, capsys, "--force", "--hints", str(tmp_path / "hints.toml")
    )
    with torch.no_grad():
        x = torch.randn(2, 32, 16, 16)
        assert not torch.allclose(model(x), reference(x), atol=1e-5, rtol=1e-5)


# ------------------------------------- imgclsmob's pre-activation units, bottleneck bodies


class PreConvBlock(nn.Module):  # imgclsmob common.PreConvBlock(return_preact=True)
    def __init__(self, c_in: int, c_out: int, k: int, stride: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(c_in)
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = F.relu(self.bn(x))
        return self.conv(x), x


class PreResBottleneck(nn.Module):  # imgclsmob preresnet.PreResBottleneck (conv1_stride False)
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        mid = c_out // 4
        self.conv1 = PreConvBlock(c_in, mid, 1, 1)
        self.conv2 = PreConvBlock(mid, mid, 3, stride)
        self.conv3 = PreConvBlock(mid, c_out, 1, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, pre = self.conv1(x)
        x, _ = self.conv2(x)
        x, _ = self.conv3(x)
        return x, pre


class PreResBottleneckUnit(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.body = PreResBottleneck(c_in, c_out, stride)
        self.resize = c_in != c_out or stride != 1
        if self.resize:
            self.identity_conv = nn.Conv2d(c_in, c_out, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, pre = self.body(x)
        return out + (self.identity_conv(pre) if self.resize else x)


class PreResBottleneckStages(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stage1 = nn.Sequential()
        self.stage1.add_module("unit1", PreResBottleneckUnit(16, 64, 1))
        self.stage1.add_module("unit2", PreResBottleneckUnit(64, 64, 1))
        self.stage2 = nn.Sequential()
        self.stage2.add_module("unit1", PreResBottleneckUnit(64, 128, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stage2(self.stage1(x))


def test_imgclsmob_preact_bottleneck_units(tmp_path, capsys):
    """The projection reads what the body's first unit pre-activated; the one-width 3x3 units
    are pre-activation ones, as the widening 1x1s of the same names prove."""
    torch.manual_seed(0)
    reference = unit_scale(PreResBottleneckStages()).eval()
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--force")
    assert "PreActUnit" in source
    assert verdict(reference, model, source, torch.randn(2, 16, 16, 16)) == "exact"
