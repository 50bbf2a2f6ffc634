"""Blocks that split their channels and concatenate them again, each on a layout other than the zoo
row that motivated it (tests/vision_zoo_*_models.py): Res2Net's cascade of groups as Gao et al.'s
res2net_v1b.py writes a whole network (a deep stem, average-pool shortcuts); timm's CrossStage3
(cs3darknet) beside the zoo's CrossStage. GhostNet's blocks are tested on huawei-noah's layout by
their patterns' examples (codegen/patterns/blocks/_split_examples.py)."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from codegen.cli.main import main
from codegen.patterns.blocks._split_examples import modules as split_modules
from tests.generated_module import load_module
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


# ------------------------------------------------------------------ cross stage partial


class CrossStage3(nn.Module):  # timm.models.cspnet.CrossStage3 (cs3darknet: SiLU, expand 1)
    def __init__(self, c_in: int, c_out: int, depth: int) -> None:
        super().__init__()
        unit = split_modules()["conv_norm_act"]
        self.conv_down = unit(c_in, c_out, 3, 2, act=nn.SiLU())
        self.conv_exp = unit(c_out, c_out, 1, act=nn.SiLU())
        half = c_out // 2
        self.blocks = nn.Sequential(*(_SiluDarkBlock(half, half // 2) for _ in range(depth)))
        self.conv_transition = unit(c_out, c_out, 1, act=nn.SiLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_exp(self.conv_down(x))
        x1, x2 = x.split(x.shape[1] // 2, dim=1)
        x1 = self.blocks(x1)
        return self.conv_transition(torch.cat([x1, x2], dim=1))


class _SiluDarkBlock(nn.Module):  # timm.models.cspnet.DarkBlock with act_layer SiLU
    def __init__(self, c: int, mid: int) -> None:
        super().__init__()
        unit = split_modules()["conv_norm_act"]
        self.conv1 = unit(c, mid, 1, act=nn.SiLU())
        self.conv2 = unit(mid, c, 3, act=nn.SiLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x)) + x


class Cs3Stages(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stages = nn.Sequential(CrossStage3(8, 16, 1), CrossStage3(16, 24, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(x)


def test_cs3_stages_with_the_trainers_activation(tmp_path, capsys):
    """timm's CrossStage3 (no transition after the blocks: they take the first half), its
    activation as a trainer's config names it: the stages are the reference, strides included."""
    torch.manual_seed(0)
    reference = unit_scale(Cs3Stages()).eval()
    ckpt, out = tmp_path / "weights.pt", tmp_path / "m.py"
    torch.save({"state_dict": reference.state_dict(), "config": {"hidden_act": "silu"}}, ckpt)
    assert main(["generate", str(ckpt), "-o", str(out), "--quiet"]) == 0
    source = out.read_text()
    assert "class CrossStage" in source and "class DarkBlock" in source
    model = load_module(out).RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 8, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(model)(x), reference(x), atol=1e-5, rtol=1e-5)


def test_cspdarknet_row_with_the_stem_activation_pinned(tmp_path, capsys):
    """The zoo's timm CSPDarkNet: with the stem's activation hinted (Darknet's leaky ReLU, which
    the cross stages and their blocks default to), the file is the reference."""
    from tests import vision_zoo_6_models as zoo6

    reference, x = zoo6.build("cspdarknet")
    ckpt, hints, out = tmp_path / "weights.pt", tmp_path / "hints.toml", tmp_path / "m.py"
    torch.save(reference.state_dict(), ckpt)
    hints.write_text('["ConvStem.conv1"]\nactivation = "leaky_relu_0.1"\n')
    assert main(["generate", str(ckpt), "-o", str(out), "--quiet", "--hints", str(hints)]) == 0
    model = load_module(out).RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)


def _csp_unit(c_in: int, c_out: int, k: int = 1, stride: int = 1, act: bool = True):
    """A conv-norm(-act) unit as a plain Sequential (keys `0.weight`, `1.running_mean`, ...)."""
    layers = [nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False), nn.BatchNorm2d(c_out)]
    return nn.Sequential(*layers, *([nn.LeakyReLU()] if act else []))


class _ResBottleneck(nn.Module):  # a CSPResNeXt bottleneck: grouped 3x3, activated after the sum
    def __init__(self, c: int, mid: int) -> None:
        super().__init__()
        self.conv1 = _csp_unit(c, mid, 1)
        self.conv2 = _csp_unit(mid, mid, 3)
        self.conv3 = _csp_unit(mid, c, 1, act=False)
        self.act = nn.LeakyReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv3(self.conv2(self.conv1(x))) + x)


class _CspResStage(nn.Module):  # cross_linear: conv_exp not activated (timm's CSPResNet configs)
    def __init__(self, c_in: int, c_out: int, stride: int, depth: int) -> None:
        super().__init__()
        self.conv_down = _csp_unit(c_in, c_in, 3, stride) if stride > 1 else nn.Identity()
        self.conv_exp = _csp_unit(c_in, 2 * c_out, 1, act=False)
        self.blocks = nn.Sequential(*(_ResBottleneck(c_out, c_out // 2) for _ in range(depth)))
        self.conv_transition_b = _csp_unit(c_out, c_out, 1)
        self.conv_transition = _csp_unit(2 * c_out, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_exp(self.conv_down(x))
        xs, xb = x.chunk(2, dim=1)
        return self.conv_transition(torch.cat([xs, self.conv_transition_b(self.blocks(xb))], 1))


class _CspResNet(nn.Module):  # a stem unit class, two stages, a pooled Linear head
    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.stem = nn.Module()
        self.stem.conv = _csp_unit(3, 8, 3)
        self.stages = nn.Sequential(_CspResStage(8, 12, 1, 2), _CspResStage(12, 16, 2, 1))
        self.fc = nn.Linear(16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem.conv(x))
        return self.fc(x.mean((2, 3)))


def test_csp_resnet_stages_of_sequential_units(tmp_path, capsys):
    """Cross stages of ResNet bottlenecks (activated after their sum), every unit a plain
    Sequential: timm's CSPResNet conventions (nn.LeakyReLU's slope 0.01; `conv_exp` linear), the
    stem's unit activated as the stages are; the file is the reference."""
    torch.manual_seed(0)
    reference = unit_scale(_CspResNet()).eval()
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    assert "0.01" in source and "class CrossStage" in source
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(model)(x), reference(x), atol=1e-5, rtol=1e-5)
