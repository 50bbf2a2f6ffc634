"""The attention of encoder-decoder transformers (BART, mBART, Marian, Pegasus, Whisper...): one
class serves the encoder's self-attention, the decoder's masked self-attention and the decoder's
cross-attention, as the keys are the same (q/k/v/out projections). So the caller says which:
`attn(x, mask)` attends within x; `attn(x, mask, memory)` reads keys and values from the encoder's
output. `mask` (True where attended, or None) is the padding mask or the causal mask.

Matched where config.json says the model is an encoder-decoder (its `is_encoder_decoder` or its
model_type), or where the class is held under a cross-attention name (`encoder_attn`); heads come
from the config (`encoder_attention_heads`) or a hint, scaled dot product.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    one_named,
    tensors,
)
from codegen.patterns.blocks._cross_names import CROSS  # noqa: F401 (its importers read it here)
from codegen.patterns.blocks.attention import HEAD_COUNTS, KEY, OUT, QUERY, UNKNOWN_HEADS, VALUE

SEQ2SEQ_TYPES = (
    "bart",
    "mbart",
    "plbart",
    "marian",
    "pegasus",
    "blenderbot",
    "blenderbot-small",
    "m2m_100",
    "nllb-moe",
    "whisper",
    "speech_to_text",
    "fsmt",
)
DIFFERENT_HEADS = (
    "an attention class shared by an encoder and a decoder with different head counts "
    "(config.json encoder_attention_heads != decoder_attention_heads)"
)


def seq2seq(ctx: BlockContext, cls=None) -> str:
    """What says the model is an encoder-decoder, or "": config.json, or the structure (`cls` is
    held somewhere under a cross-attention name, or an attention was recognised as this one)."""
    said = ctx.resolver.evidence("is_encoder_decoder")
    if said is not None and said[1] is True:
        return said[0]
    model_type = ctx.resolver.evidence("model_type")
    if model_type is not None and model_type[1] in SEQ2SEQ_TYPES:
        return f"{model_type[0]} {model_type[1]!r}"
    for other in ctx.classes.values():
        if other.forward.pattern == Seq2SeqAttention.__name__:
            return "an encoder-decoder attention"
        for m in modules(other):
            held = m.kind == "class" and cls is not None and m.type_name == cls.name
            if held and re.fullmatch(CROSS, m.attr, re.IGNORECASE):
                return f"held as {m.attr}"
    return ""


def _stack(cls) -> str:
    """ "encoder" or "decoder" where every instance of `cls` lies under that stack, else ""."""
    stacks = {
        next((p for p in path.split(".") if p in ("encoder", "decoder")), "")
        for path, _ in cls.instances
    }
    return stacks.pop() if len(stacks) == 1 else ""


class Seq2SeqAttention(BlockPattern):
    role = "Attention"
    priority = 11  # the generic Attention's members: config.json says these serve both stacks
    synonyms = {"nhead": ("encoder_attention_heads", "decoder_attention_heads")}

    accepts = Accepts(4, 4, tensors=False, names=(QUERY, KEY, VALUE, OUT), families=("linear",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 4 or not seq2seq(ctx, cls):
            return None
        q, k, v = (one_named(members, p) for p in (QUERY, KEY, VALUE))
        out = one_named([m for m in members if m not in (q, k, v)], OUT)
        if any(m is None or family(m) != "linear" for m in (q, k, v, out)):
            return None
        width = q.io.out_width if q.io else None
        heads = [h for h in HEAD_COUNTS if width is None or width % h == 0]
        encoder = ctx.resolver.evidence("encoder_attention_heads")
        decoder = ctx.resolver.evidence("decoder_attention_heads")
        stack = _stack(cls)
        differ = encoder and decoder and encoder[1] != decoder[1]
        # Each stack's own count where the class serves one stack alone (the structure keeps the
        # stacks' classes apart when config.json gives them different counts).
        spellings = {"nhead": (f"{stack}_attention_heads",)} if differ and stack else {}
        with ctx.resolver.within(spellings):
            nhead = ctx.choose(
                cls,
                q.attr,
                "nhead",
                None,
                heads,
                "unknown: calibrate or hint",
                accepts="positive_int",
            )
        if nhead.value is None:  # its choice stays: calibration may pick the count
            return Match(self, 4, missing=UNKNOWN_HEADS, choices=[nhead])
        if nhead.source == "metadata" and differ and not stack:
            return Match(self, 4, missing=DIFFERENT_HEADS)
        # the encoder's width its keys and values read, where config.json gives it (TrOCR's
        # cross_attention_hidden_size): accounted for when the projections show the same
        said = ctx.resolver.metadata.get("cross_attention_hidden_size")
        if said is not None and k.io is not None and said[1] == k.io.in_width:
            ctx.resolver.evidence("cross_attention_hidden_size")
        found = (q.attr, k.attr, v.attr, out.attr, int(nhead.value))
        return Match(self, 4, found, [nhead])

    def forward(self, match: Match, g: Graph) -> None:
        q_attr, k_attr, v_attr, out, nhead = match.found
        x = g.input("x")
        mask = g.input("mask", optional=True)  # True where attended; None: everywhere
        memory = g.input("memory", optional=True)  # the encoder's output, for cross-attention
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        source = g.call_function(
            "memory_or", memory, x, name="source", comment="keys and values come from here"
        )
        length = g.call_method("size", source, 1, name="length")

        def heads(attr: str, value, count, name: str):
            projected = g.call_module((attr,), value, inline=True)
            split = g.call_method("view", projected, batch, count, nhead, -1, inline=True)
            return g.call_method("transpose", split, 1, 2, name=name)

        q = heads(q_attr, x, seq, "q")
        k = heads(k_attr, source, length, "k")
        v = heads(v_attr, source, length, "v")
        y = g.call_function(
            "scaled_dot_product_attention",
            q,
            k,
            v,
            kwargs={"attn_mask": mask},
            name="y",
            comment=f"{nhead} heads",
        )
        y = g.call_method("transpose", y, 1, 2, inline=True)
        y = g.call_method("reshape", y, batch, seq, -1, name="y")
        # (no projection: a split attention's sibling holds it, blocks/split_cross_attention.py)
        g.output(g.call_module((out,), y) if out is not None else y)

    @staticmethod
    def examples():
        from codegen.patterns.families._seq2seq_examples import example

        return [example("bart")]
