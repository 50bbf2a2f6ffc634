"""A pyramid vision transformer whose stages embed non-overlapping patches with learned position
tables, the last stage with a class token in front (PVT v1, Wang et al. 2021): two lists, the
stages' embeddings (blocks/positioned_patches.py) and their layer stacks (pre-norm
spatial-reduction attention and a plain feed-forward, blocks/pyramid_layer.py), then one norm:

    x = pixel_values                                   # [batch, 3, height, width]
    for embed, layers, nhead in zip(embeddings, stacks, heads):   # heads: config.json's list
        x = embed(x)                                   # a map [batch, h, w, C]
        x = layers(x, nhead)                           #   (or tokens [batch, 1 + h * w, C])
        x = x.permute(0, 3, 1, 2)                      # channels-first for the next stage
    return norm(x)                                     # the last stage's tokens

The class-token stage's tokens run through its layers as a one-row map ([batch, 1, 1 + h * w,
C]): its attention must then not shrink the map for its keys (a reduction conv there would
need the patches apart from the token; the library cannot run that either), else the forward
is missing and says so.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Match, family, modules, tensors
from codegen.patterns.blocks.pyramid_layer import layer_stack
from codegen.patterns.blocks.swin_embeddings import images, in_channels
from codegen.patterns.families.encoder import CLASS_TOKEN
from codegen.patterns.families.pyramid_vision import SHOWN, _heads, _items

EMBED = "PositionedPatchEmbedding"


def _has_conv(ctx: BlockContext, m, depth: int = 6) -> bool:
    """Whether `m` or anything it holds is a conv (a reduction conv in a layer's attention)."""
    if m is None or depth == 0:
        return False
    if family(m) == "conv":
        return True
    if m.kind == "class":
        held = ctx.classes.get(m.type_name)
        return held is not None and any(_has_conv(ctx, c, depth - 1) for c in modules(held))
    return any(_has_conv(ctx, c, depth - 1) for c in (m.children or []))


class TokenPyramidEncoder(BlockPattern):
    role = "TokenPyramidEncoder"
    priority = 30

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        lists = {m.attr: _items(m) for m in members}
        embed = [
            m for m in members if lists[m.attr] and all(ctx.role(c) == EMBED for c in lists[m.attr])
        ]
        stacks = [
            m for m in members if lists[m.attr] and all(layer_stack(ctx, c) for c in lists[m.attr])
        ]
        norms = [m for m in members if family(m) == "norm"]
        if len(embed) != 1 or len(stacks) != 1 or len(norms) != 1:
            return None
        embeddings, layers = lists[embed[0].attr], lists[stacks[0].attr]
        if len(embeddings) != len(layers):
            return None
        tokens = [self._token_stage(ctx, e) for e in embeddings]
        if any(tokens[:-1]):
            return None  # a class token before the last stage: not this layout
        for key in SHOWN + ("patch_sizes", "strides"):
            ctx.resolver.evidence(key)
        heads = _heads(ctx, len(layers))
        missing = ""
        if heads is None:
            missing = (
                "each stage's head count: the weights do not record it (config.json's "
                "num_attention_heads, one per stage)"
            )
        elif tokens[-1] and _has_conv(ctx, layers[-1]):
            missing = "a stage with a class token whose attention shrinks the map for its keys"
        attrs = (
            [c.attr for c in embeddings],
            [c.attr for c in layers],
        )
        found = (embed[0].attr, stacks[0].attr, norms[0].attr, attrs, heads, tokens[-1])
        found += (in_channels(cls, ctx),)
        return Match(self, len(members) + 3, found, missing=missing)

    @staticmethod
    def _token_stage(ctx: BlockContext, m) -> bool:
        """Whether a stage's embedding puts a class token in front."""
        held = ctx.classes.get(m.type_name)
        found = tensors(held) if held is not None else []
        return any(re.fullmatch(CLASS_TOKEN, t.attr) for t in found)

    def example_inputs(self, match: Match, cls) -> list:
        return images(match.found[-1])

    def forward(self, match: Match, g: Graph) -> None:
        embed, stacks, norm, attrs, (heads, cited), token_last, _ = match.found
        x = g.input("pixel_values")
        last = len(heads) - 1
        for i, nhead in enumerate(heads):
            x = g.call_module((embed, attrs[0][i]), x, name="x")
            if i == last and token_last:
                x = g.call_method("unsqueeze", x, 1, name="x", comment="the tokens as one row")
            comment = f"each stage's heads: {cited}" if i == 0 else ""
            x = g.call_module(
                (stacks, attrs[1][i]), x, g.constant(nhead), each=True, name="x", comment=comment
            )
            if i < last:
                x = g.call_method("permute", x, 0, 3, 1, 2, name="x", comment="[batch, C, h, w]")
        x = g.call_method("flatten", x, 1, 2, name="x", comment="[batch, tokens, C]")
        g.output(g.call_module((norm,), x), comment="[batch, tokens, C]: the last hidden state")
