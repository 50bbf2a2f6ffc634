"""The queries/keys/values half of a split (Hugging Face BERT-style) attention that also serves as
a cross-attention: held, directly or inside its `BertAttention`-like wrapper, under a
cross-attention name (`crossattention`: BERT/RoBERTa/ELECTRA... with add_cross_attention, BLIP's
text tower). `attn(x, mask)` attends within x; `attn(x, mask, memory)` reads keys and values
from `memory` (the encoder's states), so one class serves both the layer's self-attention and
its cross-attention, as the library's does. Heads from config.json (or a hint), scaled dot
product; the merged heads come out unprojected (the sibling `output` projects them).
"""

from __future__ import annotations

from codegen.patterns._kit import Accepts, BlockContext, Match, family, modules, one_named, tensors
from codegen.patterns.blocks.attention import (
    HEAD_COUNTS,
    KEY,
    QUERY,
    SYNONYMS,
    UNKNOWN_HEADS,
    VALUE,
)
from codegen.patterns.blocks.cross_attention import CROSS, Seq2SeqAttention

import re


def held_as_cross(ctx: BlockContext, cls) -> bool:
    """Whether `cls` is held under a cross-attention name, or by a class held under one."""
    holders = [
        ctx.classes.get(m.type_name)
        for other in ctx.classes.values()
        for m in modules(other)
        if m.kind == "class" and re.fullmatch(CROSS, m.attr, re.IGNORECASE)
    ]
    return any(
        h is not None and (h.name == cls.name or any(m.type_name == cls.name for m in modules(h)))
        for h in holders
    )


class SplitCrossAttention(Seq2SeqAttention):
    role = "SelfAttention"
    priority = 11  # before the generic SelfAttention: this one also takes the encoder's states
    synonyms = {"nhead": SYNONYMS["nhead"]}

    accepts = Accepts(3, 3, tensors=False, names=(QUERY, KEY, VALUE), families=("linear",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3 or not held_as_cross(ctx, cls):
            return None
        q, k, v = (one_named(members, p) for p in (QUERY, KEY, VALUE))
        if any(m is None or family(m) != "linear" for m in (q, k, v)):
            return None
        width = q.io.out_width if q.io else None
        heads = [h for h in HEAD_COUNTS if width is None or width % h == 0]
        nhead = ctx.choose(
            cls, q.attr, "nhead", None, heads, "unknown: calibrate or hint", accepts="positive_int"
        )
        if nhead.value is None:
            return Match(self, 3, missing=UNKNOWN_HEADS, choices=[nhead])
        return Match(self, 3, (q.attr, k.attr, v.attr, None, int(nhead.value)), [nhead])

    @staticmethod
    def examples():
        return [_example()]


def _example():
    """BLIP's text tower (the library's, a test dependency) reading 5 states 24 wide."""
    import torch
    import transformers as t

    from codegen.patterns.families._seq2seq_examples import reading_states_example

    torch.manual_seed(0)
    config = t.BlipTextConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
        encoder_hidden_size=24,
    )
    return reading_states_example(t.BlipTextModel, config, 24)
