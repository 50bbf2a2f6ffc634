"""A diffusion U-Net whose levels are members of the top class, each level given the timestep's
sinusoids through its own MLP, as dome272's Diffusion-Models-pytorch writes it (modules.py UNet):

    t = sinusoids(timestep)                 # computed in the forward: no time MLP of its own
    x1 = inc(x)                             # a double conv at full resolution
    x2 = sa1(down1(x1, t)) ... xn = saK(downK(x, t))    # each level halves; attention after it
    x = bot3(bot2(bot1(xn)))                # double convs at the deepest resolution
    x = sa(up1(x, x_{n-1}, t)) ... sa(upK(x, x1, t))    # each level doubles, takes a skip back
    return outc(x)                          # a 1x1 conv

UNet_conditional adds a class table as wide as the sinusoids (`label_emb`): t += table(labels).

The roles come from the structure (blocks/timed_unet_level.py's levels, double convs, attentions
that keep the width, one 1x1 conv); the order within each role from the numbers their names end
in (no key records the order, and alphabetical keys lose it), checked by the widths: the entry
block gives what the first down level reads, each level reads what the one before gives, an
attention keeps its level's width, an up level's double conv reads the running width plus the
skip's. The sinusoids are dome272's pos_encoding in its float order: sin, then cos, of
t / 10000 ** (2i / dim) (a convention of that code, said in the file).
"""

from __future__ import annotations

import re

from codegen.ir import ExampleInput
from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks.double_conv import holds_double_conv
from codegen.patterns.blocks.timed_unet_level import conv_pins, time_mlp
from codegen.patterns.families.level_unet import instance_widths

DOWN, UP = "DownLevel", "UpLevel"  # blocks/timed_unet_level.py


def _number(attr: str) -> int | None:
    found = re.search(r"(\d+)$", attr)
    return int(found.group(1)) if found else None


def _numbered(members: list) -> list | None:
    """Members in the order of the numbers their names end in; None where one has none, or two
    share one."""
    numbers = [_number(m.attr) for m in members]
    if None in numbers or len(set(numbers)) != len(numbers):
        return None
    return [m for _, m in sorted(zip(numbers, members), key=lambda p: p[0])]


def _instance_widths(ctx: BlockContext, cls, m) -> tuple | None:
    """(what a level's body reads, the width its time MLP reads) for the instance `m` of the top
    class, from that instance's own members."""
    held = ctx.classes.get(m.type_name) if m.kind == "class" else None
    if held is None:
        return None
    widths = instance_widths(cls, held, (m.attr,))
    body = next((c for c in modules(held) if time_mlp(c) is None), None)
    time = next((c for c in modules(held) if time_mlp(c) is not None), None)
    if widths is None or body is None or time is None:
        return None
    reads = widths.get(body.attr)
    features = time_mlp(time).io.in_width
    return (reads.in_width if reads is not None else None), features


class TimedLevelUNet(BlockPattern):
    role = "UNet"
    priority = 6

    accepts = Accepts(4, tensors=False, roles=(DOWN, UP))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 4:
            return None
        downs = [m for m in members if ctx.role(m) == DOWN]
        ups = [m for m in members if ctx.role(m) == UP]
        if not downs or len(downs) != len(ups):
            return None
        convs = [m for m in members if m.kind == "class" and holds_double_conv(ctx, m)]
        attentions = [
            m
            for m in members
            if m not in convs + downs + ups
            and m.kind == "class"
            and m.io is not None
            and m.io.in_width is not None
            and m.io.in_width == m.io.out_width
        ]
        # dome272's UNet_conditional: a table of class vectors as wide as the sinusoids, added
        labels = [m for m in members if family(m) == "embedding" and m not in convs + downs + ups]
        if len(labels) > 1:
            return None
        heads = [m for m in members if m not in convs + downs + ups + attentions + labels]
        if len(heads) != 1 or family(heads[0]) != "conv" or heads[0].kind != "builtin":
            return None
        head = heads[0]
        if conv_kernel(head) not in (1, (1, 1)):
            return None
        downs, ups = _numbered(downs), _numbered(ups)
        attentions = _numbered(attentions) if attentions else []
        if downs is None or ups is None or attentions is None:
            return None
        if attentions and len(attentions) != len(downs) + len(ups):
            return None
        widths = {id(m): _instance_widths(ctx, cls, m) for m in downs + ups}
        if None in widths.values():
            return None
        features = {w[1] for w in widths.values()}
        if len(features) != 1 or None in features:
            return None
        if labels and labels[0].io.out_width not in features:
            return None
        first_reads = widths[id(downs[0])][0]
        entry = [c for c in convs if c.io.out_width == first_reads]
        if len(entry) != 1:
            return None
        entry = entry[0]
        bottom = _numbered([c for c in convs if c is not entry]) or []
        if len(bottom) != len(convs) - 1:
            return None
        # the widths along the path, and what each up level takes back
        levels = downs + ups
        paired = attentions or [None] * len(levels)
        width, kept = entry.io.out_width, [entry.io.out_width]
        for level, attention in zip(downs, paired):
            if widths[id(level)][0] != width:
                return None
            width = level.io.out_width if level.io is not None else None
            if attention is not None and attention.io.in_width != width:
                return None
            kept.append(width)
        kept.pop()
        for block in bottom:
            if block.io.in_width != width:
                return None
            width = block.io.out_width
        for level, attention in zip(ups, paired[len(downs) :]):
            if not kept or widths[id(level)][0] != width + kept.pop():
                return None
            width = level.io.out_width if level.io is not None else None
            if attention is not None and attention.io.in_width != width:
                return None
        if kept or head.io.in_width != width:
            return None
        pins = conv_pins("gelu")
        found = dict(
            entry=entry.attr,
            downs=[(m.attr, a.attr if a else None) for m, a in zip(downs, paired)],
            bottom=[m.attr for m in bottom],
            ups=[(m.attr, a.attr if a else None) for m, a in zip(ups, paired[len(downs) :])],
            head=head.attr,
            features=features.pop(),
            labels=labels[0].attr if labels else None,
            in_channels=entry.io.in_width,
        )
        return Match(self, len(members), found, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        f = match.found
        x, timestep = g.input("x"), g.input("timestep")
        t = g.call_function("sinusoidal_time_encoding", timestep, f["features"], name="t")
        if f["labels"] is not None:
            labels = g.input("labels")
            c = g.call_module((f["labels"],), labels, inline=True)
            t = g.call_function("add", t, c, name="t", comment="plus the class vector")
        x = g.call_module((f["entry"],), x, name="x")
        kept = [x]
        for level, attention in f["downs"]:
            x = g.call_module((level,), x, t, name="x")
            if attention is not None:
                x = g.call_module((attention,), x, name="x")
            kept.append(x)
        kept.pop()  # the deepest map goes on down, not across
        for block in f["bottom"]:
            x = g.call_module((block,), x, name="x")
        for level, attention in f["ups"]:
            x = g.call_module((level,), x, kept.pop(), t, name="x")
            if attention is not None:
                x = g.call_module((attention,), x, name="x")
        g.output(g.call_module((f["head"],), x))

    def example_inputs(self, match: Match, cls) -> list[ExampleInput]:
        f = match.found
        size = 2 ** max(len(f["downs"]) + 1, 3)
        channels = f["in_channels"] or 3
        inputs = [ExampleInput((2, channels, size, size)), ExampleInput((2,), 1000)]
        if f["labels"] is not None:
            table = next(m for m in modules(cls) if m.attr == f["labels"])
            inputs.append(ExampleInput((2,), table.io.vocab))
        return inputs

    @staticmethod
    def examples():
        from codegen.patterns.blocks._timed_unet_examples import timed_unet_examples

        return timed_unet_examples()
