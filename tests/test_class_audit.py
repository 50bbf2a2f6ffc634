"""Per-class audit (benchmarks/audit_classes.py): every generated class that says exact or
inferred computes what the reference's submodule at the same path computes, on the same inputs.
A flagged file may still hold such a class, and a reader trusts it: the worst kind of bug."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from benchmarks.audit_classes import audit, audit_row
from tests import generative_zoo_check
from tests.redraw import reference_and_input


def silent(classes) -> list[str]:
    return [f"{c.name} ({c.trust}): {c.differing}" for c in classes if c.silent]


# ReXNet as clovaai's rexnetv1.py writes it (the authors' code): each block one Sequential `out`
# of conv, bn, SiLU (expansion), depthwise conv, bn (no activation), SE, ReLU6, 1x1 conv, bn; the
# input added to the first channels where a stride-1 block widens. timm's layout is zoo 7's row.


class ClovaSE(nn.Module):
    def __init__(self, channels: int, reduced: int) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Conv2d(channels, reduced, 1),
            nn.BatchNorm2d(reduced),
            nn.ReLU(inplace=True),
            nn.Conv2d(reduced, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.fc(self.avg_pool(x))


class ClovaLinearBottleneck(nn.Module):
    def __init__(self, c_in: int, c_out: int, t: int, stride: int, use_se: bool) -> None:
        super().__init__()
        self.use_shortcut = stride == 1 and c_in <= c_out
        self.in_channels = c_in
        mid = c_in * t
        out: list[nn.Module] = []
        if t != 1:
            out += [nn.Conv2d(c_in, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.SiLU()]
        out += [nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm2d(mid)]
        if use_se:
            out.append(ClovaSE(mid, mid // 4))
        out += [nn.ReLU6(), nn.Conv2d(mid, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
        self.out = nn.Sequential(*out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.out(x)
        if self.use_shortcut:
            out = torch.cat([out[:, : self.in_channels] + x, out[:, self.in_channels :]], 1)
        return out


class ClovaReXNet(nn.Module):
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1, bias=False),
            nn.BatchNorm2d(8),
            nn.SiLU(),
            ClovaLinearBottleneck(8, 10, 1, 1, False),
            ClovaLinearBottleneck(10, 13, 6, 2, False),
            ClovaLinearBottleneck(13, 16, 6, 1, True),
            ClovaLinearBottleneck(16, 19, 6, 1, True),
            nn.Conv2d(19, 32, 1, bias=False),
            nn.BatchNorm2d(32),
            nn.SiLU(),
        )
        self.output = nn.Sequential(nn.Dropout(0.2), nn.Conv2d(32, classes, 1, bias=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x).mean((2, 3), keepdim=True)
        return self.output(x).flatten(1)


LAYOUTS = {"clova_rexnet": (ClovaReXNet, (2, 3, 32, 32))}


def audit_layout(name: str, tmp_path):
    reference, x = reference_and_input(*LAYOUTS[name])
    model, source = generative_zoo_check.generate(reference, tmp_path, "--quiet")
    return audit(reference, (x,), model, source), source


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_no_silent_class_in_other_layouts(name, tmp_path):
    classes, _ = audit_layout(name, tmp_path)
    assert not silent(classes)
    assert any(c.compared for c in classes)


@pytest.mark.parametrize(
    "row", ["7:timm_rexnet", "6:ghostnet", "11:osmr_resnet", "7:tv_mobilenet_v2"]
)
def test_no_silent_class_in_zoo_rows(row):
    classes = audit_row(f"v:{row}")
    assert not silent(classes)
    assert sum(c.compared for c in classes if c.trust in ("exact", "inferred")) > 0
