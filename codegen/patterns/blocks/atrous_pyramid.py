"""Parallel branches of one width whose consumer reads them all, one of them a pooled map resized
back (issue 16): DeepLabV3's atrous spatial pyramid pooling (Chen et al. 2017; torchvision's
`ASPP`, VainF/DeepLabV3Plus-Pytorch's, a ModuleList `convs` and a `project`):

    outs = [branch(x) for branch in convs[:-1]]          # 1x1, then 3x3 convs dilated 6, 12, 18
    pooled = act(convs[-1](x))                           # global average pool, 1x1 conv, norm
    outs.append(interpolate(pooled, size=x.shape[-2:], mode="bilinear"))
    return project(cat(outs, 1))

The widths prove the concatenation where the branches give equal widths (which a sum could join
too): the consumer reads k times a branch's width. A branch whose Sequential opens with a slot
holding no tensors before a 1x1 conv pools: the concatenation needs every map at the input's size,
so it is the image-level pooling resized back (DeepLab's convention, a choice). The spatial
branches' dilations leave no key: DeepLabV3's rates (6, 12, 18 at output stride 16) are the
default, a choice calibration can move, as is the activation closing the pooled branch.
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
from codegen.patterns._kit import resize_like, tensors

ROLE = "AtrousPyramid"
POOL = "nn.AdaptiveAvgPool2d(1)"
WHY = "DeepLabV3's ASPP (Chen et al. 2017; torchvision deeplabv3.py): image pooling, rates"
RATES = {3: ["6,12,18", "12,24,36", "1,1,1"]}  # output stride 16, 8; undilated


def _convs(m) -> list:
    if m.kind == "sequential":
        return [c for c in m.children if c.kind == "builtin" and family(c) == "conv"]
    return [m] if m.kind == "builtin" and family(m) == "conv" else []


def _kernel(conv) -> int:
    k = next((a.value for a in conv.args if a.keyword == "kernel_size"), 1)
    return k[0] if isinstance(k, (tuple, list)) else k


def _pooled(m) -> bool:
    """A Sequential opening with a slot (no tensors) before a 1x1 conv."""
    return (
        m.kind == "sequential"
        and len(m.children) >= 2
        and m.children[0].kind == "placeholder"
        and bool(_convs(m))
        and m.children[1] is _convs(m)[0]
        and _kernel(_convs(m)[0]) == 1
    )


class AtrousPyramid(BlockPattern):
    role = ROLE
    priority = 9  # proven by the consumer's width: rather than any chain

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2 or any(m.io is None for m in members):
            return None
        lists = [m for m in members if m.kind == "modulelist" and len(m.children) >= 2]
        if len(lists) != 1:
            return None
        branches, project = lists[0], next(m for m in members if m is not lists[0])
        items = branches.children
        if any(b.io is None or not _convs(b) for b in items):
            return None
        reads = {b.io.in_width for b in items}
        gives = {b.io.out_width for b in items}
        if len(reads) != 1 or len(gives) != 1 or None in reads | gives:
            return None
        if project.io.in_width != len(items) * gives.pop() or not _convs(project):
            return None
        pooled = [i for i, b in enumerate(items) if _pooled(b)]
        if len(pooled) > 1 or (len(items) < 3 and not pooled):
            return None  # two branches of one width: a pooled one proves them side by side
        spatial = [i for i, b in enumerate(items) if i not in pooled and _kernel(_convs(b)[0]) > 1]
        choices, pins = [], []
        rates = None
        if spatial:
            options = RATES.get(len(spatial), [",".join(["1"] * len(spatial))])
            rates = ctx.choose(
                cls, branches.attr, "atrous_rates", options[0], options[1:], "each 3x3 branch's"
            )
            if rates.source == "default":
                rates.note = WHY
            choices.append(rates)
            values = [int(r) for r in str(rates.value).split(",")]
            for path, _ in cls.instances:
                for i, d in zip(spatial, values):
                    conv = _convs(items[i])[0]
                    where = [path, branches.attr, items[i].attr]
                    if items[i].kind == "sequential":
                        where.append(conv.attr)
                    if d != 1:
                        pins.append((".".join(p for p in where if p), "dilation", d, WHY))
        activation = None
        if pooled:
            activation = ctx.choose(
                cls,
                branches.attr,
                "activation",
                "relu",
                act.alternatives("relu", conv=True),
                "closing the pooled branch (DeepLab's ReLU after its norm)",
            )
            choices.append(activation)
            slot = items[pooled[0]].children[0]
            for path, _ in cls.instances:
                at = ".".join(
                    p for p in (path, branches.attr, items[pooled[0]].attr, slot.attr) if p
                )
                pins.append((at, "module_type", POOL, WHY))
        guessed = [c.name for c in choices if c.source == "default"]
        note = ""
        if guessed:
            note = f"no key records {', '.join(guessed)} (DeepLabV3's ASPP by convention)"
        found = (branches.attr, len(items), pooled[0] if pooled else None, project.attr)
        return Match(self, len(members), found, choices, guessed=note, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        branches, count, pooled, project = match.found
        activation = match.choices[-1].value if pooled is not None else None
        x = g.input("x")
        outs = []
        for i in range(count):
            if i != pooled:
                outs.append(g.call_module((branches, str(i)), x, name=f"branch{i}"))
                continue
            out = g.call_module((branches, str(i)), x, inline=True)
            out = act.apply(g, activation, out, name="pooled", comment="[batch, C, 1, 1]")
            outs.append(resize_like(g, out, x, name="pooled", comment="back to the input's size"))
        out = g.call_function("cat", outs, 1, inline=True)
        g.output(g.call_module((project,), out))

    @staticmethod
    def examples():
        return [_torchvision_example()]


def _torchvision_example() -> Example:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    def cbr(c_in, c_out, k=1, d=1):
        return [
            nn.Conv2d(c_in, c_out, k, padding=d if k == 3 else 0, dilation=d, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
        ]

    class Pooling(nn.Sequential):  # torchvision.models.segmentation.deeplabv3.ASPPPooling
        def __init__(self, c_in, c_out) -> None:
            super().__init__(nn.AdaptiveAvgPool2d(1), *cbr(c_in, c_out))

        def forward(self, x):
            size = x.shape[-2:]
            for mod in self:
                x = mod(x)
            return F.interpolate(x, size=size, mode="bilinear", align_corners=False)

    class ASPP(nn.Module):  # torchvision's, rates 6, 12, 18
        def __init__(self, c_in: int = 8, c: int = 4) -> None:
            super().__init__()
            convs = [nn.Sequential(*cbr(c_in, c))]
            convs += [nn.Sequential(*cbr(c_in, c, 3, r)) for r in (6, 12, 18)]
            convs.append(Pooling(c_in, c))
            self.convs = nn.ModuleList(convs)
            self.project = nn.Sequential(*cbr(5 * c, c), nn.Dropout(0.5))

        def forward(self, x):
            return self.project(torch.cat([conv(x) for conv in self.convs], dim=1))

    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.aspp = ASPP()
            self.classifier = nn.Conv2d(4, 3, 1)

        def forward(self, x):
            return self.classifier(self.aspp(x))

    torch.manual_seed(0)
    model = Head().eval()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
    return Example(model, (torch.randn(2, 8, 9, 9),))
