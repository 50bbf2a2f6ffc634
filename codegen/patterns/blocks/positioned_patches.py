"""A pyramid stage's patch embedding with learned positions (PVT v1): a conv cutting the map into
non-overlapping patches, a LayerNorm over their channels, then a position table added per stage
(and, in the stage that has one, a class token put in front first):

    x = norm(conv(x).permute(0, 2, 3, 1))             # [batch, height, width, C]
    x = x + table.reshape(1, height, width, C)        # a map: the stages without a class token
    x = [cls; x.flatten(1, 2)] + table                # tokens [batch, 1 + height * width, C]

The keys do not say whether the table is added before or after the norm: a choice, settled for
the families tests compare (config.json's model_type), a default that says so for any other. The
table is added as it is: an image of another size than the one trained is not resized (the
library interpolates it), and the reshape then fails rather than compute something else.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    tensors,
)
from codegen.patterns.families.encoder import CLASS_TOKEN

ORDERS = ["norm_then_positions", "positions_then_norm"]


def _patch_conv(m) -> bool:
    """A 2-d conv whose kernel is its stride and that pads nothing: non-overlapping patches."""
    if m is None or family(m) != "conv" or m.io is None or m.io.ndim != 2:
        return False
    args = {a.keyword: a.value for a in m.args}
    kernel, stride = args.get("kernel_size"), args.get("stride", 1)
    if kernel in (None, 1, (1, 1)) or kernel != stride or args.get("groups", 1) != 1:
        return False
    return args.get("padding", 0) in (0, (0, 0))


class PositionedPatchEmbedding(BlockPattern):
    role = "PositionedPatchEmbedding"
    priority = 25  # over TokenSequence's chain, which reads the norm after the table

    accepts = Accepts(2, 2)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        if len(members) != 2 or not 1 <= len(params) <= 2:
            return None
        convs = [m for m in members if _patch_conv(m)]
        norms = [m for m in members if m.type_name == "nn.LayerNorm" and m.io is not None]
        if len(convs) != 1 or len(norms) != 1 or norms[0].io.in_width != convs[0].io.out_width:
            return None
        token = [
            t
            for t in params
            if re.fullmatch(CLASS_TOKEN, t.attr)
            and len(t.shape) == 3
            and tuple(t.shape[:2]) == (1, 1)
        ]
        tables = [t for t in params if t not in token and len(t.shape) == 3 and t.shape[0] == 1]
        if len(tables) != 1 or len(token) + 1 != len(params):
            return None
        if token and tables[0].shape[1] < 2:
            return None
        order = ctx.choose(
            cls,
            tables[0].attr,
            "positions_order",
            ORDERS[0],
            ORDERS[1:],
            "whether the position table is added after the patches' norm or before it",
        )
        found = (convs[0].attr, norms[0].attr, tables[0].attr, token[0].attr if token else None)
        return Match(self, len(cls.members) + 2, (*found, order.value))

    def forward(self, match: Match, g: Graph) -> None:
        conv, norm, table, token, order = match.found
        x = g.call_module((conv,), g.input("x"), inline=True)
        x = g.call_method("permute", x, 0, 2, 3, 1, name="x", comment="[batch, height, width, C]")
        if order == ORDERS[0]:
            x = g.call_module((norm,), x, name="x")
        if token is None:
            height = g.call_method("size", x, 1, inline=True)
            width = g.call_method("size", x, 2, inline=True)
            rows = g.call_method("reshape", g.getattr((table,)), 1, height, width, -1, inline=True)
            x = g.call_function("add", x, rows, name="x", comment="the table as a map")
        else:
            x = g.call_method("flatten", x, 1, 2, inline=True)
            batch = g.call_method("size", x, 0, inline=True)
            front = g.call_method("expand", g.getattr((token,)), batch, -1, -1, inline=True)
            x = g.call_function("cat", (front, x), kwargs={"dim": 1}, comment="class token first")
            x = g.call_function("add", x, g.getattr((table,)), name="x")
        if order != ORDERS[0]:
            x = g.call_module((norm,), x, name="x")
        g.output(x, comment="[batch, height, width, C]" if token is None else "[batch, 1 + n, C]")

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._pyramid_examples import modules

        Patches = modules()["PositionedPatches"]
        config = {"model_type": "pvt"}
        return [
            Example(Patches(3, 8, 4, 16, False), (torch.randn(2, 3, 16, 16),), config),
            Example(Patches(8, 16, 2, 4, True), (torch.randn(2, 8, 4, 4),), config),
        ]
