"""An encoder-decoder assembled from two whole models: one that encodes the source (a text
encoder, a vision or speech tower) and one that generates text attending to what it gave (a
decoder LM whose forward takes the encoder's states), with at most one linear layer between them
where their widths differ (the library's EncoderDecoderModel, VisionEncoderDecoderModel,
SpeechEncoderDecoderModel, `enc_to_dec_proj`; a hand-written `Seq2Seq(encoder, decoder)`):

    memory = encoder(source, attention_mask)
    logits = decoder(decoder_input_ids, decoder_attention_mask,
                     encoder_hidden_states=proj(memory), encoder_attention_mask=attention_mask)

The two members are told apart by what their generated forwards take, not by their names: the
decoder is the one member that takes token ids first and the encoder's states (a memory) beside
them; the encoder is the other, taking token ids, pixels or audio first. Each member's forward is
its own pattern's (a T5- or BART-style pair of stacks is families/seq2seq.py's instead).
"""

from __future__ import annotations

from codegen.ir import ExampleInput
from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    tensors,
)

# What a whole model's forward takes first, by the library's names: the encoder's source.
SOURCES = ("input_ids", "pixel_values", "input_values", "input_features")
# The decoder's argument for the encoder's states, and for which of them to attend to.
MEMORIES = ("encoder_hidden_states", "memory")
MEMORY_MASKS = ("encoder_attention_mask", "memory_mask")
# The pair-of-stacks patterns whose whole model families/seq2seq.py assembles.
STACKS = ("Seq2SeqEncoder", "Seq2SeqDecoder")


class ComposedSeq2Seq(BlockPattern):
    role = "EncoderDecoder"
    priority = 5  # below Seq2SeqModel, should both ever fit

    accepts = Accepts(2, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) not in (2, 3):
            return None
        inputs = {m.attr: _inputs(ctx, m) for m in members}
        decoders = [
            m
            for m in members
            if inputs[m.attr] and inputs[m.attr][0][0] == "input_ids" and _memory(inputs[m.attr])
        ]
        if len(decoders) != 1:
            return None
        decoder = decoders[0]
        encoders = [
            m
            for m in members
            if m is not decoder
            and inputs[m.attr]
            and inputs[m.attr][0][0] in SOURCES
            and not _memory(inputs[m.attr])
        ]
        if len(encoders) != 1:
            return None
        encoder = encoders[0]
        projection = [m for m in members if m is not encoder and m is not decoder]
        if projection and family(projection[0]) != "linear":
            return None
        if any(_pattern(ctx, m) in STACKS for m in (encoder, decoder)):
            return None
        # every other input of either member but the memory must be optional: None is passed
        for name, optional in inputs[encoder.attr][1:] + inputs[decoder.attr][1:]:
            if not optional and name not in MEMORIES:
                return None
        found = (
            encoder.attr,
            tuple(inputs[encoder.attr]),
            projection[0].attr if projection else None,
            decoder.attr,
            tuple(inputs[decoder.attr]),
            _examples(ctx, encoder)[:1] + _examples(ctx, decoder)[:1],
        )
        return Match(self, len(members), found)

    def forward(self, match: Match, g: Graph) -> None:
        encoder, encoder_inputs, projection, decoder, decoder_inputs, _ = match.found
        source = g.input(encoder_inputs[0][0])
        target = g.input("decoder_input_ids")
        # a padding mask over the source's tokens masks the decoder's view of their states too;
        # one over audio samples or pixels would need the encoder's own frame mask: not taken
        text = encoder_inputs[0][0] == "input_ids"
        text = text and any(name == "attention_mask" for name, _ in encoder_inputs[1:])
        mask = g.input("attention_mask", optional=True) if text else None
        decoder_mask = None
        if any(name == "attention_mask" for name, _ in decoder_inputs[1:]):
            decoder_mask = g.input("decoder_attention_mask", optional=True)
        memory = g.call_module(
            (encoder,),
            source,
            *[mask if name == "attention_mask" else None for name, _ in encoder_inputs[1:]],
            name="memory",
            comment="[batch, source seq, encoder width]",
        )
        if projection is not None:
            memory = g.call_module(
                (projection,), memory, name="memory", comment="to the decoder's width"
            )
        given = {"attention_mask": decoder_mask}
        given.update(dict.fromkeys(MEMORIES, memory))
        given.update(dict.fromkeys(MEMORY_MASKS, mask))
        args = [given.get(name) for name, _ in decoder_inputs[1:]]
        logits = g.call_module((decoder,), target, *args)
        g.output(logits, comment="[batch, target seq, vocab_size]")

    def example_inputs(self, match: Match, cls) -> list[ExampleInput] | None:
        examples = match.found[5]
        return list(examples) if len(examples) == 2 else None

    @staticmethod
    def examples():
        from codegen.patterns.families._composed_seq2seq_examples import examples

        return examples()


def _inputs(ctx: BlockContext, m) -> list[tuple[str, bool]]:
    """A class member's forward arguments as (name, optional); [] for any other member."""
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    if cls is None or cls.forward is None or cls.forward.graph is None:
        return []
    return [(n.target, n.optional) for n in cls.forward.graph.inputs]


def _memory(inputs: list[tuple[str, bool]]) -> bool:
    return any(name in MEMORIES for name, _ in inputs)


def _pattern(ctx: BlockContext, m) -> str:
    return ctx.classes[m.type_name].forward.pattern


def _examples(ctx: BlockContext, m) -> list[ExampleInput]:
    return list(ctx.classes[m.type_name].forward.examples or [])
