"""A BERT-style encoder whose embeddings also take visual features (VisualBERT): text tokens as
BERT's, then, where `visual_embeds` [batch, regions, visual_dim] are given, one token per region
(projected, plus its own position table's first row and its own token-type table, type 1 unless
given) appended after the text; the norm covers both. The attention mask grows to match
(`visual_attention_mask`, all ones unless given). Without visual inputs it is BERT.

The library's `image_text_alignment` (positions of aligned words for each region) is not taken:
without it every region sits at position 0, as here.
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
    one_named,
    tensors,
)

VISUAL_PROJECTION = r"visual_projection|visual_proj|region_projection"
VISUAL_POSITIONS = r"visual_position_embeddings|visual_pos_embeddings"
VISUAL_TYPES = r"visual_token_type_embeddings|visual_type_embeddings"


class VisualTextEmbeddings(BlockPattern):
    """`norm(cat(words + types + positions, regions))`: text embeddings with visual tokens."""

    role = "VisualTextEmbeddings"
    priority = 6
    accepts = Accepts(
        names=(VISUAL_POSITIONS, VISUAL_TYPES, VISUAL_PROJECTION),
        families=("embedding", "linear", "norm"),
    )

    def match(self, cls, ctx: BlockContext) -> Match | None:
        from codegen.patterns.families.encoder import NORM, POSITIONS, SEGMENTS, TOKENS

        members = modules(cls)
        if any(t.kind != "buffer" for t in tensors(cls)):
            return None
        tables = [m for m in members if family(m) == "embedding"]
        text = [one_named(tables, p) for p in (TOKENS, POSITIONS, SEGMENTS)]
        visual = [one_named(tables, p) for p in (VISUAL_POSITIONS, VISUAL_TYPES)]
        project = one_named([m for m in members if family(m) == "linear"], VISUAL_PROJECTION)
        norm = one_named([m for m in members if family(m) == "norm"], NORM)
        found = [*text, *visual, project, norm]
        if any(m is None for m in found) or len(members) != len(found):
            return None
        if project.io is None or project.io.out_width != text[0].io.out_width:
            return None
        return Match(self, len(members), tuple(m.attr for m in found))

    def forward(self, match: Match, g: Graph) -> None:
        tokens, positions, segments, visual_positions, visual_types, project, norm = match.found
        ids = g.input("input_ids")
        types = g.input("token_type_ids", optional=True)
        regions = g.input("visual_embeds", optional=True)
        region_types = g.input("visual_token_type_ids", optional=True)
        x = g.call_module((tokens,), ids, comment="[batch, seq, d_model]")
        seg = g.call_function("token_types", types, ids, inline=True)
        x = g.call_function("add", x, g.call_module((segments,), seg, inline=True))
        seq = g.call_method("size", ids, 1, inline=True)
        device = g.call_method("device", ids, inline=True)
        pos = g.call_function("arange", seq, kwargs={"device": device}, name="positions")
        x = g.call_function("add", x, g.call_module((positions,), pos, inline=True))
        x = g.call_function(
            "append_regions",
            x,
            regions,
            region_types,
            g.getattr((project, "weight")),
            g.getattr((project, "bias")),
            g.getattr((visual_positions, "weight")),
            g.getattr((visual_types, "weight")),
            comment="[batch, seq + regions, d_model] where visual_embeds are given",
        )
        g.output(g.call_module((norm,), x))

    @staticmethod
    def examples():
        return [_example(16, 12), _example(24, 8)]


class VisualTextModel(BlockPattern):
    """Embeddings with visual tokens, then the encoder over the text and regions together, given
    the padding mask of both; the last hidden state. A pooler is left to the heads."""

    role = "EncoderModel"
    priority = 6

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        embed = [m for m in members if ctx.role(m) == "VisualTextEmbeddings"]
        encoder = [m for m in members if ctx.role(m) == "Encoder" and ctx.takes(m, "mask")]
        rest = [m for m in members if m not in embed + encoder]
        if len(embed) != 1 or len(encoder) != 1:
            return None
        if any(not re.fullmatch(r"pooler", m.attr) for m in rest):
            return None
        bypass = ctx.resolver.metadata.get("bypass_transformer")
        if bypass is not None and bypass[1] is not False:
            return None
        for key in ("bypass_transformer", "special_visual_initialize", "visual_embedding_dim"):
            ctx.resolver.evidence(key)  # the layout above; an initialisation; a shown width
        return Match(self, len(members), (embed[0].attr, encoder[0].attr))

    def forward(self, match: Match, g: Graph) -> None:
        embed, encoder = match.found
        ids = g.input("input_ids")
        attention_mask = g.input("attention_mask", optional=True)
        types = g.input("token_type_ids", optional=True)
        regions = g.input("visual_embeds", optional=True)
        region_mask = g.input("visual_attention_mask", optional=True)
        region_types = g.input("visual_token_type_ids", optional=True)
        x = g.call_module((embed,), ids, types, regions, region_types)
        both = g.call_function(
            "text_and_region_mask", attention_mask, ids, regions, region_mask, inline=True
        )
        mask = g.call_function("padding_mask", both, name="mask")
        x = g.call_module((encoder,), x, mask)
        g.output(x, comment="[batch, seq (+ regions), d_model]: the last hidden state")

    @staticmethod
    def examples():
        return [_example(16, 12), _example(24, 8)]


def _example(d: int, visual_dim: int) -> Example:
    """BERT's layout from families/_examples.encoders() with VisualBERT's visual tables added."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    heads, inner = 2, 2 * d

    class QKV(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)

        def forward(self, x, mask):
            b, t = x.shape[:2]
            q, k, v = (
                p(x).view(b, t, heads, -1).transpose(1, 2)
                for p in (self.query, self.key, self.value)
            )
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            return y.transpose(1, 2).reshape(b, t, -1)

    class AddNorm(nn.Module):
        def __init__(self, n_in: int) -> None:
            super().__init__()
            self.dense, self.LayerNorm = nn.Linear(n_in, d), nn.LayerNorm(d)

        def forward(self, h, x):
            return self.LayerNorm(self.dense(h) + x)

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.add_module("self", QKV())
            self.output = AddNorm(d)

        def forward(self, x, mask):
            return self.output(getattr(self, "self")(x, mask), x)

    class Intermediate(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.dense = nn.Linear(d, inner)

        def forward(self, x):
            return F.gelu(self.dense(x))

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention, self.intermediate = Attention(), Intermediate()
            self.output = AddNorm(inner)

        def forward(self, x, mask):
            a = self.attention(x, mask)
            return self.output(self.intermediate(a), a)

    class Embeddings(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word_embeddings = nn.Embedding(50, d)
            self.position_embeddings = nn.Embedding(16, d)
            self.token_type_embeddings = nn.Embedding(2, d)
            self.LayerNorm = nn.LayerNorm(d)
            self.visual_token_type_embeddings = nn.Embedding(2, d)
            self.visual_position_embeddings = nn.Embedding(16, d)
            self.visual_projection = nn.Linear(visual_dim, d)

        def forward(self, ids, regions):
            x = self.word_embeddings(ids) + self.token_type_embeddings(torch.zeros_like(ids))
            x = x + self.position_embeddings(torch.arange(ids.size(1)))
            v = self.visual_projection(regions)
            zeros = torch.zeros(regions.shape[:2], dtype=torch.long)
            v = v + self.visual_position_embeddings(zeros)
            v = v + self.visual_token_type_embeddings(torch.ones_like(zeros))
            return self.LayerNorm(torch.cat([x, v], 1))

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = nn.ModuleList(Layer() for _ in range(2))

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings, self.encoder = Embeddings(), Encoder()

        def forward(self, ids, attention_mask, token_type_ids, visual_embeds):
            x = self.embeddings(ids, visual_embeds)
            both = torch.cat([attention_mask, torch.ones(visual_embeds.shape[:2]).long()], 1)
            mask = both[:, None, None, :] != 0
            for layer in self.encoder.layer:
                x = layer(x, mask)
            return x

    ids = torch.randint(0, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    regions = torch.randn(2, 3, visual_dim)
    return Example(Model(), (ids, mask, None, regions), {"num_attention_heads": heads})
