"""A DenseNet ported from Keras applications with one attribute per Keras layer name
(`keras.applications.densenet`: DenseNet121, 169 and 201; a port keeps `conv1_conv`, `conv1_bn`,
then `conv{stage}_block{block}_{0_bn|1_conv|1_bn|2_conv}`, the transitions `pool{stage}_{bn|conv}`,
a final `bn` and `predictions`, all on the model itself):

    x = maxpool(relu(conv1_bn(conv1_conv(x))))            # 7x7 stride 2, then a 3x3 stride-2 pool
    for each block:                                       # pre-activated bottleneck, then joined
        y = relu(bn_0(x)); y = relu(bn_1(conv_1(y))); y = conv_2(y)
        x = cat([x, y])
    after each stage but the last: x = avgpool2(conv(relu(bn(x))))
    return predictions(mean(relu(bn(x))))

The concatenation is read from widths: each block's `_0_bn` normalises the width the block
before it read plus what its `_2_conv` made, and each transition's `bn` the stage's last sum; no
other wiring of these members gives those widths. The order of the two (the input first, as
Keras' `Concatenate([x, x1])` writes it) is a choice. What no key records is Keras' code, as the
names identify it (keras_resnet.py's reading): every conv strides 1 but the stem's (2), the 3x3
pads 1 ('same'), the stem's zero padding then valid 7x7 conv is padding 3, the pool's zero padding
after a ReLU is padding 1, a transition halves with a 2x2 average pool, batch norms use epsilon
1.001e-5. Each is pinned where left at a default, so hints and calibration still move it.
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
from codegen.patterns.families.keras_resnet import KERAS_EPS, _image, keras_stem

UNIT = re.compile(r"conv(\d+)_block(\d+)_([0-2])_(conv|bn)")
TRANSITION = re.compile(r"pool(\d+)_(conv|bn)")
LAYERS = {0: {"bn"}, 1: {"conv", "bn"}, 2: {"conv"}}  # a block's layers, by unit
WHY = "keras.applications.densenet"


def _width(m, end: str):
    return getattr(m.io, end, None) if m.io is not None else None


def _grouped(members) -> tuple[dict, dict] | None:
    """({(stage, block): {unit: {kind: member}}}, {stage: {kind: member}}), or None where a
    member is neither (the stem, the final norm and the head are taken out before)."""
    blocks: dict[tuple[int, int], dict[int, dict]] = {}
    transitions: dict[int, dict] = {}
    for m in members:
        unit, moved = UNIT.fullmatch(m.attr), TRANSITION.fullmatch(m.attr)
        if unit is not None:
            stage, block, i, kind = unit.groups()
            layers = blocks.setdefault((int(stage), int(block)), {}).setdefault(int(i), {})
        elif moved is not None:
            stage, kind = moved.groups()
            layers = transitions.setdefault(int(stage), {})
        else:
            return None
        if kind in layers:
            return None
        layers[kind] = m
    return blocks, transitions


def _layer_families_fit(layers: dict) -> bool:
    return all(family(m) == ("conv" if kind == "conv" else "norm") for kind, m in layers.items())


class KerasDenseNet(BlockPattern):
    role = "KerasDenseNet"
    priority = 20

    accepts = Accepts(
        tensors=False, names=("conv1_conv", "conv1_bn", "bn"), families=("linear", "conv")
    )

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or any(m.kind != "builtin" for m in members):
            return None
        by_name = {m.attr: m for m in members}
        stem = (by_name.get("conv1_conv"), by_name.get("conv1_bn"))
        final, heads = by_name.get("bn"), [m for m in members if family(m) == "linear"]
        if None in stem or final is None or len(heads) != 1 or family(stem[0]) != "conv":
            return None
        grouped = _grouped([m for m in members if m not in (*stem, final, heads[0])])
        if grouped is None or not grouped[0]:
            return None
        blocks, transitions = grouped
        width = _width(stem[0], "out_width")
        if width is None or _width(stem[1], "in_width") != width:
            return None
        stages = sorted({stage for stage, _ in blocks})
        if set(transitions) != set(stages[:-1]):
            return None  # a transition after every stage but the last
        plan, pins = [], []
        for stage in stages:
            names = []
            for block in sorted(b for s, b in blocks if s == stage):
                units = blocks[(stage, block)]
                if {i: set(u) for i, u in units.items()} != LAYERS:
                    return None
                if not all(_layer_families_fit(u) for u in units.values()):
                    return None
                pre, (conv1, bn1), conv2 = (
                    units[0]["bn"],
                    (units[1]["conv"], units[1]["bn"]),
                    (units[2]["conv"]),
                )
                # the block reads the width the one before it read plus what that one made:
                # its input joined with the new features (the dense connection)
                if _width(pre, "in_width") != width or _width(conv1, "in_width") != width:
                    return None
                inner = _width(conv1, "out_width")
                if _width(bn1, "in_width") != inner or _width(conv2, "in_width") != inner:
                    return None
                grown = _width(conv2, "out_width")
                if not grown:
                    return None
                width += grown
                names.append((pre.attr, conv1.attr, bn1.attr, conv2.attr))
                pins += conv_pins(conv1, {"stride": 1}, f"{WHY}: a dense layer keeps the size")
                pins += conv_pins(conv2, {"stride": 1, "padding": 1}, f"{WHY}: 'same' 3x3")
            moved = transitions.get(stage)
            down = None
            if moved is not None:
                if set(moved) != {"bn", "conv"} or not _layer_families_fit(moved):
                    return None
                if _width(moved["bn"], "in_width") != width:
                    return None
                if _width(moved["conv"], "in_width") != width:
                    return None
                width = _width(moved["conv"], "out_width")
                down = (moved["bn"].attr, moved["conv"].attr)
                pins += conv_pins(moved["conv"], {"stride": 1}, f"{WHY}: a 2x2 pool halves")
            plan.append((names, down))
        if _width(final, "in_width") != width or _width(heads[0], "in_width") != width:
            return None
        stem_why = f"{WHY}: ZeroPadding2D(3), then a valid 7x7 conv at stride 2"
        pins += conv_pins(stem[0], {"stride": 2, "padding": 3}, stem_why)
        for m in members:
            if family(m) != "norm":
                continue
            made = m.choices + [a.choice for a in m.args if a.choice is not None]
            for c in made:
                if c.source != "default":
                    continue
                if c.name == "batch_norm_eps":
                    pins.append((c.path, c.name, KERAS_EPS, f"{WHY}: epsilon=1.001e-5"))
                if c.name == "module_type":
                    pins.append((c.path, c.name, "nn.BatchNorm2d", f"{WHY}: over feature maps"))
        order = ctx.choose(
            cls,
            plan[0][0][0][3],
            "concat_order",
            "input_first",
            ["new_first"],
            "each dense layer's input, then its new features (Keras' Concatenate([x, x1]))",
        )
        found = ((stem[0].attr, stem[1].attr), plan, final.attr, heads[0].attr, order.value)
        return Match(self, len(members) + 1, found, [order], pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        (conv, norm), plan, final, head, order = match.found
        x = keras_stem(g, conv, norm)
        for names, down in plan:
            for pre, conv1, bn1, conv2 in names:
                y = g.call_function("relu", g.call_module((pre,), x, inline=True), name="y")
                y = g.call_module((conv1,), y, inline=True)
                y = g.call_function("relu", g.call_module((bn1,), y, inline=True), name="y")
                y = g.call_module((conv2,), y, name="y", inline=True)
                joined = [x, y] if order == "input_first" else [y, x]
                x = g.call_function("cat", joined, 1, name="x", comment="the dense connection")
            if down is not None:
                bn, conv = down
                y = g.call_function("relu", g.call_module((bn,), x, inline=True), name="x")
                y = g.call_module((conv,), y, name="x", inline=True)
                x = g.call_function("avg_pool2d", y, 2, 2, name="x", comment="transition")
        x = g.call_function("relu", g.call_module((final,), x, inline=True), name="x")
        pooled = g.call_method("mean", x, (2, 3), name="x", comment="global average pooling")
        g.output(g.call_module((head,), pooled))

    @staticmethod
    def examples():
        return [Example(keras_densenet(), (_image(),))]


def keras_densenet(blocks=(2, 1), growth: int = 4, stem: int = 8, classes: int = 5):
    """keras.applications.DenseNet121 ported by hand, narrowed (one attribute per Keras layer)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Port(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1_conv = nn.Conv2d(3, stem, 7, 2, 3, bias=False)
            self.conv1_bn = nn.BatchNorm2d(stem, eps=KERAS_EPS)
            c = stem
            for s, n in enumerate(blocks):
                for b in range(1, n + 1):
                    name = f"conv{s + 2}_block{b}"
                    self.add_module(f"{name}_0_bn", nn.BatchNorm2d(c, eps=KERAS_EPS))
                    self.add_module(f"{name}_1_conv", nn.Conv2d(c, 4 * growth, 1, bias=False))
                    self.add_module(f"{name}_1_bn", nn.BatchNorm2d(4 * growth, eps=KERAS_EPS))
                    conv = nn.Conv2d(4 * growth, growth, 3, 1, 1, bias=False)
                    self.add_module(f"{name}_2_conv", conv)
                    c += growth
                if s < len(blocks) - 1:
                    self.add_module(f"pool{s + 2}_bn", nn.BatchNorm2d(c, eps=KERAS_EPS))
                    self.add_module(f"pool{s + 2}_conv", nn.Conv2d(c, c // 2, 1, bias=False))
                    c //= 2
            self.bn = nn.BatchNorm2d(c, eps=KERAS_EPS)
            self.predictions = nn.Linear(c, classes)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.relu(self.conv1_bn(self.conv1_conv(x)))
            x = F.max_pool2d(x, 3, 2, 1)
            for s, n in enumerate(blocks):
                for b in range(1, n + 1):
                    name = f"conv{s + 2}_block{b}"
                    y = F.relu(getattr(self, f"{name}_0_bn")(x))
                    y = F.relu(getattr(self, f"{name}_1_bn")(getattr(self, f"{name}_1_conv")(y)))
                    x = torch.cat([x, getattr(self, f"{name}_2_conv")(y)], 1)
                if s < len(blocks) - 1:
                    x = F.relu(getattr(self, f"pool{s + 2}_bn")(x))
                    x = F.avg_pool2d(getattr(self, f"pool{s + 2}_conv")(x), 2, 2)
            x = F.relu(self.bn(x))
            return self.predictions(x.mean((2, 3)))

    return Port()
