"""Two inputs: a source through the encoder, a target through the decoder that reads its memory.

Either one nn.Transformer, or an nn.TransformerEncoder and an nn.TransformerDecoder. Embeddings
before it: with two, the one named for the source (`src`, `enc`, `input`) takes the source and the
other the target; other front modules (position tables, projections) apply to both. Modules after
it form the head. Which module is front or head is decided by names and families, not key order.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns.blocks.chain import reading_order
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

SOURCE_NAME = re.compile(r"src|source|enc|input", re.IGNORECASE)
HEAD_NAME = re.compile(r"head|out|fc|classifier|generator|proj|lm", re.IGNORECASE)


class EncoderDecoder(BlockPattern):
    role = "Seq2Seq"

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or any(m.kind == "placeholder" for m in members):
            return None
        kinds = {m.type_name: m for m in members}
        if "nn.Transformer" in kinds:
            core = [kinds["nn.Transformer"]]
        elif "nn.TransformerEncoder" in kinds and "nn.TransformerDecoder" in kinds:
            core = [kinds["nn.TransformerEncoder"], kinds["nn.TransformerDecoder"]]
        else:
            return None
        others = [m for m in members if m not in core]
        embeddings = sorted(
            (m for m in others if family(m) == "embedding"),
            key=lambda m: (SOURCE_NAME.search(m.attr) is None, m.attr),
        )
        if len(embeddings) > 2:
            return None
        d = core[0].io.out_width
        head = [m for m in others if m not in embeddings and _is_head(m, d)]
        front, _ = reading_order([m for m in others if m not in embeddings and m not in head])
        if len(head) > 1:
            return None
        found = (
            [m.attr for m in embeddings],
            [m.attr for m in front],
            [m.attr for m in core],
            [m.attr for m in head],
        )
        return Match(self, len(members), found)

    def forward(self, match: Match, g: Graph) -> None:
        embeddings, front, core, head = match.found
        src, tgt = g.input("src"), g.input("tgt")

        def embed(v, name: str, own: int):
            if embeddings:
                v = g.call_module((embeddings[own % len(embeddings)],), v, name=name)
            for attr in front:
                v = g.call_module((attr,), v, name=name)
            return v

        src = embed(src, "src", 0)
        if len(core) == 1:
            out = g.call_module((core[0],), src, embed(tgt, "tgt", 1), name="out")
        else:
            memory = g.call_module((core[0],), src, name="memory")
            out = g.call_module((core[1],), embed(tgt, "tgt", 1), memory, name="out")
        for attr in head:
            out = g.call_module((attr,), out, name="out")
        g.output(out)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Translator(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.generator = nn.Linear(16, 11)  # registered first: names decide, not order
                self.src_embed = nn.Embedding(13, 16)
                self.tgt_embed = nn.Embedding(11, 16)
                self.transformer = nn.Transformer(16, 2, 1, 1, 32, batch_first=True)

            def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
                out = self.transformer(self.src_embed(src), self.tgt_embed(tgt))
                return self.generator(out)

        ids = (torch.randint(0, 11, (2, 5)), torch.randint(0, 11, (2, 4)))
        return [Example(Translator(), ids)]


def _is_head(m, d) -> bool:
    """After the transformer: a layer that leaves d_model, or one named like an output."""
    if family(m) == "linear" and m.io.in_width == d and m.io.out_width != d:
        return True
    return family(m) == "linear" and HEAD_NAME.search(m.attr) is not None
