"""A decoder layer of an encoder-decoder transformer (BART, Whisper, Marian...): masked
self-attention, cross-attention over the encoder's output, then the feed-forward, each with a norm
and a residual connection: pre-norm `x + f(norm(x))` (Whisper, mBART) or post-norm
`norm(x + f(x))` (BART, Marian), a choice settled by config.json's model_type.

Which attention reads the encoder is told by its name (`encoder_attn`, `cross_attn`...), which norm
belongs to which step likewise (`self_attn_layer_norm`, `encoder_attn_layer_norm`, `final_layer_norm`).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._decoder_conventions import cite as conventions_cite
from codegen.patterns._decoder_conventions import convention
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
from codegen.patterns.blocks.cross_attention import CROSS
from codegen.patterns.blocks.transformer_block import DOWN, FIRST_NORM, POST_TYPES, SECOND_NORM, UP

SELF = r"self_attn|self_attention|attention|attn"
SELF_NORM = r"self_attn_layer_norm|ln_1|norm1|ln_attn|self_attention_layer_norm"
# ... a cross-attention's own name with _layer_norm (BART's encoder_attn_layer_norm, SeamlessM4T's
# cross_attention_layer_norm)
CROSS_NORM = rf"(?:{CROSS})_layer_norm|ln_2|norm2|ln_cross_attn"
FEED_NORM = r"final_layer_norm|ln_3|norm3|ln_mlp|ffn_layer_norm"
# A norm whose name can only mean the cross-attention's (GPT-2's ln_cross_attn beside ln_1 and
# ln_2): then the other two are the self-attention's and the feed-forward's, by their usual names.
ONLY_CROSS_NORM = rf"(?:{CROSS})_(?:layer_?)?norm|ln_cross_attn|ln_cross|norm_cross|cross_norm"
# Model types whose decoder layers are known pre-norm; POST_TYPES the post-norm ones. Another
# model type leaves the residual a choice at its default, not evidence.
PRE_TYPES = ("mbart", "whisper", "pegasus", "blenderbot", "m2m_100", "nllb-moe", "speech_to_text")
PRE_TYPES += ("bigbird_pegasus",)  # lin9
KNOWN_TYPES = PRE_TYPES + POST_TYPES


def three_norms(norms: list) -> list:
    """The self-attention's, the cross-attention's and the feed-forward's norms (None where names
    do not tell): by a name only a cross-attention's norm has, else in order (ln_1, ln_2, ln_3)."""
    cross = one_named(norms, ONLY_CROSS_NORM)
    if cross is None:
        return [one_named(norms, p) for p in (SELF_NORM, CROSS_NORM, FEED_NORM)]
    rest = [m for m in norms if m is not cross]
    first = one_named(rest, f"{SELF_NORM}|{FIRST_NORM}")
    second = one_named([m for m in rest if m is not first], f"{FEED_NORM}|{SECOND_NORM}")
    return [first, cross, second]


class DecoderBlock(BlockPattern):
    role = "DecoderBlock"
    priority = 10
    synonyms = act.SYNONYMS
    # whether the layer's own attention is the cross-attention's class, called with the causal
    # mask (a seq2seq decoder's), or a decoder LM's self-attention that masks itself
    own_reads_memory = True

    accepts = Accepts(6, 7, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) not in (6, 7):
            return None
        attns = [m for m in members if ctx.role(m) == "Attention"]
        cross = one_named([m for m in attns if ctx.takes(m, "memory")], CROSS)
        own = one_named([m for m in attns if m is not cross], SELF)
        if own is None or ctx.takes(own, "memory") != self.own_reads_memory:
            return None
        if not self.own_reads_memory:
            # a decoder's block, as the structure shows (it cross-attends): what is_decoder says
            # where true (the library's composites set it on their decoder's config)
            ctx.resolver.evidence("is_decoder")
        norms = [m for m in members if family(m) == "norm"]
        found_norms = three_norms(norms)
        if cross is None or own is None or any(n is None for n in found_norms):
            return None
        rest = [m for m in members if m not in (cross, own, *found_norms)]
        mlp = [m for m in rest if ctx.role(m) == "MLP"]
        choices = []
        if len(rest) == 1 and mlp:
            feed = mlp[0].attr
        elif len(rest) == 2:
            up, down = one_named(rest, UP), one_named(rest, DOWN)
            if up is None or down is None or up is down or family(up) != "linear":
                return None
            activation = ctx.choose(
                cls,
                up.attr,
                "activation",
                "gelu",
                act.feed_forward("gelu", ctx.resolver),
                "the feed-forward activation",
                aliases=act.ALIASES,
            )
            choices.append(activation)
            feed = (up.attr, down.attr, activation.value)
        else:
            return None
        model_type = ctx.resolver.evidence("model_type")
        post = model_type is not None and model_type[1] in POST_TYPES
        # the conventions survey called this type's causal LM, whose layers are these (MVP)
        measured = convention(model_type[1], "residual") if model_type else None
        if measured in ("pre", "post") and model_type[1] not in KNOWN_TYPES:
            post = measured == "post"
        residual = ctx.choose(
            cls,
            found_norms[0].attr,
            "residual",
            "post" if post else "pre",
            ["pre" if post else "post"],
            "where the norms and residual connections sit",
        )
        norm_first = ctx.resolver.evidence("do_layer_norm_before", "normalize_before")
        if residual.source == "default" and norm_first and isinstance(norm_first[1], bool):
            residual.value = "pre" if norm_first[1] else "post"
            residual.alternatives = ["post" if norm_first[1] else "pre"]
            residual.source, residual.note = "metadata", norm_first[0]
        elif residual.source == "default" and model_type and model_type[1] in KNOWN_TYPES:
            residual.source, residual.note = "metadata", f"{model_type[0]} {model_type[1]!r}"
        elif residual.source == "default" and measured in ("pre", "post"):
            residual.source, residual.note = "metadata", conventions_cite(model_type)
        choices.insert(0, residual)
        names = (own.attr, cross.attr, *(n.attr for n in found_norms))
        found = (names, feed, residual.value, ctx.takes(own, "mask"))
        return Match(self, len(members), found, choices)

    def forward(self, match: Match, g: Graph) -> None:
        (own, cross, self_norm, cross_norm, feed_norm), feed, residual = match.found[:3]
        x, memory = g.input("x"), g.input("memory")
        causal = g.input("causal")  # [seq, seq], True where attended
        memory_mask = g.input("memory_mask", optional=True)  # the encoder's padding, or None
        self.steps(g, match, x, (causal,), memory, memory_mask)

    def steps(self, g: Graph, match: Match, x, own_args: tuple, memory, memory_mask) -> None:
        """Self-attention (given `own_args`), cross-attention over `memory` (only when it is
        given, where it is optional), then the feed-forward, each with its norm and residual."""
        (own, cross, self_norm, cross_norm, feed_norm), feed, residual = match.found[:3]
        optional = not self.own_reads_memory

        def feed_forward(value):
            if isinstance(feed, str):
                return g.call_module((feed,), value, inline=True)
            up, down, activation = feed
            h = act.apply(g, activation, g.call_module((up,), value, inline=True), inline=True)
            return g.call_module((down,), h, inline=True)

        steps = [
            (self_norm, lambda h: g.call_module((own,), h, *own_args, inline=True)),
            (cross_norm, lambda h: g.call_module((cross,), h, memory_mask, memory, inline=True)),
            (feed_norm, feed_forward),
        ]
        for i, (norm, step) in enumerate(steps):
            last = i == len(steps) - 1
            if optional and i == 1:  # the encoder's states are optional: attended when given
                x = self.cross_step(g, x, norm, cross, residual, memory, memory_mask)
                continue
            if residual == "post":
                y = g.call_function("add", x, step(x), inline=True)
                x = g.call_module((norm,), y, inline=last)
            else:
                h = g.call_module((norm,), x, inline=True)
                x = g.call_function("add", x, step(h), inline=last)
        g.output(x)

    def cross_step(self, g: Graph, x, norm: str, cross: str, residual: str, memory, memory_mask):
        """x plus the cross-attention's output (normed as the residual says), computed only when
        the encoder's states are given; x as it is otherwise."""
        said = {"name": "x", "comment": "cross-attention: only when the encoder's states are given"}
        if residual == "post":  # (x passes both steps when the states are not given)
            a = g.call_module((cross,), x, memory_mask, memory, inline=True)
            y = g.call_function("add", x, a, given=memory, **said)
            return g.call_module((norm,), y, given=memory, name="x")
        h = g.call_module((norm,), x, inline=True)
        a = g.call_module((cross,), h, memory_mask, memory, inline=True)
        return g.call_function("add", x, a, given=memory, **said)

    @staticmethod
    def examples():
        from codegen.patterns.families._seq2seq_examples import example

        return [example("bart"), example("whisper")]


class CrossAttendingBlock(DecoderBlock):
    """A decoder LM's block given cross-attention (GPT-2's with add_cross_attention: ln_1, attn,
    ln_cross_attn, crossattention, ln_2, mlp): its self-attention masks itself (causal) from the
    padding mask, and the cross-attention runs only where the encoder's states are given, so the
    same blocks serve the decoder LM alone and the decoder of an encoder-decoder."""

    role = "Block"
    own_reads_memory = False

    def forward(self, match: Match, g: Graph) -> None:
        masked = match.found[3]
        x = g.input("x")
        own_args = (g.input("mask", optional=True),) if masked else ()
        memory = g.input("memory", optional=True)  # the encoder's states; None: not attended
        memory_mask = g.input("memory_mask", optional=True)  # which of them to attend to
        self.steps(g, match, x, own_args, memory, memory_mask)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._cross_decoder_examples import block_examples

        return block_examples()
