"""An encoder that owns the rotary position table its layers' attentions read (RoFormer): the
table's first `seq` rows ([seq, head_dim]: sines, then cosines) are looked up once and given to
every layer beside the padding mask; the attentions turn queries and keys by them
(`apply_rotary_table`). The table is a checkpoint tensor (the library fills it with sinusoids and
freezes it), so the forward reads it rather than recomputing it.
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
from codegen.patterns.blocks.encoder_layer import ROTARY_TABLE

TABLE = r"embed_positions|position_embeddings|positions|rotary_table"


class RotaryTableEncoder(BlockPattern):
    """`sinusoidal = table(arange(seq))`, then each layer given (x, mask, sinusoidal)."""

    role = "Encoder"
    priority = 8

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        table = one_named(members, TABLE)
        if table is None or family(table) != "embedding":
            return None
        layers = [m for m in members if m is not table][0]
        found = stack(layers)
        if found is None or ctx.role(found[0]) != "Block":
            return None
        if not ctx.takes(found[0], "mask") or not ctx.takes(found[0], ROTARY_TABLE):
            return None
        return Match(self, 2, (table.attr, layers.attr))

    def forward(self, match: Match, g: Graph) -> None:
        table, layers = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        seq = g.call_method("size", x, 1, inline=True)
        device = g.call_method("device", x, inline=True)
        positions = g.call_function("arange", seq, kwargs={"device": device}, inline=True)
        sinusoidal = g.call_module(
            (table,), positions, name="sinusoidal", comment="[seq, head_dim]: sines, then cosines"
        )
        g.output(g.call_module((layers,), x, mask, sinusoidal, each=True))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._encoder_examples import example

        return [example("roformer")]
