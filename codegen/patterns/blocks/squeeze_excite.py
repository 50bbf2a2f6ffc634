"""Squeeze-and-excitation: pool each channel, reduce, activate, expand, gate, rescale the input.

`x * gate(expand(act(reduce(mean(x)))))`, with 1x1 convolutions or Linear layers for reduce and
expand. Which is which comes from the shapes (reduce: C -> r, expand: r -> C), never key order.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph, Slice
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family, modules

SE_NAME = re.compile(r"squeeze|excit|^se|reduce|expand|^fc\d", re.I)


class SqueezeExcite(BlockPattern):
    role = "SqueezeExcite"
    priority = 10  # two layers that widen back: an SE gate rather than a plain chain

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        prefix: tuple[str, ...] = ()
        if len(members) == 1 and len(cls.members) == 1 and members[0].kind == "sequential":
            # Hugging Face's RegNet: `attention = Sequential(conv, act, conv, gate)` beside a pool.
            prefix = (members[0].attr,)
            members = [c for c in members[0].children if c.kind != "placeholder"]
        elif len(members) != 2 or len(cls.members) != 2:
            return None
        if len(members) != 2:
            return None
        kinds = {family(m) for m in members}
        if kinds not in ({"conv"}, {"linear"}) or any(m.kind != "builtin" for m in members):
            return None
        if kinds == {"conv"} and any(_kernel(m) != 1 for m in members):
            return None
        if kinds == {"linear"} and (prefix or not all(SE_NAME.search(m.attr) for m in members)):
            return None  # Linear C -> r -> C is also an autoencoder: only SE names say gate
        a, b = members
        reduce, expand = (a, b) if a.io.out_width < a.io.in_width else (b, a)
        if _numbered_after(reduce.attr, expand.attr):
            return None  # `fc1` widens, `fc2` narrows back: an MLP (PoolFormer's), not a gate
        channels, squeezed = reduce.io.in_width, reduce.io.out_width
        if not squeezed < channels or (expand.io.in_width, expand.io.out_width) != (
            squeezed,
            channels,
        ):
            return None
        default, why = act.family_default(ctx.resolver, "relu")  # EfficientNet's: SiLU
        activation = act.mark_family(
            ctx.choose(
                cls,
                reduce.attr,
                "activation",
                default,
                act.alternatives(default, told=ctx.resolver),
                "after the reduction",
                aliases=act.ALIASES,
            ),
            why,
        )
        gate = ctx.choose(
            cls, expand.attr, "gate", "sigmoid", act.alternatives("sigmoid", gates=True)
        )
        conv = kinds == {"conv"}
        choices = [activation, gate]
        if conv:
            # IMDN's contrast-aware channel attention (CCALayer) squeezes each channel to its
            # mean plus its standard deviation; no tensor shows which (its IMDModule pins it)
            choices.append(
                ctx.choose(
                    cls,
                    reduce.attr,
                    "squeeze",
                    "mean",
                    ["mean_plus_std"],
                    "what each channel is pooled to (IMDN's CCA: mean plus std)",
                )
            )
        found = (prefix + (reduce.attr,), prefix + (expand.attr,), conv)
        guessed = ""
        if conv and choices[-1].source == "structure":
            guessed = (
                "the contrast term leaves no tensor (IMDN's CCA by convention): the choice squeeze"
            )
        return Match(self, 2, found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        reduce, expand, conv = match.found
        activation, gate = (c.value for c in match.choices[:2])
        x = g.input("x")
        s = g.call_method(
            "mean", x, (2, 3), name="scale", kwargs={"keepdim": conv}, comment="squeeze: [batch, C]"
        )
        if len(match.choices) > 2 and match.choices[2].value == "mean_plus_std":
            std = g.call_method(
                "std", x, (2, 3), kwargs={"unbiased": False, "keepdim": True}, inline=True
            )
            s = g.call_function("add", std, s, name="scale", comment="contrast: std plus mean")
        s = g.call_module(reduce, s, name="scale", inline=True)
        s = act.apply(g, activation, s, name="scale")
        s = act.apply(g, gate, g.call_module(expand, s, inline=True), name="scale")
        if not conv:
            s = g.call_function("getitem", s, (Slice(), Slice(), None, None), inline=True)
        g.output(g.call_function("mul", x, s))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class ConvSE(nn.Module):  # timm / torchvision style: 1x1 convolutions, ReLU, sigmoid
            def __init__(self) -> None:
                super().__init__()
                self.fc1 = nn.Conv2d(16, 4, 1)
                self.fc2 = nn.Conv2d(4, 16, 1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                s = x.mean((2, 3), keepdim=True)
                return x * torch.sigmoid(self.fc2(F.relu(self.fc1(s))))

        class LinearSE(nn.Module):  # the paper's form: Linear layers on the pooled vector
            def __init__(self) -> None:
                super().__init__()
                self.excite = nn.Linear(2, 8)  # registered first: the shapes decide the order
                self.squeeze = nn.Linear(8, 2)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                s = torch.sigmoid(self.excite(F.relu(self.squeeze(x.mean((2, 3))))))
                return x * s[:, :, None, None]

        class SequentialSE(nn.Module):  # transformers' RegNetSELayer
            def __init__(self) -> None:
                super().__init__()
                self.pooler = nn.AdaptiveAvgPool2d((1, 1))
                self.attention = nn.Sequential(
                    nn.Conv2d(16, 4, 1), nn.ReLU(), nn.Conv2d(4, 16, 1), nn.Sigmoid()
                )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x * self.attention(self.pooler(x))

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.se = SequentialSE()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.se(x)

        x = torch.randn(2, 16, 5, 5)
        return [
            Example(ConvSE(), (x,)),
            Example(LinearSE(), (torch.randn(2, 8, 5, 5),)),
            Example(Holder(), (x,)),
        ]


def gate_width(m, ctx: BlockContext) -> int | None:
    """The channels a squeeze-excitation member rescales: what its reducing layer reads (the
    analysis sets a class's input width from its forward, not from the span of its members)."""
    return m.io.in_width if m.io is not None else None


def _kernel(m) -> int | None:
    k = next((a.value for a in m.args if a.keyword == "kernel_size"), None)
    return k if isinstance(k, int) else None


def _numbered_after(a: str, b: str) -> bool:
    """Whether `a` is numbered after `b` in one series of names (`fc2` after `fc1`)."""
    found_a, found_b = re.fullmatch(r"(\D*?)_?(\d+)", a), re.fullmatch(r"(\D*?)_?(\d+)", b)
    if not found_a or not found_b or found_a.group(1) != found_b.group(1):
        return False
    return int(found_a.group(2)) > int(found_b.group(2))
