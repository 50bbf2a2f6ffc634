"""A ResNet ported from Keras applications with one attribute per Keras layer name
(`keras.applications.resnet`: ResNet50, 101 and 152; a port keeps `conv1_conv`, `conv1_bn`, then
`conv{stage}_block{block}_{i}_{conv|bn}` and `predictions`, all on the model itself):

    x = maxpool(relu(conv1_bn(conv1_conv(x))))          # 7x7 stride 2, then a 3x3 stride-2 pool
    for each block:                                     # _0 the projection, where the block has one
        shortcut = bn_0(conv_0(x)) or x
        out = relu(bn_1(conv_1(x))); out = relu(bn_2(conv_2(out))); out = bn_3(conv_3(out))
        x = relu(shortcut + out)
    return predictions(mean(x))

The names fix what no key records, as Keras' code does (`stack1`, `block1`): the first block of
every stage but the first halves the resolution on its 1x1 `_1_conv` and `_0_conv` (the stem's
pool halved it before the first), the 3x3 pads half its kernel ('same'), batch norms use
epsilon 1.001e-5; the stem's zero padding then valid 7x7 conv is padding 3, and the pool's zero
padding after a ReLU is padding 1. Each is pinned where left at a default, so hints and
calibration still move it. The pre-activation ResNetV2 (`_preact_bn`, `post_bn`) is not this.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
)
from codegen.patterns._kit import tensors
from codegen.patterns.blocks.selective_scan import conv_pins

UNIT = re.compile(r"conv(\d+)_block(\d+)_([0-3])_(conv|bn)")
KERAS_EPS = 1.001e-5  # keras.applications.resnet: BatchNormalization(epsilon=1.001e-5)


def _width(m, end: str):
    return getattr(m.io, end, None) if m.io is not None else None


def keras_stem(g: Graph, conv: str, norm: str):
    """keras.applications' stem on the input: its conv, norm and ReLU, then the 3x3 stride-2 pool
    (ZeroPadding2D(1) then MaxPooling2D: the same as padding 1 after a ReLU)."""
    x = g.input("x")
    out = g.call_module((conv,), x, name="x", inline=True)
    out = g.call_function("relu", g.call_module((norm,), out, inline=True), name="x")
    return g.call_function(
        "max_pool2d",
        out,
        3,
        2,
        1,
        name="x",
        comment="Keras pads 1 with zeros, then pools: the same after a ReLU",
    )


class KerasResNet(BlockPattern):
    role = "KerasResNet"
    priority = 20

    accepts = Accepts(tensors=False, names=("conv1_conv", "conv1_bn"), families=("linear", "conv"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or any(m.kind != "builtin" for m in members):
            return None
        by_name = {m.attr: m for m in members}
        stem = (by_name.get("conv1_conv"), by_name.get("conv1_bn"))
        heads = [m for m in members if family(m) == "linear"]
        if None in stem or len(heads) != 1 or family(stem[0]) != "conv":
            return None
        blocks: dict[tuple[int, int], dict[int, tuple]] = {}
        for m in members:
            if m in stem or m is heads[0]:
                continue
            found = UNIT.fullmatch(m.attr)
            if found is None:
                return None
            stage, block, i, kind = found.groups()
            units = blocks.setdefault((int(stage), int(block)), {})
            pair = units.setdefault(int(i), {})
            if kind in pair:
                return None
            pair[kind] = m
        if not blocks:
            return None
        width = _width(stem[0], "out_width")
        if width is None or _width(stem[1], "in_width") != width:
            return None
        plan, pins = [], []
        first_stage = min(stage for stage, _ in blocks)
        for (stage, block), units in sorted(blocks.items()):
            if set(units) - {0} != {1, 2, 3} or any(
                set(p) != {"conv", "bn"} for p in units.values()
            ):
                return None
            steps = [(units[i]["conv"], units[i]["bn"]) for i in (1, 2, 3)]
            c_in = width
            for conv, norm in steps:
                if family(conv) != "conv" or family(norm) != "norm":
                    return None
                if _width(conv, "in_width") != width or _width(norm, "in_width") != (
                    _width(conv, "out_width")
                ):
                    return None
                width = _width(conv, "out_width")
            projection = units.get(0)
            if projection is not None:
                conv, norm = projection["conv"], projection["bn"]
                if (_width(conv, "in_width"), _width(conv, "out_width")) != (c_in, width):
                    return None
                if _width(norm, "in_width") != width:
                    return None
            elif c_in != width:
                return None
            why = "keras.applications.resnet: the first block of each later stage strides"
            strided = block == min(b for s, b in blocks if s == stage) and stage != first_stage
            for conv in [steps[0][0]] + ([projection["conv"]] if projection else []):
                pins += conv_pins(conv, {"stride": 2 if strided else 1}, why)
            pins += conv_pins(steps[1][0], {"stride": 1}, why)
            names = [(c.attr, n.attr) for c, n in steps]
            short = (projection["conv"].attr, projection["bn"].attr) if projection else None
            plan.append((names, short))
        if _width(heads[0], "in_width") != width:
            return None
        for m in members:
            if family(m) == "norm":
                pins += [
                    (c.path, c.name, KERAS_EPS, "keras.applications.resnet: epsilon=1.001e-5")
                    for c in m.choices + [a.choice for a in m.args if a.choice is not None]
                    if c.name == "batch_norm_eps" and c.source == "default"
                ]
        found = ((stem[0].attr, stem[1].attr), plan, heads[0].attr)
        return Match(self, len(members) + 1, found, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        (conv, norm), plan, head = match.found
        x = keras_stem(g, conv, norm)
        for names, short in plan:
            shortcut = x
            if short is not None:
                projected = g.call_module((short[0],), x, inline=True)
                shortcut = g.call_module((short[1],), projected, name="shortcut")
            out = x
            for i, (conv, norm) in enumerate(names):
                out = g.call_module((conv,), out, inline=True)
                out = g.call_module((norm,), out, name="out", inline=i < 2)
                if i < 2:
                    out = g.call_function("relu", out, name="out")
            x = g.call_function(
                "relu", g.call_function("add", shortcut, out, inline=True), name="x"
            )
        pooled = g.call_method("mean", x, (2, 3), name="x", comment="global average pooling")
        g.output(g.call_module((head,), pooled))

    @staticmethod
    def examples():
        return [Example(_keras_resnet(), (_image(),))]


def _image():
    import torch

    return torch.randn(2, 3, 32, 32)


def _keras_resnet():
    """keras.applications.ResNet50 ported by hand, narrowed to two stages of one and two blocks."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Port(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1_conv = nn.Conv2d(3, 8, 7, 2)
            self.conv1_bn = nn.BatchNorm2d(8, eps=KERAS_EPS)
            self.blocks = (("conv2_block1", 8, 4, 16, 1), ("conv3_block1", 16, 8, 24, 2))
            self.blocks += (("conv3_block2", 24, 8, 24, 1),)
            for name, c_in, mid, c_out, stride in self.blocks:
                if c_in != c_out:
                    self._unit(f"{name}_0", c_in, c_out, 1, stride)
                self._unit(f"{name}_1", c_in, mid, 1, stride)
                self._unit(f"{name}_2", mid, mid, 3, 1)
                self._unit(f"{name}_3", mid, c_out, 1, 1)
            self.predictions = nn.Linear(24, 5)

        def _unit(self, name: str, c_in: int, c_out: int, k: int, stride: int) -> None:
            self.add_module(f"{name}_conv", nn.Conv2d(c_in, c_out, k, stride, k // 2))
            self.add_module(f"{name}_bn", nn.BatchNorm2d(c_out, eps=KERAS_EPS))

        def _unit_forward(self, x: torch.Tensor, name: str) -> torch.Tensor:
            return getattr(self, f"{name}_bn")(getattr(self, f"{name}_conv")(x))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.relu(self.conv1_bn(self.conv1_conv(F.pad(x, (3, 3, 3, 3)))))
            x = F.max_pool2d(F.pad(x, (1, 1, 1, 1)), 3, 2)
            for name, c_in, _, c_out, _ in self.blocks:
                short = self._unit_forward(x, f"{name}_0") if c_in != c_out else x
                out = F.relu(self._unit_forward(x, f"{name}_1"))
                out = F.relu(self._unit_forward(out, f"{name}_2"))
                x = F.relu(short + self._unit_forward(out, f"{name}_3"))
            return self.predictions(x.mean((2, 3)))

    return Port()
