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

from codegen.ir.graph import Graph, Slice
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
)
from codegen.patterns._kit import stack, tensors
from codegen.patterns.blocks.pyramid_layer import ATTENTION, layer_stack
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


def _reduces(ctx: BlockContext, layers) -> bool:
    """Whether any layer of a stack has an attention holding a conv (one that shrinks the map)."""
    items = [stack(layers)[0]] if stack(layers) is not None else list(layers.children or [])
    for item in items:
        held = ctx.classes.get(item.type_name) if item.kind == "class" else None
        if held is None:
            return True
        if any(_has_conv(ctx, m) for m in modules(held) if ctx.role(m) in ATTENTION):
            return True
    return False


class TokenPyramidEncoder(BlockPattern):
    role = "TokenPyramidEncoder"
    priority = 30

    accepts = Accepts(3, 3, tensors=False)

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
        elif tokens[-1] and _reduces(ctx, layers[-1]):
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

    @staticmethod
    def examples():
        import torch

        return [Example(_tiny_pvt()[0], (torch.randn(2, 3, 16, 16),), CONFIG)]


def _token_body(ctx: BlockContext, m, depth: int = 3) -> bool:
    """Whether `m` is a token pyramid encoder whose last stage has a class token, or a class that
    holds only one (Hugging Face's `PvtModel` around its `encoder`)."""
    if m is None or m.kind != "class" or depth == 0:
        return False
    held = ctx.classes.get(m.type_name)
    if held is None or held.forward is None or held.forward.graph is None:
        return False
    if ctx.role(m) == "TokenPyramidEncoder":
        return any(
            n.op == "call_method" and n.target == "unsqueeze" for n in held.forward.graph.nodes
        )
    inner = modules(held)
    return not tensors(held) and len(inner) == 1 and _token_body(ctx, inner[0], depth - 1)


class TokenPyramidClassifier(BlockPattern):
    """An image classifier on a PVT v1 body (PvtForImageClassification): a linear head on the
    class token the last stage put in front."""

    role = "TokenPyramidClassifier"
    priority = 20

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        body = [m for m in members if _token_body(ctx, m)]
        if len(body) != 1:
            return None
        head = next(m for m in members if m is not body[0])
        if family(head) != "linear":
            return None
        return Match(self, 3, (body[0].attr, head.attr))

    def forward(self, match: Match, g: Graph) -> None:
        body, head = match.found
        x = g.call_module((body,), g.input("pixel_values"), name="x")
        x = g.call_function("getitem", x, (Slice(), 0), name="pooled", comment="the class token")
        g.output(g.call_module((head,), x), comment="[batch, num_labels]")

    @staticmethod
    def examples():
        import torch

        return [Example(_tiny_pvt()[1], (torch.randn(2, 3, 16, 16),), CONFIG)]


CONFIG = {
    "hidden_act": "gelu",
    "num_attention_heads": [1, 2],
    "sequence_reduction_ratios": [2, 1],
    "model_type": "pvt",
}


def _tiny_pvt() -> tuple:
    """(an encoder, a classifier on it) written as PVT v1 writes them: two stages, the second
    with a class token and no reduction; heads 1 and 2 (CONFIG)."""
    import torch
    import torch.nn as nn

    from codegen.patterns.blocks._pyramid_examples import modules as zoo

    split = zoo()["SplitAttention"]

    Patches = zoo()["PositionedPatches"]

    class FeedForward(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.dense1 = nn.Linear(dim, 2 * dim)
            self.dense2 = nn.Linear(2 * dim, dim)

        def forward(self, x):
            return self.dense2(nn.functional.gelu(self.dense1(x)))

    class Layer(nn.Module):
        def __init__(self, dim: int, ratio: int) -> None:
            super().__init__()
            self.layer_norm_1 = nn.LayerNorm(dim)
            self.attention = split(dim, ratio)
            self.layer_norm_2 = nn.LayerNorm(dim)
            self.mlp = FeedForward(dim)

        def forward(self, x, nhead: int):
            x = x + self.attention(self.layer_norm_1(x), nhead)
            return x + self.mlp(self.layer_norm_2(x))

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.patch_embeddings = nn.ModuleList(
                [Patches(3, 8, 4, 16, False), Patches(8, 16, 2, 4, True)]
            )
            self.block = nn.ModuleList(
                [nn.ModuleList([Layer(8, 2)]), nn.ModuleList([Layer(16, 1)])]
            )
            self.layer_norm = nn.LayerNorm(16)

        def forward(self, x):
            for i, (embed, layers) in enumerate(zip(self.patch_embeddings, self.block)):
                x = embed(x)
                if i == 1:
                    x = x.unsqueeze(1)  # the class-token stage: tokens as one row
                for layer in layers:
                    x = layer(x, i + 1)
                if i == 0:
                    x = x.permute(0, 3, 1, 2)
            return self.layer_norm(x.flatten(1, 2))

    class Classifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = Encoder()
            self.classifier = nn.Linear(16, 5)

        def forward(self, x):
            return self.classifier(self.encoder(x)[:, 0])

    torch.manual_seed(0)
    return Encoder(), Classifier()
