"""A split stage that keeps every step's output (Ultralytics' C2f, YOLOv8; its C3k2, YOLO11): a
unit gives twice the blocks' width and is split in halves; each block reads the last piece and
its output is appended; a unit fuses all the pieces:

    pieces = list(expand(x).chunk(2, 1))
    for block in blocks: pieces.append(block(pieces[-1]))
    return fuse(cat(pieces, 1))

Proven by widths alone: the fusing unit reads (2 + n) times the width of the n blocks, which is
the two halves and each block's output, and nothing else gives. (A cross stage partial stage,
blocks/cross_stage.py, fuses two halves only: 2h.) The units' activation leaves no key: SiLU, the
convention of the layouts that write this stage (Ultralytics' Conv: conv, BatchNorm, SiLU), a
choice, pinned model-wide for the network's other conv-norm units.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
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
from codegen.patterns.blocks._conv_parts import call_unit, unit
from codegen.patterns.blocks.dark_residual import darknet_activation
from codegen.patterns.blocks.residual import LAST_UNIT_ACTIVATED

WHY = "a split stage that appends each block's output (Ultralytics' C2f: Conv units with SiLU)"
BODIES = ("sequential", "repeat", "modulelist")
# What the layouts that write this stage fix and no key records (Match.pins, each still a choice):
# Ultralytics' initialize_weights sets every BatchNorm's eps to 1e-3; its yaml's 3x3 Conv that
# widens the network (the stem, each stage's opening) has stride 2 (layers/conv.py reads the
# pin); its Bottleneck adds its input to two activated units, nothing after the sum.
ULTRALYTICS_EPS = 1e-3
EPS_WHY = "Ultralytics' initialize_weights (every BatchNorm's eps 1e-3)"
DOWNSAMPLING = "split_append_downsampling"
STRIDE_WHY = "Ultralytics' yaml: each 3x3 Conv that widens has stride 2"
BLOCK_WHY = "Ultralytics' Bottleneck: x + cv2(cv1(x)), both units activated, nothing after the sum"
GUESSED = (
    "the conventions pinned from this stage (the units' SiLU, BatchNorm eps 1e-3, stride 2 where "
    "a 3x3 conv widens, blocks activated before their sum) are Ultralytics', which no key shows"
)


def _block_pins(inner, activation: str) -> list:
    """The blocks' activation placement (residual.py's choices), where left at defaults."""
    pins = []
    for c in inner.forward.choices:
        if c.source != "default":
            continue
        if c.name == "activation" and c.value != "identity":
            pins.append((c.path, "activation", "identity", BLOCK_WHY))
            pins.append((c.path, "inside_activation", activation, BLOCK_WHY))
        elif c.name == LAST_UNIT_ACTIVATED and c.value is not True:
            pins.append((c.path, LAST_UNIT_ACTIVATED, True, BLOCK_WHY))
    return pins


def _count(blocks) -> int:
    return blocks.copies if blocks.kind == "repeat" else len(blocks.children)


class SplitAppendStage(BlockPattern):
    role = "SplitAppendStage"
    priority = 10

    accepts = Accepts(3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or len(members) != 3:
            return None
        units, bodies = [], []
        for m in members:
            u = unit(m, ctx)
            if u is not None and u.norm is not None:
                units.append(u)
            elif m.kind in BODIES and m.io is not None:
                bodies.append(m)
        if len(units) != 2 or len(bodies) != 1:
            return None
        blocks = bodies[0]
        h, n = blocks.io.in_width, _count(blocks)
        if not h or blocks.io.out_width != h or n < 1:
            return None
        items = blocks.children
        if not items or any(c.kind != "class" or c.type_name in ctx.unknown for c in items):
            return None
        fuse = [u for u in units if u.in_width == (2 + n) * h]
        expand = [u for u in units if u.out_width == 2 * h and u not in fuse]
        if len(expand) != 1 or len(fuse) != 1:
            return None
        activation = darknet_activation(
            ctx, cls, expand[0].conv[0], f"inside each conv-norm unit ({WHY})", "silu"
        )
        pins = [
            ("", act.UNIT_ACTIVATION, activation.value, WHY),
            ("", "batch_norm_eps", ULTRALYTICS_EPS, EPS_WHY),
            ("", DOWNSAMPLING, True, STRIDE_WHY),
        ]
        for name in {c.type_name for c in items}:
            inner = ctx.classes.get(name)
            pins += _block_pins(inner, activation.value) if inner is not None else []
        found = (expand[0], blocks.attr, n, fuse[0])
        return Match(self, len(members) + 2, found, [activation], guessed=GUESSED, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        expand, blocks, n, fuse = match.found
        activation = match.choices[0].value
        x = g.input("x")
        x = call_unit(g, expand, x, activation, "x")
        halves = g.call_method("chunk", x, 2, 1, name="halves", comment="two halves of channels")
        pieces = [g.call_function("getitem", halves, i, inline=True) for i in (0, 1)]
        for i in range(n):
            pieces.append(g.call_module((blocks, str(i)), pieces[-1], name=f"piece{i}"))
        x = g.call_function("cat", pieces, 1, name="x", inline=True)
        g.output(call_unit(g, fuse, x, activation, "x"))

    @staticmethod
    def examples():
        return [_c2f_example()]


def _c2f_example() -> Example:
    import torch
    import torch.nn as nn

    from codegen.patterns.blocks._vision_examples import _randomise_norms

    def conv(c_in: int, c_out: int, k: int, s: int = 1) -> nn.Sequential:  # conv, BN, SiLU
        return nn.Sequential(
            nn.Conv2d(c_in, c_out, k, s, k // 2, bias=False),
            nn.BatchNorm2d(c_out, eps=1e-3),
            nn.SiLU(),
        )

    class Block(nn.Module):  # two activated 3x3 units and the input added
        def __init__(self, c: int) -> None:
            super().__init__()
            self.cv1, self.cv2 = conv(c, c, 3), conv(c, c, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.cv2(self.cv1(x))

    class Stage(nn.Module):  # Ultralytics' C2f, n = 2
        def __init__(self, c: int) -> None:
            super().__init__()
            self.cv1 = conv(c, c, 1)
            self.cv2 = conv(2 * c, c, 1)
            self.m = nn.ModuleList(Block(c // 2) for _ in range(2))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = list(self.cv1(x).chunk(2, 1))
            y.extend(m(y[-1]) for m in self.m)
            return self.cv2(torch.cat(y, 1))

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = conv(3, 8, 3, 2)
            self.stage = Stage(8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.stage(self.stem(x))

    torch.manual_seed(0)
    model = Holder()
    _randomise_norms(model)
    return Example(model.eval(), (torch.randn(2, 3, 8, 8),))
