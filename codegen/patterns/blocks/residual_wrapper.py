"""A residual wrapper: a class whose one member is the function it wraps, named `fn` (or `m`), which
maps a width to itself and whose input is added back, `fn(x) + x` (the `Residual(fn)` of the
ConvMixer paper's listing, Trockman & Kolter 2022, and of lucidrains' vit-pytorch and its kin;
LeViT's `Residual(m)`). The name is the only evidence (the same repositories' `Scale(fn)`
multiplies instead), so the forward says it is guessed and the residual is a choice, `add` by the
wrapper's convention.

Where the wrapped Sequential is ConvMixer's depthwise step, [depthwise conv, a slot without
tensors, BatchNorm] (an activation before the norm, the paper's order everywhere), the model is
ConvMixer, whose code fixes GELU in every activation slot: a model-wide pin (Match.pins, path
""), read where structure.py fills a slot after a layer.
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
from codegen.patterns._kit import tensors
from codegen.patterns.blocks._conv_parts import is_depthwise
from codegen.patterns.blocks._vision_examples import _randomise_norms

# The wrapped member's name, and the code that writes it so
WRAPPED = {"fn": "ConvMixer's and lucidrains' Residual(fn)", "m": "LeViT's Residual(m)"}
CONVMIXER = "ConvMixer's convention (Trockman & Kolter 2022, the paper's listing): GELU"


def one_input_class(m, ctx: BlockContext) -> bool:
    """A generated class whose forward takes one tensor and returns one."""
    inner = ctx.classes.get(m.type_name) if m.kind == "class" else None
    graph = inner.forward.graph if inner is not None else None
    return graph is not None and len(graph.inputs) == 1 and graph.returns == "torch.Tensor"


def convmixer_step(m) -> bool:
    """[depthwise conv, slot, BatchNorm] of one width: ConvMixer's spatial mixing step."""
    items = m.children if m.kind == "sequential" else []
    if len(items) != 3 or items[1].kind != "placeholder":
        return False
    conv, norm = items[0], items[2]
    if family(conv) != "conv" or "BatchNorm" not in norm.type_name or conv.io is None:
        return False
    return is_depthwise(conv)


class ResidualWrapper(BlockPattern):
    role = "Residual"
    priority = 5

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or members[0].attr not in WRAPPED:
            return None
        fn = members[0]
        if fn.kind not in ("sequential", "class"):
            return None
        keeps_width = fn.io is not None and fn.io.in_width and fn.io.in_width == fn.io.out_width
        # a class of one tensor in and out passes too: an attention's widths may not span
        if not keeps_width and not (fn.kind == "class" and one_input_class(fn, ctx)):
            return None
        residual = ctx.choose(
            cls,
            fn.attr,
            "residual",
            True,
            [False],
            f"{fn.attr}(x) + x: the wrapper's convention (ConvMixer's and lucidrains' Residual)",
        )
        pins = []
        if convmixer_step(fn):
            pins.append(("", "slot_activation", "gelu", CONVMIXER))
        guessed = ""
        if residual.source == "default":
            guessed = (
                f"a residual around {fn.attr}, read from the wrapper's name alone "
                f"({WRAPPED[fn.attr]}): the sum leaves no key"
            )
        found = (fn.attr, residual.value)
        return Match(self, 1, found, [residual], guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        attr, adds = match.found
        x = g.input("x")
        out = g.call_module((attr,), x, inline=adds)
        g.output(g.call_function("add", out, x, name="x") if adds else out)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._lucid_examples import modules

        z = modules()  # lucidrains' Residual around a PreNorm'd attention: no width is keyed
        lucid = Example(z["residual_pre_norm"](8, 1, 16, False), z["image"](8, 4))
        return [_convmixer(), _prenorm_residual(), lucid]


class _Residual:  # the wrapper as the ConvMixer paper and vit-pytorch write it
    @staticmethod
    def make(fn):
        import torch.nn as nn

        class Residual(nn.Module):
            def __init__(self, fn: nn.Module) -> None:
                super().__init__()
                self.fn = fn

            def forward(self, x):
                return self.fn(x) + x

        return Residual(fn)


def _convmixer() -> Example:
    """ConvMixer (the paper's listing) with a 5x5 depthwise kernel: every slot a GELU."""
    import torch
    import torch.nn as nn

    dim = 8
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, dim, 2, 2),
        nn.GELU(),
        nn.BatchNorm2d(dim),
        *[
            nn.Sequential(
                _Residual.make(
                    nn.Sequential(
                        nn.Conv2d(dim, dim, 5, groups=dim, padding="same"),
                        nn.GELU(),
                        nn.BatchNorm2d(dim),
                    )
                ),
                nn.Conv2d(dim, dim, 1),
                nn.GELU(),
                nn.BatchNorm2d(dim),
            )
            for _ in range(2)
        ],
    )
    _randomise_norms(model)
    return Example(model, (torch.randn(2, 3, 12, 12),))


def _prenorm_residual() -> Example:
    """vit-pytorch's pattern elsewhere: a Residual around a class (a LayerNorm and an MLP)."""
    import torch
    import torch.nn as nn

    class PreNormMLP(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.norm = nn.LayerNorm(dim)
            self.fc1 = nn.Linear(dim, 2 * dim)
            self.fc2 = nn.Linear(2 * dim, dim)

        def forward(self, x):
            return self.fc2(torch.relu(self.fc1(self.norm(x))))

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.Sequential(
                _Residual.make(PreNormMLP(8)), _Residual.make(PreNormMLP(8))
            )

        def forward(self, x):
            return self.layers(x)

    torch.manual_seed(0)
    return Example(Holder(), (torch.randn(2, 5, 8),))
