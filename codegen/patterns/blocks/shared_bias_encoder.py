"""An encoder that owns one relative position table for all its layers (MPNet): the stack turns
the table into a [1, heads, seq, seq] bias once (T5's log-spaced buckets, bidirectional), masks
the padding keys in it, and gives it to every layer in turn.

`BiasedSplitLayer`: a Hugging Face split layer whose attention takes that bias (a post-norm
attention sublayer, then `intermediate` and `output` as BERT's). `SharedBiasEncoder`: the table and
the layers. MPNet computes 32 buckets whatever the table holds and a max distance of 128; the
table's rows must be those 32 buckets, else the file says the bias is not computed.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    one_named,
    stack,
    tensors,
)
from codegen.patterns.blocks.relative_attention import SCALED_BIAS_TYPES, TABLE
from codegen.patterns.blocks.sublayer import as_module_list

# MPNetEncoder.compute_position_bias: num_buckets=32, relative_position_bucket max_distance=128.
LIBRARY_BUCKETS, LIBRARY_MAX_DISTANCE = 32, 128
OTHER_BUCKETS = (
    "a shared relative position table whose rows are not the 32 buckets the library computes "
    "(relative_attention_num_buckets): the bias is not computed yet"
)


def _example(name: str):
    from codegen.patterns.blocks._encoder_examples import example

    return example(name)


class BiasedSplitLayer(BlockPattern):
    """`a = attention(x, bias)` (its residual and norm inside), `output(intermediate(a), a)`."""

    role = "Block"
    priority = 8

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        roles = {m.attr: ctx.role(m) for m in members}
        attn = [m for m in members if roles[m.attr] == "SelfAttentionLayer"]
        inter = [m for m in members if roles[m.attr] == "Intermediate"]
        out = [m for m in members if roles[m.attr] == "AddNorm"]
        if len(attn) != 1 or len(inter) != 1 or len(out) != 1:
            return None
        return Match(self, 3, (attn[0].attr, inter[0].attr, out[0].attr))

    def forward(self, match: Match, g: Graph) -> None:
        attn, inter, out = match.found
        x, bias = g.input("x"), g.input("bias")
        a = g.call_module((attn,), x, bias, name="x")
        h = g.call_module((inter,), a, inline=True)
        g.output(g.call_module((out,), h, a))

    @staticmethod
    def examples():
        return [_example("mpnet")]


class SharedBiasEncoder(BlockPattern):
    """The table's bias, padding keys masked out, given to each layer: the last hidden state."""

    role = "Encoder"
    priority = 8
    synonyms = {"num_buckets": ("relative_attention_num_buckets",)}

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        table = one_named(members, TABLE)
        layers = [m for m in members if m is not table]
        found = stack(layers[0]) if table is not None else None
        if found is None or family(table) != "embedding" or table.io is None:
            return None
        if ctx.role(found[0]) != "Block" or not ctx.takes(found[0], "bias"):
            return None
        said = ctx.resolver.evidence(*self.synonyms["num_buckets"])  # cited: the table's rows
        rows = table.io.vocab
        if rows != LIBRARY_BUCKETS or (said is not None and said[1] != rows):
            return Match(self, 2, missing=OTHER_BUCKETS)
        distance = ctx.choose(
            cls,
            table.attr,
            "max_distance",
            LIBRARY_MAX_DISTANCE,
            [32, 64, 256],
            "the relative distance the last bucket starts at",
            accepts="positive_int",
        )
        model_type = ctx.resolver.evidence("model_type")
        if model_type and model_type[1] in SCALED_BIAS_TYPES and distance.source == "default":
            distance.source, distance.note = "metadata", f"{model_type[0]} {model_type[1]!r}"
        as_module_list(layers[0])
        return Match(self, 2, (table.attr, layers[0].attr, int(distance.value)), [distance])

    def forward(self, match: Match, g: Graph) -> None:
        table, layers, max_distance = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        seq = g.call_method("size", x, 1, inline=True)
        bias = g.call_function(
            "relative_position_bias",
            g.getattr((table, "weight")),
            seq,
            True,
            max_distance,
            name="bias",
            comment="[1, heads, seq, seq]: one table, shared by all layers",
        )
        bias = g.call_function("masked_bias", bias, mask, name="bias")
        g.output(g.call_module((layers,), x, bias, each=True))

    @staticmethod
    def examples():
        return [_example("mpnet")]
