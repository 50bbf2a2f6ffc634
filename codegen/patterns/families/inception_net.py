"""An Inception network as torchvision writes it (GoogLeNet, Inception v3): conv-norm units and
Inception blocks as named members of the model, run in turn, then a global pool and `fc`. It is
the width chain (blocks/chain.py), whose pools between stages leave no key; where the members'
names are the layout's own, they say where those pools are, what the stem convs are, and that
every batch norm's eps is 0.001 (both build each conv-norm unit as `BasicConv2d`):

- GoogLeNet (Szegedy et al. 2015, table 1; torchvision's googlenet.py): `conv1` (7x7 stride 2),
  `conv2`, `conv3`, then `inception{stage}{letter}`. A 3x3 stride-2 max-pool (ceil mode) follows
  `conv1` and `conv3` and ends every stage of Inception blocks but the last, whose predecessor
  ends in a 2x2 one (`maxpool4`).
- Inception v3 (Szegedy et al. 2016, TF-slim's layer names; torchvision's inception.py): the
  stem's unpadded convs (`Conv2d_1a_3x3` at stride 2, `Conv2d_2a_3x3`, `Conv2d_4a_3x3`) and the
  3x3 stride-2 max-pools after `Conv2d_2b_3x3` and `Conv2d_4a_3x3`.

- kuangliu/pytorch-cifar's GoogLeNet (models/googlenet.py): `pre_layers` (a 3x3 conv-norm-ReLU
  that keeps the resolution), then `{letter}{stage}` (`a3`, `b3`, `a4` ... `e4`, `a5`, `b5`), one
  `maxpool` (3x3, stride 2, padding 1) applied where the stage number changes; its norms keep
  torch's eps.

Each is pinned where the choice was left at its default; the forward stays guessed.

torchvision builds GoogLeNet and Inception v3 with `transform_input=True` when it loads their
ImageNet weights: the input, normalised with the ImageNet mean and std, is remapped per channel to
the (x - 0.5) / 0.5 scaling the ported weights expect. No key records it: the choice
transform_input, off by default (the constructors' default), for calibration to switch on.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph, Slice
from codegen.patterns._kit import Accepts, BlockContext, Example, Match, modules
from codegen.patterns.blocks.chain import Chain

STAGE_BLOCK = re.compile(r"inception(\d+)([a-z])")
TRANSFORM = "transform_input"
# torchvision's _transform_input: channel c becomes x * (std[c] / 0.5) + (mean[c] - 0.5) / 0.5.
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
GOOGLENET = "torchvision's GoogLeNet layout (conv1-3, inception{stage}{letter})"
INCEPTION_V3 = "torchvision's Inception v3 layout (TF-slim's layer names)"
CIFAR_BLOCK = re.compile(r"([a-z])(\d+)")
CIFAR = "kuangliu/pytorch-cifar's GoogLeNet layout (pre_layers, {letter}{stage})"
# Inception v3's stem: unit name -> (stride, padding) of its conv; pools after these units.
V3_STEM = {"Conv2d_1a_3x3": (2, 0), "Conv2d_2a_3x3": (1, 0), "Conv2d_4a_3x3": (1, 0)}
V3_POOLED = ("Conv2d_2b_3x3", "Conv2d_4a_3x3")


def _conv_of(m, ctx: BlockContext) -> str | None:
    """The attribute of the one conv a conv-norm unit class holds."""
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    convs = [c for c in modules(cls) if c.io is not None and c.io.family == "conv"] if cls else []
    return convs[0].attr if len(convs) == 1 else None


def _googlenet_pins(cls, attrs: list[str]) -> list[tuple]:
    found = [(f, a) for a in attrs if (f := STAGE_BLOCK.fullmatch(a))]
    stages = sorted((int(f.group(1)), f.group(2), a) for f, a in found)
    stages = [(stage, a) for stage, _, a in stages]
    if not {"conv1", "conv3"} <= set(attrs) or not stages:
        return []
    pins = [
        (f"{cls.name}.{a}", "pooling_after", "max_pool_3x3_ceil", GOOGLENET)
        for a in ("conv1", "conv3")
    ]
    last = max(stage for stage, _ in stages)
    for (stage, attr), (after, _) in zip(stages, stages[1:]):
        if after != stage:
            pool = "max_pool_ceil" if after == last else "max_pool_3x3_ceil"
            pins.append((f"{cls.name}.{attr}", "pooling_after", pool, GOOGLENET))
    return pins


def _cifar_pins(cls, attrs: list[str]) -> list[tuple]:
    found = [(f, a) for a in attrs if (f := CIFAR_BLOCK.fullmatch(a))]
    stages = sorted((int(f.group(2)), f.group(1), a) for f, a in found)
    if "pre_layers" not in attrs or len(stages) < 2:
        return []
    return [
        (f"{cls.name}.{attr}", "pooling_after", "max_pool_3x3", CIFAR)
        for (stage, _, attr), (after, _, _) in zip(stages, stages[1:])
        if after != stage
    ]


def _inception_v3_pins(cls, members, ctx: BlockContext) -> list[tuple]:
    by_attr = {m.attr: m for m in members}
    if "Conv2d_1a_3x3" not in by_attr or not any(a.startswith("Mixed_") for a in by_attr):
        return []
    pins = []
    for attr, (stride, padding) in V3_STEM.items():
        conv = _conv_of(by_attr[attr], ctx) if attr in by_attr else None
        if conv is not None:
            if stride != 1:
                pins.append((f"{attr}.{conv}", "stride", stride, INCEPTION_V3))
            pins.append((f"{attr}.{conv}", "padding", padding, INCEPTION_V3))
    for attr in V3_POOLED:
        if attr in by_attr:
            pins.append((f"{cls.name}.{attr}", "pooling_after", "max_pool_3x3_valid", INCEPTION_V3))
    return pins


class InceptionNet(Chain):
    role = "InceptionNet"
    priority = -50  # the chain's forward, with the layout's pools: over the bare chain
    accepts = Accepts(roles=("Inception",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if not cls.is_top or not any(ctx.role(m) == "Inception" for m in members):
            return None
        found = super().match(cls, ctx)
        if found is None or found.missing:
            return None
        attrs = [m.attr for m in members]
        googlenet = _googlenet_pins(cls, attrs)
        v3 = _inception_v3_pins(cls, members, ctx)
        cifar = _cifar_pins(cls, attrs) if not googlenet and not v3 else []
        if not googlenet and not v3 and not cifar:
            return None
        eps = [("", "batch_norm_eps", 1e-3, GOOGLENET if googlenet else INCEPTION_V3)]
        found.pins = googlenet + v3 + cifar + (eps if not cifar else [])
        if not cifar:
            found.choices.append(
                ctx.resolver.choose(
                    cls.name,
                    TRANSFORM,
                    "off",
                    ["imagenet"],
                    "torchvision's transform_input (on where its ImageNet weights load): each "
                    "input channel remapped from the ImageNet normalisation to (x - 0.5) / 0.5",
                )
            )
        return found

    def forward(self, match: Match, g: Graph) -> None:
        transform = next((c for c in match.choices if c.name == TRANSFORM), None)
        if transform is None or transform.value == "off":
            return super().forward(match, g)
        original = g.input

        def remapped(name: str, *args, **kwargs):  # the chain's input, remapped first
            g.input = original
            x = original(name, *args, **kwargs)
            channels = [
                g.call_function(
                    "add",
                    g.call_function(
                        "mul",
                        g.call_function("getitem", x, (Slice(), Slice(c, c + 1)), inline=True),
                        round(std / 0.5, 6),
                        inline=True,
                    ),
                    round((mean - 0.5) / 0.5, 6),
                    inline=True,
                )
                for c, (mean, std) in enumerate(zip(IMAGENET_MEAN, IMAGENET_STD))
            ]
            return g.call_function(
                "cat", channels, 1, name="x", comment="transform_input: torchvision's remap"
            )

        g.input = remapped
        try:
            super().forward(match, g)
        finally:
            g.input = original

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        from codegen.patterns.blocks._vision_examples import modules as zoo

        inception = zoo()["inception"]

        class Unit(nn.Module):  # torchvision's BasicConv2d
            def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1) -> None:
                super().__init__()
                self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
                self.bn = nn.BatchNorm2d(c_out, eps=0.001)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return torch.relu(self.bn(self.conv(x)))

        class TinyGoogLeNet(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.conv1 = Unit(3, 8, 7, 2)
                self.conv2 = Unit(8, 8, 1)
                self.conv3 = Unit(8, 8, 3)
                self.inception3a = inception(8)
                self.inception4a = inception(16)
                for m in self.modules():
                    if isinstance(m, nn.BatchNorm2d):
                        m.eps = 0.001  # torchvision's BasicConv2d
                self.fc = nn.Linear(16, 3)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                pool = nn.functional.max_pool2d
                x = pool(self.conv1(x), 3, 2, ceil_mode=True)
                x = pool(self.conv3(self.conv2(x)), 3, 2, ceil_mode=True)
                x = pool(self.inception3a(x), 2, 2, ceil_mode=True)
                return self.fc(self.inception4a(x).mean((2, 3)))

        return [Example(TinyGoogLeNet(), (torch.randn(2, 3, 37, 37),)), _cifar_example()]


def _cifar_example() -> Example:
    """A CIFAR GoogLeNet as kuangliu/pytorch-cifar writes it (narrowed): Inception blocks of four
    Sequential branches `b1`..`b4` (the last opening with a stride-1 max-pool), one max-pool
    between stages 3, 4 and 5, an 8x8 average pool before `linear`."""
    import torch
    import torch.nn as nn

    def unit(c_in: int, c_out: int, k: int) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, k, padding=k // 2), nn.BatchNorm2d(c_out), nn.ReLU(True)]

    class Inception(nn.Module):
        def __init__(self, c_in: int, n1: int, n3: int, n5: int, pool: int) -> None:
            super().__init__()
            self.b1 = nn.Sequential(*unit(c_in, n1, 1))
            self.b2 = nn.Sequential(*unit(c_in, 2, 1), *unit(2, n3, 3))
            self.b3 = nn.Sequential(*unit(c_in, 2, 1), *unit(2, n5, 3), *unit(n5, n5, 3))
            self.b4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), *unit(c_in, pool, 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)

    class CifarGoogLeNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pre_layers = nn.Sequential(*unit(3, 8, 3))
            self.a3 = Inception(8, 2, 4, 2, 2)  # -> 10
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
            self.a4 = Inception(10, 4, 4, 2, 2)  # -> 12
            self.b4 = Inception(12, 4, 4, 2, 2)
            self.a5 = Inception(12, 2, 6, 4, 4)  # -> 16
            self.avgpool = nn.AvgPool2d(4, stride=1)
            self.linear = nn.Linear(16, 5)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = self.maxpool(self.a3(self.pre_layers(x)))
            out = self.maxpool(self.b4(self.a4(out)))
            out = self.avgpool(self.a5(out))
            return self.linear(out.view(out.size(0), -1))

    torch.manual_seed(0)
    model = CifarGoogLeNet()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.5)
    return Example(model, (torch.randn(2, 3, 16, 16),))
