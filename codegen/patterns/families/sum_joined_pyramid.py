"""An image path beside a feature path, joined by a sum at each scale (the Laplacian pyramid
super-resolution net, LapSRN, Lai et al. 2017; twtygqyy/pytorch-LapSRN `Net`, MS-LapSRN and the
progressive x2 -> x4 -> x8 nets written after it):

    features = act(entry(x))                       # the image's c channels -> nf features
    image = x
    for stage, image_step, head in levels:         # one level per x2
        features = act(stage(features))            # nf -> nf, upsampled inside the stage
        image = image_step(image) + head(features)  # c -> c upsampled; nf -> c: the residual

No name decides it: the widths split the members into an entry (c -> nf), stages keeping nf,
image steps keeping c with an even kernel (an upsampling transposed conv), and heads whose weight
reads nf and gives c; trailing numbers (or the items' indices, where each role is a ModuleList)
pair them into levels. The sum then forces what no key records: both operands have c channels
and one size, so a head named transposed (`convt_R1`) is a plain conv (a transposed conv would
read c and give nf), and the stage must upsample by the image step's factor: its one 4x4 layer
that could be either is the transposed conv. The activations leave no key: LapSRN's leaky ReLU
(slope 0.2) by convention, a flagged choice.
"""

from __future__ import annotations

import re

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
from codegen.patterns._kit import tensors

SUM = (
    "its output is summed with an image step's (c channels, one size): a plain conv from the "
    "features to the image (LapSRN's residual branch)"
)
UPSAMPLES = (
    "the stage's output meets the image step's upsampled image in a sum: its one 4x4 layer "
    "that could be either is the transposed conv upsampling x2 (LapSRN's feature branch)"
)
LAPSRN = "LapSRN's leaky ReLU, slope 0.2 (Lai et al. 2017; twtygqyy/pytorch-LapSRN)"
TRANSPOSED, PLAIN = "nn.ConvTranspose2d", "nn.Conv2d"
STAGES = ("class", "sequential", "repeat")


def kind_choice(m):
    return next((c for c in m.choices if c.name == "module_type"), None)


def _kernel(m):
    return next((a.value for a in m.args if a.keyword == "kernel_size"), None)


def _conv(m) -> bool:
    return m.kind == "builtin" and family(m) == "conv" and m.io.ndim == 2


def _may_be(m, type_name: str) -> bool:
    """The layer is `type_name`, or a module_type choice offers it."""
    choice = kind_choice(m)
    return m.type_name == type_name or (
        choice is not None and type_name in [choice.value, *choice.alternatives]
    )


def _head_widths(m) -> tuple[int, int] | None:
    """(reads, gives) of a head as a plain conv: a Conv2d's widths, or a transposed reading's
    swapped where its kind is a choice (the weight [c, nf, k, k] is either)."""
    if m.type_name == PLAIN:
        return m.io.in_width, m.io.out_width
    if m.type_name == TRANSPOSED and _may_be(m, PLAIN):
        return m.io.out_width, m.io.in_width
    return None


def _level(attr: str) -> int | None:
    found = re.search(r"(\d+)$", attr)
    return int(found.group(1)) if found else None


def leaves(m, ctx: BlockContext, seen: int = 0) -> list:
    """The built-in layers and keyless slots a member applies, through containers and the
    generated classes it holds."""
    if m is None or seen > 8:
        return []
    if m.kind in ("builtin", "placeholder"):
        return [m]
    if m.kind == "class":
        held = ctx.classes.get(m.type_name)
        return [x for c in (modules(held) if held else []) for x in leaves(c, ctx, seen + 1)]
    return [x for c in m.children for x in leaves(c, ctx, seen + 1)]


class SumJoinedPyramid(BlockPattern):
    role = "SuperResolution"
    priority = 10

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        if tensors(cls):
            return None
        units = _units(modules(cls))
        if units is None or len(units) < 4 or (len(units) - 1) % 3:
            return None
        stages = [u for u in units if u[1].kind in STAGES and u[1].io.in_width == u[1].io.out_width]
        if not stages or len({u[1].io.in_width for u in stages}) != 1:
            return None
        width = stages[0][1].io.in_width
        entries = [
            u
            for u in units
            if _conv(u[1])
            and u[1].type_name == PLAIN
            and u[1].io.out_width == width != u[1].io.in_width
        ]
        if len(entries) != 1:
            return None
        entry = entries[0]
        channels = entry[1].io.in_width
        steps, heads = [], []
        for u in units:
            if u is entry or u in stages:
                continue
            m = u[1]
            if not _conv(m):
                return None
            kernel = _kernel(m)
            even = isinstance(kernel, int) and kernel % 2 == 0
            if (m.io.in_width, m.io.out_width) == (channels, channels) and even:
                if not _may_be(m, TRANSPOSED):
                    return None
                steps.append(u)
            elif _head_widths(m) == (width, channels):
                heads.append(u)
            else:
                return None
        if not (len(steps) == len(heads) == len(stages)):
            return None
        levels = _levels(stages, steps, heads)
        if levels is None:
            return None
        pins, unproven = [], []
        for (where, stage, _), step, head in levels:
            for m, want, why in ((head[1], PLAIN, SUM), (step[1], TRANSPOSED, UPSAMPLES)):
                choice = kind_choice(m)
                if m.type_name != want and choice is not None:
                    pins.append((choice.path, "module_type", want, why))
            inner = leaves(stage, ctx)
            upsampling = [m for m in inner if m.kind == "builtin" and _may_be(m, TRANSPOSED)]
            if len(upsampling) != 1:  # none (a pixel shuffle?), or two: which one?
                unproven.append(".".join(where))
            elif upsampling[0].type_name != TRANSPOSED:
                pins.append((kind_choice(upsampling[0]).path, "module_type", TRANSPOSED, UPSAMPLES))
            for slot in inner:
                choice = kind_choice(slot) if slot.kind == "placeholder" else None
                if choice is not None and choice.source == "default":
                    if "nn.LeakyReLU(0.2)" in choice.alternatives:
                        pins.append((choice.path, "module_type", "nn.LeakyReLU(0.2)", LAPSRN))
        pins = list(dict.fromkeys(pins))  # a list's identical items share their choices
        activation = ctx.choose(
            cls,
            entry[0][0],
            "activation",
            "leaky_relu",
            act.alternatives("leaky_relu", conv=True),
            f"after the entry conv and each stage ({LAPSRN})",
        )
        note = "the activations leave no tensor: " + LAPSRN
        if unproven:
            note += f"; what upsamples inside {', '.join(unproven)} is not proven"
        found = (entry[0], [(s[0], i[0], h[0]) for s, i, h in levels])
        return Match(self, len(units), found, [activation], guessed=note, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        entry, levels = match.found
        activation = match.choices[0].value
        x = g.input("x")
        features = act.apply(g, activation, g.call_module(entry, x, inline=True), name="features")
        image = x
        for stage, step, head in levels:
            out = g.call_module(stage, features, inline=True)
            features = act.apply(g, activation, out, name="features")
            upsampled = g.call_module(step, image, inline=True)
            residual = g.call_module(head, features, inline=True)
            image = g.call_function("add", upsampled, residual, name="image")
        g.output(image)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Stage(nn.Module):  # convs and leaky ReLUs, then a 4x4 transposed conv upsampling
            def __init__(self, nf: int) -> None:
                super().__init__()
                self.body = nn.Sequential(
                    nn.Conv2d(nf, nf, 3, 1, 1),
                    nn.LeakyReLU(0.2, True),
                    nn.ConvTranspose2d(nf, nf, 4, 2, 1),
                    nn.LeakyReLU(0.2, True),
                )

            def forward(self, x):
                return self.body(x)

        class Net(nn.Module):  # a progressive x4 net on RGB, its branches named by role
            def __init__(self, nf: int = 6) -> None:
                super().__init__()
                self.head = nn.Conv2d(3, nf, 3, 1, 1)
                self.feature1, self.feature2 = Stage(nf), Stage(nf)
                self.upsample1 = nn.ConvTranspose2d(3, 3, 4, 2, 1, bias=False)
                self.upsample2 = nn.ConvTranspose2d(3, 3, 4, 2, 1, bias=False)
                self.residual1 = nn.Conv2d(nf, 3, 3, 1, 1, bias=False)
                self.residual2 = nn.Conv2d(nf, 3, 3, 1, 1, bias=False)

            def forward(self, x):
                f = nn.functional.leaky_relu(self.head(x), 0.2)
                f = self.feature1(f)
                x = self.upsample1(x) + self.residual1(f)
                f = self.feature2(f)
                return self.upsample2(x) + self.residual2(f)

        torch.manual_seed(0)
        return [Example(Net().eval(), (torch.randn(2, 3, 5, 5),))]


def _units(members: list) -> list | None:
    """(path, module, level) for each layer or stage the net applies: a member, or each item of
    a ModuleList (a repeat of identical items: its one template, by index), its level the
    trailing number of its name or its index; None where a member has no widths."""
    units = []
    for m in members:
        if m.kind in ("modulelist", "repeat"):
            items = m.children if m.kind == "modulelist" else m.children[:1] * (m.copies or 0)
            if not items or any(c.io is None for c in items):
                return None
            units += [((m.attr, str(i)), c, i) for i, c in enumerate(items)]
        elif m.io is None:
            return None
        else:
            units.append(((m.attr,), m, _level(m.attr)))
    return units


def _levels(stages, steps, heads) -> list | None:
    """(stage, image step, head) units per level, paired by their level numbers and ordered by
    them; one level needs none."""
    if len(stages) == 1:
        return [(stages[0], steps[0], heads[0])]
    by = []
    for group in (stages, steps, heads):
        numbered = {u[2]: u for u in group}
        if None in numbered or len(numbered) != len(group):
            return None
        by.append(numbered)
    if not by[0].keys() == by[1].keys() == by[2].keys():
        return None
    return [(by[0][k], by[1][k], by[2][k]) for k in sorted(by[0])]
