"""Branches that each pool the input to a small grid, resized back and concatenated WITH the input:
the pyramid pooling module of PSPNet (Zhao et al. 2017; hszhao/semseg's `PPM`, mmseg's `PPM` in
its PSPHead, Lextal/pspnet-pytorch's `PSPModule`):

    outs = [x]                                   # the input first (hszhao, mmseg) or last (Lextal)
    for bin, branch in zip((1, 2, 3, 6), features):
        pooled = act(branch(x))                  # AdaptiveAvgPool2d(bin), 1x1 conv (norm)
        outs.append(interpolate(pooled, size=x.shape[2:], mode="bilinear"))
    return cat(outs, 1)                          # (Lextal: a bottleneck conv over it, then ReLU)

Every branch opens with a slot holding no tensors before a 1x1 conv: each pools (a 1x1 conv cannot
bring a map to a different size; the concatenation needs every map at the input's size, so each
pooled map is resized back). The widths prove the input joins: whoever reads the pyramid (its
bottleneck here, or the class after it: `_class_io` gives this class the width C + k * r) reads the
input's C channels beside the k branches' r. Where the input goes in the concatenation, the grid
sizes, the resize's corner alignment and the activation after each branch leave no key: choices, at
the authors' PSPNet (bins 1, 2, 3, 6, the input first, corners aligned), that calibration can move.
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
    family,
    modules,
)
from codegen.patterns._kit import tensors
from codegen.patterns.blocks.atrous_pyramid import _convs, _pooled

ROLE = "PyramidPooling"
WHY = "PSPNet's pyramid pooling (Zhao et al. 2017; hszhao/semseg model/pspnet.py PPM)"
BINS = {4: ["1,2,3,6", "1,2,4,8", "1,3,6,8", "1,2,3,4"]}


def pooled_branches(m) -> tuple[int, int, int] | None:
    """(count, width read, width given) of a ModuleList of two or more branches that each pool
    the input (`atrous_pyramid._pooled`: a slot, then a 1x1 conv) and give one width; else None."""
    # (a Sequential where the branches keep the width: the keys cannot tell the two containers
    # apart, and only the consumer's width says they run side by side)
    if m.kind not in ("modulelist", "sequential") or len(m.children) < 2:
        return None
    items = m.children
    if not all(_pooled(b) and b.io is not None for b in items):
        return None
    reads = {b.io.in_width for b in items}
    gives = {b.io.out_width for b in items}
    if len(reads) != 1 or len(gives) != 1 or None in reads | gives:
        return None
    return len(items), reads.pop(), gives.pop()


def pyramid_io(modules_: list) -> tuple[int, int] | None:
    """(width read, width given) of a class holding one list of pooled branches: the input
    concatenated with each branch's resized map (what PSPNet's PPM gives its `cls` head), or,
    where a second member reads exactly that width, what that bottleneck gives."""
    lists = [m for m in modules_ if pooled_branches(m) is not None]
    if len(lists) != 1 or len(modules_) > 2:
        return None
    count, width, each = pooled_branches(lists[0])
    joined = width + count * each
    if len(modules_) == 1:
        return width, joined
    bottleneck = next(m for m in modules_ if m is not lists[0])
    if bottleneck.io is None or bottleneck.io.in_width != joined or not bottleneck.io.out_width:
        return None
    return width, bottleneck.io.out_width


def _ends_in_norm(branch) -> bool:
    real = [c for c in branch.children if c.kind != "placeholder"]
    return bool(real) and family(real[-1]) == "norm" and branch.children[-1] is real[-1]


class PyramidPooling(BlockPattern):
    role = ROLE
    priority = 9  # proven by the consumer's width: rather than any chain

    accepts = Accepts(1, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) not in (1, 2):
            return None
        lists = [m for m in members if pooled_branches(m) is not None]
        if len(lists) != 1:
            return None
        branches = lists[0]
        count, width, each = pooled_branches(branches)
        bottleneck = next((m for m in members if m is not branches), None)
        if bottleneck is not None:
            if bottleneck.io is None or bottleneck.io.in_width != width + count * each:
                return None  # the input's width beside the branches': what proves the join
            if not _convs(bottleneck):
                return None
        options = BINS.get(count, [",".join(str(2**i) for i in range(count))])
        bins = ctx.choose(cls, branches.attr, "bins", options[0], options[1:], "each branch's grid")
        normed = all(_ends_in_norm(b) for b in branches.children)
        activation = ctx.choose(
            cls,
            branches.attr,
            "activation",
            "relu" if normed else "identity",
            act.alternatives("relu" if normed else "identity", conv=True),
            "closing each branch (PSPNet's conv-BN-ReLU; none after a bare conv)",
        )
        position = ctx.choose(
            cls,
            branches.attr,
            "input_position",
            "first",
            ["last"],
            "where the input goes in the concatenation (hszhao's and mmseg's first)",
        )
        corners = ctx.choose(
            cls, branches.attr, "align_corners", True, [False], "the resize back (hszhao's)"
        )
        choices = [bins, activation, position, corners]
        closing = None
        if bottleneck is not None and bottleneck.kind == "builtin":
            closing = ctx.choose(
                cls,
                bottleneck.attr,
                "activation",
                "relu",
                act.alternatives("relu", conv=True),
                "after the bottleneck conv (Lextal's pspnet-pytorch ReLU)",
            )
            choices.append(closing)
        guessed = [c.name for c in choices if c.source == "default"]
        note = ""
        if guessed:
            note = f"no key records {', '.join(guessed)} (PSPNet's pyramid pooling by convention)"
        sizes = [int(b) for b in str(bins.value).split(",")]
        pins = []
        if len(sizes) == count:
            for path, _ in cls.instances:
                for branch, size in zip(branches.children, sizes):
                    slot = branch.children[0]
                    at = ".".join(p for p in (path, branches.attr, branch.attr, slot.attr) if p)
                    pins.append((at, "module_type", f"nn.AdaptiveAvgPool2d({size})", WHY))
        found = (branches.attr, count, bottleneck.attr if bottleneck is not None else None)
        return Match(self, len(members), found, choices, guessed=note, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        branches, count, bottleneck = match.found
        activation, position, corners = (c.value for c in match.choices[1:4])
        x = g.input("x")
        size = g.call_method("size", x, inline=True)
        hw = g.call_function("getitem", size, Slice(2, None), name="size")
        outs = []
        for i in range(count):
            out = g.call_module((branches, str(i)), x, inline=True)
            out = act.apply(g, activation, out, inline=True)
            kwargs = {"mode": "bilinear", "align_corners": corners}
            outs.append(g.call_function("interpolate", out, hw, kwargs=kwargs, name=f"pooled{i}"))
        outs = [x] + outs if position == "first" else outs + [x]
        out = g.call_function("cat", outs, 1, name="out", comment="the input beside its pyramid")
        if bottleneck is not None:
            out = g.call_module((bottleneck,), out, name="out")
            if len(match.choices) > 4:
                out = act.apply(g, match.choices[4].value, out, name="out")
        g.output(out)

    @staticmethod
    def examples():
        return [_bottleneck_example()]


def _bottleneck_example() -> Example:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class PSPModule(nn.Module):  # Lextal/pspnet-pytorch's layout, hszhao's order and resize
        def __init__(self, features: int = 8, out_features: int = 6, sizes=(1, 2, 3, 6)) -> None:
            super().__init__()
            self.stages = nn.ModuleList(
                [
                    nn.Sequential(
                        nn.AdaptiveAvgPool2d(size), nn.Conv2d(features, features, 1, bias=False)
                    )
                    for size in sizes
                ]
            )
            self.bottleneck = nn.Conv2d(features * (len(sizes) + 1), out_features, 1)

        def forward(self, feats):
            h, w = feats.size(2), feats.size(3)
            priors = [
                F.interpolate(stage(feats), size=(h, w), mode="bilinear", align_corners=True)
                for stage in self.stages
            ]
            return F.relu(self.bottleneck(torch.cat([feats] + priors, 1)))

    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.psp = PSPModule()
            self.score = nn.Conv2d(6, 3, 1)

        def forward(self, x):
            return self.score(self.psp(x))

    torch.manual_seed(0)
    return Example(Head().eval(), (torch.randn(2, 8, 16, 16),))
