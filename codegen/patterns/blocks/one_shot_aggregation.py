"""VoVNet's one-shot aggregation block (Lee et al. 2019; VoVNetV2, Lee and Park 2020; timm's
OsaBlock, CenterMask's `_OSA_module`): a list of 3x3 conv-norm-activation units applied in turn,
then the block's input and every unit's output concatenated once, mixed by a 1x1 unit:

    outs = [x]; for unit in conv_mid: outs.append(unit(outs[-1]))
    y = concat(cat(outs, 1)); y = y * hardsigmoid(attn.fc(mean(y)))  (eSE, where present)
    y + x  (VoVNetV2, where the widths allow)

Recognised from widths: the 1x1 unit reads the input's width plus every unit's. VoVNetV2's
effective squeeze-excitation (one 1x1 conv with a bias, a hard sigmoid) and its identity mapping
come together: a block with the eSE adds its input where the widths match; one without does not
in timm's V1 but does in stigma0617's official code (from a stage's second block on), so there
the block says guessed. Both are a choice. The activation (ReLU in both papers' code) is a choice.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks._conv_parts import arg, call_unit, unit


def _effective_se(m, ctx: BlockContext) -> tuple[str, ...] | None:
    """The path of an eSE's one conv: a class holding only a biased 1x1 conv keeping the width."""
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    inner = modules(cls) if cls is not None and not tensors(cls) else []
    if len(inner) != 1 or inner[0].kind != "builtin" or family(inner[0]) != "conv":
        return None
    conv = inner[0]
    if arg(conv, "kernel_size") not in (1, (1, 1)) or arg(conv, "bias", True) is False:
        return None
    if conv.io is None or conv.io.in_width != conv.io.out_width or arg(conv, "groups", 1) != 1:
        return None
    return (m.attr, conv.attr)


class OneShotAggregation(BlockPattern):
    role = "OsaBlock"
    priority = 12

    accepts = Accepts(2, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not 2 <= len(members) <= 3:
            return None
        lists = [m for m in members if m.kind in ("sequential", "modulelist")]
        if len(lists) != 1 or not lists[0].children:
            return None
        mids = [unit(c, ctx, (lists[0].attr,)) for c in lists[0].children]
        if any(u is None or u.norm is None for u in mids):
            return None
        for a, b in zip(mids, mids[1:]):
            if b.in_width != a.out_width:
                return None
        rest = [m for m in members if m is not lists[0]]
        concat = [(m, u) for m in rest if (u := unit(m, ctx)) is not None and u.norm is not None]
        if len(concat) != 1:
            return None
        mix, u_mix = concat[0]
        if u_mix.kernel not in (1, (1, 1)):
            return None
        c_in = mids[0].in_width
        if u_mix.in_width != c_in + sum(u.out_width for u in mids):
            return None
        others = [m for m in rest if m is not mix]
        attn = None
        if others:
            attn = _effective_se(others[0], ctx)
            if attn is None:
                return None
        activation = ctx.choose(
            cls,
            lists[0].attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "inside each conv-norm unit (ReLU in VoVNet's code)",
        )
        choices = [activation]
        residual = "none"
        guessed = ""
        if c_in == u_mix.out_width:
            # VoVNetV2 adds the identity mapping with the eSE (timm's `residual`, from the second
            # block of a stage on, where the widths match); V1 has neither
            default = "add" if attn else "none"
            c = ctx.choose(
                cls,
                mix.attr,
                "residual",
                default,
                ["none" if attn else "add"],
                "the block's input added to its output (VoVNetV2)",
            )
            choices.append(c)
            residual = c.value
            if attn is None and c.source == "default":
                # V1's two codes differ: timm's vovnet39a adds nothing, stigma0617's official
                # VoVNet (and CenterMask's) adds the input from a stage's second block on
                guessed = (
                    "whether the block adds its input back leaves no key (VoVNetV1: none in "
                    "timm's, added in stigma0617's and CenterMask's code): the choice residual"
                )
        found = (mids, u_mix, attn, residual)
        return Match(self, len(members) + len(mids) + 1, found, choices, guessed=guessed)

    def concatenated(self, match: Match) -> tuple[tuple[str, ...], bool]:
        """What it gives: the 1x1 unit's width (analyze reads it there, not in key order)."""
        return (match.found[1].conv[0],), False

    def forward(self, match: Match, g: Graph) -> None:
        mids, mix, attn, residual = match.found
        activation = match.choices[0].value

        def apply(u, x, name: str):
            return call_unit(g, u, x, activation, name)

        x = g.input("x")
        outs, y = [x], x
        for i, u in enumerate(mids):
            y = apply(u, y, f"y{i + 1}")
            outs.append(y)
        joined = g.call_function("cat", outs, 1, name="y", inline=True, comment="aggregated once")
        y = apply(mix, joined, "y")
        if attn is not None:
            s = g.call_method("mean", y, (2, 3), kwargs={"keepdim": True}, inline=True)
            s = g.call_module(attn, s, name="scale", inline=True)
            s = act.apply(g, "hardsigmoid", s, name="scale", comment="effective squeeze-excitation")
            y = g.call_function("mul", y, s, name="y", inline=residual != "add")
        if residual == "add":
            y = g.call_function("add", y, x, name="y", inline=True)
        g.output(y)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._split_examples import osa_examples

        return osa_examples()
