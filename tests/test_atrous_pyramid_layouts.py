"""Parallel branches of one width, concatenated, one a pooled map resized back
(patterns/blocks/atrous_pyramid.py, issue 16, session 18): zoo 17's VainF DeepLabV3+ ASPP
(tests/generative_zoo_17_models.py) is one layout; these are others, generated from their state
dicts alone: exact where DeepLabV3's conventions hold, else flagged and exact once the choices no
key records are pinned, as calibration would.

- torchvision's `ASPP` (segmentation/deeplabv3.py) under its `DeepLabHead` Sequential, at
  output stride 8 (rates 12, 24, 36), its pooled branch an `ASPPPooling` Sequential subclass;
- VainF's at rates 6, 12, 18 with a Dropout closing `project`, behind a 1x1 classifier;
- structurally distant: ParseNet's global context (Liu et al. 2015): a local 1x1 path and a
  globally pooled one, "unpooled" to the map's size and concatenated; no atrous branch.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.generative_zoo_check import flagged_then_exact
from tests.zoo_verdicts import layout_reference, measured_layout

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _cbr(c_in: int, c_out: int, k: int = 1, d: int = 1) -> list[nn.Module]:
    pad = d if k == 3 else 0
    return [
        nn.Conv2d(c_in, c_out, k, padding=pad, dilation=d, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
    ]


class ASPPPooling(nn.Sequential):  # torchvision: pool, conv, norm, ReLU, resized back
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(nn.AdaptiveAvgPool2d(1), *_cbr(c_in, c_out))

    def forward(self, x):
        size = x.shape[-2:]
        for mod in self:
            x = mod(x)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    def __init__(self, c_in: int, rates: tuple, c: int = 4, dropout: float = 0.5) -> None:
        super().__init__()
        convs = [nn.Sequential(*_cbr(c_in, c))]
        convs += [nn.Sequential(*_cbr(c_in, c, 3, r)) for r in rates]
        convs.append(ASPPPooling(c_in, c))
        self.convs = nn.ModuleList(convs)
        self.project = nn.Sequential(*_cbr(len(convs) * c, c), nn.Dropout(dropout))

    def forward(self, x):
        return self.project(torch.cat([conv(x) for conv in self.convs], dim=1))


class TorchvisionHead(nn.Module):  # DeepLabHead: Sequential(ASPP, 3x3 conv-bn-relu, 1x1 conv)
    def __init__(self, c_in: int = 8, num_classes: int = 3) -> None:
        super().__init__()
        self.classifier = nn.Sequential(
            ASPP(c_in, (12, 24, 36)),
            nn.Conv2d(4, 4, 3, padding=1, bias=False),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.Conv2d(4, num_classes, 1),
        )

    def forward(self, x):
        return self.classifier(x)


class VainfHead(nn.Module):
    def __init__(self, c_in: int = 8) -> None:
        super().__init__()
        self.aspp = ASPP(c_in, (6, 12, 18), dropout=0.1)
        self.classifier = nn.Conv2d(4, 2, 1)

    def forward(self, x):
        return self.classifier(self.aspp(x))


class GlobalContext(nn.Module):  # ParseNet: local features beside the unpooled global ones
    def __init__(self, c: int = 8, width: int = 6) -> None:
        super().__init__()
        self.paths = nn.ModuleList(
            [
                nn.Sequential(nn.Conv2d(c, width, 1), nn.BatchNorm2d(width), nn.ReLU()),
                nn.Sequential(
                    nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, width, 1), nn.BatchNorm2d(width)
                ),
            ]
        )
        self.fuse = nn.Conv2d(2 * width, c, 3, padding=1)

    def forward(self, x):
        local = self.paths[0](x)
        pooled = F.relu(self.paths[1](x))
        pooled = F.interpolate(pooled, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.fuse(torch.cat([local, pooled], 1))


class ParseNetTop(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.context = GlobalContext()
        self.score = nn.Conv2d(8, 3, 1)

    def forward(self, x):
        return self.score(self.context(x))


def test_vainf_head_is_exact_from_the_keys(tmp_path, capsys):
    found, diff = measured_layout(VainfHead, (2, 8, 9, 9), tmp_path, capsys)
    assert found == "exact", f"{found}: {diff:.3g}"


def test_parsenet_global_context_is_exact_from_the_keys(tmp_path, capsys):
    found, diff = measured_layout(ParseNetTop, (2, 8, 7, 7), tmp_path, capsys)
    assert found == "exact", f"{found}: {diff:.3g}"


def test_torchvision_head_at_output_stride_8_is_flagged_until_pinned(tmp_path):  # 40x40: rates tell
    hint = '["AtrousPyramid.convs"]\natrous_rates = "12,24,36"\n'
    reference = layout_reference(TorchvisionHead)
    flagged_then_exact(reference, (torch.randn(2, 8, 40, 40),), tmp_path, hint)


class DeepLabV3(nn.Module):  # torchvision's deeplabv3_resnet50 shape: backbone, DeepLabHead
    def __init__(self) -> None:
        super().__init__()
        from tests.generative_zoo_17_models import DilatedResNetBackbone

        self.backbone = DilatedResNetBackbone(4)  # output stride 16: layer4 dilated
        self.classifier = TorchvisionHead(128).classifier
        self.classifier[0] = ASPP(128, (6, 12, 18))

    def forward(self, x):
        size = x.shape[-2:]
        out = self.classifier(self.backbone(x)["out"])
        return F.interpolate(out, size=size, mode="bilinear", align_corners=False)


def test_deeplabv3_is_exact_from_the_keys(tmp_path, capsys):
    """The ASPP names the family: its trunk's last stage dilated, not strided, and the class map
    resized to the input (chain.py: dilated_trunk_pins, output_pooling)."""
    found, diff = measured_layout(DeepLabV3, (2, 3, 64, 64), tmp_path, capsys)
    assert found == "exact", f"{found}: {diff:.3g}"
