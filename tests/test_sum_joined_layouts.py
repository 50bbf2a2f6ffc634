"""Nets whose two paths are joined by a sum, so both operands have one width AND one size, written
with other names and nesting than zoo 16's LapSRN, which motivated the reading (issue 16):
families/sum_joined_pyramid.py. The sum orders the members (an image path beside a feature path,
paired level by level), decides a layer's kind (a head named transposed that must give the
image's channels is a plain conv; the stage's 4x4 layer that must meet the upsampled image is the
transposed one), and flags what it cannot prove (the activations, a convention).

Layouts: a progressive x8 net on RGB (three levels, biased layers, its stages classes holding a
`body`, named by role: `feature1`, `upsample1`, `residual1`); a one-level x2 net whose residual
head is named `deconv_res` (a transposed conv by its name alone) and whose trunk is one flat
Sequential; a progressive net keeping its levels in three ModuleLists (`stages`, `image_ups`,
`to_residual`), as configurable SR code writes it; and, structurally distant, an FPN-style
top-down pathway (lateral 1x1 convs, the coarser map upsampled and added), whose sums the reading
does not cover: it stays flagged.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.zoo_verdicts import measured_layout

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class FeatureStage(nn.Module):  # convs and leaky ReLUs, a transposed conv upsampling x2
    def __init__(self, nf: int, depth: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for _ in range(depth):
            layers += [nn.Conv2d(nf, nf, 3, 1, 1), nn.LeakyReLU(0.2, inplace=True)]
        layers += [nn.ConvTranspose2d(nf, nf, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class ProgressiveX8(nn.Module):  # three x2 levels on RGB, named by role
    def __init__(self, nf: int = 8) -> None:
        super().__init__()
        self.head = nn.Conv2d(3, nf, 3, 1, 1)
        for k in (1, 2, 3):
            setattr(self, f"feature{k}", FeatureStage(nf))
            setattr(self, f"upsample{k}", nn.ConvTranspose2d(3, 3, 4, 2, 1))
            setattr(self, f"residual{k}", nn.Conv2d(nf, 3, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = F.leaky_relu(self.head(x), 0.2)
        for k in (1, 2, 3):
            f = getattr(self, f"feature{k}")(f)
            x = getattr(self, f"upsample{k}")(x) + getattr(self, f"residual{k}")(f)
        return x


class SingleLevelX2(nn.Module):  # one level, the residual head named as a deconv
    def __init__(self, nf: int = 8) -> None:
        super().__init__()
        self.conv_first = nn.Conv2d(1, nf, 3, 1, 1, bias=False)
        self.trunk = nn.Sequential(
            nn.Conv2d(nf, nf, 3, 1, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(nf, nf, 3, 1, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.ConvTranspose2d(nf, nf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
        )
        self.image_up = nn.ConvTranspose2d(1, 1, 4, 2, 1, bias=False)
        self.deconv_res = nn.Conv2d(nf, 1, 3, 1, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.trunk(F.leaky_relu(self.conv_first(x), 0.2))
        return self.image_up(x) + self.deconv_res(f)


class ListedLevels(nn.Module):  # the levels in three ModuleLists
    def __init__(self, nf: int = 8, levels: int = 2) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(3, nf, 3, 1, 1, bias=False)
        self.stages = nn.ModuleList(FeatureStage(nf, depth=1) for _ in range(levels))
        self.image_ups = nn.ModuleList(
            nn.ConvTranspose2d(3, 3, 4, 2, 1, bias=False) for _ in range(levels)
        )
        self.to_residual = nn.ModuleList(
            nn.Conv2d(nf, 3, 3, 1, 1, bias=False) for _ in range(levels)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = F.leaky_relu(self.conv_in(x), 0.2)
        for stage, up, head in zip(self.stages, self.image_ups, self.to_residual):
            f = stage(f)
            x = up(x) + head(f)
        return x


class TopDown(nn.Module):  # an FPN's top-down pathway over three given levels' widths
    def __init__(self, widths: tuple = (4, 8, 16), out: int = 8) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, widths[0], 3, 1, 1)
        self.down1 = nn.Conv2d(widths[0], widths[1], 3, 2, 1)
        self.down2 = nn.Conv2d(widths[1], widths[2], 3, 2, 1)
        self.lateral = nn.ModuleList(nn.Conv2d(w, out, 1) for w in widths)
        self.smooth = nn.Conv2d(out, out, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c1 = F.relu(self.stem(x))
        c2 = F.relu(self.down1(c1))
        c3 = F.relu(self.down2(c2))
        p = self.lateral[2](c3)
        p = self.lateral[1](c2) + F.interpolate(p, scale_factor=2.0, mode="nearest")
        p = self.lateral[0](c1) + F.interpolate(p, scale_factor=2.0, mode="nearest")
        return self.smooth(p)


# (layout, input shape, verdict from the keys alone). Before this change (gen17b's 819147d):
# every one flagged (inf: the top-level members do not chain by width).
LAYOUTS = {
    "progressive_x8": (ProgressiveX8, (2, 3, 5, 5), "exact"),
    "single_level_x2": (SingleLevelX2, (2, 1, 6, 6), "exact"),
    "listed_levels": (ListedLevels, (2, 3, 5, 5), "exact"),
    "fpn_top_down": (TopDown, (2, 3, 16, 16), "flagged"),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_sum_joined_layout(name, tmp_path, capsys):
    make, shape, expected = LAYOUTS[name]
    found, diff = measured_layout(make, shape, tmp_path, capsys)
    assert found != "WRONG", f"{name}: differs by {diff:.3g} and nothing says so"
    assert found == expected, f"{name}: {found} (max abs diff {diff:.3g})"
