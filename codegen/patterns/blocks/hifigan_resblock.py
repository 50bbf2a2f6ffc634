"""HiFi-GAN's residual blocks (Kong et al. 2020; jik876/hifi-gan models.py, and the ports that
keep its names: transformers' HifiGanResidualBlock, Coqui TTS, NeMo): lists of 1-d convs keeping
the width, item i of each list one residual step.

    ResBlock1 (`convs1`, `convs2`):  for c1, c2 in zip(convs1, convs2):
                                         x = c2(lrelu(c1(lrelu(x)))) + x
    ResBlock2 (`convs`):             for c in convs: x = c(lrelu(x)) + x

No key records the dilations: the code fixes ResBlock1's at (1, 3, 5) for `convs1` (1 for
`convs2`) and ResBlock2's at (1, 3), each conv padded to keep the length; pinned on the convs as
that convention (the forward says guessed), as is LRELU_SLOPE, 0.1, a choice.
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
from codegen.patterns._kit import tensors

# jik876/hifi-gan: ResBlock1(dilation=(1, 3, 5)), ResBlock2(dilation=(1, 3)).
DILATIONS = {("convs1", "convs2"): (1, 3, 5), ("convs",): (1, 3)}
WHY = "HiFi-GAN's residual blocks (jik876/hifi-gan): dilations {}"
GUESS = (
    "the dilations and the LeakyReLU slope leave no keys: HiFi-GAN's (1, 3, 5) / (1, 3) and 0.1 "
    "by convention"
)


def list_items(m) -> list:
    """A list member's items (identical copies, analysed once, repeated), else []."""
    if m.kind == "repeat" and m.children:
        return [m.children[0]] * (m.copies or 0)
    return list(m.children) if m.kind in ("modulelist", "sequential") else []


def conv_items(m) -> list | None:
    """The 1-d convs of a list member (identical copies or not), each keeping one width."""
    items = list_items(m)
    if not items or any(c.kind != "builtin" or family(c) != "conv" for c in items):
        return None
    if any(c.io is None or c.io.ndim != 1 or c.io.in_width != c.io.out_width for c in items):
        return None
    return items if len({c.io.in_width for c in items}) == 1 else None


class HifiGanResBlock(BlockPattern):
    role = "ResBlock"
    priority = 5

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        names = tuple(sorted(m.attr for m in members))
        dilations = DILATIONS.get(names)
        if dilations is None:
            return None
        lists = [conv_items(m) for m in members]
        if any(items is None or len(items) != len(dilations) for items in lists):
            return None
        if len({items[0].io.in_width for items in lists}) != 1:
            return None
        slope = ctx.choose(
            cls,
            members[0].attr,
            "activation",
            "leaky_relu_0.1",
            act.alternatives("leaky_relu_0.1", conv=True),
            "before each conv (HiFi-GAN's LRELU_SLOPE)",
        )
        pins = [
            (f"{path}.{names[0]}.{i}" if path else f"{names[0]}.{i}", "dilation", d, WHY)
            for path, _ in cls.instances
            for i, d in enumerate(dilations)
        ]
        pins = [(p, n, d, w.format(dilations)) for p, n, d, w in pins if d != 1]
        return Match(self, len(members), names, [slope], guessed=GUESS, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        names = match.found
        slope = match.choices[0].value
        body = Graph()
        x = body.input("x")
        h = x
        step = {name: name.replace("convs", "conv") for name in names}  # convs1 -> conv1
        for name in names:
            h = act.apply(body, slope, h, inline=True)
            h = body.call_module((step[name],), h, inline=name != names[-1])
        body.output(body.call_function("add", h, x))
        items = tuple((step[name], (name,)) for name in names)
        g.output(g.loop(items, body, g.input("x"), comment="a residual step per dilation"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        def same(k: int, d: int) -> int:
            return (k * d - d) // 2

        class ResBlock1(nn.Module):  # jik876/hifi-gan models.py, weight norm removed
            def __init__(self, c: int = 4, k: int = 3, dilation=(1, 3, 5)) -> None:
                super().__init__()
                self.convs1 = nn.ModuleList(
                    nn.Conv1d(c, c, k, 1, dilation=d, padding=same(k, d)) for d in dilation
                )
                self.convs2 = nn.ModuleList(
                    nn.Conv1d(c, c, k, 1, dilation=1, padding=same(k, 1)) for _ in dilation
                )

            def forward(self, x):
                for c1, c2 in zip(self.convs1, self.convs2):
                    xt = c1(F.leaky_relu(x, 0.1))
                    x = c2(F.leaky_relu(xt, 0.1)) + x
                return x

        class ResBlock2(nn.Module):  # jik876/hifi-gan models.py ResBlock2
            def __init__(self, c: int = 3, k: int = 5, dilation=(1, 3)) -> None:
                super().__init__()
                self.convs = nn.ModuleList(
                    nn.Conv1d(c, c, k, 1, dilation=d, padding=same(k, d)) for d in dilation
                )

            def forward(self, x):
                for c in self.convs:
                    x = c(F.leaky_relu(x, 0.1)) + x
                return x

        torch.manual_seed(0)
        return [
            Example(ResBlock1().eval(), (torch.randn(2, 4, 11),)),
            Example(ResBlock2().eval(), (torch.randn(2, 3, 13),)),
        ]
