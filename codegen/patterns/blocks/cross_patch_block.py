"""ResMLP's block (Touvron et al. 2021: deit's resmlp_models.py `layers_scale_mlp_blocks`, timm's
ResBlock): one Linear across the patches, on the transposed sequence, then an MLP across the
channels, each after a norm, scaled per channel (layer scale) and added back:

    x = x + ls1 * linear(norm1(x).transpose(1, 2)).transpose(1, 2)
    x = x + ls2 * mlp(norm2(x))

Told by its members: two norms of the model width (their order by the numbers in their names),
one square Linear, one MLP and two 1-D layer scales (or none). The Linear mixes the tokens where
its width is not the model width; where the two agree (as many patches as channels), its name may
say so (`token`, `attn`: where attention would be); else which axis it mixes is a choice and the
class says guessed. What ResMLP's code fixes and no key records is pinned: the MLP's GELU, and
its norms' `Affine` (blocks/affine_scale.py) for the whole model.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    convention_pins,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks.affine_scale import PIN, affine_pair
from codegen.patterns.blocks.mixer_block import _numbers, numbered_layer_scales

_WHY = "ResMLP's (Touvron et al. 2021: the official code, timm)"
# A lone Linear named for the token mixing, or for the attention it stands in for.
TOKENS = re.compile(r"token|attn|attention", re.I)
AXES = ["tokens", "channels"]


class CrossPatchBlock(BlockPattern):
    role = "ResMLPBlock"
    priority = 10

    accepts = Accepts(4, 4, families=("linear",), roles=("MLP",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, scales = modules(cls), tensors(cls)
        if len(members) != 4 or len(scales) not in (0, 2):
            return None
        norms = [m for m in members if ctx.role(m) == "norm" or family(m) == "norm"]
        norms.sort(key=lambda m: _numbers(m.attr))
        linears = [m for m in members if family(m) == "linear" and m.kind != "class"]
        mlps = [m for m in members if ctx.role(m) == "MLP"]
        if len(norms) != 2 or len(linears) != 1 or len(mlps) != 1:
            return None
        if _numbers(norms[0].attr) == _numbers(norms[1].attr):
            return None  # which norm comes first: the names must say
        mlp, linear = mlps[0], linears[0]
        if mlp.io is None or linear.io is None or linear.io.in_width != linear.io.out_width:
            return None
        width = mlp.io.in_width
        if any(n.io is not None and n.io.in_width not in (None, width) for n in norms):
            return None
        if scales:
            scales = numbered_layer_scales(scales)
            if scales is None:
                return None
        choices, guessed = [], ""
        if linear.io.in_width == width and not TOKENS.search(linear.attr):
            axis = ctx.choose(cls, linear.attr, "mixes", "tokens", AXES[1:], "ResMLP's")
            choices.append(axis)
            if axis.source == "default":
                guessed = (
                    f"{linear.attr} read as mixing the tokens (ResMLP's); as wide as the "
                    "channels, no key tells it from a Linear over the channels"
                )
            tokens = axis.value == "tokens"
        else:
            tokens = True
        pins = convention_pins(ctx, [], mlps, _WHY, 1e-6, "gelu")
        classes = [ctx.classes.get(n.type_name) for n in norms if n.kind == "class"]
        if any(c is not None and not modules(c) and affine_pair(tensors(c)) for c in classes):
            pins.append(("", PIN, True, f"{_WHY}: its Affine norms, alpha * x + beta"))
        found = (norms[0].attr, linear.attr, norms[1].attr, mlp.attr, [t.attr for t in scales])
        found += (tokens,)
        explains = len(members) + len(scales) + 1
        return Match(self, explains, found, choices, guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        norm1, linear, norm2, mlp, scales, tokens = match.found
        x = g.input("x")  # [batch, tokens, channels]
        y = g.call_module((norm1,), x, inline=True)
        if tokens:
            y = g.call_method("transpose", y, 1, 2, inline=True)
        y = g.call_module((linear,), y, inline=True)
        if tokens:
            y = g.call_method("transpose", y, 1, 2, inline=True)
        if scales:
            y = g.call_function("mul", g.getattr((scales[0],)), y, inline=True)
        comment = "mixing across the tokens" if tokens else "a Linear over the channels"
        x = g.call_function("add", x, y, name="x", comment=comment)
        y = g.call_module((mlp,), g.call_module((norm2,), x, inline=True), inline=True)
        if scales:
            y = g.call_function("mul", g.getattr((scales[1],)), y, inline=True)
        g.output(g.call_function("add", x, y, name="x", comment="mixing across the channels"))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._resmlp_examples import example

        return [example()]
