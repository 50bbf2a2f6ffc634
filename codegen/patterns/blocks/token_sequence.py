"""Tokens from a front layer, a class token prepended and a position table added (ViT): `cls_token`
[1, 1, D] and `pos_embed` [1, L, D] beside the layers; the rest is a chain over the tokens.

Where a norm follows the front layer directly, the keys do not say on which side of it the table
is added: CLIP normalises the positioned tokens (`ln_pre`), PVT positions the normalised patches.
That is a named choice (`positions_order`, as positioned_patches.py spells it), not a silent pick.
"""

from __future__ import annotations

from codegen.ir.graph import Graph, Slice
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
from codegen.patterns.blocks.positioned_patches import ORDERS

# Where a norm follows the patches directly and no table is added: the class token goes in front
# of the normalised tokens (the norm sees it too), or of the patches after their norm.
TOKEN_ORDERS = ["token_then_norm", "norm_then_token"]
from codegen.patterns.blocks.chain import (
    FIRST,
    Flow,
    _produced_by_other,
    dataflow_order,
    emit,
    plan,
)


class TokenSequence(BlockPattern):
    role = "VisionTransformer"

    accepts = Accepts(1, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, found = modules(cls), tensors(cls)
        if not members or not found or len(found) > 2:
            return None
        token = next((t for t in found if len(t.shape) == 3 and tuple(t.shape[:2]) == (1, 1)), None)
        table = next(
            (t for t in found if t is not token and len(t.shape) == 3 and t.shape[0] == 1), None
        )
        if (token is None and table is None) or len(found) != (token is not None) + (
            table is not None
        ):
            return None
        # The front layer makes the tokens: its input is not produced by any other layer here.
        fronts = [
            m
            for m in members
            if family(m) in ("conv", "linear") and not _produced_by_other(m, members)
        ]
        if len(fronts) != 1:
            fronts = [m for m in members if FIRST.search(m.attr)]
        if len(fronts) != 1:
            return None
        front = fronts[0]
        d = front.io.out_width
        widths = [t.shape[-1] for t in found if isinstance(t.shape[-1], int)]  # not lifted
        if any(w != d for w in widths):  # tokens of another width than the front layer makes
            return None
        # A head reads the class token; with none, the mean of patches an image gave (a conv
        # front or a patch embedding: GFNet, timm's global_pool "avg", as the chain reads them).
        patches = family(front) == "conv" or ctx.role(front) == "PatchEmbedding"
        pool = "first" if token is not None else "mean" if patches else "none"
        flow = Flow(width=d, sequence=True, pool_default=pool)
        rest = dataflow_order([m for m in members if m is not front], d)
        if rest is None:
            return None
        walked = plan(cls, ctx, rest, flow)
        if walked is None:
            return None
        steps, choices = walked
        attrs = (
            front.attr,
            family(front),
            token.attr if token else None,
            table.attr if table else None,
        )
        # how many leading steps run before the table is added (0: it is added to the tokens)
        normed_first, guessed = 0, ""
        first = steps[0] if steps else None
        if table is not None and len(rest) > 1 and family(rest[0]) == "norm":
            if first is not None and first[0] == "module" and first[1] == rest[0].attr:
                order = ctx.choose(
                    cls,
                    table.attr,
                    "positions_order",
                    ORDERS[1],
                    [ORDERS[0]],
                    f"whether {table.attr} is added before {rest[0].attr} (CLIP) or after it (PVT)",
                )
                choices.append(order)
                normed_first = int(order.value == ORDERS[0])
                if order.source == "default":
                    guessed = (
                        f"{table.attr} added before {rest[0].attr} is a guess (positions_order)"
                    )
        # ... and, with no table, on which side of that norm the class token goes in front
        # (a timm ViT's final `norm` after its tokens; a patch embedding's own norm before).
        before_token = 0
        if token is not None and table is None and len(rest) > 1 and family(rest[0]) == "norm":
            if first is not None and first[0] == "module" and first[1] == rest[0].attr:
                order = ctx.choose(
                    cls,
                    token.attr,
                    "token_order",
                    TOKEN_ORDERS[0],
                    TOKEN_ORDERS[1:],
                    f"whether {token.attr} goes in front before {rest[0].attr} or after it",
                )
                choices.append(order)
                before_token = int(order.value == TOKEN_ORDERS[1])
                if order.source == "default":
                    guessed = f"{token.attr} put in front before {rest[0].attr} is a guess"
                    guessed += " (token_order)"
        found = (attrs, steps, max(normed_first, before_token), before_token)
        return Match(self, len(cls.members), found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        (front, kind, token, table), steps, normed_first, before_token = match.found
        x = g.input("x")
        x = g.call_module((front,), x)
        if kind == "conv":
            flat = g.call_method("flatten", x, 2, inline=True)
            x = g.call_method(
                "transpose", flat, 1, 2, comment="patches as a sequence: [batch, patches, d_model]"
            )
        if before_token:  # the patches' norm, then the class token in front
            x = emit(g, steps[:1], x)
            steps, normed_first = steps[1:], 0
        if token is not None:
            batch = g.call_method("size", x, 0, inline=True)
            expanded = g.call_method("expand", g.getattr((token,)), batch, -1, -1, inline=True)
            x = g.call_function(
                "cat", [expanded, x], kwargs={"dim": 1}, comment="class token first"
            )
        x = emit(g, steps[:normed_first], x)
        steps = steps[normed_first:]
        if table is not None:
            length = g.call_method("size", x, 1, inline=True)
            rows = g.call_function(
                "getitem", g.getattr((table,)), (Slice(), Slice(None, length)), inline=True
            )
            x = g.call_function("add", x, rows)
        g.output(emit(g, steps, x))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class TinyViT(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.patch_embed = nn.Conv2d(3, 16, 4, stride=4)
                self.cls_token = nn.Parameter(torch.randn(1, 1, 16))
                self.pos_embed = nn.Parameter(torch.randn(1, 5, 16))
                self.ln = nn.LayerNorm(16)  # CLIP-style name (a plain "norm" is a LayerNorm too)
                self.head = nn.Linear(16, 10)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                x = self.patch_embed(x).flatten(2).transpose(1, 2)
                x = torch.cat([self.cls_token.expand(x.size(0), -1, -1), x], dim=1)
                x = self.ln(x + self.pos_embed[:, : x.size(1)])
                return self.head(x[:, 0])

        return [Example(TinyViT(), (torch.randn(2, 3, 8, 8),))]
