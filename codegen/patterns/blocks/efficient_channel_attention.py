"""Efficient channel attention (ECA, Wang et al. 2020): pool each channel, run one small 1-d conv
across the pooled channel vector (no reduction, kernel k odd), gate, rescale the input:

    x * sigmoid(conv1d(mean(x)[:, None, :]))[:, :, None, None]

Its one layer is a Conv1d reading and giving a single channel ([1, 1, k], no bias in timm's
EcaModule and the paper's eca_module): the channel axis of the image is its sequence axis, so the
weight says nothing of the width it rescales (it keeps any). The gate is a choice (sigmoid in
both; timm's `gate_layer` can change it).
"""

from __future__ import annotations

from codegen.ir.graph import Graph, Slice
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    modules,
    tensors,
)
from codegen.patterns.blocks._conv_parts import arg, conv_kernel

ROLE = "EfficientChannelAttention"


class EfficientChannelAttention(BlockPattern):
    role = ROLE
    priority = 10  # a lone one-channel Conv1d inside a conv net: a gate, not a sequence layer

    accepts = Accepts(1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or len(members) != 1:
            return None
        conv = members[0]
        if conv.kind != "builtin" or conv.type_name != "nn.Conv1d" or conv.io is None:
            return None
        if (conv.io.in_width, conv.io.out_width) != (1, 1) or arg(conv, "bias", True):
            return None  # both codes build it unbiased, an odd kernel of 3 or more
        kernel = conv_kernel(conv)
        kernel = kernel[0] if isinstance(kernel, (tuple, list)) else kernel
        if not isinstance(kernel, int) or kernel < 3 or kernel % 2 == 0:
            return None
        gate = ctx.choose(
            cls, conv.attr, "gate", "sigmoid", act.alternatives("sigmoid", gates=True)
        )
        return Match(self, 1, (conv.attr,), [gate])

    def forward(self, match: Match, g: Graph) -> None:
        (conv,) = match.found
        gate = match.choices[0].value
        x = g.input("x")
        s = g.call_method("mean", x, (2, 3), name="scale", comment="squeeze: [batch, C]")
        s = g.call_method("unsqueeze", s, 1, name="scale", comment="channels as a sequence")
        s = g.call_module((conv,), s, name="scale", inline=True)
        s = act.apply(g, gate, s, name="scale")
        s = g.call_function(
            "getitem", s, (Slice(), 0, Slice(), None, None), name="scale", inline=True
        )
        g.output(g.call_function("mul", x, s))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class EcaLayer(nn.Module):  # BangGuWu/ECANet's eca_layer: a pool member, k = 3
            def __init__(self, k_size: int = 3) -> None:
                super().__init__()
                self.avg_pool = nn.AdaptiveAvgPool2d(1)
                self.conv = nn.Conv1d(1, 1, k_size, padding=(k_size - 1) // 2, bias=False)
                self.sigmoid = nn.Sigmoid()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                y = self.avg_pool(x)
                y = self.conv(y.squeeze(-1).transpose(-1, -2)).transpose(-1, -2).unsqueeze(-1)
                return x * self.sigmoid(y).expand_as(x)

        class ECABasicBlock(nn.Module):  # ECANet's models/eca_resnet.py: the gate after bn2
            def __init__(self, c_in: int, planes: int, stride: int = 1) -> None:
                super().__init__()
                self.conv1 = nn.Conv2d(c_in, planes, 3, stride, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(planes)
                self.relu = nn.ReLU(inplace=True)
                self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
                self.bn2 = nn.BatchNorm2d(planes)
                self.eca = EcaLayer(3)
                self.downsample = None
                if stride != 1 or c_in != planes:
                    self.downsample = nn.Sequential(
                        nn.Conv2d(c_in, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
                    )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                residual = x if self.downsample is None else self.downsample(x)
                out = self.relu(self.bn1(self.conv1(x)))
                out = self.eca(self.bn2(self.conv2(out)))
                return self.relu(out + residual)

        class Stage(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.layer1 = nn.Sequential(ECABasicBlock(8, 8), ECABasicBlock(8, 8))
                self.layer2 = nn.Sequential(ECABasicBlock(8, 16, 2), ECABasicBlock(16, 16))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.layer2(self.layer1(x))

        def conv_bn_relu6(c_in: int, c_out: int, k: int = 3, groups: int = 1) -> nn.Sequential:
            pad = (k - 1) // 2
            return nn.Sequential(
                nn.Conv2d(c_in, c_out, k, 1, pad, groups=groups, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU6(inplace=True),
            )

        class InvertedResidual(nn.Module):  # ECANet's eca_mobilenetv2.py: the gate closes `conv`
            def __init__(self, c: int, expand: int, k_size: int) -> None:
                super().__init__()
                hidden = c * expand
                self.conv = nn.Sequential(
                    conv_bn_relu6(c, hidden, 1),
                    conv_bn_relu6(hidden, hidden, groups=hidden),
                    nn.Conv2d(hidden, c, 1, 1, 0, bias=False),
                    nn.BatchNorm2d(c),
                    EcaLayer(k_size),
                )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x + self.conv(x)

        class Features(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.features = nn.Sequential(InvertedResidual(8, 4, 3), InvertedResidual(8, 4, 5))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.features(x)

        return [
            Example(EcaLayer(5), (torch.randn(2, 12, 5, 5),)),
            Example(Stage(), (torch.randn(2, 8, 8, 8),)),
            Example(Features(), (torch.randn(2, 8, 6, 6),)),
        ]
