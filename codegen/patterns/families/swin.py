"""Swin Transformer assemblies: patch embedding -> stages of window-attention blocks with patch
merging between them -> final norm, on channels-last maps [batch, height, width, channels].

- `SwinEncoder`: a class holding only the stages, applied in turn (Hugging Face's `encoder`).
- `SwinBackbone`: embeddings, encoder and final norm (Hugging Face's `SwinModel`; Donut's has no
  final norm): returns the tokens [batch, height * width, channels], its `last_hidden_state`.
- `SwinClassifier`: a backbone and a Linear on the average of its tokens (the model's pooler).
- `SwinTransformer`: the official code's and timm's single class: `patch_embed`, `layers`,
  `norm`, `head` (a Linear, or a class holding one): logits from the average over the map.
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
)
from codegen.patterns.blocks.sublayer import as_module_list
from codegen.patterns.blocks.swin_embeddings import (
    POSITIONS,
    images,
    in_channels,
    patch_conv,
    patch_grid,
)

CONTAINERS = ("sequential", "modulelist", "repeat")
# The patch embedding's norm after a conv: the keys cannot tell a LayerNorm over channels-last
# patches (Swin's) from a GroupNorm, and the layer pattern took the GroupNorm.
EMBED_NORM = (
    "the type of {0}.{1}: Swin normalises its patches with a LayerNorm, which the checkpoint "
    "cannot tell from the GroupNorm assumed (pin module_type nn.LayerNorm with --hints)"
)


def _stages(m, ctx: BlockContext) -> bool:
    return (
        m.kind in CONTAINERS
        and bool(m.children)
        and all(ctx.role(c) == "SwinStage" for c in m.children)
    )


def _apply_stages(g: Graph, path: str, x, staged: bool = False):
    """The stages in turn; each told its place where its blocks' windows depend on it (Swin V2
    built at config.json's size: swin_block.py)."""
    return g.call_module((path,), x, each=True, each_index=staged, name="x")


def _staged(m, ctx: BlockContext) -> bool:
    return ctx.takes(m.children[0], "stage")


def _consume_config(ctx: BlockContext) -> None:
    """config.json's sizes the keys show (stage depths, heads, width): read, so the file says it
    used them; the patterns take each from the shapes it is recorded in."""
    ctx.resolver.evidence("depths")
    ctx.resolver.evidence("num_heads")
    ctx.resolver.evidence("embed_dim")


class SwinEncoder(BlockPattern):
    role = "SwinEncoder"
    priority = 30

    accepts = Accepts(1, 1)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if len(members) != 1 or len(cls.members) != 1 or not _stages(members[0], ctx):
            return None
        as_module_list(members[0])
        return Match(self, 2, (members[0].attr, _staged(members[0], ctx)))

    def forward(self, match: Match, g: Graph) -> None:
        stages, staged = match.found
        g.output(_apply_stages(g, stages, g.input("x"), staged))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._swin_examples import transformers_layout

        return [transformers_layout()]


class SwinBackbone(BlockPattern):
    role = "SwinBackbone"
    priority = 30
    accepts = Accepts(2, 3, tensors=False, roles=("SwinEmbeddings", "SwinEncoder"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        embeddings = [m for m in members if ctx.role(m) == "SwinEmbeddings"]
        encoder = [m for m in members if ctx.role(m) == "SwinEncoder"]
        norms = [m for m in members if family(m) == "norm"]
        if len(members) != len(cls.members) or len(members) != 2 + len(norms):
            return None
        if len(embeddings) != 1 or len(encoder) != 1 or len(norms) > 1:
            return None
        _consume_config(ctx)
        norm = norms[0].attr if norms else None
        found = (embeddings[0].attr, encoder[0].attr, norm, in_channels(cls, ctx))
        return Match(self, 2 + len(members), found)

    def example_inputs(self, match: Match, cls) -> list:
        return images(match.found[-1])

    def forward(self, match: Match, g: Graph) -> None:
        embeddings, encoder, norm, _ = match.found
        x = g.call_module((embeddings,), g.input("pixel_values"), name="x")
        x = g.call_module((encoder,), x, name="x", comment="[batch, height, width, channels]")
        if norm is not None:
            x = g.call_module((norm,), x, inline=True)
        g.output(g.call_method("flatten", x, 1, 2), comment="[batch, height * width, channels]")

    @staticmethod
    def examples():
        from codegen.patterns.blocks._swin_examples import transformers_layout

        return [transformers_layout()]


class SwinClassifier(BlockPattern):
    role = "SwinClassifier"
    priority = 30

    accepts = Accepts(2, 2)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        backbone = [m for m in members if ctx.role(m) == "SwinBackbone"]
        head = [m for m in members if family(m) == "linear"]
        if len(members) != 2 or len(cls.members) != 2 or len(backbone) != 1 or len(head) != 1:
            return None
        return Match(self, 3, (backbone[0].attr, head[0].attr, in_channels(cls, ctx, 5)))

    def example_inputs(self, match: Match, cls) -> list:
        return images(match.found[-1])

    def forward(self, match: Match, g: Graph) -> None:
        backbone, head, _ = match.found
        x = g.call_module((backbone,), g.input("pixel_values"), inline=True)
        x = g.call_method("mean", x, 1, name="x", comment="the average token")
        g.output(g.call_module((head,), x))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._swin_examples import transformers_layout

        return [transformers_layout()]


class SwinTransformer(BlockPattern):
    role = "SwinTransformer"
    priority = 30
    accepts = Accepts(2, 4, names=("patch_embed",), families=("norm",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        stages = [m for m in members if _stages(m, ctx)]
        embed = [m for m in members if m.kind == "class" and m.attr == "patch_embed"]
        norms = [m for m in members if family(m) == "norm"]
        rest = [m for m in members if m not in stages + embed + norms]
        if len(stages) != 1 or len(embed) != 1 or len(norms) != 1 or len(rest) != 1:
            return None
        held = ctx.classes.get(embed[0].type_name)
        found = patch_conv(held, ctx) if held is not None else None
        if found is None:
            return None
        head = _head(rest[0], ctx)
        positions = [t for t in cls.members if t not in members]
        if head is None or len(positions) > 1:
            return None
        if positions and not re.fullmatch(POSITIONS, positions[0].attr):
            return None
        explains = len(cls.members) + 1
        if found[2] is not None:
            embed_norm = next(m for m in modules(held) if m.attr == found[2])
            if embed_norm.type_name != "nn.LayerNorm":
                return Match(self, explains, missing=EMBED_NORM.format(embed[0].attr, found[2]))
        _consume_config(ctx)
        as_module_list(stages[0])
        conv = (embed[0].attr, *found[0])
        norm = (embed[0].attr, found[2]) if found[2] else None
        pos = positions[0].attr if positions else None
        found = (conv, found[1], norm, pos, stages[0].attr, norms[0].attr, head)
        return Match(self, explains, found + (_staged(stages[0], ctx), in_channels(cls, ctx)))

    def example_inputs(self, match: Match, cls) -> list:
        return images(match.found[-1])

    def forward(self, match: Match, g: Graph) -> None:
        conv, patch, embed_norm, pos, stages, norm, head, staged, _ = match.found
        x = patch_grid(g, g.input("pixel_values"), conv, patch, embed_norm)
        if pos is not None:
            table = g.getattr((pos,))
            height = g.call_method("size", x, 1, inline=True)
            width = g.call_method("size", x, 2, inline=True)
            table = g.call_method("view", table, 1, height, width, -1, inline=True)
            x = g.call_function("add", x, table, name="x")
        x = _apply_stages(g, stages, x, staged)
        x = g.call_module((norm,), x, inline=True)
        x = g.call_method("mean", x, (1, 2), name="x", comment="average over the map")
        g.output(g.call_module(head, x))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._swin_examples import official_layout

        # Without the patch norm, whose type needs a hint (EMBED_NORM; tests/test_swin.py)
        return [official_layout(late_merge=True), official_layout(late_merge=False)]


def _head(m, ctx: BlockContext) -> tuple[str, ...] | None:
    """The path to the classifier: a Linear, or the one Linear of a class holding only it."""
    if family(m) == "linear":
        return (m.attr,)
    held = ctx.classes.get(m.type_name) if m.kind == "class" else None
    inner = modules(held) if held is not None else []
    if len(inner) == 1 and len(held.members) == 1 and family(inner[0]) == "linear":
        return (m.attr, inner[0].attr)
    return None
