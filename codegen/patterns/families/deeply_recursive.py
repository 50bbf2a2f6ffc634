"""A deeply-recursive conv net (DRCN, Kim et al. 2016): an embedding from the image to a width, ONE
width-keeping layer applied D times with the same weights, a reconstruction read after EVERY
recursion, and the D predictions averaged by learned weights:

    h = relu(embedding(x))
    for d in range(D):  h = relu(inference(h));  y[d] = reconstruction(h) + x
    return sum(w[d] * y[d]) / sum(w)

The keys prove the recursion where a 1-d parameter of D entries sits beside exactly three parts: the
one reading the image's channels, the one keeping a width (a single conv, or a Sequential of them),
the one giving the image's channels back. One weight per recursion is what the parameter's length
records; the shared layer and the reconstruction read at each step are what the widths allow and
the weights need (a D-way combination of maps of the image's width). The activations past each
part's last key, the input added to each prediction (DRCN's skip) and the division by the weights'
sum leave no tensor: choices, at the paper's layout, flagged, that calibration can move.
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
    family,
    modules,
)
from codegen.patterns._kit import size_value, tensors
from codegen.patterns.blocks.padded_resnet_block import slot_pin

WHY = "DRCN's ReLU after each conv of the embedding and inference nets (Kim et al. 2016)"
MAX_RECURSIONS = 64  # unrolled in the forward: one line group per recursion


def _convs_only(m) -> bool:
    """A 2-d conv, or a Sequential of 2-d convs and tensor-free slots (its activations)."""
    if m.kind == "builtin":
        return family(m) == "conv" and m.io is not None and m.io.ndim == 2
    if m.kind != "sequential":
        return False
    return any(c.kind != "placeholder" for c in m.children) and all(
        c.kind == "placeholder" or _convs_only(c) for c in m.children
    )


def _widths(m) -> tuple | None:
    io = m.io
    if io is None or not io.in_width or not io.out_width:
        return None
    return io.in_width, io.out_width


def _slots(m) -> list:
    return [c for c in m.children if c.kind == "placeholder"] if m.kind == "sequential" else []


class DeeplyRecursive(BlockPattern):
    role = "SuperResolution"
    priority = 5

    accepts = Accepts(3, 3, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params, members = tensors(cls), modules(cls)
        if len(params) != 1 or len(members) != 3 or not all(map(_convs_only, members)):
            return None
        shape = params[0].shape
        count = size_value(cls, shape[0]) if len(shape) == 1 else None
        if count is None or not 2 <= count <= MAX_RECURSIONS:
            return None
        widths = [_widths(m) for m in members]
        if None in widths:
            return None
        kept = [m for m, (a, b) in zip(members, widths) if a == b]
        if len(kept) != 1:
            return None
        width = kept[0].io.in_width
        ends = [m for m in members if m is not kept[0]]
        entry = [m for m in ends if m.io.out_width == width and m.io.in_width < width]
        exit_ = [m for m in ends if m.io.in_width == width and m.io.out_width < width]
        if len(entry) != 1 or len(exit_) != 1 or entry[0] is exit_[0]:
            return None
        entry, unit, exit_ = entry[0], kept[0], exit_[0]
        if entry.io.in_width != exit_.io.out_width:
            return None  # the predictions are images of the input's channels
        activation = ctx.choose(
            cls,
            unit.attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after the embedding and each recursion (DRCN's ReLU, past their last keys)",
        )
        skip = ctx.choose(
            cls,
            exit_.attr,
            "residual",
            "add",
            ["none"],
            "the input added to each recursion's prediction (DRCN's skip connection)",
        )
        average = ctx.choose(
            cls,
            params[0].attr,
            "normalization",
            "sum",
            ["none", "softmax"],
            "the weighted predictions divided by the weights' sum (a weighted average)",
        )
        choices = [activation, skip, average]
        guessed = [c.name for c in choices if c.source == "default"]
        note = ""
        if guessed:
            note = (
                "a recursive net's activations, skip and averaging leave no tensor (DRCN's "
                f"layout by convention): the choices {', '.join(guessed)}"
            )
        module = act.MODULES.get(activation.value)
        pins = []
        if module is not None:  # the slots between the parts' convs are their activations
            for m in members:
                pins += [pin for slot in _slots(m) if (pin := slot_pin(slot, module, WHY))]
        found = (entry.attr, unit.attr, exit_.attr, params[0].attr, count)
        return Match(self, len(cls.members), found, choices, guessed=note, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        entry, unit, exit_, weights, count = match.found
        activation, skip, average = (c.value for c in match.choices)
        x = g.input("x")
        h = g.call_module((entry,), x, inline=True)
        h = act.apply(g, activation, h, name="h")
        w = g.getattr((weights,), name="weights", inline=False)
        if average == "softmax":
            w = g.call_function("softmax", w, 0, name="weights")
        out = None
        for d in range(count):  # one shared layer: the same weights at every recursion
            h = g.call_module((unit,), h, inline=True)
            h = act.apply(g, activation, h, name="h", comment=f"recursion {d + 1}")
            y = g.call_module((exit_,), h, inline=True)
            if skip == "add":
                y = g.call_function("add", y, x, inline=True)
            step = g.call_function("getitem", w, d, inline=True)
            y = g.call_function("mul", y, step, inline=out is not None, name="out")
            out = y if out is None else g.call_function("add", out, y, name="out")
        if average == "sum":
            total = g.call_method("sum", w, inline=True)
            out = g.call_function("truediv", out, total, name="out", comment="a weighted average")
        g.output(out)

    @staticmethod
    def examples():
        return [_flat_example()]


def _flat_example() -> Example:
    import torch
    import torch.nn as nn

    class RecursiveNet(nn.Module):  # the parts as bare convs, other names
        def __init__(self, channels: int = 3, width: int = 8, depth: int = 3) -> None:
            super().__init__()
            self.depth = depth
            self.embed = nn.Conv2d(channels, width, 3, padding=1)
            self.recursive_conv = nn.Conv2d(width, width, 3, padding=1)
            self.reconstruct = nn.Conv2d(width, channels, 3, padding=1)
            self.recursion_weights = nn.Parameter(torch.rand(depth) + 0.5)

        def forward(self, x):
            h = torch.relu(self.embed(x))
            out = 0
            for d in range(self.depth):
                h = torch.relu(self.recursive_conv(h))
                out = out + self.recursion_weights[d] * (self.reconstruct(h) + x)
            return out / self.recursion_weights.sum()

    torch.manual_seed(0)
    return Example(RecursiveNet().eval(), (torch.randn(2, 3, 6, 6),))
