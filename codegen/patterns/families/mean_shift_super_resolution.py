"""A super-resolution net in the EDSR-PyTorch layout (sanghyun-son/EDSR-PyTorch's EDSR and MDSR,
yulunzhang's RCAN, and the nets built on that code): a fixed 1x1 conv that subtracts the dataset
mean (`sub_mean`), a `head` conv, a `body` with a long skip around it, a `tail` of upsampling convs
each followed by a pixel shuffle and a last conv, and the mean added back (`add_mean`):

    x = head(sub_mean(x))
    res = body(x); res += x
    return add_mean(tail(res))

The two mean shifts are 1x1 convs from the image's channels to themselves: the widths cannot say
which runs first, the names do (this code base's `MeanShift(sign=-1)` is `sub_mean`). The tail's
pixel shuffles hold no tensors: a conv giving r*r times the width it reads is followed by one.
An x4 tail (two such convs with a shuffle's slot between them) reads its second conv ungrouped:
the slot between two convs is a shuffle where the widths say so (analyze/structure._shuffle_gap).
"""

from __future__ import annotations

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
from codegen.patterns._kit import one_named, size_value, tensors

SUB_MEAN, ADD_MEAN = r"sub_mean", r"add_mean"
HEAD, BODY, TAIL = r"head", r"body", r"tail"
RATIOS = (2, 3, 4)


def _conv2d(m) -> bool:
    return m is not None and m.kind == "builtin" and family(m) == "conv" and m.io.ndim == 2


def _tail_steps(
    tail, width: int, channels: int, reads: int | None = None
) -> list[tuple[tuple[str, ...], int]] | None:
    """The tail's convs in order, each with the pixel shuffle after it (0 for none): upsampling
    convs give r*r times the width, the last conv gives the image's channels. `reads`: what the
    first conv reads where it fuses more than the width (MSRN's every block output), else the
    width."""
    convs: list[tuple[tuple[str, ...], object]] = []

    def walk(m, path):
        if m.kind in ("sequential", "modulelist"):
            for child in m.children:
                if not walk(child, path + (child.attr,)):
                    return False
            return True
        if m.kind == "placeholder":
            return True  # a pixel shuffle's slot between two upsampling convs
        if not _conv2d(m):
            return False
        convs.append((path, m))
        return True

    if tail.kind == "builtin" or not walk(tail, (tail.attr,)):
        return None
    steps = []
    for i, (path, conv) in enumerate(convs):
        if conv.io.in_width != (reads or width if i == 0 else width):
            return None
        if (i == 0 and reads or i == 1 and reads and steps) and conv.io.out_width == width:
            steps.append((path, 0))  # the fusion back to the width, a conv over it (MSRN's)
            continue
        last = i == len(convs) - 1
        if last:
            if conv.io.out_width != channels:
                return None
            steps.append((path, 0))
            continue
        ratio = conv.io.out_width // width if conv.io.out_width % width == 0 else 0
        r = next((r for r in RATIOS if ratio == r * r), None)
        if r is None:
            return None
        steps.append((path, r))
    return steps if len(steps) >= 2 else None


BLOCK_RESIDUAL_WHY = "EDSR-PyTorch's body blocks add their input (MSRN's MSRB: `output += x`)"


def _residual_pins(body, ctx: BlockContext) -> list[tuple]:
    """Where a body block's forward leaves its input's addition a choice at its default (a wiring
    solved from widths: blocks/solved_wiring.py), this code base's blocks add it: a pin."""
    pins = []
    # (in the blocks' order: a set of names iterates in an order each process's hashes set)
    for name in dict.fromkeys(c.type_name for c in body.children if c.kind == "class"):
        block = ctx.classes.get(name)
        for c in block.forward.choices if block is not None else ():
            if c.name == "residual" and c.source == "default" and "add" in c.alternatives:
                pins.append((c.path, c.name, "add", BLOCK_RESIDUAL_WHY))
    return pins


def _guessed(place) -> str:
    if place.source != "default":
        return ""
    return "no key records where the head's output joins the fused block outputs (MSRN's last)"


class MeanShiftSuperResolution(BlockPattern):
    role = "SuperResolution"
    priority = 11

    accepts = Accepts(5, 5, tensors=False, names=(SUB_MEAN, ADD_MEAN, HEAD, BODY, TAIL))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 5:
            return None
        sub, add = one_named(members, SUB_MEAN), one_named(members, ADD_MEAN)
        head, body, tail = (one_named(members, n) for n in (HEAD, BODY, TAIL))
        if None in (sub, add, head, body, tail) or not (_conv2d(sub) and _conv2d(add)):
            return None
        channels = sub.io.in_width
        if {sub.io.out_width, add.io.in_width, add.io.out_width} != {channels}:
            return None
        if head.io is None or head.io.in_width != channels or not head.io.out_width:
            return None
        width = head.io.out_width
        if body.io is None or (body.io.in_width, body.io.out_width) != (width, width):
            return None
        steps = _tail_steps(tail, width, channels)
        if steps is not None:
            skip = ctx.choose(
                cls,
                body.attr,
                "long_skip",
                "add",
                ["none"],
                "the head's output around the body",
            )
            if skip.source == "default":
                skip.source = "metadata"
                skip.note = "EDSR-PyTorch's layout (`res += x`) by convention"
            found = (sub.attr, head.attr, body.attr, tuple(steps), add.attr)
            return Match(self, len(members), found, [skip])
        # A list of N blocks whose tail opens with a conv reading (N + 1) times the width: every
        # block's output kept and fused with the head's (MSRN, Li et al. 2018: `msrb_out`).
        # (a Sequential too: its items chain, and only the tail's width says each is kept)
        blocks = len(body.children) if body.kind in ("modulelist", "sequential") else 0
        if body.kind == "repeat":
            blocks = size_value(cls, body.repeat) or 0
        steps = _tail_steps(tail, width, channels, (blocks + 1) * width) if blocks else None
        if steps is None:
            return None
        place = ctx.choose(
            cls,
            body.attr,
            "head_position",
            "last",
            ["first"],
            "where the head's output joins the blocks' outputs the tail fuses (MSRN's last)",
        )
        found = (sub.attr, head.attr, body.attr, tuple(steps), add.attr)
        return Match(
            self,
            len(members),
            found,
            [place],
            guessed=_guessed(place),
            pins=_residual_pins(body, ctx),
        )

    def forward(self, match: Match, g: Graph) -> None:
        sub, head, body, steps, add = match.found
        x = g.input("x")
        x = g.call_module((sub,), x, name="x", comment="subtract the dataset mean")
        x = g.call_module((head,), x, name="x")
        if match.choices[0].name == "head_position":
            outs = g.call_module(
                (body,), x, each_keep=True, name="outs", comment="every block's output"
            )
            first = match.choices[0].value == "first"
            joined = ([x], outs) if first else (outs, [x])
            outs = g.call_function("add", *joined, name="outs", comment="and the head's")
            res = g.call_function("cat", outs, 1, name="res")
        else:
            res = g.call_module((body,), x, name="res")
        if match.choices[0].value == "add":
            res = g.call_function("add", res, x, name="res", comment="long skip over the body")
        for path, r in steps:
            res = g.call_module(path, res, name="res", inline=True)
            if r:
                res = g.call_function(
                    "pixel_shuffle", res, r, name="res", comment=f"{r * r}x channels -> {r}x size"
                )
        g.output(g.call_module((add,), res, name="out", comment="add the dataset mean back"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class MeanShift(nn.Conv2d):
            def __init__(self, sign: int) -> None:
                super().__init__(3, 3, 1)
                self.weight.data = torch.eye(3).view(3, 3, 1, 1)
                self.bias.data = sign * torch.tensor([0.4488, 0.4371, 0.4040])

        class Edsr(nn.Module):  # EDSR-PyTorch's layout, x3 (one shuffle), plain body
            def __init__(self, n: int = 8) -> None:
                super().__init__()
                self.sub_mean, self.add_mean = MeanShift(-1), MeanShift(1)
                self.head = nn.Sequential(nn.Conv2d(3, n, 3, padding=1))
                self.body = nn.Sequential(nn.Conv2d(n, n, 3, padding=1))
                up = [nn.Conv2d(n, 9 * n, 3, padding=1), nn.PixelShuffle(3)]
                self.tail = nn.Sequential(nn.Sequential(*up), nn.Conv2d(n, 3, 3, padding=1))

            def forward(self, x):
                x = self.head(self.sub_mean(x))
                res = self.body(x) + x
                return self.add_mean(self.tail(res))

        torch.manual_seed(0)
        return [Example(Edsr().eval(), (torch.randn(2, 3, 5, 5),))]
