"""Encoder-decoder transformers (BART, mBART, Marian, Whisper...): the two stacks and the model.

`Seq2SeqEncoder`: text (token embeddings scaled by sqrt(d_model) where config.json's
`scale_embedding` says so, plus a learned position table whose first `position_offset` rows are
unused, BART's 2; or, where the checkpoint holds no table and config.json's model_type says the
library computes it (Marian's LM drops it on save), fixed sinusoidal positions), or audio (Whisper: two Conv1d + GELU over [batch, n_mels, frames], the second
halving the frames, then the position table), an optional `layernorm_embedding`, the layers given
the padding mask, an optional final norm. `Seq2SeqDecoder`: the same embeddings for the target,
then decoder layers (masked self-attention, cross-attention to the encoder's output, feed-forward).
`Seq2SeqModel`: the encoder's output feeds the decoder; the decoder's last hidden state comes out.
Without `decoder_input_ids`, a text model shifts `input_ids` one to the right behind the decoder's
start token, as the library does.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph, Slice
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    one_named,
    stack as layers_of,
    tensors,
)
from codegen.patterns.blocks.cross_attention import seq2seq

TOKENS = r"embed_tokens|shared|word_embeddings|tok_embeddings|token_embedding"
POSITIONS = r"embed_positions|position_embeddings|pos_embedding|embed_pos"
EMBED_NORM = r"layernorm_embedding|layer_norm_embedding|embed_norm|emb_layer_norm"
FINAL_NORM = r"layer_norm|final_layer_norm|norm|ln_f|layernorm"
CONVS = (r"conv1", r"conv2")
# Families whose config.json may say scale_embedding but whose code never multiplies by it
# (Whisper computes embed_scale and leaves it unused).
SCALE_IGNORED_TYPES = ("whisper",)
# fairseq's positions, counted over the non-padding tokens from padding_idx + 1 (make_positions):
# rows of the stored table (FSMT) or, with none stored, fixed sinusoids computed as fairseq does.
PADDED_POSITION_TYPES = ("fsmt", "m2m_100", "nllb-moe", "speech_to_text")
# tf15: SeamlessM4T's text stacks number them with M2M100's create_position_ids_from_input_ids and
# sinusoids (its SinusoidalPositionalEmbedding is M2M100's, copied)
PADDED_POSITION_TYPES += ("seamless_m4t", "seamless_m4t_v2")
# fairseq's own decoders: the self-attention masks the padding of the decoder's input too, and the
# default decoder input wraps each row's last real token round to the front (FSMT).
FAIRSEQ_DECODER_TYPES = ("fsmt",)
# A decoder that holds its output projection (fairseq's layout) returns logits.
STACK_HEAD = r"output_projection"
# Decoders that norm the token embeddings (layernorm_embedding) before adding the positions.
NORM_FIRST_TYPES = ("blenderbot-small",)
# Learned position tables whose first rows are unused: position i is row i + offset.
# Sinusoidal positions, sin features then cos features (not interleaved), that the library computes
# and does not save (MarianMTModel drops embed_positions when it saves).
SINUSOIDAL_TYPES = ("marian", "pegasus")
POSITION_OFFSETS = {"bart": 2, "mbart": 2, "plbart": 2, "blenderbot": 0, "whisper": 0, "marian": 0}
POSITION_OFFSETS.update({"led": 0, "bigbird_pegasus": 0})  # lin9
POSITION_OFFSETS["trocr"] = 2  # TrOCRLearnedPositionalEmbedding's offset (a composite's decoder)
# Stacks whose `layernorm_embedding` norms the last layer's output, a final norm by another name
# (lin9: BigBird-Pegasus's encoder and decoder apply it after their layers).
LATE_EMBED_NORM_TYPES = ("bigbird_pegasus",)


def _stack(ctx: BlockContext, members, role: str):
    """The layers: a repeat of `role`'s class, or a list holding one (a one-layer stack)."""
    found = [m for m in members if layers_of(m) and ctx.role(layers_of(m)[0]) == role]
    return found[0] if len(found) == 1 else None


def _embeddings(
    cls, ctx: BlockContext, members, stack, padded: bool, decoder: bool, rotated: bool = False
) -> tuple | None:
    """(tokens, positions, embed norm, final norm, convs, head, front) by name (the front: a conv
    subsampler by its role), when nothing else is there. `padded`: positions computed from the ids
    where no table is stored (fairseq); `rotated`: an audio front end without a table, as the
    layers' attention rotates."""
    embeddings = [m for m in members if family(m) == "embedding"]
    tokens = one_named(embeddings, TOKENS)
    positions = one_named([m for m in embeddings if m is not tokens], POSITIONS)
    norms = [m for m in members if family(m) == "norm"]
    embed_norm = one_named(norms, EMBED_NORM)
    final = one_named([m for m in norms if m is not embed_norm], FINAL_NORM)
    convs = [one_named([m for m in members if family(m) == "conv"], p) for p in CONVS]
    convs = convs if all(c is not None for c in convs) else []
    linears = [m for m in members if family(m) == "linear"]
    head = one_named(linears, STACK_HEAD) if decoder else None
    fronts = [m for m in members if ctx.role(m) == "ConvSubsampler"]
    front = fronts[0] if len(fronts) == 1 and not decoder else None
    used = [stack, tokens, positions, embed_norm, final, *convs, head, front]
    used = [m for m in used if m is not None]
    if positions is None and (convs and not rotated or not (convs or padded or _sinusoidal(ctx))):
        return None
    if len(used) != len(members) or ((convs or front) and tokens is not None):
        return None
    return tokens, positions, embed_norm, final, convs, head, front


def _sinusoidal(ctx: BlockContext) -> str:
    """What says a stack without a stored position table computes sinusoidal positions: the
    model type of a library that drops the fixed table when it saves (Marian), or ""."""
    model_type = ctx.resolver.evidence("model_type")
    if model_type and model_type[1] in SINUSOIDAL_TYPES:
        return f"{model_type[0]} {model_type[1]!r}"
    return ""


def _text_choices(
    cls, ctx: BlockContext, tokens_attr: str, positions_attr: str | None, rows: int | None = None
) -> tuple:
    """Embedding scale and the row of position 0: choices, settled by config.json (its model_type,
    or the table's `rows` beside its max_position_embeddings)."""
    model_type = ctx.resolver.evidence("model_type")
    cite = f"{model_type[0]} {model_type[1]!r}" if model_type else ""
    said = ctx.resolver.evidence("scale_embedding")
    scaled = said is not None and said[1] is True
    if scaled and model_type and model_type[1] in SCALE_IGNORED_TYPES:
        scaled, said = False, (f"{cite}: its code never applies scale_embedding", False)
    scale = ctx.choose(
        cls,
        tokens_attr,
        "embedding_scale",
        "sqrt_d_model" if scaled else "none",
        ["none" if scaled else "sqrt_d_model"],
        "token embeddings times sqrt(d_model)",
    )
    if said is not None and scale.source == "default":
        scale.source, scale.note = "metadata", said[0]
    if positions_attr is None:  # no table: no row to choose
        return scale, None
    known = POSITION_OFFSETS.get(model_type[1], 0) if model_type else 0
    row = ctx.choose(
        cls,
        positions_attr,
        "position_offset",
        known,
        [v for v in (0, 2) if v != known],
        "the table row of position 0",
        accepts="index",
    )
    if cite and row.source == "default" and model_type[1] in POSITION_OFFSETS:
        row.source, row.note = "metadata", cite
    elif row.source == "default":
        spare = _spare_rows(ctx, rows)
        if spare is not None:
            row.value, row.alternatives = spare[0], [v for v in (0, 2) if v != spare[0]]
            row.source, row.note = "metadata", spare[1]
    return scale, row


def _spare_rows(ctx: BlockContext, rows: int | None) -> tuple[int, str] | None:
    """The row of position 0 that a learned table's size shows beside config.json's longest
    sequence: BART's code keeps 2 rows in front of position 0 and makes its table that much longer
    than max_position_embeddings (its clones MVP, PLBart too); a table exactly that long keeps none.
    None where the two do not tell (no key, or another difference)."""
    said = ctx.resolver.evidence("max_position_embeddings")
    if rows is None or said is None or type(said[1]) is not int or rows - said[1] not in (0, 2):
        return None
    spare = rows - said[1]
    return spare, f"the table's {rows} rows beside {said[0]} {said[1]}"


def _structure_says(ctx: BlockContext, key: str, present: bool) -> None:
    """Read a config.json switch that builds a member or not (TrOCR's layernorm_embedding,
    use_learned_position_embeddings) where the stack's members show the same: the key is then
    accounted for; one that disagrees stays unread, so the file says it ignores it."""
    said = ctx.resolver.metadata.get(key)
    if said is not None and said[1] is present:
        ctx.resolver.evidence(key)


def _embed_norm_order(cls, ctx: BlockContext, where: str, layer_role: str):
    """Whether `layernorm_embedding` norms the sum with the positions (BART) or, in a decoder of
    the types that do so (BlenderbotSmall), the token embeddings before the positions are added."""
    model_type = ctx.resolver.evidence("model_type")
    first = layer_role == "DecoderBlock" and bool(model_type) and model_type[1] in NORM_FIRST_TYPES
    order = ctx.choose(
        cls,
        where,
        "embed_norm",
        "before_positions" if first else "after_positions",
        ["after_positions", "before_positions"],
        "layernorm_embedding over the embeddings plus positions, or before the positions",
    )
    known = model_type and model_type[1] in NORM_FIRST_TYPES + tuple(POSITION_OFFSETS)
    if known and order.source == "default":
        order.source, order.note = "metadata", f"{model_type[0]} {model_type[1]!r}"
    return order


class _Stack(BlockPattern):
    layer_role = ""
    priority = 11  # config.json says encoder-decoder: beats the decoder LM's Transformer on ties
    synonyms = {"padding_idx": ("pad_token_id",)}

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        if tensors(cls) or not seq2seq(ctx):
            return None
        return self.read(cls, ctx)

    def read(self, cls, ctx: BlockContext, rotated: bool = False) -> Match | None:
        """The stack's reading, whatever says the model is an encoder-decoder. `rotated`: its
        attention rotates queries and keys, so an audio stack needs no position table."""
        members = modules(cls)
        if tensors(cls):
            return None
        stack = _stack(ctx, members, self.layer_role)
        if stack is None or not ctx.takes(layers_of(stack)[0], self.stack_input):
            return None
        model_type = ctx.resolver.evidence("model_type")
        padded = model_type is not None and model_type[1] in PADDED_POSITION_TYPES
        decoder = self.layer_role == "DecoderBlock"
        parts = _embeddings(cls, ctx, members, stack, padded, decoder, rotated)
        if parts is None or (padded and parts[4]):
            return None
        tokens, positions, embed_norm, final, convs, head, front = parts
        if front is not None and (positions is not None or not padded):
            return None  # a subsampler's positions: fairseq's computed ones only, for now
        model_type = ctx.resolver.evidence("model_type")
        if final is None and model_type is not None and model_type[1] in LATE_EMBED_NORM_TYPES:
            final, embed_norm = embed_norm, None  # its code norms the output, not the embeddings
        if convs and self.layer_role != "Block":
            return None  # an audio front end feeds an encoder only

        choices = []
        scale_width, first_row, activation, padding_idx = None, 0, None, None
        if padded:  # numbered over the ids: the pad id, and the scale of the embeddings
            cite = f"{model_type[0]} {model_type[1]!r}"
            scale, _ = _text_choices(cls, ctx, (tokens or positions or front or stack).attr, None)
            pad = ctx.choose(
                cls,
                (positions or tokens or front or stack).attr,
                "padding_idx",
                1,
                [0],
                f"positions count from it, fairseq's make_positions ({cite})",
                accepts="index",
            )
            choices += [scale, pad]
            scale_width = "x" if scale.value == "sqrt_d_model" else None
            padding_idx = int(pad.value)
            if front is not None and padding_idx == 0:
                return None  # its code numbers every frame as padding then (a zero mask)
        elif convs:
            a = ctx.choose(
                cls,
                convs[0].attr,
                "activation",
                "gelu",
                [x for x in act.TRANSFORMER if x != "gelu"],
                "after each conv of the audio front end",
                aliases=act.ALIASES,
            )
            if a.source == "metadata" and a.value != "gelu":  # Whisper's code fixes this GELU
                a.alternatives = [a.value] + [
                    x for x in a.alternatives if x not in (a.value, "gelu")
                ]
                a.value, a.note = "gelu", "fixed in the code, whatever activation_function says"
            choices.append(a)
            activation = a.value
        elif positions is None:  # computed, not stored: the width is the embeddings' own
            scale, _ = _text_choices(cls, ctx, tokens.attr if tokens else stack.attr, None)
            choices += [scale]
            scale_width = "x" if scale.value == "sqrt_d_model" else None
        else:
            rows = positions.io.vocab if positions.io else None
            scale, row = _text_choices(cls, ctx, (tokens or positions).attr, positions.attr, rows)
            choices += [scale, row]
            width = positions.io.out_width if positions.io else None
            if scale.value == "sqrt_d_model":
                if width is None:
                    return None
                scale_width = width
            first_row = int(row.value)
        _structure_says(ctx, "layernorm_embedding", embed_norm is not None)
        _structure_says(ctx, "use_learned_position_embeddings", positions is not None)
        norm_first = False
        if embed_norm is not None and not convs:
            order = _embed_norm_order(cls, ctx, embed_norm.attr, self.layer_role)
            choices.append(order)
            norm_first = order.value == "before_positions"
        found = (
            tokens.attr if tokens else None,
            positions.attr if positions else None,
            embed_norm.attr if embed_norm else None,
            stack.attr,
            final.attr if final else None,
            [c.attr for c in convs],
            scale_width,
            first_row,
            activation,
            norm_first,
            padding_idx,
            head.attr if head else None,
            decoder and model_type is not None and model_type[1] in FAIRSEQ_DECODER_TYPES,
            front.attr if front else None,
        )
        return Match(self, len(members), found, choices)

    stack_input = "mask"

    def embed(self, match: Match, g: Graph, name: str):
        """The embedded sequence [batch, seq, d_model], from ids, embeddings or audio features, and
        the ids where positions are numbered over them (fairseq), else None."""
        (
            tokens,
            positions,
            embed_norm,
            _,
            _,
            convs,
            scale_width,
            first_row,
            activation,
            norm_first,
            padding_idx,
        ) = match.found[:11]
        ids = None
        if convs:
            x = g.input("input_features")  # [batch, n_mels, frames]
            for conv in convs:
                x = act.apply(g, activation, g.call_module((conv,), x, inline=True))
            x = g.call_method("transpose", x, 1, 2, comment="[batch, frames / 2, d_model]")
            if positions is None:  # the layers' attention rotates instead
                return x, ids
            seq = g.call_method("size", x, 1, inline=True)
            table = g.getattr((positions, "weight"))
            rows = g.call_function("getitem", table, (Slice(None, seq),), inline=True)
            x = g.call_function("add", x, rows, comment="the position table's first rows")
            return x, ids
        front = match.found[13]
        if front is not None:
            features = g.input("input_features")  # [batch, frames, features]
            x = g.call_module((front,), features, comment="[batch, frames, d_model]")
        elif tokens is not None:
            ids = g.input(name)
            x = g.call_module((tokens,), ids, comment="[batch, seq, d_model]")
        else:
            x = g.input("x")  # token embeddings from the model's shared table
            if padding_idx is not None:
                ids = g.input("ids")  # the ids the positions are numbered over
        if scale_width == "x":  # d_model is the embeddings' width
            scale_width = g.call_method("size", x, -1, inline=True)
        if scale_width is not None:
            root = g.call_function("sqrt", scale_width, inline=True)
            x = g.call_function("mul", x, root, comment="scaled by sqrt(d_model)")
        if embed_norm is not None and norm_first:
            x = g.call_module((embed_norm,), x, comment="normed before the positions are added")
        if front is not None:  # every frame is real: rows padding_idx + 1 on
            table = g.call_function(
                "fairseq_positions",
                g.call_method("size", x, 1, inline=True),
                g.call_method("size", x, -1, inline=True),
                padding_idx + 1,
                g.call_method("device", x, inline=True),
                inline=True,
            )
            x = g.call_function("add", x, table, comment="fixed sinusoids")
        elif padding_idx is not None and positions is None:
            rows = g.call_function(
                "fairseq_padded_positions",
                ids,
                padding_idx,
                g.call_method("size", x, -1, inline=True),
                inline=True,
            )
            x = g.call_function("add", x, rows, comment="fixed sinusoids, padding excluded")
        elif padding_idx is not None:
            pos = g.call_function(
                "padded_positions",
                ids,
                padding_idx,
                name="positions",
                comment="from the padding index + 1, padding excluded",
            )
            x = g.call_function("add", x, g.call_module((positions,), pos, inline=True))
        elif positions is None:
            seq = g.call_method("size", x, 1, inline=True)
            table = g.call_function(
                "sinusoidal_positions",
                seq,
                g.call_method("size", x, -1, inline=True),
                g.call_method("device", x, inline=True),
                inline=True,
            )
            x = g.call_function("add", x, table, comment="fixed sinusoidal positions")
        else:
            seq = g.call_method("size", x, 1, inline=True)
            device = g.call_method("device", x, inline=True)
            pos = g.call_function(
                "arange", seq, kwargs={"device": device}, name="positions", inline=bool(first_row)
            )
            if first_row:
                pos = g.call_function(
                    "add", pos, first_row, name="positions", comment="the table's first rows unused"
                )
            x = g.call_function("add", x, g.call_module((positions,), pos, inline=True))
        if embed_norm is not None and not norm_first:
            x = g.call_module((embed_norm,), x)
        return x, ids


class Seq2SeqEncoder(_Stack):
    role = "Encoder"
    layer_role = "Block"

    def forward(self, match: Match, g: Graph) -> None:
        x, _ = self.embed(match, g, "input_ids")
        final, stack = match.found[4], match.found[3]
        if match.found[5] or match.found[13]:  # audio: every frame is attended
            x = g.call_module((stack,), x, each=True)
        else:
            attention_mask = g.input("attention_mask", optional=True)
            mask = g.call_function("padding_mask", attention_mask, name="mask")
            x = g.call_module((stack,), x, mask, each=True)
        g.output(g.call_module((final,), x) if final else x, comment="[batch, seq, d_model]")

    @staticmethod
    def examples():
        from codegen.patterns.families._seq2seq_examples import example

        return [example("bart"), example("whisper")]


class Seq2SeqDecoder(_Stack):
    role = "Decoder"
    layer_role = "DecoderBlock"
    stack_input = "memory"

    def forward(self, match: Match, g: Graph) -> None:
        x, ids = self.embed(match, g, "input_ids")
        memory = g.input("memory")  # the encoder's output [batch, source seq, d_model]
        memory_mask = g.input("memory_mask", optional=True)  # 1 attend, 0 padding; or None
        final, stack = match.found[4], match.found[3]
        padding_idx, head, own_padding = match.found[10:13]
        if own_padding:
            causal = g.call_function(
                "causal_token_mask",
                ids,
                padding_idx,
                name="causal",
                comment="earlier positions, the input's padding excluded",
            )
        else:
            causal = g.call_function("causal_mask", x, name="causal")
        mask = g.call_function("padding_mask", memory_mask, name="memory_mask")
        x = g.call_module((stack,), x, memory, causal, mask, each=True)
        if head is not None:
            x = g.call_module((final,), x) if final else x
            g.output(g.call_module((head,), x), comment="[batch, seq, vocab_size]")
            return
        g.output(g.call_module((final,), x) if final else x, comment="[batch, seq, d_model]")

    @staticmethod
    def examples():
        from codegen.patterns.families._seq2seq_examples import example

        return [example("bart"), example("whisper")]


def _pattern(ctx: BlockContext, m, pattern: type) -> bool:
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    return cls is not None and cls.forward.pattern == pattern.__name__


class Seq2SeqModel(BlockPattern):
    """`decoder(embed(decoder_input_ids), encoder(embed(input_ids)))`: the decoder's last hidden
    state. Token embeddings come from the shared table where the stacks hold none of their own."""

    role = "Seq2SeqModel"
    priority = 10
    synonyms = {"pad_token_id": ("pad_token_id",), "decoder_start_token_id": ()}

    accepts = Accepts(2, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) not in (2, 3):
            return None
        encoder = [m for m in members if _pattern(ctx, m, Seq2SeqEncoder)]
        decoder = [m for m in members if _pattern(ctx, m, Seq2SeqDecoder)]
        if len(encoder) != 1 or len(decoder) != 1:
            return None
        rest = [m for m in members if m is not encoder[0] and m is not decoder[0]]
        shared = one_named([m for m in rest if family(m) == "embedding"], TOKENS)
        if len(rest) != (shared is not None):
            return None
        audio = ctx.takes(encoder[0], "input_features")
        encoder_embeds = audio or ctx.takes(encoder[0], "input_ids")
        decoder_embeds = ctx.takes(decoder[0], "input_ids")
        if shared is None and not (encoder_embeds and decoder_embeds):
            return None
        choices, shift = [], None
        model_type = ctx.resolver.evidence("model_type")
        wraps = model_type is not None and model_type[1] in FAIRSEQ_DECODER_TYPES
        if not audio:  # a text model's decoder input defaults to the shifted input ids
            pad = ctx.choose(cls, decoder[0].attr, "pad_token_id", 1, [0], accepts="index")
            choices.append(pad)
            shift = (int(pad.value),)
            if not wraps:  # fairseq's shift wraps the last token round: no start token
                start = ctx.choose(
                    cls, decoder[0].attr, "decoder_start_token_id", 2, [0, 1], accepts="index"
                )
                choices.append(start)
                shift += (int(start.value),)
        logits, gap = _flat_head(cls, ctx, shared)
        found = (
            encoder[0].attr,
            decoder[0].attr,
            shared.attr if shared else None,
            audio,
            encoder_embeds,
            decoder_embeds,
            shift,
            ctx.takes(encoder[0], "ids"),
            ctx.takes(decoder[0], "ids"),
            logits,
        )
        return Match(self, len(members), found, choices, guessed=gap)

    def forward(self, match: Match, g: Graph) -> None:
        encoder, decoder, shared, audio, encoder_embeds, decoder_embeds, shift = match.found[:7]
        encoder_ids, decoder_ids, logits = match.found[7:]
        if audio:
            features = g.input("input_features")  # [batch, n_mels, frames]
            target = g.input("decoder_input_ids")
            memory = g.call_module((encoder,), features, name="memory")
            attention_mask = None
        else:
            attention_mask, target, memory = encode_text(
                g, encoder, shared, encoder_embeds, shift, encoder_ids
            )
        ids = (target,) if decoder_ids else ()  # positions numbered over the decoder's ids
        if not decoder_embeds:
            target = g.call_module((shared,), target, inline=True)
        args = (target, *ids, memory) + ((attention_mask,) if attention_mask is not None else ())
        if not logits:
            g.output(g.call_module((decoder,), *args), comment="[batch, target seq, d_model]")
            return
        x = g.call_module((decoder,), *args, comment="[batch, target seq, d_model]")
        table = g.getattr((shared, "weight"))
        x = g.call_function("linear", x, table, comment="the head is the token table (tied)")
        g.output(x, comment="[batch, target seq, vocab_size]")

    @staticmethod
    def examples():
        from codegen.patterns.families._seq2seq_examples import example

        return [example("bart"), example("whisper")]


# config.json's architectures naming a class that returns logits (SeamlessM4T's ForTextToText)
GENERATES = r"ForConditionalGeneration|ToText|LMHeadModel|ForCausalLM"


def _flat_head(cls, ctx: BlockContext, shared) -> tuple[bool, str]:
    """Where the whole checkpoint is this model, but config.json names a class that returns
    logits (its head tied to the shared token table, so saved once, SeamlessM4T's text-to-text
    model): (whether the logits are the decoder's states times that table, what is left out or
    ''). Without a shared table, or with the head untied, the file returns the decoder's states
    and says so."""
    arch = ctx.resolver.evidence("architectures")
    if not cls.is_top or not arch or not re.search(GENERATES, str(arch[1])):
        return False, ""
    tie = ctx.resolver.evidence("tie_word_embeddings")
    if shared is not None and not (tie is not None and tie[1] is False):
        return True, ""
    return False, (
        f"config.json's architectures {arch[1]!r} returns logits through a head the checkpoint "
        "does not store; this forward returns the decoder's hidden states"
    )


HEAD = r"lm_head|proj_out|output_projection"
BIAS = r"final_logits_bias"


class Seq2SeqLM(BlockPattern):
    """The model, then the LM head: its own layer, or the token table (tied, stored once), plus
    `final_logits_bias` where there is one (BART): logits over the vocabulary."""

    role = "Seq2SeqLM"
    priority = 10
    accepts = Accepts(1, 2)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        body = [m for m in members if _pattern(ctx, m, Seq2SeqModel)]
        head = one_named([m for m in members if family(m) == "linear"], HEAD)
        bias = one_named(tensors(cls), BIAS)
        if len(body) != 1 or len(members) != 1 + (head is not None):
            return None
        if len(tensors(cls)) != (bias is not None):
            return None
        tied = None
        if head is None and bias is None and _projects(ctx, body[0]):
            tied = ()  # fairseq: the decoder's own output projection gives the logits
        elif head is None:
            tie = ctx.resolver.evidence("tie_word_embeddings")
            if tie is not None and tie[1] is False:
                return None
            tied = _token_table(ctx, body[0])
            if tied is None:
                return None
        inner = ctx.classes[body[0].type_name].forward.graph
        inputs = [(n.target, n.optional) for n in inner.inputs]
        found = (body[0].attr, head.attr if head else None, tied, bias.attr if bias else None)
        return Match(self, len(members) + len(tensors(cls)), (found, inputs))

    def forward(self, match: Match, g: Graph) -> None:
        (body, head, tied, bias), inputs = match.found
        args = [g.input(name, optional=optional) for name, optional in inputs]
        x = g.call_module((body,), *args, comment="[batch, target seq, d_model]")
        if head is not None:
            logits = g.call_module((head,), x, inline=bias is not None)
        elif not tied:
            g.output(x, comment="[batch, target seq, vocab_size]: the decoder's own projection")
            return
        else:
            table = g.getattr((body, *tied, "weight"))
            logits = g.call_function(
                "linear", x, table, inline=bias is not None, comment="the head is the token table"
            )
        if bias is not None:
            logits = g.call_function("add", logits, g.getattr((bias,)))
        g.output(logits, comment="[batch, target seq, vocab_size]")

    @staticmethod
    def examples():
        from codegen.patterns.families._seq2seq_examples import example

        return [example("bart_lm")]


def _projects(ctx: BlockContext, body) -> bool:
    """Whether the model's decoder holds its output projection (fairseq's layout): its forward
    gives the logits already."""
    cls = ctx.classes.get(body.type_name)
    for m in modules(cls) if cls is not None else []:
        if _pattern(ctx, m, Seq2SeqDecoder):
            inner = ctx.classes[m.type_name]
            return (
                one_named([t for t in modules(inner) if family(t) == "linear"], STACK_HEAD)
                is not None
            )
    return False


def _token_table(ctx: BlockContext, body) -> tuple[str, ...] | None:
    """Where the model's token table is: its shared one, else the decoder's own."""
    cls = ctx.classes.get(body.type_name)
    if cls is None:
        return None
    members = modules(cls)
    shared = one_named([m for m in members if family(m) == "embedding"], TOKENS)
    if shared is not None:
        return (shared.attr,)
    for m in members:
        if _pattern(ctx, m, Seq2SeqDecoder):
            inner = ctx.classes[m.type_name]
            tokens = one_named([t for t in modules(inner) if family(t) == "embedding"], TOKENS)
            if tokens is not None:
                return (m.attr, tokens.attr)
    return None


def encode_text(
    g: Graph, encoder: str, shared: str, embeds_inside: bool, shift: tuple, with_ids: bool = False
):
    """The text side of an encoder-decoder's forward: `input_ids` (and an optional padding mask)
    through the encoder, and the decoder's ids, given or the inputs shifted right behind the start
    token (`shift`: pad and start ids; the pad id alone: fairseq's shift, the last real token
    wrapped round to the front). `with_ids`: the encoder takes the ids beside their embeddings
    (its positions are numbered over them). Returns (attention_mask, decoder ids, encoder output).
    """
    ids = g.input("input_ids")
    attention_mask = g.input("attention_mask", optional=True)
    given = g.input("decoder_input_ids", optional=True)
    wraps = len(shift) == 1
    target = g.call_function(
        "fairseq_decoder_inputs" if wraps else "decoder_inputs",
        given,
        ids,
        *shift,
        name="decoder_input_ids",
        comment=(
            "or the input ids shifted right, the last real token wrapped round to the front"
            if wraps
            else "or the input ids shifted right behind the start token"
        ),
    )
    source = ids if embeds_inside else g.call_module((shared,), ids, inline=True)
    extra = (ids,) if with_ids and not embeds_inside else ()
    memory = g.call_module(
        (encoder,), source, *extra, attention_mask, name="memory", comment="[batch, seq, d_model]"
    )
    return attention_mask, target, memory
