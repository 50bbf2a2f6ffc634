"""T5-style encoder-decoders (T5Model / T5ForConditionalGeneration, mT5, UMT5, FLAN-T5): the token
table `shared`, a RelativeEncoder and a RelativeDecoder (families/relative_encoder.py), and, for the
LM, a head over the vocabulary.

`input_ids` (+ optional `attention_mask`, 1 attend, 0 padding) feed the encoder; the decoder reads
`decoder_input_ids`, or, when none are given, the input ids shifted one to the right behind the
start token (T5 starts with its padding token). The encoder's padding mask also masks the
cross-attention. The model returns the decoder's last hidden state; the LM returns logits:
`lm_head` where the checkpoint holds one, else the token table (tied, stored once). Whether the
tied model is an LM is told by config.json's `architectures`. T5 scales the decoder's output by
d_model ** -0.5 before a head it shares with the embeddings: config.json's `scale_decoder_outputs`
(written by transformers 5) or `tie_word_embeddings` (older configs) says whether; mT5 never does.
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
from codegen.patterns.families.relative_encoder import RelativeDecoder, RelativeEncoder
from codegen.patterns.families.seq2seq import encode_text

TOKENS = r"shared|embed_tokens|word_embeddings|wte"
HEAD = r"lm_head"
HEADS = ["token_table", "none"]  # tied LM head, or the last hidden state
SCALES = ["1/sqrt(d_model)", "none"]
# Model types whose LM never scales the decoder's output (transformers 5 ties mT5's head and drops
# the scaling older versions applied with a tied head).
UNSCALED_TYPES = ("mt5",)


def _stack(ctx: BlockContext, members, pattern: type):
    found = []
    for m in members:
        cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
        if cls is not None and cls.forward.pattern == pattern.__name__:
            found.append(m)
    return found[0] if len(found) == 1 else None


class RelativeSeq2Seq(BlockPattern):
    role = "Seq2SeqModel"
    priority = 12
    synonyms = {"pad_token_id": ("pad_token_id",), "decoder_start_token_id": ()}

    accepts = Accepts(3, 4, tensors=False, names=(TOKENS,), families=("embedding",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) not in (3, 4):
            return None
        encoder = _stack(ctx, members, RelativeEncoder)
        decoder = _stack(ctx, members, RelativeDecoder)
        shared = one_named([m for m in members if family(m) == "embedding"], TOKENS)
        head = one_named([m for m in members if family(m) == "linear"], HEAD)
        if None in (encoder, decoder, shared) or len(members) != 3 + (head is not None):
            return None
        width = shared.io.out_width if shared.io else None
        if width is None:
            return None
        choices = []
        pad = ctx.choose(cls, decoder.attr, "pad_token_id", 0, [1], accepts="index")
        start = ctx.choose(
            cls,
            decoder.attr,
            "decoder_start_token_id",
            int(pad.value),
            [0, 1],
            "the first decoder input when none are given (T5: the padding token)",
            accepts="index",
        )
        choices += [pad, start]
        if head is None:
            arch = ctx.resolver.evidence("architectures")
            lm = bool(arch) and re.search(r"ForConditionalGeneration", str(arch[1])) is not None
            kind = ctx.choose(
                cls,
                shared.attr,
                "head",
                "token_table" if lm else "none",
                HEADS,
                "logits through the token table, or the decoder's last hidden state",
            )
            if arch and kind.source == "default":
                kind.source, kind.note = "metadata", f"{arch[0]} {arch[1]!r}"
            choices.append(kind)
            tied = kind.value == "token_table"
        else:
            tied = False
        scale = None
        said = ctx.resolver.evidence("scale_decoder_outputs")  # no effect without a head
        if tied or head is not None:
            model_type = ctx.resolver.evidence("model_type")
            if said is None and model_type and model_type[1] in UNSCALED_TYPES:
                said = f"{model_type[0]} {model_type[1]!r}", False
            said = said or ctx.resolver.evidence("tie_word_embeddings")
            scaled = tied if said is None else said[1] is True
            scale = ctx.choose(
                cls,
                (head or shared).attr,
                "head_scale",
                SCALES[0] if scaled else "none",
                SCALES,
                "the decoder's output times d_model ** -0.5 before the head",
            )
            if said is not None and scale.source == "default":
                scale.source, scale.note = "metadata", said[0]
            choices.append(scale)
        found = (
            shared.attr,
            encoder.attr,
            decoder.attr,
            ctx.takes(encoder, "input_ids"),
            ctx.takes(decoder, "input_ids"),
            (int(pad.value), int(start.value)),
            head.attr if head else ("tied" if tied else None),
            width if scale is not None and scale.value != "none" else None,
        )
        return Match(self, len(members), found, choices)

    def forward(self, match: Match, g: Graph) -> None:
        shared, encoder, decoder, encoder_embeds, decoder_embeds, shift, head, width = match.found
        attention_mask, target, memory = encode_text(g, encoder, shared, encoder_embeds, shift)
        if not decoder_embeds:
            target = g.call_module((shared,), target, inline=True)
        x = g.call_module(
            (decoder,),
            target,
            memory,
            attention_mask,
            name="x",
            comment="[batch, target seq, d_model]",
        )
        if head is None:
            g.output(x)
            return
        if width is not None:
            root = g.call_function("sqrt", width, inline=True)
            x = g.call_function("truediv", x, root, name="x", comment="scaled by d_model ** -0.5")
        if head == "tied":
            table = g.getattr((shared, "weight"))
            logits = g.call_function("linear", x, table, comment="the head is the token table")
        else:
            logits = g.call_module((head,), x)
        g.output(logits, comment="[batch, target seq, vocab_size]")

    @staticmethod
    def examples():
        from codegen.patterns.families._seq2seq_examples import example

        return [example("t5_model"), example("t5_lm"), example("umt5_model")]
