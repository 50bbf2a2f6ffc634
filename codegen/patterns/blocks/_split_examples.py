"""Tiny reference modules for the blocks that split their channels and concatenate them again
(Res2Net's cascade of groups, GhostNet's primary and ghost features, CSPNet's halves, VoVNet's
one-shot aggregation, DLA's trees), written the way the papers'
repositories write them. Reference code, not generated code: the generated file must match it."""

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

    class Layer(
        nn.Module
    ):  # a stage: the first block strides, projects and pools; the rest cascade
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

    def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:  # huawei-noah's ghostnet.py
        return torch.nn.functional.relu6(x + 3.0) / 6.0

    class GhostModule(nn.Module):  # huawei-noah/Efficient-AI-Backbones ghostnet.py (ratio 2)
        def __init__(self, inp: int, oup: int, kernel_size=1, dw_size=3, relu=True) -> None:
            super().__init__()
            self.oup = oup
            init = math.ceil(oup / 2)
            self.primary_conv = nn.Sequential(
                nn.Conv2d(inp, init, kernel_size, 1, kernel_size // 2, bias=False),
                nn.BatchNorm2d(init),
                nn.ReLU(inplace=True) if relu else nn.Sequential(),
            )
            self.cheap_operation = nn.Sequential(
                nn.Conv2d(init, init, dw_size, 1, dw_size // 2, groups=init, bias=False),
                nn.BatchNorm2d(init),
                nn.ReLU(inplace=True) if relu else nn.Sequential(),
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x1 = self.primary_conv(x)
            x2 = self.cheap_operation(x1)
            return torch.cat([x1, x2], dim=1)[:, : self.oup, :, :]

    class SqueezeExcite(nn.Module):  # ghostnet.py: a hard sigmoid gate
        def __init__(self, c: int, reduced: int) -> None:
            super().__init__()
            self.avg_pool = nn.AdaptiveAvgPool2d(1)
            self.conv_reduce = nn.Conv2d(c, reduced, 1, bias=True)
            self.act1 = nn.ReLU(inplace=True)
            self.conv_expand = nn.Conv2d(reduced, c, 1, bias=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x_se = self.conv_expand(self.act1(self.conv_reduce(self.avg_pool(x))))
            return x * hard_sigmoid(x_se)

    class GhostBottleneck(nn.Module):  # ghostnet.py
        def __init__(self, c_in, mid, c_out, dw_kernel_size=3, stride=1, se=False) -> None:
            super().__init__()
            self.stride = stride
            self.ghost1 = GhostModule(c_in, mid, relu=True)
            if stride > 1:
                k = dw_kernel_size
                self.conv_dw = nn.Conv2d(mid, mid, k, stride, (k - 1) // 2, groups=mid, bias=False)
                self.bn_dw = nn.BatchNorm2d(mid)
            self.se = SqueezeExcite(mid, mid // 4) if se else None
            self.ghost2 = GhostModule(mid, c_out, relu=False)
            if c_in == c_out and stride == 1:
                self.shortcut = nn.Sequential()
            else:
                k = dw_kernel_size
                self.shortcut = nn.Sequential(
                    nn.Conv2d(c_in, c_in, k, stride, (k - 1) // 2, groups=c_in, bias=False),
                    nn.BatchNorm2d(c_in),
                    nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False),
                    nn.BatchNorm2d(c_out),
                )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            residual = x
            x = self.ghost1(x)
            if self.stride > 1:
                x = self.bn_dw(self.conv_dw(x))
            if self.se is not None:
                x = self.se(x)
            return self.ghost2(x) + self.shortcut(residual)

    class Blocks(nn.Module):  # ghostnet.py's `blocks`: one Sequential per stage
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.Sequential(
                nn.Sequential(GhostBottleneck(8, 16, 8)),
                nn.Sequential(GhostBottleneck(8, 24, 12, 5, 2, se=True)),
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.blocks(x)

    class LinearSELayer(nn.Module):  # huawei-noah's first ghost_net.py SELayer: clamped
        def __init__(self, c: int) -> None:
            super().__init__()
            self.avg_pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Sequential(nn.Linear(c, c // 4), nn.ReLU(True), nn.Linear(c // 4, c))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, c = x.shape[:2]
            y = self.fc(self.avg_pool(x).view(b, c)).view(b, c, 1, 1)
            return x * torch.clamp(y, 0, 1)

    def unit(c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
        return nn.Sequential(  # its `depthwise_conv(relu=False)`: an empty Sequential after bn
            nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False),
            nn.BatchNorm2d(c_out),
            nn.Sequential(),
        )

    class SequentialGhostBottleneck(nn.Module):  # the first ghost_net.py: steps in `conv`
        def __init__(self, c_in, mid, c_out, k=3, stride=1, se=False) -> None:
            super().__init__()
            self.conv = nn.Sequential(
                GhostModule(c_in, mid, relu=True),
                unit(mid, mid, k, stride, mid) if stride == 2 else nn.Sequential(),
                LinearSELayer(mid) if se else nn.Sequential(),
                GhostModule(mid, c_out, relu=False),
            )
            self.shortcut = nn.Sequential()
            if stride != 1 or c_in != c_out:
                self.shortcut = nn.Sequential(
                    unit(c_in, c_in, 3, stride, c_in),
                    nn.Conv2d(c_in, c_out, 1, bias=False),
                    nn.BatchNorm2d(c_out),
                )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x) + self.shortcut(x)

    class SequentialBlocks(nn.Module):  # its `features` past the stem
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(
                SequentialGhostBottleneck(8, 16, 8),
                SequentialGhostBottleneck(8, 24, 12, 5, 2, se=True),
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.features(x)

    class Holder(nn.Module):
        def __init__(self, block: nn.Module) -> None:
            super().__init__()
            self.block = block

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.block(x)

    class ConvNormAct(nn.Module):  # timm.layers.ConvNormAct (YOLOv5's `Conv`: conv, bn, act)
        def __init__(self, c_in: int, c_out: int, k: int = 1, stride: int = 1, act=None) -> None:
            super().__init__()
            self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
            self.bn = nn.BatchNorm2d(c_out)
            self.act = act or nn.LeakyReLU(0.1, inplace=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.act(self.bn(self.conv(x)))

    class Bottleneck(nn.Module):  # ultralytics/yolov5 models/common.py Bottleneck (SiLU)
        def __init__(self, c: int, e: float = 0.5) -> None:
            super().__init__()
            hidden = int(c * e)
            self.cv1 = ConvNormAct(c, hidden, 1, act=nn.SiLU())
            self.cv2 = ConvNormAct(hidden, c, 3, act=nn.SiLU())

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.cv2(self.cv1(x))

    class DarkBlock(nn.Module):  # timm.models.cspnet.DarkBlock (leaky ReLU 0.1)
        def __init__(self, c: int, mid: int) -> None:
            super().__init__()
            self.conv1 = ConvNormAct(c, mid, 1)
            self.conv2 = ConvNormAct(mid, c, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv2(self.conv1(x)) + x

    class CrossStage(nn.Module):  # timm.models.cspnet.CrossStage (strided, expand ratio 2)
        def __init__(self, c_in: int, c_out: int, depth: int) -> None:
            super().__init__()
            self.conv_down = ConvNormAct(c_in, c_out, 3, 2)
            self.conv_exp = ConvNormAct(c_out, 2 * c_out, 1)
            self.blocks = nn.Sequential(*(DarkBlock(c_out, c_out // 2) for _ in range(depth)))
            self.conv_transition_b = ConvNormAct(c_out, c_out, 1)
            self.conv_transition = ConvNormAct(2 * c_out, c_out, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.conv_exp(self.conv_down(x))
            xs, xb = x.split(x.shape[1] // 2, dim=1)
            xb = self.conv_transition_b(self.blocks(xb))
            return self.conv_transition(torch.cat([xs, xb], dim=1))

    from collections import OrderedDict

    def conv_unit(c_in: int, c_out: int, name: str, k: int) -> nn.Sequential:
        """vovnet-detectron2's conv3x3 / conv1x1: named conv, norm and relu in an OrderedDict."""
        return nn.Sequential(
            OrderedDict(
                [
                    (f"{name}_conv", nn.Conv2d(c_in, c_out, k, 1, k // 2, bias=False)),
                    (f"{name}_norm", nn.BatchNorm2d(c_out)),
                    (f"{name}_relu", nn.ReLU(inplace=True)),
                ]
            )
        )

    class ESEModule(nn.Module):  # vovnet-detectron2's eSEModule
        def __init__(self, channel: int) -> None:
            super().__init__()
            self.avg_pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Conv2d(channel, channel, kernel_size=1, padding=0)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * hard_sigmoid(self.fc(self.avg_pool(x)))

    class OSAModule(nn.Module):  # youngwanLEE/vovnet-detectron2 `_OSA_module` (VoVNetV2)
        def __init__(self, in_ch, stage_ch, concat_ch, layers, name, identity=False) -> None:
            super().__init__()
            self.identity = identity
            self.layers = nn.ModuleList()
            c = in_ch
            for i in range(layers):
                self.layers.append(conv_unit(c, stage_ch, f"{name}_{i}", 3))
                c = stage_ch
            self.concat = conv_unit(in_ch + layers * stage_ch, concat_ch, f"{name}_concat", 1)
            self.ese = ESEModule(concat_ch)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            identity_feat = x
            output = [x]
            for layer in self.layers:
                x = layer(x)
                output.append(x)
            xt = self.ese(self.concat(torch.cat(output, dim=1)))
            return xt + identity_feat if self.identity else xt

    class OSAStage(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.OSA2_1 = OSAModule(16, 8, 24, 3, "OSA2_1")
            self.OSA2_2 = OSAModule(24, 8, 24, 3, "OSA2_2", identity=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.OSA2_2(self.OSA2_1(x))

    class DlaBasicBlock(nn.Module):  # ucbdrive/dla dla.py BasicBlock: forward(x, residual)
        def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)

        def forward(self, x: torch.Tensor, residual: torch.Tensor | None = None) -> torch.Tensor:
            residual = x if residual is None else residual
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + residual)

    class Root(nn.Module):  # dla.py Root (residual False)
        def __init__(self, in_channels: int, out_channels: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(in_channels, out_channels, 1, stride=1, bias=False, padding=0)
            self.bn = nn.BatchNorm2d(out_channels)
            self.relu = nn.ReLU(inplace=True)

        def forward(self, *x: torch.Tensor) -> torch.Tensor:
            return self.relu(self.bn(self.conv(torch.cat(x, 1))))

    class Tree(nn.Module):  # dla.py Tree with levels=1
        def __init__(self, c_in: int, c_out: int, stride: int, level_root: bool) -> None:
            super().__init__()
            root_dim = 2 * c_out + (c_in if level_root else 0)
            self.tree1 = DlaBasicBlock(c_in, c_out, stride)
            self.tree2 = DlaBasicBlock(c_out, c_out, 1)
            self.root = Root(root_dim, c_out)
            self.level_root = level_root
            self.downsample = nn.MaxPool2d(stride, stride=stride) if stride > 1 else None
            self.project = None
            if c_in != c_out:
                self.project = nn.Sequential(
                    nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, bias=False),
                    nn.BatchNorm2d(c_out),
                )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            bottom = self.downsample(x) if self.downsample is not None else x
            residual = self.project(bottom) if self.project is not None else bottom
            children = [bottom] if self.level_root else []
            x1 = self.tree1(x, residual)
            x2 = self.tree2(x1)
            return self.root(x2, x1, *children)

    class Levels(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.level2 = Tree(8, 16, 2, level_root=False)
            self.level3 = Tree(16, 16, 2, level_root=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.level3(self.level2(x))

    return {
        "bottle2neck": Bottle2neck,
        "dla_levels": Levels,
        "dla_tree": Tree,  # tests/test_dla_trunk.py builds ucbdrive's whole DLA around it
        "osa_stage": OSAStage,
        "conv_norm_act": ConvNormAct,
        "yolo_bottleneck": Bottleneck,
        "dark_block": DarkBlock,
        "cross_stage": CrossStage,
        "layer": Layer,
        "ghost_module": GhostModule,
        "ghost_bottleneck": GhostBottleneck,
        "ghost_blocks": Blocks,
        "sequential_ghost_blocks": SequentialBlocks,
        "holder": Holder,
    }


def res2net_examples():
    import torch

    from codegen.patterns._kit import Example

    z = modules()
    return [
        Example(z["layer"](16, 8, 4), (torch.randn(2, 16, 6, 6),)),
        Example(z["layer"](32, 16, 3), (torch.randn(2, 32, 5, 5),)),
    ]


def ghost_examples():
    import torch

    from codegen.patterns._kit import Example

    z = modules()
    return [
        Example(z["holder"](z["ghost_module"](8, 16)), (torch.randn(2, 8, 6, 6),)),
        Example(z["ghost_blocks"](), (torch.randn(2, 8, 8, 8),)),
        Example(z["sequential_ghost_blocks"](), (torch.randn(2, 8, 8, 8),)),
    ]


def csp_examples():
    import torch

    from codegen.patterns._kit import Example

    z = modules()
    return [
        Example(
            z["holder"](torch.nn.Sequential(z["yolo_bottleneck"](8), z["yolo_bottleneck"](8))),
            (torch.randn(2, 8, 6, 6),),
            {"hidden_act": "silu"},
        ),
        Example(z["holder"](z["cross_stage"](4, 8, 2)), (torch.randn(2, 4, 8, 8),)),
    ]


def osa_examples():
    import torch

    from codegen.patterns._kit import Example

    return [Example(modules()["osa_stage"](), (torch.randn(2, 16, 6, 6),))]


def dla_examples():
    import torch

    from codegen.patterns._kit import Example

    return [Example(modules()["dla_levels"](), (torch.randn(2, 8, 8, 8),))]
