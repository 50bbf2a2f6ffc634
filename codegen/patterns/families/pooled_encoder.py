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

A causal text tower (CLIP's text model: each token sees only those before it) cannot summarise
the sequence at its first token; beside a projection (`text_projection`) it is pooled at its
end-of-text token, config.json's `eos_token_id`, as dual_encoder.py reads it. A vision tower
beside a projection (`visual_projection`) whose class holds a pooled-vector norm
(`post_layernorm`) projects its class token through that norm, as the two-tower model does: the
`...WithProjection` halves of CLIP-style models return those embeddings.
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
    body_inputs,
    family,
    modules,
    one_named,
    split_body,
)
from codegen.patterns.blocks.attention import model_kind
from codegen.patterns.families.dual_encoder import IMAGE_PROJECTION, eos_guess
from codegen.patterns.families.encoder import POOLED_NORM

RETRIEVAL = r"(Question|Context|Passage|Query|Document|Doc)Encoder"
POOLER = r"pooler"
# The Linear beside the encoder that projects the pooled vector (DPR's encode_proj).
PROJECTION = r"(encode|text|output|pooled|sentence)?_?proj(ection)?"


class PooledEncoder(BlockPattern):
    role = "PooledEncoder"
    priority = 6  # above the plain wrapper that would pass the hidden states through
    synonyms = {"eos_token_id": ("eos_token_id",)}

    accepts = Accepts(1, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        split = split_body(cls, ctx, "EncoderModel", range(1, 3))
        if split is None:
            return None
        body, rest = split
        inner = ctx.classes.get(body.type_name)
        if inner is None or one_named(modules(inner), POOLER) is not None:
            return None  # a pooler of its own: the heads that read it say how (classifier.py)
        inputs = body_inputs(ctx, body)
        if inputs and inputs[0][0] == "pixel_values":
            return self._vision(inner, body, rest, inputs)
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
        # a causal tower's whole-sequence state is at its end-of-text token, not its first
        kind, kind_cite = model_kind(ctx)
        eos_id = ctx.resolver.metadata.get("eos_token_id")
        at_eos = bool(rest) and kind == "decoder" and isinstance(eos_id and eos_id[1], int)
        pooling = ctx.choose(
            cls,
            body.attr,
            "pooling",
            "eos_token" if at_eos else "first_token",
            ["first_token", "per_token"] if at_eos else ["per_token"],
            "the sequence's vector: its first token's last hidden state, its end-of-text "
            "token's, or every token's",
        )
        if named and pooling.source == "default":
            pooling.source, pooling.note = "metadata", f"{arch[0]} {arch[1]!r}"
        if at_eos and pooling.source == "default":
            pooling.source, pooling.note = "metadata", f"{kind_cite}: a causal text tower"
        choices, eos, guessed = [pooling], None, ""
        if pooling.value == "eos_token":
            eos_choice = ctx.choose(
                cls,
                rest[0].attr,
                "eos_token_id",
                2,
                [],
                "the token whose state pools the text (2: the largest id)",
                accepts="index",
            )
            eos = int(eos_choice.value)
            choices.append(eos_choice)
            guessed = eos_guess(ctx, eos)
        found = (body.attr, inputs, rest[0].attr if rest else None, pooling.value, eos, None)
        if pooling.source == "default":  # no config names a retrieval encoder: which token?
            guessed = "that the first token is pooled (a default: calibrate or hint pooling)"
        return Match(self, len(rest) + 1, found, choices, guessed=guessed)

    def _vision(self, inner, body, rest, inputs) -> Match | None:
        """A vision tower and its projection: the class token through the pooled-vector norm."""
        if len(rest) != 1 or family(rest[0]) != "linear":
            return None
        if not re.fullmatch(f"{IMAGE_PROJECTION}|{PROJECTION}", rest[0].attr):
            return None
        norms = [m for m in modules(inner) if family(m) == "norm"]
        pooled_norm = one_named(norms, POOLED_NORM)
        if pooled_norm is None:
            return None
        found = (body.attr, inputs, rest[0].attr, "class_token", None, pooled_norm.attr)
        return Match(self, 2, found, [])

    def forward(self, match: Match, g: Graph) -> None:
        body, inputs, projection, pooling, eos, pooled_norm = match.found
        args = [g.input(name, optional=optional) for name, optional in inputs]
        x = g.call_module((body,), *args, comment="[batch, seq, d_model]")
        if pooling in ("first_token", "class_token"):
            x = g.call_function(
                "getitem", x, (Slice(), 0), name="pooled", comment="[batch, d_model]: first token"
            )
        elif pooling == "eos_token":
            x = g.call_function(
                "eos_tokens",
                x,
                args[0],
                eos,
                name="pooled",
                comment="[batch, d_model]: end of text",
            )
        if pooled_norm is not None:
            x = g.call_module((body, pooled_norm), x, name="pooled")
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
