"""Tiny reference modules for the blocks that split their channels and concatenate them again
(Res2Net's cascade of groups), written the way the papers' repositories write them. Reference
code, not generated code: the generated file must match it."""

from __future__ import annotations

import math


def modules():
    import torch
    import torch.nn as nn

    class Bottle2neck(nn.Module):  # Gao et al.'s res2net.py (stype 'stage' or 'normal')
        expansion = 4

        def __init__(
            self, inplanes, planes, stride=1, downsample=None, base_width=26, scale=4, stype=""
        ):
            super().__init__()
            width = int(math.floor(planes * (base_width / 64.0)))
            self.conv1 = nn.Conv2d(inplanes, width * scale, kernel_size=1, bias=False)
            self.bn1 = nn.BatchNorm2d(width * scale)
            self.nums = scale - 1
            if stype == "stage":
                self.pool = nn.AvgPool2d(kernel_size=3, stride=stride, padding=1)
            self.convs = nn.ModuleList(
                nn.Conv2d(width, width, kernel_size=3, stride=stride, padding=1, bias=False)
                for _ in range(self.nums)
            )
            self.bns = nn.ModuleList(nn.BatchNorm2d(width) for _ in range(self.nums))
            self.conv3 = nn.Conv2d(width * scale, planes * 4, kernel_size=1, bias=False)
            self.bn3 = nn.BatchNorm2d(planes * 4)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = downsample
            self.stype, self.width = stype or "normal", width

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            residual = x
            out = self.relu(self.bn1(self.conv1(x)))
            spx = torch.split(out, self.width, 1)
            sp = spx[0]
            for i in range(self.nums):
                sp = spx[i] if i == 0 or self.stype == "stage" else sp + spx[i]
                sp = self.relu(self.bns[i](self.convs[i](sp)))
                out = sp if i == 0 else torch.cat((out, sp), 1)
            if self.stype == "normal":
                out = torch.cat((out, spx[self.nums]), 1)
            else:
                out = torch.cat((out, self.pool(spx[self.nums])), 1)
            out = self.bn3(self.conv3(out))
            if self.downsample is not None:
                residual = self.downsample(x)
            return self.relu(out + residual)

    class Layer(nn.Module):  # a stage: the first block strides, projects and pools; the rest cascade
        def __init__(self, c_in: int, planes: int, scale: int) -> None:
            super().__init__()
            down = nn.Sequential(
                nn.Conv2d(c_in, planes * 4, 1, 2, bias=False), nn.BatchNorm2d(planes * 4)
            )
            self.layer = nn.Sequential(
                Bottle2neck(c_in, planes, 2, down, scale=scale, stype="stage"),
                Bottle2neck(planes * 4, planes, scale=scale),
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.layer(x)

    return {"bottle2neck": Bottle2neck, "layer": Layer}


def res2net_examples():
    import torch

    from codegen.patterns._kit import Example

    z = modules()
    return [
        Example(z["layer"](16, 8, 4), (torch.randn(2, 16, 6, 6),)),
        Example(z["layer"](32, 16, 3), (torch.randn(2, 32, 5, 5),)),
    ]
