"""The encoder of a disentangled-attention stack (DeBERTa, DeBERTa-v2/v3): the layers in turn, each
given the relative position embeddings the encoder owns (`rel_embeddings`, normalised first where
it holds a norm beside them: config.json's norm_rel_ebd "layer_norm") and a query-and-key mask.

DeBERTa's conventions for padding, which change the padding tokens' own outputs (and so the last
hidden state a user compares), are kept here where the mask is: the embeddings of padding tokens
are zeroed (its embeddings multiply by the mask), and a padding query attends evenly to every key.
Without relative attention (no table) the same holds; the layers then take no table.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    one_named,
    stack,
    tensors,
)
from codegen.patterns.blocks.encoder_layer import RELATIVE_TABLE

TABLE = r"rel_embeddings|relative_embeddings|rel_pos_embeddings"
NORM = r"LayerNorm|layer_norm|rel_norm|norm"
ATTENTION = "DisentangledAttention"


def holds_disentangled(ctx: BlockContext, type_name: str, depth: int = 0) -> bool:
    """Whether a generated class, or one inside it, computes disentangled attention."""
    cls = ctx.classes.get(type_name)
    if cls is None or depth > 6:
        return False
    if cls.forward is not None and cls.forward.pattern == ATTENTION:
        return True
    found = []
    for m in modules(cls):
        items = m.children if m.kind in ("sequential", "modulelist", "repeat") else [m]
        found += [c.type_name for c in items if c.kind == "class"]
    return any(holds_disentangled(ctx, name, depth + 1) for name in dict.fromkeys(found))


class DisentangledEncoder(BlockPattern):
    role = "Encoder"
    priority = 12  # before the plain encoder, which would keep BERT's padding conventions

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        stacks = [(m, stack(m)) for m in members if stack(m) is not None]
        if len(stacks) != 1:
            return None
        holder, (layer, _) = stacks[0]
        if ctx.role(layer) != "Block" or not ctx.takes(layer, "mask"):
            return None
        if layer.kind != "class" or not holds_disentangled(ctx, layer.type_name):
            return None
        table = one_named([m for m in members if family(m) == "embedding"], TABLE)
        norm = one_named([m for m in members if family(m) == "norm"], NORM)
        if len(members) != 1 + (table is not None) + (norm is not None):
            return None
        if (table is not None) != ctx.takes(layer, RELATIVE_TABLE):
            return None  # a table the layers do not read, or layers that need one
        if norm is not None and table is None:
            return None
        said = ctx.resolver.evidence("norm_rel_ebd")
        if said is not None:
            normed = isinstance(said[1], str) and "layer_norm" in said[1].lower().split("|")
            if normed != (norm is not None):
                return None  # config.json says otherwise than the keys show
        found = (holder.attr, table.attr if table else None, norm.attr if norm else None)
        return Match(self, len(members), found)

    def forward(self, match: Match, g: Graph) -> None:
        layers, table, norm = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        x = g.call_function(
            "zero_masked", x, mask, name="x", comment="padding tokens' embeddings zeroed"
        )
        mask = g.call_function(
            "query_key_mask", mask, name="mask", comment="[batch, 1, seq, seq]: padding queries too"
        )
        if table is None:
            g.output(g.call_module((layers,), x, mask, each=True))
            return
        note = "[2 * span, d_model]"
        if norm is None:
            rel = g.getattr((table, "weight"), inline=False, name="rel_embeddings", comment=note)
        else:
            rel = g.call_module(
                (norm,), g.getattr((table, "weight")), name="rel_embeddings", comment=note
            )
        g.output(g.call_module((layers,), x, mask, rel, each=True))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._encoder_examples import example

        return [example("deberta_v2")]
