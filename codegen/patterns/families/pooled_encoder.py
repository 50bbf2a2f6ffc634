"""A text encoder whose output is one vector per sequence: the first token's last hidden state,
projected where a Linear sits beside the encoder (DPR's question and context encoders:
`bert_model` without a pooler, `encode_proj` when `projection_dim` > 0). The library returns that
pooled vector, not the hidden states, so the generated forward does too.

Which token is pooled is not in the weights. A Linear beside an encoder that has no pooler of its
own can only take a pooled vector (the first token: guessed unless config.json or a hint says
so); with no Linear, only config.json's `architectures` naming a retrieval encoder
(`...QuestionEncoder`, `...ContextEncoder`, `...PassageEncoder`, `...QueryEncoder`,
`...DocumentEncoder`) says the output is pooled at all: else the plain wrapper passes the last
hidden state through.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph, Slice
from codegen.patterns._kit import (
    BlockContext,
    BlockPattern,
    Example,
    Match,
    body_inputs,
    family,
    modules,
    one_named,
    split_body,
)

RETRIEVAL = r"(Question|Context|Passage|Query|Document|Doc)Encoder"
POOLER = r"pooler"
# The Linear beside the encoder that projects the pooled vector (DPR's encode_proj).
PROJECTION = r"(encode|text|output|pooled|sentence)?_?proj(ection)?"


class PooledEncoder(BlockPattern):
    role = "PooledEncoder"
    priority = 6  # above the plain wrapper that would pass the hidden states through

    def match(self, cls, ctx: BlockContext) -> Match | None:
        split = split_body(cls, ctx, "EncoderModel", range(1, 3))
        if split is None:
            return None
        body, rest = split
        inner = ctx.classes.get(body.type_name)
        if inner is None or one_named(modules(inner), POOLER) is not None:
            return None  # a pooler of its own: the heads that read it say how (classifier.py)
        inputs = body_inputs(ctx, body)
        if not inputs or inputs[0][0] != "input_ids":
            return None
        if rest and (family(rest[0]) != "linear" or not re.fullmatch(PROJECTION, rest[0].attr)):
            return None  # a head on every token (an LM head) is not a pooled projection
        arch = ctx.resolver.metadata.get("architectures")
        named = arch is not None and re.search(rf"{RETRIEVAL}\b", str(arch[1])) is not None
        if not rest and not named:
            return None
        if named:
            ctx.resolver.evidence("architectures")
        pooling = ctx.choose(
            cls,
            body.attr,
            "pooling",
            "first_token",
            ["per_token"],
            "the sequence's vector: its first token's last hidden state, or every token's",
        )
        if named and pooling.source == "default":
            pooling.source, pooling.note = "metadata", f"{arch[0]} {arch[1]!r}"
        found = (body.attr, inputs, rest[0].attr if rest else None, pooling.value)
        guessed = ""
        if pooling.source == "default":  # no config names a retrieval encoder: which token?
            guessed = "that the first token is pooled (a default: calibrate or hint pooling)"
        return Match(self, len(rest) + 1, found, [pooling], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        body, inputs, projection, pooling = match.found
        args = [g.input(name, optional=optional) for name, optional in inputs]
        x = g.call_module((body,), *args, comment="[batch, seq, d_model]")
        if pooling == "first_token":
            x = g.call_function(
                "getitem", x, (Slice(), 0), name="pooled", comment="[batch, d_model]: first token"
            )
        if projection is not None:
            x = g.call_module((projection,), x, name="pooled")
        g.output(x)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        from codegen.patterns.families._examples import modules as refs

        m = refs()

        class Retrieval(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.bert_model = m["bert"]()
                self.encode_proj = nn.Linear(16, 8)

            def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
                return self.encode_proj(self.bert_model(ids, mask)[:, 0])

        ids = torch.randint(0, 50, (2, 7))
        mask = torch.ones(2, 7, dtype=torch.long)
        mask[1, 5:] = 0
        config = {"model_type": "bert", "num_attention_heads": 2, "hidden_act": "gelu"}
        return [Example(Retrieval(), (ids, mask), config)]
