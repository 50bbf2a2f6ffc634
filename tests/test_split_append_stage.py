"""A stage whose fusing conv reads (2 + n) times its n blocks' width (issue 16, zoo 19's Ultralytics
YOLOv8-cls; blocks/split_append_stage.py). The reading: a unit gives twice the blocks' width, the
blocks keep it, and the fusing unit reads the two halves and every block's output concatenated,
which no chain of the members gives (they did not chain: the file raised). The conventions of
the layouts that write it (SiLU units, BatchNorm eps 1e-3, stride 2 where a 3x3 conv widens,
blocks activated before their sum) are pinned as choices and the stage says guessed.

Three layouts: Ultralytics' C2f in a small classifier (`model.N`, `cv1`/`cv2`/`m`), mmyolo's
CSPLayerWithTwoConv in a YOLOv8CSPDarknet-style backbone (`main_conv`/`blocks`/`final_conv`,
ConvModules of `conv`/`bn`), and, structurally apart, a neck-style C2f whose blocks add no
shortcut (the same keys as with one: the residual the convention reads is wrong there, and the
stage says guessed, never WRONG)."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests.zoo_verdicts import class_trust, generated_layout, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class Conv(nn.Module):  # ultralytics.nn.modules.conv.Conv
    def __init__(self, c1: int, c2: int, k: int = 1, s: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=0.001, momentum=0.03)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):  # ultralytics.nn.modules.block.Bottleneck(k=(3, 3), e=1.0)
    def __init__(self, c: int, shortcut: bool) -> None:
        super().__init__()
        self.cv1 = Conv(c, c, 3)
        self.cv2 = Conv(c, c, 3)
        self.add = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.cv2(self.cv1(x)) if self.add else self.cv2(self.cv1(x))


class C2f(nn.Module):  # ultralytics.nn.modules.block.C2f
    def __init__(self, c1: int, c2: int, n: int = 1, shortcut: bool = False) -> None:
        super().__init__()
        self.c = c2 // 2
        self.cv1 = Conv(c1, 2 * self.c, 1)
        self.cv2 = Conv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = list(self.cv1(x).chunk(2, 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class TinyYolo(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.model = nn.Sequential(Conv(3, 8, 3, 2), Conv(8, 16, 3, 2), C2f(16, 16, 2, True))
        self.fc = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.model(x).mean((2, 3)))


class ConvModule(nn.Module):  # mmcv.cnn.ConvModule(norm_cfg BN eps 1e-3, act_cfg SiLU)
    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001, momentum=0.03)
        self.activate = nn.SiLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activate(self.bn(self.conv(x)))


class DarknetBottleneck(nn.Module):  # mmdet/mmyolo DarknetBottleneck(kernel_size=(3, 3))
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1 = ConvModule(c, c, 3)
        self.conv2 = ConvModule(c, c, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.conv1(x))


class CSPLayerWithTwoConv(nn.Module):  # mmyolo.models.layers.CSPLayerWithTwoConv
    def __init__(self, c_in: int, c_out: int, n: int) -> None:
        super().__init__()
        self.mid = c_out // 2
        self.main_conv = ConvModule(c_in, 2 * self.mid, 1)
        self.final_conv = ConvModule((2 + n) * self.mid, c_out, 1)
        self.blocks = nn.ModuleList(DarknetBottleneck(self.mid) for _ in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_main = list(self.main_conv(x).split((self.mid, self.mid), 1))
        x_main.extend(block(x_main[-1]) for block in self.blocks)
        return self.final_conv(torch.cat(x_main, 1))


class MmyoloBackbone(nn.Module):  # mmyolo YOLOv8CSPDarknet, one stage, a linear head
    def __init__(self) -> None:
        super().__init__()
        self.stem = ConvModule(3, 8, 3, 2)
        self.stage1 = nn.Sequential(ConvModule(8, 16, 3, 2), CSPLayerWithTwoConv(16, 16, 1))
        self.head = nn.Linear(16, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stage1(self.stem(x)).mean((2, 3)))


class NeckC2f(nn.Module):  # a neck's C2f (shortcut=False: no key shows the missing sum)
    def __init__(self) -> None:
        super().__init__()
        self.model = nn.Sequential(Conv(3, 8, 3, 2), C2f(8, 8, 1, False))
        self.fc = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.model(x).mean((2, 3)))


LAYOUTS = {
    "ultralytics_c2f": (TinyYolo, (2, 3, 16, 16)),
    "mmyolo_csp_two_conv": (MmyoloBackbone, (2, 3, 16, 16)),
    "neck_without_shortcut": (NeckC2f, (2, 3, 16, 16)),
}


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def generated(request, tmp_path_factory):
    """(name, reference, generated model, source, input): one generate per layout."""
    return generated_layout(LAYOUTS, request.param, tmp_path_factory)


def test_exact_where_the_conventions_hold_else_flagged(generated):
    name, reference, model, source, x = generated
    verdict = measured(reference, model, source, (x,))[0]
    assert verdict == ("flagged" if name == "neck_without_shortcut" else "exact"), name


def test_each_blocks_output_is_appended_and_the_stage_says_guessed(generated):
    _, _, _, source, _ = generated
    trust = class_trust(source)
    assert trust["SplitAppendStage"] == "guessed"
    # its blocks' activation before the sum is the stage's convention: no key shows it
    assert "guessed" in {trust[n] for n in trust if "Block" in n and "Stage" not in n}
    assert ".chunk(2, 1)" in source and "piece0" in source
    assert "torch.cat([halves[0], x, piece0" in source
